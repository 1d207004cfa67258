//! Who is calling: an API key (`Authorization: Bearer` or `X-Api-Key`) or an access token of the `oauth` function
//! (`Authorization: Bearer`, checked locally by the shared verifier), as in the REST API. The tenant comes from the
//! credentials, never from the request.

use aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use http::HeaderValue;
use hw_domain::principal::Principal;
use hw_graphql::AuthFailure;
use serde_json::json;

use crate::Deps;
use crate::http::{HttpRequest, MediaType, graphql_response};

pub struct Failure {
    status: u16,
    code: &'static str,
    message: String,
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

async fn principal_for(deps: &Deps, secret: &str, request_base: &str) -> Result<Principal, Failure> {
    match deps.auth.authenticate(secret, request_base).await {
        Ok(a) => Ok(a.principal),
        Err(AuthFailure::Invalid(reason)) => Err(Failure::unauthenticated(reason, "invalid_token")),
        Err(AuthFailure::Unavailable) => Err(unavailable()),
    }
}

fn unavailable() -> Failure {
    Failure {
        status: 503,
        code: "SERVICE_UNAVAILABLE",
        message: "credentials cannot be checked right now; retry".into(),
        challenge: None,
    }
}
