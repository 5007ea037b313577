//! What a long replay shows on standard error: a progress bar through its
//! input while standard error is a terminal, and a one-line summary at the
//! end.

use std::io::{IsTerminal, Read};
use std::time::{Duration, Instant};

use assocstore::wire::ReplayStats;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The input of a replay, counting the bytes read into a progress bar.
pub(crate) struct Counted<R> {
    inner: R,
    bar: ProgressBar,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bar.inc(n as u64);
        Ok(n)
    }
}

/// The progress of one replay.
pub(crate) struct Progress {
    bar: ProgressBar,
    started: Instant,
    quiet: bool,
}

impl Progress {
    /// A bar over `total` bytes of input (a spinner when the size is not
    /// known), drawn only when standard error is a terminal and not `quiet`.
    pub(crate) fn new(total: Option<u64>, quiet: bool) -> Progress {
        let bar = match total {
            Some(total) => ProgressBar::new(total).with_style(
                ProgressStyle::with_template(
                    "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            ),
            None => ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("{spinner} {bytes} read, {bytes_per_sec}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        };
        let shown = !quiet && std::io::stderr().is_terminal();
        bar.set_draw_target(if shown {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        });
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress {
            bar,
            started: Instant::now(),
            quiet,
        }
    }

    /// `input`, counted into this bar.
    pub(crate) fn wrap<R: Read>(&self, inner: R) -> Counted<R> {
        Counted {
            inner,
            bar: self.bar.clone(),
        }
    }

    /// Clears the bar and prints the summary line (unless quiet).
    pub(crate) fn finish(self, stats: &ReplayStats) {
        self.bar.finish_and_clear();
        if !self.quiet {
            eprintln!("assocstore: {}", summary(stats, self.started.elapsed()));
        }
    }
}

/// `N lines, E errors, S s, R lines/s`.
pub(crate) fn summary(stats: &ReplayStats, took: Duration) -> String {
    let secs = took.as_secs_f64();
    let rate = if secs > 0.0 {
        stats.lines as f64 / secs
    } else {
        0.0
    };
    format!(
        "{} lines, {} errors, {secs:.2} s, {rate:.0} lines/s",
        stats.lines, stats.failures
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_names_lines_errors_seconds_and_rate() {
        let stats = ReplayStats {
            lines: 300,
            failures: 2,
        };
        assert_eq!(
            summary(&stats, Duration::from_millis(1500)),
            "300 lines, 2 errors, 1.50 s, 200 lines/s"
        );
    }

    #[test]
    fn counted_input_passes_every_byte_through() {
        let progress = Progress::new(Some(5), true);
        let mut out = String::new();
        progress
            .wrap(&b"hello"[..])
            .read_to_string(&mut out)
            .unwrap_or_default();
        assert_eq!(out, "hello");
        assert_eq!(progress.bar.position(), 5);
    }
}
