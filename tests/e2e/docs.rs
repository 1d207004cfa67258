//! The OpenAPI document and the `/docs` explorer, over HTTP like a browser and a client generator would.

use serde_json::Value;

use crate::stack;

/// `src="..."` and `href="..."` values of an HTML page.
fn references(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["src=\"", "href=\""] {
        for part in html.split(attr).skip(1) {
            if let Some(end) = part.find('"') {
                out.push(part[..end].to_owned());
            }
        }
    }
    out
}

fn is_other_host(url: &str, base: &str) -> bool {
    (url.starts_with("http://") || url.starts_with("https://") || url.starts_with("//")) && !url.starts_with(base)
}

#[tokio::test]
async fn the_explorer_page_serves_every_asset_it_references_from_this_origin() {
    let s = stack().await;
    let page = s.http.get(format!("{}/docs", s.base_url)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let header = |r: &reqwest::Response, name: &str| {
        r.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
    };
    assert!(header(&page, "content-type").starts_with("text/html"), "{}", header(&page, "content-type"));
    let csp = header(&page, "content-security-policy");
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-eval"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(!html.contains("<script>"), "no inline script");

    let refs = references(&html);
    let local: Vec<&String> = refs.iter().filter(|r| r.starts_with('/')).collect();
    assert!(local.iter().any(|r| r.ends_with("swagger-ui-bundle.js")), "{refs:?}");
    assert!(local.iter().any(|r| r.ends_with("swagger-ui.css")), "{refs:?}");
    for r in &refs {
        assert!(!is_other_host(r, &s.base_url), "{r} is loaded from another host");
        assert!(r.starts_with('/') || r.starts_with("data:"), "unexpected reference {r}");
    }
    for r in local {
        let asset = s.http.get(format!("{}{r}", s.base_url)).send().await.unwrap();
        assert_eq!(asset.status(), 200, "{r}");
        let content_type = header(&asset, "content-type");
        let expected = if r.ends_with(".js") { "text/javascript" } else { "text/css" };
        assert!(content_type.starts_with(expected), "{r} is served as {content_type}");
        assert!(header(&asset, "cache-control").contains("max-age"), "{r} is cacheable");
        let text = asset.text().await.unwrap();
        assert!(!text.is_empty(), "{r} is empty");
        if r.ends_with("explorer.js") {
            assert!(!text.contains("http://") && !text.contains("https://"), "our script names no other host");
            assert!(text.contains("/v1/openapi.json"));
        }
    }
    let missing = s.http.get(format!("{}/docs/assets/nope.js", s.base_url)).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    assert!(header(&missing, "content-type").starts_with("application/problem+json"));
}

#[tokio::test]
async fn the_openapi_document_is_public_and_becomes_the_tenants_with_a_key() {
    let s = stack().await;
    let public: Value =
        s.http.get(format!("{}/v1/openapi.json", s.base_url)).send().await.unwrap().json().await.unwrap();
    assert_eq!(public["openapi"], "3.1.0");
    assert!(public["paths"]["/v1/data/{entity}"].is_object());

    let t = s.tenant().await;
    t.define_crm().await;
    let own = t.get("/v1/openapi.json").await;
    assert_eq!(own.status, 200);
    assert!(own.body["paths"]["/v1/data/contact/{id}"]["patch"].is_object());
    assert!(own.body["paths"].get("/v1/data/{entity}").is_none());
    assert_eq!(own.body["components"]["schemas"]["ContactCreateAttributes"]["required"], serde_json::json!(["email"]));
    let via_header =
        s.http.get(format!("{}/v1/openapi.json", s.base_url)).header("x-api-key", &t.key).send().await.unwrap();
    assert_eq!(via_header.status(), 200);

    let bad = t.with_key("hw_not-a-real-key").get("/v1/openapi.json").await;
    assert_eq!(bad.status, 401);
    assert!(bad.header("www-authenticate").starts_with("Bearer"));
}
