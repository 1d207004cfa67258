//! Key layout. The tenant leads every partition key, except the API-key hash lookup: that item is how a request
//! finds its tenant in the first place, and it holds nothing but the key's metadata.
//!
//! control table                       data table
//!   T#{t} / TENANT                      T#{t}#E#{entity} / R#{id}             a record
//!   T#{t} / MODEL#{name}                T#{t}#U#{entity}#{field} / {hash}     a unique-value claim
//!   T#{t} / APIKEY#{id}                 T#{t}#OUTBOX / {event id}             an event not yet published
//!   T#{t} / DATAKEY                     (the tenant's data key, wrapped by KMS)
//!   APIKEYHASH#{sha256} / APIKEYHASH

pub fn tenant_pk(tenant: &str) -> String {
    format!("T#{tenant}")
}
pub const TENANT_SK: &str = "TENANT";
pub const DATA_KEY_SK: &str = "DATAKEY";
pub fn model_sk(name: &str) -> String {
    format!("MODEL#{name}")
}
pub const MODEL_SK_PREFIX: &str = "MODEL#";
pub fn api_key_sk(id: &str) -> String {
    format!("APIKEY#{id}")
}
pub const API_KEY_SK_PREFIX: &str = "APIKEY#";
pub fn api_key_hash_pk(hash: &str) -> String {
    format!("APIKEYHASH#{hash}")
}
pub const API_KEY_HASH_SK: &str = "APIKEYHASH";

pub fn entity_pk(tenant: &str, entity: &str) -> String {
    format!("T#{tenant}#E#{entity}")
}
pub fn record_sk(id: &str) -> String {
    format!("R#{id}")
}
pub const RECORD_SK_PREFIX: &str = "R#";
pub fn claim_pk(tenant: &str, entity: &str, field: &str) -> String {
    format!("T#{tenant}#U#{entity}#{field}")
}
pub fn outbox_pk(tenant: &str) -> String {
    format!("T#{tenant}#OUTBOX")
}
/// The outbox index is spread over a few partitions so that a burst of writes does not heat one.
pub const OUTBOX_SHARDS: u32 = 4;
pub fn outbox_shard(event_id: &str) -> String {
    let n = event_id.bytes().fold(0u32, |acc, b| acc.wrapping_mul(31).wrapping_add(b as u32)) % OUTBOX_SHARDS;
    format!("OUTBOX#{n}")
}
