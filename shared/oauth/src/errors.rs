//! The protocol's error answers: RFC 6749 §4.1.2.1 and §5.2 codes and the OpenID Connect Core §3.1.2.6 ones.
//!
//! These are not RFC 9457 problems: OAuth clients parse `{"error": …, "error_description": …}` (or the same as
//! query parameters on a redirect), so the token and authorization endpoints answer in that shape and keep
//! problem+json for the management API.

use std::fmt;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    AccessDenied,
    UnsupportedResponseType,
    ServerError,
    TemporarilyUnavailable,
    LoginRequired,
    ConsentRequired,
    InteractionRequired,
    RequestNotSupported,
    RequestUriNotSupported,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::LoginRequired => "login_required",
            Self::ConsentRequired => "consent_required",
            Self::InteractionRequired => "interaction_required",
            Self::RequestNotSupported => "request_not_supported",
            Self::RequestUriNotSupported => "request_uri_not_supported",
        }
    }

    /// The status when the error is answered directly (token endpoint, or an authorization request that cannot be
    /// redirected); errors redirected to the client travel in a 302/303 instead. `invalid_client` is 401 because
    /// the client authentication failed (RFC 6749 §5.2); the rest of §5.2 is 400.
    pub fn http_status(self) -> u16 {
        match self {
            Self::InvalidClient => 401,
            Self::AccessDenied => 403,
            Self::ServerError => 500,
            Self::TemporarilyUnavailable => 503,
            _ => 400,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error answer: the code, and a sentence for the developer of the client (`error_description`, limited by
/// RFC 6749 to printable ASCII without `"` and `\`, so it can be sent in a header or a query too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{error}: {error_description}")]
pub struct OAuthError {
    pub error: ErrorCode,
    pub error_description: String,
}

impl OAuthError {
    pub fn new(error: ErrorCode, description: impl AsRef<str>) -> Self {
        Self { error, error_description: sanitize(description.as_ref()) }
    }

    pub fn http_status(&self) -> u16 {
        self.error.http_status()
    }

    /// The `WWW-Authenticate` value for a 401 `invalid_client` (RFC 6749 §5.2 requires it when the client tried
    /// HTTP Basic authentication; sending it always is harmless). `None` for other codes.
    pub fn www_authenticate(&self, realm: &str) -> Option<String> {
        (self.error == ErrorCode::InvalidClient).then(|| format!("Basic realm=\"{}\"", sanitize(realm)))
    }
}

/// Keeps RFC 6749's `error_description` character set (%x20-21 / %x23-5B / %x5D-7E): other characters become `?`.
fn sanitize(s: &str) -> String {
    s.chars().map(|c| if matches!(c, ' ' | '!' | '#'..='[' | ']'..='~') { c } else { '?' }).collect()
}

macro_rules! from_domain {
    ($($err:ty => $code:ident),+ $(,)?) => {$(
        impl From<$err> for OAuthError {
            fn from(e: $err) -> Self {
                Self::new(ErrorCode::$code, e.to_string())
            }
        }
    )+};
}

from_domain! {
    crate::pkce::PkceError => InvalidRequest,
    crate::scope::ScopeError => InvalidScope,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses() {
        assert_eq!(ErrorCode::InvalidClient.http_status(), 401);
        for c in [
            ErrorCode::InvalidRequest,
            ErrorCode::InvalidGrant,
            ErrorCode::UnauthorizedClient,
            ErrorCode::UnsupportedGrantType,
            ErrorCode::InvalidScope,
            ErrorCode::UnsupportedResponseType,
            ErrorCode::LoginRequired,
            ErrorCode::ConsentRequired,
            ErrorCode::InteractionRequired,
        ] {
            assert_eq!(c.http_status(), 400, "{c}");
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
        assert_eq!(ErrorCode::ServerError.http_status(), 500);
        assert_eq!(ErrorCode::InvalidGrant.to_string(), "invalid_grant");
    }

    #[test]
    fn serialises_as_rfc_6749_body() {
        let e = OAuthError::new(ErrorCode::InvalidGrant, "authorization code already used");
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"error": "invalid_grant", "error_description": "authorization code already used"})
        );
    }

    #[test]
    fn description_keeps_the_rfc_charset() {
        let e = OAuthError::new(ErrorCode::InvalidRequest, "bad \"value\"\\ in\nline – é");
        assert_eq!(e.error_description, "bad ?value?? in?line ? ?");
    }

    #[test]
    fn invalid_client_carries_www_authenticate() {
        let e = OAuthError::new(ErrorCode::InvalidClient, "client authentication failed");
        assert_eq!(e.http_status(), 401);
        assert_eq!(e.www_authenticate("t/acme").as_deref(), Some("Basic realm=\"t/acme\""));
        assert_eq!(OAuthError::new(ErrorCode::InvalidGrant, "x").www_authenticate("r"), None);
    }

    #[test]
    fn domain_errors_map_to_codes() {
        let e: OAuthError = crate::pkce::PkceError::PlainNotSupported.into();
        assert_eq!(e.error, ErrorCode::InvalidRequest);
        assert!(e.error_description.contains("S256"));
        let e: OAuthError = crate::scope::ScopeError::Unknown("root".into()).into();
        assert_eq!(e.error, ErrorCode::InvalidScope);
    }
}
