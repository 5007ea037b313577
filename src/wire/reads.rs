//! Reading instance associations on the wire.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::decode::decode;
use crate::error::{Error, Result};
use crate::query::{Condition, QueryFilter, Search};
use crate::store::Store;

fn to_json<T: serde::Serialize>(value: &T) -> Result<Value> {
    serde_json::to_value(value).map_err(|_| Error::JsonDecode)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FindBody {
    bk_obj_id: Option<String>,
    condition: Option<Map<String, Value>>,
}

/// `find_instance_association` → an array of records.
pub(super) fn find_instance_association(store: &Store, body: &Value) -> Result<Value> {
    let b: FindBody = decode(body, Error::BodyInvalid)?;
    let model = b.bk_obj_id.unwrap_or_default();
    if model.is_empty() {
        return Err(Error::unassigned("bk_obj_id"));
    }
    let condition = Condition::from_json(&Value::Object(b.condition.unwrap_or_default()))?;
    to_json(&store.find_instance_associations(&model, &condition)?)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PageBody {
    start: Option<i64>,
    limit: Option<i64>,
    sort: Option<String>,
}

/// The search body's typed fields. Only `bk_obj_id` is read from it:
/// `fields` and `page` are here so that a value of the wrong type fails the
/// decode (1199000) before `Search::from_json` validates the rest; any
/// `conditions` value decodes, so it has no field.
#[derive(Deserialize, Default)]
#[serde(default)]
struct SearchBody {
    bk_obj_id: Option<String>,
    fields: Option<Vec<String>>,
    page: Option<PageBody>,
}

/// `search_instance_associations` → `{"info": [...]}`.
pub(super) fn search_instance_associations(store: &Store, body: &Value) -> Result<Value> {
    // Decode for the types first (1199000), then validate in bk-cmdb's order.
    let b: SearchBody = decode(body, Error::JsonDecode)?;
    let model = b.bk_obj_id.unwrap_or_default();
    if model.is_empty() {
        return Err(Error::invalid("bk_obj_id"));
    }
    // The decode checked the types; `from_json` reads the same keys.
    let search = Search::from_json(body)?;
    let info = store.search_instance_associations(&model, &search)?;
    Ok(json!({ "info": to_json(&info)? }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CountBody {
    bk_obj_id: Option<String>,
    conditions: Option<Value>,
}

/// `count_instance_associations` → `{"count": n}` (source-model records only).
pub(super) fn count_instance_associations(store: &Store, body: &Value) -> Result<Value> {
    let b: CountBody = decode(body, Error::JsonDecode)?;
    let model = b.bk_obj_id.unwrap_or_default();
    if model.is_empty() {
        return Err(Error::invalid("bk_obj_id"));
    }
    let filter = match &b.conditions {
        None | Some(Value::Null) => None,
        Some(v) => Some(QueryFilter::from_json(v)?),
    };
    Ok(json!({ "count": store.count_instance_associations(&model, filter.as_ref())? }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RelatedCondition {
    bk_obj_id: Option<String>,
    bk_inst_id: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RelatedBody {
    condition: Option<RelatedCondition>,
    fields: Option<Vec<String>>,
    page: Option<PageBody>,
}

/// `search_related_inst_asso` → an array of records, sorted by id.
pub(super) fn search_related_inst_asso(store: &Store, body: &Value) -> Result<Value> {
    let decode_error = Error::invalid(Error::JsonDecode.to_string());
    let b: RelatedBody = decode(body, decode_error)?;
    let cond = b.condition.unwrap_or_default();
    let page = b.page.unwrap_or_default();
    let related = store.search_related_instance_associations(
        cond.bk_obj_id.as_deref().unwrap_or(""),
        cond.bk_inst_id.unwrap_or(0),
        &b.fields.unwrap_or_default(),
        u64::try_from(page.start.unwrap_or(0)).unwrap_or(0),
        u64::try_from(page.limit.unwrap_or(0)).unwrap_or(0),
    )?;
    to_json(&related)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TopoBody {
    bk_obj_id: Option<String>,
    bk_inst_id: Option<i64>,
}

/// `search_inst_association_topo` → one group per target model.
pub(super) fn search_inst_association_topo(store: &Store, body: &Value) -> Result<Value> {
    let b: TopoBody = decode(body, Error::JsonDecode)?;
    let groups = store.instance_topology(
        b.bk_obj_id.as_deref().unwrap_or(""),
        b.bk_inst_id.unwrap_or(0),
    )?;
    to_json(&groups)
}
