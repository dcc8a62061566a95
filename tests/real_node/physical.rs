//! Physical backups on the real node: mariadb-backup's copy of the data directory,
//! streamed through a pipe, zstd-compressed and checksummed into the real S3 server;
//! verified as it restores; restored on request (the server stopped, the copy unpacked,
//! prepared and swapped in, the old data directory set aside, never deleted), with the
//! restore's pod killed half-way and its retry starting over, and on create (a deleted
//! instance's final backup, a physical one, brings back every row).
//!
//! Included from tests/real_node.rs (`#[path = "real_node/physical.rs"] mod physical;`):
//! the helpers are that file's.

use super::common::{self, kubectl, kubectl_with_stdin, text};
use super::{
    INSTANCE, course_cr_in_bucket, delete_instance, delete_volumes_of, fill_kept, mysql_exec, ok,
    operator_and_keys, require_real_node, wait_for_job, wait_ready,
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

/// `kubectl mysql restore --from record --wait`, its Job's pod killed at once (no grace)
/// when its log says it is unpacking the copy. True when the kill landed before that
/// pod ended: the Job then counts one failed attempt and one that succeeded after it;
/// false when the pod was done first. Either way the restore must succeed.
fn restore_killed_half_way(ns: &str, record: &str) -> bool {
    use std::io::BufRead;
    let job = format!("restore-{INSTANCE}-job");
    // The previous restore's Job (and its log) goes first.
    ok(
        kubectl(&[
            "delete",
            "job",
            &job,
            "-n",
            ns,
            "--ignore-not-found",
            "--wait",
        ]),
        "remove the previous restore's Job",
    );
    let restore = std::process::Command::new("kubectl")
        .args([
            "mysql",
            "restore",
            INSTANCE,
            "--from",
            record,
            "-y",
            "-n",
            ns,
            "--wait",
            "--timeout",
            "600s",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("kubectl mysql restore");
    // Followed as it is written, so that the kill comes within moments of the line.
    super::wait_until(
        std::time::Duration::from_secs(300),
        "the restore unpacking the copy",
        || {
            let mut follow = std::process::Command::new("kubectl")
                .args([
                    "logs",
                    "-f",
                    "-n",
                    ns,
                    &format!("job/{job}"),
                    "-c",
                    "restore",
                    "--pod-running-timeout=60s",
                ])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("kubectl logs -f");
            let lines = std::io::BufReader::new(follow.stdout.take().unwrap()).lines();
            let unpacking = lines
                .map_while(Result::ok)
                .any(|line| line.contains("restore: unpacking"));
            let _ = follow.kill();
            let _ = follow.wait();
            if !unpacking {
                return Err("no pod unpacking yet".into());
            }
            ok(
                kubectl(&[
                    "delete",
                    "pods",
                    "-n",
                    ns,
                    "-l",
                    &format!("job-name={job}"),
                    "--grace-period=0",
                    "--force",
                ]),
                "kill the restore's pod",
            );
            Ok(())
        },
    );
    let restored = restore.wait_with_output().unwrap();
    assert!(restored.status.success(), "{}", text(&restored));
    let attempts = ok(
        kubectl(&[
            "get",
            "job",
            &job,
            "-n",
            ns,
            "-o",
            "jsonpath={.status.failed} {.status.succeeded}",
        ]),
        "the restore Job's attempts",
    );
    match attempts.trim() {
        "1 1" => true,
        "1" => false,
        other => panic!("the restore Job ended as failed/succeeded {other:?}"),
    }
}

#[tokio::test]
async fn real_node_physical_backup_and_restore() {
    require_real_node();
    let s3 = common::S3::from_env();
    let client = common::cluster().await;
    let ns = common::namespace(&client, "real-physical").await;
    let operator_ns = operator_and_keys(&ns, &s3);
    let cr = course_cr_in_bucket(&s3, "physical", "    method: physical\n");
    ok(
        kubectl_with_stdin(&["apply", "-n", &ns, "-f", "-"], &cr),
        "the course's CR with physical backups to the bucket",
    );
    wait_ready(&ns);
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
    let verified = ok(
        kubectl(&["mysql", "backup", "verify", &record, "-n", &ns]),
        "kubectl mysql backup verify (physical)",
    );
    assert!(
        verified
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["kept", "500"]),
        "{verified}"
    );
    let recorded = ok(
        kubectl(&[
            "get",
            "mysqlbackup",
            &record,
            "-n",
            &ns,
            "-o",
            "jsonpath={.status.verification.result} {.status.verification.tables[0].rows}",
        ]),
        "the verification on the record",
    );
    assert_eq!(recorded, "Passed 500");

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
    // The restore's pod is killed while it unpacks the copy: the Job's next pod starts
    // over (once the first has stopped), and the server starts on the whole copy. A
    // small copy can be restored before the kill lands: then it is restored again.
    let mut restores = 0;
    let killed_half_way = (0..3).any(|_| {
        restores += 1;
        restore_killed_half_way(&ns, &record)
    });
    assert!(killed_half_way, "no kill landed in {restores} restores");
    wait_ready(&ns);
    assert_eq!(count(&ns), "500", "the copy's rows, and not the one after");
    let staging: Vec<_> = set_aside_dirs(&ns)
        .iter()
        .filter_map(|d| d.parent().map(|p| p.join("restore-staging")))
        .filter(|s| s.exists())
        .collect();
    assert!(staging.is_empty(), "{staging:?}");
    // The data directory it replaced is set aside on the volume, never deleted.
    let mut aside = set_aside_dirs(&ns);
    aside.sort();
    assert_eq!(aside.len(), restores, "one per restore: {aside:?}");
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

    ok(
        kubectl(&["mysql", "uninstall-operator", "-n", &operator_ns]),
        "kubectl mysql uninstall-operator",
    );
    let _operator = super::Operator::start(&[&ns]);
    ok(
        kubectl(&["delete", "namespace", &ns, "--timeout=120s"]),
        "delete the namespace",
    );
    let _ = std::fs::remove_dir_all(format!("/var/lib/kubectl-mysql/{ns}"));
    delete_volumes_of(&ns);
}
