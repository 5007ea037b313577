//! The small, fixed domains every [`super::Op`] draws from: three models
//! (plus a fourth that is rarely used and an empty one), about six instance
//! ids per model (plus unknown, zero and negative ones), a dozen candidate
//! model associations, and pools of field names, strings and numbers for
//! conditions. Small domains make conflicts, duplicates and limit violations
//! happen all the time.
//!
//! Each pick is a plain integer mapped onto its domain, so `arbitrary` (the
//! fuzz targets) and `proptest` (the property tests) share one
//! representation, and shrinking a pick towards zero moves it towards the
//! most ordinary value.

use arbitrary::Arbitrary;
use assocstore::{Mapping, OnDelete, Towards};

/// The three main models. `a` prefixes `ab` and `b` suffixes `ab`, so a batch
/// request can pass the prefix / suffix checks of SPEC §3.3 and still name
/// the wrong model (the divergence check 6).
pub(crate) const MODELS: [&str; 3] = ["a", "ab", "b"];

/// Every non-empty model an op can name.
pub(crate) const ALL_MODELS: [&str; 4] = ["a", "ab", "b", "zz"];

/// A model id: one of [`MODELS`] mostly, `zz` sometimes, `""` rarely.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Arbitrary)]
pub(crate) struct ModelPick(pub(crate) u8);

impl ModelPick {
    pub(crate) fn name(self) -> &'static str {
        match self.0 {
            0..=219 => MODELS[usize::from(self.0) % 3],
            220..=239 => "zz",
            _ => "",
        }
    }
}

/// Past 2⁵³ on purpose: 9.1e15 is exact as a float, 2⁵³ + 1 is not.
const INSTS: [i64; 21] = [
    1,
    2,
    3,
    4,
    5,
    6,
    1,
    2,
    3,
    4,
    5,
    6,
    1,
    2,
    3,
    7,
    8,
    0,
    -1,
    9_100_000_000_000_000,
    9_007_199_254_740_993,
];

/// Every distinct instance id a pick can name.
pub(crate) fn inst_domain() -> Vec<i64> {
    let mut ids = INSTS.to_vec();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// An instance id: 1 to 6 mostly, sometimes 7, 8 or a large id (beyond
/// 2⁵³, where floats lose integers), sometimes 0 or -1 (refused at
/// registration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Arbitrary)]
pub(crate) struct InstPick(pub(crate) u8);

impl InstPick {
    pub(crate) fn id(self) -> i64 {
        INSTS[usize::from(self.0) % INSTS.len()]
    }
}

const KINDS: [&str; 16] = [
    "belong",
    "run",
    "connect",
    "default",
    "group",
    "belong",
    "run",
    "connect",
    "custom",
    "custom",
    "bk_mainline",
    "",
    "nokind",
    "group",
    "default",
    "connect",
];

/// An association kind: built-ins mostly, `custom` (defined by
/// `CreateKind`), `bk_mainline`, empty, or one that never exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Arbitrary)]
pub(crate) struct KindPick(pub(crate) u8);

impl KindPick {
    pub(crate) fn name(self) -> &'static str {
        KINDS[usize::from(self.0) % KINDS.len()]
    }
}

/// A candidate model association: its `bk_obj_asst_id` and the (source
/// model, kind, target model) it is created with unless an op alters them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slot {
    pub(crate) name: &'static str,
    pub(crate) src: &'static str,
    pub(crate) kind: &'static str,
    pub(crate) dst: &'static str,
}

const fn slot(
    name: &'static str,
    src: &'static str,
    kind: &'static str,
    dst: &'static str,
) -> Slot {
    Slot {
        name,
        src,
        kind,
        dst,
    }
}

/// The candidates. Besides ordinary ones: a self-association (`a_group_a`),
/// one whose kind must be defined first (`custom`), a `bk_mainline` one
/// (always refused), one with an unconventional id that still passes the
/// batch prefix / suffix checks (`a_b`), one with an empty id, and one that
/// repeats slot 0's (source, target, kind) under another id.
pub(crate) const SLOTS: [Slot; 12] = [
    slot("a_belong_b", "a", "belong", "b"),
    slot("a_run_ab", "a", "run", "ab"),
    slot("ab_connect_b", "ab", "connect", "b"),
    slot("b_default_a", "b", "default", "a"),
    slot("a_group_a", "a", "group", "a"),
    slot("b_custom_b", "b", "custom", "b"),
    slot("ab_bk_mainline_a", "ab", "bk_mainline", "a"),
    slot("a_b", "a", "connect", "b"),
    slot("a_run_zz", "a", "run", "zz"),
    slot("ab_run_ab", "ab", "run", "ab"),
    slot("", "b", "run", "ab"),
    slot("x_belong_b", "a", "belong", "b"),
];

/// A model association id: one of the [`SLOTS`] names, or `nope` (never
/// created).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Arbitrary)]
pub(crate) struct AssocPick(pub(crate) u8);

impl AssocPick {
    pub(crate) fn slot(self) -> Option<Slot> {
        SLOTS.get(usize::from(self.0) % (SLOTS.len() + 1)).copied()
    }

    pub(crate) fn name(self) -> &'static str {
        self.slot().map_or("nope", |s| s.name)
    }

    /// For ops that use a model association: three times in four one of
    /// the `live` ones (so creates get past "does not exist"), else the
    /// literal name.
    pub(crate) fn resolve(self, live: &[String]) -> String {
        if self.0 % 4 == 3 || live.is_empty() {
            self.name().to_owned()
        } else {
            live[usize::from(self.0 / 4) % live.len()].clone()
        }
    }
}

/// Every `bk_obj_asst_id` an op can name.
pub(crate) fn assoc_names() -> Vec<&'static str> {
    SLOTS
        .iter()
        .map(|s| s.name)
        .chain(["nope"])
        .filter(|n| !n.is_empty())
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Arbitrary)]
pub(crate) struct MappingPick(pub(crate) u8);

impl MappingPick {
    pub(crate) fn mapping(self) -> Mapping {
        [Mapping::OneToOne, Mapping::OneToMany, Mapping::ManyToMany][usize::from(self.0) % 3]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Arbitrary)]
pub(crate) struct OnDeletePick(pub(crate) u8);

impl OnDeletePick {
    pub(crate) fn on_delete(self) -> OnDelete {
        [
            OnDelete::None,
            OnDelete::DeleteDest,
            OnDelete::DeleteSrc,
            OnDelete::None,
        ][usize::from(self.0) % 4]
    }
}

/// An instance name for `register_instance`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Arbitrary)]
pub(crate) struct NamePick(pub(crate) u8);

impl NamePick {
    pub(crate) fn name(self) -> &'static str {
        ["web", "", "db-1"][usize::from(self.0) % 3]
    }
}

/// A record id, resolved against the reference model's state when the op
/// runs: mostly a live record's id, sometimes a literal from -1 to one past
/// the last id handed out (deleted and never-used ids included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Arbitrary)]
pub(crate) struct RecPick(pub(crate) u16);

impl RecPick {
    pub(crate) fn resolve(self, live: &[i64], last_id: i64) -> i64 {
        let v = usize::from(self.0);
        if v % 8 == 7 || live.is_empty() {
            (v / 8) as i64 % (last_id + 3) - 1
        } else {
            live[(v / 8) % live.len()]
        }
    }
}

/// The seven record fields, in bk-cmdb's order.
pub(crate) const RECORD_FIELDS: [&str; 7] = [
    "id",
    "bk_inst_id",
    "bk_obj_id",
    "bk_asst_inst_id",
    "bk_asst_obj_id",
    "bk_obj_asst_id",
    "bk_asst_id",
];

const FIELDS: [&str; 16] = [
    "id",
    "bk_inst_id",
    "bk_obj_id",
    "bk_asst_inst_id",
    "bk_asst_obj_id",
    "bk_obj_asst_id",
    "bk_asst_id",
    "bk_inst_id",
    "bk_asst_inst_id",
    "bk_obj_asst_id",
    "id",
    "bk_biz_id",
    "name.x-1",
    "_id",
    "",
    "9z",
];

/// A field name: a record field mostly; sometimes one no record has, or one
/// bk-cmdb's field pattern refuses (`_id`, empty).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Arbitrary)]
pub(crate) struct FieldPick(pub(crate) u8);

impl FieldPick {
    pub(crate) fn name(self) -> &'static str {
        FIELDS[usize::from(self.0) % FIELDS.len()]
    }
}

const STRINGS: [&str; 20] = [
    "a",
    "ab",
    "b",
    "belong",
    "run",
    "a_belong_b",
    "a_run_ab",
    "ab_connect_b",
    "a_b",
    "connect",
    "zz",
    "",
    "A",
    "B",
    "_",
    "n",
    "1",
    "elo",
    "_b",
    "a_group_a",
];

/// A string compared with record fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Arbitrary)]
pub(crate) struct StrPick(pub(crate) u8);

impl StrPick {
    pub(crate) fn text(self) -> &'static str {
        STRINGS[usize::from(self.0) % STRINGS.len()]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Arbitrary)]
pub(crate) struct TowardsPick(pub(crate) u8);

impl TowardsPick {
    pub(crate) fn towards(self) -> Towards {
        [Towards::Downstream, Towards::Upstream, Towards::Both][usize::from(self.0) % 3]
    }
}
