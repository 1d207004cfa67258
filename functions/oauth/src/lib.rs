//! The `oauth` function: an OAuth 2.0 authorization server and OpenID Connect provider with one issuer per tenant,
//! `{base}/t/{tenant}`.
//!
//! `handle` takes an API Gateway v2 event and the dependencies built once per cold start. Storage, users and the
//! key service come through ports, so the tests run the whole protocol on in-memory adapters.

// A page or error `Response` is large next to the `Ok` values; it is built at most once per request, on the way
// out, so boxing it would only add an allocation.
#![allow(clippy::result_large_err)]

mod authorize;
mod client_auth;
mod discovery;
mod http;
mod introspect;
mod logout;
mod pages;
mod session;
mod token;
mod tokens;
pub mod users;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use hw_aws::kms::Keyring;
use hw_oauth::errors::{ErrorCode, OAuthError};
use hw_oauth::keys::KeySet;
use hw_oauth_store::OAuthStore;
use hw_resources::Config;
use hw_store::ControlStore;
use tracing::Instrument as _;

use crate::http::{Request, Response};
pub use crate::users::{LoginFailure, UserDirectory, UserInfo};

pub const FUNCTION: &str = "oauth";

/// How long an instance trusts a tenant's key set and the tenant's existence before reading them again; a
/// rotation's new active key was published (pending) long before, so a stale set only signs with the old key a
/// little longer.
const CACHE_FOR: Duration = Duration::from_secs(60);

pub struct Deps {
    pub config: Config,
    pub control: Arc<dyn ControlStore>,
    pub store: Arc<dyn OAuthStore>,
    pub keyring: Arc<dyn Keyring>,
    pub users: Arc<dyn UserDirectory>,
    /// Access tokens checked the way the APIs check them (introspection, userinfo).
    verifier: hw_oauth_store::verifier::AccessTokenVerifier,
    keys: Mutex<HashMap<String, (Instant, Arc<KeySet>)>>,
    tenants: Mutex<HashMap<String, Instant>>,
}

impl Deps {
    pub fn new(
        config: Config,
        control: Arc<dyn ControlStore>,
        store: Arc<dyn OAuthStore>,
        keyring: Arc<dyn Keyring>,
        users: Arc<dyn UserDirectory>,
    ) -> Self {
        let verifier = hw_oauth_store::verifier::AccessTokenVerifier::new(store.clone());
        Self { config, control, store, keyring, users, verifier, keys: Mutex::default(), tenants: Mutex::default() }
    }

    /// The production wiring: DynamoDB and KMS clients from one SDK configuration.
    pub fn from_aws(config: Config, sdk: &aws_config::SdkConfig) -> Self {
        let dynamo = hw_aws::dynamo_client(sdk);
        let key_id = config.data_key_id.clone().unwrap_or_default();
        let keyring = Arc::new(hw_aws::kms::KmsKeyring::new(aws_sdk_kms::Client::new(sdk), key_id));
        let users =
            hw_users::Users::new(Arc::new(hw_users::dynamo::DynamoUsers::new(dynamo.clone(), &config.identity_table)));
        Self::new(
            config.clone(),
            Arc::new(hw_store::dynamo::DynamoControlStore::new(dynamo.clone(), &config.control_table)),
            Arc::new(hw_oauth_store::dynamo::DynamoOAuthStore::new(dynamo, &config.identity_table)),
            keyring,
            Arc::new(users::TenantUsers(users)),
        )
    }

    /// The tenant's signing keys, cached per instance.
    async fn key_set(&self, tenant: &str) -> Result<Arc<KeySet>, OAuthError> {
        if let Some((at, set)) = self.keys.lock().expect("not poisoned").get(tenant)
            && at.elapsed() < CACHE_FOR
        {
            return Ok(set.clone());
        }
        let set = hw_oauth_store::keys::load(self.store.as_ref(), self.keyring.as_ref(), tenant, now()).await.map_err(
            |e| {
                tracing::error!(error = %e, "signing keys unavailable");
                OAuthError::new(ErrorCode::TemporarilyUnavailable, "signing keys are unavailable; try again")
            },
        )?;
        let set = Arc::new(set);
        self.keys.lock().expect("not poisoned").insert(tenant.to_owned(), (Instant::now(), set.clone()));
        Ok(set)
    }

    /// Whether the tenant exists (cached per instance for a minute).
    async fn tenant_exists(&self, tenant: &str) -> Result<bool, OAuthError> {
        if let Some(at) = self.tenants.lock().expect("not poisoned").get(tenant)
            && at.elapsed() < CACHE_FOR
        {
            return Ok(true);
        }
        match self.control.get_tenant(tenant).await {
            Ok(Some(_)) => {
                self.tenants.lock().expect("not poisoned").insert(tenant.to_owned(), Instant::now());
                Ok(true)
            }
            Ok(None) => Ok(false),
            Err(e) => Err(unavailable(e)),
        }
    }
}

pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

pub(crate) fn unavailable(e: impl std::fmt::Display) -> OAuthError {
    tracing::error!(error = %e, "storage unavailable");
    OAuthError::new(ErrorCode::TemporarilyUnavailable, "the service is briefly unavailable; try again")
}

/// The issuer the request is served under, and the tenant.
pub(crate) struct Issuer {
    pub tenant: String,
    /// `{base}/t/{tenant}`
    pub url: String,
    /// `{base}`: the audience of access tokens (the platform's APIs).
    pub base: String,
}

impl Issuer {
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}/{path}", self.url)
    }

    /// The path prefix of the issuer's pages, for cookies.
    pub fn path(&self) -> String {
        format!("/t/{}", self.tenant)
    }
}

/// The audience of access tokens: the platform's base URL, which the REST and GraphQL APIs are served under.
pub fn api_audience(base: &str) -> String {
    base.to_owned()
}

pub async fn handle(deps: &Deps, event: ApiGatewayV2httpRequest) -> ApiGatewayV2httpResponse {
    let request_id = event.request_context.request_id.clone().unwrap_or_else(hw_domain::ids::new_id);
    let span = hw_telemetry::request_span!(FUNCTION, request_id);
    async move {
        let response = match Request::from_event(event) {
            Ok(req) => {
                let response = route(deps, &req).await;
                tracing::info!(method = %req.method, path = %req.path, status = response.status, "request");
                response
            }
            Err(detail) => json_error(&OAuthError::new(ErrorCode::InvalidRequest, detail)),
        };
        response.into_event(&request_id)
    }
    .instrument(span)
    .await
}

/// The JSON error body of RFC 6749 §5.2, with `WWW-Authenticate` on `invalid_client`.
pub(crate) fn json_error(e: &OAuthError) -> Response {
    let mut r = Response::json(e.http_status(), &serde_json::to_value(e).expect("errors serialise")).no_store();
    if let Some(challenge) = e.www_authenticate("hubblewave") {
        r = r.header("www-authenticate", challenge);
    }
    r
}

async fn route(deps: &Deps, req: &Request) -> Response {
    let segs: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    let (tenant, rest): (&str, Vec<&str>) = match segs.as_slice() {
        ["t", tenant, rest @ ..] => (tenant, rest.to_vec()),
        // RFC 8414 §3.1: metadata of an issuer with a path lives at the well-known URI with the path appended.
        [".well-known", "oauth-authorization-server", "t", tenant] => {
            (tenant, vec![".well-known", "oauth-authorization-server"])
        }
        [".well-known", "openid-configuration", "t", tenant] => (tenant, vec![".well-known", "openid-configuration"]),
        _ => return not_found(req),
    };
    if !hw_domain::ids::is_valid_tenant_id(tenant) {
        return not_found(req);
    }
    match deps.tenant_exists(tenant).await {
        Ok(true) => {}
        Ok(false) => return not_found(req),
        Err(e) => return json_error(&e),
    }
    let base = deps.config.public_base_url.clone().unwrap_or_else(|| req.origin.clone());
    let issuer = Issuer { tenant: tenant.to_owned(), url: format!("{base}/t/{tenant}"), base };
    let method = req.method.as_str();
    match (method, rest.as_slice()) {
        ("GET", [".well-known", "openid-configuration"] | [".well-known", "oauth-authorization-server"]) => {
            discovery::metadata(&issuer)
        }
        ("GET", ["jwks.json"]) => discovery::jwks(deps, &issuer).await,
        ("GET" | "POST", ["authorize"]) => authorize::start(deps, req, &issuer).await,
        ("POST", ["login"]) => authorize::login(deps, req, &issuer).await,
        ("POST", ["consent"]) => authorize::consent(deps, req, &issuer).await,
        ("POST", ["token"]) => token::serve(deps, req, &issuer).await,
        ("POST", ["introspect"]) => introspect::introspect(deps, req, &issuer).await,
        ("POST", ["revoke"]) => introspect::revoke(deps, req, &issuer).await,
        ("GET" | "POST", ["userinfo"]) => introspect::userinfo(deps, req, &issuer).await,
        ("GET" | "POST", ["logout"]) => logout::serve(deps, req, &issuer).await,
        ("GET" | "POST", ["invitation"]) => logout::invitation(deps, req, &issuer).await,
        (_, [".well-known", _] | ["jwks.json"] | ["token"] | ["introspect"] | ["revoke"] | ["login"] | ["consent"]) => {
            Response::json(405, &serde_json::json!({"error": "invalid_request", "error_description": format!("{method} is not allowed here")}))
                .header("allow", if rest.first() == Some(&".well-known") || rest == ["jwks.json"] { "GET" } else { "POST" })
        }
        _ => not_found(req),
    }
}

fn not_found(req: &Request) -> Response {
    Response::json(
        404,
        &serde_json::json!({"error": "not_found", "error_description": format!("no such endpoint: {}", req.path)}),
    )
}
