//! The change feed: event order, filters, cursors and their errors,
//! waiting, retention, followers, and cursors across a reopen.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod durable_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use assocstore::{
    BatchCreate, Change, Cursor, Durability, Error, EventType, Mapping, NewModelAssociation,
    OnDelete, Since, Store, WatchFilter,
};
use common::a_run_b_with_five as setup;
use durable_support::{remove, temp_dir};

fn all() -> WatchFilter {
    WatchFilter::default()
}

/// (type, id) of the instance association events after `since`.
fn assoc_events(store: &Store, since: Since) -> Vec<(EventType, i64)> {
    store
        .events(since, &WatchFilter::associations(), 10_000)
        .unwrap()
        .events
        .iter()
        .map(|e| {
            (
                e.change.event_type().unwrap(),
                e.change.record().unwrap().id,
            )
        })
        .collect()
}

#[test]
fn every_change_is_an_event_in_commit_order() {
    let store = Store::new();
    let start = store.feed_cursor();
    assert_eq!(start.position(), 0);
    setup(&store);
    let got = store.events(Since::After(start), &all(), 100).unwrap();
    // The model association, then ten registrations, in order.
    assert!(
        matches!(&got.events[0].change, Change::ModelAssociationAdded(a) if a.bk_obj_asst_id == "a_run_b")
    );
    assert_eq!(got.events.len(), 11);
    let regs: Vec<i64> = got.events[1..]
        .iter()
        .map(|e| match &e.change {
            Change::InstanceRegistered { inst, .. } => *inst,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(regs, [1, 2, 3, 4, 5, 1, 2, 3, 4, 5]);
    let positions: Vec<u64> = got.events.iter().map(|e| e.cursor.position()).collect();
    assert_eq!(positions, (1..=11).collect::<Vec<_>>());
    assert_eq!(got.next, got.events[10].cursor);
    let times: Vec<u64> = got.events.iter().map(|e| e.time_ms).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn batch_creates_in_details_order_and_deletes_in_id_order() {
    let store = Store::new();
    setup(&store);
    let before = store.feed_cursor();
    let one = store.create_instance_association("a_run_b", 1, 1).unwrap();
    let batch = store
        .batch_create_instance_associations(&BatchCreate::new(
            "a",
            "b",
            "a_run_b",
            [(2, 3), (1, 1), (2, 2), (3, 1)],
        ))
        .unwrap();
    let created: Vec<i64> = batch.success_created().into_values().collect();
    assert_eq!(created.len(), 3, "the repeat of (1, 1) fails");
    let mut want: Vec<(EventType, i64)> = vec![(EventType::Create, one)];
    want.extend(created.iter().map(|&id| (EventType::Create, id)));
    assert_eq!(assoc_events(&store, Since::After(before)), want);

    // Deleting instance 1 of `b` removes two records: one event each, ids ascending.
    let mid = store.feed_cursor();
    let removed = store.delete_instance_associations_of("b", 1).unwrap();
    assert_eq!(removed.len(), 2);
    let mut ids: Vec<i64> = removed.iter().map(|r| r.id).collect();
    ids.sort_unstable();
    let want: Vec<_> = ids.iter().map(|&id| (EventType::Delete, id)).collect();
    assert_eq!(assoc_events(&store, Since::After(mid)), want);
    // The deleted event carries the whole record.
    let got = store.events(Since::After(mid), &all(), 1).unwrap();
    assert_eq!(
        got.events[0].change.record(),
        Some(&removed.iter().find(|r| r.id == ids[0]).unwrap().clone())
    );
}

#[test]
fn a_cascade_gives_its_deletes_then_the_instance_deletions() {
    let store = Store::new();
    let mut new = NewModelAssociation::new("a", "run", "b", Mapping::OneToMany);
    new.on_delete = OnDelete::DeleteDest;
    store.create_model_association(&new).unwrap();
    store.register_instances("a", [1]).unwrap();
    store.register_instances("b", [7, 8]).unwrap();
    let x = store.create_instance_association("a_run_b", 1, 8).unwrap();
    let y = store.create_instance_association("a_run_b", 1, 7).unwrap();
    let before = store.feed_cursor();
    store.delete_instance_cascade("a", 1).unwrap();
    let got = store.events(Since::After(before), &all(), 100).unwrap();
    let kinds: Vec<String> = got
        .events
        .iter()
        .map(|e| match &e.change {
            Change::Deleted(r) => format!("delete {}", r.id),
            Change::InstanceUnregistered { model, inst } => format!("unregister {model} {inst}"),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds[..2],
        [
            format!("delete {}", x.min(y)),
            format!("delete {}", x.max(y))
        ]
    );
    assert_eq!(kinds.len(), 5, "{kinds:?}");
    assert!(
        kinds[2..].iter().all(|k| k.starts_with("unregister")),
        "{kinds:?}"
    );
}

#[test]
fn filters_by_type_and_by_model_as_source_or_target() {
    let store = Store::new();
    setup(&store);
    store
        .create_model_association(&NewModelAssociation::new(
            "c",
            "run",
            "a",
            Mapping::ManyToMany,
        ))
        .unwrap();
    store.register_instances("c", [9]).unwrap();
    let start = store.feed_cursor();
    let ab = store.create_instance_association("a_run_b", 1, 2).unwrap();
    let ca = store.create_instance_association("c_run_a", 9, 1).unwrap();
    store.delete_instance_association("a", ab).unwrap();
    let ids = |filter: WatchFilter| -> Vec<i64> {
        store
            .events(Since::After(start), &filter, 100)
            .unwrap()
            .events
            .iter()
            .map(|e| e.change.record().unwrap().id)
            .collect()
    };
    let model = |m: &str| WatchFilter {
        model: Some(m.into()),
        ..WatchFilter::default()
    };
    assert_eq!(ids(model("b")), [ab, ab]);
    assert_eq!(ids(model("c")), [ca]);
    assert_eq!(ids(model("a")), [ab, ca, ab]);
    assert_eq!(ids(model("nothing")), Vec::<i64>::new());
    let deletes = WatchFilter {
        types: Some(vec![EventType::Delete]),
        ..WatchFilter::default()
    };
    assert_eq!(ids(deletes), [ab]);
    // Filtered-out events are skipped for good: `next` is past them.
    let got = store
        .events(Since::After(start), &model("nothing"), 100)
        .unwrap();
    assert_eq!(got.next, store.feed_cursor());
    // A limit stops early, and `next` resumes right there.
    let first = store.events(Since::After(start), &model("a"), 1).unwrap();
    assert_eq!(first.events.len(), 1);
    let rest = store
        .events(Since::After(first.next), &model("a"), 100)
        .unwrap();
    assert_eq!(rest.events.len(), 2);
}

#[test]
fn bad_cursors_are_1103007() {
    let store = Store::new();
    setup(&store);
    let other = Store::new();
    setup(&other);
    let foreign = other.feed_cursor();
    let err = store.events(Since::After(foreign), &all(), 10).unwrap_err();
    assert_eq!(err, Error::CursorExpired);
    assert_eq!(err.code(), 1_103_007);
    assert_eq!(
        err.to_string(),
        "the event cursor does not exist or has expired"
    );
    // Beyond the newest position.
    let head = store.feed_cursor();
    let ahead: Cursor = head
        .to_string()
        .replace(
            &format!("{:016x}", head.position()),
            &format!("{:016x}", head.position() + 5),
        )
        .parse()
        .unwrap();
    assert_eq!(
        store.events(Since::After(ahead), &all(), 10).unwrap_err(),
        Error::CursorExpired
    );
    assert!("not-a-cursor".parse::<Cursor>().is_err());
}

#[test]
fn retention_expires_old_cursors() {
    let store = Store::builder().feed_retention(4).build().unwrap();
    let start = store.feed_cursor();
    setup(&store); // 11 events
    assert_eq!(
        store.events(Since::After(start), &all(), 10).unwrap_err(),
        Error::CursorExpired
    );
    let kept = store.events(Since::Start, &all(), 100).unwrap();
    assert_eq!(kept.events.len(), 4);
    assert_eq!(kept.events[0].cursor.position(), 8);
    // The cursor just before the oldest retained event still works.
    let before_oldest = store.events(Since::Start, &all(), 1).unwrap().events[0].cursor;
    assert_eq!(
        store
            .events(Since::After(before_oldest), &all(), 100)
            .unwrap()
            .events
            .len(),
        3
    );
    // Retention 0: positions advance, nothing is kept.
    let none = Store::builder().feed_retention(0).build().unwrap();
    setup(&none);
    assert_eq!(none.feed_cursor().position(), 11);
    assert!(
        none.events(Since::Start, &all(), 10)
            .unwrap()
            .events
            .is_empty()
    );
}

#[test]
fn since_time_and_now() {
    let store = Store::new();
    setup(&store);
    let got = store.events(Since::Time(1), &all(), 100).unwrap();
    assert_eq!(got.events.len(), 11, "everything retained is after 1970");
    let far = store
        .events(Since::Time(u64::MAX / 2000), &all(), 100)
        .unwrap();
    assert!(far.events.is_empty());
    assert!(
        store
            .events(Since::Now, &all(), 100)
            .unwrap()
            .events
            .is_empty()
    );
}

#[test]
fn a_waiting_reader_wakes_on_the_commit() {
    let store = Arc::new(Store::new());
    setup(&store);
    let from = store.feed_cursor();
    let writer = {
        let store = Arc::clone(&store);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            store.create_instance_association("a_run_b", 1, 1).unwrap()
        })
    };
    let started = Instant::now();
    let got = store
        .wait_events(
            Since::After(from),
            &WatchFilter::associations(),
            10,
            Duration::from_mins(1),
        )
        .unwrap();
    let id = writer.join().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "woken by the commit, not the timeout"
    );
    assert_eq!(got.events.len(), 1);
    assert_eq!(got.events[0].change.record().unwrap().id, id);
    // Nothing comes: the wait ends at the timeout with nothing.
    let none = store
        .wait_events(Since::Now, &all(), 10, Duration::from_millis(20))
        .unwrap();
    assert!(none.events.is_empty());
}

#[test]
fn writes_that_did_not_overlap_keep_their_order() {
    let store = Store::new();
    setup(&store);
    let from = store.feed_cursor();
    let a = store.create_instance_association("a_run_b", 1, 1).unwrap();
    let b = store.create_instance_association("a_run_b", 5, 5).unwrap();
    assert_eq!(
        assoc_events(&store, Since::After(from)),
        [(EventType::Create, a), (EventType::Create, b)]
    );
}

#[test]
fn cursors_survive_a_reopen() {
    for level in [Durability::Immediate, Durability::Eventual] {
        let dir = temp_dir("feed-reopen");
        let (mid, before_events, id) = {
            let store = Store::builder()
                .path(&dir)
                .durability(level)
                .open()
                .unwrap();
            setup(&store);
            let mid = store.feed_cursor();
            let id = store.create_instance_association("a_run_b", 2, 3).unwrap();
            let events = store.events(Since::Start, &all(), 100).unwrap();
            (mid, events, id)
        };
        let store = Store::builder()
            .path(&dir)
            .durability(level)
            .open()
            .unwrap();
        let after = store.events(Since::Start, &all(), 100).unwrap();
        assert_eq!(after.events.len(), before_events.events.len());
        for (x, y) in after.events.iter().zip(&before_events.events) {
            assert_eq!(
                (x.cursor, x.time_ms, &x.change),
                (y.cursor, y.time_ms, &y.change)
            );
        }
        let got = store
            .events(Since::After(mid), &WatchFilter::associations(), 10)
            .unwrap();
        assert_eq!(got.events[0].change.record().unwrap().id, id);
        // New events continue after the old positions.
        let next = store.create_instance_association("a_run_b", 3, 3).unwrap();
        let got = store.events(Since::After(got.next), &all(), 10).unwrap();
        assert_eq!(got.events[0].change.record().unwrap().id, next);
        assert_eq!(
            got.events[0].cursor.position(),
            before_events.next.position() + 1
        );
        // After a checkpoint and a reopen, every retained event is still
        // there with its cursor and time, and positions carry on.
        store.checkpoint().unwrap();
        let head = store.feed_cursor();
        let kept = store.events(Since::Start, &all(), 1000).unwrap();
        drop(store);
        let store = Store::builder()
            .path(&dir)
            .durability(level)
            .open()
            .unwrap();
        assert_eq!(store.feed_cursor(), head);
        assert_eq!(store.events(Since::Start, &all(), 1000).unwrap(), kept);
        assert_eq!(
            store
                .events(Since::After(mid), &all(), 1000)
                .unwrap()
                .events,
            kept.events[mid.position() as usize..]
        );
        let more = store.create_instance_association("a_run_b", 4, 4).unwrap();
        let got = store.events(Since::After(head), &all(), 10).unwrap();
        assert_eq!(got.events[0].change.record().unwrap().id, more);
        drop(store);
        remove(&dir);
    }
}

#[test]
fn retention_holds_across_checkpoints_and_a_smaller_retention_on_reopen() {
    let dir = temp_dir("feed-retention");
    let store = Store::builder()
        .path(&dir)
        .checkpoint_bytes(300)
        .open()
        .unwrap();
    setup(&store);
    let mut ids = Vec::new();
    for i in 1..=5 {
        ids.push(store.create_instance_association("a_run_b", i, i).unwrap());
    }
    let all_before = store.events(Since::Start, &all(), 1000).unwrap();
    assert_eq!(
        all_before.events.len(),
        16,
        "constant checkpoints dropped nothing"
    );
    drop(store);
    let store = Store::builder()
        .path(&dir)
        .feed_retention(3)
        .open()
        .unwrap();
    assert!(
        store.open_report().unwrap().snapshot.is_some(),
        "a checkpoint happened"
    );
    let kept = store.events(Since::Start, &all(), 1000).unwrap();
    assert_eq!(kept.events, all_before.events[13..]);
    let expired = all_before.events[11].cursor;
    assert_eq!(
        store.events(Since::After(expired), &all(), 10).unwrap_err(),
        Error::CursorExpired
    );
    drop(store);
    remove(&dir);
}

#[test]
fn writes_on_threads_that_did_not_overlap_keep_their_order() {
    let store = Store::new();
    setup(&store);
    store.register_instances("a", 6..=400).unwrap();
    store.register_instances("b", 6..=400).unwrap();
    // Each create's id with the instants just before the call and just
    // after it returned.
    let spans: Vec<(Instant, Instant, i64)> = std::thread::scope(|s| {
        let threads: Vec<_> = (0..8i64)
            .map(|t| {
                let store = &store;
                s.spawn(move || {
                    (0..100i64)
                        .filter_map(|i| {
                            let began = Instant::now();
                            let id = store
                                .create_instance_association(
                                    "a_run_b",
                                    1 + t * 50 + i % 50,
                                    1 + i * 3 % 400,
                                )
                                .ok()?;
                            Some((began, Instant::now(), id))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect()
    });
    let events = store
        .events(Since::Start, &WatchFilter::associations(), usize::MAX)
        .unwrap();
    let position: std::collections::HashMap<i64, u64> = events
        .events
        .iter()
        .map(|e| (e.change.record().unwrap().id, e.cursor.position()))
        .collect();
    assert_eq!(position.len(), spans.len());
    let mut ordered_pairs = 0;
    for a in &spans {
        for b in &spans {
            if a.1 < b.0 {
                ordered_pairs += 1;
                assert!(
                    position[&a.2] < position[&b.2],
                    "{} returned before {} began",
                    a.2,
                    b.2
                );
            }
        }
    }
    assert!(ordered_pairs > 0);
}
