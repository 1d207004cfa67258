//! Where imports and exports keep their files: one bucket, reached through the [`FileStore`] port.
//!
//! Browsers and scripts never get bucket credentials: uploads and downloads go through presigned URLs, small files
//! in one PUT, large ones in parts (multipart). Functions read uploads in byte ranges (a chunk processor fetches only
//! its chunk) or spool them to local disk, and write results from a local file in parts, so no function needs the
//! whole file in memory.

mod memory;
#[cfg(feature = "s3")]
mod s3;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

pub use memory::MemoryFiles;
#[cfg(feature = "s3")]
pub use s3::S3Files;

/// Smallest part S3 accepts in a multipart upload (except the last).
pub const MIN_PART_BYTES: u64 = 5 * 1024 * 1024;
/// Most parts one multipart upload may have.
pub const MAX_PARTS: u64 = 10_000;

/// One HTTP request a client makes without credentials of its own.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PresignedRequest {
    pub url: String,
    pub method: String,
    /// Headers the client must send exactly as given (they are part of the signature).
    pub headers: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectInfo {
    pub size: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("no such file: {0}")]
    NotFound(String),
    #[error("invalid request to file storage: {0}")]
    Invalid(String),
    #[error("file storage is unavailable: {0}")]
    Unavailable(String),
    #[error("local file: {0}")]
    Io(#[from] std::io::Error),
}

/// A part of a completed multipart upload, as the client reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct CompletedPart {
    pub part_number: i32,
    pub etag: String,
}

#[async_trait::async_trait]
pub trait FileStore: Send + Sync {
    /// A PUT of the whole object, valid for `expires`.
    async fn presign_put(&self, key: &str, expires: Duration) -> Result<PresignedRequest, FileError>;
    /// A GET of the object; `download_name` sets `Content-Disposition: attachment` so browsers save it under it.
    async fn presign_get(
        &self,
        key: &str,
        download_name: Option<&str>,
        expires: Duration,
    ) -> Result<PresignedRequest, FileError>;
    /// Starts a multipart upload and returns its id.
    async fn create_multipart(&self, key: &str) -> Result<String, FileError>;
    /// A PUT of part `part_number` (1-based) of a multipart upload.
    async fn presign_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: i32,
        expires: Duration,
    ) -> Result<PresignedRequest, FileError>;
    async fn complete_multipart(&self, key: &str, upload_id: &str, parts: &[CompletedPart]) -> Result<(), FileError>;
    async fn abort_multipart(&self, key: &str, upload_id: &str) -> Result<(), FileError>;
    /// `None` when there is no such object.
    async fn head(&self, key: &str) -> Result<Option<ObjectInfo>, FileError>;
    /// Bytes `start..end` (end exclusive, clamped to the object's size).
    async fn get_range(&self, key: &str, start: u64, end: u64) -> Result<Vec<u8>, FileError>;
    /// Copies the object to a local file, streaming; returns its size.
    async fn download_to(&self, key: &str, path: &Path) -> Result<u64, FileError>;
    async fn put_bytes(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), FileError>;
    /// Uploads a local file, in parts when it is large, reading one part at a time.
    async fn put_file(&self, key: &str, path: &Path, content_type: &str) -> Result<(), FileError>;
    async fn delete(&self, key: &str) -> Result<(), FileError>;
}

/// Part size for a multipart upload of `size` bytes: at least [`MIN_PART_BYTES`], and large enough that the upload
/// needs at most [`MAX_PARTS`] parts; rounded up to whole MiB so clients can reason about it.
pub fn part_size_for(size: u64) -> u64 {
    const MIB: u64 = 1024 * 1024;
    let needed = size.div_ceil(MAX_PARTS).max(MIN_PART_BYTES);
    needed.div_ceil(MIB) * MIB
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_sizes_respect_s3_limits() {
        assert_eq!(part_size_for(0), MIN_PART_BYTES);
        assert_eq!(part_size_for(100 * 1024 * 1024), MIN_PART_BYTES);
        let huge = 200 * 1024 * 1024 * 1024u64;
        let part = part_size_for(huge);
        assert!(huge.div_ceil(part) <= MAX_PARTS);
        assert_eq!(part % (1024 * 1024), 0);
    }
}
