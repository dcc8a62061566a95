//! Verifying a backup: its dump loaded into a throwaway server (verify-NAME-job, one
//! per instance at a time), and the tables and rows it held recorded on the backup's
//! status. Asked for by a new value of the record's verify annotation (`kubectl mysql
//! backup verify`, or spec.backup.verify for scheduled backups).

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use kube::runtime::controller::Action;
use kube::{Resource, ResourceExt};

use super::plan::{BackupPlan, BackupWrite};
use super::{Context, apply, read_instance};
use crate::api::EventReason;
use crate::api::S3Storage;
use crate::api::keys::{BACKUP_ANNOTATION, VERIFY_ANNOTATION, annotation};
use crate::api::{
    JobState, MySQL, MySQLBackup, Verification, VerificationResult, failure_message,
    terminated_messages,
};
use crate::manifests::{self, BinlogReplay, DumpSource};
use crate::names::InstanceNames;
use crate::reconcile::Notice;
use crate::reconcile::kube_ops::job_pods;
use crate::reconcile::kube_ops::set_owner;
use crate::reconcile::{Error, Result};
use crate::reconcile::{Next, Why, now_rfc3339};
use crate::render::{InstanceContext, Renderer};

/// What a verification reads.
#[derive(Clone, Debug, Default)]
pub struct VerifySnapshot {
    /// verify-NAME-job, whichever backup it serves.
    pub job: Option<Job>,
    /// Its pods, once it has finished and serves this request.
    pub pods: Vec<Pod>,
    /// Read only when no Job exists yet: its image runs the throwaway server.
    pub instance: Option<MySQL>,
    /// With the instance: the class its backup claim is provisioned by.
    pub backup_storage_class: Option<String>,
}

pub async fn reconcile(backup: &MySQLBackup, request: &str, ctx: &Context) -> Result<Action> {
    let snapshot = observe(backup, request, ctx).await?;
    let plan = plan(backup, request, &snapshot, &ctx.renderer, &now_rfc3339())?;
    apply(backup, &plan, ctx).await?;
    Ok(plan.next.action(&crate::reconcile::object_key(backup)))
}

async fn observe(backup: &MySQLBackup, request: &str, ctx: &Context) -> Result<VerifySnapshot> {
    let names = names_of(backup)?;
    let job_name = names.verify_job();
    let jobs: Api<Job> = Api::namespaced(ctx.client.clone(), &names.namespace);
    let job = jobs
        .get_opt(&job_name)
        .await
        .map_err(Error::observe(format!(
            "Job {}/{job_name}",
            names.namespace
        )))?;
    let mut snapshot = VerifySnapshot::default();
    match &job {
        Some(job) if serves(job, backup, request) && !JobState::is_running(job) => {
            snapshot.pods = job_pods(&ctx.client, &names.namespace, &job_name)
                .await
                .map_err(Error::observe(format!("the pods of Job {job_name}")))?;
        }
        Some(_) => {}
        None => {
            snapshot.instance = read_instance(ctx, &names).await?;
            snapshot.backup_storage_class = snapshot
                .instance
                .as_ref()
                .and_then(|i| super::cached_backup_storage_class(ctx, i, &names));
        }
    }
    snapshot.job = job;
    Ok(snapshot)
}

fn names_of(backup: &MySQLBackup) -> Result<InstanceNames> {
    let namespace = backup
        .namespace()
        .ok_or(Error::MissingField("metadata.namespace"))?;
    Ok(InstanceNames::new(backup.spec.instance.clone(), namespace))
}

/// `job` runs this request for this backup.
fn serves(job: &Job, backup: &MySQLBackup, request: &str) -> bool {
    annotation(&job.metadata, BACKUP_ANNOTATION) == Some(backup.name_any().as_str())
        && annotation(&job.metadata, VERIFY_ANNOTATION) == Some(request)
}

pub fn plan(
    backup: &MySQLBackup,
    request: &str,
    snapshot: &VerifySnapshot,
    renderer: &Renderer,
    now: &str,
) -> Result<BackupPlan> {
    let names = names_of(backup)?;
    let job_name = names.verify_job();
    let mut writes = Vec::new();
    let mut verification = Verification {
        request: request.to_string(),
        job_name: Some(job_name.clone()),
        ..Default::default()
    };
    let next = match &snapshot.job {
        Some(job) if serves(job, backup, request) => {
            let (outcome, next) = outcome(job, &snapshot.pods, request);
            verification = Verification {
                job_name: Some(job_name.clone()),
                ..outcome
            };
            next
        }
        Some(other) => {
            verification.message = Some(if JobState::is_running(other) {
                format!("waiting for the running Job {job_name} to finish")
            } else {
                writes.push(BackupWrite::DeleteJob(job_name.clone()));
                format!("replacing the finished Job {job_name}")
            });
            Next::wait(format!("Job {job_name} serves another request"))
        }
        None => match start(backup, request, snapshot, renderer, &names)? {
            Ok(job) => {
                writes.push(BackupWrite::CreateJob(job));
                Next::Running(Why::new(format!("Job {job_name}")))
            }
            Err(why) => {
                verification = Verification::failed(request, why);
                Next::Done
            }
        },
    };
    if verification.result != VerificationResult::Running {
        verification.completion_time = Some(now.to_string());
    }
    let mut status = backup.status.clone().unwrap_or_default();
    let before = status.verification.replace(verification.clone());
    let changed = before.as_ref() != Some(&verification);
    let events = match verification.result {
        VerificationResult::Running => Vec::new(),
        VerificationResult::Passed => vec![Notice::normal(
            EventReason::Verified,
            format!("the dump loads: {}", verification.summary()),
        )],
        VerificationResult::Failed => vec![Notice::warning(
            EventReason::VerificationFailed,
            verification.summary(),
        )],
    };
    Ok(BackupPlan {
        writes,
        events: if changed { events } else { Vec::new() },
        status: changed.then_some(status),
        next,
    })
}

/// What this request's Job came to: still running, the report, or why it failed.
fn outcome(job: &Job, pods: &[Pod], request: &str) -> (Verification, Next) {
    match JobState::of(job) {
        JobState::Running => (
            Verification {
                request: request.to_string(),
                ..Default::default()
            },
            Next::Running(Why::new(format!("Job {}", job.name_any()))),
        ),
        JobState::Succeeded => {
            let report = terminated_messages(pods)
                .filter_map(|(_, message)| message)
                .find(|m| m.starts_with("verified"))
                .unwrap_or_default();
            (Verification::from_report(request, &report), Next::Done)
        }
        JobState::Failed(message) => {
            let message = failure_message(pods).unwrap_or(message);
            (Verification::failed(request, message), Next::Done)
        }
    }
}

/// The Job that verifies this backup, or why there can be none.
fn start(
    backup: &MySQLBackup,
    request: &str,
    snapshot: &VerifySnapshot,
    renderer: &Renderer,
    names: &InstanceNames,
) -> Result<std::result::Result<Job, String>> {
    let Some(instance) = &snapshot.instance else {
        return Ok(Err(format!(
            "MySQL instance {} not found: the throwaway server runs its image",
            names.name
        )));
    };
    let status = backup.status.clone().unwrap_or_default();
    let source = match (&status.s3, &status.key, &status.file) {
        (Some(storage), Some(key), _) => DumpSource::Bucket {
            storage,
            key,
            replay: chain_to_verify(backup, instance, storage, names),
        },
        (_, _, Some(path)) => DumpSource::Volume { path },
        _ => return Ok(Err("the backup names no dump".into())),
    };
    let mut ctx = InstanceContext::new(instance, names);
    ctx.backup_storage_class = snapshot.backup_storage_class.clone();
    let mut job = manifests::verify_job(renderer, &ctx, &backup.name_any(), request, source)?;
    let owner = backup
        .controller_owner_ref(&())
        .ok_or(Error::MissingField("metadata.uid"))?;
    set_owner(&mut job, &owner);
    Ok(Ok(job))
}

/// With point-in-time recovery on, a dump of this incarnation is verified with its
/// archived binary logs replayed on top, up to the window's end: a chain that does not
/// replay fails the verification.
fn chain_to_verify<'a>(
    backup: &'a MySQLBackup,
    instance: &MySQL,
    storage: &S3Storage,
    names: &InstanceNames,
) -> Option<BinlogReplay<'a>> {
    instance.spec.point_in_time()?;
    let position = backup.status.as_ref()?.binlog_position.as_ref()?;
    let until: jiff::Timestamp = instance
        .status
        .as_ref()?
        .recoverable_until
        .as_deref()?
        .parse()
        .ok()?;
    let incarnation = crate::names::incarnation(instance.metadata.uid.as_deref()?);
    let reaches = backup.completion_time().is_some_and(|done| until >= done);
    (position.timeline == incarnation && reaches).then(|| BinlogReplay {
        instance_prefix: crate::s3::instance_prefix(
            storage.prefix(),
            &names.namespace,
            &backup.spec.instance,
        ),
        position,
        target: crate::binlog::ReplayTarget::Time(until),
        dialect: crate::dialect::Dialect::of_image(&instance.spec.image),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::keys::VERIFY_ANNOTATION;

    const NOW: &str = "2026-12-03T12:00:00Z";

    fn backup(status: serde_json::Value) -> MySQLBackup {
        serde_json::from_value(json!({
            "apiVersion": "otus.homework/v1", "kind": "MySQLBackup",
            "metadata": {"name": "db-1", "namespace": "ns", "uid": "u1",
                         "annotations": {VERIFY_ANNOTATION: "r1"}},
            "spec": {"instance": "db"},
            "status": status,
        }))
        .unwrap()
    }

    fn in_bucket() -> MySQLBackup {
        backup(json!({
            "phase": "Succeeded", "bucket": "b", "key": "p/ns/db/20261203-120000.sql.gz",
            "s3": {"endpoint": "http://s3:7070", "bucket": "b", "forcePathStyle": true,
                   "credentialsSecret": {"name": "keys"}},
        }))
    }

    fn instance() -> MySQL {
        serde_json::from_value(json!({
            "apiVersion": "otus.homework/v1", "kind": "MySQL",
            "metadata": {"name": "db", "namespace": "ns", "uid": "i1"},
            "spec": {"image": "mariadb:11", "database": "shop", "password": "x",
                     "storage_size": "1Gi"},
        }))
        .unwrap()
    }

    /// verify-db-job as it ended: its annotations, its state, and its pod's message.
    fn ended(request: &str, condition: &str, message: &str) -> VerifySnapshot {
        let job: Job = serde_json::from_value(json!({
            "metadata": {"name": "verify-db-job", "annotations": {
                BACKUP_ANNOTATION: "db-1", VERIFY_ANNOTATION: request}},
            "status": {"conditions": [{"type": condition, "status": "True"}]},
        }))
        .unwrap();
        let reason = if condition == "Complete" {
            "Completed"
        } else {
            "Error"
        };
        let pod: Pod = serde_json::from_value(json!({
            "status": {"containerStatuses": [{"name": "verify", "image": "", "imageID": "",
                "ready": false, "restartCount": 0,
                "state": {"terminated": {"exitCode": 0, "reason": reason, "message": message}}}]},
        }))
        .unwrap();
        VerifySnapshot {
            job: Some(job),
            pods: vec![pod],
            instance: None,
            backup_storage_class: None,
        }
    }

    fn verification(plan: &BackupPlan) -> Verification {
        plan.status.clone().unwrap().verification.unwrap()
    }

    #[test]
    fn a_backup_in_a_bucket_is_downloaded_then_loaded_by_the_instances_image() {
        let snapshot = VerifySnapshot {
            instance: Some(instance()),
            ..Default::default()
        };
        let plan = plan(&in_bucket(), "r1", &snapshot, &Renderer::embedded(), NOW).unwrap();
        let [BackupWrite::CreateJob(job)] = plan.writes.as_slice() else {
            panic!("expected the Job: {:?}", plan.writes);
        };
        assert_eq!(job.name_any(), "verify-db-job");
        assert_eq!(annotation(&job.metadata, VERIFY_ANNOTATION), Some("r1"));
        let pod = job.spec.clone().unwrap().template.spec.unwrap();
        let download = &pod.init_containers.unwrap()[0];
        let args = download.command.clone().unwrap().join(" ");
        assert!(
            args.contains("download --key p/ns/db/20261203-120000.sql.gz"),
            "{args}"
        );
        assert_eq!(pod.containers[0].image.as_deref(), Some("mariadb:11"));
        let env = serde_json::to_string(&pod.containers[0].env).unwrap();
        assert!(
            env.contains("/work/dump.sql") && env.contains("shop"),
            "{env}"
        );
        assert_eq!(verification(&plan).result, VerificationResult::Running);
        assert!(plan.events.is_empty());
    }

    #[test]
    fn a_physical_copy_is_verified_as_it_restores() {
        let physical = backup(json!({
            "phase": "Succeeded", "bucket": "b", "key": "p/ns/db/20261203-120000.xbstream.zst",
            "serverVersion": "11.4.2-MariaDB",
            "s3": {"endpoint": "http://s3:7070", "bucket": "b", "forcePathStyle": true,
                   "credentialsSecret": {"name": "keys"}},
        }));
        let snapshot = VerifySnapshot {
            instance: Some(instance()),
            ..Default::default()
        };
        let plan = plan(&physical, "r1", &snapshot, &Renderer::embedded(), NOW).unwrap();
        let [BackupWrite::CreateJob(job)] = plan.writes.as_slice() else {
            panic!("expected the Job: {:?}", plan.writes);
        };
        let pod = job.spec.clone().unwrap().template.spec.unwrap();
        let download = pod.init_containers.unwrap()[0]
            .command
            .clone()
            .unwrap()
            .join(" ");
        assert!(download.contains("--to=/work/copy.xbstream"), "{download}");
        let script = pod.containers[0].command.clone().unwrap().join(" ");
        for step in [
            "mbstream -x",
            "mariadb-backup --prepare",
            "--skip-grant-tables --skip-networking",
            "echo verified",
        ] {
            assert!(script.contains(step), "{step}: {script}");
        }
        assert_eq!(pod.containers[0].image.as_deref(), Some("mariadb:11"));
        assert_eq!(verification(&plan).result, VerificationResult::Running);
    }

    /// A MySQL clone (only unit-tested): downloaded as stored, unpacked by our image,
    /// started by the image's mysqld (it recovers the clone as it starts) and counted
    /// with its mysql client; no mariadb-backup.
    #[test]
    fn a_mysql_clone_is_verified_as_it_restores() {
        let clone = backup(json!({
            "phase": "Succeeded", "bucket": "b", "key": "p/ns/db/20261203-120000.clone.tar.zst",
            "serverVersion": "8.4.3",
            "s3": {"endpoint": "http://s3:7070", "bucket": "b", "forcePathStyle": true,
                   "credentialsSecret": {"name": "keys"}},
        }));
        let mut mysql = instance();
        mysql.spec.image = "mysql:8.4".into();
        let snapshot = VerifySnapshot {
            instance: Some(mysql),
            ..Default::default()
        };
        let plan = plan(&clone, "r1", &snapshot, &Renderer::embedded(), NOW).unwrap();
        let [BackupWrite::CreateJob(job)] = plan.writes.as_slice() else {
            panic!("expected the Job: {:?}", plan.writes);
        };
        let pod = job.spec.clone().unwrap().template.spec.unwrap();
        let inits = pod.init_containers.unwrap();
        let names: Vec<&str> = inits.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["download", "unpack"]);
        let download = inits[0].command.clone().unwrap().join(" ");
        assert!(
            download.contains("--to=/work/copy.compressed --compressed"),
            "{download}"
        );
        let unpack = inits[1].command.clone().unwrap().join(" ");
        assert!(
            unpack.ends_with("unpack-copy --from=/work/copy.compressed --to=/work/copy"),
            "{unpack}"
        );
        let script = pod.containers[0].command.clone().unwrap().join(" ");
        for step in [
            "kubectl-mysql-server-version",
            "mysqld $as_mysql --datadir=\"$staging\" --skip-grant-tables --skip-networking",
            "mysqladmin --socket",
            "mysql --socket=\"$socket\" --user=root",
            "echo verified",
        ] {
            assert!(script.contains(step), "{step}: {script}");
        }
        for absent in ["mbstream", "mariadb-backup", "mariadbd"] {
            assert!(!script.contains(absent), "{absent}: {script}");
        }
    }

    #[test]
    fn the_report_becomes_tables_and_rows() {
        let snapshot = ended("r1", "Complete", "verified\norders 1500\nusers 20\n");
        let plan = plan(&in_bucket(), "r1", &snapshot, &Renderer::embedded(), NOW).unwrap();
        let v = verification(&plan);
        assert_eq!(v.result, VerificationResult::Passed);
        assert_eq!(v.tables.len(), 2);
        assert_eq!(
            (v.tables[0].name.as_str(), v.tables[0].rows),
            ("orders", 1500)
        );
        assert_eq!(v.summary(), "2 tables, 1520 rows");
        assert_eq!(plan.events[0].reason, EventReason::Verified);
        assert!(plan.writes.is_empty());
    }

    #[test]
    fn with_point_in_time_recovery_the_chain_is_replayed_and_reported() {
        let mut instance = instance();
        instance.spec.backup = Some(
            serde_json::from_value(json!({
                "storage": {"s3": {"bucket": "b", "credentialsSecret": {"name": "keys"}}},
                "pointInTime": {"enabled": true}
            }))
            .unwrap(),
        );
        instance.status = Some(
            serde_json::from_value(json!({"recoverableUntil": "2026-12-03T12:30:00Z"})).unwrap(),
        );
        let mut positioned = in_bucket();
        let status = positioned.status.as_mut().unwrap();
        status.completion_time = Some("2026-12-03T12:00:00Z".into());
        status.binlog_position = Some(
            serde_json::from_value(
                json!({"timeline": "i1", "file": "mysql-bin.000003", "position": 385}),
            )
            .unwrap(),
        );
        let snapshot = VerifySnapshot {
            instance: Some(instance),
            ..Default::default()
        };
        let started = plan(&positioned, "r1", &snapshot, &Renderer::embedded(), NOW).unwrap();
        let [BackupWrite::CreateJob(job)] = started.writes.as_slice() else {
            panic!("expected the Job: {:?}", started.writes);
        };
        let pod = job.spec.clone().unwrap().template.spec.unwrap();
        let fetch = &pod.init_containers.as_ref().unwrap()[1];
        let args = fetch.command.as_ref().unwrap();
        assert!(
            args.iter().any(|a| a == "--until=2026-12-03T12:30:00Z"),
            "{args:?}"
        );
        assert!(
            args.iter().any(|a| a == "--from-file=mysql-bin.000003"),
            "{args:?}"
        );
        let script = &pod.containers[0].command.as_ref().unwrap()[2];
        assert!(script.contains("--start-position=385"), "{script}");
        // Its report says how far the chain replayed.
        let done = ended(
            "r1",
            "Complete",
            "verified\nreplayed 2026-12-03T12:30:00Z\nticks 7\n",
        );
        let answered = plan(&positioned, "r1", &done, &Renderer::embedded(), NOW).unwrap();
        let v = verification(&answered);
        assert_eq!(v.replayed_until.as_deref(), Some("2026-12-03T12:30:00Z"));
        assert_eq!(v.tables.len(), 1);
        assert!(
            v.summary().contains("replayed up to 2026-12-03T12:30:00Z"),
            "{}",
            v.summary()
        );
    }

    #[test]
    fn a_job_that_succeeds_without_its_report_proves_nothing() {
        let snapshot = ended("r1", "Complete", "");
        let plan = plan(&in_bucket(), "r1", &snapshot, &Renderer::embedded(), NOW).unwrap();
        let v = verification(&plan);
        assert_eq!(v.result, VerificationResult::Failed);
        assert!(
            v.summary().contains("without its report"),
            "{}",
            v.summary()
        );
    }

    #[test]
    fn a_dump_that_does_not_load_fails_with_the_servers_line() {
        let line = "verify: the dump does not load: ERROR 1064 (42000) at line 40";
        let snapshot = ended("r1", "Failed", line);
        let plan = plan(&in_bucket(), "r1", &snapshot, &Renderer::embedded(), NOW).unwrap();
        let v = verification(&plan);
        assert_eq!(v.result, VerificationResult::Failed);
        assert_eq!(v.message.as_deref(), Some(line));
        assert_eq!(plan.events[0].reason, EventReason::VerificationFailed);
    }

    #[test]
    fn an_earlier_requests_job_is_replaced_and_an_answer_is_not_asked_again() {
        let snapshot = ended("r0", "Complete", "verified\n");
        let plan = plan(&in_bucket(), "r1", &snapshot, &Renderer::embedded(), NOW).unwrap();
        assert!(
            matches!(plan.writes.as_slice(), [BackupWrite::DeleteJob(name)] if name == "verify-db-job")
        );
        let mut answered = in_bucket();
        assert_eq!(answered.verification_requested(), Some("r1"));
        answered.status.as_mut().unwrap().verification =
            Some(Verification::failed("r1", "no".into()));
        assert_eq!(answered.verification_requested(), None);
        answered.ask_for_verification("r2");
        assert_eq!(answered.verification_requested(), Some("r2"));
    }

    #[test]
    fn without_the_instance_there_is_no_image_to_verify_with() {
        let plan = plan(
            &in_bucket(),
            "r1",
            &VerifySnapshot::default(),
            &Renderer::embedded(),
            NOW,
        )
        .unwrap();
        assert!(plan.writes.is_empty());
        let v = verification(&plan);
        assert_eq!(v.result, VerificationResult::Failed);
        assert!(v.summary().contains("not found"), "{}", v.summary());
    }
}
