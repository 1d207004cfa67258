//! Lambda entry point of `graphql-ws`: configuration, SDK clients and handler wiring, once per cold start.

use std::sync::Arc;

use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    hw_telemetry::init(graphql_ws::FUNCTION);
    let config = hw_resources::Config::for_function(graphql_ws::FUNCTION)?;
    let deps = Arc::new(graphql_ws::Deps::from_aws(&config, &hw_aws::sdk_config().await));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<ApiGatewayWebsocketProxyRequest>| {
        let deps = deps.clone();
        async move { Ok::<_, std::convert::Infallible>(graphql_ws::handle(&deps, event.payload).await) }
    }))
    .await
}
