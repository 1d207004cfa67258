//! Asking for an export, following it, the history, and deleting one.

use hw_domain::FieldError;
use hw_domain::principal::{Principal, scope};
use hw_export_jobs::input::{self, SpecInput};
use hw_export_jobs::job::{new_export_id, plausible_id};
use hw_export_jobs::{ExportJob, ExportMessage, ExportSpec, ExportStatus, JobQuery};
use serde_json::{Value, json};

use super::{ExportPorts, check_spec, now, read_scope, views};
use crate::auth::require;
use crate::error::ApiError;
use crate::http::{JSON, Request, Response};
use crate::{Deps, body};

pub const DEFAULT_PAGE: usize = 20;
pub const MAX_PAGE: usize = 100;

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("there is no export `{id}`"))
}

/// The tenant's export `id`, if the principal may see it: reading the entity's records, and `admin` for an
/// export with sensitive fields.
async fn job(ports: &ExportPorts, p: &Principal, id: &str) -> Result<ExportJob, ApiError> {
    if !plausible_id(id, "exp") {
        return Err(not_found(id));
    }
    let job = ports.store.get_job(&p.tenant, id).await?.ok_or_else(|| not_found(id))?;
    require(p, &read_scope(&job.spec.entity))?;
    if job.spec.include_sensitive {
        require(p, scope::ADMIN)?;
    }
    Ok(job)
}

/// `POST /v1/exports`: checks the definition, stores the job (`queued`) and sends it to the runner.
pub async fn create(deps: &Deps, ports: &ExportPorts, req: &Request, p: &Principal) -> Result<Response, ApiError> {
    let body = body::json(deps, req, &[JSON])?;
    let members = body.as_object().ok_or_else(|| {
        ApiError::invalid(vec![FieldError::new("", "invalid-type", "the body must be a JSON object")])
    })?;
    let mut errors = Vec::new();
    let (input, rest) = input::split(members, &mut errors);
    for (k, _) in rest {
        errors.push(FieldError::new(
            input::pointer(&[&k]),
            "unknown-member",
            format!("`{k}` is not a member of an export"),
        ));
    }
    let Some(spec) = input.create(&mut errors) else { return Err(ApiError::invalid(errors)) };
    let job = start(deps, ports, p, spec, &input, errors, None).await?;
    let view = views::job(ports.files.as_ref(), &req.base_url, &job).await?;
    Ok(Response::json(201, JSON, &view).header("location", format!("{}/v1/exports/{}", req.base_url, job.id)))
}

/// Checks `spec`, stores a queued job and enqueues it; shared by `POST /v1/exports` and a template's run.
pub(super) async fn start(
    deps: &Deps,
    ports: &ExportPorts,
    p: &Principal,
    spec: ExportSpec,
    input: &SpecInput,
    errors: Vec<FieldError>,
    template_id: Option<String>,
) -> Result<ExportJob, ApiError> {
    require(p, &read_scope(&spec.entity))?;
    check_spec(deps, p, &spec, input, errors).await?;
    let mut job = ExportJob::queued(new_export_id(), &p.tenant, spec, &p.actor, &now());
    job.template_id = template_id;
    ports.store.create_job(&job).await?;
    let message = ExportMessage::Run { tenant: p.tenant.clone(), export_id: job.id.clone() };
    if let Err(e) = ports.queue.enqueue(&message).await {
        // A job nobody will run must not linger as `queued`: take it back and let the client retry.
        if let Err(cleanup) = ports.store.delete_job(&p.tenant, &job.id).await {
            tracing::error!(export = %job.id, error = %cleanup, "could not remove an export that was never queued");
        }
        return Err(ApiError::unavailable(e));
    }
    Ok(job)
}

/// `GET /v1/exports`: the history, newest first, in cursor pages; `status` and `entity` narrow it.
pub async fn list(ports: &ExportPorts, req: &Request, p: &Principal) -> Result<Response, ApiError> {
    req.only_params(&|k| matches!(k, "status" | "entity" | "page[size]" | "page[cursor]"))?;
    let status = req
        .query_param("status")
        .map(|s| {
            ExportStatus::parse(s).ok_or_else(|| {
                ApiError::invalid_parameter("status", "`status` is one of queued, running, completed, failed")
            })
        })
        .transpose()?;
    let entity = req.query_param("entity").map(str::to_owned);
    if let Some(e) = &entity
        && !hw_domain::model::is_valid_name(e)
    {
        return Err(ApiError::invalid_parameter("entity", "`entity` is the name of a model"));
    }
    let size = req.page_size(DEFAULT_PAGE, MAX_PAGE)?;
    let before = match req.query_param("page[cursor]") {
        Some(c) if !plausible_id(c, "exp") => {
            return Err(ApiError::invalid_parameter("page[cursor]", "page[cursor] is not a cursor this API returned"));
        }
        c => c.map(str::to_owned),
    };
    let query = JobQuery { status, entity: entity.clone(), before, limit: size };
    let page = ports.store.list_jobs(&p.tenant, &query).await?;
    let next = page.next.map(|n| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        if let Some(s) = status {
            q.append_pair("status", s.as_str());
        }
        if let Some(e) = &entity {
            q.append_pair("entity", e);
        }
        q.append_pair("page[size]", &size.to_string()).append_pair("page[cursor]", &n);
        format!("{}/v1/exports?{}", req.base_url, q.finish())
    });
    // Exports of entities the key may not read are left out of its pages (the cursor still moves past them).
    let mut data = Vec::new();
    for j in page.items.iter().filter(|j| p.has_scope(&read_scope(&j.spec.entity))) {
        if j.spec.include_sensitive && !p.has_scope(scope::ADMIN) {
            continue;
        }
        data.push(views::job(ports.files.as_ref(), &req.base_url, j).await?);
    }
    Ok(Response::json(200, JSON, &json!({"data": data, "links": {"next": next}})))
}

/// `GET /v1/exports/{id}`: the export; while its file exists, a download link valid for 15 minutes.
pub async fn get(ports: &ExportPorts, req: &Request, p: &Principal, id: &str) -> Result<Response, ApiError> {
    req.only_params(&|_| false)?;
    let job = job(ports, p, id).await?;
    let view: Value = views::job(ports.files.as_ref(), &req.base_url, &job).await?;
    // The link inside is a credential for a while: caches must not keep it.
    Ok(Response::json(200, JSON, &view).header("cache-control", "no-store"))
}

/// `DELETE /v1/exports/{id}`: the file, then the job. A run still going notices and discards its file.
pub async fn delete(ports: &ExportPorts, p: &Principal, id: &str) -> Result<Response, ApiError> {
    let job = job(ports, p, id).await?;
    if let Some(key) = &job.file_key {
        ports.files.delete(key).await?;
    }
    ports.store.delete_job(&p.tenant, id).await?;
    Ok(Response::new(204))
}
