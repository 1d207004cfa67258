//! The users the provider signs in: a port, so the protocol does not depend on how users are stored.

use async_trait::async_trait;

/// What the provider needs to know of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    pub id: String,
    pub username: String,
    pub name: String,
    pub email: Option<String>,
    /// Only active users sign in, refresh tokens and have their tokens introspected as active.
    pub active: bool,
    /// API permissions (`data:read`, `admin`, …): a user's token carries at most these.
    pub permissions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginFailure {
    /// Unknown user, wrong password, or a user who may not sign in: one answer for all, so it reveals nothing.
    #[error("the username or password is incorrect")]
    Invalid,
    #[error("too many failed sign-ins; try again in {retry_after_secs} seconds")]
    Throttled { retry_after_secs: u64 },
    #[error("sign-in is briefly unavailable: {0}")]
    Unavailable(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvitationFailure {
    #[error("this invitation link is not valid: it was used already, replaced or has expired")]
    Invalid,
    /// The password breaks the policy; the text says how.
    #[error("{0}")]
    Password(String),
    #[error("briefly unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait UserDirectory: Send + Sync {
    async fn login(
        &self,
        tenant: &str,
        username: &str,
        password: &str,
        ip: Option<&str>,
    ) -> Result<UserInfo, LoginFailure>;
    async fn user(&self, tenant: &str, id: &str) -> Result<Option<UserInfo>, String>;
    async fn accept_invitation(&self, tenant: &str, token: &str, password: &str)
    -> Result<UserInfo, InvitationFailure>;
}
