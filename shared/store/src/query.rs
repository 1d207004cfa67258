//! Record queries: filters, sort and cursor pages over an entity's partition, plus batched reads of related
//! records for compound documents.
//!
//! How a query is served (the partition is `T#{tenant}#E#{entity}`, records keyed `R#{id}`, so in id order):
//! - filters on `id` (`eq`, `in`) become one batched read of exactly those ids; `gt`, `gte`, `lt`, `lte` and
//!   `startsWith` become a key condition on the sort key;
//! - in id order (no `sort`, `sort=id` or `sort=-id`) the partition (or its id range) is walked in order and every
//!   other filter is applied to each record: the walk stops as soon as the page is full, and at most
//!   [`SCAN_BUDGET`] records are read per request (a selective filter may then answer a short page whose
//!   `next` cursor continues the walk);
//! - any other sort reads the whole (id-range restricted) partition, filters and sorts it in memory: correct but
//!   O(n), refused once the partition holds more than [`MAX_SORTED`] records.

use hw_domain::model::Model;
use hw_domain::principal::Principal;
use hw_domain::query::{Position, Query};
use hw_domain::record::Record;
use serde_json::Value;

use crate::ports::{IdRange, StoreError, StoredRecord};
use crate::records::Records;

/// Most records read from the partition for one page in id order.
pub const SCAN_BUDGET: usize = 5_000;
/// Most records read and sorted in memory for one page in any other order.
pub const MAX_SORTED: usize = 10_000;
/// Records read per store call when sorting in memory.
const SORT_CHUNK: usize = 1_000;

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error(
        "sorting by anything but id reads the whole entity in memory, and it holds more than {limit} records; narrow it with an id filter or sort by id"
    )]
    TooManyToSort { limit: usize },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One page of a query.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryPage {
    pub records: Vec<Record>,
    /// Where the next page starts (sort-key values as stored JSON, and the id), when there is one.
    pub next: Option<(Vec<Value>, String)>,
}

impl Records {
    /// One page of the records of `model` that match `query`, in its order, after `after`.
    pub async fn query(
        &self,
        p: &Principal,
        model: &Model,
        query: &Query,
        size: usize,
        after: Option<&Position>,
    ) -> Result<QueryPage, QueryError> {
        self.query_within(p, model, query, size, after, SCAN_BUDGET).await
    }

    /// [`Records::query`] with the scan budget of id-order walks given.
    async fn query_within(
        &self,
        p: &Principal,
        model: &Model,
        query: &Query,
        size: usize,
        after: Option<&Position>,
        budget: usize,
    ) -> Result<QueryPage, QueryError> {
        let plan = query.id_plan();
        if plan.is_empty() {
            return Ok(QueryPage { records: vec![], next: None });
        }
        if let Some(ids) = &plan.ids {
            let stored = self.data.get_records(&p.tenant, &model.name, ids).await?;
            let matching = self.open_matching(p, model, query, stored).await?;
            return Ok(page_of_sorted(query, matching, size, after));
        }
        let range = IdRange { lower: plan.lower, upper: plan.upper, descending: false };
        match query.id_order() {
            Some(descending) => {
                let mut range = IdRange { descending, ..range };
                if let Some(pos) = after {
                    range.continue_after(&pos.id);
                }
                self.page_in_id_order(p, model, query, range, size, budget).await
            }
            None => {
                let all = self.read_all(p, model, query, range).await?;
                Ok(page_of_sorted(query, all, size, after))
            }
        }
    }

    /// The records of these ids that exist, opened; one batched read however many ids (deduplicated).
    pub async fn fetch_many(&self, p: &Principal, model: &Model, ids: &[String]) -> Result<Vec<Record>, StoreError> {
        let stored = self.data.get_records(&p.tenant, &model.name, ids).await?;
        let mut out = Vec::with_capacity(stored.len());
        for s in stored {
            out.push(self.cipher.open_record(&p.tenant, model, s.record).await?);
        }
        Ok(out)
    }

    async fn open_matching(
        &self,
        p: &Principal,
        model: &Model,
        query: &Query,
        stored: Vec<StoredRecord>,
    ) -> Result<Vec<Record>, StoreError> {
        let mut out = Vec::new();
        for s in stored {
            let r = self.cipher.open_record(&p.tenant, model, s.record).await?;
            if query.matches(&r) {
                out.push(r);
            }
        }
        Ok(out)
    }

    async fn page_in_id_order(
        &self,
        p: &Principal,
        model: &Model,
        query: &Query,
        mut range: IdRange,
        size: usize,
        budget: usize,
    ) -> Result<QueryPage, QueryError> {
        // Unfiltered pages read exactly one record more than they show (to know whether a next page exists);
        // filtered ones read ahead, but never more than the budget at once.
        let ahead = if query.filters.is_empty() { size + 1 } else { (size + 1).max(100) };
        let chunk = ahead.min(budget.max(1));
        let position_at = |id: &str| (query.sort.iter().map(|_| Value::String(id.to_owned())).collect(), id.to_owned());
        let mut records = Vec::new();
        let mut scanned = 0;
        loop {
            if range.is_empty() {
                return Ok(QueryPage { records, next: None });
            }
            let (items, more) = self.data.query_records(&p.tenant, &model.name, &range, chunk).await?;
            for stored in items {
                scanned += 1;
                let id = stored.record.id.clone();
                let r = self.cipher.open_record(&p.tenant, model, stored.record).await?;
                if query.matches(&r) {
                    records.push(r);
                    if records.len() > size {
                        records.truncate(size);
                        let last = &records[size - 1];
                        let next = Some((query.raw_key_of(last), last.id.clone()));
                        return Ok(QueryPage { records, next });
                    }
                }
                range.continue_after(&id);
            }
            match more {
                None => return Ok(QueryPage { records, next: None }),
                Some(last) => {
                    range.continue_after(&last);
                    if scanned >= budget {
                        // A selective filter over a large partition: answer what was found and continue later.
                        return Ok(QueryPage { records, next: Some(position_at(&last)) });
                    }
                }
            }
        }
    }

    async fn read_all(
        &self,
        p: &Principal,
        model: &Model,
        query: &Query,
        mut range: IdRange,
    ) -> Result<Vec<Record>, QueryError> {
        let mut out = Vec::new();
        let mut scanned = 0;
        loop {
            if range.is_empty() {
                return Ok(out);
            }
            let (items, more) = self.data.query_records(&p.tenant, &model.name, &range, SORT_CHUNK).await?;
            scanned += items.len();
            if scanned > MAX_SORTED {
                return Err(QueryError::TooManyToSort { limit: MAX_SORTED });
            }
            out.extend(self.open_matching(p, model, query, items).await?);
            match more {
                None => return Ok(out),
                Some(last) => range.continue_after(&last),
            }
        }
    }
}

/// Sorts, skips to after the position and cuts a page.
fn page_of_sorted(query: &Query, mut records: Vec<Record>, size: usize, after: Option<&Position>) -> QueryPage {
    records.sort_by(|a, b| query.compare(a, b));
    if let Some(pos) = after {
        records.retain(|r| query.is_after(r, pos));
    }
    let next = if records.len() > size {
        records.truncate(size);
        records.last().map(|r| (query.raw_key_of(r), r.id.clone()))
    } else {
        None
    };
    QueryPage { records, next }
}

#[cfg(test)]
mod tests;
