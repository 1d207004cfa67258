//! DynamoDB helpers: batch reads and writes that split into the service's limits and retry unprocessed items.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, WriteRequest};

pub type Item = HashMap<String, AttributeValue>;

const BATCH_GET_LIMIT: usize = 100;
const BATCH_WRITE_LIMIT: usize = 25;
const MAX_ATTEMPTS: u32 = 8;

#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("DynamoDB call failed: {0}")]
    Call(String),
    #[error("{0} items were still unprocessed after {MAX_ATTEMPTS} attempts")]
    Unprocessed(usize),
}

fn call_error<E: std::error::Error + 'static>(
    e: aws_sdk_dynamodb::error::SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>,
) -> BatchError {
    BatchError::Call(aws_sdk_dynamodb::error::DisplayErrorContext(&e).to_string())
}

/// Strongly consistent reads of many keys of one table; missing keys are simply absent from the result.
pub async fn batch_get(client: &Client, table: &str, keys: Vec<Item>) -> Result<Vec<Item>, BatchError> {
    let mut found = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(BATCH_GET_LIMIT) {
        let mut pending = KeysAndAttributes::builder()
            .set_keys(Some(chunk.to_vec()))
            .consistent_read(true)
            .build()
            .expect("keys set");
        let mut attempt = 0;
        loop {
            let out = client.batch_get_item().request_items(table, pending.clone()).send().await.map_err(call_error)?;
            if let Some(items) = out.responses.and_then(|mut r| r.remove(table)) {
                found.extend(items);
            }
            match out.unprocessed_keys.and_then(|mut u| u.remove(table)) {
                Some(rest) if !rest.keys().is_empty() => {
                    attempt += 1;
                    if attempt >= MAX_ATTEMPTS {
                        return Err(BatchError::Unprocessed(rest.keys().len()));
                    }
                    pending = rest;
                    tokio::time::sleep(crate::backoff(attempt)).await;
                }
                _ => break,
            }
        }
    }
    Ok(found)
}

/// Puts and deletes in batches of 25, retrying unprocessed items with backoff.
pub async fn batch_write(client: &Client, table: &str, requests: Vec<WriteRequest>) -> Result<(), BatchError> {
    for chunk in requests.chunks(BATCH_WRITE_LIMIT) {
        let mut pending = chunk.to_vec();
        let mut attempt = 0;
        while !pending.is_empty() {
            let out =
                client.batch_write_item().request_items(table, pending.clone()).send().await.map_err(call_error)?;
            pending = out.unprocessed_items.and_then(|mut u| u.remove(table)).unwrap_or_default();
            if !pending.is_empty() {
                attempt += 1;
                if attempt >= MAX_ATTEMPTS {
                    return Err(BatchError::Unprocessed(pending.len()));
                }
                tokio::time::sleep(crate::backoff(attempt)).await;
            }
        }
    }
    Ok(())
}

/// `S` attribute helper.
pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// Reads a string attribute.
pub fn get_s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
}
