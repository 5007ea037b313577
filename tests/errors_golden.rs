//! SPEC §2: every error renders bk-cmdb's code and English message byte for
//! byte, spacing and typos included. The expected strings are copied from the
//! SPEC table, not from `src/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;

use assocstore::{BatchCreate, Condition, Error, ItemOutcome, Mapping, NewModelAssociation};
use common::{HOST, SEED, SWITCH, assert_err, assert_invariants, one_to_one, seed_store};
use serde_json::json;

/// One error of each variant, with the code and message SPEC §2 gives it.
#[allow(clippy::too_many_lines)] // one table row per SPEC §2 line
fn golden() -> Vec<(Error, i64, &'static str)> {
    vec![
        (
            Error::JsonDecode,
            1_199_000,
            "Deserializing JSON data failed",
        ),
        (Error::InvalidInput, 1_199_003, "invalid input parameter"),
        (
            Error::ParamInvalid {
                field: "bk_obj_id".into(),
            },
            1_199_006,
            "'bk_obj_id' data parameter verification does not pass",
        ),
        (
            Error::ParamNotInteger {
                field: "bk_inst_id".into(),
            },
            1_199_009,
            "'bk_inst_id' parameters must be integral",
        ),
        (
            Error::ParamUnassigned {
                field: "bk_obj_id".into(),
            },
            1_199_010,
            "'bk_obj_id' unassigned",
        ),
        (
            Error::ParamNotFound {
                field: "api".into(),
            },
            1_199_011,
            "'api' the parameter is invalid or does not exist",
        ),
        (
            Error::Duplicated {
                fields: "association".into(),
            },
            1_199_014,
            "duplicated instances exist, fields [association] duplicated",
        ),
        (
            Error::ExceedLimit {
                what: "details".into(),
                limit: 200,
            },
            1_199_035,
            " details exceed the limit 200",
        ),
        (
            Error::DataNull {
                what: "details".into(),
            },
            1_199_038,
            "need data details is null",
        ),
        (
            Error::PageLimitExceeded,
            1_199_059,
            "page limit is exceeded. suggestion 200",
        ),
        (
            Error::AssociationAlreadyExists {
                src_model: "bk_switch".into(),
                dst_model: "host".into(),
            },
            1_101_038,
            "the associations bk_switch->host already exist",
        ),
        (
            Error::ModelAssociationInUse,
            1_101_043,
            "object association has already been instantiated, can not be deleted.",
        ),
        (
            Error::ModelAssociationMissingParameters,
            1_101_045,
            "object association missing parameters.",
        ),
        (
            Error::ModelAssociationNotFound,
            1_101_046,
            "object association does not exist.",
        ),
        (
            Error::OneToOneViolation,
            1_101_052,
            "can not create multiple instance association for a 1:1 association.",
        ),
        (
            Error::OneToManyViolation,
            1_101_061,
            "The relationship is 1:n, and multiple source model instances cannot be associated at the same time.",
        ),
        (
            Error::AssociationKindNotFound,
            1_101_072,
            "the association kind is not exist",
        ),
        (
            Error::SourceInstanceNotFound,
            1_101_073,
            "the association inst is not exist",
        ),
        (
            Error::TargetInstanceNotFound,
            1_101_074,
            "the  inst to asst  is not exist",
        ),
        (
            Error::InstanceHasAssociation,
            1_101_075,
            "the inst has association",
        ),
        (
            Error::MainlineNotAllowed,
            1_101_082,
            "bk_mainline association type can't use in this scene",
        ),
    ]
}

#[test]
fn every_variant_renders_its_spec_code_and_message() {
    for (err, code, message) in golden() {
        assert_err::<()>(Err(err), code, message);
    }
}

#[test]
fn every_spec_code_is_covered_exactly_once() {
    let codes: Vec<i64> = golden().iter().map(|(_, code, _)| *code).collect();
    let distinct: HashSet<i64> = codes.iter().copied().collect();
    assert_eq!(distinct.len(), codes.len(), "a code repeats: {codes:?}");
    let spec: HashSet<i64> = [
        1_199_000, 1_199_003, 1_199_006, 1_199_009, 1_199_010, 1_199_011, 1_199_014, 1_199_035,
        1_199_038, 1_199_059, 1_101_038, 1_101_043, 1_101_045, 1_101_046, 1_101_052, 1_101_061,
        1_101_072, 1_101_073, 1_101_074, 1_101_075, 1_101_082,
    ]
    .into_iter()
    .collect();
    assert_eq!(distinct, spec);
}

#[test]
fn exceed_limit_keeps_its_leading_space() {
    let err = Error::ExceedLimit {
        what: "details".into(),
        limit: 200,
    };
    let message = err.to_string();
    assert!(message.starts_with(' '), "{message:?}");
    assert_eq!(message.as_bytes(), b" details exceed the limit 200");
}

#[test]
fn target_missing_keeps_both_double_spaces() {
    let message = Error::TargetInstanceNotFound.to_string();
    assert_eq!(message.matches("  ").count(), 2, "{message:?}");
    assert_eq!(message.as_bytes(), b"the  inst to asst  is not exist");
}

#[test]
fn templated_messages_render_the_facts_they_carry() {
    assert_err::<()>(
        Err(Error::ParamInvalid {
            field: "$regex".into(),
        }),
        1_199_006,
        "'$regex' data parameter verification does not pass",
    );
    assert_err::<()>(
        Err(Error::Duplicated {
            fields: "bk_inst_id".into(),
        }),
        1_199_014,
        "duplicated instances exist, fields [bk_inst_id] duplicated",
    );
    assert_err::<()>(
        Err(Error::ExceedLimit {
            what: "details".into(),
            limit: 5,
        }),
        1_199_035,
        " details exceed the limit 5",
    );
    assert_err::<()>(
        Err(Error::AssociationAlreadyExists {
            src_model: "a".into(),
            dst_model: "b".into(),
        }),
        1_101_038,
        "the associations a->b already exist",
    );
}

#[test]
fn error_is_a_std_error_with_the_same_message() {
    let boxed: Box<dyn std::error::Error> = Box::new(Error::TargetInstanceNotFound);
    assert_eq!(boxed.to_string(), "the  inst to asst  is not exist");
}

/// Asserts that the store raised `expected` (facts included) and that its
/// code is the golden one of its variant.
#[track_caller]
fn assert_golden(raised: &Error, expected: &Error) {
    assert_eq!(raised, expected);
    let (_, code, _) = golden()
        .into_iter()
        .find(|(g, _, _)| std::mem::discriminant(g) == std::mem::discriminant(raised))
        .unwrap();
    assert_eq!(raised.code(), code, "{raised:?}");
}

#[test]
fn definitions_raise_the_golden_errors() {
    let store = seed_store();
    let cases = [
        (
            store.create_model_association(&one_to_one(SWITCH, "bk_mainline", HOST)),
            Error::MainlineNotAllowed,
        ),
        (
            store.create_model_association(&one_to_one("", "run", HOST)),
            Error::ModelAssociationMissingParameters,
        ),
        (
            store.create_model_association(&one_to_one(SWITCH, "belong", HOST).with_id("other")),
            Error::AssociationAlreadyExists {
                src_model: "bk_switch".into(),
                dst_model: "host".into(),
            },
        ),
        (
            store.create_model_association(&one_to_one(SWITCH, "no_such_kind", HOST)),
            Error::AssociationKindNotFound,
        ),
        (
            store.register_instance(HOST, Some(21), None),
            Error::Duplicated {
                fields: "bk_inst_id".into(),
            },
        ),
    ];
    for (result, expected) in cases {
        assert_golden(&result.unwrap_err(), &expected);
    }
    store.create_instance_association(SEED, 11, 21).unwrap();
    assert_golden(
        &store.delete_model_association(1).unwrap_err(),
        &Error::ModelAssociationInUse,
    );
    assert_invariants(&store);
}

#[test]
fn single_creates_raise_the_golden_errors() {
    let store = seed_store();
    store.create_instance_association(SEED, 11, 21).unwrap();
    let connect = store
        .create_model_association(&NewModelAssociation::new(
            SWITCH,
            "connect",
            HOST,
            Mapping::OneToOne,
        ))
        .unwrap();
    assert_eq!(connect, 2);
    store
        .create_instance_association("bk_switch_connect_host", 11, 21)
        .unwrap();
    let cases = [
        (
            store.create_instance_association("nope", 11, 21),
            Error::ModelAssociationNotFound,
        ),
        (
            store.create_instance_association(SEED, 12, 21),
            Error::OneToManyViolation,
        ),
        (
            store.create_instance_association("bk_switch_connect_host", 11, 22),
            Error::OneToOneViolation,
        ),
        (
            store.create_instance_association(SEED, 99, 22),
            Error::SourceInstanceNotFound,
        ),
        (
            store.create_instance_association(SEED, 11, 99),
            Error::TargetInstanceNotFound,
        ),
    ];
    for (result, expected) in cases {
        assert_golden(&result.unwrap_err(), &expected);
    }
    assert_invariants(&store);
}

#[test]
fn batch_creates_raise_the_golden_errors() {
    let store = seed_store();
    store.create_instance_association(SEED, 11, 21).unwrap();
    let batch = |src: &str, asst_id: &str, details: Vec<(i64, i64)>| {
        store.batch_create_instance_associations(&BatchCreate::new(src, HOST, asst_id, details))
    };
    let cases = [
        (
            batch(SWITCH, "", vec![(11, 21)]),
            Error::ParamNotFound {
                field: "bk_obj_asst_id".into(),
            },
        ),
        (
            batch(SWITCH, SEED, vec![]),
            Error::DataNull {
                what: "details".into(),
            },
        ),
        (
            batch(SWITCH, SEED, vec![(11, 21); 201]),
            Error::ExceedLimit {
                what: "details".into(),
                limit: 200,
            },
        ),
        (
            batch("x", SEED, vec![(11, 21)]),
            Error::ParamInvalid {
                field: "bk_obj_id".into(),
            },
        ),
    ];
    for (result, expected) in cases {
        assert_golden(&result.unwrap_err(), &expected);
    }
    let out = batch(SWITCH, SEED, vec![(11, 21)]).unwrap();
    let [ItemOutcome::Failed(err)] = &out.items[..] else {
        panic!("expected one failure, got {:?}", out.items);
    };
    assert_golden(
        err,
        &Error::AssociationAlreadyExists {
            src_model: "bk_switch".into(),
            dst_model: "host".into(),
        },
    );
    assert_invariants(&store);
}

#[test]
fn reads_and_deletes_raise_the_golden_errors() {
    let store = seed_store();
    store.create_instance_association(SEED, 11, 21).unwrap();
    assert_golden(
        &store
            .find_instance_associations("", &Condition::all())
            .unwrap_err(),
        &Error::ParamUnassigned {
            field: "bk_obj_id".into(),
        },
    );
    assert_golden(
        &Condition::from_json(&json!({"id": {"$regex": "1"}})).unwrap_err(),
        &Error::ParamInvalid {
            field: "$regex".into(),
        },
    );
    assert_golden(
        &store.delete_instance_associations(HOST, &[]).unwrap_err(),
        &Error::InvalidInput,
    );
    assert_golden(
        &store
            .delete_instance_associations(HOST, &[1; 501])
            .unwrap_err(),
        &Error::PageLimitExceeded,
    );
    assert_golden(
        &store.delete_instance(HOST, 21).unwrap_err(),
        &Error::InstanceHasAssociation,
    );
    assert_invariants(&store);
}
