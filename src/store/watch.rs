//! Reading the change feed: [`Store::events`], [`Store::wait_events`],
//! [`Store::feed_cursor`]. How positions are assigned and why a reader sees
//! them in order is in `src/feed/mod.rs`.

use std::time::Duration;

use super::Store;
use crate::error::Result;
use crate::feed::{Cursor, Since, WatchFilter, Watched};

impl Store {
    /// Up to `limit` events matching `filter`, oldest first, from where
    /// `since` says; never waits. [`Watched::next`] is where to resume.
    ///
    /// ```
    /// use assocstore::{Change, Mapping, NewModelAssociation, Since, Store, WatchFilter};
    /// let store = Store::new();
    /// store.create_model_association(&NewModelAssociation::new("a", "run", "b", Mapping::ManyToMany))?;
    /// store.register_instances("a", [1])?;
    /// store.register_instances("b", [2])?;
    /// let before = store.feed_cursor();
    /// let id = store.create_instance_association("a_run_b", 1, 2)?;
    /// let got = store.events(Since::After(before), &WatchFilter::associations(), 10)?;
    /// assert!(matches!(&got.events[0].change, Change::Created(r) if r.id == id));
    /// # Ok::<(), assocstore::Error>(())
    /// ```
    ///
    /// # Errors
    /// 1103007 `the event cursor does not exist or has expired` for a cursor
    /// older than the oldest retained event, newer than the newest, or
    /// issued by another store.
    pub fn events(&self, since: Since, filter: &WatchFilter, limit: usize) -> Result<Watched> {
        self.feed.read(since, filter, limit)
    }

    /// As [`Store::events`], but when nothing matches yet, waits up to
    /// `timeout` and answers as soon as a matching event commits (woken by
    /// the commit, no polling). An empty answer means the time ran out.
    ///
    /// ```
    /// use std::time::Duration;
    /// use assocstore::{Since, Store, WatchFilter};
    /// let store = Store::new();
    /// let got = store.wait_events(Since::Now, &WatchFilter::default(), 10, Duration::from_millis(5))?;
    /// assert!(got.events.is_empty());
    /// # Ok::<(), assocstore::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Store::events`].
    pub fn wait_events(
        &self,
        since: Since,
        filter: &WatchFilter,
        limit: usize,
        timeout: Duration,
    ) -> Result<Watched> {
        self.feed.wait(since, filter, limit, timeout)
    }

    /// How many events the feed retains now (at most the retention set
    /// with [`crate::StoreBuilder::feed_retention`]).
    ///
    /// ```
    /// let store = assocstore::Store::new();
    /// store.register_instance("host", Some(1), None)?;
    /// assert_eq!(store.retained_events(), 1);
    /// # Ok::<(), assocstore::Error>(())
    /// ```
    pub fn retained_events(&self) -> usize {
        self.feed.retained_count()
    }

    /// The newest position of the feed: reading after it returns only what
    /// commits later (the "now" token).
    pub fn feed_cursor(&self) -> Cursor {
        self.feed.head()
    }

    /// This store's cursor at `position` ("the events after the
    /// `position`th"): how a follower, whose positions are its leader's,
    /// names where it stands in the leader's feed.
    ///
    /// ```
    /// let store = assocstore::Store::new();
    /// assert_eq!(store.feed_cursor_at(0), store.feed_cursor());
    /// ```
    pub fn feed_cursor_at(&self, position: u64) -> Cursor {
        self.feed.cursor(position)
    }
}
