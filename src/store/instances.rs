//! The instance registry: registering instances.

use std::sync::Arc;

use super::Store;
use super::commit::Held;
use crate::effect::Effect;
use crate::error::{Error, Result};
use crate::models::ModelEntry;

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
    /// `fields [bk_inst_id]` when the instance exists; 1199061 when a durable
    /// store cannot write its journal.
    pub fn register_instance(
        &self,
        bk_obj_id: &str,
        bk_inst_id: Option<i64>,
        bk_inst_name: Option<&str>,
    ) -> Result<i64> {
        let _writing = self.writable()?;
        let model = self.model_for_write(bk_obj_id)?;
        let name = bk_inst_name.map(Box::from);
        // Committing observes the id for `max + 1` only then: a refused call
        // must not move it. An auto id racing an explicit one finds it taken
        // and draws again.
        let (id, mut set) = match bk_inst_id {
            Some(id) => {
                check_inst_id(id)?;
                let set = self.write_insts([id]);
                if set.get(self.shard_index(id)).has_instance(model.key, id) {
                    return Err(Error::duplicated("bk_inst_id"));
                }
                (id, set)
            }
            None => loop {
                let id = model
                    .reserve_next()
                    .ok_or_else(|| Error::invalid("bk_inst_id"))?;
                let set = self.write_insts([id]);
                if !set.get(self.shard_index(id)).has_instance(model.key, id) {
                    break (id, set);
                }
            },
        };
        let effect = Effect::Register {
            model,
            inst: id,
            name,
        };
        self.commit(Held::shards(&mut set), &[effect])?;
        drop(set);
        self.after_write();
        Ok(id)
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
        let _writing = self.writable()?;
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
        let mut effects: Vec<Effect> = ids
            .iter()
            .map(|&inst| Effect::Register {
                model: Arc::clone(&model),
                inst,
                name: None,
            })
            .collect();
        if effects.is_empty() && !model.is_announced() {
            // Registering no instance still names the model.
            effects.push(Effect::UseModel(Arc::clone(&model)));
        }
        self.commit(Held::shards(&mut set), &effects)?;
        drop(set);
        self.after_write();
        Ok(count)
    }

    /// Whether instance `bk_inst_id` of model `bk_obj_id` is registered.
    pub fn instance_exists(&self, bk_obj_id: &str, bk_inst_id: i64) -> bool {
        self.models.lookup(bk_obj_id).is_some_and(|m| {
            self.read_one(self.shard_index(bk_inst_id))
                .has_instance(m.key, bk_inst_id)
        })
    }

    /// Every registered instance of model `bk_obj_id`, ascending (empty for
    /// a model never used).
    ///
    /// ```
    /// let store = assocstore::Store::new();
    /// store.register_instances("host", [3, 1, 2])?;
    /// assert_eq!(store.instances("host"), vec![1, 2, 3]);
    /// assert!(store.instances("bk_switch").is_empty());
    /// # Ok::<(), assocstore::Error>(())
    /// ```
    pub fn instances(&self, bk_obj_id: &str) -> Vec<i64> {
        let Some(model) = self.models.lookup(bk_obj_id) else {
            return Vec::new();
        };
        let shards = self.read_all();
        let mut ids: Vec<i64> = shards
            .all()
            .flat_map(|(_, shard)| shard.instances_of(model.key))
            .collect();
        ids.sort_unstable();
        ids
    }

    /// The name an instance was registered with, if it exists and has one.
    pub fn instance_name(&self, bk_obj_id: &str, bk_inst_id: i64) -> Option<String> {
        let model = self.models.lookup(bk_obj_id)?;
        let shard = self.read_one(self.shard_index(bk_inst_id));
        shard
            .instance_name(model.key, bk_inst_id)
            .map(str::to_owned)
    }

    /// The model entry for a write, interned on first use.
    pub(super) fn model_for_write(&self, bk_obj_id: &str) -> Result<Arc<ModelEntry>> {
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
