//! assocstore, driven only through its public API.

use std::cell::RefCell;

use assocstore::{BatchCreate, Edge, NewModelAssociation, Store};

use crate::system::{Found, System};
use crate::workload::{Batch, ModelAssoc, Workload};

/// A default [`Store`] (shards: the smallest power of two ≥ 4 × cores),
/// read through its allocation-free edge API with one reused buffer, as a
/// careful user's hot loop would.
pub struct Assocstore {
    store: Store,
    buf: RefCell<Vec<Edge>>,
}

impl Assocstore {
    /// A store with the workload's model associations and instances.
    pub fn new(w: &Workload) -> Assocstore {
        Assocstore::with_store(w, Store::new())
    }

    /// `store` (empty; in memory or durable) given the workload's model
    /// associations and instances.
    pub fn with_store(w: &Workload, store: Store) -> Assocstore {
        for a in &w.assocs {
            let mapping = a.mapping.as_str().parse().expect("mapping");
            let new = NewModelAssociation::new(a.src_name, a.kind, a.dst_name, mapping);
            assert_eq!(new.bk_obj_asst_id, a.name);
            store
                .create_model_association(&new)
                .expect("model association");
        }
        for m in &w.models {
            store
                .register_instances(m.name, m.ids())
                .expect("instances");
        }
        Assocstore {
            store,
            buf: RefCell::new(Vec::new()),
        }
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The store, to close it.
    pub fn into_store(self) -> Store {
        self.store
    }
}

/// Feeds edges to `found`.
fn record(found: &mut Found, edges: &[Edge]) {
    found.call(
        edges
            .iter()
            .map(|e| (e.id, e.bk_inst_id, e.bk_asst_inst_id)),
    );
}

impl System for Assocstore {
    fn bulk_load(&self, w: &Workload, batch: &Batch) -> (usize, usize) {
        let a = &w.assocs[batch.assoc];
        let req = BatchCreate::new(a.src_name, a.dst_name, &a.name, batch.items.iter().copied());
        let out = self
            .store
            .batch_create_instance_associations(&req)
            .expect("whole-request checks pass");
        let created = out.created();
        (created, batch.items.len() - created)
    }

    fn create_one(&self, assoc: &ModelAssoc, src: i64, dst: i64) -> bool {
        self.store
            .create_instance_association(&assoc.name, src, dst)
            .is_ok()
    }

    fn get_by_id(&self, id: i64, found: &mut Found) {
        if let Some(e) = self.store.edge(id) {
            found.call([(e.id, e.bk_inst_id, e.bk_asst_inst_id)]);
        }
    }

    fn by_source(&self, assoc: &ModelAssoc, src: i64, found: &mut Found) {
        let mut buf = self.buf.borrow_mut();
        self.store
            .edges_from(&assoc.name, src, &mut buf)
            .expect("edges");
        record(found, &buf);
    }

    fn by_target(&self, assoc: &ModelAssoc, dst: i64, found: &mut Found) {
        let mut buf = self.buf.borrow_mut();
        self.store
            .edges_to(&assoc.name, dst, &mut buf)
            .expect("edges");
        record(found, &buf);
    }

    fn find_by_model(&self, w: &Workload, model: usize, found: &mut Found) {
        let mut buf = self.buf.borrow_mut();
        self.store
            .edges_of_model(w.models[model].name, &mut buf)
            .expect("edges");
        record(found, &buf);
    }
}
