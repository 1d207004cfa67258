//! What every GraphQL function builds once per cold start: the schema cache over the records service, and the
//! authenticator of API keys and access tokens.

use std::sync::Arc;

use hw_oauth_store::OAuthStore;
use hw_oauth_store::verifier::AccessTokenVerifier;
use hw_resources::Config;
use hw_store::records::Records;
use hw_store::tenants::Tenants;

use crate::{Authenticator, SchemaCache};

#[derive(Clone)]
pub struct Backend {
    pub schemas: Arc<SchemaCache>,
    pub auth: Arc<Authenticator>,
}

impl Backend {
    pub fn new(records: Arc<Records>, oauth: Arc<dyn OAuthStore>, public_base_url: Option<String>) -> Self {
        let auth = Authenticator {
            tenants: Tenants { control: records.control.clone() },
            verifier: AccessTokenVerifier::new(oauth),
            public_base_url,
        };
        Self { schemas: Arc::new(SchemaCache::new(records)), auth: Arc::new(auth) }
    }

    /// On DynamoDB (control, data and identity tables), KMS (sensitive fields) and EventBridge (mutations' events).
    pub fn from_aws(config: &Config, sdk: &aws_config::SdkConfig) -> Self {
        let dynamo = hw_aws::dynamo_client(sdk);
        let keyring = Arc::new(hw_aws::kms::KmsKeyring::new(
            aws_sdk_kms::Client::new(sdk),
            config.data_key_id.clone().unwrap_or_default(),
        ));
        let publisher = Arc::new(hw_aws::events::EventBridgePublisher::new(
            aws_sdk_eventbridge::Client::new(sdk),
            &config.event_bus,
            &config.event_source,
        ));
        let records = Records::on_dynamo(dynamo.clone(), &config.control_table, &config.data_table, keyring, publisher);
        let oauth = Arc::new(hw_oauth_store::dynamo::DynamoOAuthStore::new(dynamo, &config.identity_table));
        Self::new(Arc::new(records), oauth, config.public_base_url.clone())
    }
}
