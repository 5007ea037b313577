//! Records by id: a lock-free, append-only table of slots indexed by id.
//!
//! Ids are handed out densely from 1, so a record's slot is found by
//! arithmetic: three levels (4096 × 4096 × 4096 slots, allocated on first
//! use) cover ids up to 2³⁶ − 1. A slot is three atomic words: the model
//! association and a state (empty, live, dead), the source and the target.
//!
//! A slot is written once, by the insert that owns its id, while that insert
//! holds the shard locks of both endpoints; its fields never change after,
//! and a delete only flips the state to dead. So:
//!
//! * the posting tables can read a record's endpoints from any thread
//!   without a lock (they only ever hold ids of written slots), which is what
//!   lets them store bare ids and derive their keys from the records;
//! * `get` by id takes no lock at all: it reads the state with `Acquire`,
//!   pairing with the `Release` store that published the slot.
//!
//! The price: a deleted record's slot (24 bytes) is not reclaimed.

use std::sync::OnceLock;
use std::sync::atomic::Ordering;

use crate::sync::{AtomicI64, AtomicU64, AtomicUsize};

use crate::keys::AssocKey;

/// A record as stored: interned model association plus the two endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct StoredRecord {
    pub(crate) assoc: AssocKey,
    pub(crate) src: i64,
    pub(crate) dst: i64,
}

#[cfg(not(loom))]
const LEVEL_BITS: u32 = 12;
/// Under `loom` every atomic is a modelled object: keep chunks tiny.
#[cfg(loom)]
const LEVEL_BITS: u32 = 3;
const LEVEL: usize = 1 << LEVEL_BITS;
const MASK: u64 = LEVEL as u64 - 1;

/// The largest record id the table can hold.
pub(crate) const MAX_RECORD_ID: i64 = (1 << (3 * LEVEL_BITS)) - 1;

const EMPTY: u64 = 0;
const LIVE: u64 = 1;
const DEAD: u64 = 2;
const STATE_MASK: u64 = 3;

struct Slot {
    /// `assoc << 32 | state`.
    meta: AtomicU64,
    src: AtomicI64,
    dst: AtomicI64,
}

impl Slot {
    fn new() -> Slot {
        Slot {
            meta: AtomicU64::new(EMPTY),
            src: AtomicI64::new(0),
            dst: AtomicI64::new(0),
        }
    }
}

type Chunk = Box<[Slot]>;
type Middle = Box<[OnceLock<Chunk>]>;

/// Records by id.
pub(crate) struct RecordTable {
    top: Box<[OnceLock<Middle>]>,
    live: AtomicUsize,
}

impl std::fmt::Debug for RecordTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordTable")
            .field("live", &self.len())
            .finish_non_exhaustive()
    }
}

impl Default for RecordTable {
    fn default() -> RecordTable {
        RecordTable {
            top: (0..LEVEL).map(|_| OnceLock::new()).collect(),
            live: AtomicUsize::new(0),
        }
    }
}

/// (top, middle, slot) of an id, if it is in range.
fn locate(id: i64) -> Option<(usize, usize, usize)> {
    if !(1..=MAX_RECORD_ID).contains(&id) {
        return None;
    }
    let i = id as u64;
    Some((
        (i >> (2 * LEVEL_BITS)) as usize,
        ((i >> LEVEL_BITS) & MASK) as usize,
        (i & MASK) as usize,
    ))
}

impl RecordTable {
    fn slot(&self, id: i64) -> Option<&Slot> {
        let (t, m, s) = locate(id)?;
        let chunk = self.top[t].get()?[m].get()?;
        Some(&chunk[s])
    }

    fn slot_or_alloc(&self, id: i64) -> Option<&Slot> {
        let (t, m, s) = locate(id)?;
        let middle = self.top[t].get_or_init(|| (0..LEVEL).map(|_| OnceLock::new()).collect());
        let chunk = middle[m].get_or_init(|| (0..LEVEL).map(|_| Slot::new()).collect());
        Some(&chunk[s])
    }

    /// Publishes record `id`. The caller owns `id` (fresh from the
    /// sequence) and holds the shard locks of both endpoints; `id` must be
    /// at most [`MAX_RECORD_ID`], which the store checks when it hands ids
    /// out.
    pub(crate) fn insert(&self, id: i64, rec: StoredRecord) {
        let Some(slot) = self.slot_or_alloc(id) else {
            return;
        };
        slot.src.store(rec.src, Ordering::Relaxed);
        slot.dst.store(rec.dst, Ordering::Relaxed);
        slot.meta
            .store(u64::from(rec.assoc.0) << 32 | LIVE, Ordering::Release);
        self.live.fetch_add(1, Ordering::Relaxed);
    }

    /// The live record `id`, if any. Lock-free.
    pub(crate) fn get(&self, id: i64) -> Option<StoredRecord> {
        let slot = self.slot(id)?;
        let meta = slot.meta.load(Ordering::Acquire);
        (meta & STATE_MASK == LIVE).then(|| fields(slot, meta))
    }

    /// The fields of a written slot, live or dead (zero if never written).
    /// For the posting tables, whose ids are always written.
    pub(crate) fn fields(&self, id: i64) -> StoredRecord {
        self.slot(id).map_or_else(StoredRecord::default, |slot| {
            fields(slot, slot.meta.load(Ordering::Acquire))
        })
    }

    /// Marks record `id` dead; `false` if it was not live. The caller holds
    /// the shard locks of both endpoints.
    pub(crate) fn kill(&self, id: i64) -> bool {
        let Some(slot) = self.slot(id) else {
            return false;
        };
        let meta = slot.meta.load(Ordering::Acquire);
        if meta & STATE_MASK != LIVE {
            return false;
        }
        slot.meta
            .store((meta & !STATE_MASK) | DEAD, Ordering::Release);
        self.live.fetch_sub(1, Ordering::Relaxed);
        true
    }

    /// Live records.
    pub(crate) fn len(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    /// Every live record with an id up to `last`, for invariant checks.
    pub(crate) fn snapshot(&self, last: i64) -> Vec<(i64, StoredRecord)> {
        (1..=last.min(MAX_RECORD_ID))
            .filter_map(|id| Some((id, self.get(id)?)))
            .collect()
    }

    /// Whether slot `id` was ever written but is not live.
    #[cfg(test)]
    fn is_dead(&self, id: i64) -> bool {
        self.slot(id)
            .is_some_and(|s| s.meta.load(Ordering::Acquire) & STATE_MASK == DEAD)
    }
}

fn fields(slot: &Slot, meta: u64) -> StoredRecord {
    debug_assert_ne!(meta & STATE_MASK, EMPTY, "reading an unwritten slot");
    StoredRecord {
        assoc: AssocKey((meta >> 32) as u32),
        src: slot.src.load(Ordering::Relaxed),
        dst: slot.dst.load(Ordering::Relaxed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_get_kill_across_chunks() {
        let table = RecordTable::default();
        let rec = |n: i64| StoredRecord {
            assoc: AssocKey(n as u32 % 7),
            src: n,
            dst: -n,
        };
        for id in [1, 4095, 4096, 4097, 1 << 24, MAX_RECORD_ID] {
            assert_eq!(table.get(id), None);
            table.insert(id, rec(id));
            assert_eq!(table.get(id), Some(rec(id)));
        }
        assert_eq!(table.len(), 6);
        assert!(table.kill(4096));
        assert!(!table.kill(4096));
        assert_eq!(table.get(4096), None);
        assert_eq!(
            table.fields(4096),
            rec(4096),
            "a dead slot keeps its fields"
        );
        assert!(table.is_dead(4096));
        assert_eq!(table.len(), 5);
        assert_eq!(table.get(0), None);
        assert_eq!(table.get(MAX_RECORD_ID + 1), None);
        assert_eq!(table.snapshot(5000).len(), 3);
    }
}
