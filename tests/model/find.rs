//! `find_instance_association`'s `condition` (SPEC §3.4), read straight from
//! the JSON: a document is an AND of its keys; `"field": value` is equality;
//! an object of `$` operators tests a field; `$and` / `$or` hold non-empty
//! arrays of documents. Values compare as MongoDB does: numbers with numbers,
//! strings with strings, nothing across types; a field a record does not have
//! is `null` (README). At the top level only, `"bk_asst_id": ""` and
//! `"bk_asst_obj_id": ""` do not filter (SPEC divergence).

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::reference::{Fail, Rec};

/// The value of `field` in `r`: a number, a string, or `null` for a name no
/// record has.
pub(crate) fn field_value(r: &Rec, field: &str) -> Value {
    match field {
        "id" => Value::from(r.id),
        "bk_inst_id" => Value::from(r.bk_inst_id),
        "bk_obj_id" => Value::from(r.bk_obj_id.as_str()),
        "bk_asst_inst_id" => Value::from(r.bk_asst_inst_id),
        "bk_asst_obj_id" => Value::from(r.bk_asst_obj_id.as_str()),
        "bk_obj_asst_id" => Value::from(r.bk_obj_asst_id.as_str()),
        "bk_asst_id" => Value::from(r.bk_asst_id.as_str()),
        _ => Value::Null,
    }
}

/// MongoDB's comparison within a type class (numbers, strings, null);
/// `None` across classes. Numbers compare by value, exactly, whatever their
/// type: `11` equals `11.0`, and 2⁵³ + 1 is not 2⁵³ as a float.
pub(crate) fn compare(actual: &Value, wanted: &Value) -> Option<Ordering> {
    match (actual, wanted) {
        (Value::Null, Value::Null) => Some(Ordering::Equal),
        (Value::String(a), Value::String(b)) => Some(a.as_str().cmp(b.as_str())),
        (Value::Number(a), Value::Number(b)) => {
            let a = a.as_i64()?;
            if let Some(b) = b.as_i64() {
                Some(a.cmp(&b))
            } else if b.as_u64().is_some() {
                Some(Ordering::Less)
            } else {
                int_vs_float(a, b.as_f64()?)
            }
        }
        _ => None,
    }
}

/// `a` against `b` by value, without rounding `a` to a float.
fn int_vs_float(a: i64, b: f64) -> Option<Ordering> {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if b.is_nan() {
        return None;
    }
    if b >= TWO_63 {
        return Some(Ordering::Less);
    }
    if b < -TWO_63 {
        return Some(Ordering::Greater);
    }
    let whole = b.trunc();
    // |whole| < 2⁶³, so the conversion is exact.
    match a.cmp(&(whole as i64)) {
        Ordering::Equal => 0.0_f64.partial_cmp(&(b - whole)),
        other => Some(other),
    }
}

pub(crate) fn equal(actual: &Value, wanted: &Value) -> bool {
    compare(actual, wanted) == Some(Ordering::Equal)
}

/// The first refused part of a condition, in document order.
pub(crate) fn validate(condition: &Value) -> Result<(), Fail> {
    match condition {
        Value::Null => Ok(()),
        Value::Object(doc) => validate_doc(doc),
        _ => Err(Fail::invalid("condition")),
    }
}

fn validate_doc(doc: &Map<String, Value>) -> Result<(), Fail> {
    for (key, value) in doc {
        if key == "$and" || key == "$or" {
            let Some(list) = value.as_array() else {
                return Err(Fail::invalid(key));
            };
            if list.is_empty() {
                return Err(Fail::invalid(key));
            }
            for item in list {
                let Some(inner) = item.as_object() else {
                    return Err(Fail::invalid(key));
                };
                validate_doc(inner)?;
            }
        } else if key.starts_with('$') {
            return Err(Fail::invalid(key));
        } else if let Some(ops) = operator_object(value) {
            for (op, operand) in ops {
                match op.as_str() {
                    "$eq" | "$ne" | "$gt" | "$gte" | "$lt" | "$lte" => {}
                    "$in" | "$nin" => {
                        if !operand.is_array() {
                            return Err(Fail::invalid(op));
                        }
                    }
                    other => return Err(Fail::invalid(other)),
                }
            }
        }
    }
    Ok(())
}

/// The operators of a field test, when `value` is an object of them.
fn operator_object(value: &Value) -> Option<&Map<String, Value>> {
    value
        .as_object()
        .filter(|m| m.keys().any(|k| k.starts_with('$')))
}

/// Whether `r` satisfies a (valid) condition.
pub(crate) fn matches(condition: &Value, r: &Rec) -> bool {
    match condition {
        Value::Object(doc) => doc_matches(doc, r, true),
        _ => true,
    }
}

fn doc_matches(doc: &Map<String, Value>, r: &Rec, top: bool) -> bool {
    for (key, value) in doc {
        let ok = match key.as_str() {
            "$and" => list(value).iter().all(|d| doc_matches(d, r, false)),
            "$or" => list(value).iter().any(|d| doc_matches(d, r, false)),
            "bk_asst_id" | "bk_asst_obj_id" if top && value.as_str() == Some("") => true,
            field => {
                let actual = field_value(r, field);
                match operator_object(value) {
                    None => equal(&actual, value),
                    Some(ops) => ops.iter().all(|(op, v)| test(&actual, op, v)),
                }
            }
        };
        if !ok {
            return false;
        }
    }
    true
}

fn list(value: &Value) -> Vec<&Map<String, Value>> {
    value
        .as_array()
        .map(|l| l.iter().filter_map(Value::as_object).collect())
        .unwrap_or_default()
}

fn test(actual: &Value, op: &str, v: &Value) -> bool {
    let in_list = || {
        v.as_array()
            .is_some_and(|l| l.iter().any(|x| equal(actual, x)))
    };
    let ord = compare(actual, v);
    match op {
        "$eq" => equal(actual, v),
        "$ne" => !equal(actual, v),
        "$in" => in_list(),
        "$nin" => !in_list(),
        "$gt" => ord == Some(Ordering::Greater),
        "$gte" => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
        "$lt" => ord == Some(Ordering::Less),
        "$lte" => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
        _ => false,
    }
}
