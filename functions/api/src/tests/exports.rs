//! The export routes on in-memory adapters, with the runner of `hw-export-jobs` standing in for the function.
//! Every answer is checked against the static OpenAPI document (status listed, body matching the schema).

use std::sync::Arc;

use async_trait::async_trait;
use aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use hw_domain::principal::Principal;
use hw_export_jobs::memory::{MemoryExportQueue, MemoryExportStore};
use hw_export_jobs::runner::{Outcome, Runner};
use hw_export_jobs::schedule::MemorySchedules;
use hw_export_jobs::{ExportMessage, ExportQueue, ExportStore};
use hw_files::MemoryFiles;
use hw_store::ops::memory::MemoryOpsStore;
use hw_store::records::Records;
use hw_webhooks::memory::{MemoryJobQueue, MemoryWebhookStore};
use serde_json::{Value, json};

use super::{build, call_checked, request};
use crate::{Deps, ExportPorts, WebhookPorts};

struct World {
    deps: Deps,
    store: Arc<MemoryExportStore>,
    queue: Arc<MemoryExportQueue>,
    files: MemoryFiles,
    schedules: Arc<MemorySchedules>,
}

async fn world_with(scopes: &[&str], queue: Arc<dyn ExportQueue>) -> World {
    let webhooks = WebhookPorts {
        store: Arc::new(MemoryWebhookStore::default()),
        queue: Arc::new(MemoryJobQueue::default()),
        transport: Arc::new(hw_webhooks::sender::Sender::new(Default::default())),
    };
    let config = hw_resources::Config::for_prefix("test");
    let (deps, _) = build(scopes, Arc::new(MemoryOpsStore::default()), config, webhooks).await;
    let store = Arc::new(MemoryExportStore::default());
    let files = MemoryFiles::new();
    let schedules = Arc::new(MemorySchedules::default());
    let memory_queue = Arc::new(MemoryExportQueue::default());
    let ports =
        ExportPorts { store: store.clone(), queue, files: Arc::new(files.clone()), schedules: schedules.clone() };
    let deps = deps.with_exports(ports);
    for (name, fields) in [
        ("company", json!([{"name": "name", "type": "string"}])),
        (
            "contact",
            json!([{"name": "email", "type": "email"}, {"name": "name", "type": "string"},
                           {"name": "age", "type": "integer"}, {"name": "tax_id", "type": "string", "sensitive": true}]),
        ),
    ] {
        let input = serde_json::from_value(json!({"name": name, "fields": fields})).unwrap();
        deps.models.create("acme", input).await.unwrap();
    }
    let p = Principal::new("acme", "apikey:seed", vec!["admin".into()]);
    let model = deps.records.model("acme", "contact").await.unwrap();
    for (email, name, age) in [("ann@x.io", "Ann", 31), ("bo@x.io", "=cmd|' /C calc'!A0", 45), ("cy@x.io", "Cy", 19)] {
        let attrs = json!({"email": email, "name": name, "age": age, "tax_id": "T"});
        deps.records.create(&p, &model, None, attrs.as_object().unwrap(), &|f| format!("/{f}")).await.unwrap();
    }
    World { deps, store, queue: memory_queue, files, schedules }
}

async fn world(scopes: &[&str]) -> World {
    let queue = Arc::new(MemoryExportQueue::default());
    let mut w = world_with(scopes, queue.clone()).await;
    w.queue = queue;
    w
}

/// Sends a request as the fixture key (the handler tests' own helper).
async fn raw(
    w: &World,
    method: &str,
    path_and_query: &str,
    json_body: Option<Value>,
    headers: &[(&'static str, &str)],
) -> ApiGatewayV2httpResponse {
    request(&w.deps, method, path_and_query, json_body, headers).await
}

async fn call(w: &World, method: &str, path_and_query: &str, json_body: Option<Value>) -> (u16, Value) {
    let (status, v, _) = call_checked(&w.deps, method, path_and_query, json_body).await;
    (status, v)
}

/// Runs what the queue holds, as the `export-runner` function would.
async fn run_queued(w: &World) -> Vec<Outcome> {
    let records = Records {
        control: w.deps.control.clone(),
        data: w.deps.data.clone(),
        publisher: Arc::new(hw_aws::events::RecordingPublisher::default()),
        cipher: w.deps.records.cipher.clone(),
        publication: hw_store::records::Publication::Immediate,
    };
    let runner = Runner {
        store: w.store.clone(),
        records,
        files: Arc::new(w.files.clone()),
        publisher: Arc::new(hw_aws::events::RecordingPublisher::default()),
        lease: std::time::Duration::from_secs(930),
    };
    let mut out = Vec::new();
    for m in w.queue.take() {
        out.push(runner.handle(&m, Default::default()).await.unwrap());
    }
    out
}

fn pointers(problem: &Value) -> Vec<(&str, &str)> {
    problem["errors"]
        .as_array()
        .map_or(vec![], |a| a.iter().map(|e| (e["pointer"].as_str().unwrap(), e["code"].as_str().unwrap())).collect())
}

#[tokio::test]
async fn an_export_is_queued_run_and_downloadable_with_a_fresh_link() {
    let w = world(&["admin"]).await;
    let (status, v) = call(
        &w,
        "POST",
        "/v1/exports",
        Some(json!({"entity": "contact", "format": "CSV", "filter": {"age": {"gte": 30}}, "fields": ["name", "age"], "sort": "-age"})),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    assert_eq!((v["status"].as_str(), v["format"].as_str()), (Some("queued"), Some("csv")));
    assert_eq!(v["filter"], json!({"age": {"gte": "30"}}));
    assert_eq!(v["download_url"], Value::Null);
    assert_eq!(v["links"]["self"], format!("https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/v1/exports/{id}"));
    assert_eq!(
        w.queue.messages.lock().unwrap().clone(),
        [ExportMessage::Run { tenant: "acme".into(), export_id: id.clone() }]
    );

    assert!(matches!(run_queued(&w).await[..], [Outcome::Completed(_)]));
    let (status, v) = call(&w, "GET", &format!("/v1/exports/{id}"), None).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!((v["status"].as_str(), v["rows"].as_u64()), (Some("completed"), Some(2)));
    let url = v["download_url"].as_str().unwrap();
    let key = format!("exports/acme/{id}/{}", v["file_name"].as_str().unwrap());
    assert!(url.starts_with(&format!("memory://files/{key}")), "{url}");
    assert!(v["download_expires_at"].is_string() && v["file_expires_at"].is_string());
    let csv = String::from_utf8(w.files.get(&key).unwrap()).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "id,name,age");
    assert!(lines[1].ends_with(",'=cmd|' /C calc'!A0,45"), "neutralised, first by -age: {csv}");
    assert!(lines[2].ends_with(",Ann,31"));

    let r = raw(&w, "DELETE", &format!("/v1/exports/{id}"), None, &[]).await;
    assert_eq!(r.status_code, 204);
    assert!(w.files.get(&key).is_none(), "the file goes with the export");
    assert_eq!(call(&w, "GET", &format!("/v1/exports/{id}"), None).await.0, 404);
}

#[tokio::test]
async fn bad_definitions_get_one_error_per_member_and_store_nothing() {
    let w = world(&["admin"]).await;
    for (body, expected) in [
        (json!({"entity": "invoice", "format": "csv"}), vec![("/entity", "unknown-entity")]),
        (json!({"entity": "contact", "format": "pdf"}), vec![("/format", "invalid-format")]),
        (
            json!({"entity": "contact", "format": "csv", "filter": {"age": {"gte": "old"}}}),
            vec![("/filter/age/gte", "invalid-value")],
        ),
        (json!({"entity": "contact", "format": "csv", "filter": "filter[nope]=1"}), vec![("/filter", "unknown-field")]),
        (
            json!({"entity": "contact", "format": "csv", "filter": {"age": {"like": 1}}}),
            vec![("/filter/age/like", "invalid-operator")],
        ),
        (json!({"entity": "contact", "format": "csv", "sort": "-tax_id"}), vec![("/sort", "unsortable-field")]),
        (
            json!({"entity": "contact", "format": "csv", "fields": ["email", "nope"]}),
            vec![("/fields", "unknown-field")],
        ),
        (json!({"entity": "contact", "format": "csv", "fields": ["tax_id"]}), vec![("/fields", "sensitive-field")]),
        (json!({"format": "csv", "colour": "red"}), vec![("/colour", "unknown-member"), ("/entity", "required")]),
    ] {
        let (status, v) = call(&w, "POST", "/v1/exports", Some(body.clone())).await;
        assert_eq!(status, 422, "{body}: {v}");
        assert_eq!(v["type"], "https://docs.hubblewave.dev/problems/validation-failed", "{v}");
        assert_eq!(pointers(&v), expected, "{body}");
    }
    assert_eq!(call(&w, "POST", "/v1/exports", Some(json!([1]))).await.0, 422);
    assert!(w.queue.take().is_empty());
    let (_, page) = call(&w, "GET", "/v1/exports", None).await;
    assert_eq!(page["data"], json!([]));
}

#[tokio::test]
async fn scopes_decide_who_exports_what() {
    let w = world(&["data:read:contact"]).await;
    let (status, v) = call(
        &w,
        "POST",
        "/v1/exports",
        Some(json!({"entity": "contact", "format": "json", "include_sensitive": true})),
    )
    .await;
    assert_eq!((status, v["type"].as_str()), (403, Some("https://docs.hubblewave.dev/problems/insufficient-scope")));
    assert_eq!(call(&w, "POST", "/v1/exports", Some(json!({"entity": "company", "format": "json"}))).await.0, 403);
    assert_eq!(call(&w, "POST", "/v1/exports", Some(json!({"entity": "contact", "format": "json"}))).await.0, 201);
    assert_eq!(call(&w, "GET", "/v1/export-templates", None).await.0, 403, "templates need admin");
}

#[tokio::test]
async fn the_history_is_newest_first_in_pages_and_filters_by_status_and_entity() {
    let w = world(&["admin"]).await;
    let mut ids = Vec::new();
    for (entity, format) in [("contact", "csv"), ("company", "json"), ("contact", "xml")] {
        let (_, v) = call(&w, "POST", "/v1/exports", Some(json!({"entity": entity, "format": format}))).await;
        ids.push(v["id"].as_str().unwrap().to_owned());
    }
    w.queue.take();
    let (status, page) = call(&w, "GET", "/v1/exports?page[size]=2", None).await;
    assert_eq!(status, 200);
    let got: Vec<&str> = page["data"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(got, [ids[2].as_str(), ids[1].as_str()]);
    let next = page["links"]["next"].as_str().unwrap();
    let next = &next[next.find("/v1/").unwrap()..];
    let (_, rest) = call(&w, "GET", next, None).await;
    assert_eq!(rest["data"][0]["id"], ids[0].as_str());
    assert_eq!(rest["links"]["next"], Value::Null);
    let (_, contacts) = call(&w, "GET", "/v1/exports?entity=contact&status=queued", None).await;
    assert_eq!(contacts["data"].as_array().unwrap().len(), 2);
    let (_, done) = call(&w, "GET", "/v1/exports?status=completed", None).await;
    assert_eq!(done["data"], json!([]));
    for bad in
        ["/v1/exports?status=done", "/v1/exports?page[size]=0", "/v1/exports?page[cursor]=x", "/v1/exports?sort=id"]
    {
        assert_eq!(call(&w, "GET", bad, None).await.0, 400, "{bad}");
    }
}

#[tokio::test]
async fn a_queue_that_refuses_leaves_no_export_behind() {
    struct Down;
    #[async_trait]
    impl ExportQueue for Down {
        async fn enqueue(&self, _: &ExportMessage) -> Result<(), hw_export_jobs::ports::QueueError> {
            Err(hw_export_jobs::ports::QueueError("unavailable (test)".into()))
        }
    }
    let w = world_with(&["admin"], Arc::new(Down)).await;
    let (status, _) = call(&w, "POST", "/v1/exports", Some(json!({"entity": "contact", "format": "csv"}))).await;
    assert_eq!(status, 503);
    let page = w.store.list_jobs("acme", &hw_export_jobs::JobQuery { limit: 10, ..Default::default() }).await.unwrap();
    assert!(page.items.is_empty(), "a job nobody would run is not kept");
}

#[tokio::test]
async fn a_retried_request_with_its_idempotency_key_queues_one_export() {
    let w = world(&["admin"]).await;
    let body = json!({"entity": "contact", "format": "csv"});
    let first = raw(&w, "POST", "/v1/exports", Some(body.clone()), &[("idempotency-key", "export-1")]).await;
    let again = raw(&w, "POST", "/v1/exports", Some(body.clone()), &[("idempotency-key", "export-1")]).await;
    assert_eq!((first.status_code, again.status_code), (201, 201));
    assert_eq!(super::body(&first)["id"], super::body(&again)["id"]);
    assert_eq!(super::header(&again, "idempotent-replayed"), "true");
    assert_eq!(w.queue.take().len(), 1, "the retry queued nothing");
    let bad = raw(&w, "POST", "/v1/exports", Some(body), &[("idempotency-key", " ")]).await;
    assert_eq!(bad.status_code, 400);
    let patch = raw(
        &w,
        "PATCH",
        "/v1/export-templates/tpl_01JH3Q0W9ZK7M8T3V7X6B2N4PQ",
        Some(json!({})),
        &[("idempotency-key", " ")],
    );
    assert_eq!(patch.await.status_code, 400, "template changes take keys too");
}

mod templates;
