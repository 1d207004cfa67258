//! Lambda entry point of `graphql-publisher`.

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    hw_telemetry::init(graphql_publisher::FUNCTION);
    let config = hw_resources::Config::for_function(graphql_publisher::FUNCTION)?;
    let deps = Arc::new(graphql_publisher::Deps::from_aws(&config, &hw_aws::sdk_config().await));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let deps = deps.clone();
        async move { Ok::<_, std::convert::Infallible>(graphql_publisher::handle(&deps, event.payload).await) }
    }))
    .await
}
