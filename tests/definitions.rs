//! SPEC §3.1: association kinds, model associations (check order, deletion)
//! and instance registration.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use assocstore::{
    AssociationKind, Direction, Mapping, ModelAssociation, NewModelAssociation, OnDelete, Store,
};
use common::{
    HOST, SEED, SWITCH, assert_err, assert_invariants, many_to_many, one_to_many, one_to_one,
    seed_store,
};

/// A request with every field chosen by the caller.
fn raw(obj_asst_id: &str, src: &str, kind: &str, dst: &str) -> NewModelAssociation {
    NewModelAssociation {
        bk_obj_asst_id: obj_asst_id.into(),
        bk_obj_asst_name: String::new(),
        bk_obj_id: src.into(),
        bk_asst_obj_id: dst.into(),
        bk_asst_id: kind.into(),
        mapping: Mapping::OneToOne,
        on_delete: OnDelete::None,
    }
}

// --- association kinds ---------------------------------------------------

#[test]
fn six_built_in_kinds_exist_from_the_start() {
    let store = Store::new();
    let kinds = store.association_kinds();
    let names: Vec<&str> = kinds.iter().map(|k| k.bk_asst_id.as_str()).collect();
    assert_eq!(
        names,
        [
            "belong",
            "group",
            "bk_mainline",
            "run",
            "connect",
            "default"
        ]
    );
    let ids: Vec<i64> = kinds.iter().map(|k| k.id).collect();
    assert_eq!(ids, [1, 2, 3, 4, 5, 6]);
    assert!(kinds.iter().all(|k| k.ispre), "{kinds:?}");
    assert_invariants(&store);
}

#[test]
fn new_kind_gets_the_next_id_and_is_listed_after_the_built_ins() {
    let store = Store::new();
    let mut kind = AssociationKind::new("backup", "backup of");
    kind.direction = Direction::Bidirectional;
    kind.ispre = true;
    let id = store.create_association_kind(kind).unwrap();
    assert_eq!(id, 7);
    let kinds = store.association_kinds();
    assert_eq!(kinds.len(), 7);
    let last = &kinds[6];
    assert_eq!(last.id, 7);
    assert_eq!(last.bk_asst_id, "backup");
    assert_eq!(last.bk_asst_name, "backup of");
    assert_eq!(last.direction, Direction::Bidirectional);
    assert!(!last.ispre, "a user-defined kind is not pre-defined");
    assert_invariants(&store);
}

#[test]
fn kind_with_a_built_in_id_is_refused_as_duplicated() {
    let store = Store::new();
    assert_err(
        store.create_association_kind(AssociationKind::new("belong", "again")),
        1_199_014,
        "duplicated instances exist, fields [belong] duplicated",
    );
    assert_eq!(store.association_kinds().len(), 6);
    assert_invariants(&store);
}

#[test]
fn kind_with_a_user_defined_id_is_refused_as_duplicated() {
    let store = Store::new();
    store
        .create_association_kind(AssociationKind::new("backup", "backup"))
        .unwrap();
    assert_err(
        store.create_association_kind(AssociationKind::new("backup", "other name")),
        1_199_014,
        "duplicated instances exist, fields [backup] duplicated",
    );
    assert_eq!(store.association_kinds().len(), 7);
    assert_invariants(&store);
}

#[test]
fn user_defined_kind_can_type_a_model_association() {
    let store = Store::new();
    store
        .create_association_kind(AssociationKind::new("backup", "backup"))
        .unwrap();
    let id = store
        .create_model_association(&one_to_one("db", "backup", "disk"))
        .unwrap();
    assert_eq!(id, 1);
    assert_eq!(
        store
            .model_association("db_backup_disk")
            .map(|m| m.bk_asst_id),
        Some("backup".to_owned())
    );
    assert_invariants(&store);
}

// --- create model association: check order -------------------------------

#[test]
fn mainline_kind_is_refused_before_any_other_check() {
    let store = Store::new();
    assert_err(
        store.create_model_association(&raw("", "", "bk_mainline", "")),
        1_101_082,
        "bk_mainline association type can't use in this scene",
    );
    assert!(store.model_associations().is_empty());
    assert_invariants(&store);
}

#[test]
fn mainline_kind_with_complete_fields_is_refused() {
    let store = Store::new();
    assert_err(
        store.create_model_association(&one_to_many("biz", "bk_mainline", "set")),
        1_101_082,
        "bk_mainline association type can't use in this scene",
    );
    assert!(store.model_associations().is_empty());
    assert_invariants(&store);
}

#[test]
fn empty_kind_is_missing_parameters() {
    let store = Store::new();
    assert_err(
        store.create_model_association(&raw("a__b", "a", "", "b")),
        1_101_045,
        "object association missing parameters.",
    );
    assert_invariants(&store);
}

#[test]
fn empty_source_model_is_missing_parameters() {
    let store = Store::new();
    assert_err(
        store.create_model_association(&raw("_run_b", "", "run", "b")),
        1_101_045,
        "object association missing parameters.",
    );
    assert_invariants(&store);
}

#[test]
fn empty_target_model_is_missing_parameters() {
    let store = Store::new();
    assert_err(
        store.create_model_association(&raw("a_run_", "a", "run", "")),
        1_101_045,
        "object association missing parameters.",
    );
    assert_invariants(&store);
}

#[test]
fn missing_parameters_win_over_an_empty_model_association_id() {
    let store = Store::new();
    assert_err(
        store.create_model_association(&raw("", "a", "run", "")),
        1_101_045,
        "object association missing parameters.",
    );
    assert_invariants(&store);
}

#[test]
fn same_models_and_kind_again_is_refused_naming_both_models() {
    let store = Store::new();
    store
        .create_model_association(&one_to_one("a", "run", "b"))
        .unwrap();
    assert_err(
        store.create_model_association(&many_to_many("a", "run", "b").with_id("a_run_b_2")),
        1_101_038,
        "the associations a->b already exist",
    );
    assert_eq!(store.model_associations().len(), 1);
    assert_invariants(&store);
}

#[test]
fn existing_triple_wins_over_an_empty_model_association_id() {
    let store = Store::new();
    store
        .create_model_association(&one_to_one("a", "run", "b"))
        .unwrap();
    assert_err(
        store.create_model_association(&raw("", "a", "run", "b")),
        1_101_038,
        "the associations a->b already exist",
    );
    assert_invariants(&store);
}

#[test]
fn existing_triple_wins_over_a_taken_model_association_id() {
    let store = Store::new();
    store
        .create_model_association(&one_to_one("a", "run", "b"))
        .unwrap();
    assert_err(
        store.create_model_association(&raw("a_run_b", "a", "run", "b")),
        1_101_038,
        "the associations a->b already exist",
    );
    assert_invariants(&store);
}

#[test]
fn reversed_models_are_a_different_triple() {
    let store = Store::new();
    store
        .create_model_association(&one_to_one("a", "run", "b"))
        .unwrap();
    let id = store
        .create_model_association(&one_to_one("b", "run", "a"))
        .unwrap();
    assert_eq!(id, 2);
    assert_invariants(&store);
}

#[test]
fn empty_model_association_id_is_unassigned() {
    let store = Store::new();
    assert_err(
        store.create_model_association(&raw("", "a", "run", "b")),
        1_199_010,
        "'bk_obj_asst_id' unassigned",
    );
    assert!(store.model_associations().is_empty());
    assert_invariants(&store);
}

#[test]
fn taken_model_association_id_is_refused_as_duplicated() {
    let store = Store::new();
    store
        .create_model_association(&one_to_one("a", "run", "b").with_id("link"))
        .unwrap();
    assert_err(
        store.create_model_association(&one_to_one("c", "belong", "d").with_id("link")),
        1_199_014,
        "duplicated instances exist, fields [link] duplicated",
    );
    assert_eq!(store.model_associations().len(), 1);
    assert_invariants(&store);
}

#[test]
fn unknown_kind_is_refused() {
    let store = Store::new();
    assert_err(
        store.create_model_association(&one_to_one("a", "owns", "b")),
        1_101_072,
        "the association kind is not exist",
    );
    assert!(store.model_associations().is_empty());
    assert_invariants(&store);
}

#[test]
fn model_association_ids_come_from_a_sequence() {
    let store = Store::new();
    let first = store
        .create_model_association(&one_to_one("a", "run", "b"))
        .unwrap();
    let second = store
        .create_model_association(&one_to_many("a", "belong", "b"))
        .unwrap();
    assert_eq!((first, second), (1, 2));
    assert_invariants(&store);
}

#[test]
fn model_association_id_may_be_any_unique_string() {
    let store = Store::new();
    store
        .create_model_association(&one_to_many(SWITCH, "belong", HOST).with_id("uplink"))
        .unwrap();
    store.register_instances(SWITCH, [11]).unwrap();
    store.register_instances(HOST, [21]).unwrap();
    let id = store.create_instance_association("uplink", 11, 21).unwrap();
    let rec = store.instance_association(id).unwrap();
    assert_eq!(&*rec.bk_obj_asst_id, "uplink");
    assert_invariants(&store);
}

#[test]
fn created_model_association_keeps_every_field() {
    let store = Store::new();
    let new = one_to_many(SWITCH, "connect", HOST)
        .with_name("uplink")
        .with_on_delete(OnDelete::DeleteDest);
    let id = store.create_model_association(&new).unwrap();
    let expected = ModelAssociation {
        id,
        bk_obj_asst_id: "bk_switch_connect_host".into(),
        bk_obj_asst_name: "uplink".into(),
        bk_obj_id: SWITCH.into(),
        bk_asst_obj_id: HOST.into(),
        bk_asst_id: "connect".into(),
        mapping: Mapping::OneToMany,
        on_delete: OnDelete::DeleteDest,
        ispre: None,
    };
    assert_eq!(
        store.model_association("bk_switch_connect_host"),
        Some(expected.clone())
    );
    assert_eq!(store.model_associations(), vec![expected]);
    assert_invariants(&store);
}

#[test]
fn model_may_be_associated_with_itself() {
    let store = Store::new();
    let id = store
        .create_model_association(&many_to_many(HOST, "connect", HOST))
        .unwrap();
    let assoc = store.model_association("host_connect_host").unwrap();
    assert_eq!(assoc.id, id);
    assert_eq!(
        (assoc.bk_obj_id.as_str(), assoc.bk_asst_obj_id.as_str()),
        (HOST, HOST)
    );
    assert_invariants(&store);
}

#[test]
fn same_models_with_different_kinds_are_allowed() {
    let store = Store::new();
    store
        .create_model_association(&one_to_one(SWITCH, "belong", HOST))
        .unwrap();
    store
        .create_model_association(&one_to_many(SWITCH, "connect", HOST))
        .unwrap();
    store
        .create_model_association(&many_to_many(SWITCH, "run", HOST))
        .unwrap();
    let names: Vec<String> = store
        .model_associations()
        .into_iter()
        .map(|m| m.bk_obj_asst_id)
        .collect();
    assert_eq!(
        names,
        [
            "bk_switch_belong_host",
            "bk_switch_connect_host",
            "bk_switch_run_host"
        ]
    );
    assert_invariants(&store);
}

#[test]
fn mapping_strings_parse_to_the_stored_mapping_and_others_are_refused() {
    let store = Store::new();
    for (i, text) in ["1:1", "1:n", "n:n"].into_iter().enumerate() {
        let mapping: Mapping = text.parse().unwrap();
        assert_eq!(mapping.as_str(), text);
        let kind = ["belong", "run", "connect"][i];
        let id = store
            .create_model_association(&NewModelAssociation::new("a", kind, "b", mapping))
            .unwrap();
        assert_eq!(store.model_associations()[i].id, id);
        assert_eq!(store.model_associations()[i].mapping, mapping);
    }
    for bad in ["n:1", "1:N", "", "one"] {
        assert_err(
            bad.parse::<Mapping>(),
            1_199_006,
            "'mapping' data parameter verification does not pass",
        );
    }
    assert_invariants(&store);
}

#[test]
fn on_delete_strings_parse_and_others_are_refused() {
    let store = Store::new();
    assert_eq!("".parse::<OnDelete>(), Ok(OnDelete::None));
    assert_eq!("none".parse::<OnDelete>(), Ok(OnDelete::None));
    assert_eq!("delete_src".parse::<OnDelete>(), Ok(OnDelete::DeleteSrc));
    let on_delete: OnDelete = "delete_dest".parse().unwrap();
    store
        .create_model_association(&one_to_one("a", "run", "b").with_on_delete(on_delete))
        .unwrap();
    assert_eq!(
        store.model_association("a_run_b").map(|m| m.on_delete),
        Some(OnDelete::DeleteDest)
    );
    assert_err(
        "cascade".parse::<OnDelete>(),
        1_199_006,
        "'on_delete' data parameter verification does not pass",
    );
    assert_invariants(&store);
}

#[test]
fn json_model_association_with_a_bad_mapping_names_the_field() {
    let store = Store::new();
    let body = serde_json::json!({
        "bk_obj_asst_id": "a_run_b", "bk_obj_id": "a", "bk_asst_obj_id": "b",
        "bk_asst_id": "run", "mapping": "1:2",
    });
    let err = serde_json::from_value::<NewModelAssociation>(body).unwrap_err();
    assert!(
        err.to_string()
            .contains("'mapping' data parameter verification does not pass"),
        "{err}"
    );
    assert!(store.model_associations().is_empty());
    assert_invariants(&store);
}

// --- delete model association ---------------------------------------------

#[test]
fn model_association_in_use_cannot_be_deleted() {
    let store = seed_store();
    store.create_instance_association(SEED, 11, 21).unwrap();
    assert_err(
        store.delete_model_association(1),
        1_101_043,
        "object association has already been instantiated, can not be deleted.",
    );
    assert!(store.model_association(SEED).is_some());
    assert_invariants(&store);
}

#[test]
fn model_association_is_deletable_once_its_records_are_deleted() {
    let store = seed_store();
    let a = store.create_instance_association(SEED, 11, 21).unwrap();
    let b = store.create_instance_association(SEED, 11, 22).unwrap();
    assert!(store.delete_model_association(1).is_err());
    assert!(store.delete_instance_association(HOST, a).unwrap());
    assert!(
        store.delete_model_association(1).is_err(),
        "one record left"
    );
    assert!(store.delete_instance_association(SWITCH, b).unwrap());
    store.delete_model_association(1).unwrap();
    assert_eq!(store.model_association(SEED), None);
    assert!(store.model_associations().is_empty());
    assert_invariants(&store);
}

/// (record id, model association id) of each edge.
fn ids_and_assocs(edges: &[assocstore::Edge]) -> Vec<(i64, i64)> {
    edges.iter().map(|e| (e.id, e.model_association)).collect()
}

#[test]
fn edge_reads_follow_model_association_create_delete_and_recreate() {
    let store = seed_store();
    let mut edges = Vec::new();
    let id = store.create_instance_association(SEED, 11, 21).unwrap();
    store.edges_from(SEED, 11, &mut edges).unwrap();
    assert_eq!(ids_and_assocs(&edges), [(id, 1)]);
    assert!(store.delete_instance_association(HOST, id).unwrap());
    store.delete_model_association(1).unwrap();
    for result in [
        store.edges_from(SEED, 11, &mut edges),
        store.edges_to(SEED, 21, &mut edges),
    ] {
        assert_err(result, 1_101_046, "object association does not exist.");
    }
    // The same name again is a new model association (id 2), on every shard.
    let again = store
        .create_model_association(&NewModelAssociation::new(
            SWITCH,
            "belong",
            HOST,
            Mapping::ManyToMany,
        ))
        .unwrap();
    assert_eq!(again, 2);
    let id = store.create_instance_association(SEED, 12, 22).unwrap();
    store.edges_to(SEED, 22, &mut edges).unwrap();
    assert_eq!(ids_and_assocs(&edges), [(id, 2)]);
    store.edges_from(SEED, 11, &mut edges).unwrap();
    assert!(edges.is_empty());
    assert_invariants(&store);
}

#[test]
fn deleted_model_association_no_longer_accepts_records() {
    let store = seed_store();
    store.delete_model_association(1).unwrap();
    assert_err(
        store.create_instance_association(SEED, 11, 21),
        1_101_046,
        "object association does not exist.",
    );
    assert!(store.is_empty());
    assert_invariants(&store);
}

#[test]
fn deleted_model_association_frees_its_triple_and_id() {
    let store = seed_store();
    store.delete_model_association(1).unwrap();
    let id = store
        .create_model_association(&many_to_many(SWITCH, "belong", HOST))
        .unwrap();
    assert_eq!(id, 2, "model association ids are not reused");
    assert_eq!(
        store.model_association(SEED).map(|m| m.mapping),
        Some(Mapping::ManyToMany)
    );
    assert_invariants(&store);
}

#[test]
fn deleting_an_unknown_model_association_is_a_silent_success() {
    let store = seed_store();
    store.delete_model_association(42).unwrap();
    store.delete_model_association(0).unwrap();
    store.delete_model_association(-1).unwrap();
    assert_eq!(store.model_associations().len(), 1);
    assert_invariants(&store);
}

#[test]
fn deleting_a_model_association_twice_is_a_silent_success() {
    let store = seed_store();
    store.delete_model_association(1).unwrap();
    store.delete_model_association(1).unwrap();
    assert!(store.model_associations().is_empty());
    assert_invariants(&store);
}

// --- instances -------------------------------------------------------------

#[test]
fn instance_registered_with_an_explicit_id_exists() {
    let store = Store::new();
    assert_eq!(store.register_instance(HOST, Some(7), Some("web-1")), Ok(7));
    assert!(store.instance_exists(HOST, 7));
    assert_eq!(store.instance_name(HOST, 7), Some("web-1".to_owned()));
    assert!(
        !store.instance_exists(SWITCH, 7),
        "instances belong to one model"
    );
    assert_invariants(&store);
}

#[test]
fn first_allocated_instance_id_of_a_model_is_one() {
    let store = Store::new();
    assert_eq!(store.register_instance(HOST, None, None), Ok(1));
    assert_eq!(store.register_instance(HOST, None, None), Ok(2));
    assert!(store.instance_exists(HOST, 1));
    assert!(store.instance_exists(HOST, 2));
    assert_invariants(&store);
}

#[test]
fn allocated_instance_id_is_one_above_the_highest() {
    let store = Store::new();
    store.register_instances(HOST, [3, 10, 5]).unwrap();
    assert_eq!(store.register_instance(HOST, None, None), Ok(11));
    store.register_instance(HOST, Some(40), None).unwrap();
    assert_eq!(store.register_instance(HOST, None, None), Ok(41));
    assert_invariants(&store);
}

#[test]
fn allocated_instance_ids_are_per_model() {
    let store = Store::new();
    store.register_instances(HOST, [100]).unwrap();
    assert_eq!(store.register_instance(SWITCH, None, None), Ok(1));
    assert_eq!(store.register_instance(HOST, None, None), Ok(101));
    assert_invariants(&store);
}

#[test]
fn registering_an_existing_instance_is_duplicated() {
    let store = Store::new();
    store.register_instance(HOST, Some(7), None).unwrap();
    assert_err(
        store.register_instance(HOST, Some(7), None),
        1_199_014,
        "duplicated instances exist, fields [bk_inst_id] duplicated",
    );
    assert_invariants(&store);
}

#[test]
fn same_instance_id_in_another_model_is_a_different_instance() {
    let store = Store::new();
    store.register_instance(HOST, Some(7), None).unwrap();
    assert_eq!(store.register_instance(SWITCH, Some(7), None), Ok(7));
    assert_invariants(&store);
}

#[test]
fn instance_id_zero_is_refused() {
    let store = Store::new();
    assert_err(
        store.register_instance(HOST, Some(0), None),
        1_199_006,
        "'bk_inst_id' data parameter verification does not pass",
    );
    assert!(!store.instance_exists(HOST, 0));
    assert_invariants(&store);
}

#[test]
fn negative_instance_id_is_refused() {
    let store = Store::new();
    assert_err(
        store.register_instance(HOST, Some(-5), None),
        1_199_006,
        "'bk_inst_id' data parameter verification does not pass",
    );
    assert_err(
        store.register_instances(HOST, [1, -1]),
        1_199_006,
        "'bk_inst_id' data parameter verification does not pass",
    );
    assert!(!store.instance_exists(HOST, 1));
    assert_invariants(&store);
}

#[test]
fn instance_of_an_empty_model_is_unassigned() {
    let store = Store::new();
    assert_err(
        store.register_instance("", Some(1), None),
        1_199_010,
        "'bk_obj_id' unassigned",
    );
    assert_err(
        store.register_instance("", None, None),
        1_199_010,
        "'bk_obj_id' unassigned",
    );
    assert_err(
        store.register_instances("", [1]),
        1_199_010,
        "'bk_obj_id' unassigned",
    );
    assert_invariants(&store);
}

#[test]
fn registering_many_with_a_stored_duplicate_registers_none() {
    let store = Store::new();
    store.register_instances(HOST, [3]).unwrap();
    assert_err(
        store.register_instances(HOST, [1, 2, 3]),
        1_199_014,
        "duplicated instances exist, fields [bk_inst_id] duplicated",
    );
    assert!(!store.instance_exists(HOST, 1));
    assert!(!store.instance_exists(HOST, 2));
    assert_invariants(&store);
}

#[test]
fn registering_many_with_a_repeated_id_registers_none() {
    let store = Store::new();
    assert_err(
        store.register_instances(HOST, [4, 5, 4]),
        1_199_014,
        "duplicated instances exist, fields [bk_inst_id] duplicated",
    );
    assert!(!store.instance_exists(HOST, 4));
    assert!(!store.instance_exists(HOST, 5));
    assert_invariants(&store);
}

#[test]
fn failed_registration_does_not_move_the_allocated_id() {
    let store = Store::new();
    store.register_instances(HOST, [3]).unwrap();
    assert!(store.register_instances(HOST, [9, 3]).is_err());
    assert!(!store.instance_exists(HOST, 9));
    // The highest registered instance is still 3, so max + 1 is 4.
    assert_eq!(store.register_instance(HOST, None, None), Ok(4));
    assert_invariants(&store);
}
