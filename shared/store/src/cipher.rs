//! Encryption of fields marked `sensitive`: each tenant has a data key, wrapped by KMS and stored in the control
//! table, unwrapped once per cold start; values are sealed with AES-256-GCM and bound (as authenticated data) to
//! their tenant, entity, record and field, so a ciphertext copied elsewhere does not open.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use hw_aws::kms::{Keyring, open, seal};
use hw_domain::model::Model;
use hw_domain::record::Record;
use serde_json::Value;

use crate::ports::{ControlStore, StoreError};

/// Stored sensitive values look like `hwenc:v1:<base64(nonce || ciphertext)>`.
pub const PREFIX: &str = "hwenc:v1:";

pub struct FieldCipher {
    control: Arc<dyn ControlStore>,
    keyring: Arc<dyn Keyring>,
    keys: Mutex<HashMap<String, [u8; 32]>>,
}

impl FieldCipher {
    pub fn new(control: Arc<dyn ControlStore>, keyring: Arc<dyn Keyring>) -> Self {
        Self { control, keyring, keys: Mutex::new(HashMap::new()) }
    }

    async fn key(&self, tenant: &str) -> Result<[u8; 32], StoreError> {
        if let Some(k) = self.keys.lock().expect("not poisoned").get(tenant) {
            return Ok(*k);
        }
        let key_err = |e: hw_aws::kms::KeyringError| StoreError::Backend(e.to_string());
        let key = match self.control.get_data_key(tenant).await? {
            Some(wrapped) => self.keyring.unwrap(tenant, &wrapped).await.map_err(key_err)?.0,
            None => {
                let (plain, wrapped) = self.keyring.generate(tenant).await.map_err(key_err)?;
                match self.control.put_data_key(tenant, &wrapped).await {
                    Ok(()) => plain.0,
                    // Another instance created the tenant's key first: use that one.
                    Err(StoreError::AlreadyExists) => {
                        let wrapped = self.control.get_data_key(tenant).await?.ok_or(StoreError::NotFound)?;
                        self.keyring.unwrap(tenant, &wrapped).await.map_err(key_err)?.0
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        self.keys.lock().expect("not poisoned").insert(tenant.to_owned(), key);
        Ok(key)
    }

    fn aad(tenant: &str, r: &Record, field: &str) -> Vec<u8> {
        format!("{tenant}/{}/{}/{field}", r.entity, r.id).into_bytes()
    }

    /// The record as stored: sensitive values sealed.
    pub async fn seal_record(&self, tenant: &str, model: &Model, record: &Record) -> Result<Record, StoreError> {
        let mut stored = record.clone();
        let sensitive: Vec<&str> = model.fields.iter().filter(|f| f.sensitive).map(|f| f.name.as_str()).collect();
        if sensitive.iter().all(|f| !record.attributes.contains_key(*f)) {
            return Ok(stored);
        }
        let key = self.key(tenant).await?;
        for f in sensitive {
            if let Some(v) = stored.attributes.get_mut(f) {
                let sealed = seal(&key, &Self::aad(tenant, record, f), v.to_string().as_bytes())
                    .map_err(|_| StoreError::Backend("encryption failed".into()))?;
                *v = Value::String(format!("{PREFIX}{}", base64::engine::general_purpose::STANDARD.encode(sealed)));
            }
        }
        Ok(stored)
    }

    /// The record as clients see it: sensitive values opened.
    pub async fn open_record(&self, tenant: &str, model: &Model, mut record: Record) -> Result<Record, StoreError> {
        let sealed: Vec<String> = model
            .fields
            .iter()
            .filter(|f| f.sensitive)
            .filter(|f| record.attributes.get(&f.name).and_then(Value::as_str).is_some_and(|s| s.starts_with(PREFIX)))
            .map(|f| f.name.clone())
            .collect();
        if sealed.is_empty() {
            return Ok(record);
        }
        let key = self.key(tenant).await?;
        for f in sealed {
            let aad = Self::aad(tenant, &record, &f);
            let text = record.attributes[&f].as_str().expect("checked above")[PREFIX.len()..].to_owned();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text)
                .ok()
                .and_then(|b| open(&key, &aad, &b).ok())
                .ok_or_else(|| {
                    StoreError::Backend(format!(
                        "sensitive field `{f}` of {}/{} does not decrypt",
                        record.entity, record.id
                    ))
                })?;
            let value =
                serde_json::from_slice(&bytes).map_err(|e| StoreError::Backend(format!("decrypted `{f}`: {e}")))?;
            record.attributes.insert(f, value);
        }
        Ok(record)
    }
}

impl FieldCipher {
    /// Seals a secret the platform must be able to read back (a webhook signing secret), bound to `context`
    /// (e.g. `webhook/<endpoint id>`) and the tenant; base64 of nonce || ciphertext.
    pub async fn seal_secret(&self, tenant: &str, context: &str, secret: &[u8]) -> Result<String, StoreError> {
        let key = self.key(tenant).await?;
        let sealed = seal(&key, format!("{tenant}/{context}").as_bytes(), secret)
            .map_err(|_| StoreError::Backend("sealing a secret failed".into()))?;
        Ok(base64::engine::general_purpose::STANDARD.encode(sealed))
    }

    /// Opens what `seal_secret` sealed for the same tenant and context.
    pub async fn open_secret(&self, tenant: &str, context: &str, sealed: &str) -> Result<Vec<u8>, StoreError> {
        let key = self.key(tenant).await?;
        base64::engine::general_purpose::STANDARD
            .decode(sealed)
            .ok()
            .and_then(|b| open(&key, format!("{tenant}/{context}").as_bytes(), &b).ok())
            .ok_or_else(|| StoreError::Backend(format!("the secret of {context} does not decrypt")))
    }
}

impl FieldCipher {
    /// The tenant's key for signing page cursors: derived with HKDF-SHA256 (info `hubblewave cursor v1`) from the
    /// tenant's data key, which itself never leaves this type. Signing with a derived key keeps the two uses apart.
    pub async fn cursor_key(&self, tenant: &str) -> Result<[u8; 32], StoreError> {
        let data_key = self.key(tenant).await?;
        let mut out = [0u8; 32];
        hkdf::Hkdf::<sha2::Sha256>::new(None, &data_key)
            .expand(b"hubblewave cursor v1", &mut out)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        Ok(out)
    }
}
