//! Record fields by name, and MongoDB-style comparison of a field's value
//! with a JSON value: numbers with numbers (`11` equals `11.0`), strings with
//! strings, nothing across types; a field no record has is `null`.

use std::cmp::Ordering;

use serde_json::Value;

use crate::record::InstanceAssociation;

/// A record field, or a name no record has.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Field {
    Id,
    InstId,
    ObjId,
    AsstInstId,
    AsstObjId,
    ObjAsstId,
    AsstId,
    Other,
}

impl Field {
    pub(crate) fn parse(name: &str) -> Field {
        match name {
            "id" => Field::Id,
            "bk_inst_id" => Field::InstId,
            "bk_obj_id" => Field::ObjId,
            "bk_asst_inst_id" => Field::AsstInstId,
            "bk_asst_obj_id" => Field::AsstObjId,
            "bk_obj_asst_id" => Field::ObjAsstId,
            "bk_asst_id" => Field::AsstId,
            _ => Field::Other,
        }
    }

    /// This field's value in `rec`.
    pub(crate) fn value_in<'a>(&self, rec: &'a InstanceAssociation) -> FieldValue<'a> {
        match self {
            Field::Id => FieldValue::Int(rec.id),
            Field::InstId => FieldValue::Int(rec.bk_inst_id),
            Field::ObjId => FieldValue::Str(&rec.bk_obj_id),
            Field::AsstInstId => FieldValue::Int(rec.bk_asst_inst_id),
            Field::AsstObjId => FieldValue::Str(&rec.bk_asst_obj_id),
            Field::ObjAsstId => FieldValue::Str(&rec.bk_obj_asst_id),
            Field::AsstId => FieldValue::Str(&rec.bk_asst_id),
            Field::Other => FieldValue::Missing,
        }
    }
}

/// A field's value in a record, borrowed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum FieldValue<'a> {
    Int(i64),
    Str(&'a str),
    Missing,
}

/// `a` against `f`, exactly (no rounding of `a` to a float), as MongoDB
/// compares numbers of different types.
fn compare_int_float(a: i64, f: f64) -> Option<Ordering> {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if f.is_nan() {
        return None;
    }
    if f >= TWO_63 {
        return Some(Ordering::Less);
    }
    if f < -TWO_63 {
        return Some(Ordering::Greater);
    }
    let whole = f.trunc();
    // In range, so the conversion is exact.
    match a.cmp(&(whole as i64)) {
        Ordering::Equal => 0.0_f64.partial_cmp(&(f - whole)),
        other => Some(other),
    }
}

pub(crate) fn equals(actual: FieldValue<'_>, v: &Value) -> bool {
    compare(actual, v) == Some(Ordering::Equal)
}

/// MongoDB-style comparison within one type class; `None` across classes.
pub(crate) fn compare(actual: FieldValue<'_>, v: &Value) -> Option<Ordering> {
    match (actual, v) {
        (FieldValue::Missing, Value::Null) => Some(Ordering::Equal),
        (FieldValue::Str(a), Value::String(b)) => Some(a.cmp(b.as_str())),
        (FieldValue::Int(a), Value::Number(n)) => match (n.as_i64(), n.as_u64()) {
            (Some(b), _) => Some(a.cmp(&b)),
            // Above i64::MAX: larger than any record field.
            (None, Some(_)) => Some(Ordering::Less),
            (None, None) => compare_int_float(a, n.as_f64()?),
        },
        _ => None,
    }
}
