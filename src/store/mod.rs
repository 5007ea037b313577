//! The store: the one type callers hold, and its locking scheme.
//!
//! # Layout
//!
//! * **Catalog** (`RwLock<Catalog>`): association kinds and model
//!   associations. Readers clone the `Arc<AssocEntry>` they need and let go.
//!   Every shard keeps a copy of its name index (name → key), written only
//!   while the catalog and every shard are write-locked, so the hot
//!   single-instance reads resolve a name under their one shard lock.
//! * **Index shards** (`[RwLock<Shard>; N]`, `N` a power of two): shard
//!   `shard_of(inst)` owns, for instance id `inst`, its registry entries (in
//!   every model) and its posting lists (in every model association, as
//!   source and as target). A record (a, s, t) therefore lives in at most two
//!   shards: `out[(a, s)]` in `shard_of(s)` and `inn[(a, t)]` in `shard_of(t)`.
//! * **Record table** (by id, lock-free): a record's slot is written once,
//!   by its insert, under the shard locks of both endpoints, and only its
//!   state changes after (dead on delete). The posting lists hold bare ids and
//!   read a record's endpoints from it; get-by-id reads it without a lock
//!   (see `src/index/records.rs`).
//! * **Model registry**: interned model ids; a leaf lock.
//!
//! # Lock order
//!
//! Locks are ranked, and a thread only ever waits for a lock ranked after
//! every lock it holds:
//!
//! 1. the catalog;
//! 2. index shards, in ascending index;
//! 3. the model registry (taken alone).
//!
//! (The record table takes no locks.)
//!
//! Several locks of one rank are always taken as one set, sorted and
//! deduplicated first (the `dashmap` lesson: two threads growing their sets in
//! different orders deadlock), and no lock is taken twice by one thread
//! (`parking_lot` locks are fair, so even a recursive read can deadlock). With
//! a total order and no re-entry, a cycle of waiting threads cannot form, so
//! the store cannot deadlock.
//!
//! Who takes what:
//!
//! | operation | locks, in order |
//! |---|---|
//! | create one | catalog (read, released) → shards {s(src), s(dst)} (write) |
//! | batch create | catalog (read, released) → every shard of the batch (write) |
//! | delete by id(s) | catalog (read, released) → endpoint shards (write) |
//! | register instances | registry (released) → shards of the ids (write) |
//! | delete instances | registry, catalog (released) → discovery reads (one shard at a time, released) → the whole set (write), re-validated |
//! | create model association | catalog (write) → every shard (write) |
//! | delete model association | catalog (write) → every shard (write) |
//! | get by id | catalog (read) |
//! | edges from / to an instance | its shard (read) |
//! | find | catalog (read, released) → the needed shards (read) |
//! | `check_invariants` | catalog (read) → every shard (read) |
//!
//! # Why check-then-insert is atomic
//!
//! Every fact a create checks is owned by a shard it holds in write mode: the
//! mapping and duplicate checks read `out[(a, s)]` (in `s(src)`) and
//! `inn[(a, t)]` (in `s(dst)`); the existence checks read the registry entries
//! of `src` and `dst` (same two shards); and a model association's `deleted`
//! flag is only written while *every* shard is held. Ids are allocated inside
//! the same critical section, so ids in any posting list ascend. Two creates
//! that could conflict share a shard, so they serialize; the second sees the
//! first's insert. A batch holds all its shards from its first check to its
//! last insert, which is what makes its items see each other in order and its
//! atomic mode all-or-none.
//!
//! An instance delete must hold the shards of every partner of the instance.
//! It discovers them under short read locks, then takes the whole set and
//! re-checks: if a partner appeared in a shard outside the set, or a model
//! association was created meanwhile (the catalog generation moved), it lets
//! go and retries with the larger set. The set only grows and is bounded by
//! `N`, so the retry ends.
//!
//! Inserts and deletes write the record table while holding the index shards,
//! so no reader can see a record by id that the indexes no longer have, or
//! the reverse, after the writer returns.

mod batch;
mod cascade;
mod checkpoint;
mod commit;
mod create;
mod definitions;
mod delete;
mod digest;
mod edges;
mod follow;
mod graph;
mod instance_delete;
mod instances;
mod invariants;
mod locks;
mod open;
mod read;
mod restore;
mod search;
mod watch;
pub use follow::Follower;
pub(crate) use read::render;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::catalog::Catalog;
use crate::durable::io::Storage;
use crate::durable::{DEFAULT_CHECKPOINT_BYTES, Durability, Durable};
use crate::error::{Error, Result};
use crate::feed::{DEFAULT_RETENTION, Feed, new_store_id};
use crate::index::{MAX_RECORD_ID, RecordTable, Shard};
use crate::keys::shard_of;
use crate::models::Models;
use crate::sync::{AtomicI64, AtomicU64, RwLock};

pub use cascade::CascadeOutcome;
pub use edges::Edge;

/// The default batch limit, bk-cmdb's (and the wire's) 200.
pub const DEFAULT_BATCH_LIMIT: usize = 200;

/// The most ids `delete_instance_associations` takes in one call (bk-cmdb's 500).
pub const DELETE_LIMIT: usize = 500;

/// Instance associations in memory, with bk-cmdb's rules. `Send + Sync`:
/// share it by reference or in an `Arc`; every method may be called from any
/// thread at any time.
///
/// ```
/// use assocstore::{Mapping, NewModelAssociation, Store};
/// let store = Store::new();
/// store.create_model_association(
///     &NewModelAssociation::new("bk_switch", "connect", "host", Mapping::OneToMany),
/// )?;
/// store.register_instances("bk_switch", [1])?;
/// store.register_instances("host", [10, 11])?;
/// let id = store.create_instance_association("bk_switch_connect_host", 1, 10)?;
/// assert_eq!(store.instance_association(id).map(|r| r.bk_asst_inst_id), Some(10));
/// # Ok::<(), assocstore::Error>(())
/// ```
#[derive(Debug)]
pub struct Store {
    catalog: RwLock<Catalog>,
    /// Bumped whenever a model association is created; lets an instance
    /// delete notice that its snapshot of the catalog went stale.
    catalog_generation: AtomicU64,
    models: Models,
    shards: Box<[RwLock<Shard>]>,
    shard_mask: usize,
    records: Arc<RecordTable>,
    /// The last record id handed out.
    last_id: AtomicI64,
    batch_limit: usize,
    /// The journal and files of a durable store; `None` in memory.
    durable: Option<Durable>,
    /// The change feed every commit publishes to.
    feed: Feed,
}

impl Default for Store {
    fn default() -> Store {
        Store::new()
    }
}

/// Settings for a [`Store`]; invalid values are an error from
/// [`StoreBuilder::build`], never a panic.
///
/// ```
/// let store = assocstore::Store::builder().shards(16).batch_limit(500).build()?;
/// # Ok::<(), assocstore::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct StoreBuilder {
    shards: Option<usize>,
    batch_limit: usize,
    path: Option<PathBuf>,
    durability: Durability,
    checkpoint_bytes: u64,
    storage: Option<Arc<dyn Storage>>,
    feed_retention: usize,
}

impl StoreBuilder {
    /// Number of shards: a power of two from 1 to 65536. Default: the
    /// smallest power of two ≥ 4 × available cores, and at least 64 for a
    /// durable store (a writer holds its shards while it waits for its
    /// sync; more shards let more writers share one).
    #[must_use]
    pub fn shards(mut self, shards: usize) -> StoreBuilder {
        self.shards = Some(shards);
        self
    }

    /// Most details in one batch create, at least 1. Default: 200
    /// ([`DEFAULT_BATCH_LIMIT`]).
    #[must_use]
    pub fn batch_limit(mut self, limit: usize) -> StoreBuilder {
        self.batch_limit = limit;
        self
    }

    /// The directory of a durable store, for [`StoreBuilder::open`]
    /// (created if missing). Default: none.
    #[must_use]
    pub fn path(mut self, dir: impl Into<PathBuf>) -> StoreBuilder {
        self.path = Some(dir.into());
        self
    }

    /// When a write to a durable store counts as done. Default:
    /// [`Durability::Immediate`].
    #[must_use]
    pub fn durability(mut self, level: Durability) -> StoreBuilder {
        self.durability = level;
        self
    }

    /// The journal size, in bytes, past which a durable store checkpoints
    /// by itself. Default: 64 MiB ([`DEFAULT_CHECKPOINT_BYTES`]).
    #[must_use]
    pub fn checkpoint_bytes(mut self, bytes: u64) -> StoreBuilder {
        self.checkpoint_bytes = bytes;
        self
    }

    /// Where a durable store's files live. Default: the real file system
    /// ([`crate::storage::FileStorage`]); tests pass a
    /// [`crate::storage::SimulatedDisk`] to inject failures and power cuts.
    #[must_use]
    pub fn storage(mut self, storage: Arc<dyn Storage>) -> StoreBuilder {
        self.storage = Some(storage);
        self
    }

    /// How many of the newest change-feed events the store retains for
    /// readers ([`Store::events`]); 0 keeps none (positions still advance).
    /// Default: 1,000,000 ([`crate::feed::DEFAULT_RETENTION`]), about 40
    /// bytes each.
    #[must_use]
    pub fn feed_retention(mut self, events: usize) -> StoreBuilder {
        self.feed_retention = events;
        self
    }

    /// Builds an in-memory store (the durability settings are ignored; see
    /// [`StoreBuilder::open`] for a durable one).
    ///
    /// # Errors
    /// 1199006 naming `shards` (not a power of two in 1..=65536) or
    /// `batch_limit` (zero).
    pub fn build(self) -> Result<Store> {
        let shards = self.shards.unwrap_or_else(default_shards);
        if !shards.is_power_of_two() || shards > 65_536 {
            return Err(Error::invalid("shards"));
        }
        if self.batch_limit == 0 {
            return Err(Error::invalid("batch_limit"));
        }
        let records = Arc::new(RecordTable::default());
        Ok(Store {
            catalog: RwLock::new(Catalog::default()),
            catalog_generation: AtomicU64::new(0),
            models: Models::default(),
            shards: (0..shards)
                .map(|_| RwLock::new(Shard::new(&records)))
                .collect(),
            shard_mask: shards - 1,
            records,
            last_id: AtomicI64::new(0),
            batch_limit: self.batch_limit,
            durable: None,
            feed: Feed::new(new_store_id(), self.feed_retention, 1, 0),
        })
    }
}

fn default_shards() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    (4 * cores).next_power_of_two()
}

impl Store {
    /// A store with the default settings (see [`StoreBuilder`]).
    pub fn new() -> Store {
        Store::builder()
            .build()
            .unwrap_or_else(|_| unreachable!("defaults are valid"))
    }

    /// Settings for a new store.
    pub fn builder() -> StoreBuilder {
        StoreBuilder {
            shards: None,
            batch_limit: DEFAULT_BATCH_LIMIT,
            path: None,
            durability: Durability::default(),
            checkpoint_bytes: DEFAULT_CHECKPOINT_BYTES,
            storage: None,
            feed_retention: DEFAULT_RETENTION,
        }
    }

    /// The number of shards.
    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// The most details a batch create accepts.
    pub fn batch_limit(&self) -> usize {
        self.batch_limit
    }

    fn shard_index(&self, inst: i64) -> usize {
        shard_of(inst, self.shard_mask)
    }

    /// Hands out `n` consecutive record ids and returns the first. Called
    /// only inside the critical section of the inserts that use them, so ids
    /// ascend in every posting list.
    ///
    /// # Errors
    /// 1199035 once the record table's id range (2³⁶ − 1) is used up.
    fn next_ids(&self, n: usize) -> Result<i64> {
        let n = n as i64;
        let first = self.last_id.fetch_add(n, Ordering::AcqRel) + 1;
        if first + n - 1 > MAX_RECORD_ID {
            return Err(Error::ExceedLimit {
                what: "record ids".into(),
                limit: MAX_RECORD_ID as usize,
            });
        }
        Ok(first)
    }
}
