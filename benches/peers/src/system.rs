//! The operations every system runs, and what a lookup returns to the
//! benchmark.

use crate::workload::{Batch, ModelAssoc, Workload};

/// A system under test: assocstore or a peer, already holding the workload's
/// models, model associations and instances (each implementation's `new`).
///
/// Every lookup hands the records it found, in the order the system returns
/// them, to a [`Found`]; every system returns them in id order, as
/// `find_instance_association` does.
pub trait System {
    /// Whether it takes no writes (the [`crate::floor`] reference, built
    /// loaded): its bulk load and single creates are skipped.
    fn read_only(&self) -> bool {
        false
    }

    /// `batch_create_instance_association`: inserts the batch with bk-cmdb's
    /// per-item semantics (a refused item never stops the others) and
    /// returns (created, refused).
    fn bulk_load(&self, w: &Workload, batch: &Batch) -> (usize, usize);

    /// `add_instance_association`: whether it was created.
    fn create_one(&self, assoc: &ModelAssoc, src: i64, dst: i64) -> bool;

    /// The record with this id, if any.
    fn get_by_id(&self, id: i64, found: &mut Found);

    /// The records of `assoc` whose source is `src`.
    fn by_source(&self, assoc: &ModelAssoc, src: i64, found: &mut Found);

    /// The records of `assoc` whose target is `dst`.
    fn by_target(&self, assoc: &ModelAssoc, dst: i64, found: &mut Found);

    /// Every record touching model `model` (index into `w.models`), as
    /// source or target.
    fn find_by_model(&self, w: &Workload, model: usize, found: &mut Found);

    /// Bytes the system holds outside the Rust heap, which the counting
    /// allocator cannot see (SQLite's pages); 0 for pure Rust systems.
    fn foreign_bytes(&self) -> usize {
        0
    }
}

/// What lookups found: a count and two order-independent checksums, one over
/// (id, source, target) and one over (source, target) only (IndraDB's ids
/// are its own), plus whether each call returned its records in id order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    /// Records returned.
    pub count: u64,
    /// Sum of `mix(id, src, dst)`.
    pub sum: u64,
    /// Sum of `mix(0, src, dst)`.
    pub sum_pairs: u64,
    /// Every call returned ascending ids.
    pub ordered: bool,
}

impl Default for Found {
    fn default() -> Found {
        Found {
            count: 0,
            sum: 0,
            sum_pairs: 0,
            ordered: true,
        }
    }
}

impl Found {
    /// Adds the records of one call, `(id, src, dst)` in returned order.
    pub fn call(&mut self, records: impl IntoIterator<Item = (i64, i64, i64)>) {
        let mut last = i64::MIN;
        for (id, src, dst) in records {
            self.ordered &= id > last;
            last = id;
            self.add(id, src, dst);
        }
    }

    /// Adds one record.
    pub fn add(&mut self, id: i64, src: i64, dst: i64) {
        self.count += 1;
        self.sum = self.sum.wrapping_add(mix(id, src, dst));
        self.sum_pairs = self.sum_pairs.wrapping_add(mix(0, src, dst));
    }
}

/// A 64-bit hash of a record's numbers (`SplitMix64`'s finaliser over a
/// combination), so checksums of different record sets differ.
pub fn mix(id: i64, src: i64, dst: i64) -> u64 {
    let mut z = (id as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add((src as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F))
        .wrapping_add((dst as u64).wrapping_mul(0x1656_67B1_9E37_79F9));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
