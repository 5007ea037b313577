//! One shard: the posting lists and registry entries of the instance ids that
//! hash to it.

use std::collections::HashMap;
use std::sync::Arc;

use crate::index::{PostingMap, RecordTable, Role};
use crate::keys::ModelKey;

/// What the registry keeps about one instance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct InstanceMeta {
    /// `bk_inst_name`, when one was given.
    pub(crate) name: Option<Box<str>>,
}

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
    /// (model, instance id) → metadata.
    pub(crate) instances: HashMap<(ModelKey, i64), InstanceMeta, ahash::RandomState>,
}

impl Shard {
    pub(crate) fn new(records: &Arc<RecordTable>) -> Shard {
        Shard {
            out: PostingMap::new(Role::Source, Arc::clone(records)),
            inn: PostingMap::new(Role::Target, Arc::clone(records)),
            instances: HashMap::default(),
        }
    }

    pub(crate) fn has_instance(&self, model: ModelKey, inst: i64) -> bool {
        self.instances.contains_key(&(model, inst))
    }
}
