//! Envelope encryption: KMS wraps per-tenant data keys; values are encrypted locally with AES-256-GCM under them.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use async_trait::async_trait;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use rand::RngCore as _;

#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error("key service call failed: {0}")]
    Call(String),
    #[error("key service returned no key material")]
    Empty,
}

/// A 256-bit data key in the clear: lives in memory only.
pub struct DataKey(pub [u8; 32]);

/// Port for wrapping and unwrapping data keys. The encryption context binds a wrapped key to its tenant: a key
/// copied into another tenant's item does not unwrap there.
#[async_trait]
pub trait Keyring: Send + Sync {
    /// A fresh data key, in the clear and wrapped.
    async fn generate(&self, tenant: &str) -> Result<(DataKey, Vec<u8>), KeyringError>;
    async fn unwrap(&self, tenant: &str, wrapped: &[u8]) -> Result<DataKey, KeyringError>;
}

pub struct KmsKeyring {
    client: aws_sdk_kms::Client,
    key_id: String,
}

impl KmsKeyring {
    pub fn new(client: aws_sdk_kms::Client, key_id: impl Into<String>) -> Self {
        Self { client, key_id: key_id.into() }
    }
}

fn call_error(e: impl std::error::Error + 'static) -> KeyringError {
    KeyringError::Call(aws_sdk_kms::error::DisplayErrorContext(&e).to_string())
}

fn to_key(bytes: &[u8]) -> Result<DataKey, KeyringError> {
    bytes.try_into().map(DataKey).map_err(|_| KeyringError::Empty)
}

#[async_trait]
impl Keyring for KmsKeyring {
    async fn generate(&self, tenant: &str) -> Result<(DataKey, Vec<u8>), KeyringError> {
        let out = self
            .client
            .generate_data_key()
            .key_id(&self.key_id)
            .key_spec(DataKeySpec::Aes256)
            .encryption_context("tenant", tenant)
            .send()
            .await
            .map_err(call_error)?;
        let plain = out.plaintext().ok_or(KeyringError::Empty)?;
        let wrapped = out.ciphertext_blob().ok_or(KeyringError::Empty)?;
        Ok((to_key(plain.as_ref())?, wrapped.as_ref().to_vec()))
    }

    async fn unwrap(&self, tenant: &str, wrapped: &[u8]) -> Result<DataKey, KeyringError> {
        let out = self
            .client
            .decrypt()
            .key_id(&self.key_id)
            .ciphertext_blob(Blob::new(wrapped))
            .encryption_context("tenant", tenant)
            .send()
            .await
            .map_err(call_error)?;
        to_key(out.plaintext().ok_or(KeyringError::Empty)?.as_ref())
    }
}

/// A keyring whose master key lives in memory: for tests and benchmarks, never for real data.
pub struct StaticKeyring {
    master: [u8; 32],
}

impl StaticKeyring {
    pub fn new(master: [u8; 32]) -> Self {
        Self { master }
    }
}

#[async_trait]
impl Keyring for StaticKeyring {
    async fn generate(&self, tenant: &str) -> Result<(DataKey, Vec<u8>), KeyringError> {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        let wrapped = seal(&self.master, tenant.as_bytes(), &key).map_err(|_| KeyringError::Empty)?;
        Ok((DataKey(key), wrapped))
    }

    async fn unwrap(&self, tenant: &str, wrapped: &[u8]) -> Result<DataKey, KeyringError> {
        to_key(&open(&self.master, tenant.as_bytes(), wrapped).map_err(|_| KeyringError::Empty)?)
    }
}

/// AES-256-GCM with a random 96-bit nonce, returned as `nonce || ciphertext+tag`. `aad` is authenticated, not
/// encrypted: it binds the ciphertext to where it belongs.
pub fn seal(key: &[u8; 32], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, aes_gcm::Error> {
    let cipher = Aes256Gcm::new(key.into());
    let mut nonce = [0u8; 12];
    rand::rng().fill_bytes(&mut nonce);
    let mut out = nonce.to_vec();
    out.extend(cipher.encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad })?);
    Ok(out)
}

pub fn open(key: &[u8; 32], aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, aes_gcm::Error> {
    if sealed.len() < 12 + 16 {
        return Err(aes_gcm::Error);
    }
    let (nonce, ct) = sealed.split_at(12);
    Aes256Gcm::new(key.into()).decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_same_key_and_aad() {
        let key = [7u8; 32];
        let sealed = seal(&key, b"acme/contact/1/ssn", b"123-45-6789").unwrap();
        assert_eq!(open(&key, b"acme/contact/1/ssn", &sealed).unwrap(), b"123-45-6789");
        assert!(open(&key, b"acme/contact/2/ssn", &sealed).is_err(), "moved to another record");
        assert!(open(&[8u8; 32], b"acme/contact/1/ssn", &sealed).is_err(), "another tenant's key");
        assert_ne!(seal(&key, b"a", b"x").unwrap(), seal(&key, b"a", b"x").unwrap(), "fresh nonce each time");
    }

    #[tokio::test]
    async fn static_keyring_binds_keys_to_tenants() {
        let ring = StaticKeyring::new([1u8; 32]);
        let (key, wrapped) = ring.generate("acme").await.unwrap();
        assert_eq!(ring.unwrap("acme", &wrapped).await.unwrap().0, key.0);
        assert!(ring.unwrap("other", &wrapped).await.is_err());
    }
}
