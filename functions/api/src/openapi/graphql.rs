//! `/v1/graphql-settings` (scope `admin`): the limits and introspection switch of the tenant's GraphQL API.

use serde_json::{Map, Value, json};

use super::common::{Errors::Problem as P, Op};
use super::schemas::schema_ref;
use crate::http::JSON;

const TAG: &str = "GraphQL";

pub const TAG_DESCRIPTION: &str = "Settings of the tenant's GraphQL API at `/graphql` (scope `admin`). The GraphQL schema itself is generated from the models; see the README's GraphQL section.";

pub fn paths() -> Map<String, Value> {
    let mut p = Map::new();
    let settings = || Some((JSON, schema_ref("GraphqlSettings")));
    p.insert("/v1/graphql-settings".into(), json!({
        "get": Op::new("getGraphqlSettings", TAG, "Read the GraphQL settings")
            .description("Needs `admin`. The settings in force; `defaults: true` when the tenant never changed them.")
            .ok(200, "The settings.", settings(), &[])
            .errors(P, &[401, 403, 429, 503])
            .build(),
        "put": Op::new("setGraphqlSettings", TAG, "Change the GraphQL settings")
            .description("Needs `admin`. Members left out take their default (`max_depth` 20, `max_complexity` 2000, `introspection` true). Out-of-range values and unknown members are refused with 422, a JSON pointer each. GraphQL uses the new settings within a second (each instance re-checks a tenant's schema at most once a second).")
            .param_ref("IfMatch")
            .body(JSON, schema_ref("GraphqlSettingsInput"), Some(json!({"max_depth": 12, "max_complexity": 500, "introspection": false})), true)
            .ok(200, "The settings now in force.", settings(), &[])
            .errors(P, &[400, 401, 403, 412, 413, 415, 422, 429, 503])
            .build(),
        "delete": Op::new("resetGraphqlSettings", TAG, "Reset the GraphQL settings")
            .description("Needs `admin`. Back to the defaults.")
            .param_ref("IfMatch")
            .ok(200, "The default settings.", settings(), &[])
            .errors(P, &[400, 401, 403, 412, 429, 503])
            .build(),
    }));
    p
}

pub fn schemas() -> Vec<(&'static str, Value)> {
    let members = json!({
        "max_depth": {"type": "integer", "minimum": 2, "maximum": 64, "description": "Deepest selection accepted (each object, connection, `edges` and `node` is a level)."},
        "max_complexity": {"type": "integer", "minimum": 10, "maximum": 100000, "description": "Most fields one operation may select."},
        "introspection": {"type": "boolean", "description": "Whether `__schema` and `__type` answer."}
    });
    let mut full = members.clone();
    full["defaults"] = json!({"type": "boolean", "description": "True when these are the defaults."});
    full["version"] =
        json!({"type": "integer", "minimum": 0, "description": "0 for the defaults, +1 on every change; the ETag."});
    vec![
        ("GraphqlSettingsInput", json!({"type": "object", "additionalProperties": false, "properties": members})),
        (
            "GraphqlSettings",
            json!({"type": "object", "required": ["max_depth", "max_complexity", "introspection", "defaults", "version"], "properties": full}),
        ),
    ]
}
