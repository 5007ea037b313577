//! bk-cmdb wire compatibility: bk-cmdb's JSON request bodies in,
//! bk-cmdb's response envelope out.
//!
//! [`dispatch`] serves one API call; [`handle_line`] serves one line of the
//! replay format `{"api": "<bk-cmdb api name>", "body": {...}}`; [`replay()`]
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
mod strict;
mod watch;
mod writes;

use serde_json::Value;

pub use envelope::Envelope;
pub use replay::{ReplayStats, replay, replay_line_by_line};
pub use watch::{WATCH_LIMIT, resource_watch};

use crate::error::{Error, Result};
use crate::store::Store;

/// The APIs [`dispatch`] serves: definitions, instances, then instance
/// associations (creates, reads, deletes, then the related and topology
/// reads).
pub const APIS: [&str; 17] = [
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
    "resource_watch",
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
        "resource_watch" => watch::resource_watch(store, body, None),
        _ => Err(Error::not_found("api")),
    }
}

/// The deepest JSON nesting a replay line may have (bk-cmdb's Go decoder
/// allows 10,000; `serde_json` alone, 128). Deeper lines are 1199000.
pub const MAX_JSON_DEPTH: usize = 1000;

/// Parses a request body (an HTTP body, say) as JSON, with the nesting
/// limit of a replay line.
///
/// ```
/// use assocstore::wire::parse_body;
/// assert!(parse_body(br#"{"bk_obj_id": "host"}"#).is_ok());
/// assert_eq!(parse_body(b"{").unwrap_err().code(), 1199000);
/// ```
///
/// # Errors
/// 1199000 (`Deserializing JSON data failed`) for bytes that are not one
/// JSON value (empty, truncated, not UTF-8, trailing bytes, nested deeper
/// than [`MAX_JSON_DEPTH`]).
pub fn parse_body(body: &[u8]) -> Result<Value> {
    parse_line(body).ok_or(Error::JsonDecode)
}

/// Serves one replay line (`{"api": ..., "body": ...}`, surrounding white
/// space and a trailing `\r` ignored) and returns the envelope as one line of
/// JSON, without a newline. A line that is not JSON (empty, truncated, not
/// UTF-8, nested deeper than [`MAX_JSON_DEPTH`]) is 1199000; a line without a
/// string `api` is 1199011.
pub fn handle_line(store: &Store, line: &[u8]) -> String {
    line_envelope(store, line).to_line()
}

/// The envelope answering one line (see [`handle_line`]).
pub(super) fn line_envelope(store: &Store, line: &[u8]) -> Envelope {
    match parse_line(line) {
        None => Envelope::failure(&Error::JsonDecode),
        Some(request) => match request.get("api").and_then(Value::as_str) {
            Some(api) => dispatch(store, api, request.get("body").unwrap_or(&Value::Null)),
            None => Envelope::failure(&Error::not_found("api")),
        },
    }
}

/// Parses one line as JSON, refusing nesting deeper than [`MAX_JSON_DEPTH`]
/// before the parser recurses.
fn parse_line(line: &[u8]) -> Option<Value> {
    // Nesting deeper than MAX_JSON_DEPTH needs more bytes than that.
    if line.len() > MAX_JSON_DEPTH && nesting_depth(line) > MAX_JSON_DEPTH {
        return None;
    }
    let mut de = serde_json::Deserializer::from_slice(line);
    de.disable_recursion_limit();
    let value = serde::Deserialize::deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some(value)
}

/// The deepest bracket nesting of `json`, ignoring brackets inside strings.
fn nesting_depth(json: &[u8]) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for &b in json {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_ignores_brackets_in_strings() {
        assert_eq!(nesting_depth(br#"{"a": "[[[\"{{", "b": [{}]}"#), 3);
        assert_eq!(nesting_depth(b"[[[]]]"), 3);
    }

    #[test]
    fn deep_but_bounded_lines_parse_and_deeper_ones_are_refused() {
        let nest = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(parse_line(nest(MAX_JSON_DEPTH).as_bytes()).is_some());
        assert!(parse_line(nest(MAX_JSON_DEPTH + 1).as_bytes()).is_none());
        assert!(parse_line(b"{} x").is_none());
    }
}
