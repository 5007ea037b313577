//! Association kinds (`bk_asst_id`): the verbs of a model association, such as
//! `belong` or `connect`. Six are built in; more can be defined.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The reserved kind of bk-cmdb's business topology. Model associations and
/// instance associations of this kind are refused (1101082).
pub(crate) const MAINLINE: &str = "bk_mainline";

/// Which way an association kind reads (bk-cmdb's stored strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Direction {
    /// `none`: no direction.
    #[serde(rename = "none")]
    None,
    /// `src_to_dest`: from source to destination; the built-ins use it.
    #[default]
    #[serde(rename = "src_to_dest")]
    SrcToDest,
    /// `dest_to_src`.
    #[serde(rename = "dest_to_src")]
    DestToSrc,
    /// `bidirectional`.
    #[serde(rename = "bidirectional")]
    Bidirectional,
}

impl Direction {
    /// Parses bk-cmdb's string; anything else is 1199006 naming `direction`.
    ///
    /// # Errors
    /// 1199006 `'direction' data parameter verification does not pass`.
    pub fn parse(s: &str) -> Result<Direction> {
        match s {
            "none" => Ok(Direction::None),
            "src_to_dest" => Ok(Direction::SrcToDest),
            "dest_to_src" => Ok(Direction::DestToSrc),
            "bidirectional" => Ok(Direction::Bidirectional),
            _ => Err(Error::invalid("direction")),
        }
    }
}

/// An association kind (`cc_AsstDes` in bk-cmdb).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AssociationKind {
    /// Sequence id, assigned by the store (the caller's value is ignored).
    pub id: i64,
    /// Unique kind id, e.g. `belong`.
    pub bk_asst_id: String,
    /// Display name.
    pub bk_asst_name: String,
    /// Label read from source to destination.
    pub src_des: String,
    /// Label read from destination to source.
    pub dest_des: String,
    /// Direction.
    pub direction: Direction,
    /// `true` for the built-in kinds.
    pub ispre: bool,
}

impl AssociationKind {
    /// A user-defined kind with the given id and display name; labels empty,
    /// direction `src_to_dest`.
    ///
    /// ```
    /// let kind = assocstore::AssociationKind::new("backup", "backup of");
    /// assert_eq!(kind.bk_asst_id, "backup");
    /// ```
    pub fn new(bk_asst_id: impl Into<String>, bk_asst_name: impl Into<String>) -> AssociationKind {
        AssociationKind {
            id: 0,
            bk_asst_id: bk_asst_id.into(),
            bk_asst_name: bk_asst_name.into(),
            src_des: String::new(),
            dest_des: String::new(),
            direction: Direction::SrcToDest,
            ispre: false,
        }
    }
}

/// The six built-in kinds, with bk-cmdb's English labels, in id order.
pub(crate) fn builtin_kinds() -> Vec<AssociationKind> {
    let rows = [
        ("belong", "belong", "belong", "contain"),
        ("group", "group", "group", "group by"),
        (MAINLINE, "mainline", "group", "group by"),
        ("run", "run on", "run on", "run"),
        ("connect", "connect", "connect", "connected"),
        ("default", "default association", "associate", "associate"),
    ];
    rows.iter()
        .zip(1..)
        .map(|(&(id, name, src, dest), seq)| AssociationKind {
            id: seq,
            bk_asst_id: id.to_owned(),
            bk_asst_name: name.to_owned(),
            src_des: src.to_owned(),
            dest_des: dest.to_owned(),
            direction: Direction::SrcToDest,
            ispre: true,
        })
        .collect()
}
