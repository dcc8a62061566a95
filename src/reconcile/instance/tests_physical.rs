//! Physical restores: the server is held at no pod while the copy replaces its data
//! directory; the Job starts only once no pod of it is left; the server starts again
//! when the Job ended, either way; refusals say why, once.

use super::*;

/// A MariaDB instance whose backups are physical copies in the bucket.
fn physical_instance() -> MySQL {
    let mut instance = settled(instance());
    instance.spec.image = "mariadb:10.11".into();
    instance.spec.backup = Some(
        serde_json::from_value(serde_json::json!({
            "method": "physical",
            "storage": {"s3": {"bucket": "dumps", "credentialsSecret": {"name": "keys"}}}
        }))
        .unwrap(),
    );
    instance
}

/// A physical copy of MariaDB `version` in the bucket.
fn copy(version: &str) -> MySQLBackup {
    let mut record = backup("db-1", "db", BackupPhase::Succeeded, "2026-11-24T11:00:00Z");
    let status = record.status.as_mut().unwrap();
    status.bucket = Some("dumps".into());
    status.key = Some("ns/db/20261124-110000.xbstream.zst".into());
    status.server_version = Some(version.into());
    record
}

const REQUEST: &str = "db-1@42";

fn requested(request: &str) -> MySQL {
    annotated(physical_instance(), RESTORE_REQUEST_ANNOTATION, request)
}

/// The server's Deployment as this plan applies it: how many pods it asks for.
fn server_replicas(plan: &Plan) -> Option<i32> {
    plan.writes.iter().find_map(|w| match w {
        Write::ApplyDeployment(d, _) if d.name_any() == "db" => d.spec.as_ref()?.replicas,
        _ => None,
    })
}

fn with_copy(version: &str, server_pods: usize) -> Snapshot {
    Snapshot {
        backups: vec![copy(version)],
        restore_source: Read::Done(Some(copy(version))),
        server_pods: Read::Done(server_pods),
        ..snapshot()
    }
}

#[test]
fn the_server_stops_before_the_job_starts() {
    let plan = plan_for(&requested(REQUEST), &with_copy("10.11.6-MariaDB", 1));
    assert_eq!(server_replicas(&plan), Some(0));
    assert!(created_jobs(&plan).is_empty(), "no Job beside a server");
    assert_eq!(phase(&plan), Some(Phase::Restoring));
    // No event of ours says when the pod is gone: the next look comes soon.
    let soon = plan.wake_at.expect("a look again").duration_since(at(NOW));
    assert!(soon <= jiff::SignedDuration::from_secs(5), "{soon}");
}

#[test]
fn once_no_pod_is_left_the_job_replaces_the_data_directory() {
    let plan = plan_for(&requested(REQUEST), &with_copy("10.11.6-MariaDB", 0));
    assert_eq!(server_replicas(&plan), Some(0));
    let jobs = created_jobs(&plan);
    assert_eq!(jobs.len(), 1);
    assert_eq!(
        jobs[0].annotations().get(RESTORE_TOKEN_ANNOTATION),
        Some(&"db-1@42".to_string())
    );
    let pod = pod_spec(jobs[0]);
    // A killed run is replaced only once it has stopped: never two on the volume.
    assert_eq!(
        jobs[0]
            .spec
            .as_ref()
            .unwrap()
            .pod_replacement_policy
            .as_deref(),
        Some("Failed")
    );
    let restore = pod.containers.iter().find(|c| c.name == "restore").unwrap();
    let script = &restore.command.as_ref().unwrap()[2];
    for step in [
        "mbstream -x -C \"$staging\" <&3",
        "mariadb-backup --prepare --target-dir=\"$staging\"",
        "mv \"$staging\" /volume/mysql",
    ] {
        assert!(script.contains(step), "{step}: {script}");
    }
    // The data volume whole, so that the swap is a rename on it.
    let data = pod
        .volumes
        .as_ref()
        .unwrap()
        .iter()
        .find(|v| v.name == "data")
        .unwrap();
    assert_eq!(
        data.persistent_volume_claim.as_ref().unwrap().claim_name,
        "db-pvc"
    );
}

#[test]
fn the_server_stays_stopped_while_the_job_runs_and_starts_when_it_ended() {
    let running = Snapshot {
        restore_job: read_some(restore_job(Outcome::Running, REQUEST)),
        restore_source: Read::Skipped,
        server_pods: Read::Skipped,
        ..with_copy("10.11.6-MariaDB", 0)
    };
    assert_eq!(
        server_replicas(&plan_for(&requested(REQUEST), &running)),
        Some(0)
    );
    for outcome in [Outcome::Succeeded, Outcome::Failed] {
        let ended = Snapshot {
            restore_job: read_some(restore_job(outcome, REQUEST)),
            restore_failure: Read::Done(Some("restore: the copy stopped".into())),
            ..running.clone()
        };
        let plan = plan_for(&requested(REQUEST), &ended);
        assert_eq!(server_replicas(&plan), Some(1), "{outcome:?}");
    }
}

#[test]
fn a_copy_of_another_version_is_refused_and_the_server_keeps_running() {
    let plan = plan_for(&requested(REQUEST), &with_copy("10.6.12-MariaDB", 0));
    assert!(created_jobs(&plan).is_empty());
    assert_eq!(
        reason(&plan, ConditionType::Restored),
        Some((ConditionStatus::False, Reason::RestoreFailed))
    );
    let message = plan
        .status
        .as_ref()
        .and_then(|s| s.conditions.iter().find(|c| c.type_ == "Restored"))
        .map(|c| c.message.clone())
        .unwrap();
    assert!(
        message.contains("physical copy of MariaDB 10.6.12"),
        "{message}"
    );
    assert!(message.contains("same version"), "{message}");
}

#[test]
fn a_physical_copy_restores_to_its_own_time_only() {
    let plan = plan_for(
        &requested("db-1@42@2026-11-24T11:40:00Z"),
        &with_copy("10.11.6-MariaDB", 0),
    );
    assert!(created_jobs(&plan).is_empty());
    assert_eq!(
        reason(&plan, ConditionType::Restored),
        Some((ConditionStatus::False, Reason::RestoreFailed))
    );
}

#[test]
fn logical_restores_never_stop_the_server() {
    let mut logical = copy("10.11.6-MariaDB");
    logical.status.as_mut().unwrap().key = Some("ns/db/20261124-110000.sql.zst".into());
    let snapshot = Snapshot {
        backups: vec![logical.clone()],
        restore_source: Read::Done(Some(logical)),
        ..snapshot()
    };
    let plan = plan_for(&requested(REQUEST), &snapshot);
    assert_eq!(server_replicas(&plan), Some(1));
    assert_eq!(created_jobs(&plan).len(), 1);
}

#[test]
fn the_spec_refuses_physical_backups_where_they_cannot_run() {
    let mut before_clone = physical_instance();
    before_clone.spec.image = "mysql:5.7".into();
    assert!(
        before_clone
            .spec_problem()
            .unwrap()
            .contains("MySQL 8.0.17 or later (the clone plugin)")
    );
    let mut on_mysql = physical_instance();
    on_mysql.spec.image = "mysql:8.4".into();
    assert_eq!(on_mysql.spec_problem(), None);
    let mut replicated = physical_instance();
    replicated.spec.replicas = Some(3);
    assert!(replicated.spec_problem().unwrap().contains("single server"));
    assert_eq!(physical_instance().spec_problem(), None);
}

/// A physical copy of MariaDB `version` on `owner`'s backup volume.
fn copy_on_volume(owner: &str) -> MySQLBackup {
    let mut record = backup(
        "db-1",
        owner,
        BackupPhase::Succeeded,
        "2026-11-24T11:00:00Z",
    );
    let status = record.status.as_mut().unwrap();
    status.file = Some("/backup/db-1.xbstream.zst".into());
    status.sha256 = Some("ab".repeat(32));
    status.server_version = Some("10.11.6-MariaDB".into());
    record
}

/// A MariaDB instance whose physical copies go to its backup volume.
fn physical_on_volume(request: &str) -> MySQL {
    let mut instance = requested(request);
    instance.spec.backup =
        Some(serde_json::from_value(serde_json::json!({"method": "physical"})).unwrap());
    instance
}

#[test]
fn a_copy_on_the_volume_is_checked_where_it_lies_then_replaces_the_data_directory() {
    assert!(copy_on_volume("db").physical());
    let snapshot = Snapshot {
        backups: vec![copy_on_volume("db")],
        restore_source: Read::Done(Some(copy_on_volume("db"))),
        server_pods: Read::Done(0),
        ..snapshot()
    };
    let plan = plan_for(&physical_on_volume(REQUEST), &snapshot);
    assert_eq!(server_replicas(&plan), Some(0));
    let jobs = created_jobs(&plan);
    assert_eq!(jobs.len(), 1, "{:?}", plan.writes);
    let pod = pod_spec(jobs[0]);
    assert_eq!(
        init_names(pod),
        ["check", "pipe"],
        "no download: the copy is on the volume"
    );
    let check = &pod.init_containers.as_ref().unwrap()[0];
    assert!(check.command.as_ref().unwrap()[2].contains("sha256sum -c"));
    let decompress = pod
        .containers
        .iter()
        .find(|c| c.name == "decompress")
        .unwrap();
    assert!(
        decompress
            .command
            .as_ref()
            .unwrap()
            .contains(&"--file=/backup/db-1.xbstream.zst".to_string())
    );
    let claims: Vec<(&str, &str)> = pod
        .volumes
        .iter()
        .flatten()
        .filter_map(|v| {
            Some((
                v.name.as_str(),
                v.persistent_volume_claim.as_ref()?.claim_name.as_str(),
            ))
        })
        .collect();
    assert_eq!(claims, [("data", "db-pvc"), ("backup", "backup-db-pvc")]);
    let env = format!("{:?}", pod);
    assert!(!env.contains("AWS_"), "no bucket keys: {env}");
}

#[test]
fn a_copy_on_another_instances_volume_is_refused_and_the_server_keeps_running() {
    let snapshot = Snapshot {
        backups: vec![copy_on_volume("old-db")],
        restore_source: Read::Done(Some(copy_on_volume("old-db"))),
        server_pods: Read::Done(1),
        ..snapshot()
    };
    let plan = plan_for(&physical_on_volume(REQUEST), &snapshot);
    assert!(created_jobs(&plan).is_empty());
    assert_eq!(server_replicas(&plan), Some(1));
    let status = format!("{:?}", plan.status);
    assert!(
        status.contains(
            "is a physical copy on the backup volume of old-db: it restores only into that instance"
        ),
        "{status}"
    );
}

#[test]
fn a_physical_copy_found_on_the_volume_is_recorded_only_with_its_checksum() {
    let sum = "cd".repeat(32);
    let whole = found(
        "db-20261124-110000.xbstream.zst",
        "2026-11-24T11:00:00Z",
        true,
        Some(&sum),
    );
    let record = whole.record("ns", "db").unwrap();
    assert_eq!(record.name_any(), "db-20261124-110000");
    assert_eq!(
        record.volume_file(),
        Some("/backup/db-20261124-110000.xbstream.zst")
    );
    assert!(record.physical());
    // The scan says incomplete when the checksum file is missing: not recorded.
    let unfinished = found("db-1.xbstream.zst", "2026-11-24T11:00:00Z", false, None);
    assert!(unfinished.record("ns", "db").is_none());
    assert!(
        found("db-1.xbstream", "2026-11-24T11:00:00Z", true, None)
            .record("ns", "db")
            .is_none()
    );
    // MySQL's clone, packed.
    let clone = found(
        "db-2.clone.tar.zst",
        "2026-11-24T11:00:00Z",
        true,
        Some(&sum),
    )
    .record("ns", "db")
    .unwrap();
    assert_eq!(clone.name_any(), "db-2");
    assert!(clone.physical());
}

// ---- MySQL's clones (only unit-tested: no MySQL server runs here) ----

/// A MySQL 8.4 instance whose physical backups (clones) go to the bucket.
fn mysql_clone_instance(request: &str) -> MySQL {
    let mut instance = requested(request);
    instance.spec.image = "mysql:8.4".into();
    instance
}

/// A clone of MySQL `version` in the bucket.
fn clone_copy(version: &str) -> MySQLBackup {
    let mut record = copy(version);
    record.status.as_mut().unwrap().key = Some("ns/db/20261124-110000.clone.tar.zst".into());
    record
}

fn with_clone(version: &str, server_pods: usize) -> Snapshot {
    Snapshot {
        backups: vec![clone_copy(version)],
        restore_source: Read::Done(Some(clone_copy(version))),
        server_pods: Read::Done(server_pods),
        ..snapshot()
    }
}

fn server_deployment(plan: &Plan) -> &Deployment {
    plan.writes
        .iter()
        .find_map(|w| match w {
            Write::ApplyDeployment(d, _) if d.name_any() == "db" => Some(d),
            _ => None,
        })
        .unwrap()
}

fn mounts_of_server(plan: &Plan) -> Vec<(String, Option<String>)> {
    let pod = server_deployment(plan)
        .spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .clone()
        .unwrap();
    pod.containers[0]
        .volume_mounts
        .iter()
        .flatten()
        .filter(|m| m.name == "data")
        .map(|m| (m.mount_path.clone(), m.sub_path.clone()))
        .collect()
}

/// The clone plugin writes only outside the data directory: a MySQL server that takes
/// physical backups also mounts its whole data volume, at a path that shares no prefix
/// with the data directory. A MariaDB server, or a MySQL one backing up logically,
/// mounts only its data directory.
#[test]
fn a_mysql_server_taking_physical_backups_mounts_its_whole_volume_for_the_clone() {
    let plan = plan_for(&mysql_clone_instance("none@1"), &snapshot());
    assert_eq!(
        mounts_of_server(&plan),
        [
            ("/var/lib/mysql".to_string(), Some("mysql".to_string())),
            ("/kubectl-mysql/data-volume".to_string(), None),
        ]
    );
    let mariadb = plan_for(&physical_instance(), &snapshot());
    assert_eq!(mounts_of_server(&mariadb).len(), 1);
    let mut logical = settled(instance());
    logical.spec.image = "mysql:8.4".into();
    assert_eq!(mounts_of_server(&plan_for(&logical, &snapshot())).len(), 1);
}

/// A clone is unpacked by our image before the server's container starts (no pipe,
/// no prepare); the server's programs are MySQL's; the version comes from our file.
#[test]
fn a_mysql_clone_is_unpacked_beside_the_data_directory_then_started_by_mysqld() {
    let plan = plan_for(&mysql_clone_instance(REQUEST), &with_clone("8.4.3", 0));
    let jobs = created_jobs(&plan);
    assert_eq!(jobs.len(), 1, "{:?}", plan.writes);
    let pod = pod_spec(jobs[0]);
    assert_eq!(init_names(pod), ["download", "unpack"]);
    let unpack = &pod.init_containers.as_ref().unwrap()[1];
    assert_eq!(
        unpack.command.as_ref().unwrap()[1..],
        [
            "unpack-copy",
            "--from=/work/dump.compressed",
            "--to=/volume/restore-staging"
        ]
    );
    let download = pod.init_containers.as_ref().unwrap()[0]
        .command
        .as_ref()
        .unwrap()
        .join(" ");
    assert!(download.contains("--compressed"), "{download}");
    let names: Vec<&str> = pod.containers.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["restore"], "no decompression into a pipe");
    let script = &pod.containers[0].command.as_ref().unwrap()[2];
    for wanted in [
        "kubectl-mysql-server-version",
        "mysqld $as_mysql --datadir=\"$staging\" --skip-grant-tables",
        "mysqladmin --socket",
        "| mysql --socket",
        "physical copy of MySQL $copied",
        "mkdir -p \"$staging/mysql\"",
    ] {
        assert!(script.contains(wanted), "{wanted} in {script}");
    }
    for unwanted in ["mbstream", "mariadb-backup", "mariadbd", "dump.fifo"] {
        assert!(!script.contains(unwanted), "{unwanted} in {script}");
    }
}

#[test]
fn a_copy_restores_only_into_its_own_family_and_version() {
    // A MariaDB copy into MySQL, a clone into MariaDB: refused before the server stops.
    let plan = plan_for(
        &mysql_clone_instance(REQUEST),
        &with_copy("10.11.6-MariaDB", 1),
    );
    assert!(created_jobs(&plan).is_empty());
    assert_eq!(server_replicas(&plan), Some(1));
    let status = format!("{:?}", plan.status);
    assert!(
        status.contains("is a physical copy of a MariaDB server; the image mysql:8.4 runs MySQL"),
        "{status}"
    );
    let plan = plan_for(&requested(REQUEST), &with_clone("8.4.3", 1));
    assert!(created_jobs(&plan).is_empty());
    assert!(format!("{:?}", plan.status).contains("is a physical copy of a MySQL server"));
    // MySQL 8.0's clone into 8.4.
    let plan = plan_for(&mysql_clone_instance(REQUEST), &with_clone("8.0.39", 1));
    assert!(created_jobs(&plan).is_empty());
    let status = format!("{:?}", plan.status);
    assert!(
        status.contains("is a physical copy of MySQL 8.0.39; the image mysql:8.4 runs 8.4"),
        "{status}"
    );
}
