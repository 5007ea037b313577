//! Allocation-free reads: associations as compact [`Edge`]s written into a
//! buffer the caller keeps, for hot loops that do not need the model names.

use std::sync::Arc;

use super::Store;
use crate::catalog::AssocEntry;
use crate::error::{Error, Result};
use crate::index::{Posting, Role};

/// One association without its names: the record id, its model
/// association's id (as [`crate::ModelAssociation::id`]), and the endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Edge {
    /// Record id.
    pub id: i64,
    /// The model association's id.
    pub model_association: i64,
    /// Source instance.
    pub bk_inst_id: i64,
    /// Target instance.
    pub bk_asst_inst_id: i64,
}

impl Store {
    /// The record with id `id` as an [`Edge`], if it exists: what
    /// [`Store::instance_association`] returns, without the names, read
    /// without taking any lock.
    ///
    /// ```
    /// use assocstore::{Mapping, NewModelAssociation, Store};
    /// let store = Store::new();
    /// let a = store.create_model_association(&NewModelAssociation::new("a", "run", "b", Mapping::ManyToMany))?;
    /// store.register_instances("a", [1])?;
    /// store.register_instances("b", [2])?;
    /// let id = store.create_instance_association("a_run_b", 1, 2)?;
    /// let edge = store.edge(id).unwrap();
    /// assert_eq!((edge.model_association, edge.bk_inst_id, edge.bk_asst_inst_id), (a, 1, 2));
    /// assert!(store.edge(id + 1).is_none());
    /// # Ok::<(), assocstore::Error>(())
    /// ```
    #[must_use]
    pub fn edge(&self, id: i64) -> Option<Edge> {
        let rec = self.records.get(id)?;
        Some(Edge {
            id,
            model_association: rec.assoc.model_association_id(),
            bk_inst_id: rec.src,
            bk_asst_inst_id: rec.dst,
        })
    }

    /// Replaces the contents of `out` with the records of model association
    /// `bk_obj_asst_id` whose source is `bk_inst_id`, in id order. Reuse one
    /// buffer across calls and the read allocates nothing.
    ///
    /// ```
    /// use assocstore::{Edge, Mapping, NewModelAssociation, Store};
    /// let store = Store::new();
    /// let a = store.create_model_association(&NewModelAssociation::new("a", "run", "b", Mapping::ManyToMany))?;
    /// store.register_instances("a", [1])?;
    /// store.register_instances("b", [2, 3])?;
    /// store.create_instance_association("a_run_b", 1, 3)?;
    /// store.create_instance_association("a_run_b", 1, 2)?;
    /// let mut edges = Vec::new();
    /// store.edges_from("a_run_b", 1, &mut edges)?;
    /// assert_eq!(edges.iter().map(|e| e.bk_asst_inst_id).collect::<Vec<_>>(), [3, 2]);
    /// assert!(edges.iter().all(|e| e.model_association == a));
    /// # Ok::<(), assocstore::Error>(())
    /// ```
    ///
    /// # Errors
    /// 1101046 when the model association does not exist.
    pub fn edges_from(
        &self,
        bk_obj_asst_id: &str,
        bk_inst_id: i64,
        out: &mut Vec<Edge>,
    ) -> Result<()> {
        self.edges(bk_obj_asst_id, bk_inst_id, Role::Source, out)
    }

    /// Replaces the contents of `out` with the records of model association
    /// `bk_obj_asst_id` whose target is `bk_asst_inst_id`, in id order.
    ///
    /// # Errors
    /// 1101046 when the model association does not exist.
    pub fn edges_to(
        &self,
        bk_obj_asst_id: &str,
        bk_asst_inst_id: i64,
        out: &mut Vec<Edge>,
    ) -> Result<()> {
        self.edges(bk_obj_asst_id, bk_asst_inst_id, Role::Target, out)
    }

    /// The records of `bk_obj_asst_id` where `inst` plays `role`, into `out`.
    fn edges(
        &self,
        bk_obj_asst_id: &str,
        inst: i64,
        role: Role,
        out: &mut Vec<Edge>,
    ) -> Result<()> {
        // One lock: the shard's copy of the name index resolves the model
        // association, so the catalog lock is not taken (see "Lock order").
        let shard = self.read_one(self.shard_index(inst));
        let key = shard
            .assoc_by_name(bk_obj_asst_id)
            .ok_or(Error::ModelAssociationNotFound)?;
        let model_association = key.model_association_id();
        out.clear();
        let map = match role {
            Role::Source => &shard.out,
            Role::Target => &shard.inn,
        };
        let edge = |p: Posting| {
            let (src, dst) = match role {
                Role::Source => (inst, p.other),
                Role::Target => (p.other, inst),
            };
            Edge {
                id: p.id,
                model_association,
                bk_inst_id: src,
                bk_asst_inst_id: dst,
            }
        };
        map.get(key, inst).map_into(out, edge);
        Ok(())
    }

    /// Replaces the contents of `out` with every record touching model
    /// `bk_obj_id` (as source or target model), in id order: what
    /// [`Store::find_instance_associations`] with [`crate::Condition::all`]
    /// returns, without the names.
    ///
    /// # Errors
    /// 1199010 `'bk_obj_id' unassigned` for an empty model.
    pub fn edges_of_model(&self, bk_obj_id: &str, out: &mut Vec<Edge>) -> Result<()> {
        if bk_obj_id.is_empty() {
            return Err(Error::unassigned("bk_obj_id"));
        }
        out.clear();
        let Some(model) = self.models.lookup(bk_obj_id) else {
            return Ok(());
        };
        let assocs = self.catalog.read().touching(model.key);
        self.scan_assocs(&assocs, |a, id, src, dst| {
            out.push(Edge {
                id,
                model_association: a.id,
                bk_inst_id: src,
                bk_asst_inst_id: dst,
            });
        });
        Ok(())
    }

    /// Calls `f(assoc, id, src, dst)` on every record of `assocs`, in id
    /// order, under one consistent snapshot (every shard read-locked).
    ///
    /// When those model associations hold a large share of all the ids ever
    /// handed out, it walks the record table in id order (sequential memory,
    /// no sort); otherwise (few of them, or a table full of deleted slots) it
    /// walks their posting lists and sorts.
    pub(super) fn scan_assocs(
        &self,
        assocs: &[Arc<AssocEntry>],
        mut f: impl FnMut(&AssocEntry, i64, i64, i64),
    ) {
        if assocs.is_empty() {
            return;
        }
        let set = self.read_all();
        let wanted: u64 = assocs.iter().map(|a| a.live()).sum();
        // The table walk costs every slot ever handed out, dead ones too.
        let last = self.last_id.load(std::sync::atomic::Ordering::Acquire);
        if wanted.saturating_mul(8) >= last as u64 {
            let max_key = assocs.iter().map(|a| a.key.0 as usize).max().unwrap_or(0);
            let mut by_key: Vec<Option<&AssocEntry>> = vec![None; max_key + 1];
            for a in assocs {
                by_key[a.key.0 as usize] = Some(a);
            }
            self.records.scan(last, |id, rec| {
                if let Some(Some(a)) = by_key.get(rec.assoc.0 as usize) {
                    f(a, id, rec.src, rec.dst);
                }
            });
            drop(set);
            return;
        }
        let mut found: Vec<(i64, usize, i64, i64)> = Vec::with_capacity(wanted as usize);
        for (_, shard) in set.all() {
            for (i, a) in assocs.iter().enumerate() {
                for (src, list) in shard.out.iter_assoc(a.key) {
                    found.extend(list.iter().map(|p| (p.id, i, src, p.other)));
                }
            }
        }
        drop(set);
        found.sort_unstable_by_key(|r| r.0);
        for (id, i, src, dst) in found {
            f(&assocs[i], id, src, dst);
        }
    }
}
