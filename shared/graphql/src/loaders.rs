//! DataLoaders: the records a level of a query needs are collected while that level resolves, then read together,
//! so the number of DynamoDB calls grows with the depth of a query, not with the number of rows.
//! - [`RecordLoader`]: references (`contact.company`) and `entity(id)`, one BatchGetItem per 100 ids.
//! - [`ReverseLoader`]: reverse relations (`company.contacts`): for all parents of one level, one walk of the
//!   source entity's partition with an `in` filter on the reference, grouped by parent afterwards.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_graphql::dataloader::Loader;
use hw_domain::principal::Principal;
use hw_domain::query::{FieldRef, Filter, Op, Query, Scalar};
use hw_domain::record::Record;
use hw_store::records::Records;

use crate::catalog::Catalog;
use crate::errors;

/// Records read per store call by walks that need every match (reverse relations, `totalCount`).
pub const WALK_PAGE: usize = 1_000;

pub struct RecordLoader {
    pub records: Arc<Records>,
    pub catalog: Arc<Catalog>,
    pub principal: Principal,
}

impl Loader<(String, String)> for RecordLoader {
    type Value = Arc<Record>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[(String, String)]) -> Result<HashMap<(String, String), Arc<Record>>, Self::Error> {
        let mut by_entity: HashMap<&str, Vec<String>> = HashMap::new();
        for (entity, id) in keys {
            by_entity.entry(entity.as_str()).or_default().push(id.clone());
        }
        let mut out = HashMap::with_capacity(keys.len());
        for (entity, ids) in by_entity {
            let Some(e) = self.catalog.get(entity) else { continue };
            let found = self.records.fetch_many(&self.principal, &e.model, &ids).await.map_err(errors::internal)?;
            for r in found {
                out.insert((entity.to_owned(), r.id.clone()), Arc::new(r));
            }
        }
        Ok(out)
    }
}

/// What a reverse connection asks for, apart from its parent: one per distinct (relation, filter, sort, size)
/// in a request.
#[derive(Debug, Clone, PartialEq)]
pub struct ReverseSpec {
    /// The entity holding the reference, and the reference field.
    pub source: String,
    pub field: String,
    pub query: Query,
    /// Records wanted per parent (one more is kept to tell whether a next page exists).
    pub first: usize,
}

/// A parent's share of a reverse relation: the first records in the query's order and how many match in all.
#[derive(Debug, Clone)]
pub struct Children {
    pub records: Vec<Arc<Record>>,
    pub total: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReverseKey {
    pub spec: usize,
    pub parent: String,
}

pub struct ReverseLoader {
    records: Arc<Records>,
    catalog: Arc<Catalog>,
    principal: Principal,
    specs: Mutex<Vec<Arc<ReverseSpec>>>,
}

impl ReverseLoader {
    pub fn new(records: Arc<Records>, catalog: Arc<Catalog>, principal: Principal) -> Self {
        Self { records, catalog, principal, specs: Mutex::new(Vec::new()) }
    }

    /// The key of `parent` under `spec`; equal specs share one index, so their parents batch together.
    pub fn key(&self, spec: ReverseSpec, parent: &str) -> ReverseKey {
        let mut specs = self.specs.lock().expect("spec registry");
        let index = match specs.iter().position(|s| **s == spec) {
            Some(i) => i,
            None => {
                specs.push(Arc::new(spec));
                specs.len() - 1
            }
        };
        ReverseKey { spec: index, parent: parent.to_owned() }
    }

    fn spec(&self, index: usize) -> Option<Arc<ReverseSpec>> {
        self.specs.lock().expect("spec registry").get(index).cloned()
    }
}

impl Loader<ReverseKey> for ReverseLoader {
    type Value = Arc<Children>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[ReverseKey]) -> Result<HashMap<ReverseKey, Arc<Children>>, Self::Error> {
        let mut by_spec: HashMap<usize, Vec<String>> = HashMap::new();
        for k in keys {
            by_spec.entry(k.spec).or_default().push(k.parent.clone());
        }
        let mut out = HashMap::with_capacity(keys.len());
        for (index, mut parents) in by_spec {
            let Some(spec) = self.spec(index) else { continue };
            let Some(source) = self.catalog.get(&spec.source) else { continue };
            let Some(field) = FieldRef::resolve(&source.model, &spec.field) else { continue };
            parents.sort();
            parents.dedup();
            let mut groups: HashMap<String, Children> = HashMap::new();
            let mut query = spec.query.clone();
            query.filters.push(Filter {
                field: field.clone(),
                op: Op::In,
                values: parents.iter().map(|p| Scalar::Str(p.clone())).collect(),
                is_null: false,
            });
            let mut after = None;
            loop {
                let page = self
                    .records
                    .query(&self.principal, &source.model, &query, WALK_PAGE, after.as_ref())
                    .await
                    .map_err(errors::query)?;
                for r in page.records {
                    let Some(parent) = r.attributes.get(&spec.field).and_then(|v| v.as_str()).map(str::to_owned) else {
                        continue;
                    };
                    let group = groups.entry(parent).or_insert_with(|| Children { records: vec![], total: 0 });
                    group.total += 1;
                    if group.records.len() <= spec.first {
                        group.records.push(Arc::new(r));
                    }
                }
                match page.next {
                    Some((values, id)) => after = query.position(&values, &id),
                    None => break,
                }
                if after.is_none() {
                    break;
                }
            }
            for p in parents {
                let children = groups.remove(&p).unwrap_or(Children { records: vec![], total: 0 });
                out.insert(ReverseKey { spec: index, parent: p }, Arc::new(children));
            }
        }
        Ok(out)
    }
}
