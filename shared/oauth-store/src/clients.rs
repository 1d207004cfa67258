//! Client registrations as the admin API and the local seed manage them: registration (secrets minted here and
//! shown once), updates, secret rotation with a grace period, deletion.

use std::sync::Arc;

use hw_domain::FieldError;
use hw_oauth::client::{AuthMethod, ClientInput};
use serde_json::{Value, json};

use crate::model::{ClientSecret, StoredClient};
use crate::ports::{OAuthStore, StoreError};
use crate::secrets::{self, CLIENT_SECRET_PREFIX};

/// Longest grace period a rotated-out secret may keep working.
pub const MAX_GRACE_SECS: i64 = 7 * 24 * 3600;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("the registration is invalid")]
    Invalid(Vec<FieldError>),
    #[error("no such client")]
    NotFound,
    #[error("the client is at version {0}")]
    VersionMismatch(u64),
    #[error("{0}")]
    Conflict(String),
    #[error("this client authenticates without a secret")]
    NoSecret,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Clone)]
pub struct OAuthClients {
    pub store: Arc<dyn OAuthStore>,
}

/// Whether clients of this registration authenticate with a secret.
fn uses_secret(input: &ClientInput) -> bool {
    matches!(input.token_endpoint_auth_method.parse(), Ok(AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost))
}

fn now_rfc3339() -> String {
    hw_domain::event::now_rfc3339()
}

/// A client as the API shows it: the registration, never a secret hash.
pub fn view(c: &StoredClient, now: i64) -> Value {
    let mut v = serde_json::to_value(&c.registration).expect("registrations serialise");
    v["id"] = json!(c.id);
    v["created_at"] = json!(c.created_at);
    v["updated_at"] = json!(c.updated_at);
    v["version"] = json!(c.version);
    let live: Vec<Value> = c
        .secrets
        .iter()
        .filter(|s| s.expires_at.is_none_or(|at| at > now))
        .map(|s| json!({"created_at": s.created_at, "expires_at": s.expires_at.map(|at| chrono::DateTime::from_timestamp(at, 0).map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)))}))
        .collect();
    v["secrets"] = json!(live);
    v
}

impl OAuthClients {
    /// Registers a client under `id` (a fresh `cl_<ulid>` when `None`); returns it and its secret, shown once.
    pub async fn create(
        &self,
        tenant: &str,
        id: Option<&str>,
        input: ClientInput,
    ) -> Result<(StoredClient, Option<String>), ClientError> {
        let id =
            id.map(str::to_owned).unwrap_or_else(|| format!("cl_{}", ulid::Ulid::new().to_string().to_lowercase()));
        hw_oauth::client::validate(&id, &input).map_err(ClientError::Invalid)?;
        let stamp = now_rfc3339();
        let secret = uses_secret(&input).then(|| secrets::mint(CLIENT_SECRET_PREFIX));
        let client = StoredClient {
            id,
            secrets: secret
                .iter()
                .map(|s| ClientSecret { hash: secrets::hash(s), created_at: stamp.clone(), expires_at: None })
                .collect(),
            registration: input,
            created_at: stamp.clone(),
            updated_at: stamp,
            version: 1,
        };
        match self.store.create_client(tenant, &client).await {
            Ok(()) => Ok((client, secret)),
            Err(StoreError::Conflict(_)) => Err(ClientError::Conflict(format!("a client `{}` exists", client.id))),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn get(&self, tenant: &str, id: &str) -> Result<StoredClient, ClientError> {
        self.store.get_client(tenant, id).await?.ok_or(ClientError::NotFound)
    }

    /// Replaces the registration. A client that starts using a secret gets one (returned); one that stops drops
    /// its secrets.
    pub async fn update(
        &self,
        tenant: &str,
        id: &str,
        input: ClientInput,
        if_match: Option<u64>,
    ) -> Result<(StoredClient, Option<String>), ClientError> {
        let current = self.get(tenant, id).await?;
        if let Some(v) = if_match
            && v != current.version
        {
            return Err(ClientError::VersionMismatch(current.version));
        }
        hw_oauth::client::validate(id, &input).map_err(ClientError::Invalid)?;
        let stamp = now_rfc3339();
        let mut new_secret = None;
        let secrets = match (uses_secret(&current.registration), uses_secret(&input)) {
            (true, true) => current.secrets.clone(),
            (_, false) => Vec::new(),
            (false, true) => {
                let s = secrets::mint(CLIENT_SECRET_PREFIX);
                let hashed =
                    vec![ClientSecret { hash: secrets::hash(&s), created_at: stamp.clone(), expires_at: None }];
                new_secret = Some(s);
                hashed
            }
        };
        let updated = StoredClient {
            registration: input,
            secrets,
            updated_at: stamp,
            version: current.version + 1,
            ..current.clone()
        };
        self.store.update_client(tenant, &updated, current.version).await.map_err(|e| match e {
            StoreError::Conflict(_) => ClientError::Conflict("the client changed meanwhile; read it again".into()),
            e => e.into(),
        })?;
        Ok((updated, new_secret))
    }

    /// A new secret; the previous one keeps working for `grace_secs` (0: stops at once), so deployments can roll.
    pub async fn rotate_secret(
        &self,
        tenant: &str,
        id: &str,
        grace_secs: i64,
        now: i64,
    ) -> Result<(StoredClient, String), ClientError> {
        let current = self.get(tenant, id).await?;
        if !uses_secret(&current.registration) {
            return Err(ClientError::NoSecret);
        }
        let grace = grace_secs.clamp(0, MAX_GRACE_SECS);
        let stamp = now_rfc3339();
        let secret = secrets::mint(CLIENT_SECRET_PREFIX);
        let mut kept: Vec<ClientSecret> = current
            .secrets
            .iter()
            .filter(|s| s.expires_at.is_none_or(|at| at > now))
            .map(|s| ClientSecret {
                expires_at: Some(s.expires_at.unwrap_or(now + grace).min(now + grace)),
                ..s.clone()
            })
            .filter(|s| s.expires_at.is_some_and(|at| at > now))
            .collect();
        kept.insert(0, ClientSecret { hash: secrets::hash(&secret), created_at: stamp.clone(), expires_at: None });
        let updated =
            StoredClient { secrets: kept, updated_at: stamp, version: current.version + 1, ..current.clone() };
        self.store.update_client(tenant, &updated, current.version).await.map_err(|e| match e {
            StoreError::Conflict(_) => ClientError::Conflict("the client changed meanwhile; try again".into()),
            e => e.into(),
        })?;
        Ok((updated, secret))
    }

    pub async fn delete(&self, tenant: &str, id: &str) -> Result<(), ClientError> {
        if self.store.delete_client(tenant, id).await? { Ok(()) } else { Err(ClientError::NotFound) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryOAuthStore;

    fn input() -> ClientInput {
        ClientInput {
            name: "App".into(),
            kind: "confidential".into(),
            grant_types: vec!["client_credentials".into()],
            scopes: vec!["data:read".into()],
            token_endpoint_auth_method: "client_secret_basic".into(),
            access_token_lifetime_secs: 600,
            id_token_lifetime_secs: 600,
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn secrets_are_shown_once_and_rotate_with_a_grace_period() {
        let clients = OAuthClients { store: Arc::new(MemoryOAuthStore::new()) };
        let (c, secret) = clients.create("t", None, input()).await.unwrap();
        let secret = secret.unwrap();
        assert!(c.id.starts_with("cl_"));
        assert!(!serde_json::to_string(&view(&c, 0)).unwrap().contains(&secrets::hash(&secret)));
        let (rotated, new_secret) = clients.rotate_secret("t", &c.id, 3600, 1000).await.unwrap();
        assert!(
            rotated.secret_matches(&secrets::hash(&secret), 1000 + 3599),
            "the old secret works during the grace period"
        );
        assert!(!rotated.secret_matches(&secrets::hash(&secret), 1000 + 3600));
        assert!(rotated.secret_matches(&secrets::hash(&new_secret), 10_000_000));
        let (now_immediate, _) = clients.rotate_secret("t", &c.id, 0, 2000).await.unwrap();
        assert!(!now_immediate.secret_matches(&secrets::hash(&new_secret), 2000));
        assert!(matches!(clients.create("t", Some(&c.id), input()).await, Err(ClientError::Conflict(_))));
        let bad = ClientInput { name: String::new(), ..input() };
        assert!(matches!(clients.create("t", None, bad).await, Err(ClientError::Invalid(_))));
        assert!(matches!(clients.update("t", &c.id, input(), Some(1)).await, Err(ClientError::VersionMismatch(3))));
    }
}
