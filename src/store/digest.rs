//! [`Store::digest`]: one number for everything a store answers, to check
//! that two stores (a leader and its followers) hold the same state.

use std::hash::{DefaultHasher, Hash, Hasher};

use super::Store;

/// The hash of one item of the state, tagged by what it is.
fn item(tag: u8, value: impl Hash) -> u64 {
    let mut h = DefaultHasher::new();
    tag.hash(&mut h);
    value.hash(&mut h);
    h.finish()
}

impl Store {
    /// A digest of the whole state: association kinds, model associations
    /// (deleted ones too, as their ids stay taken), known models with their
    /// display names, registered instances with their names, and every
    /// instance association with its id. Two stores that answer every read
    /// the same way have the same digest, whatever order their writes came
    /// in; names are hashed, not internal keys. Stable within one build of
    /// the library, not across versions.
    ///
    /// ```
    /// use assocstore::{Mapping, NewModelAssociation, Since, Store, WatchFilter};
    /// let leader = Store::new();
    /// leader.create_model_association(&NewModelAssociation::new("a", "run", "b", Mapping::ManyToMany))?;
    /// leader.register_instances("a", [1])?;
    /// leader.register_instances("b", [2])?;
    /// leader.create_instance_association("a_run_b", 1, 2)?;
    /// let follower = Store::new();
    /// assert_ne!(follower.digest(), leader.digest());
    /// follower.apply(&leader.events(Since::Start, &WatchFilter::default(), usize::MAX)?.events)?;
    /// assert_eq!(follower.digest(), leader.digest());
    /// # Ok::<(), assocstore::Error>(())
    /// ```
    pub fn digest(&self) -> u64 {
        let catalog = self.catalog.read();
        let shards = self.read_all();
        let models = self.models.all();
        let mut sum = 0u64;
        let mut add = |h: u64| sum = sum.wrapping_add(h);
        for k in catalog.kinds() {
            add(item(1, format!("{k:?}")));
        }
        for a in catalog.entries() {
            add(item(2, (format!("{:?}", a.to_public()), a.is_deleted())));
        }
        for m in models.iter().filter(|m| m.is_announced()) {
            add(item(3, (&*m.name, m.defined_display())));
        }
        let name_of = |key: crate::keys::ModelKey| models.get(key.0 as usize).map(|m| &*m.name);
        for (_, shard) in shards.all() {
            for (model, inst) in shard.instances() {
                add(item(4, (name_of(model), inst)));
            }
            for (model, inst, name) in shard.names() {
                add(item(5, (name_of(model), inst, name)));
            }
        }
        self.records.scan(
            self.last_id.load(std::sync::atomic::Ordering::Acquire),
            |id, rec| {
                let assoc = catalog.entry(rec.assoc).map(|a| a.id);
                add(item(6, (id, assoc, rec.src, rec.dst)));
            },
        );
        sum
    }
}
