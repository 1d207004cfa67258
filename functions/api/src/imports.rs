//! `/v1/imports`: upload a file (presigned, in one PUT or in parts), see what the planner found, start the import
//! with a mapping and rules (or a dry run), follow its progress, cancel it, retry failed chunks, download the
//! error report; and the import history. The pipeline itself lives in `hw-import-jobs` and its two functions.

use hw_domain::FieldError;
use hw_domain::principal::{Principal, scope};
use hw_files::{CompletedPart, PresignedRequest};
use hw_import_jobs::service::{Created, Invalid, NewImport, ServiceError, StartRequest};
use hw_import_jobs::{ImportJob, ImportStatus};
use serde_json::{Value, json};

use crate::auth::require;
use crate::error::ApiError;
use crate::http::{JSON, Request, Response};
use crate::{Deps, body, method_not_allowed};

const DEFAULT_PAGE: usize = 20;
const MAX_PAGE: usize = 100;

pub async fn route(deps: &Deps, req: &Request, p: &Principal, rest: &[&str]) -> Result<Response, ApiError> {
    use http::Method as M;
    match (rest, &req.method) {
        ([], &M::GET) => list(deps, req, p).await,
        ([], &M::POST) => create(deps, req, p).await,
        ([], _) => Err(method_not_allowed(req, "GET, POST")),
        ([id], &M::GET) => get(deps, req, p, id).await,
        ([_], _) => Err(method_not_allowed(req, "GET")),
        ([id, action @ ("start" | "cancel" | "retry" | "complete-upload")], &M::POST) => {
            act(deps, req, p, id, action).await
        }
        ([_, "start" | "cancel" | "retry" | "complete-upload"], _) => Err(method_not_allowed(req, "POST")),
        _ => Err(ApiError::not_found(format!("no route for {}", req.path))),
    }
}

fn write_scope(entity: &str) -> String {
    format!("{}:{entity}", scope::DATA_WRITE)
}

async fn job(deps: &Deps, p: &Principal, id: &str) -> Result<ImportJob, ApiError> {
    let job = deps.imports.get(&p.tenant, id).await.map_err(error)?;
    require(p, &format!("{}:{}", scope::DATA_READ, job.entity))?;
    Ok(job)
}

async fn list(deps: &Deps, req: &Request, p: &Principal) -> Result<Response, ApiError> {
    req.only_params(&|k| matches!(k, "page[size]" | "page[cursor]"))?;
    require(p, scope::DATA_READ)?;
    let size = req.page_size(DEFAULT_PAGE, MAX_PAGE)?;
    let cursor = req.query_param("page[cursor]");
    if let Some(c) = cursor
        && (c.is_empty() || c.len() > 64 || !c.chars().all(|ch| ch.is_ascii_alphanumeric()))
    {
        return Err(ApiError::invalid_parameter("page[cursor]", "not a cursor this API returned"));
    }
    let (jobs, next) = deps.imports.list(&p.tenant, size, cursor).await.map_err(error)?;
    let data: Vec<Value> = jobs.iter().map(|j| summary(req, j)).collect();
    let mut links = json!({"self": format!("{}/v1/imports", req.base_url)});
    if let Some(n) = next {
        // brackets percent-encoded, so the link is a valid URI (as the audit trail's)
        links["next"] = json!(format!("{}/v1/imports?page%5Bsize%5D={size}&page%5Bcursor%5D={n}", req.base_url));
    }
    Ok(Response::json(200, JSON, &json!({"data": data, "links": links})))
}

async fn create(deps: &Deps, req: &Request, p: &Principal) -> Result<Response, ApiError> {
    let body = body::json(deps, req, &[JSON])?;
    let new: NewImport = serde_json::from_value(body).map_err(|e| invalid_body(&e))?;
    require(p, &write_scope(&new.entity))?;
    let model = deps.records.model(&p.tenant, &new.entity).await.map_err(|_| {
        ApiError::invalid(vec![FieldError::new(
            "/entity",
            "unknown-entity",
            format!("there is no model named `{}`", new.entity),
        )])
    })?;
    let created = deps.imports.create(p, &model, new).await.map_err(error)?;
    let mut view = render(req, &created.job, None);
    add_upload(req, &mut view, &created);
    Ok(Response::json(201, JSON, &view)
        .header("location", format!("{}/v1/imports/{}", req.base_url, created.job.id))
        .header("cache-control", "no-store"))
}

async fn get(deps: &Deps, req: &Request, p: &Principal, id: &str) -> Result<Response, ApiError> {
    let mut job = job(deps, p, id).await?;
    job.counts = deps.imports.live_counts(&job).await.map_err(error)?;
    let report = deps.imports.error_report(&job).await.map_err(error)?;
    Ok(Response::json(200, JSON, &render(req, &job, report.as_ref())).header("cache-control", "no-store"))
}

async fn act(deps: &Deps, req: &Request, p: &Principal, id: &str, action: &str) -> Result<Response, ApiError> {
    let current = job(deps, p, id).await?;
    require(p, &write_scope(&current.entity))?;
    let job = match action {
        "start" => {
            let body = body::json(deps, req, &[JSON])?;
            let start: StartRequest = serde_json::from_value(body.clone()).map_err(|e| invalid_body(&e))?;
            let spec =
                json!({"mapping": body.get("mapping"), "rules": body.get("rules").cloned().unwrap_or(json!({}))});
            let models = deps.control.list_models(&p.tenant).await?;
            let model = models.iter().find(|m| m.name == current.entity).cloned().ok_or_else(|| {
                ApiError::new(
                    409,
                    "import-state",
                    "Import state conflict",
                    format!("the model `{}` no longer exists", current.entity),
                )
            })?;
            deps.imports.start(p, &model, id, start, spec, &models).await.map_err(error)?
        }
        "cancel" => deps.imports.cancel(p, id).await.map_err(error)?,
        "retry" => deps.imports.retry(p, id).await.map_err(error)?,
        _ => {
            let body = body::json(deps, req, &[JSON])?;
            let parts = completed_parts(&body)?;
            deps.imports.complete_upload(&p.tenant, id, &parts).await.map_err(error)?
        }
    };
    let status = if action == "start" || action == "retry" { 202 } else { 200 };
    Ok(Response::json(status, JSON, &render(req, &job, None)).header("cache-control", "no-store"))
}

/// `{"parts": [{"part_number", "etag"}]}`. Read by hand: JSON has one number type, so `3.0` is the integer 3 (as
/// JSON Schema says), which serde's integer parsing would refuse.
fn completed_parts(body: &Value) -> Result<Vec<CompletedPart>, ApiError> {
    let bad =
        |pointer: String, detail: &str| ApiError::invalid(vec![FieldError::new(pointer, "invalid-parts", detail)]);
    let Some(obj) = body.as_object() else { return Err(bad(String::new(), "the body is an object with `parts`")) };
    if let Some(k) = obj.keys().find(|k| *k != "parts") {
        return Err(bad(format!("/{k}"), "unknown member"));
    }
    let Some(items) = obj.get("parts").and_then(Value::as_array) else {
        return Err(bad("/parts".into(), "`parts` is an array of {part_number, etag}"));
    };
    let mut parts = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = format!("/parts/{i}");
        let Some(o) = item.as_object() else { return Err(bad(at, "each part is an object {part_number, etag}")) };
        if let Some(k) = o.keys().find(|k| !matches!(k.as_str(), "part_number" | "etag")) {
            return Err(bad(format!("{at}/{k}"), "unknown member"));
        }
        let number = o
            .get("part_number")
            .and_then(Value::as_f64)
            .filter(|n| n.fract() == 0.0 && (1.0..=10_000.0).contains(n))
            .ok_or_else(|| bad(format!("{at}/part_number"), "a whole number from 1 to 10000"))?;
        let etag = o.get("etag").and_then(Value::as_str).ok_or_else(|| bad(format!("{at}/etag"), "the part's ETag"))?;
        parts.push(CompletedPart { part_number: number as i32, etag: etag.to_owned() });
    }
    Ok(parts)
}

fn invalid_body(e: &serde_json::Error) -> ApiError {
    ApiError::invalid(vec![FieldError::new("", "invalid-body", e.to_string())])
}

fn error(e: ServiceError) -> ApiError {
    match e {
        ServiceError::NotFound(id) => ApiError::not_found(format!("no import with id `{id}`")),
        ServiceError::Invalid(problems) => ApiError::invalid(problems.into_iter().map(field_error).collect()),
        ServiceError::Conflict(detail) => ApiError::new(409, "import-state", "Import state conflict", detail),
        ServiceError::TooLarge { limit } => ApiError::new(
            413,
            "file-too-large",
            "File too large",
            format!("imports take files of at most {limit} bytes ({} MiB)", limit / (1024 * 1024)),
        ),
        ServiceError::Storage(detail) => ApiError::unavailable(detail),
    }
}

fn field_error(i: Invalid) -> FieldError {
    FieldError::new(i.pointer, i.code, i.detail)
}

fn request_view(r: &PresignedRequest) -> Value {
    json!({"url": r.url, "method": r.method, "headers": r.headers})
}

fn add_upload(req: &Request, view: &mut Value, created: &Created) {
    view["upload"] = request_view(&created.upload);
    view["upload_expires_at"] = json!(created.expires_at);
    if let Some(m) = &created.multipart {
        let parts: Vec<Value> = m
            .parts
            .iter()
            .map(|(n, r)| json!({"part_number": n, "url": r.url, "method": r.method, "headers": r.headers}))
            .collect();
        view["multipart"] = json!({
            "upload_id": m.upload_id,
            "part_size": m.part_size,
            "parts": parts,
            "complete": {"url": format!("{}/v1/imports/{}/complete-upload", req.base_url, created.job.id), "method": "POST"},
        });
    }
}

/// The history's view: who, when, file, format, counts, duration. `format` is the same object as in the single
/// view (null until the file is planned), so a client reads one shape everywhere.
fn summary(req: &Request, j: &ImportJob) -> Value {
    json!({
        "id": j.id,
        "entity": j.entity,
        "status": j.status.as_str(),
        "file_name": j.file_name,
        "size": j.size,
        "format": j.plan.as_ref().map(|p| &p.format),
        "counts": counts(j),
        "dry_run": j.run.as_ref().map(|r| r.dry_run),
        "mapping": j.run.as_ref().and_then(|r| r.spec.get("mapping").cloned()),
        "created_by": j.created_by,
        "started_by": j.run.as_ref().map(|r| r.started_by.clone()),
        "created_at": j.created_at,
        "started_at": j.run.as_ref().map(|r| r.started_at.clone()),
        "finished_at": j.finished_at,
        "duration_ms": duration_ms(j),
        "links": {"self": format!("{}/v1/imports/{}", req.base_url, j.id)},
    })
}

fn counts(j: &ImportJob) -> Value {
    json!({"total": j.counts.total, "ok": j.counts.ok, "failed": j.counts.failed, "skipped": j.counts.skipped})
}

fn duration_ms(j: &ImportJob) -> Option<i64> {
    let start = chrono::DateTime::parse_from_rfc3339(&j.run.as_ref()?.started_at).ok()?;
    let end = chrono::DateTime::parse_from_rfc3339(j.finished_at.as_ref()?).ok()?;
    Some((end - start).num_milliseconds().max(0))
}

fn render(req: &Request, j: &ImportJob, report: Option<&PresignedRequest>) -> Value {
    let mut v = summary(req, j);
    if let Some(plan) = &j.plan {
        v["columns"] = json!(plan.columns);
        v["preview"] = json!(plan.preview);
        v["suggested_mapping"] = json!(plan.suggested_mapping);
        v["total_rows"] = json!(plan.total_rows);
    }
    if let Some(sheet) = &j.sheet {
        v["sheet"] = json!(sheet);
    }
    if let Some(run) = &j.run {
        v["run"] = json!({
            "number": run.number,
            "mode": run.mode,
            "key": run.key,
            "duplicates": run.duplicates,
            "dry_run": run.dry_run,
            "mapping": run.spec.get("mapping"),
            "rules": run.spec.get("rules"),
        });
        let rows_done = j.counts.total;
        let total = j.plan.as_ref().map_or(0, |p| p.total_rows);
        v["progress"] = json!({
            "chunks": j.chunk_count(),
            "chunks_done": j.counts.chunks_done,
            "chunks_failed": j.counts.chunks_failed,
            "rows_done": rows_done,
            "rows_total": total,
            "percent": if total == 0 { 100.0 } else { ((rows_done as f64 / total as f64) * 1000.0).round() / 10.0 },
        });
    }
    if let Some(e) = &j.error {
        v["error"] = json!(e);
    }
    if let Some(r) = report {
        v["error_report_url"] = json!(r.url);
    }
    if j.status == ImportStatus::AwaitingUpload && j.multipart_upload_id.is_some() {
        v["links"]["complete_upload"] = json!(format!("{}/v1/imports/{}/complete-upload", req.base_url, j.id));
    }
    v
}
