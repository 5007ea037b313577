//! The instance registry: registering instances and deleting them with
//! bk-cmdb's refuse-while-linked rule (SPEC §3.1, §3.5).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::Store;
use super::locks::WriteSet;
use crate::catalog::AssocEntry;
use crate::error::{Error, Result};
use crate::index::{InstanceMeta, StoredRecord};
use crate::keys::{AssocKey, ModelKey};
use crate::models::ModelEntry;

/// One record touching an instance being deleted, seen from that instance.
struct Link {
    id: i64,
    /// The instance being deleted.
    inst: i64,
    rec: StoredRecord,
    partner_model: ModelKey,
    partner: i64,
}

impl Store {
    /// Registers one instance of model `bk_obj_id`, optionally with a name,
    /// and returns its id: `bk_inst_id` when given, else one above the
    /// highest id this model has seen.
    ///
    /// ```
    /// let store = assocstore::Store::new();
    /// assert_eq!(store.register_instance("host", Some(7), None)?, 7);
    /// assert_eq!(store.register_instance("host", None, Some("web-1"))?, 8);
    /// assert_eq!(store.register_instance("host", Some(7), None).unwrap_err().code(), 1_199_014);
    /// # Ok::<(), assocstore::Error>(())
    /// ```
    ///
    /// # Errors
    /// 1199010 `'bk_obj_id' unassigned` for an empty model; 1199006 naming
    /// `bk_inst_id` for an id ≤ 0 (or when ids are exhausted); 1199014
    /// `fields [bk_inst_id]` when the instance exists.
    pub fn register_instance(
        &self,
        bk_obj_id: &str,
        bk_inst_id: Option<i64>,
        bk_inst_name: Option<&str>,
    ) -> Result<i64> {
        let model = self.model_for_write(bk_obj_id)?;
        let meta = InstanceMeta {
            name: bk_inst_name.map(Box::from),
        };
        if let Some(id) = bk_inst_id {
            check_inst_id(id)?;
            let mut set = self.write_insts([id]);
            let shard = set.get_mut(self.shard_index(id));
            if shard.has_instance(model.key, id) {
                return Err(Error::duplicated("bk_inst_id"));
            }
            shard.instances.insert((model.key, id), meta);
            // After the insert: a refused call must not move `max + 1`. An
            // auto id racing this one finds `id` taken and draws again.
            model.observe(id);
            return Ok(id);
        }
        loop {
            let id = model
                .reserve_next()
                .ok_or_else(|| Error::invalid("bk_inst_id"))?;
            let mut set = self.write_insts([id]);
            let shard = set.get_mut(self.shard_index(id));
            if !shard.has_instance(model.key, id) {
                shard.instances.insert((model.key, id), meta);
                return Ok(id);
            }
        }
    }

    /// Registers many instances of one model, all or none, and returns how
    /// many were registered.
    ///
    /// ```
    /// let store = assocstore::Store::new();
    /// assert_eq!(store.register_instances("host", 1..=3)?, 3);
    /// assert!(store.register_instances("host", [4, 3]).is_err());
    /// assert!(!store.instance_exists("host", 4));
    /// # Ok::<(), assocstore::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Store::register_instance`]; a duplicate, in the store or in the
    /// list, fails the whole call with 1199014 and registers nothing.
    pub fn register_instances(
        &self,
        bk_obj_id: &str,
        ids: impl IntoIterator<Item = i64>,
    ) -> Result<usize> {
        let model = self.model_for_write(bk_obj_id)?;
        let mut ids: Vec<i64> = ids.into_iter().collect();
        ids.iter().try_for_each(|&id| check_inst_id(id))?;
        let count = ids.len();
        ids.sort_unstable();
        ids.dedup();
        if ids.len() != count {
            return Err(Error::duplicated("bk_inst_id"));
        }
        let mut set = self.write_insts(ids.iter().copied());
        for &id in &ids {
            if set.get(self.shard_index(id)).has_instance(model.key, id) {
                return Err(Error::duplicated("bk_inst_id"));
            }
        }
        for &id in &ids {
            let shard = set.get_mut(self.shard_index(id));
            shard
                .instances
                .insert((model.key, id), InstanceMeta::default());
        }
        if let Some(&max) = ids.last() {
            model.observe(max);
        }
        Ok(count)
    }

    /// Whether instance `bk_inst_id` of model `bk_obj_id` is registered.
    pub fn instance_exists(&self, bk_obj_id: &str, bk_inst_id: i64) -> bool {
        self.models.lookup(bk_obj_id).is_some_and(|m| {
            self.read_one(self.shard_index(bk_inst_id))
                .has_instance(m.key, bk_inst_id)
        })
    }

    /// The name an instance was registered with, if it exists and has one.
    pub fn instance_name(&self, bk_obj_id: &str, bk_inst_id: i64) -> Option<String> {
        let model = self.models.lookup(bk_obj_id)?;
        let shard = self.read_one(self.shard_index(bk_inst_id));
        let meta = shard.instances.get(&(model.key, bk_inst_id))?;
        meta.name.as_deref().map(str::to_owned)
    }

    /// Deletes one instance; `Ok(false)` when it was not registered.
    ///
    /// Refused while any association links it to *another* instance that
    /// still exists (SPEC §3.5). Associations whose partner no longer exists,
    /// and the instance's links to itself (A→A), are removed with it.
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
    /// has association` while linked.
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
        if bk_obj_id.is_empty() {
            return Err(Error::unassigned("bk_obj_id"));
        }
        let Some(model) = self.models.lookup(bk_obj_id) else {
            return Ok(0);
        };
        let mut ids: Vec<i64> = ids.into_iter().collect();
        ids.sort_unstable();
        ids.dedup();
        let mut extra: Vec<usize> = Vec::new();
        loop {
            let generation = self.catalog_generation.load(Ordering::Acquire);
            let assocs: HashMap<AssocKey, Arc<AssocEntry>> = self
                .catalog
                .read()
                .touching(model.key)
                .into_iter()
                .map(|a| (a.key, a))
                .collect();
            let own = ids.iter().map(|&id| self.shard_index(id));
            let mut set = self.write_shards(own.chain(extra.iter().copied()));
            if generation != self.catalog_generation.load(Ordering::Acquire) {
                continue;
            }
            let links = self.links_of(&set, &assocs, model.key, &ids);
            let missing: Vec<usize> = links
                .iter()
                .map(|l| self.shard_index(l.partner))
                .filter(|&s| !set.holds(s))
                .collect();
            if !missing.is_empty() {
                extra.extend(missing);
                continue;
            }
            for link in &links {
                let own = link.partner_model == model.key && link.partner == link.inst;
                let partner_shard = set.get(self.shard_index(link.partner));
                if !own && partner_shard.has_instance(link.partner_model, link.partner) {
                    return Err(Error::InstanceHasAssociation);
                }
            }
            self.remove_dangling(&mut set, &assocs, links);
            let mut deleted = 0;
            for &id in &ids {
                let shard = set.get_mut(self.shard_index(id));
                deleted += usize::from(shard.instances.remove(&(model.key, id)).is_some());
            }
            return Ok(deleted);
        }
    }

    /// Every record in which one of `ids` (instances of `model`) takes part.
    fn links_of(
        &self,
        set: &WriteSet<'_>,
        assocs: &HashMap<AssocKey, Arc<AssocEntry>>,
        model: ModelKey,
        ids: &[i64],
    ) -> Vec<Link> {
        let mut links = Vec::new();
        for &inst in ids {
            let shard = set.get(self.shard_index(inst));
            for a in assocs.values() {
                if a.src_model == model {
                    for p in shard.out.get(a.key, inst) {
                        links.push(Link {
                            id: p.id,
                            inst,
                            rec: StoredRecord {
                                assoc: a.key,
                                src: inst,
                                dst: p.other,
                            },
                            partner_model: a.dst_model,
                            partner: p.other,
                        });
                    }
                }
                if a.dst_model == model {
                    for p in shard.inn.get(a.key, inst) {
                        links.push(Link {
                            id: p.id,
                            inst,
                            rec: StoredRecord {
                                assoc: a.key,
                                src: p.other,
                                dst: inst,
                            },
                            partner_model: a.src_model,
                            partner: p.other,
                        });
                    }
                }
            }
        }
        links
    }

    /// Removes the records of `links`: each one's partner is gone, or is the
    /// instance itself.
    fn remove_dangling(
        &self,
        set: &mut WriteSet<'_>,
        assocs: &HashMap<AssocKey, Arc<AssocEntry>>,
        mut links: Vec<Link>,
    ) {
        links.sort_unstable_by_key(|l| l.id);
        links.dedup_by_key(|l| l.id);
        let mut removed = Vec::with_capacity(links.len());
        for link in links {
            if self.unlink(set, link.rec, link.id) {
                if let Some(a) = assocs.get(&link.rec.assoc) {
                    a.sub_live(1);
                }
                removed.push(link.id);
            }
        }
        self.records.remove_all(&removed);
    }

    /// The model entry for a write, interned on first use.
    fn model_for_write(&self, bk_obj_id: &str) -> Result<Arc<ModelEntry>> {
        if bk_obj_id.is_empty() {
            return Err(Error::unassigned("bk_obj_id"));
        }
        Ok(self.models.intern(bk_obj_id))
    }
}

fn check_inst_id(id: i64) -> Result<()> {
    if id > 0 {
        Ok(())
    } else {
        Err(Error::invalid("bk_inst_id"))
    }
}
