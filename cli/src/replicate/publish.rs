//! The leader's side: tail the feed, publish it to the stream in cursor
//! order, one acknowledged message at a time (the invariants are in the
//! module docs of `replicate`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use assocstore::{Error, Since, WatchFilter, feed};
use async_nats::jetstream::{self, message::PublishMessage, stream};

use super::{RETRY, connect, message_cursor, subject};
use crate::serve::Shared;

/// The most events one message carries.
const BATCH: usize = 1000;

/// How long one wait for new events lasts before the loop looks again.
const WAIT: Duration = Duration::from_millis(200);

/// A leader's publishing state, shown by `/metrics`.
pub(crate) struct Publisher {
    url: String,
    stream: String,
    /// Copies of the stream a NATS cluster keeps.
    replicas: usize,
    /// The position of the last event NATS acknowledged.
    pub(crate) published: AtomicU64,
    /// Set when the feed no longer holds the events after `published`.
    pub(crate) gap_lost: AtomicBool,
}

impl Publisher {
    pub(crate) fn new(url: &str, stream: &str, replicas: usize) -> Publisher {
        Publisher {
            url: url.to_owned(),
            stream: stream.to_owned(),
            replicas,
            published: AtomicU64::new(0),
            gap_lost: AtomicBool::new(false),
        }
    }

    /// Publishes until aborted: (re)connects, resumes after the stream's
    /// last message, then sends what the feed holds after it.
    pub(crate) async fn run(&self, shared: &Arc<Shared>) {
        loop {
            let js = connect(&self.url, "publish").await;
            match self.session(shared, &js).await {
                Ok(()) => return,
                Err(why) => {
                    tracing::warn!(url = %self.url, "publish: {why}; resuming");
                    tokio::time::sleep(RETRY).await;
                }
            }
        }
    }

    /// One connection's worth of publishing; `Ok` only when publishing
    /// must stop for good.
    async fn session(&self, shared: &Arc<Shared>, js: &jetstream::Context) -> Result<(), String> {
        let subject = subject(&self.stream);
        let stream = js
            .get_or_create_stream(stream::Config {
                name: self.stream.clone(),
                subjects: vec![subject.clone()],
                storage: stream::StorageType::File,
                duplicate_window: Duration::from_mins(2),
                num_replicas: self.replicas,
                ..Default::default()
            })
            .await
            .map_err(|e| format!("cannot open stream {}: {e}", self.stream))?;
        let store = &shared.store;
        let own = store.feed_cursor_at(0);
        let mut after = match stream.get_last_raw_message_by_subject(&subject).await {
            Ok(last) => match message_cursor(&last) {
                Some(c) if store.feed_cursor_at(c.position()) == c => c.position(),
                Some(c) => {
                    tracing::error!(
                        "publish: stream {} holds another store's events (cursor {c}, this store's {own}); not publishing",
                        self.stream
                    );
                    return Ok(());
                }
                None => return Err("the stream's last message has no cursor".into()),
            },
            // An empty stream: from the start.
            Err(e) if e.kind() == stream::LastRawMessageErrorKind::NoMessageFound => 0,
            Err(e) => return Err(format!("cannot read the stream's last message: {e}")),
        };
        self.published.store(after, Ordering::Release);
        loop {
            let since = Since::After(store.feed_cursor_at(after));
            let on_pool = Arc::clone(store);
            let read = tokio::task::spawn_blocking(move || {
                on_pool.wait_events(since, &WatchFilter::default(), BATCH, WAIT)
            })
            .await
            .map_err(|e| format!("reading the feed: {e}"))?;
            let events = match read {
                Ok(read) => read.events,
                Err(Error::CursorExpired) => {
                    self.gap_lost.store(true, Ordering::Release);
                    tracing::error!(
                        "publish: the feed no longer retains the events after position {after}: \
                         NATS missed more than the retention; followers need a new bootstrap"
                    );
                    return Ok(());
                }
                Err(e) => return Err(format!("reading the feed: {e}")),
            };
            let Some(last) = events.last().map(|e| e.cursor) else {
                continue;
            };
            let payload = feed::encode(&events).map_err(|e| format!("encoding: {e}"))?;
            let ack = js
                .send_publish(
                    subject.clone(),
                    PublishMessage::build()
                        .payload(payload.into())
                        .message_id(last.to_string()),
                )
                .await
                .map_err(|e| format!("publishing: {e}"))?;
            ack.await
                .map_err(|e| format!("awaiting the acknowledgement: {e}"))?;
            after = last.position();
            self.published.store(after, Ordering::Release);
        }
    }
}
