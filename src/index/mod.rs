//! The in-memory indexes: posting lists by (model association, instance) in
//! each role, the instance registry, and records by id.
//!
//! [`Shard`] holds everything about the instance ids that hash to it
//! ([`crate::keys::shard_of`]); [`RecordTable`] holds records by id, shared
//! by every shard's posting maps. The posting tables ([`tagged`]) and the
//! instance registry ([`instance_set`]) share one open-addressing core
//! ([`linear`]). The store decides which locks to take; these types only
//! keep data.

mod instance_set;
mod linear;
mod packing;
mod posting;
mod records;
mod shard;
mod tagged;

pub(crate) use posting::{KeySlot, Posting, PostingMap, Role, find_triple};
pub(crate) use records::{MAX_ASSOC_KEY, MAX_RECORD_ID, RecordTable, StoredRecord};
pub(crate) use shard::Shard;
pub(crate) use tagged::hash;
