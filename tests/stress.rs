//! Concurrent stress: K threads start on a barrier and run random
//! operations on a small instance set, over 1 shard, 2 shards and the
//! default. Then:
//!
//! * every record id is distinct, and each thread's ids increase;
//! * every record's fate is accounted for: it is still there, or exactly one
//!   call reported deleting it (by id, by instance, by cascade), or a
//!   delete-many call named it and the delete-many counts add up;
//! * instances registered and deleted add up to what the store holds;
//! * the surviving records, replayed in id order through the reference model
//!   (`tests/model/`), pass every rule of SPEC and give exactly the store's
//!   contents, and `check_invariants()` passes.
//!
//! Race checks, each repeated many times: K threads linking distinct sources
//! to one target under `1:1` and `1:n` (exactly one wins); the same triple
//! from K threads (exactly one wins); an atomic batch racing single creates
//! (all or none); deleting an instance racing creates (no record names a
//! deleted instance).
//!
//! And one scenario the tier-2 run found: whole-model reads must cost what
//! the live records cost, not every record ever created.
//!
//! A watchdog thread aborts a run that makes no progress for a long time
//! instead of letting it hang; with the `deadlock-detection` feature (as
//! `.ci/run` runs it) it also asks `parking_lot`'s deadlock detector every
//! 100 ms and aborts at once with the deadlocked threads' backtraces.
//!
//! Tier 1: K = 4, 20,000 operations per thread. Tier 2 (`--ignored`): K = 8,
//! 1,000,000 per thread. `ASSOC_STRESS_THREADS`, `ASSOC_STRESS_OPS` and
//! `ASSOC_STRESS_SEED` override. Figures go to stderr (`--nocapture`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "model/mod.rs"]
mod model;

use std::collections::{BTreeMap, HashSet};
use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use assocstore::{
    BatchCreate, Condition, EdgeFilter, Error, ItemOutcome, Mapping, NewModelAssociation, OnDelete,
    QueryFilter, Search, Store, Towards, Traversal,
};
use common::{Rng, all_records, race};
use serde_json::json;

/// Source and target models (the reference model's `a` and `b`).
const SRC: &str = "a";
const DST: &str = "b";
/// Instances 1 to `INSTANCES` in each model.
const INSTANCES: i64 = 8;
/// The model associations of the random run: (id, kind, mapping, `on_delete`).
const ASSOCS: [(&str, &str, Mapping, OnDelete); 3] = [
    ("a_belong_b", "belong", Mapping::OneToOne, OnDelete::None),
    ("a_run_b", "run", Mapping::OneToMany, OnDelete::DeleteDest),
    (
        "a_connect_b",
        "connect",
        Mapping::ManyToMany,
        OnDelete::DeleteSrc,
    ),
];
/// A model association that threads delete and create again.
const SPARE: &str = "a_default_b";

const CONFIGS: [(&str, Option<usize>); 3] = [
    ("shards=1", Some(1)),
    ("shards=2", Some(2)),
    ("default", None),
];

fn build(shards: Option<usize>) -> Store {
    match shards {
        Some(n) => Store::builder().shards(n).build().unwrap(),
        None => Store::new(),
    }
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

// ---------------------------------------------------------------------------
// Watchdog
// ---------------------------------------------------------------------------

/// Aborts the process, with backtraces, when `parking_lot` sees a deadlock
/// or `progress` stops moving for `stall` (the output bypasses the test
/// harness's capture, which an abort would lose).
struct Watchdog {
    done: Arc<AtomicBool>,
    handle: Option<thread::JoinHandle<()>>,
}

/// Aborts, with the threads' backtraces, if `parking_lot` sees a deadlock.
#[cfg(feature = "deadlock-detection")]
fn report_deadlocks(name: &str) {
    use std::fmt::Write as _;
    let deadlocks = parking_lot::deadlock::check_deadlock();
    if !deadlocks.is_empty() {
        let mut report = format!("stress [{name}]: {} deadlock(s)\n", deadlocks.len());
        for (i, threads) in deadlocks.iter().enumerate() {
            for t in threads {
                let _ = write!(
                    report,
                    "deadlock {i}, thread {:?}:\n{:?}\n",
                    t.thread_id(),
                    t.backtrace()
                );
            }
        }
        let _ = std::io::stderr().write_all(report.as_bytes());
        std::process::abort();
    }
}

/// Without the detector, a deadlock shows as a stall (see [`Watchdog`]).
#[cfg(not(feature = "deadlock-detection"))]
fn report_deadlocks(_name: &str) {}

impl Watchdog {
    fn start(name: &str, progress: Arc<AtomicU64>, stall: Duration) -> Watchdog {
        let done = Arc::new(AtomicBool::new(false));
        let stop = Arc::clone(&done);
        let name = name.to_owned();
        let handle = thread::spawn(move || {
            let mut last = (progress.load(Ordering::Relaxed), Instant::now());
            while !stop.load(Ordering::Relaxed) {
                thread::sleep(Duration::from_millis(100));
                report_deadlocks(&name);
                let now = progress.load(Ordering::Relaxed);
                if now != last.0 {
                    last = (now, Instant::now());
                } else if last.1.elapsed() > stall {
                    let report = format!(
                        "stress [{name}]: no progress for {stall:?} (stuck at {now} operations); \
                         no lock cycle seen, so a livelock or a lost wake-up\n"
                    );
                    let _ = std::io::stderr().write_all(report.as_bytes());
                    std::process::abort();
                }
            }
        });
        Watchdog {
            done,
            handle: Some(handle),
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

// ---------------------------------------------------------------------------
// The random run
// ---------------------------------------------------------------------------

impl Rng {
    fn inst(&mut self) -> i64 {
        1 + self.below(INSTANCES as u64) as i64
    }

    fn assoc(&mut self) -> &'static str {
        if self.below(8) == 0 {
            SPARE
        } else {
            ASSOCS[self.below(3) as usize].0
        }
    }

    fn model(&mut self) -> &'static str {
        if self.below(2) == 0 { SRC } else { DST }
    }
}

/// What one successful write did, as its caller saw it.
#[derive(Debug, Clone)]
enum Event {
    Created {
        id: i64,
        assoc: &'static str,
        src: i64,
        dst: i64,
    },
    /// This call deleted the record with this id.
    Deleted(i64),
    /// A delete-many call: the ids it named and how many it deleted.
    DeletedMany {
        ids: Vec<i64>,
        count: usize,
    },
    Registered(&'static str, i64),
    Unregistered(String, i64),
}

fn setup(store: &Store) {
    for (name, kind, mapping, on_delete) in ASSOCS {
        store
            .create_model_association(
                &NewModelAssociation::new(SRC, kind, DST, mapping)
                    .with_id(name)
                    .with_on_delete(on_delete),
            )
            .unwrap();
    }
    store.register_instances(SRC, 1..=INSTANCES).unwrap();
    store.register_instances(DST, 1..=INSTANCES).unwrap();
}

fn expect_codes<T>(what: &str, r: &Result<T, Error>, codes: &[i64]) {
    if let Err(e) = r {
        assert!(
            codes.contains(&e.code()),
            "{what}: unexpected error {} {e}",
            e.code()
        );
    }
}

/// One thread's run: its events and the ids it was handed, in order.
#[allow(clippy::too_many_lines)] // one arm per operation
fn worker(store: &Store, seed: u64, ops: u64, progress: &AtomicU64) -> (Vec<Event>, Vec<i64>) {
    let mut rng = Rng::new(seed);
    let mut events = Vec::new();
    let mut ids = Vec::new();
    // A record id: mostly just below this thread's latest one (so, often a
    // live record, and one other threads may be deleting too), sometimes any.
    let recent = |ids: &Vec<i64>, rng: &mut Rng| -> i64 {
        let last = ids.last().copied().unwrap_or(0);
        if rng.below(4) == 0 {
            1 + rng.below(last as u64 + 16) as i64
        } else {
            (last + 8 - rng.below(64) as i64).max(1)
        }
    };
    for _ in 0..ops {
        progress.fetch_add(1, Ordering::Relaxed);
        match rng.below(100) {
            0..=34 => {
                let (assoc, src, dst) = (rng.assoc(), rng.inst(), rng.inst());
                let r = store.create_instance_association(assoc, src, dst);
                expect_codes(
                    "create",
                    &r,
                    &[
                        1_101_046, 1_101_052, 1_101_061, 1_199_014, 1_101_073, 1_101_074,
                    ],
                );
                if let Ok(id) = r {
                    ids.push(id);
                    events.push(Event::Created {
                        id,
                        assoc,
                        src,
                        dst,
                    });
                }
            }
            35..=49 => {
                let assoc = rng.assoc();
                let details: Vec<(i64, i64)> = (0..=rng.below(6))
                    .map(|_| (rng.inst(), rng.inst()))
                    .collect();
                let batch = BatchCreate::new(SRC, DST, assoc, details.clone())
                    .atomic(rng.below(2) == 0)
                    .idempotent(rng.below(2) == 0);
                let r = store.batch_create_instance_associations(&batch);
                expect_codes("batch", &r, &[1_101_046]);
                if let Ok(out) = r {
                    assert_eq!(out.items.len(), details.len());
                    let created = out.created();
                    assert!(
                        !batch.atomic || created == 0 || out.error_msg().is_empty(),
                        "atomic batch partly applied: {out:?}"
                    );
                    for (item, &(src, dst)) in out.items.iter().zip(&details) {
                        if let ItemOutcome::Created(id) = item {
                            ids.push(*id);
                            events.push(Event::Created {
                                id: *id,
                                assoc,
                                src,
                                dst,
                            });
                        }
                    }
                }
            }
            50..=59 => {
                let id = recent(&ids, &mut rng);
                if store.delete_instance_association(rng.model(), id).unwrap() {
                    events.push(Event::Deleted(id));
                }
            }
            60..=64 => {
                let named: Vec<i64> = (0..=rng.below(4)).map(|_| recent(&ids, &mut rng)).collect();
                let count = store
                    .delete_instance_associations(rng.model(), &named)
                    .unwrap();
                if count > 0 {
                    events.push(Event::DeletedMany { ids: named, count });
                }
            }
            65..=68 => {
                let removed = store
                    .delete_instance_associations_of(rng.model(), rng.inst())
                    .unwrap();
                events.extend(removed.iter().map(|r| Event::Deleted(r.id)));
            }
            69..=72 => {
                let (m, id) = (rng.model(), rng.inst());
                let r = store.delete_instance(m, id);
                expect_codes("delete_instance", &r, &[1_101_075]);
                if r == Ok(true) {
                    events.push(Event::Unregistered(m.to_owned(), id));
                }
            }
            73..=77 => {
                let (m, id) = (rng.model(), rng.inst());
                let r = store.register_instance(m, Some(id), None);
                expect_codes("register_instance", &r, &[1_199_014]);
                if r.is_ok() {
                    events.push(Event::Registered(m, id));
                }
            }
            78 => {
                let r = store.delete_instance_cascade(rng.model(), rng.inst());
                expect_codes("cascade", &r, &[1_101_075]);
                if let Ok(out) = r {
                    events.extend(out.associations.iter().map(|r| Event::Deleted(r.id)));
                    events.extend(
                        out.instances
                            .iter()
                            .map(|(m, i)| Event::Unregistered(m.to_string(), *i)),
                    );
                }
            }
            79 => {
                // Toggle the spare model association: refused while in use.
                match store.model_association(SPARE) {
                    Some(a) => expect_codes(
                        "delete_model_association",
                        &store.delete_model_association(a.id),
                        &[1_101_043],
                    ),
                    None => expect_codes(
                        "create_model_association",
                        &store.create_model_association(
                            &NewModelAssociation::new(SRC, "default", DST, Mapping::ManyToMany)
                                .with_id(SPARE),
                        ),
                        &[1_101_038, 1_199_014],
                    ),
                }
            }
            _ => read(store, &mut rng),
        }
    }
    (events, ids)
}

/// A random read; its answer must be well-formed.
fn read(store: &Store, rng: &mut Rng) {
    let (m, id) = (rng.model(), rng.inst());
    match rng.below(6) {
        0 => {
            let cond = Condition::from_json(&json!({"bk_inst_id": {"$in": [id, id + 1]}})).unwrap();
            let found = store.find_instance_associations(m, &cond).unwrap();
            assert!(
                found.windows(2).all(|w| w[0].id < w[1].id),
                "find in id order"
            );
            assert!(
                found
                    .iter()
                    .all(|r| r.bk_inst_id == id || r.bk_inst_id == id + 1)
            );
        }
        1 => {
            let search = Search::from_json(&json!({
                "conditions": {"condition": "OR", "rules": [
                    {"field": "bk_asst_inst_id", "operator": "equal", "value": id},
                    {"field": "bk_obj_asst_id", "operator": "begins_with", "value": "a_r"}]},
                "page": {"start": 0, "limit": 50, "sort": "-id"}}))
            .unwrap();
            let found = store.search_instance_associations(m, &search).unwrap();
            assert!(found.windows(2).all(|w| w[0].id > w[1].id), "sorted by -id");
        }
        2 => {
            let filter = QueryFilter::from_json(&json!({"condition": "AND", "rules": [
                {"field": "bk_inst_id", "operator": "less_or_equal", "value": id}]}))
            .unwrap();
            store
                .count_instance_associations(SRC, Some(&filter))
                .unwrap();
        }
        3 => {
            let fields = ["id".to_owned()];
            let found = store
                .search_related_instance_associations(m, id, &fields, 0, 0)
                .unwrap();
            assert!(
                found.windows(2).all(|w| w[0].id < w[1].id),
                "related in id order"
            );
        }
        4 => match store.traverse(m, id, &Traversal::new(Towards::Both, 3)) {
            Ok(reached) => {
                let mut seen = HashSet::new();
                assert!(
                    reached
                        .iter()
                        .all(|r| seen.insert((r.bk_obj_id.clone(), r.bk_inst_id)))
                );
            }
            Err(e) => assert_eq!(e.code(), 1_199_011),
        },
        _ => match store.neighbours(m, id, Towards::Downstream, &EdgeFilter::default()) {
            Ok(ns) => assert!(
                ns.windows(2)
                    .all(|w| w[0].association.id < w[1].association.id)
            ),
            Err(e) => assert_eq!(e.code(), 1_199_011),
        },
    }
}

/// Counts of successful writes: created, deleted one by one, deleted by
/// delete-many, instances registered, instances deleted.
fn tally(results: &[(Vec<Event>, Vec<i64>)]) -> String {
    let mut n = [0usize; 5];
    for (events, _) in results {
        for e in events {
            match e {
                Event::Created { .. } => n[0] += 1,
                Event::Deleted(_) => n[1] += 1,
                Event::DeletedMany { count, .. } => n[2] += count,
                Event::Registered(..) => n[3] += 1,
                Event::Unregistered(..) => n[4] += 1,
            }
        }
    }
    format!(
        "{} records created, {} deleted by id / instance / cascade, {} by delete-many; \
         {} instances registered, {} deleted",
        n[0], n[1], n[2], n[3], n[4]
    )
}

/// Runs the random stress once and checks everything; returns operations
/// run and the tally of successful writes.
fn random_run(
    config: &str,
    shards: Option<usize>,
    threads: usize,
    ops: u64,
    seed: u64,
) -> (u64, String) {
    let store = build(shards);
    setup(&store);
    let progress = Arc::new(AtomicU64::new(0));
    let _watchdog = Watchdog::start(config, Arc::clone(&progress), Duration::from_mins(2));
    let results: Vec<(Vec<Event>, Vec<i64>)> =
        race(threads, |t| worker(&store, seed + t as u64, ops, &progress));
    verify(&store, &results);
    (progress.load(Ordering::Relaxed), tally(&results))
}

/// The checks after a random run (see the module docs).
#[allow(clippy::too_many_lines)] // one block per check, in the order of the module docs
fn verify(store: &Store, results: &[(Vec<Event>, Vec<i64>)]) {
    store.check_invariants().unwrap();

    // Ids: distinct, increasing per thread.
    let mut created: BTreeMap<i64, (&'static str, i64, i64)> = BTreeMap::new();
    for (events, ids) in results {
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "a thread's ids ascend");
        for e in events {
            if let Event::Created {
                id,
                assoc,
                src,
                dst,
            } = *e
            {
                assert!(
                    created.insert(id, (assoc, src, dst)).is_none(),
                    "id {id} handed out twice"
                );
            }
        }
    }

    // Every record's fate.
    let mut deleted: HashSet<i64> = HashSet::new();
    let mut many_named: HashSet<i64> = HashSet::new();
    let mut many_count = 0;
    for (events, _) in results {
        for e in events {
            match e {
                Event::Deleted(id) => {
                    assert!(created.contains_key(id), "deleted {id}, never created");
                    assert!(deleted.insert(*id), "record {id} deleted twice");
                }
                Event::DeletedMany { ids, count } => {
                    many_named.extend(ids);
                    many_count += count;
                }
                _ => {}
            }
        }
    }
    let all = all_records(store, &[SRC, DST]);
    let surviving: Vec<(i64, &'static str, i64, i64)> = created
        .iter()
        .filter(|(id, _)| !deleted.contains(id))
        .filter(|(id, _)| all.iter().any(|r| r.id == **id))
        .map(|(&id, &(a, s, d))| (id, a, s, d))
        .collect();
    assert_eq!(
        all.len(),
        surviving.len(),
        "every record in the store was created by someone"
    );
    for (r, &(id, assoc, src, dst)) in all.iter().zip(&surviving) {
        assert_eq!(
            (r.id, &*r.bk_obj_asst_id, r.bk_inst_id, r.bk_asst_inst_id),
            (id, assoc, src, dst),
            "a record is what its create said"
        );
    }
    let unreported: Vec<i64> = created
        .keys()
        .filter(|id| !deleted.contains(id) && !all.iter().any(|r| r.id == **id))
        .copied()
        .collect();
    assert!(
        unreported.iter().all(|id| many_named.contains(id)),
        "a record went without any call deleting it"
    );
    assert_eq!(unreported.len(), many_count, "delete-many counts add up");

    // Instances: setup, plus registrations, minus deletions.
    let mut instances: BTreeMap<(String, i64), i64> = BTreeMap::new();
    for m in [SRC, DST] {
        for id in 1..=INSTANCES {
            instances.insert((m.to_owned(), id), 1);
        }
    }
    for (events, _) in results {
        for e in events {
            let (key, step) = match e {
                Event::Registered(m, id) => (((*m).to_owned(), *id), 1),
                Event::Unregistered(m, id) => ((m.clone(), *id), -1),
                _ => continue,
            };
            *instances.entry(key).or_default() += step;
        }
    }

    // Replay through the reference model, in id order.
    let mut reference = model::Model::new(store.batch_limit());
    for a in store.model_associations() {
        reference.last_assoc_id = a.id - 1;
        let id = reference
            .create_assoc(model::Assoc {
                id: 0,
                bk_obj_asst_id: a.bk_obj_asst_id.clone(),
                bk_obj_asst_name: a.bk_obj_asst_name.clone(),
                bk_obj_id: a.bk_obj_id.clone(),
                bk_asst_obj_id: a.bk_asst_obj_id.clone(),
                bk_asst_id: a.bk_asst_id.clone(),
                mapping: a.mapping,
                on_delete: a.on_delete,
            })
            .unwrap();
        assert_eq!(id, a.id);
    }
    for ((m, id), n) in &instances {
        assert!(
            *n == 0 || *n == 1,
            "instance {m}/{id} registered {n} times over"
        );
        if *n == 1 {
            reference.register(m, Some(*id), None).unwrap();
        }
    }
    for (id, assoc, src, dst) in surviving {
        if let Err(f) = reference.create_with_id(assoc, src, dst, id) {
            panic!("replaying record {id} ({assoc}, {src}, {dst}): {f:?}");
        }
    }
    model::check_contents(store, &reference).unwrap();
}

// ---------------------------------------------------------------------------
// Race checks
// ---------------------------------------------------------------------------

fn race_store(shards: Option<usize>, mapping: Mapping, targets: i64) -> Store {
    let store = build(shards);
    store
        .create_model_association(&NewModelAssociation::new(SRC, "belong", DST, mapping))
        .unwrap();
    store.register_instances(SRC, 1..=16).unwrap();
    store.register_instances(DST, 1..=targets).unwrap();
    store
}

/// K threads link distinct sources to one target: under `1:1` and `1:n`
/// exactly one wins, the others get the mapping error.
fn distinct_sources_one_target(shards: Option<usize>, threads: usize, rounds: usize) {
    for (mapping, code) in [
        (Mapping::OneToOne, 1_101_052),
        (Mapping::OneToMany, 1_101_061),
    ] {
        for round in 0..rounds {
            let store = race_store(shards, mapping, 4);
            let target = 1 + (round as i64 % 4);
            let results = race(threads, |t| {
                store.create_instance_association("a_belong_b", 1 + t as i64, target)
            });
            let wins = results.iter().filter(|r| r.is_ok()).count();
            assert_eq!(wins, 1, "{mapping:?}: {results:?}");
            assert!(
                results
                    .iter()
                    .all(|r| r.as_ref().map_or_else(|e| e.code() == code, |_| true))
            );
            assert_eq!(store.len(), 1);
            store.check_invariants().unwrap();
        }
    }
}

/// The same triple from K threads: exactly one wins, under every mapping.
fn same_triple(shards: Option<usize>, threads: usize, rounds: usize) {
    for (mapping, code) in [
        (Mapping::OneToOne, 1_101_052),
        (Mapping::OneToMany, 1_101_061),
        (Mapping::ManyToMany, 1_199_014),
    ] {
        for _ in 0..rounds {
            let store = race_store(shards, mapping, 4);
            let results = race(threads, |_| {
                store.create_instance_association("a_belong_b", 3, 2)
            });
            assert_eq!(
                results.iter().filter(|r| r.is_ok()).count(),
                1,
                "{results:?}"
            );
            assert!(
                results
                    .iter()
                    .all(|r| r.as_ref().map_or_else(|e| e.code() == code, |_| true))
            );
            assert_eq!(store.len(), 1);
            store.check_invariants().unwrap();
        }
    }
}

/// An atomic batch (sources 1 to 4 → targets 1 to 4, `1:1`) racing single
/// creates that each take one of its sources: the batch is all or none, and
/// all-in exactly when no single create won first.
fn atomic_batch_vs_singles(shards: Option<usize>, threads: usize, rounds: usize) {
    for round in 0..rounds {
        let store = race_store(shards, Mapping::OneToOne, 16);
        let batch = BatchCreate::new(SRC, DST, "a_belong_b", (1..=4).map(|i| (i, i))).atomic(true);
        let results = race(threads, |t| {
            if t == 0 {
                let out = store.batch_create_instance_associations(&batch).unwrap();
                Err(out)
            } else {
                // Source `t` (in 1..=4 for K ≤ 5) to a target outside the batch.
                let src = 1 + ((t - 1 + round) % 4) as i64;
                Ok(store.create_instance_association("a_belong_b", src, 8 + t as i64))
            }
        });
        let mut batch_out = None;
        let mut singles_won = 0;
        for r in results {
            match r {
                Err(out) => batch_out = Some(out),
                Ok(Ok(_)) => singles_won += 1,
                Ok(Err(e)) => assert_eq!(e.code(), 1_101_052),
            }
        }
        let out = batch_out.unwrap();
        let created = out.created();
        assert!(
            created == 0 || created == 4,
            "atomic batch partly applied: {out:?}"
        );
        assert_eq!(
            created == 4,
            singles_won == 0,
            "{out:?}, {singles_won} single creates won"
        );
        if created == 0 {
            assert_eq!(out.rolled_back().len() + out.error_msg().len(), 4);
        }
        assert_eq!(store.len(), created + singles_won);
        store.check_invariants().unwrap();
    }
}

/// Deleting an instance racing creates that link to it: either the delete
/// wins and no create does, or a create wins and the delete is refused;
/// never a record naming a deleted instance.
fn instance_delete_vs_creates(shards: Option<usize>, threads: usize, rounds: usize) {
    for _ in 0..rounds {
        let store = race_store(shards, Mapping::ManyToMany, 4);
        let results = race(threads, |t| {
            if t == 0 {
                store.delete_instance(DST, 2).map(i64::from)
            } else {
                store.create_instance_association("a_belong_b", t as i64, 2)
            }
        });
        let delete = &results[0];
        let creates = &results[1..];
        let created = creates.iter().filter(|r| r.is_ok()).count();
        match delete {
            Ok(1) => {
                assert_eq!(created, 0, "a create linked a deleted instance");
                assert!(
                    creates
                        .iter()
                        .all(|r| r.as_ref().unwrap_err().code() == 1_101_074)
                );
                assert!(!store.instance_exists(DST, 2));
            }
            Err(e) => {
                assert_eq!(e.code(), 1_101_075);
                assert!(created > 0);
                assert!(store.instance_exists(DST, 2));
            }
            other => panic!("delete_instance: {other:?}"),
        }
        let naming = store
            .find_instance_associations(DST, &Condition::all())
            .unwrap();
        assert_eq!(naming.len(), created);
        assert!(
            naming
                .iter()
                .all(|r| store.instance_exists(DST, r.bk_asst_inst_id))
        );
        store.check_invariants().unwrap();
    }
}

fn run_tier(tier: &str, threads: usize, ops: u64, rounds: usize) {
    let threads = env_or("ASSOC_STRESS_THREADS", threads as u64) as usize;
    let ops = env_or("ASSOC_STRESS_OPS", ops);
    let seed = env_or("ASSOC_STRESS_SEED", 0x5EED);
    let mut total = 0;
    for (config, shards) in CONFIGS {
        let started = Instant::now();
        let progress = Arc::new(AtomicU64::new(0));
        {
            let _watchdog = Watchdog::start(config, Arc::clone(&progress), Duration::from_mins(2));
            distinct_sources_one_target(shards, threads, rounds);
            progress.fetch_add(1, Ordering::Relaxed);
            same_triple(shards, threads, rounds);
            progress.fetch_add(1, Ordering::Relaxed);
            atomic_batch_vs_singles(shards, threads.min(5), rounds);
            progress.fetch_add(1, Ordering::Relaxed);
            instance_delete_vs_creates(shards, threads, rounds);
        }
        let races = started.elapsed();
        let (done, writes) = random_run(config, shards, threads, ops, seed);
        total += done;
        eprintln!(
            "stress {tier} [{config}]: K = {threads}, {done} random operations ({ops} per thread, \
             seed {seed:#x}) in {:.1} s ({writes}); race rounds: {rounds} per check in {:.1} s",
            started.elapsed().as_secs_f64() - races.as_secs_f64(),
            races.as_secs_f64(),
        );
    }
    eprintln!(
        "stress {tier}: {total} random operations over {} configurations",
        CONFIGS.len()
    );
}

#[test]
fn stress_tier1() {
    run_tier("tier 1", 4, 20_000, 200);
}

#[test]
#[ignore = "tier 2: K = 8, 1,000,000 operations per thread (minutes)"]
fn stress_tier2() {
    run_tier("tier 2", 8, 1_000_000, 2_000);
}
