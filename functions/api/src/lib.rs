//! The `api` function: REST API over data models, records (JSON:API), API keys and webhooks, plus `/health`.
//!
//! `handle` takes an API Gateway v2 event and the dependencies built once per cold start; everything it needs from
//! the outside world comes through the storage and event ports, so tests run it on fixtures with in-memory adapters.

// `ApiError` (a problem document with its field errors and headers) is large next to the `Ok` values; it is built at
// most once per request, on the way out, so boxing it would only add an allocation to every error.
#![allow(clippy::result_large_err)]

mod auth;
mod body;
mod error;
mod explorer;
mod exports;
mod graphql_settings;
mod health;
mod http;
mod idempotency;
mod imports;
mod keys;
mod limits;
mod models;
mod oauth;
mod observe;
pub mod openapi;
mod records;
mod reports;
mod users;
mod webhooks;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use hw_aws::events::EventPublisher;
use hw_aws::kms::{Keyring, KmsKeyring};
use hw_domain::principal::Principal;
use hw_resources::Config;
use hw_store::cipher::FieldCipher;
use hw_store::models::Models;
use hw_store::ops::OpsStore;
use hw_store::records::Records;
use hw_store::tenants::Tenants;
use hw_store::{ControlStore, DataStore};
use tracing::Instrument as _;

pub use crate::error::{ApiError, Flavour};
pub use crate::exports::ExportPorts;
pub use crate::health::{BusProbe, EventBridgeProbe};
use crate::http::{Request, Response};
pub use crate::webhooks::{WebhookPorts, Webhooks};

pub const FUNCTION: &str = "api";

/// The OAuth store as the API uses it.
pub struct OAuthPorts {
    pub store: Arc<dyn hw_oauth_store::OAuthStore>,
    pub clients: hw_oauth_store::clients::OAuthClients,
    pub verifier: hw_oauth_store::verifier::AccessTokenVerifier,
    /// Seals the private halves of signing keys made by a rotation.
    pub keyring: Arc<dyn Keyring>,
}

impl OAuthPorts {
    pub fn new(store: Arc<dyn hw_oauth_store::OAuthStore>, keyring: Arc<dyn Keyring>) -> Self {
        Self {
            keyring,
            clients: hw_oauth_store::clients::OAuthClients { store: store.clone() },
            verifier: hw_oauth_store::verifier::AccessTokenVerifier::new(store.clone()),
            store,
        }
    }
}

/// Everything the handler needs, built once per cold start.
pub struct Deps {
    pub config: Config,
    pub control: Arc<dyn ControlStore>,
    pub data: Arc<dyn DataStore>,
    pub ops: Arc<dyn OpsStore>,
    pub bus: Arc<dyn BusProbe>,
    pub models: Models,
    pub records: Records,
    pub tenants: Tenants,
    /// Webhook endpoints, their delivery log and the test ping.
    pub webhooks: Webhooks,
    /// Import jobs: uploads, plans, runs and the history (in-memory adapters until [`Deps::with_imports`]).
    pub imports: hw_import_jobs::service::Imports,
    /// Export jobs, templates and their schedules; `None` until [`Deps::with_exports`] wires them (the export
    /// routes then answer 503).
    pub exports: Option<ExportPorts>,
    /// Tenant users (`/v1/users`): an in-memory store until [`Deps::with_users`] (production wiring: the
    /// `identity` table).
    pub users: hw_users::Users,
    /// OAuth: client registrations, consents, and the check of the `oauth` function's access tokens (in-memory
    /// until [`Deps::with_oauth`]).
    pub oauth: OAuthPorts,
    /// When this instance last recorded each key's use, so `last_used_at` costs one write per key and minute.
    key_touches: Mutex<HashMap<String, Instant>>,
    /// Tenants' own rate limits as last read, so the tenant item is read once a minute per instance.
    tenant_limits: Mutex<HashMap<String, (Instant, Option<u32>)>>,
}

/// How long an instance trusts the tenant's rate limit it read.
const TENANT_LIMIT_REFRESH: std::time::Duration = std::time::Duration::from_secs(60);
/// How often an instance refreshes a key's `last_used_at`.
const KEY_TOUCH_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

impl Deps {
    /// One port per argument: the wiring reads best flat, and tests and the benchmark swap each port on its own.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        config: Config,
        control: Arc<dyn ControlStore>,
        data: Arc<dyn DataStore>,
        ops: Arc<dyn OpsStore>,
        publisher: Arc<dyn EventPublisher>,
        bus: Arc<dyn BusProbe>,
        keyring: Arc<dyn Keyring>,
        webhooks: WebhookPorts,
    ) -> Self {
        let cipher = Arc::new(FieldCipher::new(control.clone(), keyring.clone()));
        let publisher_for_imports = publisher.clone();
        let policy = hw_webhooks::target::TargetPolicy::for_local_mode(config.local_mode);
        Self {
            models: Models { control: control.clone(), data: data.clone(), publisher: publisher.clone() },
            webhooks: Webhooks::new(webhooks, cipher.clone(), publisher.clone(), policy),
            records: Records {
                control: control.clone(),
                data: data.clone(),
                publisher,
                cipher,
                publication: hw_store::records::Publication::Immediate,
            },
            tenants: Tenants { control: control.clone() },
            imports: hw_import_jobs::service::Imports {
                store: Arc::new(hw_import_jobs::memory::MemoryImports::new()),
                files: Arc::new(hw_files::MemoryFiles::new()),
                queue: Arc::new(hw_import_jobs::queue::MemoryChunkQueue::default()),
                publisher: publisher_for_imports,
                limits: hw_import_jobs::service::ImportLimits::default(),
            },
            exports: None,
            // In-memory, so nothing is kept: cheap hashing parameters suit it (tests, the benchmark).
            users: hw_users::Users::for_tests(Arc::new(hw_users::memory::MemoryUsers::new())),
            oauth: OAuthPorts::new(Arc::new(hw_oauth_store::memory::MemoryOAuthStore::new()), keyring.clone()),
            config,
            control,
            data,
            ops,
            bus,
            key_touches: Mutex::new(HashMap::new()),
            tenant_limits: Mutex::new(HashMap::new()),
        }
    }

    /// The OAuth store (production wiring: the DynamoDB adapter on the `identity` table).
    pub fn with_oauth(mut self, oauth: OAuthPorts) -> Self {
        self.oauth = oauth;
        self
    }

    /// The users' service (production wiring: the DynamoDB adapter on the `identity` table).
    pub fn with_users(mut self, users: hw_users::Users) -> Self {
        self.users = users;
        self
    }

    /// The export routes' adapters.
    pub fn with_exports(mut self, exports: ExportPorts) -> Self {
        self.exports = Some(exports);
        self
    }

    /// The production wiring: DynamoDB, EventBridge, SQS, KMS, S3 and Scheduler clients from one SDK configuration.
    pub fn from_aws(config: Config, sdk: &aws_config::SdkConfig) -> Self {
        let key_id = config.data_key_id.clone().unwrap_or_default();
        let keyring = Arc::new(KmsKeyring::new(aws_sdk_kms::Client::new(sdk), key_id));
        let oauth_keyring: Arc<dyn Keyring> = keyring.clone();
        let dynamo = hw_aws::dynamo_client(sdk);
        let events = aws_sdk_eventbridge::Client::new(sdk);
        let publisher = Arc::new(hw_aws::events::EventBridgePublisher::new(
            events.clone(),
            &config.event_bus,
            &config.event_source,
        ));
        let bus = Arc::new(EventBridgeProbe { client: events, bus: config.event_bus.clone() });
        let imports_publisher: Arc<dyn EventPublisher> = publisher.clone();
        let dynamo_for_imports = dynamo.clone();
        let oauth_store =
            Arc::new(hw_oauth_store::dynamo::DynamoOAuthStore::new(dynamo.clone(), &config.identity_table));
        let users =
            hw_users::Users::new(Arc::new(hw_users::dynamo::DynamoUsers::new(dynamo.clone(), &config.identity_table)));
        let webhooks = WebhookPorts {
            store: Arc::new(hw_webhooks::dynamo::DynamoWebhookStore::for_config(dynamo.clone(), &config)),
            queue: Arc::new(hw_webhooks::queue::SqsJobQueue::for_config(aws_sdk_sqs::Client::new(sdk), &config)),
            transport: Arc::new(hw_webhooks::sender::Sender::new(hw_webhooks::target::TargetPolicy::for_local_mode(
                config.local_mode,
            ))),
        };
        let exports = ExportPorts {
            store: Arc::new(hw_export_jobs::dynamo::DynamoExportStore::new(dynamo.clone(), &config.jobs_table)),
            queue: Arc::new(hw_export_jobs::queue::SqsExportQueue::new(
                aws_sdk_sqs::Client::new(sdk),
                &config.exports_queue_url,
            )),
            files: Arc::new(hw_files::S3Files::from_sdk(sdk, &config.files_bucket)),
            schedules: Arc::new(hw_export_jobs::scheduler::EventBridgeSchedules::new(
                aws_sdk_scheduler::Client::new(sdk),
                &config.resource_prefix,
                &config.exports_queue_arn,
                &config.scheduler_role_arn,
            )),
        };
        Self::new(
            config.clone(),
            Arc::new(hw_store::dynamo::DynamoControlStore::new(dynamo.clone(), &config.control_table)),
            Arc::new(hw_store::dynamo::DynamoDataStore::new(dynamo.clone(), &config.data_table)),
            Arc::new(hw_store::ops::dynamo::DynamoOpsStore::new(dynamo, &config.ops_table)),
            publisher,
            bus,
            keyring,
            webhooks,
        )
        .with_imports(hw_import_jobs::service::Imports {
            store: Arc::new(hw_import_jobs::dynamo::DynamoImports::new(dynamo_for_imports, &config.jobs_table)),
            files: Arc::new(hw_files::S3Files::from_sdk(sdk, &config.files_bucket)),
            queue: Arc::new(hw_import_jobs::queue::SqsChunkQueue::new(
                aws_sdk_sqs::Client::new(sdk),
                &config.import_chunks_queue_url,
            )),
            publisher: imports_publisher,
            limits: hw_import_jobs::service::ImportLimits::from_lookup(|k| std::env::var(k).ok()).unwrap_or_default(),
        })
        .with_exports(exports)
        .with_users(users)
        .with_oauth(OAuthPorts::new(oauth_store, oauth_keyring))
    }

    /// Replaces the import adapters (production wiring, or tests that need their own).
    pub fn with_imports(mut self, imports: hw_import_jobs::service::Imports) -> Self {
        self.imports = imports;
        self
    }

    /// The tenant's own rate limit, if an operator set one; read at most once a minute per instance. If the
    /// tenant cannot be read, the platform default applies.
    async fn tenant_limit(&self, tenant: &str) -> Option<u32> {
        if let Some((at, limit)) = self.tenant_limits.lock().expect("not poisoned").get(tenant)
            && at.elapsed() < TENANT_LIMIT_REFRESH
        {
            return *limit;
        }
        match self.control.get_tenant(tenant).await {
            Ok(t) => {
                let limit = t.and_then(|t| t.rate_limit_per_minute);
                self.tenant_limits.lock().expect("not poisoned").insert(tenant.to_owned(), (Instant::now(), limit));
                limit
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not read the tenant's rate limit; using the default");
                None
            }
        }
    }

    /// Whether this instance should record the key's use now (at most once a minute per key).
    fn should_touch(&self, actor: &str) -> bool {
        let mut touches = self.key_touches.lock().expect("not poisoned");
        let now = Instant::now();
        match touches.get(actor) {
            Some(at) if now.duration_since(*at) < KEY_TOUCH_INTERVAL => false,
            _ => {
                touches.insert(actor.to_owned(), now);
                true
            }
        }
    }
}

/// Handles one API Gateway v2 (HTTP API, payload 2.0) request. Never fails: every error becomes a response.
pub async fn handle(deps: &Deps, event: ApiGatewayV2httpRequest) -> ApiGatewayV2httpResponse {
    let started = Instant::now();
    let time = hw_domain::event::now_rfc3339();
    let request_id = event.request_context.request_id.clone().unwrap_or_else(hw_domain::ids::new_id);
    let span = hw_telemetry::request_span!(FUNCTION, request_id);
    async move {
        let response = match Request::from_event(event) {
            Ok(req) => {
                let segs: Vec<&str> = req.segments.iter().map(String::as_str).collect();
                let route = route_template(&segs);
                let outcome = serve(deps, &req, &segs).await;
                let response = outcome.response;
                tracing::info!(method = %req.method, path = %req.path, status = response.status, "request");
                let served = observe::Served {
                    req: &req,
                    response: &response,
                    principal: outcome.principal.as_ref(),
                    tenant: outcome.tenant.as_deref(),
                    route: &route,
                    latency_ms: started.elapsed().as_secs_f64() * 1000.0,
                    time: &time,
                };
                observe::record(deps, &served).await;
                response
            }
            Err(detail) => ApiError::bad_request(detail).into_response(Flavour::Problem, &request_id, ""),
        };
        response.header("x-request-id", request_id.clone()).into_event()
    }
    .instrument(span)
    .await
}

/// A response and who it was for.
struct Outcome {
    response: Response,
    principal: Option<Principal>,
    /// The tenant when authentication failed but still named one (an expired key).
    tenant: Option<String>,
}

impl Outcome {
    fn anonymous(response: Response) -> Self {
        Self { response, principal: None, tenant: None }
    }
}

/// The pipeline: public routes answer at once; the others authenticate, count against the rate limits, and run
/// under their idempotency key.
async fn serve(deps: &Deps, req: &Request, segs: &[&str]) -> Outcome {
    let family = Family::of(segs);
    let flavour = family.flavour();
    let render = |e: ApiError| e.into_response(flavour, &req.request_id, &req.path);
    let which = match family {
        Family::Health => return Outcome::anonymous(health::get(deps, req).await.unwrap_or_else(render)),
        Family::OpenApi if !auth::has_credentials(req) => {
            return Outcome::anonymous(openapi::serve_static(req).unwrap_or_else(render));
        }
        Family::OpenApi => Private::OpenApi,
        Family::Docs => return Outcome::anonymous(explorer::serve(req, &segs[1..]).unwrap_or_else(render)),
        Family::UnknownVersion(version) => {
            return Outcome::anonymous(render(ApiError::new(
                404,
                "unknown-api-version",
                "Unknown API version",
                format!("API version `{version}` does not exist; the current version is v1"),
            )));
        }
        Family::NoRoute => {
            return Outcome::anonymous(render(ApiError::not_found(format!(
                "no route for {} {}",
                req.method, req.path
            ))));
        }
        Family::Authenticated(which) => which,
    };
    let p = match auth::authenticate(deps, req).await {
        Ok(p) => p,
        Err(failure) => {
            return Outcome { response: render(failure.error), principal: None, tenant: failure.tenant };
        }
    };
    let now = chrono::Utc::now().timestamp();
    let touch = async {
        if p.actor.starts_with("apikey:") && deps.should_touch(&p.actor) {
            deps.tenants.touch_key(&p.tenant, &p.actor["apikey:".len()..]).await;
        }
    };
    let (quota, ()) = tokio::join!(limits::check(deps, &p, now), touch);
    let response = match quota {
        Err((quota, error)) => quota.apply(render(error)),
        Ok(quota) => {
            let run = || async {
                let result = match which {
                    Private::Data => records::route(deps, req, &p, &segs[2..]).await,
                    Private::Models => models::route(deps, req, &p, &segs[2..]).await,
                    Private::ApiKeys => keys::route(deps, req, &p, &segs[2..]).await,
                    Private::Usage => reports::usage(deps, req, &p).await,
                    Private::Audit => reports::audit(deps, req, &p).await,
                    Private::Webhooks => webhooks::route(deps, req, &p, &segs[2..]).await,
                    Private::Imports => imports::route(deps, req, &p, &segs[2..]).await,
                    Private::EventTypes => webhooks::event_types(req, &segs[2..]),
                    Private::Exports => exports::route(deps, req, &p, &segs[2..]).await,
                    Private::ExportTemplates => exports::route_templates(deps, req, &p, &segs[2..]).await,
                    Private::Users => users::route(deps, req, &p, &segs[2..]).await,
                    Private::OAuthClients => oauth::route_clients(deps, req, &p, &segs[2..]).await,
                    Private::OAuthKeys => oauth::route_keys(deps, req, &p, &segs[2..]).await,
                    Private::Consents => oauth::route_consents(deps, req, &p, &segs[2..]).await,
                    Private::GraphqlSettings => graphql_settings::route(deps, req, &p, &segs[2..]).await,
                    Private::OpenApi => openapi::serve_tenant(deps, req, &p).await,
                };
                result.unwrap_or_else(render)
            };
            let response = idempotency::guard(deps, req, &p, now, run).await.unwrap_or_else(render);
            match quota {
                Some(q) => q.apply(response),
                None => response,
            }
        }
    };
    Outcome { response, principal: Some(p), tenant: None }
}

/// The route families of the API. Public ones answer without credentials; every other one authenticates first.
enum Family {
    Health,
    /// `GET /v1/openapi.json`: public; credentials, when sent, select the tenant's document.
    OpenApi,
    /// `/docs`: the API explorer (public).
    Docs,
    Authenticated(Private),
    UnknownVersion(String),
    NoRoute,
}

/// Routes that need a principal.
enum Private {
    Data,
    Models,
    ApiKeys,
    Usage,
    Audit,
    Webhooks,
    Imports,
    /// The catalog of event types webhooks can subscribe to (any principal).
    EventTypes,
    Exports,
    ExportTemplates,
    /// OAuth client registrations (scope `admin`).
    OAuthClients,
    /// The tenant's token signing keys (scope `admin`).
    OAuthKeys,
    /// A user's consents (the user's own token, or `admin`).
    Consents,
    GraphqlSettings,
    /// Tenant users (scope `admin`).
    Users,
    /// The tenant's own OpenAPI document (without credentials the static one is public).
    OpenApi,
}

impl Family {
    fn of(segments: &[&str]) -> Self {
        match segments {
            ["health"] => Self::Health,
            ["v1", "openapi.json"] => Self::OpenApi,
            ["docs", ..] => Self::Docs,
            ["v1", "data", ..] => Self::Authenticated(Private::Data),
            ["v1", "models", ..] => Self::Authenticated(Private::Models),
            ["v1", "api-keys", ..] => Self::Authenticated(Private::ApiKeys),
            ["v1", "usage"] => Self::Authenticated(Private::Usage),
            ["v1", "audit"] => Self::Authenticated(Private::Audit),
            ["v1", "webhooks", ..] => Self::Authenticated(Private::Webhooks),
            ["v1", "imports", ..] => Self::Authenticated(Private::Imports),
            ["v1", "event-types", ..] => Self::Authenticated(Private::EventTypes),
            ["v1", "exports", ..] => Self::Authenticated(Private::Exports),
            ["v1", "export-templates", ..] => Self::Authenticated(Private::ExportTemplates),
            ["v1", "users", ..] => Self::Authenticated(Private::Users),
            ["v1", "oauth-clients", ..] => Self::Authenticated(Private::OAuthClients),
            ["v1", "oauth-signing-keys", ..] => Self::Authenticated(Private::OAuthKeys),
            ["v1", "consents", ..] => Self::Authenticated(Private::Consents),
            ["v1", "graphql-settings", ..] => Self::Authenticated(Private::GraphqlSettings),
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
        ["v1", "webhooks", _] => vec!["v1", "webhooks", "{id}"],
        ["v1", "webhooks", _, action @ ("secret" | "rotate-secret" | "test" | "replay" | "deliveries")] => {
            vec!["v1", "webhooks", "{id}", action]
        }
        ["v1", "webhooks", _, "deliveries", _] => vec!["v1", "webhooks", "{id}", "deliveries", "{delivery_id}"],
        ["v1", "webhooks", _, "deliveries", _, action @ ("attempts" | "resend")] => {
            vec!["v1", "webhooks", "{id}", "deliveries", "{delivery_id}", action]
        }
        ["v1", "exports", _] => vec!["v1", "exports", "{id}"],
        ["v1", "export-templates", _] => vec!["v1", "export-templates", "{id}"],
        ["v1", "export-templates", _, "run"] => vec!["v1", "export-templates", "{id}", "run"],
        ["v1", "exports"] | ["v1", "export-templates"] | ["v1", "users"] => segments.to_vec(),
        ["v1", "users", _] => vec!["v1", "users", "{id}"],
        ["v1", "oauth-clients"]
        | ["v1", "oauth-signing-keys"]
        | ["v1", "oauth-signing-keys", "rotate"]
        | ["v1", "consents"]
        | ["v1", "graphql-settings"] => segments.to_vec(),
        ["v1", "oauth-clients", _] => vec!["v1", "oauth-clients", "{id}"],
        ["v1", "oauth-clients", _, "secret"] => vec!["v1", "oauth-clients", "{id}", "secret"],
        ["v1", "consents", _] => vec!["v1", "consents", "{client_id}"],
        ["v1", "users", _, action @ ("invitation" | "password")] => vec!["v1", "users", "{id}", action],
        ["health"] | ["v1", "models"] | ["v1", "api-keys"] | ["v1", "data"] => segments.to_vec(),
        ["v1", "webhooks"] | ["v1", "event-types"] | ["v1", "imports"] => segments.to_vec(),
        ["v1", "imports", _] => vec!["v1", "imports", "{id}"],
        ["v1", "imports", _, action @ ("start" | "cancel" | "retry" | "complete-upload")] => {
            vec!["v1", "imports", "{id}", action]
        }
        ["v1", "openapi.json"] | ["v1", "audit"] | ["v1", "usage"] | ["docs"] => segments.to_vec(),
        ["docs", "assets", _] => vec!["docs", "assets", "{file}"],
        _ => return "(unmatched)".into(),
    };
    format!("/{}", named.join("/"))
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
