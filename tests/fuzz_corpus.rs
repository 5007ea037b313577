//! Replays every file of `fuzz/corpus/<target>/` and `fuzz/artifacts/<target>/`
//! through the same target functions the fuzzers run, on stable and without
//! libFuzzer: seeds and past findings stay covered by `cargo test`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod targets;

/// The `recovery` target keeps its body in its own file (shared with
/// `tests/durable_damage.rs`).
#[path = "../fuzz/fuzz_targets/recovery.rs"]
mod recovery;

use std::fs;
use std::path::Path;

fn run_dir(target: &str, dir: &Path, run: fn(&[u8])) -> usize {
    let Ok(entries) = fs::read_dir(dir.join(target)) else {
        return 0;
    };
    let mut files: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    files.sort();
    let mut count = 0;
    for path in files.iter().filter(|p| p.is_file()) {
        let data = fs::read(path).unwrap();
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(outcome.is_ok(), "{target}: {} fails", path.display());
        count += 1;
    }
    count
}

fn replay_all(target: &str, run: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    run_dir(target, &root.join("corpus"), run) + run_dir(target, &root.join("artifacts"), run)
}

#[test]
fn replay_line_corpus_and_artifacts() {
    let n = replay_all("replay_line", targets::replay_line);
    assert!(n > 0, "no replay_line seeds found");
}

#[test]
fn query_corpus_and_artifacts() {
    let n = replay_all("query", targets::query);
    assert!(n > 0, "no query seeds found");
}

#[test]
fn ops_corpus_and_artifacts() {
    let n = replay_all("ops", targets::ops);
    assert!(n > 0, "no ops seeds found");
}

#[test]
fn batch_corpus_and_artifacts() {
    let n = replay_all("batch", targets::batch);
    assert!(n > 0, "no batch seeds found");
}

#[test]
fn recovery_corpus_and_artifacts() {
    let n = replay_all("recovery", recovery::run);
    assert!(n > 0, "no recovery seeds found");
}

/// Each seed document's request example goes through the replay target as
/// well (verbatim, one line each).
#[test]
fn seed_requests_are_in_the_replay_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/replay_line");
    let seeds = fs::read_dir(&dir).unwrap().count();
    assert!(
        seeds >= 3,
        "expected the seed documents' requests in {}",
        dir.display()
    );
}
