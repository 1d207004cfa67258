//! The storage port of the provider.

use async_trait::async_trait;

use crate::model::*;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The item exists already, or changed since it was read.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("storage failed: {0}")]
    Failed(String),
}

/// What redeeming a code found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redemption {
    /// First redemption: the grant, now marked redeemed under the caller's grant id.
    Redeemed(CodeGrant),
    /// Redeemed before, under `grant_id`: the caller revokes what that redemption issued (RFC 6749 §4.1.2).
    AlreadyRedeemed { grant: CodeGrant, grant_id: String },
    /// No such code (never issued, or expired and gone).
    Unknown,
}

/// What rotating a refresh token found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The presented token was current; the family now holds the new one.
    Rotated(RefreshFamily),
    /// The presented token was rotated out before: the family has been revoked.
    Reused(RefreshFamily),
    /// The family was revoked already.
    Revoked,
    Unknown,
}

#[async_trait]
pub trait OAuthStore: Send + Sync {
    /// Registers a client; `Conflict` when the id is taken.
    async fn create_client(&self, tenant: &str, client: &StoredClient) -> Result<(), StoreError>;
    /// Replaces a client if it is still at `expected_version`; `Conflict` otherwise (or when it is gone).
    async fn update_client(&self, tenant: &str, client: &StoredClient, expected_version: u64)
    -> Result<(), StoreError>;
    async fn get_client(&self, tenant: &str, id: &str) -> Result<Option<StoredClient>, StoreError>;
    async fn list_clients(&self, tenant: &str) -> Result<Vec<StoredClient>, StoreError>;
    async fn delete_client(&self, tenant: &str, id: &str) -> Result<bool, StoreError>;

    async fn get_keys(&self, tenant: &str) -> Result<StoredKeySet, StoreError>;
    /// Writes the key set if it is still at `expected_version` (0: none stored yet); `Conflict` otherwise.
    async fn put_keys(&self, tenant: &str, keys: &StoredKeySet, expected_version: u64) -> Result<(), StoreError>;

    async fn put_code(&self, tenant: &str, code: &CodeGrant) -> Result<(), StoreError>;
    /// Marks the code redeemed under `grant_id` unless it was already: of two concurrent redemptions one wins.
    async fn redeem_code(&self, tenant: &str, code_hash: &str, grant_id: &str) -> Result<Redemption, StoreError>;

    async fn create_family(&self, tenant: &str, family: &RefreshFamily) -> Result<(), StoreError>;
    async fn get_family(&self, tenant: &str, id: &str) -> Result<Option<RefreshFamily>, StoreError>;
    /// Replaces the family's current token if `presented_hash` is current, the family is not revoked and the
    /// token has not expired at `now`. A presented token that is not current revokes the family.
    async fn rotate_family(
        &self,
        tenant: &str,
        id: &str,
        presented_hash: &str,
        new_hash: &str,
        new_expires_at: i64,
        now: i64,
    ) -> Result<Rotation, StoreError>;
    async fn revoke_family(&self, tenant: &str, id: &str, now: i64) -> Result<(), StoreError>;
    /// Ids of the families of one user with one client.
    async fn list_families(&self, tenant: &str, user_id: &str, client_id: &str) -> Result<Vec<String>, StoreError>;

    async fn put_consent(&self, tenant: &str, consent: &Consent) -> Result<(), StoreError>;
    async fn get_consent(&self, tenant: &str, user_id: &str, client_id: &str) -> Result<Option<Consent>, StoreError>;
    async fn list_consents(&self, tenant: &str, user_id: &str) -> Result<Vec<Consent>, StoreError>;
    async fn delete_consent(&self, tenant: &str, user_id: &str, client_id: &str) -> Result<bool, StoreError>;

    async fn put_session(&self, tenant: &str, session: &Session) -> Result<(), StoreError>;
    async fn get_session(&self, tenant: &str, cookie_hash: &str) -> Result<Option<Session>, StoreError>;
    async fn delete_session(&self, tenant: &str, cookie_hash: &str) -> Result<(), StoreError>;

    /// Records a client assertion's `jti` until `until`; false when it was seen before (a replay).
    async fn claim_assertion(&self, tenant: &str, client_id: &str, jti: &str, until: i64) -> Result<bool, StoreError>;

    /// Marks tokens issued up to `at` revoked, until `until` (when the last token it could affect expires).
    async fn mark_revoked(&self, tenant: &str, what: &Revoked, at: i64, until: i64) -> Result<(), StoreError>;
    /// Whether any of `what` revokes a token issued at `issued_at`, at `now`: a marker made at or after the token
    /// was issued and not yet ended (so a user disabled and enabled again gets new tokens that work).
    async fn any_revoked(&self, tenant: &str, what: &[Revoked], issued_at: i64, now: i64) -> Result<bool, StoreError>;
}
