//! For tests of this crate and of the functions built on it: a GraphQL backend on in-memory stores with two
//! tenants (`acme`, `globex`), each with the models `company { name }` and `contact { email, age, company }`.

use std::sync::Arc;

use hw_aws::events::RecordingPublisher;
use hw_graphql::Backend;
use hw_store::ControlStore;
use hw_store::cipher::FieldCipher;
use hw_store::memory::{MemoryControlStore, MemoryDataStore};
use hw_store::records::{Publication, Records};
use hw_store::tenants::Tenants;
use serde_json::json;

use crate::{MemoryConnections, Realtime, RecordingSender};

pub struct MemoryBackend {
    pub backend: Backend,
    pub records: Arc<Records>,
    /// The events the records service published.
    pub events: Arc<RecordingPublisher>,
    pub tenants: Tenants,
}

impl MemoryBackend {
    pub async fn new() -> Self {
        let control = Arc::new(MemoryControlStore::default());
        let tenants = Tenants { control: control.clone() };
        for tenant in ["acme", "globex"] {
            tenants.create_tenant(tenant, tenant).await.expect("tenant");
            for m in [
                json!({"name": "company", "fields": [{"name": "name", "type": "string"}]}),
                json!({"name": "contact", "fields": [{"name": "email", "type": "email"}, {"name": "age", "type": "integer"},
                    {"name": "company", "type": "reference", "target": "company"}]}),
            ] {
                let mut m = m;
                for (k, v) in
                    [("label", json!("x")), ("version", json!(1)), ("created_at", json!("")), ("updated_at", json!(""))]
                {
                    m[k] = v;
                }
                control.put_model(tenant, &serde_json::from_value(m).expect("model"), None).await.expect("model");
            }
        }
        let events = Arc::new(RecordingPublisher::default());
        let records = Arc::new(Records {
            cipher: Arc::new(FieldCipher::new(control.clone(), Arc::new(hw_aws::kms::StaticKeyring::new([1; 32])))),
            control,
            data: Arc::new(MemoryDataStore::default()),
            publisher: events.clone(),
            publication: Publication::Immediate,
        });
        let backend = Backend::new(records.clone(), Arc::new(hw_oauth_store::memory::MemoryOAuthStore::new()), None);
        Self { backend, records, events, tenants }
    }

    /// The backend with an in-memory connection store and a recording sender, returned alongside for assertions.
    pub fn realtime(&self) -> (Realtime, Arc<MemoryConnections>, Arc<RecordingSender>) {
        let store = Arc::new(MemoryConnections::default());
        let sender = Arc::new(RecordingSender::default());
        (Realtime { backend: self.backend.clone(), store: store.clone(), sender: sender.clone() }, store, sender)
    }
}
