//! Racing writers: the mapping and uniqueness checks hold under contention,
//! ids stay distinct, and the indexes agree afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, HashSet};

use common::{Rng, race};

mod common;

use assocstore::{BatchCreate, Condition, ItemOutcome, Mapping, NewModelAssociation, Store};

const THREADS: usize = 8;
const OPS_PER_THREAD: usize = 12_500;
const INSTANCES: i64 = 8;
const ASSOCS: [(&str, Mapping); 3] = [
    ("src_belong_dst", Mapping::OneToOne),
    ("src_run_dst", Mapping::OneToMany),
    ("src_connect_dst", Mapping::ManyToMany),
];

impl Rng {
    fn inst(&mut self) -> i64 {
        1 + self.below(INSTANCES as u64) as i64
    }
}

fn setup(store: &Store) {
    for (name, mapping) in ASSOCS {
        let kind = name.split('_').nth(1).unwrap();
        store
            .create_model_association(
                &NewModelAssociation::new("src", kind, "dst", mapping).with_id(name),
            )
            .unwrap();
    }
    store.register_instances("src", 1..=INSTANCES).unwrap();
    store.register_instances("dst", 1..=INSTANCES).unwrap();
}

/// What one thread saw: ids it created, in the order it got them.
fn worker(store: &Store, seed: u64) -> Vec<i64> {
    let mut rng = Rng::new(seed);
    let mut created = Vec::new();
    for _ in 0..OPS_PER_THREAD {
        let (assoc, _) = ASSOCS[rng.below(3) as usize];
        match rng.below(10) {
            0..=3 => {
                if let Ok(id) = store.create_instance_association(assoc, rng.inst(), rng.inst()) {
                    created.push(id);
                }
            }
            4..=5 => {
                let details: Vec<(i64, i64)> = (0..=rng.below(6))
                    .map(|_| (rng.inst(), rng.inst()))
                    .collect();
                let batch = BatchCreate::new("src", "dst", assoc, details)
                    .atomic(rng.below(2) == 0)
                    .idempotent(rng.below(2) == 0);
                let out = store.batch_create_instance_associations(&batch).unwrap();
                created.extend(out.items.iter().filter_map(|o| match o {
                    ItemOutcome::Created(id) => Some(*id),
                    _ => None,
                }));
            }
            6..=7 => {
                let id = 1 + rng.below(created.last().map_or(1, |&l| l as u64 + 8)) as i64;
                store.delete_instance_association("src", id).unwrap();
            }
            8 => {
                let ids: Vec<i64> = (0..3)
                    .map(|_| 1 + rng.below(4 * OPS_PER_THREAD as u64) as i64)
                    .collect();
                store.delete_instance_associations("dst", &ids).unwrap();
            }
            _ if rng.below(2) == 0 => {
                let cond =
                    Condition::from_json(&serde_json::json!({ "bk_inst_id": rng.inst() })).unwrap();
                for rec in store.find_instance_associations("src", &cond).unwrap() {
                    assert!(rec.bk_inst_id >= 1 && rec.bk_inst_id <= INSTANCES);
                }
            }
            _ => {
                // Instance deletes race the creates; mostly refused (1101075).
                let model = if rng.below(2) == 0 { "src" } else { "dst" };
                let inst = rng.inst();
                match store.delete_instance(model, inst) {
                    Ok(true) => {
                        store.register_instance(model, Some(inst), None).ok();
                    }
                    Ok(false) => {}
                    Err(e) => assert_eq!(e.code(), 1_101_075),
                }
            }
        }
    }
    created
}

/// Checks the mapping rules from the outside, through `find`.
fn assert_mappings_hold(store: &Store) {
    let all = store
        .find_instance_associations("src", &Condition::all())
        .unwrap();
    for (name, mapping) in ASSOCS {
        let recs: Vec<_> = all.iter().filter(|r| &*r.bk_obj_asst_id == name).collect();
        let mut sources: HashMap<i64, usize> = HashMap::new();
        let mut targets: HashMap<i64, usize> = HashMap::new();
        let mut pairs = HashSet::new();
        for r in &recs {
            *sources.entry(r.bk_inst_id).or_default() += 1;
            *targets.entry(r.bk_asst_inst_id).or_default() += 1;
            assert!(
                pairs.insert((r.bk_inst_id, r.bk_asst_inst_id)),
                "{name}: pair repeated"
            );
        }
        let max_src = sources.values().max().copied().unwrap_or(0);
        let max_dst = targets.values().max().copied().unwrap_or(0);
        match mapping {
            Mapping::OneToOne => {
                assert!(max_src <= 1 && max_dst <= 1, "{name}: {max_src} {max_dst}");
            }
            Mapping::OneToMany => {
                assert!(max_dst <= 1, "{name}: target with {max_dst} sources");
            }
            Mapping::ManyToMany => {
                assert!(pairs.len() <= (INSTANCES * INSTANCES) as usize);
            }
        }
    }
}

fn run_with(store: &Store) {
    setup(store);
    let per_thread = race(THREADS, |t| worker(store, t as u64 + 1));
    let mut all = HashSet::new();
    for ids in &per_thread {
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "ids not increasing within a thread"
        );
        for &id in ids {
            assert!(all.insert(id), "id {id} handed out twice");
        }
    }
    assert!(
        !all.is_empty(),
        "no create succeeded: the race tested nothing"
    );
    assert_mappings_hold(store);
    store.check_invariants().unwrap();
    // Every surviving record was created by some thread.
    for rec in store
        .find_instance_associations("dst", &Condition::all())
        .unwrap()
    {
        assert!(
            all.contains(&rec.id),
            "record {} was never reported created",
            rec.id
        );
    }
}

#[test]
fn random_writers_on_one_shard() {
    run_with(&Store::builder().shards(1).build().unwrap());
}

#[test]
fn random_writers_on_two_shards() {
    run_with(&Store::builder().shards(2).build().unwrap());
}

#[test]
fn random_writers_on_default_shards() {
    run_with(&Store::new());
}

/// K threads link distinct sources to one target: under `1:1` and `1:n`
/// exactly one may win.
#[test]
fn distinct_sources_racing_for_one_target_yield_one_success() {
    for (name, _) in &ASSOCS[..2] {
        for _round in 0..50 {
            let store = Store::new();
            setup(&store);
            let wins: usize = race(THREADS, |t| {
                let src = 1 + (t as i64 % INSTANCES);
                usize::from(store.create_instance_association(name, src, 1).is_ok())
            })
            .into_iter()
            .sum();
            assert_eq!(wins, 1, "{name}");
            store.check_invariants().unwrap();
        }
    }
}

/// The same triple from K threads is created exactly once, under `n:n` too.
#[test]
fn same_triple_from_many_threads_is_created_once() {
    for _round in 0..50 {
        let store = Store::new();
        setup(&store);
        let wins: usize = race(THREADS, |_| {
            usize::from(
                store
                    .create_instance_association("src_connect_dst", 3, 4)
                    .is_ok(),
            )
        })
        .into_iter()
        .sum();
        assert_eq!(wins, 1);
        store.check_invariants().unwrap();
    }
}
