//! `/metrics` in Prometheus' text format: reviews by result, findings by rule and what they
//! did (denied, warned), the latency of judged reviews, requests refused before judging, and
//! the state of the watched cache. A handful of counters: written here rather than through a
//! metrics crate and its registry.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds (seconds) of the latency histogram's buckets.
const BUCKETS: [f64; 11] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

#[derive(Default)]
pub struct Metrics(Mutex<Counts>);

#[derive(Default)]
struct Counts {
    /// Answered reviews by result (`allowed`, `warned`, `denied`) and requests refused by why.
    requests: BTreeMap<&'static str, u64>,
    /// (rule, `denied` or `warned`) → findings.
    findings: BTreeMap<(String, &'static str), u64>,
    /// Judged reviews per latency bucket (the last one is +Inf), their sum and count.
    latency: [u64; BUCKETS.len() + 1],
    latency_sum: f64,
}

impl Metrics {
    /// Counts one request by how it ended.
    pub fn request(&self, result: &'static str) {
        *self.counts().requests.entry(result).or_default() += 1;
    }

    /// Counts what one judged review found, and how long it took.
    pub fn judged(&self, findings: impl IntoIterator<Item = (String, &'static str)>, took: Duration) {
        let mut counts = self.counts();
        for key in findings {
            *counts.findings.entry(key).or_default() += 1;
        }
        let seconds = took.as_secs_f64();
        let bucket = BUCKETS.iter().position(|&bound| seconds <= bound).unwrap_or(BUCKETS.len());
        counts.latency[bucket] += 1;
        counts.latency_sum += seconds;
    }

    /// The exposition, with the gauges the caller knows: requests in flight, certificate
    /// reloads, and each cached kind's state (1 when synced).
    pub fn render(&self, in_flight: usize, reloads: u64, cache: &BTreeMap<String, bool>) -> String {
        let counts = self.counts();
        let mut out = String::new();
        family(
            &mut out,
            "requests_total",
            "counter",
            "Requests by result: allowed, warned, denied, or refused (invalid, too_large, busy, timeout, not_found).",
        );
        for (result, n) in &counts.requests {
            let _ = writeln!(out, "charterguard_admission_requests_total{{result=\"{result}\"}} {n}");
        }
        family(&mut out, "findings_total", "counter", "Findings of judged reviews by rule and action (denied or warned).");
        for ((rule, action), n) in &counts.findings {
            let _ = writeln!(out, "charterguard_admission_findings_total{{rule=\"{rule}\",action=\"{action}\"}} {n}");
        }
        family(&mut out, "review_duration_seconds", "histogram", "Time to judge one review, from its body read to its answer.");
        let mut cumulative = 0;
        for (i, n) in counts.latency.iter().enumerate() {
            cumulative += n;
            let bound = BUCKETS.get(i).map_or_else(|| "+Inf".to_string(), |b| b.to_string());
            let _ = writeln!(out, "charterguard_admission_review_duration_seconds_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let _ = writeln!(out, "charterguard_admission_review_duration_seconds_sum {}", counts.latency_sum);
        let _ = writeln!(out, "charterguard_admission_review_duration_seconds_count {cumulative}");
        family(&mut out, "in_flight", "gauge", "Requests being judged.");
        let _ = writeln!(out, "charterguard_admission_in_flight {in_flight}");
        family(&mut out, "certificate_reloads_total", "counter", "Serving certificates loaded after the first.");
        let _ = writeln!(out, "charterguard_admission_certificate_reloads_total {reloads}");
        family(&mut out, "cache_synced", "gauge", "1 when the watched copy of a kind is listed and current.");
        for (kind, synced) in cache {
            let _ = writeln!(out, "charterguard_admission_cache_synced{{kind=\"{kind}\"}} {}", u8::from(*synced));
        }
        out
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The HELP and TYPE lines of one metric family.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP charterguard_admission_{name} {help}\n# TYPE charterguard_admission_{name} {kind}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_counts_and_accumulates_buckets() {
        let metrics = Metrics::default();
        metrics.request("denied");
        metrics.request("denied");
        metrics.request("too_large");
        metrics.judged([("POD-001".to_string(), "denied"), ("IMG-002".to_string(), "warned")], Duration::from_micros(1500));
        metrics.judged([("POD-001".to_string(), "denied")], Duration::from_secs(9));
        let text = metrics.render(3, 1, &BTreeMap::from([("NetworkPolicy".to_string(), true), ("Namespace".to_string(), false)]));
        for line in [
            "charterguard_admission_requests_total{result=\"denied\"} 2",
            "charterguard_admission_requests_total{result=\"too_large\"} 1",
            "charterguard_admission_findings_total{rule=\"POD-001\",action=\"denied\"} 2",
            "charterguard_admission_findings_total{rule=\"IMG-002\",action=\"warned\"} 1",
            "charterguard_admission_review_duration_seconds_bucket{le=\"0.001\"} 0",
            "charterguard_admission_review_duration_seconds_bucket{le=\"0.0025\"} 1",
            "charterguard_admission_review_duration_seconds_bucket{le=\"2.5\"} 1",
            "charterguard_admission_review_duration_seconds_bucket{le=\"+Inf\"} 2",
            "charterguard_admission_review_duration_seconds_count 2",
            "charterguard_admission_in_flight 3",
            "charterguard_admission_certificate_reloads_total 1",
            "charterguard_admission_cache_synced{kind=\"Namespace\"} 0",
            "# TYPE charterguard_admission_review_duration_seconds histogram",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing from:\n{text}");
        }
    }
}
