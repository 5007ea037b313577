//! The command line (`clap`), and the commands behind it.

pub(crate) mod progress;
pub(crate) mod replay;
pub(crate) mod verify;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use assocstore::{Durability, Error, Store, StoreBuilder};
use clap::{Args, Parser, Subcommand, ValueEnum};

/// assocstore: bk-cmdb instance associations, in memory or durable.
#[derive(Debug, Parser)]
#[command(name = "assocstore", version, about, long_about = None)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// What the command line asks for.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Replay JSON lines of bk-cmdb requests from FILE (or standard input),
    /// one response line each on standard output.
    #[command(after_long_help = crate::REPLAY_HELP)]
    Replay(Replay),
    /// Serve bk-cmdb's HTTP API: `POST /api/c/compapi{/v2}/cc/<api>/`.
    #[command(after_long_help = crate::SERVE_HELP)]
    Serve(Serve),
    /// Follow a leader's change feed from NATS JetStream into a durable
    /// store, and serve reads from it.
    #[command(after_long_help = crate::FOLLOW_HELP)]
    Follow(Follow),
    /// Check the durable store in DIR and print what it holds.
    #[command(after_long_help = crate::VERIFY_HELP)]
    Verify {
        /// The store's directory (must exist).
        dir: PathBuf,
    },
}

/// Where the store lives, for `replay` and `serve`.
#[derive(Debug, Args, Default, PartialEq, Eq)]
pub(crate) struct StoreArgs {
    /// Keep a durable store in DIR (created if missing) instead of one in
    /// memory; one process at a time may have DIR open.
    #[arg(long, value_name = "DIR")]
    pub(crate) data: Option<PathBuf>,
    /// With --data: when a write counts as done. immediate: its journal
    /// record is synced first (survives a power cut); eventual: written to
    /// the OS first (survives kill -9), synced at checkpoints and at exit.
    #[arg(long, value_enum, requires = "data", value_name = "LEVEL")]
    pub(crate) durability: Option<Level>,
    /// With --data: checkpoint whenever the journal passes N bytes
    /// (default 64 MiB).
    #[arg(long, requires = "data", value_name = "N")]
    pub(crate) checkpoint_bytes: Option<u64>,
}

/// `--durability`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Level {
    /// Synced before it is acknowledged.
    Immediate,
    /// Written to the OS before it is acknowledged.
    Eventual,
}

impl StoreArgs {
    /// The builder for the durable store these arguments name (`None`: in
    /// memory).
    pub(crate) fn builder(&self) -> Option<StoreBuilder> {
        let dir = self.data.as_ref()?;
        let level = match self.durability {
            Some(Level::Eventual) => Durability::Eventual,
            Some(Level::Immediate) | None => Durability::Immediate,
        };
        let mut builder = Store::builder().path(dir).durability(level);
        if let Some(bytes) = self.checkpoint_bytes {
            builder = builder.checkpoint_bytes(bytes);
        }
        Some(builder)
    }
}

/// `assocstore replay`.
#[derive(Debug, Args)]
pub(crate) struct Replay {
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    /// No progress bar and no summary line on standard error.
    #[arg(long, short)]
    pub(crate) quiet: bool,
    /// The request lines; standard input when missing or `-`.
    #[arg(value_name = "FILE")]
    pub(crate) input: Option<PathBuf>,
}

/// The HTTP options of `serve` and `follow`.
#[derive(Debug, Args)]
pub(crate) struct Http {
    /// The address to listen on (`127.0.0.1:0` picks a free port; the
    /// `listening on` line names it).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub(crate) listen: SocketAddr,
    /// How long a `resource_watch` with nothing to report waits for an
    /// event before it answers `bk_watched: false`.
    #[arg(long, default_value_t = 20.0, value_name = "SECONDS")]
    pub(crate) watch_timeout: f64,
    /// The largest request body served; larger ones get HTTP 413.
    #[arg(long, default_value_t = 16 << 20, value_name = "BYTES")]
    pub(crate) body_limit: usize,
    /// Log each request on standard error (as does setting `RUST_LOG`,
    /// which also picks the level and targets).
    #[arg(long)]
    pub(crate) log: bool,
}

/// `assocstore serve`.
#[derive(Debug, Args)]
pub(crate) struct Serve {
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    #[command(flatten)]
    pub(crate) http: Http,
    /// Publish every change-feed event to this NATS server's JetStream
    /// (`nats://HOST:PORT`, or the nodes of a cluster separated by
    /// commas), for followers (`assocstore follow`).
    #[arg(long, value_name = "URL")]
    pub(crate) publish: Option<String>,
    /// The JetStream stream to publish to.
    #[arg(
        long,
        default_value = "assocstore",
        requires = "publish",
        value_name = "NAME"
    )]
    pub(crate) stream: String,
    /// Copies of the stream a NATS cluster keeps (3 on a 3-node cluster),
    /// when this leader creates it.
    #[arg(long, default_value_t = 1, requires = "publish", value_parser = clap::value_parser!(u8).range(1..=5))]
    pub(crate) replicas: u8,
}

/// `assocstore follow`.
#[derive(Debug, Args)]
pub(crate) struct Follow {
    /// The NATS server whose JetStream stream a leader publishes to (or
    /// the nodes of a cluster, separated by commas).
    #[arg(long, value_name = "URL")]
    pub(crate) nats: String,
    /// The stream's name.
    #[arg(long, default_value = "assocstore", value_name = "NAME")]
    pub(crate) stream: String,
    /// The follower's own durable store (created if missing).
    #[arg(long, value_name = "DIR")]
    pub(crate) data: PathBuf,
    /// When an applied event counts as done (default: eventual: a
    /// follower can fetch again what a power cut took).
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub(crate) durability: Option<Level>,
    /// Checkpoint whenever the journal passes N bytes (default 64 MiB; a
    /// follower's journal is about 5 bytes an event, so a smaller value
    /// shortens the replay of a restart).
    #[arg(long, value_name = "N")]
    pub(crate) checkpoint_bytes: Option<u64>,
    #[command(flatten)]
    pub(crate) http: Http,
}

/// Reports a store that did not open: `assocstore: <message>: <cause>` on
/// standard error (the cause names the file and byte offset of damage, or
/// says the directory is locked), and exit status 1.
pub(crate) fn open_failed(e: &Error) -> ExitCode {
    match std::error::Error::source(e) {
        Some(cause) => eprintln!("assocstore: {e}: {cause}"),
        None => eprintln!("assocstore: {e}"),
    }
    ExitCode::from(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Command, clap::Error> {
        Cli::try_parse_from(std::iter::once("assocstore").chain(line.split_whitespace()))
            .map(|cli| cli.command)
    }

    #[test]
    fn replay_options_in_any_order_with_or_without_equals() {
        let want = StoreArgs {
            data: Some("d".into()),
            durability: Some(Level::Eventual),
            checkpoint_bytes: Some(4096),
        };
        for line in [
            "replay --data d --durability eventual --checkpoint-bytes 4096 in.jsonl",
            "replay in.jsonl --checkpoint-bytes=4096 --durability=eventual --data=d",
        ] {
            let Ok(Command::Replay(r)) = parse(line) else {
                panic!("{line}");
            };
            assert_eq!(r.store, want);
            assert_eq!(r.input, Some(PathBuf::from("in.jsonl")));
        }
        let Ok(Command::Replay(r)) = parse("replay") else {
            panic!("replay");
        };
        assert_eq!(
            (r.store, r.input, r.quiet),
            (StoreArgs::default(), None, false)
        );
    }

    #[test]
    fn bad_command_lines_are_refused_naming_what_is_wrong() {
        for (line, names) in [
            ("", "subcommand"),
            ("replay --durability eventual", "--data"),
            ("replay --data", "--data"),
            ("replay --data d --durability sometimes", "sometimes"),
            ("replay --data d --checkpoint-bytes lots", "lots"),
            ("replay a b", "'b'"),
            ("replay --nope", "--nope"),
            ("verify", "DIR"),
            ("verify a b", "'b'"),
            ("frobnicate", "frobnicate"),
            ("serve --listen nowhere", "nowhere"),
        ] {
            let err = parse(line).err().unwrap_or_else(|| panic!("{line} parsed"));
            assert!(err.to_string().contains(names), "{line}: {err}");
        }
        assert!(
            matches!(parse("verify d"), Ok(Command::Verify { dir }) if dir == std::path::Path::new("d"))
        );
        let Ok(Command::Serve(s)) = parse("serve --listen 127.0.0.1:0 --watch-timeout 0.5") else {
            panic!("serve");
        };
        assert_eq!(s.http.listen.port(), 0);
        assert!((s.http.watch_timeout - 0.5).abs() < f64::EPSILON);
        assert_eq!(s.http.body_limit, 16 << 20);
        assert!(
            parse("serve --stream s").is_err(),
            "--stream needs --publish"
        );
        let Ok(Command::Follow(f)) = parse("follow --nats nats://h:4222 --data d") else {
            panic!("follow");
        };
        assert_eq!(
            (f.stream.as_str(), f.data),
            ("assocstore", PathBuf::from("d"))
        );
        assert!(parse("follow --data d").is_err(), "follow needs --nats");
    }
}
