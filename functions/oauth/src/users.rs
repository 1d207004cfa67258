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

/// The platform's tenant users (`hw-users`) as the provider's user directory.
pub struct TenantUsers(pub hw_users::Users);

fn info(u: hw_users::User) -> UserInfo {
    UserInfo {
        active: u.status == hw_users::UserStatus::Active,
        id: u.id,
        username: u.username,
        name: u.name,
        email: u.email,
        permissions: u.permissions,
    }
}

#[async_trait]
impl UserDirectory for TenantUsers {
    async fn login(
        &self,
        tenant: &str,
        username: &str,
        password: &str,
        ip: Option<&str>,
    ) -> Result<UserInfo, LoginFailure> {
        match self.0.verify_login(tenant, username, password, ip).await {
            Ok(u) => Ok(info(u)),
            Err(hw_users::LoginError::InvalidCredentials) => Err(LoginFailure::Invalid),
            Err(hw_users::LoginError::Throttled { retry_after_secs }) => {
                Err(LoginFailure::Throttled { retry_after_secs })
            }
            Err(hw_users::LoginError::Store(e)) => Err(LoginFailure::Unavailable(e)),
        }
    }

    async fn user(&self, tenant: &str, id: &str) -> Result<Option<UserInfo>, String> {
        self.0.get(tenant, id).await.map(|u| u.map(info)).map_err(|e| e.to_string())
    }

    async fn accept_invitation(
        &self,
        tenant: &str,
        token: &str,
        password: &str,
    ) -> Result<UserInfo, InvitationFailure> {
        match self.0.accept_invitation(tenant, token, password).await {
            Ok(u) => Ok(info(u)),
            Err(hw_users::InvitationError::InvalidToken) => Err(InvitationFailure::Invalid),
            Err(hw_users::InvitationError::Invalid(errors)) => {
                Err(InvitationFailure::Password(errors.iter().map(|e| e.detail.clone()).collect::<Vec<_>>().join(" ")))
            }
            Err(hw_users::InvitationError::Store(e)) => Err(InvitationFailure::Unavailable(e)),
        }
    }
}
