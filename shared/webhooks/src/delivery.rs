//! Deliveries (one event to one endpoint) and their attempts, and the jobs that carry them through SQS.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "delivered" => Some(Self::Delivered),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Delivery {
    /// `msg_<ulid>`: the `webhook-id` header, the same on every attempt. Derived from the event id, so one event
    /// gives one delivery per endpoint however often it is fanned out.
    pub id: String,
    pub tenant: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub event_type: String,
    /// The exact request body, fixed when the delivery is created (after transformation).
    pub payload: String,
    pub status: DeliveryStatus,
    /// Attempts made so far; while pending, attempt `attempts + 1` is the one due (`next_attempt`).
    pub attempts: u32,
    /// When the next attempt is due (RFC 3339), while pending.
    #[serde(default)]
    pub next_attempt_at: Option<String>,
    /// The attempt count when the current retry cycle began: a resend or replay starts a new cycle with the whole
    /// retry policy, and its attempts count from here.
    #[serde(default)]
    pub cycle_start: u32,
    /// Set while an attempt is being made; a second claim before it passes is refused.
    #[serde(default)]
    pub lease_until: Option<String>,
    /// Single-attempt deliveries (the test ping) do not retry.
    #[serde(default)]
    pub no_retry: bool,
    #[serde(default)]
    pub last_status_code: Option<u16>,
    #[serde(default)]
    pub last_error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl Delivery {
    /// The delivery id of an event at an endpoint: `evt_<ulid>` gives `msg_<ulid>`, which keeps the time order of
    /// events in the delivery log.
    pub fn id_for_event(event_id: &str) -> String {
        match event_id.strip_prefix("evt_") {
            Some(rest) if !rest.is_empty() => format!("msg_{rest}"),
            _ => format!("msg_{event_id}"),
        }
    }

    /// Makes a finished delivery pending again with a new retry cycle, its next attempt due now.
    pub fn reopen(&mut self, now: &str) {
        self.status = DeliveryStatus::Pending;
        self.cycle_start = self.attempts;
        self.next_attempt_at = Some(now.to_owned());
        self.lease_until = None;
        self.updated_at = now.to_owned();
    }

    /// The number of the attempt allowed to run next (while pending).
    pub fn next_attempt(&self) -> u32 {
        self.attempts + 1
    }

    /// Attempt number within the current cycle (1-based) of the next attempt.
    pub fn cycle_attempt(&self) -> u32 {
        self.next_attempt().saturating_sub(self.cycle_start)
    }
}

/// The smallest delivery id of an event at or after `since`: ids are `msg_<ulid>` and ULIDs begin with their
/// time, so a time bound is an id bound.
pub fn id_floor(since: chrono::DateTime<chrono::Utc>) -> String {
    format!("msg_{}", ulid::Ulid::from_parts(since.timestamp_millis().max(0) as u64, 0))
}

/// One HTTP request made for a delivery, as the delivery log shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Attempt {
    pub delivery_id: String,
    /// 1-based, across cycles.
    pub number: u32,
    pub started_at: String,
    pub duration_ms: u64,
    pub url: String,
    pub request_headers: BTreeMap<String, String>,
    #[serde(default)]
    pub response_status: Option<u16>,
    /// The first bytes of the response body (see `sender::MAX_RESPONSE_BODY_BYTES`).
    #[serde(default)]
    pub response_body: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    /// `delivered`, `retrying` or `failed`: what the attempt meant for its delivery.
    pub outcome: String,
    /// When the next attempt is due, if one was scheduled.
    #[serde(default)]
    pub next_attempt_at: Option<String>,
}

/// What travels on the deliveries queue: "make attempt `attempt` of this delivery, not before `not_before`".
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Job {
    pub tenant: String,
    pub endpoint_id: String,
    pub delivery_id: String,
    pub attempt: u32,
    /// RFC 3339. SQS delays at most 15 minutes; a job that arrives early is sent on again with the remaining delay.
    pub not_before: String,
}

/// A job that went to the dead-letter queue, with the reason.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DeadLetter {
    #[serde(flatten)]
    pub job: Job,
    pub reason: String,
    pub dead_lettered_at: String,
}
