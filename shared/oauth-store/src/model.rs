//! What the provider stores. Times are seconds since the epoch: every one of them is compared with "now" or used
//! as a DynamoDB TTL.

use hw_oauth::client::{self, Client, ClientInput};
use hw_oauth::keys::{KeyState, SigningAlg};
use serde::{Deserialize, Serialize};

/// A registered client: the registration as accepted (validated again on every read, so a rule tightened later
/// applies to old registrations too) and its secrets' hashes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredClient {
    pub id: String,
    pub registration: ClientInput,
    /// Current secret first; during a rotation the previous one follows until its `expires_at`.
    #[serde(default)]
    pub secrets: Vec<ClientSecret>,
    pub created_at: String,
    pub updated_at: String,
    /// Bumped on every change; updates are conditional on it.
    pub version: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSecret {
    pub hash: String,
    pub created_at: String,
    /// When a rotated-out secret stops working; `None` for the current one.
    #[serde(default)]
    pub expires_at: Option<i64>,
}

impl StoredClient {
    /// The checked client, or the registration's problems (a registration stored under older, looser rules).
    pub fn client(&self) -> Result<Client, Vec<hw_domain::FieldError>> {
        client::validate(&self.id, &self.registration)
    }

    /// Whether `hash` is one of the client's secrets still valid at `now` (compared in constant time).
    pub fn secret_matches(&self, hash: &str, now: i64) -> bool {
        self.secrets
            .iter()
            .filter(|s| s.expires_at.is_none_or(|at| at > now))
            .fold(false, |found, s| crate::secrets::same_hash(&s.hash, hash) | found)
    }
}

/// One signing key as stored: the public JWK in the clear, the private PKCS#8 PEM sealed (AES-256-GCM) under a
/// tenant data key that KMS wraps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredKey {
    pub kid: String,
    pub alg: SigningAlg,
    pub state: KeyState,
    pub jwk: hw_oauth::keys::Jwk,
    /// base64 of the sealed PEM.
    pub sealed_private: String,
    /// base64 of the KMS-wrapped data key.
    pub wrapped_key: String,
    pub created_at: i64,
    /// When the key stopped signing (retired keys are dropped once every token they signed has expired).
    #[serde(default)]
    pub retired_at: Option<i64>,
}

/// A tenant's keys, changed as a whole so a rotation is one conditional write.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredKeySet {
    pub keys: Vec<StoredKey>,
    /// 0 before the first write.
    pub version: u64,
}

/// What an authorization code stands for, stored under the code's hash until it is redeemed or expires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeGrant {
    pub code_hash: String,
    pub client_id: String,
    pub user_id: String,
    /// The redirect URI the authorization request named, empty when it named none (RFC 6749 §4.1.3: the token
    /// request must then repeat it).
    pub redirect_uri: String,
    pub scope: String,
    #[serde(default)]
    pub code_challenge: Option<String>,
    #[serde(default)]
    pub nonce: Option<String>,
    pub auth_time: i64,
    pub sid: String,
    pub expires_at: i64,
}

/// A refresh-token family: every token rotated out of one authorization. Only the newest token's hash is kept;
/// presenting any older one is reuse and revokes the family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshFamily {
    /// `<user>#<client>#<ulid>`: a family's key, grouped by user and client so a consent's families are one query.
    pub id: String,
    pub client_id: String,
    pub user_id: String,
    pub scope: String,
    pub auth_time: i64,
    pub sid: String,
    pub current_hash: String,
    /// When the current token expires (each rotation renews it).
    pub token_expires_at: i64,
    pub created_at: i64,
    #[serde(default)]
    pub revoked_at: Option<i64>,
    /// How many times the family has rotated.
    #[serde(default)]
    pub generation: u64,
}

impl RefreshFamily {
    /// The family of the tokens one redemption of a code (the grant `grant_id`) issued.
    pub fn family_id(user_id: &str, client_id: &str, grant_id: &str) -> String {
        format!("{user_id}#{client_id}#{grant_id}")
    }
}

/// A user's standing consent to a client's scopes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    pub user_id: String,
    pub client_id: String,
    /// Space-separated scopes.
    pub scope: String,
    pub granted_at: String,
    pub updated_at: String,
}

/// A browser's login at the provider, found by the hash of its cookie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub cookie_hash: String,
    /// The public session id (`sid` in ID tokens).
    pub sid: String,
    pub user_id: String,
    pub auth_time: i64,
    pub expires_at: i64,
}

/// What a revocation marker names. Access tokens are checked locally; these markers let a resource server refuse
/// one that was revoked, came from a revoked grant, or belongs to a disabled user, within its lifetime.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Revoked {
    Token(String),
    Grant(String),
    Subject(String),
}

impl Revoked {
    pub fn key(&self) -> String {
        match self {
            Self::Token(jti) => format!("jti#{jti}"),
            Self::Grant(gid) => format!("gid#{gid}"),
            Self::Subject(sub) => format!("sub#{sub}"),
        }
    }
}
