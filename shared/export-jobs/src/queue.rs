//! The SQS adapter of `ExportQueue`: one message per export on the exports queue.

use async_trait::async_trait;
use aws_sdk_sqs::error::DisplayErrorContext;

use crate::ports::{ExportMessage, ExportQueue, QueueError};

pub struct SqsExportQueue {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsExportQueue {
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        Self { client, queue_url: queue_url.into() }
    }
}

#[async_trait]
impl ExportQueue for SqsExportQueue {
    async fn enqueue(&self, message: &ExportMessage) -> Result<(), QueueError> {
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(serde_json::to_string(message).expect("messages serialise"))
            .send()
            .await
            .map_err(|e| QueueError(DisplayErrorContext(&e).to_string()))?;
        Ok(())
    }
}
