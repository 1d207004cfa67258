//! Deliveries per second from one dispatcher process to a local receiver: the real dispatch step
//! (`Dispatcher::run`: limits, attempt claim, secret opening, Standard Webhooks signing, the SSRF-guarded `Sender`
//! over HTTP/1.1, recording the attempt) on the in-memory adapters its unit tests use, so that no DynamoDB or SQS
//! round trip is in the figure. The receiver is an axum server on 127.0.0.1 in the same process but on its own
//! tokio runtime and threads, answering 204 at once (or after a fixed hold, for the in-flight round).
//!
//!   cargo bench -p hw-webhooks --bench dispatch
//!
//! Environment: BENCH_WEBHOOK_N (deliveries per round, 20000), BENCH_WEBHOOK_CONCURRENCY (attempts in flight at
//! once, one round per value, "10,100,1000"), BENCH_WEBHOOK_HOLD_MS (the receiver holds each request this long in an
//! extra round at the largest concurrency, so that that many requests really are outstanding at once; 100, 0 skips),
//! BENCH_WEBHOOK_WORKER_THREADS (dispatcher runtime, 2), BENCH_WEBHOOK_RECEIVER_THREADS (receiver runtime, 1).
//!
//! Every round must end with every delivery `delivered` after exactly one attempt, the receiver having answered
//! exactly N requests, and nothing enqueued, dead-lettered or published; otherwise the run exits 1 (after printing).
//! Prints one JSON object (the numbers docs/BENCHMARKS.md quotes).

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hw_aws::events::RecordingPublisher;
use hw_aws::kms::StaticKeyring;
use hw_domain::event::Envelope;
use hw_store::cipher::FieldCipher;
use hw_store::memory::MemoryControlStore;
use hw_webhooks::delivery::{DeliveryStatus, Job};
use hw_webhooks::dispatch::{Dispatcher, new_delivery, secret_context};
use hw_webhooks::endpoint::{Endpoint, SealedSecret};
use hw_webhooks::fanout::payload;
use hw_webhooks::memory::{MemoryJobQueue, MemoryWebhookStore};
use hw_webhooks::ports::WebhookStore;
use hw_webhooks::sender::Sender;
use hw_webhooks::signing;
use hw_webhooks::target::TargetPolicy;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

const TENANT: &str = "bench";

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok()).unwrap_or(default)
}

fn env_list(name: &str, default: &str) -> Vec<usize> {
    let raw = std::env::var(name).unwrap_or_else(|_| default.to_owned());
    raw.split(',').filter_map(|v| v.trim().parse().ok()).filter(|&v| v > 0).collect()
}

/// What the receiver saw during one round.
#[derive(Default)]
struct Seen {
    requests: AtomicUsize,
    unsigned: AtomicUsize,
    in_handler: AtomicUsize,
    peak_in_handler: AtomicUsize,
    /// Client addresses: one per TCP connection the dispatcher opened.
    peers: Mutex<HashSet<SocketAddr>>,
    /// How long each request is held before the 204, in ms.
    hold_ms: AtomicUsize,
}

impl Seen {
    fn reset(&self, hold_ms: usize) {
        self.requests.store(0, Ordering::SeqCst);
        self.unsigned.store(0, Ordering::SeqCst);
        self.peak_in_handler.store(0, Ordering::SeqCst);
        self.peers.lock().unwrap().clear();
        self.hold_ms.store(hold_ms, Ordering::SeqCst);
    }
}

async fn hook(
    State(seen): State<Arc<Seen>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let now = seen.in_handler.fetch_add(1, Ordering::SeqCst) + 1;
    seen.peak_in_handler.fetch_max(now, Ordering::SeqCst);
    seen.requests.fetch_add(1, Ordering::SeqCst);
    if !headers.contains_key("webhook-signature") || !headers.contains_key("webhook-id") || body.is_empty() {
        seen.unsigned.fetch_add(1, Ordering::SeqCst);
    }
    seen.peers.lock().unwrap().insert(peer);
    let hold = seen.hold_ms.load(Ordering::Relaxed);
    if hold > 0 {
        tokio::time::sleep(Duration::from_millis(hold as u64)).await;
    }
    seen.in_handler.fetch_sub(1, Ordering::SeqCst);
    StatusCode::NO_CONTENT
}

/// Starts the receiver on its own runtime (own OS threads), so that it competes with the dispatcher for CPU only
/// through the kernel's scheduler, not inside one tokio runtime.
fn start_receiver(threads: usize) -> (SocketAddr, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let (tx, rx) = std::sync::mpsc::channel();
    let state = seen.clone();
    std::thread::Builder::new()
        .name("receiver".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(threads)
                .thread_name("receiver-worker")
                .enable_all()
                .build()
                .expect("receiver runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the receiver");
                tx.send(listener.local_addr().expect("address")).expect("main thread waits");
                let app = Router::new().route("/hook", post(hook)).with_state(state);
                axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
                    .await
                    .expect("receiver serves");
            });
        })
        .expect("receiver thread");
    (rx.recv().expect("receiver address"), seen)
}

struct World {
    store: Arc<MemoryWebhookStore>,
    queue: Arc<MemoryJobQueue>,
    publisher: Arc<RecordingPublisher>,
    dispatcher: Arc<Dispatcher>,
}

/// A fresh dispatcher (new store, queue, connection pool) with one endpoint and `n` pending deliveries; their
/// first-attempt jobs.
async fn world(url: &str, n: usize) -> (World, Vec<Job>) {
    let store = Arc::new(MemoryWebhookStore::default());
    let queue = Arc::new(MemoryJobQueue::default());
    let publisher = Arc::new(RecordingPublisher::default());
    let cipher =
        Arc::new(FieldCipher::new(Arc::new(MemoryControlStore::default()), Arc::new(StaticKeyring::new([9u8; 32]))));
    let dispatcher = Arc::new(Dispatcher {
        store: store.clone(),
        queue: queue.clone(),
        transport: Arc::new(Sender::new(TargetPolicy { allow_private: true })),
        cipher: cipher.clone(),
        publisher: publisher.clone(),
    });
    let now = hw_domain::event::now_rfc3339();
    let id = hw_domain::ids::new_prefixed("ep");
    let secret = signing::generate_secret();
    let sealed = cipher.seal_secret(TENANT, &secret_context(&id), secret.as_bytes()).await.expect("sealed");
    let mut ep = Endpoint::new(TENANT, &id, url, vec!["record.*".into()], &now);
    ep.secrets = vec![SealedSecret { sealed, created_at: now.clone(), expires_at: None }];
    store.create_endpoint(&ep).await.expect("endpoint");
    let mut jobs = Vec::with_capacity(n);
    for i in 0..n {
        let event = Envelope::new(
            "record.created",
            TENANT,
            json!({"entity": "company", "id": format!("rec_{i:08}"), "record": {"name": format!("Company {i}")}}),
        );
        let d = new_delivery(&ep, &event, payload(&ep, &event), &now, false);
        assert!(store.create_delivery(&d).await.expect("delivery"), "a new delivery");
        jobs.push(Job {
            tenant: TENANT.into(),
            endpoint_id: ep.id.clone(),
            delivery_id: d.id,
            attempt: 1,
            not_before: now.clone(),
        });
    }
    (World { store, queue, publisher, dispatcher }, jobs)
}

fn percentile(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

/// One round: `n` first attempts, `concurrency` in flight at once; the checks' failures go to `problems`.
async fn round(
    url: &str,
    seen: &Arc<Seen>,
    n: usize,
    concurrency: usize,
    hold_ms: usize,
    label: &str,
    problems: &mut Vec<String>,
) -> Value {
    let (w, jobs) = world(url, n).await;
    seen.reset(hold_ms);
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(Semaphore::new(concurrency));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(n);
    for job in &jobs {
        let job = job.clone();
        let permit = gate.clone().acquire_owned().await.expect("semaphore open");
        let (d, in_flight, peak) = (w.dispatcher.clone(), in_flight.clone(), peak.clone());
        tasks.push(tokio::spawn(async move {
            let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            let t = Instant::now();
            let r = d.run(&job).await;
            let took = t.elapsed();
            in_flight.fetch_sub(1, Ordering::SeqCst);
            drop(permit);
            (took, r.err().map(|e| e.to_string()))
        }));
    }
    let mut latencies = Vec::with_capacity(n);
    let mut errors = Vec::new();
    for t in tasks {
        let (took, err) = t.await.expect("attempt task");
        latencies.push(took);
        errors.extend(err);
    }
    let wall = started.elapsed().as_secs_f64();
    latencies.sort();

    // Every delivery delivered once, nothing else happened.
    let mut not_delivered = 0;
    let mut first_bad = None;
    for job in &jobs {
        let d = w.store.get_delivery(&job.tenant, &job.endpoint_id, &job.delivery_id).await.expect("store");
        let ok = d.as_ref().is_some_and(|d| d.status == DeliveryStatus::Delivered && d.attempts == 1);
        if !ok {
            not_delivered += 1;
            if first_bad.is_none() {
                first_bad = Some(format!("{d:?}"));
            }
        }
    }
    let received = seen.requests.load(Ordering::SeqCst);
    let unsigned = seen.unsigned.load(Ordering::SeqCst);
    let enqueued = w.queue.drain().len();
    let dead = w.queue.dead.lock().unwrap().len();
    let published = w.publisher.published.lock().unwrap().len();
    let mut fail = |what: String| problems.push(format!("{label}: {what}"));
    if !errors.is_empty() {
        fail(format!("{} runs failed, first: {}", errors.len(), errors[0]));
    }
    if not_delivered > 0 {
        fail(format!(
            "{not_delivered} deliveries not delivered in one attempt, first: {}",
            first_bad.unwrap_or_default()
        ));
    }
    if received != n {
        fail(format!("the receiver answered {received} requests for {n} deliveries"));
    }
    if unsigned > 0 {
        fail(format!("{unsigned} requests without signature, id or body"));
    }
    if enqueued + dead + published > 0 {
        fail(format!("{enqueued} jobs enqueued, {dead} dead letters, {published} events published"));
    }
    let out = json!({
        "deliveries": n,
        "concurrency": concurrency,
        "receiver_hold_ms": hold_ms,
        "wall_s": wall,
        "per_second": (n as f64 / wall).round(),
        "attempt_ms": {
            "p50": percentile(&latencies, 0.50),
            "p95": percentile(&latencies, 0.95),
            "p99": percentile(&latencies, 0.99),
            "max": percentile(&latencies, 1.0),
        },
        "errors": errors.len(),
        "not_delivered": not_delivered,
        "received": received,
        "peak_in_flight": peak.load(Ordering::SeqCst),
        "peak_held_by_receiver": seen.peak_in_handler.load(Ordering::SeqCst),
        "connections_opened": seen.peers.lock().unwrap().len(),
    });
    eprintln!("[dispatch bench] {label}: {out}");
    out
}

fn main() {
    let n = env_usize("BENCH_WEBHOOK_N", 20_000);
    let levels = env_list("BENCH_WEBHOOK_CONCURRENCY", "10,100,1000");
    let hold_ms = env_usize("BENCH_WEBHOOK_HOLD_MS", 100);
    let workers = env_usize("BENCH_WEBHOOK_WORKER_THREADS", 2);
    let receiver_threads = env_usize("BENCH_WEBHOOK_RECEIVER_THREADS", 1);
    let (addr, seen) = start_receiver(receiver_threads);
    let url = format!("http://{addr}/hook");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(workers).enable_all().build().expect("runtime");
    let mut problems = Vec::new();
    let result = rt.block_on(async {
        // warm-up: allocator, first-use paths, the receiver's threads
        let mut ignored = Vec::new();
        round(&url, &seen, n.min(2_000), 100, 0, "warm-up", &mut ignored).await;
        let mut rounds = Vec::new();
        for &c in &levels {
            rounds.push(round(&url, &seen, n, c, 0, &format!("C={c}"), &mut problems).await);
        }
        let held = match (hold_ms, levels.iter().max()) {
            (h, Some(&c)) if h > 0 => {
                Some(round(&url, &seen, n, c, h, &format!("C={c}, receiver holds {h} ms"), &mut problems).await)
            }
            _ => None,
        };
        json!({
            "rounds": rounds,
            "held": held,
            "worker_threads": workers,
            "receiver_threads": receiver_threads,
            "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
            "problems": problems,
        })
    });
    println!("{}", serde_json::to_string_pretty(&result).expect("json"));
    if !problems.is_empty() {
        eprintln!("[dispatch bench] FAILED: {}", problems.join("; "));
        std::process::exit(1);
    }
}
