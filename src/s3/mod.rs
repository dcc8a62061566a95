//! Dumps in S3-compatible object storage: the keys they live under (readable by a
//! person: prefix, namespace, instance, time) and the upload, download and listing
//! that the backup and restore Jobs run from the operator's own image (the hidden
//! `object-store` subcommand).
//!
//! A dump is stored gzip-compressed, with a `KEY.sha256` object beside it holding the
//! SHA-256 of the stored (compressed) bytes. The upload is a multipart upload, which
//! the store shows under its key only once completed; the checksum object is written
//! just before that completion, so a dump visible under its final name always has
//! its checksum. A download is verified against it before its file is given its name.
//! Files are read and written with tokio's file I/O: nothing blocks the runtime.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as Key;
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt, RetryConfig, WriteMultipart};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

mod errors;
mod keys;

use errors::store_error;
use keys::{CHECKSUM_SUFFIX, file_name};
pub use keys::{DUMP_SUFFIX, checksum_key, dump_key, instance_of_key, instance_prefix};

/// The line mysqldump ends a complete dump with.
const DUMP_COMPLETED: &str = "-- Dump completed";
/// Parts of a multipart upload: S3's minimum part size.
const PART_SIZE: usize = 5 * 1024 * 1024;
const READ_SIZE: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("object store s3://{bucket}: {message}")]
    Store { bucket: String, message: String },
    #[error("{0}: {1}")]
    File(PathBuf, std::io::Error),
    #[error(
        "the dump {0} is incomplete (its last line is not \"{DUMP_COMPLETED}\"); nothing was uploaded"
    )]
    IncompleteDump(PathBuf),
    #[error(
        "s3://{bucket}/{key} has no checksum object ({key}{CHECKSUM_SUFFIX}); nothing was changed"
    )]
    MissingChecksum { bucket: String, key: String },
    #[error(
        "s3://{bucket}/{key} does not match its checksum (corrupted or truncated: sha256 {actual}, expected {expected}); nothing was changed"
    )]
    ChecksumMismatch {
        bucket: String,
        key: String,
        expected: String,
        actual: String,
    },
    #[error("s3://{bucket}/{key} is not a gzip-compressed dump: {message}; nothing was changed")]
    NotADump {
        bucket: String,
        key: String,
        message: String,
    },
}

type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Where a bucket is. Nothing here is secret.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct S3Location {
    /// The endpoint URL; None for AWS itself.
    pub endpoint: Option<String>,
    pub bucket: String,
    pub region: Option<String>,
    /// Path-style URLs (`ENDPOINT/BUCKET/KEY`), which most self-hosted servers need.
    pub path_style: bool,
}

/// An access key pair. Its Debug form hides the secret.
#[derive(Clone)]
pub struct S3Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl std::fmt::Debug for S3Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<hidden>")
            .finish()
    }
}

/// What an upload stored.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stored {
    pub key: String,
    /// The size of the stored (compressed) object.
    pub size_bytes: u64,
    /// The SHA-256 of the stored bytes.
    pub sha256: String,
    /// The size of the dump before compression.
    pub dump_bytes: u64,
}

/// One dump found by listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    pub key: String,
    pub size_bytes: u64,
    pub last_modified: jiff::Timestamp,
    pub has_checksum: bool,
}

/// What a download read: the stored bytes' checksum, and whether they decoded.
struct Streamed {
    sha256: String,
    decode_error: Option<String>,
}

pub struct Store {
    inner: AmazonS3,
    bucket: String,
}

impl Store {
    /// A client for the bucket. Requests time out and are retried briefly, so an
    /// unreachable endpoint fails in seconds, not minutes.
    pub fn connect(location: &S3Location, credentials: &S3Credentials) -> Result<Self> {
        crate::kubeclient::use_ring_for_tls();
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&location.bucket)
            .with_region(location.region.as_deref().unwrap_or("us-east-1"))
            .with_access_key_id(&credentials.access_key_id)
            .with_secret_access_key(&credentials.secret_access_key)
            .with_virtual_hosted_style_request(!location.path_style)
            .with_client_options(
                ClientOptions::new()
                    .with_connect_timeout(Duration::from_secs(5))
                    .with_timeout(Duration::from_secs(120)),
            )
            .with_retry(RetryConfig {
                max_retries: 2,
                retry_timeout: Duration::from_secs(20),
                ..Default::default()
            });
        if let Some(endpoint) = &location.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        let inner = builder
            .build()
            .map_err(|e| store_error(&location.bucket, &e))?;
        Ok(Self {
            inner,
            bucket: location.bucket.clone(),
        })
    }

    fn error(&self, e: &object_store::Error) -> StoreError {
        store_error(&self.bucket, e)
    }

    fn key(&self, key: &str) -> Result<Key> {
        Key::parse(key).map_err(|e| StoreError::Store {
            bucket: self.bucket.clone(),
            message: format!("invalid key {key:?}: {e}"),
        })
    }

    /// Compresses the dump at `file` and stores it under `key` with its checksum. A
    /// dump mysqldump did not finish is refused; a failed upload leaves nothing under
    /// `key`.
    pub async fn upload_dump(&self, file: &Path, key: &str) -> Result<Stored> {
        let file_error = |e| StoreError::File(file.to_path_buf(), e);
        if !dump_is_complete(file).await.map_err(file_error)? {
            return Err(StoreError::IncompleteDump(file.to_path_buf()));
        }
        self.upload_file(file, key).await
    }

    /// Compresses `file` and stores it under `key` with its checksum, as one multipart
    /// upload that shows under `key` only once complete: a failed or interrupted upload
    /// leaves nothing under `key` (at most a checksum, which a new upload replaces).
    pub async fn upload_file(&self, file: &Path, key: &str) -> Result<Stored> {
        let location = self.key(key)?;
        let upload = self
            .inner
            .put_multipart(&location)
            .await
            .map_err(|e| self.error(&e))?;
        let mut upload = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        match self.stream_compressed(file, &mut upload).await {
            Ok((sha256, size_bytes, dump_bytes)) => {
                let checksum = format!("{sha256}  {}\n", file_name(key));
                let put = self
                    .inner
                    .put(&self.key(&checksum_key(key))?, checksum.into())
                    .await;
                if let Err(e) = put {
                    let _ = upload.abort().await;
                    return Err(self.error(&e));
                }
                upload.finish().await.map_err(|e| self.error(&e))?;
                Ok(Stored {
                    key: key.to_string(),
                    size_bytes,
                    sha256,
                    dump_bytes,
                })
            }
            Err(e) => {
                let _ = upload.abort().await;
                Err(e)
            }
        }
    }

    /// Gzip-compresses `file` into `upload`, hashing the compressed bytes on the way.
    async fn stream_compressed(
        &self,
        file: &Path,
        upload: &mut WriteMultipart,
    ) -> Result<(String, u64, u64)> {
        let file_error = |e| StoreError::File(file.to_path_buf(), e);
        let mut input = tokio::fs::File::open(file).await.map_err(file_error)?;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut hasher = Sha256::new();
        let mut buffer = vec![0; READ_SIZE];
        let (mut stored, mut dumped) = (0u64, 0u64);
        loop {
            let n = input.read(&mut buffer).await.map_err(file_error)?;
            if n == 0 {
                break;
            }
            dumped += n as u64;
            encoder.write_all(&buffer[..n]).map_err(file_error)?;
            let compressed = std::mem::take(encoder.get_mut());
            hasher.update(&compressed);
            stored += compressed.len() as u64;
            upload.write(&compressed);
            upload
                .wait_for_capacity(4)
                .await
                .map_err(|e| self.error(&e))?;
        }
        let rest = encoder.finish().map_err(file_error)?;
        hasher.update(&rest);
        stored += rest.len() as u64;
        upload.write(&rest);
        Ok((hex(&hasher.finalize()), stored, dumped))
    }

    /// Downloads the dump at `key`, checks it against its checksum and decompresses
    /// it to `to`. `to` appears only when all of that succeeded.
    pub async fn download_dump(&self, key: &str, to: &Path) -> Result<u64> {
        let expected = self.expected_checksum(key).await?;
        let partial = to.with_extension("partial");
        let output = tokio::fs::File::create(&partial)
            .await
            .map_err(|e| StoreError::File(partial.clone(), e))?;
        let verified = match self.stream_decompressed(key, output, &partial).await {
            Ok(streamed) if streamed.sha256 != expected => Err(StoreError::ChecksumMismatch {
                bucket: self.bucket.clone(),
                key: key.to_string(),
                expected,
                actual: streamed.sha256,
            }),
            // The checksum matches, so the object is what was stored: it was never a
            // gzip stream.
            Ok(Streamed {
                decode_error: Some(message),
                ..
            }) => Err(StoreError::NotADump {
                bucket: self.bucket.clone(),
                key: key.to_string(),
                message,
            }),
            Ok(_) => Ok(()),
            Err(e) => Err(e),
        };
        if let Err(e) = verified {
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(e);
        }
        tokio::fs::rename(&partial, to)
            .await
            .map_err(|e| StoreError::File(to.to_path_buf(), e))?;
        tokio::fs::metadata(to)
            .await
            .map(|m| m.len())
            .map_err(|e| StoreError::File(to.to_path_buf(), e))
    }

    async fn expected_checksum(&self, key: &str) -> Result<String> {
        let checksum = match self.inner.get(&self.key(&checksum_key(key))?).await {
            Ok(found) => found.bytes().await.map_err(|e| self.error(&e))?,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(StoreError::MissingChecksum {
                    bucket: self.bucket.clone(),
                    key: key.to_string(),
                });
            }
            Err(e) => return Err(self.error(&e)),
        };
        let text = String::from_utf8_lossy(&checksum);
        Ok(text
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string())
    }

    /// Streams the object at `key` through a gzip decoder into `output`, hashing the
    /// stored bytes. Past a decoding error it keeps hashing: a checksum mismatch
    /// explains a damaged object better than the decoder does. Each chunk is decoded
    /// in memory, then written with async file I/O.
    async fn stream_decompressed(
        &self,
        key: &str,
        mut output: tokio::fs::File,
        partial: &Path,
    ) -> Result<Streamed> {
        let file_error = |e| StoreError::File(partial.to_path_buf(), e);
        let found = self
            .inner
            .get(&self.key(key)?)
            .await
            .map_err(|e| self.error(&e))?;
        let mut chunks = found.into_stream();
        let mut decoder = flate2::write::GzDecoder::new(Vec::new());
        let mut hasher = Sha256::new();
        let mut decode_error = None;
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.map_err(|e| self.error(&e))?;
            hasher.update(&chunk);
            if decode_error.is_none()
                && let Err(e) = decoder.write_all(&chunk)
            {
                decode_error = Some(e.to_string());
            }
            let decoded = std::mem::take(decoder.get_mut());
            output.write_all(&decoded).await.map_err(file_error)?;
        }
        if decode_error.is_none()
            && let Err(e) = decoder.try_finish()
        {
            decode_error = Some(e.to_string());
        }
        let rest = std::mem::take(decoder.get_mut());
        output.write_all(&rest).await.map_err(file_error)?;
        output.flush().await.map_err(file_error)?;
        output.sync_all().await.map_err(file_error)?;
        Ok(Streamed {
            sha256: hex(&hasher.finalize()),
            decode_error,
        })
    }

    /// The dumps under `prefix`, oldest first.
    pub async fn list(&self, prefix: &str) -> Result<Vec<Listed>> {
        let location = self.key(prefix.trim_end_matches('/'))?;
        let objects: Vec<_> = self
            .inner
            .list(Some(&location))
            .try_collect()
            .await
            .map_err(|e| self.error(&e))?;
        let keys: std::collections::HashSet<String> =
            objects.iter().map(|o| o.location.to_string()).collect();
        let mut dumps: Vec<Listed> = objects
            .iter()
            .filter(|o| o.location.as_ref().ends_with(DUMP_SUFFIX))
            .map(|o| {
                let key = o.location.to_string();
                Listed {
                    has_checksum: keys.contains(&checksum_key(&key)),
                    key,
                    size_bytes: o.size,
                    last_modified: jiff::Timestamp::from_millisecond(
                        o.last_modified.timestamp_millis(),
                    )
                    .unwrap_or_default(),
                }
            })
            .collect();
        dumps.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(dumps)
    }

    /// Every key under `prefix` (whole path segments), in key order.
    pub async fn list_keys(&self, prefix: &str) -> Result<Vec<String>> {
        let location = self.key(prefix.trim_end_matches('/'))?;
        let mut keys: Vec<String> = self
            .inner
            .list(Some(&location))
            .map_ok(|o| o.location.to_string())
            .try_collect()
            .await
            .map_err(|e| self.error(&e))?;
        keys.sort();
        Ok(keys)
    }

    /// Deletes a dump and its checksum; either missing is fine.
    pub async fn delete_dump(&self, key: &str) -> Result<()> {
        for key in [key.to_string(), checksum_key(key)] {
            match self.inner.delete(&self.key(&key)?).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(self.error(&e)),
            }
        }
        Ok(())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether the dump at `file` ends with mysqldump's completion line.
async fn dump_is_complete(file: &Path) -> std::io::Result<bool> {
    let mut f = tokio::fs::File::open(file).await?;
    let len = f.metadata().await?.len();
    let tail_len = len.min(4096);
    f.seek(std::io::SeekFrom::Start(len - tail_len)).await?;
    let mut tail = String::new();
    f.take(tail_len).read_to_string(&mut tail).await?;
    Ok(tail
        .trim_end()
        .lines()
        .last()
        .is_some_and(|line| line.starts_with(DUMP_COMPLETED)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_dump_is_complete_only_with_its_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.sql");
        std::fs::write(
            &path,
            "CREATE TABLE t (a int);\n-- Dump completed on 2026-11-24\n",
        )
        .unwrap();
        assert!(dump_is_complete(&path).await.unwrap());
        std::fs::write(&path, "CREATE TABLE t (a int);\nINSERT INTO").unwrap();
        assert!(!dump_is_complete(&path).await.unwrap());
        std::fs::write(&path, "").unwrap();
        assert!(!dump_is_complete(&path).await.unwrap());
    }

    #[test]
    fn credentials_hide_the_secret() {
        let c = S3Credentials {
            access_key_id: "AKIA".into(),
            secret_access_key: "very-secret".into(),
        };
        assert!(!format!("{c:?}").contains("very-secret"));
    }
}
