//! Export routes (`/v1/exports`, `/v1/export-templates`) and their schemas: management routes, so
//! `application/json` bodies and problem+json errors.

use serde_json::{Map, Value, json};

use super::common::{Errors::Problem as P, Op};
use super::schemas::{NAME_PATTERN, schema_ref};
use crate::http::JSON;

const TAG: &str = "Exports";
const TEMPLATES: &str = "Export templates";
const EXPORT_ID: &str = "^exp_[0-9A-HJKMNP-TV-Z]{26}$";
const TEMPLATE_ID: &str = "^tpl_[0-9A-HJKMNP-TV-Z]{26}$";
const FORMATS: [&str; 5] = ["csv", "xlsx", "json", "ndjson", "xml"];

fn path_param(name: &str, description: &str, pattern: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": description,
           "schema": {"type": "string", "pattern": pattern}})
}

fn query(name: &str, description: &str, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema})
}

const QUERY_DESCRIPTION: &str = "The query is the data API's (`GET /v1/data/{entity}`), with the same rules and error codes: `filter` takes `{\"age\": {\"gte\": 30}, \"tier\": {\"in\": [\"pro\", \"free\"]}, \"email\": \"ann@example.com\"}` (each is `filter[field][op]=value` there; the query-string form `\"filter[age][gte]=30&filter[tier]=pro\"` is accepted too), `sort` takes `\"-age,email\"`, `fields` the columns after `id`, in order. Sensitive fields are exported only when named in `fields` (or with no `fields`) and `include_sensitive` is true, which needs `admin`.";

fn export_example() -> Value {
    json!({"entity": "contact", "format": "csv", "filter": {"age": {"gte": 30}}, "fields": ["email", "age"],
           "sort": "-age"})
}

pub fn paths() -> Map<String, Value> {
    let mut p = Map::new();
    let id = path_param("id", "The export's id (`exp_...`).", EXPORT_ID);
    let template_id = path_param("id", "The template's id (`tpl_...`).", TEMPLATE_ID);
    let export = || Some((JSON, schema_ref("Export")));
    let template = || Some((JSON, schema_ref("ExportTemplate")));
    let by_id = json!({"id": "$response.body#/id"});
    p.insert("/v1/exports".into(), json!({
        "get": Op::new("listExports", TAG, "The export history")
            .description("Newest first, in cursor pages. Exports of entities the key may not read (and, without `admin`, exports with sensitive fields) are left out.")
            .param(query("status", "Only exports in this state.", json!({"type": "string", "enum": ["queued", "running", "completed", "failed"]})))
            .param(query("entity", "Only exports of this entity.", json!({"type": "string", "pattern": NAME_PATTERN})))
            .param(query("page[size]", "Exports per page.", json!({"type": "integer", "minimum": 1, "maximum": 100, "default": 20})))
            .param(query("page[cursor]", "The cursor of `links.next`.", json!({"type": "string"})))
            .ok(200, "A page of exports.", Some((JSON, schema_ref("ExportPage"))), &[])
            .errors(P, &[400, 401, 403, 429, 503])
            .build(),
        "post": Op::new("createExport", TAG, "Export an entity's records into a file")
            .description(format!("Needs `data:read:{{entity}}`. The export is queued and run in the background: follow it with `GET /v1/exports/{{id}}` until `status` is `completed` (then `download_url` is set) or `failed` (`error` says why); `export.completed` / `export.failed` events announce the outcome too. {QUERY_DESCRIPTION} Every invalid member is reported at once (422, with a JSON pointer each); an unknown entity is 422 `unknown-entity` at `/entity`."))
            .param_ref("IdempotencyKey")
            .body(JSON, schema_ref("ExportInput"), Some(export_example()), true)
            .ok(201, "The export, queued.", export(), &["Location", "Idempotent-Replayed"])
            .errors(P, &[400, 401, 403, 409, 413, 415, 422, 429, 503])
            .link(201, "GetExport", "getExport", by_id.clone())
            .link(201, "DeleteExport", "deleteExport", by_id.clone())
            .build(),
    }));
    p.insert("/v1/exports/{id}".into(), json!({
        "parameters": [id],
        "get": Op::new("getExport", TAG, "Read an export, with a fresh download link")
            .description("Needs `data:read:{entity}` of the export's entity (and `admin` if it has sensitive fields). While the export is `completed` and its file exists (7 days after it finished), every answer carries a new presigned `download_url`, valid for 15 minutes (`download_expires_at`); fetch it with a plain GET, no credentials.")
            .ok(200, "The export.", export(), &[])
            .errors(P, &[400, 401, 403, 404, 429, 503])
            .build(),
        "delete": Op::new("deleteExport", TAG, "Delete an export and its file")
            .description("Needs the same scopes as reading it. A run still in progress discards its file. Exports are never changed by clients, so they carry no version (and take no `If-Match`).")
            .ok(204, "Deleted.", None, &[])
            .errors(P, &[400, 401, 403, 404, 429, 503])
            .build(),
    }));
    let template_links = |op: Op| {
        op.link(201, "GetExportTemplate", "getExportTemplate", by_id.clone())
            .link(201, "UpdateExportTemplate", "updateExportTemplate", by_id.clone())
            .link(201, "DeleteExportTemplate", "deleteExportTemplate", by_id.clone())
            .link(201, "RunExportTemplate", "createExportFromTemplate", by_id.clone())
    };
    p.insert("/v1/export-templates".into(), json!({
        "get": Op::new("listExportTemplates", TEMPLATES, "List the tenant's export templates")
            .description("Needs `admin`. Oldest first.")
            .ok(200, "The templates.", Some((JSON, schema_ref("ExportTemplateList"))), &[])
            .errors(P, &[400, 401, 403, 429, 503])
            .build(),
        "post": template_links(Op::new("createExportTemplate", TEMPLATES, "Save an export definition")
            .description(format!("Needs `admin`. The definition of an export plus a `name`, and optionally a `schedule`: an EventBridge Scheduler expression, `cron(minutes hours day-of-month month day-of-week year)` (exactly one of day-of-month and day-of-week `?`, e.g. `cron(0 6 * * ? *)`) or `rate(1 day)` / `rate(12 hours)`, read in `timezone` (IANA, UTC by default). While the template is enabled, each firing runs one export (`template_id` set). {QUERY_DESCRIPTION} A tenant has at most 100 templates."))
            .param_ref("IdempotencyKey")
            .body(JSON, schema_ref("ExportTemplateInput"), Some(json!({"name": "Nightly contacts", "entity": "contact", "format": "xlsx", "sort": "email", "schedule": "cron(0 6 * * ? *)", "timezone": "Europe/Berlin"})), true)
            .ok(201, "The template, at version 1.", template(), &["ETag", "Location", "Idempotent-Replayed"])
            .errors(P, &[400, 401, 403, 409, 413, 415, 422, 429, 503]))
            .build(),
    }));
    p.insert("/v1/export-templates/{id}".into(), json!({
        "parameters": [template_id.clone()],
        "get": Op::new("getExportTemplate", TEMPLATES, "Read an export template")
            .ok(200, "The template.", template(), &["ETag"])
            .errors(P, &[401, 403, 404, 429, 503])
            .build(),
        "patch": Op::new("updateExportTemplate", TEMPLATES, "Change an export template")
            .description("Needs `admin`. Members left out keep their value; `null` clears `schedule`, `timezone`, `sort` and `fields`. Disabling a template removes its schedule; enabling it puts the schedule back.")
            .param_ref("IfMatch")
            .param_ref("IdempotencyKey")
            .body(JSON, schema_ref("ExportTemplateUpdate"), Some(json!({"schedule": "rate(12 hours)", "enabled": true})), true)
            .ok(200, "The template, one version later.", template(), &["ETag"])
            .errors(P, &[400, 401, 403, 404, 409, 412, 413, 415, 422, 429, 503])
            .build(),
        "delete": Op::new("deleteExportTemplate", TEMPLATES, "Delete an export template and its schedule")
            .description("Needs `admin`. Exports made from it stay in the history.")
            .param_ref("IfMatch")
            .ok(204, "Deleted.", None, &[])
            .errors(P, &[400, 401, 403, 404, 412, 429, 503])
            .build(),
    }));
    p.insert("/v1/export-templates/{id}/run".into(), json!({
        "parameters": [template_id],
        "post": Op::new("createExportFromTemplate", TEMPLATES, "Run an export template now")
            .description("Needs `admin`. A new export of the template's definition, queued like `POST /v1/exports`. Refused with 409 `template-disabled` while the template is disabled, and with 422 when its definition no longer fits the entity's model.")
            .param_ref("IdempotencyKey")
            .ok(201, "The export, queued.", export(), &["Location", "Idempotent-Replayed"])
            .errors(P, &[400, 401, 403, 404, 409, 422, 429, 503])
            .link(201, "GetExport", "getExport", by_id)
            .build(),
    }));
    p
}

fn nullable(t: &str) -> Value {
    json!({"type": [t, "null"]})
}

/// The members of an export definition, as requests send them.
fn definition_properties() -> Value {
    let scalar = json!({"type": ["string", "number", "boolean"]});
    let ops = json!({"type": "object", "maxProperties": 10,
        "propertyNames": {"enum": ["eq", "ne", "gt", "gte", "lt", "lte", "in", "contains", "startsWith", "isNull"]},
        "additionalProperties": {"oneOf": [scalar, {"type": "array", "minItems": 1, "maxItems": 100, "items": scalar}]}});
    json!({
        "entity": {"type": "string", "pattern": NAME_PATTERN, "description": "The model whose records are exported."},
        "format": {"type": "string", "enum": FORMATS},
        "filter": {"description": "Filters, as on the data API (see the operation).",
                   "oneOf": [{"type": "object", "maxProperties": 20, "additionalProperties": {"oneOf": [scalar, ops]}},
                             {"type": "string"}, {"type": "null"}]},
        "sort": {"description": "`-age,email`, as on the data API.",
                 "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string", "minLength": 1}}, {"type": "null"}]},
        "fields": {"description": "The columns after `id`, in order; absent or null: every field (sensitive ones only with `include_sensitive`).",
                   "oneOf": [{"type": "array", "items": {"type": "string", "pattern": NAME_PATTERN}}, {"type": "string"}, {"type": "null"}]},
        "include_sensitive": {"type": "boolean", "default": false, "description": "Export (decrypted) sensitive fields; needs `admin`."},
        "include_system": {"type": "boolean", "default": false, "description": "Add `created_at`, `updated_at` and `version` columns."}
    })
}

fn with(mut base: Value, extra: Value) -> Value {
    base.as_object_mut().expect("object").extend(extra.as_object().expect("object").clone());
    base
}

/// What every answer of a definition carries, in the canonical form.
fn definition_view() -> Value {
    json!({
        "entity": {"type": "string"},
        "format": {"type": "string", "enum": FORMATS},
        "filter": {"type": "object", "description": "field → {operator → value as the data API reads it}",
                   "additionalProperties": {"type": "object", "additionalProperties": {"type": "string"}}},
        "sort": nullable("string"),
        "fields": {"type": ["array", "null"], "items": {"type": "string"}},
        "include_sensitive": {"type": "boolean"},
        "include_system": {"type": "boolean"}
    })
}

const DEFINITION: [&str; 7] = ["entity", "format", "filter", "sort", "fields", "include_sensitive", "include_system"];

pub fn schemas() -> Vec<(&'static str, Value)> {
    let schedule = json!({"type": ["string", "null"], "maxLength": 256,
        "description": "`cron(minutes hours day-of-month month day-of-week year)` or `rate(value unit)`; null: none."});
    let timezone = json!({"type": ["string", "null"], "maxLength": 64, "description": "IANA time zone of the cron expression; UTC when absent."});
    let name = json!({"type": "string", "minLength": 1, "maxLength": 200, "pattern": "\\S"});
    let description = json!({"type": "string", "maxLength": 1000});
    let template_members = json!({"name": name, "description": description, "schedule": schedule,
                                  "timezone": timezone, "enabled": {"type": "boolean", "default": true}});
    let mut export_required: Vec<&str> = vec!["id", "status"];
    export_required.extend(DEFINITION);
    export_required.extend([
        "rows",
        "bytes",
        "file_name",
        "error",
        "template_id",
        "requested_by",
        "created_at",
        "started_at",
        "finished_at",
        "download_url",
        "download_expires_at",
        "file_expires_at",
        "links",
    ]);
    let mut template_required: Vec<&str> = vec!["id", "name", "description"];
    template_required.extend(DEFINITION);
    template_required.extend([
        "schedule",
        "timezone",
        "enabled",
        "version",
        "updated_by",
        "created_at",
        "updated_at",
        "links",
    ]);
    let date_time = json!({"type": "string", "format": "date-time"});
    let nullable_date_time = json!({"type": ["string", "null"], "format": "date-time"});
    vec![
        (
            "ExportInput",
            json!({"type": "object", "required": ["entity", "format"], "additionalProperties": false,
                   "properties": definition_properties()}),
        ),
        (
            "Export",
            json!({"type": "object", "required": export_required, "properties": with(definition_view(), json!({
                "id": {"type": "string", "pattern": EXPORT_ID},
                "status": {"type": "string", "enum": ["queued", "running", "completed", "failed"]},
                "rows": {"type": "integer", "minimum": 0, "description": "Records in the file."},
                "bytes": {"type": "integer", "minimum": 0, "description": "Size of the file."},
                "file_name": nullable("string"),
                "error": {"type": ["string", "null"], "description": "Why the export failed."},
                "template_id": {"type": ["string", "null"], "description": "The template it was made from."},
                "requested_by": {"type": "string", "description": "Who asked for it (for scheduled runs: who last saved the template)."},
                "created_at": date_time.clone(),
                "started_at": nullable_date_time.clone(),
                "finished_at": nullable_date_time.clone(),
                "download_url": {"type": ["string", "null"], "format": "uri",
                                 "description": "A presigned GET of the file, fresh on every read; null unless completed and the file still exists."},
                "download_expires_at": nullable_date_time.clone(),
                "file_expires_at": {"type": ["string", "null"], "format": "date-time",
                                    "description": "When the file is deleted (7 days after the export finished)."},
                "links": {"type": "object", "required": ["self"], "properties": {"self": {"type": "string", "format": "uri"}}}
            }))}),
        ),
        (
            "ExportPage",
            json!({"type": "object", "required": ["data", "links"], "properties": {
                "data": {"type": "array", "items": schema_ref("Export")},
                "links": {"type": "object", "required": ["next"],
                          "properties": {"next": {"type": ["string", "null"], "description": "The next page; null on the last."}}}
            }}),
        ),
        (
            "ExportTemplateInput",
            json!({"type": "object", "required": ["name", "entity", "format"], "additionalProperties": false,
                   "properties": with(definition_properties(), template_members.clone())}),
        ),
        (
            "ExportTemplateUpdate",
            json!({"type": "object", "additionalProperties": false,
                   "properties": with(definition_properties(), template_members)}),
        ),
        (
            "ExportTemplate",
            json!({"type": "object", "required": template_required, "properties": with(definition_view(), json!({
                "id": {"type": "string", "pattern": TEMPLATE_ID},
                "name": {"type": "string"},
                "description": {"type": "string"},
                "schedule": nullable("string"),
                "timezone": nullable("string"),
                "enabled": {"type": "boolean"},
                "version": {"type": "integer", "minimum": 1},
                "updated_by": {"type": "string"},
                "created_at": date_time.clone(),
                "updated_at": date_time,
                "links": {"type": "object", "required": ["self", "run"], "properties": {
                    "self": {"type": "string", "format": "uri"}, "run": {"type": "string", "format": "uri"}}}
            }))}),
        ),
        (
            "ExportTemplateList",
            json!({"type": "object", "required": ["data"],
                   "properties": {"data": {"type": "array", "items": schema_ref("ExportTemplate")}}}),
        ),
    ]
}
