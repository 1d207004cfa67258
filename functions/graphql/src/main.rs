//! Lambda entry point of the `graphql` function: configuration, SDK clients and handler wiring, once per cold start
//! (schemas are then built per tenant on first use and cached for the life of the instance).

use std::sync::Arc;

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    hw_telemetry::init(graphql::FUNCTION);
    let config = hw_resources::Config::for_function(graphql::FUNCTION)?;
    let deps = Arc::new(graphql::Deps::from_aws(config, &hw_aws::sdk_config().await));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<ApiGatewayV2httpRequest>| {
        let deps = deps.clone();
        async move { Ok::<_, std::convert::Infallible>(graphql::handle(&deps, event.payload).await) }
    }))
    .await
}
