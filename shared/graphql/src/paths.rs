//! Puts the response path on resolver errors. async-graphql's dynamic schema reports an error a resolver returns
//! with its location only; GraphQL clients need the `path` to tell which field (and which list item) failed.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo};
use async_graphql::{PathSegment, ServerResult, Value};

pub struct ErrorPaths;

impl ExtensionFactory for ErrorPaths {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorPaths)
    }
}

#[async_trait::async_trait]
impl Extension for ErrorPaths {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let node = *info.path_node;
        next.run(ctx, info).await.map_err(|mut e| {
            if e.path.is_empty() {
                // GraphQL names never start with a digit, so a numeric segment is a list index.
                e.path = node
                    .to_string_vec()
                    .into_iter()
                    .map(|s| s.parse::<usize>().map(PathSegment::Index).unwrap_or(PathSegment::Field(s)))
                    .collect();
            }
            e
        })
    }
}
