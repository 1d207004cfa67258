//! Redrive: moves what waits in the deliveries' dead-letter queue back into delivery. Each dead letter names a
//! delivery; that delivery is reopened with a new retry cycle and its job enqueued. A dead letter whose delivery
//! is pending again already (a replay got there first), has expired, or whose endpoint was deleted is simply
//! removed. Messages that are not dead letters, letters of disabled endpoints, and letters of other tenants when
//! one tenant's are redriven stay where they are.

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
    /// Dead letters of other tenants (when redriving one tenant's), and letters that arrived after the redrive
    /// began, left in the queue.
    pub skipped: usize,
    /// Dead letters of disabled endpoints, left in the queue: enable the endpoint, then redrive again.
    pub endpoint_disabled: usize,
}

/// What to do with one message of the dead-letter queue.
enum Verdict {
    Redrive(Job),
    /// Delete it: its delivery is pending already, gone, or its endpoint was deleted.
    Drop,
    /// Leave it in the queue.
    Leave(fn(&mut RedriveReport)),
}

/// Redrives at most `max` dead letters, only those of `tenant` when one is given.
pub async fn redrive(
    queue: &SqsJobQueue,
    store: &dyn WebhookStore,
    tenant: Option<&str>,
    max: usize,
) -> Result<RedriveReport, QueueError> {
    let mut report = RedriveReport::default();
    // Messages left in the queue come back; once a batch holds nothing new, everything has been seen.
    let mut seen = std::collections::HashSet::new();
    let now = hw_domain::event::now_rfc3339();
    // Only letters already waiting are redriven: one that a redriven delivery produces again meanwhile (its
    // receiver still fails) waits for the next redrive instead of going round in a loop.
    let started_ms = chrono::Utc::now().timestamp_millis();
    while report.redriven + report.dropped < max {
        let out = queue
            .client()
            .receive_message()
            .queue_url(queue.dead_letter_url())
            .max_number_of_messages(((max - report.redriven - report.dropped).min(10)) as i32)
            .wait_time_seconds(1)
            // Long enough to reopen and enqueue; a crash here leaves the letter to reappear.
            .visibility_timeout(60)
            .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::SentTimestamp)
            .send()
            .await
            .map_err(|e| QueueError(DisplayErrorContext(&e).to_string()))?;
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            break;
        }
        let new = messages.iter().filter(|m| seen.insert(m.message_id().unwrap_or_default().to_owned())).count();
        if new == 0 {
            release(queue, &messages).await?;
            break;
        }
        for m in &messages {
            match judge(m, store, tenant, started_ms).await? {
                Verdict::Leave(count) => {
                    count(&mut report);
                    release(queue, std::slice::from_ref(m)).await?;
                    continue;
                }
                Verdict::Drop => report.dropped += 1,
                Verdict::Redrive(job) => {
                    match store
                        .reopen_delivery(&job.tenant, &job.endpoint_id, &job.delivery_id, &now)
                        .await
                        .map_err(|e| QueueError(e.to_string()))?
                    {
                        Reopen::Reopened(d) => {
                            let next = Job { attempt: d.next_attempt(), not_before: now.clone(), ..job };
                            queue.enqueue(&[(next, Duration::ZERO)]).await?;
                            report.redriven += 1;
                        }
                        Reopen::AlreadyPending(_) | Reopen::Missing => report.dropped += 1,
                    }
                }
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
    }
    Ok(report)
}

async fn judge(
    m: &aws_sdk_sqs::types::Message,
    store: &dyn WebhookStore,
    tenant: Option<&str>,
    started_ms: i64,
) -> Result<Verdict, QueueError> {
    let Some(job) = m.body().and_then(|b| serde_json::from_str::<Job>(b).ok()) else {
        return Ok(Verdict::Leave(|r| r.unreadable += 1));
    };
    let sent_ms = m
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::MessageSystemAttributeName::SentTimestamp))
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0);
    if tenant.is_some_and(|t| t != job.tenant) || sent_ms > started_ms {
        return Ok(Verdict::Leave(|r| r.skipped += 1));
    }
    match store.get_endpoint(&job.tenant, &job.endpoint_id).await.map_err(|e| QueueError(e.to_string()))? {
        None => Ok(Verdict::Drop),
        Some(ep) if !ep.enabled => Ok(Verdict::Leave(|r| r.endpoint_disabled += 1)),
        Some(_) => Ok(Verdict::Redrive(job)),
    }
}

/// Makes messages we leave in the queue visible again at once.
async fn release(queue: &SqsJobQueue, messages: &[aws_sdk_sqs::types::Message]) -> Result<(), QueueError> {
    for m in messages {
        if let Some(receipt) = m.receipt_handle() {
            queue
                .client()
                .change_message_visibility()
                .queue_url(queue.dead_letter_url())
                .receipt_handle(receipt)
                .visibility_timeout(0)
                .send()
                .await
                .map_err(|e| QueueError(DisplayErrorContext(&e).to_string()))?;
        }
    }
    Ok(())
}
