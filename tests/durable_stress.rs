//! Eight threads of mixed writes on a durable store, at both levels, with
//! checkpoints racing them; then a reopen must answer exactly as the store
//! did when the writers stopped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod durable_support;

use std::sync::Barrier;

use assocstore::{Durability, Store};
use durable_support::{Call, Rng, apply, dump, remove, temp_dir, workload};

const THREADS: usize = 8;

fn calls_per_thread() -> usize {
    std::env::var("ASSOCSTORE_DURABLE_STRESS_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400)
}

fn stress(level: Durability, checkpoint_bytes: u64) {
    let dir = temp_dir("stress");
    let open = || {
        Store::builder()
            .path(&dir)
            .durability(level)
            .checkpoint_bytes(checkpoint_bytes)
            .open()
            .unwrap()
    };
    let store = open();
    // The definitions and instances first, then every thread its own
    // stream of mixed writes over the same few instances.
    let setup = workload(7, 8);
    for call in &setup {
        apply(&store, call).unwrap();
    }
    let n = calls_per_thread();
    let barrier = Barrier::new(THREADS + 1);
    let (ok, failed) = std::thread::scope(|s| {
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let (store, barrier) = (&store, &barrier);
                s.spawn(move || {
                    let calls: Vec<Call> = workload(100 + t as u64, 8 + n).split_off(8);
                    barrier.wait();
                    let mut ok = 0;
                    for call in &calls {
                        match apply(store, call) {
                            Ok(_) => ok += 1,
                            Err(code) => assert_ne!(code, 1_199_061, "{call:?}"),
                        }
                    }
                    (ok, calls.len() - ok)
                })
            })
            .collect();
        // A reader and an extra checkpointer race the writers.
        let checkpoints = s.spawn(|| {
            let mut rng = Rng(9);
            barrier.wait();
            for _ in 0..20 {
                store.checkpoint().unwrap();
                std::thread::sleep(std::time::Duration::from_millis(rng.below(5)));
            }
        });
        let results: Vec<(usize, usize)> = workers.into_iter().map(|h| h.join().unwrap()).collect();
        checkpoints.join().unwrap();
        results
            .into_iter()
            .fold((0, 0), |(a, b), (c, d)| (a + c, b + d))
    });
    store.check_invariants().unwrap();
    let before = dump(&store);
    drop(store);
    let store = open();
    assert_eq!(dump(&store), before, "{level:?}: reopened state differs");
    store.check_invariants().unwrap();
    println!(
        "figures: durable stress {level:?}: {THREADS} threads, {ok} writes committed, {failed} refused by rules, reopen equal"
    );
    drop(store);
    remove(&dir);
}

#[test]
fn eight_writers_at_immediate_then_reopen() {
    stress(Durability::Immediate, 4096);
}

#[test]
fn eight_writers_at_eventual_then_reopen() {
    stress(Durability::Eventual, 4096);
}
