//! Taking a set of shard locks in the one global order.

use smallvec::SmallVec;

use super::Store;
use crate::durable::journal::Gather;
use crate::index::Shard;
use crate::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Shard indexes, sorted and deduplicated before any lock is taken.
fn sorted(mut indexes: SmallVec<[usize; 4]>) -> SmallVec<[usize; 4]> {
    indexes.sort_unstable();
    indexes.dedup();
    indexes
}

/// Write guards over a set of shards, in ascending shard order.
pub(super) struct WriteSet<'a> {
    guards: SmallVec<[(usize, RwLockWriteGuard<'a, Shard>); 4]>,
}

impl WriteSet<'_> {
    fn position(&self, shard: usize) -> usize {
        match self.guards.binary_search_by_key(&shard, |(i, _)| *i) {
            Ok(pos) => pos,
            Err(_) => unreachable!("shard {shard} used without its lock"),
        }
    }

    pub(super) fn holds(&self, shard: usize) -> bool {
        self.guards
            .binary_search_by_key(&shard, |(i, _)| *i)
            .is_ok()
    }

    /// The held shards by index (`None` where not held), for loops that
    /// look shards up by instance without a search each time.
    pub(super) fn dense(&self, shard_count: usize) -> Vec<Option<&Shard>> {
        let mut dense = vec![None; shard_count];
        for (i, guard) in &self.guards {
            dense[*i] = Some(&**guard);
        }
        dense
    }

    pub(super) fn get(&self, shard: usize) -> &Shard {
        &self.guards[self.position(shard)].1
    }

    /// Every held shard, mutably.
    pub(super) fn each_mut(&mut self) -> impl Iterator<Item = &mut Shard> {
        self.guards.iter_mut().map(|(_, guard)| &mut **guard)
    }

    pub(super) fn get_mut(&mut self, shard: usize) -> &mut Shard {
        let pos = self.position(shard);
        &mut self.guards[pos].1
    }
}

/// Read guards over a set of shards, in ascending shard order.
pub(super) struct ReadSet<'a> {
    guards: SmallVec<[(usize, RwLockReadGuard<'a, Shard>); 4]>,
}

impl ReadSet<'_> {
    pub(super) fn get(&self, shard: usize) -> &Shard {
        match self.guards.binary_search_by_key(&shard, |(i, _)| *i) {
            Ok(pos) => &self.guards[pos].1,
            Err(_) => unreachable!("shard {shard} read without its lock"),
        }
    }

    /// Every held shard with its index, ascending.
    pub(super) fn all(&self) -> impl Iterator<Item = (usize, &Shard)> {
        self.guards.iter().map(|(i, g)| (*i, &**g))
    }
}

impl Store {
    /// Write-locks the given shards in ascending order.
    pub(super) fn write_shards(&self, indexes: impl IntoIterator<Item = usize>) -> WriteSet<'_> {
        let gather = self.durable.as_ref().and_then(|d| d.gather());
        let guards = sorted(indexes.into_iter().collect())
            .into_iter()
            .map(|i| (i, self.write_shard(i, gather)))
            .collect();
        WriteSet { guards }
    }

    /// Write-locks shard `i`; a writer that has to wait counts as blocked
    /// for group commit's gathering (`src/durable/journal.rs`).
    fn write_shard(&self, i: usize, gather: Option<&Gather>) -> RwLockWriteGuard<'_, Shard> {
        let shard = &self.shards[i];
        match gather {
            None => shard.write(),
            Some(gather) => shard.try_write().unwrap_or_else(|| {
                let _blocked = gather.blocked();
                shard.write()
            }),
        }
    }

    /// Write-locks the shards owning the given instance ids.
    pub(super) fn write_insts(&self, insts: impl IntoIterator<Item = i64>) -> WriteSet<'_> {
        self.write_shards(insts.into_iter().map(|i| self.shard_index(i)))
    }

    /// Write-locks every shard.
    pub(super) fn write_all(&self) -> WriteSet<'_> {
        self.write_shards(0..self.shards.len())
    }

    /// Read-locks the given shards in ascending order.
    pub(super) fn read_shards(&self, indexes: impl IntoIterator<Item = usize>) -> ReadSet<'_> {
        let guards = sorted(indexes.into_iter().collect())
            .into_iter()
            .map(|i| (i, self.shards[i].read()))
            .collect();
        ReadSet { guards }
    }

    /// Read-locks every shard.
    pub(super) fn read_all(&self) -> ReadSet<'_> {
        self.read_shards(0..self.shards.len())
    }

    /// One shard, read-locked alone.
    pub(super) fn read_one(&self, shard: usize) -> RwLockReadGuard<'_, Shard> {
        RwLock::read(&self.shards[shard])
    }
}
