//! The model registry: interns model ids (`bk_obj_id`) into [`ModelKey`]s and
//! keeps, per model, the highest instance id handed out, for `max + 1`
//! allocation.
//!
//! Models are implicit (any non-empty string) and are never removed from the
//! registry: it grows with the number of distinct model ids ever used.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::keys::ModelKey;
use crate::sync::{AtomicBool, AtomicI64, RwLock};

/// One model: its name, its display metadata and the highest instance id
/// registered in it so far.
#[derive(Debug)]
pub(crate) struct ModelEntry {
    pub(crate) key: ModelKey,
    pub(crate) name: Arc<str>,
    max_inst: AtomicI64,
    /// Set by the first committed write that names the model. A model
    /// interned by a call that then failed stays unannounced, so reads do
    /// not know it: a failed call changes nothing, before or after a
    /// restart.
    announced: AtomicBool,
    /// (`bk_obj_name`, `bk_obj_icon`) when defined; a leaf lock.
    display: RwLock<Option<(String, String)>>,
}

impl ModelEntry {
    /// (`bk_obj_name`, `bk_obj_icon`): as defined, else the model id and "".
    pub(crate) fn display(&self) -> (String, String) {
        self.display
            .read()
            .clone()
            .unwrap_or_else(|| (self.name.to_string(), String::new()))
    }

    pub(crate) fn set_display(&self, name: &str, icon: &str) {
        *self.display.write() = Some((name.to_owned(), icon.to_owned()));
    }

    /// Marks the model known to reads (a committed write named it).
    pub(crate) fn announce(&self) {
        self.announced.store(true, Ordering::Release);
    }

    /// Whether a committed write named the model.
    pub(crate) fn is_announced(&self) -> bool {
        self.announced.load(Ordering::Acquire)
    }

    /// The highest instance id seen so far.
    pub(crate) fn max_seen(&self) -> i64 {
        self.max_inst.load(Ordering::Acquire)
    }

    /// (`bk_obj_name`, `bk_obj_icon`) if defined.
    pub(crate) fn defined_display(&self) -> Option<(String, String)> {
        self.display.read().clone()
    }

    /// Records that `id` was registered explicitly.
    pub(crate) fn observe(&self, id: i64) {
        self.max_inst.fetch_max(id, Ordering::AcqRel);
    }

    /// Reserves the next id above every id seen so far; `None` once the
    /// int64 range is used up.
    pub(crate) fn reserve_next(&self) -> Option<i64> {
        self.max_inst
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |max| {
                max.max(0).checked_add(1)
            })
            .ok()
            .map(|prev| prev.max(0) + 1)
    }
}

#[derive(Debug, Default)]
struct Registry {
    by_name: HashMap<Arc<str>, Arc<ModelEntry>, ahash::RandomState>,
    by_key: Vec<Arc<ModelEntry>>,
}

/// The interner. A leaf lock: nothing else is taken while it is held.
#[derive(Debug, Default)]
pub(crate) struct Models {
    inner: RwLock<Registry>,
}

impl Models {
    /// The entry for `name`, if a committed write ever named the model.
    pub(crate) fn lookup(&self, name: &str) -> Option<Arc<ModelEntry>> {
        self.inner
            .read()
            .by_name
            .get(name)
            .filter(|m| m.is_announced())
            .cloned()
    }

    /// The entry of a key handed out by [`Models::intern`].
    pub(crate) fn get(&self, key: ModelKey) -> Option<Arc<ModelEntry>> {
        self.inner.read().by_key.get(key.0 as usize).cloned()
    }

    /// Every model ever used, in key order.
    pub(crate) fn all(&self) -> Vec<Arc<ModelEntry>> {
        self.inner.read().by_key.clone()
    }

    /// The entry for `name`, created on first use.
    pub(crate) fn intern(&self, name: &str) -> Arc<ModelEntry> {
        self.intern_new(name).0
    }

    /// [`Models::intern`], and whether this call created the entry.
    pub(crate) fn intern_new(&self, name: &str) -> (Arc<ModelEntry>, bool) {
        if let Some(entry) = self.inner.read().by_name.get(name) {
            return (Arc::clone(entry), false);
        }
        let mut inner = self.inner.write();
        if let Some(entry) = inner.by_name.get(name) {
            return (Arc::clone(entry), false);
        }
        let key = ModelKey(u32::try_from(inner.by_key.len()).unwrap_or(u32::MAX));
        let name: Arc<str> = Arc::from(name);
        let entry = Arc::new(ModelEntry {
            key,
            name: Arc::clone(&name),
            max_inst: AtomicI64::new(0),
            announced: AtomicBool::new(false),
            display: RwLock::new(None),
        });
        inner.by_name.insert(name, Arc::clone(&entry));
        inner.by_key.push(Arc::clone(&entry));
        (entry, true)
    }
}
