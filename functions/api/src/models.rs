//! `/v1/models`: the tenant's data model registry.

use hw_domain::model::{Model, ModelInput};
use hw_domain::principal::scope;
use serde_json::{Value, json};

use hw_domain::principal::Principal;

use crate::auth::require;
use crate::error::ApiError;
use crate::http::{JSON, Request, Response};
use crate::{Deps, body, method_not_allowed};

pub async fn route(deps: &Deps, req: &Request, p: &Principal, rest: &[&str]) -> Result<Response, ApiError> {
    let tenant = p.tenant.as_str();
    use http::Method as M;
    match (rest, &req.method) {
        ([], &M::GET) => {
            let models = deps.models.list(tenant).await?;
            Ok(Response::json(200, JSON, &json!({"data": models})))
        }
        ([], &M::POST) => {
            require(p, scope::MODELS_WRITE)?;
            let input = parse_input(deps, req)?;
            let model = deps.models.create(tenant, input).await?;
            Ok(render(201, &model).header("location", format!("/v1/models/{}", model.name)))
        }
        ([], _) => Err(method_not_allowed(req, "GET, POST")),
        ([name], &M::GET) => Ok(render(200, &deps.models.get(tenant, name).await?)),
        ([name], &M::PUT) => {
            require(p, scope::MODELS_WRITE)?;
            let if_match = req.if_match()?;
            let input = parse_input(deps, req)?;
            Ok(render(200, &deps.models.replace(tenant, name, input, if_match).await?))
        }
        ([name], &M::DELETE) => {
            require(p, scope::MODELS_WRITE)?;
            deps.models.delete(tenant, name, req.if_match()?).await?;
            Ok(Response::new(204))
        }
        ([_], _) => Err(method_not_allowed(req, "GET, PUT, DELETE")),
        _ => Err(ApiError::not_found(format!("no route for {} {}", req.method, req.path))),
    }
}

fn parse_input(deps: &Deps, req: &Request) -> Result<ModelInput, ApiError> {
    let value: Value = body::json(deps, req, &[JSON])?;
    serde_json::from_value(value).map_err(|e| {
        ApiError::new(
            422,
            "invalid-model-definition",
            "Invalid model definition",
            format!("the definition does not have the expected shape: {e}"),
        )
    })
}

fn render(status: u16, model: &Model) -> Response {
    Response::json(status, JSON, &serde_json::to_value(model).expect("model serialises"))
        .header("etag", format!("\"{}\"", model.version))
}
