//! What the api function's own code costs per request, with no storage round trips: the handler runs in-process on
//! in-memory adapters (the same ones its unit tests use), driven by 50 concurrent clients, for a GET by id and a list
//! of 25, with rate limiting, the request log and usage counters on. Everything a request costs on top of this is
//! DynamoDB round trips, which docs/BENCHMARKS.md measures against the emulator.
//!
//!   cargo bench -p api --bench handler [-- --requests N --clients C]
//!
//! Prints one JSON object (the numbers docs/BENCHMARKS.md quotes).

use std::sync::Arc;
use std::time::{Duration, Instant};

use api::{BusProbe, Deps, WebhookPorts, handle};
use async_trait::async_trait;
use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use hw_aws::events::RecordingPublisher;
use hw_domain::apikey::{self, ApiKeyMeta};
use hw_domain::model::ModelInput;
use hw_domain::principal::Principal;
use hw_store::ControlStore;
use hw_store::memory::{MemoryControlStore, MemoryDataStore};
use hw_store::ops::memory::MemoryOpsStore;
use hw_webhooks::memory::{MemoryJobQueue, MemoryWebhookStore};
use serde_json::{Map, Value, json};

const KEY: &str = "hw_BENCHxKEYxFORxTHExHANDLERxBENCHMARKxxxxxxx0";

struct UpBus;

#[async_trait]
impl BusProbe for UpBus {
    async fn check(&self) -> Result<(), String> {
        Ok(())
    }
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn event(path: &str, query: &str) -> ApiGatewayV2httpRequest {
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/../../events/api/list-records.json");
    let mut e: ApiGatewayV2httpRequest =
        serde_json::from_str(&std::fs::read_to_string(fixture).expect("fixture")).expect("an API Gateway v2 event");
    e.raw_path = Some(path.to_owned());
    e.request_context.http.path = Some(path.to_owned());
    e.raw_query_string = Some(query.to_owned());
    e.headers.insert("authorization", format!("Bearer {KEY}").parse().expect("header"));
    e
}

async fn setup(records: usize) -> (Arc<Deps>, Vec<String>) {
    let control = Arc::new(MemoryControlStore::default());
    let meta = ApiKeyMeta {
        id: "key_bench".into(),
        tenant: "bench".into(),
        name: "bench".into(),
        scopes: vec!["admin".into()],
        created_at: "2026-11-25T00:00:00Z".into(),
        // far above what the run sends: the limiter counts every request but never refuses one
        rate_limit_per_minute: Some(100_000),
        ..ApiKeyMeta::default()
    };
    control.create_api_key(&meta, &apikey::hash(KEY)).await.expect("key");
    let mut config = hw_resources::Config::for_prefix("bench");
    config.limits.tenant_per_minute = 1_000_000;
    let deps = Deps::new(
        config,
        control,
        Arc::new(MemoryDataStore::default()),
        Arc::new(MemoryOpsStore::default()),
        Arc::new(RecordingPublisher::default()),
        Arc::new(UpBus),
        Arc::new(hw_aws::kms::StaticKeyring::new([7; 32])),
        WebhookPorts {
            store: Arc::new(MemoryWebhookStore::default()),
            queue: Arc::new(MemoryJobQueue::default()),
            transport: Arc::new(hw_webhooks::sender::Sender::new(Default::default())),
        },
    );
    let input: ModelInput = serde_json::from_value(json!({"name": "contact", "fields": [
        {"name": "email", "type": "email", "required": true, "unique": true},
        {"name": "name", "type": "string"}, {"name": "age", "type": "integer", "min": 0}]}))
    .expect("model");
    let model = deps.models.create("bench", input).await.expect("model created");
    let p = Principal::new("bench", "apikey:key_bench", vec!["admin".into()]);
    let mut ids = Vec::with_capacity(records);
    for i in 0..records {
        let attrs: Map<String, Value> =
            serde_json::from_value(json!({"email": format!("c{i}@example.com"), "name": "Ada", "age": i % 90}))
                .expect("attributes");
        let r =
            deps.records.create(&p, &model, None, &attrs, &|f| format!("/data/attributes/{f}")).await.expect("record");
        ids.push(r.id);
    }
    (Arc::new(deps), ids)
}

fn percentile(sorted: &[Duration], q: f64) -> f64 {
    let i = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

/// `clients` tasks send `requests` requests in all; latency of each `handle` call and the throughput.
async fn run(deps: &Arc<Deps>, events: Arc<Vec<ApiGatewayV2httpRequest>>, requests: usize, clients: usize) -> Value {
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let deps = deps.clone();
            let events = events.clone();
            tokio::spawn(async move {
                let mut out = Vec::new();
                for i in (c..requests).step_by(clients) {
                    let e = events[i % events.len()].clone();
                    let t = Instant::now();
                    let r = handle(&deps, e).await;
                    out.push(t.elapsed());
                    assert_eq!(r.status_code, 200, "{:?}", r.body);
                }
                out
            })
        })
        .collect();
    let mut all = Vec::with_capacity(requests);
    for t in tasks {
        all.extend(t.await.expect("client task"));
    }
    let wall = started.elapsed().as_secs_f64();
    all.sort();
    json!({
        "requests": all.len(),
        "clients": clients,
        "p50_ms": percentile(&all, 0.50),
        "p95_ms": percentile(&all, 0.95),
        "p99_ms": percentile(&all, 0.99),
        "per_second": (all.len() as f64 / wall).round(),
    })
}

fn main() {
    let requests = arg("--requests", 20_000);
    let clients = arg("--clients", 50);
    let records = arg("--records", 1_000);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(async {
        let (deps, ids) = setup(records).await;
        let gets: Vec<_> = ids.iter().map(|id| event(&format!("/v1/data/contact/{id}"), "")).collect();
        let lists = vec![event("/v1/data/contact", "page%5Bsize%5D=25")];
        // warm-up: allocator, first-use paths, the per-instance caches
        run(&deps, Arc::new(gets.clone()), 2_000, clients).await;
        let get = run(&deps, Arc::new(gets), requests, clients).await;
        let list = run(&deps, Arc::new(lists), requests / 4, clients).await;
        let out = json!({"get_by_id": get, "list_25": list, "records": records, "worker_threads": 2});
        println!("{}", serde_json::to_string_pretty(&out).expect("json"));
    });
}
