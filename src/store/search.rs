//! Query-builder reads: search, count and related.

use super::Store;
use crate::error::{Error, Result};
use crate::query::{MAX_PAGE_LIMIT, Plan, QueryFilter, Search, project};
use crate::record::InstanceAssociation;

impl Store {
    /// bk-cmdb's `search_instance_associations`: records touching model
    /// `bk_obj_id` (as source **or** target model) that match the filter,
    /// sorted, paged and projected.
    ///
    /// ```
    /// use assocstore::{Mapping, NewModelAssociation, Search, Store};
    /// use serde_json::json;
    /// let store = Store::new();
    /// store.create_model_association(&NewModelAssociation::new("a", "run", "b", Mapping::ManyToMany))?;
    /// store.register_instances("a", [1, 2])?;
    /// store.register_instances("b", [7])?;
    /// store.create_instance_association("a_run_b", 1, 7)?;
    /// store.create_instance_association("a_run_b", 2, 7)?;
    /// let search = Search::from_json(&json!({
    ///     "fields": ["bk_inst_id"], "page": {"start": 0, "limit": 10, "sort": "-bk_inst_id"}}))?;
    /// let found = store.search_instance_associations("b", &search)?;
    /// assert_eq!(serde_json::to_string(&found)?, r#"[{"bk_inst_id":2},{"bk_inst_id":1}]"#);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// 1199006 naming `bk_obj_id` (empty) or `page.limit` (outside 1..=500).
    pub fn search_instance_associations(
        &self,
        bk_obj_id: &str,
        search: &Search,
    ) -> Result<Vec<InstanceAssociation>> {
        if bk_obj_id.is_empty() {
            return Err(Error::invalid("bk_obj_id"));
        }
        search.page.validate()?;
        let Some(model) = self.models.lookup(bk_obj_id) else {
            return Ok(Vec::new());
        };
        let assocs = self.catalog.read().touching(model.key);
        let found = self.filtered(&assocs, search.filter.as_ref());
        let page = search.page.apply(found);
        Ok(page
            .into_iter()
            .map(|r| project(r, &search.fields))
            .collect())
    }

    /// bk-cmdb's `count_instance_associations`. Like bk-cmdb, it counts only
    /// records whose **source** model is `bk_obj_id`, while
    /// [`Store::search_instance_associations`] returns both directions.
    ///
    /// ```
    /// use assocstore::{Mapping, NewModelAssociation, Store};
    /// let store = Store::new();
    /// store.create_model_association(&NewModelAssociation::new("a", "run", "b", Mapping::ManyToMany))?;
    /// store.register_instances("a", [1])?;
    /// store.register_instances("b", [7])?;
    /// store.create_instance_association("a_run_b", 1, 7)?;
    /// assert_eq!(store.count_instance_associations("a", None)?, 1);
    /// assert_eq!(store.count_instance_associations("b", None)?, 0); // b is only a target
    /// # Ok::<(), assocstore::Error>(())
    /// ```
    ///
    /// # Errors
    /// 1199006 `'bk_obj_id' data parameter verification does not pass` when
    /// the model is empty.
    pub fn count_instance_associations(
        &self,
        bk_obj_id: &str,
        filter: Option<&QueryFilter>,
    ) -> Result<u64> {
        if bk_obj_id.is_empty() {
            return Err(Error::invalid("bk_obj_id"));
        }
        let Some(model) = self.models.lookup(bk_obj_id) else {
            return Ok(0);
        };
        let assocs: Vec<_> = {
            let catalog = self.catalog.read();
            catalog
                .live()
                .filter(|a| a.src_model == model.key)
                .cloned()
                .collect()
        };
        Ok(self.filtered(&assocs, filter).len() as u64)
    }

    /// bk-cmdb's `search_related_inst_asso`: every record in which instance
    /// `bk_inst_id` of model `bk_obj_id` is source or target, in id order,
    /// from `start`, at most `limit` of them (0: all), projected to `fields`.
    ///
    /// ```
    /// use assocstore::{Mapping, NewModelAssociation, Store};
    /// let store = Store::new();
    /// store.create_model_association(&NewModelAssociation::new("a", "run", "a", Mapping::ManyToMany))?;
    /// store.register_instances("a", [1, 2])?;
    /// store.create_instance_association("a_run_a", 1, 2)?;
    /// store.create_instance_association("a_run_a", 2, 1)?;
    /// let related = store.search_related_instance_associations("a", 1, &["id".into()], 0, 0)?;
    /// assert_eq!(related.iter().map(|r| r.id).collect::<Vec<_>>(), [1, 2]);
    /// # Ok::<(), assocstore::Error>(())
    /// ```
    ///
    /// # Errors
    /// In order: `bk_inst_id` 0 or `bk_obj_id` empty → 1199010 `''bk_inst_id'
    /// & 'bk_obj_id'' unassigned`; no `fields` → 1199010 `'fields'
    /// unassigned`; `limit` over 500 → 1199059.
    pub fn search_related_instance_associations(
        &self,
        bk_obj_id: &str,
        bk_inst_id: i64,
        fields: &[String],
        start: u64,
        limit: u64,
    ) -> Result<Vec<InstanceAssociation>> {
        if bk_inst_id == 0 || bk_obj_id.is_empty() {
            return Err(Error::unassigned("'bk_inst_id' & 'bk_obj_id'"));
        }
        if fields.is_empty() {
            return Err(Error::unassigned("fields"));
        }
        if limit > MAX_PAGE_LIMIT {
            return Err(Error::PageLimitExceeded);
        }
        let Some(model) = self.models.lookup(bk_obj_id) else {
            return Ok(Vec::new());
        };
        let assocs = self.catalog.read().touching(model.key);
        let mut found = Vec::new();
        {
            let shard = self.read_one(self.shard_index(bk_inst_id));
            for a in &assocs {
                if a.src_model == model.key {
                    for p in shard.out.get(a.key, bk_inst_id).iter() {
                        found.push(super::read::render(a, bk_inst_id, p.other, p.id));
                    }
                }
                if a.dst_model == model.key {
                    for p in shard.inn.get(a.key, bk_inst_id).iter() {
                        found.push(super::read::render(a, p.other, bk_inst_id, p.id));
                    }
                }
            }
        }
        found.sort_unstable_by_key(|r| r.id);
        found.dedup_by_key(|r| r.id);
        let start = usize::try_from(start).unwrap_or(usize::MAX);
        let limit = match usize::try_from(limit) {
            Ok(0) | Err(_) => usize::MAX,
            Ok(n) => n,
        };
        Ok(found
            .into_iter()
            .skip(start)
            .take(limit)
            .map(|r| project(r, fields))
            .collect())
    }

    /// The records of `assocs` matching `filter` (all without one), in id
    /// order.
    fn filtered(
        &self,
        assocs: &[std::sync::Arc<crate::catalog::AssocEntry>],
        filter: Option<&QueryFilter>,
    ) -> Vec<InstanceAssociation> {
        let plan = filter.map_or_else(Plan::default, QueryFilter::plan);
        self.collect(assocs, &plan, |r| filter.is_none_or(|f| f.matches(r)))
    }
}
