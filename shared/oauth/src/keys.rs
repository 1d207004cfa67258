//! Token signing keys: generation, PKCS#8 import and export (the form stored encrypted), the rotation states, and
//! the JWKS document (RFC 7517) that lets resource servers and clients verify our tokens.
//!
//! Rotation publishes a key before it signs (pending) and after it stops signing (retired), so a verifier that
//! cached the JWKS knows the new key when the first token signed with it arrives, and tokens signed before a
//! rotation keep verifying until they expire.

use std::borrow::Cow;
use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{DecodingKey, EncodingKey};
use p256::elliptic_curve::zeroize::Zeroizing;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::RsaPrivateKey;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde::{Deserialize, Serialize};

/// RSA keys shorter than this are refused (NIST SP 800-57 and RFC 7518 §3.3 ask for at least 2048 bits).
pub const MIN_RSA_BITS: usize = 2048;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the private key is not a valid PKCS#8 PEM {0} key: {1}")]
    InvalidKey(SigningAlg, String),
    #[error("RSA keys must have at least {MIN_RSA_BITS} bits, this one has {0}")]
    RsaTooShort(usize),
    #[error("key generation failed: {0}")]
    Generation(String),
    #[error("key id must be 1 to 128 characters of A-Z, a-z, 0-9, `-`, `_` and `.`")]
    InvalidKid,
    #[error("two keys have the id `{0}`")]
    DuplicateKid(String),
    #[error("more than one key is active")]
    SeveralActive,
    #[error("no key is active: activate a key before signing")]
    NoActiveKey,
    #[error("no key is pending: add a pending key before rotating")]
    NoPendingKey,
    #[error("key `{0}` is not retired: only retired keys can be removed")]
    NotRetired(String),
}

/// The signature algorithms we sign and accept. Never `none`, never HMAC: a shared secret would let every
/// verifier mint tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SigningAlg {
    ES256,
    RS256,
}

impl SigningAlg {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ES256 => "ES256",
            Self::RS256 => "RS256",
        }
    }

    pub(crate) fn jwt(self) -> jsonwebtoken::Algorithm {
        match self {
            Self::ES256 => jsonwebtoken::Algorithm::ES256,
            Self::RS256 => jsonwebtoken::Algorithm::RS256,
        }
    }
}

impl fmt::Display for SigningAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a key is in its rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    /// Published, not yet signing.
    Pending,
    /// Published and signing; one per key set.
    Active,
    /// Published so earlier tokens still verify; removed once they have all expired.
    Retired,
}

/// A public key as published in the JWKS (RFC 7517 §4, RFC 7518 §6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    pub kid: String,
    #[serde(rename = "use")]
    pub use_: String,
    pub alg: SigningAlg,
}

/// The document served at `jwks_uri`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// A signing key pair. The private half is kept as PKCS#8 PEM (zeroed on drop) and never printed.
#[derive(Clone)]
pub struct SigningKey {
    kid: String,
    alg: SigningAlg,
    state: KeyState,
    private_pem: Zeroizing<String>,
    /// The DER form `jsonwebtoken` signs with (PKCS#8 for EC, PKCS#1 for RSA).
    signing_der: Zeroizing<Vec<u8>>,
    jwk: Jwk,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("state", &self.state)
            .finish()
    }
}

impl SigningKey {
    /// A fresh key in the pending state. RSA keys are 2048 bits.
    pub fn generate(kid: &str, alg: SigningAlg) -> Result<Self, KeyError> {
        let mut rng = rand_core::OsRng;
        let pem = match alg {
            SigningAlg::ES256 => p256::ecdsa::SigningKey::random(&mut rng).to_pkcs8_pem(LineEnding::LF),
            SigningAlg::RS256 => RsaPrivateKey::new(&mut rng, MIN_RSA_BITS)
                .map_err(|e| KeyError::Generation(e.to_string()))?
                .to_pkcs8_pem(LineEnding::LF),
        }
        .map_err(|e| KeyError::Generation(e.to_string()))?;
        Self::from_pkcs8_pem(kid, alg, KeyState::Pending, &pem)
    }

    /// A key read back from storage.
    pub fn from_pkcs8_pem(kid: &str, alg: SigningAlg, state: KeyState, pem: &str) -> Result<Self, KeyError> {
        let valid_kid = (1..=128).contains(&kid.len())
            && kid.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !valid_kid {
            return Err(KeyError::InvalidKid);
        }
        let invalid = |e: &dyn fmt::Display| KeyError::InvalidKey(alg, e.to_string());
        let b64 = |bytes: &[u8]| Some(URL_SAFE_NO_PAD.encode(bytes));
        let jwk = |kty: &str| Jwk {
            kty: kty.into(),
            crv: None,
            x: None,
            y: None,
            n: None,
            e: None,
            kid: kid.into(),
            use_: "sig".into(),
            alg,
        };
        let (signing_der, jwk) = match alg {
            SigningAlg::ES256 => {
                let key = p256::ecdsa::SigningKey::from_pkcs8_pem(pem).map_err(|e| invalid(&e))?;
                let der = key.to_pkcs8_der().map_err(|e| invalid(&e))?;
                let point = key.verifying_key().to_encoded_point(false);
                let (Some(x), Some(y)) = (point.x(), point.y()) else {
                    return Err(invalid(&"public point is not in uncompressed form"));
                };
                let jwk = Jwk { crv: Some("P-256".into()), x: b64(x), y: b64(y), ..jwk("EC") };
                (Zeroizing::new(der.as_bytes().to_vec()), jwk)
            }
            SigningAlg::RS256 => {
                let key = RsaPrivateKey::from_pkcs8_pem(pem).map_err(|e| invalid(&e))?;
                let bits = key.size() * 8;
                if bits < MIN_RSA_BITS {
                    return Err(KeyError::RsaTooShort(bits));
                }
                let der = key.to_pkcs1_der().map_err(|e| invalid(&e))?;
                let jwk = Jwk { n: b64(&key.n().to_bytes_be()), e: b64(&key.e().to_bytes_be()), ..jwk("RSA") };
                (Zeroizing::new(der.as_bytes().to_vec()), jwk)
            }
        };
        Ok(Self { kid: kid.into(), alg, state, private_pem: Zeroizing::new(pem.to_owned()), signing_der, jwk })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn alg(&self) -> SigningAlg {
        self.alg
    }

    pub fn state(&self) -> KeyState {
        self.state
    }

    /// The private key to encrypt and store; never to be logged or returned by an API.
    pub fn private_pkcs8_pem(&self) -> &str {
        &self.private_pem
    }

    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    pub(crate) fn encoding_key(&self) -> EncodingKey {
        match self.alg {
            SigningAlg::ES256 => EncodingKey::from_ec_der(&self.signing_der),
            SigningAlg::RS256 => EncodingKey::from_rsa_der(&self.signing_der),
        }
    }

    /// The public half, built from the published JWK so that what we verify with is what others verify with.
    pub(crate) fn decoding_key(&self) -> Result<DecodingKey, jsonwebtoken::errors::Error> {
        let part = |p: &Option<String>| p.clone().unwrap_or_default();
        match self.alg {
            SigningAlg::ES256 => DecodingKey::from_ec_components(&part(&self.jwk.x), &part(&self.jwk.y)),
            SigningAlg::RS256 => DecodingKey::from_rsa_components(&part(&self.jwk.n), &part(&self.jwk.e)),
        }
    }
}

/// The keys of one issuer: at most one active, every key published.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: Vec<SigningKey>,
}

impl KeySet {
    pub fn new(keys: Vec<SigningKey>) -> Result<Self, KeyError> {
        let mut set = Self::default();
        for key in keys {
            set.add(key)?;
        }
        Ok(set)
    }

    /// Adds a key as it is (a new key is pending; a stored one keeps its state).
    pub fn add(&mut self, key: SigningKey) -> Result<(), KeyError> {
        if self.get(&key.kid).is_some() {
            return Err(KeyError::DuplicateKid(key.kid));
        }
        if key.state == KeyState::Active && self.signing_key().is_ok() {
            return Err(KeyError::SeveralActive);
        }
        self.keys.push(key);
        Ok(())
    }

    /// The key new tokens are signed with.
    pub fn signing_key(&self) -> Result<&SigningKey, KeyError> {
        self.keys.iter().find(|k| k.state == KeyState::Active).ok_or(KeyError::NoActiveKey)
    }

    /// A published key by id, whatever its state.
    pub fn get(&self, kid: &str) -> Option<&SigningKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    pub fn keys(&self) -> &[SigningKey] {
        &self.keys
    }

    /// One rotation step: the oldest pending key becomes active and the active one retired. Returns the new
    /// active key's id.
    pub fn rotate(&mut self) -> Result<&str, KeyError> {
        let next = self.keys.iter().position(|k| k.state == KeyState::Pending).ok_or(KeyError::NoPendingKey)?;
        for key in self.keys.iter_mut().filter(|k| k.state == KeyState::Active) {
            key.state = KeyState::Retired;
        }
        self.keys[next].state = KeyState::Active;
        Ok(&self.keys[next].kid)
    }

    /// Drops a retired key once no unexpired token can carry its signature.
    pub fn remove_retired(&mut self, kid: &str) -> Result<SigningKey, KeyError> {
        match self.keys.iter().position(|k| k.kid == kid) {
            Some(i) if self.keys[i].state == KeyState::Retired => Ok(self.keys.remove(i)),
            _ => Err(KeyError::NotRetired(kid.into())),
        }
    }

    /// The JWKS: the active key first, then pending, then retired ones.
    pub fn jwks(&self) -> Jwks {
        let in_state = |s| self.keys.iter().filter(move |k| k.state == s).map(|k| k.jwk.clone());
        let keys = in_state(KeyState::Active).chain(in_state(KeyState::Pending)).chain(in_state(KeyState::Retired));
        Jwks { keys: keys.collect() }
    }
}

/// Where verification finds the key a token names: our own [`KeySet`], or a [`PublicKeys`] built from a JWKS
/// (resource servers, and clients' keys for `private_key_jwt`).
pub trait VerifyingKeys {
    /// The algorithm and public key published under `kid`.
    fn verifying_key(&self, kid: &str) -> Option<(SigningAlg, Cow<'_, DecodingKey>)>;
}

impl VerifyingKeys for KeySet {
    fn verifying_key(&self, kid: &str) -> Option<(SigningAlg, Cow<'_, DecodingKey>)> {
        let key = self.get(kid)?;
        Some((key.alg, Cow::Owned(key.decoding_key().ok()?)))
    }
}

/// Public keys only, parsed once from a JWKS so a verification costs a signature check and no key parsing.
#[derive(Clone, Default)]
pub struct PublicKeys {
    keys: Vec<(String, SigningAlg, DecodingKey)>,
}

impl fmt::Debug for PublicKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.keys.iter().map(|(kid, alg, _)| (kid, alg))).finish()
    }
}

impl PublicKeys {
    /// Keeps the ES256 and RS256 signature keys of `jwks`; keys of other types or uses, or without a `kid`, are
    /// skipped (a JWKS may carry encryption keys), and an RSA modulus under [`MIN_RSA_BITS`] is refused.
    pub fn from_jwks(jwks: &Jwks) -> Result<Self, KeyError> {
        let mut keys = Vec::new();
        for jwk in &jwks.keys {
            if jwk.use_ != "sig" || jwk.kid.is_empty() {
                continue;
            }
            let part = |p: &Option<String>| p.clone().unwrap_or_default();
            let decoding = match (jwk.alg, jwk.kty.as_str()) {
                (SigningAlg::ES256, "EC") if jwk.crv.as_deref() == Some("P-256") => {
                    DecodingKey::from_ec_components(&part(&jwk.x), &part(&jwk.y))
                }
                (SigningAlg::RS256, "RSA") => {
                    let bits = URL_SAFE_NO_PAD.decode(part(&jwk.n)).map(|n| n.len() * 8).unwrap_or(0);
                    if bits < MIN_RSA_BITS {
                        return Err(KeyError::RsaTooShort(bits));
                    }
                    DecodingKey::from_rsa_components(&part(&jwk.n), &part(&jwk.e))
                }
                _ => continue,
            }
            .map_err(|e| KeyError::InvalidKey(jwk.alg, e.to_string()))?;
            if keys.iter().any(|(kid, _, _)| kid == &jwk.kid) {
                return Err(KeyError::DuplicateKid(jwk.kid.clone()));
            }
            keys.push((jwk.kid.clone(), jwk.alg, decoding));
        }
        Ok(Self { keys })
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn contains(&self, kid: &str) -> bool {
        self.keys.iter().any(|(k, _, _)| k == kid)
    }
}

impl VerifyingKeys for PublicKeys {
    fn verifying_key(&self, kid: &str) -> Option<(SigningAlg, Cow<'_, DecodingKey>)> {
        self.keys.iter().find(|(k, _, _)| k == kid).map(|(_, alg, key)| (*alg, Cow::Borrowed(key)))
    }
}

#[cfg(test)]
#[path = "keys_tests.rs"]
mod tests;
