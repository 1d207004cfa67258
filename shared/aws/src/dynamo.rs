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

/// An SDK error as one line of text with its causes, for storage errors that carry a message.
pub fn error_text<E: std::error::Error + 'static, R: std::fmt::Debug>(
    e: &aws_sdk_dynamodb::error::SdkError<E, R>,
) -> String {
    aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string()
}

/// True when a conditional write (PutItem, UpdateItem, DeleteItem) was refused because its condition did not hold.
pub fn is_condition_failed<E: aws_sdk_dynamodb::error::ProvideErrorMetadata, R>(
    e: &aws_sdk_dynamodb::error::SdkError<E, R>,
) -> bool {
    matches!(e, aws_sdk_dynamodb::error::SdkError::ServiceError(se)
        if se.err().code() == Some("ConditionalCheckFailedException"))
}

/// The outcome of a conditional write: `Some` when it was made, `None` when its condition did not hold.
pub fn checked<T, E: aws_sdk_dynamodb::error::ProvideErrorMetadata, R>(
    result: Result<T, aws_sdk_dynamodb::error::SdkError<E, R>>,
) -> Result<Option<T>, aws_sdk_dynamodb::error::SdkError<E, R>> {
    match result {
        Ok(out) => Ok(Some(out)),
        Err(e) if is_condition_failed(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The reason code of each action of a cancelled transaction (`ConditionalCheckFailed`, `TransactionConflict`,
/// `None`, ...), in the order of the actions; `None` when the error is not a cancellation.
pub fn cancellation_codes<R>(
    e: &aws_sdk_dynamodb::error::SdkError<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
        R,
    >,
) -> Option<Vec<String>> {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    match e {
        aws_sdk_dynamodb::error::SdkError::ServiceError(se) => match se.err() {
            TransactWriteItemsError::TransactionCanceledException(tc) => {
                Some(tc.cancellation_reasons().iter().map(|r| r.code().unwrap_or("None").to_owned()).collect())
            }
            _ => None,
        },
        _ => None,
    }
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

/// Every item a Query finds, page after page (each page up to 1 MB).
pub async fn query_all(
    query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
) -> Result<Vec<Item>, aws_sdk_dynamodb::error::SdkError<aws_sdk_dynamodb::operation::query::QueryError>> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let out = query.clone().set_exclusive_start_key(start).send().await?;
        items.extend(out.items.unwrap_or_default());
        start = out.last_evaluated_key;
        if start.is_none() {
            return Ok(items);
        }
    }
}

/// `S` attribute helper.
pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// `N` attribute helper.
pub fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// The `pk` / `sk` key of an item: every table of the platform is keyed this way.
pub fn key(pk: impl Into<String>, sk: impl Into<String>) -> Item {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

/// Reads a string attribute.
pub fn get_s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
}
