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
pub fn replay(store: &Store, input: impl Read, mut output: impl Write) -> io::Result<ReplayStats> {
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
        output.write_all(envelope.to_line().as_bytes())?;
        output.write_all(b"\n")?;
        if input.buffer().is_empty() {
            output.flush()?;
        }
        if line.capacity() > 1 << 20 && line.len() < 1 << 16 {
            line.shrink_to(1 << 16);
        }
    }
    output.flush()?;
    Ok(stats)
}
