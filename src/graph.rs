//! Graph reads beyond bk-cmdb: neighbours in either direction, multi-hop
//! traversal and shortest paths, and bk-cmdb's one-hop topology shape.

use std::sync::Arc;

use serde::Serialize;

use crate::record::InstanceAssociation;

/// Which way to follow associations from an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Towards {
    /// From source to target: the instance's targets.
    Downstream,
    /// From target to source: the instance's sources.
    Upstream,
    /// Both ways.
    Both,
}

/// Which associations to follow: by kind (`bk_asst_id`) and by model
/// association (`bk_obj_asst_id`). An empty list allows all.
///
/// ```
/// let filter = assocstore::EdgeFilter::default().kinds(["run"]);
/// assert_eq!(filter.kinds, ["run"]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EdgeFilter {
    /// Allowed kinds; empty: all.
    pub kinds: Vec<String>,
    /// Allowed model associations; empty: all.
    pub model_associations: Vec<String>,
}

impl EdgeFilter {
    /// Only associations of these kinds.
    #[must_use]
    pub fn kinds<S: Into<String>>(mut self, kinds: impl IntoIterator<Item = S>) -> EdgeFilter {
        self.kinds = kinds.into_iter().map(Into::into).collect();
        self
    }

    /// Only associations of these model associations.
    #[must_use]
    pub fn model_associations<S: Into<String>>(
        mut self,
        ids: impl IntoIterator<Item = S>,
    ) -> EdgeFilter {
        self.model_associations = ids.into_iter().map(Into::into).collect();
        self
    }

    pub(crate) fn allows(&self, kind: &str, obj_asst_id: &str) -> bool {
        (self.kinds.is_empty() || self.kinds.iter().any(|k| k == kind))
            && (self.model_associations.is_empty()
                || self.model_associations.iter().any(|m| m == obj_asst_id))
    }
}

/// An instance next to another one, and the association between them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neighbour {
    /// The neighbour's model.
    pub bk_obj_id: Arc<str>,
    /// The neighbour's id.
    pub bk_inst_id: i64,
    /// The association linking the two.
    pub association: InstanceAssociation,
}

/// How far and which way a traversal goes.
///
/// ```
/// use assocstore::{EdgeFilter, Towards, Traversal};
/// let t = Traversal::new(Towards::Both, 3).node_limit(100).filter(EdgeFilter::default());
/// assert_eq!(t.max_depth, 3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Traversal {
    /// Direction to follow.
    pub towards: Towards,
    /// Most hops from the start.
    pub max_depth: usize,
    /// Stop once this many instances are reached (default: no limit).
    pub node_limit: Option<usize>,
    /// Which associations to follow (default: all).
    pub filter: EdgeFilter,
}

impl Traversal {
    /// Up to `max_depth` hops `towards`, all associations, no node limit.
    pub fn new(towards: Towards, max_depth: usize) -> Traversal {
        Traversal {
            towards,
            max_depth,
            node_limit: None,
            filter: EdgeFilter::default(),
        }
    }

    /// Stops after reaching `limit` instances.
    #[must_use]
    pub fn node_limit(mut self, limit: usize) -> Traversal {
        self.node_limit = Some(limit);
        self
    }

    /// Follows only the associations `filter` allows.
    #[must_use]
    pub fn filter(mut self, filter: EdgeFilter) -> Traversal {
        self.filter = filter;
        self
    }
}

/// An instance a traversal reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reached {
    /// Its model.
    pub bk_obj_id: Arc<str>,
    /// Its id.
    pub bk_inst_id: i64,
    /// Hops from the start (1 for a neighbour).
    pub depth: usize,
    /// The association it was first reached through.
    pub via: InstanceAssociation,
}

/// One group of bk-cmdb's `search_inst_association_topo`: the neighbours of
/// one model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopologyGroup {
    /// The neighbours' model.
    pub bk_obj_id: String,
    /// Its display name (the model id unless defined with `define_model`).
    pub bk_obj_name: String,
    /// Its icon ("" unless defined).
    pub bk_obj_icon: String,
    /// Number of children.
    pub count: usize,
    /// One entry per association, in id order.
    pub children: Vec<TopologyNode>,
}

/// One neighbour in a [`TopologyGroup`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopologyNode {
    /// The instance id, as a string (bk-cmdb's shape).
    pub id: String,
    /// The instance's model.
    pub bk_obj_id: String,
    /// The instance id.
    pub bk_inst_id: i64,
    /// The instance's name ("" when it has none).
    pub bk_inst_name: String,
    /// The association's record id.
    pub asso_id: i64,
}
