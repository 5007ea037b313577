//! `search_instance_associations` / `count_instance_associations` (SPEC
//! §3.4): bk-cmdb's query-builder rules, pages, sorts and projections, read
//! straight from the JSON body.
//!
//! Validation names the offending key as bk-cmdb does (`conditions.`,
//! `conditions.condition`, `conditions.rules`, `conditions.rules[i]…`,
//! `.operator`, `.field`, `.value`, `page.limit`, `page.start`, `page.sort`,
//! `fields`). SPEC fixes what is refused, not which of two defects is
//! reported first, except "the page, then the conditions" (the crate's
//! docs); where several are possible, every one is accepted.
//!
//! Depth: "nested at most 3 deep" counts the tree height with atoms as 1
//! (bk-cmdb's `GetDeep`, the crate's `MAX_DEPTH` docs), so
//! `AND[AND[atom]]` is the deepest accepted.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::find::{compare, equal, field_value};
use super::reference::{Fail, Rec};

/// The operators SPEC §3.4 lists for the query builder.
pub(crate) const OPERATORS: [&str; 18] = [
    "equal",
    "not_equal",
    "in",
    "not_in",
    "less",
    "less_or_equal",
    "greater",
    "greater_or_equal",
    "begins_with",
    "not_begins_with",
    "contains",
    "not_contains",
    "ends_with",
    "not_ends_with",
    "exist",
    "not_exist",
    "is_empty",
    "is_not_empty",
];

/// Every acceptable error for a `conditions` value, or none when valid.
pub(crate) fn validate(conditions: &Value) -> Vec<Fail> {
    let top = conditions
        .as_object()
        .filter(|m| m.contains_key("condition"));
    let Some(top) = top else {
        return vec![Fail::invalid("conditions.")];
    };
    let mut errors: Vec<Fail> = first_defect(top, "conditions")
        .into_iter()
        .map(|k| Fail::invalid(&k))
        .collect();
    if height(conditions) > 3 {
        errors.push(Fail::invalid("conditions.rules"));
    }
    errors
}

/// Tree height, atoms counting 1.
fn height(node: &Value) -> usize {
    match node.as_object() {
        Some(m) if m.contains_key("condition") => {
            let children = m.get("rules").and_then(Value::as_array);
            1 + children.map_or(1, |c| c.iter().map(height).max().unwrap_or(1))
        }
        _ => 1,
    }
}

/// The keys of the first defective rule in document order (one key, or
/// several when one atom has several defects).
fn first_defect(combined: &Map<String, Value>, key: &str) -> Vec<String> {
    let condition = combined.get("condition").and_then(Value::as_str);
    if condition != Some("AND") && condition != Some("OR") {
        return vec![format!("{key}.condition")];
    }
    let rules = combined.get("rules").and_then(Value::as_array);
    let Some(rules) = rules.filter(|r| !r.is_empty()) else {
        return vec![format!("{key}.rules")];
    };
    if condition == Some("OR") && rules.len() > 20 {
        return vec![format!("{key}.rules")];
    }
    for (i, rule) in rules.iter().enumerate() {
        let k = format!("{key}.rules[{i}]");
        let defects = match rule.as_object() {
            Some(m) if m.contains_key("condition") => first_defect(m, &k),
            Some(m) if m.contains_key("operator") => atom_defects(m, &k),
            _ => vec![k],
        };
        if !defects.is_empty() {
            return defects;
        }
    }
    Vec::new()
}

fn atom_defects(atom: &Map<String, Value>, key: &str) -> Vec<String> {
    let mut defects = Vec::new();
    let operator = atom
        .get("operator")
        .and_then(Value::as_str)
        .filter(|op| OPERATORS.contains(op));
    if operator.is_none() {
        defects.push(format!("{key}.operator"));
    }
    let field = atom.get("field").and_then(Value::as_str).unwrap_or("");
    if !field_name_ok(field) {
        defects.push(format!("{key}.field"));
    }
    if let Some(op) = operator {
        let value = atom.get("value").unwrap_or(&Value::Null);
        if !value_ok(op, value) {
            defects.push(format!("{key}.value"));
        }
    }
    defects
}

/// bk-cmdb's field pattern `^[a-zA-Z0-9][\d\w\-_.]*$`.
fn field_name_ok(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes[0].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-' || *b == b'.')
}

fn is_basic(v: &Value) -> bool {
    v.is_number() || v.is_string() || v.is_boolean()
}

fn value_ok(op: &str, v: &Value) -> bool {
    match op {
        "equal" | "not_equal" => is_basic(v),
        "in" | "not_in" => {
            let Some(items) = v.as_array() else {
                return false;
            };
            let class = |x: &Value| (x.is_number(), x.is_string(), x.is_boolean());
            items.len() <= 500
                && items.iter().all(is_basic)
                && items.iter().all(|x| class(x) == class(&items[0]))
        }
        "less" | "less_or_equal" | "greater" | "greater_or_equal" => v.is_number(),
        "begins_with" | "not_begins_with" | "contains" | "not_contains" | "ends_with"
        | "not_ends_with" => v.as_str().is_some_and(|s| !s.is_empty()),
        _ => true,
    }
}

/// Whether `r` satisfies a (valid) rule.
pub(crate) fn matches(rule: &Value, r: &Rec) -> bool {
    let Some(m) = rule.as_object() else {
        return false;
    };
    if let Some(condition) = m.get("condition") {
        let rules = m.get("rules").and_then(Value::as_array);
        let rules = rules.map(Vec::as_slice).unwrap_or_default();
        if condition.as_str() == Some("OR") {
            rules.iter().any(|x| matches(x, r))
        } else {
            rules.iter().all(|x| matches(x, r))
        }
    } else {
        let field = m.get("field").and_then(Value::as_str).unwrap_or("");
        let op = m.get("operator").and_then(Value::as_str).unwrap_or("");
        let value = m.get("value").unwrap_or(&Value::Null);
        atom(&field_value(r, field), field, op, value)
    }
}

fn atom(actual: &Value, field: &str, op: &str, v: &Value) -> bool {
    let in_list = || {
        v.as_array()
            .is_some_and(|l| l.iter().any(|x| equal(actual, x)))
    };
    let ord = compare(actual, v);
    let text = actual.as_str();
    let pattern = v.as_str().unwrap_or("");
    match op {
        "equal" => equal(actual, v),
        "not_equal" => !equal(actual, v),
        "in" => in_list(),
        "not_in" => !in_list(),
        "less" => ord == Some(Ordering::Less),
        "less_or_equal" => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
        "greater" => ord == Some(Ordering::Greater),
        "greater_or_equal" => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
        // README: literal text; `contains` ignores case, the others do not.
        "begins_with" => text.is_some_and(|t| t.starts_with(pattern)),
        "not_begins_with" => !text.is_some_and(|t| t.starts_with(pattern)),
        "contains" => text.is_some_and(|t| t.to_lowercase().contains(&pattern.to_lowercase())),
        "not_contains" => !text.is_some_and(|t| t.contains(pattern)),
        "ends_with" => text.is_some_and(|t| t.ends_with(pattern)),
        "not_ends_with" => !text.is_some_and(|t| t.ends_with(pattern)),
        // README: `exist` is true for the seven record fields only.
        "exist" => super::domain::RECORD_FIELDS.contains(&field),
        "not_exist" => !super::domain::RECORD_FIELDS.contains(&field),
        // README: every field is a scalar, so never empty.
        "is_empty" => false,
        _ => true,
    }
}

/// A validated page: start, limit, sort keys (field, descending).
#[derive(Debug, Clone)]
pub(crate) struct PageSpec {
    pub(crate) start: usize,
    pub(crate) limit: usize,
    pub(crate) sort: Vec<(String, bool)>,
}

/// `page` of a search body: `limit` 1..=500 (missing is 0, Go's zero
/// value), `start` a non-negative integer, `sort` a string. Every defect is
/// an acceptable error; SPEC does not order them.
pub(crate) fn page(body: &Value) -> Result<PageSpec, Vec<Fail>> {
    let page = body.get("page").unwrap_or(&Value::Null);
    let int = |key: &str| match page.get(key) {
        None | Some(Value::Null) => Some(0),
        Some(v) => v.as_u64(),
    };
    let mut errors = Vec::new();
    let limit = int("limit").filter(|l| (1..=500).contains(l));
    if limit.is_none() {
        errors.push(Fail::invalid("page.limit"));
    }
    let start = int("start");
    if start.is_none() {
        errors.push(Fail::invalid("page.start"));
    }
    let sort = match page.get("sort") {
        None | Some(Value::Null) => Some(""),
        Some(v) => v.as_str(),
    };
    if sort.is_none() {
        errors.push(Fail::invalid("page.sort"));
    }
    match (start, limit, sort) {
        (Some(start), Some(limit), Some(sort)) if errors.is_empty() => Ok(PageSpec {
            start: usize::try_from(start).unwrap_or(usize::MAX),
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
            sort: sort_keys(sort),
        }),
        _ => Err(errors),
    }
}

/// `"f1,-f2"` or `"f1:1,f2:-1"`; blanks around items ignored.
fn sort_keys(sort: &str) -> Vec<(String, bool)> {
    let mut keys = Vec::new();
    for item in sort.split(',') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        if let Some(name) = item.strip_prefix('-') {
            keys.push((name.to_owned(), true));
        } else if let Some((name, dir)) = item.split_once(':') {
            keys.push((name.to_owned(), dir == "-1"));
        } else {
            keys.push((item.to_owned(), false));
        }
    }
    keys
}

/// `fields` of a search body: absent, or an array of strings.
pub(crate) fn fields(body: &Value) -> Result<Vec<String>, Fail> {
    match body.get("fields") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|f| f.as_str().map(str::to_owned))
            .collect::<Option<Vec<String>>>()
            .ok_or_else(|| Fail::invalid("fields")),
        Some(_) => Err(Fail::invalid("fields")),
    }
}

/// Sorts (stable, so ties keep id order; README) and cuts the page from
/// records given in id order.
pub(crate) fn apply_page(mut records: Vec<Rec>, page: &PageSpec) -> Vec<Rec> {
    records.sort_by(|a, b| {
        for (field, descending) in &page.sort {
            let ord =
                compare(&field_value(a, field), &field_value(b, field)).unwrap_or(Ordering::Equal);
            let ord = if *descending { ord.reverse() } else { ord };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    });
    records
        .into_iter()
        .skip(page.start)
        .take(page.limit)
        .collect()
}

/// Keeps only the named fields (all when `fields` is empty); the others
/// become zero / empty, as bk-cmdb omits them.
pub(crate) fn project(r: Rec, fields: &[String]) -> Rec {
    if fields.is_empty() {
        return r;
    }
    let keep = |f: &str| fields.iter().any(|x| x == f);
    let text = |f: &str, v: String| if keep(f) { v } else { String::new() };
    Rec {
        id: if keep("id") { r.id } else { 0 },
        bk_inst_id: if keep("bk_inst_id") { r.bk_inst_id } else { 0 },
        bk_obj_id: text("bk_obj_id", r.bk_obj_id),
        bk_asst_inst_id: if keep("bk_asst_inst_id") {
            r.bk_asst_inst_id
        } else {
            0
        },
        bk_asst_obj_id: text("bk_asst_obj_id", r.bk_asst_obj_id),
        bk_obj_asst_id: text("bk_obj_asst_id", r.bk_obj_asst_id),
        bk_asst_id: text("bk_asst_id", r.bk_asst_id),
    }
}
