//! Followers: a store fed another's feed with `Store::apply`, in chunks,
//! twice, while writers run, and bootstrapped from a copy of a checkpoint.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod durable_support;

use std::sync::Arc;
use std::time::Duration;

use assocstore::feed::Follower;
use assocstore::storage::SimulatedDisk;
use assocstore::{BatchCreate, Change, Durability, Event};
use assocstore::{Since, Store, WatchFilter};
use common::a_run_b_with_five as setup;
use durable_support::{apply, dump, open_sim, remove, temp_dir, workload};

fn all() -> WatchFilter {
    WatchFilter::default()
}

#[test]
fn a_follower_fed_the_whole_feed_equals_the_leader() {
    for seed in 1..=4 {
        let leader = Store::new();
        for call in workload(seed, 400) {
            let _ = apply(&leader, &call);
        }
        let feed = leader.events(Since::Start, &all(), usize::MAX).unwrap();
        let follower = Store::new();
        // In uneven chunks, one chunk twice: applying is idempotent.
        let mut at = 0;
        for size in [1, 7, 50, 3, 1000].iter().cycle() {
            if at >= feed.events.len() {
                break;
            }
            let end = (at + size).min(feed.events.len());
            // Through the log message format, as a follower process gets them.
            let message = assocstore::feed::encode(&feed.events[at..end]).unwrap();
            let chunk = assocstore::feed::decode(&message).unwrap();
            assert_eq!(chunk, feed.events[at..end], "seed {seed}");
            follower.apply(&chunk).unwrap();
            assert_eq!(follower.apply(&chunk).unwrap(), 0);
            at = end;
        }
        assert_eq!(dump(&follower), dump(&leader), "seed {seed}");
        assert_eq!(follower.digest(), leader.digest(), "seed {seed}");
        follower.check_invariants().unwrap();
        assert_eq!(
            follower.feed_cursor().position(),
            leader.feed_cursor().position()
        );
        // Its own feed repeats the leader's.
        let again = follower.events(Since::Start, &all(), usize::MAX).unwrap();
        let changes = |w: &assocstore::Watched| {
            w.events
                .iter()
                .map(|e| e.change.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(changes(&again), changes(&feed));
    }
}

#[test]
fn apply_refuses_an_event_the_state_could_not_produce() {
    let leader = Store::new();
    setup(&leader);
    leader.create_instance_association("a_run_b", 1, 1).unwrap();
    let feed = leader.events(Since::Start, &all(), 100).unwrap();
    let follower = Store::new();
    // The record without its model association and instances.
    let err = follower.apply(&feed.events[11..]).unwrap_err();
    assert_eq!(err.code(), 1_199_006);
    assert_eq!(follower.len(), 0);
    follower.check_invariants().unwrap();
}

/// A leader with the `a_run_b` definitions, 200 instances a side and 200
/// records created by one batch: its whole feed, and where the batch's
/// events start.
fn leader_with_a_batch() -> (Store, Vec<Event>, usize) {
    let leader = Store::new();
    setup(&leader);
    leader.register_instances("a", 6..=200).unwrap();
    leader.register_instances("b", 6..=200).unwrap();
    let batch_at = leader.feed_cursor().position() as usize;
    let pairs: Vec<(i64, i64)> = (1..=200).map(|i| (i, 201 - i)).collect();
    let out = leader
        .batch_create_instance_associations(&BatchCreate::new("a", "b", "a_run_b", pairs))
        .unwrap();
    assert!(out.error_msg().is_empty());
    let feed = leader.events(Since::Start, &all(), usize::MAX).unwrap();
    (leader, feed.events, batch_at)
}

#[test]
fn a_refused_event_keeps_the_ones_before_it_in_the_same_call() {
    let (leader, events, batch_at) = leader_with_a_batch();
    let follower = Store::new();
    follower.apply(&events[..batch_at]).unwrap();
    // Ten of the batch's events, then the first of them again at the next
    // position: its triple exists, so it is refused.
    let mut chunk = events[batch_at..batch_at + 10].to_vec();
    let mut again = chunk[0].clone();
    again.cursor = leader.feed_cursor_at(chunk[9].cursor.position() + 1);
    chunk.push(again);
    let err = follower.apply(&chunk).unwrap_err();
    assert_eq!(err.code(), 1_199_006);
    assert_eq!(follower.len(), 10);
    assert_eq!(
        follower.feed_cursor().position(),
        chunk[9].cursor.position()
    );
    follower.check_invariants().unwrap();
    // Its feed holds the ten, readable like any other events.
    let mine = follower
        .events(
            Since::After(follower.feed_cursor_at(batch_at as u64)),
            &all(),
            100,
        )
        .unwrap();
    assert_eq!(mine.events.len(), 10);
    // The rest of the leader's feed brings it level.
    follower.apply(&events[batch_at + 10..]).unwrap();
    assert_eq!(follower.digest(), leader.digest());
}

#[test]
fn a_durable_follower_commits_a_chunk_as_one_record_and_takes_it_back_if_the_write_fails() {
    let (leader, events, batch_at) = leader_with_a_batch();
    for short in [false, true] {
        let disk = SimulatedDisk::new();
        disk.short_writes(short);
        let follower = open_sim(&disk, Durability::Immediate, 1 << 30).unwrap();
        follower.apply(&events[..batch_at]).unwrap();
        // 100 creates cost one journal write and one sync, not 100 of each.
        let before = disk.io_count();
        follower.apply(&events[batch_at..batch_at + 100]).unwrap();
        assert_eq!(disk.io_count() - before, 2, "short writes {short}");
        let (len, digest) = (follower.len(), follower.digest());
        let cursor = follower.feed_cursor();
        // The next chunk's journal write fails: none of it stays visible.
        disk.fail_after(0);
        let err = follower.apply(&events[batch_at + 100..]).unwrap_err();
        assert_eq!(err.code(), 1_199_061, "short writes {short}");
        assert!(follower.is_read_only());
        assert_eq!(follower.len(), len);
        assert_eq!(follower.digest(), digest);
        let Change::Created(first) = &events[batch_at + 100].change else {
            panic!("a batch event that is not a create");
        };
        assert_eq!(follower.instance_association(first.id), None);
        // (The positions it had reserved are void: no event shows.)
        let shown = follower.events(Since::After(cursor), &all(), 1000).unwrap();
        assert!(shown.events.is_empty());
        follower.check_invariants().unwrap();
        // Reopened, it holds the first chunk and takes the rest.
        disk.heal();
        drop(follower);
        let follower = open_sim(&disk, Durability::Immediate, 1 << 30).unwrap();
        assert_eq!(follower.digest(), digest, "short writes {short}");
        assert_eq!(follower.feed_cursor().position(), cursor.position());
        follower.apply(&events[batch_at + 100..]).unwrap();
        assert_eq!(follower.digest(), leader.digest());
        assert_eq!(dump(&follower), dump(&leader));
    }
}

#[test]
fn a_follower_tails_concurrent_writers() {
    let leader = Arc::new(Store::new());
    setup(&leader);
    leader.register_instances("a", 6..=400).unwrap();
    leader.register_instances("b", 6..=400).unwrap();
    let follower = Follower::new(Arc::clone(&leader), Store::new());
    let readers_done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        let writers: Vec<_> = (0..8i64)
            .map(|t| {
                let leader = &leader;
                s.spawn(move || {
                    for i in 0..200i64 {
                        let src = 1 + (t * 50 + i) % 400;
                        let dst = 1 + (i * 7 + t) % 400;
                        let _ = leader.create_instance_association("a_run_b", src, dst);
                        if i % 10 == 0 {
                            let _ = leader.delete_instance_associations_of("b", dst);
                        }
                    }
                })
            })
            .collect();
        // Two readers: positions strictly increasing, none missing.
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let (leader, done) = (&leader, &readers_done);
                s.spawn(move || {
                    let mut at = Since::Start;
                    let mut last = 0;
                    loop {
                        let finished = done.load(std::sync::atomic::Ordering::Acquire);
                        let got = leader
                            .wait_events(at, &all(), 500, Duration::from_millis(5))
                            .unwrap();
                        for e in &got.events {
                            assert_eq!(e.cursor.position(), last + 1, "no gap, no repeat");
                            last = e.cursor.position();
                        }
                        at = Since::After(got.next);
                        if finished && got.events.is_empty() {
                            return last;
                        }
                    }
                })
            })
            .collect();
        while writers.iter().any(|w| !w.is_finished()) {
            follower.follow(Duration::from_millis(2)).unwrap();
        }
        for w in writers {
            w.join().unwrap();
        }
        readers_done.store(true, std::sync::atomic::Ordering::Release);
        for r in readers {
            assert_eq!(r.join().unwrap(), leader.feed_cursor().position());
        }
    });
    follower.catch_up().unwrap();
    assert_eq!(dump(follower.store()), dump(&leader));
    assert_eq!(follower.store().digest(), leader.digest());
    follower.store().check_invariants().unwrap();
}

/// The files of `from`, copied into a fresh `to` (the lock file included:
/// the lock is the OS's, not the file's content).
fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[test]
fn a_durable_follower_starts_from_a_checkpoint_copy_and_resumes_after_a_reopen() {
    let (dir, copy) = (temp_dir("feed-leader"), temp_dir("feed-follower"));
    let leader = Arc::new(Store::open(&dir).unwrap());
    for call in workload(7, 150) {
        let _ = apply(&leader, &call);
    }
    leader.checkpoint().unwrap();
    copy_dir(&dir, &copy);
    for call in workload(8, 150) {
        let _ = apply(&leader, &call);
    }
    // The copy holds the leader up to the checkpoint; the feed after it
    // brings the rest.
    let follower = Follower::new(Arc::clone(&leader), Store::open(&copy).unwrap());
    assert!(follower.store().digest() != leader.digest());
    let applied = follower.catch_up().unwrap();
    assert!(applied > 0);
    assert_eq!(follower.store().digest(), leader.digest());
    assert_eq!(dump(follower.store()), dump(&leader));
    assert_eq!(follower.cursor(), leader.feed_cursor());
    // Reopened, it resumes where it stood: only what came since is applied.
    drop(follower);
    for call in workload(9, 50) {
        let _ = apply(&leader, &call);
    }
    let reopened = Store::open(&copy).unwrap();
    let before = reopened.feed_cursor().position();
    let follower = Follower::new(Arc::clone(&leader), reopened);
    let more = follower.catch_up().unwrap();
    assert_eq!(
        more as u64,
        leader.feed_cursor().position() - before,
        "each event once"
    );
    assert_eq!(follower.store().digest(), leader.digest());
    follower.store().check_invariants().unwrap();
    drop((follower, leader));
    remove(&dir);
    remove(&copy);
}
