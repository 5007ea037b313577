//! `assocstore serve`: bk-cmdb's HTTP API over one store, on `axum` and a
//! multi-threaded `tokio` runtime.
//!
//! # Where store calls run
//!
//! Every store call runs on the runtime's blocking pool
//! (`spawn_blocking`), never on its worker threads: a write at `Immediate`
//! waits for its journal sync (sharing it with the writes committing beside
//! it: group commit), a write may wait for a shard lock, and a
//! `resource_watch` long poll waits for an event. On the blocking pool
//! those waits hold one pool thread each, and the workers go on accepting
//! and parsing other requests. Concurrent requests therefore meet only in
//! the store, whose locks make every write atomic whatever the
//! interleaving.
//!
//! # What a success answer promises
//!
//! A handler builds its answer from the store call's return, and the store
//! call returns only once its change is durable at the store's level
//! (`--data`), so an answer a client has read reports a kept change. A
//! request whose connection dies first may or may not have taken effect,
//! as with any database.
//!
//! # Shutdown
//!
//! On SIGINT or SIGTERM:
//!
//! 1. the listener stops accepting, and `axum`'s graceful shutdown waits for
//!    every request in flight to be answered;
//! 2. a long poll does not wait out its timeout: it waits in slices of
//!    [`watch::SLICE`] and, seeing the stop flag set, answers `bk_watched:
//!    false` with the cursor it has reached;
//! 3. dropping the runtime waits for any blocking store call still running
//!    (one whose client hung up: its future is gone, its call is not);
//! 4. only then is the store closed: with no call left, the last reference
//!    is ours, so `close` syncs the journal and releases the directory.
//!    (Were a reference somehow left, dropping it syncs as well.)
//!
//! So nothing acknowledged is lost and nothing is cut short half-applied:
//! a store call is never interrupted, only waited for.

mod metrics;
mod routes;
mod watch;

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use assocstore::Store;

use crate::cli::{Serve, open_failed};

/// What every handler shares.
pub(crate) struct Shared {
    pub(crate) store: Arc<Store>,
    pub(crate) metrics: metrics::Metrics,
    /// How long a `resource_watch` with nothing to report waits.
    pub(crate) watch_timeout: Duration,
    /// Set once a shutdown signal arrived: long polls answer at once.
    pub(crate) stopping: AtomicBool,
}

/// Runs `assocstore serve` as parsed.
pub(crate) fn run(args: &Serve) -> ExitCode {
    init_logging(args.log);
    if !(args.watch_timeout.is_finite() && args.watch_timeout >= 0.0) {
        eprintln!(
            "assocstore: --watch-timeout takes a number of seconds, not '{}'",
            args.watch_timeout
        );
        return ExitCode::from(2);
    }
    let store = match args.store.builder() {
        None => Store::new(),
        Some(builder) => match builder.open() {
            Ok(store) => store,
            Err(e) => return open_failed(&e),
        },
    };
    let shared = Arc::new(Shared {
        store: Arc::new(store),
        metrics: metrics::Metrics::default(),
        watch_timeout: Duration::from_secs_f64(args.watch_timeout),
        stopping: AtomicBool::new(false),
    });
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("assocstore: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let served = runtime.block_on(serve(args, Arc::clone(&shared)));
    // Waits for blocking store calls whose clients hung up (step 3).
    drop(runtime);
    let status = match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("assocstore: {why}");
            ExitCode::from(1)
        }
    };
    let Ok(shared) = Arc::try_unwrap(shared) else {
        // Unreachable after the runtime is gone; dropping syncs anyway.
        return status;
    };
    let dir = shared.store.path().map(|p| p.display().to_string());
    match Arc::try_unwrap(shared.store).map(Store::close) {
        Ok(Err(e)) => {
            eprintln!("assocstore: closing '{}': {e}", dir.unwrap_or_default());
            ExitCode::from(1)
        }
        Ok(Ok(())) | Err(_) => status,
    }
}

/// Binds, announces the address, and serves until a shutdown signal.
async fn serve(args: &Serve, shared: Arc<Shared>) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the listening address: {e}"))?;
    let app = routes::router(Arc::clone(&shared), args.body_limit);
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{addr}")
            .and_then(|()| out.flush())
            .map_err(|e| format!("cannot write to standard output: {e}"))?;
    }
    tracing::info!(%addr, "listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(stop_signal(shared))
        .await
        .map_err(|e| format!("serving: {e}"))
}

/// Resolves on SIGINT or SIGTERM, after setting the stop flag.
async fn stop_signal(shared: Arc<Shared>) {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    shared.stopping.store(true, Ordering::Release);
    tracing::info!("stopping: finishing the requests in flight");
}

/// Request logs on standard error when `--log` is given or `RUST_LOG` is
/// set (which also picks the level and targets); none otherwise.
fn init_logging(log: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.is_empty() => EnvFilter::new(spec),
        _ if log => EnvFilter::new("info"),
        _ => return,
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}
