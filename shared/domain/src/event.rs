//! The one event envelope every state change is published with: `{id, type, tenant, time, data}`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Envelope {
    /// `evt_<ulid>`: stable across retries, so consumers can deduplicate.
    pub id: String,
    /// Dotted type, e.g. `record.created`.
    #[serde(rename = "type")]
    pub event_type: String,
    pub tenant: String,
    /// RFC 3339, UTC.
    pub time: String,
    pub data: Value,
}

impl Envelope {
    pub fn new(event_type: &str, tenant: &str, data: Value) -> Self {
        Self {
            id: crate::ids::new_prefixed("evt"),
            event_type: event_type.to_owned(),
            tenant: tenant.to_owned(),
            time: now_rfc3339(),
            data,
        }
    }
}

/// Current time as RFC 3339 with millisecond precision and a `Z` suffix; such strings sort chronologically.
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
