//! Typed configuration from the environment. CDK sets these variables on every function; the local runner builds
//! the same struct from its prefix. Names of the variables come from `resources.json`.

use crate::{Manifest, manifest};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(String),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: String, reason: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub control_table: String,
    pub data_table: String,
    /// Rate-limit windows, request and audit logs, usage counters, idempotency records.
    pub ops_table: String,
    /// Webhook endpoints, deliveries and attempts.
    pub webhooks_table: String,
    /// Import and export jobs, import chunks, export templates.
    pub jobs_table: String,
    /// Users, OAuth clients, signing keys, codes, refresh tokens, consents, sessions.
    pub identity_table: String,
    /// WebSocket connections and GraphQL subscriptions.
    pub realtime_table: String,
    /// Where to post to WebSocket connections: the WebSocket API stage's callback URL (API Gateway Management API).
    pub websocket_callback_url: String,
    /// Uploads, error reports and export results.
    pub files_bucket: String,
    /// Where the chunks of a started import go.
    pub import_chunks_queue_url: String,
    /// Where export jobs go.
    pub exports_queue_url: String,
    /// The exports queue's ARN: the target of export templates' schedules (functions with `scheduler_targets`).
    pub exports_queue_arn: String,
    /// The role EventBridge Scheduler assumes to send to the schedules' target queues (`HUBBLE_SCHEDULER_ROLE_ARN`;
    /// functions with `scheduler_targets`).
    pub scheduler_role_arn: String,
    /// The deployment's prefix of physical names (`HUBBLE_RESOURCE_PREFIX`); names the schedules functions create.
    pub resource_prefix: String,
    /// Where delivery jobs go (functions that enqueue them).
    pub webhook_queue_url: String,
    /// The deliveries queue's dead-letter queue (functions that dead-letter deliveries).
    pub webhook_dead_letter_url: String,
    pub event_bus: String,
    pub event_source: String,
    /// KMS key that wraps per-tenant data keys; only functions that handle sensitive fields get it.
    pub data_key_id: Option<String>,
    /// The platform's public base URL (`HUBBLE_PUBLIC_BASE_URL`, e.g. `https://api.example.com`): OAuth issuers are
    /// `{base}/t/{tenant}`. Unset, it is taken from the request's host, which API Gateway fixes to the domain the
    /// request arrived on.
    pub public_base_url: Option<String>,
    /// Local mode relaxes rules that need real AWS (loopback webhook receivers and the like).
    pub local_mode: bool,
    /// Largest request body the HTTP functions accept.
    pub max_body_bytes: usize,
    pub limits: Limits,
}

pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// Request limits and log retention of the HTTP API. Every value has an environment variable; CDK sets none of them
/// unless the operator asks, so the defaults below are what a deployment gets.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Requests per minute one client (API key) may make unless its key says otherwise
    /// (`HUBBLE_RATE_LIMIT_CLIENT_PER_MINUTE`).
    pub client_per_minute: u32,
    /// Requests per minute all clients of one tenant may make together (`HUBBLE_RATE_LIMIT_TENANT_PER_MINUTE`).
    pub tenant_per_minute: u32,
    /// How long request-log entries and usage counters are kept (`HUBBLE_REQUEST_LOG_RETENTION_DAYS`).
    pub request_log_days: u32,
    /// How long audit entries are kept (`HUBBLE_AUDIT_RETENTION_DAYS`).
    pub audit_days: u32,
    /// How long webhook deliveries and their attempts are kept (`HUBBLE_WEBHOOK_LOG_RETENTION_DAYS`).
    pub webhook_log_days: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            client_per_minute: 6_000,
            tenant_per_minute: 30_000,
            request_log_days: 30,
            audit_days: 400,
            webhook_log_days: 30,
        }
    }
}

impl Limits {
    pub fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let d = Self::default();
        Ok(Self {
            client_per_minute: number(get, "HUBBLE_RATE_LIMIT_CLIENT_PER_MINUTE", d.client_per_minute)?,
            tenant_per_minute: number(get, "HUBBLE_RATE_LIMIT_TENANT_PER_MINUTE", d.tenant_per_minute)?,
            request_log_days: number(get, "HUBBLE_REQUEST_LOG_RETENTION_DAYS", d.request_log_days)?,
            audit_days: number(get, "HUBBLE_AUDIT_RETENTION_DAYS", d.audit_days)?,
            webhook_log_days: number(get, "HUBBLE_WEBHOOK_LOG_RETENTION_DAYS", d.webhook_log_days)?,
        })
    }
}

fn number<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: T,
) -> Result<T, ConfigError> {
    match get(name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| ConfigError::Invalid { name: name.into(), reason: format!("`{v}` is not a whole number") }),
    }
}

impl Config {
    /// The configuration of `function` (a key of `resources.json`): the variables of the resources it uses are
    /// required; those of resources it does not use stay empty.
    pub fn for_function(function: &str) -> Result<Self, ConfigError> {
        Self::from_lookup(function, |k| std::env::var(k).ok())
    }

    /// Reads through `get`, so tests need not touch the process environment.
    pub fn from_lookup(function: &str, get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let m = manifest();
        let f = m.functions.get(function).ok_or_else(|| ConfigError::Invalid {
            name: "function".into(),
            reason: format!("`{function}` is not a function of resources.json"),
        })?;
        let required =
            |name: &str| get(name).filter(|v| !v.is_empty()).ok_or_else(|| ConfigError::Missing(name.to_owned()));
        let table = |id: &str| {
            if f.tables.iter().any(|t| t == id) { required(&m.tables[id].env) } else { Ok(String::new()) }
        };
        let queue = |id: &str| {
            if f.queues.iter().any(|q| q == id) { required(&m.queues[id].env) } else { Ok(String::new()) }
        };
        let bucket = |id: &str| {
            if f.buckets.iter().any(|b| b == id) { required(&m.buckets[id].env) } else { Ok(String::new()) }
        };
        let dead_letters = |id: &str| match (&m.queues[id].dlq_env, f.dead_letter_queues.iter().any(|q| q == id)) {
            (Some(env), true) => required(env),
            _ => Ok(String::new()),
        };
        let schedules = !f.scheduler_targets.is_empty();
        let queue_arn = |id: &str| match (&m.queues[id].arn_env, f.scheduler_targets.iter().any(|q| q == id)) {
            (Some(env), true) => required(env),
            _ => Ok(String::new()),
        };
        let max_body_bytes = number(&get, "HUBBLE_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)?;
        let limits = Limits::from_lookup(&get)?;
        Ok(Self {
            control_table: table("control")?,
            data_table: table("data")?,
            ops_table: table("ops")?,
            webhooks_table: table("webhooks")?,
            jobs_table: table("jobs")?,
            identity_table: table("identity")?,
            realtime_table: table("realtime")?,
            websocket_callback_url: if f.websocket_callback { required(&m.websocket_api.env)? } else { String::new() },
            files_bucket: bucket("files")?,
            import_chunks_queue_url: queue("import-chunks")?,
            exports_queue_url: queue("exports")?,
            exports_queue_arn: queue_arn("exports")?,
            scheduler_role_arn: if schedules { required("HUBBLE_SCHEDULER_ROLE_ARN")? } else { String::new() },
            resource_prefix: if schedules {
                required("HUBBLE_RESOURCE_PREFIX")?
            } else {
                get("HUBBLE_RESOURCE_PREFIX").unwrap_or_default()
            },
            webhook_queue_url: queue("webhook-deliveries")?,
            webhook_dead_letter_url: dead_letters("webhook-deliveries")?,
            event_bus: if f.event_bus { required(&m.event_bus.env)? } else { String::new() },
            event_source: get("HUBBLE_EVENT_SOURCE").unwrap_or_else(|| m.event_bus.source.clone()),
            data_key_id: if f.kms_keys.iter().any(|k| k == "data") {
                Some(required(&m.kms_keys["data"].env)?)
            } else {
                None
            },
            public_base_url: get("HUBBLE_PUBLIC_BASE_URL")
                .map(|v| v.trim().trim_end_matches('/').to_owned())
                .filter(|v| !v.is_empty()),
            local_mode: get("HUBBLE_LOCAL_MODE").is_some_and(|v| v == "true" || v == "1"),
            max_body_bytes,
            limits,
        })
    }

    /// The configuration of a deployment whose physical names derive from `prefix` (the local stack). Limits come
    /// from the same environment variables as in AWS; an invalid one is reported by the caller's `Limits` check.
    pub fn for_prefix(prefix: &str) -> Self {
        let m = manifest();
        Self {
            control_table: Manifest::physical(prefix, &m.tables["control"].name),
            data_table: Manifest::physical(prefix, &m.tables["data"].name),
            ops_table: Manifest::physical(prefix, &m.tables["ops"].name),
            webhooks_table: Manifest::physical(prefix, &m.tables["webhooks"].name),
            jobs_table: Manifest::physical(prefix, &m.tables["jobs"].name),
            identity_table: Manifest::physical(prefix, &m.tables["identity"].name),
            realtime_table: Manifest::physical(prefix, &m.tables["realtime"].name),
            // The local runner serves the management API itself, once it knows its own address.
            websocket_callback_url: String::new(),
            files_bucket: Manifest::physical(prefix, &m.buckets["files"].name),
            // Queue URLs are only known once the queues exist: the local runner fills them in after bootstrapping.
            webhook_queue_url: String::new(),
            webhook_dead_letter_url: String::new(),
            import_chunks_queue_url: String::new(),
            exports_queue_url: String::new(),
            exports_queue_arn: String::new(),
            // The role the local bootstrap names its schedules' targets with (the emulator does not check it).
            scheduler_role_arn: format!("arn:aws:iam::000000000000:role/{prefix}-scheduler"),
            resource_prefix: prefix.to_owned(),
            event_bus: Manifest::physical(prefix, &m.event_bus.name),
            event_source: m.event_bus.source.clone(),
            data_key_id: Some(Manifest::kms_alias(prefix, &m.kms_keys["data"])),
            public_base_url: None,
            local_mode: true,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            limits: Limits::from_lookup(&|k: &str| std::env::var(k).ok()).unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_variables_named_by_the_manifest() {
        let env = |k: &str| match k {
            "HUBBLE_CONTROL_TABLE" => Some("p-control".to_owned()),
            "HUBBLE_DATA_TABLE" => Some("p-data".to_owned()),
            "HUBBLE_OPS_TABLE" => Some("p-ops".to_owned()),
            "HUBBLE_WEBHOOKS_TABLE" => Some("p-webhooks".to_owned()),
            "HUBBLE_WEBHOOK_QUEUE_URL" => Some("https://sqs/p-webhook-deliveries".to_owned()),
            "HUBBLE_WEBHOOK_DEAD_LETTER_QUEUE_URL" => Some("https://sqs/p-webhook-deliveries-dlq".to_owned()),
            "HUBBLE_RATE_LIMIT_CLIENT_PER_MINUTE" => Some("120".to_owned()),
            "HUBBLE_EVENT_BUS" => Some("p-events".to_owned()),
            "HUBBLE_DATA_KEY_ID" => Some("arn:aws:kms:eu-west-1:1:key/k".to_owned()),
            "HUBBLE_MAX_BODY_BYTES" => Some("2048".to_owned()),
            "HUBBLE_JOBS_TABLE" => Some("p-jobs".to_owned()),
            "HUBBLE_IDENTITY_TABLE" => Some("p-identity".to_owned()),
            "HUBBLE_FILES_BUCKET" => Some("p-files-1a2b".to_owned()),
            "HUBBLE_EXPORTS_QUEUE_URL" => Some("https://sqs/p-exports".to_owned()),
            "HUBBLE_IMPORT_CHUNKS_QUEUE_URL" => Some("https://sqs/p-import-chunks".to_owned()),
            "HUBBLE_EXPORTS_QUEUE_ARN" => Some("arn:aws:sqs:eu-west-1:1:p-exports".to_owned()),
            "HUBBLE_SCHEDULER_ROLE_ARN" => Some("arn:aws:iam::1:role/p-scheduler".to_owned()),
            "HUBBLE_RESOURCE_PREFIX" => Some("p".to_owned()),
            _ => None,
        };
        let c = Config::from_lookup("api", env).unwrap();
        assert_eq!(c.data_table, "p-data");
        assert_eq!(c.identity_table, "p-identity");
        assert_eq!(c.import_chunks_queue_url, "https://sqs/p-import-chunks");
        assert_eq!((c.jobs_table.as_str(), c.files_bucket.as_str()), ("p-jobs", "p-files-1a2b"));
        assert_eq!(c.event_source, "hubblewave");
        assert_eq!(c.max_body_bytes, 2048);
        assert_eq!(c.ops_table, "p-ops");
        assert_eq!(c.limits.client_per_minute, 120);
        assert_eq!(c.limits.tenant_per_minute, Limits::default().tenant_per_minute);
        assert!(!c.local_mode);
        assert_eq!(c.webhook_queue_url, "https://sqs/p-webhook-deliveries");
        assert_eq!(c.webhook_dead_letter_url, "", "the API does not dead-letter");
        assert_eq!(c.exports_queue_arn, "arn:aws:sqs:eu-west-1:1:p-exports");
        assert_eq!(
            (c.scheduler_role_arn.as_str(), c.resource_prefix.as_str()),
            ("arn:aws:iam::1:role/p-scheduler", "p")
        );
        // the API manages schedules: without the role it cannot name one, so it does not start
        let no_role = Config::from_lookup("api", |k| env(k).filter(|_| k != "HUBBLE_SCHEDULER_ROLE_ARN")).unwrap_err();
        assert_eq!(no_role.to_string(), "environment variable HUBBLE_SCHEDULER_ROLE_ARN is not set");
        let runner = Config::from_lookup("export-runner", env).unwrap();
        assert_eq!((runner.jobs_table.as_str(), runner.files_bucket.as_str()), ("p-jobs", "p-files-1a2b"));
        assert_eq!((runner.exports_queue_arn.as_str(), runner.scheduler_role_arn.as_str()), ("", ""));
        let dispatcher = Config::from_lookup("webhook-dispatcher", env).unwrap();
        assert_eq!(dispatcher.webhook_dead_letter_url, "https://sqs/p-webhook-deliveries-dlq");
        assert_eq!(dispatcher.data_table, "", "the dispatcher does not read records");
        assert_eq!(
            Config::from_lookup("api", |_| None).unwrap_err().to_string(),
            "environment variable HUBBLE_CONTROL_TABLE is not set"
        );
        // a function only needs what it uses
        let relay = Config::from_lookup("outbox-relay", |k| env(k).filter(|_| k != "HUBBLE_CONTROL_TABLE")).unwrap();
        assert_eq!((relay.data_table.as_str(), relay.control_table.as_str()), ("p-data", ""));
        assert!(Config::from_lookup("nope", env).is_err());
    }

    #[test]
    fn prefix_config_matches_physical_names() {
        let c = Config::for_prefix("t1");
        assert_eq!(c.control_table, "t1-control");
        assert_eq!(c.event_bus, "t1-events");
        assert_eq!(c.data_key_id.as_deref(), Some("alias/t1-data"));
        assert_eq!(c.scheduler_role_arn, "arn:aws:iam::000000000000:role/t1-scheduler");
        assert_eq!(c.resource_prefix, "t1");
    }
}
