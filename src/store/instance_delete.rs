//! Deleting instances: bk-cmdb's refuse-while-linked rule, and
//! removing every association of an instance.
//!
//! Both start by locking the shards of the instances *and of all their
//! partners* (see "Lock order" in [`crate::store`]): the partners are found
//! under the instances' own shard locks, and if one lives in a shard not yet
//! held, the locks are released and taken again with that shard added.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::Store;
use super::commit::Held;
use super::locks::WriteSet;
use super::read::render;
use crate::catalog::AssocEntry;
use crate::effect::Effect;
use crate::error::{Error, Result};
use crate::index::StoredRecord;
use crate::keys::{AssocKey, ModelKey};
use crate::models::ModelEntry;
use crate::record::InstanceAssociation;

/// One record touching an instance, seen from that instance.
pub(super) struct Link {
    pub(super) id: i64,
    /// The instance being deleted (or cleared).
    pub(super) inst: i64,
    /// Whether `inst` is the record's source (else its target).
    pub(super) as_source: bool,
    pub(super) rec: StoredRecord,
    pub(super) partner_model: ModelKey,
    pub(super) partner: i64,
}

impl Link {
    /// Whether this is a self-link of the instance (A→A).
    pub(super) fn is_own(&self, model: ModelKey) -> bool {
        self.partner_model == model && self.partner == self.inst
    }
}

/// The model associations touching one model, by key.
pub(super) type AssocMap = HashMap<AssocKey, Arc<AssocEntry>>;

impl Store {
    /// Deletes one instance; `Ok(false)` when it was not registered.
    ///
    /// Refused while any association links it to *another* instance that
    /// still exists. Its links to itself (A→A) are removed with
    /// it.
    ///
    /// ```
    /// use assocstore::{Mapping, NewModelAssociation, Store};
    /// let store = Store::new();
    /// store.create_model_association(&NewModelAssociation::new("a", "run", "b", Mapping::ManyToMany))?;
    /// store.register_instances("a", [1])?;
    /// store.register_instances("b", [2])?;
    /// store.create_instance_association("a_run_b", 1, 2)?;
    /// assert_eq!(store.delete_instance("a", 1).unwrap_err().code(), 1_101_075);
    /// # Ok::<(), assocstore::Error>(())
    /// ```
    ///
    /// # Errors
    /// 1199010 `'bk_obj_id' unassigned` for an empty model; 1101075 `the inst
    /// has association` while linked; 1199061 when a durable store cannot
    /// write its journal.
    pub fn delete_instance(&self, bk_obj_id: &str, bk_inst_id: i64) -> Result<bool> {
        Ok(self.delete_instances(bk_obj_id, [bk_inst_id])? == 1)
    }

    /// Deletes many instances of one model, all or none, and returns how
    /// many existed. An instance linked to another one of the same call
    /// still counts as linked (that one still exists when checked), as in
    /// bk-cmdb.
    ///
    /// # Errors
    /// As [`Store::delete_instance`]; one linked instance refuses the whole
    /// call.
    pub fn delete_instances(
        &self,
        bk_obj_id: &str,
        ids: impl IntoIterator<Item = i64>,
    ) -> Result<usize> {
        let _writing = self.writable()?;
        let Some(model) = self.model_to_clear(bk_obj_id)? else {
            return Ok(0);
        };
        let ids = sorted_ids(ids);
        let (mut set, assocs, links) = self.lock_links(&model, &ids);
        for link in &links {
            let partner_shard = set.get(self.shard_index(link.partner));
            if !link.is_own(model.key)
                && partner_shard.has_instance(link.partner_model, link.partner)
            {
                return Err(Error::InstanceHasAssociation);
            }
        }
        let (mut effects, _) = unlinks(&assocs, links);
        let before = effects.len();
        for &inst in &ids {
            if set
                .get(self.shard_index(inst))
                .has_instance(model.key, inst)
            {
                effects.push(Effect::Unregister {
                    model: Arc::clone(&model),
                    inst,
                });
            }
        }
        let deleted = effects.len() - before;
        self.commit(Held::shards(&mut set), &effects)?;
        drop(set);
        self.after_write();
        Ok(deleted)
    }

    /// Removes every association in which instance `bk_inst_id` of model
    /// `bk_obj_id` is source or target, atomically, and returns them in id
    /// order. The instance itself stays registered.
    ///
    /// ```
    /// use assocstore::{Mapping, NewModelAssociation, Store};
    /// let store = Store::new();
    /// store.create_model_association(&NewModelAssociation::new("a", "run", "b", Mapping::ManyToMany))?;
    /// store.register_instances("a", [1])?;
    /// store.register_instances("b", [2, 3])?;
    /// store.create_instance_association("a_run_b", 1, 2)?;
    /// store.create_instance_association("a_run_b", 1, 3)?;
    /// assert_eq!(store.delete_instance_associations_of("b", 3)?.len(), 1);
    /// assert_eq!(store.delete_instance_associations_of("a", 1)?.len(), 1);
    /// assert!(store.delete_instance("a", 1)?);
    /// # Ok::<(), assocstore::Error>(())
    /// ```
    ///
    /// # Errors
    /// 1199010 `'bk_obj_id' unassigned` for an empty model.
    pub fn delete_instance_associations_of(
        &self,
        bk_obj_id: &str,
        bk_inst_id: i64,
    ) -> Result<Vec<InstanceAssociation>> {
        let _writing = self.writable()?;
        let Some(model) = self.model_to_clear(bk_obj_id)? else {
            return Ok(Vec::new());
        };
        let (mut set, assocs, links) = self.lock_links(&model, &[bk_inst_id]);
        let (effects, removed) = unlinks(&assocs, links);
        self.commit(Held::shards(&mut set), &effects)?;
        drop(set);
        self.after_write();
        Ok(removed)
    }

    fn model_to_clear(&self, bk_obj_id: &str) -> Result<Option<Arc<ModelEntry>>> {
        if bk_obj_id.is_empty() {
            return Err(Error::unassigned("bk_obj_id"));
        }
        Ok(self.models.lookup(bk_obj_id))
    }

    /// Write-locks the shards of `ids` and of every partner they have, and
    /// returns the locks, the model associations touching `model`, and the
    /// links. Retries (see the module docs) until the set covers every
    /// partner and no model association appeared meanwhile.
    fn lock_links(&self, model: &ModelEntry, ids: &[i64]) -> (WriteSet<'_>, AssocMap, Vec<Link>) {
        let mut extra: Vec<usize> = Vec::new();
        loop {
            let generation = self.catalog_generation.load(Ordering::Acquire);
            let assocs: AssocMap = self
                .catalog
                .read()
                .touching(model.key)
                .into_iter()
                .map(|a| (a.key, a))
                .collect();
            let own = ids.iter().map(|&id| self.shard_index(id));
            let set = self.write_shards(own.chain(extra.iter().copied()));
            if generation != self.catalog_generation.load(Ordering::Acquire) {
                continue;
            }
            let links = self.links_of(&set, &assocs, model.key, ids);
            let missing: Vec<usize> = links
                .iter()
                .map(|l| self.shard_index(l.partner))
                .filter(|&s| !set.holds(s))
                .collect();
            if missing.is_empty() {
                return (set, assocs, links);
            }
            extra.extend(missing);
        }
    }

    /// Every record in which one of `ids` (instances of `model`) takes part.
    pub(super) fn links_of(
        &self,
        set: &WriteSet<'_>,
        assocs: &AssocMap,
        model: ModelKey,
        ids: &[i64],
    ) -> Vec<Link> {
        let mut links = Vec::new();
        for &inst in ids {
            let shard = set.get(self.shard_index(inst));
            for a in assocs.values() {
                if a.src_model == model {
                    links.extend(shard.out.get(a.key, inst).iter().map(|p| Link {
                        id: p.id,
                        inst,
                        as_source: true,
                        rec: StoredRecord {
                            assoc: a.key,
                            src: inst,
                            dst: p.other,
                        },
                        partner_model: a.dst_model,
                        partner: p.other,
                    }));
                }
                if a.dst_model == model {
                    links.extend(shard.inn.get(a.key, inst).iter().map(|p| Link {
                        id: p.id,
                        inst,
                        as_source: false,
                        rec: StoredRecord {
                            assoc: a.key,
                            src: p.other,
                            dst: inst,
                        },
                        partner_model: a.src_model,
                        partner: p.other,
                    }));
                }
            }
        }
        links
    }
}

/// The effects removing the records of `links` (each once, though a record
/// between two of the instances shows up twice), and those records in id
/// order.
pub(super) fn unlinks(
    assocs: &AssocMap,
    mut links: Vec<Link>,
) -> (Vec<Effect>, Vec<InstanceAssociation>) {
    links.sort_unstable_by_key(|l| l.id);
    links.dedup_by_key(|l| l.id);
    let mut effects = Vec::with_capacity(links.len());
    let mut removed = Vec::with_capacity(links.len());
    for link in links {
        let Some(a) = assocs.get(&link.rec.assoc) else {
            continue;
        };
        removed.push(render(a, link.rec.src, link.rec.dst, link.id));
        effects.push(Effect::Unlink {
            assoc: Arc::clone(a),
            id: link.id,
            src: link.rec.src,
            dst: link.rec.dst,
        });
    }
    (effects, removed)
}

/// Ids sorted and deduplicated.
pub(super) fn sorted_ids(ids: impl IntoIterator<Item = i64>) -> Vec<i64> {
    let mut ids: Vec<i64> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}
