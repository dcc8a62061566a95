//! The backup plan's table of cases: a record, what observe read, and what the plan
//! must decide. Pure: no client, no clock.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use serde_json::json;

use super::plan::{BackupPlan, BackupSnapshot, BackupWrite, outlives_its_record, plan};
use crate::api::keys::{BACKUP_ANNOTATION, OBJECT_ANNOTATION, annotation};
use crate::api::{BackupPhase, EventReason, MySQL, MySQLBackup};
use crate::reconcile::Next;
use crate::reconcile::test_support::{init_names, pod_spec};
use crate::render::Renderer;

const NOW: &str = "2026-12-03T12:00:00Z";

fn record(status: serde_json::Value) -> MySQLBackup {
    serde_json::from_value(json!({
        "apiVersion": "otus.homework/v1", "kind": "MySQLBackup",
        "metadata": {"name": "db-1", "namespace": "ns", "uid": "b1",
                     "creationTimestamp": "2026-12-03T11:59:00Z"},
        "spec": {"instance": "db"},
        "status": status,
    }))
    .unwrap()
}

fn new_record() -> MySQLBackup {
    record(json!({}))
}

fn running_record() -> MySQLBackup {
    record(json!({"phase": "Running", "jobName": "backup-db-job",
                  "startTime": "2026-12-03T11:59:00Z", "message": "Job backup-db-job is dumping shop"}))
}

fn instance(backup: serde_json::Value) -> MySQL {
    serde_json::from_value(json!({
        "apiVersion": "otus.homework/v1", "kind": "MySQL",
        "metadata": {"name": "db", "namespace": "ns", "uid": "i1"},
        "spec": {"image": "mariadb:11", "database": "shop", "password": "x",
                 "storage_size": "1Gi", "backup": backup},
    }))
    .unwrap()
}

fn on_volume() -> MySQL {
    instance(serde_json::Value::Null)
}

fn to_bucket() -> MySQL {
    instance(
        json!({"storage": {"s3": {"endpoint": "http://s3:7070", "bucket": "b",
        "prefix": "p", "credentialsSecret": {"name": "keys"}}}}),
    )
}

#[derive(Clone, Copy)]
enum State {
    Running,
    Complete,
    Failed,
}

/// backup-db-job serving `backup`, in `state`.
fn job(backup: &str, state: State, extra: &[(&str, &str)]) -> Job {
    let mut annotations = serde_json::Map::new();
    annotations.insert(BACKUP_ANNOTATION.into(), backup.into());
    for (k, v) in extra {
        annotations.insert((*k).into(), (*v).into());
    }
    let status = match state {
        State::Running => json!({"active": 1}),
        State::Complete => json!({"conditions": [{"type": "Complete", "status": "True"}]}),
        State::Failed => json!({"conditions": [{"type": "Failed", "status": "True",
            "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}]}),
    };
    serde_json::from_value(json!({
        "metadata": {"name": "backup-db-job", "namespace": "ns", "annotations": annotations},
        "status": status,
    }))
    .unwrap()
}

/// The Job's pod as it ended, with what it wrote to its termination log.
fn pod(reason: &str, message: Option<&str>) -> Pod {
    serde_json::from_value(json!({
        "status": {"containerStatuses": [{"name": "backup", "image": "", "imageID": "",
            "ready": false, "restartCount": 0,
            "state": {"terminated": {"exitCode": if reason == "Completed" { 0 } else { 1 },
                                     "reason": reason, "message": message}}}]},
    }))
    .unwrap()
}

fn restore_job(running: bool) -> Job {
    let status = if running {
        json!({"active": 1})
    } else {
        json!({"conditions": [{"type": "Complete", "status": "True"}]})
    };
    serde_json::from_value(json!({"metadata": {"name": "restore-db-job"}, "status": status}))
        .unwrap()
}

struct Case {
    name: &'static str,
    record: MySQLBackup,
    snapshot: BackupSnapshot,
    check: fn(&BackupPlan),
}

/// `job`, its pod mounting the server's data claim (as a physical backup's does).
fn holding_data(mut job: Job) -> Job {
    job.spec = Some(
        serde_json::from_value(json!({"template": {"spec": {"containers": [],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "db-pvc"}}]}}}))
        .unwrap(),
    );
    job
}

fn physical_on_volume() -> MySQL {
    instance(json!({"method": "physical"}))
}

fn phase(plan: &BackupPlan) -> Option<BackupPhase> {
    plan.status.as_ref()?.phase
}

fn message(plan: &BackupPlan) -> String {
    plan.status
        .as_ref()
        .and_then(|s| s.message.clone())
        .unwrap_or_default()
}

fn events(plan: &BackupPlan) -> Vec<EventReason> {
    plan.events.iter().map(|e| e.reason).collect()
}

fn created(plan: &BackupPlan) -> Vec<&Job> {
    plan.writes
        .iter()
        .filter_map(|w| match w {
            BackupWrite::CreateJob(job) => Some(job),
            BackupWrite::DeleteJob(_) => None,
        })
        .collect()
}

fn deleted(plan: &BackupPlan) -> Vec<&str> {
    plan.writes
        .iter()
        .filter_map(|w| match w {
            BackupWrite::DeleteJob(name) => Some(name.as_str()),
            BackupWrite::CreateJob(_) => None,
        })
        .collect()
}

fn env_of(job: &Job, name: &str) -> Option<String> {
    let pod = job.spec.as_ref()?.template.spec.as_ref()?;
    pod.containers
        .iter()
        .chain(pod.init_containers.iter().flatten())
        .flat_map(|c| c.env.iter().flatten())
        .find(|e| e.name == name)?
        .value
        .clone()
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "a new record starts backup-NAME-job, owned by the record",
            record: new_record(),
            snapshot: BackupSnapshot {
                instance: Some(on_volume()),
                ..Default::default()
            },
            check: |p| {
                let jobs = created(p);
                assert_eq!(jobs.len(), 1);
                assert_eq!(jobs[0].name_any(), "backup-db-job");
                assert_eq!(
                    annotation(&jobs[0].metadata, BACKUP_ANNOTATION),
                    Some("db-1")
                );
                assert_eq!(jobs[0].owner_references()[0].uid, "b1");
                assert_eq!(phase(p), Some(BackupPhase::Running));
                assert_eq!(events(p), vec![EventReason::BackupStarted]);
                assert!(matches!(p.next, Next::Running(_)));
            },
        },
        Case {
            name: "a physical backup to the volume stores the copy there, beside the data",
            record: new_record(),
            snapshot: BackupSnapshot {
                instance: Some(physical_on_volume()),
                ..Default::default()
            },
            check: |p| {
                let jobs = created(p);
                assert_eq!(jobs.len(), 1);
                let pod = jobs[0].spec.as_ref().unwrap().template.spec.as_ref().unwrap();
                let store = pod.containers.iter().find(|c| c.name == "store").unwrap();
                let args = store.command.as_ref().unwrap().join(" ");
                assert!(
                    args.contains("store-dump") && args.contains("--to /backup/db-1.xbstream.zst"),
                    "{args}"
                );
                let claims: Vec<&str> = pod
                    .volumes
                    .iter()
                    .flatten()
                    .filter_map(|v| Some(v.persistent_volume_claim.as_ref()?.claim_name.as_str()))
                    .collect();
                assert_eq!(claims, ["db-pvc", "backup-db-pvc"]);
                assert!(outlives_its_record(&holding_data(job("db-1", State::Complete, &[]))));
                assert!(super::plan::holds_data_claim(jobs[0]));
                assert_eq!(p.status.as_ref().unwrap().key, None, "no bucket");
            },
        },
        Case {
            name: "a physical copy stored on the volume is recorded by its file, and is physical",
            record: running_record(),
            snapshot: BackupSnapshot {
                job: Some(holding_data(job("db-1", State::Complete, &[]))),
                job_pods: vec![pod(
                    "Completed",
                    Some(
                        r#"{"file":"/backup/db-1.xbstream.zst","sizeBytes":99,"sha256":"def","serverVersion":"10.11.6-MariaDB"}"#,
                    ),
                )],
                ..Default::default()
            },
            check: |p| {
                let status = p.status.as_ref().unwrap();
                assert_eq!(status.phase, Some(BackupPhase::Succeeded));
                assert_eq!(status.file.as_deref(), Some("/backup/db-1.xbstream.zst"));
                assert_eq!(status.server_version.as_deref(), Some("10.11.6-MariaDB"));
                let mut recorded = record(serde_json::Value::Null);
                recorded.status = Some(status.clone());
                assert!(recorded.physical());
                assert!(matches!(p.next, Next::Wait(_)), "its Job goes next: {:?}", p.next);
            },
        },
        Case {
            name: "a record whose instance is gone fails at once and says so",
            record: new_record(),
            snapshot: BackupSnapshot::default(),
            check: |p| {
                assert!(p.writes.is_empty());
                assert_eq!(phase(p), Some(BackupPhase::Failed));
                assert_eq!(message(p), "MySQL instance db not found");
                assert_eq!(events(p), vec![EventReason::BackupFailed]);
                assert_eq!(p.next, Next::Done);
            },
        },
        Case {
            name: "a running restore is waited for, nothing started",
            record: new_record(),
            snapshot: BackupSnapshot {
                instance: Some(on_volume()),
                restore_job: Some(restore_job(true)),
                ..Default::default()
            },
            check: |p| {
                assert!(p.writes.is_empty());
                assert_eq!(phase(p), Some(BackupPhase::Pending));
                assert!(events(p).is_empty());
                assert!(matches!(p.next, Next::Wait(_)));
            },
        },
        Case {
            name: "a finished restore does not hold the backup",
            record: new_record(),
            snapshot: BackupSnapshot {
                instance: Some(on_volume()),
                restore_job: Some(restore_job(false)),
                ..Default::default()
            },
            check: |p| {
                assert_eq!(created(p).len(), 1);
                assert_eq!(phase(p), Some(BackupPhase::Running));
            },
        },
        Case {
            name: "a bucket whose keys' Secret is missing fails, naming the Secret",
            record: new_record(),
            snapshot: BackupSnapshot {
                instance: Some(to_bucket()),
                bucket_keys_exist: Some(false),
                ..Default::default()
            },
            check: |p| {
                assert!(p.writes.is_empty());
                assert_eq!(phase(p), Some(BackupPhase::Failed));
                assert!(message(p).contains("Secret keys"), "{}", message(p));
                assert_eq!(
                    p.status.as_ref().unwrap().completion_time.as_deref(),
                    Some(NOW)
                );
                assert_eq!(events(p), vec![EventReason::BackupFailed]);
            },
        },
        Case {
            name: "a backup to a bucket goes under the prefix, named by the record's creation",
            record: new_record(),
            snapshot: BackupSnapshot {
                instance: Some(to_bucket()),
                bucket_keys_exist: Some(true),
                ..Default::default()
            },
            check: |p| {
                let jobs = created(p);
                assert_eq!(jobs.len(), 1);
                let status = p.status.as_ref().unwrap();
                assert_eq!(status.bucket.as_deref(), Some("b"));
                assert_eq!(
                    status.key.as_deref(),
                    Some("p/ns/db/20261203-115900.sql.zst")
                );
                assert_eq!(
                    annotation(&jobs[0].metadata, OBJECT_ANNOTATION),
                    Some("s3://b/p/ns/db/20261203-115900.sql.zst")
                );
            },
        },
        Case {
            name: "no secret lands in the Job: the keys come from the Secret by reference",
            record: new_record(),
            snapshot: BackupSnapshot {
                instance: Some(to_bucket()),
                bucket_keys_exist: Some(true),
                ..Default::default()
            },
            check: |p| {
                let job = created(p)[0];
                assert_eq!(env_of(job, "AWS_SECRET_ACCESS_KEY"), None);
                let text = serde_json::to_string(job).unwrap();
                assert!(!text.contains("\"x\""), "the password is not inlined");
            },
        },
        Case {
            name: "a running Job of this record: no write, a look each minute",
            record: running_record(),
            snapshot: BackupSnapshot {
                job: Some(job("db-1", State::Running, &[])),
                ..Default::default()
            },
            check: |p| {
                assert!(p.writes.is_empty());
                assert!(p.events.is_empty());
                assert!(p.status.is_none(), "unchanged status is not written");
                assert!(matches!(p.next, Next::Running(_)));
            },
        },
        Case {
            name: "a Job with no pod yet is looked at again in seconds",
            record: running_record(),
            snapshot: BackupSnapshot {
                job: Some({
                    let mut j = job("db-1", State::Running, &[]);
                    j.status = None;
                    j
                }),
                ..Default::default()
            },
            check: |p| {
                assert!(p.writes.is_empty());
                assert!(matches!(p.next, Next::Wait(_)));
            },
        },
        Case {
            name: "a Job whose pod the API server refuses fails the backup with its words, and goes",
            record: running_record(),
            snapshot: BackupSnapshot {
                job: Some({
                    let mut j = job("db-1", State::Running, &[]);
                    j.status = None;
                    j
                }),
                job_refused: Some(
                    "the API server refuses the pod of Job backup-db-job: Error creating: pods \"backup-db-job-x\" is forbidden: violates PodSecurity \"restricted:latest\"".into(),
                ),
                ..Default::default()
            },
            check: |p| {
                assert_eq!(phase(p), Some(BackupPhase::Failed));
                assert!(
                    message(p).starts_with("the API server refuses the pod of Job backup-db-job: Error creating"),
                    "{}",
                    message(p)
                );
                assert_eq!(events(p), vec![EventReason::BackupFailed]);
                // Removed by the finished record's next look, not while the cache
                // may still hold it running.
                assert!(deleted(p).is_empty());
                assert!(matches!(p.next, Next::Wait(_)));
            },
        },
        Case {
            name: "a succeeded Job: the report's file, size and checksum are recorded",
            record: running_record(),
            snapshot: BackupSnapshot {
                job: Some(job("db-1", State::Complete, &[])),
                job_pods: vec![pod(
                    "Completed",
                    Some(r#"{"file":"/backup/db-1.sql","sizeBytes":1234,"sha256":"abc"}"#),
                )],
                ..Default::default()
            },
            check: |p| {
                let status = p.status.as_ref().unwrap();
                assert_eq!(status.phase, Some(BackupPhase::Succeeded));
                assert_eq!(status.file.as_deref(), Some("/backup/db-1.sql"));
                assert_eq!(status.size_bytes, Some(1234));
                assert_eq!(status.sha256.as_deref(), Some("abc"));
                assert_eq!(status.completion_time.as_deref(), Some(NOW));
                assert_eq!(events(p), vec![EventReason::BackupSucceeded]);
                assert_eq!(p.next, Next::Done);
            },
        },
        Case {
            name: "a succeeded Job to a bucket keeps its key and records no file",
            record: record(json!({"phase": "Running", "bucket": "b",
                                  "key": "p/ns/db/20261203-115900.sql.gz"})),
            snapshot: BackupSnapshot {
                job: Some(job(
                    "db-1",
                    State::Complete,
                    &[(OBJECT_ANNOTATION, "s3://b/p/ns/db/20261203-115900.sql.gz")],
                )),
                job_pods: vec![pod("Completed", Some(r#"{"sizeBytes":99,"sha256":"def"}"#))],
                ..Default::default()
            },
            check: |p| {
                let status = p.status.as_ref().unwrap();
                assert_eq!(status.phase, Some(BackupPhase::Succeeded));
                assert_eq!(status.file, None);
                assert_eq!(
                    status.key.as_deref(),
                    Some("p/ns/db/20261203-115900.sql.gz")
                );
                assert_eq!(status.sha256.as_deref(), Some("def"));
            },
        },
        Case {
            name: "a physical backup records the server's version, then looks again to remove its Job",
            record: record(json!({"phase": "Running", "bucket": "b",
                                  "key": "p/ns/db/20261203-115900.xbstream.zst"})),
            snapshot: BackupSnapshot {
                job: Some(holding_data(job(
                    "db-1",
                    State::Complete,
                    &[(
                        OBJECT_ANNOTATION,
                        "s3://b/p/ns/db/20261203-115900.xbstream.zst",
                    )],
                ))),
                job_pods: vec![pod(
                    "Completed",
                    Some(r#"{"sizeBytes":99,"sha256":"def","serverVersion":"10.11.6-MariaDB"}"#),
                )],
                ..Default::default()
            },
            check: |p| {
                let status = p.status.as_ref().unwrap();
                assert_eq!(status.phase, Some(BackupPhase::Succeeded));
                assert_eq!(status.server_version.as_deref(), Some("10.11.6-MariaDB"));
                // The Job holds the data claim: the next look (the finished record's)
                // removes it, once this status is written.
                assert!(deleted(p).is_empty(), "the report is recorded first");
                assert!(matches!(p.next, Next::Wait(_)), "{:?}", p.next);
            },
        },
        Case {
            name: "a failed Job: the pod's own line is the message",
            record: running_record(),
            snapshot: BackupSnapshot {
                job: Some(job("db-1", State::Failed, &[])),
                job_pods: vec![pod(
                    "Error",
                    Some("mysqldump: Got error: 1045: Access denied for user 'root'"),
                )],
                ..Default::default()
            },
            check: |p| {
                assert_eq!(phase(p), Some(BackupPhase::Failed));
                assert!(message(p).contains("Access denied"), "{}", message(p));
                assert_eq!(events(p), vec![EventReason::BackupFailed]);
                assert_eq!(p.next, Next::Done);
            },
        },
        Case {
            name: "a failed Job without a line from its pod says the Job's reason",
            record: running_record(),
            snapshot: BackupSnapshot {
                job: Some(job("db-1", State::Failed, &[])),
                job_pods: vec![pod("OOMKilled", None)],
                ..Default::default()
            },
            check: |p| {
                assert_eq!(phase(p), Some(BackupPhase::Failed));
                assert!(message(p).contains("OOMKilled"), "{}", message(p));
            },
        },
        Case {
            name: "backup-NAME-job still runs another record's backup: wait, touch nothing",
            record: new_record(),
            snapshot: BackupSnapshot {
                job: Some(job("db-0", State::Running, &[])),
                instance: Some(on_volume()),
                ..Default::default()
            },
            check: |p| {
                assert!(p.writes.is_empty());
                assert_eq!(phase(p), Some(BackupPhase::Pending));
                assert!(message(p).contains("running Job backup-db-job"));
                assert!(matches!(p.next, Next::Wait(_)));
            },
        },
        Case {
            name: "backup-NAME-job finished another record's backup: it goes first",
            record: new_record(),
            snapshot: BackupSnapshot {
                job: Some(job("db-0", State::Complete, &[])),
                instance: Some(on_volume()),
                ..Default::default()
            },
            check: |p| {
                assert_eq!(deleted(p), vec!["backup-db-job"]);
                assert!(created(p).is_empty());
                assert!(matches!(p.next, Next::Wait(_)));
            },
        },
        Case {
            name: "a finish already recorded publishes no second Event",
            record: record(json!({"phase": "Succeeded", "message": "backup completed",
                                  "completionTime": NOW, "jobName": "backup-db-job",
                                  "file": "/backup/db-1.sql"})),
            snapshot: BackupSnapshot {
                job: Some(job("db-1", State::Complete, &[])),
                job_pods: vec![pod("Completed", None)],
                ..Default::default()
            },
            check: |p| {
                assert!(p.events.is_empty(), "{:?}", events(p));
            },
        },
        Case {
            name: "a Job that ran but has not been recorded yet: the record catches up",
            record: new_record(),
            snapshot: BackupSnapshot {
                job: Some(job("db-1", State::Complete, &[])),
                job_pods: vec![pod("Completed", None)],
                ..Default::default()
            },
            check: |p| {
                assert!(created(p).is_empty(), "never a second Job for one record");
                assert_eq!(phase(p), Some(BackupPhase::Succeeded));
                assert_eq!(
                    p.status.as_ref().unwrap().job_name.as_deref(),
                    Some("backup-db-job")
                );
            },
        },
    ]
}

#[test]
fn backup_plan_table() {
    let renderer = Renderer::embedded();
    for case in cases() {
        let planned = plan(&case.record, &case.snapshot, &renderer, NOW).unwrap();
        let result =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (case.check)(&planned)));
        assert!(result.is_ok(), "case failed: {}", case.name);
    }
}

#[test]
fn a_refused_or_physical_job_goes_with_its_finished_record_and_a_done_one_stays() {
    let mut refused = job("db-1", State::Running, &[]);
    refused.status = None;
    assert!(outlives_its_record(&refused));
    assert!(!outlives_its_record(&job("db-1", State::Complete, &[])));
    assert!(!outlives_its_record(&job("db-1", State::Failed, &[])));
}

// ---- MySQL's physical backups: the clone plugin (only unit-tested: no MySQL here) ----

fn mysql_physical(backup: serde_json::Value) -> MySQL {
    let mut instance = instance(backup);
    instance.spec.image = "mysql:8.4".into();
    instance
}

fn container<'a>(
    containers: Option<&'a Vec<k8s_openapi::api::core::v1::Container>>,
    name: &str,
) -> &'a k8s_openapi::api::core::v1::Container {
    containers
        .into_iter()
        .flatten()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no container {name}"))
}

/// The server clones into the data volume, outside its data directory; our image packs
/// that directory into the pipe it uploads from itself and removes it; no
/// mariadb-backup container runs.
#[test]
fn a_mysql_physical_backup_clones_then_packs_the_clone_into_the_bucket() {
    let snapshot = BackupSnapshot {
        instance: Some(mysql_physical(
            json!({"method": "physical", "storage": {"s3": {
            "endpoint": "http://s3:7070", "bucket": "b", "prefix": "p",
            "credentialsSecret": {"name": "keys"}}}}),
        )),
        ..Default::default()
    };
    let planned = plan(&new_record(), &snapshot, &Renderer::embedded(), NOW).unwrap();
    let key = planned.status.as_ref().unwrap().key.clone().unwrap();
    assert!(key.ends_with(".clone.tar.zst"), "{key}");
    let jobs = created(&planned);
    let pod = pod_spec(jobs[0]);
    assert_eq!(init_names(pod), ["clone", "pipe"]);
    let names: Vec<&str> = pod.containers.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["upload"], "no mariadb-backup beside it");
    let clone = container(pod.init_containers.as_ref(), "clone");
    assert_eq!(clone.image.as_deref(), Some("mysql:8.4"));
    let script = clone.command.as_ref().unwrap()[2].clone();
    assert!(
        script.contains("CLONE LOCAL DATA DIRECTORY = '/kubectl-mysql/data-volume/clones/db-1'"),
        "{script}"
    );
    assert!(script.contains("INSTALL PLUGIN clone SONAME 'mysql_clone.so'"));
    assert!(
        script.contains("#status_in_progress"),
        "an unfinished clone is refused"
    );
    assert!(script.contains("> /work/server.version"));
    let upload = container(Some(&pod.containers), "upload");
    let args = upload.command.as_ref().unwrap();
    for wanted in [
        "--pack-directory=/volume/clones/db-1",
        "--version-file=/work/server.version",
        "--done-mark=/work/dump.done",
    ] {
        assert!(args.contains(&wanted.to_string()), "{wanted} in {args:?}");
    }
    let mounts: Vec<(&str, &str)> = upload
        .volume_mounts
        .iter()
        .flatten()
        .map(|m| (m.name.as_str(), m.mount_path.as_str()))
        .collect();
    assert!(mounts.contains(&("data", "/volume")), "{mounts:?}");
    // On a hostPath volume the clone is the server's user's: read and removed as root
    // with only DAC_OVERRIDE.
    let security = upload.security_context.as_ref().unwrap();
    assert_eq!(security.run_as_user, Some(0));
    let capabilities = security.capabilities.as_ref().unwrap();
    assert_eq!(
        capabilities.add.as_deref(),
        Some(&["DAC_OVERRIDE".to_string()][..])
    );
    assert_eq!(capabilities.drop.as_deref(), Some(&["ALL".to_string()][..]));
}

#[test]
fn a_mysql_physical_backup_to_the_volume_stores_the_packed_clone_there() {
    let snapshot = BackupSnapshot {
        instance: Some(mysql_physical(json!({"method": "physical"}))),
        ..Default::default()
    };
    let planned = plan(&new_record(), &snapshot, &Renderer::embedded(), NOW).unwrap();
    let pod = pod_spec(created(&planned)[0]);
    let store = container(Some(&pod.containers), "store");
    let args = store.command.as_ref().unwrap().join(" ");
    assert!(args.contains("--to /backup/db-1.clone.tar.zst"), "{args}");
    assert!(
        args.contains("--pack-directory=/volume/clones/db-1"),
        "{args}"
    );
    let security = store.security_context.as_ref().unwrap();
    assert_eq!(security.run_as_user, Some(0));
}

#[test]
fn a_mariadb_physical_backup_is_unchanged_by_the_clone() {
    let planned = plan(
        &new_record(),
        &BackupSnapshot {
            instance: Some(physical_on_volume()),
            ..Default::default()
        },
        &Renderer::embedded(),
        NOW,
    )
    .unwrap();
    let pod = pod_spec(created(&planned)[0]);
    assert_eq!(init_names(pod), ["pipe"]);
    let store = container(Some(&pod.containers), "store");
    assert!(
        !store
            .command
            .as_ref()
            .unwrap()
            .join(" ")
            .contains("--pack-directory")
    );
    container(Some(&pod.containers), "dump");
}
