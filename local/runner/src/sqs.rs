//! The local stand-in for Lambda's SQS event source mapping: long-polls a queue, hands batches to the function as
//! `SqsEvent`s, deletes what succeeded and leaves reported failures to reappear after the visibility timeout, so
//! that the queue's redrive policy moves poison messages to the dead-letter queue exactly as in AWS.

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName};
use futures::future::BoxFuture;
use serde_json::{Map, Value, json};

pub type SqsHandler = Arc<dyn Fn(SqsEvent) -> BoxFuture<'static, SqsBatchResponse> + Send + Sync>;

pub struct Poller {
    pub function: String,
    pub queue_url: String,
    pub queue_arn: String,
    pub region: String,
    pub batch_size: i32,
    pub handler: SqsHandler,
}

impl Poller {
    /// Polls until the task is dropped.
    pub async fn run(self, sqs: aws_sdk_sqs::Client) {
        loop {
            if let Err(e) = self.poll_once(&sqs, 1).await {
                tracing::warn!(function = %self.function, error = %e, "polling failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }

    /// One receive → invoke → delete cycle; returns how many messages were handled successfully.
    pub async fn poll_once(&self, sqs: &aws_sdk_sqs::Client, wait_seconds: i32) -> anyhow::Result<usize> {
        let out = sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(self.batch_size.clamp(1, 10))
            .wait_time_seconds(wait_seconds)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await?;
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            return Ok(0);
        }
        let event: SqsEvent = serde_json::from_value(json!({
            "Records": messages.iter().map(|m| self.record(m)).collect::<Vec<_>>()
        }))?;
        let handler = self.handler.clone();
        let failed: Vec<String> = match tokio::spawn(async move { handler(event).await }).await {
            Ok(response) => response.batch_item_failures.into_iter().map(|f| f.item_identifier).collect(),
            Err(e) => {
                // Like Lambda: a crashed invocation fails the whole batch, and nothing is lost.
                tracing::error!(function = %self.function, error = %e, "function panicked; the batch will be retried");
                messages.iter().filter_map(|m| m.message_id.clone()).collect()
            }
        };
        let done: Vec<DeleteMessageBatchRequestEntry> = messages
            .iter()
            .filter(|m| !m.message_id.as_ref().is_some_and(|id| failed.contains(id)))
            .enumerate()
            .filter_map(|(i, m)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .set_receipt_handle(m.receipt_handle.clone())
                    .build()
                    .ok()
            })
            .collect();
        let n = done.len();
        if !done.is_empty() {
            sqs.delete_message_batch().queue_url(&self.queue_url).set_entries(Some(done)).send().await?;
        }
        if !failed.is_empty() {
            tracing::warn!(function = %self.function, failed = failed.len(), "messages reported as failed stay on the queue");
        }
        Ok(n)
    }

    fn record(&self, m: &Message) -> Value {
        let attributes: Map<String, Value> = m
            .attributes()
            .map(|a| a.iter().map(|(k, v)| (k.as_str().to_owned(), Value::String(v.clone()))).collect())
            .unwrap_or_default();
        let message_attributes: Map<String, Value> = m
            .message_attributes()
            .map(|a| {
                a.iter()
                    .map(|(k, v)| {
                        (k.clone(), json!({"stringValue": v.string_value(), "dataType": v.data_type(), "stringListValues": [], "binaryListValues": []}))
                    })
                    .collect()
            })
            .unwrap_or_default();
        json!({
            "messageId": m.message_id(),
            "receiptHandle": m.receipt_handle(),
            "body": m.body(),
            "attributes": attributes,
            "messageAttributes": message_attributes,
            "md5OfBody": m.md5_of_body(),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": self.region,
        })
    }
}
