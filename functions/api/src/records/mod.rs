//! `/v1/data/{entity}[/{id}]`: records as JSON:API 1.1 documents, with filters, sort, sparse fieldsets, compound
//! documents, signed cursor pages, relationship links and bulk writes.

mod bulk;
mod document;
mod params;
mod render;

use hw_domain::cursor;
use hw_domain::model::Model;
use hw_domain::principal::Principal;
use hw_domain::query::Query;
use hw_store::query::QueryError;
use serde_json::{Value, json};

use self::document::parse_document;
use self::params::ModelCache;
pub use self::params::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use self::render::{document, included, relationship_links, resource, single};
use crate::auth::require;
use crate::error::ApiError;
use crate::http::{JSON_API, Request, Response};
use crate::{Deps, method_not_allowed};

pub async fn route(deps: &Deps, req: &Request, p: &Principal, rest: &[&str]) -> Result<Response, ApiError> {
    use http::Method as M;
    negotiate(req)?;
    let (entity, writes) = match (rest, &req.method) {
        ([e, "_bulk"], &M::POST) => (*e, true),
        ([_, "_bulk"], _) => return Err(method_not_allowed(req, "POST")),
        ([e], &M::GET) | ([e, _], &M::GET) | ([e, _, "relationships", _], &M::GET) => (*e, false),
        ([e], &M::POST) | ([e, _], &M::PATCH) | ([e, _], &M::DELETE) => (*e, true),
        ([_], _) => return Err(method_not_allowed(req, "GET, POST")),
        ([_, _], _) => return Err(method_not_allowed(req, "GET, PATCH, DELETE")),
        ([_, _, "relationships", _], _) => return Err(method_not_allowed(req, "GET")),
        _ => return Err(ApiError::not_found(format!("no route for {} {}", req.method, req.path))),
    };
    require(p, &format!("data:{}:{entity}", if writes { "write" } else { "read" }))?;
    // One read of the entity's model serves the whole request, deprecation headers included.
    let model = deps.records.model(&p.tenant, entity).await?;
    let response = match (rest, &req.method) {
        ([_], &M::GET) => list(deps, req, p, &model).await?,
        ([_], _) => {
            let doc = parse_document(deps, req, &model, None)?;
            let record = deps.records.create(p, &model, doc.id.clone(), &doc.attributes, &|f| doc.pointer(f)).await?;
            let location = format!("{}/v1/data/{entity}/{}", req.base_url, record.id);
            single(201, &req.base_url, &model, &record).header("location", location)
        }
        ([_, "_bulk"], _) => bulk::post(deps, req, p, &model).await?,
        ([_, id], &M::GET) => get(deps, req, p, &model, id).await?,
        ([_, id], &M::PATCH) => {
            let if_match = req.if_match()?;
            let doc = parse_document(deps, req, &model, Some(id))?;
            let record = deps.records.update(p, &model, id, &doc.attributes, if_match, &|f| doc.pointer(f)).await?;
            single(200, &req.base_url, &model, &record)
        }
        ([_, id], _) => {
            deps.records.delete(p, &model, id, req.if_match()?).await?;
            Response::new(204)
        }
        ([_, id, _, field], _) => relationship(deps, req, p, &model, id, field).await?,
        _ => return Err(ApiError::not_found(format!("no route for {} {}", req.method, req.path))),
    };
    Ok(with_deprecation(&model, response))
}

/// A deprecated entity says so on every answer of its routes (RFC 9745 `Deprecation`, RFC 8594 `Sunset`, `Link`).
fn with_deprecation(model: &Model, mut response: Response) -> Response {
    if let Some(d) = &model.deprecation {
        for (name, value) in d.headers() {
            response = response.header(name, value);
        }
    }
    response
}

/// JSON:API content negotiation: when every `application/vnd.api+json` the client accepts carries media type
/// parameters other than `ext`/`profile`, and it accepts nothing else we could answer with, the answer is 406.
fn negotiate(req: &Request) -> Result<(), ApiError> {
    let Some(accept) = req.header("accept") else { return Ok(()) };
    let mut json_api_seen = false;
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default().to_ascii_lowercase();
        // `q` and what follows it are accept parameters, not media type parameters.
        let params: Vec<&str> =
            parts.take_while(|p| !p.to_ascii_lowercase().starts_with("q=")).filter(|p| !p.is_empty()).collect();
        match media.as_str() {
            JSON_API => {
                json_api_seen = true;
                if params.iter().all(|p| p.starts_with("ext=") || p.starts_with("profile=")) {
                    return Ok(());
                }
            }
            "*/*" | "application/*" | "application/json" => return Ok(()),
            _ => {}
        }
    }
    if json_api_seen {
        return Err(ApiError::new(
            406,
            "not-acceptable",
            "Not acceptable",
            "every application/vnd.api+json in Accept carries media type parameters other than ext or profile; JSON:API requires 406 then",
        ));
    }
    Ok(())
}

async fn list(deps: &Deps, req: &Request, p: &Principal, model: &Model) -> Result<Response, ApiError> {
    req.only_params(&params::is_list_parameter)?;
    let size = params::page_size(req)?;
    let entity = model.name.as_str();
    let query = Query::parse(model, &req.query)?;
    let mut models = ModelCache::new(deps, p, model);
    let includes = params::includes(req, &mut models, model).await?;
    let fields = params::fieldsets(req, &mut models).await?;
    let fingerprint = query.fingerprint(&model.name);
    let after = match params::page_after(req)? {
        None => None,
        Some(token) => {
            let key = deps.records.cipher.cursor_key(&p.tenant).await?;
            Some(params::position(&key, token, &query, &fingerprint)?)
        }
    };
    let page = deps.records.query(p, model, &query, size, after.as_ref()).await.map_err(|e| match e {
        QueryError::TooManyToSort { .. } => ApiError::parameter("sort", "query-too-broad", e.to_string()),
        QueryError::Store(s) => s.into(),
    })?;
    let base = &req.base_url;
    let data: Vec<Value> = page.records.iter().map(|r| resource(base, model, r, fields.get(&model.name))).collect();
    let self_link = format!("{base}/v1/data/{entity}");
    let mut links = json!({"self": with_query(&self_link, &req.query, None)});
    if let Some((values, id)) = page.next {
        let key = deps.records.cipher.cursor_key(&p.tenant).await?;
        let token = cursor::encode(&key, &cursor::Cursor { query: fingerprint, values, id });
        links["next"] = json!(with_query(&self_link, &req.query, Some(&token)));
    }
    let mut body = json!({"data": data, "links": links});
    if !includes.is_empty() {
        body["included"] = json!(included(deps, p, base, model, &page.records, &includes, &fields).await?);
    }
    Ok(document(200, body))
}

/// The URL of this list with its query parameters, `page[after]` replaced by `after` (or dropped).
fn with_query(path: &str, query: &[(String, String)], after: Option<&str>) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in query.iter().filter(|(k, _)| k != "page[after]") {
        s.append_pair(k, v);
    }
    if let Some(a) = after {
        s.append_pair("page[after]", a);
    }
    let q = s.finish();
    if q.is_empty() { path.to_owned() } else { format!("{path}?{q}") }
}

async fn get(deps: &Deps, req: &Request, p: &Principal, model: &Model, id: &str) -> Result<Response, ApiError> {
    req.only_params(&params::is_single_parameter)?;
    let mut models = ModelCache::new(deps, p, model);
    let includes = params::includes(req, &mut models, model).await?;
    let fields = params::fieldsets(req, &mut models).await?;
    let record = deps.records.get(p, model, id).await?;
    let base = &req.base_url;
    let mut body = json!({"data": resource(base, model, &record, fields.get(&model.name))});
    if !includes.is_empty() {
        let primary = std::slice::from_ref(&record);
        body["included"] = json!(included(deps, p, base, model, primary, &includes, &fields).await?);
    }
    Ok(document(200, body).header("etag", format!("\"{}\"", record.version)))
}

/// `GET /v1/data/{entity}/{id}/relationships/{field}`: the linkage of a to-one relationship.
async fn relationship(
    deps: &Deps,
    req: &Request,
    p: &Principal,
    model: &Model,
    id: &str,
    field: &str,
) -> Result<Response, ApiError> {
    req.only_params(&|_| false)?;
    let entity = model.name.as_str();
    let target = model
        .field(field)
        .and_then(|f| f.target.clone())
        .ok_or_else(|| ApiError::not_found(format!("`{field}` is not a relationship of `{entity}`")))?;
    let record = deps.records.get(p, model, id).await?;
    let to = record.attributes.get(field).and_then(Value::as_str);
    let data = to.map(|to| json!({"type": target, "id": to})).unwrap_or(Value::Null);
    let links = relationship_links(&req.base_url, entity, id, field, &target, to);
    Ok(document(200, json!({"data": data, "links": links})))
}
