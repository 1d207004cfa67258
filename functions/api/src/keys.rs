//! `/v1/api-keys`: a tenant's API keys. Creating one is the only time its secret is shown.

use hw_domain::principal::scope;
use serde::Deserialize;
use serde_json::json;

use hw_domain::principal::Principal;

use crate::auth::require;
use crate::error::ApiError;
use crate::http::{JSON, Request, Response};
use crate::{Deps, body, method_not_allowed};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewKey {
    name: String,
    scopes: Vec<String>,
    #[serde(default)]
    expires_at: Option<String>,
}

pub async fn route(deps: &Deps, req: &Request, p: &Principal, rest: &[&str]) -> Result<Response, ApiError> {
    require(p, scope::ADMIN)?;
    use http::Method as M;
    match (rest, &req.method) {
        ([], &M::GET) => Ok(Response::json(200, JSON, &json!({"data": deps.tenants.list_keys(&p.tenant).await?}))),
        ([], &M::POST) => {
            let input: NewKey = serde_json::from_value(body::json(deps, req, &[JSON])?).map_err(|e| {
                ApiError::new(
                    422,
                    "validation-failed",
                    "Validation failed",
                    format!("expected {{name, scopes, expires_at?}}: {e}"),
                )
            })?;
            let issued = deps.tenants.create_key(&p.tenant, &input.name, input.scopes, input.expires_at).await?;
            let mut body = serde_json::to_value(&issued.meta).expect("serialises");
            body["secret"] = json!(issued.secret);
            Ok(Response::json(201, JSON, &body).header("cache-control", "no-store"))
        }
        ([], _) => Err(method_not_allowed(req, "GET, POST")),
        ([id], &M::DELETE) => {
            deps.tenants.revoke_key(&p.tenant, id).await?;
            Ok(Response::new(204))
        }
        ([_], _) => Err(method_not_allowed(req, "DELETE")),
        _ => Err(ApiError::not_found(format!("no route for {} {}", req.method, req.path))),
    }
}
