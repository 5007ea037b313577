//! Creating and deleting instance associations on the wire.

use serde::Deserialize;
use serde_json::{Value, json};

use super::decode::{decode, object_or_null, path_int};
use crate::batch::BatchCreate;
use crate::error::{Error, Result};
use crate::store::Store;

#[derive(Deserialize, Default)]
#[serde(default)]
struct AddBody {
    bk_obj_asst_id: Option<String>,
    bk_inst_id: Option<i64>,
    bk_asst_inst_id: Option<i64>,
}

/// `add_instance_association` → `{"id": n}`. A body that does not decode is
/// 1199006 `Deserializing JSON data failed`, as bk-cmdb re-wraps it.
pub(super) fn add_instance_association(store: &Store, body: &Value) -> Result<Value> {
    let b: AddBody = decode(body, Error::BodyInvalid)?;
    let id = store.create_instance_association(
        b.bk_obj_asst_id.as_deref().unwrap_or(""),
        b.bk_inst_id.unwrap_or(0),
        b.bk_asst_inst_id.unwrap_or(0),
    )?;
    Ok(json!({ "id": id }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Detail {
    bk_inst_id: Option<i64>,
    bk_asst_inst_id: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct BatchBody {
    bk_obj_id: Option<String>,
    bk_asst_obj_id: Option<String>,
    bk_obj_asst_id: Option<String>,
    details: Option<Vec<Option<Detail>>>,
    idempotent: Option<bool>,
    atomic: Option<bool>,
}

/// `batch_create_instance_association` →
/// `{"success_created": {"0": id}, "error_msg": {"1": "…"}}`, keys being
/// `details` indexes. With `"idempotent": true` an `"existing"` map lists the
/// items whose triple already existed (they are in `success_created` too);
/// with `"atomic": true` a `"rolled_back"` list names the valid items not
/// inserted because another failed.
pub(super) fn batch_create_instance_association(store: &Store, body: &Value) -> Result<Value> {
    let b: BatchBody = decode(body, Error::JsonDecode)?;
    let details = b.details.unwrap_or_default().into_iter().map(|d| {
        let d = d.unwrap_or_default();
        (d.bk_inst_id.unwrap_or(0), d.bk_asst_inst_id.unwrap_or(0))
    });
    let req = BatchCreate::new(
        b.bk_obj_id.unwrap_or_default(),
        b.bk_asst_obj_id.unwrap_or_default(),
        b.bk_obj_asst_id.unwrap_or_default(),
        details,
    )
    .idempotent(b.idempotent.unwrap_or(false))
    .atomic(b.atomic.unwrap_or(false));
    let out = store.batch_create_instance_associations(&req)?;
    let mut data = json!({
        "success_created": out.success_created(),
        "error_msg": out.error_msg(),
    });
    if req.idempotent {
        data["existing"] = json!(out.existing());
    }
    if req.atomic {
        data["rolled_back"] = json!(out.rolled_back());
    }
    Ok(data)
}

/// `delete_instance_association` (`{bk_obj_id, id}`) → `null`, also when
/// nothing was deleted. `id` may be a number or a string of digits (it is a
/// path parameter in bk-cmdb); anything else is 1199009 naming
/// `association_id`.
pub(super) fn delete_instance_association(store: &Store, body: &Value) -> Result<Value> {
    let body = object_or_null(body, Error::JsonDecode)?;
    let model = match body.get("bk_obj_id") {
        None | Some(Value::Null) => "",
        Some(Value::String(s)) => s.as_str(),
        Some(_) => return Err(Error::JsonDecode),
    };
    if model.is_empty() {
        return Err(Error::unassigned("bk_obj_id"));
    }
    let id = path_int(body.get("id")).ok().flatten();
    let id = id.ok_or_else(|| Error::ParamNotInteger {
        field: "association_id".into(),
    })?;
    store.delete_instance_association(model, id)?;
    Ok(Value::Null)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DeleteManyBody {
    bk_obj_id: Option<String>,
    id: Option<Vec<i64>>,
}

/// `delete_related_inst_asso` (`{bk_obj_id, id: [..]}`) → the number deleted.
pub(super) fn delete_related_inst_asso(store: &Store, body: &Value) -> Result<Value> {
    let b: DeleteManyBody = decode(body, Error::BodyInvalid)?;
    let ids = b.id.unwrap_or_default();
    let deleted = store.delete_instance_associations(b.bk_obj_id.as_deref().unwrap_or(""), &ids)?;
    Ok(json!(deleted))
}
