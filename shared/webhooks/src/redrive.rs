//! Redrive: moves what waits in the deliveries' dead-letter queue back into delivery. Each dead letter names a
//! delivery; that delivery is reopened with a new retry cycle and its job enqueued. A dead letter whose delivery
//! is pending again already (a replay got there first) or has expired is simply removed. Messages that are not
//! dead letters stay where they are, for a person to look at.

use std::time::Duration;

use aws_sdk_sqs::error::DisplayErrorContext;
use serde::Serialize;

use crate::delivery::Job;
use crate::ports::{JobQueue, QueueError, Reopen, WebhookStore};
use crate::queue::SqsJobQueue;

#[derive(Debug, Default, Serialize, PartialEq)]
pub struct RedriveReport {
    /// Deliveries reopened and enqueued.
    pub redriven: usize,
    /// Dead letters whose delivery was pending already or no longer exists.
    pub dropped: usize,
    /// Messages that are not dead letters, left in the queue.
    pub unreadable: usize,
}

/// Redrives at most `max` dead letters.
pub async fn redrive(queue: &SqsJobQueue, store: &dyn WebhookStore, max: usize) -> Result<RedriveReport, QueueError> {
    let mut report = RedriveReport::default();
    let now = hw_domain::event::now_rfc3339();
    while report.redriven + report.dropped < max {
        let out = queue
            .client()
            .receive_message()
            .queue_url(queue.dead_letter_url())
            .max_number_of_messages(((max - report.redriven - report.dropped).min(10)) as i32)
            .wait_time_seconds(1)
            // Long enough to reopen and enqueue; a crash here leaves the letter to reappear.
            .visibility_timeout(60)
            .send()
            .await
            .map_err(|e| QueueError(DisplayErrorContext(&e).to_string()))?;
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            break;
        }
        let mut unreadable_in_batch = 0;
        for m in &messages {
            let Some(job) = m.body().and_then(|b| serde_json::from_str::<Job>(b).ok()) else {
                unreadable_in_batch += 1;
                continue;
            };
            let reopened = store
                .reopen_delivery(&job.tenant, &job.endpoint_id, &job.delivery_id, &now)
                .await
                .map_err(|e| QueueError(e.to_string()))?;
            match reopened {
                Reopen::Reopened(d) => {
                    let next = Job { attempt: d.next_attempt, not_before: now.clone(), ..job };
                    queue.enqueue(&[(next, Duration::ZERO)]).await?;
                    report.redriven += 1;
                }
                Reopen::AlreadyPending(_) | Reopen::Missing => report.dropped += 1,
            }
            if let Some(receipt) = m.receipt_handle() {
                queue
                    .client()
                    .delete_message()
                    .queue_url(queue.dead_letter_url())
                    .receipt_handle(receipt)
                    .send()
                    .await
                    .map_err(|e| QueueError(DisplayErrorContext(&e).to_string()))?;
            }
        }
        report.unreadable += unreadable_in_batch;
        if unreadable_in_batch == messages.len() {
            // Only unreadable messages came back; they will keep coming back. Stop rather than spin.
            break;
        }
    }
    Ok(report)
}
