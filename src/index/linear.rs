//! The open-addressing core shared by the posting tables
//! ([`super::tagged::TaggedTable`]) and the instance registry
//! ([`super::instance_set::InstanceSet`]): 8-byte entries, linear probing,
//! no separate metadata.
//!
//! * An entry is a non-zero `u64`; 0 marks an empty slot. What the bits mean
//!   is the wrapper's business; the core only asks, through [`Placement`],
//!   for the 64-bit hash that places an entry.
//! * The **home slot** of a hash `h` is `h × capacity ÷ 2⁶⁴` (the high half
//!   of the product): any capacity works, and homes ascend with `h`.
//! * **Linear probing**: an entry sits at its home or after it (cyclically),
//!   with no empty slot in between, so a lookup reads consecutive entries —
//!   usually one cache line — until a hit or an empty slot.
//! * **Removal** shifts later entries of the run back into the hole (no
//!   tombstones), so lookups never slow down after deletes.
//! * **Probe, then insert**: [`LinearTable::probe`] reports where a lookup
//!   stopped, found or not, stamped with the table's version (bumped by
//!   every change). [`LinearTable::insert_vacant`] writes into that empty
//!   slot without probing again while the stamp is current, and falls back
//!   to a full insert when it is not, so a stale probe can cost time but
//!   never misplace an entry.
//! * **Growth by about a third**: the table grows when an insert would pass
//!   [`MAX_LOAD`], to a capacity at which it is [`GROWN_LOAD`] full. A
//!   doubling table sits just under half full after each growth; this one
//!   never falls below about two-thirds, and its memory is 8 bytes an entry
//!   ÷ load.

use std::marker::PhantomData;

/// The table grows when an insert would make it fuller than this
/// (numerator, denominator).
const MAX_LOAD: (usize, usize) = (17, 20);
/// How full it is right after growing.
const GROWN_LOAD: (usize, usize) = (13, 20);
/// The smallest non-empty capacity.
const MIN_CAPACITY: usize = 8;

/// Where an entry goes: the hash its home slot is computed from.
pub(crate) trait Placement {
    /// The placing hash of entry `bits` (non-zero).
    fn hash(bits: u64) -> u64;
}

/// Non-zero `u64` entries placed by `P`.
pub(crate) struct LinearTable<P> {
    slots: Box<[u64]>,
    len: usize,
    /// Bumped by every change to `slots`: a [`Probe`] is current while it
    /// carries the same value.
    version: u64,
    placement: PhantomData<P>,
}

/// Where a [`LinearTable::probe`] stopped: at the entry it found, or at the
/// empty slot where an entry with that hash would be placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Probe {
    slot: usize,
    found: bool,
    version: u64,
}

impl Probe {
    /// The slot of the entry found, if any.
    pub(crate) fn found(self) -> Option<usize> {
        self.found.then_some(self.slot)
    }
}

impl<P> Default for LinearTable<P> {
    fn default() -> Self {
        LinearTable {
            slots: Box::default(),
            len: 0,
            version: 0,
            placement: PhantomData,
        }
    }
}

impl<P> std::fmt::Debug for LinearTable<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinearTable")
            .field("len", &self.len)
            .field("capacity", &self.slots.len())
            .field("version", &self.version)
            .finish()
    }
}

impl<P: Placement> LinearTable<P> {
    /// Entries held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Slots allocated.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.slots.len()
    }

    fn home(&self, hash: u64) -> usize {
        ((u128::from(hash) * self.slots.len() as u128) >> 64) as usize
    }

    fn next(&self, slot: usize) -> usize {
        if slot + 1 == self.slots.len() {
            0
        } else {
            slot + 1
        }
    }

    /// The slot of the first entry, probing from the home of `hash`, for
    /// which `hit` holds; `None` at the first empty slot.
    pub(crate) fn find(&self, hash: u64, hit: impl FnMut(u64) -> bool) -> Option<usize> {
        self.probe(hash, hit).found()
    }

    /// Probes from the home of `hash` to the first entry for which `hit`
    /// holds or, failing that, to the first empty slot: where
    /// [`LinearTable::insert`] would place an entry with placing hash `hash`.
    pub(crate) fn probe(&self, hash: u64, mut hit: impl FnMut(u64) -> bool) -> Probe {
        let stop = |slot, found| Probe {
            slot,
            found,
            version: self.version,
        };
        if self.len == 0 {
            return stop(usize::MAX, false);
        }
        let mut slot = self.home(hash);
        loop {
            let bits = self.slots[slot];
            if bits == 0 {
                return stop(slot, false);
            }
            if hit(bits) {
                return stop(slot, true);
            }
            slot = self.next(slot);
        }
    }

    /// Whether `probe` was taken since the last change to the table.
    pub(crate) fn is_current(&self, probe: Probe) -> bool {
        probe.version == self.version
    }

    /// The home slot's entry of `hash` (0 for an empty table): one plain
    /// load with no branch on what it reads, so a loop of them keeps many
    /// cache misses in flight and warms the lines a later
    /// [`LinearTable::find`] starts from.
    pub(crate) fn touch(&self, hash: u64) -> u64 {
        if self.slots.is_empty() {
            return 0;
        }
        self.slots[self.home(hash)]
    }

    /// The entry in `slot` (from [`LinearTable::find`]).
    pub(crate) fn get(&self, slot: usize) -> u64 {
        self.slots[slot]
    }

    /// Replaces the entry in `slot` with one of the same placing hash.
    pub(crate) fn set(&mut self, slot: usize, bits: u64) {
        debug_assert_eq!(P::hash(bits), P::hash(self.slots[slot]));
        self.slots[slot] = bits;
    }

    /// Adds entry `bits` (non-zero), which the table must not hold yet.
    pub(crate) fn insert(&mut self, bits: u64) {
        debug_assert!(bits != 0);
        if self.must_grow() {
            self.grow();
        }
        self.place(bits);
        self.len += 1;
        self.version += 1;
    }

    /// Adds entry `bits` (non-zero), which the table must not hold yet,
    /// where `vacant` stopped: a probe for the placing hash of `bits` that
    /// found nothing. Without the probe when it is current and the table
    /// need not grow; otherwise as [`LinearTable::insert`].
    pub(crate) fn insert_vacant(&mut self, vacant: Probe, bits: u64) {
        if vacant.found || !self.is_current(vacant) || self.must_grow() {
            self.insert(bits);
            return;
        }
        debug_assert!(bits != 0);
        debug_assert_eq!(vacant.slot, self.vacancy(P::hash(bits)));
        self.slots[vacant.slot] = bits;
        self.len += 1;
        self.version += 1;
    }

    /// Whether one more entry would pass [`MAX_LOAD`].
    fn must_grow(&self) -> bool {
        let (num, den) = MAX_LOAD;
        (self.len + 1) * den > self.slots.len() * num
    }

    /// The first empty slot from the home of `hash`.
    fn vacancy(&self, hash: u64) -> usize {
        let mut slot = self.home(hash);
        while self.slots[slot] != 0 {
            slot = self.next(slot);
        }
        slot
    }

    /// Writes `bits` into the first empty slot from its home on.
    fn place(&mut self, bits: u64) {
        let slot = self.vacancy(P::hash(bits));
        self.slots[slot] = bits;
    }

    fn grow(&mut self) {
        let (num, den) = GROWN_LOAD;
        let capacity = ((self.len + 1) * den / num).max(MIN_CAPACITY);
        let old = std::mem::replace(&mut self.slots, vec![0; capacity].into_boxed_slice());
        // Homes ascend with hashes, so walking the old slots in order writes
        // the new ones nearly in order too.
        for &bits in old.iter().filter(|&&bits| bits != 0) {
            self.place(bits);
        }
    }

    /// Removes the entry in `slot`, shifting back the entries after it
    /// that may move closer to their home; an emptied table frees its slots.
    pub(crate) fn remove(&mut self, slot: usize) {
        let cap = self.slots.len();
        let mut hole = slot;
        let mut next = self.next(slot);
        loop {
            let bits = self.slots[next];
            if bits == 0 {
                break;
            }
            let home = self.home(P::hash(bits));
            // The entry may fill the hole when the hole lies between its
            // home and where it sits, cyclically.
            if (next + cap - hole) % cap <= (next + cap - home) % cap {
                self.slots[hole] = bits;
                hole = next;
            }
            next = self.next(next);
        }
        self.slots[hole] = 0;
        self.len -= 1;
        self.version += 1;
        if self.len == 0 {
            self.slots = Box::default();
        }
    }

    /// Every entry, in slot order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.slots.iter().copied().filter(|&bits| bits != 0)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    /// Entries placed by their top byte only: long runs and collisions.
    struct TopByte;
    impl Placement for TopByte {
        fn hash(bits: u64) -> u64 {
            bits & 0xFF00_0000_0000_0000
        }
    }

    fn mix(x: u64) -> u64 {
        let z = (x ^ (x >> 31)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z ^ (z >> 29)
    }

    fn contains(t: &LinearTable<TopByte>, bits: u64) -> bool {
        t.find(TopByte::hash(bits), |b| b == bits).is_some()
    }

    /// Every entry `high << 60 | low` (`high` in 0..16, `low` in
    /// 1..=`max_low`) is found in `t` exactly when `reference` has it.
    fn assert_agrees(t: &LinearTable<TopByte>, reference: &HashSet<u64>, max_low: u64) {
        for high in 0..16_u64 {
            for low in 1..=max_low {
                let bits = (high << 60) | low;
                assert_eq!(contains(t, bits), reference.contains(&bits));
            }
        }
    }

    #[test]
    fn agrees_with_a_hash_set_through_inserts_and_removes() {
        let mut t = LinearTable::<TopByte>::default();
        let mut reference = HashSet::new();
        let mut state = 1_u64;
        for _ in 0..30_000 {
            state = mix(state.wrapping_add(0x9E37_79B9_7F4A_7C15));
            // 4,000 distinct entries with only 16 distinct homes' worth of
            // hash bits: every run is long and many wrap.
            let bits = ((state % 16) << 60) | ((state % 4_000) + 1);
            if reference.contains(&bits) {
                let slot = t.find(TopByte::hash(bits), |b| b == bits).unwrap();
                t.remove(slot);
                reference.remove(&bits);
            } else {
                t.insert(bits);
                reference.insert(bits);
            }
            assert_eq!(t.len(), reference.len());
        }
        assert_agrees(&t, &reference, 4_001);
        let all: HashSet<u64> = t.iter().collect();
        assert_eq!(all, reference);
    }

    #[test]
    fn runs_that_wrap_past_the_end_survive_removal() {
        // Every entry homes in the last slot, so the run wraps.
        let mut t = LinearTable::<TopByte>::default();
        let bits = |i: u64| 0xFF00_0000_0000_0000 | i;
        for i in 1..=7 {
            t.insert(bits(i));
        }
        let last = t.capacity() - 1;
        assert!(t.get(last) != 0 && t.get(0) != 0, "the run wraps");
        for i in [3, 1, 7] {
            let slot = t.find(bits(i), |b| b == bits(i)).unwrap();
            t.remove(slot);
        }
        for i in 1..=7 {
            assert_eq!(contains(&t, bits(i)), ![3, 1, 7].contains(&i), "entry {i}");
        }
    }

    /// Placed by a well-mixed hash, as the real tables are.
    struct Mixed;
    impl Placement for Mixed {
        fn hash(bits: u64) -> u64 {
            mix(bits)
        }
    }

    #[test]
    fn stays_about_two_thirds_full_or_more_as_it_grows() {
        let mut t = LinearTable::<Mixed>::default();
        for k in 1..=100_000 {
            t.insert(k);
            if k >= 100 {
                let load = t.len() as f64 / t.capacity() as f64;
                assert!((0.64..=0.85).contains(&load), "load {load} at {k}");
            }
        }
        for k in 1..=100_000 {
            let slot = t.find(Mixed::hash(k), |b| b == k).unwrap();
            t.remove(slot);
        }
        assert_eq!((t.len(), t.capacity()), (0, 0));
    }

    #[test]
    fn inserts_at_a_probed_vacancy_current_or_stale() {
        let mut t = LinearTable::<TopByte>::default();
        let mut reference = HashSet::new();
        let mut state = 3_u64;
        let mut held: Vec<Probe> = Vec::new();
        for step in 0..20_000 {
            state = mix(state.wrapping_add(0x9E37_79B9_7F4A_7C15));
            let bits = ((state % 16) << 60) | ((state % 3_000) + 1);
            let probe = t.probe(TopByte::hash(bits), |b| b == bits);
            assert_eq!(probe.found().is_some(), reference.contains(&bits));
            if let Some(slot) = probe.found() {
                if step % 4 == 0 {
                    t.remove(slot);
                    reference.remove(&bits);
                }
                continue;
            }
            // Every other insert uses a probe taken before the last
            // change (stale), for this entry's hash or another's: the
            // table must place the entry right all the same.
            let vacant = match held.pop() {
                Some(old) if step % 2 == 0 => old,
                _ => probe,
            };
            held.push(probe);
            t.insert_vacant(vacant, bits);
            reference.insert(bits);
            assert_eq!(t.len(), reference.len());
        }
        assert_agrees(&t, &reference, 3_001);
    }
}
