//! The GraphQL API on the local stack: the `graphql-http` audit (GraphQL over HTTP), queries and mutations through
//! real HTTP with API keys and OAuth access tokens, every kind of bad input, and GraphiQL.

use serde_json::{Value, json};

use crate::stack;

const GQL_RESPONSE: &str = "application/graphql-response+json";

async fn gql(t: &hubble_e2e::Tenant, query: &str, variables: Value) -> hubble_e2e::Reply {
    let body = json!({"query": query, "variables": variables}).to_string();
    t.send(reqwest::Method::POST, "/graphql", Some("application/json"), Some(body), &[("accept", GQL_RESPONSE)]).await
}

fn code(r: &hubble_e2e::Reply) -> &str {
    r.body["errors"][0]["extensions"]["code"].as_str().unwrap_or("")
}

#[tokio::test]
async fn the_graphql_http_audit_passes_every_must_and_should() {
    let s = stack().await;
    let t = s.tenant().await;
    t.define_crm().await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("graphql");
    assert!(dir.join("node_modules/graphql-http").is_dir(), "run `npm install` in tests/graphql (local/test.sh does)");
    let out = tokio::process::Command::new("node")
        .arg("audit.mjs")
        .current_dir(&dir)
        .env("HUBBLE_URL", format!("{}/graphql", s.base_url))
        .env("HUBBLE_KEY", &t.key)
        .output()
        .await
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "graphql-http audit failed:\n{stdout}");
    assert!(stdout.contains(" 0 MUST/SHOULD failures"));
}

#[tokio::test]
async fn nested_queries_and_mutations_over_http() {
    let s = stack().await;
    let t = s.tenant().await;
    t.define_crm().await;
    let acme = gql(&t, r#"mutation { createCompany(input: {name: "Acme"}) { id name } }"#, json!({})).await;
    assert_eq!(acme.status, 200, "{:?}", acme.body);
    assert_eq!(acme.header("content-type"), "application/graphql-response+json; charset=utf-8");
    let acme_id = acme.body["data"]["createCompany"]["id"].as_str().unwrap().to_owned();
    for (i, email) in ["ann@acme.example", "bob@acme.example", "cy@acme.example"].iter().enumerate() {
        let r = gql(
            &t,
            "mutation($input: ContactCreateInput!) { createContact(input: $input) { id email company { name } } }",
            json!({"input": {"email": email, "age": 30 + i, "company": acme_id}}),
        )
        .await;
        assert_eq!(r.body["data"]["createContact"]["company"]["name"], "Acme", "{:?}", r.body);
    }
    let nested = gql(
        &t,
        r#"query($id: ID!) { company(id: $id) { name contacts(first: 2, sort: [AGE_DESC]) { totalCount
              pageInfo { hasNextPage endCursor } edges { node { email company { name contacts { totalCount } } } } } } }"#,
        json!({"id": acme_id}),
    )
    .await;
    assert_eq!(nested.status, 200, "{:?}", nested.body);
    let contacts = &nested.body["data"]["company"]["contacts"];
    assert_eq!(contacts["totalCount"], 3);
    assert_eq!(contacts["pageInfo"]["hasNextPage"], true);
    assert_eq!(contacts["edges"][0]["node"]["email"], "cy@acme.example");
    assert_eq!(contacts["edges"][0]["node"]["company"]["contacts"]["totalCount"], 3);
    let rest = gql(
        &t,
        r#"query($id: ID!, $after: String) { company(id: $id) { contacts(first: 2, sort: [AGE_DESC], after: $after) { edges { node { email } } } } }"#,
        json!({"id": acme_id, "after": contacts["pageInfo"]["endCursor"]}),
    )
    .await;
    assert_eq!(
        rest.body["data"]["company"]["contacts"]["edges"],
        json!([{"node": {"email": "ann@acme.example"}}]),
        "{:?}",
        rest.body
    );

    let filtered = gql(
        &t,
        r#"{ contacts(filter: {or: [{age: {lt: 31}}, {email: {startsWith: "cy"}}]}) { nodes { email } } }"#,
        json!({}),
    )
    .await;
    let emails: Vec<&str> = filtered.body["data"]["contacts"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails.len(), 2, "{:?}", filtered.body);

    // The REST API sees what GraphQL wrote, and the other way round.
    let listed = t.get("/v1/data/contact").await;
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 3);

    let invalid = gql(&t, r#"mutation { createContact(input: {email: "nope"}) { id } }"#, json!({})).await;
    assert_eq!(invalid.status, 200);
    assert_eq!(code(&invalid), "BAD_USER_INPUT", "{:?}", invalid.body);
    assert_eq!(invalid.body["errors"][0]["extensions"]["field"], json!(["input", "email"]));
    assert_eq!(invalid.body["errors"][0]["path"], json!(["createContact"]));
}

#[tokio::test]
async fn bad_input_gets_graphql_errors_never_a_5xx() {
    let s = stack().await;
    let t = s.tenant().await;
    t.define_crm().await;
    let syntax = gql(&t, "{ contacts { nodes { email }", json!({})).await;
    assert_eq!(syntax.status, 400, "{:?}", syntax.body);
    assert!(syntax.body.get("data").is_none());
    assert_eq!(code(&syntax), "GRAPHQL_PARSE_FAILED");

    let unknown = gql(&t, "{ contacts { nodes { shoe_size } } }", json!({})).await;
    assert_eq!(unknown.status, 400, "{:?}", unknown.body);
    assert!(unknown.body["errors"][0]["message"].as_str().unwrap().contains("shoe_size"));

    // 8 hops from contact to company and back: 26 levels, over the default limit of 20.
    let mut inner = "email".to_owned();
    for _ in 0..8 {
        inner = format!("company {{ contacts {{ nodes {{ {inner} }} }} }}");
    }
    let too_deep = gql(&t, &format!("{{ contacts {{ nodes {{ {inner} }} }} }}"), json!({})).await;
    assert_eq!(too_deep.status, 400, "{:?}", too_deep.body);
    assert!(too_deep.body["errors"][0]["message"].as_str().unwrap().contains("nested too deep"), "{:?}", too_deep.body);

    let bad_filter =
        gql(&t, r#"{ contacts(filter: {company: {eq: "not an id!"}}) { nodes { email } } }"#, json!({})).await;
    assert_eq!(bad_filter.status, 200);
    assert_eq!(code(&bad_filter), "BAD_USER_INPUT");
    assert_eq!(bad_filter.body["errors"][0]["extensions"]["argument"], "filter.company.eq");

    let wrong_var = gql(&t, "query($n: Int) { contacts(first: $n) { nodes { email } } }", json!({"n": "ten"})).await;
    assert_eq!(wrong_var.status, 400, "{:?}", wrong_var.body);

    let huge = "x".repeat(1_100_000);
    let oversize = gql(&t, "query($s: String) { contacts { nodes { email } } }", json!({"s": huge})).await;
    assert_eq!(oversize.status, 413, "{:?}", oversize.body);

    let anonymous = t.with_key("hw_nonsense");
    let denied = gql(&anonymous, "{ __typename }", json!({})).await;
    assert_eq!(denied.status, 401);
    assert_eq!(code(&denied), "UNAUTHENTICATED");
    assert!(denied.header("www-authenticate").starts_with("Bearer"));

    let get_mutation = t
        .send(
            reqwest::Method::GET,
            "/graphql?query=mutation%7BdeleteContact(id%3A%22x%22)%7D",
            None,
            None,
            &[("accept", GQL_RESPONSE)],
        )
        .await;
    assert_eq!(get_mutation.status, 405);
}

#[tokio::test]
async fn scopes_and_oauth_tokens_decide_what_a_caller_sees() {
    let s = stack().await;
    let t = s.tenant().await;
    t.define_crm().await;
    let company = gql(&t, r#"mutation { createCompany(input: {name: "Initech"}) { id } }"#, json!({})).await;
    let id = company.body["data"]["createCompany"]["id"].as_str().unwrap().to_owned();
    gql(
        &t,
        &format!(r#"mutation {{ createContact(input: {{email: "p@initech.example", company: "{id}"}}) {{ id }} }}"#),
        json!({}),
    )
    .await;

    let key = t.post_json("/v1/api-keys", &json!({"name": "contacts only", "scopes": ["data:read:contact"]})).await;
    assert_eq!(key.status, 201, "{:?}", key.body);
    let reader = t.with_key(key.body["secret"].as_str().unwrap());
    let r = gql(&reader, "{ contacts { nodes { email company { name } } } }", json!({})).await;
    assert_eq!(r.body["data"]["contacts"]["nodes"][0]["email"], "p@initech.example");
    assert_eq!(r.body["data"]["contacts"]["nodes"][0]["company"], Value::Null);
    assert_eq!(code(&r), "FORBIDDEN");

    let client = t
        .post_json(
            "/v1/oauth-clients",
            &json!({"name": "Reporting", "kind": "confidential", "redirect_uris": [],
                    "grant_types": ["client_credentials"], "scopes": ["data:read"], "token_endpoint_auth_method": "client_secret_post",
                    "access_token_lifetime_secs": 600, "id_token_lifetime_secs": 600}),
        )
        .await;
    assert_eq!(client.status, 201, "{:?}", client.body);
    let token = reqwest::Client::new()
        .post(format!("{}/t/{}/token", s.base_url, t.id))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client.body["client"]["id"].as_str().unwrap()),
            ("client_secret", client.body["client_secret"].as_str().unwrap()),
            ("scope", "data:read"),
        ])
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let bearer = t.with_key(token["access_token"].as_str().expect("an access token"));
    let r = gql(&bearer, "{ companies { nodes { name contacts { nodes { email } } } } }", json!({})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["data"]["companies"]["nodes"][0]["contacts"]["nodes"][0]["email"], "p@initech.example");
    let write = gql(&bearer, r#"mutation { createCompany(input: {name: "Nope"}) { id } }"#, json!({})).await;
    assert_eq!(code(&write), "FORBIDDEN", "{:?}", write.body);
}

#[tokio::test]
async fn graphiql_opens_in_a_browser_from_bundled_assets() {
    let s = stack().await;
    let http = reqwest::Client::new();
    let page = http
        .get(format!("{}/graphql", s.base_url))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("/graphql/assets/graphiql.min.js") && !html.contains("https://"), "no CDN");
    for asset in ["graphiql.min.js", "graphiql.min.css", "react.production.min.js", "react-dom.production.min.js"] {
        let r = http.get(format!("{}/graphql/assets/{asset}", s.base_url)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{asset}");
        assert!(r.bytes().await.unwrap().len() > 5_000, "{asset}");
    }
}

#[tokio::test]
async fn tenant_settings_switch_introspection_and_limits() {
    let s = stack().await;
    let t = s.tenant().await;
    t.define_crm().await;
    let open = gql(&t, "{ __schema { queryType { name } } }", json!({})).await;
    assert_eq!(open.body["data"]["__schema"]["queryType"]["name"], "Query", "{:?}", open.body);

    let set = t.put_json("/v1/graphql-settings", &json!({"introspection": false, "max_depth": 4})).await;
    assert_eq!(set.status, 200, "{:?}", set.body);
    assert_eq!(set.header("etag"), "\"1\"");
    // A GraphQL instance re-reads the settings at most once a second.
    let closed = eventually_status(&t, "{ __schema { queryType { name } } }", 400).await;
    assert_eq!(closed.status, 400, "{:?}", closed.body);
    let deep = gql(&t, "{ contacts { edges { node { company { name } } } } }", json!({})).await;
    assert_eq!(deep.status, 400, "{:?}", deep.body);

    // The DynamoDB adapter refuses a write against a version that is no longer stored.
    let stale = t
        .send(
            reqwest::Method::PUT,
            "/v1/graphql-settings",
            Some("application/json"),
            Some("{}".into()),
            &[("if-match", "\"0\"")],
        )
        .await;
    assert_eq!(stale.status, 412);
    let reset = t.delete("/v1/graphql-settings").await;
    assert_eq!(reset.body["defaults"], true);
    let again = eventually_status(&t, "{ __schema { queryType { name } } }", 200).await;
    assert_eq!(again.status, 200);
}

/// `query` until it answers `status` (for up to 5 s): schema and settings changes reach GraphQL within a second.
async fn eventually_status(t: &hubble_e2e::Tenant, query: &str, status: u16) -> hubble_e2e::Reply {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let r = gql(t, query, json!({})).await;
        if r.status == status || std::time::Instant::now() > deadline {
            return r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// Runs tests/graphql/subscribe.mjs (the graphql-ws client) until it prints `READY`; returns the child and its
/// stdout lines.
async fn subscriber(
    s: &hubble_e2e::Stack,
    key: &str,
    query: &str,
    expect: usize,
) -> (tokio::process::Child, tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>) {
    use tokio::io::AsyncBufReadExt;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("graphql");
    let ws_url = format!("{}/graphql/ws", s.base_url.replacen("http", "ws", 1));
    let mut child = tokio::process::Command::new("node")
        .arg("subscribe.mjs")
        .current_dir(&dir)
        .env("HUBBLE_WS_URL", ws_url)
        .env("HUBBLE_KEY", key)
        .env("HUBBLE_QUERY", query)
        .env("HUBBLE_EXPECT", expect.to_string())
        .env("HUBBLE_TIMEOUT_MS", "30000")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    while let Some(line) = lines.next_line().await.unwrap() {
        if line == "READY" || line.starts_with("ERROR") {
            assert_eq!(line, "READY");
            break;
        }
    }
    (child, lines)
}

#[tokio::test]
async fn subscriptions_deliver_matching_events_to_the_graphql_ws_client() {
    let s = stack().await;
    let t = s.tenant().await;
    t.define_crm().await;
    let query = r#"subscription { contactCreated(filter: {age: {gte: 18}}) { email age company { name } } }"#;
    let (mut child, mut lines) = subscriber(&s, &t.key, query, 2).await;
    let company = gql(&t, r#"mutation { createCompany(input: {name: "Hooli"}) { id } }"#, json!({})).await;
    let id = company.body["data"]["createCompany"]["id"].as_str().unwrap().to_owned();
    // One through GraphQL, one through the REST API, one that the filter leaves out.
    gql(
        &t,
        &format!(
            r#"mutation {{ createContact(input: {{email: "kid@hooli.example", age: 9, company: "{id}"}}) {{ id }} }}"#
        ),
        json!({}),
    )
    .await;
    gql(&t, &format!(r#"mutation {{ createContact(input: {{email: "gavin@hooli.example", age: 50, company: "{id}"}}) {{ id }} }}"#), json!({})).await;
    let rest = t
        .create(
            "contact",
            json!({"email": "big@hooli.example", "age": 40}),
            Some(json!({"company": {"data": {"type": "company", "id": id}}})),
        )
        .await;
    assert_eq!(rest.status, 201, "{:?}", rest.body);
    let mut events = Vec::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        if let Some(json) = line.strip_prefix("EVENT ") {
            events.push(serde_json::from_str::<Value>(json).unwrap());
        } else if line.starts_with("ERROR") || line.starts_with("TIMEOUT") {
            panic!("{line} after {events:?}");
        }
    }
    assert!(child.wait().await.unwrap().success());
    let mut emails: Vec<&str> = events.iter().map(|e| e["data"]["contactCreated"]["email"].as_str().unwrap()).collect();
    emails.sort();
    assert_eq!(emails, ["big@hooli.example", "gavin@hooli.example"]);
    assert_eq!(events[0]["data"]["contactCreated"]["company"]["name"], "Hooli");

    // Another tenant's subscriber sees none of this; a bad key is refused at connection_init.
    let (mut refused, mut lines) = {
        use tokio::io::AsyncBufReadExt;
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("graphql");
        let mut child = tokio::process::Command::new("node")
            .arg("subscribe.mjs")
            .current_dir(&dir)
            .env("HUBBLE_WS_URL", format!("{}/graphql/ws", s.base_url.replacen("http", "ws", 1)))
            .env("HUBBLE_KEY", "hw_not_a_key")
            .env("HUBBLE_QUERY", query)
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
        (child, lines)
    };
    let mut saw_error = false;
    while let Some(line) = lines.next_line().await.unwrap() {
        saw_error |= line.starts_with("ERROR");
    }
    assert!(!refused.wait().await.unwrap().success() && saw_error, "a bad key is refused");
}

#[tokio::test]
async fn a_subscriber_sees_only_its_own_tenant() {
    let s = stack().await;
    let (a, b) = (s.tenant().await, s.tenant().await);
    a.define_crm().await;
    b.define_crm().await;
    let (mut child, mut lines) = subscriber(&s, &a.key, "subscription { companyCreated { name } }", 1).await;
    gql(&b, r#"mutation { createCompany(input: {name: "Not yours"}) { id } }"#, json!({})).await;
    gql(&a, r#"mutation { createCompany(input: {name: "Yours"}) { id } }"#, json!({})).await;
    let mut got = Vec::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        if let Some(json) = line.strip_prefix("EVENT ") {
            got.push(serde_json::from_str::<Value>(json).unwrap()["data"]["companyCreated"]["name"].clone());
        }
    }
    assert!(child.wait().await.unwrap().success());
    assert_eq!(got, [json!("Yours")]);
}

/// Runs tests/graphql/subscribe.mjs to its end and returns its stdout lines.
async fn subscriber_until_exit(s: &hubble_e2e::Stack, key: &str, query: &str) -> (bool, Vec<String>) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("graphql");
    let out = tokio::process::Command::new("node")
        .arg("subscribe.mjs")
        .current_dir(&dir)
        .env("HUBBLE_WS_URL", format!("{}/graphql/ws", s.base_url.replacen("http", "ws", 1)))
        .env("HUBBLE_KEY", key)
        .env("HUBBLE_QUERY", query)
        .env("HUBBLE_TIMEOUT_MS", "15000")
        .output()
        .await
        .expect("node runs");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect())
}

#[tokio::test]
async fn a_bad_subscription_is_refused_and_a_revoked_key_ends_subscriptions() {
    let s = stack().await;
    let t = s.tenant().await;
    t.define_crm().await;
    // Checked when it arrives: an invalid filter value is answered with an `error` message for that operation.
    let (ok, lines) =
        subscriber_until_exit(&s, &t.key, r#"subscription { contactCreated(filter: {age: {gte: "old"}}) { email } }"#)
            .await;
    let error = lines.iter().find(|l| l.starts_with("ERROR")).unwrap_or_else(|| panic!("no error in {lines:?}"));
    assert!(!ok && error.contains("age"), "{error}");

    // A key revoked while its subscription is open: the next event closes the connection instead of delivering.
    let created = t.post_json("/v1/api-keys", &json!({"name": "watcher", "scopes": ["data:read"]})).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let (secret, id) = (created.body["secret"].as_str().unwrap(), created.body["id"].as_str().unwrap());
    let (mut child, mut lines) = subscriber(&s, secret, "subscription { companyCreated { name } }", 2).await;
    gql(&t, r#"mutation { createCompany(input: {name: "Seen"}) { id } }"#, json!({})).await;
    let mut got = Vec::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        if line.starts_with("EVENT ") {
            got.push(line);
            break;
        }
        assert!(!line.starts_with("ERROR") && !line.starts_with("TIMEOUT"), "{line}");
    }
    assert_eq!(t.delete(&format!("/v1/api-keys/{id}")).await.status, 204);
    gql(&t, r#"mutation { createCompany(input: {name: "Not seen"}) { id } }"#, json!({})).await;
    while let Some(line) = lines.next_line().await.unwrap() {
        got.push(line);
    }
    assert!(!child.wait().await.unwrap().success());
    assert!(got[0].contains("Seen") && !got.iter().any(|l| l.contains("Not seen")), "{got:?}");
    assert!(got.last().is_some_and(|l| l.starts_with("ERROR")), "the connection was closed: {got:?}");
}
