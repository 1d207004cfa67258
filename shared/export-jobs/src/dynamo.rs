//! The DynamoDB adapter of `ExportStore`, on the `jobs` table:
//!
//! | item | pk | sk | notes |
//! |---|---|---|---|
//! | export job | `T#<tenant>` | `X#<export id>` | ids are `exp_<ulid>`: the sort key is time order, newest last |
//! | export template | `T#<tenant>` | `XT#<template id>` | `version` for optimistic concurrency |
//!
//! (`X#` never prefixes `XT#`: the fourth character differs, so `begins_with(sk, "X#")` selects jobs only.)
//! Status changes of a job are conditional writes: a run is started by a claim (`queued`, or `running` with an
//! expired lease) that stores a random token, and only the holder of that token can finish or release the run.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use hw_aws::dynamo::{Item, key, n, s};
use serde::{Deserialize, Serialize};

use crate::job::{ExportJob, ExportStatus, ExportTemplate};
use crate::ports::{Claim, ExportStore, ExportStoreError, Finish, JobPage, JobQuery};

/// Items read per history query when filters may skip some, and query calls per page at most: a page of a
/// selective filter over a long history ends early with a `next` that continues the walk.
const FILTERED_READ: i32 = 200;
const MAX_CALLS_PER_PAGE: usize = 5;

#[derive(Clone)]
pub struct DynamoExportStore {
    client: Client,
    table: String,
}

impl DynamoExportStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }
}

fn backend<E: std::error::Error + 'static, R: std::fmt::Debug>(e: SdkError<E, R>) -> ExportStoreError {
    ExportStoreError::Backend(hw_aws::dynamo::error_text(&e))
}

/// `Some` when the conditional write was made, `None` when its condition did not hold.
fn checked<T, E: std::error::Error + ProvideErrorMetadata + 'static, R: std::fmt::Debug>(
    result: Result<T, SdkError<E, R>>,
) -> Result<Option<T>, ExportStoreError> {
    hw_aws::dynamo::checked(result).map_err(backend)
}

fn pk(tenant: &str) -> String {
    format!("T#{tenant}")
}

fn job_key(tenant: &str, id: &str) -> Item {
    key(pk(tenant), format!("X#{id}"))
}

fn template_key(tenant: &str, id: &str) -> Item {
    key(pk(tenant), format!("XT#{id}"))
}

fn to_item<T: Serialize>(v: &T, key: Item) -> Result<Item, ExportStoreError> {
    let mut item: Item = serde_dynamo::to_item(v).map_err(|e| ExportStoreError::Backend(format!("encoding: {e}")))?;
    // Absent rather than NULL, so that `attribute_not_exists` means "not set".
    item.retain(|_, v| !matches!(v, AttributeValue::Null(_)));
    item.extend(key);
    Ok(item)
}

fn from_item<T: for<'de> Deserialize<'de>>(mut item: Item) -> Result<T, ExportStoreError> {
    for k in ["pk", "sk", "expires_at"] {
        item.remove(k);
    }
    serde_dynamo::from_item(item).map_err(|e| ExportStoreError::Backend(format!("decoding: {e}")))
}

fn status(s: ExportStatus) -> AttributeValue {
    AttributeValue::S(s.as_str().to_owned())
}

impl DynamoExportStore {
    /// Why a conditional change of a job did not hold: it is gone, or in another state.
    async fn why_not(&self, tenant: &str, id: &str) -> ExportStoreError {
        match self.get_job(tenant, id).await {
            Ok(None) => ExportStoreError::NotFound,
            Ok(Some(_)) => ExportStoreError::Conflict,
            Err(e) => e,
        }
    }
}

#[async_trait]
impl ExportStore for DynamoExportStore {
    async fn create_job(&self, job: &ExportJob) -> Result<bool, ExportStoreError> {
        let item = to_item(job, job_key(&job.tenant, &job.id))?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        Ok(checked(result)?.is_some())
    }

    async fn get_job(&self, tenant: &str, id: &str) -> Result<Option<ExportJob>, ExportStoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(job_key(tenant, id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        out.item.map(from_item).transpose()
    }

    async fn list_jobs(&self, tenant: &str, q: &JobQuery) -> Result<JobPage, ExportStoreError> {
        let mut filters = Vec::new();
        let mut values = HashMap::from([(":pk".to_owned(), s(pk(tenant))), (":x".to_owned(), s("X#"))]);
        let mut names = HashMap::new();
        if let Some(st) = q.status {
            filters.push("#st = :st");
            names.insert("#st".to_owned(), "status".to_owned());
            values.insert(":st".to_owned(), status(st));
        }
        if let Some(e) = &q.entity {
            filters.push("#spec.#entity = :entity");
            names.insert("#spec".to_owned(), "spec".to_owned());
            names.insert("#entity".to_owned(), "entity".to_owned());
            values.insert(":entity".to_owned(), s(e.clone()));
        }
        let read = if filters.is_empty() { q.limit as i32 + 1 } else { FILTERED_READ.max(q.limit as i32 + 1) };
        let mut start = q.before.as_ref().map(|b| job_key(tenant, b));
        let mut items = Vec::new();
        let mut calls = 0;
        let mut scanned_to: Option<String>;
        loop {
            calls += 1;
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :x)")
                .set_filter_expression((!filters.is_empty()).then(|| filters.join(" AND ")))
                .set_expression_attribute_names((!names.is_empty()).then(|| names.clone()))
                .set_expression_attribute_values(Some(values.clone()))
                .scan_index_forward(false)
                .limit(read)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(backend)?;
            for item in out.items.unwrap_or_default() {
                items.push(from_item::<ExportJob>(item)?);
            }
            start = out.last_evaluated_key;
            scanned_to =
                start.as_ref().and_then(|k| k.get("sk")).and_then(|v| v.as_s().ok()).map(|sk| sk[2..].to_owned());
            if items.len() > q.limit || start.is_none() || calls >= MAX_CALLS_PER_PAGE {
                break;
            }
        }
        let next = if items.len() > q.limit {
            items.truncate(q.limit);
            items.last().map(|j| j.id.clone())
        } else {
            // The read budget ran out before the page filled: continue after the last job read.
            scanned_to.filter(|_| start.is_some())
        };
        Ok(JobPage { items, next })
    }

    async fn delete_job(&self, tenant: &str, id: &str) -> Result<(), ExportStoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(job_key(tenant, id)))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn claim(
        &self,
        tenant: &str,
        id: &str,
        now: &str,
        now_ms: i64,
        lease_until_ms: i64,
        token: &str,
    ) -> Result<Claim, ExportStoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(job_key(tenant, id)))
            .update_expression(
                "SET #st = :running, lease_until_ms = :lease, claim_token = :token, started_at = :now, \
                 attempts = if_not_exists(attempts, :zero) + :one",
            )
            .condition_expression(
                "attribute_exists(pk) AND (#st = :queued OR \
                 (#st = :running AND (attribute_not_exists(lease_until_ms) OR lease_until_ms < :now_ms)))",
            )
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":running", status(ExportStatus::Running))
            .expression_attribute_values(":queued", status(ExportStatus::Queued))
            .expression_attribute_values(":lease", n(lease_until_ms))
            .expression_attribute_values(":now_ms", n(now_ms))
            .expression_attribute_values(":token", s(token))
            .expression_attribute_values(":now", s(now))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match checked(result)? {
            Some(out) => Ok(Claim::Claimed(from_item(out.attributes.unwrap_or_default())?)),
            None => Ok(match self.get_job(tenant, id).await? {
                None => Claim::Missing,
                Some(j) if j.status.is_finished() => Claim::Finished(j),
                Some(_) => Claim::Busy,
            }),
        }
    }

    async fn release(&self, tenant: &str, id: &str, token: &str) -> Result<(), ExportStoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(job_key(tenant, id)))
            .update_expression("SET #st = :queued REMOVE lease_until_ms, claim_token")
            .condition_expression("#st = :running AND claim_token = :token")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":queued", status(ExportStatus::Queued))
            .expression_attribute_values(":running", status(ExportStatus::Running))
            .expression_attribute_values(":token", s(token))
            .send()
            .await;
        match checked(result)? {
            Some(_) => Ok(()),
            None => Err(self.why_not(tenant, id).await),
        }
    }

    async fn finish(
        &self,
        tenant: &str,
        id: &str,
        token: &str,
        finish: &Finish,
        now: &str,
    ) -> Result<ExportJob, ExportStoreError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(job_key(tenant, id)))
            .condition_expression("#st = :running AND claim_token = :token")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":running", status(ExportStatus::Running))
            .expression_attribute_values(":token", s(token))
            .expression_attribute_values(":now", s(now))
            .return_values(ReturnValue::AllNew);
        update = match finish {
            Finish::Completed { rows, bytes, file_key, file_name } => update
                .update_expression(
                    "SET #st = :done, #rows = :rows, #bytes = :bytes, file_key = :key, file_name = :name, \
                     finished_at = :now REMOVE lease_until_ms, claim_token",
                )
                .expression_attribute_names("#rows", "rows")
                .expression_attribute_names("#bytes", "bytes")
                .expression_attribute_values(":done", status(ExportStatus::Completed))
                .expression_attribute_values(":rows", n(rows))
                .expression_attribute_values(":bytes", n(bytes))
                .expression_attribute_values(":key", s(file_key))
                .expression_attribute_values(":name", s(file_name)),
            Finish::Failed { error } => update
                .update_expression(
                    "SET #st = :failed, #error = :error, finished_at = :now REMOVE lease_until_ms, claim_token",
                )
                .expression_attribute_names("#error", "error")
                .expression_attribute_values(":failed", status(ExportStatus::Failed))
                .expression_attribute_values(":error", s(error)),
        };
        match checked(update.send().await)? {
            Some(out) => from_item(out.attributes.unwrap_or_default()),
            None => Err(self.why_not(tenant, id).await),
        }
    }

    async fn mark_notified(&self, tenant: &str, id: &str) -> Result<(), ExportStoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(job_key(tenant, id)))
            .update_expression("SET notified = :t")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":t", AttributeValue::Bool(true))
            .send()
            .await;
        // A job deleted meanwhile has nobody left to tell.
        checked(result).map(drop)
    }

    async fn create_template(&self, t: &ExportTemplate) -> Result<(), ExportStoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(t, template_key(&t.tenant, &t.id))?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        checked(result)?.map(drop).ok_or(ExportStoreError::AlreadyExists)
    }

    async fn get_template(&self, tenant: &str, id: &str) -> Result<Option<ExportTemplate>, ExportStoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(template_key(tenant, id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        out.item.map(from_item).transpose()
    }

    async fn list_templates(&self, tenant: &str) -> Result<Vec<ExportTemplate>, ExportStoreError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :xt)")
                .expression_attribute_values(":pk", s(pk(tenant)))
                .expression_attribute_values(":xt", s("XT#"))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(backend)?;
            for item in page.items.unwrap_or_default() {
                out.push(from_item(item)?);
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(out);
            }
        }
    }

    async fn replace_template(&self, t: &ExportTemplate, expected: u64) -> Result<(), ExportStoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(t, template_key(&t.tenant, &t.id))?))
            .condition_expression("attribute_exists(pk) AND #v = :expected")
            .expression_attribute_names("#v", "version")
            .expression_attribute_values(":expected", n(expected))
            .send()
            .await;
        match checked(result)? {
            Some(_) => Ok(()),
            None => match self.get_template(&t.tenant, &t.id).await? {
                None => Err(ExportStoreError::NotFound),
                Some(_) => Err(ExportStoreError::Conflict),
            },
        }
    }

    async fn delete_template(&self, tenant: &str, id: &str) -> Result<(), ExportStoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(template_key(tenant, id)))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }
}
