use std::sync::Arc;

use hw_aws::events::RecordingPublisher;
use serde_json::{Map, json};

use super::*;
use crate::ControlStore;
use crate::cipher::FieldCipher;
use crate::memory::{MemoryControlStore, MemoryDataStore};

fn principal(tenant: &str) -> Principal {
    Principal::new(tenant, "apikey:key_1", vec!["admin".into()])
}

async fn setup() -> (Records, Model) {
    let control = Arc::new(MemoryControlStore::default());
    let model: Model = serde_json::from_value(json!({
        "name": "item", "label": "Item", "version": 1, "created_at": "", "updated_at": "",
        "fields": [
            {"name": "n", "type": "integer"},
            {"name": "group", "type": "enum", "values": ["a", "b", "c"]},
            {"name": "secret", "type": "string", "sensitive": true}
        ]
    }))
    .unwrap();
    control.put_model("acme", &model, None).await.unwrap();
    let keyring = Arc::new(hw_aws::kms::StaticKeyring::new([3; 32]));
    let cipher = Arc::new(FieldCipher::new(control.clone(), keyring));
    let records = Records {
        control,
        data: Arc::new(MemoryDataStore::default()),
        publisher: Arc::new(RecordingPublisher::default()),
        cipher,
        publication: crate::records::Publication::Immediate,
    };
    let p = principal("acme");
    for i in 0..40 {
        let mut attrs = Map::new();
        if i % 5 != 0 {
            attrs.insert("n".into(), json!(i % 7));
        }
        attrs.insert("group".into(), json!(["a", "b", "c"][i % 3]));
        attrs.insert("secret".into(), json!(format!("s{}", i % 2)));
        let id = format!("r{i:02}");
        records.create(&p, &model, Some(id), &attrs, &|f| f.to_owned()).await.unwrap();
    }
    (records, model)
}

fn query(model: &Model, params: &[(&str, &str)]) -> Query {
    let params: Vec<(String, String)> = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Query::parse(model, &params).unwrap()
}

/// Walks every page and returns the ids in the order served.
async fn walk(records: &Records, model: &Model, q: &Query, size: usize) -> (Vec<String>, usize) {
    let p = principal("acme");
    let mut ids = Vec::new();
    let mut after: Option<Position> = None;
    let mut pages = 0;
    loop {
        let page = records.query(&p, model, q, size, after.as_ref()).await.unwrap();
        pages += 1;
        assert!(page.records.len() <= size);
        ids.extend(page.records.iter().map(|r| r.id.clone()));
        match page.next {
            None => return (ids, pages),
            Some((values, id)) => after = Some(q.position(&values, &id).expect("a position of this query")),
        }
    }
}

/// What the query must return: every record filtered and sorted in one go.
async fn expected(records: &Records, model: &Model, q: &Query) -> Vec<String> {
    let p = principal("acme");
    let all = records.query(&p, model, &Query::default(), 1000, None).await.unwrap().records;
    let mut all: Vec<Record> = all.into_iter().filter(|r| q.matches(r)).collect();
    all.sort_by(|a, b| q.compare(a, b));
    all.into_iter().map(|r| r.id).collect()
}

#[tokio::test]
async fn pages_in_every_order_return_each_match_exactly_once_in_order() {
    let (records, model) = setup().await;
    for params in [
        vec![],
        vec![("sort", "-id")],
        vec![("filter[group]", "b")],
        vec![("sort", "n")],
        vec![("sort", "-n,group")],
        vec![("sort", "group,-n"), ("filter[n][gte]", "2")],
        vec![("filter[n][isNull]", "true"), ("sort", "-updated_at")],
        vec![("filter[secret]", "s1"), ("sort", "-id")],
        vec![("filter[id][gte]", "r10"), ("filter[id][lt]", "r30"), ("sort", "n")],
        vec![("filter[id][startsWith]", "r1"), ("filter[group][ne]", "a")],
        vec![("filter[id][in]", "r05,r01,r33,r07,nope"), ("sort", "-n")],
    ] {
        let q = query(&model, &params);
        let want = expected(&records, &model, &q).await;
        assert!(!want.is_empty(), "{params:?} selects something");
        for size in [1, 3, 7, 50] {
            let (got, pages) = walk(&records, &model, &q, size).await;
            assert_eq!(got, want, "{params:?} page[size]={size}");
            assert_eq!(pages, want.len().div_ceil(size).max(1), "{params:?} page[size]={size}: no empty last page");
        }
    }
}

#[tokio::test]
async fn id_filters_outside_the_partition_or_contradictory_select_nothing() {
    let (records, model) = setup().await;
    let p = principal("acme");
    for params in [
        vec![("filter[id]", "nope")],
        vec![("filter[id][gt]", "r50")],
        vec![("filter[id][gt]", "r20"), ("filter[id][lt]", "r10")],
        vec![("filter[id]", "r01"), ("filter[id]", "r02")],
    ] {
        let page = records.query(&p, &model, &query(&model, &params), 10, None).await.unwrap();
        assert_eq!((page.records.len(), page.next), (0, None), "{params:?}");
    }
}

#[tokio::test]
async fn related_records_are_fetched_in_one_batch_and_opened() {
    let (records, model) = setup().await;
    let p = principal("acme");
    let ids: Vec<String> = ["r03", "r03", "r04", "missing"].iter().map(|s| s.to_string()).collect();
    let mut got = records.fetch_many(&p, &model, &ids).await.unwrap();
    got.sort_by(|a, b| a.id.cmp(&b.id));
    let got: Vec<(&str, &Value)> = got.iter().map(|r| (r.id.as_str(), &r.attributes["secret"])).collect();
    assert_eq!(got, [("r03", &json!("s1")), ("r04", &json!("s0"))]);
}

#[tokio::test]
async fn cursor_keys_are_stable_per_tenant_and_differ_between_tenants() {
    let (records, _) = setup().await;
    let a = records.cipher.cursor_key("acme").await.unwrap();
    assert_eq!(a, records.cipher.cursor_key("acme").await.unwrap());
    assert_ne!(a, records.cipher.cursor_key("globex").await.unwrap());
}

#[tokio::test]
async fn a_selective_filter_over_a_long_partition_answers_short_pages_that_continue_the_walk() {
    let (records, model) = setup().await;
    let p = principal("acme");
    // few records match; with a budget of 10 records per request the walk takes several short (even empty) pages
    let q = query(&model, &[("filter[id][gte]", "r00"), ("filter[n]", "4"), ("filter[group]", "a")]);
    let want = expected(&records, &model, &q).await;
    assert!(!want.is_empty() && want.len() < 5, "{want:?}");
    let mut got = Vec::new();
    let mut after: Option<Position> = None;
    let mut requests = 0;
    loop {
        let page = records.query_within(&p, &model, &q, 5, after.as_ref(), 10).await.unwrap();
        requests += 1;
        got.extend(page.records.into_iter().map(|r| r.id));
        match page.next {
            None => break,
            Some((values, id)) => after = Some(q.position(&values, &id).unwrap()),
        }
    }
    assert_eq!(got, want);
    assert!(requests >= 3, "the budget cut the walk into several requests: {requests}");
}
