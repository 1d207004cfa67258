//! The S3 adapter. Against an emulator (`AWS_ENDPOINT_URL[_S3]` set) it uses path-style addresses, which moto and
//! LocalStack understand without wildcard DNS.

use std::path::Path;
use std::time::Duration;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart as S3Part};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::{CompletedPart, FileError, FileStore, ObjectInfo, PresignedRequest};

/// Files larger than this are uploaded by [`FileStore::put_file`] in parts of this size.
const PUT_PART_BYTES: u64 = 16 * 1024 * 1024;

#[derive(Clone)]
pub struct S3Files {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Files {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        Self { client, bucket: bucket.into() }
    }

    /// A client for `sdk`, path-style when an endpoint override points at an emulator.
    pub fn from_sdk(sdk: &aws_config::SdkConfig, bucket: impl Into<String>) -> Self {
        let emulated = sdk.endpoint_url().is_some() || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some();
        let conf = aws_sdk_s3::config::Builder::from(sdk).force_path_style(emulated).build();
        Self::new(aws_sdk_s3::Client::from_conf(conf), bucket)
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }
}

fn presigning(expires: Duration) -> Result<PresigningConfig, FileError> {
    PresigningConfig::expires_in(expires).map_err(|e| FileError::Invalid(e.to_string()))
}

fn presigned(r: aws_sdk_s3::presigning::PresignedRequest) -> PresignedRequest {
    PresignedRequest {
        url: r.uri().to_owned(),
        method: r.method().to_owned(),
        headers: r.headers().map(|(k, v)| (k.to_owned(), v.to_owned())).collect(),
    }
}

/// Maps an SDK error: a missing key or upload is `NotFound`, a refused request `Invalid`, the rest `Unavailable`.
fn sdk<E>(key: &str, e: SdkError<E, HttpResponse>) -> FileError
where
    E: std::error::Error + Send + Sync + 'static + aws_sdk_s3::error::ProvideErrorMetadata,
{
    let code = e.as_service_error().and_then(|s| s.code()).map(str::to_owned);
    let status = e.raw_response().map(|r| r.status().as_u16());
    match (code.as_deref(), status) {
        (Some("NoSuchKey" | "NoSuchUpload" | "NotFound"), _) | (_, Some(404)) => FileError::NotFound(key.to_owned()),
        (Some("InvalidPart" | "InvalidPartOrder" | "EntityTooSmall" | "InvalidRange" | "InvalidArgument"), _) => {
            FileError::Invalid(format!("{}: {}", code.unwrap_or_default(), DisplayErrorContext(&e)))
        }
        _ => FileError::Unavailable(DisplayErrorContext(&e).to_string()),
    }
}

#[async_trait::async_trait]
impl FileStore for S3Files {
    async fn presign_put(&self, key: &str, expires: Duration) -> Result<PresignedRequest, FileError> {
        let r = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(presigning(expires)?)
            .await
            .map_err(|e| sdk(key, e))?;
        Ok(presigned(r))
    }

    async fn presign_get(
        &self,
        key: &str,
        download_name: Option<&str>,
        expires: Duration,
    ) -> Result<PresignedRequest, FileError> {
        let mut req = self.client.get_object().bucket(&self.bucket).key(key);
        if let Some(name) = download_name {
            // RFC 6266: a quoted ASCII fallback; our names are generated, so they are ASCII already
            let safe: String = name.chars().filter(|c| c.is_ascii_graphic() && *c != '"' && *c != '\\').collect();
            req = req.response_content_disposition(format!("attachment; filename=\"{safe}\""));
        }
        let r = req.presigned(presigning(expires)?).await.map_err(|e| sdk(key, e))?;
        Ok(presigned(r))
    }

    async fn create_multipart(&self, key: &str) -> Result<String, FileError> {
        let out = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| sdk(key, e))?;
        out.upload_id().map(str::to_owned).ok_or_else(|| FileError::Unavailable("no upload id".into()))
    }

    async fn presign_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: i32,
        expires: Duration,
    ) -> Result<PresignedRequest, FileError> {
        let r = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .part_number(part_number)
            .presigned(presigning(expires)?)
            .await
            .map_err(|e| sdk(key, e))?;
        Ok(presigned(r))
    }

    async fn complete_multipart(&self, key: &str, upload_id: &str, parts: &[CompletedPart]) -> Result<(), FileError> {
        let parts = parts
            .iter()
            .map(|p| S3Part::builder().part_number(p.part_number).e_tag(&p.etag).build())
            .collect::<Vec<_>>();
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
            .send()
            .await
            .map_err(|e| sdk(key, e))?;
        Ok(())
    }

    async fn abort_multipart(&self, key: &str, upload_id: &str) -> Result<(), FileError> {
        match self.client.abort_multipart_upload().bucket(&self.bucket).key(key).upload_id(upload_id).send().await {
            Ok(_) => Ok(()),
            Err(e) => match sdk(key, e) {
                FileError::NotFound(_) => Ok(()),
                other => Err(other),
            },
        }
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectInfo>, FileError> {
        match self.client.head_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => Ok(Some(ObjectInfo { size: out.content_length().unwrap_or(0).max(0) as u64 })),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
            Err(e) => match sdk(key, e) {
                FileError::NotFound(_) => Ok(None),
                other => Err(other),
            },
        }
    }

    async fn get_range(&self, key: &str, start: u64, end: u64) -> Result<Vec<u8>, FileError> {
        if end <= start {
            return Ok(Vec::new());
        }
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .range(format!("bytes={start}-{}", end - 1))
            .send()
            .await
            .map_err(|e| sdk(key, e))?;
        let bytes = out.body.collect().await.map_err(|e| FileError::Unavailable(e.to_string()))?;
        Ok(bytes.into_bytes().to_vec())
    }

    async fn download_to(&self, key: &str, path: &Path) -> Result<u64, FileError> {
        let mut out = self.client.get_object().bucket(&self.bucket).key(key).send().await.map_err(|e| sdk(key, e))?;
        let mut file = tokio::fs::File::create(path).await?;
        let mut written = 0u64;
        while let Some(chunk) = out.body.try_next().await.map_err(|e| FileError::Unavailable(e.to_string()))? {
            file.write_all(&chunk).await?;
            written += chunk.len() as u64;
        }
        file.flush().await?;
        Ok(written)
    }

    async fn put_bytes(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), FileError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| sdk(key, e))?;
        Ok(())
    }

    async fn put_file(&self, key: &str, path: &Path, content_type: &str) -> Result<(), FileError> {
        let size = tokio::fs::metadata(path).await?.len();
        if size <= PUT_PART_BYTES {
            let body = ByteStream::from_path(path).await.map_err(|e| FileError::Io(std::io::Error::other(e)))?;
            self.client
                .put_object()
                .bucket(&self.bucket)
                .key(key)
                .content_type(content_type)
                .body(body)
                .send()
                .await
                .map_err(|e| sdk(key, e))?;
            return Ok(());
        }
        let upload = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .send()
            .await
            .map_err(|e| sdk(key, e))?;
        let upload_id = upload.upload_id().unwrap_or_default().to_owned();
        let result = async {
            let mut file = tokio::fs::File::open(path).await?;
            let mut parts = Vec::new();
            let mut number = 1;
            loop {
                let mut buf = Vec::with_capacity(PUT_PART_BYTES as usize);
                (&mut file).take(PUT_PART_BYTES).read_to_end(&mut buf).await?;
                if buf.is_empty() {
                    break;
                }
                let out = self
                    .client
                    .upload_part()
                    .bucket(&self.bucket)
                    .key(key)
                    .upload_id(&upload_id)
                    .part_number(number)
                    .body(ByteStream::from(buf))
                    .send()
                    .await
                    .map_err(|e| sdk(key, e))?;
                parts.push(CompletedPart { part_number: number, etag: out.e_tag().unwrap_or_default().to_owned() });
                number += 1;
            }
            self.complete_multipart(key, &upload_id, &parts).await
        }
        .await;
        if result.is_err() {
            // leave no orphaned parts behind (the bucket's lifecycle rule is only the safety net)
            let _ = self.abort_multipart(key, &upload_id).await;
        }
        result
    }

    async fn delete(&self, key: &str) -> Result<(), FileError> {
        self.client.delete_object().bucket(&self.bucket).key(key).send().await.map_err(|e| sdk(key, e))?;
        Ok(())
    }
}
