//! A tenant's signing keys as the provider uses them: created on first use, unsealed with the tenant's KMS-wrapped
//! data key, rotated pending → active → retired, and published as a JWKS (which needs no KMS at all).
//!
//! A tenant starts with an active key and a pending one, so the key the next rotation activates is already in
//! every verifier's cached JWKS when it starts signing.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hw_aws::kms::{Keyring, open, seal};
use hw_oauth::client::{MAX_ACCESS_TOKEN_SECS, MAX_ID_TOKEN_SECS};
use hw_oauth::keys::{Jwks, KeySet, KeyState, SigningAlg, SigningKey};

use crate::model::{StoredKey, StoredKeySet};
use crate::ports::{OAuthStore, StoreError};

/// How long a retired key stays published: the longest token lifetime, plus clock leeway.
pub const RETIRED_KEEP_SECS: i64 =
    if MAX_ACCESS_TOKEN_SECS > MAX_ID_TOKEN_SECS { MAX_ACCESS_TOKEN_SECS } else { MAX_ID_TOKEN_SECS } as i64 + 300;

#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("key service: {0}")]
    Keyring(String),
    #[error("signing key {0} does not unseal: its data key or ciphertext is damaged")]
    Unseal(String),
    #[error(transparent)]
    Key(#[from] hw_oauth::keys::KeyError),
}

async fn new_stored_key(
    keyring: &dyn Keyring,
    tenant: &str,
    alg: SigningAlg,
    state: KeyState,
    now: i64,
) -> Result<StoredKey, KeysError> {
    let kid = ulid::Ulid::new().to_string();
    let key = SigningKey::generate(&kid, alg)?;
    let (data_key, wrapped) = keyring.generate(tenant).await.map_err(|e| KeysError::Keyring(e.to_string()))?;
    let sealed = seal(&data_key.0, kid.as_bytes(), key.private_pkcs8_pem().as_bytes())
        .map_err(|_| KeysError::Keyring("sealing failed".into()))?;
    Ok(StoredKey {
        jwk: key.jwk().clone(),
        kid,
        alg,
        state,
        sealed_private: STANDARD.encode(sealed),
        wrapped_key: STANDARD.encode(wrapped),
        created_at: now,
        retired_at: None,
    })
}

async fn unseal(keyring: &dyn Keyring, tenant: &str, stored: &StoredKey) -> Result<SigningKey, KeysError> {
    let damaged = || KeysError::Unseal(stored.kid.clone());
    let wrapped = STANDARD.decode(&stored.wrapped_key).map_err(|_| damaged())?;
    let sealed = STANDARD.decode(&stored.sealed_private).map_err(|_| damaged())?;
    let data_key = keyring.unwrap(tenant, &wrapped).await.map_err(|e| KeysError::Keyring(e.to_string()))?;
    let pem = open(&data_key.0, stored.kid.as_bytes(), &sealed).map_err(|_| damaged())?;
    let pem = String::from_utf8(pem).map_err(|_| damaged())?;
    Ok(SigningKey::from_pkcs8_pem(&stored.kid, stored.alg, stored.state, &pem)?)
}

/// The tenant's stored keys, created (an active and a pending ES256 key) when there are none yet. Two instances
/// creating at once: one write wins and the other reads it.
pub async fn stored_or_created(
    store: &dyn OAuthStore,
    keyring: &dyn Keyring,
    tenant: &str,
    now: i64,
) -> Result<StoredKeySet, KeysError> {
    let current = store.get_keys(tenant).await?;
    if !current.keys.is_empty() {
        return Ok(current);
    }
    let keys = vec![
        new_stored_key(keyring, tenant, SigningAlg::ES256, KeyState::Active, now).await?,
        new_stored_key(keyring, tenant, SigningAlg::ES256, KeyState::Pending, now).await?,
    ];
    let set = StoredKeySet { keys, version: 1 };
    match store.put_keys(tenant, &set, 0).await {
        Ok(()) => Ok(set),
        Err(StoreError::Conflict(_)) => Ok(store.get_keys(tenant).await?),
        Err(e) => Err(e.into()),
    }
}

/// The signing key set (private halves unsealed), for the provider.
pub async fn load(store: &dyn OAuthStore, keyring: &dyn Keyring, tenant: &str, now: i64) -> Result<KeySet, KeysError> {
    let stored = stored_or_created(store, keyring, tenant, now).await?;
    let mut keys = Vec::with_capacity(stored.keys.len());
    for k in stored.keys.iter().filter(|k| published(k, now)) {
        keys.push(unseal(keyring, tenant, k).await?);
    }
    Ok(KeySet::new(keys)?)
}

fn published(key: &StoredKey, now: i64) -> bool {
    key.retired_at.is_none_or(|at| at + RETIRED_KEEP_SECS > now)
}

/// The JWKS from the stored public halves: what resource servers verify with. Needs no KMS.
pub fn jwks(stored: &StoredKeySet, now: i64) -> Jwks {
    let in_state = |state: KeyState| {
        stored.keys.iter().filter(move |k| k.state == state && published(k, now)).map(|k| k.jwk.clone())
    };
    Jwks {
        keys: in_state(KeyState::Active)
            .chain(in_state(KeyState::Pending))
            .chain(in_state(KeyState::Retired))
            .collect(),
    }
}

/// One rotation: the oldest pending key signs from now on, the active one retires, a new pending key is published,
/// and retired keys no token can need any more are dropped. Returns the new active key's id.
pub async fn rotate(
    store: &dyn OAuthStore,
    keyring: &dyn Keyring,
    tenant: &str,
    alg: SigningAlg,
    now: i64,
) -> Result<String, KeysError> {
    let mut set = stored_or_created(store, keyring, tenant, now).await?;
    let expected = set.version;
    let next = set
        .keys
        .iter()
        .filter(|k| k.state == KeyState::Pending)
        .min_by_key(|k| k.created_at)
        .map(|k| k.kid.clone())
        .ok_or(hw_oauth::keys::KeyError::NoPendingKey)?;
    for k in &mut set.keys {
        if k.state == KeyState::Active {
            k.state = KeyState::Retired;
            k.retired_at = Some(now);
        } else if k.kid == next {
            k.state = KeyState::Active;
        }
    }
    set.keys.retain(|k| published(k, now));
    set.keys.push(new_stored_key(keyring, tenant, alg, KeyState::Pending, now).await?);
    set.version = expected + 1;
    store.put_keys(tenant, &set, expected).await?;
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryOAuthStore;
    use hw_aws::kms::StaticKeyring;

    #[tokio::test]
    async fn first_use_creates_an_active_and_a_pending_key_sealed() {
        let store = MemoryOAuthStore::new();
        let keyring = StaticKeyring::new([7; 32]);
        let set = load(&store, &keyring, "acme", 1000).await.unwrap();
        assert_eq!(set.keys().len(), 2);
        let active = set.signing_key().unwrap().kid().to_owned();
        let stored = store.get_keys("acme").await.unwrap();
        assert!(stored.keys.iter().all(|k| !k.sealed_private.contains("PRIVATE KEY")), "private halves are sealed");
        // Another tenant's keyring context cannot unseal them.
        let copied = StoredKeySet { keys: stored.keys.clone(), version: 1 };
        store.put_keys("other", &copied, 0).await.unwrap();
        assert!(matches!(
            load(&store, &keyring, "other", 1000).await,
            Err(KeysError::Keyring(_) | KeysError::Unseal(_))
        ));
        // Loading again reads the same keys.
        assert_eq!(load(&store, &keyring, "acme", 1001).await.unwrap().signing_key().unwrap().kid(), active);
    }

    #[tokio::test]
    async fn rotation_publishes_next_and_retired_keys_then_drops_old_ones() {
        let store = MemoryOAuthStore::new();
        let keyring = StaticKeyring::new([7; 32]);
        let before = load(&store, &keyring, "acme", 1000).await.unwrap();
        let old = before.signing_key().unwrap().kid().to_owned();
        let pending = before.keys().iter().find(|k| k.state() == KeyState::Pending).unwrap().kid().to_owned();
        assert_eq!(rotate(&store, &keyring, "acme", SigningAlg::ES256, 2000).await.unwrap(), pending);
        let stored = store.get_keys("acme").await.unwrap();
        let published: Vec<String> = jwks(&stored, 2000).keys.into_iter().map(|k| k.kid).collect();
        assert_eq!(published.len(), 3);
        assert_eq!(published[0], pending, "the active key comes first");
        assert_eq!(published[2], old, "the retired key stays published");
        let later = 2000 + RETIRED_KEEP_SECS + 1;
        assert!(!jwks(&stored, later).keys.iter().any(|k| k.kid == old), "retired keys expire from the JWKS");
        rotate(&store, &keyring, "acme", SigningAlg::RS256, later).await.unwrap();
        let stored = store.get_keys("acme").await.unwrap();
        assert!(!stored.keys.iter().any(|k| k.kid == old), "and from storage at the next rotation");
        assert!(stored.keys.iter().any(|k| k.alg == SigningAlg::RS256 && k.state == KeyState::Pending));
    }
}
