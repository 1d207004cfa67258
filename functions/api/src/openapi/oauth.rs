//! OAuth provider routes: client registrations (`/v1/oauth-clients`) and signing keys (`/v1/oauth-signing-keys`),
//! scope `admin`, and the users' consents (`/v1/consents`). Management routes, so `application/json` bodies and
//! problem+json errors.

use serde_json::{Map, Value, json};

use super::common::{Errors::Problem as P, Op};
use super::schemas::schema_ref;
use crate::http::JSON;

const TAG: &str = "OAuth";

pub const TAG_DESCRIPTION: &str = "The tenant's OAuth2/OpenID Connect provider, at `{base}/t/{tenant}`: its client registrations and their secrets, its token signing keys (scope `admin`), and the consents users gave to clients. A client secret is shown once, when it is made (creation, a registration that starts using a secret, a rotation); only its hash is kept. Access tokens the provider issues are accepted by this API as `Authorization: Bearer`, with the scopes the user consented to.";

const REGISTRATION: &str = "A registration is checked as a whole and every problem is reported at once (422, a JSON pointer each): `public` clients authenticate with `none` and may not use `client_credentials`; `confidential` clients use `client_secret_basic`, `client_secret_post` or `private_key_jwt` (with their public keys in `jwks`); `authorization_code` needs at least one redirect URI (and redirect URIs are only allowed with it); `refresh_token` needs `authorization_code` and `refresh_token_lifetime_secs` (which is not allowed without it); `offline_access` needs `refresh_token`. Unknown members are refused.";

const SCOPE_PATTERN: &str = "^(openid|profile|email|offline_access|admin|models:write|data:(read|write)(:[a-z][a-z0-9_]{0,62})?)$|^data:sensitive(:[a-z][a-z0-9_]{0,62})?$";

fn id_param() -> Value {
    json!({"name": "id", "in": "path", "required": true, "description": "The client's id (`cl_...`).",
           "schema": {"type": "string", "minLength": 1}})
}

pub fn paths() -> Map<String, Value> {
    let mut p = Map::new();
    let with_secret = || Some((JSON, schema_ref("OAuthClientWithSecret")));
    let keys = || Some((JSON, schema_ref("OAuthSigningKeyList")));
    let by_id = json!({"id": "$response.body#/client/id"});
    let example = json!({"name": "Reporting service", "kind": "confidential", "grant_types": ["client_credentials"],
                         "scopes": ["data:read"], "token_endpoint_auth_method": "client_secret_basic",
                         "access_token_lifetime_secs": 600, "id_token_lifetime_secs": 600});
    p.insert("/v1/oauth-clients".into(), json!({
        "get": Op::new("listOAuthClients", TAG, "List the OAuth clients")
            .description("Needs `admin`. Every client registration of the tenant, with its live secrets' dates (never the secrets).")
            .ok(200, "The clients.", Some((JSON, schema_ref("OAuthClientList"))), &[])
            .errors(P, &[401, 403, 429, 503])
            .build(),
        "post": Op::new("createOAuthClient", TAG, "Register an OAuth client")
            .description(format!("Needs `admin`. The client gets an id (`cl_...`) and, when it authenticates with `client_secret_basic` or `client_secret_post`, a `client_secret` shown in this answer only. {REGISTRATION} Not idempotent by `Idempotency-Key`: the answer holds a secret that is not kept."))
            .body(JSON, schema_ref("OAuthClientInput"), Some(example.clone()), true)
            .ok(201, "The client (at version 1), and its secret when it uses one (`Cache-Control: no-store`).", with_secret(), &["ETag", "Location"])
            .errors(P, &[400, 401, 403, 409, 413, 415, 422, 429, 503])
            .link(201, "GetOAuthClient", "getOAuthClient", by_id.clone())
            .link(201, "ReplaceOAuthClient", "replaceOAuthClient", by_id.clone())
            .link(201, "RotateOAuthClientSecret", "rotateOAuthClientSecret", by_id.clone())
            .link(201, "DeleteOAuthClient", "deleteOAuthClient", by_id)
            .build(),
    }));
    p.insert("/v1/oauth-clients/{id}".into(), json!({
        "parameters": [id_param()],
        "get": Op::new("getOAuthClient", TAG, "Read an OAuth client")
            .description("Needs `admin`.")
            .ok(200, "The client.", Some((JSON, schema_ref("OAuthClient"))), &["ETag"])
            .errors(P, &[401, 403, 404, 429, 503])
            .build(),
        "put": Op::new("replaceOAuthClient", TAG, "Replace an OAuth client's registration")
            .description(format!("Needs `admin`. The id, the dates of creation and the secrets stay; a client that starts authenticating with a secret gets one (in this answer only), one that stops loses its secrets. {REGISTRATION}"))
            .param_ref("IfMatch")
            .body(JSON, schema_ref("OAuthClientInput"), Some(example), true)
            .ok(200, "The client, and its new secret when it got one (`Cache-Control: no-store`).", with_secret(), &["ETag"])
            .errors(P, &[400, 401, 403, 404, 409, 412, 413, 415, 422, 429, 503])
            .build(),
        "delete": Op::new("deleteOAuthClient", TAG, "Delete an OAuth client")
            .description("Needs `admin`. Its secrets stop working at once; tokens it was issued stay valid until they expire.")
            .param_ref("IfMatch")
            .ok(204, "Deleted.", None, &[])
            .errors(P, &[400, 401, 403, 404, 409, 412, 429, 503])
            .build(),
    }));
    p.insert("/v1/oauth-clients/{id}/secret".into(), json!({
        "parameters": [id_param()],
        "post": Op::new("rotateOAuthClientSecret", TAG, "Give an OAuth client a new secret")
            .description("Needs `admin`. The new secret is shown in this answer only. The previous ones keep working for `grace_period_secs` (default 0: they stop at once; at most 7 days), so deployments can roll. A client that authenticates with `private_key_jwt` or `none` has no secret: 409 `no-client-secret`. The body is optional. Not idempotent by `Idempotency-Key`: the answer holds a secret that is not kept.")
            .body(JSON, schema_ref("OAuthSecretRotation"), Some(json!({"grace_period_secs": 3600})), false)
            .ok(200, "The client and its new secret (`Cache-Control: no-store`).", with_secret(), &["ETag"])
            .errors(P, &[400, 401, 403, 404, 409, 413, 415, 422, 429, 503])
            .build(),
    }));
    p.insert("/v1/oauth-signing-keys".into(), json!({
        "get": Op::new("listOAuthSigningKeys", TAG, "List the token signing keys")
            .description("Needs `admin`. The keys the provider signs tokens with and publishes in its JWKS: one `active` (signing), one `pending` (published ahead of its turn, so verifiers already know it) and the `retired` ones still needed to verify tokens they signed. The tenant's first keys are made on first use. Private halves are never shown.")
            .ok(200, "The keys.", keys(), &[])
            .errors(P, &[401, 403, 429, 503])
            .build(),
    }));
    p.insert("/v1/oauth-signing-keys/rotate".into(), json!({
        "post": Op::new("rotateOAuthSigningKeys", TAG, "Rotate the token signing keys")
            .description("Needs `admin`. The `pending` key becomes `active`, the `active` one is `retired` (it still verifies the tokens it signed), and a new `pending` key of `alg` (default `ES256`) is made. A concurrent rotation is refused with 409 `concurrent-rotation`. The body is optional.")
            .param_ref("IdempotencyKey")
            .body(JSON, schema_ref("OAuthKeyRotation"), Some(json!({"alg": "ES256"})), false)
            .ok(200, "The keys after the rotation.", keys(), &[])
            .errors(P, &[400, 401, 403, 409, 413, 415, 422, 429, 503])
            .build(),
    }));
    let user_id = json!({"name": "user_id", "in": "query", "required": false,
        "description": "The user whose consents these are. Optional with a user's access token (it names that user); required with an API key, which then needs `admin` (as it does for another user than the token's).",
        "schema": {"type": "string"}});
    p.insert("/v1/consents".into(), json!({
        "get": Op::new("listConsents", TAG, "List a user's consents")
            .description("The clients a user allowed to act for them, with the scopes they consented to. With a user's access token: that user's own; with an `admin` API key: the user named by `user_id` (400 without it).")
            .param(user_id.clone())
            .ok(200, "The user's consents.", Some((JSON, schema_ref("ConsentList"))), &[])
            .errors(P, &[400, 401, 403, 429, 503])
            .build(),
    }));
    p.insert("/v1/consents/{client_id}".into(), json!({
        "parameters": [{"name": "client_id", "in": "path", "required": true, "description": "The client the consent was given to.",
                        "schema": {"type": "string", "minLength": 1}}],
        "delete": Op::new("deleteConsent", TAG, "Withdraw a consent")
            .description("Withdraws the user's consent to the client (the user is chosen as for `listConsents`) and ends what it allowed: the user's refresh tokens with the client, and the access tokens issued from them. The client must ask for consent again. 404 when there is no such consent.")
            .param(user_id)
            .ok(204, "Withdrawn.", None, &[])
            .errors(P, &[400, 401, 403, 404, 409, 429, 503])
            .build(),
    }));
    p
}

pub fn schemas() -> Vec<(&'static str, Value)> {
    let date_time = json!({"type": "string", "format": "date-time"});
    let kind = json!({"type": "string", "enum": ["confidential", "public"], "description": "Whether the client can keep a secret (RFC 6749 §2.1)."});
    let grant_type = json!({"type": "string", "enum": ["authorization_code", "client_credentials", "refresh_token"]});
    let auth_method = json!({"type": "string", "enum": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        "description": "How the client authenticates at the token endpoint (RFC 7591)."});
    let alg = json!({"type": "string", "enum": ["ES256", "RS256"]});
    let jwks = json!({
        "type": "object", "required": ["keys"],
        "description": "The client's public keys (RFC 7517), for `private_key_jwt`: each with a `kid`, `use: sig` and `alg` ES256 (P-256) or RS256.",
        "properties": {"keys": {"type": "array", "items": {
            "type": "object", "required": ["kty", "kid", "use", "alg"],
            "properties": {
                "kty": {"type": "string"}, "crv": {"type": "string"}, "x": {"type": "string"}, "y": {"type": "string"},
                "n": {"type": "string"}, "e": {"type": "string"}, "kid": {"type": "string"}, "use": {"type": "string"},
                "alg": alg.clone()
            }
        }}}
    });
    vec![
        (
            "OAuthClientInput",
            json!({
                "type": "object", "additionalProperties": false,
                "required": ["name", "kind", "grant_types", "scopes", "token_endpoint_auth_method", "access_token_lifetime_secs", "id_token_lifetime_secs"],
                "description": REGISTRATION,
                "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "\\S", "description": "1 to 200 characters once trimmed; shown on the consent page."},
                    "kind": kind.clone(),
                    "redirect_uris": {"type": "array", "uniqueItems": true, "items": {"type": "string"},
                                      "description": "Exact-match redirect URIs: `https`, or `http` on loopback; no fragment. Required with `authorization_code`, not allowed without it."},
                    "grant_types": {"type": "array", "minItems": 1, "maxItems": 3, "uniqueItems": true, "items": grant_type.clone()},
                    "scopes": {"type": "array", "minItems": 1, "uniqueItems": true, "items": {"type": "string", "pattern": SCOPE_PATTERN},
                               "description": "What the client may ask for: OpenID Connect scopes and API scopes."},
                    "token_endpoint_auth_method": auth_method.clone(),
                    "access_token_lifetime_secs": {"type": "integer", "minimum": 1, "maximum": 3600},
                    "refresh_token_lifetime_secs": {"type": ["integer", "null"], "minimum": 1, "maximum": 7776000,
                                                    "description": "Required with the `refresh_token` grant, not allowed without it."},
                    "id_token_lifetime_secs": {"type": "integer", "minimum": 1, "maximum": 3600},
                    "post_logout_redirect_uris": {"type": "array", "items": {"type": "string"},
                                                  "description": "Where RP-initiated logout may send the browser back to (exact match)."},
                    "jwks": {"anyOf": [jwks.clone(), {"type": "null"}], "description": "Required with `private_key_jwt`, not allowed otherwise (null: none)."}
                }
            }),
        ),
        (
            "OAuthClient",
            json!({
                "type": "object",
                "required": ["id", "name", "kind", "redirect_uris", "grant_types", "scopes", "token_endpoint_auth_method",
                             "access_token_lifetime_secs", "refresh_token_lifetime_secs", "id_token_lifetime_secs",
                             "created_at", "updated_at", "version", "secrets"],
                "properties": {
                    "id": {"type": "string"},
                    "name": {"type": "string"},
                    "kind": kind,
                    "redirect_uris": {"type": "array", "items": {"type": "string"}},
                    "grant_types": {"type": "array", "items": grant_type},
                    "scopes": {"type": "array", "items": {"type": "string"}},
                    "token_endpoint_auth_method": auth_method,
                    "access_token_lifetime_secs": {"type": "integer", "minimum": 1},
                    "refresh_token_lifetime_secs": {"type": ["integer", "null"], "minimum": 1},
                    "id_token_lifetime_secs": {"type": "integer", "minimum": 1},
                    "post_logout_redirect_uris": {"type": "array", "items": {"type": "string"}},
                    "jwks": jwks,
                    "created_at": date_time.clone(),
                    "updated_at": date_time.clone(),
                    "version": {"type": "integer", "minimum": 1},
                    "secrets": {"type": "array", "description": "The secrets that still work, newest first: their dates only.",
                                "items": {"type": "object", "required": ["created_at", "expires_at"], "properties": {
                                    "created_at": date_time.clone(),
                                    "expires_at": {"type": ["string", "null"], "format": "date-time", "description": "When a rotated-out secret stops working; null: it does not expire."}
                                }}}
                }
            }),
        ),
        (
            "OAuthClientList",
            json!({"type": "object", "required": ["data"], "properties": {"data": {"type": "array", "items": schema_ref("OAuthClient")}}}),
        ),
        (
            "OAuthClientWithSecret",
            json!({
                "type": "object", "required": ["client"],
                "properties": {
                    "client": schema_ref("OAuthClient"),
                    "client_secret": {"type": "string", "pattern": "^hwcs_[A-Za-z0-9_-]{43}$", "description": "Shown once; only its SHA-256 hash is kept."}
                }
            }),
        ),
        (
            "OAuthSecretRotation",
            json!({
                "type": "object", "additionalProperties": false,
                "properties": {"grace_period_secs": {"type": "integer", "minimum": 0, "maximum": 604800, "default": 0,
                                                     "description": "How long the previous secrets keep working."}}
            }),
        ),
        (
            "OAuthSigningKey",
            json!({
                "type": "object", "required": ["kid", "alg", "state", "created_at", "retired_at"],
                "properties": {
                    "kid": {"type": "string"},
                    "alg": alg.clone(),
                    "state": {"type": "string", "enum": ["pending", "active", "retired"],
                              "description": "`pending`: published, not signing yet; `active`: signing (one per tenant); `retired`: published until the tokens it signed expire."},
                    "created_at": {"type": "integer", "description": "Unix time, seconds."},
                    "retired_at": {"type": ["integer", "null"], "description": "Unix time, seconds; null unless retired."}
                }
            }),
        ),
        (
            "OAuthSigningKeyList",
            json!({"type": "object", "required": ["data"], "properties": {"data": {"type": "array", "items": schema_ref("OAuthSigningKey")}}}),
        ),
        (
            "OAuthKeyRotation",
            json!({
                "type": "object", "additionalProperties": false,
                "properties": {"alg": {"type": "string", "enum": ["ES256", "RS256"], "default": "ES256", "description": "The algorithm of the new pending key."}}
            }),
        ),
        (
            "ConsentList",
            json!({
                "type": "object", "required": ["user_id", "data"],
                "properties": {
                    "user_id": {"type": "string"},
                    "data": {"type": "array", "items": {
                        "type": "object", "required": ["client_id", "client_name", "scope", "granted_at", "updated_at"],
                        "properties": {
                            "client_id": {"type": "string"},
                            "client_name": {"type": ["string", "null"], "description": "Null when the client was deleted."},
                            "scope": {"type": "string", "description": "The consented scopes, space-separated."},
                            "granted_at": date_time.clone(),
                            "updated_at": date_time
                        }
                    }}
                }
            }),
        ),
    ]
}
