//! In-memory adapter of [`OAuthStore`], for handler tests. It keeps the conditional semantics of the DynamoDB
//! adapter (first redemption wins, rotation only of the current token) so the tests exercise the same rules.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;

use crate::model::*;
use crate::ports::{OAuthStore, Redemption, Rotation, StoreError};

#[derive(Default)]
struct State {
    clients: BTreeMap<(String, String), StoredClient>,
    keys: HashMap<String, StoredKeySet>,
    codes: HashMap<(String, String), (CodeGrant, Option<String>)>,
    families: BTreeMap<(String, String), RefreshFamily>,
    consents: BTreeMap<(String, String, String), Consent>,
    sessions: HashMap<(String, String), Session>,
    assertions: HashMap<(String, String, String), i64>,
    revoked: HashMap<(String, String), (i64, i64)>,
}

#[derive(Default)]
pub struct MemoryOAuthStore {
    state: Mutex<State>,
}

impl MemoryOAuthStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().expect("not poisoned"))
    }
}

fn k(tenant: &str, id: &str) -> (String, String) {
    (tenant.to_owned(), id.to_owned())
}

#[async_trait]
impl OAuthStore for MemoryOAuthStore {
    async fn create_client(&self, tenant: &str, client: &StoredClient) -> Result<(), StoreError> {
        self.with(|s| {
            if s.clients.contains_key(&k(tenant, &client.id)) {
                return Err(StoreError::Conflict(format!("client {} exists", client.id)));
            }
            s.clients.insert(k(tenant, &client.id), client.clone());
            Ok(())
        })
    }

    async fn update_client(&self, tenant: &str, client: &StoredClient, expected: u64) -> Result<(), StoreError> {
        self.with(|s| match s.clients.get_mut(&k(tenant, &client.id)) {
            Some(c) if c.version == expected => {
                *c = client.clone();
                Ok(())
            }
            _ => Err(StoreError::Conflict(format!("client {} changed or is gone", client.id))),
        })
    }

    async fn get_client(&self, tenant: &str, id: &str) -> Result<Option<StoredClient>, StoreError> {
        Ok(self.with(|s| s.clients.get(&k(tenant, id)).cloned()))
    }

    async fn list_clients(&self, tenant: &str) -> Result<Vec<StoredClient>, StoreError> {
        Ok(self.with(|s| s.clients.iter().filter(|((t, _), _)| t == tenant).map(|(_, c)| c.clone()).collect()))
    }

    async fn delete_client(&self, tenant: &str, id: &str) -> Result<bool, StoreError> {
        Ok(self.with(|s| s.clients.remove(&k(tenant, id)).is_some()))
    }

    async fn get_keys(&self, tenant: &str) -> Result<StoredKeySet, StoreError> {
        Ok(self.with(|s| s.keys.get(tenant).cloned().unwrap_or_default()))
    }

    async fn put_keys(&self, tenant: &str, keys: &StoredKeySet, expected: u64) -> Result<(), StoreError> {
        self.with(|s| {
            let current = s.keys.get(tenant).map_or(0, |k| k.version);
            if current != expected {
                return Err(StoreError::Conflict("the key set changed".into()));
            }
            s.keys.insert(tenant.to_owned(), keys.clone());
            Ok(())
        })
    }

    async fn put_code(&self, tenant: &str, code: &CodeGrant) -> Result<(), StoreError> {
        self.with(|s| s.codes.insert(k(tenant, &code.code_hash), (code.clone(), None)));
        Ok(())
    }

    async fn redeem_code(&self, tenant: &str, code_hash: &str, grant_id: &str) -> Result<Redemption, StoreError> {
        Ok(self.with(|s| match s.codes.get_mut(&k(tenant, code_hash)) {
            None => Redemption::Unknown,
            Some((grant, Some(id))) => Redemption::AlreadyRedeemed { grant: grant.clone(), grant_id: id.clone() },
            Some((grant, redeemed)) => {
                *redeemed = Some(grant_id.to_owned());
                Redemption::Redeemed(grant.clone())
            }
        }))
    }

    async fn create_family(&self, tenant: &str, family: &RefreshFamily) -> Result<(), StoreError> {
        self.with(|s| s.families.insert(k(tenant, &family.id), family.clone()));
        Ok(())
    }

    async fn get_family(&self, tenant: &str, id: &str) -> Result<Option<RefreshFamily>, StoreError> {
        Ok(self.with(|s| s.families.get(&k(tenant, id)).cloned()))
    }

    async fn rotate_family(
        &self,
        tenant: &str,
        id: &str,
        presented: &str,
        new_hash: &str,
        new_expires_at: i64,
        now: i64,
    ) -> Result<Rotation, StoreError> {
        Ok(self.with(|s| match s.families.get_mut(&k(tenant, id)) {
            None => Rotation::Unknown,
            Some(f) if f.revoked_at.is_some() => Rotation::Revoked,
            Some(f) if f.current_hash != presented => {
                f.revoked_at = Some(now);
                Rotation::Reused(f.clone())
            }
            Some(f) if f.token_expires_at <= now => Rotation::Unknown,
            Some(f) => {
                f.current_hash = new_hash.to_owned();
                f.token_expires_at = new_expires_at;
                f.generation += 1;
                Rotation::Rotated(f.clone())
            }
        }))
    }

    async fn revoke_family(&self, tenant: &str, id: &str, now: i64) -> Result<(), StoreError> {
        self.with(|s| {
            if let Some(f) = s.families.get_mut(&k(tenant, id)) {
                f.revoked_at.get_or_insert(now);
            }
        });
        Ok(())
    }

    async fn list_families(&self, tenant: &str, user_id: &str, client_id: &str) -> Result<Vec<String>, StoreError> {
        let prefix = format!("{user_id}#{client_id}#");
        Ok(self.with(|s| {
            s.families
                .keys()
                .filter(|(t, id)| t == tenant && id.starts_with(&prefix))
                .map(|(_, id)| id.clone())
                .collect()
        }))
    }

    async fn put_consent(&self, tenant: &str, consent: &Consent) -> Result<(), StoreError> {
        let key = (tenant.to_owned(), consent.user_id.clone(), consent.client_id.clone());
        self.with(|s| s.consents.insert(key, consent.clone()));
        Ok(())
    }

    async fn get_consent(&self, tenant: &str, user: &str, client: &str) -> Result<Option<Consent>, StoreError> {
        Ok(self.with(|s| s.consents.get(&(tenant.to_owned(), user.to_owned(), client.to_owned())).cloned()))
    }

    async fn list_consents(&self, tenant: &str, user: &str) -> Result<Vec<Consent>, StoreError> {
        Ok(self.with(|s| {
            s.consents.iter().filter(|((t, u, _), _)| t == tenant && u == user).map(|(_, c)| c.clone()).collect()
        }))
    }

    async fn delete_consent(&self, tenant: &str, user: &str, client: &str) -> Result<bool, StoreError> {
        Ok(self.with(|s| s.consents.remove(&(tenant.to_owned(), user.to_owned(), client.to_owned())).is_some()))
    }

    async fn put_session(&self, tenant: &str, session: &Session) -> Result<(), StoreError> {
        self.with(|s| s.sessions.insert(k(tenant, &session.cookie_hash), session.clone()));
        Ok(())
    }

    async fn get_session(&self, tenant: &str, cookie_hash: &str) -> Result<Option<Session>, StoreError> {
        Ok(self.with(|s| s.sessions.get(&k(tenant, cookie_hash)).cloned()))
    }

    async fn delete_session(&self, tenant: &str, cookie_hash: &str) -> Result<(), StoreError> {
        self.with(|s| s.sessions.remove(&k(tenant, cookie_hash)));
        Ok(())
    }

    async fn claim_assertion(&self, tenant: &str, client: &str, jti: &str, until: i64) -> Result<bool, StoreError> {
        let key = (tenant.to_owned(), client.to_owned(), jti.to_owned());
        Ok(self.with(|s| s.assertions.insert(key, until).is_none()))
    }

    async fn mark_revoked(&self, tenant: &str, what: &Revoked, at: i64, until: i64) -> Result<(), StoreError> {
        self.with(|s| s.revoked.insert(k(tenant, &what.key()), (at, until)));
        Ok(())
    }

    async fn any_revoked(&self, tenant: &str, what: &[Revoked], issued_at: i64, now: i64) -> Result<bool, StoreError> {
        Ok(self.with(|s| {
            what.iter().any(|w| {
                s.revoked.get(&k(tenant, &w.key())).is_some_and(|(at, until)| *until > now && *at >= issued_at)
            })
        }))
    }
}
