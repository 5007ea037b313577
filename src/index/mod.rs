//! The in-memory indexes: posting lists by (model association, instance) in
//! each role, the instance registry, and records by id.
//!
//! [`Shard`] holds everything about the instance ids that hash to it
//! ([`crate::keys::shard_of`]); [`RecordShards`] holds records by id. The
//! store decides which locks to take; these types only keep data.

mod posting;
mod records;
mod shard;

pub(crate) use posting::{Posting, PostingMap, find_triple};
pub(crate) use records::{RecordShards, StoredRecord};
pub(crate) use shard::{InstanceMeta, Shard};
