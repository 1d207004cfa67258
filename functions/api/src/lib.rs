//! The `api` function: REST API over data models, records (JSON:API) and API keys, plus `/health`.
//!
//! `handle` takes an API Gateway v2 event and the dependencies built once per cold start; everything it needs from
//! the outside world comes through the storage and event ports, so tests run it on fixtures with in-memory adapters.

mod auth;
mod body;
mod error;
mod health;
mod http;
mod keys;
mod models;
mod records;

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use hw_aws::events::EventPublisher;
use hw_aws::kms::{Keyring, KmsKeyring};
use hw_resources::Config;
use hw_store::cipher::FieldCipher;
use hw_store::models::Models;
use hw_store::records::Records;
use hw_store::tenants::Tenants;
use hw_store::{ControlStore, DataStore};
use tracing::Instrument as _;

pub use crate::error::{ApiError, Flavour};
pub use crate::health::{BusProbe, EventBridgeProbe};
use crate::http::{Request, Response};

pub const FUNCTION: &str = "api";

/// Everything the handler needs, built once per cold start.
pub struct Deps {
    pub config: Config,
    pub control: Arc<dyn ControlStore>,
    pub data: Arc<dyn DataStore>,
    pub bus: Arc<dyn BusProbe>,
    pub models: Models,
    pub records: Records,
    pub tenants: Tenants,
}

impl Deps {
    pub fn new(
        config: Config,
        control: Arc<dyn ControlStore>,
        data: Arc<dyn DataStore>,
        publisher: Arc<dyn EventPublisher>,
        bus: Arc<dyn BusProbe>,
        keyring: Arc<dyn Keyring>,
    ) -> Self {
        let cipher = Arc::new(FieldCipher::new(control.clone(), keyring));
        Self {
            models: Models { control: control.clone(), data: data.clone(), publisher: publisher.clone() },
            records: Records { control: control.clone(), data: data.clone(), publisher, cipher },
            tenants: Tenants { control: control.clone() },
            config,
            control,
            data,
            bus,
        }
    }

    /// The production wiring: DynamoDB, EventBridge and KMS clients from one SDK configuration.
    pub fn from_aws(config: Config, sdk: &aws_config::SdkConfig) -> Self {
        let key_id = config.data_key_id.clone().unwrap_or_default();
        let keyring = Arc::new(KmsKeyring::new(aws_sdk_kms::Client::new(sdk), key_id));
        let dynamo = hw_aws::dynamo_client(sdk);
        let events = aws_sdk_eventbridge::Client::new(sdk);
        let publisher = Arc::new(hw_aws::events::EventBridgePublisher::new(
            events.clone(),
            &config.event_bus,
            &config.event_source,
        ));
        let bus = Arc::new(EventBridgeProbe { client: events, bus: config.event_bus.clone() });
        Self::new(
            config.clone(),
            Arc::new(hw_store::dynamo::DynamoControlStore::new(dynamo.clone(), &config.control_table)),
            Arc::new(hw_store::dynamo::DynamoDataStore::new(dynamo, &config.data_table)),
            publisher,
            bus,
            keyring,
        )
    }
}

/// Handles one API Gateway v2 (HTTP API, payload 2.0) request. Never fails: every error becomes a response.
pub async fn handle(deps: &Deps, event: ApiGatewayV2httpRequest) -> ApiGatewayV2httpResponse {
    let request_id = event.request_context.request_id.clone().unwrap_or_else(hw_domain::ids::new_id);
    let span = hw_telemetry::request_span!(FUNCTION, request_id);
    async move {
        let response = match Request::from_event(event) {
            Ok(req) => {
                let (flavour, result) = route(deps, &req).await;
                let response = result.unwrap_or_else(|e| e.into_response(flavour, &req.request_id, &req.path));
                tracing::info!(method = %req.method, path = %req.path, status = response.status, "request");
                response
            }
            Err(detail) => ApiError::bad_request(detail).into_response(Flavour::Problem, &request_id, ""),
        };
        response.header("x-request-id", request_id.clone()).into_event()
    }
    .instrument(span)
    .await
}

/// The route families of the API. Public ones answer without credentials; every other one authenticates first.
enum Family {
    Health,
    Authenticated(Private),
    UnknownVersion(String),
    NoRoute,
}

/// Routes that need a principal.
enum Private {
    Data,
    Models,
    ApiKeys,
}

impl Family {
    fn of(segments: &[&str]) -> Self {
        match segments {
            ["health"] => Self::Health,
            ["v1", "data", ..] => Self::Authenticated(Private::Data),
            ["v1", "models", ..] => Self::Authenticated(Private::Models),
            ["v1", "api-keys", ..] => Self::Authenticated(Private::ApiKeys),
            [version, ..]
                if version.len() > 1
                    && version.starts_with('v')
                    && version[1..].chars().all(|c| c.is_ascii_digit())
                    && *version != "v1" =>
            {
                Self::UnknownVersion((*version).to_owned())
            }
            _ => Self::NoRoute,
        }
    }

    fn flavour(&self) -> Flavour {
        if matches!(self, Self::Authenticated(Private::Data)) { Flavour::JsonApi } else { Flavour::Problem }
    }
}

/// The route template of a path, as request logs and usage reports group by it (`/v1/data/{entity}/{id}`).
pub fn route_template(segments: &[&str]) -> String {
    let named: Vec<&str> = match segments {
        ["v1", "data", _] => vec!["v1", "data", "{entity}"],
        ["v1", "data", _, "_bulk"] => vec!["v1", "data", "{entity}", "_bulk"],
        ["v1", "data", _, _] => vec!["v1", "data", "{entity}", "{id}"],
        ["v1", "data", _, _, "relationships", _] => vec!["v1", "data", "{entity}", "{id}", "relationships", "{field}"],
        ["v1", "models", _] => vec!["v1", "models", "{name}"],
        ["v1", "api-keys", _] => vec!["v1", "api-keys", "{id}"],
        ["v1", "api-keys", _, action] => vec!["v1", "api-keys", "{id}", action],
        ["health"] | ["v1", "models"] | ["v1", "api-keys"] | ["v1", "data"] => segments.to_vec(),
        ["v1", "openapi.json"] | ["v1", "audit"] | ["v1", "usage"] | ["docs"] => segments.to_vec(),
        ["docs", "assets", _] => vec!["docs", "assets", "{file}"],
        _ => return "(unmatched)".into(),
    };
    format!("/{}", named.join("/"))
}

async fn route(deps: &Deps, req: &Request) -> (Flavour, Result<Response, ApiError>) {
    let segs: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    let family = Family::of(&segs);
    let flavour = family.flavour();
    let result = async {
        match family {
            Family::Health => health::get(deps, req).await,
            Family::UnknownVersion(version) => Err(ApiError::new(
                404,
                "unknown-api-version",
                "Unknown API version",
                format!("API version `{version}` does not exist; the current version is v1"),
            )),
            Family::NoRoute => Err(ApiError::not_found(format!("no route for {} {}", req.method, req.path))),
            Family::Authenticated(which) => {
                let p = auth::authenticate(deps, req).await?;
                match which {
                    Private::Data => records::route(deps, req, &p, &segs[2..]).await,
                    Private::Models => models::route(deps, req, &p, &segs[2..]).await,
                    Private::ApiKeys => keys::route(deps, req, &p, &segs[2..]).await,
                }
            }
        }
    }
    .await;
    (flavour, result)
}

/// Answers 405 with the methods a resource supports.
pub(crate) fn method_not_allowed(req: &Request, allowed: &str) -> ApiError {
    ApiError::new(
        405,
        "method-not-allowed",
        "Method not allowed",
        format!("{} is not supported on {}; use {allowed}", req.method, req.path),
    )
    .with_header("allow", allowed)
}

#[cfg(test)]
mod tests;
