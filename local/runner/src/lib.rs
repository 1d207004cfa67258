//! The local runner: bootstraps the emulator's resources and hosts every function in-process through its library
//! handler: HTTP routes as API Gateway would call them, SQS queues as event source mappings would, schedules as
//! EventBridge Scheduler would.

pub mod bootstrap;
pub mod gateway;
pub mod schedules;
pub mod seed;
pub mod sqs;
pub mod websocket;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use hw_resources::{Config, Trigger, manifest};

use crate::gateway::{Gateway, HttpHandler, Route};
use crate::sqs::{Poller, SqsHandler};
use crate::websocket::{WebsocketApi, WebsocketHandler};

/// Settings of a local stack, from the environment.
#[derive(Debug, Clone)]
pub struct Options {
    pub bind: IpAddr,
    pub port: u16,
    pub prefix: String,
    pub state_dir: PathBuf,
    pub seed: bool,
    pub endpoint: String,
}

impl Options {
    pub fn from_env() -> Result<Self> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Ok(Self {
            bind: var("HUBBLE_BIND").unwrap_or_else(|| "127.0.0.1".into()).parse().context("HUBBLE_BIND")?,
            port: var("HUBBLE_PORT").unwrap_or_else(|| "8080".into()).parse().context("HUBBLE_PORT")?,
            prefix: var("HUBBLE_RESOURCE_PREFIX").unwrap_or_else(|| "hubble".into()),
            state_dir: var("HUBBLE_STATE_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.state"))),
            seed: var("HUBBLE_SEED").is_none_or(|v| v != "false" && v != "0"),
            endpoint: var("AWS_ENDPOINT_URL").unwrap_or_else(|| "http://127.0.0.1:4566".into()),
        })
    }
}

/// SDK configuration for the emulator: its endpoint, and dummy credentials and region unless the environment
/// provides real ones (LocalStack accepts any).
pub async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest()).endpoint_url(endpoint);
    if std::env::var("AWS_ACCESS_KEY_ID").is_err() {
        loader = loader.credentials_provider(aws_credential_types::Credentials::new(
            "test",
            "test",
            None,
            None,
            "hubble-local",
        ));
    }
    if std::env::var("AWS_REGION").is_err() && std::env::var("AWS_DEFAULT_REGION").is_err() {
        loader = loader.region(aws_config::Region::new("us-east-1"));
    }
    loader.load().await
}

pub struct Running {
    pub addr: SocketAddr,
    pub base_url: String,
    pub demo: Option<serde_json::Value>,
    pub tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Bootstraps, seeds and starts everything; returns once the HTTP port is bound.
pub async fn start(opts: &Options) -> Result<Running> {
    let sdk = sdk_config(&opts.endpoint).await;
    let resources = bootstrap::bootstrap(&sdk, &opts.prefix)
        .await
        .with_context(|| format!("bootstrapping resources in the emulator at {}", opts.endpoint))?;
    // The same limit variables as in AWS; checked here so a typo fails the start instead of falling back quietly.
    hw_resources::Limits::from_lookup(&|k: &str| std::env::var(k).ok())?;
    let mut config = Config::for_prefix(&opts.prefix);
    let (deliveries_url, _) = &resources.queues["webhook-deliveries"];
    let (dead_letter_url, _) = &resources.dlqs["webhook-deliveries"];
    config.webhook_queue_url = deliveries_url.clone();
    config.webhook_dead_letter_url = dead_letter_url.clone();
    config.import_chunks_queue_url = resources.queues["import-chunks"].0.clone();
    let (exports_url, exports_arn) = &resources.queues["exports"];
    config.exports_queue_url = exports_url.clone();
    config.exports_queue_arn = exports_arn.clone();

    let listener = tokio::net::TcpListener::bind((opts.bind, opts.port))
        .await
        .with_context(|| format!("binding {}:{}", opts.bind, opts.port))?;
    let addr = listener.local_addr()?;
    let base_url = format!("http://{addr}");
    // Functions post to WebSocket connections through the runner's stand-in for the Management API.
    config.websocket_callback_url = format!("{base_url}{}", websocket::CALLBACK_PATH);

    let api_deps = Arc::new(api::Deps::from_aws(config.clone(), &sdk));
    let oauth_deps = Arc::new(oauth::Deps::from_aws(config.clone(), &sdk));
    let graphql_deps = Arc::new(graphql::Deps::from_aws(config.clone(), &sdk));
    let graphql_ws_deps = Arc::new(graphql_ws::Deps::from_aws(&config, &sdk));
    let graphql_publisher_deps = Arc::new(graphql_publisher::Deps::from_aws(&config, &sdk));
    let relay_deps = Arc::new(outbox_relay::Deps::from_aws(&config, &sdk));
    let fanout_deps = Arc::new(webhook_fanout::Deps::from_aws(&config, &sdk));
    let dispatcher_deps = Arc::new(webhook_dispatcher::Deps::from_aws(&config, &sdk));
    let planner_deps = Arc::new(import_planner::Deps::from_aws(&config, &sdk).map_err(|e| anyhow::anyhow!(e))?);
    let chunk_deps = Arc::new(import_chunk_processor::Deps::from_aws(&config, &sdk).map_err(|e| anyhow::anyhow!(e))?);
    let export_deps = Arc::new(export_runner::Deps::from_aws(&config, &sdk));

    let mut http: HashMap<&str, HttpHandler> = HashMap::new();
    let deps = api_deps.clone();
    http.insert(
        "api",
        Arc::new(move |event| {
            let deps = deps.clone();
            Box::pin(async move { api::handle(&deps, event).await })
        }),
    );
    let deps = oauth_deps.clone();
    http.insert(
        "oauth",
        Arc::new(move |event| {
            let deps = deps.clone();
            Box::pin(async move { oauth::handle(&deps, event).await })
        }),
    );
    let deps = graphql_deps.clone();
    http.insert(
        "graphql",
        Arc::new(move |event| {
            let deps = deps.clone();
            Box::pin(async move { graphql::handle(&deps, event).await })
        }),
    );
    let mut websocket_handlers: HashMap<&str, WebsocketHandler> = HashMap::new();
    let deps = graphql_ws_deps.clone();
    websocket_handlers.insert(
        "graphql-ws",
        Arc::new(move |event| {
            let deps = deps.clone();
            Box::pin(async move { graphql_ws::handle(&deps, event).await })
        }),
    );
    let mut queue_handlers: HashMap<&str, SqsHandler> = HashMap::new();
    let deps = graphql_publisher_deps.clone();
    queue_handlers.insert(
        "graphql-publisher",
        Arc::new(move |event| {
            let deps = deps.clone();
            Box::pin(async move { graphql_publisher::handle(&deps, event).await })
        }),
    );
    let deps = relay_deps.clone();
    queue_handlers.insert(
        "outbox-relay",
        Arc::new(move |event| {
            let deps = deps.clone();
            Box::pin(async move { outbox_relay::handle(&deps, event).await })
        }),
    );
    let deps = fanout_deps.clone();
    queue_handlers.insert(
        "webhook-fanout",
        Arc::new(move |event| {
            let deps = deps.clone();
            Box::pin(async move { webhook_fanout::handle(&deps, event).await })
        }),
    );
    let deps = dispatcher_deps.clone();
    queue_handlers.insert(
        "webhook-dispatcher",
        Arc::new(move |event| {
            let deps = deps.clone();
            Box::pin(async move { webhook_dispatcher::handle(&deps, event).await })
        }),
    );
    let deps = planner_deps.clone();
    queue_handlers.insert(
        "import-planner",
        Arc::new(move |event| {
            let deps = deps.clone();
            Box::pin(async move { import_planner::handle(&deps, event).await })
        }),
    );
    let deps = chunk_deps.clone();
    queue_handlers.insert(
        "import-chunk-processor",
        Arc::new(move |event| {
            let deps = deps.clone();
            Box::pin(async move { import_chunk_processor::handle(&deps, event).await })
        }),
    );
    let deps = export_deps.clone();
    queue_handlers.insert(
        "export-runner",
        Arc::new(move |event| {
            let deps = deps.clone();
            Box::pin(async move { export_runner::handle(&deps, event).await })
        }),
    );

    let mut routes = Vec::new();
    let mut websocket_api = None;
    let mut tasks = Vec::new();
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let region = sdk.region().map(|r| r.to_string()).unwrap_or_else(|| "us-east-1".into());
    for (name, function) in &manifest().functions {
        match &function.trigger {
            Trigger::Http { routes: keys } => {
                let handler = http
                    .remove(name.as_str())
                    .with_context(|| format!("function {name} has no in-process HTTP handler"))?;
                routes.extend(keys.iter().map(|k| Route::new(k, handler.clone())));
            }
            Trigger::Sqs { queue, batch_size, .. } => {
                let handler = queue_handlers
                    .remove(name.as_str())
                    .with_context(|| format!("function {name} has no in-process SQS handler"))?;
                let (url, arn) = resources.queues.get(queue).cloned().with_context(|| format!("queue {queue}"))?;
                let poller = Poller {
                    function: name.clone(),
                    queue_url: url,
                    queue_arn: arn,
                    region: region.clone(),
                    batch_size: *batch_size as i32,
                    handler,
                };
                tasks.push(tokio::spawn(poller.run(sqs.clone())));
            }
            Trigger::Websocket { .. } => {
                let handler = websocket_handlers
                    .remove(name.as_str())
                    .with_context(|| format!("function {name} has no in-process WebSocket handler"))?;
                if websocket_api.replace(WebsocketApi::new(handler)).is_some() {
                    bail!("the local runner serves one WebSocket API; {name} is a second function for it");
                }
            }
        }
    }
    if !http.is_empty() || !queue_handlers.is_empty() || !websocket_handlers.is_empty() {
        bail!(
            "in-process handlers without a function in resources.json: {:?} {:?} {:?}",
            http.keys(),
            queue_handlers.keys(),
            websocket_handlers.keys()
        );
    }
    routes.sort_by_key(Route::specificity);
    tasks.push(tokio::spawn(schedules::run(aws_sdk_scheduler::Client::new(&sdk), sqs, opts.prefix.clone())));

    let demo = if opts.seed {
        Some(seed::seed(&api_deps, &opts.state_dir, &base_url).await.context("seeding the demo tenant")?)
    } else {
        None
    };

    let mut app = gateway::router(Arc::new(Gateway { routes }));
    if let Some(api) = websocket_api {
        app = websocket::router(api).merge(app);
    }
    tasks.push(tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await {
            tracing::error!(error = %e, "HTTP server stopped");
        }
    }));
    Ok(Running { addr, base_url, demo, tasks })
}
