//! Fan-out: one event in, one delivery per endpoint that wants it, each with its first attempt enqueued.
//!
//! Idempotent: a delivery's id derives from the event id, and it is created with a conditional write. An event
//! fanned out twice finds its deliveries; those that never got past their first job are enqueued again (the
//! attempt claim makes a duplicate job harmless), so a crash between creating and enqueueing loses nothing.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use hw_domain::event::Envelope;

use crate::delivery::{DeliveryStatus, Job};
use crate::dispatch::{DispatchError, new_delivery};
use crate::endpoint::Endpoint;
use crate::matching::wants;
use crate::ports::{JobQueue, WebhookStore, WebhookStoreError};
use crate::template;

pub struct FanOut {
    pub store: Arc<dyn WebhookStore>,
    pub queue: Arc<dyn JobQueue>,
}

/// The body an endpoint receives for an event: the envelope, or its transformation.
pub fn payload(ep: &Endpoint, event: &Envelope) -> String {
    let envelope = serde_json::to_value(event).expect("envelopes serialise");
    match &ep.transform {
        Some(t) => template::render(t, &envelope).to_string(),
        None => envelope.to_string(),
    }
}

/// An event about an endpoint (`webhook.*` with `data.endpoint_id`) is not sent to that endpoint: a failing
/// endpoint would otherwise be told about its failures through the very route that fails.
fn about_itself(ep: &Endpoint, event: &Envelope) -> bool {
    event.event_type.starts_with("webhook.")
        && event.data.get("endpoint_id").and_then(|v| v.as_str()) == Some(ep.id.as_str())
}

impl FanOut {
    /// Fans out each event; the endpoints of each tenant in the batch are read once. Returns, per event, how many
    /// jobs were enqueued.
    pub async fn fan_out_all(&self, events: &[Envelope]) -> Vec<Result<usize, DispatchError>> {
        let mut endpoints: HashMap<&str, Result<Vec<Endpoint>, String>> = HashMap::new();
        for e in events {
            if !endpoints.contains_key(e.tenant.as_str()) {
                let listed = self.store.list_endpoints(&e.tenant).await.map_err(|err| err.to_string());
                endpoints.insert(&e.tenant, listed);
            }
        }
        let runs = events.iter().map(|e| {
            let listed = &endpoints[e.tenant.as_str()];
            async move {
                match listed {
                    Ok(eps) => self.fan_out(e, eps).await,
                    Err(reason) => Err(DispatchError::Store(WebhookStoreError::Backend(reason.clone()))),
                }
            }
        });
        futures::future::join_all(runs).await
    }

    /// Fans out one event to those of the tenant's `endpoints` that want it. Returns how many jobs were enqueued.
    pub async fn fan_out(&self, event: &Envelope, endpoints: &[Endpoint]) -> Result<usize, DispatchError> {
        let now = hw_domain::event::now_rfc3339();
        let mut jobs = Vec::new();
        for ep in endpoints.iter().filter(|ep| wants(ep, event) && !about_itself(ep, event)) {
            let delivery = new_delivery(ep, event, payload(ep, event), &now, false);
            let due = if self.store.create_delivery(&delivery).await? {
                delivery.next_attempt_at
            } else {
                // Seen before: enqueue again only if its first attempt has not been made, for the time it was due.
                self.store
                    .get_delivery(&ep.tenant, &ep.id, &delivery.id)
                    .await?
                    .filter(|d| d.status == DeliveryStatus::Pending && d.attempts == 0)
                    .and_then(|d| d.next_attempt_at)
            };
            if let Some(not_before) = due {
                let job = Job {
                    tenant: ep.tenant.clone(),
                    endpoint_id: ep.id.clone(),
                    delivery_id: delivery.id.clone(),
                    attempt: 1,
                    not_before,
                };
                jobs.push((job, Duration::ZERO));
            }
        }
        if !jobs.is_empty() {
            self.queue.enqueue(&jobs).await?;
        }
        Ok(jobs.len())
    }
}
