//! The handler on real-shaped API Gateway payloads (`events/graphql/`) with in-memory adapters: authentication,
//! media-type negotiation, request errors versus field errors, GraphiQL and its assets.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use hw_store::ControlStore;
use hw_store::cipher::FieldCipher;
use hw_store::memory::{MemoryControlStore, MemoryDataStore};
use hw_store::records::{Publication, Records};
use hw_store::tenants::{NewKey, Tenants};
use serde_json::{Value, json};

use crate::{Deps, handle};

struct Harness {
    deps: Deps,
    key: String,
}

impl Harness {
    async fn new() -> Self {
        let control = Arc::new(MemoryControlStore::default());
        let tenants = Tenants { control: control.clone() };
        tenants.create_tenant("acme", "Acme").await.unwrap();
        let key = tenants.create_key("acme", NewKey::named("reader", vec!["data:read".into()])).await.unwrap().secret;
        for m in [
            json!({"name": "company", "fields": [{"name": "name", "type": "string"}]}),
            json!({"name": "contact", "fields": [{"name": "email", "type": "email"},
                {"name": "company", "type": "reference", "target": "company"}]}),
        ] {
            let mut m = m;
            for (k, v) in
                [("label", json!("x")), ("version", json!(1)), ("created_at", json!("")), ("updated_at", json!(""))]
            {
                m[k] = v;
            }
            control.put_model("acme", &serde_json::from_value(m).unwrap(), None).await.unwrap();
        }
        let keyring = Arc::new(hw_aws::kms::StaticKeyring::new([1; 32]));
        let records = Arc::new(Records {
            cipher: Arc::new(FieldCipher::new(control.clone(), keyring)),
            control,
            data: Arc::new(MemoryDataStore::default()),
            publisher: Arc::new(hw_aws::events::RecordingPublisher::default()),
            publication: Publication::Immediate,
        });
        let admin = hw_domain::principal::Principal::new("acme", "apikey:seed", vec!["admin".into()]);
        let company = records.model("acme", "company").await.unwrap();
        let contact = records.model("acme", "contact").await.unwrap();
        let attrs = |v: Value| v.as_object().unwrap().clone();
        records
            .create(&admin, &company, Some("co1".into()), &attrs(json!({"name": "Acme"})), &|f| f.into())
            .await
            .unwrap();
        records
            .create(
                &admin,
                &contact,
                Some("c1".into()),
                &attrs(json!({"email": "a@acme.example", "company": "co1"})),
                &|f| f.into(),
            )
            .await
            .unwrap();
        let config = hw_resources::Config::for_prefix("test");
        let deps = Deps::new(config, records, Arc::new(hw_oauth_store::memory::MemoryOAuthStore::new()));
        Self { deps, key }
    }

    /// A fixture with the harness's key in place of `KEY`.
    fn event(&self, name: &str) -> ApiGatewayV2httpRequest {
        let path = format!("{}/../../events/graphql/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap().replace("Bearer KEY", &format!("Bearer {}", self.key));
        serde_json::from_str(&text).unwrap()
    }

    /// A POST of `body` with these headers (and the key unless `authorization` is given).
    fn post(&self, body: &str, headers: &[(&str, &str)]) -> ApiGatewayV2httpRequest {
        let mut e = self.event("post-query.json");
        e.body = Some(body.to_owned());
        for (k, v) in headers {
            e.headers.insert(http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        e
    }
}

fn body(r: &ApiGatewayV2httpResponse) -> Value {
    match &r.body {
        Some(Body::Text(t)) => serde_json::from_str(t).unwrap_or(Value::String(t.clone())),
        _ => Value::Null,
    }
}

fn header<'a>(r: &'a ApiGatewayV2httpResponse, name: &str) -> &'a str {
    r.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

#[tokio::test]
async fn a_query_from_api_gateway_resolves_with_its_reference() {
    let h = Harness::new().await;
    for fixture in ["post-query.json", "post-query-base64.json"] {
        let r = handle(&h.deps, h.event(fixture)).await;
        assert_eq!(r.status_code, 200, "{fixture}: {:?}", body(&r));
        assert_eq!(body(&r), json!({"data": {"contact": {"email": "a@acme.example", "company": {"name": "Acme"}}}}));
    }
    let r = handle(&h.deps, h.event("post-query.json")).await;
    assert_eq!(header(&r, "content-type"), "application/graphql-response+json; charset=utf-8");
    let r = handle(&h.deps, h.event("post-query-base64.json")).await;
    assert_eq!(header(&r, "content-type"), "application/json; charset=utf-8");
}

#[tokio::test]
async fn request_errors_are_4xx_for_graphql_response_json_and_200_for_json() {
    let h = Harness::new().await;
    let gql = [("accept", "application/graphql-response+json")];
    let json_only = [("accept", "application/json")];
    for (query, code) in [("{ contact(id: \"c1\") {", 400), ("{ nope }", 400)] {
        let b = json!({"query": query}).to_string();
        let r = handle(&h.deps, h.post(&b, &gql)).await;
        assert_eq!(r.status_code, code, "{query}");
        assert!(body(&r).get("data").is_none() && body(&r)["errors"][0]["message"].is_string());
        let r = handle(&h.deps, h.post(&b, &json_only)).await;
        assert_eq!(r.status_code, 200, "{query}");
    }
    // A field error is an execution result: 200 with data, whatever the media type.
    let forbidden = json!({"query": "mutation { deleteContact(id: \"c1\") }"}).to_string();
    let r = handle(&h.deps, h.post(&forbidden, &gql)).await;
    assert_eq!(r.status_code, 200);
    assert_eq!(body(&r)["errors"][0]["extensions"]["code"], "FORBIDDEN");
    assert_eq!(body(&r)["errors"][0]["path"], json!(["deleteContact"]));

    let r = handle(&h.deps, h.post("{}", &[("accept", "text/plain")])).await;
    assert_eq!(r.status_code, 406);
    let r = handle(&h.deps, h.post("{\"query\": 1}", &gql)).await;
    assert_eq!(r.status_code, 400);
    let r = handle(&h.deps, h.post("{\"query\": \"{ __typename }\"}", &[("content-type", "text/plain")])).await;
    assert_eq!(r.status_code, 415);
    let big =
        json!({"query": "{ __typename }", "variables": {"x": "y".repeat(crate::http::MAX_BODY_BYTES)}}).to_string();
    assert_eq!(handle(&h.deps, h.post(&big, &gql)).await.status_code, 413);
}

#[tokio::test]
async fn credentials_decide_the_tenant() {
    let h = Harness::new().await;
    let b = json!({"query": "{ __typename }"}).to_string();
    let r = handle(&h.deps, h.post(&b, &[("authorization", "Bearer hw_not_a_key")])).await;
    assert_eq!(r.status_code, 401);
    assert!(header(&r, "www-authenticate").starts_with("Bearer realm=\"hubblewave\""));
    assert_eq!(body(&r)["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    let forged = "eyJhbGciOiJub25lIn0.eyJpc3MiOiJodHRwczovL2h1Yi5leGFtcGxlL3QvYWNtZSJ9.";
    let r = handle(&h.deps, h.post(&b, &[("authorization", &format!("Bearer {forged}"))])).await;
    assert_eq!(r.status_code, 401, "an unsigned token is refused");
    let mut none = h.post(&b, &[]);
    none.headers.remove("authorization");
    assert_eq!(handle(&h.deps, none).await.status_code, 401);
}

#[tokio::test]
async fn browsers_get_graphiql_from_bundled_assets() {
    let h = Harness::new().await;
    let page = handle(&h.deps, h.event("browser-get.json")).await;
    assert_eq!(page.status_code, 200);
    assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
    let Some(Body::Text(html)) = &page.body else { panic!("html") };
    assert!(html.contains("/graphql/assets/graphiql.min.js") && !html.contains("https://"));
    let css = handle(&h.deps, h.event("asset.json")).await;
    assert_eq!(css.status_code, 200);
    assert_eq!(header(&css, "content-type"), "text/css; charset=utf-8");
}
