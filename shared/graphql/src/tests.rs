//! The generated schema on in-memory adapters: queries both ways along relations, DataLoader call counts,
//! filters, pages, mutations and their errors, permissions, limits, introspection and federation.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::dynamic::Schema;
use async_trait::async_trait;
use hw_aws::events::RecordingPublisher;
use hw_domain::event::Envelope;
use hw_domain::model::Model;
use hw_domain::principal::Principal;
use hw_domain::tenant::{GraphqlSettings, Tenant};
use hw_store::cipher::FieldCipher;
use hw_store::memory::{MemoryControlStore, MemoryDataStore};
use hw_store::records::{Publication, Records};
use hw_store::{ControlStore, DataStore, IdRange, RecordWrite, StoreError, StoredRecord};
use serde_json::{Map, Value, json};

use crate::SchemaCache;

const TENANT: &str = "acme";

/// The memory store, counting reads the way DynamoDB would bill them: a query call per page, a BatchGetItem per
/// 100 keys.
#[derive(Default)]
struct Counting {
    inner: MemoryDataStore,
    reads: AtomicUsize,
}

#[async_trait]
impl DataStore for Counting {
    async fn has_records(&self, t: &str, e: &str) -> Result<bool, StoreError> {
        self.inner.has_records(t, e).await
    }
    async fn get_record(&self, t: &str, e: &str, id: &str) -> Result<Option<StoredRecord>, StoreError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.inner.get_record(t, e, id).await
    }
    async fn list_records(
        &self,
        t: &str,
        e: &str,
        l: usize,
        a: Option<&str>,
    ) -> Result<(Vec<StoredRecord>, Option<String>), StoreError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.inner.list_records(t, e, l, a).await
    }
    async fn write_record(&self, w: RecordWrite<'_>) -> Result<(), StoreError> {
        self.inner.write_record(w).await
    }
    async fn outbox_done(&self, events: &[Envelope]) -> Result<(), StoreError> {
        self.inner.outbox_done(events).await
    }
    async fn outbox_pending(&self, older_than: &str, limit: usize) -> Result<Vec<Envelope>, StoreError> {
        self.inner.outbox_pending(older_than, limit).await
    }
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
    async fn query_records(
        &self,
        t: &str,
        e: &str,
        r: &IdRange,
        l: usize,
    ) -> Result<(Vec<StoredRecord>, Option<String>), StoreError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.inner.query_records(t, e, r, l).await
    }
    async fn get_records(&self, t: &str, e: &str, ids: &[String]) -> Result<Vec<StoredRecord>, StoreError> {
        self.reads.fetch_add(ids.len().div_ceil(100).max(1), Ordering::SeqCst);
        self.inner.get_records(t, e, ids).await
    }
    async fn find_claims(
        &self,
        t: &str,
        e: &str,
        f: &str,
        h: &[String],
    ) -> Result<std::collections::HashMap<String, String>, StoreError> {
        self.inner.find_claims(t, e, f, h).await
    }
}

struct World {
    records: Arc<Records>,
    data: Arc<Counting>,
    cache: SchemaCache,
}

fn model(v: Value) -> Model {
    let mut v = v;
    v["label"] = v["name"].clone();
    v["version"] = json!(1);
    v["created_at"] = json!("2026-01-01T00:00:00Z");
    v["updated_at"] = json!("2026-01-01T00:00:00Z");
    serde_json::from_value(v).unwrap()
}

fn admin() -> Principal {
    Principal::new(TENANT, "apikey:k", vec!["admin".into()])
}

fn with_scopes(scopes: &[&str]) -> Principal {
    Principal::new(TENANT, "apikey:k", scopes.iter().map(|s| s.to_string()).collect())
}

impl World {
    async fn new(settings: Option<GraphqlSettings>) -> Self {
        let control = Arc::new(MemoryControlStore::default());
        control
            .create_tenant(&Tenant {
                id: TENANT.into(),
                name: "Acme".into(),
                created_at: "2026-01-01T00:00:00Z".into(),
                rate_limit_per_minute: None,
                graphql: settings,
            })
            .await
            .unwrap();
        for m in [
            model(json!({"name": "company", "fields": [
                {"name": "name", "type": "string", "required": true},
                {"name": "tier", "type": "enum", "values": ["gold", "silver"]}]})),
            model(json!({"name": "contact", "fields": [
                {"name": "name", "type": "string", "required": true},
                {"name": "email", "type": "email", "unique": true},
                {"name": "age", "type": "integer", "min": 0, "max": 150},
                {"name": "ssn", "type": "string", "sensitive": true},
                {"name": "company", "type": "reference", "target": "company"}]})),
            model(json!({"name": "deal", "fields": [
                {"name": "title", "type": "string"},
                {"name": "buyer", "type": "reference", "target": "company"},
                {"name": "seller", "type": "reference", "target": "company"},
                {"name": "contact", "type": "reference", "target": "contact"}]})),
        ] {
            control.put_model(TENANT, &m, None).await.unwrap();
        }
        let data = Arc::new(Counting::default());
        let keyring = Arc::new(hw_aws::kms::StaticKeyring::new([7; 32]));
        let records = Arc::new(Records {
            cipher: Arc::new(FieldCipher::new(control.clone(), keyring)),
            control,
            data: data.clone(),
            publisher: Arc::new(RecordingPublisher::default()),
            publication: Publication::Immediate,
        });
        Self { cache: SchemaCache::with_freshness(records.clone(), std::time::Duration::ZERO), records, data }
    }

    async fn schema(&self) -> Schema {
        self.cache.schema(TENANT).await.unwrap().schema
    }

    async fn run_as(&self, p: Principal, query: &str, vars: Value) -> Value {
        let tenant_schema = self.cache.schema(TENANT).await.unwrap();
        let caller = tenant_schema.caller(p, self.records.clone());
        let req = async_graphql::Request::new(query).variables(async_graphql::Variables::from_json(vars)).data(caller);
        serde_json::to_value(tenant_schema.schema.execute(req).await).unwrap()
    }

    async fn run(&self, query: &str) -> Value {
        self.run_as(admin(), query, json!({})).await
    }

    /// Creates `companies` companies with `per` contacts each, and a deal per contact.
    async fn seed(&self, companies: usize, per: usize) {
        let p = admin();
        let m = |n: &str| {
            let records = self.records.clone();
            let n = n.to_owned();
            async move { records.model(TENANT, &n).await.unwrap() }
        };
        let (company, contact, deal) = (m("company").await, m("contact").await, m("deal").await);
        let attrs = |v: Value| -> Map<String, Value> { v.as_object().unwrap().clone() };
        for c in 0..companies {
            let cid = format!("co{c:03}");
            let tier = if c % 2 == 0 { "gold" } else { "silver" };
            self.records
                .create(
                    &p,
                    &company,
                    Some(cid.clone()),
                    &attrs(json!({"name": format!("Company {c}"), "tier": tier})),
                    &|f| f.to_owned(),
                )
                .await
                .unwrap();
            for k in 0..per {
                let id = format!("ct{c:03}{k:03}");
                let a = attrs(
                    json!({"name": format!("Person {c}-{k}"), "age": 20 + k, "company": cid, "ssn": "123-45-6789"}),
                );
                self.records.create(&p, &contact, Some(id.clone()), &a, &|f| f.to_owned()).await.unwrap();
                let d =
                    attrs(json!({"title": format!("Deal {c}-{k}"), "buyer": cid, "seller": "co000", "contact": id}));
                self.records.create(&p, &deal, None, &d, &|f| f.to_owned()).await.unwrap();
            }
        }
    }
}

fn errors(v: &Value) -> Vec<&Value> {
    v["errors"].as_array().map(|a| a.iter().collect()).unwrap_or_default()
}

fn code(v: &Value) -> &str {
    v["errors"][0]["extensions"]["code"].as_str().unwrap_or("")
}

const NESTED: &str = r#"{ companies(first: 100) { edges { node { name
    contacts(first: 100) { totalCount nodes { name company { name } dealsByBuyer: deals(first: 5) { totalCount } } } } } } }"#;

#[tokio::test]
async fn nested_queries_cost_calls_per_level_not_per_row() {
    let mut counts = Vec::new();
    for companies in [3, 12] {
        let w = World::new(None).await;
        w.seed(companies, 4).await;
        w.data.reads.store(0, Ordering::SeqCst);
        let out = w.run(NESTED).await;
        assert!(errors(&out).is_empty(), "{out}");
        let edges = out["data"]["companies"]["edges"].as_array().unwrap();
        assert_eq!(edges.len(), companies);
        let first = &edges[1]["node"];
        assert_eq!(first["name"], "Company 1");
        assert_eq!(first["contacts"]["totalCount"], 4);
        assert_eq!(first["contacts"]["nodes"][0]["company"]["name"], "Company 1");
        assert_eq!(first["contacts"]["nodes"][0]["dealsByBuyer"]["totalCount"], 1);
        counts.push(w.data.reads.load(Ordering::SeqCst));
    }
    assert_eq!(counts[0], counts[1], "store reads for 3 and 12 companies: {counts:?}");
    assert!(counts[0] <= 6, "one read per level: {counts:?}");
}

#[tokio::test]
async fn the_schema_follows_the_naming_contract() {
    let w = World::new(None).await;
    let sdl = w.schema().await.sdl();
    for needle in [
        "contact(id: ID!): Contact",
        "contacts(\t\tfilter: ContactFilter,\t\tsort: [ContactOrder!],",
        "): ContactConnection!",
        "companies(",
        "createContact(input: ContactCreateInput!): Contact!",
        "updateContact(\t\tid: ID!,\t\tinput: ContactUpdateInput!,",
        "\t\texpectedVersion: Int\n\t): Contact!",
        "deleteContact(\t\tid: ID!,",
        "upsertContact(id: ID!, input: ContactUpdateInput!): Contact!",
        "dealsByBuyer(",
        "dealsBySeller(",
        "enum CompanyTier",
        "contactCreated(filter: ContactFilter): Contact!",
        "contactUpdated(filter: ContactFilter): Contact!",
        "contactDeleted(filter: ContactFilter): Contact!",
    ] {
        assert!(sdl.contains(needle), "missing `{needle}` in\n{sdl}");
    }
}

#[tokio::test]
async fn filters_sorts_and_cursor_pages() {
    let w = World::new(None).await;
    w.seed(2, 6).await;
    let q = r#"query($after: String) { contacts(first: 3, after: $after, sort: [AGE_DESC],
        filter: {or: [{age: {gte: 24}}, {name: {eq: "Person 0-0"}}], not: {company: {eq: "co001"}}}) {
        totalCount pageInfo { hasNextPage endCursor } nodes { name age } } }"#;
    let first = w.run_as(admin(), q, json!({})).await;
    assert!(errors(&first).is_empty(), "{first}");
    let c = &first["data"]["contacts"];
    assert_eq!(c["totalCount"], 3);
    let names: Vec<&str> = c["nodes"].as_array().unwrap().iter().map(|n| n["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Person 0-5", "Person 0-4", "Person 0-0"]);
    assert_eq!(c["pageInfo"]["hasNextPage"], false);

    let q2 = "query($after: String) { contacts(first: 4, after: $after) { pageInfo { hasNextPage endCursor } nodes { name } } }";
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = w.run_as(admin(), q2, json!({"after": after})).await;
        let c = &page["data"]["contacts"];
        seen.extend(c["nodes"].as_array().unwrap().iter().map(|n| n["name"].as_str().unwrap().to_owned()));
        if c["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = c["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen.len(), 12);

    // A cursor of one query is refused by another, and a bad filter value names its argument.
    let other = w
        .run_as(
            admin(),
            "query($a: String) { contacts(after: $a, sort: [NAME_ASC]) { nodes { name } } }",
            json!({"a": after}),
        )
        .await;
    assert_eq!(code(&other), "BAD_USER_INPUT", "{other}");
    let bad = w.run(r#"{ contacts(filter: {id: {eq: "no such/id"}}) { nodes { name } } }"#).await;
    assert_eq!(code(&bad), "BAD_USER_INPUT", "{bad}");
    assert_eq!(bad["errors"][0]["extensions"]["argument"], "filter.id.eq");
    let not_a_date = w.run(r#"{ contacts(filter: {created_at: {gt: "yesterday"}}) { nodes { name } } }"#).await;
    assert!(not_a_date["errors"][0]["message"].as_str().unwrap().contains("filter.created_at.gt"), "{not_a_date}");
}

#[tokio::test]
async fn mutations_validate_and_report_field_paths() {
    let w = World::new(None).await;
    w.seed(1, 0).await;
    let created = w.run(r#"mutation { createContact(input: {id: "c1", name: "Ann", email: "ann@example.com", company: "co000"}) { id version company { name } } }"#).await;
    assert!(errors(&created).is_empty(), "{created}");
    assert_eq!(created["data"]["createContact"]["company"]["name"], "Company 0");

    let invalid =
        w.run(r#"mutation { createContact(input: {name: "Bob", email: "not-an-email", age: 200}) { id } }"#).await;
    assert_eq!(code(&invalid), "BAD_USER_INPUT", "{invalid}");
    assert_eq!(invalid["data"], Value::Null, "the mutation's field is non-null");
    assert_eq!(invalid["errors"][0]["path"], json!(["createContact"]), "{invalid}");
    let problems = invalid["errors"][0]["extensions"]["problems"].as_array().unwrap();
    let fields: Vec<&Value> = problems.iter().map(|p| &p["field"]).collect();
    assert!(fields.contains(&&json!(["input", "email"])) && fields.contains(&&json!(["input", "age"])), "{invalid}");

    let dup = w.run(r#"mutation { createContact(input: {name: "Eve", email: "ANN@example.com"}) { id } }"#).await;
    assert_eq!(code(&dup), "CONFLICT", "{dup}");
    let dangling = w.run(r#"mutation { createContact(input: {name: "Eve", company: "nope"}) { id } }"#).await;
    assert!(!errors(&dangling).is_empty(), "{dangling}");

    let stale = w.run(r#"mutation { updateContact(id: "c1", input: {age: 40}, expectedVersion: 7) { id } }"#).await;
    assert_eq!(code(&stale), "PRECONDITION_FAILED", "{stale}");
    let updated = w.run(r#"mutation { updateContact(id: "c1", input: {age: 40, email: null}, expectedVersion: 1) { version age email } }"#).await;
    assert_eq!(updated["data"]["updateContact"], json!({"version": 2, "age": 40, "email": null}), "{updated}");

    let up = w.run(r#"mutation { a: upsertContact(id: "c2", input: {name: "Cy"}) { version } b: upsertContact(id: "c2", input: {age: 3}) { version name age } }"#).await;
    assert_eq!(up["data"]["b"], json!({"version": 2, "name": "Cy", "age": 3}), "{up}");

    let deleted = w.run(r#"mutation { deleteContact(id: "c2") }"#).await;
    assert_eq!(deleted["data"]["deleteContact"], "c2");
    let gone = w.run(r#"{ contact(id: "c2") { id } }"#).await;
    assert_eq!(gone["data"]["contact"], Value::Null);
    let missing = w.run(r#"mutation { deleteContact(id: "c2") }"#).await;
    assert_eq!(code(&missing), "NOT_FOUND");
}

#[tokio::test]
async fn scopes_guard_entities_and_sensitive_fields() {
    let w = World::new(None).await;
    w.seed(1, 1).await;
    let reader = with_scopes(&["data:read:contact"]);
    let out = w.run_as(reader.clone(), "{ contacts { nodes { name ssn company { name } } } }", json!({})).await;
    let node = &out["data"]["contacts"]["nodes"][0];
    assert_eq!(node["name"], "Person 0-0");
    assert_eq!(node["ssn"], Value::Null);
    assert_eq!(node["company"], Value::Null);
    let codes: Vec<&str> = errors(&out).iter().map(|e| e["extensions"]["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["FORBIDDEN", "FORBIDDEN"], "{out}");
    let mut paths: Vec<&Value> = errors(&out).iter().map(|e| &e["path"]).collect();
    paths.sort_by_key(|p| p.to_string());
    assert_eq!(paths, [&json!(["contacts", "nodes", 0, "company"]), &json!(["contacts", "nodes", 0, "ssn"])]);

    let trusted = with_scopes(&["data:read", "data:sensitive:contact"]);
    let out = w.run_as(trusted, "{ contacts { nodes { ssn company { name } } } }", json!({})).await;
    assert!(errors(&out).is_empty(), "{out}");
    assert_eq!(out["data"]["contacts"]["nodes"][0]["ssn"], "123-45-6789");

    let write = w.run_as(reader, r#"mutation { deleteContact(id: "ct000000") }"#, json!({})).await;
    assert_eq!(code(&write), "FORBIDDEN");
}

#[tokio::test]
async fn limits_and_introspection_follow_the_tenant_settings() {
    let w =
        World::new(Some(GraphqlSettings { max_depth: 4, max_complexity: 10, introspection: false, version: 1 })).await;
    w.seed(1, 1).await;
    let deep = w.run("{ contacts { edges { node { company { name } } } } }").await;
    assert!(deep["errors"][0]["message"].as_str().unwrap().contains("nested too deep"), "{deep}");
    let wide = w.run("{ a: contacts { nodes { name } } b: contacts { nodes { name } } c: contacts { nodes { name } } d: contacts { nodes { name } } }").await;
    assert!(wide["errors"][0]["message"].as_str().unwrap().contains("too complex"), "{wide}");
    let intro = w.run("{ __schema { types { name } } }").await;
    assert!(!errors(&intro).is_empty(), "{intro}");

    let open = World::new(None).await;
    let intro = open.run("{ __schema { queryType { name } } }").await;
    assert_eq!(intro["data"]["__schema"]["queryType"]["name"], "Query");
}

#[tokio::test]
async fn federation_serves_the_sdl_and_resolves_entities() {
    let w = World::new(None).await;
    w.seed(2, 1).await;
    let out = w.run(r#"{ _service { sdl } _entities(representations: [{__typename: "Company", id: "co001"}, {__typename: "Contact", id: "nope"}]) { __typename ... on Company { name } } }"#).await;
    assert!(out["data"]["_service"]["sdl"].as_str().unwrap().contains("@key(fields: \"id\")"));
    // A representation without a record: its fields are null, each with a NOT_FOUND error.
    assert_eq!(
        out["data"]["_entities"],
        json!([{"__typename": "Company", "name": "Company 1"}, {"__typename": "Contact"}])
    );
}

#[tokio::test]
async fn the_schema_is_rebuilt_only_when_a_model_changes() {
    let w = World::new(None).await;
    let a = w.schema().await.sdl();
    let mut company = w.records.model(TENANT, "company").await.unwrap();
    let before = w.cache.schema(TENANT).await.unwrap().schema;
    assert_eq!(a, before.sdl());
    company.fields.push(serde_json::from_value(json!({"name": "website", "type": "url"})).unwrap());
    company.version += 1;
    w.records.control.put_model(TENANT, &company, Some(1)).await.unwrap();
    assert!(w.schema().await.sdl().contains("website: String"));
}

#[tokio::test]
async fn subscriptions_are_checked_once_and_delivered_per_event() {
    use crate::subscriptions::{RecordEvent, Topic, check, deliver};
    let w = World::new(None).await;
    w.seed(1, 0).await;
    let ts = w.cache.schema(TENANT).await.unwrap();
    let query = "subscription { contactCreated(filter: {age: {gte: 18}}) { name age company { name } } }";
    let request = || async_graphql::Request::new(query);
    let topic = check(&ts, ts.caller(admin(), w.records.clone()), request()).await.unwrap();
    assert_eq!(topic, Topic { entity: "contact".into(), event_type: "record.created".into() });

    let event = |tenant: &str, kind: &str, name: &str, age: i64| {
        let record = json!({"id": format!("id-{name}"), "entity": "contact", "attributes": {"name": name, "age": age, "company": "co000"},
            "version": 1, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z", "created_by": "t", "updated_by": "t"});
        let envelope = hw_domain::event::Envelope::new(
            kind,
            tenant,
            json!({"entity": "contact", "id": format!("id-{name}"), "record": record}),
        );
        Arc::new(RecordEvent::from_envelope(envelope).unwrap())
    };
    let run = |e| deliver(&ts, ts.caller(admin(), w.records.clone()), request(), e);
    assert!(run(event("globex", "record.created", "Other tenant", 40)).await.is_none());
    assert!(run(event(TENANT, "record.created", "Child", 10)).await.is_none(), "the filter leaves it out");
    assert!(run(event(TENANT, "record.updated", "Update", 40)).await.is_none(), "another kind");
    let adult = run(event(TENANT, "record.created", "Adult", 40)).await.unwrap();
    assert!(adult.errors.is_empty(), "{:?}", adult.errors);
    assert_eq!(
        serde_json::to_value(&adult.data).unwrap(),
        json!({"contactCreated": {"name": "Adult", "age": 40, "company": {"name": "Company 0"}}})
    );
    let other = hw_domain::event::Envelope::new("import.completed", TENANT, json!({"import": "x"}));
    assert!(RecordEvent::from_envelope(other).is_none());

    // Refused when checked: a missing scope, a bad filter value, a query, two root fields, a syntax error.
    let code = |errors: &[async_graphql::ServerError]| {
        errors[0].extensions.as_ref().and_then(|e| e.get("code")).cloned().unwrap_or(async_graphql::Value::Null)
    };
    let denied = ts.caller(with_scopes(&["data:read:company"]), w.records.clone());
    let errors = check(&ts, denied, request()).await.unwrap_err();
    assert_eq!(code(&errors), async_graphql::Value::from("FORBIDDEN"));
    for bad in [
        r#"subscription { contactCreated(filter: {age: {gte: "old"}}) { name } }"#,
        "query { contacts { totalCount } }",
        "subscription { contactCreated { name } contactDeleted { name } }",
        "subscription { contactCreated { name }",
        "subscription { contactCreated { nope } }",
    ] {
        let caller = ts.caller(admin(), w.records.clone());
        let errors = check(&ts, caller, async_graphql::Request::new(bad)).await.unwrap_err();
        assert!(!errors.is_empty() && !errors[0].message.is_empty(), "{bad}");
    }
}
