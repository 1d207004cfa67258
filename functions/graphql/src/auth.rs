//! Who is calling: an API key (`Authorization: Bearer` or `X-Api-Key`) or an access token of the `oauth` function
//! (`Authorization: Bearer`, checked locally by the shared verifier), as in the REST API. The tenant comes from the
//! credentials, never from the request.

use aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use http::HeaderValue;
use hw_domain::principal::Principal;
use hw_oauth_store::verifier::{TokenError, looks_like_jwt};
use hw_store::tenants::AuthError;
use serde_json::json;

use crate::Deps;
use crate::http::{HttpRequest, MediaType, graphql_response};

pub struct Failure {
    status: u16,
    code: &'static str,
    pub message: String,
    challenge: Option<String>,
}

impl Failure {
    fn unauthenticated(message: impl Into<String>, error: &str) -> Self {
        let challenge = format!("Bearer realm=\"hubblewave\", error=\"{error}\"");
        Self { status: 401, code: "UNAUTHENTICATED", message: message.into(), challenge: Some(challenge) }
    }

    /// 401 (or 503) with a GraphQL error body: GraphQL clients read `errors`, not problem documents.
    pub fn response(&self, media: MediaType) -> ApiGatewayV2httpResponse {
        let body = json!({"errors": [{"message": self.message, "extensions": {"code": self.code}}]});
        let mut res = graphql_response(self.status, media, &body);
        if let Some(c) = self.challenge.as_deref().and_then(|c| HeaderValue::from_str(c).ok()) {
            res.headers.insert("www-authenticate", c);
        }
        res
    }
}

pub async fn authenticate(deps: &Deps, req: &HttpRequest) -> Result<Principal, Failure> {
    let secret = match hw_apigw::credential(&req.headers) {
        hw_apigw::Credential::Bearer(s) | hw_apigw::Credential::ApiKey(s) => s,
        hw_apigw::Credential::Conflicting => {
            return Err(Failure::unauthenticated(
                "`Authorization` and `X-Api-Key` carry different credentials; send one",
                "invalid_request",
            ));
        }
        hw_apigw::Credential::Missing => {
            return Err(Failure::unauthenticated(
                "send an API key or access token in `Authorization: Bearer`",
                "invalid_request",
            ));
        }
    };
    principal_for(deps, secret, &req.base_url).await
}

/// The principal of an API key or an access token (a JWT), wherever it was sent: a header, or the payload of a
/// WebSocket's `connection_init`.
pub async fn principal_for(deps: &Deps, secret: &str, request_base: &str) -> Result<Principal, Failure> {
    if looks_like_jwt(secret) {
        let base = deps.config.public_base_url.as_deref().unwrap_or(request_base);
        return match deps.verifier.verify(secret, base, chrono::Utc::now().timestamp()).await {
            Ok(v) => Ok(v.principal),
            Err(TokenError::Invalid(reason)) => Err(Failure::unauthenticated(reason, "invalid_token")),
            Err(TokenError::Unavailable(e)) => Err(unavailable(e)),
        };
    }
    match deps.tenants.authenticate(secret).await {
        Ok(p) => Ok(p),
        Err(AuthError::Expired { .. }) => Err(Failure::unauthenticated("the API key has expired", "invalid_token")),
        Err(AuthError::Unavailable(e)) => Err(unavailable(e)),
        Err(_) => Err(Failure::unauthenticated("the API key is not valid", "invalid_token")),
    }
}

fn unavailable(e: impl std::fmt::Display) -> Failure {
    tracing::error!(error = %e, "credentials could not be checked");
    Failure {
        status: 503,
        code: "SERVICE_UNAVAILABLE",
        message: "credentials cannot be checked right now; retry".into(),
        challenge: None,
    }
}
