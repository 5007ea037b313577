//! Pages, sorting and projection for `search_instance_associations`.

use std::cmp::Ordering;
use std::sync::Arc;

use super::field::{Field, FieldValue};
use crate::error::{Error, Result};
use crate::record::InstanceAssociation;

/// Largest `page.limit` a search accepts (bk-cmdb's `BKMaxInstanceLimit`).
pub const MAX_PAGE_LIMIT: u64 = 500;

/// One sort key: a field, ascending or descending.
#[derive(Debug, Clone, PartialEq)]
struct SortKey {
    field: Field,
    descending: bool,
}

/// Parses bk-cmdb's sort string: `"f1,-f2"` or `"f1:1,f2:-1"`. A leading `-`
/// or a `:-1` suffix means descending, anything else ascending; empty items
/// are skipped.
fn parse_sort(sort: &str) -> Vec<SortKey> {
    sort.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            let (name, minus) = match item.strip_prefix('-') {
                Some(rest) => (rest, true),
                None => (item, false),
            };
            let (name, descending) = match name.split_once(':') {
                Some((name, dir)) => (name, minus || dir.trim() == "-1"),
                None => (name, minus),
            };
            SortKey {
                field: Field::parse(name.trim()),
                descending,
            }
        })
        .collect()
}

/// `page`: where to start, how many, in which order.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    start: u64,
    limit: u64,
    sort: Vec<SortKey>,
}

impl Page {
    /// Rows `start..start + limit` in id order.
    ///
    /// ```
    /// let page = assocstore::Page::new(0, 500).sorted_by("bk_inst_id,-id");
    /// # let _ = page;
    /// ```
    pub fn new(start: u64, limit: u64) -> Page {
        Page {
            start,
            limit,
            sort: Vec::new(),
        }
    }

    /// Orders by bk-cmdb's sort string (`"f1,-f2"` or `"f1:1,f2:-1"`); ties,
    /// and an empty string, keep id order.
    #[must_use]
    pub fn sorted_by(mut self, sort: &str) -> Page {
        self.sort = parse_sort(sort);
        self
    }

    /// Checks `1 <= limit <= 500`.
    pub(crate) fn validate(&self) -> Result<()> {
        if self.limit == 0 || self.limit > MAX_PAGE_LIMIT {
            return Err(Error::invalid("page.limit"));
        }
        Ok(())
    }

    /// Sorts `records` (already in id order) and cuts the page out.
    pub(crate) fn apply(&self, mut records: Vec<InstanceAssociation>) -> Vec<InstanceAssociation> {
        if !self.sort.is_empty() {
            records.sort_by(|a, b| self.order(a, b));
        }
        let start = usize::try_from(self.start).unwrap_or(usize::MAX);
        let limit = usize::try_from(self.limit).unwrap_or(usize::MAX);
        records.into_iter().skip(start).take(limit).collect()
    }

    fn order(&self, a: &InstanceAssociation, b: &InstanceAssociation) -> Ordering {
        for key in &self.sort {
            let ord = match (key.field.value_in(a), key.field.value_in(b)) {
                (FieldValue::Int(x), FieldValue::Int(y)) => x.cmp(&y),
                (FieldValue::Str(x), FieldValue::Str(y)) => x.cmp(y),
                _ => Ordering::Equal,
            };
            let ord = if key.descending { ord.reverse() } else { ord };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        a.id.cmp(&b.id)
    }
}

/// Keeps only the named fields of `rec` (all of them when `fields` is
/// empty); the others become zero and are omitted when serialized, as in
/// bk-cmdb. Unknown names are ignored.
pub(crate) fn project(rec: InstanceAssociation, fields: &[String]) -> InstanceAssociation {
    if fields.is_empty() {
        return rec;
    }
    let keep = |name: &str| fields.iter().any(|f| f == name);
    let empty = || Arc::<str>::from("");
    InstanceAssociation {
        id: if keep("id") { rec.id } else { 0 },
        bk_inst_id: if keep("bk_inst_id") {
            rec.bk_inst_id
        } else {
            0
        },
        bk_obj_id: if keep("bk_obj_id") {
            rec.bk_obj_id
        } else {
            empty()
        },
        bk_asst_inst_id: if keep("bk_asst_inst_id") {
            rec.bk_asst_inst_id
        } else {
            0
        },
        bk_asst_obj_id: if keep("bk_asst_obj_id") {
            rec.bk_asst_obj_id
        } else {
            empty()
        },
        bk_obj_asst_id: if keep("bk_obj_asst_id") {
            rec.bk_obj_asst_id
        } else {
            empty()
        },
        bk_asst_id: if keep("bk_asst_id") {
            rec.bk_asst_id
        } else {
            empty()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sort_syntaxes_parse_alike() {
        assert_eq!(
            parse_sort("bk_inst_id,-id"),
            parse_sort("bk_inst_id:1, id:-1")
        );
        assert_eq!(parse_sort(" , "), Vec::new());
        assert!(parse_sort("-x:1")[0].descending);
    }

    #[test]
    fn limit_must_be_one_to_five_hundred() {
        assert!(Page::new(0, 0).validate().is_err());
        assert!(Page::new(0, 1).validate().is_ok());
        assert!(Page::new(9, 500).validate().is_ok());
        assert_eq!(
            Page::new(0, 501).validate(),
            Err(Error::invalid("page.limit"))
        );
    }
}
