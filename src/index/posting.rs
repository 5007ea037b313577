//! Posting lists: for one (model association, instance) key, the ids of the
//! records in which that instance plays one role (source or target), in
//! ascending id order.
//!
//! Memory is the point of this module. A key's entry in the hash table is a
//! single `i64`: the record id itself when the key has one record (the
//! common case under `1:1` and `1:n`), or `-(n + 1)` pointing at list `n` of
//! a side slab when it has more. A single record's key is not stored at all:
//! it is the record's source (or target), read from the [`RecordTable`]
//! without a lock. A list stores its key and (other endpoint, id) pairs
//! (one word each while both fit 32 bits, the first two inline in the list:
//! [`super::packing`]), so listing a fan-out reads nothing else. The table is grouped by model
//! association (a vector indexed by [`AssocKey`]), so a scan of one model
//! association touches only its own entries.
//!
//! Lists ascend because records are appended under the shard lock that owns
//! the key, and ids are allocated under that same lock.

use std::sync::Arc;

use crate::index::linear::Probe;
use crate::index::packing::{ListView, Packing, Words, widen};
use crate::index::tagged::{TaggedTable, hash};
use crate::index::{RecordTable, StoredRecord};
use crate::keys::AssocKey;

/// One record as seen from one endpoint: the other endpoint and the record id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Posting {
    pub(crate) other: i64,
    pub(crate) id: i64,
}

/// Which endpoint of its records a posting map is keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Source,
    Target,
}

impl Role {
    fn key(self, rec: StoredRecord) -> i64 {
        match self {
            Role::Source => rec.src,
            Role::Target => rec.dst,
        }
    }

    fn other(self, rec: StoredRecord) -> i64 {
        match self {
            Role::Source => rec.dst,
            Role::Target => rec.src,
        }
    }
}

/// A list of two or more records of one key: the key itself (so probing
/// never reads the record table for it) and the postings, ascending by id,
/// packed as its table's [`Packing`] says.
#[derive(Default)]
struct List {
    inst: i64,
    words: Words,
}

// Inline words cost nothing: a list is 32 bytes either way.
const _: () = assert!(std::mem::size_of::<List>() == 32);

/// The lists of one model association in one role.
#[derive(Default)]
struct AssocLists {
    table: TaggedTable,
    /// Lists of two or more records; `free` holds the indexes of empty ones.
    many: Vec<List>,
    free: Vec<usize>,
    /// How every list in `many` packs its postings.
    packing: Packing,
}

fn list_index(entry: i64) -> Option<usize> {
    (entry < 0).then(|| (-(entry + 1)) as usize)
}

/// Posting lists of one role in one shard.
pub(crate) struct PostingMap {
    role: Role,
    records: Arc<RecordTable>,
    by_assoc: Vec<AssocLists>,
}

impl std::fmt::Debug for PostingMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostingMap")
            .field("role", &self.role)
            .field("assocs", &self.by_assoc.len())
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Copy)]
enum Repr<'a> {
    Empty,
    /// One record: its id (the other endpoint is read from the table).
    One(i64),
    Many(ListView<'a>),
}

/// Where a lookup of one key stopped in its table, kept so that an append
/// to the same key right after skips the second probe
/// ([`PostingMap::push_at`] on the map it came from). A slot taken before
/// the table changed, or for another key, is ignored.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeySlot {
    role: Role,
    assoc: AssocKey,
    inst: i64,
    inst_hash: u64,
    /// `None` when the model association had no table yet.
    probe: Option<Probe>,
}

/// The records of one key, with what is needed to read their endpoints.
#[derive(Clone, Copy)]
pub(crate) struct Postings<'a> {
    repr: Repr<'a>,
    role: Role,
    records: &'a RecordTable,
}

impl<'a> Postings<'a> {
    pub(crate) fn len(&self) -> usize {
        match self.repr {
            Repr::Empty => 0,
            Repr::One(_) => 1,
            Repr::Many(list) => list.len(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        matches!(self.repr, Repr::Empty)
    }

    /// (other endpoint, id) of each record, in id order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = Posting> + 'a {
        let one = match self.repr {
            Repr::One(id) => Some(Posting {
                other: self.role.other(self.records.fields(id)),
                id,
            }),
            _ => None,
        };
        let many = match self.repr {
            Repr::Many(list) => Some(list),
            _ => None,
        };
        one.into_iter()
            .chain(many.into_iter().flat_map(ListView::iter))
    }

    /// Appends `f` of each posting to `out`, in id order: one push for a
    /// single record, one tight loop for a list ([`ListView::map_into`]),
    /// where [`Postings::iter`] is a chain of both.
    pub(crate) fn map_into<T>(&self, out: &mut Vec<T>, mut f: impl FnMut(Posting) -> T) {
        match self.repr {
            Repr::Empty => {}
            Repr::One(id) => out.push(f(Posting {
                other: self.role.other(self.records.fields(id)),
                id,
            })),
            Repr::Many(list) => list.map_into(out, f),
        }
    }

    /// The highest id in the list.
    pub(crate) fn last_id(&self) -> Option<i64> {
        match self.repr {
            Repr::Empty => None,
            Repr::One(id) => Some(id),
            Repr::Many(list) => list.len().checked_sub(1).map(|i| list.get(i).id),
        }
    }

    /// Whether record `id` is in the list.
    pub(crate) fn contains(&self, id: i64) -> bool {
        match self.repr {
            Repr::Empty => false,
            Repr::One(one) => one == id,
            Repr::Many(list) => list.position(id).is_ok(),
        }
    }
}

/// The key of a table entry: for a single record, its endpoint in `role`,
/// read from the record table; for a list, stored with it.
fn key_of(role: Role, records: &RecordTable, many: &[List], entry: i64) -> i64 {
    match list_index(entry) {
        Some(n) => many[n].inst,
        None => role.key(records.fields(entry)),
    }
}

/// Probes `table` for the key `inst` (whose [`hash`] is `inst_hash`): the
/// one probe every lookup, append and removal makes.
fn probe_key(
    table: &TaggedTable,
    many: &[List],
    (role, records): (Role, &RecordTable),
    inst: i64,
    inst_hash: u64,
) -> Probe {
    table.probe(inst_hash, |e| key_of(role, records, many, e) == inst)
}

/// Makes the lists of a table able to store `p`: switches them all to
/// [`Packing::Wide`] (once per table, and only past 32-bit ids) when their
/// packing cannot.
fn hold(many: &mut [List], packing: &mut Packing, p: Posting) {
    if !packing.holds(p) {
        for list in many {
            widen(&mut list.words);
        }
        *packing = Packing::Wide;
    }
}

impl PostingMap {
    pub(crate) fn new(role: Role, records: Arc<RecordTable>) -> PostingMap {
        PostingMap {
            role,
            records,
            by_assoc: Vec::new(),
        }
    }

    fn empty(&self) -> Postings<'_> {
        Postings {
            repr: Repr::Empty,
            role: self.role,
            records: &self.records,
        }
    }

    fn postings<'a>(&'a self, lists: &'a AssocLists, entry: i64) -> Postings<'a> {
        let repr = match list_index(entry) {
            Some(n) => Repr::Many(lists.packing.view(&lists.many[n].words)),
            None => Repr::One(entry),
        };
        Postings {
            repr,
            role: self.role,
            records: &self.records,
        }
    }

    /// The records where `inst` plays this role in `assoc`, in id order.
    pub(crate) fn get(&self, assoc: AssocKey, inst: i64) -> Postings<'_> {
        // Not `lookup(..).0`: the hot read paths skip building a key slot.
        self.find(assoc, inst, hash(inst))
            .map_or_else(|| self.empty(), |(lists, probe)| self.found(lists, probe))
    }

    /// The table of `assoc`, if it has one, and the probe for `inst` in it.
    fn find(&self, assoc: AssocKey, inst: i64, inst_hash: u64) -> Option<(&AssocLists, Probe)> {
        let lists = self.by_assoc.get(assoc.0 as usize)?;
        let key = (self.role, &*self.records);
        Some((
            lists,
            probe_key(&lists.table, &lists.many, key, inst, inst_hash),
        ))
    }

    /// The postings `probe` found in `lists`, or none.
    fn found<'a>(&'a self, lists: &'a AssocLists, probe: Probe) -> Postings<'a> {
        probe.found().map_or_else(
            || self.empty(),
            |slot| self.postings(lists, lists.table.get(slot)),
        )
    }

    /// [`PostingMap::get`] for an instance whose [`hash`] is `inst_hash`,
    /// with where the lookup stopped, for a [`PostingMap::push_at`] of the
    /// same key.
    pub(crate) fn lookup(
        &self,
        assoc: AssocKey,
        inst: i64,
        inst_hash: u64,
    ) -> (Postings<'_>, KeySlot) {
        debug_assert_eq!(inst_hash, hash(inst));
        let found = self.find(assoc, inst, inst_hash);
        let at = KeySlot {
            role: self.role,
            assoc,
            inst,
            inst_hash,
            probe: found.map(|(_, probe)| probe),
        };
        let postings =
            found.map_or_else(|| self.empty(), |(lists, probe)| self.found(lists, probe));
        (postings, at)
    }

    /// Reads the table slot where a lookup of (`assoc`, an instance whose
    /// [`hash`] is `inst_hash`) starts; see
    /// [`crate::index::linear::LinearTable::touch`].
    pub(crate) fn touch(&self, assoc: AssocKey, inst_hash: u64) -> u64 {
        self.by_assoc
            .get(assoc.0 as usize)
            .map_or(0, |lists| lists.table.touch(inst_hash))
    }

    /// Appends record `id` (already published in the record table, with
    /// `other` as its other endpoint); its id must exceed every id already
    /// in the list.
    #[cfg(test)]
    pub(crate) fn push(&mut self, assoc: AssocKey, inst: i64, posting: Posting) {
        let at = self.lookup(assoc, inst, hash(inst)).1;
        self.push_at(assoc, inst, at, posting);
    }

    /// [`PostingMap::push`] to the key that `at` was looked up for, without
    /// probing the table again when nothing changed since that lookup.
    pub(crate) fn push_at(&mut self, assoc: AssocKey, inst: i64, at: KeySlot, posting: Posting) {
        let index = assoc.0 as usize;
        if self.by_assoc.len() <= index {
            self.by_assoc.resize_with(index + 1, AssocLists::default);
        }
        let (role, records) = (self.role, &*self.records);
        let AssocLists {
            table,
            many,
            free,
            packing,
        } = &mut self.by_assoc[index];
        let same_key = at.role == role && at.assoc == assoc && at.inst == inst;
        let inst_hash = if same_key { at.inst_hash } else { hash(inst) };
        let probe = match at.probe {
            Some(p) if same_key && table.is_current(p) => p,
            _ => probe_key(table, many, (role, records), inst, inst_hash),
        };
        let Some(slot) = probe.found() else {
            table.insert_vacant(probe, inst_hash, posting.id);
            return;
        };
        let entry = table.get(slot);
        hold(many, packing, posting);
        if let Some(n) = list_index(entry) {
            let words = &mut many[n].words;
            debug_assert!(packing.view(words).iter().all(|p| p.id < posting.id));
            packing.push(words, posting);
            return;
        }
        let first = Posting {
            other: role.other(records.fields(entry)),
            id: entry,
        };
        hold(many, packing, first);
        debug_assert!(first.id < posting.id);
        let list = List {
            inst,
            words: packing.pair(first, posting),
        };
        let n = if let Some(n) = free.pop() {
            many[n] = list;
            n
        } else {
            many.push(list);
            many.len() - 1
        };
        table.set(slot, -(n as i64) - 1);
    }

    /// Removes record `id` from the list of (`assoc`, `inst`); `false` if it
    /// was not there. A list of one goes back inline; an empty one goes.
    pub(crate) fn remove(&mut self, assoc: AssocKey, inst: i64, id: i64) -> bool {
        let (role, records) = (self.role, &*self.records);
        let Some(AssocLists {
            table,
            many,
            free,
            packing,
        }) = self.by_assoc.get_mut(assoc.0 as usize)
        else {
            return false;
        };
        let Some(slot) = probe_key(table, many, (role, records), inst, hash(inst)).found() else {
            return false;
        };
        let Some(n) = list_index(table.get(slot)) else {
            if table.get(slot) == id {
                table.remove(slot);
                return true;
            }
            return false;
        };
        let words = &mut many[n].words;
        if !packing.remove(words, id) {
            return false;
        }
        let list = packing.view(words);
        if list.len() == 1 {
            // Back inline, in place: the key (so the hash) is unchanged.
            table.set(slot, list.get(0).id);
            many[n] = List::default();
            free.push(n);
        }
        true
    }

    /// Every non-empty list of model association `assoc`, with its instance.
    pub(crate) fn iter_assoc(&self, assoc: AssocKey) -> impl Iterator<Item = (i64, Postings<'_>)> {
        let (role, records) = (self.role, &*self.records);
        self.by_assoc
            .get(assoc.0 as usize)
            .into_iter()
            .flat_map(move |lists| {
                lists.table.iter().map(move |e| {
                    let inst = key_of(role, records, &lists.many, e);
                    (inst, self.postings(lists, e))
                })
            })
    }

    /// Every non-empty list with its key.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (AssocKey, i64, Postings<'_>)> {
        (0..self.by_assoc.len()).flat_map(move |a| {
            let assoc = AssocKey(a as u32);
            self.iter_assoc(assoc)
                .map(move |(inst, p)| (assoc, inst, p))
        })
    }
}

/// The id of the record (a, `src`, `dst`), given the source's list `outs` =
/// `out[(a, src)]` and the target's list `ins` = `inn[(a, dst)]`; scans the
/// shorter one.
pub(crate) fn find_triple(
    outs: Postings<'_>,
    ins: Postings<'_>,
    src: i64,
    dst: i64,
) -> Option<i64> {
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

    fn setup(records: &RecordTable, rows: &[(i64, i64, i64)]) {
        for &(id, src, dst) in rows {
            records.insert(
                id,
                StoredRecord {
                    assoc: AssocKey(0),
                    src,
                    dst,
                },
            );
        }
    }

    fn ids(p: Postings<'_>) -> Vec<i64> {
        p.iter().map(|p| p.id).collect()
    }

    fn push(map: &mut PostingMap, records: &RecordTable, id: i64) {
        let r = records.fields(id);
        let other = map.role.other(r);
        map.push(r.assoc, map.role.key(r), Posting { other, id });
    }

    #[test]
    fn push_find_remove_keeps_order_inlines_and_drops_empty_lists() {
        let records = Arc::new(RecordTable::default());
        setup(&records, &[(1, 1, 5), (2, 1, 6), (3, 1, 7), (4, 2, 5)]);
        let mut out = PostingMap::new(Role::Source, Arc::clone(&records));
        let a = AssocKey(0);
        for id in 1..=4 {
            push(&mut out, &records, id);
        }
        assert_eq!(ids(out.get(a, 1)), [1, 2, 3]);
        assert_eq!(ids(out.get(a, 2)), [4]);
        assert!(out.remove(a, 1, 2));
        assert!(!out.remove(a, 1, 2));
        let got: Vec<Posting> = out.get(a, 1).iter().collect();
        assert_eq!(
            got,
            [Posting { other: 5, id: 1 }, Posting { other: 7, id: 3 }]
        );
        assert!(out.remove(a, 1, 1));
        assert_eq!(ids(out.get(a, 1)), [3], "a list of one goes back inline");
        assert!(out.get(a, 1).contains(3) && !out.get(a, 1).contains(1));
        assert!(out.remove(a, 1, 3) && out.remove(a, 2, 4));
        assert_eq!(out.iter().count(), 0);
        assert!(out.get(AssocKey(9), 1).is_empty());
    }

    #[test]
    fn push_at_ignores_a_key_slot_of_another_key_or_taken_before_a_change() {
        let records = Arc::new(RecordTable::default());
        setup(&records, &[(1, 1, 5), (2, 2, 5), (3, 1, 6), (4, 3, 7)]);
        let mut out = PostingMap::new(Role::Source, Arc::clone(&records));
        let a = AssocKey(0);
        let at_1 = out.lookup(a, 1, hash(1)).1;
        let at_2 = out.lookup(a, 2, hash(2)).1;
        // Source 2's slot, used for source 1: probes again.
        out.push_at(a, 1, at_2, Posting { other: 5, id: 1 });
        // Source 2's slot, taken before the insert above: stale.
        out.push_at(a, 2, at_2, Posting { other: 5, id: 2 });
        // Source 1's slot, stale: the key now exists, and becomes a list.
        out.push_at(a, 1, at_1, Posting { other: 6, id: 3 });
        let at_3 = out.lookup(a, 3, hash(3)).1;
        out.push_at(a, 3, at_3, Posting { other: 7, id: 4 });
        assert_eq!(ids(out.get(a, 1)), [1, 3]);
        assert_eq!(ids(out.get(a, 2)), [2]);
        assert_eq!(ids(out.get(a, 3)), [4]);
        assert_eq!(out.iter().count(), 3);
    }

    #[test]
    fn lists_switch_to_wide_postings_when_an_endpoint_passes_32_bits() {
        let big = 1_i64 << 40;
        let records = Arc::new(RecordTable::default());
        // Sources 1 and 2 get narrow lists; source 3 has one record, to a
        // target past 2³². Its second record makes a list whose first
        // posting does not fit a word: every list of the table widens.
        setup(
            &records,
            &[(1, 1, 5), (2, 1, 6), (3, 2, 7), (4, 2, 8), (5, 3, big + 1)],
        );
        setup(&records, &[(6, 3, 9), (7, 1, big), (8, 2, 10)]);
        let mut out = PostingMap::new(Role::Source, Arc::clone(&records));
        let a = AssocKey(0);
        for id in 1..=8 {
            push(&mut out, &records, id);
        }
        let others =
            |out: &PostingMap, src| out.get(a, src).iter().map(|p| p.other).collect::<Vec<_>>();
        assert_eq!(others(&out, 1), [5, 6, big]);
        assert_eq!(others(&out, 2), [7, 8, 10]);
        assert_eq!(others(&out, 3), [big + 1, 9]);
        assert!(out.remove(a, 1, 7) && out.remove(a, 3, 5));
        assert_eq!(others(&out, 1), [5, 6]);
        assert_eq!(ids(out.get(a, 3)), [6], "back inline");
        assert!(out.get(a, 2).contains(8) && !out.get(a, 2).contains(6));
    }

    #[test]
    fn find_triple_scans_the_shorter_list() {
        let records = Arc::new(RecordTable::default());
        setup(&records, &[(1, 1, 5), (2, 1, 6), (3, 2, 6), (4, 3, 6)]);
        let mut out = PostingMap::new(Role::Source, Arc::clone(&records));
        let mut inn = PostingMap::new(Role::Target, Arc::clone(&records));
        let a = AssocKey(0);
        for id in 1..=4 {
            push(&mut out, &records, id);
            push(&mut inn, &records, id);
        }
        assert_eq!(find_triple(out.get(a, 1), inn.get(a, 6), 1, 6), Some(2));
        assert_eq!(find_triple(out.get(a, 2), inn.get(a, 5), 2, 5), None);
        assert_eq!(ids(inn.get(a, 6)), [2, 3, 4]);
    }

    #[test]
    fn many_keys_survive_growth_and_slab_reuse() {
        let records = Arc::new(RecordTable::default());
        let mut out = PostingMap::new(Role::Source, Arc::clone(&records));
        let a = AssocKey(0);
        let mut id = 0;
        for round in 0..3 {
            for src in 1..=2000 {
                id += 1;
                records.insert(
                    id,
                    StoredRecord {
                        assoc: a,
                        src,
                        dst: round,
                    },
                );
                push(&mut out, &records, id);
            }
        }
        for src in (1..=2000).step_by(2) {
            for i in ids(out.get(a, src)) {
                assert!(out.remove(a, src, i));
            }
        }
        assert_eq!(out.iter().count(), 1000);
        for src in (2..=2000).step_by(2) {
            assert_eq!(ids(out.get(a, src)).len(), 3);
            assert_eq!(
                out.get(a, src).iter().map(|p| p.other).collect::<Vec<_>>(),
                [0, 1, 2]
            );
        }
    }
}
