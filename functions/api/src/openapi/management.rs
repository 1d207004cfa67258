//! Management routes (problem+json errors, `application/json` bodies): health, the OpenAPI document itself, models,
//! API keys, audit, usage, (from `webhooks`) webhooks and the event-type catalog, and (from `imports`) imports. The
//! same in the static and in every tenant's document.

use serde_json::{Map, Value, json};

use super::common::{Errors::Problem as P, Op};
use super::schemas::{NAME_PATTERN, schema_ref};
use crate::http::JSON;

const PROBLEM_AUTH: &[u16] = &[401, 429, 503];

fn path_param(name: &str, description: &str, schema: Value) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": description, "schema": schema})
}

fn query(name: &str, description: &str, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema})
}

fn model_example() -> Value {
    json!({"name": "ticket", "label": "Ticket", "fields": [
        {"name": "title", "type": "string", "required": true, "max_length": 200},
        {"name": "priority", "type": "enum", "values": ["low", "normal", "high"], "default": "normal"},
        {"name": "due_on", "type": "date"}]})
}

pub fn paths() -> Map<String, Value> {
    let mut p = Map::new();
    p.insert("/health".into(), json!({"get": Op::new("getHealth", "Platform", "State of every dependency")
        .public()
        .description("200 when the control table, the data table and the event bus all answer; 503 otherwise. Never cached.")
        .ok(200, "Every dependency answers.", Some((JSON, schema_ref("Health"))), &[])
        .ok(503, "At least one dependency is down.", Some((JSON, schema_ref("Health"))), &[])
        .build()}));
    p.insert("/v1/openapi.json".into(), json!({"get": Op::new("getOpenApi", "Platform", "This API's OpenAPI 3.1 document")
        .optional_auth()
        .description("Without credentials: the static document, with templated data routes (`/v1/data/{entity}`). With a valid API key: the tenant's document, with concrete data routes and schemas for each of its models. Invalid credentials are refused with 401.")
        .ok(200, "The OpenAPI document.", Some((JSON, schema_ref("OpenApiDocument"))), &[])
        .errors(P, &[401, 503])
        .build()}));

    let name = path_param("name", "The model's name.", json!({"type": "string", "pattern": NAME_PATTERN}));
    let model = || Some((JSON, schema_ref("Model")));
    p.insert(
        "/v1/models".into(),
        json!({
            "get": Op::new("listModels", "Models", "List the tenant's models")
                .description("Any valid key may read models.")
                .ok(200, "The models.", Some((JSON, schema_ref("ModelList"))), &[])
                .errors(P, PROBLEM_AUTH)
                .build(),
            "post": Op::new("createModel", "Models", "Define a model")
                .description("Needs `models:write`. Reference targets must exist.")
                .param_ref("IdempotencyKey")
                .body(JSON, schema_ref("ModelInput"), Some(model_example()), true)
                .ok(201, "The model, at version 1.", model(), &["ETag", "Location", "Idempotent-Replayed"])
                .errors(P, &[400, 401, 403, 409, 413, 415, 422, 429, 503])
                .link(201, "GetModel", "getModel", json!({"name": "$response.body#/name"}))
                .link(201, "ReplaceModel", "replaceModel", json!({"name": "$response.body#/name"}))
                .link(201, "DeleteModel", "deleteModel", json!({"name": "$response.body#/name"}))
                .build(),
        }),
    );
    p.insert("/v1/models/{name}".into(), json!({
        "parameters": [name],
        "get": Op::new("getModel", "Models", "Read a model")
            .ok(200, "The model.", model(), &["ETag"])
            .errors(P, &[401, 404, 429, 503])
            .build(),
        "put": Op::new("replaceModel", "Models", "Replace a model's definition")
            .description("Needs `models:write`. With records stored, only changes that keep every record valid are accepted (409 `unsafe-model-change` lists the others). The name cannot change.")
            .param_ref("IfMatch")
            .body(JSON, schema_ref("ModelInput"), Some(model_example()), true)
            .ok(200, "The new definition.", model(), &["ETag"])
            .errors(P, &[400, 401, 403, 404, 409, 412, 413, 415, 422, 429, 503])
            .build(),
        "delete": Op::new("deleteModel", "Models", "Delete a model")
            .description("Needs `models:write`. Refused with 409 while the model has records or another model references it.")
            .param_ref("IfMatch")
            .ok(204, "Deleted.", None, &[])
            .errors(P, &[400, 401, 403, 404, 409, 412, 429, 503])
            .build(),
    }));

    let id = path_param("id", "The key's id (`key_...`).", json!({"type": "string"}));
    let key_links = |op: Op| {
        op.link(201, "GetApiKey", "getApiKey", json!({"id": "$response.body#/id"}))
            .link(201, "RevokeApiKey", "revokeApiKey", json!({"id": "$response.body#/id"}))
            .link(201, "RotateApiKey", "rotateApiKey", json!({"id": "$response.body#/id"}))
    };
    let with_secret = || Some((JSON, schema_ref("ApiKeyWithSecret")));
    p.insert(
        "/v1/api-keys".into(),
        json!({
            "get": Op::new("listApiKeys", "API keys", "List the tenant's API keys")
                .description("Needs `admin`. Metadata only; secrets are shown once, when a key is created.")
                .ok(200, "The keys.", Some((JSON, schema_ref("ApiKeyList"))), &[])
                .errors(P, &[401, 403, 429, 503])
                .build(),
            "post": key_links(Op::new("createApiKey", "API keys", "Create an API key")
                .description("Needs `admin`. The answer is the only time the secret is shown.")
                .param_ref("IdempotencyKey")
                .body(JSON, schema_ref("NewApiKey"),
                      Some(json!({"name": "ci", "scopes": ["data:read"]})), true)
                .ok(201, "The key and its secret.", with_secret(), &["Location?", "Idempotent-Replayed"])
                .errors(P, &[400, 401, 403, 409, 413, 415, 422, 429, 503]))
                .build(),
        }),
    );
    p.insert(
        "/v1/api-keys/{id}".into(),
        json!({
            "parameters": [id.clone()],
            "get": Op::new("getApiKey", "API keys", "Read an API key's metadata")
                .ok(200, "The key.", Some((JSON, schema_ref("ApiKey"))), &[])
                .errors(P, &[401, 403, 404, 429, 503])
                .build(),
            "delete": Op::new("revokeApiKey", "API keys", "Revoke an API key at once")
                .ok(204, "Revoked.", None, &[])
                .errors(P, &[401, 403, 404, 429, 503])
                .build(),
        }),
    );
    p.insert("/v1/api-keys/{id}/rotate".into(), json!({
        "parameters": [id],
        "post": key_links(Op::new("rotateApiKey", "API keys", "Rotate an API key")
            .description("Issues a new key with the same name and scopes; the old one keeps working until the overlap ends.")
            .param_ref("IdempotencyKey")
            .body(JSON, schema_ref("RotateApiKey"), Some(json!({"overlap_seconds": 3600})), false)
            .ok(201, "The new key and its secret.", with_secret(), &["Location?", "Idempotent-Replayed"])
            .errors(P, &[400, 401, 403, 404, 409, 413, 415, 422, 429, 503]))
            .build(),
    }));

    let time = |n: &str, d: &str| query(n, d, json!({"type": "string", "format": "date-time"}));
    p.insert("/v1/audit".into(), json!({"get": Op::new("listAudit", "Audit", "The tenant's audit trail")
        .description("Needs `admin`. Newest first, in cursor pages.")
        .param(time("from", "Only events at or after this time (RFC 3339)."))
        .param(time("to", "Only events before this time (RFC 3339)."))
        .param(query("actor", "Only events of this actor (`apikey:<id>`).", json!({"type": "string"})))
        .param(query("page[size]", "Events per page.", json!({"type": "integer", "minimum": 1, "maximum": 200, "default": 50})))
        .param(query("page[after]", "The opaque cursor of `links.next`.", json!({"type": "string"})))
        .ok(200, "A page of events.", Some((JSON, schema_ref("AuditPage"))), &[])
        .errors(P, &[400, 401, 403, 429, 503])
        .build()}));
    p.insert("/v1/usage".into(), json!({"get": Op::new("getUsage", "Usage", "Requests, errors and latency of the tenant")
        .description("Needs `admin`. The range between `from` and `to` is at most 31 days.")
        .param(time("from", "Start of the range (RFC 3339)."))
        .param(time("to", "End of the range (RFC 3339)."))
        .param(query("group_by", "How rows are grouped.", json!({"type": "string", "enum": ["route", "client", "status"], "default": "route"})))
        .ok(200, "The report.", Some((JSON, schema_ref("UsageReport"))), &[])
        .errors(P, &[400, 401, 403, 429, 503])
        .build()}));
    p.extend(super::webhooks::paths());
    p.extend(super::imports::paths());
    p.extend(super::exports::paths());
    p.extend(super::users::paths());
    p.extend(super::oauth::paths());
    p.extend(super::graphql::paths());
    p
}
