//! Reading by condition: the MongoDB-style `condition` of
//! `find_instance_association`, and the query-builder rules, pages and
//! projections of `search_instance_associations`.

mod condition;
mod field;
mod page;
mod plan;
mod rule;
mod search;

pub use condition::Condition;
pub(crate) use page::project;
pub use page::{MAX_PAGE_LIMIT, Page};
pub(crate) use plan::Plan;
pub use rule::{MAX_DEPTH, MAX_IN_VALUES, MAX_OR_RULES, QueryFilter};
pub use search::Search;
