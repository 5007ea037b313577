//! Lock-order models: every path that takes several locks, raced against
//! the paths it could deadlock or race with, under every interleaving `loom`
//! explores.
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test --release --test loom`
//! (`.ci/run` does). Built without `--cfg loom` this file is empty.
#![cfg(loom)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use assocstore::{BatchCreate, ItemOutcome, Mapping, NewModelAssociation, Store};
use loom::thread;

/// Two shards, so that instances 1..=4 spread over both and multi-shard
/// paths take several locks: `n -> n` (n:n, self), `a -> b` (1:1 and 1:n).
fn store() -> Arc<Store> {
    let store = Store::builder().shards(2).build().unwrap();
    let defs = [
        ("n", "connect", "n", Mapping::ManyToMany),
        ("a", "belong", "b", Mapping::OneToOne),
        ("a", "run", "b", Mapping::OneToMany),
    ];
    for (src, kind, dst, mapping) in defs {
        store
            .create_model_association(&NewModelAssociation::new(src, kind, dst, mapping))
            .unwrap();
    }
    for model in ["n", "a", "b"] {
        store.register_instances(model, 1..=4).unwrap();
    }
    Arc::new(store)
}

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(f);
}

fn spawn<T: Send + 'static>(
    store: &Arc<Store>,
    f: impl FnOnce(&Store) -> T + Send + 'static,
) -> thread::JoinHandle<T> {
    let store = Arc::clone(store);
    thread::spawn(move || f(&store))
}

#[test]
fn crossing_creates_both_succeed_without_deadlock() {
    model(|| {
        let s = store();
        let t = spawn(&s, |s| s.create_instance_association("n_connect_n", 1, 2));
        let mine = s.create_instance_association("n_connect_n", 2, 1);
        let theirs = t.join().unwrap();
        assert!(mine.is_ok() && theirs.is_ok());
        assert_ne!(mine, theirs);
        s.check_invariants().unwrap();
    });
}

#[test]
fn two_one_to_one_creates_on_one_target_yield_one_success() {
    model(|| {
        let s = store();
        let t = spawn(&s, |s| s.create_instance_association("a_belong_b", 1, 3));
        let mine = s.create_instance_association("a_belong_b", 2, 3);
        let theirs = t.join().unwrap();
        assert_eq!(usize::from(mine.is_ok()) + usize::from(theirs.is_ok()), 1);
        let loser = if mine.is_ok() { theirs } else { mine };
        assert_eq!(loser.unwrap_err().code(), 1_101_052);
        s.check_invariants().unwrap();
    });
}

#[test]
fn create_racing_instance_delete_never_leaves_a_dangling_record() {
    model(|| {
        let s = store();
        let t = spawn(&s, |s| s.create_instance_association("n_connect_n", 1, 2));
        let deleted = s.delete_instance("n", 2).unwrap_or(false);
        let created = t.join().unwrap();
        // Either the delete came first (the create finds no target) or the
        // create did (the delete is refused): never both.
        assert!(!(deleted && created.is_ok()), "both succeeded");
        if deleted {
            assert_eq!(created.unwrap_err().code(), 1_101_074);
        }
        s.check_invariants().unwrap();
    });
}

#[test]
fn atomic_batch_racing_a_single_create_is_all_or_none() {
    model(|| {
        let s = store();
        let batch = BatchCreate::new("a", "b", "a_run_b", [(1, 3), (2, 4)]).atomic(true);
        let t = spawn(&s, move |s| {
            s.batch_create_instance_associations(&batch).unwrap()
        });
        let single = s.create_instance_association("a_run_b", 2, 4);
        let out = t.join().unwrap();
        let created = out.created();
        assert!(
            created == 0 || created == 2,
            "partial atomic batch: {out:?}"
        );
        // 1:n: target 4 takes one source, so exactly one of them got it.
        assert_eq!(usize::from(single.is_ok()) + usize::from(created == 2), 1);
        if single.is_ok() {
            assert_eq!(out.items[0], ItemOutcome::RolledBack);
        }
        s.check_invariants().unwrap();
    });
}

#[test]
fn model_association_delete_racing_a_create_is_consistent() {
    model(|| {
        let s = store();
        let t = spawn(&s, |s| s.create_instance_association("n_connect_n", 3, 4));
        let deleted = s.delete_model_association(1);
        let created = t.join().unwrap();
        match (deleted, created) {
            (Ok(()), Err(e)) => assert_eq!(e.code(), 1_101_046),
            (Err(e), Ok(_)) => assert_eq!(e.code(), 1_101_043),
            (Ok(()), Ok(_)) => {
                // The delete ran first only if it saw no record, and then the
                // create must have been refused; so this cannot happen.
                panic!("model association deleted while a record was created in it");
            }
            (Err(e), Err(c)) => panic!("both failed: {e} / {c}"),
        }
        s.check_invariants().unwrap();
    });
}

#[test]
fn cascade_racing_a_create_is_atomic() {
    model(|| {
        let s = store();
        s.create_instance_association("n_connect_n", 1, 2).unwrap();
        let t = spawn(&s, |s| s.create_instance_association("n_connect_n", 3, 1));
        let cleared = s.delete_instance_associations_of("n", 1).unwrap();
        let created = t.join().unwrap().unwrap();
        // The racing record either was cleared too or survives intact.
        let survivors = s.instance_association(created).is_some();
        assert_eq!(cleared.iter().any(|r| r.id == created), !survivors);
        s.check_invariants().unwrap();
    });
}

#[test]
fn delete_by_id_racing_instance_cleanup_removes_once() {
    model(|| {
        let s = store();
        let id = s.create_instance_association("n_connect_n", 1, 4).unwrap();
        let t = spawn(&s, move |s| s.delete_instance_association("n", id).unwrap());
        let cleared = s.delete_instance_associations_of("n", 4).unwrap();
        let by_id = t.join().unwrap();
        assert_eq!(
            usize::from(by_id) + cleared.len(),
            1,
            "removed twice or never"
        );
        s.check_invariants().unwrap();
    });
}

#[test]
fn loom_explores_both_orders() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    static FIRST_WON: AtomicUsize = AtomicUsize::new(0);
    model(|| {
        RUNS.fetch_add(1, Ordering::Relaxed);
        let s = store();
        let t = spawn(&s, |s| s.create_instance_association("n_connect_n", 1, 2));
        let mine = s.create_instance_association("n_connect_n", 2, 1).unwrap();
        let theirs = t.join().unwrap().unwrap();
        if theirs < mine {
            FIRST_WON.fetch_add(1, Ordering::Relaxed);
        }
    });
    let (runs, first) = (
        RUNS.load(Ordering::Relaxed),
        FIRST_WON.load(Ordering::Relaxed),
    );
    eprintln!("loom: {runs} interleavings, spawned thread first in {first}");
    assert!(
        runs > 1 && first > 0 && first < runs,
        "loom did not explore: {runs} / {first}"
    );
}
