//! Import routes (`/v1/imports`) and their schemas: management routes, so `application/json` bodies and
//! problem+json errors; scopes per entity (`data:read:{entity}` to read a job, `data:write:{entity}` to change one).

use serde_json::{Map, Value, json};

use super::common::{Errors::Problem as P, Op};
use super::schemas::{NAME_PATTERN, schema_ref};
use crate::http::JSON;

const TAG: &str = "Imports";
/// Import ids are ULIDs.
const ID_PATTERN: &str = "^[0-9A-Z]{26}$";

/// The lifecycle, the scopes and the rest every operation shares, for the tag's description.
pub const TAG_DESCRIPTION: &str = "Bulk imports of CSV, JSON, NDJSON, XML and Excel (XLSX, XLS) files into the records of one model. Create an import to get a presigned upload (one PUT, or parts for large files), upload the file, read what planning found (format, columns and their types, a typed preview, a suggested mapping), then start it with a mapping, rules and a duplicate policy, or as a dry run first. Reading a job needs `data:read:{entity}`; creating, starting, cancelling and retrying one needs `data:write:{entity}` (`data:read`/`data:write` cover every entity; the history needs `data:read`).";

const LIFECYCLE: &str = "`status` goes `awaiting_upload` (an upload URL was handed out) → `planning` (the file arrived and is being read) → `ready` (format, columns, preview, suggested mapping and chunks are known) → `running` (started; chunks are processed in parallel) → `completed`, `failed` (planning refused the file, or some chunks failed: see `error`) or `cancelled`. A dry run ends `completed` with `dry_run: true` and may then be started again for real.";

const ROWS: &str = "Row numbers are those a person sees: a CSV row as a spreadsheet application shows it (the header is row 1, so the first record is row 2; blank lines count, line breaks inside quoted fields do not), a worksheet row its own number, an NDJSON row its line, a JSON or XML record its position.";

const REPORT: &str = "When rows failed, `error_report_url` is a presigned download (valid for an hour) of a CSV file with the columns `row,column,value,reason`: one line per problem, `column` being the source column (or the field, for values built by `concat` or `default`; empty for the whole row), `value` the offending value (at most 200 characters). Fix those rows in a spreadsheet and import them again.";

fn path_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": description,
           "schema": {"type": "string", "pattern": ID_PATTERN}})
}

fn query(name: &str, description: &str, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema})
}

fn start_example() -> Value {
    json!({
        "mapping": {"E-mail": "email", "Age": "age", "Company": "company"},
        "rules": {
            "email": [{"op": "trim"}, {"op": "lowercase"}],
            "age": [{"op": "regex_replace", "pattern": "[^0-9]", "replacement": ""}],
            "company": [{"op": "trim"}, {"op": "lookup", "entity": "company", "field": "name"}]
        },
        "mode": "upsert",
        "key": ["email"],
        "duplicates": "merge",
        "dry_run": true
    })
}

pub fn paths() -> Map<String, Value> {
    let mut p = Map::new();
    let import = || Some((JSON, schema_ref("Import")));
    let id = path_param("id", "The import's id.");
    let by_id = json!({"id": "$response.body#/id"});
    let import_links = |op: Op| {
        op.link(201, "GetImport", "getImport", by_id.clone())
            .link(201, "StartImport", "startImport", by_id.clone())
            .link(201, "CancelImport", "cancelImport", by_id.clone())
            .link(201, "RetryImport", "retryImport", by_id.clone())
            .link(201, "CompleteImportUpload", "completeImportUpload", by_id.clone())
    };
    p.insert("/v1/imports".into(), json!({
        "get": Op::new("listImports", TAG, "The tenant's import history")
            .description("Needs `data:read` (the history spans every entity). Newest first, in cursor pages: who imported what file into which entity, when, how long it took and with which counts.")
            .param(query("page[size]", "Imports per page.", json!({"type": "integer", "minimum": 1, "maximum": 100, "default": 20})))
            .param(query("page[cursor]", "The opaque cursor of `links.next`.", json!({"type": "string", "pattern": "^[0-9A-Za-z]{1,64}$"})))
            .ok(200, "A page of imports.", Some((JSON, schema_ref("ImportPage"))), &[])
            .errors(P, &[400, 401, 403, 429, 503])
            .build(),
        "post": import_links(Op::new("createImport", TAG, "Create an import and get its upload")
            .description(format!("Needs `data:write:{{entity}}`; `entity` must name one of the tenant's models (else 422 `unknown-entity`). Answers a presigned `upload` (a PUT of the whole file, with exactly the headers given) valid until `upload_expires_at`. With `multipart: true`, or a declared `size` over 16 MiB, `multipart` offers presigned parts of `part_size` bytes as well: PUT each part, then `POST /v1/imports/{{id}}/complete-upload` with the ETag of each. A declared `size` over the limit (200 MiB unless configured otherwise) is refused with 413 before anything is uploaded; a larger file uploaded anyway fails planning. Once the file is in, planning starts on its own: poll `GET /v1/imports/{{id}}` until `status` is `ready`.\n\n{LIFECYCLE}"))
            .param_ref("IdempotencyKey")
            .body(JSON, schema_ref("NewImport"), Some(json!({"entity": "contact", "file_name": "contacts.csv", "size": 48213})), true)
            .ok(201, "The import, awaiting its upload, with the upload's presigned request(s) (`Cache-Control: no-store`).", Some((JSON, schema_ref("ImportCreated"))), &["Location", "Idempotent-Replayed"])
            .errors(P, &[400, 401, 403, 409, 413, 415, 422, 429, 503]))
            .build(),
    }));
    p.insert("/v1/imports/{id}".into(), json!({
        "parameters": [id.clone()],
        "get": Op::new("getImport", TAG, "Read an import: its plan, run, progress and error report")
            .description(format!("Needs `data:read:{{entity}}`. Once planned (`ready` and after): `format`, `columns` (name, detected type, nullability, sample values, and for dates the format found or, when several fit, the candidates), `preview` (the first rows, each value converted to its column's type), `suggested_mapping` (column → field, preferring this entity's last mapping) and `total_rows`. Once started: `run` (the settings it was started with) and `progress`. Never cached.\n\n{LIFECYCLE}\n\n{REPORT}\n\n{ROWS}"))
            .ok(200, "The import.", import(), &[])
            .errors(P, &[401, 403, 404, 429, 503])
            .build(),
    }));
    p.insert("/v1/imports/{id}/start".into(), json!({
        "parameters": [id.clone()],
        "post": Op::new("startImport", TAG, "Start the import with a mapping and rules")
            .description(format!("Needs `data:write:{{entity}}`. Only a `ready` import, or one whose dry run completed, can be started (else 409 `import-state`). `mapping` sends columns to fields; `rules` rework a field's text in order before it is converted to the field's type. Everything is checked against the file's columns and the model first, and every problem is reported at once (422, a JSON pointer each): an unknown column (`/mapping/{{column}}`, `unknown-column`), an unknown field (`unknown-field`), a field fed by two columns (`field-mapped-twice`), a bad rule (`/rules/{{field}}/{{index}}/...`, e.g. `bad-regex` at `/rules/{{field}}/{{index}}/pattern`), upsert without `key` (`/key`, `key-required`), a key field that does not exist, is not unique or is not mapped (`/key/{{index}}`), a duplicate policy the mode does not take (`/duplicates`).\n\n`mode: insert` only creates records; `upsert` creates records whose key is new and changes those whose key matches. `key` names unique fields identifying a record (required for upsert; with insert it finds duplicates). `duplicates` says what becomes of a row whose key matches a stored record or an earlier row: insert takes `skip` (default; the row counts as skipped) or `fail` (the row fails); upsert takes `merge` (default; only the row's non-empty values are written) or `update` (every mapped field is written, an empty cell clears it).\n\n`dry_run: true` converts and validates every row and fills the counts and the error report, but writes nothing and does not remember the mapping; the import ends `completed` with `dry_run: true` and can be started again for real. A real run remembers the mapping for the entity's next imports. Answers 202 at once; follow `progress` with `GET /v1/imports/{{id}}`.\n\n{ROWS}"))
            .param_ref("IdempotencyKey")
            .body(JSON, schema_ref("ImportStart"), Some(start_example()), true)
            .ok(202, "The import, running.", import(), &["Idempotent-Replayed"])
            .errors(P, &[400, 401, 403, 404, 409, 413, 415, 422, 429, 503])
            .build(),
    }));
    p.insert("/v1/imports/{id}/cancel".into(), json!({
        "parameters": [id.clone()],
        "post": Op::new("cancelImport", TAG, "Cancel the import")
            .description("Needs `data:write:{entity}`. Stops an import that is not finished: one awaiting its upload (a multipart upload is aborted), being planned, ready or running (chunks in flight stop at their next batch; records already written stay). Refused with 409 `import-state` once it is `completed`, `failed` or `cancelled`. No body.")
            .param_ref("IdempotencyKey")
            .ok(200, "The import, cancelled.", import(), &["Idempotent-Replayed"])
            .errors(P, &[400, 401, 403, 404, 409, 422, 429, 503])
            .build(),
    }));
    p.insert("/v1/imports/{id}/retry".into(), json!({
        "parameters": [id.clone()],
        "post": Op::new("retryImport", TAG, "Run the failed chunks again")
            .description("Needs `data:write:{entity}`. An import that `failed` in some chunks (storage trouble, not invalid rows: those are in the error report) runs those chunks again with the same settings; the counts of the failed chunks are taken back first. Refused with 409 `import-state` otherwise. No body.")
            .param_ref("IdempotencyKey")
            .ok(202, "The import, running again.", import(), &["Idempotent-Replayed"])
            .errors(P, &[400, 401, 403, 404, 409, 422, 429, 503])
            .build(),
    }));
    p.insert("/v1/imports/{id}/complete-upload".into(), json!({
        "parameters": [id],
        "post": Op::new("completeImportUpload", TAG, "Complete a multipart upload")
            .description("Needs `data:write:{entity}`. After every part of `multipart.parts` you used was PUT, list each with the `ETag` header its PUT answered; the parts are joined in `part_number` order and planning starts. Refused with 409 `import-state` when the import was not created for a multipart upload, is no longer awaiting its upload, or the upload is already complete; a part that was not uploaded is refused with 422 at `/parts`.")
            .param_ref("IdempotencyKey")
            .body(JSON, schema_ref("ImportCompleteUpload"), Some(json!({"parts": [{"part_number": 1, "etag": "\"3858f62230ac3c915f300c664312c11f\""}, {"part_number": 2, "etag": "\"9b2cf535f27731c974343645a3985328\""}]})), true)
            .ok(200, "The import, still awaiting its upload until planning picks the file up.", import(), &["Idempotent-Replayed"])
            .errors(P, &[400, 401, 403, 404, 409, 413, 415, 422, 429, 503])
            .build(),
    }));
    p
}

fn date_time() -> Value {
    json!({"type": "string", "format": "date-time"})
}

fn nullable_date_time() -> Value {
    json!({"type": ["string", "null"], "format": "date-time"})
}

fn count(description: &str) -> Value {
    json!({"type": "integer", "minimum": 0, "description": description})
}

fn string_map(description: &str) -> Value {
    json!({"type": "object", "additionalProperties": {"type": "string"}, "description": description})
}

/// A presigned HTTP request the client makes without credentials.
fn presigned(method: &str) -> Value {
    json!({
        "type": "object", "required": ["url", "method", "headers"],
        "properties": {
            "url": {"type": "string", "format": "uri"},
            "method": {"type": "string", "enum": [method]},
            "headers": {"type": "object", "additionalProperties": {"type": "string"},
                        "description": "Send exactly these headers: they are part of the signature."}
        }
    })
}

/// One rule: `{"op": op}` plus `members` (`required` of them mandatory), nothing else.
fn rule(op: &str, description: &str, members: Value, required: &[&str]) -> Value {
    let mut properties = json!({"op": {"type": "string", "enum": [op]}});
    for (k, v) in members.as_object().expect("object") {
        properties[k] = v.clone();
    }
    let mut all = vec!["op"];
    all.extend_from_slice(required);
    json!({"type": "object", "description": description, "required": all, "additionalProperties": false,
           "properties": properties})
}

/// (op, schema name, description, members, required members)
fn rules() -> Vec<(&'static str, &'static str, &'static str, Value, &'static [&'static str])> {
    vec![
        ("trim", "ImportRuleTrim", "Removes surrounding whitespace.", json!({}), &[]),
        ("lowercase", "ImportRuleLowercase", "Lower-cases the value.", json!({}), &[]),
        ("uppercase", "ImportRuleUppercase", "Upper-cases the value.", json!({}), &[]),
        (
            "titlecase",
            "ImportRuleTitlecase",
            "Upper-cases the first letter of every word (`jean-luc o'neil` → `Jean-Luc O'Neil`), lower-cases the rest.",
            json!({}),
            &[],
        ),
        (
            "default",
            "ImportRuleDefault",
            "Fills an empty value. As the last rule it must fit the field's type.",
            json!({"value": {"type": ["string", "number", "boolean", "object", "array"],
                             "description": "Numbers and booleans are taken as their text, objects and arrays as JSON text; not null."}}),
            &["value"],
        ),
        (
            "value_map",
            "ImportRuleValueMap",
            "Replaces a value found among the keys of `map`; other values pass unchanged.",
            json!({"map": string_map("from → to"),
                   "ignore_case": {"type": "boolean", "default": false,
                                   "description": "Match keys ignoring case (keys must then differ ignoring case)."}}),
            &["map"],
        ),
        (
            "date_format",
            "ImportRuleDateFormat",
            "Reads a date or date-time written in this format and passes it on as ISO 8601. Only on date and datetime fields; picks among a column's `date_candidates`.",
            json!({"format": {"type": "string", "minLength": 1, "description": "A strftime-style format, e.g. `%d/%m/%Y`."}}),
            &["format"],
        ),
        (
            "split",
            "ImportRuleSplit",
            "Keeps part `index` (from 0) of the value split at `separator`, trimmed; no such part leaves it empty.",
            json!({"separator": {"type": "string", "minLength": 1},
                   "index": {"type": "integer", "minimum": 0}}),
            &["separator", "index"],
        ),
        (
            "concat",
            "ImportRuleConcat",
            "Builds the value from the non-empty cells of `columns`, joined with `separator` (replacing any value so far); a field may be filled this way without a mapped column.",
            json!({"columns": {"type": "array", "minItems": 1, "items": {"type": "string"},
                               "description": "Columns of the file."},
                   "separator": {"type": "string", "default": ""}}),
            &["columns"],
        ),
        (
            "regex_replace",
            "ImportRuleRegexReplace",
            "Replaces every match of `pattern` with `replacement`.",
            json!({"pattern": {"type": "string", "maxLength": 512, "description": "A regular expression (Rust `regex` syntax)."},
                   "replacement": {"type": "string", "description": "`$1`, `${name}` insert groups."}}),
            &["pattern", "replacement"],
        ),
        (
            "lookup",
            "ImportRuleLookup",
            "Replaces the value with the id of the `entity` record whose unique `field` equals it. Last rule only, on a reference field targeting `entity`; a value without a match fails its row.",
            json!({"entity": {"type": "string", "pattern": NAME_PATTERN},
                   "field": {"type": "string", "pattern": NAME_PATTERN, "description": "A unique field of `entity`."}}),
            &["entity", "field"],
        ),
    ]
}

pub fn schemas() -> Vec<(&'static str, Value)> {
    let rule_list = rules();
    let mut mapping = Map::new();
    let mut one_of = Vec::new();
    for (op, name, _, _, _) in &rule_list {
        mapping.insert((*op).into(), json!(format!("#/components/schemas/{name}")));
        one_of.push(schema_ref(name));
    }
    let mut out = vec![
        (
            "ImportStatus",
            json!({"type": "string", "enum": ["awaiting_upload", "planning", "ready", "running", "completed", "failed", "cancelled"],
                   "description": LIFECYCLE}),
        ),
        (
            "NewImport",
            json!({
                "type": "object", "required": ["entity"], "additionalProperties": false,
                "properties": {
                    "entity": {"type": "string", "pattern": NAME_PATTERN, "description": "The model the rows become records of."},
                    "file_name": {"type": ["string", "null"], "maxLength": 255,
                                  "description": "The file's name: a hint to its format, and shown in the history. Default `upload`."},
                    "size": {"type": ["integer", "null"], "minimum": 0,
                             "description": "The file's size in bytes, when known: over 16 MiB, multipart parts are offered; over the limit, the import is refused at once (413)."},
                    "sheet": {"type": ["string", "null"], "description": "The sheet to read from a workbook; default: the first with data."},
                    "multipart": {"type": "boolean", "default": false, "description": "Offer multipart parts whatever the size."}
                }
            }),
        ),
        (
            "ImportFormat",
            json!({
                "type": "object", "required": ["kind", "encoding"],
                "description": "What planning recognised.",
                "properties": {
                    "kind": {"type": "string", "enum": ["csv", "json", "ndjson", "xml", "xlsx", "xls"]},
                    "encoding": {"type": "string", "enum": ["utf-8", "utf-8-bom", "utf-16le", "utf-16be", "windows-1252"]},
                    "delimiter": {"type": "string", "minLength": 1, "maxLength": 1, "description": "CSV: the field delimiter."},
                    "has_header": {"type": "boolean", "description": "CSV: whether the first row names the columns."},
                    "record_element": {"type": "string", "description": "XML: the element each record is."},
                    "sheets": {"type": "array", "items": {"type": "string"}, "description": "Workbooks: every sheet."},
                    "sheet": {"type": "string", "description": "Workbooks: the sheet read."}
                }
            }),
        ),
        (
            "ImportColumn",
            json!({
                "type": "object", "required": ["name", "type", "nullable", "samples"],
                "description": "A column of the file, typed from samples spread over the whole file.",
                "properties": {
                    "name": {"type": "string"},
                    "type": schema_ref("FieldType"),
                    "nullable": {"type": "boolean", "description": "Some cells are empty."},
                    "samples": {"type": "array", "items": {"type": "string"}, "description": "A few distinct values."},
                    "date_format": {"type": "string", "description": "Dates: the format every value fits (`rfc3339` for ISO 8601)."},
                    "date_candidates": {"type": "array", "items": {"type": "string"},
                                        "description": "Dates: several formats fit every value (day-first or month-first); pick one with a `date_format` rule."}
                }
            }),
        ),
        (
            "ImportCounts",
            json!({
                "type": "object", "required": ["total", "ok", "failed", "skipped"],
                "description": "Rows processed so far in the current run.",
                "properties": {
                    "total": count("Rows processed."),
                    "ok": count("Rows written (or that would be, in a dry run)."),
                    "failed": count("Rows that could not be imported; each is in the error report."),
                    "skipped": count("Rows left out by the duplicate policy `skip`.")
                }
            }),
        ),
        (
            "ImportSummary",
            json!({
                "type": "object",
                "description": "An import as the history shows it.",
                "required": ["id", "entity", "status", "file_name", "size", "format", "counts", "dry_run", "mapping",
                             "created_by", "started_by", "created_at", "started_at", "finished_at", "duration_ms", "links"],
                "properties": {
                    "id": {"type": "string", "pattern": ID_PATTERN},
                    "entity": {"type": "string"},
                    "status": schema_ref("ImportStatus"),
                    "file_name": {"type": "string"},
                    "size": {"type": ["integer", "null"], "minimum": 0, "description": "The size declared at creation, if any."},
                    "format": {"oneOf": [schema_ref("ImportFormat"), {"type": "null"}], "description": "Null until planned."},
                    "counts": schema_ref("ImportCounts"),
                    "dry_run": {"type": ["boolean", "null"], "description": "Null until started."},
                    "mapping": {"type": ["object", "null"], "additionalProperties": {"type": "string"},
                                "description": "column → field the import was started with; null until started."},
                    "created_by": {"type": "string", "description": "The actor (`apikey:<id>`)."},
                    "started_by": {"type": ["string", "null"]},
                    "created_at": date_time(),
                    "started_at": nullable_date_time(),
                    "finished_at": nullable_date_time(),
                    "duration_ms": {"type": ["integer", "null"], "minimum": 0, "description": "From start to finish, once finished."},
                    "links": {
                        "type": "object", "required": ["self"],
                        "properties": {
                            "self": {"type": "string", "format": "uri"},
                            "complete_upload": {"type": "string", "format": "uri",
                                                "description": "Single view of an import awaiting a multipart upload: where to complete it."}
                        }
                    }
                }
            }),
        ),
        (
            "ImportRun",
            json!({
                "type": "object", "required": ["number", "mode", "key", "duplicates", "dry_run", "mapping", "rules"],
                "description": "How the import was last started.",
                "properties": {
                    "number": {"type": "integer", "minimum": 1, "description": "1 for the first start, one more for each later one (a real run after a dry run)."},
                    "mode": {"type": "string", "enum": ["insert", "upsert"]},
                    "key": {"type": "array", "items": {"type": "string"}},
                    "duplicates": {"type": "string", "enum": ["skip", "fail", "update", "merge"]},
                    "dry_run": {"type": "boolean"},
                    "mapping": string_map("column → field"),
                    "rules": {"type": "object", "additionalProperties": {"type": "array", "items": schema_ref("ImportRule")},
                              "description": "field → rules"}
                }
            }),
        ),
        (
            "ImportProgress",
            json!({
                "type": "object", "required": ["chunks", "chunks_done", "chunks_failed", "rows_done", "rows_total", "percent"],
                "properties": {
                    "chunks": count("Chunks the file was cut into."),
                    "chunks_done": count("Chunks processed."),
                    "chunks_failed": count("Chunks that failed (see `retryImport`)."),
                    "rows_done": count("Rows processed."),
                    "rows_total": count("Rows in the file."),
                    "percent": {"type": "number", "minimum": 0, "maximum": 100, "description": "`rows_done` of `rows_total`, to one decimal."}
                }
            }),
        ),
        (
            "Import",
            json!({
                "description": "An import with what planning found and how its run goes.",
                "allOf": [schema_ref("ImportSummary"), {"type": "object", "properties": {
                    "columns": {"type": "array", "items": schema_ref("ImportColumn"), "description": "Once planned."},
                    "preview": {"type": "array", "items": {"type": "object"},
                                "description": "Once planned: the first rows, column → value converted to the column's type (text where conversion fails, null for empty cells)."},
                    "suggested_mapping": string_map("Once planned: column → field, from the names and this entity's last mapping."),
                    "total_rows": count("Once planned: data rows in the file."),
                    "sheet": {"type": "string", "description": "The sheet asked for at creation."},
                    "run": schema_ref("ImportRun"),
                    "progress": schema_ref("ImportProgress"),
                    "error": {"type": "string", "description": "Why planning or processing failed, for people."},
                    "error_report_url": {"type": "string", "format": "uri", "description": REPORT}
                }}]
            }),
        ),
        (
            "ImportCreated",
            json!({
                "description": "A new import and where to upload its file.",
                "allOf": [schema_ref("Import"), {"type": "object", "required": ["upload", "upload_expires_at"], "properties": {
                    "upload": presigned("PUT"),
                    "upload_expires_at": date_time(),
                    "multipart": schema_ref("ImportMultipartUpload")
                }}]
            }),
        ),
        (
            "ImportMultipartUpload",
            json!({
                "type": "object", "required": ["upload_id", "part_size", "parts", "complete"],
                "description": "Offered for large files: PUT each part (`part_size` bytes, the last may be shorter), keep each answer's `ETag`, then call `complete`.",
                "properties": {
                    "upload_id": {"type": "string"},
                    "part_size": {"type": "integer", "minimum": 1},
                    "parts": {"type": "array", "items": {"allOf": [presigned("PUT"), {"type": "object", "required": ["part_number"],
                              "properties": {"part_number": {"type": "integer", "minimum": 1, "maximum": 10000}}}]}},
                    "complete": {"type": "object", "required": ["url", "method"],
                                 "properties": {"url": {"type": "string", "format": "uri"}, "method": {"type": "string", "enum": ["POST"]}}}
                }
            }),
        ),
        (
            "ImportPage",
            json!({
                "type": "object", "required": ["data", "links"],
                "properties": {"data": {"type": "array", "items": schema_ref("ImportSummary")},
                               "links": schema_ref("PageLinks")}
            }),
        ),
        (
            "ImportStart",
            json!({
                "type": "object", "required": ["mapping"], "additionalProperties": false,
                "properties": {
                    "mapping": {"type": "object", "additionalProperties": {"type": "string"},
                                "description": "column → field. Columns left out are ignored; a field takes one column at most. May be empty when `rules` build every field."},
                    "rules": {"type": "object", "additionalProperties": {"type": "array", "items": schema_ref("ImportRule")},
                              "description": "field → rules, applied in order to the field's text before it is converted. An empty result leaves the field out (its default and required checks apply)."},
                    "mode": {"type": "string", "enum": ["insert", "upsert"], "default": "insert"},
                    "key": {"type": "array", "items": {"type": "string"},
                            "description": "Unique, mapped fields that identify a record: required for upsert."},
                    "duplicates": {"type": "string", "enum": ["skip", "fail", "update", "merge"],
                                   "description": "insert: `skip` (default) or `fail`; upsert: `merge` (default) or `update`."},
                    "dry_run": {"type": "boolean", "default": false, "description": "Check every row and build the error report without writing."}
                }
            }),
        ),
        (
            "ImportRule",
            json!({
                "description": "One step reworking a field's text, `{\"op\": ...}` and the members of that op.",
                "oneOf": one_of,
                "discriminator": {"propertyName": "op", "mapping": mapping}
            }),
        ),
        (
            "ImportCompleteUpload",
            json!({
                "type": "object", "required": ["parts"], "additionalProperties": false,
                "properties": {"parts": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "required": ["part_number", "etag"],
                    "properties": {"part_number": {"type": "integer", "minimum": 1, "maximum": 10000},
                                   "etag": {"type": "string", "description": "The `ETag` header the part's PUT answered."}}}}}
            }),
        ),
    ];
    for (op, name, description, members, required) in rule_list {
        out.push((name, rule(op, description, members, required)));
    }
    out
}
