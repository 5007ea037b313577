//! Batch create (`batch_create_instance_association`): the request
//! and its per-item outcomes.

use std::collections::BTreeMap;

use crate::error::Error;

/// One batch request: a model association, its two models (checked against
/// it), and the (source, target) pairs to link, in order.
///
/// ```
/// use assocstore::BatchCreate;
/// let batch = BatchCreate::new("bk_switch", "host", "bk_switch_belong_host", [(11, 21), (12, 22)])
///     .atomic(true);
/// assert_eq!(batch.details.len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchCreate {
    /// Source model; must prefix `bk_obj_asst_id` and equal the model
    /// association's source model.
    pub bk_obj_id: String,
    /// Target model; must suffix `bk_obj_asst_id` and equal the model
    /// association's target model.
    pub bk_asst_obj_id: String,
    /// The model association.
    pub bk_obj_asst_id: String,
    /// (`bk_inst_id`, `bk_asst_inst_id`) pairs, in order.
    pub details: Vec<(i64, i64)>,
    /// Report an existing triple as [`ItemOutcome::Existing`] with its id
    /// instead of an error (default `false`).
    pub idempotent: bool,
    /// Insert every item or none (default `false`).
    pub atomic: bool,
}

impl BatchCreate {
    /// A batch in bk-cmdb's mode: neither idempotent nor atomic.
    pub fn new(
        bk_obj_id: impl Into<String>,
        bk_asst_obj_id: impl Into<String>,
        bk_obj_asst_id: impl Into<String>,
        details: impl IntoIterator<Item = (i64, i64)>,
    ) -> BatchCreate {
        BatchCreate {
            bk_obj_id: bk_obj_id.into(),
            bk_asst_obj_id: bk_asst_obj_id.into(),
            bk_obj_asst_id: bk_obj_asst_id.into(),
            details: details.into_iter().collect(),
            idempotent: false,
            atomic: false,
        }
    }

    /// Existing triples are reported with their id, not as errors (default
    /// `false`).
    #[must_use]
    pub fn idempotent(mut self, on: bool) -> BatchCreate {
        self.idempotent = on;
        self
    }

    /// All items are inserted or none is (default `false`).
    #[must_use]
    pub fn atomic(mut self, on: bool) -> BatchCreate {
        self.atomic = on;
        self
    }
}

/// What happened to one item of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemOutcome {
    /// Inserted with this id.
    Created(i64),
    /// Idempotent mode: the triple already existed (in the store, or earlier
    /// in this batch) with this id.
    Existing(i64),
    /// Refused; the error carries bk-cmdb's code and message.
    Failed(Error),
    /// Atomic mode: the item was valid, but another item failed, so nothing
    /// was inserted.
    RolledBack,
}

/// The outcome of every item, in `details` order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BatchOutcome {
    /// One outcome per detail, same order.
    pub items: Vec<ItemOutcome>,
}

impl BatchOutcome {
    /// bk-cmdb's `success_created`: index → id of each created item (and,
    /// in idempotent mode, of each existing one).
    pub fn success_created(&self) -> BTreeMap<usize, i64> {
        self.items
            .iter()
            .enumerate()
            .filter_map(|(i, o)| match o {
                ItemOutcome::Created(id) | ItemOutcome::Existing(id) => Some((i, *id)),
                _ => None,
            })
            .collect()
    }

    /// Idempotent mode: index → id of each item whose triple already
    /// existed (a subset of [`BatchOutcome::success_created`]).
    pub fn existing(&self) -> BTreeMap<usize, i64> {
        self.items
            .iter()
            .enumerate()
            .filter_map(|(i, o)| match o {
                ItemOutcome::Existing(id) => Some((i, *id)),
                _ => None,
            })
            .collect()
    }

    /// Atomic mode: the indexes of valid items that were not inserted
    /// because another item failed.
    pub fn rolled_back(&self) -> Vec<usize> {
        self.items
            .iter()
            .enumerate()
            .filter(|(_, o)| **o == ItemOutcome::RolledBack)
            .map(|(i, _)| i)
            .collect()
    }

    /// bk-cmdb's `error_msg`: index → message of each failed item.
    pub fn error_msg(&self) -> BTreeMap<usize, String> {
        self.items
            .iter()
            .enumerate()
            .filter_map(|(i, o)| match o {
                ItemOutcome::Failed(e) => Some((i, e.to_string())),
                _ => None,
            })
            .collect()
    }

    /// How many items were inserted by this call.
    pub fn created(&self) -> usize {
        self.items
            .iter()
            .filter(|o| matches!(o, ItemOutcome::Created(_)))
            .count()
    }
}
