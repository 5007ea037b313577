//! The instance association record as callers see it.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// One instance association: a directed edge from instance `bk_inst_id` of
/// model `bk_obj_id` to instance `bk_asst_inst_id` of model `bk_asst_obj_id`,
/// under model association `bk_obj_asst_id` of kind `bk_asst_id`.
///
/// Serializes with bk-cmdb's keys in bk-cmdb's order, zero and empty values
/// omitted. The strings are shared with the store (`Arc<str>`), so a record is
/// cheap to hand out; the store itself keeps only interned keys and ids.
///
/// ```
/// # use std::sync::Arc;
/// let rec = assocstore::InstanceAssociation {
///     id: 1, bk_inst_id: 11, bk_obj_id: Arc::from("bk_switch"), bk_asst_inst_id: 21,
///     bk_asst_obj_id: Arc::from("host"), bk_obj_asst_id: Arc::from("bk_switch_belong_host"),
///     bk_asst_id: Arc::from("belong"),
/// };
/// assert_eq!(
///     serde_json::to_string(&rec).unwrap(),
///     r#"{"id":1,"bk_inst_id":11,"bk_obj_id":"bk_switch","bk_asst_inst_id":21,"bk_asst_obj_id":"host","bk_obj_asst_id":"bk_switch_belong_host","bk_asst_id":"belong"}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct InstanceAssociation {
    /// Record id, from the store's global sequence.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub id: i64,
    /// Source instance.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub bk_inst_id: i64,
    /// Source model, copied from the model association.
    #[serde(default = "empty", skip_serializing_if = "is_empty")]
    pub bk_obj_id: Arc<str>,
    /// Target instance.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub bk_asst_inst_id: i64,
    /// Target model, copied from the model association.
    #[serde(default = "empty", skip_serializing_if = "is_empty")]
    pub bk_asst_obj_id: Arc<str>,
    /// Model association id.
    #[serde(default = "empty", skip_serializing_if = "is_empty")]
    pub bk_obj_asst_id: Arc<str>,
    /// Association kind, copied from the model association.
    #[serde(default = "empty", skip_serializing_if = "is_empty")]
    pub bk_asst_id: Arc<str>,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_zero(v: &i64) -> bool {
    *v == 0
}

fn is_empty(v: &Arc<str>) -> bool {
    v.is_empty()
}

fn empty() -> Arc<str> {
    Arc::from("")
}
