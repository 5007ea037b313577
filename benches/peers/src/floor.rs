//! The floor: not a store but the lower bound on what any store's reads can
//! cost in this harness on this machine.
//!
//! It is built from the workload's known outcome (every created record with
//! its id) into perfect direct-indexed arrays: records by `id - 1`, and per
//! model association a compressed-sparse-row index over each model's
//! contiguous instance ids, by source and by target. A lookup is an array
//! index, a second array index and a slice: no hashing, no probing, no lock,
//! no rule, no copy. No real store can do that (bk-cmdb's ids are arbitrary
//! and its records change), so a store's time over the floor's is what its
//! generality costs, and a peer's time ÷ the floor's caps the speed-up any
//! store could show against that peer.
//!
//! It takes no writes ([`System::read_only`]): its load and single-create
//! rows, and its bytes, are shown as "–".

use crate::system::{Found, System};
use crate::workload::{Batch, ModelAssoc, Workload};

/// A CSR index of one model association in one role: the postings
/// `(id, other endpoint)` of instance `first + k` are
/// `postings[offsets[k]..offsets[k + 1]]`.
struct Csr {
    first: i64,
    offsets: Vec<u32>,
    postings: Vec<(i64, i64)>,
}

impl Csr {
    /// Index of model association `a` whose records are keyed by
    /// `key(src, dst) -> (instance, other)`, an instance of model `model`.
    fn new(w: &Workload, a: usize, model: usize, key: impl Fn(i64, i64) -> (i64, i64)) -> Csr {
        let m = &w.models[model];
        let mut lists = vec![Vec::new(); m.count as usize];
        for (i, &(assoc, src, dst)) in w.by_id.iter().enumerate() {
            if assoc == a {
                let (inst, other) = key(src, dst);
                lists[(inst - m.first) as usize].push((i as i64 + 1, other));
            }
        }
        let mut offsets = Vec::with_capacity(lists.len() + 1);
        let mut postings = Vec::new();
        for list in lists {
            offsets.push(postings.len() as u32);
            postings.extend(list);
        }
        offsets.push(postings.len() as u32);
        Csr {
            first: m.first,
            offsets,
            postings,
        }
    }

    fn get(&self, inst: i64) -> &[(i64, i64)] {
        let k = (inst - self.first) as usize;
        &self.postings[self.offsets[k] as usize..self.offsets[k + 1] as usize]
    }
}

/// The floor system: the loaded state, as perfect arrays.
pub struct Floor {
    /// `(src, dst)` of record `id` at `id - 1`.
    records: Vec<(i64, i64)>,
    by_source: Vec<Csr>,
    by_target: Vec<Csr>,
    /// Per model, every record touching it as `(id, src, dst)`, id order.
    by_model: Vec<Vec<(i64, i64, i64)>>,
}

impl Floor {
    /// The state after the workload's bulk load.
    pub fn new(w: &Workload) -> Floor {
        let assocs = 0..w.assocs.len();
        let by_model = (0..w.models.len())
            .map(|m| {
                let touches = |a: usize| w.assocs[a].src == m || w.assocs[a].dst == m;
                w.by_id
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| touches(t.0))
                    .map(|(i, &(_, src, dst))| (i as i64 + 1, src, dst))
                    .collect()
            })
            .collect();
        Floor {
            records: w.by_id.iter().map(|&(_, src, dst)| (src, dst)).collect(),
            by_source: assocs
                .clone()
                .map(|a| Csr::new(w, a, w.assocs[a].src, |s, d| (s, d)))
                .collect(),
            by_target: assocs
                .map(|a| Csr::new(w, a, w.assocs[a].dst, |s, d| (d, s)))
                .collect(),
            by_model,
        }
    }
}

impl System for Floor {
    fn read_only(&self) -> bool {
        true
    }

    /// Never called ([`System::read_only`]).
    fn bulk_load(&self, _: &Workload, _: &Batch) -> (usize, usize) {
        (0, 0)
    }

    /// Never called ([`System::read_only`]).
    fn create_one(&self, _: &ModelAssoc, _: i64, _: i64) -> bool {
        false
    }

    fn get_by_id(&self, id: i64, found: &mut Found) {
        let index = usize::try_from(id - 1).unwrap_or(usize::MAX);
        if let Some(&(src, dst)) = self.records.get(index) {
            found.call([(id, src, dst)]);
        }
    }

    fn by_source(&self, assoc: &ModelAssoc, src: i64, found: &mut Found) {
        let list = self.by_source[assoc.index].get(src);
        found.call(list.iter().map(|&(id, dst)| (id, src, dst)));
    }

    fn by_target(&self, assoc: &ModelAssoc, dst: i64, found: &mut Found) {
        let list = self.by_target[assoc.index].get(dst);
        found.call(list.iter().map(|&(id, src)| (id, src, dst)));
    }

    fn find_by_model(&self, _: &Workload, model: usize, found: &mut Found) {
        found.call(self.by_model[model].iter().copied());
    }
}
