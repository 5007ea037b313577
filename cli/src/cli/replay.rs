//! `assocstore replay`: in memory through the library's streaming
//! [`assocstore::wire::replay`], or durable with one flush per line.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::Path;
use std::process::ExitCode;

use assocstore::wire::{ReplayStats, replay, replay_line_by_line};
use assocstore::{Store, StoreBuilder};

use super::progress::Progress;
use super::{Replay, open_failed};

/// Runs `assocstore replay` as parsed.
pub(crate) fn run(args: &Replay) -> ExitCode {
    // The input opens first, so a missing file leaves no new directory.
    let (input, size): (Box<dyn Read>, Option<u64>) = match &args.input {
        None => (Box::new(io::stdin().lock()), None),
        Some(path) if path.as_os_str() == "-" => (Box::new(io::stdin().lock()), None),
        Some(path) => match File::open(path).and_then(|f| Ok((f.metadata()?, f))) {
            Ok((meta, _)) if meta.is_dir() => {
                eprintln!(
                    "assocstore: cannot read {}: it is a directory",
                    path.display()
                );
                return ExitCode::from(1);
            }
            Ok((meta, file)) => (Box::new(file), Some(meta.len())),
            Err(e) => {
                eprintln!("assocstore: cannot open {}: {e}", path.display());
                return ExitCode::from(1);
            }
        },
    };
    let progress = Progress::new(size, args.quiet);
    let input = progress.wrap(input);
    let (stats, status) = match args.store.builder() {
        None => in_memory(input),
        Some(builder) => durable(input, builder),
    };
    if let Some(stats) = stats {
        progress.finish(&stats);
    }
    status
}

/// The store lives for the run; output is buffered and flushed whenever the
/// input has nothing more buffered.
fn in_memory(input: impl Read) -> (Option<ReplayStats>, ExitCode) {
    let store = Store::new();
    let stdout = io::stdout().lock();
    ended(replay(
        &store,
        input,
        BufWriter::with_capacity(1 << 16, stdout),
    ))
}

/// Opens the store `builder` names, serves every line with a flush after
/// each response, then closes the store (a final sync and the directory's
/// lock released).
fn durable(input: impl Read, builder: StoreBuilder) -> (Option<ReplayStats>, ExitCode) {
    let store = match builder.open() {
        Ok(store) => store,
        Err(e) => return (None, open_failed(&e)),
    };
    let dir = store.path().map(Path::to_path_buf).unwrap_or_default();
    if let Some(report) = store.open_report().filter(|r| r.bytes_cut > 0) {
        eprintln!(
            "assocstore: '{}': cut a torn journal tail (a write never acknowledged): {report}",
            dir.display()
        );
    }
    let (stats, served) = ended(serve_flushing(&store, input, io::stdout().lock()));
    match store.close() {
        Ok(()) => (stats, served),
        Err(e) => {
            eprintln!("assocstore: closing '{}': {e}", dir.display());
            (stats, ExitCode::from(1))
        }
    }
}

/// The exit status of a replay: a closed pipe downstream (`| head`) ends
/// the run quietly; any other I/O error is reported.
fn ended(result: io::Result<ReplayStats>) -> (Option<ReplayStats>, ExitCode) {
    match result {
        Ok(stats) => (Some(stats), ExitCode::SUCCESS),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => (None, ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("assocstore: {e}");
            (None, ExitCode::from(1))
        }
    }
}

/// Serves request lines from `input` one at a time, as
/// [`assocstore::wire::replay`] does, but writes and flushes each response
/// line before reading the next request. The store call returns only once
/// its change is durable at the store's level, so a line that reaches the
/// reader always reports a kept change; nothing is batched across lines.
///
/// Each response goes out in one `write` (the line and its newline are
/// assembled in a buffer first), so a process killed mid-run never leaves
/// an acknowledged line torn.
pub(crate) fn serve_flushing(
    store: &Store,
    input: impl Read,
    output: impl Write,
) -> io::Result<ReplayStats> {
    let output = BufWriter::with_capacity(1 << 12, output);
    replay_line_by_line(store, input, output)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts the `write` calls that reach it, and what they held.
    #[derive(Default)]
    struct Writes(Vec<Vec<u8>>);

    impl Write for &mut Writes {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.push(buf.to_vec());
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_response_is_one_whole_line_in_one_write() {
        let input =
            b"{\"api\": \"create_inst\", \"body\": {\"bk_obj_id\": \"host\"}}\r\nnot json\n{}";
        let mut writes = Writes::default();
        let stats = serve_flushing(&Store::new(), &input[..], &mut writes).expect("serve");
        assert_eq!((stats.lines, stats.failures), (3, 2));
        assert_eq!(writes.0.len(), 3);
        for w in &writes.0 {
            let (last, line) = w.split_last().expect("not empty");
            assert_eq!(*last, b'\n');
            assert!(!line.contains(&b'\n'));
        }
        assert!(writes.0[0].starts_with(br#"{"result":true"#));
        assert!(writes.0[1].starts_with(br#"{"result":false,"code":1199000"#));
    }
}
