//! Export → import round trip: records of every field type are exported in each format, the downloaded file is
//! uploaded to an import in a second tenant with the same model, the planner's suggested mapping is taken as it
//! comes, and the imported records must equal the originals attribute for attribute. Only record ids and
//! timestamps are new: an import creates records, it does not restore them.

use std::time::Duration;

use hubble_e2e::Tenant;
use serde_json::{Map, Value, json};

use crate::exports::finished;
use crate::imports::{upload, wait};
use crate::stack;

async fn define_items(t: &Tenant) {
    let r = t
        .post_json(
            "/v1/models",
            &json!({"name": "item", "label": "Item", "fields": [
                {"name": "code", "type": "string", "required": true, "unique": true},
                {"name": "title", "type": "text"},
                {"name": "qty", "type": "integer"},
                {"name": "price", "type": "decimal"},
                {"name": "active", "type": "boolean"},
                {"name": "since", "type": "date"},
                {"name": "seen_at", "type": "datetime"},
                {"name": "contact", "type": "email"},
                {"name": "homepage", "type": "url"},
                {"name": "tier", "type": "enum", "values": ["gold", "silver", "bronze"]}]}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
}

/// Text that trips naive writers and readers: delimiters, quotes, line breaks, markup, non-ASCII, leading zeros.
fn items() -> Vec<Value> {
    vec![
        json!({"code": "A-001", "title": "Plain", "qty": 3, "price": 12.5, "active": true, "since": "2024-02-29",
               "seen_at": "2026-01-02T03:04:05Z", "contact": "ann@example.com", "homepage": "https://example.com/a?x=1&y=2",
               "tier": "gold"}),
        json!({"code": "007", "title": "Comma, \"quotes\" and\na line break", "qty": -40, "price": 0.1,
               "active": false, "since": "1999-12-31", "contact": "bo@example.org", "tier": "silver"}),
        json!({"code": "C<&>", "title": "Ünïcødé ✓ <b>not markup</b> & ampersand", "qty": 0, "price": -7.25,
               "seen_at": "2025-07-14T23:59:59Z", "homepage": "http://example.net/"}),
        json!({"code": "D 4", "title": "  spaces kept inside  ", "qty": 1234567, "active": true, "tier": "bronze"}),
    ]
}

/// The attributes of every item, by code, without `null`s (an empty cell and a missing field are the same).
async fn stored(t: &Tenant) -> Vec<(String, Map<String, Value>)> {
    let r = t.get("/v1/data/item?sort=code&page[size]=100").await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let mut a = d["attributes"].as_object().unwrap().clone();
            a.retain(|_, v| !v.is_null());
            (a["code"].as_str().unwrap().to_owned(), a)
        })
        .collect()
}

#[tokio::test]
async fn every_format_exports_and_imports_back_the_same_records() {
    let s = stack().await;
    let source = s.tenant().await;
    define_items(&source).await;
    for item in items() {
        let r = source.create("item", item, None).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
    let originals = stored(&source).await;
    assert_eq!(originals.len(), 4);

    for format in ["csv", "xlsx", "json", "ndjson", "xml"] {
        let r = source.post_json("/v1/exports", &json!({"entity": "item", "format": format, "sort": "code"})).await;
        assert_eq!(r.status, 201, "{format}: {:?}", r.body);
        let export = finished(&source, r.body["id"].as_str().unwrap()).await;
        assert_eq!(export["status"], "completed", "{format}: {export}");
        let file = reqwest::get(export["download_url"].as_str().unwrap()).await.unwrap().bytes().await.unwrap();

        let target = s.tenant().await;
        define_items(&target).await;
        // uploaded through the presigned URL, planned: the import as the planner left it
        let planned = upload(&target, &format!("items.{format}"), file.to_vec(), json!({"entity": "item"})).await;
        let id = planned["id"].as_str().unwrap().to_owned();
        assert_eq!(planned["status"], "ready", "{format}: {planned:#}");
        assert_eq!(planned["total_rows"], 4, "{format}: {planned:#}");
        // the exported columns are suggested back onto the fields they came from, and `id` onto nothing
        let mapping = planned["suggested_mapping"].as_object().unwrap().clone();
        for (column, field) in &mapping {
            assert_eq!(column, field.as_str().unwrap(), "{format}: {mapping:?}");
        }
        assert_eq!(mapping.len(), 10, "{format}: every field is suggested: {mapping:?}");

        let r = target
            .post_json(
                &format!("/v1/imports/{id}/start"),
                &json!({"mapping": mapping, "mode": "insert", "key": ["code"]}),
            )
            .await;
        assert_eq!(r.status, 202, "{format}: {:?}", r.body);
        let done = wait(&target, &id, &["running"], Duration::from_secs(120)).await;
        assert_eq!(done["status"], "completed", "{format}: {done:#}");
        assert_eq!(done["counts"], json!({"total": 4, "ok": 4, "failed": 0, "skipped": 0}), "{format}: {done:#}");
        let imported = stored(&target).await;
        assert_eq!(
            differences(&originals, &imported),
            Vec::<String>::new(),
            "{format}: the round trip changed records"
        );
    }
}

/// What differs between two lists of (code, attributes), one line per field.
fn differences(want: &[(String, Map<String, Value>)], got: &[(String, Map<String, Value>)]) -> Vec<String> {
    let mut out = Vec::new();
    for (code, attributes) in want {
        let Some((_, other)) = got.iter().find(|(c, _)| c == code) else {
            out.push(format!("{code}: missing"));
            continue;
        };
        for name in attributes.keys().chain(other.keys().filter(|k| !attributes.contains_key(*k))) {
            if attributes.get(name) != other.get(name) {
                out.push(format!("{code}.{name}: {:?} became {:?}", attributes.get(name), other.get(name)));
            }
        }
    }
    out.extend(got.iter().filter(|(c, _)| !want.iter().any(|(w, _)| w == c)).map(|(c, _)| format!("{c}: extra")));
    out
}
