//! Reads: by id and `find_instance_association` (SPEC §3.4).

use std::collections::HashMap;
use std::sync::Arc;

use super::Store;
use crate::catalog::AssocEntry;
use crate::condition::Condition;
use crate::error::{Error, Result};
use crate::keys::AssocKey;
use crate::record::InstanceAssociation;

impl Store {
    /// The record with id `id`, if it exists.
    ///
    /// ```
    /// assert!(assocstore::Store::new().instance_association(1).is_none());
    /// ```
    pub fn instance_association(&self, id: i64) -> Option<InstanceAssociation> {
        let rec = self.records.get(id)?;
        let catalog = self.catalog.read();
        let assoc = catalog.entry(rec.assoc)?;
        Some(render(assoc, rec.src, rec.dst, id))
    }

    /// Every record touching model `bk_obj_id` (as source or target model)
    /// that satisfies `condition`, in id order, unpaged.
    ///
    /// Top-level equalities on `bk_inst_id` or `bk_asst_inst_id` are answered
    /// from the posting lists of that one instance, and on `bk_obj_asst_id`
    /// narrow the scan to that model association; other conditions filter a
    /// scan of the model associations touching the model.
    ///
    /// ```
    /// use assocstore::{Condition, Store};
    /// let store = Store::new();
    /// let cond = Condition::from_json(&serde_json::json!({"bk_obj_asst_id": "a_run_b"}))?;
    /// assert!(store.find_instance_associations("a", &cond)?.is_empty());
    /// # Ok::<(), assocstore::Error>(())
    /// ```
    ///
    /// # Errors
    /// 1199010 `'bk_obj_id' unassigned` for an empty model.
    pub fn find_instance_associations(
        &self,
        bk_obj_id: &str,
        condition: &Condition,
    ) -> Result<Vec<InstanceAssociation>> {
        if bk_obj_id.is_empty() {
            return Err(Error::unassigned("bk_obj_id"));
        }
        let Some(model) = self.models.lookup(bk_obj_id) else {
            return Ok(Vec::new());
        };
        let pins = condition.pins();
        let assocs: HashMap<AssocKey, Arc<AssocEntry>> = self
            .catalog
            .read()
            .touching(model.key)
            .into_iter()
            .filter(|a| {
                pins.obj_asst_id
                    .as_deref()
                    .is_none_or(|n| *a.obj_asst_id == *n)
            })
            .map(|a| (a.key, a))
            .collect();
        let mut found = Vec::new();
        let mut keep = |rec: InstanceAssociation| {
            if condition.matches(&rec) {
                found.push(rec);
            }
        };
        match (pins.src, pins.dst) {
            (Some(src), _) => {
                let shard = self.read_one(self.shard_index(src));
                for a in assocs.values() {
                    for p in shard.out.get(a.key, src) {
                        keep(render(a, src, p.other, p.id));
                    }
                }
            }
            (None, Some(dst)) => {
                let shard = self.read_one(self.shard_index(dst));
                for a in assocs.values() {
                    for p in shard.inn.get(a.key, dst) {
                        keep(render(a, p.other, dst, p.id));
                    }
                }
            }
            (None, None) if !assocs.is_empty() => {
                let set = self.read_all();
                for (_, shard) in set.all() {
                    for a in assocs.values() {
                        for (src, list) in shard.out.iter_assoc(a.key) {
                            for p in list {
                                keep(render(a, src, p.other, p.id));
                            }
                        }
                    }
                }
            }
            (None, None) => {}
        }
        found.sort_unstable_by_key(|r| r.id);
        Ok(found)
    }

    /// The number of instance associations.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether the store holds no instance association.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The public record for (`a`, `src`, `dst`, `id`).
pub(super) fn render(a: &AssocEntry, src: i64, dst: i64, id: i64) -> InstanceAssociation {
    InstanceAssociation {
        id,
        bk_inst_id: src,
        bk_obj_id: Arc::clone(&a.src_name),
        bk_asst_inst_id: dst,
        bk_asst_obj_id: Arc::clone(&a.dst_name),
        bk_obj_asst_id: Arc::clone(&a.obj_asst_id),
        bk_asst_id: Arc::clone(&a.kind),
    }
}
