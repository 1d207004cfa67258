//! Client authentication at the token, introspection and revocation endpoints (RFC 6749 §2.3, OIDC Core §9):
//! `client_secret_basic`, `client_secret_post`, `private_key_jwt` (RFC 7523, each assertion usable once) and
//! `none` for public clients. A client must use the method it registered; one method per request.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hw_oauth::client::{AuthMethod, Client};
use hw_oauth::errors::{ErrorCode, OAuthError};
use hw_oauth::jwt;
use hw_oauth::keys::PublicKeys;
use hw_oauth_store::secrets;

use crate::http::{Params, Request};
use crate::{Deps, Issuer, now, unavailable};

pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The furthest in the future a client assertion may expire: short-lived assertions keep the replay window small.
const MAX_ASSERTION_SECS: i64 = 600;

fn invalid_client(text: &str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidClient, text)
}

/// Credentials as presented, before any lookup.
enum Presented {
    Secret { client_id: String, secret: String, method: AuthMethod },
    Assertion { client_id: String, assertion: String },
    Public { client_id: String },
}

fn presented(req: &Request) -> Result<Presented, OAuthError> {
    let form = Params(&req.form);
    let basic = req.header("authorization").and_then(|h| {
        let (scheme, value) = h.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("basic").then(|| value.trim().to_owned())
    });
    let assertion = form.get("client_assertion");
    let post_secret = form.get("client_secret");
    let used = [basic.is_some(), assertion.is_some(), post_secret.is_some()].iter().filter(|b| **b).count();
    if used > 1 {
        return Err(OAuthError::new(ErrorCode::InvalidRequest, "use exactly one client authentication method"));
    }
    if let Some(b) = basic {
        let decoded = STANDARD.decode(b).ok().and_then(|d| String::from_utf8(d).ok());
        let (id, secret) = decoded
            .as_deref()
            .and_then(|d| d.split_once(':'))
            .ok_or_else(|| invalid_client("the Basic credentials are malformed"))?;
        // RFC 6749 §2.3.1: both parts are form-encoded before they are joined.
        let decode =
            |s: &str| url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
        let (client_id, secret) = (decode(id).unwrap_or_default(), decode(secret).unwrap_or_default());
        if form.get("client_id").is_some_and(|f| f != client_id) {
            return Err(OAuthError::new(ErrorCode::InvalidRequest, "client_id differs from the Basic credentials"));
        }
        return Ok(Presented::Secret { client_id, secret, method: AuthMethod::ClientSecretBasic });
    }
    if let Some(assertion) = assertion {
        if form.get("client_assertion_type") != Some(ASSERTION_TYPE) {
            return Err(OAuthError::new(
                ErrorCode::InvalidRequest,
                format!("client_assertion_type must be {ASSERTION_TYPE}"),
            ));
        }
        // The client is the assertion's subject; a client_id, when sent, must agree (checked on verification).
        let client_id = match form.get("client_id") {
            Some(id) => id.to_owned(),
            None => {
                unverified_subject(assertion).ok_or_else(|| invalid_client("the client assertion names no client"))?
            }
        };
        return Ok(Presented::Assertion { client_id, assertion: assertion.to_owned() });
    }
    let client_id =
        form.get("client_id").ok_or_else(|| invalid_client("client authentication is required"))?.to_owned();
    match post_secret {
        Some(secret) => {
            Ok(Presented::Secret { client_id, secret: secret.to_owned(), method: AuthMethod::ClientSecretPost })
        }
        None => Ok(Presented::Public { client_id }),
    }
}

/// The `sub` of a JWT, read without verifying: only to know whose keys to verify it with.
fn unverified_subject(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice::<serde_json::Value>(&bytes).ok()?.get("sub")?.as_str().map(str::to_owned)
}

/// The authenticated client. `allow_public` lets a public client identify itself by id alone (token and
/// revocation endpoints); introspection passes false.
pub async fn authenticate(
    deps: &Deps,
    req: &Request,
    issuer: &Issuer,
    allow_public: bool,
) -> Result<Client, OAuthError> {
    let presented = presented(req)?;
    let client_id = match &presented {
        Presented::Secret { client_id, .. }
        | Presented::Assertion { client_id, .. }
        | Presented::Public { client_id } => client_id,
    };
    let stored = deps.store.get_client(&issuer.tenant, client_id).await.map_err(unavailable)?;
    let Some(stored) = stored else { return Err(invalid_client("unknown client")) };
    let client = stored.client().map_err(|_| invalid_client("the client's registration is no longer valid"))?;
    let now = now();
    match presented {
        Presented::Secret { secret, method, .. } => {
            if client.auth_method != method {
                return Err(invalid_client(&format!("this client authenticates with {}", client.auth_method.as_str())));
            }
            if !stored.secret_matches(&secrets::hash(&secret), now) {
                return Err(invalid_client("the client secret is wrong or has expired"));
            }
        }
        Presented::Assertion { assertion, client_id } => {
            if client.auth_method != AuthMethod::PrivateKeyJwt {
                return Err(invalid_client(&format!("this client authenticates with {}", client.auth_method.as_str())));
            }
            let keys = client
                .jwks
                .as_ref()
                .and_then(|j| PublicKeys::from_jwks(j).ok())
                .ok_or_else(|| invalid_client("the client has no usable keys"))?;
            let token_endpoint = issuer.endpoint("token");
            let this_endpoint = req.path_url(issuer);
            let audiences = [token_endpoint.as_str(), issuer.url.as_str(), this_endpoint.as_str()];
            let claims =
                jwt::verify_client_assertion(&keys, &assertion, &client_id, &audiences, now, MAX_ASSERTION_SECS)
                    .map_err(|e| invalid_client(&format!("client assertion refused: {e}")))?;
            let fresh = deps
                .store
                .claim_assertion(&issuer.tenant, &client_id, &claims.jti, claims.exp + 60)
                .await
                .map_err(unavailable)?;
            if !fresh {
                return Err(invalid_client("this client assertion was used before"));
            }
        }
        Presented::Public { .. } => {
            if client.auth_method != AuthMethod::None || !allow_public {
                return Err(invalid_client("client authentication is required"));
            }
        }
    }
    Ok(client)
}

impl Request {
    /// The endpoint this request was sent to, under the issuer (an assertion may name it as its audience).
    fn path_url(&self, issuer: &Issuer) -> String {
        format!("{}{}", issuer.base, self.path)
    }
}
