//! Events as bytes, for a log between processes: [`encode`] packs
//! consecutive events of one store into one message, [`decode`] unpacks
//! it, refusing a format version it does not know.
//!
//! # Format (version 1)
//!
//! ```text
//! "ASEV" | version u8 = 1 | store id u32 LE | count varint
//! then per event: position (varint: the first absolute, then the step
//!   from the one before, at least 1) | commit time ms (varint: the first
//!   absolute, then the step, times never decrease) | tag u8 | fields
//! ```
//!
//! Fields are varints (zigzag for signed ids) and length-prefixed UTF-8
//! strings; a record event carries the record's seven fields, the rare
//! kind and model-association events carry their JSON. A message of
//! creates costs about what their journal records cost.

use crate::durable::codec::{Reader, Writer};
use crate::error::{Error, Result};
use crate::feed::{Change, Cursor, Event};
use crate::kind::AssociationKind;
use crate::model_association::ModelAssociation;
use crate::record::InstanceAssociation;

const MAGIC: &[u8; 4] = b"ASEV";
/// The format version [`encode`] writes and [`decode`] reads.
pub const MESSAGE_VERSION: u8 = 1;

const CREATED: u8 = 1;
const DELETED: u8 = 2;
const KIND_ADDED: u8 = 3;
const MODEL_ASSOCIATION_ADDED: u8 = 4;
const MODEL_ASSOCIATION_DELETED: u8 = 5;
const MODEL_USED: u8 = 6;
const MODEL_DEFINED: u8 = 7;
const INSTANCE_REGISTERED: u8 = 8;
const INSTANCE_UNREGISTERED: u8 = 9;

/// Packs `events` (consecutive reads of one store's feed, in order) into
/// one message.
///
/// ```
/// use assocstore::{Since, Store, WatchFilter, feed};
/// let store = Store::new();
/// store.register_instances("host", [1, 2])?;
/// let read = store.events(Since::Start, &WatchFilter::default(), 100)?;
/// let bytes = feed::encode(&read.events)?;
/// assert_eq!(feed::decode(&bytes)?, read.events);
/// # Ok::<(), assocstore::Error>(())
/// ```
///
/// # Errors
/// 1199006 naming `events` when they are not one store's, in ascending
/// positions with commit times that never decrease.
pub fn encode(events: &[Event]) -> Result<Vec<u8>> {
    let mut w = Writer {
        buf: Vec::with_capacity(16 + events.len() * 48),
    };
    w.buf.extend_from_slice(MAGIC);
    w.u8(MESSAGE_VERSION);
    let store = events.first().map_or(0, |e| e.cursor.store);
    w.buf.extend_from_slice(&store.to_le_bytes());
    w.u64(events.len() as u64);
    let (mut position, mut time) = (0, 0);
    for event in events {
        let ordered = event.cursor.store == store
            && event.cursor.position > position
            && event.time_ms >= time;
        if !ordered {
            return Err(Error::invalid("events"));
        }
        w.u64(event.cursor.position - position);
        w.u64(event.time_ms - time);
        (position, time) = (event.cursor.position, event.time_ms);
        change(&mut w, &event.change);
    }
    Ok(w.buf)
}

fn record(w: &mut Writer, r: &InstanceAssociation) {
    w.i64(r.id);
    w.i64(r.bk_inst_id);
    w.str(&r.bk_obj_id);
    w.i64(r.bk_asst_inst_id);
    w.str(&r.bk_asst_obj_id);
    w.str(&r.bk_obj_asst_id);
    w.str(&r.bk_asst_id);
}

fn json<T: serde::Serialize>(w: &mut Writer, value: &T) {
    w.str(&serde_json::to_string(value).unwrap_or_default());
}

fn change(w: &mut Writer, c: &Change) {
    match c {
        Change::Created(r) => {
            w.u8(CREATED);
            record(w, r);
        }
        Change::Deleted(r) => {
            w.u8(DELETED);
            record(w, r);
        }
        Change::KindAdded(kind) => {
            w.u8(KIND_ADDED);
            json(w, kind);
        }
        Change::ModelAssociationAdded(a) => {
            w.u8(MODEL_ASSOCIATION_ADDED);
            json(w, a);
        }
        Change::ModelAssociationDeleted { id, bk_obj_asst_id } => {
            w.u8(MODEL_ASSOCIATION_DELETED);
            w.i64(*id);
            w.str(bk_obj_asst_id);
        }
        Change::ModelUsed { model } => {
            w.u8(MODEL_USED);
            w.str(model);
        }
        Change::ModelDefined { model, name, icon } => {
            w.u8(MODEL_DEFINED);
            w.str(model);
            w.str(name);
            w.str(icon);
        }
        Change::InstanceRegistered { model, inst, name } => {
            w.u8(INSTANCE_REGISTERED);
            w.str(model);
            w.i64(*inst);
            w.opt_str(name.as_deref());
        }
        Change::InstanceUnregistered { model, inst } => {
            w.u8(INSTANCE_UNREGISTERED);
            w.str(model);
            w.i64(*inst);
        }
    }
}

/// Unpacks a message made by [`encode`].
///
/// # Errors
/// 1199006 `'event message: <why>' data parameter verification does not
/// pass` for bytes that are not such a message: another magic, a version
/// this build does not read (`version 2, this build reads 1`), a truncated
/// or malformed event, trailing bytes.
pub fn decode(bytes: &[u8]) -> Result<Vec<Event>> {
    let bad = |why: String| Error::invalid(format!("event message: {why}"));
    let Some((head, rest)) = bytes.split_at_checked(9) else {
        return Err(bad("shorter than its header".into()));
    };
    if &head[..4] != MAGIC {
        return Err(bad("not an assocstore event message".into()));
    }
    if head[4] != MESSAGE_VERSION {
        return Err(bad(format!(
            "version {}, this build reads {MESSAGE_VERSION}",
            head[4]
        )));
    }
    let store = u32::from_le_bytes([head[5], head[6], head[7], head[8]]);
    let mut r = Reader::new(rest, 9);
    let decoded = (|| {
        let count = r.count(3)?;
        let mut events = Vec::with_capacity(count);
        let (mut position, mut time) = (0u64, 0u64);
        for _ in 0..count {
            let step = r.u64()?;
            if step == 0 {
                return r.fail("a position that does not ascend");
            }
            position = match position.checked_add(step) {
                Some(p) => p,
                None => return r.fail("a position out of range"),
            };
            time = match time.checked_add(r.u64()?) {
                Some(t) => t,
                None => return r.fail("a time out of range"),
            };
            let change = read_change(&mut r)?;
            events.push(Event {
                cursor: Cursor { store, position },
                time_ms: time,
                change,
            });
        }
        if !r.is_empty() {
            return r.fail("bytes after the last event");
        }
        Ok(events)
    })();
    decoded.map_err(|e| bad(format!("{} at byte {}", e.what, e.offset)))
}

fn read_record(r: &mut Reader<'_>) -> crate::durable::codec::Decoded<InstanceAssociation> {
    Ok(InstanceAssociation {
        id: r.i64()?,
        bk_inst_id: r.i64()?,
        bk_obj_id: r.str()?.into(),
        bk_asst_inst_id: r.i64()?,
        bk_asst_obj_id: r.str()?.into(),
        bk_obj_asst_id: r.str()?.into(),
        bk_asst_id: r.str()?.into(),
    })
}

fn read_json<T: serde::de::DeserializeOwned>(
    r: &mut Reader<'_>,
    what: &str,
) -> crate::durable::codec::Decoded<T> {
    let text = r.str()?;
    match serde_json::from_str(&text) {
        Ok(v) => Ok(v),
        Err(_) => r.fail(format!("a {what} that does not decode")),
    }
}

fn read_change(r: &mut Reader<'_>) -> crate::durable::codec::Decoded<Change> {
    Ok(match r.u8()? {
        CREATED => Change::Created(read_record(r)?),
        DELETED => Change::Deleted(read_record(r)?),
        KIND_ADDED => Change::KindAdded(Box::new(read_json::<AssociationKind>(r, "kind")?)),
        MODEL_ASSOCIATION_ADDED => {
            Change::ModelAssociationAdded(Box::new(read_json::<ModelAssociation>(
                r,
                "model association",
            )?))
        }
        MODEL_ASSOCIATION_DELETED => Change::ModelAssociationDeleted {
            id: r.i64()?,
            bk_obj_asst_id: r.str()?,
        },
        MODEL_USED => Change::ModelUsed { model: r.str()? },
        MODEL_DEFINED => Change::ModelDefined {
            model: r.str()?,
            name: r.str()?,
            icon: r.str()?,
        },
        INSTANCE_REGISTERED => Change::InstanceRegistered {
            model: r.str()?,
            inst: r.i64()?,
            name: r.opt_str()?,
        },
        INSTANCE_UNREGISTERED => Change::InstanceUnregistered {
            model: r.str()?,
            inst: r.i64()?,
        },
        tag => return r.fail(format!("an unknown event kind {tag}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_version_or_damage_is_refused_with_its_reason() {
        let store = crate::Store::new();
        store.register_instances("host", [1]).unwrap();
        let read = store
            .events(crate::Since::Start, &crate::WatchFilter::default(), 10)
            .unwrap();
        let good = encode(&read.events).unwrap();
        assert_eq!(decode(&good).ok(), Some(read.events.clone()));
        let mut v2 = good.clone();
        v2[4] = 2;
        let err = decode(&v2).unwrap_err();
        assert_eq!(err.code(), 1_199_006);
        assert_eq!(
            err.to_string(),
            "'event message: version 2, this build reads 1' data parameter verification does not pass"
        );
        for cut in 0..good.len() {
            assert!(decode(&good[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = good.clone();
        longer.push(0);
        assert!(decode(&longer).is_err());
        assert!(decode(b"JSON{}...").is_err());
    }
}
