//! User routes (`/v1/users`, scope `admin`) and their schemas: management routes, so `application/json` bodies and
//! problem+json errors.

use serde_json::{Map, Value, json};

use super::common::{Errors::Problem as P, Op};
use super::schemas::schema_ref;
use crate::http::JSON;

const TAG: &str = "Users";

pub const TAG_DESCRIPTION: &str = "The tenant's users: the people who sign in through the OAuth2/OIDC provider (scope `admin`). A user has a username unique in the tenant, an argon2id password or a pending invitation, and permissions: the scopes API keys carry, which bound what a token issued for the user may do. Passwords and hashes are never returned; an invitation's token is shown once, when it is made.";

const STATUS: &str = "`status`: `active` (may sign in), `invited` (created with an invitation that was not accepted yet; no password), `disabled` (kept, but may not sign in).";

const PASSWORDS: &str = "Passwords have 10 to 256 characters, are not the username and are not one character repeated; a breach of the policy is a 422 at `/password`.";

fn id_param() -> Value {
    json!({"name": "id", "in": "path", "required": true, "description": "The user's id (`usr_...`).",
           "schema": {"type": "string", "pattern": "^usr_[0-9A-Z]{26}$"}})
}

fn query(name: &str, description: &str, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema})
}

pub fn paths() -> Map<String, Value> {
    let mut p = Map::new();
    let user = || Some((JSON, schema_ref("User")));
    let by_id = json!({"id": "$response.body#/user/id"});
    p.insert("/v1/users".into(), json!({
        "get": Op::new("listUsers", TAG, "List the tenant's users")
            .description(format!("Needs `admin`. In creation order, in cursor pages, optionally of one status. {STATUS}"))
            .param(query("status", "Only users with this status.", json!({"type": "string", "enum": ["active", "invited", "disabled"]})))
            .param(query("page[size]", "Users per page.", json!({"type": "integer", "minimum": 1, "maximum": 100, "default": 20})))
            .param(query("page[cursor]", "The opaque cursor of `links.next`.", json!({"type": "string", "pattern": "^[0-9A-Za-z_]{1,64}$"})))
            .ok(200, "A page of users.", Some((JSON, schema_ref("UserPage"))), &[])
            .errors(P, &[400, 401, 403, 429, 503])
            .build(),
        "post": Op::new("createUser", TAG, "Create a user, with a password or an invitation")
            .description(format!("Needs `admin`. With `password` the user is `active` at once. With `invite: true` (and no `password`) the user is `invited` and the answer carries a one-time `invitation`: its `token` (256 random bits; only its hash is kept) and the `url` of the page where the user chooses a password, valid for 7 days. The username is normalised to lowercase and must be unique in the tenant (else 409 `username-taken`). Every problem is reported at once (422, a JSON pointer each). Not idempotent by `Idempotency-Key`: the answer holds a secret that is not kept. {PASSWORDS}"))
            .body(JSON, schema_ref("NewUser"),
                  Some(json!({"username": "ada@example.com", "name": "Ada Lovelace", "email": "ada@example.com", "permissions": ["data:read"], "invite": true})), true)
            .ok(201, "The user (at version 1), and its invitation when one was asked for (`Cache-Control: no-store`).", Some((JSON, schema_ref("UserCreated"))), &["ETag", "Location"])
            .errors(P, &[400, 401, 403, 409, 413, 415, 422, 429, 503])
            .link(201, "GetUser", "getUser", by_id.clone())
            .link(201, "UpdateUser", "updateUser", by_id.clone())
            .link(201, "DeleteUser", "deleteUser", by_id)
            .build(),
    }));
    p.insert("/v1/users/{id}".into(), json!({
        "parameters": [id_param()],
        "get": Op::new("getUser", TAG, "Read a user")
            .ok(200, "The user.", user(), &["ETag"])
            .errors(P, &[401, 403, 404, 429, 503])
            .build(),
        "patch": Op::new("updateUser", TAG, "Change a user's name, e-mail, permissions or status")
            .description(format!("Needs `admin`. Absent members stay as they are; `email: null` removes the address. `status` is `active` or `disabled`: disabling keeps the user but refuses its sign-ins; an `invited` user becomes active only by accepting its invitation or being given a password (else 409 `user-state`). {STATUS}"))
            .param_ref("IdempotencyKey")
            .param_ref("IfMatch")
            .body(JSON, schema_ref("UserPatch"), Some(json!({"status": "disabled"})), true)
            .ok(200, "The user.", user(), &["ETag"])
            .errors(P, &[400, 401, 403, 404, 409, 412, 413, 415, 422, 429, 503])
            .build(),
        "delete": Op::new("deleteUser", TAG, "Delete a user")
            .description("Needs `admin`. Removes the user, its username (which is free again) and its pending invitation.")
            .param_ref("IfMatch")
            .ok(204, "Deleted.", None, &[])
            .errors(P, &[400, 401, 403, 404, 409, 412, 429, 503])
            .build(),
    }));
    p.insert("/v1/users/{id}/invitation".into(), json!({
        "parameters": [id_param()],
        "post": Op::new("inviteUser", TAG, "Invite an invited user again")
            .description("Needs `admin`. A new one-time invitation for a user that is still `invited` (else 409 `user-state`); the previous token stops working. No body. Not idempotent by `Idempotency-Key`: the answer holds a secret that is not kept.")
            .ok(200, "The invitation (`Cache-Control: no-store`).", Some((JSON, schema_ref("UserInvitation"))), &[])
            .errors(P, &[401, 403, 404, 409, 429, 503])
            .build(),
    }));
    p.insert("/v1/users/{id}/password".into(), json!({
        "parameters": [id_param()],
        "put": Op::new("setUserPassword", TAG, "Set a user's password")
            .description(format!("Needs `admin`. An `invited` user becomes `active` and its invitation stops working; a `disabled` user stays disabled. The username's failed sign-ins are forgotten. {PASSWORDS}"))
            .param_ref("IfMatch")
            .body(JSON, schema_ref("UserPassword"), Some(json!({"password": "correct horse battery staple"})), true)
            .ok(200, "The user.", user(), &["ETag"])
            .errors(P, &[400, 401, 403, 404, 409, 412, 413, 415, 422, 429, 503])
            .build(),
    }));
    p
}

pub fn schemas() -> Vec<(&'static str, Value)> {
    let date_time = json!({"type": "string", "format": "date-time"});
    let permissions = json!({"type": "array", "items": {"type": "string", "pattern": "^(admin|models:write|data:(read|write)(:[a-z][a-z0-9_]*)?)$|^data:sensitive(:[a-z][a-z0-9_]*)?$"},
        "description": "Scopes as API keys carry them; a token issued for the user carries at most these."});
    vec![
        (
            "User",
            json!({
                "type": "object",
                "required": ["id", "username", "email", "name", "status", "permissions", "created_at", "updated_at"],
                "properties": {
                    "id": {"type": "string"},
                    "username": {"type": "string", "minLength": 3, "maxLength": 64, "pattern": "^[a-z0-9._@-]+$"},
                    "email": {"type": ["string", "null"], "format": "email"},
                    "name": {"type": "string", "minLength": 1, "maxLength": 200},
                    "status": {"type": "string", "enum": ["active", "invited", "disabled"], "description": STATUS},
                    "permissions": permissions.clone(),
                    "created_at": date_time.clone(),
                    "updated_at": date_time.clone()
                }
            }),
        ),
        (
            "UserPage",
            json!({
                "type": "object", "required": ["data", "links"],
                "properties": {"data": {"type": "array", "items": schema_ref("User")}, "links": schema_ref("PageLinks")}
            }),
        ),
        (
            "UserInvitation",
            json!({
                "type": "object", "required": ["token", "expires_at", "url"],
                "properties": {
                    "token": {"type": "string", "pattern": "^[A-Za-z0-9_-]{43}$", "description": "Shown once; only its SHA-256 hash is kept."},
                    "expires_at": date_time,
                    "url": {"type": "string", "format": "uri", "description": "The page where the user accepts the invitation and chooses a password."}
                }
            }),
        ),
        (
            "UserCreated",
            json!({
                "type": "object", "required": ["user"],
                "properties": {"user": schema_ref("User"), "invitation": schema_ref("UserInvitation")}
            }),
        ),
        (
            "NewUser",
            json!({
                "type": "object", "required": ["username", "name"], "additionalProperties": false,
                "properties": {
                    "username": {"type": "string", "description": "3 to 64 characters: letters, digits, `.`, `_`, `-`, `@` (an e-mail address works); stored in lowercase."},
                    "name": {"type": "string", "description": "1 to 200 characters."},
                    "email": {"type": ["string", "null"], "format": "email"},
                    "permissions": permissions.clone(),
                    "password": {"type": "string", "minLength": 10, "maxLength": 256, "description": "Required unless `invite` is true; not allowed with it."},
                    "invite": {"type": "boolean", "default": false, "description": "Create the user `invited`, with a one-time invitation instead of a password."}
                }
            }),
        ),
        (
            "UserPatch",
            json!({
                "type": "object", "additionalProperties": false,
                "properties": {
                    "name": {"type": "string"},
                    "email": {"type": ["string", "null"], "format": "email"},
                    "permissions": permissions,
                    "status": {"type": "string", "enum": ["active", "disabled"]}
                }
            }),
        ),
        (
            "UserPassword",
            json!({
                "type": "object", "required": ["password"], "additionalProperties": false,
                "properties": {"password": {"type": "string", "minLength": 10, "maxLength": 256}}
            }),
        ),
    ]
}
