//! One shard: the posting lists and registry entries of the instance ids that
//! hash to it.

use std::collections::HashMap;
use std::sync::Arc;

use crate::index::instance_set::InstanceSet;
use crate::index::{PostingMap, RecordTable, Role};
use crate::keys::{AssocKey, ModelKey};

/// Posting lists in both roles plus the instance registry, for the instance
/// ids of this shard. Because the shard is chosen by instance id alone, an
/// instance's registry entry and all its posting lists live together: a
/// create locks at most two shards, an instance delete starts from one.
#[derive(Debug)]
pub(crate) struct Shard {
    /// (model association, source) → [(target, id)].
    pub(crate) out: PostingMap,
    /// (model association, target) → [(source, id)].
    pub(crate) inn: PostingMap,
    /// The registered instance ids of each model (indexed by [`ModelKey`]):
    /// 8-byte entries, probed by every create, so kept apart from the names.
    instances: Vec<InstanceSet>,
    /// `bk_inst_name` of the instances registered with one.
    names: HashMap<(ModelKey, i64), Box<str>, ahash::RandomState>,
    /// The live model associations by `bk_obj_asst_id`: every shard's copy
    /// of the catalog's name index, changed only while every shard is
    /// write-locked, so a single-shard read resolves a name without taking
    /// the catalog lock too.
    assoc_names: HashMap<Arc<str>, AssocKey, ahash::RandomState>,
}

impl Shard {
    pub(crate) fn new(records: &Arc<RecordTable>) -> Shard {
        Shard {
            out: PostingMap::new(Role::Source, Arc::clone(records)),
            inn: PostingMap::new(Role::Target, Arc::clone(records)),
            instances: Vec::new(),
            names: HashMap::default(),
            assoc_names: HashMap::default(),
        }
    }

    /// The live model association named `obj_asst_id`, if any.
    pub(crate) fn assoc_by_name(&self, obj_asst_id: &str) -> Option<AssocKey> {
        self.assoc_names.get(obj_asst_id).copied()
    }

    /// Records a new model association's name. The caller holds every
    /// shard's write lock and the catalog's.
    pub(crate) fn name_assoc(&mut self, obj_asst_id: &Arc<str>, key: AssocKey) {
        self.assoc_names.insert(Arc::clone(obj_asst_id), key);
    }

    /// Forgets a deleted model association's name, under the same locks.
    pub(crate) fn forget_assoc(&mut self, obj_asst_id: &str) {
        self.assoc_names.remove(obj_asst_id);
    }

    /// Every live model association name this shard knows, for the
    /// invariant check.
    pub(crate) fn assoc_names(&self) -> impl Iterator<Item = (&str, AssocKey)> + '_ {
        self.assoc_names.iter().map(|(name, &key)| (&**name, key))
    }

    pub(crate) fn has_instance(&self, model: ModelKey, inst: i64) -> bool {
        self.instances
            .get(model.0 as usize)
            .is_some_and(|set| set.contains(inst))
    }

    /// Reads the registry slot where a lookup of (`model`, an instance
    /// whose hash is `inst_hash`) starts; see
    /// [`crate::index::linear::LinearTable::touch`].
    pub(crate) fn touch_instance(&self, model: ModelKey, inst_hash: u64) -> u64 {
        self.instances
            .get(model.0 as usize)
            .map_or(0, |set| set.touch(inst_hash))
    }

    /// Registers an instance; `false` if it already was.
    pub(crate) fn register(&mut self, model: ModelKey, inst: i64, name: Option<&str>) -> bool {
        let index = model.0 as usize;
        if self.instances.len() <= index {
            self.instances.resize_with(index + 1, InstanceSet::default);
        }
        if !self.instances[index].insert(inst) {
            return false;
        }
        if let Some(name) = name {
            self.names.insert((model, inst), Box::from(name));
        }
        true
    }

    /// Unregisters an instance; `false` if it was not registered.
    pub(crate) fn unregister(&mut self, model: ModelKey, inst: i64) -> bool {
        self.names.remove(&(model, inst));
        self.instances
            .get_mut(model.0 as usize)
            .is_some_and(|set| set.remove(inst))
    }

    pub(crate) fn instance_name(&self, model: ModelKey, inst: i64) -> Option<&str> {
        self.names.get(&(model, inst)).map(AsRef::as_ref)
    }

    /// Every (model, instance id, name) registered with a name.
    pub(crate) fn names(&self) -> impl Iterator<Item = (ModelKey, i64, &str)> + '_ {
        self.names
            .iter()
            .map(|(&(model, inst), name)| (model, inst, &**name))
    }

    /// The registered instance ids of one model, in table order.
    pub(crate) fn instances_of(&self, model: ModelKey) -> impl Iterator<Item = i64> + '_ {
        self.instances
            .get(model.0 as usize)
            .into_iter()
            .flat_map(InstanceSet::iter)
    }

    /// Every registered (model, instance id).
    pub(crate) fn instances(&self) -> impl Iterator<Item = (ModelKey, i64)> + '_ {
        self.instances.iter().enumerate().flat_map(|(model, set)| {
            let model = ModelKey(model as u32);
            set.iter().map(move |inst| (model, inst))
        })
    }
}
