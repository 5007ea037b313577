//! The change feed's retained events in a snapshot, so that cursors issued
//! before a checkpoint keep working after a reopen.
//!
//! Layout (the last section of a snapshot body, after the records): the
//! position of the first retained event, the count, then each event as its
//! commit time (a delta from the previous event's; times never decrease
//! along the feed), a tag byte and its fields. Model associations and
//! models are written by key (the snapshot's key order is the store's);
//! record ids as deltas from the previous record event's. A Link event
//! costs about what its record costs in the snapshot (8–10 bytes).

use super::codec::{Decoded, Reader, Writer};
use super::record::{decode_kind, encode_kind};
use crate::feed::{Retained, Stored};
use crate::keys::{AssocKey, ModelKey};

const LINK: u8 = 1;
const UNLINK: u8 = 2;
const REGISTER: u8 = 3;
const UNREGISTER: u8 = 4;
const ADD_ASSOC: u8 = 5;
const DELETE_ASSOC: u8 = 6;
const USE_MODEL: u8 = 7;
const DEFINE_MODEL: u8 = 8;
const ADD_KIND: u8 = 9;
const VOID: u8 = 10;

/// Writes the retained events, the first at position `base`.
pub(crate) fn encode(base: u64, events: &[Retained], w: &mut Writer) {
    w.u64(base);
    w.u64(events.len() as u64);
    let (mut time, mut prev_id) = (0u64, 0i64);
    for e in events {
        // The feed hands out times that never decrease, and replay refuses
        // a journal whose times do.
        debug_assert!(e.time_ms >= time, "feed times decrease");
        w.u64(e.time_ms.wrapping_sub(time));
        time = e.time_ms;
        match &e.stored {
            Stored::Link {
                assoc,
                id,
                src,
                dst,
            }
            | Stored::Unlink {
                assoc,
                id,
                src,
                dst,
            } => {
                w.u8(if matches!(e.stored, Stored::Link { .. }) {
                    LINK
                } else {
                    UNLINK
                });
                w.u64(u64::from(assoc.0));
                w.i64(id.wrapping_sub(prev_id));
                w.i64(*src);
                w.i64(*dst);
                prev_id = *id;
            }
            Stored::Register { model, inst, name } => {
                w.u8(REGISTER);
                w.u64(u64::from(model.0));
                w.i64(*inst);
                w.opt_str(name.as_deref());
            }
            Stored::Unregister { model, inst } => {
                w.u8(UNREGISTER);
                w.u64(u64::from(model.0));
                w.i64(*inst);
            }
            Stored::AddAssoc(key) | Stored::DeleteAssoc(key) => {
                w.u8(if matches!(e.stored, Stored::AddAssoc(_)) {
                    ADD_ASSOC
                } else {
                    DELETE_ASSOC
                });
                w.u64(u64::from(key.0));
            }
            Stored::UseModel(model) => {
                w.u8(USE_MODEL);
                w.u64(u64::from(model.0));
            }
            Stored::DefineModel { model, display } => {
                w.u8(DEFINE_MODEL);
                w.u64(u64::from(model.0));
                w.str(&display.0);
                w.str(&display.1);
            }
            Stored::AddKind(kind) => {
                w.u8(ADD_KIND);
                encode_kind(kind, w);
            }
            Stored::Void => w.u8(VOID),
        }
    }
}

/// Reads what [`encode`] wrote: the first position and the events. Keys
/// are checked against the store by the caller.
pub(crate) fn decode(r: &mut Reader<'_>) -> Decoded<(u64, Vec<Retained>)> {
    let base = r.u64()?;
    let n = r.count(2)?;
    let mut events = Vec::with_capacity(n);
    let (mut time, mut prev_id) = (0u64, 0i64);
    for _ in 0..n {
        let Some(t) = time.checked_add(r.u64()?) else {
            return r.fail("event time out of range");
        };
        time = t;
        let stored = match r.u8()? {
            tag @ (LINK | UNLINK) => {
                let assoc = AssocKey(key(r)?);
                let id = prev_id.wrapping_add(r.i64()?);
                prev_id = id;
                let (src, dst) = (r.i64()?, r.i64()?);
                if tag == LINK {
                    Stored::Link {
                        assoc,
                        id,
                        src,
                        dst,
                    }
                } else {
                    Stored::Unlink {
                        assoc,
                        id,
                        src,
                        dst,
                    }
                }
            }
            REGISTER => Stored::Register {
                model: ModelKey(key(r)?),
                inst: r.i64()?,
                name: r.opt_str()?.map(String::into_boxed_str),
            },
            UNREGISTER => Stored::Unregister {
                model: ModelKey(key(r)?),
                inst: r.i64()?,
            },
            ADD_ASSOC => Stored::AddAssoc(AssocKey(key(r)?)),
            DELETE_ASSOC => Stored::DeleteAssoc(AssocKey(key(r)?)),
            USE_MODEL => Stored::UseModel(ModelKey(key(r)?)),
            DEFINE_MODEL => Stored::DefineModel {
                model: ModelKey(key(r)?),
                display: Box::new((r.str()?, r.str()?)),
            },
            ADD_KIND => Stored::AddKind(Box::new(decode_kind(r)?)),
            VOID => Stored::Void,
            other => return r.fail(format!("unknown event tag {other}")),
        };
        events.push(Retained {
            time_ms: time,
            stored,
        });
    }
    Ok((base, events))
}

fn key(r: &mut Reader<'_>) -> Decoded<u32> {
    let k = r.u64()?;
    match u32::try_from(k) {
        Ok(k) => Ok(k),
        Err(_) => r.fail("key out of range"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kind::{AssociationKind, Direction};

    #[test]
    fn every_kind_of_event_round_trips() {
        let kind = AssociationKind {
            id: 7,
            bk_asst_id: "backup".into(),
            bk_asst_name: "backup of".into(),
            src_des: String::new(),
            dest_des: String::new(),
            direction: Direction::SrcToDest,
            ispre: false,
        };
        let stored = [
            Stored::AddKind(Box::new(kind)),
            Stored::AddAssoc(AssocKey(0)),
            Stored::UseModel(ModelKey(1)),
            Stored::DefineModel {
                model: ModelKey(1),
                display: Box::new(("Host".into(), "icon-host".into())),
            },
            Stored::Register {
                model: ModelKey(0),
                inst: 5,
                name: Some("web-5".into()),
            },
            Stored::Register {
                model: ModelKey(1),
                inst: 9,
                name: None,
            },
            Stored::Link {
                assoc: AssocKey(0),
                id: 3,
                src: 5,
                dst: 9,
            },
            Stored::Void,
            Stored::Unlink {
                assoc: AssocKey(0),
                id: 3,
                src: 5,
                dst: 9,
            },
            Stored::Unregister {
                model: ModelKey(0),
                inst: 5,
            },
            Stored::DeleteAssoc(AssocKey(0)),
        ];
        let events: Vec<Retained> = stored
            .into_iter()
            .enumerate()
            .map(|(i, stored)| Retained {
                time_ms: 1_000 + 10 * i as u64,
                stored,
            })
            .collect();
        let mut w = Writer { buf: Vec::new() };
        encode(42, &events, &mut w);
        let mut r = Reader::new(&w.buf, 0);
        let (base, back) = decode(&mut r).unwrap();
        assert!(r.is_empty());
        assert_eq!(base, 42);
        assert_eq!(back, events);
    }
}
