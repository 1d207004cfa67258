//! Query parameters of the records routes: filters and sort (parsed by the domain's query model), pages and
//! cursors, `include` paths and sparse fieldsets. Every bad parameter is a 400 naming it in `source.parameter`.

use std::collections::{BTreeMap, HashMap, HashSet};

use hw_domain::cursor::{self, CursorError};
use hw_domain::model::{FieldType, Model};
use hw_domain::principal::Principal;
use hw_domain::query::{Position, Query, QueryError};

use crate::Deps;
use crate::error::ApiError;
use crate::http::Request;

pub const DEFAULT_PAGE_SIZE: usize = 50;
pub const MAX_PAGE_SIZE: usize = 200;
/// Longest include path (`a.b.c`).
pub const MAX_INCLUDE_DEPTH: usize = 3;
/// Most include paths in one request.
const MAX_INCLUDE_PATHS: usize = 20;

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> Self {
        ApiError::parameter(&e.parameter, e.code, e.detail)
    }
}

/// Refuses parameters the route does not know (JSON:API: a server must answer 400 to unknown families).
pub fn is_list_parameter(k: &str) -> bool {
    k == "sort"
        || k == "include"
        || k == "page[size]"
        || k == "page[after]"
        || k == "filter"
        || k.starts_with("filter[")
        || k.starts_with("fields[")
}

pub fn is_single_parameter(k: &str) -> bool {
    k == "include" || k.starts_with("fields[")
}

fn once<'a>(req: &'a Request, name: &str) -> Result<Option<&'a str>, ApiError> {
    if req.query.iter().filter(|(k, _)| k == name).count() > 1 {
        return Err(ApiError::parameter(name, "invalid-parameter", format!("`{name}` may be given once")));
    }
    Ok(req.query_param(name))
}

pub fn page_size(req: &Request) -> Result<usize, ApiError> {
    match once(req, "page[size]")? {
        None => Ok(DEFAULT_PAGE_SIZE),
        Some(s) => s.parse::<usize>().ok().filter(|n| (1..=MAX_PAGE_SIZE).contains(n)).ok_or_else(|| {
            ApiError::parameter(
                "page[size]",
                "invalid-parameter",
                format!("page[size] must be a whole number from 1 to {MAX_PAGE_SIZE}"),
            )
        }),
    }
}

pub fn page_after(req: &Request) -> Result<Option<&str>, ApiError> {
    once(req, "page[after]")
}

/// Verifies a `page[after]` cursor against the tenant's cursor key and the query, and turns it into a position.
pub fn position(key: &[u8; 32], token: &str, query: &Query, fingerprint: &str) -> Result<Position, ApiError> {
    let bad = |detail: &str| ApiError::parameter("page[after]", "invalid-parameter", detail);
    let c = cursor::decode(key, token, fingerprint).map_err(|e| match e {
        CursorError::Malformed | CursorError::Forged => bad("page[after] is not a cursor this API returned"),
        CursorError::OtherQuery => bad(
            "page[after] was returned for a different filter or sort; keep the query of the page it came from, or start again without page[after]",
        ),
    })?;
    query.position(&c.values, &c.id).ok_or_else(|| bad("page[after] no longer fits this entity's fields"))
}

/// Models by name, fetched once per request.
pub struct ModelCache<'a> {
    deps: &'a Deps,
    tenant: &'a str,
    models: HashMap<String, Option<Model>>,
}

impl<'a> ModelCache<'a> {
    pub fn new(deps: &'a Deps, p: &'a Principal, primary: &Model) -> Self {
        let models = HashMap::from([(primary.name.clone(), Some(primary.clone()))]);
        Self { deps, tenant: &p.tenant, models }
    }

    pub async fn get(&mut self, name: &str) -> Result<Option<Model>, ApiError> {
        if let Some(m) = self.models.get(name) {
            return Ok(m.clone());
        }
        let m = self.deps.control.get_model(self.tenant, name).await?;
        self.models.insert(name.to_owned(), m.clone());
        Ok(m)
    }
}

/// The include tree: relationship name → (the related model, what to include from there).
#[derive(Default)]
pub struct Includes {
    pub children: BTreeMap<String, (Model, Includes)>,
}

impl Includes {
    pub fn is_empty(&self) -> bool {
        self.children.is_empty()
    }
}

/// `include=company,company.owner`: paths along reference fields, at most three deep.
pub async fn includes(req: &Request, models: &mut ModelCache<'_>, primary: &Model) -> Result<Includes, ApiError> {
    let mut root = Includes::default();
    let Some(raw) = once(req, "include")? else { return Ok(root) };
    let bad = |code: &str, detail: String| ApiError::parameter("include", code, detail);
    // A path named twice is included once; what costs reads is the number of distinct paths.
    let mut paths: Vec<&str> = raw.split(',').collect();
    paths.sort_unstable();
    paths.dedup();
    if paths.len() > MAX_INCLUDE_PATHS {
        return Err(bad("invalid-parameter", format!("`include` takes at most {MAX_INCLUDE_PATHS} distinct paths")));
    }
    for path in paths {
        let segments: Vec<&str> = path.split('.').collect();
        if segments.iter().any(|s| s.is_empty()) {
            return Err(bad(
                "invalid-parameter",
                "`include` is a comma-separated list of relationship paths such as `company` or `company.owner`".into(),
            ));
        }
        if segments.len() > MAX_INCLUDE_DEPTH {
            return Err(bad(
                "include-too-deep",
                format!("`{path}` is {} relationships deep; at most {MAX_INCLUDE_DEPTH} are allowed", segments.len()),
            ));
        }
        let mut node = &mut root;
        let mut model = primary.clone();
        for seg in segments {
            let target = model
                .field(seg)
                .filter(|f| f.field_type == FieldType::Reference)
                .and_then(|f| f.target.clone())
                .ok_or_else(|| {
                    bad(
                        "unknown-relationship",
                        format!("`{seg}` in `{path}` is not a relationship of `{}`", model.name),
                    )
                })?;
            let target_model = models.get(&target).await?.ok_or_else(|| {
                bad("unknown-relationship", format!("`{seg}` in `{path}` points to `{target}`, which no longer exists"))
            })?;
            model = target_model.clone();
            node = &mut node.children.entry(seg.to_owned()).or_insert_with(|| (target_model, Includes::default())).1;
        }
    }
    Ok(root)
}

/// Sparse fieldsets: type → the attribute and relationship names to show.
pub type Fieldsets = HashMap<String, HashSet<String>>;

/// `fields[contact]=email,age`: for any model of the tenant; names must be fields of it.
pub async fn fieldsets(req: &Request, models: &mut ModelCache<'_>) -> Result<Fieldsets, ApiError> {
    let mut out = Fieldsets::new();
    for (k, v) in req.query.iter().filter(|(k, _)| k.starts_with("fields[")) {
        let Some(ty) = k.strip_prefix("fields[").and_then(|r| r.strip_suffix(']')).filter(|t| !t.contains(['[', ']']))
        else {
            return Err(ApiError::parameter(
                k,
                "invalid-parameter",
                format!("`{k}` is not a fieldset; use fields[type]=a,b"),
            ));
        };
        if out.contains_key(ty) {
            return Err(ApiError::parameter(k, "invalid-parameter", format!("`{k}` may be given once")));
        }
        let model = models.get(ty).await?.ok_or_else(|| {
            ApiError::parameter(k, "unknown-type", format!("`{ty}` is not a resource type of this API"))
        })?;
        let mut names = HashSet::new();
        for name in v.split(',').filter(|n| !n.is_empty()) {
            if model.field(name).is_none() {
                return Err(ApiError::parameter(k, "unknown-field", format!("`{name}` is not a field of `{ty}`")));
            }
            names.insert(name.to_owned());
        }
        out.insert(ty.to_owned(), names);
    }
    Ok(out)
}
