//! # assocstore
//!
//! BlueKing CMDB (bk-cmdb) *instance associations*, embedded: typed, directed
//! edges between instances of models, with bk-cmdb's validation rules, error
//! codes and batch semantics, served from sharded in-memory hash indexes.
//!
//! **What it is:** a library you link to keep bk-cmdb's association rules
//! (`1:1` / `1:n` / `n:n` mappings, duplicate checks, instance existence,
//! batch create with per-item outcomes, refuse-while-linked instance
//! deletion) in process, safe to share between threads, with every check and
//! its insert atomic.
//!
//! A store lives in memory ([`Store::new`]), or durably in a directory
//! ([`Store::open`]): a write-ahead journal of every committed call and
//! checkpoint snapshots, recovered on open, surviving `kill -9` and (at
//! [`Durability::Immediate`], the default) power cuts. See the README's
//! "Durability" section and `docs/durability.md`.
//!
//! **What it is not:** a full CMDB (instances carry only an id and an
//! optional name), a network server, or a database of several processes (a
//! directory has one owner at a time).
//!
//! ```
//! use assocstore::{BatchCreate, Condition, Mapping, NewModelAssociation, Store};
//!
//! let store = Store::new();
//! store.create_model_association(
//!     &NewModelAssociation::new("bk_switch", "belong", "host", Mapping::OneToMany),
//! )?;
//! store.register_instances("bk_switch", [11, 12])?;
//! store.register_instances("host", [21, 22])?;
//!
//! let id = store.create_instance_association("bk_switch_belong_host", 11, 21)?;
//! let out = store.batch_create_instance_associations(&BatchCreate::new(
//!     "bk_switch", "host", "bk_switch_belong_host", [(12, 22), (12, 21)],
//! ))?;
//! assert_eq!(out.error_msg()[&1],
//!     "The relationship is 1:n, and multiple source model instances cannot be associated at the same time.");
//!
//! let found = store.find_instance_associations("host", &Condition::all())?;
//! assert_eq!(found.len(), 2);
//! assert_eq!(found[0].id, id);
//! # Ok::<(), assocstore::Error>(())
//! ```
//!
//! ## Locking
//!
//! Every method takes `&self` and may be called from any thread. Writes lock
//! only the shards of the instances they touch, in one global order, so they
//! cannot deadlock; reads take read locks and never block each other, and a
//! read by id takes no shard lock. See the [`store`] module for the scheme
//! and why it is safe.
//!
//! ## Limits
//!
//! | what | limit |
//! |---|---|
//! | details in one batch create | 200 by default ([`StoreBuilder::batch_limit`]) |
//! | ids in one delete-many | 500 |
//! | shards | a power of two, 1 to 65536 |
//! | model associations | 2³⁰ over the store's life |
//! | instance association ids | 1 to 2³⁶ − 1; a deleted one's 20-byte slot is not reclaimed |
//! | instance ids | 1 to 2⁶³ − 1 |
//! | replay line nesting | 1,000 levels ([`wire::MAX_JSON_DEPTH`]) |
//! | one journal record (one call's effects) | 1 GiB encoded |
//!
//! ## Differences from bk-cmdb
//!
//! Listed in the README's "Differences from bk-cmdb" section; in short: the
//! checks cannot race, `bk_mainline` instance associations are refused, batch
//! models must match the model association, unknown kinds and bad mapping
//! values are refused, and empty optional find keys do not filter.
//!
//! ## Rust version
//!
//! Edition 2024, built and tested with Rust 1.95.

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod batch;
mod catalog;
mod durable;
mod effect;
mod error;
pub mod feed;
mod graph;
mod index;
mod keys;
mod kind;
mod mapping;
mod model_association;
mod models;
mod query;
mod record;
pub mod store;
mod sync;
pub mod wire;

/// Where a durable store keeps its files: the [`storage::Storage`] seam,
/// the real file system, and a simulated disk for crash and fault tests.
pub mod storage {
    pub use crate::durable::io::{FileStorage, SimulatedDisk, Storage, StorageFile};
}

pub use batch::{BatchCreate, BatchOutcome, ItemOutcome};
pub use durable::{DEFAULT_CHECKPOINT_BYTES, Durability, OpenReport};
pub use error::{Error, OpenFailure, Result};
pub use feed::{Change, Cursor, Event, EventType, Since, WatchFilter, Watched};
pub use graph::{EdgeFilter, Neighbour, Reached, TopologyGroup, TopologyNode, Towards, Traversal};
pub use kind::{AssociationKind, Direction};
pub use model_association::{Mapping, ModelAssociation, NewModelAssociation, OnDelete};
pub use query::{
    Condition, MAX_DEPTH, MAX_IN_VALUES, MAX_OR_RULES, MAX_PAGE_LIMIT, Page, QueryFilter, Search,
};
pub use record::InstanceAssociation;
pub use store::{CascadeOutcome, Edge, Store, StoreBuilder};
