//! Usage counters and the report built from them. Each minute, route, client and status has one counter item with a
//! request count, byte totals and a latency histogram whose buckets grow by 10%, so a percentile read from it is
//! within 5% of the true value and the item stays small whatever the traffic.

use std::collections::BTreeMap;

use serde::Serialize;

/// Latencies below this (milliseconds) share bucket 0.
const FIRST_BUCKET_MS: f64 = 0.1;
const GROWTH: f64 = 1.1;
/// Bucket of 0.1 ms · 1.1^199 ≈ 17 minutes; nothing an HTTP request lasts goes beyond.
const MAX_BUCKET: u16 = 199;

/// The histogram bucket of a latency: bucket `i > 0` holds `[0.1·1.1^(i-1), 0.1·1.1^i)` milliseconds.
pub fn bucket_of(latency_ms: f64) -> u16 {
    // NaN lands here too.
    if latency_ms.is_nan() || latency_ms < FIRST_BUCKET_MS {
        return 0;
    }
    let i = ((latency_ms / FIRST_BUCKET_MS).ln() / GROWTH.ln()).floor() as i64 + 1;
    i.clamp(1, MAX_BUCKET as i64) as u16
}

/// A representative latency of a bucket: the geometric middle of its bounds.
pub fn bucket_value(bucket: u16) -> f64 {
    if bucket == 0 {
        return FIRST_BUCKET_MS / 2.0;
    }
    let low = FIRST_BUCKET_MS * GROWTH.powi(bucket as i32 - 1);
    low * GROWTH.sqrt()
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct LatencyHistogram {
    pub buckets: BTreeMap<u16, u64>,
}

impl LatencyHistogram {
    pub fn add(&mut self, other: &LatencyHistogram) {
        for (b, n) in &other.buckets {
            *self.buckets.entry(*b).or_default() += n;
        }
    }

    pub fn count(&self) -> u64 {
        self.buckets.values().sum()
    }

    /// The latency at quantile `q` (0..=1), rounded to 0.01 ms; `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        for (b, n) in &self.buckets {
            seen += n;
            if seen >= rank {
                return Some((bucket_value(*b) * 100.0).round() / 100.0);
            }
        }
        None
    }
}

/// One counter item: a minute, route, client and status.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UsageCell {
    pub minute: String,
    pub route: String,
    pub client: String,
    pub status: u16,
    pub requests: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub latency: LatencyHistogram,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GroupBy {
    Route,
    Client,
    Status,
}

impl GroupBy {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "route" => Some(Self::Route),
            "client" => Some(Self::Client),
            "status" => Some(Self::Status),
            _ => None,
        }
    }
}

/// Latency percentiles in ms; all 0 when the group had no requests.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
}

/// Totals of a group of counters.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UsageSummary {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub requests: u64,
    pub errors_4xx: u64,
    pub errors_5xx: u64,
    /// Share of requests answered 4xx or 5xx.
    pub error_rate: f64,
    /// Requests refused with 429.
    pub rate_limited: u64,
    /// Requests refused with 401 (no or bad credentials) or 403 (missing scope).
    pub auth_failures: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub latency_ms: Percentiles,
}

#[derive(Default)]
struct Acc {
    requests: u64,
    e4: u64,
    e5: u64,
    limited: u64,
    auth: u64,
    bytes_in: u64,
    bytes_out: u64,
    latency: LatencyHistogram,
}

impl Acc {
    fn add(&mut self, c: &UsageCell) {
        self.requests += c.requests;
        match c.status {
            400..=499 => self.e4 += c.requests,
            500..=599 => self.e5 += c.requests,
            _ => {}
        }
        if c.status == 429 {
            self.limited += c.requests;
        }
        if c.status == 401 || c.status == 403 {
            self.auth += c.requests;
        }
        self.bytes_in += c.bytes_in;
        self.bytes_out += c.bytes_out;
        self.latency.add(&c.latency);
    }

    fn summary(self, key: Option<String>) -> UsageSummary {
        let rate = if self.requests == 0 { 0.0 } else { (self.e4 + self.e5) as f64 / self.requests as f64 };
        UsageSummary {
            key,
            requests: self.requests,
            errors_4xx: self.e4,
            errors_5xx: self.e5,
            error_rate: (rate * 10_000.0).round() / 10_000.0,
            rate_limited: self.limited,
            auth_failures: self.auth,
            bytes_in: self.bytes_in,
            bytes_out: self.bytes_out,
            latency_ms: Percentiles {
                p50: self.latency.quantile(0.50).unwrap_or(0.0),
                p95: self.latency.quantile(0.95).unwrap_or(0.0),
                p99: self.latency.quantile(0.99).unwrap_or(0.0),
            },
        }
    }
}

/// The report: one summary per group (largest first) and the totals.
pub fn summarize(cells: &[UsageCell], group_by: GroupBy) -> (Vec<UsageSummary>, UsageSummary) {
    let mut groups: BTreeMap<String, Acc> = BTreeMap::new();
    let mut total = Acc::default();
    for c in cells {
        let key = match group_by {
            GroupBy::Route => c.route.clone(),
            GroupBy::Client => c.client.clone(),
            GroupBy::Status => c.status.to_string(),
        };
        groups.entry(key).or_default().add(c);
        total.add(c);
    }
    let mut out: Vec<UsageSummary> = groups.into_iter().map(|(k, acc)| acc.summary(Some(k))).collect();
    out.sort_by(|a, b| b.requests.cmp(&a.requests).then_with(|| a.key.cmp(&b.key)));
    (out, total.summary(None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_within_five_percent() {
        for ms in [0.15, 0.9, 1.0, 2.5, 17.0, 250.0, 4_000.0] {
            let v = bucket_value(bucket_of(ms));
            assert!((v - ms).abs() / ms <= 0.05, "{ms} → {v}");
        }
        assert_eq!(bucket_of(0.0), 0);
        assert_eq!(bucket_of(f64::NAN), 0);
        assert_eq!(bucket_of(1e12), MAX_BUCKET);
    }

    #[test]
    fn quantiles_follow_the_distribution() {
        let mut h = LatencyHistogram::default();
        for i in 1..=100 {
            *h.buckets.entry(bucket_of(i as f64)).or_default() += 1;
        }
        let p50 = h.quantile(0.5).unwrap();
        let p99 = h.quantile(0.99).unwrap();
        assert!((47.0..=53.0).contains(&p50), "{p50}");
        assert!((94.0..=104.0).contains(&p99), "{p99}");
        assert_eq!(LatencyHistogram::default().quantile(0.5), None);
    }

    #[test]
    fn summaries_count_errors_limits_and_auth_failures() {
        let cell = |route: &str, status: u16, n: u64| UsageCell {
            minute: "2026-11-25T10:00".into(),
            route: route.into(),
            client: "apikey:k".into(),
            status,
            requests: n,
            bytes_in: 10 * n,
            bytes_out: 100 * n,
            latency: LatencyHistogram { buckets: BTreeMap::from([(bucket_of(5.0), n)]) },
        };
        let cells = [cell("/a", 200, 6), cell("/a", 429, 2), cell("/b", 401, 1), cell("/b", 500, 1)];
        let (groups, total) = summarize(&cells, GroupBy::Route);
        assert_eq!(total.requests, 10);
        assert_eq!((total.errors_4xx, total.errors_5xx, total.rate_limited, total.auth_failures), (3, 1, 2, 1));
        assert_eq!(total.error_rate, 0.4);
        assert_eq!(groups[0].key.as_deref(), Some("/a"));
        assert_eq!(groups[0].requests, 8);
        let (by_status, _) = summarize(&cells, GroupBy::Status);
        assert_eq!(by_status.len(), 4);
    }
}
