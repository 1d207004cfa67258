//! An in-memory [`FileStore`] for handler tests. Presigned URLs point at `memory://<bucket>/<key>`; tests put the
//! "uploaded" bytes with [`MemoryFiles::put`].

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::{CompletedPart, FileError, FileStore, ObjectInfo, PresignedRequest};

#[derive(Clone, Default)]
pub struct MemoryFiles {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default)]
struct Inner {
    objects: HashMap<String, Vec<u8>>,
    /// upload id → (key, parts by number)
    uploads: HashMap<String, (String, BTreeMap<i32, Vec<u8>>)>,
    next_upload: u64,
}

impl MemoryFiles {
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores an object, as a client's upload would.
    pub fn put(&self, key: &str, bytes: impl Into<Vec<u8>>) {
        self.inner.lock().expect("lock").objects.insert(key.to_owned(), bytes.into());
    }

    /// Stores a part of a multipart upload, as a client's PUT of a presigned part URL would; returns its ETag.
    pub fn put_part(&self, upload_id: &str, part_number: i32, bytes: impl Into<Vec<u8>>) -> Option<String> {
        let mut inner = self.inner.lock().expect("lock");
        let (_, parts) = inner.uploads.get_mut(upload_id)?;
        parts.insert(part_number, bytes.into());
        Some(format!("\"etag-{part_number}\""))
    }

    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        self.inner.lock().expect("lock").objects.get(key).cloned()
    }

    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.inner.lock().expect("lock").objects.keys().cloned().collect();
        keys.sort();
        keys
    }

    fn url(key: &str, query: &str) -> String {
        format!("memory://files/{key}{query}")
    }
}

fn request(method: &str, url: String) -> PresignedRequest {
    PresignedRequest { url, method: method.to_owned(), headers: BTreeMap::new() }
}

#[async_trait::async_trait]
impl FileStore for MemoryFiles {
    async fn presign_put(&self, key: &str, _expires: Duration) -> Result<PresignedRequest, FileError> {
        Ok(request("PUT", Self::url(key, "")))
    }

    async fn presign_get(
        &self,
        key: &str,
        download_name: Option<&str>,
        _expires: Duration,
    ) -> Result<PresignedRequest, FileError> {
        let query = download_name.map(|n| format!("?download={n}")).unwrap_or_default();
        Ok(request("GET", Self::url(key, &query)))
    }

    async fn create_multipart(&self, key: &str) -> Result<String, FileError> {
        let mut inner = self.inner.lock().expect("lock");
        inner.next_upload += 1;
        let id = format!("upload-{}", inner.next_upload);
        inner.uploads.insert(id.clone(), (key.to_owned(), BTreeMap::new()));
        Ok(id)
    }

    async fn presign_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: i32,
        _expires: Duration,
    ) -> Result<PresignedRequest, FileError> {
        Ok(request("PUT", Self::url(key, &format!("?uploadId={upload_id}&partNumber={part_number}"))))
    }

    async fn complete_multipart(&self, key: &str, upload_id: &str, parts: &[CompletedPart]) -> Result<(), FileError> {
        let mut inner = self.inner.lock().expect("lock");
        let (upload_key, stored) =
            inner.uploads.remove(upload_id).ok_or_else(|| FileError::NotFound(upload_id.to_owned()))?;
        if upload_key != key {
            return Err(FileError::Invalid(format!("upload {upload_id} is not for {key}")));
        }
        let mut bytes = Vec::new();
        for p in parts {
            let part =
                stored.get(&p.part_number).ok_or_else(|| FileError::Invalid(format!("no part {}", p.part_number)))?;
            bytes.extend_from_slice(part);
        }
        inner.objects.insert(key.to_owned(), bytes);
        Ok(())
    }

    async fn abort_multipart(&self, _key: &str, upload_id: &str) -> Result<(), FileError> {
        self.inner.lock().expect("lock").uploads.remove(upload_id);
        Ok(())
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectInfo>, FileError> {
        Ok(self.inner.lock().expect("lock").objects.get(key).map(|b| ObjectInfo { size: b.len() as u64 }))
    }

    async fn get_range(&self, key: &str, start: u64, end: u64) -> Result<Vec<u8>, FileError> {
        let inner = self.inner.lock().expect("lock");
        let bytes = inner.objects.get(key).ok_or_else(|| FileError::NotFound(key.to_owned()))?;
        let end = (end as usize).min(bytes.len());
        let start = (start as usize).min(end);
        Ok(bytes[start..end].to_vec())
    }

    async fn download_to(&self, key: &str, path: &Path) -> Result<u64, FileError> {
        let bytes = self.get(key).ok_or_else(|| FileError::NotFound(key.to_owned()))?;
        tokio::fs::write(path, &bytes).await?;
        Ok(bytes.len() as u64)
    }

    async fn put_bytes(&self, key: &str, bytes: Vec<u8>, _content_type: &str) -> Result<(), FileError> {
        self.put(key, bytes);
        Ok(())
    }

    async fn put_file(&self, key: &str, path: &Path, _content_type: &str) -> Result<(), FileError> {
        let bytes = tokio::fs::read(path).await?;
        self.put(key, bytes);
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), FileError> {
        self.inner.lock().expect("lock").objects.remove(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn multipart_and_ranges() {
        let files = MemoryFiles::new();
        let id = files.create_multipart("uploads/a").await.unwrap();
        let e1 = files.put_part(&id, 1, b"hello ".to_vec()).unwrap();
        let e2 = files.put_part(&id, 2, b"world".to_vec()).unwrap();
        let parts = [CompletedPart { part_number: 1, etag: e1 }, CompletedPart { part_number: 2, etag: e2 }];
        files.complete_multipart("uploads/a", &id, &parts).await.unwrap();
        assert_eq!(files.head("uploads/a").await.unwrap(), Some(ObjectInfo { size: 11 }));
        assert_eq!(files.get_range("uploads/a", 6, 100).await.unwrap(), b"world");
        assert_eq!(files.get_range("uploads/a", 20, 30).await.unwrap(), b"");
        assert!(files.complete_multipart("uploads/a", &id, &parts).await.is_err(), "an upload completes once");
        assert_eq!(files.head("nope").await.unwrap(), None);
    }
}
