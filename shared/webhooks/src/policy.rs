//! Retry policies: when the next attempt of a failed delivery is due.

use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};

pub const MAX_ATTEMPTS: u32 = 10;
/// Longest wait a receiver can ask for with `Retry-After`.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// Delays after the first, second, ... failed attempt in the standard schedule: the Standard Webhooks
/// recommendation (immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h), continued at 10 h up to ten attempts.
const STANDARD_DELAYS: [u64; 9] = [5, 300, 1800, 7200, 18000, 36000, 36000, 36000, 36000];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "strategy", rename_all = "lowercase", deny_unknown_fields)]
pub enum RetryPolicy {
    /// The standard schedule, cut at `max_attempts`.
    Standard {
        #[serde(default = "default_max_attempts")]
        max_attempts: u32,
    },
    /// `initial_delay_seconds * multiplier^(n-1)`, capped at `max_delay_seconds`.
    Exponential {
        #[serde(default = "default_max_attempts")]
        max_attempts: u32,
        initial_delay_seconds: u64,
        #[serde(default = "default_multiplier")]
        multiplier: f64,
        #[serde(default = "default_max_delay")]
        max_delay_seconds: u64,
    },
}

fn default_max_attempts() -> u32 {
    8
}
fn default_multiplier() -> f64 {
    2.0
}
fn default_max_delay() -> u64 {
    36000
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self::Standard { max_attempts: default_max_attempts() }
    }
}

impl RetryPolicy {
    pub fn max_attempts(&self) -> u32 {
        match self {
            Self::Standard { max_attempts } | Self::Exponential { max_attempts, .. } => *max_attempts,
        }
    }

    /// Problems with the policy, as `(field, message)` pairs; empty when it is valid.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if !(1..=MAX_ATTEMPTS).contains(&self.max_attempts()) {
            out.push(("max_attempts", format!("must be between 1 and {MAX_ATTEMPTS}")));
        }
        if let Self::Exponential { initial_delay_seconds, multiplier, max_delay_seconds, .. } = self {
            if !(1..=86_400).contains(initial_delay_seconds) {
                out.push(("initial_delay_seconds", "must be between 1 and 86400".into()));
            }
            if !(multiplier.is_finite() && (1.0..=10.0).contains(multiplier)) {
                out.push(("multiplier", "must be between 1 and 10".into()));
            }
            if !(1..=86_400).contains(max_delay_seconds) || max_delay_seconds < initial_delay_seconds {
                out.push(("max_delay_seconds", "must be between initial_delay_seconds and 86400".into()));
            }
        }
        out
    }

    /// The delay before the attempt that follows failed attempt `failed` of a cycle (1-based), without jitter;
    /// `None` when the policy allows no further attempt.
    pub fn base_delay(&self, failed: u32) -> Option<Duration> {
        if failed == 0 || failed >= self.max_attempts() {
            return None;
        }
        let seconds = match self {
            Self::Standard { .. } => STANDARD_DELAYS[(failed as usize - 1).min(STANDARD_DELAYS.len() - 1)],
            Self::Exponential { initial_delay_seconds, multiplier, max_delay_seconds, .. } => {
                let d = *initial_delay_seconds as f64 * multiplier.powi(failed as i32 - 1);
                (d.min(*max_delay_seconds as f64)) as u64
            }
        };
        Some(Duration::from_secs(seconds))
    }

    /// The delay with ±10% jitter, so that deliveries that failed together do not all come back at once.
    pub fn delay(&self, failed: u32) -> Option<Duration> {
        self.base_delay(failed).map(|d| jitter(d, &mut rand::rng()))
    }
}

fn jitter(d: Duration, rng: &mut impl Rng) -> Duration {
    d.mul_f64(rng.random_range(0.9..=1.1))
}

/// The wait a `Retry-After` header asks for (delta-seconds or an HTTP date), bounded by `MAX_RETRY_AFTER`.
pub fn retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let value = value.trim();
    let wait = if let Ok(seconds) = value.parse::<u64>() {
        Duration::from_secs(seconds)
    } else {
        let at = chrono::DateTime::parse_from_rfc2822(value).ok()?.with_timezone(&chrono::Utc);
        (at - now).to_std().unwrap_or(Duration::ZERO)
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_schedule_follows_the_recommendation() {
        let p = RetryPolicy::default();
        let delays: Vec<u64> = (1..=8).map(|n| p.base_delay(n).map_or(0, |d| d.as_secs())).collect();
        assert_eq!(delays, [5, 300, 1800, 7200, 18000, 36000, 36000, 0]);
        let p = RetryPolicy::Standard { max_attempts: 10 };
        assert_eq!(p.base_delay(9), Some(Duration::from_secs(36000)));
        assert_eq!(p.base_delay(10), None);
    }

    #[test]
    fn exponential_backoff_grows_and_is_capped() {
        let p = RetryPolicy::Exponential {
            max_attempts: 6,
            initial_delay_seconds: 2,
            multiplier: 3.0,
            max_delay_seconds: 60,
        };
        let delays: Vec<u64> = (1..=5).map(|n| p.base_delay(n).unwrap().as_secs()).collect();
        assert_eq!(delays, [2, 6, 18, 54, 60]);
        assert!(p.problems().is_empty());
    }

    #[test]
    fn jitter_stays_within_ten_percent() {
        let mut rng = rand::rng();
        for _ in 0..1000 {
            let d = jitter(Duration::from_secs(100), &mut rng).as_secs_f64();
            assert!((90.0..=110.0).contains(&d), "{d}");
        }
    }

    #[test]
    fn invalid_policies_are_explained() {
        let p: RetryPolicy = serde_json::from_value(serde_json::json!({
            "strategy": "exponential", "max_attempts": 11, "initial_delay_seconds": 0, "multiplier": 0.5
        }))
        .unwrap();
        let fields: Vec<&str> = p.problems().into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["max_attempts", "initial_delay_seconds", "multiplier"]);
        assert!(serde_json::from_value::<RetryPolicy>(serde_json::json!({"strategy": "linear"})).is_err());
    }

    #[test]
    fn retry_after_accepts_seconds_and_dates_and_is_bounded() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().to_utc();
        assert_eq!(retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(retry_after("Thu, 01 Jan 2026 00:00:30 GMT", now), Some(Duration::from_secs(30)));
        assert_eq!(retry_after("999999", now), Some(MAX_RETRY_AFTER));
        assert_eq!(retry_after("soon", now), None);
    }
}
