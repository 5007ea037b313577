//! The hash table behind the posting maps: open addressing over 8-byte
//! entries that carry the top bits of their key's hash.
//!
//! A posting table maps an instance id to a small payload (a record id, or
//! the index of a list), but does not store the instance id: a payload's key
//! is derived from it (read from the record table, or from the list). So
//! comparing a probed entry with the key sought costs a memory read, and a
//! general-purpose table either keeps a separate array of hash fragments to
//! skip most of them (`hashbrown`'s control bytes: a second cache miss per
//! probe) or re-derives keys to rehash on growth.
//!
//! Here each entry packs both in one `u64`:
//!
//! ```text
//!  63            37 36                 0
//! +----------------+--------------------+
//! | tag (27 bits)  | payload (37 bits)  |
//! +----------------+--------------------+
//! ```
//!
//! * The **tag** is the top 27 bits of the key's hash. A probe compares tags
//!   in the entry it already read and derives the key only when they match
//!   (a false match: one in 2²⁷).
//! * The **home slot** is computed from the tag alone, `tag × capacity ÷ 2²⁷`,
//!   so growing the table never derives a key, and entries keep their order:
//!   the old table's slots are re-placed in one sequential pass.
//! * **Linear probing**: an entry sits at its home slot or after it (cyclically),
//!   with no empty slot in between; a lookup reads consecutive entries until
//!   the key or an empty slot (0 is never a valid entry). Removal shifts later
//!   entries of the run back (no tombstones), so lookups never slow down
//!   after deletes.
//! * **Growth by about a third**: the table grows when an insert would pass
//!   [`MAX_LOAD`], to a capacity at which it is [`GROWN_LOAD`] full. A
//!   doubling table sits just under half full after each growth; this one
//!   never falls below about two-thirds, which is most of the memory of a
//!   posting map (8 bytes an entry ÷ load).
//!
//! Payloads are `i64`s as the posting maps use them: a positive record id
//! (below 2³⁶) or `-(n + 1)` for list `n` (`n` below 2³⁶).

/// Bits of an entry holding the payload.
const PAYLOAD_BITS: u32 = 37;
const PAYLOAD_MASK: u64 = (1 << PAYLOAD_BITS) - 1;
/// Payload bit marking a list index rather than a record id.
const LIST_BIT: u64 = 1 << (PAYLOAD_BITS - 1);
/// Bits of the tag.
const TAG_BITS: u32 = 64 - PAYLOAD_BITS;

/// The table grows when an insert would make it fuller than this
/// (numerator, denominator).
const MAX_LOAD: (usize, usize) = (17, 20);
/// How full it is right after growing.
const GROWN_LOAD: (usize, usize) = (13, 20);
/// The smallest non-empty capacity.
const MIN_CAPACITY: usize = 8;

/// A well-mixed 64-bit hash of an instance id (the `SplitMix64`
/// finaliser): every output bit depends on every input bit, so the tag (the
/// top bits) is independent of the bits that chose the shard.
pub(crate) fn hash(inst: i64) -> u64 {
    let mut z = (inst as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn encode(payload: i64) -> u64 {
    debug_assert!(payload != 0 && payload.unsigned_abs() <= LIST_BIT);
    if payload > 0 {
        payload as u64
    } else {
        LIST_BIT | (-(payload + 1)) as u64
    }
}

fn decode(bits: u64) -> i64 {
    let payload = bits & PAYLOAD_MASK;
    if payload & LIST_BIT == 0 {
        payload as i64
    } else {
        -((payload & !LIST_BIT) as i64) - 1
    }
}

/// A set of payloads hashed by a key the caller derives from each payload.
#[derive(Debug, Default)]
pub(crate) struct TaggedTable {
    slots: Box<[u64]>,
    len: usize,
}

impl TaggedTable {
    /// Entries held.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.len
    }

    fn home(&self, tag: u64) -> usize {
        ((tag * self.slots.len() as u64) >> TAG_BITS) as usize
    }

    fn next(&self, slot: usize) -> usize {
        if slot + 1 == self.slots.len() {
            0
        } else {
            slot + 1
        }
    }

    /// The slot of the payload whose key hashes to `hash` and for which
    /// `eq` holds.
    pub(crate) fn find(&self, hash: u64, mut eq: impl FnMut(i64) -> bool) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        let tag = hash >> PAYLOAD_BITS;
        let mut slot = self.home(tag);
        loop {
            let bits = self.slots[slot];
            if bits == 0 {
                return None;
            }
            if bits >> PAYLOAD_BITS == tag && eq(decode(bits)) {
                return Some(slot);
            }
            slot = self.next(slot);
        }
    }

    /// The payload in `slot` (from [`TaggedTable::find`]).
    pub(crate) fn get(&self, slot: usize) -> i64 {
        decode(self.slots[slot])
    }

    /// Replaces the payload in `slot`; its key must be unchanged.
    pub(crate) fn set(&mut self, slot: usize, payload: i64) {
        let bits = &mut self.slots[slot];
        *bits = (*bits & !PAYLOAD_MASK) | encode(payload);
    }

    /// Adds `payload` under a key hashing to `hash`, which the table must
    /// not hold yet.
    pub(crate) fn insert(&mut self, hash: u64, payload: i64) {
        let (num, den) = MAX_LOAD;
        if (self.len + 1) * den > self.slots.len() * num {
            self.grow();
        }
        self.place((hash >> PAYLOAD_BITS) << PAYLOAD_BITS | encode(payload));
        self.len += 1;
    }

    /// Writes `bits` into the first empty slot from its home on.
    fn place(&mut self, bits: u64) {
        let mut slot = self.home(bits >> PAYLOAD_BITS);
        while self.slots[slot] != 0 {
            slot = self.next(slot);
        }
        self.slots[slot] = bits;
    }

    fn grow(&mut self) {
        let (num, den) = GROWN_LOAD;
        let capacity = ((self.len + 1) * den / num).max(MIN_CAPACITY);
        let old = std::mem::replace(&mut self.slots, vec![0; capacity].into_boxed_slice());
        // Homes ascend with tags, so walking the old slots in order writes
        // the new ones nearly in order too.
        for &bits in old.iter().filter(|&&bits| bits != 0) {
            self.place(bits);
        }
    }

    /// Removes the entry in `slot`, shifting back the entries after it
    /// that may move closer to their home.
    pub(crate) fn remove(&mut self, slot: usize) {
        let cap = self.slots.len();
        let mut hole = slot;
        let mut next = self.next(slot);
        loop {
            let bits = self.slots[next];
            if bits == 0 {
                break;
            }
            let home = self.home(bits >> PAYLOAD_BITS);
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
        if self.len == 0 {
            self.slots = Box::default();
        }
    }

    /// Every payload, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        self.slots
            .iter()
            .filter(|&&bits| bits != 0)
            .map(|&bits| decode(bits))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// Keys are payload ÷ 10 (rounded toward zero), so several payloads can
    /// share a hash only when their keys are equal.
    fn key(payload: i64) -> i64 {
        payload.abs() / 10
    }

    fn find(t: &TaggedTable, k: i64) -> Option<i64> {
        t.find(hash(k), |p| key(p) == k).map(|s| t.get(s))
    }

    #[test]
    fn payloads_round_trip_through_the_entry() {
        for p in [1, 2, (1 << 36) - 1, -1, -2, -(1 << 36)] {
            assert_eq!(decode(encode(p) | (123 << PAYLOAD_BITS)), p);
        }
    }

    #[test]
    fn agrees_with_a_hash_map_through_inserts_updates_and_removes() {
        let mut t = TaggedTable::default();
        let mut reference: HashMap<i64, i64> = HashMap::new();
        let mut state = 7_u64;
        for step in 0..40_000 {
            state = hash(state as i64);
            let k = (state % 3_000) as i64 + 1;
            let payload = if state & 1 == 0 { k * 10 } else { -(k * 10) };
            match (reference.get(&k), step % 3) {
                (None, _) => {
                    t.insert(hash(k), payload);
                    reference.insert(k, payload);
                }
                (Some(_), 0) => {
                    let slot = t.find(hash(k), |p| key(p) == k).unwrap();
                    t.remove(slot);
                    reference.remove(&k);
                }
                (Some(_), _) => {
                    let slot = t.find(hash(k), |p| key(p) == k).unwrap();
                    t.set(slot, payload);
                    reference.insert(k, payload);
                }
            }
            assert_eq!(t.len(), reference.len());
        }
        for k in 0..3_100 {
            assert_eq!(find(&t, k), reference.get(&k).copied(), "key {k}");
        }
        let mut all: Vec<i64> = t.iter().collect();
        let mut want: Vec<i64> = reference.values().copied().collect();
        all.sort_unstable();
        want.sort_unstable();
        assert_eq!(all, want);
    }

    #[test]
    fn runs_that_wrap_past_the_end_survive_removal() {
        // Every key with the same tag: one run, which must wrap.
        let mut t = TaggedTable::default();
        let same = 0xFFFF_FFFF_FFFF_FFFF;
        for p in 1..=7 {
            t.insert(same, p * 10);
        }
        let last = t.slots.len() - 1;
        assert!(t.slots[last] != 0 && t.slots[0] != 0, "the run wraps");
        for p in [3, 1, 7] {
            let slot = t.find(same, |x| x == p * 10).unwrap();
            t.remove(slot);
        }
        for p in 1..=7 {
            let found = t.find(same, |x| x == p * 10).is_some();
            assert_eq!(found, ![3, 1, 7].contains(&p), "payload {p}");
        }
    }

    #[test]
    fn stays_about_two_thirds_full_or_more_as_it_grows() {
        let mut t = TaggedTable::default();
        for k in 1..=100_000 {
            t.insert(hash(k), k * 10);
            if k >= 100 {
                let load = t.len() as f64 / t.slots.len() as f64;
                assert!((0.64..=0.85).contains(&load), "load {load} at {k}");
            }
        }
        for k in 1..=100_000 {
            let slot = t.find(hash(k), |p| key(p) == k).unwrap();
            t.remove(slot);
        }
        assert_eq!((t.len(), t.slots.len()), (0, 0));
    }
}
