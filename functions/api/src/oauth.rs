//! The OAuth provider's administration and the users' own grants:
//! - `/v1/oauth-clients` (scope `admin`): client registrations, secrets shown once, secret rotation;
//! - `/v1/oauth-signing-keys` (scope `admin`): the tenant's token signing keys and their rotation;
//! - `/v1/consents`: a user (through an access token issued for them) lists and withdraws the consents they gave;
//!   an admin does it for any user with `?user_id=`.

use hw_domain::FieldError;
use hw_domain::principal::{Principal, scope};
use hw_oauth::client::{ClientInput, MAX_ACCESS_TOKEN_SECS};
use hw_oauth::keys::SigningAlg;
use hw_oauth_store::clients::{ClientError, view};
use hw_oauth_store::{Revoked, StoreError};
use serde_json::{Value, json};

use crate::auth::require;
use crate::error::ApiError;
use crate::http::{JSON, Request, Response};
use crate::{Deps, body, method_not_allowed};

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict(d) => ApiError::new(409, "concurrent-modification", "Concurrent modification", d),
        StoreError::Failed(d) => ApiError::unavailable(d),
    }
}

fn client_error(e: ClientError) -> ApiError {
    match e {
        ClientError::Invalid(errors) => ApiError::invalid(errors),
        ClientError::NotFound => ApiError::not_found("no such OAuth client"),
        ClientError::VersionMismatch(current) => ApiError::precondition_failed(current),
        ClientError::Conflict(d) => ApiError::new(409, "conflict", "Conflict", d),
        ClientError::NoSecret => ApiError::new(
            409,
            "no-client-secret",
            "The client has no secret",
            "this client authenticates with private_key_jwt or none; there is no secret to rotate",
        ),
        ClientError::Store(e) => store_error(e),
    }
}

/// A registration body, read by serde; its complaint is turned into a pointer where it names a member.
fn registration(value: Value) -> Result<ClientInput, ApiError> {
    serde_json::from_value(value).map_err(|e| {
        let text = e.to_string();
        let member = text.split('`').nth(1).filter(|_| text.contains("field `")).map(|m| format!("/{m}"));
        let code = if text.starts_with("missing field") {
            "required"
        } else if text.starts_with("unknown field") {
            "unknown-member"
        } else {
            "invalid-type"
        };
        ApiError::invalid(vec![FieldError::new(member.unwrap_or_default(), code, text)])
    })
}

fn with_secret(status: u16, client: &hw_oauth_store::StoredClient, secret: Option<String>) -> Response {
    let mut out = json!({"client": view(client, now())});
    if let Some(s) = secret {
        out["client_secret"] = json!(s);
    }
    Response::json(status, JSON, &out)
        .header("etag", format!("\"{}\"", client.version))
        .header("cache-control", "no-store")
}

pub async fn route_clients(deps: &Deps, req: &Request, p: &Principal, rest: &[&str]) -> Result<Response, ApiError> {
    require(p, scope::ADMIN)?;
    use http::Method as M;
    let clients = &deps.oauth.clients;
    match (rest, &req.method) {
        ([], &M::GET) => {
            let all = deps.oauth.store.list_clients(&p.tenant).await.map_err(store_error)?;
            let data: Vec<Value> = all.iter().map(|c| view(c, now())).collect();
            Ok(Response::json(200, JSON, &json!({"data": data})))
        }
        ([], &M::POST) => {
            let input = registration(body::json(deps, req, &[JSON])?)?;
            let (client, secret) = clients.create(&p.tenant, None, input).await.map_err(client_error)?;
            Ok(with_secret(201, &client, secret)
                .header("location", format!("{}/v1/oauth-clients/{}", req.base_url, client.id)))
        }
        ([], _) => Err(method_not_allowed(req, "GET, POST")),
        ([id], &M::GET) => {
            let c = clients.get(&p.tenant, id).await.map_err(client_error)?;
            Ok(Response::json(200, JSON, &view(&c, now())).header("etag", format!("\"{}\"", c.version)))
        }
        ([id], &M::PUT) => {
            let if_match = req.if_match()?;
            let input = registration(body::json(deps, req, &[JSON])?)?;
            let (client, secret) = clients.update(&p.tenant, id, input, if_match).await.map_err(client_error)?;
            Ok(with_secret(200, &client, secret))
        }
        ([id], &M::DELETE) => {
            // The store deletes unconditionally: the version is checked just before (a change in between is lost
            // with the client anyway).
            if let Some(expected) = req.if_match()? {
                let current = clients.get(&p.tenant, id).await.map_err(client_error)?;
                if current.version != expected {
                    return Err(ApiError::precondition_failed(current.version));
                }
            }
            clients.delete(&p.tenant, id).await.map_err(client_error)?;
            Ok(Response::new(204))
        }
        ([_], _) => Err(method_not_allowed(req, "GET, PUT, DELETE")),
        ([id, "secret"], &M::POST) => {
            let body = if req.body.is_empty() { json!({}) } else { body::json(deps, req, &[JSON])? };
            let grace = match body.as_object().map(|m| (m.get("grace_period_secs"), m.len())) {
                Some((None, 0)) => 0,
                Some((Some(v), 1)) => v
                    .as_i64()
                    .filter(|g| (0..=hw_oauth_store::clients::MAX_GRACE_SECS).contains(g))
                    .ok_or_else(|| {
                        ApiError::invalid(vec![FieldError::new(
                            "/grace_period_secs",
                            "invalid-value",
                            format!("a whole number of seconds from 0 to {}", hw_oauth_store::clients::MAX_GRACE_SECS),
                        )])
                    })?,
                _ => {
                    return Err(ApiError::invalid(vec![FieldError::new(
                        "",
                        "invalid-body",
                        "the body is an object with at most `grace_period_secs`",
                    )]));
                }
            };
            let (client, secret) = clients.rotate_secret(&p.tenant, id, grace, now()).await.map_err(client_error)?;
            Ok(with_secret(200, &client, Some(secret)))
        }
        ([_, "secret"], _) => Err(method_not_allowed(req, "POST")),
        _ => Err(ApiError::not_found(format!("no route for {} {}", req.method, req.path))),
    }
}

pub async fn route_keys(deps: &Deps, req: &Request, p: &Principal, rest: &[&str]) -> Result<Response, ApiError> {
    require(p, scope::ADMIN)?;
    use http::Method as M;
    let describe = |set: &hw_oauth_store::StoredKeySet| {
        let data: Vec<Value> = set
            .keys
            .iter()
            .map(|k| json!({"kid": k.kid, "alg": k.alg.as_str(), "state": k.state, "created_at": k.created_at, "retired_at": k.retired_at}))
            .collect();
        json!({"data": data})
    };
    match (rest, &req.method) {
        ([], &M::GET) => {
            let set = hw_oauth_store::keys::stored_or_created(
                deps.oauth.store.as_ref(),
                deps.oauth.keyring.as_ref(),
                &p.tenant,
                now(),
            )
            .await
            .map_err(ApiError::unavailable)?;
            Ok(Response::json(200, JSON, &describe(&set)))
        }
        ([], _) => Err(method_not_allowed(req, "GET")),
        (["rotate"], &M::POST) => {
            let body = if req.body.is_empty() { json!({}) } else { body::json(deps, req, &[JSON])? };
            if body.as_object().is_none_or(|m| m.keys().any(|k| k != "alg")) {
                return Err(ApiError::invalid(vec![FieldError::new(
                    "",
                    "invalid-body",
                    "the body is an object with at most `alg`",
                )]));
            }
            // A member of another type than a string (`null`, a number) is refused, not read as the default.
            let alg = match body.get("alg").map(Value::as_str) {
                None | Some(Some("ES256")) => SigningAlg::ES256,
                Some(Some("RS256")) => SigningAlg::RS256,
                Some(_) => {
                    return Err(ApiError::invalid(vec![FieldError::new(
                        "/alg",
                        "invalid-value",
                        "`alg` is ES256 or RS256",
                    )]));
                }
            };
            let store = deps.oauth.store.as_ref();
            match hw_oauth_store::keys::rotate(store, deps.oauth.keyring.as_ref(), &p.tenant, alg, now()).await {
                Ok(_) => {}
                Err(hw_oauth_store::keys::KeysError::Store(StoreError::Conflict(_))) => {
                    return Err(ApiError::new(
                        409,
                        "concurrent-rotation",
                        "Concurrent rotation",
                        "the keys were rotated meanwhile; read them again",
                    ));
                }
                Err(e) => return Err(ApiError::unavailable(e)),
            }
            let set = store.get_keys(&p.tenant).await.map_err(store_error)?;
            Ok(Response::json(200, JSON, &describe(&set)))
        }
        (["rotate"], _) => Err(method_not_allowed(req, "POST")),
        _ => Err(ApiError::not_found(format!("no route for {} {}", req.method, req.path))),
    }
}

/// Whose consents a request is about: the user behind an access token, or any user for an admin.
fn consent_owner(req: &Request, p: &Principal) -> Result<String, ApiError> {
    let own = p.actor.split_once(":user:").map(|(_, user)| user.to_owned());
    match (req.query_param("user_id"), own) {
        (Some(u), Some(own)) if u == own => Ok(own),
        (Some(u), _) => {
            require(p, scope::ADMIN)?;
            Ok(u.to_owned())
        }
        (None, Some(own)) => Ok(own),
        (None, None) => Err(ApiError::invalid_parameter(
            "user_id",
            "a user's access token lists that user's consents; with an API key, name the user with `user_id`",
        )),
    }
}

pub async fn route_consents(deps: &Deps, req: &Request, p: &Principal, rest: &[&str]) -> Result<Response, ApiError> {
    use http::Method as M;
    req.only_params(&|k| k == "user_id")?;
    let user = consent_owner(req, p)?;
    let store = deps.oauth.store.as_ref();
    match (rest, &req.method) {
        ([], &M::GET) => {
            let consents = store.list_consents(&p.tenant, &user).await.map_err(store_error)?;
            let mut data = Vec::new();
            for c in consents {
                let name =
                    store.get_client(&p.tenant, &c.client_id).await.map_err(store_error)?.map(|s| s.registration.name);
                data.push(json!({"client_id": c.client_id, "client_name": name, "scope": c.scope, "granted_at": c.granted_at, "updated_at": c.updated_at}));
            }
            Ok(Response::json(200, JSON, &json!({"user_id": user, "data": data})))
        }
        ([], _) => Err(method_not_allowed(req, "GET")),
        ([client_id], &M::DELETE) => {
            if !store.delete_consent(&p.tenant, &user, client_id).await.map_err(store_error)? {
                return Err(ApiError::not_found("no consent of this user for this client"));
            }
            // Withdrawing consent ends what it allowed: every refresh token of the user with the client, and the
            // access tokens they issued.
            let now = now();
            let until = now + i64::from(MAX_ACCESS_TOKEN_SECS) + 60;
            for family in store.list_families(&p.tenant, &user, client_id).await.map_err(store_error)? {
                store.revoke_family(&p.tenant, &family, now).await.map_err(store_error)?;
                store.mark_revoked(&p.tenant, &Revoked::Grant(family), now, until).await.map_err(store_error)?;
            }
            Ok(Response::new(204))
        }
        ([_], _) => Err(method_not_allowed(req, "DELETE")),
        _ => Err(ApiError::not_found(format!("no route for {} {}", req.method, req.path))),
    }
}
