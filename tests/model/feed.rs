//! The change feed against the model: what one step should have emitted,
//! derived from the model's state before and after it, and a follower fed
//! the whole feed at the end of a sequence.
//!
//! The model keeps no event list: a step creates records or removes them
//! (no call does both), so its instance association events are the records
//! it added, ascending id (a batch's ids ascend in `details` order), then
//! those it removed, ascending id. SPEC orders only those; registrations
//! and instance deletions are compared as sets.

use assocstore::{Change, Cursor, EventType, Since, Store, WatchFilter};

use super::apply::{check_contents, equal, rec_of};
use super::reference::{Inst, Model, Rec};

/// The model's state a step's events are derived from.
pub(crate) struct Before {
    cursor: Cursor,
    records: Vec<Rec>,
    instances: Vec<Inst>,
}

impl Before {
    pub(crate) fn take(store: &Store, model: &Model) -> Before {
        Before {
            cursor: store.feed_cursor(),
            records: model.records.clone(),
            instances: model.instances.clone(),
        }
    }

    /// Compares the events after the step's starting cursor with what the
    /// model changed; positions must follow each other without a gap and
    /// times must not decrease.
    ///
    /// # Errors
    /// A description of the first disagreement.
    pub(crate) fn check(&self, store: &Store, model: &Model) -> Result<(), String> {
        let got = store
            .events(
                Since::After(self.cursor),
                &WatchFilter::default(),
                usize::MAX,
            )
            .map_err(|e| format!("feed: reading after {}: {e}", self.cursor))?;
        let mut at = self.cursor.position();
        let mut time = 0;
        for e in &got.events {
            if e.cursor.position() != at + 1 || e.time_ms < time {
                return Err(format!(
                    "feed: event {e:?} after position {at}, time {time}"
                ));
            }
            at = e.cursor.position();
            time = e.time_ms;
        }
        let records: Vec<(EventType, Rec)> = got
            .events
            .iter()
            .filter_map(|e| Some((e.change.event_type()?, rec_of(e.change.record()?))))
            .collect();
        let created = model.records.iter().filter(|r| !self.records.contains(r));
        let removed = self.records.iter().filter(|r| !model.records.contains(r));
        let mut want: Vec<(EventType, Rec)> =
            created.map(|r| (EventType::Create, r.clone())).collect();
        want.sort_by_key(|(_, r)| r.id);
        let mut gone: Vec<(EventType, Rec)> =
            removed.map(|r| (EventType::Delete, r.clone())).collect();
        gone.sort_by_key(|(_, r)| r.id);
        want.extend(gone);
        equal("feed: instance association events", &records, &want)?;

        let key = |i: &Inst| (i.model.clone(), i.id);
        let mut registered: Vec<(String, i64, Option<String>)> = got
            .events
            .iter()
            .filter_map(|e| match &e.change {
                Change::InstanceRegistered { model, inst, name } => {
                    Some((model.clone(), *inst, name.clone()))
                }
                _ => None,
            })
            .collect();
        let mut new: Vec<(String, i64, Option<String>)> = model
            .instances
            .iter()
            .filter(|i| !self.instances.iter().any(|b| key(b) == key(i)))
            .map(|i| (i.model.clone(), i.id, i.name.clone()))
            .collect();
        registered.sort();
        new.sort();
        equal("feed: registrations", &registered, &new)?;
        let mut unregistered: Vec<(String, i64)> = got
            .events
            .iter()
            .filter_map(|e| match &e.change {
                Change::InstanceUnregistered { model, inst } => Some((model.clone(), *inst)),
                _ => None,
            })
            .collect();
        unregistered.sort();
        let mut deleted: Vec<(String, i64)> = self
            .instances
            .iter()
            .filter(|b| !model.instances.iter().any(|i| key(i) == key(b)))
            .map(key)
            .collect();
        deleted.sort();
        equal("feed: instance deletions", &unregistered, &deleted)
    }
}

/// A fresh in-memory store fed `store`'s whole feed must hold the model's
/// state and answer every read the same way.
///
/// # Errors
/// A description of the first disagreement.
pub(crate) fn check_follower(store: &Store, model: &Model) -> Result<(), String> {
    let feed = store
        .events(Since::Start, &WatchFilter::default(), usize::MAX)
        .map_err(|e| format!("feed: reading from the start: {e}"))?;
    if feed
        .events
        .first()
        .is_some_and(|e| e.cursor.position() != 1)
    {
        return Err("feed: the first event is gone (retention)".into());
    }
    let follower = Store::builder()
        .batch_limit(store.batch_limit())
        .build()
        .map_err(|e| e.to_string())?;
    follower
        .apply(&feed.events)
        .map_err(|e| format!("follower: apply: {e}"))?;
    check_contents(&follower, model).map_err(|e| format!("follower: {e}"))?;
    equal("follower: digest", follower.digest(), store.digest())
}
