//! Interned keys and the shard function.
//!
//! Records and index entries never own strings: models and model associations
//! are referred to by dense `u32` keys handed out by [`crate::models`] and
//! [`crate::catalog`].

/// A model id (`bk_obj_id`), interned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct ModelKey(pub(crate) u32);

/// A model association (`bk_obj_asst_id`), interned. Keys are never reused,
/// so a deleted model association's key never names a newer one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub(crate) struct AssocKey(pub(crate) u32);

impl AssocKey {
    /// The id of the model association with this key
    /// ([`crate::ModelAssociation::id`]): keys are handed out from 0 and ids
    /// from 1, in the same order.
    pub(crate) fn model_association_id(self) -> i64 {
        i64::from(self.0) + 1
    }
}

/// The shard (index into a power-of-two array, `mask = len - 1`) that owns
/// everything about instance id `inst`: its registry entries (in every model)
/// and its posting lists (in every model association, either role).
///
/// Fibonacci hashing spreads sequential ids over all shards.
pub(crate) fn shard_of(inst: i64, mask: usize) -> usize {
    ((inst as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize & mask
}

#[cfg(test)]
mod tests {
    use super::shard_of;

    #[test]
    fn sequential_ids_cover_every_shard() {
        let mask = 15;
        let mut seen = [0usize; 16];
        for inst in 1..=1600 {
            seen[shard_of(inst, mask)] += 1;
        }
        assert!(seen.iter().all(|&n| n > 50), "{seen:?}");
    }

    #[test]
    fn negative_and_extreme_ids_stay_in_range() {
        for inst in [i64::MIN, -1, 0, i64::MAX] {
            assert!(shard_of(inst, 7) <= 7);
        }
    }
}
