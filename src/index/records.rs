//! Records by id: a lock-free, append-only table of slots indexed by id.
//!
//! Ids are handed out densely from 1, so a record's slot is found by
//! arithmetic: three levels (4096 × 4096 × 4096 slots, allocated on first
//! use) cover ids up to 2³⁶ − 1. A slot is 20 bytes of atomic words: the
//! model association and a state (empty, live, dead), the source and the
//! target.
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
//! The price: a deleted record's slot (20 bytes) is not reclaimed.
//!
//! One exception to "written once": a follower's run (`src/store/follow.rs`)
//! writes its records *pending* (readable by the posting tables, invisible
//! to `get` and the count) before its journal write, and confirms them
//! after it, or, if the write fails, empties them again before releasing
//! its locks; the store is read-only from then on, so no id is reused.

use std::sync::OnceLock;
use std::sync::atomic::Ordering;

use crate::sync::{AtomicU32, AtomicUsize};

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

const EMPTY: u32 = 0;
const LIVE: u32 = 1;
const DEAD: u32 = 2;
/// Written but not yet committed: the posting tables may read it, `get`
/// does not see it (a follower's run waiting for its journal write).
const PENDING: u32 = 3;
const STATE_MASK: u32 = 3;

/// The largest model association key a slot can hold (30 bits; the other
/// two hold the state).
pub(crate) const MAX_ASSOC_KEY: u32 = (1 << 30) - 1;

struct Slot {
    /// `assoc << 2 | state`.
    meta: AtomicU32,
    /// The endpoints as 32-bit halves: 20 bytes a slot instead of 24. A
    /// slot is written once before its `Release` publication, so the halves
    /// are never read torn.
    src: [AtomicU32; 2],
    dst: [AtomicU32; 2],
}

impl Slot {
    fn new() -> Slot {
        Slot {
            meta: AtomicU32::new(EMPTY),
            src: [AtomicU32::new(0), AtomicU32::new(0)],
            dst: [AtomicU32::new(0), AtomicU32::new(0)],
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
        self.write(id, rec, LIVE);
        self.live.fetch_add(1, Ordering::Relaxed);
    }

    /// As [`RecordTable::insert`], but pending: the posting tables can read
    /// it and no id can repeat it, while `get` and the count do not see it
    /// until [`RecordTable::confirm`] (or [`RecordTable::unwrite`] takes it
    /// back).
    pub(crate) fn insert_pending(&self, id: i64, rec: StoredRecord) {
        self.write(id, rec, PENDING);
    }

    fn write(&self, id: i64, rec: StoredRecord, state: u32) {
        let Some(slot) = self.slot_or_alloc(id) else {
            return;
        };
        store_i64(&slot.src, rec.src);
        store_i64(&slot.dst, rec.dst);
        slot.meta.store(rec.assoc.0 << 2 | state, Ordering::Release);
    }

    /// Makes pending record `id` live.
    pub(crate) fn confirm(&self, id: i64) {
        if self.swap_state(id, PENDING, LIVE) {
            self.live.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Takes pending record `id` back: its slot is empty again.
    pub(crate) fn unwrite(&self, id: i64) {
        self.swap_state(id, PENDING, EMPTY);
    }

    /// Moves slot `id` from state `from` to `to`; `false` if it was not in
    /// `from`. The caller holds the shard locks of both endpoints.
    fn swap_state(&self, id: i64, from: u32, to: u32) -> bool {
        let Some(slot) = self.slot(id) else {
            return false;
        };
        let meta = slot.meta.load(Ordering::Acquire);
        if meta & STATE_MASK != from {
            return false;
        }
        slot.meta
            .store((meta & !STATE_MASK) | to, Ordering::Release);
        true
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

    /// Whether slot `id` was never written (no record ever had this id).
    pub(crate) fn is_unwritten(&self, id: i64) -> bool {
        self.slot(id)
            .is_none_or(|slot| slot.meta.load(Ordering::Acquire) & STATE_MASK == EMPTY)
    }

    /// Marks record `id` dead; `false` if it was not live. The caller holds
    /// the shard locks of both endpoints.
    pub(crate) fn kill(&self, id: i64) -> bool {
        let killed = self.swap_state(id, LIVE, DEAD);
        if killed {
            self.live.fetch_sub(1, Ordering::Relaxed);
        }
        killed
    }

    /// Live records.
    pub(crate) fn len(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    /// Calls `f` on every live record with an id up to `last`, in id order,
    /// walking the table chunk by chunk (sequential memory).
    pub(crate) fn scan(&self, last: i64, mut f: impl FnMut(i64, StoredRecord)) {
        let last = last.min(MAX_RECORD_ID);
        if last < 1 {
            return;
        }
        let chunks = (last as u64 >> LEVEL_BITS) as usize;
        for c in 0..=chunks {
            let (t, m) = (c >> LEVEL_BITS, c & (LEVEL - 1));
            let Some(chunk) = self.top[t].get().and_then(|middle| middle[m].get()) else {
                continue;
            };
            let base = (c as i64) << LEVEL_BITS;
            let end = chunk.len().min((last - base + 1) as usize);
            for (s, slot) in chunk[..end].iter().enumerate() {
                let meta = slot.meta.load(Ordering::Acquire);
                if meta & STATE_MASK == LIVE {
                    f(base + s as i64, fields(slot, meta));
                }
            }
        }
    }

    /// Every live record with an id up to `last`, for invariant checks.
    pub(crate) fn snapshot(&self, last: i64) -> Vec<(i64, StoredRecord)> {
        let mut all = Vec::new();
        self.scan(last, |id, rec| all.push((id, rec)));
        all
    }

    /// Whether slot `id` was ever written but is not live.
    #[cfg(test)]
    fn is_dead(&self, id: i64) -> bool {
        self.slot(id)
            .is_some_and(|s| s.meta.load(Ordering::Acquire) & STATE_MASK == DEAD)
    }
}

fn fields(slot: &Slot, meta: u32) -> StoredRecord {
    debug_assert_ne!(meta & STATE_MASK, EMPTY, "reading an unwritten slot");
    StoredRecord {
        assoc: AssocKey(meta >> 2),
        src: load_i64(&slot.src),
        dst: load_i64(&slot.dst),
    }
}

fn store_i64(halves: &[AtomicU32; 2], value: i64) {
    let v = value as u64;
    halves[0].store(v as u32, Ordering::Relaxed);
    halves[1].store((v >> 32) as u32, Ordering::Relaxed);
}

fn load_i64(halves: &[AtomicU32; 2]) -> i64 {
    let lo = u64::from(halves[0].load(Ordering::Relaxed));
    let hi = u64::from(halves[1].load(Ordering::Relaxed));
    (hi << 32 | lo) as i64
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

    #[test]
    fn a_pending_record_is_indexable_but_unseen_until_confirmed() {
        let table = RecordTable::default();
        let rec = StoredRecord {
            assoc: AssocKey(3),
            src: 10,
            dst: 20,
        };
        for confirm in [true, false] {
            table.insert_pending(7, rec);
            assert_eq!(table.get(7), None);
            assert_eq!(table.fields(7), rec);
            assert!(!table.is_unwritten(7), "its id is taken");
            assert!(!table.kill(7), "only a live record dies");
            assert_eq!(table.len(), 0);
            assert!(table.snapshot(10).is_empty());
            if confirm {
                table.confirm(7);
                assert_eq!(table.get(7), Some(rec));
                assert_eq!(table.len(), 1);
                assert!(table.kill(7));
                table.unwrite(7);
                assert!(table.is_dead(7), "unwrite leaves a dead record alone");
                // A fresh table for the second round.
                let fresh = RecordTable::default();
                fresh.insert_pending(7, rec);
                fresh.unwrite(7);
                assert!(fresh.is_unwritten(7));
                assert_eq!(fresh.get(7), None);
                assert_eq!(fresh.len(), 0);
            } else {
                table.confirm(8);
                assert_eq!(table.len(), 0, "confirming an empty slot does nothing");
            }
        }
    }
}
