//! The `graphql` function: GraphQL over HTTP at `/graphql` on the caller's tenant schema (generated from its models
//! by `hw-graphql`), GraphiQL for browsers at the same address.
//!
//! `handle` takes an API Gateway v2 event and the dependencies built once per cold start; storage comes through the
//! ports of `hw-store` and `hw-oauth-store`, so tests run it on in-memory adapters.

mod auth;
mod graphiql;
pub mod http;

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use hw_graphql::SchemaCache;
use hw_resources::Config;
use hw_store::records::Records;
use serde_json::{Value, json};

use crate::http::{HttpRequest, MediaType, Refusal};

pub const FUNCTION: &str = "graphql";

/// Everything the handler needs, built once per cold start.
pub struct Deps {
    pub config: Config,
    pub schemas: Arc<SchemaCache>,
    pub auth: Arc<hw_graphql::Authenticator>,
}

impl Deps {
    pub fn new(config: Config, records: Arc<Records>, oauth: Arc<dyn hw_oauth_store::OAuthStore>) -> Self {
        let backend = hw_graphql::Backend::new(records, oauth, config.public_base_url.clone());
        Self { config, schemas: backend.schemas, auth: backend.auth }
    }

    pub fn from_aws(config: Config, sdk: &aws_config::SdkConfig) -> Self {
        let backend = hw_graphql::Backend::from_aws(&config, sdk);
        Self { config, schemas: backend.schemas, auth: backend.auth }
    }
}

pub async fn handle(deps: &Deps, event: ApiGatewayV2httpRequest) -> ApiGatewayV2httpResponse {
    let req = match HttpRequest::from_event(event) {
        Ok(r) => r,
        Err(e) => return http::refusal(&Refusal::new(400, "BAD_REQUEST", e), MediaType::Json),
    };
    if let Some(name) = req.path.strip_prefix("/graphql/assets/") {
        return match graphiql::asset(name) {
            Some((ct, body)) => http::text(200, ct, body, &[("cache-control", "public, max-age=86400")]),
            None => http::refusal(&Refusal::new(404, "NOT_FOUND", "no such asset"), MediaType::Json),
        };
    }
    if req.path != "/graphql" {
        return http::refusal(&Refusal::new(404, "NOT_FOUND", "GraphQL is served at /graphql"), MediaType::Json);
    }
    if wants_graphiql(&req) {
        return http::text(
            200,
            "text/html; charset=utf-8",
            graphiql::PAGE,
            &[
                ("cache-control", "no-store"),
                ("x-frame-options", "DENY"),
                ("content-security-policy", "frame-ancestors 'none'"),
            ],
        );
    }
    let Some(media) = http::negotiate(req.header("accept")) else {
        let r = Refusal::new(
            406,
            "NOT_ACCEPTABLE",
            "this endpoint answers application/graphql-response+json or application/json",
        );
        return http::refusal(&r, MediaType::Json);
    };
    let params = match http::params(&req) {
        Ok(p) => p,
        Err(r) => return http::refusal(&r, media),
    };
    let principal = match auth::authenticate(deps, &req).await {
        Ok(p) => p,
        Err(failure) => return failure.response(media),
    };
    execute(deps, &req, principal, params, media).await
}

/// A browser navigating to `/graphql`: a GET without `query` that accepts HTML.
fn wants_graphiql(req: &HttpRequest) -> bool {
    req.method == ::http::Method::GET
        && !req.query.iter().any(|(k, _)| k == "query")
        && req.header("accept").is_some_and(|a| a.contains("text/html"))
}

async fn execute(
    deps: &Deps,
    req: &HttpRequest,
    principal: hw_domain::principal::Principal,
    params: http::Params,
    media: MediaType,
) -> ApiGatewayV2httpResponse {
    let request_error = |status: u16, errors: Value| {
        // Request errors (the document never executed): 4xx and no `data` entry for graphql-response+json,
        // 200 for legacy application/json clients.
        let status = if media == MediaType::GraphqlResponse { status } else { 200 };
        http::graphql_response(status, media, &json!({"errors": errors}))
    };
    let document = match async_graphql::parser::parse_query(&params.query) {
        Ok(d) => d,
        Err(e) => {
            let pos: Vec<Value> = e.positions().map(|p| json!({"line": p.line, "column": p.column})).collect();
            return request_error(
                400,
                json!([{"message": e.to_string(), "locations": pos, "extensions": {"code": "GRAPHQL_PARSE_FAILED"}}]),
            );
        }
    };
    if req.method == ::http::Method::GET && is_mutation(&document, params.operation_name.as_deref()) {
        let r =
            Refusal { allow: Some("POST"), ..Refusal::new(405, "METHOD_NOT_ALLOWED", "mutations are sent with POST") };
        return http::refusal(&r, media);
    }
    let tenant_schema = match deps.schemas.schema(&principal.tenant).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "schema unavailable");
            return request_error(
                503,
                json!([{"message": "the schema is unavailable; retry", "extensions": {"code": "SERVICE_UNAVAILABLE"}}]),
            );
        }
    };
    let caller = tenant_schema.caller(principal, deps.schemas.records().clone());
    let mut request = async_graphql::Request::new(params.query)
        .variables(async_graphql::Variables::from_json(Value::Object(params.variables)))
        .data(caller);
    if let Some(op) = params.operation_name {
        request = request.operation_name(op);
    }
    let response = tenant_schema.schema.execute(request).await;
    let failed_before_execution = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    let mut body =
        serde_json::to_value(&response).unwrap_or_else(|_| json!({"errors": [{"message": "internal error"}]}));
    if failed_before_execution {
        if let Some(o) = body.as_object_mut() {
            o.remove("data");
        }
        let errors = body.get("errors").cloned().unwrap_or(Value::Null);
        return request_error(400, errors);
    }
    http::graphql_response(200, media, &body)
}

fn is_mutation(doc: &async_graphql::parser::types::ExecutableDocument, operation: Option<&str>) -> bool {
    hw_graphql::operation_type(doc, operation) == Some(async_graphql::parser::types::OperationType::Mutation)
}

#[cfg(test)]
mod tests;
