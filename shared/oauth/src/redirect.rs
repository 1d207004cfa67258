//! Redirect URIs: what may be registered, and whether a requested `redirect_uri` is one of them.
//!
//! Matching is by exact string (RFC 9700 §4.1.3): no wildcards, no prefix or normalised comparison, because every
//! loosening has been an open-redirect or code-theft bug somewhere. The one exception is the loopback redirect of
//! native apps (RFC 8252 §7.3), whose port is chosen by the operating system at request time.

use url::{Host, Url};

/// The longest URI accepted, well within what browsers and `Location` headers carry.
pub const MAX_LEN: usize = 2000;

const LOOPBACK_HOSTS: [&str; 2] = ["127.0.0.1", "[::1]"];

/// Why a redirect URI cannot be registered or used; the text is fit for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectError {
    #[error("redirect URI is empty")]
    Empty,
    #[error("redirect URI is longer than {MAX_LEN} characters")]
    TooLong,
    #[error("redirect URI must be an absolute URI: {0}")]
    NotAbsolute(String),
    #[error("redirect URI must not contain spaces or control characters")]
    Whitespace,
    #[error("redirect URI must not have a fragment (`#`)")]
    Fragment,
    #[error("redirect URI must not contain wildcards (`*`): it is matched exactly")]
    Wildcard,
    #[error("redirect URI must not carry user information (`user@`)")]
    UserInfo,
    #[error("write the scheme of the redirect URI in lowercase")]
    SchemeCase,
    #[error(
        "`localhost` is not accepted in a redirect URI (RFC 8252 §8.3): use the loopback IP literal http://127.0.0.1 or http://[::1]"
    )]
    Localhost,
    #[error("http redirect URIs are only accepted for the loopback IP literals 127.0.0.1 and [::1]: use https")]
    HttpNotLoopback,
    #[error("an https redirect URI needs a host")]
    MissingHost,
    #[error(
        "scheme `{0}` is not accepted: use https, http on a loopback IP literal, or a private-use scheme in reverse domain name form such as com.example.app:/callback"
    )]
    Scheme(String),
    #[error("redirect_uri is required because the client has several registered")]
    Required,
    #[error("redirect_uri does not match a registered redirect URI")]
    NotRegistered,
}

/// The kind of a registered redirect, which decides how it is matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `https://…`, matched exactly.
    Https,
    /// `http://127.0.0.1…` or `http://[::1]…`, matched exactly except for the port.
    Loopback,
    /// `com.example.app:/…` (RFC 8252 §7.1), matched exactly.
    PrivateUse,
}

/// A redirect URI that passed registration checks, kept as written since matching is on the string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUri {
    raw: String,
    kind: Kind,
}

impl RedirectUri {
    /// Checks a URI a client wants to register.
    pub fn parse(raw: &str) -> Result<Self, RedirectError> {
        if raw.is_empty() {
            return Err(RedirectError::Empty);
        }
        if raw.len() > MAX_LEN {
            return Err(RedirectError::TooLong);
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(RedirectError::Whitespace);
        }
        if raw.contains('#') {
            return Err(RedirectError::Fragment);
        }
        if raw.contains('*') {
            return Err(RedirectError::Wildcard);
        }
        let url = Url::parse(raw).map_err(|e| RedirectError::NotAbsolute(e.to_string()))?;
        if !raw.starts_with(url.scheme()) {
            return Err(RedirectError::SchemeCase);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(RedirectError::UserInfo);
        }
        let kind = match url.scheme() {
            "https" => match url.host() {
                None => return Err(RedirectError::MissingHost),
                Some(Host::Domain(d)) if is_localhost(d) => return Err(RedirectError::Localhost),
                Some(_) => Kind::Https,
            },
            "http" => match url.host() {
                Some(Host::Domain(d)) if is_localhost(d) => return Err(RedirectError::Localhost),
                // The literal as written, not as `url` normalised it: `[0:0::1]` would not match requests sent
                // with `[::1]` under an exact comparison.
                _ if LOOPBACK_HOSTS.contains(&raw_host(raw)) => Kind::Loopback,
                _ => return Err(RedirectError::HttpNotLoopback),
            },
            s if s.contains('.') => Kind::PrivateUse,
            s => return Err(RedirectError::Scheme(s.to_owned())),
        };
        Ok(Self { raw: raw.to_owned(), kind })
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// True when `requested` designates this registration: the same string, or for a loopback redirect the same
    /// string but for the port (RFC 8252 §7.3).
    pub fn matches(&self, requested: &str) -> bool {
        if self.raw == requested {
            return true;
        }
        self.kind == Kind::Loopback
            && without_port(&self.raw).is_some_and(|r| without_port(requested).is_some_and(|q| r == q))
    }
}

/// Picks the redirect for an authorization request: the requested one if registered, or the only registered one
/// when none is requested (RFC 6749 §3.1.2.3). The result is the URI to redirect to, with the requested port.
pub fn resolve(registered: &[RedirectUri], requested: Option<&str>) -> Result<String, RedirectError> {
    match requested {
        Some(r) if registered.iter().any(|u| u.matches(r)) => Ok(r.to_owned()),
        Some(_) => Err(RedirectError::NotRegistered),
        None => match registered {
            [only] => Ok(only.raw.clone()),
            [] => Err(RedirectError::NotRegistered),
            _ => Err(RedirectError::Required),
        },
    }
}

fn is_localhost(domain: &str) -> bool {
    let d = domain.trim_end_matches('.').to_ascii_lowercase();
    d == "localhost" || d.ends_with(".localhost")
}

/// The authority of `scheme://authority/…` without a port, as written.
fn raw_host(raw: &str) -> &str {
    let authority = authority(raw).unwrap_or("");
    match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => &authority[..i],
        _ => authority,
    }
}

fn authority(raw: &str) -> Option<&str> {
    let rest = raw.split_once("://")?.1;
    Some(&rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())])
}

/// `raw` with its `:port` removed, for the loopback comparison; `None` when the port is not a valid port number.
fn without_port(raw: &str) -> Option<String> {
    let authority = authority(raw)?;
    let host = raw_host(raw);
    let port = &authority[host.len()..];
    if let Some(digits) = port.strip_prefix(':')
        && !(digits.len() <= 5 && digits.bytes().all(|b| b.is_ascii_digit()) && digits.parse::<u32>().ok()? <= 65535)
    {
        return None;
    }
    let start = raw.find("://")? + 3;
    Some(format!("{}{}{}", &raw[..start], host, &raw[start + authority.len()..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(s: &str) -> RedirectUri {
        RedirectUri::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn refused(s: &str) -> RedirectError {
        RedirectUri::parse(s).expect_err(s)
    }

    #[test]
    fn accepted_registrations() {
        assert_eq!(reg("https://app.example.com/cb").kind(), Kind::Https);
        assert_eq!(reg("https://app.example.com:8443/cb?x=1").kind(), Kind::Https);
        assert_eq!(reg("http://127.0.0.1/cb").kind(), Kind::Loopback);
        assert_eq!(reg("http://127.0.0.1:8080/cb").kind(), Kind::Loopback);
        assert_eq!(reg("http://[::1]:3000/cb").kind(), Kind::Loopback);
        assert_eq!(reg("com.example.app:/cb").kind(), Kind::PrivateUse);
        assert_eq!(reg("com.example.app:/oauth2redirect/example-provider").kind(), Kind::PrivateUse);
    }

    #[test]
    fn refused_registrations() {
        assert_eq!(refused(""), RedirectError::Empty);
        assert!(matches!(refused("/cb"), RedirectError::NotAbsolute(_)));
        assert_eq!(refused("https://app.example.com/cb#x"), RedirectError::Fragment);
        assert_eq!(refused("https://*.example.com/cb"), RedirectError::Wildcard);
        assert_eq!(refused("https://app.example.com/*"), RedirectError::Wildcard);
        assert_eq!(refused("https://user:pw@app.example.com/cb"), RedirectError::UserInfo);
        assert_eq!(refused("https://app.example.com/c b"), RedirectError::Whitespace);
        assert_eq!(refused("HTTPS://app.example.com/cb"), RedirectError::SchemeCase);
        assert_eq!(refused("http://app.example.com/cb"), RedirectError::HttpNotLoopback);
        assert_eq!(refused("http://10.0.0.1/cb"), RedirectError::HttpNotLoopback);
        assert_eq!(refused("http://127.0.0.2/cb"), RedirectError::HttpNotLoopback);
        assert_eq!(refused("http://[0:0:0:0:0:0:0:1]/cb"), RedirectError::HttpNotLoopback);
        assert_eq!(refused("javascript:alert(1)"), RedirectError::Scheme("javascript".into()));
        assert_eq!(refused("data:text/html,hi"), RedirectError::Scheme("data".into()));
        assert_eq!(refused("myapp:/cb"), RedirectError::Scheme("myapp".into()));
        assert!(matches!(refused(&format!("https://a.example/{}", "a".repeat(MAX_LEN))), RedirectError::TooLong));
    }

    #[test]
    fn localhost_is_refused_with_its_reason() {
        for s in ["http://localhost/cb", "http://localhost:8080/cb", "http://LOCALHOST/cb", "https://localhost/cb"] {
            assert_eq!(refused(s), RedirectError::Localhost, "{s}");
        }
        assert!(RedirectError::Localhost.to_string().contains("127.0.0.1"));
    }

    #[test]
    fn https_and_private_use_match_exactly() {
        let r = reg("https://app.example.com/cb");
        assert!(r.matches("https://app.example.com/cb"));
        for other in [
            "https://app.example.com/cb/",
            "https://app.example.com/cb?x=1",
            "https://app.example.com:443/cb",
            "https://APP.example.com/cb",
            "https://app.example.com/CB",
            "https://app.example.com/cb#x",
            "https://app.example.com.evil.com/cb",
            "http://app.example.com/cb",
        ] {
            assert!(!r.matches(other), "{other}");
        }
        let p = reg("com.example.app:/cb");
        assert!(p.matches("com.example.app:/cb"));
        assert!(!p.matches("com.example.app:/cb2"));
        // An https redirect's port is not variable.
        assert!(!reg("https://app.example.com:8443/cb").matches("https://app.example.com:9443/cb"));
    }

    #[test]
    fn loopback_port_may_differ() {
        let r = reg("http://127.0.0.1/cb");
        assert!(r.matches("http://127.0.0.1:51004/cb"));
        assert!(r.matches("http://127.0.0.1/cb"));
        assert!(reg("http://127.0.0.1:8080/cb?x=1").matches("http://127.0.0.1:9/cb?x=1"));
        assert!(reg("http://[::1]:3000/cb").matches("http://[::1]:4000/cb"));
        assert!(reg("http://[::1]/cb").matches("http://[::1]:4000/cb"));
        for other in [
            "http://127.0.0.1:51004/cb2",
            "http://127.0.0.1:51004/cb?x=1",
            "http://127.0.0.1:99999/cb",
            "http://127.0.0.1:/cb",
            "http://127.0.0.1:80a/cb",
            "http://127.0.0.1.evil.com:80/cb",
            "http://127.0.0.1:80@evil.com/cb",
            "http://127.0.0.1@evil.com/cb",
            "http://localhost:51004/cb",
            "http://[::1]:51004/cb",
            "https://127.0.0.1:51004/cb",
            "http://127.0.0.1:51004/cb#x",
        ] {
            assert!(!r.matches(other), "{other}");
        }
    }

    #[test]
    fn resolve_picks_the_requested_or_the_only_one() {
        let one = [reg("https://a.example/cb")];
        let two = [reg("https://a.example/cb"), reg("http://127.0.0.1/cb")];
        assert_eq!(resolve(&one, None).unwrap(), "https://a.example/cb");
        assert_eq!(resolve(&two, None), Err(RedirectError::Required));
        assert_eq!(resolve(&[], None), Err(RedirectError::NotRegistered));
        assert_eq!(resolve(&two, Some("http://127.0.0.1:7000/cb")).unwrap(), "http://127.0.0.1:7000/cb");
        assert_eq!(resolve(&two, Some("https://b.example/cb")), Err(RedirectError::NotRegistered));
    }
}
