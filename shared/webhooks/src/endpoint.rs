//! A webhook endpoint (a subscription): where to send, which events, how to shape and pace them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::policy::RetryPolicy;

/// Default time an endpoint may fail without a single success before it is disabled (Svix uses five days).
pub const DEFAULT_DISABLE_AFTER_SECONDS: u64 = 5 * 24 * 3600;
/// Default time one attempt may take, connection included.
pub const DEFAULT_TIMEOUT_SECONDS: u32 = 15;
pub const MAX_TIMEOUT_SECONDS: u32 = 30;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Endpoint {
    /// `ep_<ulid>`.
    pub id: String,
    pub tenant: String,
    pub url: String,
    #[serde(default)]
    pub description: String,
    /// Event type patterns: exact (`record.created`), a trailing wildcard (`record.*`) or `*`.
    pub event_types: Vec<String>,
    /// Entities whose record events are wanted; empty means all. Events that are not about records pass.
    #[serde(default)]
    pub entities: Vec<String>,
    /// Conditions on the event (see `matching::PayloadFilter`); `None` lets every event through.
    #[serde(default)]
    pub payload_filter: Option<Value>,
    /// Extra request headers; the system headers cannot be overridden.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// A JSON template that maps the event into the body the receiver wants (see `template`); `None` sends the
    /// event envelope itself.
    #[serde(default)]
    pub transform: Option<Value>,
    pub enabled: bool,
    /// Why the endpoint is disabled, when it is: `manual`, `gone` (the receiver answered 410) or `failing`.
    #[serde(default)]
    pub disabled_reason: Option<String>,
    #[serde(default)]
    pub disabled_at: Option<String>,
    /// Start of the current run of failed attempts without a success in between.
    #[serde(default)]
    pub failing_since: Option<String>,
    #[serde(default)]
    pub rate_limit_per_second: Option<u32>,
    #[serde(default)]
    pub max_concurrency: Option<u32>,
    pub timeout_seconds: u32,
    pub disable_after_seconds: u64,
    pub retry_policy: RetryPolicy,
    /// Signing secrets, newest first. More than one only during a rotation's grace period.
    pub secrets: Vec<SealedSecret>,
    pub version: u64,
    pub created_at: String,
    pub updated_at: String,
}

/// A signing secret as stored: sealed with the tenant's data key, bound to its endpoint.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SealedSecret {
    /// base64 of nonce || ciphertext.
    pub sealed: String,
    pub created_at: String,
    /// Set on the old secret when a rotation starts; the secret stops signing after this time.
    #[serde(default)]
    pub expires_at: Option<String>,
}

impl Endpoint {
    /// An enabled endpoint with every optional setting at its default and no secret yet.
    pub fn new(tenant: &str, id: &str, url: &str, event_types: Vec<String>, now: &str) -> Self {
        Self {
            id: id.to_owned(),
            tenant: tenant.to_owned(),
            url: url.to_owned(),
            description: String::new(),
            event_types,
            entities: vec![],
            payload_filter: None,
            headers: BTreeMap::new(),
            transform: None,
            enabled: true,
            disabled_reason: None,
            disabled_at: None,
            failing_since: None,
            rate_limit_per_second: None,
            max_concurrency: None,
            timeout_seconds: DEFAULT_TIMEOUT_SECONDS,
            disable_after_seconds: DEFAULT_DISABLE_AFTER_SECONDS,
            retry_policy: RetryPolicy::default(),
            secrets: vec![],
            version: 1,
            created_at: now.to_owned(),
            updated_at: now.to_owned(),
        }
    }

    /// Secrets that still sign at `now` (RFC 3339 strings compare chronologically).
    pub fn live_secrets(&self, now: &str) -> impl Iterator<Item = &SealedSecret> {
        self.secrets.iter().filter(move |s| s.expires_at.as_deref().is_none_or(|t| t > now))
    }
}
