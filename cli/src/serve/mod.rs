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
//! and parsing other requests. Long polls may hold at most half of the
//! pool ([`watch::MAX_WAITING`] of [`BLOCKING_THREADS`]); beyond that a
//! watch with nothing to report answers at once (the client asks again
//! from the cursor it got), so waiting watchers can never starve writes. Concurrent requests therefore meet only in
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
//! 1. the listener stops accepting, idle connections close, and every
//!    request in flight is answered (a connection still sending its request
//!    after [`SHUTDOWN_GRACE`] is dropped: it has asked for nothing yet);
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

use assocstore::{Durability, Store};

use crate::cli::{Follow, Http, Level, Serve, open_failed};
use crate::replicate;

/// Threads for store calls: long polls may hold at most half of them
/// ([`watch::MAX_WAITING`]), so the other calls always find threads.
const BLOCKING_THREADS: usize = 512;

/// The longest `--watch-timeout`: a day.
const MAX_WATCH_TIMEOUT: f64 = 86_400.0;

/// What every handler shares.
pub(crate) struct Shared {
    pub(crate) store: Arc<Store>,
    pub(crate) metrics: metrics::Metrics,
    /// How long a `resource_watch` with nothing to report waits.
    pub(crate) watch_timeout: Duration,
    /// Set once a shutdown signal arrived: long polls answer at once.
    pub(crate) stopping: AtomicBool,
    /// The largest request body served.
    pub(crate) body_limit: usize,
    /// Long polls allowed to wait at once (each holds a blocking-pool
    /// thread); one that finds none free answers without waiting.
    pub(crate) waiters: tokio::sync::Semaphore,
    /// Leader, publisher or follower.
    pub(crate) role: Role,
}

/// Runs `assocstore serve` as parsed.
pub(crate) fn run_leader(args: &Serve) -> ExitCode {
    init_logging(args.http.log);
    let store = match args.store.builder() {
        None => Ok(Store::new()),
        Some(builder) => builder.open(),
    };
    let role = match &args.publish {
        Some(url) => Role::Publisher(replicate::Publisher::new(
            url,
            &args.stream,
            usize::from(args.replicas),
        )),
        None => Role::Leader,
    };
    run(store, &args.http, role)
}

/// Runs `assocstore follow` as parsed.
pub(crate) fn run_follower(args: &Follow) -> ExitCode {
    init_logging(args.http.log);
    let level = match args.durability {
        Some(Level::Immediate) => Durability::Immediate,
        Some(Level::Eventual) | None => Durability::Eventual,
    };
    let mut builder = Store::builder().path(&args.data).durability(level);
    if let Some(bytes) = args.checkpoint_bytes {
        builder = builder.checkpoint_bytes(bytes);
    }
    let store = builder.open();
    let role = Role::Follower(replicate::Follower::new(&args.nats, &args.stream));
    run(store, &args.http, role)
}

/// What a server is besides its store.
pub(crate) enum Role {
    /// Serves reads and writes.
    Leader,
    /// A leader that also publishes its feed to NATS.
    Publisher(replicate::Publisher),
    /// Applies a leader's feed from NATS; serves reads, refuses writes.
    Follower(replicate::Follower),
}

/// Serves `store` over HTTP in `role` until a shutdown signal, then closes
/// it (module docs).
fn run(store: assocstore::Result<Store>, http: &Http, role: Role) -> ExitCode {
    if !(0.0..=MAX_WATCH_TIMEOUT).contains(&http.watch_timeout) {
        eprintln!(
            "assocstore: --watch-timeout takes 0 to {MAX_WATCH_TIMEOUT} seconds, not '{}'",
            http.watch_timeout
        );
        return ExitCode::from(2);
    }
    let store = match store {
        Ok(store) => store,
        Err(e) => return open_failed(&e),
    };
    let shared = Arc::new(Shared {
        store: Arc::new(store),
        metrics: metrics::Metrics::default(),
        watch_timeout: Duration::from_secs_f64(http.watch_timeout),
        stopping: AtomicBool::new(false),
        waiters: tokio::sync::Semaphore::new(watch::MAX_WAITING),
        body_limit: http.body_limit,
        role,
    });
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(BLOCKING_THREADS)
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("assocstore: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let served = runtime.block_on(serve(http, Arc::clone(&shared)));
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

/// How long a client may take to send a request's headers, and its body.
const REQUEST_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How long, after a shutdown signal, the requests in flight have to be
/// answered before their connections are dropped. A real request needs
/// milliseconds (a waiting long poll answers within [`watch::SLICE`]); what
/// remains after this is a client still sending its request.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Binds, announces the address, and serves until a shutdown signal.
///
/// The accept loop is written out (rather than `axum::serve`) for what
/// that does not set: hyper's header read timeout (it needs a timer), and a
/// shutdown drain that cannot be held open forever by a client that sends
/// half a request.
async fn serve(args: &Http, shared: Arc<Shared>) -> Result<(), String> {
    // The handlers are installed before the address is announced, so a
    // signal sent as soon as the line is read stops the server gracefully
    // instead of killing it.
    let stop = stop_signal(Arc::clone(&shared))?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the listening address: {e}"))?;
    let app = routes::router(Arc::clone(&shared));
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{addr}")
            .and_then(|()| out.flush())
            .map_err(|e| format!("cannot write to standard output: {e}"))?;
    }
    tracing::info!(%addr, "listening");
    // Publishing or following runs beside the server, until the stop.
    let replication = tokio::spawn(replicate::run(Arc::clone(&shared)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(REQUEST_READ_TIMEOUT);
    tokio::pin!(stop);
    loop {
        let stream = tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors, say: the others go on.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let connection = http.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    replication.abort();
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!("connections still sending a request after {SHUTDOWN_GRACE:?} are dropped");
        }
    }
    Ok(())
}

/// A future that resolves on SIGINT or SIGTERM, after setting the stop
/// flag; the handlers are installed when this is called, not when the
/// future is first polled.
fn stop_signal(shared: Arc<Shared>) -> Result<impl Future<Output = ()>, String> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let install = |kind: SignalKind, name: &str| {
            signal(kind).map_err(|e| format!("cannot handle {name}: {e}"))
        };
        let mut interrupt = install(SignalKind::interrupt(), "SIGINT")?;
        let mut terminate = install(SignalKind::terminate(), "SIGTERM")?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
            shared.stopping.store(true, Ordering::Release);
            tracing::info!("stopping: finishing the requests in flight");
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async move {
            let _ = tokio::signal::ctrl_c().await;
            shared.stopping.store(true, Ordering::Release);
        })
    }
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
