//! The Records API query features over HTTP: filters, sort, cursor pages, sparse fieldsets, compound documents,
//! relationship links, bulk writes, content negotiation, and a precise 4xx for every bad input.

use std::collections::HashSet;
use std::time::Duration;

use hubble_e2e::{BusTap, JSON_API, Reply, Tenant};
use reqwest::Method;
use serde_json::{Value, json};

use crate::stack;

/// `[` and `]` percent-encoded, as clients send them.
fn enc(q: &str) -> String {
    q.replace('[', "%5B").replace(']', "%5D")
}

async fn get(t: &Tenant, path_and_query: &str) -> Reply {
    t.get(&enc(path_and_query)).await
}

async fn bulk(t: &Tenant, entity: &str, body: Value) -> Reply {
    t.send(Method::POST, &format!("/v1/data/{entity}/_bulk"), Some(JSON_API), Some(body.to_string()), &[]).await
}

fn ids(reply: &Reply) -> Vec<String> {
    reply.body["data"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// Follows `links.next` from `first` to the end; every record of every page, in order, and the page count.
async fn walk(t: &Tenant, first: &str) -> (Vec<Value>, usize) {
    let mut out = Vec::new();
    let mut pages = 0;
    let mut next = Some(enc(first));
    while let Some(path) = next {
        let page = t.get(&path).await;
        assert_eq!(page.status, 200, "{path}: {:?}", page.body);
        assert!(page.body["links"]["self"].as_str().is_some(), "links.self is always there");
        out.extend(page.body["data"].as_array().unwrap().iter().cloned());
        pages += 1;
        next = page.body["links"]["next"].as_str().map(|u| u.strip_prefix(&t.base_url).expect("absolute").to_owned());
        assert!(pages < 100, "pagination ends");
    }
    (out, pages)
}

fn assert_error(r: &Reply, status: u16, parameter: &str, what: &str) {
    assert_eq!(r.status, status, "{what}: {:?}", r.body);
    assert_eq!(r.header("content-type"), JSON_API, "{what}");
    let e = &r.body["errors"][0];
    assert_eq!(e["source"]["parameter"], parameter, "{what}: {:?}", r.body);
    assert_eq!(e["status"], status.to_string(), "{what}");
    assert!(e["code"].as_str().is_some_and(|c| !c.is_empty()) && e["detail"].as_str().is_some(), "{what}");
}

async fn define(t: &Tenant, model: Value) {
    let r = t.post_json("/v1/models", &model).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
}

/// company ← person (company, manager → person) ← deal (person)
async fn define_graph(t: &Tenant) {
    define(t, json!({"name": "company", "fields": [{"name": "name", "type": "string", "required": true}]})).await;
    define(
        t,
        json!({"name": "person", "fields": [
            {"name": "email", "type": "email", "required": true, "unique": true},
            {"name": "age", "type": "integer"},
            {"name": "company", "type": "reference", "target": "company"},
            {"name": "manager", "type": "reference", "target": "person"}]}),
    )
    .await;
    define(
        t,
        json!({"name": "deal", "fields": [
            {"name": "title", "type": "string", "required": true},
            {"name": "person", "type": "reference", "target": "person"}]}),
    )
    .await;
}

fn rel(entity: &str, id: &str) -> Value {
    json!({"data": {"type": entity, "id": id}})
}

#[tokio::test]
async fn every_filter_operator_on_representative_types() {
    let t = stack().await.tenant().await;
    define(
        &t,
        json!({"name": "gadget", "fields": [
            {"name": "name", "type": "string"},
            {"name": "email", "type": "email"},
            {"name": "qty", "type": "integer"},
            {"name": "price", "type": "decimal"},
            {"name": "active", "type": "boolean"},
            {"name": "made", "type": "date"},
            {"name": "seen_at", "type": "datetime"},
            {"name": "tier", "type": "enum", "values": ["gold", "silver", "bronze"]},
            {"name": "extra", "type": "json"},
            {"name": "code", "type": "string", "sensitive": true}]}),
    )
    .await;
    let items = [
        json!({"id": "g1", "name": "Alpha", "email": "Ann@Example.com", "qty": 1, "price": 9.5, "active": true,
               "made": "2026-01-10", "seen_at": "2026-03-01T10:00:00+02:00", "tier": "gold", "extra": {"a": 1}, "code": "X1"}),
        json!({"id": "g2", "name": "Beta", "email": "bob@example.com", "qty": 20, "price": 10, "active": false,
               "made": "2026-02-01", "seen_at": "2026-03-01T09:00:00Z", "tier": "silver", "code": "Y2"}),
        json!({"id": "g3", "name": "Alphabet", "qty": 3, "active": true, "made": "2025-12-31", "tier": "bronze"}),
        json!({"id": "g4", "name": "Gamma", "email": "cy@other.org", "qty": 100, "price": 0.5, "tier": "gold"}),
    ];
    let data: Vec<Value> = items
        .iter()
        .map(|a| {
            let mut attrs = a.clone();
            let id = attrs.as_object_mut().unwrap().remove("id").unwrap();
            json!({"type": "gadget", "id": id, "attributes": attrs})
        })
        .collect();
    let created = bulk(&t, "gadget", json!({"data": data})).await;
    assert_eq!((created.status, &created.body["meta"]["created"]), (200, &json!(4)), "{:?}", created.body);

    for (query, want) in [
        ("filter[name]=Alpha", vec!["g1"]),
        ("filter[name][eq]=Alpha", vec!["g1"]),
        ("filter[name][ne]=Alpha", vec!["g2", "g3", "g4"]),
        ("filter[name][gt]=Alphabet", vec!["g2", "g4"]),
        ("filter[name][gte]=Alphabet", vec!["g2", "g3", "g4"]),
        ("filter[name][lt]=Beta", vec!["g1", "g3"]),
        ("filter[name][lte]=Beta", vec!["g1", "g2", "g3"]),
        ("filter[name][in]=Beta,Gamma,Nope", vec!["g2", "g4"]),
        ("filter[name][contains]=pha", vec!["g1", "g3"]),
        ("filter[name][startsWith]=Alpha", vec!["g1", "g3"]),
        ("filter[email]=ann@EXAMPLE.com", vec!["g1"]),
        ("filter[email][contains]=example", vec!["g1", "g2"]),
        ("filter[email][isNull]=true", vec!["g3"]),
        ("filter[qty][gt]=3", vec!["g2", "g4"]),
        ("filter[qty][gte]=3", vec!["g2", "g3", "g4"]),
        ("filter[qty][lt]=20", vec!["g1", "g3"]),
        ("filter[qty][lte]=20", vec!["g1", "g2", "g3"]),
        ("filter[qty][in]=1,100", vec!["g1", "g4"]),
        ("filter[qty][ne]=1", vec!["g2", "g3", "g4"]),
        ("filter[price][gte]=9.5", vec!["g1", "g2"]),
        ("filter[price][lt]=1", vec!["g4"]),
        ("filter[price][isNull]=true", vec!["g3"]),
        ("filter[active]=true", vec!["g1", "g3"]),
        ("filter[active][ne]=true", vec!["g2", "g4"]),
        ("filter[active][isNull]=false", vec!["g1", "g2", "g3"]),
        ("filter[made][gte]=2026-01-01", vec!["g1", "g2"]),
        ("filter[made][lt]=2026-01-10", vec!["g3"]),
        ("filter[made]=2026-02-01", vec!["g2"]),
        // 10:00+02:00 is 08:00Z: before 09:00Z
        ("filter[seen_at][lt]=2026-03-01T09:00:00Z", vec!["g1"]),
        ("filter[seen_at]=2026-03-01T11:00:00%2B02:00", vec!["g2"]),
        ("filter[seen_at][isNull]=true", vec!["g3", "g4"]),
        ("filter[tier]=gold", vec!["g1", "g4"]),
        ("filter[tier][in]=silver,bronze", vec!["g2", "g3"]),
        ("filter[tier][ne]=gold", vec!["g2", "g3"]),
        ("filter[extra][isNull]=false", vec!["g1"]),
        ("filter[code]=Y2", vec!["g2"]),
        ("filter[code][startsWith]=X", vec!["g1"]),
        ("filter[id]=g3", vec!["g3"]),
        ("filter[id][in]=g4,g1,zz", vec!["g1", "g4"]),
        ("filter[id][gt]=g2", vec!["g3", "g4"]),
        ("filter[id][lte]=g2", vec!["g1", "g2"]),
        ("filter[id][startsWith]=g", vec!["g1", "g2", "g3", "g4"]),
        ("filter[id][ne]=g1&filter[id][lt]=g4", vec!["g2", "g3"]),
        ("filter[created_at][lte]=2999-01-01T00:00:00Z", vec!["g1", "g2", "g3", "g4"]),
        ("filter[updated_at][gt]=2999-01-01T00:00:00Z", vec![]),
        ("filter[tier]=gold&filter[qty][gt]=1", vec!["g4"]),
        ("filter[name][startsWith]=Alpha&filter[active]=true&filter[qty][lt]=2", vec!["g1"]),
    ] {
        let r = get(&t, &format!("/v1/data/gadget?{query}")).await;
        assert_eq!(r.status, 200, "{query}: {:?}", r.body);
        assert_eq!(sorted(ids(&r)), want, "{query}");
    }
}

#[tokio::test]
async fn sorted_pages_walk_every_record_exactly_once_in_order() {
    let t = stack().await.tenant().await;
    define(
        &t,
        json!({"name": "row", "fields": [
            {"name": "n", "type": "integer"},
            {"name": "label", "type": "string"},
            {"name": "group", "type": "enum", "values": ["a", "b"]}]}),
    )
    .await;
    let total = 64;
    let data: Vec<Value> = (0..total)
        .map(|i| {
            let mut attrs = json!({"n": i % 9, "group": if i % 2 == 0 { "a" } else { "b" }});
            if i % 4 != 0 {
                attrs["label"] = json!(format!("L{:02}", (i * 7) % 13));
            }
            json!({"type": "row", "attributes": attrs})
        })
        .collect();
    let created = bulk(&t, "row", json!({"data": data})).await;
    assert_eq!(created.body["meta"]["created"], total, "{:?}", created.body["meta"]);

    // -n, label: n descending, then label ascending with absent labels last, then id
    let (rows, pages) = walk(&t, "/v1/data/row?sort=-n,label&page[size]=7").await;
    assert_eq!(rows.len(), total);
    assert_eq!(pages, total.div_ceil(7));
    let distinct: HashSet<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(distinct.len(), total, "no record twice");
    let key = |r: &Value| {
        let n = r["attributes"]["n"].as_i64().unwrap();
        let label = r["attributes"]["label"].as_str().map(str::to_owned);
        (std::cmp::Reverse(n), label.is_none(), label, r["id"].as_str().unwrap().to_owned())
    };
    for pair in rows.windows(2) {
        assert!(key(&pair[0]) < key(&pair[1]), "{} before {}", pair[0], pair[1]);
    }

    // the default order (id) and its reverse, with a filter, across pages
    let (asc, _) = walk(&t, "/v1/data/row?filter[group]=a&page[size]=7").await;
    let asc: Vec<String> = asc.iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(asc.len(), total / 2);
    assert_eq!(asc, sorted(asc.clone()));
    let (desc, _) = walk(&t, "/v1/data/row?filter[group]=a&sort=-id&page[size]=7").await;
    let mut desc: Vec<String> = desc.iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect();
    desc.reverse();
    assert_eq!(desc, asc);

    // by a timestamp, descending, with a filter
    let (recent, _) = walk(&t, "/v1/data/row?filter[n][gte]=4&sort=-updated_at&page[size]=5").await;
    assert_eq!(recent.len(), (0..total).filter(|i| i % 9 >= 4).count());
    for pair in recent.windows(2) {
        let at =
            |r: &Value| (r["meta"]["updated_at"].as_str().unwrap().to_owned(), r["id"].as_str().unwrap().to_owned());
        assert!(at(&pair[0]).0 >= at(&pair[1]).0, "updated_at descending");
    }

    // page links keep the query; the last page has no next
    let first = get(&t, "/v1/data/row?sort=label&page[size]=60").await;
    let next = first.body["links"]["next"].as_str().unwrap();
    assert!(next.contains("sort=label") && next.contains("page%5Bsize%5D=60") && next.contains("page%5Bafter%5D="));
    assert!(first.body["links"]["self"].as_str().unwrap().contains("sort=label"));
    let last = t.get(next.strip_prefix(&t.base_url).unwrap()).await;
    assert_eq!(last.body["data"].as_array().unwrap().len(), total - 60);
    assert!(last.body["links"].get("next").is_none());
}

#[tokio::test]
async fn cursors_are_tamper_proof_and_bound_to_their_query_and_tenant() {
    let s = stack().await;
    let (t, other) = (s.tenant().await, s.tenant().await);
    for x in [&t, &other] {
        define(x, json!({"name": "item", "fields": [{"name": "n", "type": "integer"}]})).await;
    }
    let data: Vec<Value> = (0..6).map(|i| json!({"type": "item", "attributes": {"n": i}})).collect();
    assert_eq!(bulk(&t, "item", json!({"data": data})).await.status, 200);
    let first = get(&t, "/v1/data/item?sort=-n&filter[n][gte]=1&page[size]=2").await;
    let next = first.body["links"]["next"].as_str().unwrap().strip_prefix(&t.base_url).unwrap().to_owned();
    let cursor = next.split("page%5Bafter%5D=").nth(1).unwrap().to_owned();
    assert_eq!(t.get(&next).await.status, 200);

    let mut flipped = cursor.clone().into_bytes();
    let i = flipped.len() / 3;
    flipped[i] = if flipped[i] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    for (what, path) in [
        ("tampered", format!("/v1/data/item?sort=-n&filter[n][gte]=1&page[size]=2&page[after]={flipped}")),
        ("garbage", "/v1/data/item?sort=-n&filter[n][gte]=1&page[after]=not-a-cursor".to_owned()),
        ("other filter", format!("/v1/data/item?sort=-n&filter[n][gte]=2&page[size]=2&page[after]={cursor}")),
        ("no filter", format!("/v1/data/item?sort=-n&page[size]=2&page[after]={cursor}")),
        ("other sort", format!("/v1/data/item?sort=n&filter[n][gte]=1&page[size]=2&page[after]={cursor}")),
    ] {
        let r = get(&t, &path).await;
        assert_error(&r, 400, "page[after]", what);
        assert_eq!(r.body["errors"][0]["code"], "invalid-parameter", "{what}");
    }
    // the same cursor in another tenant does not verify
    let r = get(&other, &format!("/v1/data/item?sort=-n&filter[n][gte]=1&page[size]=2&page[after]={cursor}")).await;
    assert_error(&r, 400, "page[after]", "other tenant");
    // the page size may change between pages
    assert_eq!(
        get(&t, &format!("/v1/data/item?sort=-n&filter[n][gte]=1&page[size]=3&page[after]={cursor}")).await.status,
        200
    );
}

#[tokio::test]
async fn compound_documents_include_nested_paths_once_in_batches() {
    let t = stack().await.tenant().await;
    define_graph(&t).await;
    let acme = t.create("company", json!({"name": "Acme"}), None).await.body["data"]["id"].as_str().unwrap().to_owned();
    let boss = t
        .create("person", json!({"email": "boss@x.io"}), Some(json!({"company": rel("company", &acme)})))
        .await
        .body["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ann = t
        .create(
            "person",
            json!({"email": "ann@x.io", "age": 30}),
            Some(json!({"company": rel("company", &acme), "manager": rel("person", &boss)})),
        )
        .await
        .body["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let lone =
        t.create("person", json!({"email": "lone@x.io"}), None).await.body["data"]["id"].as_str().unwrap().to_owned();
    let deals: Vec<Value> = [("d1", &ann), ("d2", &ann), ("d3", &boss), ("d4", &lone)]
        .iter()
        .map(|(title, p)| json!({"type": "deal", "attributes": {"title": title}, "relationships": {"person": rel("person", p)}}))
        .collect();
    assert_eq!(bulk(&t, "deal", json!({"data": deals})).await.body["meta"]["created"], 4);

    let r = get(&t, "/v1/data/deal?include=person,person.company,person.manager").await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let repeated = format!("/v1/data/deal?include={}", vec!["person"; 30].join(","));
    let again = get(&t, &repeated).await;
    assert_eq!(again.status, 200, "a path named many times counts once: {:?}", again.body);
    let included: Vec<(String, String)> = r.body["included"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["type"].as_str().unwrap().to_owned(), x["id"].as_str().unwrap().to_owned()))
        .collect();
    let distinct: HashSet<&(String, String)> = included.iter().collect();
    assert_eq!(distinct.len(), included.len(), "no duplicates: {included:?}");
    let mut want = vec![
        ("company".to_owned(), acme.clone()),
        ("person".to_owned(), ann.clone()),
        ("person".to_owned(), boss.clone()),
        ("person".to_owned(), lone.clone()),
    ];
    want.sort();
    let mut got = included.clone();
    got.sort();
    assert_eq!(got, want);

    // three levels deep, and a related record that is also primary is not repeated in included
    let r = get(&t, "/v1/data/person?include=manager,manager.company").await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let included = r.body["included"].as_array().unwrap();
    assert_eq!(included.len(), 1, "boss is primary; only the company is new: {included:?}");
    assert_eq!(included[0]["id"], acme.as_str());
    let r = get(&t, "/v1/data/deal?include=person.manager.company&filter[title]=d1").await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let types: Vec<&str> = r.body["included"].as_array().unwrap().iter().map(|x| x["type"].as_str().unwrap()).collect();
    assert_eq!(sorted(types.iter().map(|s| s.to_string()).collect()), ["company", "person", "person"]);

    // on a single record too, with sparse fieldsets on primary and included types
    let r =
        get(&t, &format!("/v1/data/person/{ann}?include=company&fields[person]=email,company&fields[company]=")).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["data"]["attributes"], json!({"email": "ann@x.io"}));
    let rels: Vec<&String> = r.body["data"]["relationships"].as_object().unwrap().keys().collect();
    assert_eq!(rels, ["company"]);
    assert_eq!(r.body["included"][0]["attributes"], json!({}));
    assert_eq!(r.header("etag"), "\"1\"");

    // relationship links: self (the relationship) and related (the record); the self link answers the linkage
    let links = &r.body["data"]["relationships"]["company"]["links"];
    assert_eq!(links["related"], format!("{}/v1/data/company/{acme}", t.base_url));
    let self_link = links["self"].as_str().unwrap();
    assert_eq!(self_link, format!("{}/v1/data/person/{ann}/relationships/company", t.base_url));
    let linkage = t.get(self_link.strip_prefix(&t.base_url).unwrap()).await;
    assert_eq!(linkage.status, 200, "{:?}", linkage.body);
    assert_eq!(linkage.body["data"], json!({"type": "company", "id": acme}));
    let empty = t.get(&format!("/v1/data/person/{lone}/relationships/manager")).await;
    assert_eq!((empty.status, &empty.body["data"]), (200, &Value::Null));
    assert_eq!(t.get(&format!("/v1/data/person/{lone}/relationships/email")).await.status, 404);

    // sparse fieldsets on lists
    let r = get(&t, "/v1/data/person?fields[person]=age").await;
    for p in r.body["data"].as_array().unwrap() {
        assert_eq!(p["attributes"].as_object().unwrap().keys().collect::<Vec<_>>(), ["age"]);
        assert!(p.get("relationships").is_none());
    }
}

#[tokio::test]
async fn bulk_create_keeps_the_good_items_and_reports_each_bad_one() {
    let s = stack().await;
    let t = s.tenant().await;
    define_graph(&t).await;
    let taken = t.create("person", json!({"email": "taken@x.io"}), None).await;
    assert_eq!(taken.status, 201);
    let tap = BusTap::new(&s, &t.id).await.unwrap();
    let r = bulk(
        &t,
        "person",
        json!({"data": [
            {"type": "person", "attributes": {"email": "one@x.io", "age": 1}},
            {"type": "person", "attributes": {"email": "not-an-email"}},
            {"type": "person", "id": "p-two", "attributes": {"email": "two@x.io"}},
            {"type": "person", "attributes": {"email": "taken@x.io"}},
            {"type": "company", "attributes": {"name": "wrong type"}},
            {"type": "person", "attributes": {"email": "dangling@x.io"}, "relationships": {"company": rel("company", "nope")}},
            {"type": "person", "attributes": {"email": "three@x.io", "shoe": 44}}
        ], "meta": {"mode": "create"}}),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.header("content-type"), JSON_API);
    let meta = &r.body["meta"];
    assert_eq!((&meta["created"], &meta["updated"], &meta["failed"]), (&json!(2), &json!(0), &json!(5)));
    let results = meta["results"].as_array().unwrap();
    let status: Vec<u64> = results.iter().map(|x| x["status"].as_u64().unwrap()).collect();
    assert_eq!(status, [201, 422, 201, 409, 409, 422, 422]);
    for (i, x) in results.iter().enumerate() {
        assert_eq!(x["index"], i);
    }
    let pointer = |i: usize| results[i]["errors"][0]["source"]["pointer"].as_str().unwrap().to_owned();
    assert_eq!(pointer(1), "/data/1/attributes/email");
    assert_eq!(pointer(3), "/data/3/attributes/email");
    assert_eq!(pointer(4), "/data/4/type");
    assert_eq!(pointer(5), "/data/5/relationships/company");
    assert_eq!(pointer(6), "/data/6/attributes/shoe");
    assert_eq!(results[3]["errors"][0]["code"], "not-unique");
    assert_eq!(results[2]["id"], "p-two");
    let data_ids = ids(&r);
    assert_eq!(data_ids.len(), 2);
    assert_eq!(data_ids[1], "p-two", "data keeps input order");
    assert_eq!(r.body["data"][0]["attributes"]["email"], "one@x.io");

    let stored: Vec<String> = ids(&t.get("/v1/data/person?page%5Bsize%5D=200").await)
        .into_iter()
        .filter(|id| *id != taken.body["data"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(sorted(stored), sorted(data_ids.clone()), "only the good ones are stored");
    let events = tap.collect(2, Duration::from_secs(15)).await;
    let mut announced: Vec<String> = events
        .iter()
        .filter(|e| e["detail-type"] == "record.created")
        .map(|e| e["detail"]["data"]["id"].as_str().unwrap().to_owned())
        .collect();
    announced.sort();
    assert_eq!(announced, sorted(data_ids));
    assert!(tap.collect(1, Duration::from_secs(2)).await.is_empty(), "no event for the failed items");
    tap.remove().await;
}

#[tokio::test]
async fn bulk_upsert_updates_what_exists_and_creates_the_rest() {
    let t = stack().await.tenant().await;
    define_graph(&t).await;
    let existing = t.create("person", json!({"email": "old@x.io", "age": 1}), None).await;
    let id = existing.body["data"]["id"].as_str().unwrap().to_owned();
    let r = bulk(
        &t,
        "person",
        json!({"data": [
            {"type": "person", "id": id, "attributes": {"age": 2}},
            {"type": "person", "id": "new-one", "attributes": {"email": "new@x.io"}},
            {"type": "person", "attributes": {"email": "noid@x.io"}},
            {"type": "person", "id": "bad/id", "attributes": {"email": "bad@x.io"}},
            {"type": "person", "id": "new-two", "attributes": {"age": 5}}
        ], "meta": {"mode": "upsert"}}),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let results = r.body["meta"]["results"].as_array().unwrap();
    let status: Vec<u64> = results.iter().map(|x| x["status"].as_u64().unwrap()).collect();
    assert_eq!(status, [200, 201, 422, 422, 422]);
    assert_eq!(results[2]["errors"][0]["source"]["pointer"], "/data/2/id");
    assert_eq!(results[3]["errors"][0]["source"]["pointer"], "/data/3/id");
    assert_eq!(
        results[4]["errors"][0]["source"]["pointer"], "/data/4/attributes/email",
        "a create needs required fields"
    );
    assert_eq!((&r.body["meta"]["created"], &r.body["meta"]["updated"]), (&json!(1), &json!(1)));
    let updated = t.get(&format!("/v1/data/person/{id}")).await;
    assert_eq!(updated.body["data"]["attributes"], json!({"email": "old@x.io", "age": 2}), "merged like PATCH");
    assert_eq!(updated.body["data"]["meta"]["version"], 2);
    assert_eq!(t.get("/v1/data/person/new-one").await.status, 200);
    assert_eq!(t.get("/v1/data/person/new-two").await.status, 404);
}

#[tokio::test]
async fn bulk_requests_that_are_not_bulk_documents_are_refused_whole() {
    let t = stack().await.tenant().await;
    define_graph(&t).await;
    let item = json!({"type": "company", "attributes": {"name": "x"}});
    for (what, body, status, pointer) in [
        ("over 100", json!({"data": vec![item.clone(); 101]}), 422, "/data"),
        ("empty", json!({"data": []}), 422, "/data"),
        ("not an array", json!({"data": item.clone()}), 400, "/data"),
        ("no data", json!({"meta": {}}), 400, "/data"),
        ("bad mode", json!({"data": [item.clone()], "meta": {"mode": "merge"}}), 400, "/meta/mode"),
        ("bad meta", json!({"data": [item.clone()], "meta": "upsert"}), 400, "/meta"),
    ] {
        let r = bulk(&t, "company", body).await;
        assert_eq!(r.status, status, "{what}: {:?}", r.body);
        assert_eq!(r.pointers(), [pointer], "{what}");
    }
    assert_eq!(t.get("/v1/data/company").await.body["data"], json!([]), "nothing was written");
    assert_eq!(t.get("/v1/data/company/_bulk").await.status, 405);
    assert_eq!(bulk(&t, "nothing", json!({"data": [item]})).await.status, 404);
    let reader = t.post_json("/v1/api-keys", &json!({"name": "r", "scopes": ["data:read"]})).await;
    let reader = t.with_key(reader.body["secret"].as_str().unwrap());
    let denied = bulk(&reader, "company", json!({"data": [{"type": "company", "attributes": {"name": "x"}}]})).await;
    assert_eq!(denied.status, 403);
}

#[tokio::test]
async fn every_bad_query_parameter_is_a_400_naming_it() {
    let t = stack().await.tenant().await;
    define_graph(&t).await;
    define(
        &t,
        json!({"name": "doc", "fields": [
        {"name": "body", "type": "json"}, {"name": "flag", "type": "boolean"}, {"name": "n", "type": "integer"},
        {"name": "secret", "type": "string", "sensitive": true}]}),
    )
    .await;
    let many = (0..101).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
    let deep = "person.manager.manager.company";
    for (query, parameter) in [
        ("filter[nope]=1".into(), "filter[nope]"),
        ("filter[n][between]=1".into(), "filter[n][between]"),
        ("filter[n]=abc".into(), "filter[n]"),
        ("filter[n][in]=".to_owned() + &many, "filter[n][in]"),
        ("filter[flag][gt]=true".into(), "filter[flag][gt]"),
        ("filter[n][contains]=1".into(), "filter[n][contains]"),
        ("filter[body]=x".into(), "filter[body]"),
        ("filter[flag]=yes".into(), "filter[flag]"),
        ("filter[n][isNull]=maybe".into(), "filter[n][isNull]"),
        ("filter[id]=a/b".into(), "filter[id]"),
        ("filter[n".into(), "filter[n"),
        ("sort=nope".into(), "sort"),
        ("sort=body".into(), "sort"),
        ("sort=secret".into(), "sort"),
        ("sort=n,,flag".into(), "sort"),
        ("page[size]=0".into(), "page[size]"),
        ("page[size]=201".into(), "page[size]"),
        ("page[size]=ten".into(), "page[size]"),
        ("page[after]=x.y".into(), "page[after]"),
        ("page[number]=2".into(), "page[number]"),
        ("include=nope".into(), "include"),
        ("include=n".into(), "include"),
        ("fields[doc]=nope".into(), "fields[doc]"),
        ("fields[nothing]=a".into(), "fields[nothing]"),
        ("colour=red".into(), "colour"),
    ] {
        let r = get(&t, &format!("/v1/data/doc?{query}")).await;
        assert_error(&r, 400, parameter, &query);
    }
    for (query, parameter) in [
        (format!("include={deep}"), "include"),
        ("include=person..company".into(), "include"),
        ("fields[deal]=title,nope".into(), "fields[deal]"),
        ("sort=title&sort=-title".into(), "sort"),
    ] {
        let r = get(&t, &format!("/v1/data/deal?{query}")).await;
        assert_error(&r, 400, parameter, &query);
    }
    let single = get(&t, "/v1/data/deal/whatever?sort=title").await;
    assert_error(&single, 400, "sort", "single records take no sort");

    // content negotiation
    let accept = |value: &'static str| {
        let t = t.clone();
        async move { t.send(Method::GET, "/v1/data/doc", None, None, &[("accept", value)]).await.status }
    };
    assert_eq!(accept("application/vnd.api+json; charset=utf-8").await, 406);
    assert_eq!(accept("application/vnd.api+json;charset=utf-8, application/vnd.api+json;v=2").await, 406);
    assert_eq!(accept("application/vnd.api+json").await, 200);
    assert_eq!(accept("application/vnd.api+json; ext=\"https://jsonapi.org/ext/atomic\"").await, 200);
    assert_eq!(accept("application/vnd.api+json; charset=utf-8, application/vnd.api+json").await, 200);
    assert_eq!(accept("application/vnd.api+json; charset=utf-8, */*").await, 200);
    assert_eq!(accept("application/vnd.api+json; q=0.9").await, 200);
}
