//! bk-cmdb's response envelope and request ids.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use serde_json::Value;

use crate::error::Error;

/// One response: `{"result", "code", "message", "data", "permission", "request_id"}`
/// in that order. On success `code` is 0 and `message` `"success"`; on
/// failure `result` is false and `data` null.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Envelope {
    /// Whether the call succeeded.
    pub result: bool,
    /// 0, or the bk-cmdb error code.
    pub code: i64,
    /// `"success"`, or bk-cmdb's English message.
    pub message: String,
    /// The API's data; null on failure.
    pub data: Value,
    /// Always null (no permission system here).
    pub permission: Value,
    /// 32 hex digits, unique per request.
    pub request_id: String,
}

impl Envelope {
    /// A success carrying `data`.
    pub fn success(data: Value) -> Envelope {
        Envelope {
            result: true,
            code: 0,
            message: "success".to_owned(),
            data,
            permission: Value::Null,
            request_id: next_request_id(),
        }
    }

    /// A failure carrying `error`'s code and message.
    pub fn failure(error: &Error) -> Envelope {
        Envelope {
            result: false,
            code: error.code(),
            message: error.to_string(),
            data: Value::Null,
            permission: Value::Null,
            request_id: next_request_id(),
        }
    }

    /// The envelope of a call's outcome.
    pub fn from_result(result: Result<Value, Error>) -> Envelope {
        match result {
            Ok(data) => Envelope::success(data),
            Err(e) => Envelope::failure(&e),
        }
    }

    /// The envelope as one line of JSON (no newline).
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| {
            // Serializing a Value tree and plain fields cannot fail; keep a
            // well-formed line anyway.
            String::from(r#"{"result":false,"code":1199000,"message":"Deserializing JSON data failed","data":null,"permission":null,"request_id":""}"#)
        })
    }
}

/// A 32-hex-digit id: 64 bits chosen once per process, then a counter, so
/// ids never repeat within a process and rarely across processes.
fn next_request_id() -> String {
    static PROCESS: OnceLock<u64> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let process = *PROCESS.get_or_init(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        ahash::RandomState::new().hash_one((nanos, std::process::id()))
    });
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{process:016x}{n:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_come_in_bk_cmdb_order_and_ids_differ() {
        let a = Envelope::success(serde_json::json!({"id": 1}));
        let b = Envelope::failure(&Error::InvalidInput);
        let line = a.to_line();
        assert!(line.starts_with(r#"{"result":true,"code":0,"message":"success","data":{"id":1},"permission":null,"request_id":""#));
        assert_eq!(a.request_id.len(), 32);
        assert!(a.request_id.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a.request_id, b.request_id);
        assert!(b.to_line().starts_with(
            r#"{"result":false,"code":1199003,"message":"invalid input parameter","data":null,"#
        ));
    }
}
