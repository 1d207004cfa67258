//! The OpenAPI 3.1 document of the API, served at `GET /v1/openapi.json`.
//!
//! Without credentials it is the static document: management routes and the templated data routes
//! (`/v1/data/{entity}`). With a valid API key it is the tenant's document: the same management routes plus concrete
//! data routes and generated schemas for every model of the tenant. `docs/openapi/v1-static.json` is a snapshot of
//! the static document; a test fails on any difference, and on any breaking change (see `compat`).

mod common;
pub mod compat;
mod data;
mod exports;
mod fields;
mod graphql;
mod imports;
mod management;
mod oauth;
mod schemas;
mod users;
mod webhooks;

use hw_domain::model::Model;
use hw_domain::principal::Principal;
use serde_json::{Map, Value, json};

use crate::Deps;
use crate::error::ApiError;
use crate::http::{JSON, Request, Response};

pub use data::pascal;

const TITLE: &str = "HubbleWave Integration Hub API";

fn document(
    description: &str,
    paths: Map<String, Value>,
    extra_schemas: Map<String, Value>,
    tags: Vec<Value>,
) -> Value {
    let mut components = common::components();
    for (k, v) in extra_schemas {
        components["schemas"][k] = v;
    }
    let mut all_tags = vec![
        json!({"name": "Platform", "description": "Health and this document."}),
        json!({"name": "Models", "description": "The tenant's data models: entities with typed fields."}),
        json!({"name": "API keys", "description": "Keys, their scopes, rotation and revocation (scope `admin`)."}),
        json!({"name": "Audit", "description": "Who did what (scope `admin`)."}),
        json!({"name": "Usage", "description": "Requests, errors and latency per route, client or status (scope `admin`)."}),
        json!({"name": "Webhooks", "description": "Endpoints that receive events, signed (Standard Webhooks), with their delivery log, resends, replays and a test ping (scope `admin`)."}),
        json!({"name": "Event types", "description": "The events webhooks can subscribe to, with the schema of each."}),
        json!({"name": "Imports", "description": imports::TAG_DESCRIPTION}),
        json!({"name": "Exports", "description": "Files of an entity's records (CSV, XLSX, JSON, NDJSON, XML) made in the background, downloaded through short-lived links, with their history."}),
        json!({"name": "Export templates", "description": "Saved exports, run by hand or on a schedule (scope `admin`)."}),
        json!({"name": "Users", "description": users::TAG_DESCRIPTION}),
        json!({"name": "OAuth", "description": oauth::TAG_DESCRIPTION}),
        json!({"name": "GraphQL", "description": graphql::TAG_DESCRIPTION}),
    ];
    all_tags.extend(tags);
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": "1",
            "description": description,
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"}
        },
        "servers": [{"url": "/", "description": "This deployment"}],
        "security": [{"apiKey": []}, {"bearer": []}],
        "tags": all_tags,
        "paths": paths,
        "components": components,
    })
}

const COMMON_DESCRIPTION: &str = "Management routes (`/v1/models`, `/v1/api-keys`, `/v1/webhooks`, `/v1/event-types`, `/v1/imports`, `/v1/exports`, `/v1/export-templates`, `/v1/users`, `/v1/oauth-clients`, `/v1/oauth-signing-keys`, `/v1/consents`, `/v1/graphql-settings`, `/v1/audit`, `/v1/usage`) take and answer `application/json` and report errors as RFC 9457 `application/problem+json`. Data routes (`/v1/data/...`) speak JSON:API 1.1 (`application/vnd.api+json`) and report errors as JSON:API error documents. Send an API key as `X-Api-Key: hw_...` or `Authorization: Bearer hw_...`. `Authorization: Bearer` also accepts access tokens of the tenant's OAuth2/OpenID Connect provider at `{base}/t/{tenant}`, with the scopes the token was granted. Every response carries `X-Request-Id`; authenticated ones carry `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`.";

/// The document anyone may read: management routes and the generic, templated data routes.
pub fn static_document() -> Value {
    let mut paths = management::paths();
    paths.extend(data::generic_paths());
    let description = format!(
        "{COMMON_DESCRIPTION}\n\nThis is the static document: data routes are templated by entity. Fetch it with an API key to get the tenant's own document, with a path and schemas for each of its models."
    );
    document(
        &description,
        paths,
        Map::new(),
        vec![json!({"name": "Records", "description": "Records of any model, as JSON:API resources."})],
    )
}

/// The document of one tenant: management routes plus concrete data routes and schemas for each of its models.
pub fn tenant_document(tenant: &str, models: &[Model]) -> Value {
    let mut paths = management::paths();
    let (data_paths, schemas) = data::tenant_paths(models);
    paths.extend(data_paths);
    let tags = models
        .iter()
        .map(|m| {
            let mut t = json!({"name": m.name, "description": format!("Records of `{}` ({}).", m.name, m.label)});
            if let Some(d) = &m.description {
                t["description"] = json!(format!("{} {d}", t["description"].as_str().unwrap_or_default()));
            }
            t
        })
        .collect();
    let description = format!(
        "{COMMON_DESCRIPTION}\n\nThis is the document of tenant `{tenant}`: it has a path and schemas for each of its {} model(s).",
        models.len()
    );
    let mut doc = document(&description, paths, schemas, tags);
    doc["info"]["x-tenant"] = json!(tenant);
    doc
}

/// `GET /v1/openapi.json` without credentials: the static document. With credentials the pipeline authenticates
/// (invalid credentials are refused with 401, so a typo does not silently yield the static document) and calls
/// [`serve_tenant`].
pub fn serve_static(req: &Request) -> Result<Response, ApiError> {
    if req.method != http::Method::GET {
        return Err(crate::method_not_allowed(req, "GET"));
    }
    // The static document depends on nothing but this build: rendered once per cold start.
    static RENDERED: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let body = RENDERED.get_or_init(|| static_document().to_string());
    Ok(Response::new(200)
        .header("content-type", JSON)
        .body(body.clone())
        .header("cache-control", "public, max-age=300")
        .header("vary", "authorization, x-api-key"))
}

/// `GET /v1/openapi.json` with credentials: the tenant's document.
pub async fn serve_tenant(deps: &Deps, req: &Request, principal: &Principal) -> Result<Response, ApiError> {
    if req.method != http::Method::GET {
        return Err(crate::method_not_allowed(req, "GET"));
    }
    let models = deps.models.list(&principal.tenant).await?;
    Ok(Response::json(200, JSON, &tenant_document(&principal.tenant, &models))
        .header("cache-control", "private, no-cache")
        .header("vary", "authorization, x-api-key"))
}

#[cfg(test)]
mod tests;
