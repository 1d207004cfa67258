//! Test support for the end-to-end suite: where the stack is, isolated tenants, an HTTP client, and a tap on the
//! event bus. Every test makes its own tenant (random id), so tests run in parallel without seeing each other.

mod receiver;
pub use receiver::Receiver;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use hw_store::dynamo::DynamoControlStore;
use hw_store::tenants::Tenants;
use serde_json::{Value, json};

/// The stack under test, from the environment `make test` sets up.
pub struct Stack {
    pub base_url: String,
    pub prefix: String,
    pub sdk: aws_config::SdkConfig,
    pub state_dir: Option<String>,
    pub http: reqwest::Client,
}

impl Stack {
    pub async fn from_env() -> Self {
        let var = |k: &str| {
            std::env::var(k).unwrap_or_else(|_| panic!("{k} is not set: run the end-to-end tests through `make test`, which starts the emulator and the local runner"))
        };
        let endpoint = var("HUBBLE_E2E_ENDPOINT");
        Self {
            base_url: var("HUBBLE_E2E_BASE_URL"),
            prefix: var("HUBBLE_E2E_PREFIX"),
            sdk: hubble_local::sdk_config(&endpoint).await,
            state_dir: std::env::var("HUBBLE_E2E_STATE_DIR").ok(),
            http: reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("client"),
        }
    }

    pub fn config(&self) -> hw_resources::Config {
        hw_resources::Config::for_prefix(&self.prefix)
    }

    pub fn dynamo(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.sdk)
    }

    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.sdk)
    }

    /// A record's item exactly as stored in the data table, read straight from DynamoDB.
    pub async fn stored_record(&self, tenant: &str, entity: &str, id: &str) -> Option<hw_aws::dynamo::Item> {
        use aws_sdk_dynamodb::types::AttributeValue::S;
        let out = self
            .dynamo()
            .get_item()
            .table_name(self.config().data_table)
            .key("pk", S(hw_store::keys::entity_pk(tenant, entity)))
            .key("sk", S(hw_store::keys::record_sk(id)))
            .send()
            .await
            .expect("GetItem");
        out.item
    }

    /// The ARN of the queue at `url`.
    pub async fn queue_arn(&self, url: &str) -> String {
        queue_arn(&self.sqs(), url).await.expect("queue attributes")
    }

    /// A new tenant with an admin key, created the way an operator does (straight into the control table).
    pub async fn tenant(&self) -> Tenant {
        let id = format!("t-{}", ulid::Ulid::new().to_string().to_lowercase());
        let tenants =
            Tenants { control: Arc::new(DynamoControlStore::new(self.dynamo(), self.config().control_table)) };
        let (_, key) = tenants.create_tenant(&id, "e2e").await.expect("tenant created");
        Tenant { id, key: key.secret, base_url: self.base_url.clone(), http: self.http.clone() }
    }
}

/// A tenant and a client that sends its key.
#[derive(Clone)]
pub struct Tenant {
    pub id: String,
    pub key: String,
    pub base_url: String,
    pub http: reqwest::Client,
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
    /// The JSON:API error pointers, in order.
    pub fn pointers(&self) -> Vec<String> {
        let from_jsonapi =
            self.body["errors"].as_array().into_iter().flatten().filter_map(|e| e["source"]["pointer"].as_str());
        let from_problem = self.body["errors"].as_array().into_iter().flatten().filter_map(|e| e["pointer"].as_str());
        from_jsonapi.chain(from_problem).map(str::to_owned).collect()
    }
}

pub const JSON_API: &str = "application/vnd.api+json";

impl Tenant {
    pub fn with_key(&self, key: &str) -> Tenant {
        Tenant { key: key.to_owned(), ..self.clone() }
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        content_type: Option<&str>,
        body: Option<String>,
        extra: &[(&str, &str)],
    ) -> Reply {
        let mut req = self.http.request(method, format!("{}{path}", self.base_url)).bearer_auth(&self.key);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.body(b);
        }
        let res = req.send().await.expect("the local runner answers");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let body =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        Reply { status, headers, body }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(reqwest::Method::GET, path, None, None, &[]).await
    }
    pub async fn delete(&self, path: &str) -> Reply {
        self.send(reqwest::Method::DELETE, path, None, None, &[]).await
    }
    pub async fn post_json(&self, path: &str, body: &Value) -> Reply {
        self.send(reqwest::Method::POST, path, Some("application/json"), Some(body.to_string()), &[]).await
    }
    pub async fn patch_json(&self, path: &str, body: &Value) -> Reply {
        self.send(reqwest::Method::PATCH, path, Some("application/json"), Some(body.to_string()), &[]).await
    }
    pub async fn put_json(&self, path: &str, body: &Value) -> Reply {
        self.send(reqwest::Method::PUT, path, Some("application/json"), Some(body.to_string()), &[]).await
    }

    /// `POST /v1/data/{entity}` with a JSON:API document of these attributes (and relationships).
    pub async fn create(&self, entity: &str, attributes: Value, relationships: Option<Value>) -> Reply {
        let mut data = json!({"type": entity, "attributes": attributes});
        if let Some(r) = relationships {
            data["relationships"] = r;
        }
        self.send(
            reqwest::Method::POST,
            &format!("/v1/data/{entity}"),
            Some(JSON_API),
            Some(json!({"data": data}).to_string()),
            &[],
        )
        .await
    }

    pub async fn patch(&self, entity: &str, id: &str, attributes: Value, if_match: Option<&str>) -> Reply {
        let body = json!({"data": {"type": entity, "id": id, "attributes": attributes}}).to_string();
        let headers: Vec<(&str, &str)> = if_match.map(|v| vec![("if-match", v)]).unwrap_or_default();
        self.send(reqwest::Method::PATCH, &format!("/v1/data/{entity}/{id}"), Some(JSON_API), Some(body), &headers)
            .await
    }

    /// Defines the `company` and `contact` models of the contract.
    pub async fn define_crm(&self) {
        let company = self
            .post_json(
                "/v1/models",
                &json!({"name": "company", "label": "Company", "fields": [
            {"name": "name", "type": "string", "required": true, "unique": true}]}),
            )
            .await;
        assert_eq!(company.status, 201, "{:?}", company.body);
        let contact = self
            .post_json(
                "/v1/models",
                &json!({"name":"contact","label":"Contact","fields":[
            {"name":"email","type":"email","required":true,"unique":true},
            {"name":"age","type":"integer","min":0},
            {"name":"company","type":"reference","target":"company"}]}),
            )
            .await;
        assert_eq!(contact.status, 201, "{:?}", contact.body);
    }
}

/// A private SQS queue subscribed to the bus for one tenant's events: proof that events land on the bus.
pub struct BusTap {
    sqs: aws_sdk_sqs::Client,
    events: aws_sdk_eventbridge::Client,
    pub queue_url: String,
    rule: String,
    bus: String,
}

impl BusTap {
    pub async fn new(stack: &Stack, tenant: &str) -> Result<Self> {
        let sqs = stack.sqs();
        let events = aws_sdk_eventbridge::Client::new(&stack.sdk);
        let name = format!("e2e-tap-{}", ulid::Ulid::new().to_string().to_lowercase());
        let queue_url = sqs.create_queue().queue_name(&name).send().await?.queue_url().context("url")?.to_owned();
        let arn = queue_arn(&sqs, &queue_url).await?;
        let bus = stack.config().event_bus;
        let pattern = json!({"source": ["hubblewave"], "detail": {"tenant": [tenant]}}).to_string();
        events.put_rule().name(&name).event_bus_name(&bus).event_pattern(pattern).send().await?;
        events
            .put_targets()
            .rule(&name)
            .event_bus_name(&bus)
            .targets(aws_sdk_eventbridge::types::Target::builder().id("tap").arn(arn).build()?)
            .send()
            .await?;
        Ok(Self { sqs, events, queue_url, rule: name, bus })
    }

    /// Waits until `n` events arrived (or `timeout`), returning the EventBridge events' `detail-type` and `detail`.
    pub async fn collect(&self, n: usize, timeout: Duration) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut got = Vec::new();
        while got.len() < n && tokio::time::Instant::now() < deadline {
            let out = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .send()
                .await
                .expect("receive");
            for m in out.messages() {
                let v: Value = serde_json::from_str(m.body().unwrap_or("{}")).expect("EventBridge event JSON");
                got.push(v);
                if let Some(h) = m.receipt_handle() {
                    let _ = self.sqs.delete_message().queue_url(&self.queue_url).receipt_handle(h).send().await;
                }
            }
        }
        got
    }

    pub async fn remove(self) {
        let _ = self.events.remove_targets().rule(&self.rule).event_bus_name(&self.bus).ids("tap").send().await;
        let _ = self.events.delete_rule().name(&self.rule).event_bus_name(&self.bus).send().await;
        let _ = self.sqs.delete_queue().queue_url(&self.queue_url).send().await;
    }
}

async fn queue_arn(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<String> {
    use aws_sdk_sqs::types::QueueAttributeName::QueueArn;
    let out = sqs.get_queue_attributes().queue_url(url).attribute_names(QueueArn).send().await?;
    out.attributes().and_then(|a| a.get(&QueueArn).cloned()).context("the queue has no ARN")
}
