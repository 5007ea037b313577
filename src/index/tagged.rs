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
//! * The entry is **placed by its tag alone** (the tag is its placing hash
//!   for [`LinearTable`]: linear probing, growth by about a third), so
//!   growing the table never derives a key.
//!
//! Payloads are `i64`s as the posting maps use them: a positive record id
//! (below 2³⁶) or `-(n + 1)` for list `n` (`n` below 2³⁶).

use std::sync::OnceLock;

use super::linear::{LinearTable, Placement, Probe};

/// Bits of an entry holding the payload.
const PAYLOAD_BITS: u32 = 37;
const PAYLOAD_MASK: u64 = (1 << PAYLOAD_BITS) - 1;
/// Payload bit marking a list index rather than a record id.
const LIST_BIT: u64 = 1 << (PAYLOAD_BITS - 1);

/// A well-mixed 64-bit hash of an instance id (the `SplitMix64`
/// finaliser over the id plus a random per-process key): every output bit
/// depends on every input bit, so the tag (the top bits) is independent of
/// the bits that chose the shard. The key, like the keys of std's and
/// `ahash`'s default hashers, keeps ids picked to collide in one process's
/// tables (long probe runs) from colliding in another's.
pub(crate) fn hash(inst: i64) -> u64 {
    let mut z = (inst as u64).wrapping_add(process_key());
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The random key of [`hash`], drawn once per process from std's
/// randomly keyed hasher.
fn process_key() -> u64 {
    use std::hash::BuildHasher;
    static KEY: OnceLock<u64> = OnceLock::new();
    *KEY.get_or_init(|| std::collections::hash_map::RandomState::new().hash_one(0x9E37_79B9_u64))
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

/// Places an entry by its tag: the top bits of its key's hash.
struct ByTag;

impl Placement for ByTag {
    fn hash(bits: u64) -> u64 {
        bits & !PAYLOAD_MASK
    }
}

/// A set of payloads hashed by a key the caller derives from each payload.
#[derive(Debug, Default)]
pub(crate) struct TaggedTable {
    table: LinearTable<ByTag>,
}

impl TaggedTable {
    /// Entries held.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.table.len()
    }

    /// The slot of the payload whose key hashes to `hash` and for which
    /// `eq` holds.
    #[cfg(test)]
    pub(crate) fn find(&self, hash: u64, eq: impl FnMut(i64) -> bool) -> Option<usize> {
        self.probe(hash, eq).found()
    }

    /// As [`TaggedTable::find`], but also where an insert under `hash`
    /// would go when nothing is found (see [`LinearTable::probe`]).
    pub(crate) fn probe(&self, hash: u64, mut eq: impl FnMut(i64) -> bool) -> Probe {
        let tag = hash & !PAYLOAD_MASK;
        self.table
            .probe(tag, |bits| bits & !PAYLOAD_MASK == tag && eq(decode(bits)))
    }

    /// Whether `probe` was taken since the last change to the table.
    pub(crate) fn is_current(&self, probe: Probe) -> bool {
        self.table.is_current(probe)
    }

    /// See [`LinearTable::touch`].
    pub(crate) fn touch(&self, hash: u64) -> u64 {
        self.table.touch(hash & !PAYLOAD_MASK)
    }

    /// The payload in `slot` (from [`TaggedTable::find`]).
    pub(crate) fn get(&self, slot: usize) -> i64 {
        decode(self.table.get(slot))
    }

    /// Replaces the payload in `slot`; its key must be unchanged.
    pub(crate) fn set(&mut self, slot: usize, payload: i64) {
        let tag = self.table.get(slot) & !PAYLOAD_MASK;
        self.table.set(slot, tag | encode(payload));
    }

    /// Adds `payload` under a key hashing to `hash`, which the table must
    /// not hold yet.
    #[cfg(test)]
    pub(crate) fn insert(&mut self, hash: u64, payload: i64) {
        self.table.insert((hash & !PAYLOAD_MASK) | encode(payload));
    }

    /// As [`TaggedTable::insert`], into the slot where `vacant` (a probe
    /// under `hash` that found nothing) stopped; see
    /// [`LinearTable::insert_vacant`].
    pub(crate) fn insert_vacant(&mut self, vacant: Probe, hash: u64, payload: i64) {
        self.table
            .insert_vacant(vacant, (hash & !PAYLOAD_MASK) | encode(payload));
    }

    /// Removes the entry in `slot`.
    pub(crate) fn remove(&mut self, slot: usize) {
        self.table.remove(slot);
    }

    /// Every payload, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        self.table.iter().map(decode)
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
}
