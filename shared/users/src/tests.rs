//! The service on the in-memory adapter, with a clock the tests move.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use crate::memory::MemoryUsers;
use crate::{InvitationError, LoginError, NewUser, UserPatch, UserStatus, Users, UsersError};

const T0: i64 = 1_800_000_000;
const PASSWORD: &str = "correct horse battery";

struct World {
    users: Users,
    store: Arc<MemoryUsers>,
    clock: Arc<AtomicI64>,
}

impl World {
    fn advance(&self, secs: i64) {
        self.clock.fetch_add(secs, Ordering::SeqCst);
    }
}

fn world() -> World {
    let store = Arc::new(MemoryUsers::new());
    let clock = Arc::new(AtomicI64::new(T0));
    let c = clock.clone();
    let users = Users::for_tests(store.clone()).with_clock(move || c.load(Ordering::SeqCst));
    World { users, store, clock }
}

fn new_user(username: &str, password: Option<&str>) -> NewUser {
    NewUser {
        username: username.into(),
        name: "Ada Lovelace".into(),
        email: Some("ada@example.com".into()),
        permissions: vec!["data:read".into()],
        password: password.map(str::to_owned),
        invite: password.is_none(),
    }
}

async fn active(w: &World, username: &str) -> crate::User {
    w.users.create("acme", new_user(username, Some(PASSWORD))).await.unwrap().0
}

#[tokio::test]
async fn a_user_with_a_password_signs_in() {
    let w = world();
    let (user, invitation) = w.users.create("acme", new_user("Ada@Example.com", Some(PASSWORD))).await.unwrap();
    assert!(invitation.is_none());
    assert_eq!(user.username, "ada@example.com");
    assert_eq!(user.status, UserStatus::Active);
    assert!(user.id.starts_with("usr_"));
    let got = w.users.verify_login("acme", "ADA@example.com", PASSWORD, Some("10.0.0.1")).await.unwrap();
    assert_eq!(got, user);
    assert_eq!(w.users.get("acme", &user.id).await.unwrap(), Some(user.clone()));
    // another tenant knows nothing of it
    assert_eq!(
        w.users.verify_login("other", "ada@example.com", PASSWORD, None).await,
        Err(LoginError::InvalidCredentials)
    );
    assert_eq!(w.users.get("other", &user.id).await.unwrap(), None);
}

#[tokio::test]
async fn wrong_passwords_and_unknown_users_get_the_same_answer() {
    let w = world();
    active(&w, "ada").await;
    let wrong = w.users.verify_login("acme", "ada", "not the password", None).await;
    let unknown = w.users.verify_login("acme", "grace", PASSWORD, None).await;
    let invalid_name = w.users.verify_login("acme", "a b", PASSWORD, None).await;
    assert_eq!(wrong, Err(LoginError::InvalidCredentials));
    assert_eq!(unknown, Err(LoginError::InvalidCredentials));
    assert_eq!(invalid_name, Err(LoginError::InvalidCredentials));
}

#[tokio::test]
async fn the_password_policy_is_enforced_with_pointers() {
    let w = world();
    for (password, code) in [("short", "too-short"), ("aaaaaaaaaaaa", "too-weak"), ("ada.lovelace", "same-as-username")]
    {
        let err = w.users.create("acme", new_user("ada.lovelace", Some(password))).await.unwrap_err();
        let UsersError::Invalid(errors) = err else { panic!("{err:?}") };
        assert_eq!((errors[0].pointer.as_str(), errors[0].code), ("/password", code));
    }
    let mut bad = new_user("x", Some(PASSWORD));
    bad.email = Some("nope".into());
    bad.permissions = vec!["root".into()];
    bad.name = " ".into();
    let UsersError::Invalid(errors) = w.users.create("acme", bad).await.unwrap_err() else { panic!() };
    let pointers: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
    assert_eq!(pointers, ["/username", "/name", "/email", "/permissions/0"]);
    let mut both = new_user("ada", Some(PASSWORD));
    both.invite = true;
    let UsersError::Invalid(errors) = w.users.create("acme", both).await.unwrap_err() else { panic!() };
    assert_eq!(errors[0].code, "not-allowed");
    let mut neither = new_user("ada", None);
    neither.invite = false;
    let UsersError::Invalid(errors) = w.users.create("acme", neither).await.unwrap_err() else { panic!() };
    assert_eq!(errors[0].code, "required");
}

#[tokio::test]
async fn usernames_are_unique_per_tenant() {
    let w = world();
    active(&w, "ada").await;
    let err = w.users.create("acme", new_user("ADA", Some(PASSWORD))).await.unwrap_err();
    assert_eq!(err, UsersError::UsernameTaken("ada".into()));
    w.users.create("other", new_user("ada", Some(PASSWORD))).await.unwrap();
}

#[tokio::test]
async fn disabled_and_invited_users_cannot_sign_in() {
    let w = world();
    let ada = active(&w, "ada").await;
    w.users
        .update("acme", &ada.id, UserPatch { status: Some(UserStatus::Disabled), ..Default::default() }, None)
        .await
        .unwrap();
    assert_eq!(w.users.verify_login("acme", "ada", PASSWORD, None).await, Err(LoginError::InvalidCredentials));
    // kept, and can be enabled again
    assert_eq!(w.users.get("acme", &ada.id).await.unwrap().unwrap().status, UserStatus::Disabled);
    w.users
        .update("acme", &ada.id, UserPatch { status: Some(UserStatus::Active), ..Default::default() }, None)
        .await
        .unwrap();
    w.users.verify_login("acme", "ada", PASSWORD, None).await.unwrap();

    let (grace, _) = w.users.create("acme", new_user("grace", None)).await.unwrap();
    assert_eq!(grace.status, UserStatus::Invited);
    assert_eq!(w.users.verify_login("acme", "grace", "", None).await, Err(LoginError::InvalidCredentials));
    let err = w
        .users
        .update("acme", &grace.id, UserPatch { status: Some(UserStatus::Active), ..Default::default() }, None)
        .await;
    assert!(matches!(err, Err(UsersError::WrongState(_))), "{err:?}");
}

#[tokio::test]
async fn five_failures_lock_the_username_with_a_doubling_lock_and_success_resets() {
    let w = world();
    active(&w, "ada").await;
    for _ in 0..4 {
        assert_eq!(
            w.users.verify_login("acme", "ada", "wrong password", None).await,
            Err(LoginError::InvalidCredentials)
        );
    }
    // still open after four
    w.advance(1);
    assert_eq!(w.users.verify_login("acme", "ada", "wrong password", None).await, Err(LoginError::InvalidCredentials));
    // the fifth locked it for a minute: even the right password is not checked
    let locked = w.users.verify_login("acme", "ada", PASSWORD, None).await;
    assert_eq!(locked, Err(LoginError::Throttled { retry_after_secs: 60 }));
    w.advance(60);
    // the next failure locks for two minutes, then four
    assert_eq!(w.users.verify_login("acme", "ada", "wrong password", None).await, Err(LoginError::InvalidCredentials));
    assert_eq!(
        w.users.verify_login("acme", "ada", PASSWORD, None).await,
        Err(LoginError::Throttled { retry_after_secs: 120 })
    );
    w.advance(120);
    assert_eq!(w.users.verify_login("acme", "ada", "wrong password", None).await, Err(LoginError::InvalidCredentials));
    assert_eq!(
        w.users.verify_login("acme", "ada", PASSWORD, None).await,
        Err(LoginError::Throttled { retry_after_secs: 240 })
    );
    // other usernames are not locked
    active(&w, "grace").await;
    w.users.verify_login("acme", "grace", PASSWORD, None).await.unwrap();
    // after the lock, success resets the counter: four more failures do not lock
    w.advance(240);
    w.users.verify_login("acme", "ada", PASSWORD, None).await.unwrap();
    for _ in 0..4 {
        assert_eq!(
            w.users.verify_login("acme", "ada", "wrong password", None).await,
            Err(LoginError::InvalidCredentials)
        );
    }
    w.users.verify_login("acme", "ada", PASSWORD, None).await.unwrap();
}

#[tokio::test]
async fn the_lock_is_capped_at_an_hour_and_failures_expire() {
    let t = crate::Throttling::default();
    assert_eq!(t.lock_secs(4, 5), 0);
    assert_eq!(t.lock_secs(5, 5), 60);
    assert_eq!(t.lock_secs(7, 5), 240);
    assert_eq!(t.lock_secs(11, 5), 3600);
    assert_eq!(t.lock_secs(500, 5), 3600);

    let w = world();
    active(&w, "ada").await;
    for _ in 0..4 {
        let _ = w.users.verify_login("acme", "ada", "wrong password", None).await;
    }
    // failures more than 15 minutes ago are forgotten
    w.advance(15 * 60 + 1);
    let _ = w.users.verify_login("acme", "ada", "wrong password", None).await;
    w.users.verify_login("acme", "ada", PASSWORD, None).await.unwrap();
}

#[tokio::test]
async fn a_client_address_guessing_many_usernames_is_throttled() {
    let w = world();
    active(&w, "ada").await;
    for i in 0..20 {
        let r = w.users.verify_login("acme", &format!("user{i}"), "wrong password", Some("203.0.113.9")).await;
        assert_eq!(r, Err(LoginError::InvalidCredentials));
    }
    let r = w.users.verify_login("acme", "ada", PASSWORD, Some("203.0.113.9")).await;
    assert_eq!(r, Err(LoginError::Throttled { retry_after_secs: 60 }));
    // from elsewhere it works
    w.users.verify_login("acme", "ada", PASSWORD, Some("198.51.100.1")).await.unwrap();
}

#[tokio::test]
async fn an_invitation_is_accepted_once() {
    let w = world();
    let (grace, invitation) = w.users.create("acme", new_user("grace", None)).await.unwrap();
    let invitation = invitation.unwrap();
    assert_eq!(invitation.token.len(), 43, "256 bits, base64url");
    assert_eq!(invitation.expires_at, "2027-01-22T08:00:00Z");
    // the policy applies
    let weak = w.users.accept_invitation("acme", &invitation.token, "short").await;
    assert!(matches!(weak, Err(InvitationError::Invalid(ref e)) if e[0].pointer == "/password"), "{weak:?}");
    assert_eq!(w.users.accept_invitation("acme", "not-a-token", PASSWORD).await, Err(InvitationError::InvalidToken));
    assert_eq!(
        w.users.accept_invitation("other", &invitation.token, PASSWORD).await,
        Err(InvitationError::InvalidToken)
    );

    let accepted = w.users.accept_invitation("acme", &invitation.token, PASSWORD).await.unwrap();
    assert_eq!((accepted.id.as_str(), accepted.status), (grace.id.as_str(), UserStatus::Active));
    w.users.verify_login("acme", "grace", PASSWORD, None).await.unwrap();
    assert_eq!(
        w.users.accept_invitation("acme", &invitation.token, "another good password").await,
        Err(InvitationError::InvalidToken)
    );
    assert_eq!(w.store.invitation_count("acme"), 0);
    w.users.verify_login("acme", "grace", PASSWORD, None).await.unwrap();
}

#[tokio::test]
async fn inviting_again_invalidates_the_old_token_and_tokens_expire() {
    let w = world();
    let (grace, first) = w.users.create("acme", new_user("grace", None)).await.unwrap();
    let second = w.users.invite("acme", &grace.id).await.unwrap();
    assert_ne!(first.as_ref().unwrap().token, second.token);
    assert_eq!(w.store.invitation_count("acme"), 1);
    assert_eq!(
        w.users.accept_invitation("acme", &first.unwrap().token, PASSWORD).await,
        Err(InvitationError::InvalidToken)
    );
    w.advance(crate::INVITATION_TTL_SECS);
    assert_eq!(w.users.accept_invitation("acme", &second.token, PASSWORD).await, Err(InvitationError::InvalidToken));
    let third = w.users.invite("acme", &grace.id).await.unwrap();
    w.users.accept_invitation("acme", &third.token, PASSWORD).await.unwrap();
    // an active user is not invited again
    assert!(matches!(w.users.invite("acme", &grace.id).await, Err(UsersError::WrongState(_))));
}

#[tokio::test]
async fn an_administrator_sets_a_password_and_deletes_users() {
    let w = world();
    let (grace, invitation) = w.users.create("acme", new_user("grace", None)).await.unwrap();
    let user = w.users.set_password("acme", &grace.id, "another good password", None).await.unwrap().0;
    assert_eq!(user.status, UserStatus::Active);
    assert_eq!(
        w.users.accept_invitation("acme", &invitation.unwrap().token, PASSWORD).await,
        Err(InvitationError::InvalidToken)
    );
    w.users.verify_login("acme", "grace", "another good password", None).await.unwrap();

    let (ada, _) = w.users.create("acme", new_user("ada", None)).await.unwrap();
    w.users.delete("acme", &ada.id, None).await.unwrap();
    assert_eq!(w.store.invitation_count("acme"), 0);
    assert_eq!(w.users.get("acme", &ada.id).await.unwrap(), None);
    assert_eq!(w.users.delete("acme", &ada.id, None).await, Err(UsersError::NotFound));
    // the username is free again
    w.users.create("acme", new_user("ada", Some(PASSWORD))).await.unwrap();
}

#[tokio::test]
async fn changes_check_the_version_they_were_given() {
    let w = world();
    let ada = active(&w, "ada").await;
    assert_eq!(w.users.get_versioned("acme", &ada.id).await.unwrap().unwrap().1, 1);
    let patch = UserPatch { name: Some("Ada King".into()), ..Default::default() };
    let (user, version) = w.users.update("acme", &ada.id, patch.clone(), Some(1)).await.unwrap();
    assert_eq!((user.name.as_str(), version), ("Ada King", 2));
    let stale = UserPatch { name: Some("Other".into()), ..Default::default() };
    assert_eq!(
        w.users.update("acme", &ada.id, stale, Some(1)).await,
        Err(UsersError::PreconditionFailed { current: 2 })
    );
    assert_eq!(w.users.delete("acme", &ada.id, Some(1)).await, Err(UsersError::PreconditionFailed { current: 2 }));
    w.users.delete("acme", &ada.id, Some(2)).await.unwrap();
}

#[tokio::test]
async fn lists_page_and_filter_by_status() {
    let w = world();
    for i in 0..5 {
        active(&w, &format!("user{i}")).await;
    }
    let (invited, _) = w.users.create("acme", new_user("grace", None)).await.unwrap();
    let (page, next) = w.users.list("acme", None, 4, None).await.unwrap();
    assert_eq!(page.len(), 4);
    let (rest, end) = w.users.list("acme", None, 4, next.as_deref()).await.unwrap();
    assert_eq!((rest.len(), end), (2, None));
    let (only, _) = w.users.list("acme", Some(UserStatus::Invited), 10, None).await.unwrap();
    assert_eq!(only, [invited]);
}

#[tokio::test]
async fn hashes_made_with_old_parameters_are_replaced_on_sign_in() {
    let store = Arc::new(MemoryUsers::new());
    let old = Users::with_params(store.clone(), crate::password::HashParams { m_cost: 512, t_cost: 1, p_cost: 1 });
    let (ada, _) = old.create("acme", new_user("ada", Some(PASSWORD))).await.unwrap();
    let users = Users::for_tests(store.clone());
    users.verify_login("acme", "ada", PASSWORD, None).await.unwrap();
    let stored = crate::ports::UserStore::get(store.as_ref(), "acme", &ada.id).await.unwrap().unwrap();
    assert!(stored.password_hash.unwrap().contains("m=1024,t=1,p=1"));
}
