//! The [`Users`] service: what the API (administration) and the OAuth function (sign-in, invitations) call.

use std::sync::{Arc, OnceLock};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hw_domain::FieldError;
use sha2::{Digest, Sha256};

use crate::password::{self, HashParams};
use crate::policy;
use crate::ports::{InvitationOps, InvitationRecord, StoreError, StoredUser, UserStore};
use crate::{Invitation, InvitationError, LoginError, NewUser, User, UserPatch, UserStatus, UsersError};

/// How long an invitation token is valid: 7 days.
pub const INVITATION_TTL_SECS: i64 = 7 * 86_400;
/// Longest token accepted before hashing (ours are 43 characters).
const MAX_TOKEN_LEN: usize = 128;

/// Sign-in throttling against password guessing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttling {
    /// Failures for one username, each within `window_secs` of the previous one, before it is locked.
    pub username_threshold: u32,
    /// Failures from one client address (any username) before it is locked.
    pub ip_threshold: u32,
    pub window_secs: i64,
    /// The first lock; each further failure doubles it, up to `max_lock_secs`.
    pub first_lock_secs: i64,
    pub max_lock_secs: i64,
}

impl Default for Throttling {
    fn default() -> Self {
        Self { username_threshold: 5, ip_threshold: 20, window_secs: 15 * 60, first_lock_secs: 60, max_lock_secs: 3600 }
    }
}

impl Throttling {
    /// How long `failures` failures lock a subject whose threshold is `threshold` (0: not locked).
    pub fn lock_secs(&self, failures: u32, threshold: u32) -> i64 {
        if failures < threshold {
            return 0;
        }
        let doublings = (failures - threshold).min(30);
        self.first_lock_secs.saturating_mul(1i64 << doublings).min(self.max_lock_secs)
    }
}

type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// Tenant users: accounts, passwords, invitations and sign-in.
pub struct Users {
    store: Arc<dyn UserStore>,
    params: HashParams,
    throttling: Throttling,
    /// A hash of nothing anyone knows, verified when the username does not exist so that the answer takes as long.
    dummy: OnceLock<String>,
    clock: Clock,
}

fn username_subject(username: &str) -> String {
    format!("N#{username}")
}

fn ip_subject(ip: &str) -> String {
    format!("IP#{ip}")
}

/// RFC 3339 (UTC, seconds) of epoch seconds.
fn rfc3339(secs: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp(secs, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The stored form of an invitation token.
pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

fn store_error(e: StoreError) -> LoginError {
    LoginError::Store(e.to_string())
}

impl Users {
    /// Production argon2id parameters (OWASP: m=19456 KiB, t=2, p=1).
    pub fn new(store: Arc<dyn UserStore>) -> Self {
        Self::with_params(store, HashParams::PRODUCTION)
    }

    /// Cheap argon2id parameters, so tests are fast. Never in production.
    pub fn for_tests(store: Arc<dyn UserStore>) -> Self {
        Self::with_params(store, HashParams::TESTS)
    }

    pub fn with_params(store: Arc<dyn UserStore>, params: HashParams) -> Self {
        Self {
            store,
            params,
            throttling: Throttling::default(),
            dummy: OnceLock::new(),
            clock: Arc::new(|| chrono::Utc::now().timestamp()),
        }
    }

    pub fn with_throttling(mut self, throttling: Throttling) -> Self {
        self.throttling = throttling;
        self
    }

    /// Replaces the clock (epoch seconds); tests move time with it.
    pub fn with_clock(mut self, clock: impl Fn() -> i64 + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    pub fn store(&self) -> &Arc<dyn UserStore> {
        &self.store
    }

    fn now(&self) -> i64 {
        (self.clock)()
    }

    fn dummy_hash(&self) -> String {
        self.dummy
            .get_or_init(|| {
                password::hash(self.params, &URL_SAFE_NO_PAD.encode(rand::random::<[u8; 24]>()))
                    .expect("hashing a random password")
            })
            .clone()
    }

    /// Checks a sign-in. Unknown usernames, wrong passwords and users that may not sign in (invited, disabled) all
    /// answer `InvalidCredentials`, after the same hash verification. While the username (or `client_ip`) is locked
    /// the answer is `Throttled` and the password is not checked.
    pub async fn verify_login(
        &self,
        tenant: &str,
        username: &str,
        password: &str,
        client_ip: Option<&str>,
    ) -> Result<User, LoginError> {
        let now = self.now();
        // Only names that could exist get a counter (so a stranger cannot fill the table with arbitrary keys).
        let name = policy::username(username).ok();
        let name_subject = name.as_deref().map(username_subject);
        let ip = client_ip.map(str::trim).filter(|ip| !ip.is_empty() && ip.len() <= 64);
        let ip_subject = ip.map(ip_subject);
        let (by_name, by_ip) = tokio::join!(
            async {
                match &name_subject {
                    Some(s) => self.store.counter(tenant, s, now).await,
                    None => Ok(None),
                }
            },
            async {
                match &ip_subject {
                    Some(s) => self.store.counter(tenant, s, now).await,
                    None => Ok(None),
                }
            }
        );
        let (by_name, by_ip) = (by_name.map_err(store_error)?, by_ip.map_err(store_error)?);
        let locked_until = by_name.iter().chain(by_ip.iter()).map(|c| c.locked_until).max().unwrap_or(0);
        if locked_until > now {
            return Err(LoginError::Throttled { retry_after_secs: (locked_until - now) as u64 });
        }

        let stored = match &name {
            Some(n) => self.store.find_by_username(tenant, n).await.map_err(store_error)?,
            None => None,
        };
        let candidate =
            stored.as_ref().filter(|s| s.user.status == UserStatus::Active).and_then(|s| s.password_hash.clone());
        let matched = match candidate {
            Some(hash) => password::verify_blocking(hash, password.to_owned()).await,
            None => {
                // Same work as a real check, and never a match.
                password::verify_blocking(self.dummy_hash(), password.to_owned()).await;
                false
            }
        };

        if matched {
            let stored = stored.expect("matched a stored user");
            if by_name.is_some_and(|c| c.failures > 0)
                && let Some(s) = &name_subject
                && let Err(e) = self.store.reset(tenant, s).await
            {
                tracing::warn!(error = %e, "could not reset the sign-in failure counter");
            }
            self.rehash_if_needed(tenant, &stored, password).await;
            return Ok(stored.user);
        }

        let t = self.throttling;
        let expires = now + t.window_secs;
        for (subject, threshold) in [(name_subject, t.username_threshold), (ip_subject, t.ip_threshold)] {
            let Some(subject) = subject else { continue };
            let counter = self.store.add_failure(tenant, &subject, now, expires).await.map_err(store_error)?;
            let lock = t.lock_secs(counter.failures, threshold);
            if lock > 0 {
                self.store.lock(tenant, &subject, now + lock, now + lock + t.window_secs).await.map_err(store_error)?;
            }
        }
        Err(LoginError::InvalidCredentials)
    }

    /// Best effort: a hash made with other parameters is replaced by one with the current ones.
    async fn rehash_if_needed(&self, tenant: &str, stored: &StoredUser, password: &str) {
        let Some(hash) = &stored.password_hash else { return };
        if !password::needs_rehash(hash, self.params) {
            return;
        }
        let Ok(new_hash) = password::hash_blocking(self.params, password.to_owned()).await else { return };
        let mut next = stored.clone();
        next.password_hash = Some(new_hash);
        next.version += 1;
        if let Err(e) = self.store.update(tenant, &next, stored.version, &InvitationOps::default()).await {
            tracing::info!(error = %e, "could not rehash a password; it will be on a later sign-in");
        }
    }

    pub async fn get(&self, tenant: &str, id: &str) -> Result<Option<User>, UsersError> {
        Ok(self.store.get(tenant, id).await?.map(|s| s.user))
    }

    pub async fn get_by_username(&self, tenant: &str, username: &str) -> Result<Option<User>, UsersError> {
        let Ok(name) = policy::username(username) else { return Ok(None) };
        Ok(self.store.find_by_username(tenant, &name).await?.map(|s| s.user))
    }

    /// The tenant's users in creation order, `limit` at most, after the user `after`; the second value continues.
    pub async fn list(
        &self,
        tenant: &str,
        status: Option<UserStatus>,
        limit: usize,
        after: Option<&str>,
    ) -> Result<(Vec<User>, Option<String>), UsersError> {
        let (users, next) = self.store.list(tenant, status, limit, after).await?;
        Ok((users.into_iter().map(|s| s.user).collect(), next))
    }

    /// Creates a user: `active` with a password, or `invited` with a one-time invitation token (shown only here).
    pub async fn create(&self, tenant: &str, input: NewUser) -> Result<(User, Option<Invitation>), UsersError> {
        let mut errors = Vec::new();
        let username = policy::username(&input.username).map_err(|e| errors.push(e)).ok();
        let name = policy::name(&input.name).map_err(|e| errors.push(e)).ok();
        let email = policy::email(input.email.as_deref()).map_err(|e| errors.push(e)).ok().flatten();
        let permissions = policy::permissions(&input.permissions).map_err(|e| errors.extend(e)).ok();
        match (&input.password, input.invite) {
            (Some(_), true) => errors.push(FieldError::new(
                "/password",
                "not-allowed",
                "an invited user chooses its own password; send either `password` or `invite: true`",
            )),
            (None, false) => {
                errors.push(FieldError::new("/password", "required", "send a `password`, or `invite: true`"))
            }
            (Some(p), false) => {
                if let Err(e) = policy::password(p, username.as_deref().unwrap_or(input.username.trim())) {
                    errors.push(e);
                }
            }
            (None, true) => {}
        }
        let (Some(username), Some(name), Some(permissions)) = (username, name, permissions) else {
            return Err(UsersError::Invalid(errors));
        };
        if !errors.is_empty() {
            return Err(UsersError::Invalid(errors));
        }
        let password_hash = match input.password {
            Some(p) => {
                Some(password::hash_blocking(self.params, p).await.map_err(|e| UsersError::Store(e.to_string()))?)
            }
            None => None,
        };
        let now = self.now();
        let id = hw_domain::ids::new_prefixed("usr");
        let (invitation, record) = if input.invite {
            let (inv, rec) = self.new_invitation(&id, now);
            (Some(inv), Some(rec))
        } else {
            (None, None)
        };
        let user = User {
            id,
            username: username.clone(),
            email,
            name,
            status: if input.invite { UserStatus::Invited } else { UserStatus::Active },
            permissions,
            created_at: rfc3339(now),
            updated_at: rfc3339(now),
        };
        let stored = StoredUser {
            user: user.clone(),
            password_hash,
            invitation_hash: record.as_ref().map(|r| r.token_hash.clone()),
            version: 1,
        };
        match self.store.create(tenant, &stored, record.as_ref()).await {
            Ok(()) => Ok((user, invitation)),
            Err(StoreError::AlreadyExists) => Err(UsersError::UsernameTaken(username)),
            Err(e) => Err(e.into()),
        }
    }

    fn new_invitation(&self, user_id: &str, now: i64) -> (Invitation, InvitationRecord) {
        let token = new_token();
        let expires_at = now + INVITATION_TTL_SECS;
        let record = InvitationRecord { token_hash: token_hash(&token), user_id: user_id.to_owned(), expires_at };
        (Invitation { token, expires_at: rfc3339(expires_at) }, record)
    }

    async fn stored(&self, tenant: &str, id: &str) -> Result<StoredUser, UsersError> {
        self.store.get(tenant, id).await?.ok_or(UsersError::NotFound)
    }

    /// The user with `if_match` checked against its version (`None`: any version).
    async fn stored_at(&self, tenant: &str, id: &str, if_match: Option<u64>) -> Result<StoredUser, UsersError> {
        let current = self.stored(tenant, id).await?;
        match if_match {
            Some(v) if v != current.version => Err(UsersError::PreconditionFailed { current: current.version }),
            _ => Ok(current),
        }
    }

    /// The user and its version (the API's ETag; `update`, `set_password` and `delete` take it as `if_match`).
    pub async fn get_versioned(&self, tenant: &str, id: &str) -> Result<Option<(User, u64)>, UsersError> {
        Ok(self.store.get(tenant, id).await?.map(|s| (s.user, s.version)))
    }

    /// A new invitation for a user that is still `invited`; the previous token stops working.
    pub async fn invite(&self, tenant: &str, id: &str) -> Result<Invitation, UsersError> {
        let current = self.stored(tenant, id).await?;
        if current.user.status != UserStatus::Invited {
            return Err(UsersError::WrongState(format!(
                "the user is {}; only an invited user can be invited again",
                current.user.status.as_str()
            )));
        }
        let now = self.now();
        let (invitation, record) = self.new_invitation(id, now);
        let mut next = current.clone();
        next.invitation_hash = Some(record.token_hash.clone());
        next.user.updated_at = rfc3339(now);
        next.version += 1;
        let ops = InvitationOps { remove: current.invitation_hash.clone(), put: Some(record), ..Default::default() };
        self.store.update(tenant, &next, current.version, &ops).await?;
        Ok(invitation)
    }

    /// Sets the password of an invited user from its invitation token (once): the user becomes `active`.
    pub async fn accept_invitation(&self, tenant: &str, token: &str, password: &str) -> Result<User, InvitationError> {
        let store = |e: StoreError| InvitationError::Store(e.to_string());
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return Err(InvitationError::InvalidToken);
        }
        let now = self.now();
        let hash = token_hash(token);
        let record = self.store.invitation(tenant, &hash).await.map_err(store)?;
        let Some(record) = record.filter(|r| r.expires_at > now) else { return Err(InvitationError::InvalidToken) };
        let current = self.store.get(tenant, &record.user_id).await.map_err(store)?;
        let Some(current) = current
            .filter(|c| c.user.status == UserStatus::Invited && c.invitation_hash.as_deref() == Some(hash.as_str()))
        else {
            return Err(InvitationError::InvalidToken);
        };
        policy::password(password, &current.user.username).map_err(|e| InvitationError::Invalid(vec![e]))?;
        let new_hash = password::hash_blocking(self.params, password.to_owned())
            .await
            .map_err(|e| InvitationError::Store(e.to_string()))?;
        let mut next = current.clone();
        next.password_hash = Some(new_hash);
        next.invitation_hash = None;
        next.user.status = UserStatus::Active;
        next.user.updated_at = rfc3339(now);
        next.version += 1;
        let ops = InvitationOps { consume: Some((hash, now)), ..Default::default() };
        match self.store.update(tenant, &next, current.version, &ops).await {
            Ok(()) => Ok(next.user),
            // Used, superseded or expired in the meantime.
            Err(StoreError::Conflict) => Err(InvitationError::InvalidToken),
            Err(e) => Err(store(e)),
        }
    }

    /// Changes a user's name, e-mail, permissions or status (`active` ↔ `disabled`), if it is at version
    /// `if_match` (when given); answers the user and its new version.
    pub async fn update(
        &self,
        tenant: &str,
        id: &str,
        patch: UserPatch,
        if_match: Option<u64>,
    ) -> Result<(User, u64), UsersError> {
        let mut errors = Vec::new();
        let name = patch.name.as_deref().map(policy::name).transpose().map_err(|e| errors.push(e)).ok().flatten();
        let email = match &patch.email {
            None => None,
            Some(e) => policy::email(e.as_deref()).map_err(|e| errors.push(e)).ok(),
        };
        let permissions = patch
            .permissions
            .as_deref()
            .map(policy::permissions)
            .transpose()
            .map_err(|e| errors.extend(e))
            .ok()
            .flatten();
        if patch.status == Some(UserStatus::Invited) {
            errors.push(FieldError::new("/status", "invalid-value", "the status can be set to `active` or `disabled`"));
        }
        if !errors.is_empty() {
            return Err(UsersError::Invalid(errors));
        }
        let current = self.stored_at(tenant, id, if_match).await?;
        if patch.status == Some(UserStatus::Active) && current.user.status == UserStatus::Invited {
            return Err(UsersError::WrongState(
                "an invited user becomes active by accepting its invitation or being given a password".into(),
            ));
        }
        let mut next = current.clone();
        if let Some(n) = name {
            next.user.name = n;
        }
        if let Some(e) = email {
            next.user.email = e;
        }
        if let Some(p) = permissions {
            next.user.permissions = p;
        }
        if let Some(s) = patch.status {
            next.user.status = s;
        }
        if next == current {
            return Ok((current.user, current.version));
        }
        next.user.updated_at = rfc3339(self.now());
        next.version += 1;
        self.store.update(tenant, &next, current.version, &InvitationOps::default()).await?;
        Ok((next.user, next.version))
    }

    /// Sets a user's password (an administrator's action). An invited user becomes active and its invitation
    /// stops working; a disabled one stays disabled. The username's failure counter is cleared.
    pub async fn set_password(
        &self,
        tenant: &str,
        id: &str,
        password: &str,
        if_match: Option<u64>,
    ) -> Result<(User, u64), UsersError> {
        let current = self.stored_at(tenant, id, if_match).await?;
        policy::password(password, &current.user.username).map_err(|e| UsersError::Invalid(vec![e]))?;
        let hash = password::hash_blocking(self.params, password.to_owned())
            .await
            .map_err(|e| UsersError::Store(e.to_string()))?;
        let mut next = current.clone();
        next.password_hash = Some(hash);
        next.invitation_hash = None;
        if next.user.status == UserStatus::Invited {
            next.user.status = UserStatus::Active;
        }
        next.user.updated_at = rfc3339(self.now());
        next.version += 1;
        let ops = InvitationOps { remove: current.invitation_hash.clone(), ..Default::default() };
        self.store.update(tenant, &next, current.version, &ops).await?;
        if let Err(e) = self.store.reset(tenant, &username_subject(&next.user.username)).await {
            tracing::warn!(error = %e, "could not reset the sign-in failure counter");
        }
        Ok((next.user, next.version))
    }

    /// Deletes a user with its username claim and invitation; the username is free again.
    pub async fn delete(&self, tenant: &str, id: &str, if_match: Option<u64>) -> Result<(), UsersError> {
        let current = self.stored_at(tenant, id, if_match).await?;
        self.store.delete(tenant, &current).await?;
        Ok(())
    }
}
