//! Dumps in S3-compatible object storage: the keys they live under (readable by a
//! person: prefix, namespace, instance, time) and the upload, download and listing
//! that the backup and restore Jobs run from the operator's own image (the hidden
//! `object-store` subcommand).
//!
//! A dump is stored zstd-compressed (gzip before; both are read), with a `KEY.sha256`
//! object beside it holding the SHA-256 of the stored (compressed) bytes. A dump is
//! streamed: mysqldump writes into a pipe that the upload reads, so no copy of it
//! lands on the node's disk. The upload is a multipart upload, which
//! the store shows under its key only once completed; the checksum object is written
//! just before that completion, so a dump visible under its final name always has
//! its checksum. A download is verified against it before its file is given its name.
//! Files are read and written with tokio's file I/O: nothing blocks the runtime.

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as Key;
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt, RetryConfig, WriteMultipart};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod errors;
pub mod format;
mod keys;
mod on_volume;
pub mod pack;

use errors::store_error;
pub use format::strip_dump_suffix;
use format::{Compression, Encoder, SniffingDecoder};
use keys::{CHECKSUM_SUFFIX, file_name};
pub use keys::{DumpKind, checksum_key, dump_key, instance_of_key, instance_prefix};
pub use on_volume::store_on_volume;

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
        "the dump from {} stopped before its end: {reason}; nothing was stored", from.display()
    )]
    IncompleteDump { from: PathBuf, reason: String },
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
    #[error("s3://{bucket}/{key} is not a compressed dump: {message}; nothing was changed")]
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
    /// How the stored bytes are compressed (`zstd`, `gzip`).
    pub compression: String,
}

/// How an upload tells a dump that finished from one that stopped half-way.
#[derive(Clone, Copy, Debug)]
pub enum Finished<'a> {
    /// mysqldump ends a complete dump with `-- Dump completed`.
    ByMysqldumpsLastLine,
    /// The dumping side writes this file once its tool succeeded, before the pipe
    /// closes (mariadb-backup's stream has no last line to look for).
    ByMark(&'a Path),
}

/// An upload streamed but not yet completed.
struct Pending {
    upload: WriteMultipart,
    sha256: String,
    size_bytes: u64,
    dump_bytes: u64,
    edges: DumpEdges,
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
    edges: DumpEdges,
}

/// What a download writes: the decompressed dump, or the stored bytes as they are
/// (decoded on the way only to check them).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keep {
    Decompressed,
    Stored,
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

    /// Streams the dump that `source` delivers (a file, or the pipe mysqldump writes
    /// into) through compression and hashing into `key`, with its checksum. A dump
    /// mysqldump did not finish is refused, with the reason the dump left in
    /// `dump_errors` when there is one; a failed upload leaves nothing under `key`.
    pub async fn upload_dump(
        &self,
        source: &Path,
        key: &str,
        dump_errors: Option<&Path>,
        finished: Finished<'_>,
    ) -> Result<(Stored, DumpEdges)> {
        let mut pending = self.stream_to(source, key).await?;
        if let Err(incomplete) = finished.check(&pending.edges, source, dump_errors).await {
            let _ = pending.upload.abort().await;
            return Err(incomplete);
        }
        let edges = std::mem::take(&mut pending.edges);
        Ok((self.complete(pending, key).await?, edges))
    }

    /// Compresses `file` (in the format `key` names) and stores it under `key` with its
    /// checksum, as one multipart upload that shows under `key` only once complete: a
    /// failed upload leaves nothing under `key` nor its checksum (an interrupted one at
    /// most a checksum, which a new upload replaces).
    pub async fn upload_file(&self, file: &Path, key: &str) -> Result<Stored> {
        let pending = self.stream_to(file, key).await?;
        self.complete(pending, key).await
    }

    /// Starts the multipart upload and streams `source` into it; aborts it on failure.
    async fn stream_to(&self, source: &Path, key: &str) -> Result<Pending> {
        let location = self.key(key)?;
        let compression = Compression::of_key(key).ok_or_else(|| StoreError::Store {
            bucket: self.bucket.clone(),
            message: format!("{key:?} names no compression (.zst or .gz)"),
        })?;
        // The source opens first: a pipe's writer waits for its reader, and a failure
        // before this point would leave it waiting.
        let input = tokio::fs::File::open(source)
            .await
            .map_err(|e| StoreError::File(source.to_path_buf(), e))?;
        let upload = self
            .inner
            .put_multipart(&location)
            .await
            .map_err(|e| self.error(&e))?;
        let mut upload = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut sink = MultipartSink {
            upload: &mut upload,
            store: self,
        };
        match compress_into(input, source, compression, &mut sink).await {
            Ok((sha256, size_bytes, dump_bytes, edges)) => Ok(Pending {
                upload,
                sha256,
                size_bytes,
                dump_bytes,
                edges,
            }),
            Err(e) => {
                let _ = upload.abort().await;
                Err(e)
            }
        }
    }

    /// Writes the checksum object, then completes the upload, so that the object under
    /// its final name always has its checksum.
    async fn complete(&self, pending: Pending, key: &str) -> Result<Stored> {
        let Pending {
            upload,
            sha256,
            size_bytes,
            dump_bytes,
            ..
        } = pending;
        let checksum = format!("{sha256}  {}\n", file_name(key));
        let put = self
            .inner
            .put(&self.key(&checksum_key(key))?, checksum.into())
            .await;
        if let Err(e) = put {
            let _ = upload.abort().await;
            return Err(self.error(&e));
        }
        // A completion the server refuses (its disk full as it joins the parts) takes
        // the checksum with it: nothing is left under either name.
        if let Err(e) = upload.finish().await {
            let _ = self.inner.delete(&self.key(&checksum_key(key))?).await;
            return Err(self.error(&e));
        }
        Ok(Stored {
            key: key.to_string(),
            size_bytes,
            sha256,
            dump_bytes,
            compression: compression_name(key),
        })
    }

    /// Downloads the dump at `key`, checks it against its checksum and decompresses
    /// it to `to`. `to` appears only when all of that succeeded.
    pub async fn download_dump(&self, key: &str, to: &Path) -> Result<u64> {
        self.download(key, to, Keep::Decompressed).await
    }

    /// Downloads the dump at `key` as stored (compressed), and checks it against its
    /// checksum and that it decodes (to a dump mysqldump finished, for a logical one).
    /// `to` appears only when all of that succeeded; `decompress` then streams it into
    /// the server, so the node's disk holds the compressed dump only.
    pub async fn download_compressed_dump(&self, key: &str, to: &Path) -> Result<u64> {
        self.download(key, to, Keep::Stored).await
    }

    async fn download(&self, key: &str, to: &Path, keep: Keep) -> Result<u64> {
        let expected = self.expected_checksum(key).await?;
        let partial = to.with_extension("partial");
        let output = tokio::fs::File::create(&partial)
            .await
            .map_err(|e| StoreError::File(partial.clone(), e))?;
        let not_a_dump = |message: String| StoreError::NotADump {
            bucket: self.bucket.clone(),
            key: key.to_string(),
            message,
        };
        let verified = match self.stream_object(key, output, &partial, keep).await {
            Ok(streamed) if streamed.sha256 != expected => Err(StoreError::ChecksumMismatch {
                bucket: self.bucket.clone(),
                key: key.to_string(),
                expected,
                actual: streamed.sha256,
            }),
            // The checksum matches, so the object is what was stored: it was never a
            // compressed stream, or never a whole dump.
            Ok(Streamed {
                decode_error: Some(message),
                ..
            }) => Err(not_a_dump(message)),
            // A physical copy has no last line to look for: its upload completed only
            // once mariadb-backup said it succeeded.
            Ok(streamed)
                if keep == Keep::Stored
                    && DumpKind::physical_of_key(key).is_none()
                    && !streamed.edges.completed() =>
            {
                Err(not_a_dump(format!(
                    "its last line is not \"{DUMP_COMPLETED}\""
                )))
            }
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

    /// Streams the object at `key` through the decoder its first bytes name (gzip or
    /// zstd) into `output` (decoded, or as stored), hashing the stored bytes and keeping
    /// the decoded dump's edges. Past a decoding error it keeps hashing: a checksum
    /// mismatch explains a damaged object better than the decoder does. Each chunk is
    /// decoded in memory, then written with async file I/O.
    async fn stream_object(
        &self,
        key: &str,
        mut output: tokio::fs::File,
        partial: &Path,
        keep: Keep,
    ) -> Result<Streamed> {
        let file_error = |e| StoreError::File(partial.to_path_buf(), e);
        let found = self
            .inner
            .get(&self.key(key)?)
            .await
            .map_err(|e| self.error(&e))?;
        let mut chunks = found.into_stream();
        let mut decoder = SniffingDecoder::default();
        let mut hasher = Sha256::new();
        let mut edges = DumpEdges::default();
        let mut decode_error = None;
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.map_err(|e| self.error(&e))?;
            hasher.update(&chunk);
            if keep == Keep::Stored {
                output.write_all(&chunk).await.map_err(file_error)?;
            }
            if decode_error.is_some() {
                continue;
            }
            match decoder.write(&chunk) {
                Ok(decoded) => {
                    edges.see(&decoded);
                    if keep == Keep::Decompressed {
                        output.write_all(&decoded).await.map_err(file_error)?;
                    }
                }
                Err(e) => decode_error = Some(e.to_string()),
            }
        }
        if decode_error.is_none() {
            match decoder.finish() {
                Ok(rest) => {
                    edges.see(&rest);
                    if keep == Keep::Decompressed {
                        output.write_all(&rest).await.map_err(file_error)?;
                    }
                }
                Err(e) => decode_error = Some(e.to_string()),
            }
        }
        output.flush().await.map_err(file_error)?;
        output.sync_all().await.map_err(file_error)?;
        Ok(Streamed {
            sha256: hex(&hasher.finalize()),
            decode_error,
            edges,
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
            .filter(|o| format::strip_dump_suffix(o.location.as_ref()).is_some())
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

/// Where compressed bytes go as they are made: a multipart upload, or a file on the
/// backup volume.
trait CompressedSink {
    async fn put(&mut self, bytes: &[u8]) -> Result<()>;
}

/// The multipart upload of one object, written part by part as its bytes come.
struct MultipartSink<'a> {
    upload: &'a mut WriteMultipart,
    store: &'a Store,
}

impl CompressedSink for MultipartSink<'_> {
    async fn put(&mut self, bytes: &[u8]) -> Result<()> {
        self.upload.write(bytes);
        // At most 4 parts in flight: the dump waits on the bucket, not on memory.
        self.upload
            .wait_for_capacity(4)
            .await
            .map_err(|e| self.store.error(&e))
    }
}

/// Compresses `input` into `sink`, hashing the compressed bytes on the way and keeping
/// the first and last bytes of the input. Returns the stored bytes' SHA-256 and size,
/// the input's size and its edges.
async fn compress_into(
    mut input: tokio::fs::File,
    source: &Path,
    compression: Compression,
    sink: &mut impl CompressedSink,
) -> Result<(String, u64, u64, DumpEdges)> {
    let file_error = |e| StoreError::File(source.to_path_buf(), e);
    let mut encoder = Encoder::new(compression).map_err(file_error)?;
    let mut hasher = Sha256::new();
    let mut edges = DumpEdges::default();
    let mut buffer = vec![0; READ_SIZE];
    let (mut stored, mut dumped) = (0u64, 0u64);
    loop {
        let n = input.read(&mut buffer).await.map_err(file_error)?;
        if n == 0 {
            break;
        }
        dumped += n as u64;
        edges.see(&buffer[..n]);
        let compressed = encoder.write(&buffer[..n]).map_err(file_error)?;
        hasher.update(&compressed);
        stored += compressed.len() as u64;
        sink.put(&compressed).await?;
    }
    let rest = encoder.finish().map_err(file_error)?;
    hasher.update(&rest);
    stored += rest.len() as u64;
    sink.put(&rest).await?;
    Ok((hex(&hasher.finalize()), stored, dumped, edges))
}

impl Finished<'_> {
    /// Whether the dump that streamed from `source` (its edges seen) is whole; if not,
    /// the refusal, with the reason the dumping side left in `dump_errors`.
    async fn check(
        self,
        edges: &DumpEdges,
        source: &Path,
        dump_errors: Option<&Path>,
    ) -> Result<()> {
        let complete = match self {
            Finished::ByMysqldumpsLastLine => edges.completed(),
            Finished::ByMark(mark) => tokio::fs::try_exists(mark).await.unwrap_or(false),
        };
        if complete {
            return Ok(());
        }
        let reason = match dump_errors {
            Some(path) => last_line(path).await,
            None => None,
        };
        Err(StoreError::IncompleteDump {
            from: source.to_path_buf(),
            reason: reason.unwrap_or_else(|| "no reason given".to_string()),
        })
    }
}

/// The server's version that the dumping side wrote in its mark (a physical copy's:
/// only that version restores it).
pub async fn version_in_mark(mark: &Path) -> Option<String> {
    let text = tokio::fs::read_to_string(mark).await.ok()?;
    Some(text.trim().to_string()).filter(|v| !v.is_empty())
}

/// Streams the compressed dump at `from` (verified by `download_compressed_dump`)
/// decompressed into `to`, the pipe the server's client reads. `to` opens first: the
/// client waits on it, and a failure before would leave it waiting. `done` is written
/// once the whole dump is in the pipe and before the pipe closes, so the reader can
/// tell a dump that ended from one whose writer died.
pub async fn decompress(from: &Path, to: &Path, done: &Path) -> Result<u64> {
    // A pipe opens as it is (truncation means nothing to one); a file is made.
    let mut output = tokio::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(to)
        .await
        .map_err(|e| StoreError::File(to.to_path_buf(), e))?;
    let from_error = |e| StoreError::File(from.to_path_buf(), e);
    let to_error = |e| StoreError::File(to.to_path_buf(), e);
    let mut input = tokio::fs::File::open(from).await.map_err(from_error)?;
    let mut buffer = vec![0; READ_SIZE];
    let mut decoder = SniffingDecoder::default();
    let mut written = 0u64;
    loop {
        let n = input.read(&mut buffer).await.map_err(from_error)?;
        if n == 0 {
            break;
        }
        let decoded = decoder.write(&buffer[..n]).map_err(from_error)?;
        output.write_all(&decoded).await.map_err(to_error)?;
        written += decoded.len() as u64;
    }
    let rest = decoder.finish().map_err(from_error)?;
    output.write_all(&rest).await.map_err(to_error)?;
    output.flush().await.map_err(to_error)?;
    written += rest.len() as u64;
    tokio::fs::write(done, written.to_string())
        .await
        .map_err(|e| StoreError::File(done.to_path_buf(), e))?;
    Ok(written)
}

/// The first and last bytes of a dump, kept while it streams by: its header says where
/// it stands in the binary log, its last line whether mysqldump finished it.
#[derive(Clone, Debug, Default)]
pub struct DumpEdges {
    pub head: Vec<u8>,
    pub tail: Vec<u8>,
}

impl DumpEdges {
    /// How much of each end is kept.
    pub const EDGE_BYTES: usize = 64 * 1024;

    fn see(&mut self, chunk: &[u8]) {
        let room = Self::EDGE_BYTES.saturating_sub(self.head.len());
        self.head.extend_from_slice(&chunk[..room.min(chunk.len())]);
        self.tail.extend_from_slice(chunk);
        let excess = self.tail.len().saturating_sub(Self::EDGE_BYTES);
        self.tail.drain(..excess);
    }

    /// Whether the dump ends with mysqldump's completion line.
    pub fn completed(&self) -> bool {
        String::from_utf8_lossy(&self.tail)
            .trim_end()
            .lines()
            .last()
            .is_some_and(|line| line.starts_with(DUMP_COMPLETED))
    }
}

/// The last non-empty line of a small text file, if it has one.
async fn last_line(path: &Path) -> Option<String> {
    let text = tokio::fs::read_to_string(path).await.ok()?;
    text.lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_string)
}

fn compression_name(key: &str) -> String {
    Compression::of_key(key)
        .map_or("none", Compression::name)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edges_of(text: &[u8], chunk: usize) -> DumpEdges {
        let mut edges = DumpEdges::default();
        text.chunks(chunk).for_each(|c| edges.see(c));
        edges
    }

    #[test]
    fn a_dump_is_complete_only_with_its_last_line() {
        let done = b"CREATE TABLE t (a int);\n-- Dump completed on 2026-11-24\n";
        assert!(edges_of(done, 5).completed());
        assert!(!edges_of(b"CREATE TABLE t (a int);\nINSERT INTO", 5).completed());
        assert!(!DumpEdges::default().completed());
    }

    #[test]
    fn edges_keep_the_first_and_last_bytes_of_a_long_stream() {
        let text: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let edges = edges_of(&text, 3000);
        assert_eq!(edges.head, text[..DumpEdges::EDGE_BYTES]);
        assert_eq!(edges.tail, text[text.len() - DumpEdges::EDGE_BYTES..]);
        let short = edges_of(b"abc", 2);
        assert_eq!(
            (short.head.as_slice(), short.tail.as_slice()),
            (&b"abc"[..], &b"abc"[..])
        );
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
