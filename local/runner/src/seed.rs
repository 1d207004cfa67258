//! The demo tenant (and a second one, to show isolation), their sample models and API keys, written to
//! `local/.state/demo.json` so that tours and tests can pick them up.

use std::path::Path;

use anyhow::{Context, Result};
use hw_domain::model::ModelInput;
use hw_store::models::ModelError;
use hw_store::tenants::NewKey;
use serde_json::{Value, json};

pub const DEMO_TENANT: &str = "demo";
pub const OTHER_TENANT: &str = "demo-other";
const DEMO_MODELS: &str = include_str!("../demo-models.json");

pub async fn seed(deps: &api::Deps, state_dir: &Path, base_url: &str) -> Result<Value> {
    let previous: Value = std::fs::read_to_string(state_dir.join("demo.json"))
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(Value::Null);
    let demo_key = tenant_with_key(deps, DEMO_TENANT, "Demo tenant", previous["api_key"].as_str()).await?;
    let other_key =
        tenant_with_key(deps, OTHER_TENANT, "Other demo tenant", previous["other_tenant"]["api_key"].as_str()).await?;
    let models: Vec<ModelInput> = serde_json::from_str(DEMO_MODELS).context("demo-models.json")?;
    for tenant in [DEMO_TENANT, OTHER_TENANT] {
        for m in &models {
            match deps.models.create(tenant, m.clone()).await {
                Ok(_) | Err(ModelError::AlreadyExists(_)) => {}
                Err(e) => {
                    return Err(anyhow::anyhow!("seeding model {} for {tenant}: {e:?}", m.name));
                }
            }
        }
    }
    // Keep what later features added to the file; refresh what this seed owns.
    let mut state = if previous.is_object() { previous } else { json!({}) };
    state["base_url"] = json!(base_url);
    state["tenant"] = json!(DEMO_TENANT);
    state["api_key"] = json!(demo_key);
    state["other_tenant"] = json!({"tenant": OTHER_TENANT, "api_key": other_key});
    state["oauth"] = oauth_demo(deps, &state["oauth"], base_url).await?;
    std::fs::create_dir_all(state_dir)?;
    std::fs::write(state_dir.join("demo.json"), serde_json::to_string_pretty(&state)? + "\n")?;
    Ok(state)
}

/// Creates the tenant when missing; reuses the previous key when it still works, mints a new one otherwise.
async fn tenant_with_key(deps: &api::Deps, tenant: &str, name: &str, previous_key: Option<&str>) -> Result<String> {
    if deps.control.get_tenant(tenant).await?.is_none() {
        let (_, key) = deps.tenants.create_tenant(tenant, name).await?;
        return Ok(key.secret);
    }
    if let Some(key) = previous_key
        && deps.tenants.authenticate(key).await.is_ok_and(|p| p.tenant == tenant)
    {
        return Ok(key.to_owned());
    }
    Ok(deps.tenants.create_key(tenant, NewKey::named("local demo key", vec!["admin".into()])).await?.secret)
}

pub const DEMO_USERNAME: &str = "demo";
const CONFIDENTIAL_CLIENT: &str = "demo-server";
const PUBLIC_CLIENT: &str = "demo-cli";
/// RFC 8252 loopback redirect: the port may vary per request.
pub const PUBLIC_REDIRECT_URI: &str = "http://127.0.0.1/callback";

fn demo_client(
    name: &str,
    kind: &str,
    auth: &str,
    grants: &[&str],
    redirects: &[&str],
) -> hw_oauth::client::ClientInput {
    let mut scopes: Vec<String> = ["data:read", "data:write", "models:write"].iter().map(|s| s.to_string()).collect();
    if grants.contains(&"authorization_code") {
        scopes.extend(["openid", "profile", "email", "offline_access"].iter().map(|s| s.to_string()));
    }
    hw_oauth::client::ClientInput {
        name: name.into(),
        kind: kind.into(),
        redirect_uris: redirects.iter().map(|s| s.to_string()).collect(),
        grant_types: grants.iter().map(|s| s.to_string()).collect(),
        scopes,
        token_endpoint_auth_method: auth.into(),
        access_token_lifetime_secs: 900,
        refresh_token_lifetime_secs: grants.contains(&"refresh_token").then_some(30 * 24 * 3600),
        id_token_lifetime_secs: 900,
        post_logout_redirect_uris: redirects.iter().map(|r| r.replace("/callback", "/signed-out")).collect(),
        jwks: None,
    }
}

/// The demo tenant's OAuth clients (a confidential one for servers, a public one with a loopback redirect for CLIs
/// and native apps) and a demo user. Secrets and the password are kept from the previous start while they work.
async fn oauth_demo(deps: &api::Deps, previous: &Value, base_url: &str) -> Result<Value> {
    let clients = &deps.oauth.clients;
    let confidential = demo_client(
        "Demo server app",
        "confidential",
        "client_secret_basic",
        &["authorization_code", "refresh_token", "client_credentials"],
        &["http://127.0.0.1/server-callback"],
    );
    let secret = match clients.get(DEMO_TENANT, CONFIDENTIAL_CLIENT).await {
        Ok(stored) => match previous["confidential_client"]["secret"].as_str() {
            Some(s) if stored.secret_matches(&hw_oauth_store::secrets::hash(s), chrono::Utc::now().timestamp()) => {
                s.to_owned()
            }
            _ => clients.rotate_secret(DEMO_TENANT, CONFIDENTIAL_CLIENT, 0, chrono::Utc::now().timestamp()).await?.1,
        },
        Err(hw_oauth_store::clients::ClientError::NotFound) => clients
            .create(DEMO_TENANT, Some(CONFIDENTIAL_CLIENT), confidential)
            .await?
            .1
            .context("a secret-based client gets a secret")?,
        Err(e) => return Err(e.into()),
    };
    let public =
        demo_client("Demo CLI", "public", "none", &["authorization_code", "refresh_token"], &[PUBLIC_REDIRECT_URI]);
    match clients.create(DEMO_TENANT, Some(PUBLIC_CLIENT), public).await {
        Ok(_) | Err(hw_oauth_store::clients::ClientError::Conflict(_)) => {}
        Err(e) => return Err(e.into()),
    }
    let password = demo_user(deps, previous["user"]["password"].as_str()).await?;
    Ok(json!({
        "issuer": format!("{base_url}/t/{DEMO_TENANT}"),
        "confidential_client": {"id": CONFIDENTIAL_CLIENT, "secret": secret},
        "public_client": {"id": PUBLIC_CLIENT, "redirect_uri": PUBLIC_REDIRECT_URI},
        "user": {"username": DEMO_USERNAME, "password": password},
    }))
}

/// The demo user, with the previous password when it still signs in, or a new random one.
async fn demo_user(deps: &api::Deps, previous_password: Option<&str>) -> Result<String> {
    let existing = deps.users.get_by_username(DEMO_TENANT, DEMO_USERNAME).await?;
    if let (Some(_), Some(p)) = (&existing, previous_password)
        && deps.users.verify_login(DEMO_TENANT, DEMO_USERNAME, p, None).await.is_ok()
    {
        return Ok(p.to_owned());
    }
    let password = format!("demo-{}", hw_oauth_store::secrets::mint("").chars().take(16).collect::<String>());
    match existing {
        Some(user) => {
            deps.users.set_password(DEMO_TENANT, &user.id, &password, None).await?;
        }
        None => {
            let input = hw_users::NewUser {
                username: DEMO_USERNAME.into(),
                name: "Demo User".into(),
                email: Some("demo@example.com".into()),
                permissions: vec!["data:read".into(), "data:write".into(), "models:write".into()],
                password: Some(password.clone()),
                invite: false,
            };
            deps.users.create(DEMO_TENANT, input).await?;
        }
    }
    Ok(password)
}
