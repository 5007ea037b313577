//! One journal record's payload: the effects of one call, encoded.
//!
//! Layout: a count of *runs*, then each run as a tag byte and its fields.
//! Consecutive links of one model association (a batch) form one run with
//! the model association written once and each id as a delta from the one
//! before; consecutive registrations of one model likewise. Integers are
//! varints (signed ones zigzag), strings are length-prefixed UTF-8.

use std::str::FromStr;

use super::codec::{Decoded, Reader, Writer};
use crate::catalog::AssocEntry;
use crate::effect::Effect;
use crate::kind::{AssociationKind, Direction};
use crate::model_association::{Mapping, OnDelete};

const ADD_KIND: u8 = 1;
const ADD_MODEL_ASSOCIATION: u8 = 2;
const DELETE_MODEL_ASSOCIATION: u8 = 3;
const DEFINE_MODEL: u8 = 4;
const REGISTER: u8 = 5;
const UNREGISTER: u8 = 6;
const LINK: u8 = 7;
const UNLINK: u8 = 8;
const USE_MODEL: u8 = 9;

/// A model association as the journal and snapshot keep it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AssocRow {
    pub(crate) id: i64,
    pub(crate) obj_asst_id: String,
    pub(crate) name: String,
    pub(crate) src: String,
    pub(crate) dst: String,
    pub(crate) kind: String,
    pub(crate) mapping: Mapping,
    pub(crate) on_delete: OnDelete,
}

impl AssocRow {
    pub(crate) fn of(a: &AssocEntry) -> AssocRow {
        AssocRow {
            id: a.id,
            obj_asst_id: a.obj_asst_id.to_string(),
            name: a.name.clone(),
            src: a.src_name.to_string(),
            dst: a.dst_name.to_string(),
            kind: a.kind.to_string(),
            mapping: a.mapping,
            on_delete: a.on_delete,
        }
    }
}

pub(crate) fn encode_assoc(a: &AssocRow, w: &mut Writer) {
    w.i64(a.id);
    w.str(&a.obj_asst_id);
    w.str(&a.name);
    w.str(&a.src);
    w.str(&a.dst);
    w.str(&a.kind);
    w.str(a.mapping.as_str());
    w.str(a.on_delete.as_str());
}

/// An effect as decoded: names and ids, resolved by the store on replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Logged {
    AddKind(AssociationKind),
    AddModelAssociation(AssocRow),
    DeleteModelAssociation(i64),
    UseModel(String),
    DefineModel {
        model: String,
        name: String,
        icon: String,
    },
    Register {
        model: String,
        inst: i64,
        name: Option<String>,
    },
    Unregister {
        model: String,
        inst: i64,
    },
    Link {
        assoc: i64,
        id: i64,
        src: i64,
        dst: i64,
    },
    Unlink {
        assoc: i64,
        id: i64,
        src: i64,
        dst: i64,
    },
}

/// The run an effect starts or continues: its tag and the key it shares
/// with its neighbours.
fn run_key(e: &Effect) -> (u8, usize) {
    match e {
        Effect::Link { assoc, .. } => (LINK, assoc.key.0 as usize),
        Effect::Unlink { assoc, .. } => (UNLINK, assoc.key.0 as usize),
        Effect::Register { model, .. } => (REGISTER, model.key.0 as usize),
        Effect::Unregister { model, .. } => (UNREGISTER, model.key.0 as usize),
        Effect::AddKind(_) => (ADD_KIND, 0),
        Effect::AddModelAssociation(_) => (ADD_MODEL_ASSOCIATION, 0),
        Effect::DeleteModelAssociation(_) => (DELETE_MODEL_ASSOCIATION, 0),
        Effect::DefineModel { .. } => (DEFINE_MODEL, 0),
        Effect::UseModel(_) => (USE_MODEL, 0),
    }
}

/// Encodes one call's effects into `w`.
pub(crate) fn encode(effects: &[Effect], w: &mut Writer) {
    let runs = effects.chunk_by(|a, b| {
        let (ka, kb) = (run_key(a), run_key(b));
        ka == kb && matches!(ka.0, LINK | UNLINK | REGISTER | UNREGISTER)
    });
    w.u64(runs.clone().count() as u64);
    for run in runs {
        encode_run(run, w);
    }
}

fn encode_run(run: &[Effect], w: &mut Writer) {
    let Some(first) = run.first() else {
        return;
    };
    w.u8(run_key(first).0);
    match first {
        Effect::AddKind(k) => encode_kind(k, w),
        Effect::AddModelAssociation(a) => encode_assoc(&AssocRow::of(a), w),
        Effect::DeleteModelAssociation(a) => w.i64(a.id),
        Effect::UseModel(model) => w.str(&model.name),
        Effect::DefineModel { model, name, icon } => {
            w.str(&model.name);
            w.str(name);
            w.str(icon);
        }
        Effect::Register { model, .. } | Effect::Unregister { model, .. } => {
            w.str(&model.name);
            w.u64(run.len() as u64);
            for e in run {
                match e {
                    Effect::Register { inst, name, .. } => {
                        w.i64(*inst);
                        w.opt_str(name.as_deref());
                    }
                    Effect::Unregister { inst, .. } => w.i64(*inst),
                    _ => {}
                }
            }
        }
        Effect::Link { assoc, .. } | Effect::Unlink { assoc, .. } => {
            w.i64(assoc.id);
            w.u64(run.len() as u64);
            let mut prev = 0;
            for e in run {
                if let Effect::Link { id, src, dst, .. } | Effect::Unlink { id, src, dst, .. } = e {
                    w.i64(id - prev);
                    w.i64(*src);
                    w.i64(*dst);
                    prev = *id;
                }
            }
        }
    }
}

fn direction_str(d: Direction) -> &'static str {
    match d {
        Direction::None => "none",
        Direction::SrcToDest => "src_to_dest",
        Direction::DestToSrc => "dest_to_src",
        Direction::Bidirectional => "bidirectional",
    }
}

/// Decodes one record's payload.
pub(crate) fn decode(r: &mut Reader<'_>) -> Decoded<Vec<Logged>> {
    let runs = r.count(2)?;
    let mut out = Vec::with_capacity(runs);
    for _ in 0..runs {
        decode_run(r, &mut out)?;
    }
    if !r.is_empty() {
        return r.fail("bytes after the last effect");
    }
    Ok(out)
}

fn parse<T: FromStr>(r: &mut Reader<'_>, field: &str) -> Decoded<T> {
    let s = r.str()?;
    match s.parse() {
        Ok(v) => Ok(v),
        Err(_) => r.fail(format!("bad {field} {s:?}")),
    }
}

pub(crate) fn decode_assoc(r: &mut Reader<'_>) -> Decoded<AssocRow> {
    Ok(AssocRow {
        id: r.i64()?,
        obj_asst_id: r.str()?,
        name: r.str()?,
        src: r.str()?,
        dst: r.str()?,
        kind: r.str()?,
        mapping: parse(r, "mapping")?,
        on_delete: parse(r, "on_delete")?,
    })
}

pub(crate) fn decode_kind(r: &mut Reader<'_>) -> Decoded<AssociationKind> {
    let id = r.i64()?;
    let bk_asst_id = r.str()?;
    let bk_asst_name = r.str()?;
    let src_des = r.str()?;
    let dest_des = r.str()?;
    let direction = r.str()?;
    let Ok(direction) = Direction::parse(&direction) else {
        return r.fail(format!("bad direction {direction:?}"));
    };
    Ok(AssociationKind {
        id,
        bk_asst_id,
        bk_asst_name,
        src_des,
        dest_des,
        direction,
        ispre: false,
    })
}

pub(crate) fn encode_kind(k: &AssociationKind, w: &mut Writer) {
    w.i64(k.id);
    w.str(&k.bk_asst_id);
    w.str(&k.bk_asst_name);
    w.str(&k.src_des);
    w.str(&k.dest_des);
    w.str(direction_str(k.direction));
}

fn decode_run(r: &mut Reader<'_>, out: &mut Vec<Logged>) -> Decoded<()> {
    match r.u8()? {
        ADD_KIND => out.push(Logged::AddKind(decode_kind(r)?)),
        ADD_MODEL_ASSOCIATION => out.push(Logged::AddModelAssociation(decode_assoc(r)?)),
        DELETE_MODEL_ASSOCIATION => out.push(Logged::DeleteModelAssociation(r.i64()?)),
        USE_MODEL => out.push(Logged::UseModel(r.str()?)),
        DEFINE_MODEL => out.push(Logged::DefineModel {
            model: r.str()?,
            name: r.str()?,
            icon: r.str()?,
        }),
        tag @ (REGISTER | UNREGISTER) => {
            let model = r.str()?;
            let n = r.count(1)?;
            for _ in 0..n {
                let inst = r.i64()?;
                out.push(if tag == REGISTER {
                    let name = r.opt_str()?;
                    Logged::Register {
                        model: model.clone(),
                        inst,
                        name,
                    }
                } else {
                    Logged::Unregister {
                        model: model.clone(),
                        inst,
                    }
                });
            }
        }
        tag @ (LINK | UNLINK) => {
            let assoc = r.i64()?;
            let n = r.count(3)?;
            let mut id = 0i64;
            for _ in 0..n {
                id = id.wrapping_add(r.i64()?);
                let (src, dst) = (r.i64()?, r.i64()?);
                out.push(if tag == LINK {
                    Logged::Link {
                        assoc,
                        id,
                        src,
                        dst,
                    }
                } else {
                    Logged::Unlink {
                        assoc,
                        id,
                        src,
                        dst,
                    }
                });
            }
        }
        tag => return r.fail(format!("unknown effect tag {tag}")),
    }
    Ok(())
}
