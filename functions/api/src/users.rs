//! `/v1/users`: the tenant's users, who sign in through the OAuth provider (scope `admin`). Passwords and
//! invitation tokens are never shown back, except the token of an invitation when it is made.

use hw_domain::FieldError;
use hw_domain::principal::{Principal, scope};
use hw_users::{Invitation, NewUser, User, UserPatch, UserStatus, UsersError};
use serde_json::{Map, Value, json};

use crate::auth::require;
use crate::error::ApiError;
use crate::http::{JSON, Request, Response};
use crate::{Deps, body, method_not_allowed};

const DEFAULT_PAGE: usize = 20;
const MAX_PAGE: usize = 100;

pub async fn route(deps: &Deps, req: &Request, p: &Principal, rest: &[&str]) -> Result<Response, ApiError> {
    require(p, scope::ADMIN)?;
    use http::Method as M;
    match (rest, &req.method) {
        ([], &M::GET) => list(deps, req, p).await,
        ([], &M::POST) => create(deps, req, p).await,
        ([], _) => Err(method_not_allowed(req, "GET, POST")),
        ([id], &M::GET) => {
            let (user, version) =
                deps.users.get_versioned(&p.tenant, id).await.map_err(error)?.ok_or_else(not_found)?;
            Ok(versioned(200, &user, version))
        }
        ([id], &M::PATCH) => {
            let if_match = req.if_match()?;
            let patch = parse_patch(body::json(deps, req, &[JSON])?)?;
            let disabling = patch.status == Some(UserStatus::Disabled);
            let (user, version) = deps.users.update(&p.tenant, id, patch, if_match).await.map_err(error)?;
            if disabling {
                end_tokens(deps, &p.tenant, id).await?;
            }
            Ok(versioned(200, &user, version))
        }
        ([id], &M::DELETE) => {
            deps.users.delete(&p.tenant, id, req.if_match()?).await.map_err(error)?;
            end_tokens(deps, &p.tenant, id).await?;
            Ok(Response::new(204))
        }
        ([_], _) => Err(method_not_allowed(req, "GET, PATCH, DELETE")),
        ([id, "invitation"], &M::POST) => {
            let invitation = deps.users.invite(&p.tenant, id).await.map_err(error)?;
            Ok(Response::json(200, JSON, &invitation_view(req, &p.tenant, &invitation))
                .header("cache-control", "no-store"))
        }
        ([_, "invitation"], _) => Err(method_not_allowed(req, "POST")),
        ([id, "password"], &M::PUT) => {
            let if_match = req.if_match()?;
            let body = body::json(deps, req, &[JSON])?;
            let password = only_password(&body)?;
            let (user, version) = deps.users.set_password(&p.tenant, id, &password, if_match).await.map_err(error)?;
            Ok(versioned(200, &user, version))
        }
        ([_, "password"], _) => Err(method_not_allowed(req, "PUT")),
        _ => Err(ApiError::not_found(format!("no route for {} {}", req.method, req.path))),
    }
}

/// A disabled or deleted user's access tokens stop working at once: resource servers check the marker until the
/// longest-lived token issued before it has expired. (Sign-ins and refreshes check the user's status anyway.)
async fn end_tokens(deps: &Deps, tenant: &str, user_id: &str) -> Result<(), ApiError> {
    let now = chrono::Utc::now().timestamp();
    let until = now + i64::from(hw_oauth::client::MAX_ACCESS_TOKEN_SECS) + 60;
    let marker = hw_oauth_store::Revoked::Subject(user_id.to_owned());
    deps.oauth.store.mark_revoked(tenant, &marker, now, until).await.map_err(|e| ApiError::unavailable(e.to_string()))
}

fn not_found() -> ApiError {
    ApiError::not_found("no such user")
}

pub fn error(e: UsersError) -> ApiError {
    match e {
        UsersError::Invalid(errors) => ApiError::invalid(errors),
        UsersError::NotFound => not_found(),
        UsersError::UsernameTaken(ref name) => {
            ApiError::new(409, "username-taken", "Username taken", format!("the username `{name}` is taken"))
                .with_fields(vec![FieldError::new("/username", "taken", e.to_string())])
        }
        UsersError::PreconditionFailed { current } => ApiError::precondition_failed(current),
        UsersError::WrongState(detail) => ApiError::new(409, "user-state", "User state conflict", detail),
        UsersError::Conflict => ApiError::new(
            409,
            "concurrent-modification",
            "Concurrent modification",
            "the user changed while this request was being served; retry",
        ),
        UsersError::Store(s) => ApiError::unavailable(s),
    }
}

/// A user as the API shows it (never a hash).
fn view(u: &User) -> Value {
    json!({
        "id": u.id, "username": u.username, "email": u.email, "name": u.name, "status": u.status.as_str(),
        "permissions": u.permissions, "created_at": u.created_at, "updated_at": u.updated_at,
    })
}

/// The user with its version as `ETag`.
fn versioned(status: u16, u: &User, version: u64) -> Response {
    Response::json(status, JSON, &view(u)).header("etag", format!("\"{version}\""))
}

/// The invitation with the link of the page where it is accepted (served by the OAuth function).
fn invitation_view(req: &Request, tenant: &str, i: &Invitation) -> Value {
    json!({
        "token": i.token,
        "expires_at": i.expires_at,
        "url": format!("{}/t/{tenant}/invitation?token={}", req.base_url, i.token),
    })
}

async fn list(deps: &Deps, req: &Request, p: &Principal) -> Result<Response, ApiError> {
    req.only_params(&|k| matches!(k, "status" | "page[size]" | "page[cursor]"))?;
    let status = match req.query_param("status") {
        None => None,
        Some(s) => Some(UserStatus::parse(s).ok_or_else(|| {
            ApiError::invalid_parameter("status", "status is one of `active`, `invited`, `disabled`")
        })?),
    };
    let size = req.page_size(DEFAULT_PAGE, MAX_PAGE)?;
    let cursor = req.query_param("page[cursor]");
    if let Some(c) = cursor
        && (c.is_empty() || c.len() > 64 || !c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_'))
    {
        return Err(ApiError::invalid_parameter("page[cursor]", "not a cursor this API returned"));
    }
    let (users, next) = deps.users.list(&p.tenant, status, size, cursor).await.map_err(error)?;
    let data: Vec<Value> = users.iter().map(view).collect();
    let filter = status.map(|s| format!("status={}&", s.as_str())).unwrap_or_default();
    let mut links = json!({"self": format!("{}/v1/users", req.base_url)});
    if let Some(n) = next {
        // brackets percent-encoded, so the link is a valid URI
        links["next"] = json!(format!("{}/v1/users?{filter}page%5Bsize%5D={size}&page%5Bcursor%5D={n}", req.base_url));
    }
    Ok(Response::json(200, JSON, &json!({"data": data, "links": links})))
}

async fn create(deps: &Deps, req: &Request, p: &Principal) -> Result<Response, ApiError> {
    let input = parse_new(body::json(deps, req, &[JSON])?)?;
    let (user, invitation) = deps.users.create(&p.tenant, input).await.map_err(error)?;
    let mut out = json!({"user": view(&user)});
    if let Some(i) = &invitation {
        out["invitation"] = invitation_view(req, &p.tenant, i);
    }
    Ok(Response::json(201, JSON, &out)
        .header("location", format!("{}/v1/users/{}", req.base_url, user.id))
        .header("etag", "\"1\"")
        .header("cache-control", "no-store"))
}

// ---- bodies: every member checked for its type, every problem reported with its pointer

fn object(body: Value) -> Result<Map<String, Value>, ApiError> {
    match body {
        Value::Object(m) => Ok(m),
        _ => Err(ApiError::invalid(vec![FieldError::new("", "invalid-type", "the body is a JSON object")])),
    }
}

fn unknown(k: &str) -> FieldError {
    FieldError::new(format!("/{k}"), "unknown-member", format!("`{k}` is not a member of this body"))
}

fn wrong_type(k: &str, what: &str) -> FieldError {
    FieldError::new(format!("/{k}"), "invalid-type", format!("`{k}` is {what}"))
}

fn string(m: &Map<String, Value>, k: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    match m.get(k) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            errors.push(wrong_type(k, "a string"));
            None
        }
    }
}

fn strings(m: &Map<String, Value>, k: &str, errors: &mut Vec<FieldError>) -> Option<Vec<String>> {
    match m.get(k) {
        None => None,
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
            Some(items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        }
        Some(_) => {
            errors.push(wrong_type(k, "an array of strings"));
            None
        }
    }
}

fn parse_new(body: Value) -> Result<NewUser, ApiError> {
    let m = object(body)?;
    let mut errors: Vec<FieldError> = m
        .keys()
        .filter(|k| !matches!(k.as_str(), "username" | "name" | "email" | "permissions" | "password" | "invite"))
        .map(|k| unknown(k))
        .collect();
    let username = string(&m, "username", &mut errors);
    let name = string(&m, "name", &mut errors);
    for (k, v) in [("username", &username), ("name", &name)] {
        if v.is_none() && !errors.iter().any(|e| e.pointer == format!("/{k}")) {
            errors.push(FieldError::new(format!("/{k}"), "required", format!("`{k}` is required")));
        }
    }
    let email = string(&m, "email", &mut errors);
    let permissions = strings(&m, "permissions", &mut errors).unwrap_or_default();
    let password = string(&m, "password", &mut errors);
    let invite = match m.get("invite") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            errors.push(wrong_type("invite", "a boolean"));
            false
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    Ok(NewUser {
        username: username.unwrap_or_default(),
        name: name.unwrap_or_default(),
        email,
        permissions,
        password,
        invite,
    })
}

fn parse_patch(body: Value) -> Result<UserPatch, ApiError> {
    let m = object(body)?;
    let mut errors: Vec<FieldError> = m
        .keys()
        .filter(|k| !matches!(k.as_str(), "name" | "email" | "permissions" | "status"))
        .map(|k| unknown(k))
        .collect();
    let mut patch = UserPatch::default();
    if m.contains_key("name") {
        patch.name = string(&m, "name", &mut errors);
        if patch.name.is_none() && !errors.iter().any(|e| e.pointer == "/name") {
            errors.push(wrong_type("name", "a string"));
        }
    }
    if m.contains_key("email") {
        patch.email = Some(string(&m, "email", &mut errors));
    }
    if m.contains_key("permissions") {
        patch.permissions = strings(&m, "permissions", &mut errors);
    }
    if let Some(s) = m.get("status") {
        match s.as_str() {
            Some("active") => patch.status = Some(UserStatus::Active),
            Some("disabled") => patch.status = Some(UserStatus::Disabled),
            _ => errors.push(FieldError::new("/status", "invalid-value", "`status` is `active` or `disabled`")),
        }
    }
    if errors.is_empty() { Ok(patch) } else { Err(ApiError::invalid(errors)) }
}

fn only_password(body: &Value) -> Result<String, ApiError> {
    let m = object(body.clone())?;
    let mut errors: Vec<FieldError> = m.keys().filter(|k| *k != "password").map(|k| unknown(k)).collect();
    let password = string(&m, "password", &mut errors);
    if password.is_none() && errors.iter().all(|e| e.pointer != "/password") {
        errors.push(FieldError::new("/password", "required", "`password` is required"));
    }
    match password {
        Some(p) if errors.is_empty() => Ok(p),
        _ => Err(ApiError::invalid(errors)),
    }
}
