//! The resource manifest (`resources.json`): names and shapes of every table, queue, key, schedule and function.
//!
//! CDK reads the same file, and a test on each side fails when what is deployed or bootstrapped diverges from it.

mod config;
pub use config::{Config, ConfigError, DEFAULT_MAX_BODY_BYTES, Limits};

use std::collections::BTreeMap;

use serde::Deserialize;

/// The manifest as committed, parsed once.
pub fn manifest() -> &'static Manifest {
    static MANIFEST: std::sync::OnceLock<Manifest> = std::sync::OnceLock::new();
    MANIFEST.get_or_init(|| {
        serde_json::from_str(include_str!("../resources.json")).expect("resources.json is valid (checked by tests)")
    })
}

#[derive(Debug, Clone, Deserialize)]
pub struct Manifest {
    pub tables: BTreeMap<String, Table>,
    pub event_bus: EventBus,
    pub websocket_api: WebsocketApi,
    pub kms_keys: BTreeMap<String, KmsKey>,
    pub buckets: BTreeMap<String, Bucket>,
    pub queues: BTreeMap<String, Queue>,
    pub schedules: BTreeMap<String, Schedule>,
    pub rules: BTreeMap<String, Rule>,
    pub functions: BTreeMap<String, Function>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Table {
    pub env: String,
    pub name: String,
    pub description: String,
    pub partition_key: Key,
    pub sort_key: Option<Key>,
    pub ttl_attribute: Option<String>,
    pub global_secondary_indexes: Vec<Index>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Key {
    pub name: String,
    /// `S`, `N` or `B`, as DynamoDB spells attribute types.
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Index {
    pub name: String,
    pub partition_key: Key,
    pub sort_key: Option<Key>,
    /// `ALL` or `KEYS_ONLY`.
    pub projection: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EventBus {
    pub env: String,
    pub name: String,
    /// The `source` of every event the platform publishes.
    pub source: String,
}

/// The API Gateway WebSocket API of GraphQL subscriptions. Functions whose trigger is `websocket` take its routes;
/// functions with `websocket_callback` post to its connections through the API Gateway Management API at the
/// stage's callback URL (`https://{api id}.execute-api.{region}.amazonaws.com/{stage}`), carried by `env`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebsocketApi {
    pub env: String,
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct KmsKey {
    pub env: String,
    pub alias: String,
    pub description: String,
}

/// An S3 bucket. Locally its name is `<prefix>-<name>`; in AWS CloudFormation generates it (bucket names are global),
/// and the variable `env` carries it either way.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bucket {
    pub env: String,
    pub name: String,
    pub description: String,
    /// Objects under each prefix are deleted this many days after they were written.
    #[serde(default)]
    pub expiration: Vec<Expiration>,
    /// Multipart uploads never completed are aborted (and their parts deleted) after this many days.
    pub abort_incomplete_multipart_days: u32,
    /// `s3:ObjectCreated:*` under `prefix` is sent to `target_queue`.
    #[serde(default)]
    pub notifications: Vec<Notification>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Expiration {
    pub prefix: String,
    pub days: u32,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Notification {
    pub prefix: String,
    pub target_queue: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Queue {
    pub env: String,
    pub name: String,
    pub description: String,
    pub visibility_timeout_seconds: u32,
    pub max_receive_count: u32,
    pub dlq_retention_seconds: u32,
    /// The variable carrying the dead-letter queue's URL, for queues whose consumers dead-letter on purpose.
    #[serde(default)]
    pub dlq_env: Option<String>,
    /// The variable carrying the queue's ARN, for queues that are the target of schedules functions manage
    /// (EventBridge Scheduler targets name a queue by ARN, not by URL). Set on the functions whose
    /// `scheduler_targets` list the queue.
    #[serde(default)]
    pub arn_env: Option<String>,
    /// The alarm on the dead-letter queue; absent: any visible message (see [`Queue::effective_dlq_alarm`]).
    #[serde(default)]
    pub dlq_alarm: Option<DlqAlarm>,
}

impl Queue {
    /// The alarm deployed on the dead-letter queue: `dlq_alarm`, else "not empty" (visible ≥ 1 over 5 minutes).
    pub fn effective_dlq_alarm(&self) -> DlqAlarm {
        self.dlq_alarm.clone().unwrap_or(DlqAlarm {
            metric: DlqAlarmMetric::Visible,
            threshold: 1,
            period_seconds: DEFAULT_DLQ_ALARM_PERIOD_SECONDS,
            description: None,
        })
    }
}

/// Period of a dead-letter queue alarm when `period_seconds` is absent.
pub const DEFAULT_DLQ_ALARM_PERIOD_SECONDS: u32 = 300;

/// The CloudWatch alarm on a queue's dead-letter queue (deployed by CDK; the local bootstrap has no alarms).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DlqAlarm {
    pub metric: DlqAlarmMetric,
    /// Fires when the metric is at least this (≥ 1).
    pub threshold: u32,
    /// 60 to 86400, a multiple of 60.
    #[serde(default = "default_dlq_alarm_period")]
    pub period_seconds: u32,
    /// The alarm description; absent: a generic one.
    #[serde(default)]
    pub description: Option<String>,
}

fn default_dlq_alarm_period() -> u32 {
    DEFAULT_DLQ_ALARM_PERIOD_SECONDS
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum DlqAlarmMetric {
    /// `ApproximateNumberOfMessagesVisible` (Maximum): letters waiting.
    Visible,
    /// `NumberOfMessagesSent` (Sum over the period): letters arriving, for dead-letter queues that fill on purpose.
    Sent,
}

impl DlqAlarm {
    /// The rules serde cannot express: threshold ≥ 1, period in [60, 86400] and a multiple of 60, description
    /// non-empty and at most 1024 characters (CloudWatch's limit).
    pub fn check(&self) -> Result<(), String> {
        if self.threshold < 1 {
            return Err(format!("threshold must be at least 1, got {}", self.threshold));
        }
        if !(60..=86_400).contains(&self.period_seconds) || !self.period_seconds.is_multiple_of(60) {
            return Err(format!("period_seconds must be a multiple of 60 in [60, 86400], got {}", self.period_seconds));
        }
        if let Some(d) = &self.description
            && (d.is_empty() || d.chars().count() > 1024)
        {
            return Err("description must be 1 to 1024 characters".to_owned());
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Schedule {
    pub description: String,
    /// `rate(...)` or `cron(...)` in EventBridge Scheduler syntax.
    pub expression: String,
    pub target_queue: String,
    pub input: serde_json::Value,
}

/// An EventBridge rule on the bus that sends matching events to a queue.
#[derive(Debug, Clone, Deserialize)]
pub struct Rule {
    pub description: String,
    /// An EventBridge event pattern.
    pub pattern: serde_json::Value,
    pub target_queue: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Function {
    pub description: String,
    pub memory_mb: u32,
    pub timeout_seconds: u32,
    pub tables: Vec<String>,
    pub event_bus: bool,
    pub kms_keys: Vec<String>,
    /// Queues the function sends to.
    pub queues: Vec<String>,
    /// Queues whose dead-letter queue the function sends to (each must declare `dlq_env`).
    #[serde(default)]
    pub dead_letter_queues: Vec<String>,
    /// Buckets the function reads and writes.
    #[serde(default)]
    pub buckets: Vec<String>,
    /// Queues this function sends to through EventBridge Scheduler schedules that it creates, updates and deletes
    /// at run time (the `api` creates one per scheduled export template, named
    /// `{HUBBLE_RESOURCE_PREFIX}-export-{template id}`, in the account's `default` schedule group). For each
    /// function that lists any, a deployment must provide:
    /// - one IAM role that EventBridge Scheduler assumes (trust `scheduler.amazonaws.com`, with `aws:SourceAccount`
    ///   the deployment's account) and that may `sqs:SendMessage` to each listed queue (and `kms:GenerateDataKey` /
    ///   `kms:Decrypt` on the queue's key if it is encrypted with a customer managed key); its ARN in
    ///   `HUBBLE_SCHEDULER_ROLE_ARN`;
    /// - each listed queue's ARN in the variable its `arn_env` names (every listed queue must declare one), besides
    ///   its URL in `env` (the function also lists the queue under `queues`);
    /// - `HUBBLE_RESOURCE_PREFIX` (every function gets it already);
    /// - permission for the function to `scheduler:CreateSchedule`, `scheduler:UpdateSchedule` and
    ///   `scheduler:DeleteSchedule` on `arn:aws:scheduler:{region}:{account}:schedule/default/{prefix}-export-*`,
    ///   and `iam:PassRole` on the role above (condition `iam:PassedToService` = `scheduler.amazonaws.com`).
    ///
    /// Schedules are runtime data, not stack resources: CDK must not create or delete them (deleting the stack
    /// leaves them; they fail harmlessly once the queue is gone).
    #[serde(default)]
    pub scheduler_targets: Vec<String>,
    /// Posts to WebSocket connections (API Gateway Management API: `execute-api:ManageConnections`).
    #[serde(default)]
    pub websocket_callback: bool,
    pub trigger: Trigger,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Trigger {
    Http {
        routes: Vec<String>,
    },
    Sqs {
        queue: String,
        batch_size: u32,
        report_batch_item_failures: bool,
    },
    /// Routes of the WebSocket API (`$connect`, `$disconnect`, `$default`, or custom route keys).
    Websocket {
        routes: Vec<String>,
    },
}

impl Manifest {
    /// Physical name of a resource under a deployment prefix (`hubble-control`).
    pub fn physical(prefix: &str, name: &str) -> String {
        format!("{prefix}-{name}")
    }

    /// Name of the dead-letter queue that backs `queue`.
    pub fn dlq_name(prefix: &str, queue: &Queue) -> String {
        format!("{prefix}-{}-dlq", queue.name)
    }

    pub fn kms_alias(prefix: &str, key: &KmsKey) -> String {
        format!("alias/{prefix}-{}", key.alias)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_parses_and_is_consistent() {
        let m = manifest();
        assert!(m.tables.contains_key("control") && m.tables.contains_key("data"));
        for (name, f) in &m.functions {
            for t in &f.tables {
                assert!(m.tables.contains_key(t), "function {name} uses unknown table {t}");
            }
            for k in &f.kms_keys {
                assert!(m.kms_keys.contains_key(k), "function {name} uses unknown key {k}");
            }
            for q in &f.queues {
                assert!(m.queues.contains_key(q), "function {name} uses unknown queue {q}");
            }
            for q in &f.dead_letter_queues {
                assert!(
                    m.queues.get(q).is_some_and(|q| q.dlq_env.is_some()),
                    "function {name} dead-letters to {q}, which has no dlq_env"
                );
            }
            for b in &f.buckets {
                assert!(m.buckets.contains_key(b), "function {name} uses unknown bucket {b}");
            }
            for q in &f.scheduler_targets {
                assert!(
                    m.queues.get(q).is_some_and(|q| q.arn_env.is_some()),
                    "function {name} schedules messages to {q}, which has no arn_env"
                );
                assert!(
                    f.queues.contains(q),
                    "function {name} schedules messages to {q} but does not list it in queues"
                );
            }
            if let Trigger::Sqs { queue, .. } = &f.trigger {
                assert!(m.queues.contains_key(queue), "function {name} is triggered by unknown queue {queue}");
            }
        }
        for (name, s) in &m.schedules {
            assert!(m.queues.contains_key(&s.target_queue), "schedule {name} targets unknown queue");
        }
        for (name, q) in &m.queues {
            if let Some(a) = &q.dlq_alarm {
                a.check().unwrap_or_else(|e| panic!("queue {name}: dlq_alarm: {e}"));
            }
        }
        for (name, b) in &m.buckets {
            for n in &b.notifications {
                assert!(m.queues.contains_key(&n.target_queue), "bucket {name} notifies unknown queue");
            }
            assert!(b.expiration.iter().all(|e| e.days >= 1), "bucket {name}: expiration days must be at least 1");
        }
        for (name, r) in &m.rules {
            assert!(m.queues.contains_key(&r.target_queue), "rule {name} targets unknown queue");
            assert!(r.pattern.is_object(), "rule {name} has no event pattern");
        }
        let envs: Vec<&str> = m
            .tables
            .values()
            .map(|t| t.env.as_str())
            .chain(m.queues.values().map(|q| q.env.as_str()))
            .chain(m.queues.values().filter_map(|q| q.dlq_env.as_deref()))
            .chain(m.queues.values().filter_map(|q| q.arn_env.as_deref()))
            .chain(m.kms_keys.values().map(|k| k.env.as_str()))
            .chain(m.buckets.values().map(|b| b.env.as_str()))
            .chain([m.event_bus.env.as_str(), m.websocket_api.env.as_str()])
            .collect();
        let mut unique = envs.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), envs.len(), "environment variable names must be distinct");
    }

    fn alarm(json: &str) -> Result<DlqAlarm, String> {
        let a: DlqAlarm = serde_json::from_str(json).map_err(|e| e.to_string())?;
        a.check().map(|()| a)
    }

    #[test]
    fn dlq_alarm_defaults_and_rules() {
        let a = alarm(r#"{"metric": "sent", "threshold": 50}"#).unwrap();
        assert_eq!((a.metric, a.threshold, a.period_seconds, a.description), (DlqAlarmMetric::Sent, 50, 300, None));
        let a = alarm(r#"{"metric": "visible", "threshold": 1, "period_seconds": 86400, "description": "x"}"#).unwrap();
        assert_eq!((a.metric, a.period_seconds, a.description.as_deref()), (DlqAlarmMetric::Visible, 86400, Some("x")));

        for bad in [
            r#"{"metric": "sent", "threshold": 0}"#,
            r#"{"metric": "sent", "threshold": 1, "period_seconds": 30}"#,
            r#"{"metric": "sent", "threshold": 1, "period_seconds": 90}"#,
            r#"{"metric": "sent", "threshold": 1, "period_seconds": 86460}"#,
            r#"{"metric": "sent", "threshold": 1, "description": ""}"#,
            r#"{"metric": "sent", "threshold": -1}"#,
            r#"{"metric": "received", "threshold": 1}"#,
            r#"{"metric": "sent"}"#,
            r#"{"metric": "sent", "threshold": 1, "statistic": "Sum"}"#,
        ] {
            assert!(alarm(bad).is_err(), "accepted {bad}");
        }
    }

    #[test]
    fn dlq_alarm_of_the_manifest() {
        let m = manifest();
        let plain = m.queues.values().find(|q| q.dlq_alarm.is_none()).expect("a queue with the default alarm");
        let default = plain.effective_dlq_alarm();
        assert_eq!((default.metric, default.threshold, default.period_seconds), (DlqAlarmMetric::Visible, 1, 300));
        // the webhook DLQ also receives exhausted deliveries on purpose: its alarm is on the rate of letters
        let webhooks = m.queues["webhook-deliveries"].effective_dlq_alarm();
        assert_eq!(webhooks.metric, DlqAlarmMetric::Sent);
        assert!(webhooks.threshold > 1 && webhooks.description.is_some());
    }

    #[test]
    fn every_function_has_a_crate() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../functions");
        for name in manifest().functions.keys() {
            let path = std::path::Path::new(root).join(name).join("Cargo.toml");
            assert!(path.exists(), "function {name} is declared but {path:?} is missing");
        }
    }
}
