//! `resource_watch` as a long poll.
//!
//! The first read resolves where the watch starts (`bk_cursor`,
//! `bk_start_from` or now) exactly as `replay` does. If nothing matches,
//! its answer names the newest cursor, and the wait continues *after that
//! cursor*, so no event committed meanwhile is missed and none is reported
//! twice. The wait is the store's own (`Store::wait_events`, woken by the
//! commit itself, no polling), cut into slices of [`SLICE`] only so that a
//! shutdown is noticed within one slice.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use assocstore::Result;
use assocstore::wire::resource_watch;
use serde_json::Value;

use super::Shared;

/// The longest a long poll waits before it looks at the stop flag again.
pub(crate) const SLICE: Duration = Duration::from_millis(100);

/// Long polls that may wait at once.
pub(crate) const MAX_WAITING: usize = 256;

/// `resource_watch` with `body`, waiting up to the server's watch timeout
/// for a first matching event.
pub(crate) fn long_poll(shared: &Shared, body: &Value) -> Result<Value> {
    let mut answer = resource_watch(&shared.store, body, None)?;
    // No thread left for one more waiter: answer now (module docs of
    // `serve`); the client asks again from the cursor it got.
    let Ok(_waiting) = shared.waiters.try_acquire() else {
        return Ok(answer);
    };
    let now = Instant::now();
    let deadline = now.checked_add(shared.watch_timeout).unwrap_or(now);
    let mut body = body.clone();
    loop {
        let watched = answer.get("bk_watched").and_then(Value::as_bool) == Some(true);
        let left = deadline.saturating_duration_since(Instant::now());
        if watched || left.is_zero() || shared.stopping.load(Ordering::Acquire) {
            return Ok(answer);
        }
        let Some(cursor) = answer
            .pointer("/bk_events/0/bk_cursor")
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            return Ok(answer);
        };
        if let Value::Object(fields) = &mut body {
            fields.insert("bk_cursor".to_owned(), Value::String(cursor));
        }
        answer = resource_watch(&shared.store, &body, Some(left.min(SLICE)))?;
    }
}
