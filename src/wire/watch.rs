//! `resource_watch` for bk-cmdb's `inst_asst` resource: the change feed on
//! the wire.
//!
//! Where a watch starts, as in bk-cmdb: after `bk_cursor` when one is
//! given; else from the first event committed at or after `bk_start_from`
//! (unix seconds) when it is above 0; else from now. At most
//! [`WATCH_LIMIT`] events, oldest first, each `bk_detail` projected to
//! `bk_fields` (every field when empty). When nothing matches, the answer is
//! `bk_watched: false` with one placeholder event whose `bk_cursor` is the
//! newest position (`bk_event_type` `""`, `bk_detail` null), so the client
//! continues from there. `update` is an accepted type that never occurs
//! (records are never updated).

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::decode::decode;
use crate::error::{Error, Result};
use crate::feed::{Cursor, Event, EventType, Since, WatchFilter};
use crate::store::Store;

/// The most events one `resource_watch` answer carries.
pub const WATCH_LIMIT: usize = 200;

#[derive(Deserialize, Default)]
#[serde(default)]
struct WatchBody {
    bk_resource: Option<String>,
    bk_event_types: Option<Vec<String>>,
    bk_fields: Option<Vec<String>>,
    bk_cursor: Option<String>,
    bk_start_from: Option<i64>,
    bk_filter: Option<FilterBody>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FilterBody {
    bk_sub_resource: Option<String>,
}

/// `resource_watch` → `{"bk_watched": bool, "bk_events": [...]}`. With
/// `wait`, an answer with no matching event is held up to that long and
/// sent as soon as one commits (`serve`'s long poll); `replay` never waits.
///
/// # Errors
/// 1199000 for a body that does not decode; 1199006 naming `bk_resource`
/// (anything but `inst_asst`) or `bk_event_types` (anything but `create`,
/// `update`, `delete`); 1103007 for a cursor that is expired, malformed or
/// another store's.
pub fn resource_watch(store: &Store, body: &Value, wait: Option<Duration>) -> Result<Value> {
    let b: WatchBody = decode(body, Error::JsonDecode)?;
    if b.bk_resource.as_deref() != Some("inst_asst") {
        return Err(Error::invalid("bk_resource"));
    }
    let mut filter = WatchFilter::associations();
    if let Some(types) = b.bk_event_types.filter(|t| !t.is_empty()) {
        let mut wanted = Vec::new();
        for t in &types {
            match t.as_str() {
                "create" => wanted.push(EventType::Create),
                "delete" => wanted.push(EventType::Delete),
                "update" => {}
                _ => return Err(Error::invalid("bk_event_types")),
            }
        }
        filter.types = Some(wanted);
    }
    filter.model = b
        .bk_filter
        .and_then(|f| f.bk_sub_resource)
        .filter(|m| !m.is_empty());
    let since = match b.bk_cursor.filter(|c| !c.is_empty()) {
        Some(c) => Since::After(c.parse::<Cursor>().map_err(|_| Error::CursorExpired)?),
        None => match b.bk_start_from {
            Some(secs) if secs > 0 => Since::Time(secs.unsigned_abs()),
            _ => Since::Now,
        },
    };
    let watched = match wait {
        Some(timeout) => store.wait_events(since, &filter, WATCH_LIMIT, timeout)?,
        None => store.events(since, &filter, WATCH_LIMIT)?,
    };
    if watched.events.is_empty() {
        return Ok(json!({
            "bk_watched": false,
            "bk_events": [{
                "bk_cursor": watched.next.to_string(),
                "bk_resource": "inst_asst",
                "bk_event_type": "",
                "bk_detail": null,
            }],
        }));
    }
    let fields = b.bk_fields.unwrap_or_default();
    let events: Vec<Value> = watched
        .events
        .iter()
        .filter_map(|e| event_json(e, &fields))
        .collect();
    Ok(json!({ "bk_watched": true, "bk_events": events }))
}

/// One event on the wire, its record projected to `fields`.
fn event_json(e: &Event, fields: &[String]) -> Option<Value> {
    let kind = e.change.event_type()?;
    let mut detail = serde_json::to_value(e.change.record()?).ok()?;
    if !fields.is_empty()
        && let Value::Object(all) = &mut detail
    {
        let kept: Map<String, Value> = std::mem::take(all)
            .into_iter()
            .filter(|(k, _)| fields.iter().any(|f| f == k))
            .collect();
        *all = kept;
    }
    Some(json!({
        "bk_cursor": e.cursor.to_string(),
        "bk_resource": "inst_asst",
        "bk_event_type": kind.as_str(),
        "bk_detail": detail,
    }))
}
