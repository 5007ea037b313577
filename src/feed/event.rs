//! The change feed's public types: cursors, where a read starts, filters,
//! and the events themselves.

use std::fmt;
use std::str::FromStr;

use crate::kind::AssociationKind;
use crate::model_association::ModelAssociation;
use crate::record::InstanceAssociation;

/// A position in a store's change feed: "the events after this one".
///
/// Opaque to callers: it prints as a 24-character string (the store's
/// 32-bit identity and the position, in hex) that [`FromStr`] reads back.
/// Positions count the store's events 1, 2, 3 …; position 0 is "before the
/// first event". A cursor names the store that issued it, so one from
/// another store is refused (1103007) rather than misread.
///
/// ```
/// let store = assocstore::Store::new();
/// let now = store.feed_cursor();
/// let parsed: assocstore::Cursor = now.to_string().parse().unwrap();
/// assert_eq!(parsed, now);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cursor {
    pub(crate) store: u32,
    pub(crate) position: u64,
}

impl Cursor {
    /// The event's position in its store's feed (1 for the first event).
    pub fn position(&self) -> u64 {
        self.position
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}{:016x}", self.store, self.position)
    }
}

/// A string that is not a cursor any store issues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotACursor;

impl fmt::Display for NotACursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not an assocstore cursor")
    }
}

impl std::error::Error for NotACursor {}

impl FromStr for Cursor {
    type Err = NotACursor;

    fn from_str(s: &str) -> Result<Cursor, NotACursor> {
        let hex = |part: &str| part.bytes().all(|b| b.is_ascii_hexdigit());
        if s.len() != 24 || !hex(s) {
            return Err(NotACursor);
        }
        let store = u32::from_str_radix(&s[..8], 16).map_err(|_| NotACursor)?;
        let position = u64::from_str_radix(&s[8..], 16).map_err(|_| NotACursor)?;
        Ok(Cursor { store, position })
    }
}

/// Where a read of the feed starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    /// From the oldest retained event.
    Start,
    /// Only events committed after the call.
    Now,
    /// The events after this cursor.
    After(Cursor),
    /// From the first event committed at or after this time (unix seconds).
    Time(u64),
}

/// The two kinds of instance association events (bk-cmdb's
/// `bk_event_type`; records are never updated, so there is no `update`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// A record was created.
    Create,
    /// A record was removed.
    Delete,
}

impl EventType {
    /// bk-cmdb's name: `create` or `delete`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Create => "create",
            EventType::Delete => "delete",
        }
    }
}

/// Which events a read returns. The default returns every event, those of
/// definitions and instances included; setting `types` or `model` keeps
/// only instance association events (bk-cmdb's `inst_asst` resource).
///
/// ```
/// use assocstore::{EventType, WatchFilter};
/// let creates_of_hosts = WatchFilter {
///     associations_only: true,
///     types: Some(vec![EventType::Create]),
///     model: Some("host".into()),
/// };
/// # let _ = creates_of_hosts;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatchFilter {
    /// Only instance association events (`create` / `delete`).
    pub associations_only: bool,
    /// Only these event types (`None`: both).
    pub types: Option<Vec<EventType>>,
    /// Only records whose source or target model is this one
    /// (bk-cmdb's `bk_sub_resource`).
    pub model: Option<String>,
}

impl WatchFilter {
    /// Every instance association event (bk-cmdb's `inst_asst`).
    pub fn associations() -> WatchFilter {
        WatchFilter {
            associations_only: true,
            ..WatchFilter::default()
        }
    }

    /// Whether only instance association events can match.
    pub(crate) fn wants_associations_only(&self) -> bool {
        self.associations_only || self.types.is_some() || self.model.is_some()
    }
}

/// What one event changed. Instance association events are
/// [`Change::Created`] and [`Change::Deleted`]; the others carry the rest
/// of the state, so a second store fed the whole feed ([`crate::Store::apply`])
/// holds the same state.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// An instance association was created.
    Created(InstanceAssociation),
    /// An instance association was removed.
    Deleted(InstanceAssociation),
    /// A user-defined association kind was created (boxed, as the rare
    /// large variants are, so a record event stays small).
    KindAdded(Box<AssociationKind>),
    /// A model association was created.
    ModelAssociationAdded(Box<ModelAssociation>),
    /// A model association (with no records) was deleted.
    ModelAssociationDeleted {
        /// Its id.
        id: i64,
        /// Its `bk_obj_asst_id`.
        bk_obj_asst_id: String,
    },
    /// A model became known (named by a write that changed nothing else,
    /// such as an empty registration).
    ModelUsed {
        /// `bk_obj_id`.
        model: String,
    },
    /// A model's display name and icon were set.
    ModelDefined {
        /// `bk_obj_id`.
        model: String,
        /// `bk_obj_name`.
        name: String,
        /// `bk_obj_icon`.
        icon: String,
    },
    /// An instance was registered.
    InstanceRegistered {
        /// `bk_obj_id`.
        model: String,
        /// `bk_inst_id`.
        inst: i64,
        /// `bk_inst_name`, if given.
        name: Option<String>,
    },
    /// An instance was deleted.
    InstanceUnregistered {
        /// `bk_obj_id`.
        model: String,
        /// `bk_inst_id`.
        inst: i64,
    },
}

impl Change {
    /// `create` / `delete` for an instance association event.
    pub fn event_type(&self) -> Option<EventType> {
        match self {
            Change::Created(_) => Some(EventType::Create),
            Change::Deleted(_) => Some(EventType::Delete),
            _ => None,
        }
    }

    /// The record of an instance association event.
    pub fn record(&self) -> Option<&InstanceAssociation> {
        match self {
            Change::Created(r) | Change::Deleted(r) => Some(r),
            _ => None,
        }
    }
}

/// One committed change, where it sits in the feed, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Its position; a later read resumes after it.
    pub cursor: Cursor,
    /// Commit time, milliseconds since the Unix epoch (never decreasing
    /// along the feed).
    pub time_ms: u64,
    /// What changed.
    pub change: Change,
}

/// The answer to a read of the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watched {
    /// The matching events, oldest first.
    pub events: Vec<Event>,
    /// Where the next read should resume: the last event returned, or, when
    /// the read looked at every event there was, the newest position (so
    /// filtered-out events are not looked at twice).
    pub next: Cursor,
}
