//! AWS adapters shared by the functions. Each service sits behind a feature so a function compiles only the SDKs
//! it uses.

#[cfg(feature = "dynamodb")]
pub mod dynamo;
#[cfg(feature = "eventbridge")]
pub mod events;
#[cfg(feature = "kms")]
pub mod kms;
#[cfg(feature = "sqs-consumer")]
pub mod sqs_batch;

/// Loads the SDK configuration once per cold start. Endpoints come from the standard variables
/// (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_DYNAMODB`, ...), so one binary talks to AWS, moto or LocalStack.
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await
}

/// Exponential backoff with full jitter for retrying throttled or partially failed batch calls.
pub fn backoff(attempt: u32) -> std::time::Duration {
    use rand::Rng as _;
    let cap_ms = (25u64 << attempt.min(8)).min(2_000);
    std::time::Duration::from_millis(rand::rng().random_range(cap_ms / 2..=cap_ms))
}

/// A DynamoDB client from the shared configuration.
#[cfg(feature = "dynamodb")]
pub fn dynamo_client(sdk: &aws_config::SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(sdk)
}
