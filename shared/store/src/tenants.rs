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
    #[error("there is no tenant `{0}`")]
    NotFound(String),
    #[error("a rate limit is from 1 to {0} requests per minute")]
    InvalidLimit(u32),
    #[error("unknown scope `{0}`")]
    UnknownScope(String),
    #[error("invalid key: {0}")]
    InvalidKey(String),
    #[error("no API key with id `{0}`")]
    KeyNotFound(String),
    #[error("API key `{0}` was revoked or rotated already; rotate its successor instead")]
    KeyNotRotatable(String),
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
    Expired { tenant: String },
    #[error("credentials could not be checked: {0}")]
    Unavailable(String),
}

pub struct Tenants {
    pub control: Arc<dyn ControlStore>,
}

/// What a caller asks for when creating a key.
#[derive(Debug, Clone, Default)]
pub struct NewKey {
    pub name: String,
    pub scopes: Vec<String>,
    pub expires_at: Option<String>,
    pub rate_limit_per_minute: Option<u32>,
}

impl NewKey {
    pub fn named(name: &str, scopes: Vec<String>) -> Self {
        Self { name: name.to_owned(), scopes, ..Self::default() }
    }
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
        let tenant = Tenant {
            id: id.to_owned(),
            name: name.to_owned(),
            created_at: now_rfc3339(),
            rate_limit_per_minute: None,
            graphql: None,
        };
        self.control.create_tenant(&tenant).await.map_err(|e| match e {
            StoreError::AlreadyExists => TenantError::AlreadyExists(id.to_owned()),
            other => other.into(),
        })?;
        let key = self.create_key(id, NewKey::named("initial admin key", vec![scope::ADMIN.to_owned()])).await?;
        Ok((tenant, key))
    }

    pub async fn create_key(&self, tenant: &str, input: NewKey) -> Result<IssuedKey, TenantError> {
        if let Some(bad) = input.scopes.iter().find(|s| !is_known_scope(s)) {
            return Err(TenantError::UnknownScope(bad.clone()));
        }
        if input.name.trim().is_empty() || input.name.chars().count() > 200 {
            return Err(TenantError::InvalidKey("name must be 1 to 200 characters".into()));
        }
        if let Some(exp) = &input.expires_at {
            let t = chrono::DateTime::parse_from_rfc3339(exp)
                .map_err(|_| TenantError::InvalidKey(format!("expires_at `{exp}` is not an RFC 3339 date-time")))?;
            if t <= chrono::Utc::now() {
                return Err(TenantError::InvalidKey("expires_at is in the past".into()));
            }
        }
        if let Some(limit) = input.rate_limit_per_minute
            && !(1..=apikey::MAX_RATE_LIMIT_PER_MINUTE).contains(&limit)
        {
            return Err(TenantError::InvalidKey(format!(
                "rate_limit_per_minute must be from 1 to {}",
                apikey::MAX_RATE_LIMIT_PER_MINUTE
            )));
        }
        let minted = apikey::mint();
        let meta = ApiKeyMeta {
            id: ids::new_prefixed("key"),
            tenant: tenant.to_owned(),
            name: input.name,
            scopes: input.scopes,
            created_at: now_rfc3339(),
            expires_at: input.expires_at,
            revoked: false,
            last_used_at: None,
            rate_limit_per_minute: input.rate_limit_per_minute,
            rotated_from: None,
            rotated_to: None,
        };
        self.control.create_api_key(&meta, &minted.hash).await?;
        Ok(IssuedKey { meta, secret: minted.secret })
    }

    /// Sets the tenant's own rate limit (operators only), or returns it to the platform default with `None`.
    pub async fn set_rate_limit(&self, tenant: &str, per_minute: Option<u32>) -> Result<(), TenantError> {
        if per_minute.is_some_and(|n| !(1..=hw_domain::tenant::MAX_TENANT_RATE_LIMIT_PER_MINUTE).contains(&n)) {
            return Err(TenantError::InvalidLimit(hw_domain::tenant::MAX_TENANT_RATE_LIMIT_PER_MINUTE));
        }
        self.control.set_tenant_rate_limit(tenant, per_minute).await.map_err(|e| match e {
            StoreError::NotFound => TenantError::NotFound(tenant.to_owned()),
            other => other.into(),
        })
    }

    pub async fn get_key(&self, tenant: &str, id: &str) -> Result<ApiKeyMeta, TenantError> {
        self.control.get_api_key(tenant, id).await?.ok_or_else(|| TenantError::KeyNotFound(id.to_owned()))
    }

    /// Issues a successor with the same name, scopes, limit and expiry; the old key keeps working for
    /// `overlap_seconds` (or until its own expiry, if sooner), so clients can switch without downtime.
    pub async fn rotate_key(&self, tenant: &str, id: &str, overlap_seconds: u32) -> Result<IssuedKey, TenantError> {
        if overlap_seconds > apikey::MAX_ROTATION_OVERLAP_SECONDS {
            return Err(TenantError::InvalidKey(format!(
                "overlap_seconds must be from 0 to {}",
                apikey::MAX_ROTATION_OVERLAP_SECONDS
            )));
        }
        let mut old = self.get_key(tenant, id).await?;
        if old.revoked || old.rotated_to.is_some() {
            return Err(TenantError::KeyNotRotatable(id.to_owned()));
        }
        let now = chrono::Utc::now();
        let overlap_end = now + chrono::Duration::seconds(overlap_seconds.into());
        let own_expiry = old.expires_at.as_deref().and_then(|e| chrono::DateTime::parse_from_rfc3339(e).ok());
        if own_expiry.is_some_and(|e| e <= now) {
            return Err(TenantError::KeyNotRotatable(id.to_owned()));
        }
        let minted = apikey::mint();
        let new = ApiKeyMeta {
            id: ids::new_prefixed("key"),
            created_at: now_rfc3339(),
            last_used_at: None,
            rotated_from: Some(old.id.clone()),
            rotated_to: None,
            ..old.clone()
        };
        let ends = match own_expiry {
            Some(e) if e.with_timezone(&chrono::Utc) < overlap_end => e.with_timezone(&chrono::Utc),
            _ => overlap_end,
        };
        old.expires_at = Some(ends.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
        old.rotated_to = Some(new.id.clone());
        self.control.rotate_api_key(&old, &new, &minted.hash).await.map_err(|e| match e {
            StoreError::VersionConflict => TenantError::KeyNotRotatable(id.to_owned()),
            other => other.into(),
        })?;
        Ok(IssuedKey { meta: new, secret: minted.secret })
    }

    /// Records the use of a key; failures only cost the freshness of `last_used_at`.
    pub async fn touch_key(&self, tenant: &str, id: &str) {
        if let Err(e) = self.control.touch_api_key(tenant, id, &now_rfc3339()).await {
            tracing::warn!(error = %e, key = id, "could not record the key's last use");
        }
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
        if let Some(exp) = &meta.expires_at
            && chrono::DateTime::parse_from_rfc3339(exp).is_ok_and(|t| t <= chrono::Utc::now())
        {
            return Err(AuthError::Expired { tenant: meta.tenant });
        }
        let mut p = Principal::new(meta.tenant, format!("apikey:{}", meta.id), meta.scopes);
        p.rate_limit_per_minute = meta.rate_limit_per_minute;
        Ok(p)
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
