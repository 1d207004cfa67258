//! GraphiQL, served when `/graphql` is opened in a browser. The bundles are compiled into the binary (see
//! `build.rs`) and served from `/graphql/assets/`; the page asks for the API key once and keeps it in the
//! browser's session storage, sending it as `Authorization: Bearer`.

pub const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>HubbleWave GraphQL</title>
<link rel="stylesheet" href="/graphql/assets/graphiql.min.css">
<style>
  html, body { height: 100%; margin: 0; font-family: system-ui, sans-serif; }
  #bar { display: flex; gap: .5rem; align-items: center; padding: .4rem .8rem; background: #0b1f3a; color: #fff; }
  #bar label { font-size: .9rem; }
  #bar input { flex: 1; max-width: 32rem; padding: .3rem; font-family: monospace; }
  #graphiql { height: calc(100% - 2.6rem); }
</style>
</head>
<body>
<div id="bar">
  <strong>HubbleWave GraphQL</strong>
  <label for="key">API key or access token</label>
  <input id="key" type="password" autocomplete="off" placeholder="hw_... or an OAuth access token">
</div>
<div id="graphiql" role="main">Loading GraphiQL…</div>
<script src="/graphql/assets/react.production.min.js"></script>
<script src="/graphql/assets/react-dom.production.min.js"></script>
<script src="/graphql/assets/graphiql.min.js"></script>
<script>
  const input = document.getElementById('key');
  input.value = sessionStorage.getItem('hubblewave-key') || '';
  input.addEventListener('change', () => { sessionStorage.setItem('hubblewave-key', input.value.trim()); location.reload(); });
  const fetcher = GraphiQL.createFetcher({
    url: location.origin + '/graphql',
    headers: input.value ? { Authorization: 'Bearer ' + input.value.trim() } : {},
  });
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, { fetcher, defaultEditorToolsVisibility: true }),
  );
</script>
</body>
</html>
"#;

/// An asset by file name: (content type, body).
pub fn asset(name: &str) -> Option<(&'static str, &'static str)> {
    Some(match name {
        "graphiql.min.js" => {
            ("text/javascript; charset=utf-8", include_str!(concat!(env!("OUT_DIR"), "/graphiql.min.js")))
        }
        "graphiql.min.css" => ("text/css; charset=utf-8", include_str!(concat!(env!("OUT_DIR"), "/graphiql.min.css"))),
        "react.production.min.js" => {
            ("text/javascript; charset=utf-8", include_str!(concat!(env!("OUT_DIR"), "/react.production.min.js")))
        }
        "react-dom.production.min.js" => {
            ("text/javascript; charset=utf-8", include_str!(concat!(env!("OUT_DIR"), "/react-dom.production.min.js")))
        }
        _ => return None,
    })
}
