//! The routes: bk-cmdb's two API path forms, `/healthz`, `/metrics`, and
//! 404 for everything else.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

use assocstore::Error;
use assocstore::wire::{APIS, Envelope, dispatch, parse_body};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;

use super::{Role, Shared, watch};

/// Every route, over `shared` (whose body limit the API handler applies:
/// a larger body is 413).
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api/c/compapi/v2/cc/{api}", post(call))
        .route("/api/c/compapi/v2/cc/{api}/", post(call))
        .route("/api/c/compapi/cc/{api}", post(call))
        .route("/api/c/compapi/cc/{api}/", post(call))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/digest", get(digest))
        .fallback(not_found)
        .with_state(shared)
}

/// One API call: the envelope with HTTP 200, whatever its `result`.
async fn call(
    State(shared): State<Arc<Shared>>,
    api: Result<Path<String>, PathRejection>,
    body: Body,
) -> Response {
    let started = Instant::now();
    // A name that does not decode (not UTF-8) is an unknown api too.
    let api = api.map_or_else(|_| String::new(), |Path(api)| api);
    let body = match read_body(body, shared.body_limit).await {
        Ok(body) => body,
        Err(status) => return (status, status.canonical_reason().unwrap_or("")).into_response(),
    };
    let on_pool = Arc::clone(&shared);
    let api_name = api.clone();
    // Off the worker threads: a store call may wait (module docs).
    let answered = tokio::task::spawn_blocking(move || answer(&on_pool, &api_name, &body)).await;
    let Ok(envelope) = answered else {
        tracing::error!(api, "the store call panicked");
        return (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response();
    };
    let took = started.elapsed();
    shared.metrics.record(&api, envelope.result, took);
    tracing::info!(
        api,
        code = envelope.code,
        micros = took.as_micros() as u64,
        request_id = envelope.request_id,
        "request"
    );
    (
        [(header::CONTENT_TYPE, "application/json")],
        envelope.to_line(),
    )
        .into_response()
}

/// The whole body, within the size limit (else 413) and the read timeout
/// (else 408; a broken body is 400).
async fn read_body(body: Body, limit: usize) -> Result<Bytes, StatusCode> {
    let limited = http_body_util::Limited::new(body, limit);
    let collected = tokio::time::timeout(
        super::REQUEST_READ_TIMEOUT,
        http_body_util::BodyExt::collect(limited),
    )
    .await
    .map_err(|_| StatusCode::REQUEST_TIMEOUT)?;
    match collected {
        Ok(all) => Ok(all.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(StatusCode::PAYLOAD_TOO_LARGE),
        Err(_) => Err(StatusCode::BAD_REQUEST),
    }
}

/// The APIs that change the store: a follower refuses them.
const WRITES: [&str; 10] = [
    "create_association_type",
    "create_object_association",
    "delete_object_association",
    "create_inst",
    "delete_inst",
    "batch_delete_inst",
    "add_instance_association",
    "batch_create_instance_association",
    "delete_instance_association",
    "delete_related_inst_asso",
];

/// The envelope for `api` with raw `body`: 1199011 for an unknown api
/// (whatever the body), 1199000 for a body that is not JSON (an empty one
/// counts as none), the long poll for `resource_watch`, else the library's
/// dispatch.
fn answer(shared: &Shared, api: &str, body: &[u8]) -> Envelope {
    if !APIS.contains(&api) {
        return dispatch(&shared.store, api, &Value::Null);
    }
    // BlueKing's client sends no body at all for `{}`: an empty body is
    // no body, as a replay line without `body` is.
    let body = if body.trim_ascii().is_empty() {
        Value::Null
    } else {
        match parse_body(body) {
            Ok(body) => body,
            Err(e) => return Envelope::failure(&e),
        }
    };
    if api == "resource_watch" {
        return Envelope::from_result(watch::long_poll(shared, &body));
    }
    if matches!(shared.role, Role::Follower(_)) && WRITES.contains(&api) {
        return Envelope::failure(&Error::CommitFailed {
            message: "read-only follower".to_owned(),
        });
    }
    dispatch(&shared.store, api, &body)
}

/// 200 while the store is open; the body says `read-only` when a failed
/// journal write has turned it so (reads go on, writes get 1199061).
async fn healthz(State(shared): State<Arc<Shared>>) -> Response {
    let mut text = if shared.store.is_read_only() {
        "ok read-only: a journal write failed; restart to reopen the store\n".to_owned()
    } else {
        "ok\n".to_owned()
    };
    if let Role::Follower(follower) = &shared.role {
        let (events, seconds) = follower.lag(&shared.store);
        let cursor = shared.store.feed_cursor();
        let _ = writeln!(
            text,
            "applied {cursor} (position {}), lag {events} events, {seconds:.3} s",
            cursor.position()
        );
    }
    (StatusCode::OK, text).into_response()
}

/// The Prometheus text exposition.
async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    let mut text = shared.metrics.render(&shared.store);
    let waiting = super::watch::MAX_WAITING - shared.waiters.available_permits();
    let _ = write!(
        text,
        "# HELP assocstore_watches_waiting resource_watch long polls waiting now (at most {}).\n\
         # TYPE assocstore_watches_waiting gauge\nassocstore_watches_waiting {waiting}\n",
        super::watch::MAX_WAITING
    );
    super::metrics::render_role(&mut text, &shared.role, &shared.store);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// The store's state digest (`Store::digest`, 16 hex digits): two stores
/// with the same state, a leader and a caught-up follower say, answer the
/// same. It reads every record: not for frequent polling.
async fn digest(State(shared): State<Arc<Shared>>) -> Response {
    let store = Arc::clone(&shared.store);
    match tokio::task::spawn_blocking(move || store.digest()).await {
        Ok(digest) => (StatusCode::OK, format!("{digest:016x}\n")).into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response(),
    }
}

async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found\n").into_response()
}
