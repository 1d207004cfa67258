//! `/v1/graphql-settings`: the tenant's GraphQL limits (depth, complexity) and introspection switch, read by the
//! `graphql` function on every request (a change applies to the next request). Scope `admin`.

use hw_domain::FieldError;
use hw_domain::principal::{Principal, scope};
use hw_domain::tenant::GraphqlSettings;
use hw_store::StoreError;
use serde_json::{Value, json};

use crate::auth::require;
use crate::error::ApiError;
use crate::http::{JSON, Request, Response};
use crate::{Deps, body, method_not_allowed};

fn view(settings: Option<GraphqlSettings>) -> Response {
    let effective = settings.unwrap_or_default();
    let body = json!({
        "max_depth": effective.max_depth,
        "max_complexity": effective.max_complexity,
        "introspection": effective.introspection,
        "defaults": settings.is_none(),
        "version": effective.version,
    });
    Response::json(200, JSON, &body).header("etag", format!("\"{}\"", effective.version))
}

pub async fn route(deps: &Deps, req: &Request, p: &Principal, rest: &[&str]) -> Result<Response, ApiError> {
    require(p, scope::ADMIN)?;
    if !rest.is_empty() {
        return Err(ApiError::not_found("no such resource"));
    }
    use http::Method as M;
    let tenant = deps.control.get_tenant(&p.tenant).await?.ok_or_else(|| ApiError::not_found("no such tenant"))?;
    let current = tenant.graphql.map_or(0, |g| g.version);
    let write = |settings: Option<GraphqlSettings>| async move {
        if let Some(expected) = req.if_match()?
            && expected != current
        {
            return Err(ApiError::precondition_failed(current));
        }
        deps.control.set_tenant_graphql(&p.tenant, settings.as_ref(), current).await.map_err(|e| match e {
            StoreError::VersionConflict => ApiError::precondition_failed(current + 1),
            StoreError::NotFound => ApiError::not_found("no such tenant"),
            e => e.into(),
        })?;
        Ok(view(settings))
    };
    match req.method {
        M::GET => Ok(view(tenant.graphql)),
        M::PUT => {
            let mut settings = parse(&body::json(deps, req, &[JSON])?)?;
            settings.version = current + 1;
            write(Some(settings)).await
        }
        M::DELETE => write(None).await,
        _ => Err(method_not_allowed(req, "GET, PUT, DELETE")),
    }
}

/// Every member is optional (the default stands in); unknown members and wrong types are refused, each with a pointer.
fn parse(body: &Value) -> Result<GraphqlSettings, ApiError> {
    let Some(members) = body.as_object() else {
        return Err(ApiError::invalid(vec![FieldError::new("", "invalid-body", "the body is a JSON object")]));
    };
    let mut settings = GraphqlSettings::default();
    let mut errors = Vec::new();
    for (k, v) in members {
        let at = format!("/{k}");
        match (k.as_str(), v) {
            ("max_depth", v) => match v.as_u64().and_then(|n| u32::try_from(n).ok()) {
                Some(n) => settings.max_depth = n,
                None => errors.push(FieldError::new(at, "invalid-type", "`max_depth` is a whole number")),
            },
            ("max_complexity", v) => match v.as_u64().and_then(|n| u32::try_from(n).ok()) {
                Some(n) => settings.max_complexity = n,
                None => errors.push(FieldError::new(at, "invalid-type", "`max_complexity` is a whole number")),
            },
            ("introspection", Value::Bool(b)) => settings.introspection = *b,
            ("introspection", _) => {
                errors.push(FieldError::new(at, "invalid-type", "`introspection` is true or false"))
            }
            _ => errors.push(FieldError::new(at, "unknown-member", format!("`{k}` is not a GraphQL setting"))),
        }
    }
    if errors.is_empty() {
        errors = settings.check();
    }
    if errors.is_empty() { Ok(settings) } else { Err(ApiError::invalid(errors)) }
}
