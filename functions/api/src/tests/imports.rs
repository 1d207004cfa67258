//! The import routes on in-memory adapters: the upload is put straight into the in-memory file store and planned by
//! calling the planner, as the import-planner function would on the upload's S3 event. Every answer is checked
//! against the static OpenAPI document: its status must be documented for the operation, and its body must match
//! the schema.

use std::sync::Arc;

use aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use hw_aws::events::RecordingPublisher;
use hw_domain::model::Model;
use hw_domain::principal::Principal;
use hw_files::MemoryFiles;
use hw_import_jobs::ImportStatus;
use hw_import_jobs::memory::MemoryImports;
use hw_import_jobs::planner::{PlannerDeps, plan_upload};
use hw_import_jobs::queue::MemoryChunkQueue;
use hw_import_jobs::service::{ImportLimits, Imports, NewImport};
use hw_store::ops::memory::MemoryOpsStore;
use serde_json::{Value, json};

use super::{assert_conforms, call_checked, deps_with, header, request};
use crate::Deps;

const BASE: &str = "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com";
const MIB: u64 = 1024 * 1024;

const CSV: &str = "email,name,age,code\r\n\
ada@example.com,Ada Lovelace,36,A1\r\n\
grace@example.com,Grace Hopper,45,G1\r\n\
alan@example.com,Alan Turing,41,T1\r\n\
edsger@example.com,Edsger Dijkstra,72,D1\r\n\
barbara@example.com,Barbara Liskov,84,L1\r\n\
donald@example.com,Donald Knuth,86,K1\r\n";

struct World {
    deps: Deps,
    files: MemoryFiles,
    queue: Arc<MemoryChunkQueue>,
    publisher: Arc<RecordingPublisher>,
}

fn model(name: &str, fields: Value) -> Model {
    serde_json::from_value(json!({
        "name": name, "label": name, "fields": fields, "version": 1,
        "created_at": "2026-11-25T00:00:00Z", "updated_at": "2026-11-25T00:00:00Z"
    }))
    .expect("a model")
}

/// The fixture key holds `scopes`; the tenant has `contact` (unique `email`) and `company` models.
async fn world(scopes: &[&str]) -> World {
    let (deps, publisher) = deps_with(scopes, Arc::new(MemoryOpsStore::default())).await;
    let files = MemoryFiles::new();
    let queue = Arc::new(MemoryChunkQueue::default());
    let deps = deps.with_imports(Imports {
        store: Arc::new(MemoryImports::new()),
        files: Arc::new(files.clone()),
        queue: queue.clone(),
        publisher: publisher.clone(),
        limits: ImportLimits::default(),
    });
    let contact = model(
        "contact",
        json!([{"name": "email", "type": "email", "required": true, "unique": true},
               {"name": "name", "type": "string"},
               {"name": "age", "type": "integer", "min": 0},
               {"name": "code", "type": "string"}]),
    );
    let company = model("company", json!([{"name": "name", "type": "string", "required": true, "unique": true}]));
    for m in [contact, company] {
        deps.control.put_model("acme", &m, None).await.unwrap();
    }
    World { deps, files, queue, publisher }
}

/// Sends a request as the fixture key and checks the answer against the document.
async fn call(
    w: &World,
    method: &str,
    path_and_query: &str,
    json_body: Option<Value>,
) -> (u16, Value, ApiGatewayV2httpResponse) {
    call_checked(&w.deps, method, path_and_query, json_body).await
}

fn pointers(problem: &Value) -> Vec<(&str, &str)> {
    problem["errors"]
        .as_array()
        .map_or(vec![], |a| a.iter().map(|e| (e["pointer"].as_str().unwrap(), e["code"].as_str().unwrap())).collect())
}

fn problem_type(slug: &str) -> String {
    format!("https://docs.hubblewave.dev/problems/{slug}")
}

/// Creates an import of a contacts CSV and answers its id.
async fn create(w: &World, extra: Value) -> String {
    let mut b = json!({"entity": "contact", "file_name": "contacts.csv"});
    for (k, v) in extra.as_object().unwrap() {
        b[k] = v.clone();
    }
    let (status, v, _) = call(w, "POST", "/v1/imports", Some(b)).await;
    assert_eq!(status, 201, "{v}");
    v["id"].as_str().unwrap().to_owned()
}

/// Puts `bytes` where the import's upload lands and plans it, as the planner function would on the S3 event.
async fn upload_and_plan(w: &World, id: &str, bytes: &str) {
    let job = w.deps.imports.get("acme", id).await.unwrap();
    w.files.put(&job.file_key, bytes.as_bytes().to_vec());
    plan(w, &job.file_key).await;
}

async fn plan(w: &World, key: &str) {
    let deps = PlannerDeps {
        store: w.deps.imports.store.clone(),
        files: Arc::new(w.files.clone()),
        control: w.deps.control.clone(),
        publisher: w.publisher.clone(),
        limits: ImportLimits::default(),
        // small chunks, so the little file is cut into several
        chunk_bytes: 80,
        sheet_chunk_rows: 1000,
        spreadsheet_limits: Default::default(),
        scratch: std::env::temp_dir(),
    };
    plan_upload(&deps, key).await.unwrap();
}

/// An import of [`CSV`], planned and ready.
async fn ready(w: &World) -> String {
    let id = create(w, json!({})).await;
    upload_and_plan(w, &id, CSV).await;
    let (status, v, _) = call(w, "GET", &format!("/v1/imports/{id}"), None).await;
    assert_eq!((status, v["status"].as_str()), (200, Some("ready")), "{v}");
    id
}

#[tokio::test]
async fn create_answers_a_presigned_upload() {
    let w = world(&["admin"]).await;
    let (status, v, r) =
        call(&w, "POST", "/v1/imports", Some(json!({"entity": "contact", "file_name": "contacts.csv"}))).await;
    assert_eq!(status, 201, "{v}");
    let id = v["id"].as_str().unwrap();
    assert_eq!(header(&r, "location"), format!("{BASE}/v1/imports/{id}"));
    assert_eq!(header(&r, "cache-control"), "no-store");
    assert_eq!(v["status"], "awaiting_upload");
    assert_eq!((v["entity"].as_str(), v["file_name"].as_str()), (Some("contact"), Some("contacts.csv")));
    assert_eq!(v["format"], Value::Null, "nothing is known of the file yet");
    assert_eq!(v["upload"]["method"], "PUT");
    assert_eq!(v["upload"]["url"], format!("memory://files/uploads/acme/{id}/contacts.csv"));
    assert!(v["upload_expires_at"].as_str().unwrap().ends_with('Z'));
    assert!(v.get("multipart").is_none(), "a small or unknown size gets one PUT");
    assert_eq!(v["created_by"], "apikey:key_fixture");
    assert_eq!(v["counts"], json!({"total": 0, "ok": 0, "failed": 0, "skipped": 0}));

    // asked for, or implied by a declared size over 16 MiB: parts as well
    let (status, v, _) = call(&w, "POST", "/v1/imports", Some(json!({"entity": "contact", "multipart": true}))).await;
    assert_eq!(status, 201, "{v}");
    let id = v["id"].as_str().unwrap();
    assert_eq!(v["file_name"], "upload");
    assert!(!v["multipart"]["parts"].as_array().unwrap().is_empty());
    assert_eq!(
        v["multipart"]["complete"],
        json!({"url": format!("{BASE}/v1/imports/{id}/complete-upload"), "method": "POST"})
    );
    assert_eq!(v["links"]["complete_upload"], format!("{BASE}/v1/imports/{id}/complete-upload"));

    let (status, v, _) = call(&w, "POST", "/v1/imports", Some(json!({"entity": "contact", "size": 20 * MIB}))).await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["size"], 20 * MIB);
    assert_eq!(v["multipart"]["part_size"], 5 * MIB);
    let parts = v["multipart"]["parts"].as_array().unwrap();
    let numbers: Vec<u64> = parts.iter().map(|p| p["part_number"].as_u64().unwrap()).collect();
    assert_eq!(numbers, [1, 2, 3, 4]);
    assert!(parts[1]["url"].as_str().unwrap().contains("partNumber=2"));
    let (_, v, _) = call(&w, "POST", "/v1/imports", Some(json!({"entity": "contact", "size": 16 * MIB}))).await;
    assert!(v.get("multipart").is_none(), "16 MiB is not over the threshold");
}

#[tokio::test]
async fn create_refuses_what_cannot_be_imported() {
    let w = world(&["admin"]).await;
    let (status, problem, _) =
        call(&w, "POST", "/v1/imports", Some(json!({"entity": "contact", "size": 201 * MIB}))).await;
    assert_eq!(status, 413, "{problem}");
    assert_eq!(problem["type"], problem_type("file-too-large"));

    let (status, problem, _) = call(&w, "POST", "/v1/imports", Some(json!({"entity": "nope"}))).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(pointers(&problem), [("/entity", "unknown-entity")]);

    let (status, problem, _) =
        call(&w, "POST", "/v1/imports", Some(json!({"entity": "contact", "filename": "x.csv"}))).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(pointers(&problem), [("", "invalid-body")]);
    assert!(problem["errors"][0]["detail"].as_str().unwrap().contains("filename"));

    let (status, problem, _) = call(&w, "POST", "/v1/imports", Some(json!({"size": 3}))).await;
    assert_eq!((status, pointers(&problem)), (422, vec![("", "invalid-body")]), "`entity` is required");

    let r = request(&w.deps, "POST", "/v1/imports", None, &[("content-type", "text/csv")]).await;
    assert_conforms("POST", "/v1/imports", &r);
    assert_eq!(r.status_code, 415);

    let (_, page, _) = call(&w, "GET", "/v1/imports", None).await;
    assert_eq!(page["data"], json!([]), "nothing was created");
}

#[tokio::test]
async fn reading_needs_the_entity_scope() {
    let w = world(&["data:write:company"]).await;
    let (status, v, _) = call(&w, "POST", "/v1/imports", Some(json!({"entity": "company"}))).await;
    assert_eq!(status, 201, "{v}");
    let company_import = v["id"].as_str().unwrap().to_owned();
    let (status, problem, r) = call(&w, "POST", "/v1/imports", Some(json!({"entity": "contact"}))).await;
    assert_eq!(status, 403, "{problem}");
    assert!(header(&r, "www-authenticate").contains("insufficient_scope"));

    // a contact import someone else made
    let admin = Principal::new("acme", "apikey:other", vec!["admin".into()]);
    let contact = w.deps.control.get_model("acme", "contact").await.unwrap().unwrap();
    let new: NewImport = serde_json::from_value(json!({"entity": "contact"})).unwrap();
    let other = w.deps.imports.create(&admin, &contact, new).await.unwrap().job.id;

    assert_eq!(call(&w, "GET", &format!("/v1/imports/{company_import}"), None).await.0, 200);
    let (status, problem, _) = call(&w, "GET", &format!("/v1/imports/{other}"), None).await;
    assert_eq!(status, 403, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("data:read:contact"), "{problem}");
    assert_eq!(call(&w, "POST", &format!("/v1/imports/{other}/cancel"), None).await.0, 403);
    assert_eq!(call(&w, "GET", "/v1/imports", None).await.0, 403, "the history spans every entity");

    let (status, problem, _) = call(&w, "GET", "/v1/imports/01JUNKNOWN00000000000000000", None).await;
    assert_eq!(status, 404, "{problem}");
    assert_eq!(
        call(&w, "POST", "/v1/imports/01JUNKNOWN00000000000000000/start", Some(json!({"mapping": {}}))).await.0,
        404
    );
}

#[tokio::test]
async fn start_waits_for_planning() {
    let w = world(&["admin"]).await;
    let id = create(&w, json!({})).await;
    let (status, problem, _) =
        call(&w, "POST", &format!("/v1/imports/{id}/start"), Some(json!({"mapping": {"email": "email"}}))).await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(problem["type"], problem_type("import-state"));
    assert!(problem["detail"].as_str().unwrap().contains("awaiting_upload"), "{problem}");
    assert!(w.queue.take().is_empty());
}

#[tokio::test]
async fn a_planned_csv_starts_one_chunk_message_per_chunk() {
    let w = world(&["admin"]).await;
    let id = ready(&w).await;
    let (_, v, r) = call(&w, "GET", &format!("/v1/imports/{id}"), None).await;
    assert_eq!(header(&r, "cache-control"), "no-store");
    assert_eq!(v["format"]["kind"], "csv");
    assert_eq!(v["format"]["delimiter"], ",");
    assert_eq!(v["total_rows"], 6);
    let columns: Vec<&str> = v["columns"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(columns, ["email", "name", "age", "code"]);
    let age = v["columns"].as_array().unwrap().iter().find(|c| c["name"] == "age").unwrap();
    assert_eq!(age["type"], "integer");
    assert_eq!(v["preview"][0], json!({"email": "ada@example.com", "name": "Ada Lovelace", "age": 36, "code": "A1"}));
    assert_eq!(v["suggested_mapping"]["email"], "email");
    assert!(v.get("run").is_none() && v.get("progress").is_none());
    let job = w.deps.imports.get("acme", &id).await.unwrap();
    let chunks = job.plan.as_ref().unwrap().chunks.len();
    assert!(chunks > 1, "the little file is cut into several chunks ({chunks})");

    let start = json!({"mapping": {"email": "email", "name": "name", "age": "age"},
                       "rules": {"name": [{"op": "trim"}, {"op": "titlecase"}],
                                 "code": [{"op": "concat", "columns": ["code", "age"], "separator": "-"}]},
                       "mode": "upsert", "key": ["email"]});
    let (status, v, _) = call(&w, "POST", &format!("/v1/imports/{id}/start"), Some(start)).await;
    assert_eq!(status, 202, "{v}");
    assert_eq!(v["status"], "running");
    assert_eq!(v["run"]["number"], 1);
    assert_eq!((v["run"]["mode"].as_str(), v["run"]["duplicates"].as_str()), (Some("upsert"), Some("merge")));
    assert_eq!(v["run"]["rules"]["code"][0]["op"], "concat");
    assert_eq!(v["dry_run"], false);
    assert_eq!(v["started_by"], "apikey:key_fixture");
    assert_eq!(v["progress"]["chunks"], chunks);
    assert_eq!(v["progress"]["rows_total"], 6);
    assert_eq!(v["mapping"], json!({"email": "email", "name": "name", "age": "age"}));
    let sent = w.queue.take();
    assert_eq!(sent.len(), chunks, "one message per chunk");
    let indexes: Vec<usize> = sent.iter().map(|m| m.chunk).collect();
    assert_eq!(indexes, (0..chunks).collect::<Vec<_>>());
    assert!(sent.iter().all(|m| m.import_id == id && m.run == 1 && m.tenant == "acme"));

    let (status, problem, _) =
        call(&w, "POST", &format!("/v1/imports/{id}/start"), Some(json!({"mapping": {"email": "email"}}))).await;
    assert_eq!(status, 409, "a running import cannot be started again: {problem}");
    let (status, problem, _) = call(&w, "POST", &format!("/v1/imports/{id}/retry"), None).await;
    assert_eq!(status, 409, "nothing failed: {problem}");
    assert!(w.queue.take().is_empty());
}

#[tokio::test]
async fn a_key_first_seen_after_the_first_mib_is_a_column_too() {
    let w = world(&["admin"]).await;
    let id = create(&w, json!({"file_name": "contacts.ndjson"})).await;
    // 1.5 MiB of records with two keys, then one record with a third: the planner's first look (1 MiB) misses it
    let mut text = String::new();
    let mut n = 0;
    while text.len() < 3 * MIB as usize / 2 {
        text.push_str(&format!("{{\"email\": \"p{n}@example.com\", \"name\": \"Person {n}\"}}\n"));
        n += 1;
    }
    text.push_str("{\"email\": \"late@example.com\", \"name\": \"Late\", \"badge\": \"L-1\"}\n");
    upload_and_plan(&w, &id, &text).await;
    let (_, v, _) = call(&w, "GET", &format!("/v1/imports/{id}"), None).await;
    assert_eq!(v["status"], "ready", "{v}");
    let columns: Vec<&str> = v["columns"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(columns, ["email", "name", "badge"]);
    assert_eq!(v["preview"][0]["badge"], Value::Null, "preview rows without the key show it empty");
    let start = json!({"mapping": {"email": "email", "name": "name", "badge": "code"}});
    let (status, v, _) = call(&w, "POST", &format!("/v1/imports/{id}/start"), Some(start)).await;
    assert_eq!(status, 202, "the late key maps like any other: {v}");
}

#[tokio::test]
async fn counts_move_row_by_row_while_chunks_work() {
    use hw_import_jobs::{ChunkOutcome, ChunkProgress, ChunkState};
    let w = world(&["admin"]).await;
    let id = ready(&w).await;
    let start = json!({"mapping": {"email": "email", "name": "name"}, "key": ["email"]});
    let (status, _, _) = call(&w, "POST", &format!("/v1/imports/{id}/start"), Some(start)).await;
    assert_eq!(status, 202);
    let store = w.deps.imports.store.clone();
    let counts = |v: &Value| (v["counts"].clone(), v["progress"]["rows_done"].clone());
    // chunk 0 is at work: what it reported shows at once
    store.report_progress("acme", &id, 1, 0, ChunkProgress { ok: 1, failed: 1, skipped: 0 }).await.unwrap();
    let (_, v, _) = call(&w, "GET", &format!("/v1/imports/{id}"), None).await;
    assert_eq!(counts(&v), (json!({"total": 2, "ok": 1, "failed": 1, "skipped": 0}), json!(2)), "{v}");
    // once recorded, the chunk's outcome counts and its last report no longer does (no row counted twice)
    let outcome =
        ChunkOutcome { state: ChunkState::Done, rows: 3, ok: 2, failed: 1, skipped: 0, error: None, report_part: None };
    store.record_chunk("acme", &id, 1, 0, &outcome).await.unwrap();
    store.report_progress("acme", &id, 1, 1, ChunkProgress { ok: 0, failed: 0, skipped: 1 }).await.unwrap();
    let (_, v, _) = call(&w, "GET", &format!("/v1/imports/{id}"), None).await;
    assert_eq!(counts(&v), (json!({"total": 4, "ok": 2, "failed": 1, "skipped": 1}), json!(4)), "{v}");
}

#[tokio::test]
async fn start_reports_every_problem_with_a_pointer() {
    let w = world(&["admin"]).await;
    let id = ready(&w).await;
    let path = format!("/v1/imports/{id}/start");
    let cases = [
        (json!({"mapping": {"nope": "email"}}), vec![("/mapping/nope", "unknown-column")]),
        (json!({"mapping": {"email": "nope"}}), vec![("/mapping/email", "unknown-field")]),
        (json!({"mapping": {"email": "email", "name": "email"}}), vec![("/mapping/name", "field-mapped-twice")]),
        (
            json!({"mapping": {"email": "email", "name": "name"},
                   "rules": {"name": [{"op": "trim"}, {"op": "regex_replace", "pattern": "(", "replacement": ""}]}}),
            vec![("/rules/name/1/pattern", "bad-regex")],
        ),
        (json!({"mapping": {"email": "email"}, "mode": "upsert"}), vec![("/key", "key-required")]),
        (
            json!({"mapping": {"email": "email", "name": "name"}, "mode": "upsert", "key": ["name"]}),
            vec![("/key/0", "key-not-unique")],
        ),
        (json!({"mapping": {"email": "email"}, "key": ["email", "nope"]}), vec![("/key/1", "unknown-field")]),
        (
            json!({"mapping": {"email": "email"}, "mode": "insert", "duplicates": "merge"}),
            vec![("/duplicates", "invalid-duplicates")],
        ),
        (
            json!({"mapping": {"nope": "email"}, "mode": "upsert"}),
            vec![("/mapping/nope", "unknown-column"), ("/key", "key-required")],
        ),
        (json!({"mapping": {"email": "email"}, "dryrun": true}), vec![("", "invalid-body")]),
        (json!({"mapping": {"email": "email"}, "rules": {"name": [{"op": "shout"}]}}), vec![("", "invalid-spec")]),
    ];
    for (body, expected) in cases {
        let (status, problem, _) = call(&w, "POST", &path, Some(body.clone())).await;
        assert_eq!(status, 422, "{body}: {problem}");
        assert_eq!(problem["type"], problem_type("validation-failed"));
        assert_eq!(pointers(&problem), expected, "{body}: {problem}");
    }
    assert!(w.queue.take().is_empty(), "nothing was started");
    let (_, v, _) = call(&w, "GET", &format!("/v1/imports/{id}"), None).await;
    assert_eq!(v["status"], "ready");

    // a dry run, then the real one
    let (status, v, _) = call(&w, "POST", &path, Some(json!({"mapping": {"email": "email"}, "dry_run": true}))).await;
    assert_eq!((status, v["run"]["dry_run"].as_bool()), (202, Some(true)), "{v}");
    assert_eq!(v["dry_run"], true);
}

#[tokio::test]
async fn a_cancelled_import_cannot_start() {
    let w = world(&["admin"]).await;
    let id = ready(&w).await;
    let (status, v, _) = call(&w, "POST", &format!("/v1/imports/{id}/cancel"), None).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], "cancelled");
    assert!(v["finished_at"].is_string());
    let types: Vec<String> = w.publisher.published.lock().unwrap().iter().map(|e| e.event_type.clone()).collect();
    assert!(types.contains(&"import.cancelled".to_owned()), "{types:?}");

    let (status, problem, _) =
        call(&w, "POST", &format!("/v1/imports/{id}/start"), Some(json!({"mapping": {"email": "email"}}))).await;
    assert_eq!(status, 409, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("cancelled"), "{problem}");
    assert_eq!(call(&w, "POST", &format!("/v1/imports/{id}/cancel"), None).await.0, 409, "cancelled once");
    assert!(w.queue.take().is_empty());
    let job = w.deps.imports.get("acme", &id).await.unwrap();
    assert_eq!(job.status, ImportStatus::Cancelled);
}

#[tokio::test]
async fn a_multipart_upload_is_completed_then_planned() {
    let w = world(&["admin"]).await;
    let (status, v, _) =
        call(&w, "POST", "/v1/imports", Some(json!({"entity": "contact", "file_name": "c.csv", "multipart": true})))
            .await;
    assert_eq!(status, 201, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    let upload_id = v["multipart"]["upload_id"].as_str().unwrap();
    let (head, tail) = CSV.split_at(70);
    let e1 = w.files.put_part(upload_id, 1, head.as_bytes().to_vec()).unwrap();
    let e2 = w.files.put_part(upload_id, 2, tail.as_bytes().to_vec()).unwrap();
    let path = format!("/v1/imports/{id}/complete-upload");
    let (status, problem, _) = call(&w, "POST", &path, Some(json!({"parts": []}))).await;
    assert_eq!((status, pointers(&problem)), (422, vec![("/parts", "empty")]), "{problem}");
    let parts = json!({"parts": [{"part_number": 2, "etag": e2}, {"part_number": 1, "etag": e1}]});
    let (status, v, _) = call(&w, "POST", &path, Some(parts.clone())).await;
    assert_eq!(status, 200, "{v}");
    let job = w.deps.imports.get("acme", &id).await.unwrap();
    assert_eq!(w.files.get(&job.file_key).unwrap(), CSV.as_bytes(), "parts joined in order");
    assert_eq!(call(&w, "POST", &path, Some(parts.clone())).await.0, 409, "an upload completes once");
    plan(&w, &job.file_key).await;
    let (_, v, _) = call(&w, "GET", &format!("/v1/imports/{id}"), None).await;
    assert_eq!((v["status"].as_str(), v["total_rows"].as_u64()), (Some("ready"), Some(6)), "{v}");
    assert!(v["links"].get("complete_upload").is_none());
    assert_eq!(call(&w, "POST", &path, Some(parts)).await.0, 409, "no longer awaiting its upload");

    let single = create(&w, json!({})).await;
    let (status, problem, _) = call(
        &w,
        "POST",
        &format!("/v1/imports/{single}/complete-upload"),
        Some(json!({"parts": [{"part_number": 1, "etag": "x"}]})),
    )
    .await;
    assert_eq!(status, 409, "not a multipart upload: {problem}");
}

#[tokio::test]
async fn the_history_is_newest_first_in_pages() {
    let w = world(&["admin"]).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(create(&w, json!({})).await);
        // ids are ULIDs: one millisecond apart, they sort by creation
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    upload_and_plan(&w, &ids[2], CSV).await;
    let (status, page, _) = call(&w, "GET", "/v1/imports?page[size]=2", None).await;
    assert_eq!(status, 200, "{page}");
    let got: Vec<&str> = page["data"].as_array().unwrap().iter().map(|j| j["id"].as_str().unwrap()).collect();
    assert_eq!(got, [ids[2].as_str(), ids[1].as_str()]);
    assert_eq!(page["data"][0]["format"]["kind"], "csv", "the same format object as the single view");
    assert_eq!(page["data"][1]["format"], Value::Null);
    assert_eq!(page["data"][0]["links"]["self"], format!("{BASE}/v1/imports/{}", ids[2]));
    assert_eq!(page["links"]["self"], format!("{BASE}/v1/imports"));
    let next = page["links"]["next"].as_str().unwrap();
    let (status, page, _) = call(&w, "GET", next.strip_prefix(BASE).unwrap(), None).await;
    assert_eq!(status, 200, "{page}");
    let got: Vec<&str> = page["data"].as_array().unwrap().iter().map(|j| j["id"].as_str().unwrap()).collect();
    assert_eq!(got, [ids[0].as_str()]);
    assert!(page["links"].get("next").is_none(), "the last page");

    let (_, all, _) = call(&w, "GET", "/v1/imports", None).await;
    assert_eq!(all["data"].as_array().unwrap().len(), 3);
    for bad in ["page[size]=0", "page[size]=101", "page[size]=x", "page[cursor]=not-a-cursor", "sort=id"] {
        let (status, problem, _) = call(&w, "GET", &format!("/v1/imports?{bad}"), None).await;
        assert_eq!(status, 400, "{bad}: {problem}");
    }
}
