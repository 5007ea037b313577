//! `GET /metrics`: request counts, error counts and a latency histogram by
//! api, the associations held and the change-feed events retained, in the
//! Prometheus text format. Counters are plain atomics: recording a request
//! takes no lock.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use assocstore::Store;
use assocstore::wire::APIS;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 14] = [
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0,
    5.0,
];

/// One api's figures.
#[derive(Default)]
struct ApiFigures {
    requests: AtomicU64,
    errors: AtomicU64,
    /// Requests at or under each bound (not cumulative; summed on render).
    buckets: [AtomicU64; BUCKETS.len()],
    /// Total latency, in nanoseconds.
    nanos: AtomicU64,
}

/// The figures of every api, plus one slot for unknown api names.
pub(crate) struct Metrics {
    apis: Vec<ApiFigures>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics {
            apis: (0..=APIS.len()).map(|_| ApiFigures::default()).collect(),
        }
    }
}

/// The label of slot `i`.
fn label(i: usize) -> &'static str {
    APIS.get(i).copied().unwrap_or("unknown")
}

impl Metrics {
    /// Counts one request to `api` that took `took`.
    pub(crate) fn record(&self, api: &str, ok: bool, took: Duration) {
        let i = APIS.iter().position(|a| *a == api).unwrap_or(APIS.len());
        let f = &self.apis[i];
        f.requests.fetch_add(1, Ordering::Relaxed);
        if !ok {
            f.errors.fetch_add(1, Ordering::Relaxed);
        }
        let secs = took.as_secs_f64();
        if let Some(b) = BUCKETS.iter().position(|&bound| secs <= bound) {
            f.buckets[b].fetch_add(1, Ordering::Relaxed);
        }
        f.nanos.fetch_add(
            u64::try_from(took.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// The exposition text, with `store`'s gauges.
    pub(crate) fn render(&self, store: &Store) -> String {
        let mut out = String::new();
        let seen: Vec<(usize, &ApiFigures)> = self
            .apis
            .iter()
            .enumerate()
            .filter(|(_, f)| f.requests.load(Ordering::Relaxed) > 0)
            .collect();
        out.push_str("# HELP assocstore_requests_total API requests answered, by api.\n");
        out.push_str("# TYPE assocstore_requests_total counter\n");
        for (i, f) in &seen {
            let n = f.requests.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "assocstore_requests_total{{api=\"{}\"}} {n}",
                label(*i)
            );
        }
        out.push_str(
            "# HELP assocstore_request_errors_total API requests answered with result false, by api.\n",
        );
        out.push_str("# TYPE assocstore_request_errors_total counter\n");
        for (i, f) in &seen {
            let n = f.errors.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "assocstore_request_errors_total{{api=\"{}\"}} {n}",
                label(*i)
            );
        }
        out.push_str(
            "# HELP assocstore_request_duration_seconds Time to answer an API request, by api.\n",
        );
        out.push_str("# TYPE assocstore_request_duration_seconds histogram\n");
        for (i, f) in &seen {
            let api = label(*i);
            let mut cumulative = 0;
            for (b, bound) in BUCKETS.iter().enumerate() {
                cumulative += f.buckets[b].load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "assocstore_request_duration_seconds_bucket{{api=\"{api}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            let count = f.requests.load(Ordering::Relaxed);
            let sum = f.nanos.load(Ordering::Relaxed) as f64 / 1e9;
            let _ = writeln!(
                out,
                "assocstore_request_duration_seconds_bucket{{api=\"{api}\",le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                out,
                "assocstore_request_duration_seconds_sum{{api=\"{api}\"}} {sum}"
            );
            let _ = writeln!(
                out,
                "assocstore_request_duration_seconds_count{{api=\"{api}\"}} {count}"
            );
        }
        out.push_str("# HELP assocstore_associations Instance associations held.\n");
        out.push_str("# TYPE assocstore_associations gauge\n");
        let _ = writeln!(out, "assocstore_associations {}", store.len());
        out.push_str("# HELP assocstore_feed_position Change-feed position of the newest event.\n");
        out.push_str("# TYPE assocstore_feed_position gauge\n");
        let _ = writeln!(
            out,
            "assocstore_feed_position {}",
            store.feed_cursor().position()
        );
        out.push_str("# HELP assocstore_events_retained Change-feed events retained.\n");
        out.push_str("# TYPE assocstore_events_retained gauge\n");
        let _ = writeln!(
            out,
            "assocstore_events_retained {}",
            store.retained_events()
        );
        out
    }
}

/// The replication figures of a publisher or a follower.
pub(crate) fn render_role(out: &mut String, role: &super::Role, store: &Store) {
    match role {
        super::Role::Leader => {}
        super::Role::Publisher(p) => {
            out.push_str("# HELP assocstore_publish_position Feed position of the last event NATS acknowledged.\n");
            out.push_str("# TYPE assocstore_publish_position gauge\n");
            let _ = writeln!(
                out,
                "assocstore_publish_position {}",
                p.published.load(Ordering::Acquire)
            );
            out.push_str("# HELP assocstore_publish_lag_events Events committed and not yet acknowledged by NATS.\n");
            out.push_str("# TYPE assocstore_publish_lag_events gauge\n");
            let head = store.feed_cursor().position();
            let lag = head.saturating_sub(p.published.load(Ordering::Acquire));
            let _ = writeln!(out, "assocstore_publish_lag_events {lag}");
            out.push_str("# HELP assocstore_publish_gap_lost 1 when NATS missed more events than the feed retains.\n");
            out.push_str("# TYPE assocstore_publish_gap_lost gauge\n");
            let lost = u8::from(p.gap_lost.load(Ordering::Acquire));
            let _ = writeln!(out, "assocstore_publish_gap_lost {lost}");
        }
        super::Role::Follower(f) => {
            let (events, seconds) = f.lag(store);
            out.push_str("# HELP assocstore_follow_position Leader feed position of the last event applied.\n");
            out.push_str("# TYPE assocstore_follow_position gauge\n");
            let _ = writeln!(
                out,
                "assocstore_follow_position {}",
                store.feed_cursor().position()
            );
            out.push_str(
                "# HELP assocstore_follow_lag_events Events in the stream not yet applied.\n",
            );
            out.push_str("# TYPE assocstore_follow_lag_events gauge\n");
            let _ = writeln!(out, "assocstore_follow_lag_events {events}");
            out.push_str("# HELP assocstore_follow_lag_seconds Age of the last applied event while events wait, else 0.\n");
            out.push_str("# TYPE assocstore_follow_lag_seconds gauge\n");
            let _ = writeln!(out, "assocstore_follow_lag_seconds {seconds}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_errors_and_buckets_by_api() {
        let m = Metrics::default();
        m.record("add_instance_association", true, Duration::from_micros(80));
        m.record("add_instance_association", false, Duration::from_millis(3));
        m.record("no_such_api", false, Duration::from_micros(10));
        let store = Store::new();
        let text = m.render(&store);
        for line in [
            "assocstore_requests_total{api=\"add_instance_association\"} 2",
            "assocstore_request_errors_total{api=\"add_instance_association\"} 1",
            "assocstore_requests_total{api=\"unknown\"} 1",
            "assocstore_request_duration_seconds_bucket{api=\"add_instance_association\",le=\"0.0001\"} 1",
            "assocstore_request_duration_seconds_bucket{api=\"add_instance_association\",le=\"0.005\"} 2",
            "assocstore_request_duration_seconds_bucket{api=\"add_instance_association\",le=\"+Inf\"} 2",
            "assocstore_request_duration_seconds_count{api=\"add_instance_association\"} 2",
            "assocstore_associations 0",
            "assocstore_events_retained 0",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line} in\n{text}");
        }
        assert!(
            !text.contains("find_instance_association"),
            "unused apis are left out"
        );
    }
}
