//! Model associations (`bk_obj_asst_id`): named, typed links between a source
//! model and a target model, with a [`Mapping`] and an [`OnDelete`] rule.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// How many instance associations an instance may take part in, per role,
/// within one model association. Immutable once the model association exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mapping {
    /// `1:1`: a source is the source of at most one record and a target the
    /// target of at most one record.
    OneToOne,
    /// `1:n`: a target has at most one source; a source may have many targets.
    OneToMany,
    /// `n:n`: no limit; only the same (source, target) pair may not repeat.
    ManyToMany,
}

impl Mapping {
    /// bk-cmdb's string: `1:1`, `1:n` or `n:n`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mapping::OneToOne => "1:1",
            Mapping::OneToMany => "1:n",
            Mapping::ManyToMany => "n:n",
        }
    }
}

impl FromStr for Mapping {
    type Err = Error;

    /// Parses `1:1`, `1:n` or `n:n`; anything else is 1199006 naming `mapping`.
    fn from_str(s: &str) -> Result<Mapping> {
        match s {
            "1:1" => Ok(Mapping::OneToOne),
            "1:n" => Ok(Mapping::OneToMany),
            "n:n" => Ok(Mapping::ManyToMany),
            _ => Err(Error::invalid("mapping")),
        }
    }
}

impl fmt::Display for Mapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What deleting an instance does to its associations of this model
/// association. bk-cmdb stores it and never acts on it; assocstore honours it
/// only in the opt-in cascade delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OnDelete {
    /// `none` (the default): deleting a linked instance is refused.
    #[default]
    None,
    /// `delete_src`: deleting the target deletes its source instances.
    DeleteSrc,
    /// `delete_dest`: deleting the source deletes its target instances.
    DeleteDest,
}

impl OnDelete {
    /// bk-cmdb's string: `none`, `delete_src` or `delete_dest`.
    pub fn as_str(self) -> &'static str {
        match self {
            OnDelete::None => "none",
            OnDelete::DeleteSrc => "delete_src",
            OnDelete::DeleteDest => "delete_dest",
        }
    }
}

impl FromStr for OnDelete {
    type Err = Error;

    /// Parses `none`, `delete_src` or `delete_dest`; the empty string means
    /// `none` as in bk-cmdb; anything else is 1199006 naming `on_delete`.
    fn from_str(s: &str) -> Result<OnDelete> {
        match s {
            "" | "none" => Ok(OnDelete::None),
            "delete_src" => Ok(OnDelete::DeleteSrc),
            "delete_dest" => Ok(OnDelete::DeleteDest),
            _ => Err(Error::invalid("on_delete")),
        }
    }
}

macro_rules! serde_as_str {
    ($ty:ty) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<$ty, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
serde_as_str!(Mapping);
serde_as_str!(OnDelete);

/// A model association as stored (bk-cmdb's `cc_ObjAsst` record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelAssociation {
    /// Sequence id.
    pub id: i64,
    /// Unique model association id, e.g. `bk_switch_connect_host`.
    pub bk_obj_asst_id: String,
    /// Display alias.
    pub bk_obj_asst_name: String,
    /// Source model.
    pub bk_obj_id: String,
    /// Target model.
    pub bk_asst_obj_id: String,
    /// Association kind.
    pub bk_asst_id: String,
    /// Cardinality rule.
    pub mapping: Mapping,
    /// Delete rule.
    pub on_delete: OnDelete,
    /// Pre-defined; `None` (JSON `null`) for user-created ones, as in bk-cmdb.
    pub ispre: Option<bool>,
}

/// What a caller gives to create a model association.
///
/// ```
/// use assocstore::{Mapping, NewModelAssociation};
/// let new = NewModelAssociation::new("bk_switch", "connect", "host", Mapping::OneToMany);
/// assert_eq!(new.bk_obj_asst_id, "bk_switch_connect_host");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewModelAssociation {
    /// Unique model association id; any unique non-empty string.
    pub bk_obj_asst_id: String,
    /// Display alias.
    #[serde(default)]
    pub bk_obj_asst_name: String,
    /// Source model.
    pub bk_obj_id: String,
    /// Target model.
    pub bk_asst_obj_id: String,
    /// Association kind; must exist.
    pub bk_asst_id: String,
    /// Cardinality rule.
    pub mapping: Mapping,
    /// Delete rule (default `none`).
    #[serde(default)]
    pub on_delete: OnDelete,
}

impl NewModelAssociation {
    /// A model association from `bk_obj_id` to `bk_asst_obj_id` of kind
    /// `bk_asst_id`, with bk-cmdb's conventional id
    /// `<bk_obj_id>_<bk_asst_id>_<bk_asst_obj_id>`, an empty alias and
    /// `on_delete` `none`.
    pub fn new(
        bk_obj_id: impl Into<String>,
        bk_asst_id: impl Into<String>,
        bk_asst_obj_id: impl Into<String>,
        mapping: Mapping,
    ) -> NewModelAssociation {
        let (obj, kind, asst_obj) = (bk_obj_id.into(), bk_asst_id.into(), bk_asst_obj_id.into());
        NewModelAssociation {
            bk_obj_asst_id: format!("{obj}_{kind}_{asst_obj}"),
            bk_obj_asst_name: String::new(),
            bk_obj_id: obj,
            bk_asst_obj_id: asst_obj,
            bk_asst_id: kind,
            mapping,
            on_delete: OnDelete::None,
        }
    }

    /// Replaces the conventional `bk_obj_asst_id`.
    #[must_use]
    pub fn with_id(mut self, bk_obj_asst_id: impl Into<String>) -> NewModelAssociation {
        self.bk_obj_asst_id = bk_obj_asst_id.into();
        self
    }

    /// Sets the display alias (default empty).
    #[must_use]
    pub fn with_name(mut self, bk_obj_asst_name: impl Into<String>) -> NewModelAssociation {
        self.bk_obj_asst_name = bk_obj_asst_name.into();
        self
    }

    /// Sets the delete rule (default [`OnDelete::None`]).
    #[must_use]
    pub fn with_on_delete(mut self, on_delete: OnDelete) -> NewModelAssociation {
        self.on_delete = on_delete;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping_round_trips_through_strings() {
        for m in [Mapping::OneToOne, Mapping::OneToMany, Mapping::ManyToMany] {
            assert_eq!(m.as_str().parse::<Mapping>(), Ok(m));
        }
        assert_eq!("n:1".parse::<Mapping>(), Err(Error::invalid("mapping")));
    }

    #[test]
    fn on_delete_defaults_to_none_on_empty() {
        assert_eq!("".parse::<OnDelete>(), Ok(OnDelete::None));
        assert_eq!(
            "cascade".parse::<OnDelete>(),
            Err(Error::invalid("on_delete"))
        );
    }
}
