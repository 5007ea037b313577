//! The lock types, in one place so a model checker (`loom`) can swap them.
//!
//! Every lock in the store is a `parking_lot::RwLock`: task-fair (neither
//! readers nor writers starve), no poisoning, small. The order in which they
//! are taken is documented in [`crate::store`].

pub(crate) use parking_lot::{RwLock, RwLockReadGuard, RwLockWriteGuard};
