//! Deleting instance associations by id.

use std::collections::HashMap;
use std::sync::Arc;

use super::commit::Held;
use super::{DELETE_LIMIT, Store};
use crate::catalog::AssocEntry;
use crate::effect::Effect;
use crate::error::{Error, Result};
use crate::index::StoredRecord;
use crate::keys::AssocKey;

impl Store {
    /// Deletes record `id` if it touches model `bk_obj_id` (as source or
    /// target model). Returns whether a record was deleted; a missing id, or
    /// one that does not touch the model, is a silent success (`false`).
    ///
    /// ```
    /// let store = assocstore::Store::new();
    /// assert_eq!(store.delete_instance_association("host", 42)?, false);
    /// # Ok::<(), assocstore::Error>(())
    /// ```
    ///
    /// # Errors
    /// 1199010 `'bk_obj_id' unassigned` for an empty model; 1199061 when a
    /// durable store cannot write its journal.
    pub fn delete_instance_association(&self, bk_obj_id: &str, id: i64) -> Result<bool> {
        let _writing = self.writable()?;
        if bk_obj_id.is_empty() {
            return Err(Error::unassigned("bk_obj_id"));
        }
        Ok(self.delete_touching(bk_obj_id, &[id])? == 1)
    }

    /// Deletes the records with the given ids that touch model `bk_obj_id`,
    /// atomically, and returns how many were deleted. Unknown ids, and ids
    /// of records not touching the model, are ignored.
    ///
    /// ```
    /// let store = assocstore::Store::new();
    /// assert_eq!(store.delete_instance_associations("host", &[1, 2])?, 0);
    /// assert_eq!(store.delete_instance_associations("host", &[]).unwrap_err().code(), 1_199_003);
    /// # Ok::<(), assocstore::Error>(())
    /// ```
    ///
    /// # Errors
    /// In this order: no ids → 1199003; more than 500 → 1199059; empty model
    /// → 1199010 `'bk_obj_id' unassigned`; 1199061 when a durable store
    /// cannot write its journal.
    pub fn delete_instance_associations(&self, bk_obj_id: &str, ids: &[i64]) -> Result<usize> {
        let _writing = self.writable()?;
        if ids.is_empty() {
            return Err(Error::InvalidInput);
        }
        if ids.len() > DELETE_LIMIT {
            return Err(Error::PageLimitExceeded);
        }
        if bk_obj_id.is_empty() {
            return Err(Error::unassigned("bk_obj_id"));
        }
        self.delete_touching(bk_obj_id, ids)
    }

    /// Deletes, under one set of shard locks, those of `ids` that exist and
    /// touch `model`.
    fn delete_touching(&self, model: &str, ids: &[i64]) -> Result<usize> {
        let Some(model) = self.models.lookup(model) else {
            return Ok(0);
        };
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let found: Vec<(i64, StoredRecord)> = ids
            .iter()
            .filter_map(|&id| Some((id, self.records.get(id)?)))
            .collect();
        let assocs: HashMap<AssocKey, Arc<AssocEntry>> = {
            let catalog = self.catalog.read();
            found
                .iter()
                .filter_map(|(_, r)| catalog.entry(r.assoc))
                .filter(|a| a.touches(model.key))
                .map(|a| (a.key, Arc::clone(a)))
                .collect()
        };
        let doomed: Vec<(i64, StoredRecord)> = found
            .into_iter()
            .filter(|(_, r)| assocs.contains_key(&r.assoc))
            .collect();
        if doomed.is_empty() {
            return Ok(0);
        }
        let insts = doomed.iter().flat_map(|(_, r)| [r.src, r.dst]);
        let mut set = self.write_insts(insts);
        // A record read before the locks may have been deleted since; ids
        // are never reused, so if it is still live it is the same record.
        let unlinks: Vec<Effect> = doomed
            .into_iter()
            .filter(|&(id, rec)| self.records.get(id) == Some(rec))
            .filter_map(|(id, rec)| {
                Some(Effect::Unlink {
                    assoc: Arc::clone(assocs.get(&rec.assoc)?),
                    id,
                    src: rec.src,
                    dst: rec.dst,
                })
            })
            .collect();
        self.commit(Held::shards(&mut set), &unlinks)?;
        drop(set);
        self.after_write();
        Ok(unlinks.len())
    }
}
