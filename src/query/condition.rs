//! The `condition` of `find_instance_association`: a MongoDB-style
//! filter over record fields.
//!
//! `{"field": value}` is equality; an object whose keys start with `$` holds
//! operators: `$eq`, `$ne`, `$in`, `$nin`, `$gt`, `$gte`, `$lt`, `$lte`, and at
//! any level `$and` / `$or` over arrays of conditions. Any other operator is
//! refused with 1199006 naming it. Values compare as MongoDB does: numbers with
//! numbers (`11` equals `11.0`), strings with strings, nothing across types;
//! a field a record does not have is `null` (`$ne`/`$nin` match it, `$eq: null`
//! matches it).
//!
//! One divergence from bk-cmdb: at the top level, `"bk_asst_id": ""` and
//! `"bk_asst_obj_id": ""` mean "not filtered" (the seed example sends them and
//! expects results).

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::field::{Field, compare, equals};
use super::plan::Plan;
use crate::error::{Error, Result};
use crate::record::InstanceAssociation;

/// A parsed, validated find condition.
///
/// ```
/// use assocstore::Condition;
/// use serde_json::json;
/// let cond = Condition::from_json(&json!({"bk_inst_id": {"$in": [11, 12]}}))?;
/// assert!(Condition::from_json(&json!({"bk_inst_id": {"$regex": "1"}})).is_err());
/// # Ok::<(), assocstore::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Condition {
    node: Node,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    All(Vec<Node>),
    Any(Vec<Node>),
    Test(Field, Op),
}

impl Default for Node {
    fn default() -> Node {
        Node::All(Vec::new())
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Op {
    Eq(Value),
    Ne(Value),
    In(Vec<Value>),
    Nin(Vec<Value>),
    Cmp(Ordering, bool, Value),
}

impl Condition {
    /// The condition that matches every record.
    pub fn all() -> Condition {
        Condition::default()
    }

    /// Parses a JSON condition object (`null` means "everything").
    ///
    /// # Errors
    /// 1199006 naming the unsupported operator (`'$regex' data parameter
    /// verification does not pass`), or naming `condition` when the value is
    /// not an object, or `$in`/`$nin`/`$and`/`$or` when their operand is not an
    /// array (of objects, for `$and`/`$or`).
    pub fn from_json(value: &Value) -> Result<Condition> {
        match value {
            Value::Null => Ok(Condition::all()),
            Value::Object(map) => Ok(Condition {
                node: parse_doc(map, true)?,
            }),
            _ => Err(Error::invalid("condition")),
        }
    }

    /// Whether `record` satisfies the condition.
    pub fn matches(&self, record: &InstanceAssociation) -> bool {
        eval(&self.node, record)
    }

    /// Index-answerable facts: top-level `field: value`, `$eq` and `$in`.
    pub(crate) fn plan(&self) -> Plan {
        let mut plan = Plan::default();
        let tests: &[Node] = match &self.node {
            Node::All(children) => children,
            other => std::slice::from_ref(other),
        };
        for node in tests {
            match node {
                Node::Test(field, Op::Eq(v)) => plan.narrow(field, std::slice::from_ref(v)),
                Node::Test(field, Op::In(vs)) => plan.narrow(field, vs),
                _ => {}
            }
        }
        plan
    }
}

fn parse_doc(map: &Map<String, Value>, top: bool) -> Result<Node> {
    let mut tests = Vec::with_capacity(map.len());
    for (key, value) in map {
        match key.as_str() {
            "$and" => tests.push(Node::All(parse_list(key, value)?)),
            "$or" => tests.push(Node::Any(parse_list(key, value)?)),
            k if k.starts_with('$') => return Err(Error::invalid(k)),
            "bk_asst_id" | "bk_asst_obj_id" if top && value.as_str() == Some("") => {}
            _ => parse_field(&mut tests, Field::parse(key), value)?,
        }
    }
    Ok(match tests.len() {
        1 => tests.pop().unwrap_or_default(),
        _ => Node::All(tests),
    })
}

fn parse_list(key: &str, value: &Value) -> Result<Vec<Node>> {
    let items = value.as_array().filter(|a| !a.is_empty());
    let items = items.ok_or_else(|| Error::invalid(key))?;
    items
        .iter()
        .map(|item| match item {
            Value::Object(map) => parse_doc(map, false),
            _ => Err(Error::invalid(key)),
        })
        .collect()
}

fn parse_field(tests: &mut Vec<Node>, field: Field, value: &Value) -> Result<()> {
    let ops = match value {
        Value::Object(map) if map.keys().any(|k| k.starts_with('$')) => map,
        _ => {
            tests.push(Node::Test(field, Op::Eq(value.clone())));
            return Ok(());
        }
    };
    for (op, operand) in ops {
        let op = match op.as_str() {
            "$eq" => Op::Eq(operand.clone()),
            "$ne" => Op::Ne(operand.clone()),
            "$in" => Op::In(array_operand(op, operand)?),
            "$nin" => Op::Nin(array_operand(op, operand)?),
            "$gt" => Op::Cmp(Ordering::Greater, false, operand.clone()),
            "$gte" => Op::Cmp(Ordering::Greater, true, operand.clone()),
            "$lt" => Op::Cmp(Ordering::Less, false, operand.clone()),
            "$lte" => Op::Cmp(Ordering::Less, true, operand.clone()),
            other => return Err(Error::invalid(other)),
        };
        tests.push(Node::Test(field.clone(), op));
    }
    Ok(())
}

fn array_operand(op: &str, operand: &Value) -> Result<Vec<Value>> {
    operand
        .as_array()
        .cloned()
        .ok_or_else(|| Error::invalid(op))
}

fn eval(node: &Node, rec: &InstanceAssociation) -> bool {
    match node {
        Node::All(children) => children.iter().all(|c| eval(c, rec)),
        Node::Any(children) => children.iter().any(|c| eval(c, rec)),
        Node::Test(field, op) => test(field.value_in(rec), op),
    }
}

fn test(actual: super::field::FieldValue<'_>, op: &Op) -> bool {
    match op {
        Op::Eq(v) => equals(actual, v),
        Op::Ne(v) => !equals(actual, v),
        Op::In(vs) => vs.iter().any(|v| equals(actual, v)),
        Op::Nin(vs) => !vs.iter().any(|v| equals(actual, v)),
        Op::Cmp(dir, or_equal, v) => match compare(actual, v) {
            Some(Ordering::Equal) => *or_equal,
            Some(ord) => ord == *dir,
            None => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;

    fn rec() -> InstanceAssociation {
        InstanceAssociation {
            id: 7,
            bk_inst_id: 11,
            bk_obj_id: Arc::from("bk_switch"),
            bk_asst_inst_id: 21,
            bk_asst_obj_id: Arc::from("host"),
            bk_obj_asst_id: Arc::from("bk_switch_belong_host"),
            bk_asst_id: Arc::from("belong"),
        }
    }

    fn check(cond: &Value) -> bool {
        Condition::from_json(cond).unwrap().matches(&rec())
    }

    #[test]
    fn equality_compares_within_type_class() {
        assert!(check(&json!({"bk_inst_id": 11})));
        assert!(check(&json!({"bk_inst_id": 11.0})));
        assert!(!check(&json!({"bk_inst_id": "11"})));
        assert!(!check(&json!({"bk_obj_id": "host"})));
    }

    #[test]
    fn operators_and_missing_fields() {
        assert!(check(&json!({"id": {"$gte": 7, "$lt": 8}})));
        assert!(!check(&json!({"id": {"$gt": "6"}})));
        assert!(check(&json!({"bk_biz_id": {"$ne": 1}})));
        assert!(check(&json!({"bk_biz_id": null})));
        assert!(check(&json!({"bk_asst_inst_id": {"$nin": [1, 2]}})));
        assert!(check(
            &json!({"$or": [{"bk_inst_id": 1}, {"bk_asst_id": "belong"}]})
        ));
        assert!(!check(
            &json!({"$and": [{"bk_inst_id": 11}, {"bk_asst_id": "run"}]})
        ));
    }

    #[test]
    fn empty_optional_keys_are_not_filters_at_top_level_only() {
        assert!(check(&json!({"bk_asst_id": "", "bk_asst_obj_id": ""})));
        assert!(!check(&json!({"$and": [{"bk_asst_id": ""}]})));
        assert!(!check(&json!({"bk_obj_asst_id": ""})));
    }

    #[test]
    fn unsupported_operators_are_named() {
        let err = Condition::from_json(&json!({"$where": "1"})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "'$where' data parameter verification does not pass"
        );
        let err = Condition::from_json(&json!({"id": {"$in": 3}})).unwrap_err();
        assert_eq!(err, Error::invalid("$in"));
        assert_eq!(
            Condition::from_json(&json!([1])),
            Err(Error::invalid("condition"))
        );
    }

    #[test]
    fn plan_comes_from_top_level_equalities() {
        let cond = Condition::from_json(&json!({"bk_obj_asst_id": "a", "bk_inst_id": 3.0}));
        let plan = cond.unwrap().plan();
        assert_eq!(plan.obj_asst_ids, Some(vec!["a".to_owned()]));
        assert_eq!(plan.sources, Some(vec![3]));
        assert_eq!(plan.targets, None);
    }
}
