//! The chunk queue: one message per chunk of a started run.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::StoreError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkMessage {
    pub tenant: String,
    pub import_id: String,
    pub run: u32,
    pub chunk: usize,
}

#[async_trait]
pub trait ChunkQueue: Send + Sync {
    async fn send(&self, messages: &[ChunkMessage]) -> Result<(), StoreError>;
}

/// Records what was sent (tests).
#[derive(Default)]
pub struct MemoryChunkQueue {
    pub sent: std::sync::Mutex<Vec<ChunkMessage>>,
}

impl MemoryChunkQueue {
    pub fn take(&self) -> Vec<ChunkMessage> {
        std::mem::take(&mut *self.sent.lock().expect("lock"))
    }
}

#[async_trait]
impl ChunkQueue for MemoryChunkQueue {
    async fn send(&self, messages: &[ChunkMessage]) -> Result<(), StoreError> {
        self.sent.lock().expect("lock").extend_from_slice(messages);
        Ok(())
    }
}

#[cfg(feature = "sqs")]
pub use sqs::SqsChunkQueue;

#[cfg(feature = "sqs")]
mod sqs {
    use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

    use super::*;

    pub struct SqsChunkQueue {
        client: aws_sdk_sqs::Client,
        url: String,
    }

    impl SqsChunkQueue {
        pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
            Self { client, url: url.into() }
        }
    }

    #[async_trait]
    impl ChunkQueue for SqsChunkQueue {
        /// Ten messages per call (SQS's limit); entries SQS refuses are sent again, a few times, before giving up.
        async fn send(&self, messages: &[ChunkMessage]) -> Result<(), StoreError> {
            for batch in messages.chunks(10) {
                let mut pending: Vec<SendMessageBatchRequestEntry> = batch
                    .iter()
                    .map(|m| {
                        SendMessageBatchRequestEntry::builder()
                            .id(format!("c{}", m.chunk))
                            .message_body(serde_json::to_string(m).expect("serialisable"))
                            .build()
                            .expect("id and body set")
                    })
                    .collect();
                for attempt in 0..5 {
                    let out = self
                        .client
                        .send_message_batch()
                        .queue_url(&self.url)
                        .set_entries(Some(pending.clone()))
                        .send()
                        .await
                        .map_err(|e| StoreError::Backend(aws_sdk_sqs::error::DisplayErrorContext(&e).to_string()))?;
                    let failed: Vec<&str> = out.failed().iter().map(|f| f.id()).collect();
                    pending.retain(|e| failed.contains(&e.id()));
                    if pending.is_empty() {
                        break;
                    }
                    tokio::time::sleep(hw_aws::backoff(attempt)).await;
                }
                if !pending.is_empty() {
                    return Err(StoreError::Backend(format!("SQS refused {} chunk messages", pending.len())));
                }
            }
            Ok(())
        }
    }
}
