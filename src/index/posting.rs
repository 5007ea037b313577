//! Posting lists: for one (model association, instance) key, the records in
//! which that instance plays one role, as (other endpoint, record id) pairs.
//!
//! A list is a `SmallVec` with one inline entry (the common case under `1:1`
//! and `1:n`), kept in ascending id order: records are appended under the
//! shard lock that owns the key, and ids are allocated under that same lock,
//! so every append carries the largest id of its list.

use std::collections::HashMap;

use smallvec::SmallVec;

use crate::keys::AssocKey;

/// One record as seen from one endpoint: the other endpoint and the record id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Posting {
    pub(crate) other: i64,
    pub(crate) id: i64,
}

type PostingList = SmallVec<[Posting; 1]>;

/// Lists of one model association, by instance.
type ListsByInst = HashMap<i64, PostingList, ahash::RandomState>;

/// Posting lists of one role (sources or targets) in one shard, grouped by
/// model association (a dense vector indexed by [`AssocKey`]), so a scan of
/// one model association touches only its own lists and an entry's key is
/// just the instance id.
#[derive(Debug, Default)]
pub(crate) struct PostingMap {
    by_assoc: Vec<ListsByInst>,
}

impl PostingMap {
    /// The records where `inst` plays this role in `assoc`, in id order.
    pub(crate) fn get(&self, assoc: AssocKey, inst: i64) -> &[Posting] {
        self.by_assoc
            .get(assoc.0 as usize)
            .and_then(|lists| lists.get(&inst))
            .map_or(&[], |l| l.as_slice())
    }

    /// Appends a record; its id must exceed every id already in the list.
    pub(crate) fn push(&mut self, assoc: AssocKey, inst: i64, posting: Posting) {
        let index = assoc.0 as usize;
        if self.by_assoc.len() <= index {
            self.by_assoc.resize_with(index + 1, ListsByInst::default);
        }
        let list = self.by_assoc[index].entry(inst).or_default();
        debug_assert!(list.last().is_none_or(|p| p.id < posting.id));
        list.push(posting);
    }

    /// Removes record `id` from the list of (`assoc`, `inst`); `false` if it
    /// was not there. Empty lists are dropped.
    pub(crate) fn remove(&mut self, assoc: AssocKey, inst: i64, id: i64) -> bool {
        let Some(lists) = self.by_assoc.get_mut(assoc.0 as usize) else {
            return false;
        };
        let Some(list) = lists.get_mut(&inst) else {
            return false;
        };
        let Ok(pos) = list.binary_search_by_key(&id, |p| p.id) else {
            return false;
        };
        list.remove(pos);
        if list.is_empty() {
            lists.remove(&inst);
        }
        true
    }

    /// Every non-empty list of model association `assoc`, with its instance.
    pub(crate) fn iter_assoc(&self, assoc: AssocKey) -> impl Iterator<Item = (i64, &[Posting])> {
        self.by_assoc
            .get(assoc.0 as usize)
            .into_iter()
            .flat_map(|lists| lists.iter().map(|(&inst, list)| (inst, list.as_slice())))
    }

    /// Every non-empty list with its key.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (AssocKey, i64, &[Posting])> {
        self.by_assoc.iter().enumerate().flat_map(|(a, lists)| {
            let assoc = AssocKey(a as u32);
            lists
                .iter()
                .map(move |(&inst, list)| (assoc, inst, list.as_slice()))
        })
    }
}

/// The id of the record (a, `src`, `dst`), given the source's list `outs` =
/// `out[(a, src)]` and the target's list `ins` = `inn[(a, dst)]`; scans the
/// shorter one.
pub(crate) fn find_triple(outs: &[Posting], ins: &[Posting], src: i64, dst: i64) -> Option<i64> {
    let (list, other) = if outs.len() <= ins.len() {
        (outs, dst)
    } else {
        (ins, src)
    };
    list.iter().find(|p| p.other == other).map(|p| p.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_find_remove_keeps_order_and_drops_empty_lists() {
        let mut map = PostingMap::default();
        let a = AssocKey(0);
        for (other, id) in [(5, 1), (6, 2), (7, 3)] {
            map.push(a, 1, Posting { other, id });
        }
        let ins = [Posting { other: 9, id: 2 }; 3];
        assert_eq!(find_triple(map.get(a, 1), &ins, 1, 6), Some(2));
        assert_eq!(
            find_triple(map.get(a, 1), &ins[..1], 1, 6),
            None,
            "scans the shorter list"
        );
        assert!(map.remove(a, 1, 2));
        assert!(!map.remove(a, 1, 2));
        assert_eq!(
            map.get(a, 1),
            &[Posting { other: 5, id: 1 }, Posting { other: 7, id: 3 }]
        );
        assert!(map.remove(a, 1, 1) && map.remove(a, 1, 3));
        assert_eq!(map.iter().count(), 0);
    }
}
