//! Exports end to end: the API queues an export, the `export-runner` function (hosted by the local runner on the
//! exports queue) renders it into the files bucket, and the file is downloaded through its presigned link with a
//! plain HTTP client and read back with independent parsers (csv, calamine for XLSX, serde_json, quick-xml).
//! Templates run by hand and on an EventBridge Scheduler schedule that the local runner fires.

use std::time::Duration;

use hubble_e2e::{BusTap, Tenant};
use serde_json::{Value, json};

use crate::stack;

mod store;

/// The people of these tests: two of them with text a spreadsheet would execute.
const PEOPLE: [(&str, &str, i64); 5] = [
    ("ann@example.com", "Ann", 31),
    ("bo@example.com", "=HYPERLINK(\"http://evil.example\",\"x\")", 45),
    ("cy@example.com", "Cy", 19),
    ("dee@example.com", "@SUM(A1:A9)", 52),
    ("eve@example.com", "-Eve", 30),
];

async fn setup(t: &Tenant) {
    let r = t
        .post_json(
            "/v1/models",
            &json!({"name": "contact", "label": "Contact", "fields": [
                {"name": "email", "type": "email", "required": true, "unique": true},
                {"name": "name", "type": "string"},
                {"name": "age", "type": "integer"},
                {"name": "tax_id", "type": "string", "sensitive": true}]}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    for (email, name, age) in PEOPLE {
        let r = t.create("contact", json!({"email": email, "name": name, "age": age, "tax_id": "TX-1"}), None).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
}

/// Waits until the export is finished and answers it.
pub(crate) async fn finished(t: &Tenant, id: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let r = t.get(&format!("/v1/exports/{id}")).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        if r.body["status"] == "completed" || r.body["status"] == "failed" {
            return r.body;
        }
        assert!(tokio::time::Instant::now() < deadline, "export {id} did not finish: {:?}", r.body);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Downloads through the presigned link: no credentials, any HTTP client.
async fn download(export: &Value) -> (Vec<u8>, String) {
    let url = export["download_url"].as_str().unwrap_or_else(|| panic!("no download_url: {export}"));
    let r = reqwest::get(url).await.expect("the bucket answers");
    assert_eq!(r.status(), 200, "{url}");
    let disposition = r.headers().get("content-disposition").map(|v| v.to_str().unwrap().to_owned());
    (r.bytes().await.unwrap().to_vec(), disposition.unwrap_or_default())
}

/// (name, age) rows of a file of the `name, age` columns, read with a parser of its format.
fn rows(format: &str, bytes: &[u8]) -> Vec<(String, i64)> {
    let text = || String::from_utf8(bytes.to_vec()).unwrap();
    match format {
        "csv" => {
            let mut r = csv::Reader::from_reader(bytes);
            assert_eq!(r.headers().unwrap().iter().collect::<Vec<_>>(), ["id", "name", "age"]);
            r.records().map(|x| x.unwrap()).map(|x| (x[1].to_owned(), x[2].parse().unwrap())).collect()
        }
        "xlsx" => {
            use calamine::{Data, Reader as _, Xlsx};
            let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
            let sheet = book.worksheet_range("contact").unwrap();
            let mut it = sheet.rows();
            let header: Vec<String> = it.next().unwrap().iter().map(|c| c.to_string()).collect();
            assert_eq!(header, ["id", "name", "age"]);
            it.map(|r| {
                let age = match &r[2] {
                    Data::Float(f) => *f as i64,
                    Data::Int(i) => *i,
                    other => panic!("age is a number cell, got {other:?}"),
                };
                (r[1].to_string(), age)
            })
            .collect()
        }
        "json" => {
            let v: Vec<Value> = serde_json::from_slice(bytes).unwrap();
            v.iter().map(|o| (o["name"].as_str().unwrap().to_owned(), o["age"].as_i64().unwrap())).collect()
        }
        "ndjson" => text()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .map(|o| (o["name"].as_str().unwrap().to_owned(), o["age"].as_i64().unwrap()))
            .collect(),
        "xml" => {
            use quick_xml::events::Event;
            let mut reader = quick_xml::Reader::from_reader(bytes);
            let (mut out, mut element, mut name) = (Vec::new(), String::new(), String::new());
            let mut buf = Vec::new();
            loop {
                match reader.read_event_into(&mut buf).expect("well-formed XML") {
                    Event::Start(e) => {
                        element = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                        if element == "name" {
                            name.clear();
                        }
                    }
                    // text and entity references alternate: `=HYPERLINK(&quot;...`
                    Event::Text(t) if element == "name" => name.push_str(&t.decode().unwrap()),
                    Event::GeneralRef(r) if element == "name" => {
                        let entity = String::from_utf8(r.to_vec()).unwrap();
                        name.push_str(match entity.as_str() {
                            "quot" => "\"",
                            "amp" => "&",
                            "lt" => "<",
                            "gt" => ">",
                            "apos" => "'",
                            other => panic!("unexpected entity {other}"),
                        });
                    }
                    Event::Text(t) if element == "age" => {
                        out.push((name.clone(), t.decode().unwrap().parse().unwrap()))
                    }
                    Event::End(_) => element.clear(),
                    Event::Eof => break,
                    _ => {}
                }
                buf.clear();
            }
            out
        }
        other => panic!("unknown format {other}"),
    }
}

#[tokio::test]
async fn every_format_is_exported_filtered_sorted_neutralised_and_downloadable() {
    let s = stack().await;
    let t = s.tenant().await;
    setup(&t).await;
    let tap = BusTap::new(&s, &t.id).await.expect("bus tap");
    let expected: Vec<(String, i64)> =
        [("@SUM(A1:A9)", 52), ("=HYPERLINK(\"http://evil.example\",\"x\")", 45), ("Ann", 31), ("-Eve", 30)]
            .iter()
            .map(|(n, a)| (n.to_string(), *a))
            .collect();
    let spreadsheet = |n: &str| if n.starts_with(['=', '+', '-', '@']) { format!("'{n}") } else { n.to_owned() };
    let mut ids = Vec::new();
    for format in ["csv", "xlsx", "json", "ndjson", "xml"] {
        let r = t
            .post_json(
                "/v1/exports",
                &json!({"entity": "contact", "format": format, "filter": {"age": {"gte": 30}},
                        "fields": ["name", "age"], "sort": "-age"}),
            )
            .await;
        assert_eq!(r.status, 201, "{format}: {:?}", r.body);
        assert_eq!(r.body["status"], "queued");
        ids.push(r.body["id"].as_str().unwrap().to_owned());
        let export = finished(&t, r.body["id"].as_str().unwrap()).await;
        assert_eq!(export["status"], "completed", "{export}");
        assert_eq!(export["rows"], 4);
        let (bytes, disposition) = download(&export).await;
        assert_eq!(export["bytes"], bytes.len() as u64);
        assert!(disposition.contains(&format!(".{format}")), "{disposition}");
        let got = rows(format, &bytes);
        let want: Vec<(String, i64)> = match format {
            // spreadsheets would execute these: they get a leading apostrophe
            "csv" | "xlsx" => expected.iter().map(|(n, a)| (spreadsheet(n), *a)).collect(),
            _ => expected.clone(),
        };
        assert_eq!(got, want, "{format}");
        if format == "csv" {
            assert!(!String::from_utf8_lossy(&bytes).contains("TX-1"), "sensitive values stay out unless asked for");
        }
    }
    // one export.completed per export, without a link (links expire)
    let events = tap.collect(5, Duration::from_secs(30)).await;
    tap.remove().await;
    let completed: Vec<&Value> = events.iter().filter(|e| e["detail-type"] == "export.completed").collect();
    assert_eq!(completed.len(), 5, "{events:#?}");
    for e in completed {
        let data = &e["detail"]["data"];
        assert!(ids.contains(&data["id"].as_str().unwrap().to_owned()));
        assert_eq!(data["rows"], 4);
        assert!(!e.to_string().contains("X-Amz-Signature"), "no download link in events");
    }
    // the history, newest first
    let r = t.get("/v1/exports?page[size]=3").await;
    let listed: Vec<&str> = r.body["data"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(listed, [ids[4].as_str(), ids[3].as_str(), ids[2].as_str()]);
    let next = r.body["links"]["next"].as_str().unwrap();
    let rest = t.get(&next[next.find("/v1/").unwrap()..]).await;
    assert_eq!(rest.body["data"].as_array().unwrap().len(), 2);
    // deleting an export deletes its file
    let export = finished(&t, &ids[0]).await;
    let url = export["download_url"].as_str().unwrap().to_owned();
    assert_eq!(t.delete(&format!("/v1/exports/{}", ids[0])).await.status, 204);
    // S3 answers a missing object 404, or 403 to a signer without s3:ListBucket (as the emulator does here)
    let gone = reqwest::get(&url).await.unwrap().status().as_u16();
    assert!(gone == 403 || gone == 404, "the file is gone: {gone}");
    assert_eq!(t.get(&format!("/v1/exports/{}", ids[0])).await.status, 404);
}

#[tokio::test]
async fn the_contract_minimum_and_sensitive_fields_on_request() {
    let s = stack().await;
    let t = s.tenant().await;
    setup(&t).await;
    // the contract: entity and format are enough
    let r = t.post_json("/v1/exports", &json!({"entity": "contact", "format": "csv"})).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let export = finished(&t, r.body["id"].as_str().unwrap()).await;
    let (bytes, _) = download(&export).await;
    let mut csv = csv::Reader::from_reader(bytes.as_slice());
    assert_eq!(csv.headers().unwrap().iter().collect::<Vec<_>>(), ["id", "email", "name", "age"]);
    assert_eq!(csv.records().count(), 5);
    // sensitive values, decrypted, only when asked for (the tenant's key is admin)
    let r = t
        .post_json(
            "/v1/exports",
            &json!({"entity": "contact", "format": "ndjson", "fields": ["email", "tax_id"], "include_sensitive": true,
                    "filter": "filter[email][startsWith]=ann"}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let export = finished(&t, r.body["id"].as_str().unwrap()).await;
    let (bytes, _) = download(&export).await;
    let line: Value = serde_json::from_slice(bytes.trim_ascii_end()).unwrap();
    assert_eq!((line["email"].as_str(), line["tax_id"].as_str()), (Some("ann@example.com"), Some("TX-1")));
    // a key that may read contacts but is not admin cannot take sensitive fields out
    let key = t.post_json("/v1/api-keys", &json!({"name": "reader", "scopes": ["data:read:contact"]})).await;
    let reader = t.with_key(key.body["secret"].as_str().unwrap());
    let r = reader
        .post_json("/v1/exports", &json!({"entity": "contact", "format": "csv", "include_sensitive": true}))
        .await;
    assert_eq!(r.status, 403, "{:?}", r.body);
    assert_eq!(reader.post_json("/v1/exports", &json!({"entity": "contact", "format": "csv"})).await.status, 201);
}

#[tokio::test]
async fn bad_input_is_a_clear_problem() {
    let s = stack().await;
    let t = s.tenant().await;
    setup(&t).await;
    for (path, body, pointer, code) in [
        ("/v1/exports", json!({"entity": "invoice", "format": "csv"}), "/entity", "unknown-entity"),
        ("/v1/exports", json!({"entity": "contact", "format": "pdf"}), "/format", "invalid-format"),
        (
            "/v1/exports",
            json!({"entity": "contact", "format": "csv", "filter": {"age": {"gte": "old"}}}),
            "/filter/age/gte",
            "invalid-value",
        ),
        (
            "/v1/exports",
            json!({"entity": "contact", "format": "csv", "filter": {"shoe": {"eq": 1}}}),
            "/filter/shoe/eq",
            "unknown-field",
        ),
        ("/v1/exports", json!({"entity": "contact", "format": "csv", "sort": "nope"}), "/sort", "unknown-field"),
        (
            "/v1/export-templates",
            json!({"name": "x", "entity": "contact", "format": "csv", "schedule": "cron(0 6 * * *)"}),
            "/schedule",
            "invalid-schedule",
        ),
        (
            "/v1/export-templates",
            json!({"name": "x", "entity": "contact", "format": "csv", "schedule": "every day"}),
            "/schedule",
            "invalid-schedule",
        ),
    ] {
        let r = t.post_json(path, &body).await;
        assert_eq!(r.status, 422, "{body}: {:?}", r.body);
        assert_eq!(r.header("content-type"), "application/problem+json", "{body}");
        assert_eq!(r.body["errors"][0]["pointer"], pointer, "{body}: {:?}", r.body);
        assert_eq!(r.body["errors"][0]["code"], code, "{body}: {:?}", r.body);
    }
    // the same filter on the data API fails with the same code
    let r = t.get("/v1/data/contact?filter[age][gte]=old").await;
    assert_eq!((r.status, r.body["errors"][0]["code"].as_str()), (400, Some("invalid-value")));
    let r = t.get("/v1/exports/exp_01JH3Q0W9ZK7M8T3V7X6B2N4PQ").await;
    assert_eq!((r.status, r.header("content-type")), (404, "application/problem+json"));
    let r = t.get("/v1/export-templates").await;
    assert_eq!(r.body["data"], json!([]), "nothing was stored");
}

#[tokio::test]
async fn templates_run_by_hand_and_on_their_schedule() {
    let s = stack().await;
    let t = s.tenant().await;
    setup(&t).await;
    let r = t
        .post_json(
            "/v1/export-templates",
            &json!({"name": "Every minute", "entity": "contact", "format": "json", "filter": {"age": {"lt": 40}},
                    "schedule": "cron(* * * * ? *)"}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    // the schedule exists in the scheduler, targeting the exports queue
    let scheduler = aws_sdk_scheduler::Client::new(&s.sdk);
    let name = format!("{}-export-{id}", s.prefix);
    let schedule = scheduler.get_schedule().name(&name).send().await.expect("the template's schedule");
    assert_eq!(schedule.schedule_expression(), Some("cron(* * * * ? *)"));
    let target = schedule.target().unwrap();
    assert!(target.arn().ends_with(&format!(":{}-exports", s.prefix)), "{}", target.arn());
    assert!(target.input().unwrap().contains(&id));

    // by hand
    let run = t.post_json(&format!("/v1/export-templates/{id}/run"), &json!({})).await;
    assert_eq!(run.status, 201, "{:?}", run.body);
    let export = finished(&t, run.body["id"].as_str().unwrap()).await;
    assert_eq!((export["status"].as_str(), export["rows"].as_u64()), (Some("completed"), Some(3)));
    assert_eq!(export["template_id"], id.as_str());
    let manual = export["id"].as_str().unwrap().to_owned();

    // by the schedule: the local runner fires it at the next minute
    let deadline = tokio::time::Instant::now() + Duration::from_secs(100);
    let fired = loop {
        let r = t.get("/v1/exports?status=completed").await;
        let found = r.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["template_id"] == id.as_str() && e["id"] != manual.as_str())
            .cloned();
        if let Some(e) = found {
            break e;
        }
        assert!(tokio::time::Instant::now() < deadline, "the schedule did not fire an export: {:?}", r.body);
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    let (bytes, _) = download(&fired).await;
    let v: Vec<Value> = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(v.len(), 3);

    // disabling removes the schedule; deleting the template keeps its exports
    let r = t.patch_json(&format!("/v1/export-templates/{id}"), &json!({"enabled": false})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(scheduler.get_schedule().name(&name).send().await.is_err(), "no schedule while disabled");
    assert_eq!(t.delete(&format!("/v1/export-templates/{id}")).await.status, 204);
    assert_eq!(t.get(&format!("/v1/exports/{manual}")).await.status, 200);
}
