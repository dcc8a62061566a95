//! `kubectl-mysql remove-dump --file PATH` (hidden): what the prune Job runs from the
//! operator's image to delete a dump on the backup volume with its checksum file, when
//! its record is deleted (by retention or by hand). Only a `.sql` file under the
//! volume's mount (or a physical copy's `.xbstream.zst` or `.clone.tar.zst`) is ever
//! removed.

use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;

/// Where the prune Job mounts the backup volume.
const BACKUP_MOUNT: &str = "/backup";

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The dump, as the record names it (`/backup/NAME.sql`).
    #[arg(long)]
    pub file: PathBuf,
    /// The folder the backup volume is mounted at.
    #[arg(long, default_value = BACKUP_MOUNT, hide = true)]
    pub under: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let removed = remove(&args.under, &args.file)?;
    println!("removed {removed} file(s) of {}", args.file.display());
    Ok(ExitCode::SUCCESS)
}

/// Removes `file` and `file.sha256`, both under `under`; a file already gone counts as
/// removed (a retried Job, a dump deleted by hand).
fn remove(under: &Path, file: &Path) -> anyhow::Result<usize> {
    let inside = file
        .strip_prefix(BACKUP_MOUNT)
        .map_err(|_| anyhow::anyhow!("{} is not under {BACKUP_MOUNT}", file.display()))?;
    let plain = inside
        .components()
        .all(|c| matches!(c, Component::Normal(_)));
    let ours = file.to_str().is_some_and(|f| {
        // A physical copy's file: `NAME.xbstream.zst`, MySQL's `NAME.clone.tar.zst`.
        f.ends_with(".sql") || kubectl_mysql::s3::DumpKind::physical_of_key(f).is_some()
    });
    if !plain || !ours {
        anyhow::bail!("{} is no dump of ours: nothing removed", file.display());
    }
    let dump = under.join(inside);
    let mut checksum = dump.clone().into_os_string();
    checksum.push(".sha256");
    let mut removed = 0;
    for path in [dump, PathBuf::from(checksum)] {
        match std::fs::remove_file(&path) {
            Ok(()) => removed += 1,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => anyhow::bail!("cannot remove {}: {e}", path.display()),
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_a_dump_and_its_checksum_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "db-1.sql",
            "db-1.sql.sha256",
            "db-2.sql",
            "db-2.sql.sha256",
            "db-3.xbstream.zst",
            "db-3.xbstream.zst.sha256",
            "db-4.clone.tar.zst",
            "db-4.clone.tar.zst.sha256",
        ] {
            std::fs::write(dir.path().join(name), "x").unwrap();
        }
        assert_eq!(
            remove(dir.path(), Path::new("/backup/db-1.sql")).unwrap(),
            2
        );
        assert_eq!(
            remove(dir.path(), Path::new("/backup/db-1.sql")).unwrap(),
            0
        );
        assert_eq!(
            remove(dir.path(), Path::new("/backup/db-3.xbstream.zst")).unwrap(),
            2
        );
        assert_eq!(
            remove(dir.path(), Path::new("/backup/db-4.clone.tar.zst")).unwrap(),
            2
        );
        let mut left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, ["db-2.sql", "db-2.sql.sha256"]);
        for refused in [
            "/backup/../etc/passwd.sql",
            "/etc/db-2.sql",
            "/backup/db-2.sql.sha256",
            "/backup/db-2.zst",
        ] {
            assert!(remove(dir.path(), Path::new(refused)).is_err(), "{refused}");
        }
        assert!(dir.path().join("db-2.sql").exists());
    }
}
