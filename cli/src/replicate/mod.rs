//! Replication over NATS JetStream: a leader publishes its change feed to
//! a stream ([`publish`]), followers in other processes apply it
//! ([`follow`]).
//!
//! # The stream
//!
//! One JetStream stream (default `assocstore`, file storage) with one
//! subject, `<stream>.events`. Each message is one [`assocstore::feed::encode`]
//! batch of consecutive events of the leader's feed (all kinds, not only
//! instance associations), and carries the cursor of its last event as its
//! JetStream message id (`Nats-Msg-Id`), so a re-publish of the same batch
//! is dropped by the server's deduplication.
//!
//! # Why nothing acknowledged is lost, and nothing is applied twice
//!
//! * **Order.** The publisher sends one message at a time and waits for its
//!   acknowledgement before reading further, so the stream holds the feed
//!   in cursor order with no hole before any acknowledged message.
//! * **Resuming the leader.** After a (re)connect, the publisher reads the
//!   stream's last message and continues after its cursor: whatever NATS
//!   holds is never re-read, whatever it lost (or never received) is read
//!   again from the feed, which retains the newest events (1,000,000 by
//!   default). A write is never refused because NATS is away; a gap longer
//!   than the retention is reported in the log and in `/metrics`
//!   (`assocstore_publish_gap_lost 1`), and publishing stops there: those
//!   followers need a new bootstrap.
//! * **Resuming a follower.** A follower's own durable store holds the
//!   leader's positions (`Store::apply` commits each event at its leader
//!   position), so after a restart it finds, by a binary search over the
//!   stream's message ids, the first message with events it lacks, and
//!   reads on from there with an ordered consumer. `apply` skips what it
//!   already holds, so a message delivered twice changes nothing.
//! * **Durable acknowledgement.** With `--data`, the leader acknowledges a
//!   write only once it is in its journal; the feed retains it until it is
//!   published. So a `kill -9` of the leader, of NATS (file storage) or of
//!   a follower loses no acknowledged write: each restarts from what it
//!   holds and the others fill the gap.

pub(crate) mod follow;
pub(crate) mod publish;

use std::sync::Arc;
use std::time::Duration;

use assocstore::Cursor;

pub(crate) use self::follow::Follower;
pub(crate) use self::publish::Publisher;
use crate::serve::{Role, Shared};

/// The subject a stream's events are published on.
pub(crate) fn subject(stream: &str) -> String {
    format!("{stream}.events")
}

/// How long to wait before trying NATS again.
pub(crate) const RETRY: Duration = Duration::from_millis(500);

/// The cursor a message carries as its id.
pub(crate) fn message_cursor(
    message: &async_nats::jetstream::message::StreamMessage,
) -> Option<Cursor> {
    message
        .headers
        .get(async_nats::header::NATS_MESSAGE_ID)
        .and_then(|id| id.as_str().parse().ok())
}

/// Publishes or follows as `shared.role` says, until aborted.
pub(crate) async fn run(shared: Arc<Shared>) {
    match &shared.role {
        Role::Leader => {}
        Role::Publisher(publisher) => publisher.run(&shared).await,
        Role::Follower(follower) => follower.run(&shared).await,
    }
}

/// Connects to `url` (one server, or several separated by commas: the
/// nodes of a cluster) and returns its JetStream context, retrying until
/// one answers (logging each failure as `what`).
pub(crate) async fn connect(url: &str, what: &str) -> async_nats::jetstream::Context {
    let servers: Vec<&str> = url
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    loop {
        match async_nats::ConnectOptions::new()
            .connection_timeout(Duration::from_secs(2))
            .connect(servers.as_slice())
            .await
        {
            Ok(client) => return async_nats::jetstream::new(client),
            Err(e) => {
                tracing::warn!(%url, error = %e, "{what}: cannot reach NATS; retrying");
                tokio::time::sleep(RETRY).await;
            }
        }
    }
}
