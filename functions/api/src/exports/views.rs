//! What the export routes answer: jobs and templates without their tenant and run bookkeeping (claims, leases),
//! the query in the JSON form requests use.

use std::time::Duration;

use chrono::{DateTime, Utc};
use hw_export_jobs::{ExportJob, ExportSpec, ExportStatus, ExportTemplate};
use hw_files::FileStore;
use serde_json::{Map, Value, json};

use crate::error::ApiError;

/// How long a download link works.
pub const DOWNLOAD_VALIDITY: Duration = Duration::from_secs(15 * 60);

/// The query members of a spec, as a request would write them (`filter` in its canonical object form).
fn spec_members(s: &ExportSpec, out: &mut Map<String, Value>) {
    let mut filter = Map::new();
    for t in &s.filter {
        let ops = filter.entry(t.field.clone()).or_insert_with(|| json!({}));
        ops[&t.op] = json!(t.value);
    }
    out.insert("entity".into(), json!(s.entity));
    out.insert("format".into(), json!(s.format));
    out.insert("filter".into(), Value::Object(filter));
    out.insert("sort".into(), json!(s.sort));
    out.insert("fields".into(), json!(s.fields));
    out.insert("include_sensitive".into(), json!(s.include_sensitive));
    out.insert("include_system".into(), json!(s.include_system));
}

/// Days after which the bucket's lifecycle deletes export files (the manifest's `exports/` rule).
pub fn retention_days() -> i64 {
    let files = &hw_resources::manifest().buckets["files"];
    files.expiration.iter().find(|e| e.prefix == "exports/").map_or(7, |e| i64::from(e.days))
}

/// When the job's file is deleted by the bucket's lifecycle.
fn file_expires_at(job: &ExportJob) -> Option<DateTime<Utc>> {
    let finished = DateTime::parse_from_rfc3339(job.finished_at.as_deref()?).ok()?.with_timezone(&Utc);
    Some(finished + chrono::Duration::days(retention_days()))
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The job as clients see it. A completed export whose file still exists carries a fresh download link.
pub async fn job(files: &dyn FileStore, base: &str, j: &ExportJob) -> Result<Value, ApiError> {
    let mut v = Map::new();
    v.insert("id".into(), json!(j.id));
    v.insert("status".into(), json!(j.status.as_str()));
    spec_members(&j.spec, &mut v);
    let expires = file_expires_at(j);
    let now = Utc::now();
    let (mut url, mut url_expires) = (Value::Null, Value::Null);
    if let (ExportStatus::Completed, Some(key), Some(exp)) = (j.status, &j.file_key, expires)
        && now < exp
    {
        let signed = files.presign_get(key, j.file_name.as_deref(), DOWNLOAD_VALIDITY).await?;
        url = json!(signed.url);
        url_expires = json!(stamp(now + chrono::Duration::from_std(DOWNLOAD_VALIDITY).expect("small")));
    }
    let more = json!({
        "rows": j.rows,
        "bytes": j.bytes,
        "file_name": j.file_name,
        "error": j.error,
        "template_id": j.template_id,
        "requested_by": j.requested_by,
        "created_at": j.created_at,
        "started_at": j.started_at,
        "finished_at": j.finished_at,
        "download_url": url,
        "download_expires_at": url_expires,
        "file_expires_at": if j.status == ExportStatus::Completed { json!(expires.map(stamp)) } else { Value::Null },
        "links": {"self": format!("{base}/v1/exports/{}", j.id)},
    });
    v.extend(more.as_object().expect("object").clone());
    Ok(Value::Object(v))
}

pub fn template(base: &str, t: &ExportTemplate) -> Value {
    let mut v = Map::new();
    v.insert("id".into(), json!(t.id));
    v.insert("name".into(), json!(t.name));
    v.insert("description".into(), json!(t.description));
    spec_members(&t.spec, &mut v);
    let more = json!({
        "schedule": t.schedule,
        "timezone": t.timezone,
        "enabled": t.enabled,
        "version": t.version,
        "updated_by": t.updated_by,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "links": {"self": format!("{base}/v1/export-templates/{}", t.id),
                  "run": format!("{base}/v1/export-templates/{}/run", t.id)},
    });
    v.extend(more.as_object().expect("object").clone());
    Value::Object(v)
}

pub fn etag(t: &ExportTemplate) -> String {
    format!("\"{}\"", t.version)
}
