//! Export templates: saved export definitions, run by hand or by their schedule.
//!
//! A scheduled, enabled template has one EventBridge Scheduler schedule; every change keeps the two in step. The
//! schedule is written first (so a schedule the scheduler refuses never leaves a template that claims it), then
//! the template; when the template write fails, the schedule is put back as the stored template wants it.

use hw_domain::FieldError;
use hw_domain::principal::Principal;
use hw_export_jobs::input::{self, SpecInput};
use hw_export_jobs::job::{new_template_id, plausible_id};
use hw_export_jobs::schedule::{ScheduleSpec, validate_expression, validate_timezone};
use hw_export_jobs::{ExportStoreError, ExportTemplate};
use serde_json::{Map, Value, json};

use super::{ExportPorts, check_spec, jobs, now, views};
use crate::error::ApiError;
use crate::http::{JSON, Request, Response};
use crate::{Deps, body};

pub const MAX_TEMPLATES: usize = 100;
pub const MAX_NAME: usize = 200;
pub const MAX_DESCRIPTION: usize = 1000;

/// The template members a body set; `Some(None)` clears a nullable one.
#[derive(Default)]
struct Changes {
    name: Option<String>,
    description: Option<String>,
    schedule: Option<Option<String>>,
    timezone: Option<Option<String>>,
    enabled: Option<bool>,
}

/// Reads a body: the export members into a [`SpecInput`], the template's own into [`Changes`], every problem with
/// its pointer.
fn read(body: &Value) -> Result<(SpecInput, Changes, Vec<FieldError>), ApiError> {
    let members: &Map<String, Value> = body.as_object().ok_or_else(|| {
        ApiError::invalid(vec![FieldError::new("", "invalid-type", "the body must be a JSON object")])
    })?;
    let mut errors = Vec::new();
    let (spec, rest) = input::split(members, &mut errors);
    let mut c = Changes::default();
    for (k, v) in rest {
        let at = input::pointer(&[&k]);
        let mut fail = |code, detail: &str| errors.push(FieldError::new(at.clone(), code, detail));
        match (k.as_str(), &v) {
            ("name", Value::String(s)) if !s.trim().is_empty() && s.chars().count() <= MAX_NAME => {
                c.name = Some(s.clone())
            }
            ("name", _) => fail("invalid-value", "must be a non-blank string of at most 200 characters"),
            ("description", Value::String(s)) if s.chars().count() <= MAX_DESCRIPTION => {
                c.description = Some(s.clone())
            }
            ("description", _) => fail("invalid-value", "must be a string of at most 1000 characters"),
            ("schedule", Value::Null) => c.schedule = Some(None),
            ("schedule", Value::String(s)) => match validate_expression(s) {
                Ok(()) => c.schedule = Some(Some(s.trim().to_owned())),
                Err(e) => fail("invalid-schedule", &e),
            },
            ("schedule", _) => fail("invalid-type", "must be a cron(...) or rate(...) expression, or null"),
            ("timezone", Value::Null) => c.timezone = Some(None),
            ("timezone", Value::String(s)) => match validate_timezone(s) {
                Ok(()) => c.timezone = Some(Some(s.clone())),
                Err(e) => fail("invalid-timezone", &e),
            },
            ("timezone", _) => fail("invalid-type", "must be an IANA time zone name, or null"),
            ("enabled", Value::Bool(b)) => c.enabled = Some(*b),
            ("enabled", _) => fail("invalid-type", "must be true or false"),
            _ => fail("unknown-member", "is not a member of an export template"),
        }
    }
    Ok((spec, c, errors))
}

fn apply(t: &mut ExportTemplate, c: Changes) {
    if let Some(n) = c.name {
        t.name = n;
    }
    if let Some(d) = c.description {
        t.description = d;
    }
    if let Some(s) = c.schedule {
        t.schedule = s;
    }
    if let Some(tz) = c.timezone {
        t.timezone = tz;
    }
    if let Some(e) = c.enabled {
        t.enabled = e;
    }
}

/// A time zone only means something for a schedule.
fn check_timezone(t: &ExportTemplate, errors: &mut Vec<FieldError>) {
    // An invalid schedule was reported already; its time zone is not the problem.
    if t.timezone.is_some() && t.schedule.is_none() && !errors.iter().any(|e| e.pointer == "/schedule") {
        errors.push(FieldError::new("/timezone", "invalid-timezone", "a time zone needs a schedule to apply to"));
    }
}

/// Makes the template's schedule what the template wants: present (created or replaced) or absent.
async fn sync_schedule(ports: &ExportPorts, t: &ExportTemplate) -> Result<(), ApiError> {
    match &t.schedule {
        Some(expression) if t.enabled => {
            let spec = ScheduleSpec {
                template_id: t.id.clone(),
                tenant: t.tenant.clone(),
                expression: expression.clone(),
                timezone: t.timezone.clone(),
            };
            ports.schedules.put(&spec).await?;
        }
        _ => ports.schedules.delete(&t.id).await?,
    }
    Ok(())
}

/// After a failed template write: the schedule as the stored template wants it (best effort; logged).
async fn restore_schedule(ports: &ExportPorts, stored: Option<&ExportTemplate>, id: &str) {
    let result = match stored {
        Some(t) => sync_schedule(ports, t).await,
        None => ports.schedules.delete(id).await.map_err(ApiError::from),
    };
    if let Err(e) = result {
        tracing::error!(template = id, error = ?e.problem, "the template's schedule could not be put back in step");
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("there is no export template `{id}`"))
}

async fn template(ports: &ExportPorts, p: &Principal, id: &str) -> Result<ExportTemplate, ApiError> {
    if !plausible_id(id, "tpl") {
        return Err(not_found(id));
    }
    ports.store.get_template(&p.tenant, id).await?.ok_or_else(|| not_found(id))
}

fn render(status: u16, base: &str, t: &ExportTemplate) -> Response {
    Response::json(status, JSON, &views::template(base, t)).header("etag", views::etag(t))
}

pub async fn list(ports: &ExportPorts, req: &Request, p: &Principal) -> Result<Response, ApiError> {
    req.only_params(&|_| false)?;
    let data: Vec<Value> =
        ports.store.list_templates(&p.tenant).await?.iter().map(|t| views::template(&req.base_url, t)).collect();
    Ok(Response::json(200, JSON, &json!({"data": data})))
}

pub async fn get(ports: &ExportPorts, req: &Request, p: &Principal, id: &str) -> Result<Response, ApiError> {
    Ok(render(200, &req.base_url, &template(ports, p, id).await?))
}

pub async fn create(deps: &Deps, ports: &ExportPorts, req: &Request, p: &Principal) -> Result<Response, ApiError> {
    let body = body::json(deps, req, &[JSON])?;
    let (input, changes, mut errors) = read(&body)?;
    if changes.name.is_none() && !errors.iter().any(|e| e.pointer == "/name") {
        errors.push(FieldError::new("/name", "required", "`name` is required"));
    }
    let Some(spec) = input.create(&mut errors) else { return Err(ApiError::invalid(errors)) };
    let now = now();
    let mut t = ExportTemplate {
        id: new_template_id(),
        tenant: p.tenant.clone(),
        name: String::new(),
        description: String::new(),
        spec,
        schedule: None,
        timezone: None,
        enabled: true,
        version: 1,
        updated_by: p.actor.clone(),
        created_at: now.clone(),
        updated_at: now,
    };
    apply(&mut t, changes);
    check_timezone(&t, &mut errors);
    check_spec(deps, p, &t.spec, &input, errors).await?;
    if ports.store.list_templates(&p.tenant).await?.len() >= MAX_TEMPLATES {
        return Err(ApiError::validation(format!(
            "a tenant may have at most {MAX_TEMPLATES} export templates; delete one you no longer need"
        )));
    }
    sync_schedule(ports, &t).await?;
    if let Err(e) = ports.store.create_template(&t).await {
        restore_schedule(ports, None, &t.id).await;
        return Err(e.into());
    }
    Ok(render(201, &req.base_url, &t).header("location", format!("{}/v1/export-templates/{}", req.base_url, t.id)))
}

pub async fn update(
    deps: &Deps,
    ports: &ExportPorts,
    req: &Request,
    p: &Principal,
    id: &str,
) -> Result<Response, ApiError> {
    let stored = template_at(ports, req, p, id).await?;
    let body = body::json(deps, req, &[JSON])?;
    let (input, changes, mut errors) = read(&body)?;
    let mut t = stored.clone();
    t.spec = input.apply(t.spec);
    apply(&mut t, changes);
    check_timezone(&t, &mut errors);
    check_spec(deps, p, &t.spec, &input, errors).await?;
    t.version = stored.version + 1;
    t.updated_at = now();
    t.updated_by = p.actor.clone();
    sync_schedule(ports, &t).await?;
    if let Err(e) = ports.store.replace_template(&t, stored.version).await {
        // Whatever is stored now (the concurrent change, or nothing) decides the schedule.
        let current = ports.store.get_template(&p.tenant, id).await.ok().flatten();
        restore_schedule(ports, current.as_ref(), id).await;
        return Err(match e {
            ExportStoreError::NotFound => not_found(id),
            other => other.into(),
        });
    }
    Ok(render(200, &req.base_url, &t))
}

pub async fn delete(ports: &ExportPorts, req: &Request, p: &Principal, id: &str) -> Result<Response, ApiError> {
    let stored = template_at(ports, req, p, id).await?;
    ports.schedules.delete(id).await?;
    if let Err(e) = ports.store.delete_template(&p.tenant, id).await {
        restore_schedule(ports, Some(&stored), id).await;
        return Err(e.into());
    }
    Ok(Response::new(204))
}

/// The stored template, if it is at the version `If-Match` names (when the request names one).
async fn template_at(ports: &ExportPorts, req: &Request, p: &Principal, id: &str) -> Result<ExportTemplate, ApiError> {
    let if_match = req.if_match()?;
    let stored = template(ports, p, id).await?;
    match if_match {
        Some(v) if v != stored.version => Err(ApiError::precondition_failed(stored.version)),
        _ => Ok(stored),
    }
}

/// `POST /v1/export-templates/{id}/run`: a new export of the template's definition, now.
pub async fn run(
    deps: &Deps,
    ports: &ExportPorts,
    req: &Request,
    p: &Principal,
    id: &str,
) -> Result<Response, ApiError> {
    let t = template(ports, p, id).await?;
    if !t.enabled {
        return Err(ApiError::new(
            409,
            "template-disabled",
            "Template disabled",
            format!("the export template `{id}` is disabled; enable it to run it"),
        ));
    }
    let job = jobs::start(deps, ports, p, t.spec, &SpecInput::default(), vec![], Some(t.id)).await?;
    let view = views::job(ports.files.as_ref(), &req.base_url, &job).await?;
    Ok(Response::json(201, JSON, &view).header("location", format!("{}/v1/exports/{}", req.base_url, job.id)))
}
