//! Decoding request bodies the way bk-cmdb's Go handlers do: a missing or
//! `null` field is its zero value, unknown fields (the common arguments
//! `bk_app_code`, `bk_username`, …, and `metadata`) are ignored, and a field
//! of the wrong type fails the whole body with the API's decode error.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::strict::Strict;
use crate::error::{Error, Result};

/// Decodes `body` into `T`, or fails with `on_error`. A `null` body decodes
/// like `{}` (Go leaves the target zero-valued); a struct is decoded only
/// from an object, at every depth.
pub(super) fn decode<T: DeserializeOwned>(body: &Value, on_error: Error) -> Result<T> {
    let empty = Value::Object(Map::new());
    let body = if body.is_null() { &empty } else { body };
    T::deserialize(Strict(body)).map_err(|_| on_error)
}

/// Checks that `body` could decode as a map (an object, or `null` read as
/// `{}`), for handlers that then read a few fields in place rather than
/// copying the body; fails with `on_error` otherwise.
pub(super) fn object_or_null(body: &Value, on_error: Error) -> Result<&Value> {
    if body.is_null() || body.is_object() {
        Ok(body)
    } else {
        Err(on_error)
    }
}

/// An integer given as a JSON number or as a string of digits (bk-cmdb
/// reads such ids from the URL path); `None` when absent or null.
pub(super) fn path_int(value: Option<&Value>) -> std::result::Result<Option<i64>, ()> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or(()),
        Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| ()),
        Some(_) => Err(()),
    }
}
