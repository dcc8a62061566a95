//! A MySQL clone's directory as one stream. The clone plugin writes a copy of the data
//! directory into a directory of the data volume; our image packs it (tar) into the
//! pipe that the upload or the store reads, as mysqldump's or mariadb-backup's output
//! would be, and removes it. A restore unpacks a stored copy into the directory the
//! server then starts on. Plain files and directories only: a clone has nothing else.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::dialect::physical::VERSION_FILE;
use crate::s3::format::SniffingDecoder;

/// Files of an unpacked copy: the server's user (its owner, as root on a hostPath
/// volume) or its group (the pod's fsGroup, on a provisioned one) reads and writes them.
const FILE_MODE: u32 = 0o660;
const DIR_MODE: u32 = 0o770;

/// Writes a tar of what `dir` holds (names relative to it), and `VERSION_FILE`
/// holding `version`, into `into`. Returns how many files it packed.
pub fn pack_directory(dir: &Path, version: &str, into: impl Write) -> io::Result<u64> {
    let mut builder = tar::Builder::new(into);
    builder.follow_symlinks(false);
    let mut files = 0;
    for entry in walk(dir)? {
        let relative = entry.strip_prefix(dir).map_err(io::Error::other)?;
        builder.append_path_with_name(&entry, relative)?;
        if entry.is_file() {
            files += 1;
        }
    }
    let mut header = tar::Header::new_gnu();
    header.set_size(version.len() as u64 + 1);
    header.set_mode(0o640);
    header.set_cksum();
    builder.append_data(&mut header, VERSION_FILE, format!("{version}\n").as_bytes())?;
    builder.into_inner()?.flush()?;
    Ok(files)
}

/// Every directory and file under `dir`, parents before their children, in a stable
/// order.
fn walk(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        let mut children: Vec<PathBuf> = std::fs::read_dir(&next)?
            .map(|e| e.map(|e| e.path()))
            .collect::<io::Result<_>>()?;
        children.sort();
        for child in children.into_iter().rev() {
            if child.symlink_metadata()?.is_dir() {
                pending.push(child.clone());
            }
            out.push(child);
        }
    }
    out.sort_by_key(|p| p.components().count());
    Ok(out)
}

/// Packs `dir` into the pipe at `fifo` on a thread of its own, beside the reader in
/// this process (the upload, or the store), as the dumping side: on success it writes
/// `done_mark` (the server's version) before the pipe closes; on failure its reason
/// goes to `errors`, where the reader finds it. Either way `dir` is removed after, so
/// a clone never outlives its backup. A plain thread: one blocked on the pipe never
/// holds the process open.
pub fn spawn_packer(
    dir: PathBuf,
    version_file: PathBuf,
    fifo: PathBuf,
    done_mark: PathBuf,
    errors: Option<PathBuf>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        // The pipe opens first, whatever follows: the reader waits on it.
        let pipe = File::options().write(true).open(&fifo);
        let packed = pipe.and_then(|pipe| {
            let version = std::fs::read_to_string(&version_file)?.trim().to_string();
            let mut writer = io::BufWriter::with_capacity(1 << 20, pipe);
            pack_directory(&dir, &version, &mut writer)?;
            writer.flush()?;
            Ok((version, writer))
        });
        // The mark, or the reason, lands before the pipe closes (the writer drops
        // after), so the reader finds it when it sees the end.
        match &packed {
            Ok((version, _)) => {
                if let Err(e) = std::fs::write(&done_mark, format!("{version}\n")) {
                    report(errors.as_deref(), &dir, &e);
                }
            }
            Err(e) => report(errors.as_deref(), &dir, e),
        }
        drop(packed);
        let _ = std::fs::remove_dir_all(&dir);
    })
}

fn report(errors: Option<&Path>, dir: &Path, e: &io::Error) {
    if let Some(errors) = errors {
        let _ = std::fs::write(errors, format!("packing {}: {e}\n", dir.display()));
    }
}

/// Unpacks the stored copy at `from` (compressed, its format read from its first
/// bytes) into `to`, made afresh: what an earlier, interrupted run left there is
/// removed first. Modes are the server's to use (group read and write); ownership is
/// the unpacking user's. A name that would land outside `to` is refused.
pub fn unpack_copy(from: &Path, to: &Path) -> io::Result<u64> {
    match std::fs::remove_dir_all(to) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    std::fs::create_dir_all(to)?;
    let input = File::open(from)?;
    let mut archive = tar::Archive::new(Decompressing::new(input));
    archive.set_preserve_permissions(false);
    archive.set_preserve_ownerships(false);
    archive.set_preserve_mtime(true);
    let mut files = 0;
    for entry in archive.entries()? {
        let mut entry = entry?;
        let kind = entry.header().entry_type();
        if !(kind.is_file() || kind.is_dir()) {
            return Err(io::Error::other(format!(
                "{} is neither a file nor a directory: not a copy of ours",
                entry.path()?.display()
            )));
        }
        if !entry.unpack_in(to)? {
            return Err(io::Error::other(format!(
                "{} would land outside {}",
                entry.path()?.display(),
                to.display()
            )));
        }
        files += u64::from(kind.is_file());
    }
    set_modes(to)?;
    Ok(files)
}

fn set_modes(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(DIR_MODE))?;
    for path in walk(dir)? {
        let mode = if path.is_dir() { DIR_MODE } else { FILE_MODE };
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

/// A compressed stream read decompressed, whichever format its first bytes say.
struct Decompressing<R> {
    inner: R,
    decoder: Option<SniffingDecoder>,
    chunk: Vec<u8>,
    out: Vec<u8>,
    at: usize,
}

impl<R: Read> Decompressing<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            decoder: Some(SniffingDecoder::default()),
            chunk: vec![0; 1 << 20],
            out: Vec::new(),
            at: 0,
        }
    }
}

impl<R: Read> Read for Decompressing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.out.len() {
            let Some(decoder) = self.decoder.as_mut() else {
                return Ok(0);
            };
            let n = self.inner.read(&mut self.chunk)?;
            self.out = if n == 0 {
                self.decoder
                    .take()
                    .map_or(Ok(Vec::new()), SniffingDecoder::finish)?
            } else {
                decoder.write(&self.chunk[..n])?
            };
            self.at = 0;
        }
        let n = buf.len().min(self.out.len() - self.at);
        buf[..n].copy_from_slice(&self.out[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::format::{Compression, Encoder};
    use std::os::unix::fs::PermissionsExt;

    fn clone_dir(root: &Path) -> PathBuf {
        let dir = root.join("clones").join("db-1");
        std::fs::create_dir_all(dir.join("#clone")).unwrap();
        std::fs::create_dir_all(dir.join("shop")).unwrap();
        std::fs::write(dir.join("ibdata1"), vec![7u8; 300_000]).unwrap();
        std::fs::write(dir.join("shop").join("t.ibd"), b"rows").unwrap();
        std::fs::write(dir.join("#clone").join("#status_fix"), b"").unwrap();
        std::fs::set_permissions(dir.join("ibdata1"), std::fs::Permissions::from_mode(0o640))
            .unwrap();
        dir
    }

    fn compressed(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = Encoder::new(Compression::Zstd).unwrap();
        let mut out = encoder.write(bytes).unwrap();
        out.extend(encoder.finish().unwrap());
        out
    }

    #[test]
    fn a_packed_clone_unpacks_whole_with_its_version_and_group_modes() {
        let root = tempfile::tempdir().unwrap();
        let dir = clone_dir(root.path());
        let mut tar = Vec::new();
        assert_eq!(pack_directory(&dir, "8.4.3", &mut tar).unwrap(), 3);
        let stored = root.path().join("db-1.clone.tar.zst");
        std::fs::write(&stored, compressed(&tar)).unwrap();
        let to = root.path().join("restore-staging");
        std::fs::create_dir_all(to.join("left-by-an-earlier-run")).unwrap();
        assert_eq!(unpack_copy(&stored, &to).unwrap(), 4);
        assert_eq!(
            std::fs::read(to.join("ibdata1")).unwrap(),
            vec![7u8; 300_000]
        );
        assert_eq!(std::fs::read(to.join("shop/t.ibd")).unwrap(), b"rows");
        assert!(to.join("#clone/#status_fix").exists());
        assert_eq!(
            std::fs::read_to_string(to.join(VERSION_FILE)).unwrap(),
            "8.4.3\n"
        );
        assert!(!to.join("left-by-an-earlier-run").exists());
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&to.join("ibdata1")), FILE_MODE);
        assert_eq!(mode(&to.join("shop")), DIR_MODE);
    }

    #[test]
    fn a_copy_cut_short_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let dir = clone_dir(root.path());
        let mut tar = Vec::new();
        pack_directory(&dir, "8.4.3", &mut tar).unwrap();
        let stored = root.path().join("cut.clone.tar.zst");
        let whole = compressed(&tar);
        std::fs::write(&stored, &whole[..whole.len() / 2]).unwrap();
        assert!(unpack_copy(&stored, &root.path().join("staging")).is_err());
    }

    #[test]
    fn a_name_outside_the_target_or_a_link_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Symlink);
        header.set_size(0);
        header.set_mode(0o777);
        builder
            .append_link(&mut header, "ibdata1", "/etc/passwd")
            .unwrap();
        let stored = root.path().join("link.clone.tar.zst");
        std::fs::write(&stored, compressed(&builder.into_inner().unwrap())).unwrap();
        let refused = unpack_copy(&stored, &root.path().join("staging")).unwrap_err();
        assert!(
            refused
                .to_string()
                .contains("neither a file nor a directory")
        );
    }

    #[test]
    fn the_packer_marks_a_finished_copy_and_removes_the_clone() {
        let root = tempfile::tempdir().unwrap();
        let dir = clone_dir(root.path());
        let version = root.path().join("server.version");
        std::fs::write(&version, "8.4.3\n").unwrap();
        // A plain file stands for the pipe: the packer opens it for writing as is.
        let fifo = root.path().join("dump.fifo");
        std::fs::write(&fifo, b"").unwrap();
        let mark = root.path().join("dump.done");
        spawn_packer(dir.clone(), version, fifo.clone(), mark.clone(), None)
            .join()
            .unwrap();
        assert_eq!(std::fs::read_to_string(&mark).unwrap(), "8.4.3\n");
        assert!(!dir.exists(), "the clone goes once packed");
        let to = root.path().join("staging");
        std::fs::write(
            root.path().join("c.zst"),
            compressed(&std::fs::read(&fifo).unwrap()),
        )
        .unwrap();
        assert_eq!(unpack_copy(&root.path().join("c.zst"), &to).unwrap(), 4);
    }

    #[test]
    fn a_packer_without_a_version_says_why_and_marks_nothing() {
        let root = tempfile::tempdir().unwrap();
        let dir = clone_dir(root.path());
        let errors = root.path().join("dump.errors");
        let mark = root.path().join("dump.done");
        let fifo = root.path().join("dump.fifo");
        std::fs::write(&fifo, b"").unwrap();
        spawn_packer(
            dir.clone(),
            root.path().join("no-version"),
            fifo,
            mark.clone(),
            Some(errors.clone()),
        )
        .join()
        .unwrap();
        assert!(!mark.exists());
        assert!(
            std::fs::read_to_string(errors)
                .unwrap()
                .starts_with("packing ")
        );
        assert!(
            !dir.exists(),
            "a failed backup leaves no clone behind either"
        );
    }
}
