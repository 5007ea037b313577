//! The catalog: association kinds and model associations.
//!
//! It sits behind one `RwLock` in the store, the first lock in the lock order:
//! writers of the catalog are rare (definitions), readers clone the
//! `Arc<AssocEntry>` they need and release the lock before touching any shard.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::error::{Error, Result};
use crate::index::MAX_ASSOC_KEY;
use crate::keys::{AssocKey, ModelKey};
use crate::kind::{AssociationKind, MAINLINE, builtin_kinds};
use crate::model_association::{Mapping, ModelAssociation, OnDelete};
use crate::models::ModelEntry;
use crate::sync::{AtomicBool, AtomicU64};

/// A model association as the store uses it: interned keys plus the shared
/// strings that records are rendered with.
#[derive(Debug)]
pub(crate) struct AssocEntry {
    pub(crate) key: AssocKey,
    pub(crate) id: i64,
    pub(crate) obj_asst_id: Arc<str>,
    pub(crate) name: String,
    pub(crate) src_model: ModelKey,
    pub(crate) dst_model: ModelKey,
    pub(crate) src_name: Arc<str>,
    pub(crate) dst_name: Arc<str>,
    pub(crate) kind: Arc<str>,
    pub(crate) mapping: Mapping,
    pub(crate) on_delete: OnDelete,
    /// Set, under every shard lock, when the model association is deleted.
    deleted: AtomicBool,
    /// Number of live instance associations; changed only under the shard
    /// locks of the record's endpoints, so exact while all shards are held.
    live: AtomicU64,
}

impl AssocEntry {
    pub(crate) fn is_deleted(&self) -> bool {
        self.deleted.load(Ordering::Acquire)
    }

    pub(crate) fn live(&self) -> u64 {
        self.live.load(Ordering::Acquire)
    }

    pub(crate) fn add_live(&self, n: u64) {
        self.live.fetch_add(n, Ordering::AcqRel);
    }

    pub(crate) fn sub_live(&self, n: u64) {
        self.live.fetch_sub(n, Ordering::AcqRel);
    }

    /// Whether records of this model association touch model `m` (as source
    /// or target).
    pub(crate) fn touches(&self, m: ModelKey) -> bool {
        self.src_model == m || self.dst_model == m
    }

    pub(crate) fn to_public(&self) -> ModelAssociation {
        ModelAssociation {
            id: self.id,
            bk_obj_asst_id: self.obj_asst_id.to_string(),
            bk_obj_asst_name: self.name.clone(),
            bk_obj_id: self.src_name.to_string(),
            bk_asst_obj_id: self.dst_name.to_string(),
            bk_asst_id: self.kind.to_string(),
            mapping: self.mapping,
            on_delete: self.on_delete,
            ispre: None,
        }
    }
}

/// What `create_model_association` hands the catalog once the models are
/// interned.
pub(crate) struct AssocDraft<'a> {
    pub(crate) obj_asst_id: &'a str,
    pub(crate) name: &'a str,
    pub(crate) src: Arc<ModelEntry>,
    pub(crate) dst: Arc<ModelEntry>,
    pub(crate) kind: &'a str,
    pub(crate) mapping: Mapping,
    pub(crate) on_delete: OnDelete,
}

#[derive(Debug)]
pub(crate) struct Catalog {
    kinds: Vec<AssociationKind>,
    kind_index: HashMap<String, usize, ahash::RandomState>,
    /// Every model association ever created, indexed by key; deleted ones
    /// stay (flagged) so a key always resolves.
    assocs: Vec<Arc<AssocEntry>>,
    by_name: HashMap<Arc<str>, AssocKey, ahash::RandomState>,
    by_triple: HashMap<(ModelKey, ModelKey, Arc<str>), AssocKey, ahash::RandomState>,
}

impl Default for Catalog {
    fn default() -> Catalog {
        let kinds = builtin_kinds();
        let kind_index = kinds
            .iter()
            .enumerate()
            .map(|(i, k)| (k.bk_asst_id.clone(), i))
            .collect();
        Catalog {
            kinds,
            kind_index,
            assocs: Vec::new(),
            by_name: HashMap::default(),
            by_triple: HashMap::default(),
        }
    }
}

impl Catalog {
    pub(crate) fn kinds(&self) -> &[AssociationKind] {
        &self.kinds
    }

    /// Checks a new kind and returns it with its id, the next in sequence;
    /// [`Catalog::insert_kind`] adds it.
    pub(crate) fn check_kind(&self, mut kind: AssociationKind) -> Result<AssociationKind> {
        if kind.bk_asst_id.is_empty() {
            return Err(Error::unassigned("bk_asst_id"));
        }
        if self.kind_index.contains_key(&kind.bk_asst_id) {
            return Err(Error::duplicated(kind.bk_asst_id));
        }
        kind.id = self.kinds.last().map_or(1, |k| k.id + 1);
        kind.ispre = false;
        Ok(kind)
    }

    /// Adds a kind that [`Catalog::check_kind`] passed.
    pub(crate) fn insert_kind(&mut self, kind: AssociationKind) {
        self.kind_index
            .insert(kind.bk_asst_id.clone(), self.kinds.len());
        self.kinds.push(kind);
    }

    /// The live model association named `obj_asst_id`.
    pub(crate) fn by_name(&self, obj_asst_id: &str) -> Option<Arc<AssocEntry>> {
        self.by_name_ref(obj_asst_id).cloned()
    }

    /// [`Catalog::by_name`], borrowed from the catalog.
    pub(crate) fn by_name_ref(&self, obj_asst_id: &str) -> Option<&Arc<AssocEntry>> {
        let key = self.by_name.get(obj_asst_id)?;
        self.assocs.get(key.0 as usize)
    }

    /// The live model association with record id `id`. Ids and keys are
    /// handed out together, so id `n` is key `n - 1`.
    pub(crate) fn by_id(&self, id: i64) -> Option<Arc<AssocEntry>> {
        let index = usize::try_from(id.checked_sub(1)?).ok()?;
        self.assocs.get(index).filter(|a| !a.is_deleted()).cloned()
    }

    /// The entry of a key (deleted ones included).
    pub(crate) fn entry(&self, key: AssocKey) -> Option<&Arc<AssocEntry>> {
        self.assocs.get(key.0 as usize)
    }

    /// Every model association ever created, deleted ones included, in id
    /// order.
    pub(crate) fn entries(&self) -> &[Arc<AssocEntry>] {
        &self.assocs
    }

    /// Every live model association, in id order.
    pub(crate) fn live(&self) -> impl Iterator<Item = &Arc<AssocEntry>> {
        self.assocs.iter().filter(|a| !a.is_deleted())
    }

    /// Every live model association whose records touch model `m`.
    pub(crate) fn touching(&self, m: ModelKey) -> Vec<Arc<AssocEntry>> {
        self.live().filter(|a| a.touches(m)).cloned().collect()
    }

    /// Runs the create checks in order (kind `bk_mainline` → 1101082; an
    /// empty kind or model → 1101045; the same (source, target, kind) →
    /// 1101038; an empty name → 1199010; the name taken → 1199014; an unknown
    /// kind → 1101072) and returns the new entry with the next key;
    /// [`Catalog::insert_assoc`] adds it.
    pub(crate) fn check_assoc(&self, draft: &AssocDraft<'_>) -> Result<Arc<AssocEntry>> {
        if draft.kind == MAINLINE {
            return Err(Error::MainlineNotAllowed);
        }
        if draft.kind.is_empty() || draft.src.name.is_empty() || draft.dst.name.is_empty() {
            return Err(Error::ModelAssociationMissingParameters);
        }
        let kind: Arc<str> = Arc::from(draft.kind);
        let triple = (draft.src.key, draft.dst.key, Arc::clone(&kind));
        if self.by_triple.contains_key(&triple) {
            return Err(Error::AssociationAlreadyExists {
                src_model: draft.src.name.to_string(),
                dst_model: draft.dst.name.to_string(),
            });
        }
        if draft.obj_asst_id.is_empty() {
            return Err(Error::unassigned("bk_obj_asst_id"));
        }
        if self.by_name.contains_key(draft.obj_asst_id) {
            return Err(Error::duplicated(draft.obj_asst_id));
        }
        if !self.kind_index.contains_key(draft.kind) {
            return Err(Error::AssociationKindNotFound);
        }
        let key = u32::try_from(self.assocs.len())
            .ok()
            .filter(|&k| k <= MAX_ASSOC_KEY)
            .ok_or_else(|| Error::ExceedLimit {
                what: "model associations".into(),
                limit: MAX_ASSOC_KEY as usize + 1,
            })?;
        let key = AssocKey(key);
        let id = key.model_association_id();
        Ok(Arc::new(AssocEntry {
            key,
            id,
            obj_asst_id: Arc::from(draft.obj_asst_id),
            name: draft.name.to_owned(),
            src_model: draft.src.key,
            dst_model: draft.dst.key,
            src_name: Arc::clone(&draft.src.name),
            dst_name: Arc::clone(&draft.dst.name),
            kind,
            mapping: draft.mapping,
            on_delete: draft.on_delete,
            deleted: AtomicBool::new(false),
            live: AtomicU64::new(0),
        }))
    }

    /// Adds an entry that [`Catalog::check_assoc`] built; its key is the
    /// next one.
    pub(crate) fn insert_assoc(&mut self, entry: &Arc<AssocEntry>) {
        debug_assert_eq!(entry.key.0 as usize, self.assocs.len());
        let triple = (entry.src_model, entry.dst_model, Arc::clone(&entry.kind));
        self.by_name
            .insert(Arc::clone(&entry.obj_asst_id), entry.key);
        self.by_triple.insert(triple, entry.key);
        self.assocs.push(Arc::clone(entry));
    }

    /// Marks `entry` deleted and forgets its names. The caller holds every
    /// shard lock and has checked that no record uses it.
    pub(crate) fn remove_assoc(&mut self, entry: &AssocEntry) {
        entry.deleted.store(true, Ordering::Release);
        self.by_name.remove(&entry.obj_asst_id);
        self.by_triple
            .remove(&(entry.src_model, entry.dst_model, Arc::clone(&entry.kind)));
    }
}
