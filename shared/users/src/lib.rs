//! Tenant users: the people who sign in through the OAuth2/OIDC provider. A user belongs to one tenant, has a
//! username unique in it, an argon2id password (or a pending invitation), and permissions that are the scopes API
//! keys carry; a token issued for a user carries at most those.
//!
//! Hexagonal like the job crates: the domain and the [`Users`] service here, the storage port in [`ports`], and two
//! adapters: [`dynamo`] (the `identity` table) and [`memory`] (tests). Every item of this crate in the `identity`
//! table has a partition key starting with `USER#`.

pub mod dynamo;
pub mod memory;
pub mod password;
pub mod policy;
pub mod ports;
mod service;

use hw_domain::FieldError;
use serde::{Deserialize, Serialize};

pub use crate::service::{INVITATION_TTL_SECS, Throttling, Users};

/// A user as others see it: never its password or invitation hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    /// Lowercase; unique in the tenant.
    pub username: String,
    #[serde(default)]
    pub email: Option<String>,
    pub name: String,
    pub status: UserStatus,
    /// Scopes as API keys carry them (`admin`, `data:read:{entity}`, ...).
    pub permissions: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    /// May sign in.
    Active,
    /// Created with an invitation that was not accepted yet: no password, cannot sign in.
    Invited,
    /// Kept, but cannot sign in.
    Disabled,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Invited => "invited",
            Self::Disabled => "disabled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Self::Active),
            "invited" => Some(Self::Invited),
            "disabled" => Some(Self::Disabled),
            _ => None,
        }
    }
}

/// What it takes to create a user. With `invite`, the user starts `invited` and the answer carries a one-time
/// invitation token (`password` must then be absent); otherwise `password` is required and the user is `active`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub username: String,
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub permissions: Vec<String>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub invite: bool,
}

/// A change to a user; absent members stay as they are. `email: Some(None)` removes the e-mail address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserPatch {
    pub name: Option<String>,
    pub email: Option<Option<String>>,
    pub permissions: Option<Vec<String>>,
    /// `Active` or `Disabled`; an invited user becomes active only by accepting its invitation (or being given a
    /// password).
    pub status: Option<UserStatus>,
}

/// A one-time invitation token, shown once; only its SHA-256 hash is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Invitation {
    pub token: String,
    pub expires_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    /// Unknown username, wrong password, or a user that may not sign in (invited, disabled): never which.
    #[error("invalid username or password")]
    InvalidCredentials,
    /// Too many failures for this username or client address; nothing was checked.
    #[error("too many failed sign-ins; retry in {retry_after_secs} seconds")]
    Throttled { retry_after_secs: u64 },
    #[error("storage failed: {0}")]
    Store(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsersError {
    /// Field errors, each with a JSON pointer into the request (`/username`, `/password`, `/permissions/0`, ...).
    #[error("{} field(s) failed validation", .0.len())]
    Invalid(Vec<FieldError>),
    #[error("no such user")]
    NotFound,
    #[error("the username `{0}` is taken")]
    UsernameTaken(String),
    /// The user is not in a state that allows this (e.g. inviting an active user, activating an invited one).
    #[error("{0}")]
    WrongState(String),
    /// `If-Match` named another version than the stored one.
    #[error("the user is at version {current}")]
    PreconditionFailed { current: u64 },
    /// The user changed while this request was served; retry.
    #[error("the user changed concurrently; retry")]
    Conflict,
    #[error("storage failed: {0}")]
    Store(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvitationError {
    /// Unknown, expired, already used or superseded token: never which.
    #[error("the invitation is invalid or has expired")]
    InvalidToken,
    /// The password breaks the policy (pointer `/password`).
    #[error("{} field(s) failed validation", .0.len())]
    Invalid(Vec<FieldError>),
    #[error("storage failed: {0}")]
    Store(String),
}

impl From<ports::StoreError> for UsersError {
    fn from(e: ports::StoreError) -> Self {
        match e {
            ports::StoreError::AlreadyExists => UsersError::Conflict,
            ports::StoreError::Conflict => UsersError::Conflict,
            ports::StoreError::Backend(s) => UsersError::Store(s),
        }
    }
}

#[cfg(test)]
mod tests;
