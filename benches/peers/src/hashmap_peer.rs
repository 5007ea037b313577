//! The baseline a careful user would write: std `HashMap`s behind one `Mutex`, the same
//! rules (mapping, no triple twice, both instances exist), one lock per call or batch.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use crate::system::{Found, System};
use crate::workload::{Batch, Mapping, ModelAssoc, Workload};

#[derive(Default)]
struct Db {
    instances: HashSet<(usize, i64)>,         // (model, id)
    records: HashMap<i64, (usize, i64, i64)>, // id → (assoc, src, dst)
    triples: HashSet<(usize, i64, i64)>,
    by_src: HashMap<(usize, i64), Vec<(i64, i64)>>, // (assoc, src) → [(id, dst)], id order
    by_dst: HashMap<(usize, i64), Vec<(i64, i64)>>, // (assoc, dst) → [(id, src)], id order
    last_id: i64,
}

/// The `HashMap` + `Mutex` baseline.
pub struct HashMapPeer {
    assocs: HashMap<String, (usize, Mapping, usize, usize)>, // name → (key, mapping, models)
    db: Mutex<Db>,
}

impl HashMapPeer {
    pub fn new(w: &Workload) -> HashMapPeer {
        let mut db = Db::default();
        for (m, model) in w.models.iter().enumerate() {
            db.instances.extend(model.ids().map(|id| (m, id)));
        }
        let assocs = w.assocs.iter().enumerate();
        let assocs = assocs.map(|(i, a)| (a.name.clone(), (i, a.mapping, a.src, a.dst)));
        let (assocs, db) = (assocs.collect(), Mutex::new(db));
        HashMapPeer { assocs, db }
    }

    /// Checks and inserts one item under the held lock; the new id if it was created.
    fn insert(&self, db: &mut Db, name: &str, src: i64, dst: i64) -> Option<i64> {
        let &(a, mapping, src_model, dst_model) = self.assocs.get(name)?;
        let src_taken = mapping == Mapping::OneToOne && db.by_src.contains_key(&(a, src));
        let dst_taken = mapping != Mapping::ManyToMany && db.by_dst.contains_key(&(a, dst));
        if src_taken || dst_taken || db.triples.contains(&(a, src, dst)) {
            return None;
        }
        if !db.instances.contains(&(src_model, src)) || !db.instances.contains(&(dst_model, dst)) {
            return None;
        }
        db.last_id += 1;
        let id = db.last_id;
        db.records.insert(id, (a, src, dst));
        db.triples.insert((a, src, dst));
        db.by_src.entry((a, src)).or_default().push((id, dst));
        db.by_dst.entry((a, dst)).or_default().push((id, src));
        Some(id)
    }
}

impl System for HashMapPeer {
    fn bulk_load(&self, w: &Workload, batch: &Batch) -> (usize, usize) {
        let (name, mut db) = (&w.assocs[batch.assoc].name, self.db.lock().expect("lock"));
        let mut created = 0;
        for &(src, dst) in &batch.items {
            created += usize::from(self.insert(&mut db, name, src, dst).is_some());
        }
        (created, batch.items.len() - created)
    }

    fn create_one(&self, assoc: &ModelAssoc, src: i64, dst: i64) -> bool {
        let mut db = self.db.lock().expect("lock");
        self.insert(&mut db, &assoc.name, src, dst).is_some()
    }

    fn get_by_id(&self, id: i64, found: &mut Found) {
        let db = self.db.lock().expect("lock");
        found.call(db.records.get(&id).map(|r| (id, r.1, r.2)));
    }

    fn by_source(&self, assoc: &ModelAssoc, src: i64, found: &mut Found) {
        let (a, db) = (self.assocs[&assoc.name].0, self.db.lock().expect("lock"));
        let list = db.by_src.get(&(a, src)).map_or(&[][..], Vec::as_slice);
        found.call(list.iter().map(|&(id, dst)| (id, src, dst)));
    }

    fn by_target(&self, assoc: &ModelAssoc, dst: i64, found: &mut Found) {
        let (a, db) = (self.assocs[&assoc.name].0, self.db.lock().expect("lock"));
        let list = db.by_dst.get(&(a, dst)).map_or(&[][..], Vec::as_slice);
        found.call(list.iter().map(|&(id, src)| (id, src, dst)));
    }

    fn find_by_model(&self, w: &Workload, model: usize, found: &mut Found) {
        let touches = |a: usize| w.assocs[a].src == model || w.assocs[a].dst == model;
        let db = self.db.lock().expect("lock");
        let hits = db.records.iter().filter(|(_, r)| touches(r.0));
        let mut hits: Vec<(i64, i64, i64)> = hits.map(|(&id, &(_, s, d))| (id, s, d)).collect();
        hits.sort_unstable();
        found.call(hits);
    }
}
