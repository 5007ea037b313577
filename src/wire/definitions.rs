//! Kinds, model associations and instances on the wire.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::decode::{decode, object_or_null, path_int};
use crate::error::{Error, Result};
use crate::kind::{AssociationKind, Direction};
use crate::model_association::{NewModelAssociation, OnDelete};
use crate::store::Store;

#[derive(Deserialize, Default)]
#[serde(default)]
struct KindBody {
    bk_asst_id: Option<String>,
    bk_asst_name: Option<String>,
    src_des: Option<String>,
    dest_des: Option<String>,
    direction: Option<String>,
}

/// `create_association_type` → `{"id": n}`.
pub(super) fn create_association_type(store: &Store, body: &Value) -> Result<Value> {
    let b: KindBody = decode(body, Error::JsonDecode)?;
    let direction = match b.direction.as_deref().unwrap_or("") {
        "" => Direction::default(),
        d => Direction::parse(d)?,
    };
    let kind = AssociationKind {
        id: 0,
        bk_asst_id: b.bk_asst_id.unwrap_or_default(),
        bk_asst_name: b.bk_asst_name.unwrap_or_default(),
        src_des: b.src_des.unwrap_or_default(),
        dest_des: b.dest_des.unwrap_or_default(),
        direction,
        ispre: false,
    };
    Ok(json!({ "id": store.create_association_kind(kind)? }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ModelAssociationBody {
    bk_obj_asst_id: Option<String>,
    bk_obj_asst_name: Option<String>,
    bk_obj_id: Option<String>,
    bk_asst_obj_id: Option<String>,
    bk_asst_id: Option<String>,
    mapping: Option<String>,
    on_delete: Option<String>,
}

/// `create_object_association` → `{"id": n}`. A `mapping` or `on_delete`
/// outside its values is refused while decoding (1199006 naming it).
pub(super) fn create_object_association(store: &Store, body: &Value) -> Result<Value> {
    let b: ModelAssociationBody = decode(body, Error::JsonDecode)?;
    let mapping = b.mapping.as_deref().unwrap_or("").parse()?;
    let on_delete: OnDelete = b.on_delete.as_deref().unwrap_or("").parse()?;
    let new = NewModelAssociation {
        bk_obj_asst_id: b.bk_obj_asst_id.unwrap_or_default(),
        bk_obj_asst_name: b.bk_obj_asst_name.unwrap_or_default(),
        bk_obj_id: b.bk_obj_id.unwrap_or_default(),
        bk_asst_obj_id: b.bk_asst_obj_id.unwrap_or_default(),
        bk_asst_id: b.bk_asst_id.unwrap_or_default(),
        mapping,
        on_delete,
    };
    Ok(json!({ "id": store.create_model_association(&new)? }))
}

/// `delete_object_association` (`{id}`) → `null`; an unknown id is a
/// silent success.
pub(super) fn delete_object_association(store: &Store, body: &Value) -> Result<Value> {
    let body = object_or_null(body, Error::JsonDecode)?;
    let id = path_int(body.get("id")).map_err(|()| Error::JsonDecode)?;
    store.delete_model_association(id.unwrap_or(0))?;
    Ok(Value::Null)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FindModelAssociationBody {
    condition: Option<Map<String, Value>>,
}

/// `find_object_association` (`{condition: {bk_obj_id?, bk_asst_obj_id?,
/// bk_asst_id?, …}}`) → the model associations equal to every given key
/// (an empty string counts as not given), in id order.
pub(super) fn find_object_association(store: &Store, body: &Value) -> Result<Value> {
    let b: FindModelAssociationBody = decode(body, Error::JsonDecode)?;
    let condition = b.condition.unwrap_or_default();
    let mut found = Vec::new();
    for assoc in store.model_associations() {
        let record = serde_json::to_value(&assoc).map_err(|_| Error::JsonDecode)?;
        let matches = condition
            .iter()
            .filter(|(_, want)| !matches!(want, Value::Null) && want.as_str() != Some(""))
            .all(|(key, want)| record.get(key) == Some(want));
        if matches {
            found.push(record);
        }
    }
    Ok(Value::Array(found))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CreateInstBody {
    bk_obj_id: Option<String>,
    bk_inst_name: Option<String>,
    bk_inst_id: Option<i64>,
}

/// `create_inst` → `{"bk_inst_id": id}`; an omitted (or 0) id is allocated.
pub(super) fn create_inst(store: &Store, body: &Value) -> Result<Value> {
    let b: CreateInstBody = decode(body, Error::JsonDecode)?;
    let id = b.bk_inst_id.filter(|&id| id != 0);
    let name = b.bk_inst_name.filter(|n| !n.is_empty());
    let model = b.bk_obj_id.unwrap_or_default();
    let id = store.register_instance(&model, id, name.as_deref())?;
    Ok(json!({ "bk_inst_id": id }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DeleteInstBody {
    bk_obj_id: Option<String>,
    bk_inst_id: Option<i64>,
}

/// `delete_inst` (`{bk_obj_id, bk_inst_id}`) → `null`.
pub(super) fn delete_inst(store: &Store, body: &Value) -> Result<Value> {
    let b: DeleteInstBody = decode(body, Error::JsonDecode)?;
    let model = b.bk_obj_id.unwrap_or_default();
    store.delete_instance(&model, b.bk_inst_id.unwrap_or(0))?;
    Ok(Value::Null)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct InstIds {
    inst_ids: Option<Vec<i64>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct BatchDeleteInstBody {
    bk_obj_id: Option<String>,
    delete: Option<InstIds>,
}

/// `batch_delete_inst` (`{bk_obj_id, delete: {inst_ids}}`) → `null`; all or
/// none.
pub(super) fn batch_delete_inst(store: &Store, body: &Value) -> Result<Value> {
    let b: BatchDeleteInstBody = decode(body, Error::JsonDecode)?;
    let ids = b.delete.and_then(|d| d.inst_ids).unwrap_or_default();
    if ids.is_empty() {
        return Err(Error::InvalidInput);
    }
    let model = b.bk_obj_id.unwrap_or_default();
    store.delete_instances(&model, ids)?;
    Ok(Value::Null)
}
