//! Tenants and API keys: creation (with the first admin key), authentication, listing and revocation.

use std::sync::Arc;

use hw_domain::apikey::{self, ApiKeyMeta};
use hw_domain::event::now_rfc3339;
use hw_domain::ids;
use hw_domain::principal::{Principal, is_known_scope, scope};
use hw_domain::tenant::Tenant;

use crate::ports::{ControlStore, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    #[error("`{0}` is not a valid tenant id: use 3 to 40 lowercase letters, digits or dashes, starting with a letter")]
    InvalidId(String),
    #[error("tenant `{0}` already exists")]
    AlreadyExists(String),
    #[error("unknown scope `{0}`")]
    UnknownScope(String),
    #[error("invalid key: {0}")]
    InvalidKey(String),
    #[error("no API key with id `{0}`")]
    KeyNotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AuthError {
    #[error("no credentials were sent")]
    Missing,
    #[error("the credentials are not valid")]
    Invalid,
    #[error("the API key has expired")]
    Expired,
    #[error("credentials could not be checked: {0}")]
    Unavailable(String),
}

pub struct Tenants {
    pub control: Arc<dyn ControlStore>,
}

/// A key as returned on creation: the only time the secret is shown.
pub struct IssuedKey {
    pub meta: ApiKeyMeta,
    pub secret: String,
}

impl Tenants {
    /// Creates a tenant and its first key (scope `admin`).
    pub async fn create_tenant(&self, id: &str, name: &str) -> Result<(Tenant, IssuedKey), TenantError> {
        if !ids::is_valid_tenant_id(id) {
            return Err(TenantError::InvalidId(id.to_owned()));
        }
        let tenant = Tenant { id: id.to_owned(), name: name.to_owned(), created_at: now_rfc3339() };
        self.control.create_tenant(&tenant).await.map_err(|e| match e {
            StoreError::AlreadyExists => TenantError::AlreadyExists(id.to_owned()),
            other => other.into(),
        })?;
        let key = self.create_key(id, "initial admin key", vec![scope::ADMIN.to_owned()], None).await?;
        Ok((tenant, key))
    }

    pub async fn create_key(
        &self,
        tenant: &str,
        name: &str,
        scopes: Vec<String>,
        expires_at: Option<String>,
    ) -> Result<IssuedKey, TenantError> {
        if let Some(bad) = scopes.iter().find(|s| !is_known_scope(s)) {
            return Err(TenantError::UnknownScope(bad.clone()));
        }
        if name.trim().is_empty() || name.chars().count() > 200 {
            return Err(TenantError::InvalidKey("name must be 1 to 200 characters".into()));
        }
        if let Some(exp) = &expires_at {
            let t = chrono::DateTime::parse_from_rfc3339(exp)
                .map_err(|_| TenantError::InvalidKey(format!("expires_at `{exp}` is not an RFC 3339 date-time")))?;
            if t <= chrono::Utc::now() {
                return Err(TenantError::InvalidKey("expires_at is in the past".into()));
            }
        }
        let minted = apikey::mint();
        let meta = ApiKeyMeta {
            id: ids::new_prefixed("key"),
            tenant: tenant.to_owned(),
            name: name.to_owned(),
            scopes,
            created_at: now_rfc3339(),
            expires_at,
            revoked: false,
        };
        self.control.create_api_key(&meta, &minted.hash).await?;
        Ok(IssuedKey { meta, secret: minted.secret })
    }

    pub async fn authenticate(&self, secret: &str) -> Result<Principal, AuthError> {
        if !apikey::looks_like_key(secret) {
            return Err(AuthError::Invalid);
        }
        let meta = self
            .control
            .find_api_key(&apikey::hash(secret))
            .await
            .map_err(|e| AuthError::Unavailable(e.to_string()))?
            .ok_or(AuthError::Invalid)?;
        if meta.revoked {
            return Err(AuthError::Invalid);
        }
        if let Some(exp) = &meta.expires_at {
            if chrono::DateTime::parse_from_rfc3339(exp).is_ok_and(|t| t <= chrono::Utc::now()) {
                return Err(AuthError::Expired);
            }
        }
        Ok(Principal::new(meta.tenant, format!("apikey:{}", meta.id), meta.scopes))
    }

    pub async fn list_keys(&self, tenant: &str) -> Result<Vec<ApiKeyMeta>, TenantError> {
        Ok(self.control.list_api_keys(tenant).await?)
    }

    pub async fn revoke_key(&self, tenant: &str, id: &str) -> Result<(), TenantError> {
        self.control.revoke_api_key(tenant, id).await.map_err(|e| match e {
            StoreError::NotFound => TenantError::KeyNotFound(id.to_owned()),
            other => other.into(),
        })
    }
}
