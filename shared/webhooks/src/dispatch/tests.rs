//! The dispatch step against in-memory adapters and a scripted receiver.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use hw_aws::events::RecordingPublisher;
use hw_aws::kms::StaticKeyring;
use hw_store::memory::MemoryControlStore;

use super::*;
use crate::endpoint::SealedSecret;
use crate::fanout::FanOut;
use crate::memory::{MemoryJobQueue, MemoryWebhookStore};
use crate::policy::RetryPolicy;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// A receiver that answers from a script and remembers every request.
#[derive(Default)]
struct Script {
    answers: Mutex<VecDeque<Response>>,
    requests: Mutex<Vec<OutboundRequest>>,
}

impl Script {
    fn push(&self, status: Option<u16>, retry_after: Option<&str>, error: Option<&str>) {
        self.answers.lock().unwrap().push_back(Response {
            status,
            body: Some("ok".into()),
            retry_after: retry_after.map(str::to_owned),
            error: error.map(str::to_owned),
            duration: Duration::from_millis(3),
        });
    }

    fn sent(&self) -> usize {
        self.requests.lock().unwrap().len()
    }
}

#[async_trait]
impl Transport for Script {
    async fn send(&self, request: &OutboundRequest) -> Response {
        self.requests.lock().unwrap().push(request.clone());
        self.answers.lock().unwrap().pop_front().expect("the script has an answer for every request")
    }
}

struct World {
    store: Arc<MemoryWebhookStore>,
    queue: Arc<MemoryJobQueue>,
    script: Arc<Script>,
    publisher: Arc<RecordingPublisher>,
    dispatcher: Dispatcher,
    fanout: FanOut,
}

async fn world() -> World {
    let store = Arc::new(MemoryWebhookStore::default());
    let queue = Arc::new(MemoryJobQueue::default());
    let script = Arc::new(Script::default());
    let publisher = Arc::new(RecordingPublisher::default());
    let cipher =
        Arc::new(FieldCipher::new(Arc::new(MemoryControlStore::default()), Arc::new(StaticKeyring::new([9u8; 32]))));
    let dispatcher = Dispatcher {
        store: store.clone(),
        queue: queue.clone(),
        transport: script.clone(),
        cipher,
        publisher: publisher.clone(),
    };
    let fanout = FanOut { store: store.clone(), queue: queue.clone() };
    World { store, queue, script, publisher, dispatcher, fanout }
}

async fn endpoint(w: &World, policy: RetryPolicy) -> Endpoint {
    let now = hw_domain::event::now_rfc3339();
    let id = hw_domain::ids::new_prefixed("ep");
    let sealed = w.dispatcher.cipher.seal_secret("acme", &secret_context(&id), SECRET.as_bytes()).await.unwrap();
    let mut ep = Endpoint::new("acme", &id, "https://receiver.example/hook", vec!["record.*".into()], &now);
    ep.headers = BTreeMap::from([("X-Team".to_owned(), "crm".to_owned())]);
    ep.timeout_seconds = 5;
    ep.retry_policy = policy;
    ep.secrets = vec![SealedSecret { sealed, created_at: now, expires_at: None }];
    w.store.create_endpoint(&ep).await.unwrap();
    ep
}

fn event() -> Envelope {
    Envelope::new("record.created", "acme", json!({"entity": "contact", "id": "c1", "record": {"name": "Ada"}}))
}

/// Fans out one event and returns its first job.
async fn first_job(w: &World) -> Job {
    let endpoints = w.store.list_endpoints("acme").await.unwrap();
    assert_eq!(w.fanout.fan_out(&event(), &endpoints).await.unwrap(), 1);
    let mut jobs = w.queue.drain();
    assert_eq!(jobs.len(), 1);
    jobs.remove(0).0
}

async fn delivery(w: &World, job: &Job) -> Delivery {
    w.store.get_delivery(&job.tenant, &job.endpoint_id, &job.delivery_id).await.unwrap().unwrap()
}

#[tokio::test]
async fn a_delivered_attempt_is_signed_recorded_and_never_repeated() {
    let w = world().await;
    let ep = endpoint(&w, RetryPolicy::default()).await;
    let job = first_job(&w).await;
    w.script.push(Some(200), None, None);
    w.dispatcher.run(&job).await.unwrap();

    let d = delivery(&w, &job).await;
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Delivered, 1));
    let sent = w.script.requests.lock().unwrap()[0].clone();
    assert_eq!(sent.headers["webhook-id"], d.id);
    assert_eq!(sent.headers["x-team"], "crm");
    assert_eq!(sent.headers["content-type"], "application/json");
    let ts: i64 = sent.headers["webhook-timestamp"].parse().unwrap();
    let key = signing::decode_secret(SECRET).unwrap();
    assert_eq!(sent.headers["webhook-signature"], signing::sign(&key, &d.id, ts, &sent.body));
    let body: serde_json::Value = serde_json::from_str(&sent.body).unwrap();
    assert_eq!(body["type"], "record.created");
    assert_eq!(sent.url, ep.url);

    let attempts = w.store.list_attempts("acme", &ep.id, &d.id).await.unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!((attempts[0].outcome.as_str(), attempts[0].response_status), ("delivered", Some(200)));

    // The same job again (SQS delivered the message twice): nothing is sent, nothing enqueued.
    w.dispatcher.run(&job).await.unwrap();
    assert_eq!(w.script.sent(), 1);
    assert!(w.queue.drain().is_empty());
}

#[tokio::test]
async fn a_job_whose_attempt_is_claimed_by_another_worker_sends_nothing() {
    let w = world().await;
    endpoint(&w, RetryPolicy::default()).await;
    let job = first_job(&w).await;
    let later = rfc3339(Utc::now() + chrono::Duration::seconds(60));
    let claim = w
        .store
        .claim_attempt(&job.tenant, &job.endpoint_id, &job.delivery_id, 1, &rfc3339(Utc::now()), &later)
        .await
        .unwrap();
    assert!(matches!(claim, Claim::Claimed(_)));
    w.dispatcher.run(&job).await.unwrap();
    assert_eq!(w.script.sent(), 0);
}

#[tokio::test]
async fn failures_retry_on_the_policy_schedule_until_exhausted_then_dead_letter() {
    let w = world().await;
    let policy = RetryPolicy::Exponential {
        max_attempts: 3,
        initial_delay_seconds: 10,
        multiplier: 2.0,
        max_delay_seconds: 100,
    };
    let ep = endpoint(&w, policy).await;
    let mut job = first_job(&w).await;
    let mut delays = Vec::new();
    for _ in 0..2 {
        w.script.push(Some(500), None, None);
        w.dispatcher.run(&job).await.unwrap();
        let (next, delay) = w.queue.drain().pop().expect("a retry job");
        assert_eq!(next.attempt, job.attempt + 1);
        delays.push(delay.as_secs_f64());
        // Run the retry as if its time had come.
        job = Job { not_before: rfc3339(Utc::now()), ..next };
    }
    assert!((9.0..=11.0).contains(&delays[0]) && (18.0..=22.0).contains(&delays[1]), "{delays:?}");
    assert_eq!(delivery(&w, &job).await.status, DeliveryStatus::Pending);

    w.script.push(None, None, Some("connection refused"));
    w.dispatcher.run(&job).await.unwrap();
    let d = delivery(&w, &job).await;
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Failed, 3));
    assert!(w.queue.drain().is_empty());
    let dead = w.queue.dead.lock().unwrap().clone();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].job.delivery_id, d.id);
    assert!(dead[0].reason.contains("all 3 attempts failed") && dead[0].reason.contains("connection refused"));
    let published = w.publisher.published.lock().unwrap().clone();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].event_type, EXHAUSTED);
    assert_eq!(published[0].data["delivery_id"], d.id.as_str());
    let attempts = w.store.list_attempts("acme", &ep.id, &d.id).await.unwrap();
    let outcomes: Vec<&str> = attempts.iter().map(|a| a.outcome.as_str()).collect();
    assert_eq!(outcomes, ["retrying", "retrying", "failed"]);
}

#[tokio::test]
async fn retry_after_is_honoured_and_early_jobs_are_sent_on() {
    let w = world().await;
    endpoint(&w, RetryPolicy::default()).await;
    let job = first_job(&w).await;
    w.script.push(Some(429), Some("7"), None);
    w.dispatcher.run(&job).await.unwrap();
    let (next, delay) = w.queue.drain().pop().unwrap();
    assert_eq!(delay, Duration::from_secs(7));

    // A retry job that arrives before its time is sent on with the rest of the wait, without an attempt.
    w.dispatcher.run(&next).await.unwrap();
    assert_eq!(w.script.sent(), 1);
    let (again, wait) = w.queue.drain().pop().unwrap();
    assert_eq!(again, next);
    assert!(wait > Duration::from_secs(5) && wait <= Duration::from_secs(7), "{wait:?}");
}

#[tokio::test]
async fn a_lost_retry_job_is_enqueued_again_by_a_repeat_of_its_predecessor() {
    let w = world().await;
    endpoint(&w, RetryPolicy::default()).await;
    let job = first_job(&w).await;
    w.script.push(Some(503), None, None);
    w.dispatcher.run(&job).await.unwrap();
    let (lost, _) = w.queue.drain().pop().unwrap();
    // The predecessor's message comes back (its deletion failed): the successor is enqueued again, nothing sent.
    w.dispatcher.run(&job).await.unwrap();
    assert_eq!(w.script.sent(), 1);
    let (again, _) = w.queue.drain().pop().unwrap();
    assert_eq!((again.delivery_id, again.attempt), (lost.delivery_id, lost.attempt));
}

#[tokio::test]
async fn gone_disables_the_endpoint_and_later_jobs_dead_letter_without_sending() {
    let w = world().await;
    let ep = endpoint(&w, RetryPolicy::default()).await;
    let job = first_job(&w).await;
    w.script.push(Some(410), None, None);
    w.dispatcher.run(&job).await.unwrap();
    let stored = w.store.get_endpoint("acme", &ep.id).await.unwrap().unwrap();
    assert!(!stored.enabled);
    assert_eq!(stored.disabled_reason.as_deref(), Some("gone"));
    assert_eq!(delivery(&w, &job).await.status, DeliveryStatus::Failed);
    let types: Vec<String> = w.publisher.published.lock().unwrap().iter().map(|e| e.event_type.clone()).collect();
    assert_eq!(types, [DISABLED, EXHAUSTED]);
    assert!(w.queue.dead.lock().unwrap()[0].reason.contains("410"));

    // A delivery created before the endpoint was disabled fails without a request.
    let other = new_delivery(&ep, &event(), "{}".into(), &rfc3339(Utc::now()), false);
    w.store.create_delivery(&other).await.unwrap();
    let job = Job { delivery_id: other.id.clone(), attempt: 1, ..job };
    w.dispatcher.run(&job).await.unwrap();
    assert_eq!(w.script.sent(), 1);
    assert_eq!(delivery(&w, &job).await.status, DeliveryStatus::Failed);
    assert_eq!(w.queue.dead.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn an_endpoint_failing_longer_than_its_limit_is_disabled_and_a_success_clears_the_streak() {
    let w = world().await;
    let mut ep = endpoint(&w, RetryPolicy::default()).await;
    let job = first_job(&w).await;
    w.script.push(Some(500), None, None);
    w.dispatcher.run(&job).await.unwrap();
    assert!(w.store.get_endpoint("acme", &ep.id).await.unwrap().unwrap().failing_since.is_some());
    let (retry, _) = w.queue.drain().pop().unwrap();
    w.script.push(Some(204), None, None);
    w.dispatcher.run(&Job { not_before: rfc3339(Utc::now()), ..retry }).await.unwrap();
    let stored = w.store.get_endpoint("acme", &ep.id).await.unwrap().unwrap();
    assert_eq!(stored.failing_since, None);
    assert!(stored.enabled);

    ep = stored;
    let mut strict = ep.clone();
    strict.disable_after_seconds = 0;
    strict.version += 1;
    w.store.replace_endpoint(&strict, ep.version).await.unwrap();
    let job = first_job(&w).await;
    w.script.push(Some(500), None, None);
    w.dispatcher.run(&job).await.unwrap();
    let stored = w.store.get_endpoint("acme", &ep.id).await.unwrap().unwrap();
    assert_eq!((stored.enabled, stored.disabled_reason.as_deref()), (false, Some("failing")));
    assert_eq!(w.publisher.published.lock().unwrap()[0].event_type, DISABLED);
}

#[tokio::test]
async fn the_rate_limit_holds_back_jobs_over_the_endpoints_share() {
    let w = world().await;
    let ep = endpoint(&w, RetryPolicy::default()).await;
    let mut limited = ep.clone();
    limited.rate_limit_per_second = Some(1);
    limited.version += 1;
    w.store.replace_endpoint(&limited, ep.version).await.unwrap();
    let a = first_job(&w).await;
    let b = first_job(&w).await;
    w.script.push(Some(200), None, None);
    // Both in the same second (the test runs well within one; if it straddles two, both may pass).
    let second = Utc::now().timestamp();
    w.dispatcher.run(&a).await.unwrap();
    w.dispatcher.run(&b).await.unwrap();
    if Utc::now().timestamp() == second {
        assert_eq!(w.script.sent(), 1);
        let (held, wait) = w.queue.drain().pop().unwrap();
        assert_eq!(held, b);
        assert!(wait >= Duration::from_secs(1));
        assert_eq!(delivery(&w, &b).await.attempts, 0, "a held-back job is not an attempt");
    }
}

#[tokio::test]
async fn all_concurrency_slots_busy_holds_the_job_back() {
    let w = world().await;
    let ep = endpoint(&w, RetryPolicy::default()).await;
    let mut limited = ep.clone();
    limited.max_concurrency = Some(1);
    limited.version += 1;
    w.store.replace_endpoint(&limited, ep.version).await.unwrap();
    let job = first_job(&w).await;
    let now = Utc::now().timestamp_millis();
    let slot = w.store.acquire_slot("acme", &ep.id, 1, now, now + 60_000).await.unwrap();
    assert_eq!(slot, Some(0));
    w.dispatcher.run(&job).await.unwrap();
    assert_eq!(w.script.sent(), 0);
    assert_eq!(w.queue.drain().len(), 1);
    w.store.release_slot("acme", &ep.id, 0).await.unwrap();
    w.script.push(Some(200), None, None);
    w.dispatcher.run(&job).await.unwrap();
    assert_eq!(delivery(&w, &job).await.status, DeliveryStatus::Delivered);
    // the slot was given back
    assert_eq!(w.store.acquire_slot("acme", &ep.id, 1, now, now + 1).await.unwrap(), Some(0));
}

#[tokio::test]
async fn a_ping_is_one_recorded_attempt_without_retries_or_dead_letters() {
    let w = world().await;
    let ep = endpoint(&w, RetryPolicy::default()).await;
    w.script.push(Some(500), None, None);
    let (d, attempt) = w.dispatcher.ping(&ep).await.unwrap();
    assert_eq!((d.status, d.event_type.as_str()), (DeliveryStatus::Failed, PING));
    assert_eq!(attempt.response_status, Some(500));
    assert!(w.queue.drain().is_empty());
    assert!(w.queue.dead.lock().unwrap().is_empty());
    w.script.push(Some(200), None, None);
    let (d, _) = w.dispatcher.ping(&ep).await.unwrap();
    assert_eq!(d.status, DeliveryStatus::Delivered);
}

#[tokio::test]
async fn rotated_secrets_both_sign_during_the_grace_period() {
    let w = world().await;
    let ep = endpoint(&w, RetryPolicy::default()).await;
    let new_secret = signing::generate_secret();
    let sealed = w.dispatcher.cipher.seal_secret("acme", &secret_context(&ep.id), new_secret.as_bytes()).await.unwrap();
    let mut rotated = ep.clone();
    rotated.secrets[0].expires_at = Some(rfc3339(Utc::now() + chrono::Duration::hours(1)));
    rotated.secrets.insert(0, SealedSecret { sealed, created_at: rfc3339(Utc::now()), expires_at: None });
    let d = new_delivery(&rotated, &event(), "{\"a\":1}".into(), &rfc3339(Utc::now()), false);
    let request = w.dispatcher.request(&rotated, &d, Utc::now()).await.unwrap();
    let signatures: Vec<&str> = request.headers["webhook-signature"].split(' ').collect();
    assert_eq!(signatures.len(), 2);
    let ts: i64 = request.headers["webhook-timestamp"].parse().unwrap();
    let new_key = signing::decode_secret(&new_secret).unwrap();
    assert_eq!(signatures[0], signing::sign(&new_key, &d.id, ts, "{\"a\":1}"));

    // After the grace period only the new secret signs.
    let later = Utc::now() + chrono::Duration::hours(2);
    let request = w.dispatcher.request(&rotated, &d, later).await.unwrap();
    assert_eq!(request.headers["webhook-signature"].split(' ').count(), 1);
}

#[tokio::test]
async fn the_start_and_end_of_a_failing_run_change_the_version_so_a_stale_replace_cannot_erase_them() {
    let w = world().await;
    let ep = endpoint(&w, RetryPolicy::default()).await;
    let job = first_job(&w).await;
    w.script.push(Some(500), None, None);
    w.dispatcher.run(&job).await.unwrap();
    let failing = w.store.get_endpoint("acme", &ep.id).await.unwrap().unwrap();
    assert!(failing.failing_since.is_some());
    assert_eq!(failing.version, ep.version + 1);
    // An edit based on what was read before the failure is refused rather than erasing the failing run.
    let mut stale = ep.clone();
    stale.description = "edited".into();
    stale.version += 1;
    assert!(matches!(w.store.replace_endpoint(&stale, ep.version).await, Err(WebhookStoreError::Conflict)));
    // A second failure of the same run changes nothing.
    w.store.note_failure("acme", &ep.id, &rfc3339(Utc::now())).await.unwrap();
    assert_eq!(w.store.get_endpoint("acme", &ep.id).await.unwrap().unwrap(), failing);
}
