//! The SQS adapter of `JobQueue`: jobs go to the deliveries queue (batches of ten, each with its own delay), dead
//! letters to that queue's dead-letter queue, with the reason as a message attribute as well as in the body.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};

use crate::delivery::{DeadLetter, Job};
use crate::dispatch::MAX_QUEUE_DELAY;
use crate::ports::{JobQueue, QueueError};

const MAX_BATCH: usize = 10;
const MAX_ATTEMPTS: u32 = 5;

pub struct SqsJobQueue {
    client: aws_sdk_sqs::Client,
    queue_url: String,
    dead_letter_url: String,
}

impl SqsJobQueue {
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>, dead_letter_url: impl Into<String>) -> Self {
        Self { client, queue_url: queue_url.into(), dead_letter_url: dead_letter_url.into() }
    }

    /// The deployment's deliveries queue and its dead-letter queue.
    pub fn for_config(client: aws_sdk_sqs::Client, config: &hw_resources::Config) -> Self {
        Self::new(client, &config.webhook_queue_url, &config.webhook_dead_letter_url)
    }

    pub fn client(&self) -> &aws_sdk_sqs::Client {
        &self.client
    }

    pub fn dead_letter_url(&self) -> &str {
        &self.dead_letter_url
    }
}

#[async_trait]
impl JobQueue for SqsJobQueue {
    async fn enqueue(&self, jobs: &[(Job, Duration)]) -> Result<(), QueueError> {
        for chunk in jobs.chunks(MAX_BATCH) {
            let mut pending: Vec<SendMessageBatchRequestEntry> = chunk
                .iter()
                .enumerate()
                .map(|(i, (job, delay))| {
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(serde_json::to_string(job).expect("jobs serialise"))
                        .delay_seconds(delay.min(&MAX_QUEUE_DELAY).as_secs_f64().ceil() as i32)
                        .build()
                        .expect("id and body set")
                })
                .collect();
            let mut attempt = 0;
            while !pending.is_empty() {
                let out = self
                    .client
                    .send_message_batch()
                    .queue_url(&self.queue_url)
                    .set_entries(Some(pending.clone()))
                    .send()
                    .await
                    .map_err(|e| QueueError(DisplayErrorContext(&e).to_string()))?;
                let failed: Vec<&str> = out.failed().iter().map(|f| f.id()).collect();
                if failed.is_empty() {
                    break;
                }
                attempt += 1;
                if attempt >= MAX_ATTEMPTS {
                    return Err(QueueError(format!("{} jobs were not accepted by the queue", failed.len())));
                }
                pending.retain(|e| failed.contains(&e.id()));
                tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
            }
        }
        Ok(())
    }

    async fn dead_letter(&self, letter: &DeadLetter) -> Result<(), QueueError> {
        let reason = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(&letter.reason)
            .build()
            .map_err(|e| QueueError(e.to_string()))?;
        self.client
            .send_message()
            .queue_url(&self.dead_letter_url)
            .message_body(serde_json::to_string(letter).expect("letters serialise"))
            .message_attributes("reason", reason)
            .send()
            .await
            .map_err(|e| QueueError(DisplayErrorContext(&e).to_string()))?;
        Ok(())
    }
}
