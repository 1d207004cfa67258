//! `/v1/exports`: ask for an export of an entity's records (the data API's query, in one of five formats), follow
//! it, download its file through a short-lived presigned link, read the history, delete; `/v1/export-templates`:
//! saved exports, run by hand or on a schedule (one EventBridge Scheduler schedule per scheduled template).
//! The run itself happens in the `export-runner` function (`hw_export_jobs::runner`).
//!
//! Scopes: an export of entity `e` needs `data:read:e` (what reading its records needs); exporting sensitive
//! fields needs `admin` (the file leaves the platform's access checks: anyone holding the link can fetch it for 15
//! minutes); templates run unattended, like webhooks, and need `admin`.

mod jobs;
mod templates;
mod views;

use std::sync::Arc;

use hw_domain::FieldError;
use hw_domain::model::Model;
use hw_domain::principal::{Principal, scope};
use hw_export_jobs::input::SpecInput;
use hw_export_jobs::schedule::{ScheduleError, Schedules};
use hw_export_jobs::{ExportQueue, ExportSpec, ExportStore, ExportStoreError};
use hw_files::FileStore;

use crate::auth::require;
use crate::error::ApiError;
use crate::http::{Request, Response};
use crate::{Deps, method_not_allowed};

/// The adapters the export routes need: where jobs and templates are kept, the exports queue, the files bucket
/// (presigned downloads, deletion) and the templates' schedules.
pub struct ExportPorts {
    pub store: Arc<dyn ExportStore>,
    pub queue: Arc<dyn ExportQueue>,
    pub files: Arc<dyn FileStore>,
    pub schedules: Arc<dyn Schedules>,
}

pub async fn route(deps: &Deps, req: &Request, p: &Principal, rest: &[&str]) -> Result<Response, ApiError> {
    use http::Method as M;
    let ports = ports(deps)?;
    match (rest, &req.method) {
        ([], &M::GET) => jobs::list(ports, req, p).await,
        ([], &M::POST) => jobs::create(deps, ports, req, p).await,
        ([], _) => Err(method_not_allowed(req, "GET, POST")),
        ([id], &M::GET) => jobs::get(ports, req, p, id).await,
        ([id], &M::DELETE) => jobs::delete(ports, p, id).await,
        ([_], _) => Err(method_not_allowed(req, "GET, DELETE")),
        _ => Err(ApiError::not_found(format!("no route for {} {}", req.method, req.path))),
    }
}

pub async fn route_templates(deps: &Deps, req: &Request, p: &Principal, rest: &[&str]) -> Result<Response, ApiError> {
    use http::Method as M;
    require(p, scope::ADMIN)?;
    let ports = ports(deps)?;
    match (rest, &req.method) {
        ([], &M::GET) => templates::list(ports, req, p).await,
        ([], &M::POST) => templates::create(deps, ports, req, p).await,
        ([], _) => Err(method_not_allowed(req, "GET, POST")),
        ([id], &M::GET) => templates::get(ports, req, p, id).await,
        ([id], &M::PATCH) => templates::update(deps, ports, req, p, id).await,
        ([id], &M::DELETE) => templates::delete(ports, req, p, id).await,
        ([_], _) => Err(method_not_allowed(req, "GET, PATCH, DELETE")),
        ([id, "run"], &M::POST) => templates::run(deps, ports, req, p, id).await,
        ([_, "run"], _) => Err(method_not_allowed(req, "POST")),
        _ => Err(ApiError::not_found(format!("no route for {} {}", req.method, req.path))),
    }
}

fn ports(deps: &Deps) -> Result<&ExportPorts, ApiError> {
    deps.exports.as_ref().ok_or_else(|| {
        ApiError::new(503, "unavailable", "Service unavailable", "exports are not configured in this deployment")
    })
}

impl From<ExportStoreError> for ApiError {
    fn from(e: ExportStoreError) -> Self {
        match e {
            ExportStoreError::NotFound => ApiError::not_found("no such export or export template"),
            ExportStoreError::AlreadyExists => ApiError::new(409, "already-exists", "Already exists", e.to_string()),
            ExportStoreError::Conflict => ApiError::new(
                409,
                "concurrent-modification",
                "Concurrent modification",
                "the resource changed while this request was being served; retry",
            ),
            ExportStoreError::Backend(_) => ApiError::unavailable(e),
        }
    }
}

impl From<hw_files::FileError> for ApiError {
    fn from(e: hw_files::FileError) -> Self {
        ApiError::unavailable(e)
    }
}

impl From<ScheduleError> for ApiError {
    fn from(e: ScheduleError) -> Self {
        match e {
            ScheduleError::Invalid(reason) => ApiError::invalid(vec![FieldError::new(
                "/schedule",
                "invalid-schedule",
                format!("the scheduler refused the schedule: {reason}"),
            )]),
            ScheduleError::Unavailable(_) => ApiError::unavailable(e),
        }
    }
}

/// Checks a spec against its model: the entity must exist, and filters, sort and fields must fit it (the data
/// API's rules and messages, as 422 with the pointer where each was written). Exporting sensitive fields needs
/// `admin` (403).
async fn check_spec(
    deps: &Deps,
    p: &Principal,
    spec: &ExportSpec,
    input: &SpecInput,
    mut errors: Vec<FieldError>,
) -> Result<Model, ApiError> {
    if spec.include_sensitive {
        require(p, scope::ADMIN)?;
    }
    let model = deps.control.get_model(&p.tenant, &spec.entity).await?;
    match &model {
        None => errors.push(FieldError::new(
            "/entity",
            "unknown-entity",
            format!("there is no model named `{}`", spec.entity),
        )),
        Some(m) => {
            if let Err(e) = spec.plan(m) {
                errors.push(FieldError::new(input.pointer_of(&e), e.code, e.detail));
            }
        }
    }
    match model {
        Some(m) if errors.is_empty() => Ok(m),
        _ => Err(ApiError::invalid(errors)),
    }
}

/// The scope reading an entity's records needs.
fn read_scope(entity: &str) -> String {
    format!("data:read:{entity}")
}

fn now() -> String {
    hw_domain::event::now_rfc3339()
}
