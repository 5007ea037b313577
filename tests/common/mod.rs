//! Fixtures shared by the integration tests: the seed scenario of the bk-cmdb
//! API pages, model association builders per mapping, and assertions that
//! check an error's code and rendered message byte for byte.
//!
//! Each test file uses only part of this module.
#![allow(dead_code)]

use std::fmt::Debug;

use assocstore::{Condition, Error, InstanceAssociation, Mapping, NewModelAssociation, Store};

/// Source model of the seed scenario.
pub(crate) const SWITCH: &str = "bk_switch";
/// Target model of the seed scenario.
pub(crate) const HOST: &str = "host";
/// The seed model association: `bk_switch` belongs to `host`.
pub(crate) const SEED: &str = "bk_switch_belong_host";
/// Registered `bk_switch` instances of the seed scenario.
pub(crate) const SWITCHES: [i64; 2] = [11, 12];
/// Registered `host` instances of the seed scenario.
pub(crate) const HOSTS: [i64; 2] = [21, 22];

/// The seed scenario with the given mapping: model association
/// `bk_switch_belong_host` from `bk_switch` to `host`, switches 11 and 12,
/// hosts 21 and 22, no instance association yet.
pub(crate) fn seed_store_with(mapping: Mapping) -> Store {
    let store = Store::new();
    seed(&store, mapping);
    store
}

/// The seed scenario under `1:n` (one switch, many hosts), as in the crate
/// docs.
pub(crate) fn seed_store() -> Store {
    seed_store_with(Mapping::OneToMany)
}

/// Adds the seed scenario to an existing (empty) store.
pub(crate) fn seed(store: &Store, mapping: Mapping) {
    let id = store
        .create_model_association(&NewModelAssociation::new(SWITCH, "belong", HOST, mapping))
        .expect("seed model association");
    assert_eq!(id, 1, "the seed model association is the first one");
    store
        .register_instances(SWITCH, SWITCHES)
        .expect("seed switches");
    store.register_instances(HOST, HOSTS).expect("seed hosts");
}

/// A `1:1` model association with the conventional id `<src>_<kind>_<dst>`.
pub(crate) fn one_to_one(src: &str, kind: &str, dst: &str) -> NewModelAssociation {
    NewModelAssociation::new(src, kind, dst, Mapping::OneToOne)
}

/// A `1:n` model association with the conventional id `<src>_<kind>_<dst>`.
pub(crate) fn one_to_many(src: &str, kind: &str, dst: &str) -> NewModelAssociation {
    NewModelAssociation::new(src, kind, dst, Mapping::OneToMany)
}

/// An `n:n` model association with the conventional id `<src>_<kind>_<dst>`.
pub(crate) fn many_to_many(src: &str, kind: &str, dst: &str) -> NewModelAssociation {
    NewModelAssociation::new(src, kind, dst, Mapping::ManyToMany)
}

/// Creates `new` and returns its `bk_obj_asst_id`.
pub(crate) fn define(store: &Store, new: &NewModelAssociation) -> String {
    store
        .create_model_association(new)
        .expect("model association");
    new.bk_obj_asst_id.clone()
}

/// Asserts that `result` failed with exactly this code and exactly this
/// rendered message, and returns the error.
#[track_caller]
pub(crate) fn assert_err<T: Debug>(result: Result<T, Error>, code: i64, message: &str) -> Error {
    let err = match result {
        Ok(value) => panic!("expected error {code} `{message}`, got Ok({value:?})"),
        Err(err) => err,
    };
    assert_eq!(err.code(), code, "code of {err:?}");
    assert_eq!(err.to_string(), message, "message of {err:?}");
    err
}

/// Asserts that the store's indexes agree with its records.
#[track_caller]
pub(crate) fn assert_invariants(store: &Store) {
    assert_eq!(store.check_invariants(), Ok(()));
}

/// A condition parsed from JSON; panics on an invalid one.
pub(crate) fn cond(json: &serde_json::Value) -> Condition {
    Condition::from_json(json).expect("valid condition")
}

/// Every record touching `model`, unfiltered.
pub(crate) fn find_all(store: &Store, model: &str) -> Vec<InstanceAssociation> {
    store
        .find_instance_associations(model, &Condition::all())
        .expect("find")
}

/// The ids of `records`, in their order.
pub(crate) fn ids(records: &[InstanceAssociation]) -> Vec<i64> {
    records.iter().map(|r| r.id).collect()
}

/// The (source, target) pairs of `records`, in their order.
pub(crate) fn pairs(records: &[InstanceAssociation]) -> Vec<(i64, i64)> {
    records
        .iter()
        .map(|r| (r.bk_inst_id, r.bk_asst_inst_id))
        .collect()
}

/// Cases per property test: `ASSOC_QUERY_CASES` when set, else 256
/// (proptest's `Config::with_cases` ignores `PROPTEST_CASES`).
pub(crate) fn proptest_cases() -> u32 {
    std::env::var("ASSOC_QUERY_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

/// Every record of the store touching one of `models`, each once, in id
/// order, read with `Condition::all()`.
pub(crate) fn all_records(store: &Store, models: &[&str]) -> Vec<InstanceAssociation> {
    let mut all: Vec<InstanceAssociation> =
        models.iter().flat_map(|m| find_all(store, m)).collect();
    all.sort_by_key(|r| r.id);
    all.dedup_by_key(|r| r.id);
    all
}

/// A small deterministic generator (xorshift64*), one per thread.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Runs `op` on `threads` threads released together by a barrier, and
/// returns their results in thread order.
pub(crate) fn race<R: Send>(threads: usize, op: impl Fn(usize) -> R + Sync) -> Vec<R> {
    let barrier = std::sync::Barrier::new(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (barrier, op) = (&barrier, &op);
                s.spawn(move || {
                    barrier.wait();
                    op(t)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// `a_run_b` (`n:n`) with instances 1..=5 of `a` and of `b`: 11 change-feed
/// events.
pub(crate) fn a_run_b_with_five(store: &Store) {
    define(store, &many_to_many("a", "run", "b"));
    store.register_instances("a", 1..=5).expect("register a");
    store.register_instances("b", 1..=5).expect("register b");
}
