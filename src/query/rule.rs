//! bk-cmdb's query-builder rules (`search_instance_associations`,
//! `count_instance_associations`):
//!
//! ```json
//! {"condition": "AND", "rules": [
//!     {"field": "bk_inst_id", "operator": "in", "value": [11, 12]},
//!     {"condition": "OR", "rules": [...]}]}
//! ```
//!
//! The top level must be a combined rule; combined rules nest at most 3 deep
//! (tree height, atoms counting 1); an `OR` holds at most 20 rules; `in` /
//! `not_in` hold at most 500 values of one type. Every violation is 1199006
//! naming the key as bk-cmdb does: `conditions.rules[0].operator`,
//! `conditions.rules[1].value`, `conditions.rules` (depth, empty or too many),
//! `conditions.condition`, and `conditions.` for a top level that is not a
//! combined rule.
//!
//! Values are literal text for the string operators (bk-cmdb hands them to
//! MongoDB as regular expressions); `contains` ignores case, as bk-cmdb's
//! `$options: "i"` does, and the other string operators do not.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::field::{Field, FieldValue, compare, equals};
use super::plan::Plan;
use crate::error::{Error, Result};
use crate::record::InstanceAssociation;

/// Deepest combined-rule nesting accepted (tree height, atoms counting 1).
pub const MAX_DEPTH: usize = 3;
/// Most rules under one `OR`.
pub const MAX_OR_RULES: usize = 20;
/// Most values in one `in` / `not_in`.
pub const MAX_IN_VALUES: usize = 500;

/// Parsing stops here whatever the input, so a hostile tree cannot overflow
/// the stack; anything this deep is reported as too deep.
const PARSE_DEPTH_CAP: usize = 32;

/// A parsed, validated query-builder filter.
///
/// ```
/// use assocstore::QueryFilter;
/// use serde_json::json;
/// let filter = QueryFilter::from_json(&json!({"condition": "AND", "rules": [
///     {"field": "bk_obj_asst_id", "operator": "begins_with", "value": "bk_switch"}]}))?;
/// let err = QueryFilter::from_json(&json!({"condition": "AND", "rules": [
///     {"field": "id", "operator": "between", "value": [1, 2]}]})).unwrap_err();
/// assert_eq!(err.to_string(), "'conditions.rules[0].operator' data parameter verification does not pass");
/// # Ok::<(), assocstore::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct QueryFilter {
    root: Node,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Combined { or: bool, rules: Vec<Node> },
    Atom { field: Field, op: AtomOp },
}

#[derive(Debug, Clone, PartialEq)]
enum AtomOp {
    Equal(Value),
    NotEqual(Value),
    In(Vec<Value>),
    NotIn(Vec<Value>),
    Compare(Ordering, bool, Value),
    BeginsWith(bool, String),
    Contains(bool, String),
    EndsWith(bool, String),
    Exist(bool),
    IsEmpty(bool),
}

impl QueryFilter {
    /// Parses and validates a filter (the value of `conditions`).
    ///
    /// # Errors
    /// 1199006 naming the offending key (see the module docs).
    pub fn from_json(value: &Value) -> Result<QueryFilter> {
        let root = match value {
            Value::Object(map) if map.contains_key("condition") => {
                parse_combined(map, "conditions", 1)?
            }
            _ => return Err(Error::invalid("conditions.")),
        };
        if height(&root) > MAX_DEPTH {
            return Err(Error::invalid("conditions.rules"));
        }
        Ok(QueryFilter { root })
    }

    /// Whether `record` satisfies the filter.
    pub fn matches(&self, record: &InstanceAssociation) -> bool {
        eval(&self.root, record)
    }

    /// Index-answerable facts: `equal` / `in` atoms directly under a top
    /// level `AND` (or a one-rule `OR`).
    pub(crate) fn plan(&self) -> Plan {
        let mut plan = Plan::default();
        if let Node::Combined { or, rules } = &self.root
            && (!*or || rules.len() == 1)
        {
            for rule in rules {
                match rule {
                    Node::Atom {
                        field,
                        op: AtomOp::Equal(v),
                    } => plan.narrow(field, std::slice::from_ref(v)),
                    Node::Atom {
                        field,
                        op: AtomOp::In(vs),
                    } => plan.narrow(field, vs),
                    _ => {}
                }
            }
        }
        plan
    }
}

fn height(node: &Node) -> usize {
    match node {
        Node::Atom { .. } => 1,
        Node::Combined { rules, .. } => 1 + rules.iter().map(height).max().unwrap_or(1),
    }
}

fn parse_rule(value: &Value, key: &str, level: usize) -> Result<Node> {
    let Value::Object(map) = value else {
        return Err(Error::invalid(key));
    };
    if map.contains_key("condition") {
        parse_combined(map, key, level)
    } else if map.contains_key("operator") {
        parse_atom(map, key)
    } else {
        Err(Error::invalid(key))
    }
}

fn parse_combined(map: &Map<String, Value>, key: &str, level: usize) -> Result<Node> {
    if level > PARSE_DEPTH_CAP {
        return Err(Error::invalid("conditions.rules"));
    }
    let or = match map.get("condition").and_then(Value::as_str) {
        Some("AND") => false,
        Some("OR") => true,
        _ => return Err(Error::invalid(format!("{key}.condition"))),
    };
    let rules = match map.get("rules") {
        Some(Value::Array(rules)) if !rules.is_empty() => rules,
        _ => return Err(Error::invalid(format!("{key}.rules"))),
    };
    if or && rules.len() > MAX_OR_RULES {
        return Err(Error::invalid(format!("{key}.rules")));
    }
    let rules = rules
        .iter()
        .enumerate()
        .map(|(i, rule)| parse_rule(rule, &format!("{key}.rules[{i}]"), level + 1))
        .collect::<Result<Vec<Node>>>()?;
    Ok(Node::Combined { or, rules })
}

fn parse_atom(map: &Map<String, Value>, key: &str) -> Result<Node> {
    let bad = |what: &str| Error::invalid(format!("{key}.{what}"));
    let operator = map.get("operator").and_then(Value::as_str);
    let operator = operator.ok_or_else(|| bad("operator"))?;
    if !is_known_operator(operator) {
        return Err(bad("operator"));
    }
    let field = map.get("field").and_then(Value::as_str).unwrap_or("");
    if !valid_field_name(field) {
        return Err(bad("field"));
    }
    let value = map.get("value").unwrap_or(&Value::Null);
    let op = atom_op(operator, value).ok_or_else(|| bad("value"))?;
    Ok(Node::Atom {
        field: Field::parse(field),
        op,
    })
}

fn is_known_operator(op: &str) -> bool {
    matches!(
        op,
        "equal"
            | "not_equal"
            | "in"
            | "not_in"
            | "less"
            | "less_or_equal"
            | "greater"
            | "greater_or_equal"
            | "begins_with"
            | "not_begins_with"
            | "contains"
            | "not_contains"
            | "ends_with"
            | "not_ends_with"
            | "exist"
            | "not_exist"
            | "is_empty"
            | "is_not_empty"
    )
}

/// bk-cmdb's field pattern `^[a-zA-Z0-9][\d\w\-_.]*$` (ASCII).
fn valid_field_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// The operator applied to a validated value; `None` when the value does not
/// suit the operator.
fn atom_op(operator: &str, value: &Value) -> Option<AtomOp> {
    let text = || value.as_str().filter(|s| !s.is_empty()).map(str::to_owned);
    let number = || value.is_number().then(|| value.clone());
    Some(match operator {
        "equal" => AtomOp::Equal(basic(value)?.clone()),
        "not_equal" => AtomOp::NotEqual(basic(value)?.clone()),
        "in" => AtomOp::In(basic_list(value)?),
        "not_in" => AtomOp::NotIn(basic_list(value)?),
        "less" => AtomOp::Compare(Ordering::Less, false, number()?),
        "less_or_equal" => AtomOp::Compare(Ordering::Less, true, number()?),
        "greater" => AtomOp::Compare(Ordering::Greater, false, number()?),
        "greater_or_equal" => AtomOp::Compare(Ordering::Greater, true, number()?),
        "begins_with" => AtomOp::BeginsWith(true, text()?),
        "not_begins_with" => AtomOp::BeginsWith(false, text()?),
        "contains" => AtomOp::Contains(true, text()?.to_lowercase()),
        "not_contains" => AtomOp::Contains(false, text()?),
        "ends_with" => AtomOp::EndsWith(true, text()?),
        "not_ends_with" => AtomOp::EndsWith(false, text()?),
        "exist" => AtomOp::Exist(true),
        "not_exist" => AtomOp::Exist(false),
        "is_empty" => AtomOp::IsEmpty(true),
        _ => AtomOp::IsEmpty(false),
    })
}

/// A number, a string or a boolean.
fn basic(value: &Value) -> Option<&Value> {
    matches!(value, Value::Number(_) | Value::String(_) | Value::Bool(_)).then_some(value)
}

/// An array of at most 500 basic values, all of one type.
fn basic_list(value: &Value) -> Option<Vec<Value>> {
    let items = value.as_array()?;
    if items.len() > MAX_IN_VALUES || items.iter().any(|v| basic(v).is_none()) {
        return None;
    }
    let kind = |v: &Value| std::mem::discriminant(v);
    let same = items.windows(2).all(|w| kind(&w[0]) == kind(&w[1]));
    same.then(|| items.clone())
}

fn eval(node: &Node, rec: &InstanceAssociation) -> bool {
    match node {
        Node::Combined { or: false, rules } => rules.iter().all(|r| eval(r, rec)),
        Node::Combined { or: true, rules } => rules.iter().any(|r| eval(r, rec)),
        Node::Atom { field, op } => test(field, field.value_in(rec), op),
    }
}

fn test(field: &Field, actual: FieldValue<'_>, op: &AtomOp) -> bool {
    let text = match actual {
        FieldValue::Str(s) => Some(s),
        _ => None,
    };
    match op {
        AtomOp::Equal(v) => equals(actual, v),
        AtomOp::NotEqual(v) => !equals(actual, v),
        AtomOp::In(vs) => vs.iter().any(|v| equals(actual, v)),
        AtomOp::NotIn(vs) => !vs.iter().any(|v| equals(actual, v)),
        AtomOp::Compare(dir, or_equal, v) => match compare(actual, v) {
            Some(Ordering::Equal) => *or_equal,
            Some(ord) => ord == *dir,
            None => false,
        },
        AtomOp::BeginsWith(want, s) => text.is_some_and(|t| t.starts_with(s.as_str())) == *want,
        AtomOp::Contains(true, s) => text.is_some_and(|t| t.to_lowercase().contains(s.as_str())),
        AtomOp::Contains(false, s) => !text.is_some_and(|t| t.contains(s.as_str())),
        AtomOp::EndsWith(want, s) => text.is_some_and(|t| t.ends_with(s.as_str())) == *want,
        AtomOp::Exist(want) => (*field != Field::Other) == *want,
        // `$eq: []` never matches a scalar; `$ne: []` always does.
        AtomOp::IsEmpty(want) => !*want,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn err_key(value: &Value) -> String {
        match QueryFilter::from_json(value) {
            Err(Error::ParamInvalid { field }) => field,
            other => panic!("expected 1199006, got {other:?}"),
        }
    }

    #[allow(clippy::needless_pass_by_value)] // called with json! literals
    fn and(rules: Value) -> Value {
        json!({"condition": "AND", "rules": rules})
    }

    #[test]
    fn keys_name_the_offending_part() {
        assert_eq!(
            err_key(&json!({"field": "id", "operator": "equal", "value": 1})),
            "conditions."
        );
        assert_eq!(
            err_key(&json!({"condition": "XOR", "rules": []})),
            "conditions.condition"
        );
        assert_eq!(err_key(&and(json!([]))), "conditions.rules");
        let atom = |op: &str, v: Value| and(json!([{"field": "id", "operator": op, "value": v}]));
        assert_eq!(
            err_key(&atom("like", json!(1))),
            "conditions.rules[0].operator"
        );
        assert_eq!(
            err_key(&atom("less", json!("1"))),
            "conditions.rules[0].value"
        );
        assert_eq!(
            err_key(&atom("in", json!([1, "2"]))),
            "conditions.rules[0].value"
        );
        assert_eq!(
            err_key(&atom("begins_with", json!(""))),
            "conditions.rules[0].value"
        );
        let bad_field = and(json!([{"field": "_id", "operator": "exist"}]));
        assert_eq!(err_key(&bad_field), "conditions.rules[0].field");
    }

    #[test]
    fn nesting_depth_three_passes_and_four_fails() {
        let leaf = json!({"field": "id", "operator": "exist"});
        let three = and(json!([and(json!([leaf.clone()]))]));
        assert!(QueryFilter::from_json(&three).is_ok());
        let four = and(json!([and(json!([and(json!([leaf]))]))]));
        assert_eq!(err_key(&four), "conditions.rules");
    }

    #[test]
    fn hostile_depth_is_refused_without_recursing_forever() {
        let mut v = json!({"field": "id", "operator": "exist"});
        for _ in 0..1_000 {
            v = json!({"condition": "AND", "rules": [v]});
        }
        assert_eq!(err_key(&v), "conditions.rules");
    }

    #[test]
    fn or_holds_at_most_twenty_rules() {
        let rule = json!({"field": "id", "operator": "equal", "value": 1});
        let rules: Vec<Value> = std::iter::repeat_n(rule, 21).collect();
        assert_eq!(
            err_key(&json!({"condition": "OR", "rules": rules[..]})),
            "conditions.rules"
        );
        assert!(QueryFilter::from_json(&json!({"condition": "OR", "rules": rules[..20]})).is_ok());
        assert!(QueryFilter::from_json(&and(json!(rules))).is_ok());
    }
}
