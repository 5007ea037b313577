//! How the feed keeps an event: compact while retained, rendered on read.

use std::sync::Arc;

use super::event::{Change, EventType, WatchFilter};
use crate::catalog::AssocEntry;
use crate::effect::Effect;
use crate::keys::{AssocKey, ModelKey};
use crate::models::ModelEntry;
use crate::record::InstanceAssociation;

/// A retained event: ids and interned keys for the frequent kinds (32
/// bytes, checked by a test), a boxed public [`Change`] for the rare definitions.
#[derive(Debug, Clone)]
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
    /// Anything else.
    Other(Box<Change>),
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
            Effect::AddKind(kind) => Stored::Other(Box::new(Change::KindAdded(kind.clone()))),
            Effect::AddModelAssociation(a) => {
                Stored::Other(Box::new(Change::ModelAssociationAdded(a.to_public())))
            }
            Effect::DeleteModelAssociation(a) => {
                Stored::Other(Box::new(Change::ModelAssociationDeleted {
                    id: a.id,
                    bk_obj_asst_id: a.obj_asst_id.to_string(),
                }))
            }
            Effect::UseModel(model) => Stored::Other(Box::new(Change::ModelUsed {
                model: model.name.to_string(),
            })),
            Effect::DefineModel { model, name, icon } => {
                Stored::Other(Box::new(Change::ModelDefined {
                    model: model.name.to_string(),
                    name: name.clone(),
                    icon: icon.clone(),
                }))
            }
        }
    }

    /// The public change, resolving keys through the feed's tables.
    pub(crate) fn render(
        &self,
        assocs: &[Option<Arc<AssocEntry>>],
        models: &[Option<Arc<ModelEntry>>],
    ) -> Option<Change> {
        let model_name = |key: ModelKey| {
            models
                .get(key.0 as usize)
                .and_then(Option::as_ref)
                .map(|m| m.name.to_string())
        };
        Some(match self {
            Stored::Link {
                assoc,
                id,
                src,
                dst,
            } => Change::Created(record(assocs, *assoc, *id, *src, *dst)?),
            Stored::Unlink {
                assoc,
                id,
                src,
                dst,
            } => Change::Deleted(record(assocs, *assoc, *id, *src, *dst)?),
            Stored::Register { model, inst, name } => Change::InstanceRegistered {
                model: model_name(*model)?,
                inst: *inst,
                name: name.as_deref().map(str::to_owned),
            },
            Stored::Unregister { model, inst } => Change::InstanceUnregistered {
                model: model_name(*model)?,
                inst: *inst,
            },
            Stored::Other(change) => (**change).clone(),
            Stored::Void => return None,
        })
    }
}

/// The public record of (`assoc`, `id`, `src`, `dst`).
fn record(
    assocs: &[Option<Arc<AssocEntry>>],
    assoc: AssocKey,
    id: i64,
    src: i64,
    dst: i64,
) -> Option<InstanceAssociation> {
    let a = assocs.get(assoc.0 as usize)?.as_ref()?;
    Some(crate::store::render(a, src, dst, id))
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
