//! Effects: what one write decided, in the form the one commit step
//! (`src/store/commit.rs`) journals and then applies to the indexes.
//!
//! A write runs its rule checks under its locks and, if they pass, describes
//! its whole outcome as a list of effects: the ids it assigned, the records
//! it removed, the instances it registered. Nothing is changed before the
//! list is complete, so a call that fails a rule changes nothing and writes
//! nothing to the journal, and a call that commits is one journal record.
//! Replaying a journal applies the same effects through the same code.
//!
//! Effects are facts, not requests: `Link` carries the id the write
//! assigned, so replay reproduces every id exactly and never re-runs a rule.

use std::sync::Arc;

use crate::catalog::AssocEntry;
use crate::index::KeySlot;
use crate::kind::AssociationKind;
use crate::models::ModelEntry;

/// One change to the store's state.
#[derive(Debug)]
pub(crate) enum Effect {
    /// A new association kind, its id assigned.
    AddKind(AssociationKind),
    /// A new model association, its id and key assigned (not yet in the
    /// catalog).
    AddModelAssociation(Arc<AssocEntry>),
    /// A model association with no records is removed.
    DeleteModelAssociation(Arc<AssocEntry>),
    /// A model is named for the first time (by a write that may have
    /// changed nothing else), so it stays known after a restart.
    UseModel(Arc<ModelEntry>),
    /// A model's display name and icon are set.
    DefineModel {
        /// The model.
        model: Arc<ModelEntry>,
        /// `bk_obj_name`.
        name: String,
        /// `bk_obj_icon`.
        icon: String,
    },
    /// An instance is registered.
    Register {
        /// Its model.
        model: Arc<ModelEntry>,
        /// Its id.
        inst: i64,
        /// Its `bk_inst_name`, if given.
        name: Option<Box<str>>,
    },
    /// An instance is unregistered.
    Unregister {
        /// Its model.
        model: Arc<ModelEntry>,
        /// Its id.
        inst: i64,
    },
    /// A record is created.
    Link {
        /// Its model association.
        assoc: Arc<AssocEntry>,
        /// The id assigned.
        id: i64,
        /// Source instance.
        src: i64,
        /// Target instance.
        dst: i64,
        /// Where the checks' lookups of (assoc, src) and (assoc, dst)
        /// stopped, so the insert need not probe again (`None` in replay).
        slots: Option<[KeySlot; 2]>,
    },
    /// A record is removed.
    Unlink {
        /// Its model association.
        assoc: Arc<AssocEntry>,
        /// Its id.
        id: i64,
        /// Source instance.
        src: i64,
        /// Target instance.
        dst: i64,
    },
}
