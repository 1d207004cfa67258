//! Export jobs and templates as they are stored and shown.

use serde::{Deserialize, Serialize};

use crate::spec::ExportSpec;

/// Where an export is in its life. `queued → running → completed | failed`; a run whose worker crashed is
/// `running` with an expired lease until another delivery of its message claims it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportStatus {
    Queued,
    Running,
    Completed,
    Failed,
}

impl ExportStatus {
    pub const ALL: [ExportStatus; 4] = [Self::Queued, Self::Running, Self::Completed, Self::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn is_finished(self) -> bool {
        matches!(self, Self::Completed | Self::Failed)
    }
}

/// One export: what was asked, by whom, and how its run went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportJob {
    /// `exp_<ULID>`: sorts by creation time, which is what history pages rely on.
    pub id: String,
    pub tenant: String,
    pub spec: ExportSpec,
    pub status: ExportStatus,
    /// Records written into the file.
    #[serde(default)]
    pub rows: u64,
    /// Size of the file.
    #[serde(default)]
    pub bytes: u64,
    /// The object in the files bucket (`exports/{tenant}/{id}/{file_name}`), once uploaded.
    #[serde(default)]
    pub file_key: Option<String>,
    /// The name a browser saves the download under.
    #[serde(default)]
    pub file_name: Option<String>,
    /// Why the export failed.
    #[serde(default)]
    pub error: Option<String>,
    /// The principal (actor) that asked for it; for scheduled runs, the one that last saved the template.
    pub requested_by: String,
    /// The template it was made from (run by hand or by its schedule).
    #[serde(default)]
    pub template_id: Option<String>,
    pub created_at: String,
    #[serde(default)]
    pub started_at: Option<String>,
    #[serde(default)]
    pub finished_at: Option<String>,
    /// Runs started (a run cut short by a crash or a transient error is started again).
    #[serde(default)]
    pub attempts: u32,
    /// Whether `export.completed` / `export.failed` was published; a run that finished but could not publish
    /// leaves it false, and the next delivery of its message publishes.
    #[serde(default)]
    pub notified: bool,
    /// While running: until when the run that claimed it owns it (epoch milliseconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_until_ms: Option<i64>,
    /// While running: the claim's token; only its holder may finish the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_token: Option<String>,
}

impl ExportJob {
    /// A new queued job.
    pub fn queued(id: String, tenant: &str, spec: ExportSpec, requested_by: &str, now: &str) -> Self {
        Self {
            id,
            tenant: tenant.to_owned(),
            spec,
            status: ExportStatus::Queued,
            rows: 0,
            bytes: 0,
            file_key: None,
            file_name: None,
            error: None,
            requested_by: requested_by.to_owned(),
            template_id: None,
            created_at: now.to_owned(),
            started_at: None,
            finished_at: None,
            attempts: 0,
            notified: false,
            lease_until_ms: None,
            claim_token: None,
        }
    }

    /// The ULID part of the id (after `exp_`).
    pub fn ulid(&self) -> &str {
        self.id.split_once('_').map_or(self.id.as_str(), |(_, u)| u)
    }

    /// The id of this job's `export.completed` / `export.failed` event: derived from the job, so a republished
    /// event keeps its id and consumers deduplicate it.
    pub fn event_id(&self) -> String {
        format!("evt_{}", self.ulid())
    }
}

/// A saved export definition, run by hand (`POST /v1/export-templates/{id}/run`) or by its schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportTemplate {
    /// `tpl_<ULID>`.
    pub id: String,
    pub tenant: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub spec: ExportSpec,
    /// EventBridge Scheduler expression: `cron(...)` (six fields) or `rate(...)`.
    #[serde(default)]
    pub schedule: Option<String>,
    /// IANA time zone the cron expression is read in; UTC when absent.
    #[serde(default)]
    pub timezone: Option<String>,
    /// A disabled template keeps its definition but has no schedule and cannot be run.
    pub enabled: bool,
    pub version: u64,
    /// Who last saved it: scheduled runs are requested in its name.
    pub updated_by: String,
    pub created_at: String,
    pub updated_at: String,
}

impl ExportTemplate {
    /// Whether a schedule should exist for it.
    pub fn is_scheduled(&self) -> bool {
        self.enabled && self.schedule.is_some()
    }
}

/// A ULID greater than every one this process made before, even within one millisecond, so that the history
/// of exports requested through one instance keeps their order.
fn monotonic_ulid() -> ulid::Ulid {
    static GENERATOR: std::sync::Mutex<Option<ulid::Generator>> = std::sync::Mutex::new(None);
    let mut generator = GENERATOR.lock().expect("not poisoned");
    // Overflow needs 2^80 ids in one millisecond; a plain ULID would do then.
    generator.get_or_insert_with(ulid::Generator::new).generate().unwrap_or_else(|_| ulid::Ulid::new())
}

/// New ids: time-ordered, with a type prefix.
pub fn new_export_id() -> String {
    format!("exp_{}", monotonic_ulid())
}

pub fn new_template_id() -> String {
    format!("tpl_{}", monotonic_ulid())
}

/// Whether `id` could be an id with this prefix (`exp`, `tpl`): anything else is answered 404 without a read.
pub fn plausible_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix).and_then(|r| r.strip_prefix('_')).is_some_and(|u| {
        u.len() == 26 && ulid::Ulid::from_string(u).is_ok() && u.bytes().all(|b| !b.is_ascii_lowercase())
    })
}

/// The id of the export a schedule fires at `minute` (epoch milliseconds, truncated to the minute): derived from
/// the template and the minute, so a repeated delivery of one firing finds the job it already made instead of
/// making a second one. It is a ULID of that time, so history still sorts by time.
pub fn scheduled_export_id(template_id: &str, minute_ms: u64) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{template_id}@{minute_ms}").as_bytes());
    let mut random = [0u8; 16];
    random[6..].copy_from_slice(&digest[..10]);
    format!("exp_{}", ulid::Ulid::from_parts(minute_ms, u128::from_be_bytes(random)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_prefixed_ulids() {
        let id = new_export_id();
        assert!(plausible_id(&id, "exp"), "{id}");
        assert!(!plausible_id(&id, "tpl"));
        assert!(plausible_id(&new_template_id(), "tpl"));
        for bad in ["exp_", "exp_123", "exp_01jh3q0w9zk7m8t3v7x6b2n4pq", "x", "exp-01JH3Q0W9ZK7M8T3V7X6B2N4PQ"] {
            assert!(!plausible_id(bad, "exp"), "{bad}");
        }
    }

    #[test]
    fn scheduled_ids_are_stable_per_template_and_minute() {
        let minute = 1_767_261_600_000;
        let a = scheduled_export_id("tpl_01JH3Q0W9ZK7M8T3V7X6B2N4PQ", minute);
        assert_eq!(a, scheduled_export_id("tpl_01JH3Q0W9ZK7M8T3V7X6B2N4PQ", minute));
        assert_ne!(a, scheduled_export_id("tpl_01JH3Q0W9ZK7M8T3V7X6B2N4PR", minute));
        let next = scheduled_export_id("tpl_01JH3Q0W9ZK7M8T3V7X6B2N4PQ", minute + 60_000);
        assert_ne!(a, next);
        assert!(next > a, "a later firing sorts later");
        assert!(plausible_id(&a, "exp"));
        let job = ExportJob::queued(a.clone(), "acme", ExportSpec::default(), "apikey:k", "now");
        assert_eq!(job.event_id(), format!("evt_{}", &a[4..]));
    }

    #[test]
    fn statuses_round_trip() {
        for s in ExportStatus::ALL {
            assert_eq!(ExportStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert!(ExportStatus::Failed.is_finished() && !ExportStatus::Running.is_finished());
        assert_eq!(ExportStatus::parse("done"), None);
    }
}
