//! IndraDB's in-memory datastore (`indradb-lib`), used as its documentation
//! shows: vertices typed by model, edges typed by model association, the
//! record id an indexed edge property.
//!
//! IndraDB enforces **no mapping rule**: `1:1` / `1:n` breakers are stored.
//! What it does give is emulated and no more: an edge is its key
//! (source vertex, type, target vertex), so an exact repeat is found and
//! refused (an edge set would make it a silent no-op), and an edge needs both
//! vertices. Vertex ids are `(model index, instance id)` as a UUID, so one
//! model's vertices are one key range.
//!
//! A batch is three calls, each one datastore transaction (IndraDB's memory
//! datastore is one `Mutex`): which edges exist, which vertices exist, then
//! one `bulk_insert` of the accepted edges and their `id` properties. It is
//! not atomic across the three, which a single-threaded benchmark does not
//! notice.

use std::cell::Cell;
use std::collections::HashSet;

use indradb::{
    BulkInsertItem, Database, Edge, EdgeWithPropertyValueQuery, Identifier, Json, MemoryDatastore,
    QueryExt, QueryOutputValue, RangeVertexQuery, SpecificEdgeQuery, SpecificVertexQuery, Vertex,
};
use serde_json::Value;
use uuid::Uuid;

use crate::system::{Found, System};
use crate::workload::{Batch, ModelAssoc, Workload};

/// The vertex id of instance `inst` of model `model`.
fn vertex(model: usize, inst: i64) -> Uuid {
    Uuid::from_u64_pair(model as u64, inst as u64)
}

fn inst_of(v: Uuid) -> i64 {
    v.as_u64_pair().1 as i64
}

fn ident(s: &str) -> Identifier {
    Identifier::new(s).expect("valid identifier")
}

/// An IndraDB memory datastore.
pub struct IndraDb {
    db: Database<MemoryDatastore>,
    id: Identifier,
    types: Vec<Identifier>,
    models: Vec<Identifier>,
    last_id: Cell<i64>,
}

impl IndraDb {
    /// A datastore with one vertex per instance and the `id` property
    /// indexed.
    pub fn new(w: &Workload) -> IndraDb {
        let db = MemoryDatastore::new_db();
        let models: Vec<Identifier> = w.models.iter().map(|m| ident(m.name)).collect();
        for (m, model) in w.models.iter().enumerate() {
            let ids: Vec<i64> = model.ids().collect();
            for chunk in ids.chunks(100_000) {
                let items = chunk.iter().map(|&inst| {
                    BulkInsertItem::Vertex(Vertex::with_id(vertex(m, inst), models[m]))
                });
                db.bulk_insert(items.collect()).expect("vertices");
            }
        }
        let id = ident("id");
        db.index_property(id).expect("index");
        IndraDb {
            db,
            id,
            types: w.assocs.iter().map(|a| ident(&a.name)).collect(),
            models,
            last_id: Cell::new(0),
        }
    }

    fn edge(&self, a: usize, assoc: &ModelAssoc, src: i64, dst: i64) -> Edge {
        Edge::new(
            vertex(assoc.src, src),
            self.types[a],
            vertex(assoc.dst, dst),
        )
    }

    fn next_id(&self) -> Json {
        self.last_id.set(self.last_id.get() + 1);
        Json::new(Value::from(self.last_id.get()))
    }

    /// The last output of a query that ends in edge properties, as
    /// (id, src, dst).
    fn records(&self, q: impl Into<indradb::Query>, out: &mut Vec<(i64, i64, i64)>) {
        let mut output = self.db.get(q).expect("query");
        let Some(QueryOutputValue::EdgeProperties(props)) = output.pop() else {
            panic!("edge properties expected");
        };
        for p in props {
            let id = p.props[0].value.0.as_i64().expect("integer id");
            out.push((id, inst_of(p.edge.outbound_id), inst_of(p.edge.inbound_id)));
        }
    }

    fn lookup(&self, assoc: &ModelAssoc, inst: i64, outbound: bool, found: &mut Found) {
        let a = self.types.iter().position(|t| t.as_str() == assoc.name);
        let t = self.types[a.expect("known model association")];
        let model = if outbound { assoc.src } else { assoc.dst };
        let from = SpecificVertexQuery::single(vertex(model, inst));
        let pipe = if outbound {
            from.outbound()
        } else {
            from.inbound()
        };
        let q = pipe.expect("pipe").t(t).properties().expect("properties");
        let mut out = Vec::new();
        self.records(q.name(self.id), &mut out);
        out.sort_unstable();
        found.call(out);
    }
}

impl System for IndraDb {
    fn bulk_load(&self, w: &Workload, batch: &Batch) -> (usize, usize) {
        let assoc = &w.assocs[batch.assoc];
        let edges: Vec<Edge> = (batch.items.iter())
            .map(|&(s, d)| self.edge(batch.assoc, assoc, s, d))
            .collect();
        let existing: HashSet<Edge> = match self.db.get(SpecificEdgeQuery::new(edges.clone())) {
            Ok(mut out) => match out.pop() {
                Some(QueryOutputValue::Edges(e)) => e.into_iter().collect(),
                _ => panic!("edges expected"),
            },
            Err(e) => panic!("query: {e}"),
        };
        let ends = edges.iter().flat_map(|e| [e.outbound_id, e.inbound_id]);
        let present: HashSet<Uuid> = match self.db.get(SpecificVertexQuery::new(ends.collect())) {
            Ok(mut out) => match out.pop() {
                Some(QueryOutputValue::Vertices(v)) => v.into_iter().map(|v| v.id).collect(),
                _ => panic!("vertices expected"),
            },
            Err(e) => panic!("query: {e}"),
        };
        let mut seen = HashSet::with_capacity(edges.len());
        let mut items = Vec::with_capacity(2 * edges.len());
        for e in edges {
            if existing.contains(&e)
                || !present.contains(&e.outbound_id)
                || !present.contains(&e.inbound_id)
                || !seen.insert(e.clone())
            {
                continue;
            }
            items.push(BulkInsertItem::EdgeProperty(
                e.clone(),
                self.id,
                self.next_id(),
            ));
            items.push(BulkInsertItem::Edge(e));
        }
        let created = items.len() / 2;
        // Edges before their properties.
        items.sort_by_key(|i| !matches!(i, BulkInsertItem::Edge(_)));
        self.db.bulk_insert(items).expect("bulk insert");
        (created, batch.items.len() - created)
    }

    fn create_one(&self, assoc: &ModelAssoc, src: i64, dst: i64) -> bool {
        let a = self.types.iter().position(|t| t.as_str() == assoc.name);
        let e = self.edge(a.expect("known model association"), assoc, src, dst);
        let out = self
            .db
            .get(SpecificEdgeQuery::single(e.clone()))
            .expect("query");
        if matches!(out.last(), Some(QueryOutputValue::Edges(v)) if !v.is_empty()) {
            return false;
        }
        if !self.db.create_edge(&e).expect("create edge") {
            return false;
        }
        let id = self.next_id();
        let q = SpecificEdgeQuery::single(e);
        self.db
            .set_properties(q, self.id, &id)
            .expect("id property");
        true
    }

    fn get_by_id(&self, id: i64, found: &mut Found) {
        let q = EdgeWithPropertyValueQuery::new(self.id, Json::new(Value::from(id)));
        let mut output = self.db.get(q).expect("query");
        if let Some(QueryOutputValue::Edges(edges)) = output.pop() {
            let edges = edges.iter();
            found.call(edges.map(|e| (id, inst_of(e.outbound_id), inst_of(e.inbound_id))));
        }
    }

    fn by_source(&self, assoc: &ModelAssoc, src: i64, found: &mut Found) {
        self.lookup(assoc, src, true, found);
    }

    fn by_target(&self, assoc: &ModelAssoc, dst: i64, found: &mut Found) {
        self.lookup(assoc, dst, false, found);
    }

    fn find_by_model(&self, w: &Workload, model: usize, found: &mut Found) {
        let m = &w.models[model];
        let range = || {
            RangeVertexQuery::new()
                .start_id(vertex(model, m.first))
                .t(self.models[model])
                .limit(m.count as u32)
        };
        let mut out = Vec::new();
        let q = range()
            .outbound()
            .expect("pipe")
            .properties()
            .expect("properties");
        self.records(q.name(self.id), &mut out);
        let q = range()
            .inbound()
            .expect("pipe")
            .properties()
            .expect("properties");
        self.records(q.name(self.id), &mut out);
        // A self-associated model's records come out both ways: once is enough.
        out.sort_unstable();
        out.dedup();
        found.call(out);
    }
}
