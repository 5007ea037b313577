//! A short, fixed sequence over every write path, small enough for Miri
//! (~35 ms per store operation there): `cargo +nightly miri test --test
//! miri_smoke`. Under plain `cargo test` it is one more scenario.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use assocstore::{BatchCreate, Condition, Mapping, NewModelAssociation, Store, Towards, Traversal};

#[test]
fn every_write_path_once() {
    let store = Store::builder().shards(2).build().unwrap();
    store
        .create_model_association(&NewModelAssociation::new(
            "a",
            "run",
            "b",
            Mapping::OneToMany,
        ))
        .unwrap();
    store
        .create_model_association(&NewModelAssociation::new(
            "b",
            "connect",
            "b",
            Mapping::ManyToMany,
        ))
        .unwrap();
    store.register_instances("a", [1, 2]).unwrap();
    store.register_instances("b", [3, 4, 5]).unwrap();
    let id = store.create_instance_association("a_run_b", 1, 3).unwrap();
    let out = store
        .batch_create_instance_associations(&BatchCreate::new(
            "a",
            "b",
            "a_run_b",
            [(2, 4), (2, 3)],
        ))
        .unwrap();
    assert_eq!(out.created(), 1);
    store
        .create_instance_association("b_connect_b", 3, 4)
        .unwrap();
    store
        .create_instance_association("b_connect_b", 5, 5)
        .unwrap();
    let reached = store
        .traverse("a", 1, &Traversal::new(Towards::Downstream, 3))
        .unwrap();
    assert_eq!(reached.len(), 2);
    assert_eq!(
        store
            .find_instance_associations("b", &Condition::all())
            .unwrap()
            .len(),
        4
    );
    assert!(store.delete_instance_association("a", id).unwrap());
    assert!(
        store.delete_instance("b", 5).unwrap(),
        "a self-link does not block"
    );
    assert_eq!(
        store.delete_instance_associations_of("b", 4).unwrap().len(),
        2
    );
    store.check_invariants().unwrap();
}
