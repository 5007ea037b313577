//! The change feed: every committed change as an event with a cursor.
//!
//! # Positions
//!
//! Every effect a commit applies (`src/effect.rs`) is one event, numbered
//! 1, 2, 3 … in one store-wide order (its *position*; 0 is "before the
//! first event"). A call's events are consecutive and in the order of its
//! effects: a batch's creates in `details` order, a call that removes
//! several records their deletes in ascending id, then any instance
//! deletions. The feed retains the newest `retention` events in memory, 40
//! bytes each (a record's ids and interned keys plus the commit time); a
//! read resolves them into public [`Event`]s.
//!
//! # Where positions are assigned, and why no reader sees N+1 without N
//!
//! A write publishes its events inside the one commit step
//! (`src/store/commit.rs`), after applying its effects and while it still
//! holds the store locks of the facts it changed. The feed's mutex is a
//! leaf: taken after every store lock (and, below, the journal's append
//! mutex), never held while taking another lock or waiting.
//!
//! * **In memory**, `Feed::publish` assigns the next positions, appends the
//!   events to the retained ring and wakes waiting readers in one critical
//!   section. Readers take the same mutex and read only the ring, which
//!   grows by whole calls at its end: it always holds a gap-free run of
//!   positions, so a reader never sees N+1 without N.
//! * **Durable**, positions must follow the journal's record order, so that
//!   a replay after a restart reissues the same cursors. The commit reserves
//!   its positions (`Feed::reserve`) while it holds the journal's append
//!   mutex, writes (and at `Immediate` syncs) its record, applies it, then
//!   publishes at the reserved position. Two commits that appended one after
//!   the other may publish in the other order: a publication that does not
//!   start at the ring's end waits in `pending` until the ones before it
//!   arrive, and only the gap-free prefix is in the ring. A commit that
//!   fails after reserving (1199061) publishes its range as void, so those
//!   after it are not held back; readers skip void positions. (If the failed
//!   record did reach the disk, a reopen replays it at those positions: the
//!   call in flight at an I/O failure may survive or vanish.)
//!
//! Commit order: if write A returned before write B began, A published (in
//! memory) or reserved (durable) before returning, and B does either after
//! it began, under the same mutex, so A's positions are lower.
//!
//! Commit times are read under the mutex too and never decrease along the
//! positions (a clock that steps back repeats the last time), which lets a
//! read start "from the first event at or after time T" by binary search.

mod event;
mod message;
mod stored;

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parking_lot::{Condvar, Mutex, MutexGuard};

pub use self::event::{Change, Cursor, Event, EventType, NotACursor, Since, WatchFilter, Watched};
pub use self::message::{MESSAGE_VERSION, decode, encode};
pub(crate) use self::stored::Stored;
use crate::catalog::AssocEntry;
use crate::effect::Effect;
use crate::error::{Error, Result};
use crate::models::ModelEntry;
pub use crate::store::Follower;

/// Events a store retains by default.
pub const DEFAULT_RETENTION: usize = 1_000_000;

/// One retained event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Retained {
    pub(crate) time_ms: u64,
    pub(crate) stored: Stored,
}

/// The feed's state, under its mutex.
struct Ring {
    /// The position of `events[0]`.
    base: u64,
    /// Retained events at positions `base ..`.
    events: VecDeque<Retained>,
    /// Publications that arrived ahead of a gap, by first position.
    pending: BTreeMap<u64, Vec<Retained>>,
    /// The next position `Feed::reserve` or `Feed::publish` hands out.
    next: u64,
    /// The last commit time handed out.
    last_time: u64,
    /// Model associations and models by key, to render events (kept even
    /// after a model association is deleted: its events may be retained).
    assocs: Vec<Option<Arc<AssocEntry>>>,
    models: Vec<Option<Arc<ModelEntry>>>,
}

impl Ring {
    /// The position of the newest event in the ring (0 when none ever).
    fn head(&self) -> u64 {
        self.base + self.events.len() as u64 - 1
    }

    /// Hands out the next `count` positions, stamped `now` (or the last
    /// time handed out, if the clock stepped back); returns the first and
    /// the time.
    fn take(&mut self, count: usize, now: u64) -> (u64, u64) {
        let first = self.next;
        self.next += count as u64;
        self.last_time = self.last_time.max(now);
        (first, self.last_time)
    }

    /// `e` as the ring keeps it, noting the model association or model it
    /// names for rendering.
    fn intern(&mut self, e: &Effect) -> Stored {
        fn note<T>(table: &mut Vec<Option<Arc<T>>>, key: usize, value: &Arc<T>) {
            if table.len() <= key {
                table.resize(key + 1, None);
            }
            if table[key].is_none() {
                table[key] = Some(Arc::clone(value));
            }
        }
        match e {
            Effect::Link { assoc, .. }
            | Effect::Unlink { assoc, .. }
            | Effect::AddModelAssociation(assoc)
            | Effect::DeleteModelAssociation(assoc) => {
                note(&mut self.assocs, assoc.key.0 as usize, assoc);
            }
            Effect::Register { model, .. }
            | Effect::Unregister { model, .. }
            | Effect::UseModel(model)
            | Effect::DefineModel { model, .. } => {
                note(&mut self.models, model.key.0 as usize, model);
            }
            Effect::AddKind(_) => {}
        }
        Stored::of(e)
    }
}

/// A store's change feed.
pub(crate) struct Feed {
    /// This store's identity in its cursors.
    id: u32,
    retention: usize,
    ring: Mutex<Ring>,
    /// Notified whenever the ring grows.
    grown: Condvar,
}

impl std::fmt::Debug for Feed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Feed")
            .field("id", &self.id)
            .field("retention", &self.retention)
            .finish_non_exhaustive()
    }
}

/// Milliseconds since the Unix epoch now.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A fresh store identity: random enough that two stores' cursors differ.
pub(crate) fn new_store_id() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.write_u32(std::process::id());
    (h.finish() >> 32) as u32
}

impl Feed {
    /// An empty feed whose next event gets position `next`; `retention` 0
    /// keeps no event.
    pub(crate) fn new(id: u32, retention: usize, next: u64, last_time: u64) -> Feed {
        Feed {
            id,
            retention,
            ring: Mutex::new(Ring {
                base: next,
                events: VecDeque::new(),
                pending: BTreeMap::new(),
                next,
                last_time,
                assocs: Vec::new(),
                models: Vec::new(),
            }),
            grown: Condvar::new(),
        }
    }

    /// A feed restored from a snapshot: `events` at positions `base ..`
    /// (the newest `retention` of them kept), rendered through the model
    /// associations and models given by key.
    pub(crate) fn restored(
        id: u32,
        retention: usize,
        base: u64,
        mut events: Vec<Retained>,
        last_time: u64,
        assocs: Vec<Arc<AssocEntry>>,
        models: Vec<Arc<ModelEntry>>,
    ) -> Feed {
        let next = base + events.len() as u64;
        let excess = events.len().saturating_sub(retention);
        events.drain(..excess);
        let feed = Feed::new(id, retention, next, last_time);
        {
            let mut ring = feed.ring.lock();
            ring.base = base + excess as u64;
            ring.events = events.into();
            ring.assocs = assocs.into_iter().map(Some).collect();
            ring.models = models.into_iter().map(Some).collect();
        }
        feed
    }

    /// The retained events and the position of the first, for a snapshot.
    /// The caller holds every store lock, so no publication is pending.
    /// How many events the ring holds (voids included).
    pub(crate) fn retained_count(&self) -> usize {
        self.ring.lock().events.len()
    }

    pub(crate) fn retained(&self) -> (u64, Vec<Retained>) {
        let ring = self.ring.lock();
        (ring.base, ring.events.iter().cloned().collect())
    }

    /// This store's identity in its cursors.
    pub(crate) fn id(&self) -> u32 {
        self.id
    }

    /// How many events it retains.
    pub(crate) fn retention(&self) -> usize {
        self.retention
    }

    /// The cursor at `position` of this store.
    pub(crate) fn cursor(&self, position: u64) -> Cursor {
        Cursor {
            store: self.id,
            position,
        }
    }

    /// The next position to be handed out and the last commit time, which a
    /// snapshot keeps.
    pub(crate) fn position(&self) -> (u64, u64) {
        let ring = self.ring.lock();
        (ring.next, ring.last_time)
    }

    /// Reserves positions for `count` events stamped `now` (unix ms) and
    /// returns the first and the commit time (durable commits, under the
    /// journal's append mutex).
    pub(crate) fn reserve(&self, count: usize, now: u64) -> (u64, u64) {
        self.ring.lock().take(count, now)
    }

    /// Publishes one call's events: at the next position and the current
    /// time when `at` is `None` (in memory), else at the reserved first
    /// position and time (durable, and replay).
    pub(crate) fn publish(&self, at: Option<(u64, u64)>, effects: &[Effect]) {
        self.push(at, effects.len(), |ring, i| ring.intern(&effects[i]));
    }

    /// Publishes `count` reserved positions as void: a commit that failed
    /// after reserving, or positions a follower's leader skipped.
    pub(crate) fn publish_void(&self, at: (u64, u64), count: usize) {
        self.push(Some(at), count, |_, _| Stored::Void);
    }

    /// Places `count` events, the `i`th made by `make`, at `at` (or the
    /// next positions), and moves every publication that now follows
    /// without a gap into the ring.
    fn push(
        &self,
        at: Option<(u64, u64)>,
        count: usize,
        mut make: impl FnMut(&mut Ring, usize) -> Stored,
    ) {
        let mut ring = self.ring.lock();
        let (first, time_ms) = match at {
            Some(at) => {
                ring.next = ring.next.max(at.0 + count as u64);
                ring.last_time = ring.last_time.max(at.1);
                at
            }
            None => ring.take(count, now_ms()),
        };
        let mut retained = |ring: &mut Ring, i: usize| Retained {
            time_ms,
            stored: make(ring, i),
        };
        if first != ring.base + ring.events.len() as u64 {
            // Ahead of a gap: wait for the publications before it.
            let batch = (0..count).map(|i| retained(&mut ring, i)).collect();
            ring.pending.insert(first, batch);
            return;
        }
        // Only the newest `retention` of a long run are kept: a run longer
        // than that (a huge call, or a long stretch of void positions)
        // replaces the ring without being built whole.
        let skip = count.saturating_sub(self.retention);
        if skip > 0 {
            ring.events.clear();
            ring.base = first + skip as u64;
        }
        for i in skip..count {
            let event = retained(&mut ring, i);
            ring.events.push_back(event);
        }
        while let Some(batch) = {
            let end = ring.base + ring.events.len() as u64;
            ring.pending.remove(&end)
        } {
            ring.events.extend(batch);
        }
        let excess = ring.events.len().saturating_sub(self.retention);
        if excess > 0 {
            ring.events.drain(..excess);
            ring.base += excess as u64;
        }
        drop(ring);
        self.grown.notify_all();
    }

    /// Makes `position` the next one, publishing the positions before it
    /// as void (a follower skipping what its leader skipped).
    pub(crate) fn advance_to(&self, position: u64) {
        let (next, time) = self.position();
        if position > next {
            self.publish_void((next, time), (position - next) as usize);
        }
    }

    /// The newest position readers can see (0 before any event).
    pub(crate) fn head(&self) -> Cursor {
        let ring = self.ring.lock();
        self.cursor(ring.head())
    }

    /// Reads up to `limit` events matching `filter` after `since`.
    ///
    /// # Errors
    /// 1103007 for a cursor older than the oldest retained event, from
    /// another store, or beyond the newest position.
    pub(crate) fn read(&self, since: Since, filter: &WatchFilter, limit: usize) -> Result<Watched> {
        let ring = self.ring.lock();
        let after = self.start(&ring, since)?;
        Ok(self.collect(&ring, after, filter, limit))
    }

    /// As [`Feed::read`], but waits up to `timeout` for a first matching
    /// event.
    ///
    /// # Errors
    /// As [`Feed::read`].
    pub(crate) fn wait(
        &self,
        since: Since,
        filter: &WatchFilter,
        limit: usize,
        timeout: Duration,
    ) -> Result<Watched> {
        let deadline = Instant::now() + timeout;
        let mut ring = self.ring.lock();
        let mut after = self.start(&ring, since)?;
        let mut timed_out = false;
        loop {
            if after + 1 < ring.base {
                return Err(Error::CursorExpired);
            }
            let watched = self.collect(&ring, after, filter, limit);
            if !watched.events.is_empty() || limit == 0 || timed_out {
                return Ok(watched);
            }
            after = watched.next.position;
            timed_out = self.grown.wait_until(&mut ring, deadline).timed_out();
        }
    }

    /// The position a read from `since` starts after.
    fn start(&self, ring: &MutexGuard<'_, Ring>, since: Since) -> Result<u64> {
        let head = ring.head();
        Ok(match since {
            Since::Start => ring.base - 1,
            Since::Now => head,
            Since::Time(secs) => {
                let from = secs.saturating_mul(1000);
                let skip = ring.events.partition_point(|e| e.time_ms < from);
                ring.base - 1 + skip as u64
            }
            Since::After(c) => {
                if c.store != self.id || c.position > head || c.position + 1 < ring.base {
                    return Err(Error::CursorExpired);
                }
                c.position
            }
        })
    }

    /// The matching events after position `after`, at most `limit`.
    fn collect(&self, ring: &Ring, after: u64, filter: &WatchFilter, limit: usize) -> Watched {
        let matcher = stored::Matcher::new(&ring.assocs, filter);
        let skip = (after + 1 - ring.base) as usize;
        let mut events = Vec::new();
        let mut next = ring.head();
        for (i, e) in ring.events.iter().enumerate().skip(skip) {
            if events.len() == limit {
                next = ring.base + i as u64 - 1;
                break;
            }
            if !matcher.matches(&e.stored) {
                continue;
            }
            let position = ring.base + i as u64;
            if let Some(change) = e.stored.render(&ring.assocs, &ring.models) {
                events.push(Event {
                    cursor: self.cursor(position),
                    time_ms: e.time_ms,
                    change,
                });
            }
        }
        Watched {
            events,
            next: self.cursor(next),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Retained, Stored};

    #[test]
    fn a_retained_event_costs_40_bytes() {
        assert_eq!(std::mem::size_of::<Stored>(), 32);
        assert_eq!(std::mem::size_of::<Retained>(), 40);
    }

    #[test]
    fn a_read_event_is_not_much_bigger_than_its_record() {
        let record = std::mem::size_of::<crate::InstanceAssociation>();
        assert!(std::mem::size_of::<super::Event>() <= record + 32);
    }
}

#[cfg(test)]
mod long_runs {
    use super::Feed;

    #[test]
    fn a_run_longer_than_retention_is_not_built_whole() {
        let feed = Feed::new(1, 4, 1, 0);
        feed.publish_void((1, 0), 1 << 40);
        let ring = feed.ring.lock();
        assert_eq!(ring.events.len(), 4);
        assert_eq!(ring.base, (1 << 40) - 3);
        assert_eq!(ring.head(), 1 << 40);
    }
}
