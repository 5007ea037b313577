//! Records by id, sharded by id so `get` by id takes one read lock.

use std::collections::HashMap;

use crate::keys::AssocKey;
use crate::sync::RwLock;

/// A record as stored: interned model association plus the two endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StoredRecord {
    pub(crate) assoc: AssocKey,
    pub(crate) src: i64,
    pub(crate) dst: i64,
}

type RecordMap = HashMap<i64, StoredRecord, ahash::RandomState>;

/// Records by id. These locks come last in the store's lock order; they are
/// taken alone, or under shard locks, and several at once only in ascending
/// order.
#[derive(Debug)]
pub(crate) struct RecordShards {
    shards: Box<[RwLock<RecordMap>]>,
    mask: usize,
}

impl RecordShards {
    /// `count` must be a power of two.
    pub(crate) fn new(count: usize) -> RecordShards {
        RecordShards {
            shards: (0..count).map(|_| RwLock::default()).collect(),
            mask: count - 1,
        }
    }

    pub(crate) fn shard_of(&self, id: i64) -> usize {
        (id as u64 as usize) & self.mask
    }

    pub(crate) fn get(&self, id: i64) -> Option<StoredRecord> {
        self.shards[self.shard_of(id)].read().get(&id).copied()
    }

    /// Inserts records, grouped so each record shard is locked once; all
    /// the needed shards are held together (ascending) so a reader by id
    /// sees the whole group or none of it.
    pub(crate) fn insert_all(&self, records: &[(i64, StoredRecord)]) {
        let mut needed: Vec<usize> = records.iter().map(|(id, _)| self.shard_of(*id)).collect();
        needed.sort_unstable();
        needed.dedup();
        let mut guards: Vec<_> = needed
            .iter()
            .map(|&i| (i, self.shards[i].write()))
            .collect();
        for (id, rec) in records {
            let i = self.shard_of(*id);
            if let Ok(pos) = guards.binary_search_by_key(&i, |(s, _)| *s) {
                guards[pos].1.insert(*id, *rec);
            }
        }
    }

    /// Removes records, holding every needed shard at once (ascending).
    pub(crate) fn remove_all(&self, ids: &[i64]) {
        let mut needed: Vec<usize> = ids.iter().map(|id| self.shard_of(*id)).collect();
        needed.sort_unstable();
        needed.dedup();
        let mut guards: Vec<_> = needed
            .iter()
            .map(|&i| (i, self.shards[i].write()))
            .collect();
        for id in ids {
            let i = self.shard_of(*id);
            if let Ok(pos) = guards.binary_search_by_key(&i, |(s, _)| *s) {
                guards[pos].1.remove(id);
            }
        }
    }

    /// Every record, for invariant checks: all shards read-locked together.
    pub(crate) fn snapshot(&self) -> Vec<(i64, StoredRecord)> {
        let guards: Vec<_> = self.shards.iter().map(RwLock::read).collect();
        guards
            .iter()
            .flat_map(|g| g.iter().map(|(id, r)| (*id, *r)))
            .collect()
    }

    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| s.read().len()).sum()
    }
}
