//! Fan-out: one event in, one delivery per endpoint that wants it, each with its first attempt enqueued.
//!
//! Idempotent: a delivery's id derives from the event id, and it is created with a conditional write. An event
//! fanned out twice finds its deliveries; those that never got past their first job are enqueued again (the
//! attempt claim makes a duplicate job harmless), so a crash between creating and enqueueing loses nothing.

use std::sync::Arc;
use std::time::Duration;

use hw_domain::event::Envelope;

use crate::delivery::{DeliveryStatus, Job};
use crate::dispatch::{DispatchError, new_delivery};
use crate::endpoint::Endpoint;
use crate::matching::wants;
use crate::ports::{JobQueue, WebhookStore};
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
    /// Returns how many jobs were enqueued.
    pub async fn fan_out(&self, event: &Envelope) -> Result<usize, DispatchError> {
        let endpoints = self.store.list_endpoints(&event.tenant).await?;
        let now = hw_domain::event::now_rfc3339();
        let mut jobs = Vec::new();
        for ep in endpoints.iter().filter(|ep| wants(ep, event) && !about_itself(ep, event)) {
            let delivery = new_delivery(ep, event, payload(ep, event), &now, false);
            let enqueue = if self.store.create_delivery(&delivery).await? {
                true
            } else {
                // Seen before: enqueue again only if its first attempt has not been made.
                self.store
                    .get_delivery(&ep.tenant, &ep.id, &delivery.id)
                    .await?
                    .is_some_and(|d| d.status == DeliveryStatus::Pending && d.attempts == 0)
            };
            if enqueue {
                let job = Job {
                    tenant: ep.tenant.clone(),
                    endpoint_id: ep.id.clone(),
                    delivery_id: delivery.id.clone(),
                    attempt: 1,
                    not_before: now.clone(),
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
