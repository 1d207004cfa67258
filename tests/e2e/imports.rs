//! Imports end to end: files made by independent tools (Python's csv, json and xml.etree, and openpyxl; see
//! tests/imports/make_files.py) are uploaded through the presigned URL with plain HTTP, planned by the
//! `import-planner` (started by the bucket's S3 notification), started, processed by the chunk processors and
//! checked through the records API; bad files end `failed` with their reason and write nothing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use hubble_e2e::Tenant;
use serde_json::{Value, json};

use crate::stack;

mod store;

/// The contacts model every file of make_files.py maps onto.
async fn define_contacts(t: &Tenant) {
    let r = t
        .post_json(
            "/v1/models",
            &json!({"name": "contact", "label": "Contact", "fields": [
                {"name": "email", "type": "email", "required": true, "unique": true},
                {"name": "first_name", "type": "string"},
                {"name": "age", "type": "integer", "min": 0},
                {"name": "subscribed", "type": "boolean"},
                {"name": "joined_on", "type": "date"},
                {"name": "notes", "type": "text"}]}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
}

/// Runs make_files.py (with the test venv's Python, which has openpyxl) into a fresh directory.
fn fixtures() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hubble-import-fixtures-{}", ulid::Ulid::new()));
    let python = std::env::var("HUBBLE_E2E_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("imports/make_files.py");
    let status = std::process::Command::new(python).arg(&script).arg(&dir).status().expect("python runs");
    assert!(status.success(), "make_files.py failed");
    dir
}

/// Creates an import (of `contact`, unless `extra` names another entity), uploads `bytes` through the presigned
/// URL and waits until planning has finished.
pub(crate) async fn upload(t: &Tenant, file_name: &str, bytes: Vec<u8>, extra: Value) -> Value {
    let mut body = json!({"entity": "contact", "file_name": file_name});
    body.as_object_mut().unwrap().extend(extra.as_object().cloned().unwrap_or_default());
    let r = t.post_json("/v1/imports", &body).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["status"], "awaiting_upload");
    let id = r.body["id"].as_str().unwrap().to_owned();
    let upload = &r.body["upload"];
    let mut put = t.http.put(upload["url"].as_str().unwrap());
    for (k, v) in upload["headers"].as_object().unwrap() {
        put = put.header(k, v.as_str().unwrap());
    }
    let res = put.body(bytes).send().await.expect("the emulator answers");
    assert!(res.status().is_success(), "upload: {}", res.status());
    wait(t, &id, &["awaiting_upload", "planning"], Duration::from_secs(60)).await
}

/// Waits while the import's status is one of `passing`.
pub(crate) async fn wait(t: &Tenant, id: &str, passing: &[&str], timeout: Duration) -> Value {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let r = t.get(&format!("/v1/imports/{id}")).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        if !passing.contains(&r.body["status"].as_str().unwrap_or_default()) {
            return r.body;
        }
        assert!(tokio::time::Instant::now() < deadline, "import {id} stayed {} for {timeout:?}", r.body["status"]);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

async fn start(t: &Tenant, id: &str, body: Value) -> Value {
    let r = t.post_json(&format!("/v1/imports/{id}/start"), &body).await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    wait(t, id, &["running"], Duration::from_secs(120)).await
}

/// The mapping of make_files.py's header onto the contacts model, with rules a person would add.
fn spec() -> Value {
    json!({
        "mapping": {"E-mail": "email", "First name": "first_name", "Age": "age", "Subscribed": "subscribed",
                    "Joined": "joined_on", "Notes": "notes"},
        "rules": {"email": [{"op": "trim"}, {"op": "lowercase"}], "joined_on": [{"op": "date_format", "format": "%d/%m/%Y"}]},
        "mode": "insert",
        "key": ["email"],
    })
}

async fn contacts(t: &Tenant) -> Vec<Value> {
    let r = t.get("/v1/data/contact?sort=email&page[size]=100").await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["data"].as_array().cloned().unwrap_or_default()
}

fn emails(records: &[Value]) -> Vec<String> {
    records.iter().map(|r| r["attributes"]["email"].as_str().unwrap_or_default().to_owned()).collect()
}

const EMAILS: [&str; 5] = ["ana@example.com", "bo@example.com", "cy@example.com", "dee@example.com", "eve@example.com"];

#[tokio::test]
async fn a_messy_csv_is_planned_imported_and_reported_row_by_row() {
    let s = stack().await;
    let t = s.tenant().await;
    define_contacts(&t).await;
    let dir = fixtures();
    let planned = upload(&t, "contacts.csv", std::fs::read(dir.join("contacts.csv")).unwrap(), json!({})).await;
    assert_eq!(planned["status"], "ready", "{planned:#}");
    assert_eq!(planned["format"]["kind"], "csv");
    assert_eq!(planned["format"]["delimiter"], ";");
    assert_eq!(planned["format"]["encoding"], "utf-8-bom");
    assert_eq!(planned["total_rows"], 8);
    let columns: Vec<&str> =
        planned["columns"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(columns, ["E-mail", "First name", "Age", "Subscribed", "Joined", "Notes"]);
    assert_eq!(planned["suggested_mapping"]["E-mail"], "email", "{:#}", planned["suggested_mapping"]);
    assert_eq!(planned["preview"][1]["Notes"], "two\nlines", "a quoted line break stays in its cell");
    let id = planned["id"].as_str().unwrap();

    let done = start(&t, id, spec()).await;
    assert_eq!(done["status"], "completed", "{done:#}");
    // 5 good rows; `old` is no age; the second ana@ is a duplicate (skipped); gus has too few cells
    assert_eq!(done["counts"], json!({"total": 8, "ok": 5, "failed": 2, "skipped": 1}), "{done:#}");
    let records = contacts(&t).await;
    assert_eq!(emails(&records), EMAILS);
    let bo = records.iter().find(|r| r["attributes"]["email"] == "bo@example.com").unwrap();
    assert_eq!(bo["attributes"]["first_name"], "Bö");
    assert_eq!(bo["attributes"]["joined_on"], "2023-12-01");
    assert_eq!(bo["attributes"]["subscribed"], false);
    assert_eq!(bo["attributes"]["age"], 27);

    let report_url = done["error_report_url"].as_str().expect("an error report");
    let report = t.http.get(report_url).send().await.unwrap().text().await.unwrap();
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(lines[0], "row,column,value,reason");
    // rows as a spreadsheet shows them: the header is row 1, and ana's quoted line break is inside row 3
    assert!(lines.iter().any(|l| l.starts_with("7,Age,old,")), "{report}");
    assert!(lines.iter().any(|l| l.starts_with("9,")), "{report}");

    let history = t.get("/v1/imports").await;
    assert_eq!(history.status, 200);
    let first = &history.body["data"][0];
    assert_eq!(first["id"], id);
    assert_eq!(first["file_name"], "contacts.csv");
    assert!(first["duration_ms"].as_i64().is_some());
    assert_eq!(first["mapping"]["E-mail"], "email");
}

#[tokio::test]
async fn every_format_gives_the_same_records() {
    let s = stack().await;
    let dir = fixtures();
    for (file, kind) in [
        ("contacts-1252.csv", "csv"),
        ("contacts.xlsx", "xlsx"),
        ("contacts.json", "json"),
        ("contacts.ndjson", "ndjson"),
        ("contacts.xml", "xml"),
    ] {
        let t = s.tenant().await;
        define_contacts(&t).await;
        let planned = upload(&t, file, std::fs::read(dir.join(file)).unwrap(), json!({})).await;
        assert_eq!(planned["status"], "ready", "{file}: {planned:#}");
        assert_eq!(planned["format"]["kind"], kind, "{file}");
        assert_eq!(planned["total_rows"], 5, "{file}");
        let columns: Vec<String> =
            planned["columns"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap().to_owned()).collect();
        // XML element names cannot hold spaces or dashes: make_files.py wrote E-mail as Email, First name as First_name
        let name = |wanted: &str| {
            columns
                .iter()
                .find(|c| c.replace(['_', '-', ' '], "").eq_ignore_ascii_case(&wanted.replace(['-', ' '], "")))
                .cloned()
                .unwrap_or_else(|| panic!("{file}: no column like {wanted} in {columns:?}"))
        };
        let mut spec = spec();
        spec["mapping"] = json!({
            name("E-mail"): "email", name("First name"): "first_name", name("Age"): "age",
            name("Subscribed"): "subscribed", name("Joined"): "joined_on",
        });
        if kind == "xlsx" {
            // a real date cell: no date_format rule needed
            spec["rules"] = json!({"email": [{"op": "trim"}, {"op": "lowercase"}]});
            assert_eq!(planned["format"]["sheet"], "Contacts", "the first sheet has no table");
        }
        let id = planned["id"].as_str().unwrap();
        let done = start(&t, id, spec).await;
        assert_eq!(done["status"], "completed", "{file}: {done:#}");
        assert_eq!(done["counts"]["ok"], 5, "{file}: {done:#}");
        let records = contacts(&t).await;
        assert_eq!(emails(&records), EMAILS, "{file}");
        let dee = records.iter().find(|r| r["attributes"]["email"] == "dee@example.com").unwrap();
        assert_eq!(dee["attributes"]["first_name"], "Dée", "{file}");
        assert_eq!(dee["attributes"]["joined_on"], "2021-03-09", "{file}");
        assert_eq!(dee["attributes"]["age"], 51, "{file}");
    }
}

#[tokio::test]
async fn a_dry_run_writes_nothing_then_upsert_updates_in_place() {
    let s = stack().await;
    let t = s.tenant().await;
    define_contacts(&t).await;
    let dir = fixtures();
    let bytes = std::fs::read(dir.join("contacts-1252.csv")).unwrap();
    let planned = upload(&t, "contacts.csv", bytes.clone(), json!({})).await;
    let id = planned["id"].as_str().unwrap();
    let mut dry = spec();
    dry["dry_run"] = json!(true);
    let done = start(&t, id, dry).await;
    assert_eq!(done["status"], "completed");
    assert_eq!(done["run"]["dry_run"], true);
    assert_eq!(done["counts"]["ok"], 5);
    assert!(contacts(&t).await.is_empty(), "a dry run writes nothing");
    // the same import, for real
    let done = start(&t, id, spec()).await;
    assert_eq!((done["status"].as_str(), done["counts"]["ok"].as_u64()), (Some("completed"), Some(5)));
    let before = contacts(&t).await;
    assert_eq!(before.len(), 5);

    // incremental: ages change, a new contact arrives; merge keeps what the file leaves empty
    let text = "E-mail,Age,First name\r\nana@example.com,40,\r\nzoe@example.com,22,Zoé\r\n";
    let planned = upload(&t, "delta.csv", text.as_bytes().to_vec(), json!({})).await;
    let id = planned["id"].as_str().unwrap();
    let done = start(
        &t,
        id,
        json!({"mapping": {"E-mail": "email", "Age": "age", "First name": "first_name"}, "mode": "upsert", "key": ["email"]}),
    )
    .await;
    assert_eq!(done["counts"], json!({"total": 2, "ok": 2, "failed": 0, "skipped": 0}), "{done:#}");
    let after = contacts(&t).await;
    assert_eq!(after.len(), 6);
    let ana = after.iter().find(|r| r["attributes"]["email"] == "ana@example.com").unwrap();
    let ana_before = before.iter().find(|r| r["attributes"]["email"] == "ana@example.com").unwrap();
    assert_eq!(ana["id"], ana_before["id"], "updated in place");
    assert_eq!(ana["attributes"]["age"], 40);
    assert_eq!(ana["attributes"]["first_name"], "Ana", "merge keeps values the file leaves empty");
}

#[tokio::test]
async fn bad_files_fail_with_their_reason_and_write_nothing() {
    let s = stack().await;
    let t = s.tenant().await;
    define_contacts(&t).await;
    let dir = fixtures();
    for (file, reason) in [
        ("bomb.xlsx", "uncompressed"),
        ("truncated.xlsx", ""),
        ("entities.xml", "entities"),
        ("not-records.json", "no records"),
        ("unterminated.csv", "unterminated"),
        ("empty.csv", "empty"),
    ] {
        let done = upload(&t, file, std::fs::read(dir.join(file)).unwrap(), json!({})).await;
        assert_eq!(done["status"], "failed", "{file}: {done:#}");
        let error = done["error"].as_str().unwrap_or_default().to_lowercase();
        assert!(!error.is_empty() && error.contains(reason), "{file}: {error}");
        let again = t.post_json(&format!("/v1/imports/{}/start", done["id"].as_str().unwrap()), &spec()).await;
        assert_eq!(again.status, 409, "{file}: a failed import cannot start");
    }
    assert!(contacts(&t).await.is_empty());
}

#[tokio::test]
async fn large_files_upload_in_parts_and_bad_requests_get_problems() {
    let s = stack().await;
    let t = s.tenant().await;
    define_contacts(&t).await;
    let r = t.post_json("/v1/imports", &json!({"entity": "contact", "file_name": "big.csv", "multipart": true})).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let part = &r.body["multipart"]["parts"][0];
    assert!(r.body["multipart"]["part_size"].as_u64().unwrap() >= 5 * 1024 * 1024);
    let body = "E-mail,Age\r\nparts@example.com,30\r\n";
    let res = t.http.put(part["url"].as_str().unwrap()).body(body).send().await.unwrap();
    assert!(res.status().is_success());
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let done = t
        .post_json(&format!("/v1/imports/{id}/complete-upload"), &json!({"parts": [{"part_number": 1, "etag": etag}]}))
        .await;
    assert_eq!(done.status, 200, "{:?}", done.body);
    let planned = wait(&t, &id, &["awaiting_upload", "planning"], Duration::from_secs(60)).await;
    assert_eq!(planned["status"], "ready", "{planned:#}");
    assert_eq!(planned["total_rows"], 1);

    // bad requests
    let r = t.post_json("/v1/imports", &json!({"entity": "nope"})).await;
    assert_eq!((r.status, r.pointers()), (422, vec!["/entity".to_owned()]), "{:?}", r.body);
    let r = t.post_json("/v1/imports", &json!({"entity": "contact", "size": 10u64 << 30})).await;
    assert_eq!(r.status, 413, "{:?}", r.body);
    let r = t
        .post_json(
            &format!("/v1/imports/{id}/start"),
            &json!({"mapping": {"E-mail": "email", "Nope": "age", "Age": "nothing"}, "mode": "upsert"}),
        )
        .await;
    assert_eq!(r.status, 422, "{:?}", r.body);
    let pointers = r.pointers();
    for p in ["/mapping/Nope", "/mapping/Age", "/key"] {
        assert!(pointers.iter().any(|x| x == p), "{p} missing from {pointers:?}");
    }
    let r = t.post_json(&format!("/v1/imports/{id}/cancel"), &json!({})).await;
    assert_eq!((r.status, r.body["status"].as_str()), (200, Some("cancelled")), "{:?}", r.body);
    let r = t.post_json(&format!("/v1/imports/{id}/start"), &spec()).await;
    assert_eq!(r.status, 409);
    let other = s.tenant().await;
    assert_eq!(other.get(&format!("/v1/imports/{id}")).await.status, 404, "another tenant sees nothing");
}
