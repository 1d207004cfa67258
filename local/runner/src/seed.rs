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
