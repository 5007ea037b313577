//! bk-cmdb wire compatibility (SPEC §4): bk-cmdb's JSON request bodies in,
//! bk-cmdb's response envelope out.
//!
//! [`dispatch`] serves one API call; [`handle_line`] serves one line of the
//! replay format `{"api": "<bk-cmdb api name>", "body": {...}}`; [`replay`]
//! streams a whole file of them. Every input produces exactly one envelope,
//! whatever it holds: bad JSON, a body of the wrong shape, an unknown API.
//!
//! ```
//! use assocstore::{Store, wire};
//! let store = Store::new();
//! let out = wire::handle_line(&store, br#"{"api": "create_inst", "body": {"bk_obj_id": "host", "bk_inst_name": "web-1"}}"#);
//! assert!(out.starts_with(r#"{"result":true,"code":0,"message":"success","data":{"bk_inst_id":1},"permission":null,"request_id":""#));
//! ```

mod decode;
mod definitions;
mod envelope;
mod reads;
mod replay;
mod writes;

use serde_json::Value;

pub use envelope::Envelope;
pub use replay::{ReplayStats, replay};

use crate::error::{Error, Result};
use crate::store::Store;

/// The APIs [`dispatch`] serves, in SPEC §4 order.
pub const APIS: [&str; 16] = [
    "create_association_type",
    "create_object_association",
    "delete_object_association",
    "find_object_association",
    "create_inst",
    "delete_inst",
    "batch_delete_inst",
    "add_instance_association",
    "batch_create_instance_association",
    "find_instance_association",
    "search_instance_associations",
    "count_instance_associations",
    "delete_instance_association",
    "delete_related_inst_asso",
    "search_related_inst_asso",
    "search_inst_association_topo",
];

/// Serves one bk-cmdb API call: `api` is the bk-cmdb API name, `body` its
/// JSON body (common arguments and `metadata` are ignored; `null` counts as
/// an empty body). An unknown API is 1199011 `'api' the parameter is invalid
/// or does not exist`.
///
/// ```
/// use assocstore::{Store, wire::dispatch};
/// let store = Store::new();
/// let env = dispatch(&store, "add_instance_association", &serde_json::json!({"bk_obj_asst_id": "x"}));
/// assert_eq!((env.code, env.message.as_str()), (1101046, "object association does not exist."));
/// ```
pub fn dispatch(store: &Store, api: &str, body: &Value) -> Envelope {
    Envelope::from_result(call(store, api, body))
}

fn call(store: &Store, api: &str, body: &Value) -> Result<Value> {
    match api {
        "create_association_type" => definitions::create_association_type(store, body),
        "create_object_association" => definitions::create_object_association(store, body),
        "delete_object_association" => definitions::delete_object_association(store, body),
        "find_object_association" => definitions::find_object_association(store, body),
        "create_inst" => definitions::create_inst(store, body),
        "delete_inst" => definitions::delete_inst(store, body),
        "batch_delete_inst" => definitions::batch_delete_inst(store, body),
        "add_instance_association" => writes::add_instance_association(store, body),
        "batch_create_instance_association" => {
            writes::batch_create_instance_association(store, body)
        }
        "delete_instance_association" => writes::delete_instance_association(store, body),
        "delete_related_inst_asso" => writes::delete_related_inst_asso(store, body),
        "find_instance_association" => reads::find_instance_association(store, body),
        "search_instance_associations" => reads::search_instance_associations(store, body),
        "count_instance_associations" => reads::count_instance_associations(store, body),
        "search_related_inst_asso" => reads::search_related_inst_asso(store, body),
        "search_inst_association_topo" => reads::search_inst_association_topo(store, body),
        _ => Err(Error::not_found("api")),
    }
}

/// Serves one replay line (`{"api": ..., "body": ...}`, surrounding white
/// space and a trailing `\r` ignored) and returns the envelope as one line of
/// JSON, without a newline. A line that is not JSON (empty, truncated, not
/// UTF-8) is 1199000; a line without a string `api` is 1199011.
pub fn handle_line(store: &Store, line: &[u8]) -> String {
    let envelope = match serde_json::from_slice::<Value>(line) {
        Err(_) => Envelope::failure(&Error::JsonDecode),
        Ok(request) => match request.get("api").and_then(Value::as_str) {
            Some(api) => dispatch(store, api, request.get("body").unwrap_or(&Value::Null)),
            None => Envelope::failure(&Error::not_found("api")),
        },
    };
    envelope.to_line()
}
