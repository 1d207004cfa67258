//! `/docs`: the API explorer, Swagger UI bundled into the binary at build time (see build.rs), on
//! `/v1/openapi.json`. No inline script and nothing from other hosts, so a strict Content-Security-Policy holds.

use crate::error::ApiError;
use crate::http::{Request, Response};

const PAGE: &str = include_str!("../explorer/index.html");

/// The assets under `/docs/assets/`: name, content type, body.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "swagger-ui-bundle.js",
        "text/javascript; charset=utf-8",
        include_str!(concat!(env!("OUT_DIR"), "/swagger-ui-bundle.js")),
    ),
    ("swagger-ui.css", "text/css; charset=utf-8", include_str!(concat!(env!("OUT_DIR"), "/swagger-ui.css"))),
    ("explorer.js", "text/javascript; charset=utf-8", include_str!("../explorer/explorer.js")),
    ("explorer.css", "text/css; charset=utf-8", include_str!("../explorer/explorer.css")),
];

/// Swagger UI sets inline styles on elements, hence `style-src 'unsafe-inline'`; scripts come from this origin only.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
                   connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

pub fn serve(req: &Request, rest: &[&str]) -> Result<Response, ApiError> {
    let (content_type, body, cache) = match rest {
        [] => ("text/html; charset=utf-8", PAGE, "no-cache"),
        ["assets", name] => match ASSETS.iter().find(|(n, _, _)| n == name) {
            Some((_, content_type, body)) => (*content_type, *body, "public, max-age=3600"),
            None => return Err(ApiError::not_found(format!("no explorer asset named `{name}`"))),
        },
        _ => return Err(ApiError::not_found(format!("no route for {} {}", req.method, req.path))),
    };
    if req.method != http::Method::GET && req.method != http::Method::HEAD {
        return Err(crate::method_not_allowed(req, "GET, HEAD"));
    }
    let response = Response::new(200)
        .header("content-type", content_type)
        .header("cache-control", cache)
        .header("x-content-type-options", "nosniff")
        .header("swagger-ui-version", env!("SWAGGER_UI_VERSION"));
    let response = if content_type.starts_with("text/html") {
        response.header("content-security-policy", CSP).header("referrer-policy", "no-referrer")
    } else {
        response
    };
    Ok(if req.method == http::Method::HEAD { response } else { response.body(body.to_owned()) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_references_only_bundled_assets_and_no_other_host() {
        let referenced: Vec<&str> = PAGE
            .split(['"', '\''])
            .filter(|s| s.starts_with("/docs/assets/"))
            .map(|s| s.trim_start_matches("/docs/assets/"))
            .collect();
        assert!(referenced.len() >= 4, "{referenced:?}");
        for name in referenced {
            assert!(ASSETS.iter().any(|(n, _, _)| *n == name), "{name} is referenced but not bundled");
        }
        for text in [PAGE, ASSETS[2].2] {
            assert!(!text.contains("http://") && !text.contains("https://"), "no absolute URLs in our own files");
            assert!(!text.contains("<script>"), "no inline scripts");
        }
        assert!(ASSETS[0].2.len() > 500_000, "the Swagger UI bundle is bundled");
    }
}
