//! A `search_instance_associations` request: filter, projection, page.

use serde_json::Value;

use super::page::Page;
use super::rule::QueryFilter;
use crate::error::{Error, Result};

/// What to search for and which page of it to return.
///
/// ```
/// use assocstore::{Page, QueryFilter, Search};
/// use serde_json::json;
/// let search = Search::from_json(&json!({
///     "conditions": {"condition": "AND", "rules": [
///         {"field": "bk_asst_obj_id", "operator": "equal", "value": "host"}]},
///     "fields": ["id", "bk_inst_id"],
///     "page": {"start": 0, "limit": 10, "sort": "-id"}
/// }))?;
/// let same = Search::new(Page::new(0, 10).sorted_by("-id"))
///     .with_filter(QueryFilter::from_json(&json!({"condition": "AND", "rules": [
///         {"field": "bk_asst_obj_id", "operator": "equal", "value": "host"}]}))?)
///     .with_fields(["id", "bk_inst_id"]);
/// assert_eq!(search, same);
/// # Ok::<(), assocstore::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    pub(crate) filter: Option<QueryFilter>,
    pub(crate) fields: Vec<String>,
    pub(crate) page: Page,
}

impl Search {
    /// Every record, all fields, the given page.
    pub fn new(page: Page) -> Search {
        Search {
            filter: None,
            fields: Vec::new(),
            page,
        }
    }

    /// Only records matching `filter`.
    #[must_use]
    pub fn with_filter(mut self, filter: QueryFilter) -> Search {
        self.filter = Some(filter);
        self
    }

    /// Only these fields of each record (all when empty, the default).
    #[must_use]
    pub fn with_fields<S: Into<String>>(mut self, fields: impl IntoIterator<Item = S>) -> Search {
        self.fields = fields.into_iter().map(Into::into).collect();
        self
    }

    /// Parses bk-cmdb's body `{"conditions", "fields", "page"}`, validating
    /// in bk-cmdb's order: the page, then the conditions.
    ///
    /// # Errors
    /// 1199006 naming the key: `page.limit` (outside 1..=500 or missing),
    /// `page.start` (negative or not an integer), `page.sort`, `fields`, or a
    /// `conditions…` key (see [`QueryFilter::from_json`]).
    pub fn from_json(body: &Value) -> Result<Search> {
        let page = body.get("page").unwrap_or(&Value::Null);
        let int = |key: &str| match page.get(key) {
            None | Some(Value::Null) => Some(0),
            Some(v) => v.as_u64(),
        };
        let limit = int("limit").ok_or_else(|| Error::invalid("page.limit"))?;
        let start = int("start").ok_or_else(|| Error::invalid("page.start"))?;
        let sort = match page.get("sort") {
            None | Some(Value::Null) => "",
            Some(v) => v.as_str().ok_or_else(|| Error::invalid("page.sort"))?,
        };
        let page = Page::new(start, limit).sorted_by(sort);
        page.validate()?;
        let filter = match body.get("conditions") {
            None | Some(Value::Null) => None,
            Some(v) => Some(QueryFilter::from_json(v)?),
        };
        let fields = match body.get("fields") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|f| f.as_str().map(str::to_owned))
                .collect::<Option<Vec<String>>>()
                .ok_or_else(|| Error::invalid("fields"))?,
            Some(_) => return Err(Error::invalid("fields")),
        };
        Ok(Search {
            filter,
            fields,
            page,
        })
    }
}
