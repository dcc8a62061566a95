//! A compressed dump stored as a file on the backup volume (a physical copy there):
//! the same compression and checksum as in the bucket, and the same promise that a
//! file under its final name is whole. The bytes go to a hidden `.NAME.partial` beside
//! it; once the dumping side said it finished, the checksum file lands under its final
//! name, then the dump is renamed into place (a rename within one directory is
//! atomic), and the directory is synced so that both renames outlive a crash.

use std::path::{Path, PathBuf};

use tokio::io::AsyncWriteExt;

use super::format::Compression;
use super::{CompressedSink, DumpEdges, Finished, Result, StoreError, Stored, compress_into};

/// A file written chunk by chunk.
struct FileSink<'a> {
    file: tokio::fs::File,
    path: &'a Path,
}

impl CompressedSink for FileSink<'_> {
    async fn put(&mut self, bytes: &[u8]) -> Result<()> {
        self.file
            .write_all(bytes)
            .await
            .map_err(|e| StoreError::File(self.path.to_path_buf(), e))
    }
}

/// Streams the dump that `source` delivers (the pipe the dumping side writes into)
/// through compression (the format `target`'s name says) and hashing into `target`,
/// with `TARGET.sha256` beside it. A dump that did not finish, or a volume that fills
/// up, leaves nothing under either name, and an earlier dump untouched.
pub async fn store_on_volume(
    source: &Path,
    target: &Path,
    dump_errors: Option<&Path>,
    finished: Finished<'_>,
) -> Result<(Stored, DumpEdges)> {
    let (directory, name) = split(target)?;
    let compression = Compression::of_key(&name).ok_or_else(|| {
        StoreError::File(
            target.to_path_buf(),
            std::io::Error::other("its name names no compression (.zst or .gz)"),
        )
    })?;
    let partial = directory.join(format!(".{name}.partial"));
    let checksum_partial = directory.join(format!(".{name}.sha256.partial"));
    let checksum = directory.join(format!("{name}.sha256"));
    let written = write_whole(
        source,
        (&partial, &checksum_partial),
        compression,
        (dump_errors, finished),
    )
    .await;
    let (sha256, size_bytes, dump_bytes, edges) = match written {
        Ok(written) => written,
        Err(e) => {
            let _ = tokio::fs::remove_file(&partial).await;
            let _ = tokio::fs::remove_file(&checksum_partial).await;
            return Err(e);
        }
    };
    // The checksum lands first: a dump under its final name always has one.
    rename(&checksum_partial, &checksum).await?;
    rename(&partial, target).await?;
    sync_directory(&directory).await?;
    let stored = Stored {
        key: target.display().to_string(),
        size_bytes,
        sha256,
        dump_bytes,
        compression: compression.name().to_string(),
    };
    Ok((stored, edges))
}

/// Writes the compressed dump to `partial` and, once it is whole and on disk, its
/// checksum line (`sha256sum`'s format, so `sha256sum -c` checks it) to
/// `checksum_partial`.
async fn write_whole(
    source: &Path,
    (partial, checksum_partial): (&Path, &Path),
    compression: Compression,
    (dump_errors, finished): (Option<&Path>, Finished<'_>),
) -> Result<(String, u64, u64, DumpEdges)> {
    // The source opens first: a pipe's writer waits for its reader, and a failure
    // before this point would leave it waiting.
    let input = tokio::fs::File::open(source)
        .await
        .map_err(|e| StoreError::File(source.to_path_buf(), e))?;
    let file_error = |path: &Path| {
        let path = path.to_path_buf();
        move |e| StoreError::File(path, e)
    };
    let file = tokio::fs::File::create(partial)
        .await
        .map_err(file_error(partial))?;
    let mut sink = FileSink {
        file,
        path: partial,
    };
    let (sha256, size, dumped, edges) =
        compress_into(input, source, compression, &mut sink).await?;
    finished.check(&edges, source, dump_errors).await?;
    sink.file.sync_all().await.map_err(file_error(partial))?;
    let name = partial
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix('.'))
        .and_then(|n| n.strip_suffix(".partial"))
        .unwrap_or_default();
    let line = format!("{sha256}  {name}\n");
    let mut sum = tokio::fs::File::create(checksum_partial)
        .await
        .map_err(file_error(checksum_partial))?;
    sum.write_all(line.as_bytes())
        .await
        .map_err(file_error(checksum_partial))?;
    sum.sync_all().await.map_err(file_error(checksum_partial))?;
    Ok((sha256, size, dumped, edges))
}

/// The directory and the file name of `target`.
fn split(target: &Path) -> Result<(PathBuf, String)> {
    let name = target.file_name().and_then(|n| n.to_str());
    let directory = target.parent().filter(|d| !d.as_os_str().is_empty());
    match (directory, name) {
        (Some(directory), Some(name)) => Ok((directory.to_path_buf(), name.to_string())),
        _ => Err(StoreError::File(
            target.to_path_buf(),
            std::io::Error::other("not a file in a directory"),
        )),
    }
}

async fn rename(from: &Path, to: &Path) -> Result<()> {
    tokio::fs::rename(from, to)
        .await
        .map_err(|e| StoreError::File(to.to_path_buf(), e))
}

async fn sync_directory(directory: &Path) -> Result<()> {
    let handle = tokio::fs::File::open(directory)
        .await
        .map_err(|e| StoreError::File(directory.to_path_buf(), e))?;
    handle
        .sync_all()
        .await
        .map_err(|e| StoreError::File(directory.to_path_buf(), e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::format::SniffingDecoder;
    use sha2::{Digest, Sha256};

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[tokio::test]
    async fn a_finished_copy_lands_compressed_with_a_checksum_sha256sum_reads() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("copy.stream");
        let copy: Vec<u8> = (0..300_000u32).flat_map(|i| i.to_le_bytes()).collect();
        std::fs::write(&source, &copy).unwrap();
        let mark = dir.path().join("done");
        std::fs::write(&mark, "10.11.6-MariaDB\n").unwrap();
        let volume = dir.path().join("backup");
        std::fs::create_dir(&volume).unwrap();
        let target = volume.join("db-1.xbstream.zst");

        let (stored, _) = store_on_volume(&source, &target, None, Finished::ByMark(&mark))
            .await
            .unwrap();

        assert_eq!(
            names(&volume),
            ["db-1.xbstream.zst", "db-1.xbstream.zst.sha256"]
        );
        let bytes = std::fs::read(&target).unwrap();
        assert_eq!(stored.size_bytes, bytes.len() as u64);
        assert_eq!(stored.dump_bytes, copy.len() as u64);
        assert_eq!(stored.compression, "zstd");
        let sha: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(stored.sha256, sha);
        let line = std::fs::read_to_string(volume.join("db-1.xbstream.zst.sha256")).unwrap();
        assert_eq!(line, format!("{sha}  db-1.xbstream.zst\n"));
        let mut decoder = SniffingDecoder::default();
        let mut back = decoder.write(&bytes).unwrap();
        back.extend(decoder.finish().unwrap());
        assert_eq!(back, copy);
        assert_eq!(
            crate::s3::version_in_mark(&mark).await.as_deref(),
            Some("10.11.6-MariaDB")
        );
    }

    #[tokio::test]
    async fn a_copy_that_stopped_half_way_leaves_nothing_and_the_earlier_copy_whole() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("copy.stream");
        std::fs::write(&source, b"half a copy").unwrap();
        let errors = dir.path().join("errors");
        std::fs::write(
            &errors,
            "[00] copying ./ibdata1\nError: write failed: No space left\n",
        )
        .unwrap();
        let volume = dir.path().join("backup");
        std::fs::create_dir(&volume).unwrap();
        std::fs::write(volume.join("db-0.xbstream.zst"), b"earlier").unwrap();
        std::fs::write(volume.join("db-0.xbstream.zst.sha256"), b"sum").unwrap();
        let never_written = dir.path().join("done");

        let refused = store_on_volume(
            &source,
            &volume.join("db-1.xbstream.zst"),
            Some(&errors),
            Finished::ByMark(&never_written),
        )
        .await
        .unwrap_err();

        assert_eq!(
            refused.to_string(),
            format!(
                "the dump from {} stopped before its end: Error: write failed: No space left; nothing was stored",
                source.display()
            )
        );
        assert_eq!(
            names(&volume),
            ["db-0.xbstream.zst", "db-0.xbstream.zst.sha256"]
        );
        assert_eq!(
            std::fs::read(volume.join("db-0.xbstream.zst")).unwrap(),
            b"earlier"
        );
    }

    #[tokio::test]
    async fn a_volume_that_cannot_be_written_fails_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("copy.stream");
        std::fs::write(&source, b"a copy").unwrap();
        let missing = dir.path().join("no-volume").join("db-1.xbstream.zst");

        let refused = store_on_volume(&source, &missing, None, Finished::ByMark(&source))
            .await
            .unwrap_err();

        assert!(
            refused.to_string().contains("No such file or directory"),
            "{refused}"
        );
    }
}
