//! Reads: by id and `find_instance_association`.

use std::sync::Arc;

use super::Store;
use crate::catalog::AssocEntry;
use crate::error::{Error, Result};
use crate::query::{Condition, Plan};
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
    /// Top-level equalities (and `$in`) on `id`, `bk_inst_id` or
    /// `bk_asst_inst_id` are answered from the index of those records or
    /// instances, and on `bk_obj_asst_id` narrow the scan to those model
    /// associations; other conditions filter a scan of the model
    /// associations touching the model.
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
        let assocs = self.catalog.read().touching(model.key);
        Ok(self.collect(&assocs, &condition.plan(), |r| condition.matches(r)))
    }

    /// Every record of the model associations `assocs` that `plan` allows
    /// and `keep` accepts, in id order.
    ///
    /// The plan picks the narrowest index: ids (records by id), then source
    /// or target instances (their posting lists, whichever names fewer
    /// instances), else a scan of the model associations' lists; named model
    /// associations narrow `assocs` first. Shards are read-locked together,
    /// so the answer is one consistent snapshot.
    pub(super) fn collect(
        &self,
        assocs: &[Arc<AssocEntry>],
        plan: &Plan,
        keep: impl Fn(&InstanceAssociation) -> bool,
    ) -> Vec<InstanceAssociation> {
        let named: Vec<Arc<AssocEntry>>;
        let assocs = match plan.obj_asst_ids.as_deref() {
            None => assocs,
            Some(names) => {
                named = assocs
                    .iter()
                    .filter(|a| names.iter().any(|n| **n == *a.obj_asst_id))
                    .cloned()
                    .collect();
                &named
            }
        };
        let mut found = Vec::new();
        let mut push = |rec: InstanceAssociation| {
            if keep(&rec) {
                found.push(rec);
            }
        };
        if assocs.is_empty() {
            return found;
        }
        let fewer_targets = match (&plan.sources, &plan.targets) {
            (Some(s), Some(t)) => t.len() < s.len(),
            (None, Some(_)) => true,
            _ => false,
        };
        if let Some(ids) = &plan.ids {
            for &id in ids {
                let Some(rec) = self.records.get(id) else {
                    continue;
                };
                if let Some(a) = assocs.iter().find(|a| a.key == rec.assoc) {
                    push(render(a, rec.src, rec.dst, id));
                }
            }
        } else if let (Some(targets), true) = (&plan.targets, fewer_targets) {
            let set = self.read_shards(targets.iter().map(|&t| self.shard_index(t)));
            for &dst in targets {
                let shard = set.get(self.shard_index(dst));
                for a in assocs {
                    for p in shard.inn.get(a.key, dst).iter() {
                        push(render(a, p.other, dst, p.id));
                    }
                }
            }
        } else if let Some(sources) = &plan.sources {
            let set = self.read_shards(sources.iter().map(|&s| self.shard_index(s)));
            for &src in sources {
                let shard = set.get(self.shard_index(src));
                for a in assocs {
                    for p in shard.out.get(a.key, src).iter() {
                        push(render(a, src, p.other, p.id));
                    }
                }
            }
        } else {
            self.scan_assocs(assocs, |a, id, src, dst| push(render(a, src, dst, id)));
            return found;
        }
        found.sort_unstable_by_key(|r| r.id);
        found
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
pub(crate) fn render(a: &AssocEntry, src: i64, dst: i64, id: i64) -> InstanceAssociation {
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
