//! The handler on the `events/api` fixtures (real API Gateway v2 payloads), with in-memory adapters.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;
use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use hw_aws::events::RecordingPublisher;
use hw_domain::apikey::{self, ApiKeyMeta};
use hw_store::ControlStore;
use hw_store::memory::{MemoryControlStore, MemoryDataStore};
use hw_store::ops::memory::MemoryOpsStore;
use serde_json::{Value, json};

use hw_webhooks::memory::{MemoryJobQueue, MemoryWebhookStore};

use crate::{BusProbe, Deps, WebhookPorts, handle};

/// The key the fixtures send; it exists only in these tests' in-memory store.
const FIXTURE_KEY: &str = "hw_FIXTURExKEYxFORxHANDLERxTESTSxONLYxxxxxxxx0";

struct UpBus;
#[async_trait]
impl BusProbe for UpBus {
    async fn check(&self) -> Result<(), String> {
        Ok(())
    }
}

async fn deps(scopes: &[&str]) -> (Deps, Arc<RecordingPublisher>) {
    deps_with(scopes, Arc::new(MemoryOpsStore::default())).await
}

async fn deps_with(scopes: &[&str], ops: Arc<MemoryOpsStore>) -> (Deps, Arc<RecordingPublisher>) {
    let ports = WebhookPorts {
        store: Arc::new(MemoryWebhookStore::default()),
        queue: Arc::new(MemoryJobQueue::default()),
        transport: Arc::new(hw_webhooks::sender::Sender::new(Default::default())),
    };
    build(scopes, ops, hw_resources::Config::for_prefix("test"), ports).await
}

/// Deps on in-memory adapters, with the fixture key holding `scopes`.
async fn build(
    scopes: &[&str],
    ops: Arc<MemoryOpsStore>,
    config: hw_resources::Config,
    webhooks: WebhookPorts,
) -> (Deps, Arc<RecordingPublisher>) {
    let control = Arc::new(MemoryControlStore::default());
    let meta = ApiKeyMeta {
        id: "key_fixture".into(),
        tenant: "acme".into(),
        name: "fixture".into(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        created_at: "2026-11-25T00:00:00Z".into(),
        ..ApiKeyMeta::default()
    };
    control.create_api_key(&meta, &apikey::hash(FIXTURE_KEY)).await.unwrap();
    let publisher = Arc::new(RecordingPublisher::default());
    let deps = Deps::new(
        config,
        control,
        Arc::new(MemoryDataStore::default()),
        ops,
        publisher.clone(),
        Arc::new(UpBus),
        Arc::new(hw_aws::kms::StaticKeyring::new([9; 32])),
        webhooks,
    );
    (deps, publisher)
}

fn fixture(name: &str) -> ApiGatewayV2httpRequest {
    let path = format!("{}/../../events/api/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not an API Gateway v2 event: {e}"))
}

fn body(r: &ApiGatewayV2httpResponse) -> Value {
    match &r.body {
        Some(Body::Text(t)) => serde_json::from_str(t).unwrap(),
        other => panic!("expected a text body, got {other:?}"),
    }
}

fn header<'a>(r: &'a ApiGatewayV2httpResponse, name: &str) -> &'a str {
    r.headers.get(name).map(|v| v.to_str().unwrap()).unwrap_or_default()
}

async fn send(deps: &Deps, name: &str) -> (u16, Value, ApiGatewayV2httpResponse) {
    let r = handle(deps, fixture(name)).await;
    let v = if r.body.is_some() { body(&r) } else { Value::Null };
    (r.status_code as u16, v, r)
}

#[tokio::test]
async fn models_and_records_round_trip_through_the_fixtures() {
    let (deps, publisher) = deps(&["admin"]).await;
    assert_eq!(send(&deps, "create-model-company").await.0, 201);
    let (status, model, r) = send(&deps, "create-model-contact").await;
    assert_eq!(status, 201, "{model}");
    assert_eq!(header(&r, "etag"), "\"1\"");
    assert_eq!(model["fields"][0]["unique"], true);

    let (status, company, r) = send(&deps, "create-record-company").await;
    assert_eq!(status, 201, "{company}");
    assert_eq!(header(&r, "content-type"), "application/vnd.api+json");
    let company_id = company["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        header(&r, "location"),
        format!("https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/v1/data/company/{company_id}")
    );

    let mut contact = fixture("create-record-contact");
    contact.body = contact.body.map(|b| b.replace("COMPANY_ID", &company_id));
    let r = handle(&deps, contact).await;
    let doc = body(&r);
    assert_eq!(r.status_code, 201, "{doc}");
    assert_eq!(doc["data"]["attributes"]["email"], "ada@example.com");
    assert_eq!(doc["data"]["relationships"]["company"]["data"]["id"], company_id.as_str());
    assert_eq!(doc["data"]["meta"]["created_by"], "apikey:key_fixture");

    let types: Vec<String> = publisher.published.lock().unwrap().iter().map(|e| e.event_type.clone()).collect();
    assert_eq!(types, ["model.created", "model.created", "record.created", "record.created"]);
    let event = publisher.published.lock().unwrap()[3].clone();
    assert_eq!(event.tenant, "acme");
    assert_eq!(event.data["entity"], "contact");

    let (status, page, _) = send(&deps, "list-records").await;
    assert_eq!(status, 200);
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
    assert_eq!(send(&deps, "create-record-base64").await.0, 201, "base64 bodies are decoded");
    let (_, page, _) = send(&deps, "list-records").await;
    assert!(page["links"]["next"].as_str().unwrap().contains("page%5Bafter%5D="));
}

#[tokio::test]
async fn bad_input_gets_clear_errors_and_changes_nothing() {
    let (deps, publisher) = deps(&["admin"]).await;
    let (status, problem, r) = send(&deps, "create-model-invalid").await;
    assert_eq!(status, 422);
    assert_eq!(header(&r, "content-type"), "application/problem+json");
    assert_eq!(problem["type"], "https://docs.hubblewave.dev/problems/validation-failed");
    let pointers: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
    assert_eq!(pointers, ["/name", "/fields/0/name", "/fields/1/values"]);

    send(&deps, "create-model-company").await;
    send(&deps, "create-model-contact").await;
    let (status, doc, _) = send(&deps, "create-record-invalid").await;
    assert_eq!(status, 422);
    let errors = doc["errors"].as_array().unwrap();
    let pointers: Vec<&str> = errors.iter().map(|e| e["source"]["pointer"].as_str().unwrap()).collect();
    assert_eq!(pointers.len(), 3, "{doc}");
    for p in ["/data/attributes/email", "/data/attributes/age", "/data/attributes/nickname"] {
        assert!(pointers.contains(&p), "{p} missing from {pointers:?}");
    }
    assert_eq!(errors[0]["status"], "422");

    let (status, doc, _) = send(&deps, "malformed-json").await;
    assert_eq!(status, 400);
    assert_eq!(doc["errors"][0]["code"], "malformed-json");
    let (status, _, r) = send(&deps, "wrong-content-type").await;
    assert_eq!(status, 415);
    assert!(header(&r, "accept").contains("application/vnd.api+json"));
    let (status, problem, _) = send(&deps, "unknown-version").await;
    assert_eq!(
        (status, problem["type"].as_str().unwrap()),
        (404, "https://docs.hubblewave.dev/problems/unknown-api-version")
    );
    let (status, _, r) = send(&deps, "no-credentials").await;
    assert_eq!(status, 401);
    assert_eq!(header(&r, "www-authenticate"), "Bearer realm=\"hubblewave\"");

    let (_, page, _) = send(&deps, "list-records").await;
    assert_eq!(page["data"].as_array().unwrap().len(), 0, "nothing was stored by the bad requests");
    let record_events =
        publisher.published.lock().unwrap().iter().filter(|e| e.event_type.starts_with("record.")).count();
    assert_eq!(record_events, 0);
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let (mut deps, _) = deps(&["admin"]).await;
    deps.config.max_body_bytes = 16;
    let (status, problem, _) = send(&deps, "create-model-company").await;
    assert_eq!(status, 413);
    assert_eq!(problem["type"], "https://docs.hubblewave.dev/problems/body-too-large");
}

#[tokio::test]
async fn scopes_are_enforced() {
    let (deps, _) = deps(&["data:read"]).await;
    let (status, problem, r) = send(&deps, "create-model-company").await;
    assert_eq!(status, 403, "{problem}");
    assert!(header(&r, "www-authenticate").contains("insufficient_scope"));
    assert_eq!(send(&deps, "create-record-company").await.0, 403);
}

#[tokio::test]
async fn health_reports_each_dependency() {
    let (deps, _) = deps(&[]).await;
    let (status, health, r) = send(&deps, "health").await;
    assert_eq!(status, 200);
    assert_eq!(health["checks"]["data_table"]["status"], "up");
    assert_eq!(health["checks"]["event_bus"]["status"], "up");
    assert_eq!(header(&r, "x-request-id"), "bW9ja1JlcUlkMDE=");
}

#[tokio::test]
async fn the_tenant_limit_binds_across_its_clients_and_every_request_is_logged() {
    let ops = Arc::new(MemoryOpsStore::default());
    let (mut deps, _) = deps_with(&["admin"], ops.clone()).await;
    deps.config.limits.tenant_per_minute = 2;
    let (status, _, r) = send(&deps, "list-records").await;
    // the entity does not exist; the request still counts
    assert_eq!(status, 404);
    assert_eq!(header(&r, "ratelimit-limit"), "2");
    assert_eq!(header(&r, "ratelimit-remaining"), "1");
    let second = send(&deps, "list-records").await.2;
    assert_eq!(header(&second, "ratelimit-remaining"), "0");
    let (status, _, limited) = send(&deps, "list-records").await;
    assert_eq!(status, 429);
    assert!(!header(&limited, "retry-after").is_empty());
    // public routes are neither counted nor limited, but logged like everything else
    let (health, _, h) = send(&deps, "health").await;
    assert_eq!(health, 200);
    assert_eq!(header(&h, "ratelimit-limit"), "");
    assert_eq!(send(&deps, "no-credentials").await.0, 401);
    let log = ops.log();
    let statuses: Vec<u16> = log.iter().map(|e| e.status).collect();
    assert_eq!(statuses, [404, 404, 429, 200, 401]);
    assert_eq!(log[0].route, "/v1/data/{entity}");
    assert_eq!(log[0].tenant.as_deref(), Some("acme"));
    assert_eq!(log[3].route, "/health");
    assert_eq!((log[4].tenant.as_deref(), log[4].client.as_deref()), (None, None));
}

#[tokio::test]
async fn two_different_keys_in_one_request_are_refused() {
    let (deps, _) = deps(&["admin"]).await;
    let mut event = fixture("list-records");
    event.headers.insert("x-api-key", "hw_SOMEOTHERxKEYxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx0".parse().unwrap());
    let r = handle(&deps, event).await;
    assert_eq!(r.status_code, 401);
    assert!(header(&r, "www-authenticate").contains("invalid_request"));
    let mut same = fixture("list-records");
    same.headers.insert("x-api-key", FIXTURE_KEY.parse().unwrap());
    assert_ne!(handle(&deps, same).await.status_code, 401, "the same key twice is fine");
}

#[tokio::test]
async fn the_openapi_document_and_the_explorer_are_public() {
    let (deps, _) = deps(&["data:read"]).await;
    let mut event = fixture("health");
    event.raw_path = Some("/v1/openapi.json".into());
    event.request_context.http.path = Some("/v1/openapi.json".into());
    event.headers.remove("authorization");
    let r = handle(&deps, event.clone()).await;
    assert_eq!(r.status_code, 200);
    assert_eq!(body(&r)["paths"]["/v1/data/{entity}"]["get"]["operationId"], "listRecords");
    event.headers.insert("x-api-key", FIXTURE_KEY.parse().unwrap());
    let r = handle(&deps, event.clone()).await;
    assert_eq!(r.status_code, 200);
    assert_eq!(body(&r)["info"]["x-tenant"], "acme");
    event.headers.insert("x-api-key", "hw_nope".parse().unwrap());
    assert_eq!(handle(&deps, event.clone()).await.status_code, 401, "invalid credentials are not ignored");

    let mut docs = fixture("health");
    docs.raw_path = Some("/docs".into());
    let r = handle(&deps, docs.clone()).await;
    assert_eq!(r.status_code, 200);
    assert!(header(&r, "content-type").starts_with("text/html"));
    docs.raw_path = Some("/docs/assets/swagger-ui.css".into());
    let r = handle(&deps, docs.clone()).await;
    assert_eq!((r.status_code, header(&r, "content-type")), (200, "text/css; charset=utf-8"));
    docs.raw_path = Some("/docs/assets/unknown.js".into());
    assert_eq!(handle(&deps, docs).await.status_code, 404);
}

#[test]
fn if_match_takes_quoted_versions_star_or_nothing() {
    let with = |v: &str| {
        let mut event = fixture("list-records");
        event.headers.insert("if-match", v.parse().unwrap());
        crate::http::Request::from_event(event).unwrap().if_match().map_err(|e| e.problem.status)
    };
    assert_eq!(with("\"3\""), Ok(Some(3)));
    assert_eq!(with("W/\"3\""), Ok(Some(3)));
    assert_eq!(with("*"), Ok(None));
    assert_eq!(with(""), Ok(None));
    for bad in ["3", "\"+3\"", "\"\"", "\"3", "\"x\"", "\"99999999999999999999\""] {
        assert_eq!(with(bad), Err(400), "{bad}");
    }
    let mut event = fixture("list-records");
    event.headers.insert("if-match", http::HeaderValue::from_bytes(b"\xc2\x84").unwrap());
    let opaque = crate::http::Request::from_event(event).unwrap().if_match().map_err(|e| e.problem.status);
    assert_eq!(opaque, Err(400), "a value that is not visible ASCII is not an ETag");
}

// ---- checking answers against the static OpenAPI document (shared by the route tests)

/// The static OpenAPI document, built once.
fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(crate::openapi::static_document)
}

/// A validator of the schema at `pointer` in the document, compiled once.
fn validator(pointer: &str) -> Arc<jsonschema::Validator> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<jsonschema::Validator>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(v) = cache.lock().unwrap().get(pointer) {
        return v.clone();
    }
    let mut root = document().clone();
    // A URI fragment: the braces of path templates are percent-encoded.
    root["$ref"] = json!(format!("#{}", pointer.replace('{', "%7B").replace('}', "%7D")));
    let v = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&root)
        .expect("the document's schemas compile");
    let v = Arc::new(v);
    cache.lock().unwrap().insert(pointer.to_owned(), v.clone());
    v
}

/// Where the static document describes this answer: the response object of the operation.
fn documented(method: &str, path: &str, status: u16) -> (String, Value) {
    let doc = document();
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let (template, item) = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(t, _)| {
            let ts: Vec<&str> = t.split('/').filter(|s| !s.is_empty()).collect();
            ts.len() == segs.len() && ts.iter().zip(&segs).all(|(t, s)| t.starts_with('{') || t == s)
        })
        .unwrap_or_else(|| panic!("{path} is not in the document"));
    let op = &item[method.to_lowercase()];
    assert!(op.is_object(), "{method} {template} is not in the document");
    let response = &op["responses"][status.to_string()];
    assert!(response.is_object(), "{method} {template} answered {status}, which the document does not list");
    let pointer = match response["$ref"].as_str() {
        Some(r) => r.trim_start_matches('#').to_owned(),
        None => format!(
            "/paths/{}/{}/responses/{status}",
            template.replace('~', "~0").replace('/', "~1"),
            method.to_lowercase()
        ),
    };
    let response = doc.pointer(&pointer).unwrap().clone();
    (pointer, response)
}

/// Fails unless the answer is one the document allows for `method path`.
fn assert_conforms(method: &str, path: &str, r: &ApiGatewayV2httpResponse) {
    let status = r.status_code as u16;
    let (pointer, response) = documented(method, path, status);
    let Some(content) = response["content"].as_object() else {
        assert!(r.body.is_none(), "{method} {path} {status} has a body the document does not describe");
        return;
    };
    let media = header(r, "content-type");
    let (media_key, _) =
        content.iter().find(|(m, _)| *m == media).unwrap_or_else(|| panic!("{method} {path}: `{media}` undocumented"));
    let validator = validator(&format!("{pointer}/content/{}/schema", media_key.replace('~', "~0").replace('/', "~1")));
    let instance = body(r);
    let errors: Vec<String> =
        validator.iter_errors(&instance).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{method} {path} {status} does not match the document: {errors:?}\n{instance}");
}

/// Sends a request as the fixture key and checks the answer against the document: its status, its body (or `null`)
/// and the response itself.
async fn call_checked(
    deps: &Deps,
    method: &str,
    path_and_query: &str,
    json_body: Option<Value>,
) -> (u16, Value, ApiGatewayV2httpResponse) {
    let r = request(deps, method, path_and_query, json_body, &[]).await;
    assert_conforms(method, path_and_query.split('?').next().unwrap(), &r);
    let v = if r.body.is_some() { body(&r) } else { Value::Null };
    (r.status_code as u16, v, r)
}

/// Sends `method path?query` as the fixture key, with a JSON body and extra headers.
async fn request(
    deps: &Deps,
    method: &str,
    path_and_query: &str,
    json_body: Option<Value>,
    headers: &[(&'static str, &str)],
) -> ApiGatewayV2httpResponse {
    let mut e = fixture("list-records");
    let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
    e.raw_path = Some(path.to_owned());
    e.request_context.http.path = Some(path.to_owned());
    e.raw_query_string = Some(query.to_owned());
    e.request_context.http.method = method.parse().unwrap();
    // one id per request, as API Gateway gives (the audit trail is keyed by it)
    e.request_context.request_id = Some(hw_domain::ids::new_id());
    if let Some(b) = json_body {
        e.body = Some(b.to_string());
        e.headers.insert("content-type", "application/json".parse().unwrap());
    }
    for (k, v) in headers {
        e.headers.insert(*k, v.parse().unwrap());
    }
    handle(deps, e).await
}

mod exports;
mod graphql_settings;
mod imports;
mod oauth;
mod users;
mod webhooks;
