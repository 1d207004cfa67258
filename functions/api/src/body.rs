//! Reading request bodies: size limit, media type, and JSON that must be an object.

use serde_json::Value;

use crate::Deps;
use crate::error::ApiError;
use crate::http::Request;

/// Parses the body as JSON after checking its size and that its media type is one of `accepted`.
pub fn json(deps: &Deps, req: &Request, accepted: &[&str]) -> Result<Value, ApiError> {
    if req.body.len() > deps.config.max_body_bytes {
        return Err(ApiError::new(
            413,
            "body-too-large",
            "Body too large",
            format!("the body has {} bytes; at most {} are accepted", req.body.len(), deps.config.max_body_bytes),
        ));
    }
    match req.content_type() {
        Some((media, params)) if accepted.contains(&media.as_str()) => {
            if media == crate::http::JSON_API && params_other_than_ext_profile(&params) {
                return Err(unsupported(req, accepted));
            }
        }
        _ => return Err(unsupported(req, accepted)),
    }
    if req.body.is_empty() {
        return Err(ApiError::bad_request("the request needs a JSON body"));
    }
    serde_json::from_slice(&req.body).map_err(|e| ApiError::malformed_json(&e))
}

fn params_other_than_ext_profile(params: &str) -> bool {
    params
        .split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .any(|p| !(p.starts_with("ext=") || p.starts_with("profile=")))
}

fn unsupported(req: &Request, accepted: &[&str]) -> ApiError {
    ApiError::new(
        415,
        "unsupported-media-type",
        "Unsupported media type",
        format!(
            "Content-Type `{}` is not accepted here; send {}",
            req.header("content-type").unwrap_or("(none)"),
            accepted.join(" or ")
        ),
    )
    .with_header("accept", accepted.join(", "))
}
