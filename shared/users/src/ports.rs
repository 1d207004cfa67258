//! The storage port of users: users with their username claims and invitations, and the sign-in failure counters.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{User, UserStatus};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The username is claimed by another user of the tenant.
    #[error("the username is taken")]
    AlreadyExists,
    /// A condition did not hold: the user changed (version), or the invitation to consume is gone or expired.
    #[error("the item changed or is gone")]
    Conflict,
    #[error("storage failed: {0}")]
    Backend(String),
}

/// A user as stored: the public view plus its secrets' hashes and its version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredUser {
    #[serde(flatten)]
    pub user: User,
    /// argon2id PHC string; `None` while invited.
    #[serde(default)]
    pub password_hash: Option<String>,
    /// SHA-256 (hex) of the pending invitation's token.
    #[serde(default)]
    pub invitation_hash: Option<String>,
    /// Optimistic concurrency: every write checks and increments it.
    pub version: u64,
}

/// A pending invitation: the hash of its token, whose user it is, and when it expires (epoch seconds, the TTL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationRecord {
    pub token_hash: String,
    pub user_id: String,
    pub expires_at: i64,
}

/// What happens to invitations in the same transaction as a user's update.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvitationOps {
    /// Consume this token (hash): it must exist, belong to the user and not be expired at `now`, else `Conflict`.
    pub consume: Option<(String, i64)>,
    /// Remove this one (unconditionally; it may be gone already).
    pub remove: Option<String>,
    /// Store this one.
    pub put: Option<InvitationRecord>,
}

/// A sign-in failure counter as last written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counter {
    pub failures: u32,
    /// Epoch seconds until which sign-ins are refused without checking anything; 0 when not locked.
    pub locked_until: i64,
}

#[async_trait]
pub trait UserStore: Send + Sync {
    /// Stores a new user, its username claim and (when given) its invitation, atomically; `AlreadyExists` when the
    /// username is claimed.
    async fn create(
        &self,
        tenant: &str,
        user: &StoredUser,
        invitation: Option<&InvitationRecord>,
    ) -> Result<(), StoreError>;
    async fn get(&self, tenant: &str, id: &str) -> Result<Option<StoredUser>, StoreError>;
    async fn find_by_username(&self, tenant: &str, username: &str) -> Result<Option<StoredUser>, StoreError>;
    /// The tenant's users by id (so by creation), optionally of one status, `limit` at most, after the user `after`;
    /// the second value is the id to continue after when there may be more.
    async fn list(
        &self,
        tenant: &str,
        status: Option<UserStatus>,
        limit: usize,
        after: Option<&str>,
    ) -> Result<(Vec<StoredUser>, Option<String>), StoreError>;
    /// Replaces the user if its stored version is `expected_version` (`user.version` is the new one), together with
    /// the invitation operations, atomically; `Conflict` otherwise. The username never changes.
    async fn update(
        &self,
        tenant: &str,
        user: &StoredUser,
        expected_version: u64,
        invitations: &InvitationOps,
    ) -> Result<(), StoreError>;
    /// The invitation with this token hash, if stored (expired ones may still be).
    async fn invitation(&self, tenant: &str, token_hash: &str) -> Result<Option<InvitationRecord>, StoreError>;
    /// Removes the user, its username claim and its pending invitation.
    async fn delete(&self, tenant: &str, user: &StoredUser) -> Result<(), StoreError>;

    /// The failure counter of `subject` (`N#{username}` or `IP#{address}`), unless absent or expired at `now`.
    async fn counter(&self, tenant: &str, subject: &str, now: i64) -> Result<Option<Counter>, StoreError>;
    /// Adds one failure atomically (a counter expired at `now` starts again from zero) and keeps the counter until
    /// `expires_at`; answers the counter afterwards.
    async fn add_failure(&self, tenant: &str, subject: &str, now: i64, expires_at: i64) -> Result<Counter, StoreError>;
    /// Locks `subject` until `until`, keeping the counter until `expires_at`.
    async fn lock(&self, tenant: &str, subject: &str, until: i64, expires_at: i64) -> Result<(), StoreError>;
    /// Forgets the counter of `subject`.
    async fn reset(&self, tenant: &str, subject: &str) -> Result<(), StoreError>;
}
