//! Streaming replay: JSON lines in, one envelope line out per input line.

use std::io::{self, BufRead, BufReader, Read, Write};

use super::line_envelope;
use crate::store::Store;

/// What a replay did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReplayStats {
    /// Lines read (and envelopes written).
    pub lines: u64,
    /// Envelopes with `result: false`.
    pub failures: u64,
}

/// Reads request lines from `input` and writes one envelope line per input
/// line to `output`, in order. Memory stays bounded by the longest line: one
/// line buffer is reused. Output is flushed whenever the input has nothing
/// more buffered, so an interactive peer sees each answer before it sends
/// the next request, and a file replays at full speed.
///
/// ```
/// use assocstore::{Store, wire::replay};
/// let input = b"{\"api\": \"create_inst\", \"body\": {\"bk_obj_id\": \"host\"}}\nnot json\n";
/// let mut output = Vec::new();
/// let stats = replay(&Store::new(), &input[..], &mut output)?;
/// assert_eq!((stats.lines, stats.failures), (2, 1));
/// assert_eq!(output.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count(), 2);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
/// Only I/O errors of `input` or `output`; bad requests become error
/// envelopes.
pub fn replay(store: &Store, input: impl Read, output: impl Write) -> io::Result<ReplayStats> {
    run(store, input, output, false)
}

/// [`replay()`] for a durable store: each envelope line (with its newline,
/// in one `write`) is flushed before the next request is read, so a reader
/// that has seen a success line may rely on its change being durable at
/// the store's level (the store call returns only then).
///
/// ```
/// use assocstore::{Store, wire::replay_line_by_line};
/// let input = b"{\"api\": \"create_inst\", \"body\": {\"bk_obj_id\": \"host\"}}\n";
/// let mut output = Vec::new();
/// let stats = replay_line_by_line(&Store::new(), &input[..], &mut output)?;
/// assert_eq!(stats.lines, 1);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
/// Only I/O errors of `input` or `output`.
pub fn replay_line_by_line(
    store: &Store,
    input: impl Read,
    output: impl Write,
) -> io::Result<ReplayStats> {
    run(store, input, output, true)
}

/// The line loop of both: flushes after every line when `each_line`, else
/// whenever the input has nothing more buffered.
fn run(
    store: &Store,
    input: impl Read,
    mut output: impl Write,
    each_line: bool,
) -> io::Result<ReplayStats> {
    let mut input = BufReader::with_capacity(1 << 16, input);
    let mut stats = ReplayStats::default();
    let mut line = Vec::new();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let request = line.strip_suffix(b"\n").unwrap_or(&line);
        let request = request.strip_suffix(b"\r").unwrap_or(request);
        let envelope = line_envelope(store, request);
        stats.lines += 1;
        stats.failures += u64::from(!envelope.result);
        let mut answer = envelope.to_line();
        answer.push('\n');
        output.write_all(answer.as_bytes())?;
        if each_line || input.buffer().is_empty() {
            output.flush()?;
        }
        if line.capacity() > 1 << 20 && line.len() < 1 << 16 {
            line.shrink_to(1 << 16);
        }
    }
    output.flush()?;
    Ok(stats)
}
