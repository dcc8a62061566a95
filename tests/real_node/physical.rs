//! Physical backups on the real node: mariadb-backup's copy of the data directory,
//! streamed through a pipe, zstd-compressed and checksummed into the real S3 server;
//! verified as it restores; restored on request (the server stopped, the copy unpacked,
//! prepared and swapped in, the old data directory set aside, never deleted) over what
//! a run killed half-way leaves (a copy unpacked in part, thrown away), and on create
//! (a deleted instance's final backup, a physical one, brings back every row). The
//! same on the course's backup volume, where a damaged copy is refused by its checksum.
//!
//! Included from tests/real_node.rs (`#[path = "real_node/physical.rs"] mod physical;`):
//! the helpers are that file's.

use super::common::{self, kubectl, kubectl_with_stdin, text};
use super::{
    BucketInstance, INSTANCE, course_instance_in_bucket, delete_instance, fill_kept, mysql_exec,
    ok, require_real_node, wait_for_job, wait_ready,
};

fn count(ns: &str) -> String {
    let out = ok(
        mysql_exec(ns, "otuspassword", "SELECT COUNT(*) FROM kept"),
        "count the rows",
    );
    out.lines().last().unwrap_or_default().trim().to_string()
}

fn newest_record(ns: &str, field: &str) -> String {
    ok(
        kubectl(&[
            "get",
            "mysqlbackups",
            "-n",
            ns,
            "--sort-by=.metadata.creationTimestamp",
            "-o",
            &format!("jsonpath={{.items[-1:].{field}}}"),
        ]),
        field,
    )
}

/// The data directories set aside on the instance's volumes, under the node's folder.
fn set_aside_dirs(ns: &str) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut folders = vec![std::path::PathBuf::from(format!(
        "/var/lib/kubectl-mysql/{ns}"
    ))];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            let path = entry.path();
            if !path.is_dir() {
                continue;
            }
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with("set-aside-")
            {
                found.push(path);
            } else if path.components().count() < 12 {
                folders.push(path);
            }
        }
    }
    found
}

/// The root of the instance's data volume (where its data directory `mysql` is),
/// under the node's folder.
fn data_volume_root(ns: &str) -> std::path::PathBuf {
    let mut folders = vec![std::path::PathBuf::from(format!(
        "/var/lib/kubectl-mysql/{ns}"
    ))];
    while let Some(folder) = folders.pop() {
        if folder.join("mysql").join("ibdata1").exists() {
            return folder;
        }
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() && path.components().count() < 12 {
                folders.push(path);
            }
        }
    }
    panic!("no data directory under /var/lib/kubectl-mysql/{ns}");
}

#[tokio::test]
async fn real_node_physical_backup_and_restore() {
    let BucketInstance {
        s3,
        ns,
        operator_ns,
        cr,
    } = course_instance_in_bucket("real-physical", "physical", "    method: physical\n").await;
    fill_kept(&ns, 500);

    // The copy: its object is zstd, under a key that says physical, and the record
    // holds the server's version (only that version restores it).
    ok(
        kubectl(&["mysql", "backup", INSTANCE, "-n", &ns, "--wait"]),
        "kubectl mysql backup --wait (physical)",
    );
    let key = newest_record(&ns, "status.key");
    assert!(key.ends_with(".xbstream.zst"), "{key}");
    let object = std::fs::read(s3.object_file(&key)).unwrap();
    assert_eq!(&object[..4], [0x28, 0xb5, 0x2f, 0xfd], "zstd");
    let version = newest_record(&ns, "status.serverVersion");
    assert!(version.starts_with("10.11."), "{version}");
    let record = newest_record(&ns, "metadata.name");
    // Verified as it restores: unpacked, prepared, started, its rows counted.
    super::verified_with_rows(&ns, &record, 500);

    // A row after the copy; the restore brings the directory back to the copy's time.
    ok(
        mysql_exec(
            &ns,
            "otuspassword",
            "INSERT INTO kept VALUES (500, 'after')",
        ),
        "a row after the backup",
    );
    assert_eq!(count(&ns), "501");
    // What a restore killed half-way leaves beside the data directory: a copy unpacked
    // in part. The next run throws it away and starts over; the server never sees it.
    let staging = data_volume_root(&ns).join("restore-staging");
    std::fs::create_dir_all(staging.join("otus@002ddatabase")).unwrap();
    std::fs::write(staging.join("ibdata1"), b"half of a data file").unwrap();
    std::fs::write(
        staging.join("otus@002ddatabase").join("kept.ibd"),
        b"half of a table",
    )
    .unwrap();
    ok(
        super::restore_from(&ns, &record),
        "kubectl mysql restore --from the physical backup",
    );
    wait_ready(&ns);
    assert_eq!(count(&ns), "500", "the copy's rows, and not the one after");
    assert!(
        !staging.exists(),
        "the half copy went into the swap: {staging:?}"
    );
    // The data directory it replaced is set aside on the volume, never deleted.
    let aside = set_aside_dirs(&ns);
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert!(
        // MariaDB spells the database's `-` as `@002d` on disk.
        aside[0].join("otus@002ddatabase").join("kept.ibd").exists(),
        "{aside:?} holds the replaced database"
    );

    // Deleted (its final backup is a physical copy too) and created again: the new
    // incarnation restores from it, every row.
    ok(
        mysql_exec(&ns, "otuspassword", "INSERT INTO kept VALUES (501, 'kept')"),
        "a row before the deletion",
    );
    delete_instance(&ns, "delete the instance with physical backups");
    ok(
        kubectl_with_stdin(&["apply", "-n", &ns, "-f", "-"], &cr),
        "the same CR again",
    );
    wait_for_job(&ns, &format!("restore-{INSTANCE}-job"));
    wait_ready(&ns);
    assert_eq!(count(&ns), "501");
    let restored = ok(
        kubectl(&[
            "get",
            "mysql",
            INSTANCE,
            "-n",
            &ns,
            "-o",
            "jsonpath={.status.restoredFrom}",
        ]),
        "restoredFrom",
    );
    assert!(
        !restored.is_empty(),
        "{}",
        text(&kubectl(&["get", "mysql", "-n", &ns, "-o", "yaml"]))
    );

    super::tear_down(&ns, &operator_ns, "120s");
}

/// Physical copies on the course's backup volume (no bucket): stored compressed with a
/// checksum file beside them, verified, restored on request; a damaged copy is refused
/// before anything is touched, and the server keeps its rows; deleted and created
/// again, the new incarnation finds the final copy on the volume and restores it.
#[tokio::test]
async fn real_node_physical_backup_to_the_volume() {
    use sha2::Digest;
    require_real_node();
    let client = common::cluster().await;
    let ns = common::namespace(&client, "real-physical-volume").await;
    let image = super::operator_image();
    let operator_ns = format!("{ns}-operator");
    super::install_operator(&operator_ns, &image, &ns);
    let cr = format!("{}  backup:\n    method: physical\n", super::course_cr());
    ok(
        kubectl_with_stdin(&["apply", "-n", &ns, "-f", "-"], &cr),
        "the course's CR with physical backups to the backup volume",
    );
    wait_ready(&ns);
    fill_kept(&ns, 300);

    ok(
        kubectl(&["mysql", "backup", INSTANCE, "-n", &ns, "--wait"]),
        "kubectl mysql backup --wait (physical, to the volume)",
    );
    let record = newest_record(&ns, "metadata.name");
    let file = newest_record(&ns, "status.file");
    assert_eq!(file, format!("/backup/{record}.xbstream.zst"));
    assert_eq!(newest_record(&ns, "status.key"), "", "no bucket");
    // On the node: the copy, zstd, and its checksum file in sha256sum's format; no
    // partial file left.
    let backup_dir =
        std::path::PathBuf::from(format!("/var/lib/kubectl-mysql/{ns}/{INSTANCE}/backup"));
    let on_node = backup_dir.join(format!("{record}.xbstream.zst"));
    let copy = std::fs::read(&on_node).unwrap_or_else(|e| panic!("{on_node:?}: {e}"));
    assert_eq!(&copy[..4], [0x28, 0xb5, 0x2f, 0xfd], "zstd");
    let sum: String = sha2::Sha256::digest(&copy)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let line =
        std::fs::read_to_string(backup_dir.join(format!("{record}.xbstream.zst.sha256"))).unwrap();
    assert_eq!(line, format!("{sum}  {record}.xbstream.zst\n"));
    assert_eq!(newest_record(&ns, "status.sha256"), sum);
    let hidden: Vec<String> = std::fs::read_dir(&backup_dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(hidden.is_empty(), "{hidden:?}");
    super::verified_with_rows(&ns, &record, 300);

    // Restored on request: the copy's rows, not the one after.
    ok(
        mysql_exec(
            &ns,
            "otuspassword",
            "INSERT INTO kept VALUES (300, 'after')",
        ),
        "a row after the backup",
    );
    ok(
        super::restore_from(&ns, &record),
        "kubectl mysql restore --from the copy on the volume",
    );
    wait_ready(&ns);
    assert_eq!(count(&ns), "300");

    // A damaged copy: refused by its checksum, in one line, and the data directory is
    // the one it was (a row written after the restore is still there).
    ok(
        mysql_exec(&ns, "otuspassword", "INSERT INTO kept VALUES (300, 'kept')"),
        "a row after the restore",
    );
    let mut damaged = copy.clone();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0xff;
    std::fs::write(&on_node, &damaged).unwrap();
    let refused = super::restore_from(&ns, &record);
    assert!(
        !refused.status.success(),
        "a damaged copy restored: {}",
        text(&refused)
    );
    assert!(
        text(&refused).contains("does not match its checksum"),
        "{}",
        text(&refused)
    );
    wait_ready(&ns);
    assert_eq!(count(&ns), "301", "the damaged copy changed nothing");
    std::fs::write(&on_node, &copy).unwrap();

    // Deleted (its final backup a physical copy on the volume) and created again: the
    // new incarnation finds it there and restores it, every row.
    delete_instance(
        &ns,
        "delete the instance with physical backups on the volume",
    );
    ok(
        kubectl_with_stdin(&["apply", "-n", &ns, "-f", "-"], &cr),
        "the same CR again",
    );
    wait_for_job(&ns, &format!("restore-{INSTANCE}-job"));
    wait_ready(&ns);
    assert_eq!(count(&ns), "301");

    super::tear_down(&ns, &operator_ns, "120s");
}
