//! How the feed keeps an event: compact while retained, rendered on read.

use std::sync::Arc;

use super::event::{Change, EventType, WatchFilter};
use crate::catalog::AssocEntry;
use crate::effect::Effect;
use crate::keys::{AssocKey, ModelKey};
use crate::kind::AssociationKind;
use crate::models::ModelEntry;
use crate::store::render;

/// A retained event: ids and interned keys (32 bytes, checked by a test);
/// the rare display names and kinds boxed. Model associations and models
/// are named by key and rendered from the feed's tables, which keep every
/// one an event names, deleted ones too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Stored {
    /// An instance association was created (fields inline, so the tag
    /// fits beside the key).
    Link {
        assoc: AssocKey,
        id: i64,
        src: i64,
        dst: i64,
    },
    /// An instance association was removed.
    Unlink {
        assoc: AssocKey,
        id: i64,
        src: i64,
        dst: i64,
    },
    /// An instance was registered.
    Register {
        model: ModelKey,
        inst: i64,
        name: Option<Box<str>>,
    },
    /// An instance was deleted.
    Unregister { model: ModelKey, inst: i64 },
    /// A model association was created.
    AddAssoc(AssocKey),
    /// A model association was deleted.
    DeleteAssoc(AssocKey),
    /// A model became known.
    UseModel(ModelKey),
    /// A model's display name and icon were set.
    DefineModel {
        model: ModelKey,
        display: Box<(String, String)>,
    },
    /// An association kind was created.
    AddKind(Box<AssociationKind>),
    /// A position reserved by a commit that failed: no event.
    Void,
}

impl Stored {
    /// The retained form of `e`.
    pub(crate) fn of(e: &Effect) -> Stored {
        match e {
            Effect::Link {
                assoc,
                id,
                src,
                dst,
                ..
            } => Stored::Link {
                assoc: assoc.key,
                id: *id,
                src: *src,
                dst: *dst,
            },
            Effect::Unlink {
                assoc,
                id,
                src,
                dst,
            } => Stored::Unlink {
                assoc: assoc.key,
                id: *id,
                src: *src,
                dst: *dst,
            },
            Effect::Register { model, inst, name } => Stored::Register {
                model: model.key,
                inst: *inst,
                name: name.clone(),
            },
            Effect::Unregister { model, inst } => Stored::Unregister {
                model: model.key,
                inst: *inst,
            },
            Effect::AddKind(kind) => Stored::AddKind(Box::new(kind.clone())),
            Effect::AddModelAssociation(a) => Stored::AddAssoc(a.key),
            Effect::DeleteModelAssociation(a) => Stored::DeleteAssoc(a.key),
            Effect::UseModel(model) => Stored::UseModel(model.key),
            Effect::DefineModel { model, name, icon } => Stored::DefineModel {
                model: model.key,
                display: Box::new((name.clone(), icon.clone())),
            },
        }
    }

    /// The public change, resolving keys through the feed's tables.
    pub(crate) fn render(
        &self,
        assocs: &[Option<Arc<AssocEntry>>],
        models: &[Option<Arc<ModelEntry>>],
    ) -> Option<Change> {
        let model_name = |key: &ModelKey| {
            models
                .get(key.0 as usize)
                .and_then(Option::as_ref)
                .map(|m| m.name.to_string())
        };
        let assoc = |key: &AssocKey| assocs.get(key.0 as usize).and_then(Option::as_ref);
        Some(match self {
            Stored::Link {
                assoc: key,
                id,
                src,
                dst,
            } => Change::Created(render(assoc(key)?, *src, *dst, *id)),
            Stored::Unlink {
                assoc: key,
                id,
                src,
                dst,
            } => Change::Deleted(render(assoc(key)?, *src, *dst, *id)),
            Stored::Register { model, inst, name } => Change::InstanceRegistered {
                model: model_name(model)?,
                inst: *inst,
                name: name.as_deref().map(str::to_owned),
            },
            Stored::Unregister { model, inst } => Change::InstanceUnregistered {
                model: model_name(model)?,
                inst: *inst,
            },
            Stored::AddAssoc(key) => {
                Change::ModelAssociationAdded(Box::new(assoc(key)?.to_public()))
            }
            Stored::DeleteAssoc(key) => {
                let a = assoc(key)?;
                Change::ModelAssociationDeleted {
                    id: a.id,
                    bk_obj_asst_id: a.obj_asst_id.to_string(),
                }
            }
            Stored::UseModel(model) => Change::ModelUsed {
                model: model_name(model)?,
            },
            Stored::DefineModel { model, display } => Change::ModelDefined {
                model: model_name(model)?,
                name: display.0.clone(),
                icon: display.1.clone(),
            },
            Stored::AddKind(kind) => Change::KindAdded(kind.clone()),
            Stored::Void => return None,
        })
    }
}

/// A [`WatchFilter`] prepared against the feed's model associations.
pub(super) struct Matcher {
    associations_only: bool,
    create: bool,
    delete: bool,
    /// For a model filter: which model association keys name the model.
    keys: Option<Vec<bool>>,
}

impl Matcher {
    pub(super) fn new(assocs: &[Option<Arc<AssocEntry>>], filter: &WatchFilter) -> Matcher {
        let wants = |t| filter.types.as_ref().is_none_or(|ts| ts.contains(&t));
        Matcher {
            associations_only: filter.wants_associations_only(),
            create: wants(EventType::Create),
            delete: wants(EventType::Delete),
            keys: filter.model.as_deref().map(|m| {
                assocs
                    .iter()
                    .map(|a| {
                        a.as_ref()
                            .is_some_and(|a| &*a.src_name == m || &*a.dst_name == m)
                    })
                    .collect()
            }),
        }
    }

    pub(super) fn matches(&self, e: &Stored) -> bool {
        let (assoc, wanted) = match e {
            Stored::Link { assoc, .. } => (assoc, self.create),
            Stored::Unlink { assoc, .. } => (assoc, self.delete),
            Stored::Void => return false,
            _ => return !self.associations_only,
        };
        wanted
            && self
                .keys
                .as_ref()
                .is_none_or(|keys| keys.get(assoc.0 as usize).copied().unwrap_or(false))
    }
}
