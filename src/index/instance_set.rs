//! The instance registry of one model in one shard: a set of instance ids
//! stored inline, 8 bytes an entry, so a membership probe (two on every
//! create) reads one cache line.
//!
//! Built on [`LinearTable`]: an id is stored as its bits with the sign bit
//! flipped, which is never 0 except for `i64::MIN`, kept in a flag of its
//! own.

use super::linear::{LinearTable, Placement};
use super::tagged::hash;

const FLIP: u64 = 1 << 63;

/// Places an entry by the hash of the id it stores.
struct ById;

impl Placement for ById {
    fn hash(bits: u64) -> u64 {
        hash((bits ^ FLIP) as i64)
    }
}

/// A set of instance ids.
#[derive(Debug, Default)]
pub(crate) struct InstanceSet {
    table: LinearTable<ById>,
    /// Whether `i64::MIN` (the one id stored as 0) is in the set.
    has_min: bool,
}

impl InstanceSet {
    fn slot(&self, inst: i64) -> Option<usize> {
        let bits = inst as u64 ^ FLIP;
        self.table.find(hash(inst), |b| b == bits)
    }

    pub(crate) fn contains(&self, inst: i64) -> bool {
        if inst == i64::MIN {
            return self.has_min;
        }
        self.slot(inst).is_some()
    }

    /// See [`LinearTable::touch`]; `inst_hash` is the id's [`hash`].
    pub(crate) fn touch(&self, inst_hash: u64) -> u64 {
        self.table.touch(inst_hash)
    }

    /// Adds `inst`; `false` if it was there.
    pub(crate) fn insert(&mut self, inst: i64) -> bool {
        if inst == i64::MIN {
            return !std::mem::replace(&mut self.has_min, true);
        }
        if self.slot(inst).is_some() {
            return false;
        }
        self.table.insert(inst as u64 ^ FLIP);
        true
    }

    /// Removes `inst`; `false` if it was not there.
    pub(crate) fn remove(&mut self, inst: i64) -> bool {
        if inst == i64::MIN {
            return std::mem::replace(&mut self.has_min, false);
        }
        let Some(slot) = self.slot(inst) else {
            return false;
        };
        self.table.remove(slot);
        true
    }

    /// Ids held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.table.len() + usize::from(self.has_min)
    }

    /// Every id, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        let min = self.has_min.then_some(i64::MIN);
        min.into_iter()
            .chain(self.table.iter().map(|bits| (bits ^ FLIP) as i64))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn agrees_with_a_hash_set_including_the_extreme_ids() {
        let mut set = InstanceSet::default();
        let mut reference = HashSet::new();
        let ids = [i64::MIN, i64::MIN + 1, -1, 0, 1, 2, i64::MAX, 1 << 40];
        for round in 0..3 {
            for (i, &id) in ids.iter().chain(&[5, 6, 7]).enumerate() {
                let add = (i + round) % 3 != 0;
                let changed = if add { set.insert(id) } else { set.remove(id) };
                let want = if add {
                    reference.insert(id)
                } else {
                    reference.remove(&id)
                };
                assert_eq!(changed, want, "id {id}, round {round}");
            }
            for &id in &ids {
                assert_eq!(set.contains(id), reference.contains(&id), "id {id}");
            }
            assert_eq!(set.len(), reference.len());
            assert_eq!(set.iter().collect::<HashSet<_>>(), reference);
        }
    }
}
