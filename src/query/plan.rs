//! What a filter lets the store answer from an index instead of a scan.

use serde_json::Value;

use super::field::Field;

/// Candidate sets implied by a filter's top-level `equal` / `in` atoms; each
/// `Some` is a superset of the matching records' values for that field.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Plan {
    pub(crate) ids: Option<Vec<i64>>,
    pub(crate) sources: Option<Vec<i64>>,
    pub(crate) targets: Option<Vec<i64>>,
    pub(crate) obj_asst_ids: Option<Vec<String>>,
}

impl Plan {
    /// Records the fact "`field` is one of `values`", intersecting with what
    /// is already known.
    pub(crate) fn narrow(&mut self, field: &Field, values: &[Value]) {
        match field {
            Field::Id => intersect(&mut self.ids, values.iter().filter_map(exact_int).collect()),
            Field::InstId => {
                intersect(
                    &mut self.sources,
                    values.iter().filter_map(exact_int).collect(),
                );
            }
            Field::AsstInstId => {
                intersect(
                    &mut self.targets,
                    values.iter().filter_map(exact_int).collect(),
                );
            }
            Field::ObjAsstId => {
                let names = values.iter().filter_map(|v| v.as_str().map(str::to_owned));
                intersect(&mut self.obj_asst_ids, names.collect());
            }
            _ => {}
        }
    }
}

fn intersect<T: Ord>(known: &mut Option<Vec<T>>, mut values: Vec<T>) {
    values.sort_unstable();
    values.dedup();
    *known = Some(match known.take() {
        None => values,
        Some(old) => old
            .into_iter()
            .filter(|v| values.binary_search(v).is_ok())
            .collect(),
    });
}

/// The integer equal (as MongoDB compares, exactly) to `v`, if there is one.
pub(crate) fn exact_int(v: &Value) -> Option<i64> {
    let n = v.as_number()?;
    let i = n.as_i64().or_else(|| n.as_f64().map(|f| f as i64))?;
    super::field::equals(super::field::FieldValue::Int(i), v).then_some(i)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn facts_intersect() {
        let mut plan = Plan::default();
        plan.narrow(&Field::InstId, &[json!(3), json!(1), json!(2.0)]);
        plan.narrow(&Field::InstId, &[json!(2), json!(3), json!("3")]);
        assert_eq!(plan.sources, Some(vec![2, 3]));
        plan.narrow(&Field::ObjId, &[json!("x")]);
        assert_eq!(plan.ids, None);
    }
}
