//! PKCE (RFC 7636), S256 only.
//!
//! `plain` would send the verifier itself as the challenge through the front channel, which defeats the point of
//! PKCE against an attacker who sees the authorization request, so it is refused (OAuth 2.1 and RFC 9700 §2.1.1
//! say the same). A missing `code_challenge_method` means `plain` (RFC 7636 §4.3) and is refused for that reason.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Why a PKCE parameter was refused; the text is fit for `error_description`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PkceError {
    #[error("code_challenge_method is required and must be S256 (an absent method means plain)")]
    MissingMethod,
    #[error("code_challenge_method plain is not supported: use S256")]
    PlainNotSupported,
    #[error("code_challenge_method `{0}` is not supported: use S256")]
    UnknownMethod(String),
    #[error("code_challenge must be the 43-character unpadded base64url encoding of a SHA-256 digest")]
    MalformedChallenge,
    #[error("code_verifier must be 43 to 128 characters of A-Z, a-z, 0-9, `-`, `.`, `_` and `~`")]
    MalformedVerifier,
}

/// The one transformation accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    S256,
}

impl Method {
    /// Reads `code_challenge_method` as sent (case-sensitive, as RFC 7636 §4.3 defines the values).
    pub fn parse(method: Option<&str>) -> Result<Self, PkceError> {
        match method {
            None => Err(PkceError::MissingMethod),
            Some("S256") => Ok(Self::S256),
            Some("plain") => Err(PkceError::PlainNotSupported),
            Some(other) => Err(PkceError::UnknownMethod(other.to_owned())),
        }
    }

    pub fn as_str(self) -> &'static str {
        "S256"
    }
}

/// A checked `code_challenge`: it decodes to exactly 32 bytes, so it can be stored and compared later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeChallenge(String);

impl CodeChallenge {
    pub fn parse(challenge: &str) -> Result<Self, PkceError> {
        // A strict decode also refuses padding and non-canonical trailing bits, so one digest has one spelling.
        let ok = challenge.len() == 43 && URL_SAFE_NO_PAD.decode(challenge).is_ok_and(|d| d.len() == 32);
        if ok { Ok(Self(challenge.to_owned())) } else { Err(PkceError::MalformedChallenge) }
    }

    /// The challenge a client derives from its verifier: `BASE64URL(SHA256(ASCII(verifier)))`.
    pub fn from_verifier(verifier: &CodeVerifier) -> Self {
        Self(URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.0.as_bytes())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A checked `code_verifier` (RFC 7636 §4.1: 43 to 128 unreserved characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeVerifier(String);

impl CodeVerifier {
    pub fn parse(verifier: &str) -> Result<Self, PkceError> {
        let ok = (43..=128).contains(&verifier.len())
            && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
        if ok { Ok(Self(verifier.to_owned())) } else { Err(PkceError::MalformedVerifier) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// True when `verifier` is the one `challenge` was derived from. The digests are compared in constant time so the
/// comparison leaks nothing about how much of a guess was right.
pub fn verify_parsed(challenge: &CodeChallenge, verifier: &CodeVerifier) -> bool {
    let expected = CodeChallenge::from_verifier(verifier);
    expected.0.as_bytes().ct_eq(challenge.0.as_bytes()).into()
}

/// [`verify_parsed`] on raw strings: a malformed challenge or verifier never verifies.
pub fn verify(challenge: &str, verifier: &str) -> bool {
    match (CodeChallenge::parse(challenge), CodeVerifier::parse(verifier)) {
        (Ok(c), Ok(v)) => verify_parsed(&c, &v),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn rfc_7636_appendix_b_vector_verifies() {
        assert!(verify(CHALLENGE, VERIFIER));
        let v = CodeVerifier::parse(VERIFIER).unwrap();
        assert_eq!(CodeChallenge::from_verifier(&v).as_str(), CHALLENGE);
    }

    #[test]
    fn wrong_verifier_does_not_verify() {
        let other = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj";
        assert!(!verify(CHALLENGE, other));
        // The challenge sent back as the verifier (what `plain` would accept) is not the verifier.
        assert!(!verify(CHALLENGE, CHALLENGE));
    }

    #[test]
    fn only_s256_is_accepted() {
        assert_eq!(Method::parse(Some("S256")), Ok(Method::S256));
        assert_eq!(Method::parse(Some("plain")), Err(PkceError::PlainNotSupported));
        assert_eq!(Method::parse(None), Err(PkceError::MissingMethod));
        assert_eq!(Method::parse(Some("s256")), Err(PkceError::UnknownMethod("s256".into())));
        assert!(PkceError::PlainNotSupported.to_string().contains("S256"));
    }

    #[test]
    fn challenge_shape() {
        assert!(CodeChallenge::parse(CHALLENGE).is_ok());
        assert!(CodeChallenge::parse(&CHALLENGE[..42]).is_err());
        assert!(CodeChallenge::parse(&format!("{CHALLENGE}=")).is_err());
        assert!(CodeChallenge::parse(&CHALLENGE.replace('-', "+")).is_err());
        assert!(CodeChallenge::parse(&CHALLENGE.replace('-', "/")).is_err());
        // Last character with non-zero trailing bits: same digest, another spelling.
        assert!(CodeChallenge::parse("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN").is_err());
        assert!(CodeChallenge::parse("").is_err());
    }

    #[test]
    fn verifier_shape() {
        assert!(CodeVerifier::parse(&"a".repeat(43)).is_ok());
        assert!(CodeVerifier::parse(&"~._-".repeat(32)).is_ok());
        assert!(CodeVerifier::parse(&"a".repeat(42)).is_err());
        assert!(CodeVerifier::parse(&"a".repeat(129)).is_err());
        assert!(CodeVerifier::parse(&format!("{}+", "a".repeat(43))).is_err());
        assert!(CodeVerifier::parse(&format!("{} ", "a".repeat(43))).is_err());
        assert!(CodeVerifier::parse(&format!("{}é", "a".repeat(42))).is_err());
        assert!(!verify(CHALLENGE, "short"));
    }
}
