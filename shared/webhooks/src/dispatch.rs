//! Making attempts: claim the attempt, sign, POST, record what happened, then schedule the next attempt or
//! dead-letter. The `webhook-dispatcher` function runs this for each job; the API runs it for a test ping.
//!
//! Exactly one send per attempt: an attempt is claimed with a conditional write (a lease on the delivery for
//! attempt `n`), and its result is recorded under the condition that attempt `n` is still the one due. A duplicate
//! job finds the attempt claimed or made and does nothing. A job for an attempt that was made, whose successor's job
//! may have been lost (the enqueue failed after the result was stored), enqueues the successor again; duplicates of
//! that are harmless for the same reason.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use hw_aws::events::EventPublisher;
use hw_domain::event::Envelope;
use hw_store::cipher::FieldCipher;
use serde_json::json;

use crate::delivery::{Attempt, DeadLetter, Delivery, DeliveryStatus, Job};
use crate::endpoint::Endpoint;
use crate::ports::{Claim, JobQueue, QueueError, WebhookStore, WebhookStoreError};
use crate::sender::{OutboundRequest, Response, Sender, Verdict, verdict};
use crate::signing;

/// SQS's longest delay.
pub const MAX_QUEUE_DELAY: Duration = Duration::from_secs(900);
/// How long past an attempt's timeout its lease lasts: a crashed attempt can be made again after this.
const LEASE_MARGIN: Duration = Duration::from_secs(30);
/// How long a job waits when the endpoint's rate or concurrency limit is reached.
const THROTTLE_DELAY: Duration = Duration::from_secs(1);

pub const EXHAUSTED: &str = "webhook.delivery.exhausted";
pub const DISABLED: &str = "webhook.endpoint.disabled";
pub const PING: &str = "webhook.ping";

/// Sends one request. `Sender` is the real one; tests use scripted receivers.
#[async_trait]
pub trait Transport: Send + Sync {
    async fn send(&self, request: &OutboundRequest) -> Response;
}

#[async_trait]
impl Transport for Sender {
    async fn send(&self, request: &OutboundRequest) -> Response {
        Sender::send(self, request).await
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error(transparent)]
    Store(#[from] WebhookStoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error("event bus: {0}")]
    Publish(String),
    #[error("secret: {0}")]
    Secret(String),
}

pub struct Dispatcher {
    pub store: Arc<dyn WebhookStore>,
    pub queue: Arc<dyn JobQueue>,
    pub transport: Arc<dyn Transport>,
    pub cipher: Arc<FieldCipher>,
    pub publisher: Arc<dyn EventPublisher>,
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

/// The context a signing secret is sealed under.
pub fn secret_context(endpoint_id: &str) -> String {
    format!("webhook/{endpoint_id}")
}

/// What an attempt meant for its delivery.
enum Next {
    Done,
    RetryIn(Duration),
    DeadLetter(String),
    /// Failed without a dead letter: a test ping is not worth redriving.
    Failed,
}

impl Dispatcher {
    /// Runs one job from the deliveries queue. An error means "try this job again later" (the SQS message stays).
    pub async fn run(&self, job: &Job) -> Result<(), DispatchError> {
        let now = Utc::now();
        if let Some(due) = parse_time(&job.not_before)
            && due > now + chrono::Duration::milliseconds(500)
        {
            // Early: SQS could not hold it back long enough. Send it on with the rest of the wait.
            let wait = (due - now).to_std().unwrap_or_default().min(MAX_QUEUE_DELAY);
            self.queue.enqueue(&[(job.clone(), wait)]).await?;
            return Ok(());
        }
        let endpoint = self.store.get_endpoint(&job.tenant, &job.endpoint_id).await?;
        // Limits are taken before the claim, so that a throttled job holds no lease.
        let mut slot = None;
        if let Some(ep) = endpoint.as_ref().filter(|e| e.enabled) {
            if !self.within_limits(ep, job, now).await? {
                return Ok(());
            }
            if let Some(max) = ep.max_concurrency {
                let until = (now + Duration::from_secs(ep.timeout_seconds as u64) + LEASE_MARGIN).timestamp_millis();
                slot = self.store.acquire_slot(&ep.tenant, &ep.id, max, now.timestamp_millis(), until).await?;
                if slot.is_none() {
                    self.queue.enqueue(&[(job.clone(), THROTTLE_DELAY)]).await?;
                    return Ok(());
                }
            }
        }
        let result = self.claim_and_attempt(job, endpoint, now).await;
        if let Some(slot) = slot {
            self.store.release_slot(&job.tenant, &job.endpoint_id, slot).await?;
        }
        result
    }

    async fn claim_and_attempt(
        &self,
        job: &Job,
        endpoint: Option<Endpoint>,
        now: DateTime<Utc>,
    ) -> Result<(), DispatchError> {
        let lease_secs = endpoint.as_ref().map_or(0, |e| e.timeout_seconds as u64);
        let lease_until = now + Duration::from_secs(lease_secs) + LEASE_MARGIN;
        let claim = self
            .store
            .claim_attempt(
                &job.tenant,
                &job.endpoint_id,
                &job.delivery_id,
                job.attempt,
                &rfc3339(now),
                &rfc3339(lease_until),
            )
            .await?;
        let delivery = match claim {
            Claim::Claimed(d) => d,
            Claim::Busy | Claim::Missing => return Ok(()),
            Claim::Stale(d) => return self.repair(job, &d).await,
        };
        let Some(ep) = endpoint else {
            return self.give_up(delivery, None, "the endpoint was deleted", false).await;
        };
        if !ep.enabled {
            let reason = format!("the endpoint is disabled ({})", ep.disabled_reason.as_deref().unwrap_or("manual"));
            return self.give_up(delivery, Some(&ep), &reason, true).await;
        }
        self.attempt(&ep, delivery).await.map(|_| ())
    }

    /// Rate limit: `false` (and the job re-sent a moment later) when the endpoint had its share this second.
    async fn within_limits(&self, ep: &Endpoint, job: &Job, now: DateTime<Utc>) -> Result<bool, DispatchError> {
        if let Some(limit) = ep.rate_limit_per_second
            && !self.store.take_rate_token(&ep.tenant, &ep.id, now.timestamp(), limit).await?
        {
            let wait = THROTTLE_DELAY.mul_f64(rand::random_range(1.0..2.0));
            self.queue.enqueue(&[(job.clone(), wait)]).await?;
            return Ok(false);
        }
        Ok(true)
    }

    /// A job whose attempt is no longer due: make sure the delivery's successor job exists.
    async fn repair(&self, job: &Job, d: &Delivery) -> Result<(), DispatchError> {
        if d.status == DeliveryStatus::Pending && d.next_attempt() > job.attempt {
            let next = Job {
                attempt: d.next_attempt(),
                not_before: d.next_attempt_at.clone().unwrap_or_default(),
                ..job.clone()
            };
            let wait = parse_time(&next.not_before)
                .and_then(|t| (t - Utc::now()).to_std().ok())
                .unwrap_or_default()
                .min(MAX_QUEUE_DELAY);
            self.queue.enqueue(&[(next, wait)]).await?;
        }
        Ok(())
    }

    /// Ends a claimed delivery without sending: recorded as a failed attempt that made no request.
    async fn give_up(
        &self,
        mut d: Delivery,
        ep: Option<&Endpoint>,
        reason: &str,
        dead_letter: bool,
    ) -> Result<(), DispatchError> {
        let now = rfc3339(Utc::now());
        let attempt = Attempt {
            delivery_id: d.id.clone(),
            number: d.next_attempt(),
            started_at: now.clone(),
            duration_ms: 0,
            url: ep.map(|e| e.url.clone()).unwrap_or_default(),
            request_headers: BTreeMap::new(),
            response_status: None,
            response_body: None,
            error: Some(reason.to_owned()),
            outcome: "failed".into(),
            next_attempt_at: None,
        };
        d.attempts = d.next_attempt();
        d.status = DeliveryStatus::Failed;
        d.next_attempt_at = None;
        d.lease_until = None;
        d.last_error = Some(reason.to_owned());
        d.updated_at = now;
        match self.store.finish_attempt(&d, &attempt).await {
            Ok(()) => {}
            Err(WebhookStoreError::Conflict) => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        if dead_letter {
            self.dead_letter(&d, reason).await?;
        }
        Ok(())
    }

    async fn dead_letter(&self, d: &Delivery, reason: &str) -> Result<(), DispatchError> {
        let letter = DeadLetter {
            job: Job {
                tenant: d.tenant.clone(),
                endpoint_id: d.endpoint_id.clone(),
                delivery_id: d.id.clone(),
                attempt: d.attempts,
                not_before: d.updated_at.clone(),
            },
            reason: reason.to_owned(),
            dead_lettered_at: rfc3339(Utc::now()),
        };
        self.queue.dead_letter(&letter).await?;
        Ok(())
    }

    /// The signed request of a delivery as it is sent now.
    pub async fn request(
        &self,
        ep: &Endpoint,
        d: &Delivery,
        now: DateTime<Utc>,
    ) -> Result<OutboundRequest, DispatchError> {
        let mut keys = Vec::new();
        for s in ep.live_secrets(&rfc3339(now)) {
            let opened = self
                .cipher
                .open_secret(&ep.tenant, &secret_context(&ep.id), &s.sealed)
                .await
                .map_err(|e| DispatchError::Secret(e.to_string()))?;
            let text = String::from_utf8(opened).map_err(|e| DispatchError::Secret(e.to_string()))?;
            keys.push(signing::decode_secret(&text).map_err(|e| DispatchError::Secret(e.to_string()))?);
        }
        let timestamp = now.timestamp();
        let mut headers: BTreeMap<String, String> =
            ep.headers.iter().map(|(k, v)| (k.to_lowercase(), v.clone())).collect();
        headers.insert("content-type".into(), "application/json".into());
        headers.insert("webhook-id".into(), d.id.clone());
        headers.insert("webhook-timestamp".into(), timestamp.to_string());
        headers.insert("webhook-signature".into(), signing::signature_header(&keys, &d.id, timestamp, &d.payload));
        Ok(OutboundRequest {
            url: ep.url.clone(),
            headers,
            body: d.payload.clone(),
            timeout: Duration::from_secs(ep.timeout_seconds as u64),
        })
    }

    /// Makes the claimed attempt and records it. Returns the delivery and attempt as recorded.
    pub async fn attempt(&self, ep: &Endpoint, mut d: Delivery) -> Result<(Delivery, Attempt), DispatchError> {
        let started = Utc::now();
        let request = self.request(ep, &d, started).await?;
        let response = self.transport.send(&request).await;
        let finished = Utc::now();
        let number = d.next_attempt();
        let next = self.judge(ep, &d, &response, finished).await?;
        d.attempts = number;
        d.lease_until = None;
        d.last_status_code = response.status;
        d.last_error = response.error.clone().or_else(|| {
            response.status.filter(|s| !(200..300).contains(s)).map(|s| format!("the receiver answered {s}"))
        });
        d.updated_at = rfc3339(finished);
        let (outcome, next_at) = match &next {
            Next::Done => {
                d.status = DeliveryStatus::Delivered;
                d.next_attempt_at = None;
                ("delivered", None)
            }
            Next::RetryIn(wait) => {
                let at = rfc3339(finished + *wait);
                d.next_attempt_at = Some(at.clone());
                ("retrying", Some(at))
            }
            Next::DeadLetter(_) | Next::Failed => {
                d.status = DeliveryStatus::Failed;
                d.next_attempt_at = None;
                ("failed", None)
            }
        };
        let attempt = Attempt {
            delivery_id: d.id.clone(),
            number,
            started_at: rfc3339(started),
            duration_ms: response.duration.as_millis() as u64,
            url: request.url.clone(),
            request_headers: request.headers.clone(),
            response_status: response.status,
            response_body: response.body.clone(),
            error: response.error.clone(),
            outcome: outcome.into(),
            next_attempt_at: next_at.clone(),
        };
        match self.store.finish_attempt(&d, &attempt).await {
            Ok(()) => {}
            // Our lease lapsed and someone else made this attempt again; theirs is the one recorded.
            Err(WebhookStoreError::Conflict) => {
                tracing::warn!(delivery = %d.id, attempt = number, "attempt finished after its lease; not recorded");
                return Ok((d, attempt));
            }
            Err(e) => return Err(e.into()),
        }
        match next {
            Next::Done | Next::Failed => {}
            Next::RetryIn(wait) => {
                let job = Job {
                    tenant: d.tenant.clone(),
                    endpoint_id: d.endpoint_id.clone(),
                    delivery_id: d.id.clone(),
                    attempt: d.next_attempt(),
                    not_before: next_at.unwrap_or_default(),
                };
                self.queue.enqueue(&[(job, wait.min(MAX_QUEUE_DELAY))]).await?;
            }
            Next::DeadLetter(reason) => {
                self.dead_letter(&d, &reason).await?;
                if !d.event_type.starts_with("webhook.") {
                    let data = json!({
                        "endpoint_id": d.endpoint_id, "delivery_id": d.id, "event_id": d.event_id,
                        "event_type": d.event_type, "attempts": d.attempts, "reason": reason,
                    });
                    self.publish(Envelope::new(EXHAUSTED, &d.tenant, data)).await?;
                }
            }
        }
        Ok((d, attempt))
    }

    /// Decides what follows an attempt, and keeps the endpoint's health: a success ends a failing period, a
    /// failure starts one, and one that lasted too long (or a 410) disables the endpoint.
    async fn judge(
        &self,
        ep: &Endpoint,
        d: &Delivery,
        response: &Response,
        now: DateTime<Utc>,
    ) -> Result<Next, DispatchError> {
        let failure = match verdict(response, now) {
            Verdict::Delivered => {
                if ep.failing_since.is_some() {
                    self.store.note_success(&ep.tenant, &ep.id).await?;
                }
                return Ok(Next::Done);
            }
            Verdict::Gone => {
                self.disable(ep, "gone", None).await?;
                return Ok(Next::DeadLetter("the receiver answered 410 Gone; the endpoint was disabled".into()));
            }
            Verdict::RetryAfter(wait) => (Some(wait), describe(response)),
            Verdict::Retry => (None, describe(response)),
        };
        let since = self.store.note_failure(&ep.tenant, &ep.id, &rfc3339(now)).await?;
        if let Some(start) = parse_time(&since)
            && (now - start).num_seconds() >= ep.disable_after_seconds as i64
        {
            self.disable(ep, "failing", Some(&since)).await?;
        }
        let (retry_after, last) = failure;
        let in_cycle = d.cycle_attempt();
        if d.no_retry {
            return Ok(Next::Failed);
        }
        match ep.retry_policy.delay(in_cycle) {
            Some(policy_wait) => Ok(Next::RetryIn(retry_after.map_or(policy_wait, |w| w.max(Duration::from_secs(1))))),
            None => Ok(Next::DeadLetter(format!("all {in_cycle} attempts failed; the last: {last}"))),
        }
    }

    async fn disable(&self, ep: &Endpoint, reason: &str, failing_since: Option<&str>) -> Result<(), DispatchError> {
        if self.store.disable_endpoint(&ep.tenant, &ep.id, reason, &rfc3339(Utc::now())).await? {
            tracing::warn!(tenant = %ep.tenant, endpoint = %ep.id, reason, "webhook endpoint disabled");
            let data = json!({"endpoint_id": ep.id, "url": ep.url, "reason": reason, "failing_since": failing_since});
            self.publish(Envelope::new(DISABLED, &ep.tenant, data)).await?;
        }
        Ok(())
    }

    async fn publish(&self, event: Envelope) -> Result<(), DispatchError> {
        self.publisher.publish(&[event]).await.map_err(|e| DispatchError::Publish(e.to_string()))
    }

    /// Sends a `webhook.ping` to the endpoint now, once, recorded in its delivery log like any delivery.
    pub async fn ping(&self, ep: &Endpoint) -> Result<(Delivery, Attempt), DispatchError> {
        let event = Envelope::new(
            PING,
            &ep.tenant,
            json!({"endpoint_id": ep.id, "message": "a test delivery from HubbleWave"}),
        );
        let now = rfc3339(Utc::now());
        let delivery = new_delivery(ep, &event, serde_json::to_string(&event).expect("serialises"), &now, true);
        self.store.create_delivery(&delivery).await?;
        let lease = rfc3339(Utc::now() + Duration::from_secs(ep.timeout_seconds as u64) + LEASE_MARGIN);
        match self.store.claim_attempt(&ep.tenant, &ep.id, &delivery.id, 1, &now, &lease).await? {
            Claim::Claimed(d) => self.attempt(ep, d).await,
            _ => Err(DispatchError::Store(WebhookStoreError::Conflict)),
        }
    }
}

fn describe(r: &Response) -> String {
    match (&r.error, r.status) {
        (Some(e), _) => e.clone(),
        (None, Some(s)) => format!("the receiver answered {s}"),
        (None, None) => "no response".into(),
    }
}

/// A new pending delivery of `event` to `ep`, its first attempt due now.
pub fn new_delivery(ep: &Endpoint, event: &Envelope, payload: String, now: &str, no_retry: bool) -> Delivery {
    Delivery {
        id: Delivery::id_for_event(&event.id),
        tenant: ep.tenant.clone(),
        endpoint_id: ep.id.clone(),
        event_id: event.id.clone(),
        event_type: event.event_type.clone(),
        payload,
        status: DeliveryStatus::Pending,
        attempts: 0,
        next_attempt_at: Some(now.to_owned()),
        cycle_start: 0,
        lease_until: None,
        no_retry,
        last_status_code: None,
        last_error: None,
        created_at: now.to_owned(),
        updated_at: now.to_owned(),
    }
}

#[cfg(test)]
mod tests;
