//! The cardinality rules of `1:1`, `1:n` and `n:n`, as one pure
//! function shared by single and batch creates.

use crate::error::{Error, Result};
use crate::model_association::Mapping;

/// Whether a new record (source, target) may join a model association with
/// `mapping`, given whether the source already is a source and the target
/// already is a target there.
///
/// `1:1` refuses either (1101052); `1:n` refuses a target that already has a
/// source (1101061); `n:n` refuses nothing (repeats are the duplicate check's
/// business).
pub(crate) fn check(mapping: Mapping, src_is_source: bool, dst_is_target: bool) -> Result<()> {
    match mapping {
        Mapping::OneToOne if src_is_source || dst_is_target => Err(Error::OneToOneViolation),
        Mapping::OneToMany if dst_is_target => Err(Error::OneToManyViolation),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_per_mapping_and_role() {
        use Mapping::*;
        let cases = [
            (OneToOne, false, false, Ok(())),
            (OneToOne, true, false, Err(Error::OneToOneViolation)),
            (OneToOne, false, true, Err(Error::OneToOneViolation)),
            (OneToMany, true, false, Ok(())),
            (OneToMany, false, true, Err(Error::OneToManyViolation)),
            (ManyToMany, true, true, Ok(())),
        ];
        for (mapping, s, t, want) in cases {
            assert_eq!(check(mapping, s, t), want, "{mapping} {s} {t}");
        }
    }
}
