//! Durability: reopen, checkpoints, torn tails, power cuts and process
//! crashes at every I/O, and I/O failures, against the state an in-memory
//! store reaches with the same calls.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod durable_support;

use assocstore::storage::SimulatedDisk;
use assocstore::{Durability, OpenFailure, Store};
use durable_support::{Call, apply, dump, open_sim, prefix_dumps, remove, temp_dir, workload};

const COMMIT_FAILED: i64 = 1_199_061;
/// Calls in the crash workloads (at least 500, so checkpoints, batches and
/// cascades all land on some I/O index).
const CALLS: usize = 500;
/// A tiny checkpoint threshold: checkpoints happen every few calls.
const TINY: u64 = 200;

fn run(store: &Store, calls: &[Call]) {
    for call in calls {
        let _ = apply(store, call);
    }
}

#[test]
fn reopen_answers_every_read_as_before_at_both_levels() {
    let calls = workload(1, CALLS);
    let expected = prefix_dumps(&calls);
    for level in [Durability::Immediate, Durability::Eventual] {
        for checkpoint in [TINY, 1 << 30] {
            let dir = temp_dir("reopen");
            let open = || {
                Store::builder()
                    .path(&dir)
                    .durability(level)
                    .checkpoint_bytes(checkpoint)
                    .open()
                    .unwrap()
            };
            let store = open();
            run(&store, &calls);
            assert_eq!(dump(&store), expected[CALLS]);
            drop(store);
            let store = open();
            assert_eq!(dump(&store), expected[CALLS], "{level:?} {checkpoint}");
            store.check_invariants().unwrap();
            // Ids continue where they stopped: the next create gets the id
            // the in-memory store gives it.
            let memory = Store::new();
            run(&memory, &calls);
            let next = Call::Create(0, 2, 0, 1, 2);
            assert_eq!(apply(&store, &next), apply(&memory, &next));
            drop(store);
            remove(&dir);
        }
    }
}

#[test]
fn a_checkpoint_leaves_nothing_to_replay() {
    let dir = temp_dir("checkpoint");
    let calls = workload(2, 200);
    let store = Store::open(&dir).unwrap();
    run(&store, &calls);
    store.checkpoint().unwrap();
    let before = dump(&store);
    store.close().unwrap();
    let store = Store::open(&dir).unwrap();
    let report = store.open_report().unwrap().clone();
    assert_eq!(report.records_replayed, 0, "{report}");
    assert!(report.snapshot.is_some(), "{report}");
    assert_eq!(dump(&store), before);
    let files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        files
            .iter()
            .filter(|f| std::path::Path::new(f)
                .extension()
                .is_some_and(|e| e == "snap"))
            .count(),
        1,
        "{files:?}"
    );
    drop(store);
    remove(&dir);
}

#[test]
fn a_torn_tail_is_cut_and_reported() {
    let dir = temp_dir("torn");
    let calls = workload(3, 100);
    let store = Store::open(&dir).unwrap();
    run(&store, &calls);
    let before = dump(&store);
    drop(store);
    let mut segments: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wal"))
        .collect();
    segments.sort();
    let last = segments.last().unwrap().clone();
    // Half a frame: a length, a checksum, part of an lsn.
    let torn = [40u8, 0, 0, 0, 1, 2, 3, 4, 9, 9];
    let mut bytes = std::fs::read(&last).unwrap();
    let len = bytes.len();
    bytes.extend_from_slice(&torn);
    std::fs::write(&last, &bytes).unwrap();
    let store = Store::open(&dir).unwrap();
    let report = store.open_report().unwrap();
    assert_eq!(report.bytes_cut, torn.len() as u64, "{report}");
    assert_eq!(report.cut_file.as_deref(), Some(last.as_path()));
    assert_eq!(std::fs::metadata(&last).unwrap().len(), len as u64);
    assert_eq!(dump(&store), before);
    drop(store);
    remove(&dir);
}

#[test]
fn a_second_open_of_the_directory_fails_at_once() {
    let dir = temp_dir("locked");
    let store = Store::open(&dir).unwrap();
    let err = Store::open(&dir).unwrap_err();
    assert_eq!(err.code(), 1_199_031);
    assert_eq!(
        err.to_string(),
        format!("'{}' initialization failed", dir.display())
    );
    let cause = std::error::Error::source(&err).unwrap();
    assert!(cause.to_string().contains("locked"), "{cause}");
    drop(store);
    // Released on drop.
    drop(Store::open(&dir).unwrap());
    remove(&dir);
}

#[test]
fn an_in_memory_store_pays_nothing_and_checkpoints_are_noops() {
    let store = Store::new();
    assert!(store.open_report().is_none());
    assert!(store.durability().is_none());
    store.checkpoint().unwrap();
    assert!(!store.is_read_only());
    store.close().unwrap();
    let err = Store::builder().open().unwrap_err();
    assert_eq!(
        err.to_string(),
        "'path' data parameter verification does not pass"
    );
}

/// Runs `calls` on a durable store over `disk` until the first 1199061,
/// checking that every later write fails the same way; returns the index
/// of the first failing call (`calls.len()` if none failed).
fn run_until_failure(store: &Store, calls: &[Call]) -> usize {
    let mut first = calls.len();
    for (i, call) in calls.iter().enumerate() {
        let out = apply(store, call);
        if first < calls.len() {
            assert_eq!(
                out,
                Err(COMMIT_FAILED),
                "call {i} after the failure: {call:?}"
            );
        } else if out == Err(COMMIT_FAILED) {
            first = i;
        }
    }
    first
}

/// The I/O operations a whole clean run of `calls` does after opening, and
/// how many of the calls succeeded.
fn io_count(level: Durability, calls: &[Call]) -> (u64, usize) {
    let disk = SimulatedDisk::new();
    let store = open_sim(&disk, level, TINY).unwrap();
    let opened = disk.io_count();
    let ok = calls.iter().filter(|c| apply(&store, c).is_ok()).count();
    (disk.io_count() - opened, ok)
}

/// For every I/O index `n` of the workload: fail it and every one after,
/// `crash` the disk, reopen, and hand the state and the index of the first
/// failing call to `check`.
fn crash_at_every_io(
    level: Durability,
    crash: impl Fn(&SimulatedDisk),
    check: impl Fn(u64, usize, &str),
) -> (u64, usize) {
    let calls = workload(4, CALLS);
    let (total, ok) = io_count(level, &calls);
    for n in 0..=total {
        let disk = SimulatedDisk::new();
        let store = open_sim(&disk, level, TINY).unwrap();
        disk.fail_from(n);
        let first = run_until_failure(&store, &calls);
        crash(&disk);
        drop(store);
        let store = open_sim(&disk, level, TINY).unwrap_or_else(|e| {
            panic!(
                "io {n}: reopen failed: {e}: {:?}",
                std::error::Error::source(&e)
            )
        });
        store.check_invariants().unwrap();
        check(n, first, &dump(&store));
    }
    (total, ok)
}

#[test]
fn a_power_cut_at_every_io_keeps_every_acknowledged_call_immediate() {
    let calls = workload(4, CALLS);
    let dumps = prefix_dumps(&calls);
    let (total, ok) = crash_at_every_io(
        Durability::Immediate,
        SimulatedDisk::power_cut,
        |n, first, got| {
            // Every call before the first failure was acknowledged; the one in
            // flight may be there, whole.
            let ok = got == dumps[first] || (first < CALLS && got == dumps[first + 1]);
            assert!(
                ok,
                "io {n}: state after a power cut is not calls 0..{first} (or ..={first})"
            );
        },
    );
    println!(
        "figures: power cut at each of {total} I/O indexes (Immediate, {CALLS} calls, {ok} committing): every acknowledged call kept"
    );
}

#[test]
fn a_process_crash_at_every_io_keeps_every_acknowledged_call_eventual() {
    let calls = workload(4, CALLS);
    let dumps = prefix_dumps(&calls);
    let (total, ok) = crash_at_every_io(
        Durability::Eventual,
        SimulatedDisk::process_crash,
        |n, first, got| {
            let ok = got == dumps[first] || (first < CALLS && got == dumps[first + 1]);
            assert!(
                ok,
                "io {n}: state after a process crash is not calls 0..{first} (or ..={first})"
            );
        },
    );
    println!(
        "figures: process crash at each of {total} I/O indexes (Eventual, {CALLS} calls, {ok} committing): every acknowledged call kept"
    );
}

#[test]
fn a_power_cut_under_eventual_leaves_a_whole_prefix() {
    let calls = workload(4, CALLS);
    let dumps = prefix_dumps(&calls);
    crash_at_every_io(
        Durability::Eventual,
        SimulatedDisk::power_cut,
        |n, first, got| {
            assert!(
                dumps[..=(first + 1).min(CALLS)].iter().any(|d| d == got),
                "io {n}: state after a power cut is no prefix of the calls"
            );
        },
    );
}

#[test]
fn a_failed_write_or_sync_turns_the_store_read_only_and_loses_nothing_acknowledged() {
    let calls = workload(5, CALLS);
    let dumps = prefix_dumps(&calls);
    for short in [false, true] {
        let (total, _) = io_count(Durability::Immediate, &calls);
        for n in 0..total {
            let disk = SimulatedDisk::new();
            disk.short_writes(short);
            let store = open_sim(&disk, Durability::Immediate, TINY).unwrap();
            // One failure, then the disk works again: the store must still
            // refuse every write until it is reopened.
            disk.fail_after(n);
            let first = run_until_failure(&store, &calls);
            if first == CALLS {
                // The failure hit a checkpoint after the last call's
                // commit: the store turned read-only, nothing was lost.
                assert!(store.is_read_only(), "io {n}");
            } else {
                assert!(store.is_read_only(), "io {n}");
                // The failed call's change is not visible; reads go on.
                assert_eq!(
                    dump(&store),
                    dumps[first],
                    "io {n}: a failed call is visible"
                );
                let again = apply(&store, &calls[first]);
                assert_eq!(again, Err(COMMIT_FAILED));
            }
            drop(store);
            let store = open_sim(&disk, Durability::Immediate, TINY).unwrap();
            assert!(!store.is_read_only());
            let got = dump(&store);
            let ok = got == dumps[first] || (first < CALLS && got == dumps[first + 1]);
            assert!(
                ok,
                "io {n} (short writes {short}): reopened state is not calls 0..{first}"
            );
            store.check_invariants().unwrap();
        }
    }
}

#[test]
fn a_read_only_store_says_why() {
    let disk = SimulatedDisk::new();
    let store = open_sim(&disk, Durability::Immediate, TINY).unwrap();
    disk.fail_from(0);
    let err = store.register_instance("host", Some(1), None).unwrap_err();
    assert_eq!(err.code(), COMMIT_FAILED);
    assert_eq!(
        err.to_string(),
        "commit transcation failed, error:injected I/O failure"
    );
    let later = store.register_instance("host", Some(2), None).unwrap_err();
    assert_eq!(later.code(), COMMIT_FAILED);
    assert!(later.to_string().contains("read-only"), "{later}");
    assert!(!store.instance_exists("host", 1));
    assert_eq!(store.checkpoint().unwrap_err().code(), COMMIT_FAILED);
    assert_eq!(store.close().unwrap_err().code(), COMMIT_FAILED);
}

#[test]
fn an_unknown_segment_is_not_guessed_at() {
    // A journal with a gap (segment 2 of 1..3 missing) refuses to open.
    let disk = SimulatedDisk::new();
    let store = open_sim(&disk, Durability::Immediate, 1 << 30).unwrap();
    store.register_instances("host", [1, 2]).unwrap();
    drop(store);
    let store = open_sim(&disk, Durability::Immediate, 1 << 30).unwrap();
    store.register_instances("host", [3]).unwrap();
    drop(store);
    let files = disk.files(std::path::Path::new("/sim/store"));
    let names: Vec<&String> = files.keys().collect();
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("journal-0000000000000002")),
        "{names:?}"
    );
    let broken = SimulatedDisk::new();
    for (name, bytes) in &files {
        if !name.starts_with("journal-0000000000000001") {
            broken.put_file(&std::path::Path::new("/sim/store").join(name), bytes);
        }
    }
    let err = open_sim(&broken, Durability::Immediate, 1 << 30).unwrap_err();
    assert_eq!(err.code(), 1_199_031);
    match std::error::Error::source(&err).and_then(|c| c.downcast_ref::<OpenFailure>()) {
        Some(OpenFailure::Corrupt { file, what, .. }) => {
            assert!(file.ends_with("journal-0000000000000001.wal"), "{file:?}");
            assert!(what.contains("missing"), "{what}");
        }
        other => panic!("{other:?}"),
    }
}
