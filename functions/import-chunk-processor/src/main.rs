//! Lambda entry point of `import-chunk-processor`.

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    hw_telemetry::init(import_chunk_processor::FUNCTION);
    let config = hw_resources::Config::for_function(import_chunk_processor::FUNCTION)?;
    let deps = Arc::new(import_chunk_processor::Deps::from_aws(&config, &hw_aws::sdk_config().await)?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let deps = deps.clone();
        async move { Ok::<_, std::convert::Infallible>(import_chunk_processor::handle(&deps, event.payload).await) }
    }))
    .await
}
