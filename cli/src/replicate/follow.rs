//! The follower's side: find where its store stands in the stream, then
//! apply every message after it in order (the invariants are in the module
//! docs of `replicate`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use assocstore::{Since, WatchFilter, feed};
use async_nats::jetstream::{self, consumer, stream};
use futures_util::StreamExt;

use super::{RETRY, connect, message_cursor};
use crate::serve::Shared;

/// How often a follower looks at the stream's newest message (for its
/// lag, and to replace a consumer that stalled).
const STALL_CHECK: std::time::Duration = std::time::Duration::from_secs(1);

/// A follower's state, shown by `/healthz` and `/metrics`.
pub(crate) struct Follower {
    url: String,
    stream: String,
    /// The leader's position of the newest event in the stream, as last
    /// seen (for the lag).
    pub(crate) newest: AtomicU64,
    /// Commit time (ms) of the last event applied.
    pub(crate) applied_time_ms: AtomicU64,
}

impl Follower {
    pub(crate) fn new(url: &str, stream: &str) -> Follower {
        Follower {
            url: url.to_owned(),
            stream: stream.to_owned(),
            newest: AtomicU64::new(0),
            applied_time_ms: AtomicU64::new(0),
        }
    }

    /// The lag behind the stream: events not yet applied, and, while
    /// there are any, the age of the last applied one in seconds.
    pub(crate) fn lag(&self, store: &assocstore::Store) -> (u64, f64) {
        let applied = store.feed_cursor().position();
        let events = self.newest.load(Ordering::Acquire).saturating_sub(applied);
        if events == 0 {
            return (0, 0.0);
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let then = self.applied_time_ms.load(Ordering::Acquire);
        (events, now.saturating_sub(then) as f64 / 1000.0)
    }

    /// Follows until aborted, reconnecting after any failure.
    pub(crate) async fn run(&self, shared: &Arc<Shared>) {
        loop {
            let js = connect(&self.url, "follow").await;
            if let Err(why) = self.session(shared, &js).await {
                tracing::warn!(url = %self.url, "follow: {why}; resuming");
                tokio::time::sleep(RETRY).await;
            }
        }
    }

    async fn session(&self, shared: &Arc<Shared>, js: &jetstream::Context) -> Result<(), String> {
        let mut stream = js
            .get_stream(&self.stream)
            .await
            .map_err(|e| format!("no stream {} yet: {e}", self.stream))?;
        let applied = shared.store.feed_cursor().position();
        if self.applied_time_ms.load(Ordering::Acquire) == 0 {
            // After a restart: when the store applied its newest event.
            let newest = shared.store.events(
                Since::After(shared.store.feed_cursor_at(applied.saturating_sub(1))),
                &WatchFilter::default(),
                1,
            );
            if let Some(event) = newest.ok().and_then(|w| w.events.into_iter().next()) {
                self.applied_time_ms.store(event.time_ms, Ordering::Release);
            }
        }
        let start = self.first_unapplied(&mut stream, applied).await?;
        let consumer = stream
            .create_consumer(consumer::pull::OrderedConfig {
                deliver_policy: consumer::DeliverPolicy::ByStartSequence {
                    start_sequence: start,
                },
                ..Default::default()
            })
            .await
            .map_err(|e| format!("cannot create a consumer: {e}"))?;
        let mut messages = consumer
            .messages()
            .await
            .map_err(|e| format!("cannot read the stream: {e}"))?;
        let subject = super::subject(&self.stream);
        let mut tick = tokio::time::interval(STALL_CHECK);
        let mut progressed = true;
        loop {
            let message = tokio::select! {
                next = messages.next() => next,
                _ = tick.tick() => {
                    // The stream's newest event, for the lag; and a consumer
                    // that delivers nothing while the stream has more (as
                    // after a NATS restart) is replaced.
                    if let Ok(last) = stream.get_last_raw_message_by_subject(&subject).await
                        && let Some(c) = message_cursor(&last)
                    {
                        self.newest.fetch_max(c.position(), Ordering::AcqRel);
                    }
                    let behind = self.newest.load(Ordering::Acquire) > shared.store.feed_cursor().position();
                    if behind && !progressed {
                        return Err("the consumer stalled".into());
                    }
                    progressed = false;
                    continue;
                }
            };
            let Some(message) = message else {
                break;
            };
            progressed = true;
            let message = message.map_err(|e| format!("reading: {e}"))?;
            let events = feed::decode(&message.payload).map_err(|e| format!("a message: {e}"))?;
            let Some(last) = events.last() else {
                continue;
            };
            self.newest
                .fetch_max(last.cursor.position(), Ordering::AcqRel);
            let time = last.time_ms;
            let on_pool = Arc::clone(&shared.store);
            let applied = tokio::task::spawn_blocking(move || on_pool.apply(&events))
                .await
                .map_err(|e| format!("applying: {e}"))?;
            if let Err(e) = applied {
                // A read-only store (its disk failed) or events this store
                // could not have produced: stop here, loudly.
                tracing::error!("follow: cannot apply a message: {e}");
                return Err(format!("applying: {e}"));
            }
            self.applied_time_ms.store(time, Ordering::Release);
        }
        Err("the stream ended".into())
    }

    /// The stream sequence of the first message with an event after
    /// `applied` (one past the last when there is none), by binary search
    /// over the cursors the messages carry.
    async fn first_unapplied(
        &self,
        stream: &mut stream::Stream,
        applied: u64,
    ) -> Result<u64, String> {
        let info = stream
            .info()
            .await
            .map_err(|e| format!("cannot read the stream's state: {e}"))?;
        let (first, last) = (info.state.first_sequence, info.state.last_sequence);
        if info.state.messages == 0 {
            return Ok(last + 1);
        }
        let (mut lo, mut hi) = (first, last + 1);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let position = match stream.get_raw_message(mid).await {
                Ok(message) => message_cursor(&message)
                    .ok_or("a message without a cursor")?
                    .position(),
                Err(e) => return Err(format!("cannot read message {mid}: {e}")),
            };
            if position > applied {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        if let Ok(message) = stream.get_raw_message(last).await
            && let Some(c) = message_cursor(&message)
        {
            self.newest.fetch_max(c.position(), Ordering::AcqRel);
        }
        Ok(lo)
    }
}
