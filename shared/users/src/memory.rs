//! The in-memory adapter, for tests: the same conditions as the DynamoDB one.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;

use crate::UserStatus;
use crate::ports::{Counter, InvitationOps, InvitationRecord, StoreError, StoredUser, UserStore};

#[derive(Default)]
struct Tenant {
    /// id → user; ids sort by creation.
    users: BTreeMap<String, StoredUser>,
    /// username → id
    names: HashMap<String, String>,
    /// token hash → invitation
    invitations: HashMap<String, InvitationRecord>,
    /// subject → (counter, expires_at)
    counters: HashMap<String, (Counter, i64)>,
}

#[derive(Default)]
pub struct MemoryUsers {
    tenants: Mutex<HashMap<String, Tenant>>,
}

impl MemoryUsers {
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, tenant: &str, f: impl FnOnce(&mut Tenant) -> T) -> T {
        let mut all = self.tenants.lock().expect("not poisoned");
        f(all.entry(tenant.to_owned()).or_default())
    }

    /// How many invitations the tenant has stored (tests check that old ones are gone).
    pub fn invitation_count(&self, tenant: &str) -> usize {
        self.with(tenant, |t| t.invitations.len())
    }
}

#[async_trait]
impl UserStore for MemoryUsers {
    async fn create(
        &self,
        tenant: &str,
        user: &StoredUser,
        invitation: Option<&InvitationRecord>,
    ) -> Result<(), StoreError> {
        self.with(tenant, |t| {
            if t.names.contains_key(&user.user.username) {
                return Err(StoreError::AlreadyExists);
            }
            if t.users.contains_key(&user.user.id) {
                return Err(StoreError::Conflict);
            }
            t.names.insert(user.user.username.clone(), user.user.id.clone());
            t.users.insert(user.user.id.clone(), user.clone());
            if let Some(i) = invitation {
                t.invitations.insert(i.token_hash.clone(), i.clone());
            }
            Ok(())
        })
    }

    async fn get(&self, tenant: &str, id: &str) -> Result<Option<StoredUser>, StoreError> {
        Ok(self.with(tenant, |t| t.users.get(id).cloned()))
    }

    async fn find_by_username(&self, tenant: &str, username: &str) -> Result<Option<StoredUser>, StoreError> {
        Ok(self.with(tenant, |t| t.names.get(username).and_then(|id| t.users.get(id)).cloned()))
    }

    async fn list(
        &self,
        tenant: &str,
        status: Option<UserStatus>,
        limit: usize,
        after: Option<&str>,
    ) -> Result<(Vec<StoredUser>, Option<String>), StoreError> {
        Ok(self.with(tenant, |t| {
            let mut page: Vec<StoredUser> = t
                .users
                .iter()
                .filter(|(id, _)| after.is_none_or(|a| id.as_str() > a))
                .filter(|(_, u)| status.is_none_or(|s| u.user.status == s))
                .take(limit + 1)
                .map(|(_, u)| u.clone())
                .collect();
            let next = if page.len() > limit {
                page.truncate(limit);
                page.last().map(|u| u.user.id.clone())
            } else {
                None
            };
            (page, next)
        }))
    }

    async fn update(
        &self,
        tenant: &str,
        user: &StoredUser,
        expected_version: u64,
        ops: &InvitationOps,
    ) -> Result<(), StoreError> {
        self.with(tenant, |t| {
            let current = t.users.get(&user.user.id).ok_or(StoreError::Conflict)?;
            if current.version != expected_version {
                return Err(StoreError::Conflict);
            }
            if let Some((hash, now)) = &ops.consume {
                match t.invitations.get(hash) {
                    Some(i) if i.user_id == user.user.id && i.expires_at > *now => {}
                    _ => return Err(StoreError::Conflict),
                }
                t.invitations.remove(hash);
            }
            if let Some(hash) = &ops.remove {
                t.invitations.remove(hash);
            }
            if let Some(i) = &ops.put {
                t.invitations.insert(i.token_hash.clone(), i.clone());
            }
            t.users.insert(user.user.id.clone(), user.clone());
            Ok(())
        })
    }

    async fn invitation(&self, tenant: &str, token_hash: &str) -> Result<Option<InvitationRecord>, StoreError> {
        Ok(self.with(tenant, |t| t.invitations.get(token_hash).cloned()))
    }

    async fn delete(&self, tenant: &str, user: &StoredUser) -> Result<(), StoreError> {
        self.with(tenant, |t| {
            t.users.remove(&user.user.id);
            if t.names.get(&user.user.username) == Some(&user.user.id) {
                t.names.remove(&user.user.username);
            }
            if let Some(h) = &user.invitation_hash {
                t.invitations.remove(h);
            }
            Ok(())
        })
    }

    async fn counter(&self, tenant: &str, subject: &str, now: i64) -> Result<Option<Counter>, StoreError> {
        Ok(self.with(tenant, |t| t.counters.get(subject).filter(|(_, exp)| *exp > now).map(|(c, _)| *c)))
    }

    async fn add_failure(&self, tenant: &str, subject: &str, now: i64, expires_at: i64) -> Result<Counter, StoreError> {
        Ok(self.with(tenant, |t| {
            let entry = t.counters.entry(subject.to_owned()).or_insert((Counter::default(), 0));
            if entry.1 <= now {
                *entry = (Counter::default(), 0);
            }
            entry.0.failures += 1;
            entry.1 = entry.1.max(expires_at);
            entry.0
        }))
    }

    async fn lock(&self, tenant: &str, subject: &str, until: i64, expires_at: i64) -> Result<(), StoreError> {
        self.with(tenant, |t| {
            let entry = t.counters.entry(subject.to_owned()).or_insert((Counter::default(), 0));
            entry.0.locked_until = until;
            entry.1 = entry.1.max(expires_at);
        });
        Ok(())
    }

    async fn reset(&self, tenant: &str, subject: &str) -> Result<(), StoreError> {
        self.with(tenant, |t| t.counters.remove(subject));
        Ok(())
    }
}
