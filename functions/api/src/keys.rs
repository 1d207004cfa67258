//! `/v1/api-keys`: a tenant's API keys. Creating or rotating one is the only time its secret is shown.

use hw_domain::apikey::DEFAULT_ROTATION_OVERLAP_SECONDS;
use hw_domain::principal::{Principal, scope};
use hw_store::tenants::{IssuedKey, NewKey};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::auth::require;
use crate::error::ApiError;
use crate::http::{JSON, Request, Response};
use crate::{Deps, body, method_not_allowed};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateKey {
    name: String,
    scopes: Vec<String>,
    #[serde(default)]
    expires_at: Option<String>,
    #[serde(default)]
    rate_limit_per_minute: Option<u32>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RotateKey {
    #[serde(default)]
    overlap_seconds: Option<u32>,
}

pub async fn route(deps: &Deps, req: &Request, p: &Principal, rest: &[&str]) -> Result<Response, ApiError> {
    require(p, scope::ADMIN)?;
    use http::Method as M;
    match (rest, &req.method) {
        ([], &M::GET) => Ok(Response::json(200, JSON, &json!({"data": deps.tenants.list_keys(&p.tenant).await?}))),
        ([], &M::POST) => {
            let input: CreateKey = parse(deps, req, "{name, scopes, expires_at?, rate_limit_per_minute?}")?;
            let new = NewKey {
                name: input.name,
                scopes: input.scopes,
                expires_at: input.expires_at,
                rate_limit_per_minute: input.rate_limit_per_minute,
            };
            Ok(issued(&req.base_url, deps.tenants.create_key(&p.tenant, new).await?))
        }
        ([], _) => Err(method_not_allowed(req, "GET, POST")),
        ([id], &M::GET) => {
            let meta = deps.tenants.get_key(&p.tenant, id).await?;
            Ok(Response::json(200, JSON, &serde_json::to_value(meta).expect("serialises")))
        }
        ([id], &M::DELETE) => {
            deps.tenants.revoke_key(&p.tenant, id).await?;
            Ok(Response::new(204))
        }
        ([_], _) => Err(method_not_allowed(req, "GET, DELETE")),
        ([id, "rotate"], &M::POST) => {
            // An empty body means the default overlap.
            let input: RotateKey =
                if req.body.is_empty() { RotateKey::default() } else { parse(deps, req, "{overlap_seconds?}")? };
            let overlap = input.overlap_seconds.unwrap_or(DEFAULT_ROTATION_OVERLAP_SECONDS);
            Ok(issued(&req.base_url, deps.tenants.rotate_key(&p.tenant, id, overlap).await?))
        }
        ([_, "rotate"], _) => Err(method_not_allowed(req, "POST")),
        _ => Err(ApiError::not_found(format!("no route for {} {}", req.method, req.path))),
    }
}

fn parse<T: DeserializeOwned>(deps: &Deps, req: &Request, shape: &str) -> Result<T, ApiError> {
    serde_json::from_value(body::json(deps, req, &[JSON])?)
        .map_err(|e| ApiError::validation(format!("expected {shape}: {e}")))
}

fn issued(base: &str, key: IssuedKey) -> Response {
    let mut body = serde_json::to_value(&key.meta).expect("serialises");
    body["secret"] = json!(key.secret);
    Response::json(201, JSON, &body)
        .header("cache-control", "no-store")
        .header("location", format!("{base}/v1/api-keys/{}", key.meta.id))
}
