//! Model-based property test: random sequences of up to 100 [`model::Op`]s,
//! each applied to the store and to the reference model of SPEC
//! (`tests/model/`), comparing ids, errors (code and message), per-item
//! batch outcomes, query results in order, then the whole contents (with
//! every model's registered instances) and `check_invariants()` after every
//! step; also the change-feed events each step emitted against the model's
//! changes, and at the end a fresh follower fed the whole feed against the
//! model (`tests/model/feed.rs`). Run over three in-memory configurations: one shard, the default,
//! and two shards with a batch limit of 5; plus `Op`s decoded by
//! `arbitrary` from bytes, as the fuzz targets do.
//!
//! Durable configurations add `Checkpoint`, `Reopen` and `Crash` steps
//! (about one op in 14 each; see `tests/model/target.rs`), after which the
//! model is unchanged and everything is compared again: on a
//! `SimulatedDisk`, `Immediate` (a crash is a power cut) and `Eventual` (a
//! process crash), each checkpointing by itself past 256 bytes and past
//! 4 KiB of journal; and `Eventual` on real files in a directory under
//! `std::env::temp_dir()` (a crash is a clean restart there).
//!
//! Tier 1 (every `cargo test`): 2,000 sequences for each of the first two
//! in-memory configurations, 500 for the third, 500 byte buffers, 250 for
//! each simulated durable configuration, 25 on real files.
//! `ASSOC_MODEL_CASES=100000` raises it (tier 2; the others scale with it);
//! proptest's `Config::with_cases` ignores `PROPTEST_CASES`, so the count
//! is read here. Failing seeds persist in
//! `tests/proptest-regressions/model.txt` and are replayed first on every
//! run; each failure found so far is also a named scenario in
//! `tests/model_regressions.rs`.
//!
//! Figures (sequences, steps, time) go to stderr: `cargo test --test model
//! -- --nocapture` shows them; `ASSOC_MODEL_STATS=1` adds how often each
//! call succeeded or failed with each code (restarts, from a snapshot or
//! the journal only, included).

#[path = "model/mod.rs"]
mod model;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use assocstore::{Durability, Store};
use proptest::strategy::Strategy;
use proptest::test_runner::{Config, FileFailurePersistence, TestRunner};

/// Sequences per configuration: `ASSOC_MODEL_CASES`, else 2,000.
fn cases() -> u32 {
    std::env::var("ASSOC_MODEL_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000)
}

/// Sequences per durable configuration on the simulated disk: an eighth
/// of [`cases`] (each costs about 1.2 in-memory ones; four configurations).
fn durable_cases() -> u32 {
    cases() / 8
}

/// Sequences on the real file system: an 80th of [`cases`] (each costs
/// tens of milliseconds of `fsync`).
fn files_cases() -> u32 {
    cases() / 80
}

fn run(config: &str, cases: u32, build: fn() -> Store) {
    run_on(config, cases, model::ops_strategy(), || {
        model::Target::memory(build())
    });
}

/// Runs `strategy`'s sequences, each on a new target from `target`.
fn run_on(
    config: &str,
    cases: u32,
    strategy: impl Strategy<Value = Vec<model::Op>>,
    target: impl Fn() -> model::Target,
) {
    let sequences = AtomicU64::new(0);
    let steps = AtomicU64::new(0);
    let started = Instant::now();
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/proptest-regressions/model.txt",
        ))),
        ..Config::default()
    });
    let result = runner.run(&strategy, |ops| {
        sequences.fetch_add(1, Ordering::Relaxed);
        steps.fetch_add(ops.len() as u64, Ordering::Relaxed);
        let mut target = target();
        model::run_ops_on(&mut target, &ops).map_err(proptest::test_runner::TestCaseError::fail)
    });
    eprintln!(
        "model [{config}]: {} sequences, {} steps (shrinking included), {:.1} s ({cases} cases asked)",
        sequences.load(Ordering::Relaxed),
        steps.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64(),
    );
    if std::env::var_os("ASSOC_MODEL_STATS").is_some() {
        for (outcome, n) in model::outcome_counts() {
            eprintln!("  {n:>8}  {outcome}");
        }
    }
    if let Err(e) = result {
        panic!("model [{config}]: {e}");
    }
}

#[test]
fn store_agrees_with_the_model_with_one_shard() {
    run("shards=1", cases(), || {
        Store::builder()
            .shards(1)
            .build()
            .expect("one shard is valid")
    });
}

#[test]
fn store_agrees_with_the_model_with_default_shards() {
    run("default shards", cases(), Store::new);
}

/// A batch limit of 5, so that ordinary batches meet it too (a quarter of
/// the cases).
#[test]
fn store_agrees_with_the_model_with_two_shards_and_batch_limit_5() {
    run("shards=2, batch_limit=5", cases() / 4, || {
        Store::builder()
            .shards(2)
            .batch_limit(5)
            .build()
            .expect("valid settings")
    });
}

/// A durable store on a [`SimulatedDisk`](assocstore::storage::SimulatedDisk)
/// at `level`, checkpointing past `checkpoint_bytes` of journal (a few
/// writes), with `Checkpoint`, `Reopen` and `Crash` among the ops.
fn run_simulated(
    config: &str,
    cases: u32,
    shards: usize,
    level: Durability,
    checkpoint_bytes: u64,
) {
    run_on(config, cases, model::durable_ops_strategy(true), || {
        model::Target::simulated(Store::builder().shards(shards), level, checkpoint_bytes)
    });
}

#[test]
fn durable_immediate_store_agrees_with_the_model_across_restarts_and_power_cuts() {
    run_simulated(
        "simulated disk, shards=2, Immediate, checkpoint 256 B",
        durable_cases(),
        2,
        Durability::Immediate,
        256,
    );
}

#[test]
fn durable_immediate_store_with_rarer_checkpoints_agrees_with_the_model() {
    run_simulated(
        "simulated disk, shards=1, Immediate, checkpoint 4 KiB",
        durable_cases(),
        1,
        Durability::Immediate,
        4096,
    );
}

#[test]
fn durable_eventual_store_agrees_with_the_model_across_restarts_and_process_crashes() {
    run_simulated(
        "simulated disk, shards=2, Eventual, checkpoint 256 B",
        durable_cases(),
        2,
        Durability::Eventual,
        256,
    );
}

#[test]
fn durable_eventual_store_with_rarer_checkpoints_agrees_with_the_model() {
    run_simulated(
        "simulated disk, shards=8, Eventual, checkpoint 4 KiB",
        durable_cases(),
        8,
        Durability::Eventual,
        4096,
    );
}

/// Real files: a directory under `std::env::temp_dir()` per sequence,
/// removed after it; `Crash` is a clean restart there.
#[test]
fn durable_store_on_real_files_agrees_with_the_model_across_restarts() {
    run_on(
        "files, Eventual, checkpoint 4 KiB",
        files_cases(),
        model::durable_ops_strategy(false),
        || model::Target::files(Store::builder(), Durability::Eventual, 4096),
    );
}

/// The fuzz targets' path: `Op` sequences decoded by `arbitrary` from bytes
/// (here from a fixed pseudo-random generator, `ASSOC_MODEL_CASES / 4`
/// buffers of up to 2 KiB), through the same comparison.
#[test]
fn arbitrary_ops_agree_with_the_model() {
    let buffers = cases() / 4;
    let started = Instant::now();
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut steps = 0;
    for case in 0..buffers {
        let len = (next() % 2048) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        let mut u = arbitrary::Unstructured::new(&bytes);
        let mut ops: Vec<model::Op> = Vec::new();
        while ops.len() < 100 {
            match u.arbitrary() {
                Ok(op) if !u.is_empty() => ops.push(op),
                _ => break,
            }
        }
        steps += ops.len();
        if let Err(e) = model::run_ops(&Store::new(), &ops) {
            panic!("arbitrary buffer {case} ({len} bytes): {e}");
        }
    }
    eprintln!(
        "model [arbitrary]: {buffers} byte buffers, {steps} steps, {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
