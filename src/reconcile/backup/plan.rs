//! Plan for a MySQLBackup record: pure, from the record and what observe read.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::{Resource, ResourceExt};

use crate::api::keys::{BACKUP_ANNOTATION, BUCKET_ANNOTATION, OBJECT_ANNOTATION, annotation};
use crate::api::{BackupMethod, EventReason};
use crate::api::{
    BackupPhase, JobState, MySQL, MySQLBackup, MySQLBackupStatus, failure_message,
    terminated_messages, termination_report,
};
use crate::manifests::{self, DumpSource};
use crate::names::InstanceNames;
use crate::reconcile::Notice;
use crate::reconcile::kube_ops::set_owner;
use crate::reconcile::{Error, Result};
use crate::reconcile::{Next, Why};
use crate::render::{InstanceContext, Renderer};
use crate::s3;

/// What the backup reconcile reads.
#[derive(Clone, Debug, Default)]
pub struct BackupSnapshot {
    /// `backup-NAME-job`, whichever backup it serves.
    pub job: Option<Job>,
    /// The pods of that Job, read once it has finished and serves this backup.
    pub job_pods: Vec<Pod>,
    /// Read only when no Job exists yet.
    pub instance: Option<MySQL>,
    /// Read only when no Job exists yet: a backup waits for a running restore.
    pub restore_job: Option<Job>,
    /// For a backup to a bucket, whether the Secret with its keys exists (a Job whose
    /// pod cannot find it would wait forever rather than fail).
    pub bucket_keys_exist: Option<bool>,
    /// Read only when no Job exists yet: the class the instance's backup claim is
    /// provisioned by (its Jobs are restricted then), none for a hostPath one.
    pub backup_storage_class: Option<String>,
    /// Read only while this backup's Job runs with no pod: why the API server refuses
    /// its pod, if it does.
    pub job_refused: Option<String>,
}

// A plan lives for one reconcile and holds a handful of writes; boxing would only
// add noise.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum BackupWrite {
    CreateJob(Job),
    DeleteJob(String),
}

#[derive(Clone, Debug)]
pub struct BackupPlan {
    pub writes: Vec<BackupWrite>,
    pub events: Vec<Notice>,
    /// The new status; None when it would not change.
    pub status: Option<MySQLBackupStatus>,
    pub next: Next,
}

/// `job` runs this backup (rather than an earlier one).
pub fn serves(job: &Job, backup: &MySQLBackup) -> bool {
    annotation(&job.metadata, BACKUP_ANNOTATION) == Some(backup.name_any().as_str())
}

pub fn plan(
    backup: &MySQLBackup,
    snapshot: &BackupSnapshot,
    renderer: &Renderer,
    now: &str,
) -> Result<BackupPlan> {
    let mut status = backup.status.clone().unwrap_or_default();
    let mut writes = Vec::new();
    let mut events = Vec::new();
    let namespace = backup
        .namespace()
        .ok_or(Error::MissingField("metadata.namespace"))?;
    let names = InstanceNames::new(backup.spec.instance.clone(), namespace);
    let job_name = names.backup_job();
    let next = match &snapshot.job {
        Some(job) if serves(job, backup) => Outcome {
            job,
            pods: &snapshot.job_pods,
            refused: snapshot.job_refused.as_deref(),
            backup_name: &backup.name_any(),
            now,
        }
        .settle(&mut status),
        // backup-NAME-job still holds the previous backup's run.
        Some(other) => {
            status.phase = Some(BackupPhase::Pending);
            status.message = Some(if JobState::is_running(other) {
                format!("waiting for the running Job {job_name} to finish")
            } else {
                writes.push(BackupWrite::DeleteJob(job_name.clone()));
                format!("replacing the finished Job {job_name}")
            });
            Next::wait(format!("Job {job_name} serves another backup"))
        }
        None => {
            let start = Start {
                backup,
                snapshot,
                renderer,
                names: &names,
                now,
            };
            start.decide(&mut status, &mut writes, &mut events)?
        }
    };
    let changed = backup.status.as_ref() != Some(&status);
    if changed && let Some(finished) = finish_notice(backup, &status) {
        events.push(finished);
    }
    Ok(BackupPlan {
        writes,
        events,
        status: changed.then_some(status),
        next,
    })
}

/// A backup with no Job yet: whether one can start, and the Job.
struct Start<'a> {
    backup: &'a MySQLBackup,
    snapshot: &'a BackupSnapshot,
    renderer: &'a Renderer,
    names: &'a InstanceNames,
    now: &'a str,
}

impl Start<'_> {
    fn decide(
        &self,
        status: &mut MySQLBackupStatus,
        writes: &mut Vec<BackupWrite>,
        events: &mut Vec<Notice>,
    ) -> Result<Next> {
        let (names, now) = (self.names, self.now);
        let job_name = names.backup_job();
        Ok(
            match (&self.snapshot.instance, &self.snapshot.restore_job) {
                (None, _) => {
                    status.phase = Some(BackupPhase::Failed);
                    status.message = Some(format!("MySQL instance {} not found", names.name));
                    Next::Done
                }
                (Some(_), Some(restore)) if JobState::is_running(restore) => {
                    status.phase = Some(BackupPhase::Pending);
                    status.message = Some("waiting for the running restore to finish".into());
                    Next::wait("the running restore")
                }
                (Some(instance), _) if self.snapshot.bucket_keys_exist == Some(false) => {
                    let secret = instance
                        .spec
                        .backup_bucket()
                        .map(|s3| s3.credentials_secret.name.clone())
                        .unwrap_or_default();
                    status.phase = Some(BackupPhase::Failed);
                    status.message = Some(format!(
                        "the Secret {secret} named by spec.backup.storage.s3.credentialsSecret does not exist in {}",
                        names.namespace
                    ));
                    status.completion_time = Some(now.to_string());
                    Next::Done
                }
                (Some(instance), _) => {
                    let job = backup_job(
                        self.backup,
                        (instance, self.snapshot.backup_storage_class.clone()),
                        names,
                        self.renderer,
                        now,
                        status,
                    )?;
                    writes.push(BackupWrite::CreateJob(job));
                    status.phase = Some(BackupPhase::Running);
                    status.start_time = Some(now.to_string());
                    status.message = Some(format!(
                        "Job {job_name} is dumping {}",
                        instance.spec.database
                    ));
                    events.push(Notice::normal(
                        EventReason::BackupStarted,
                        format!("Job {job_name} started"),
                    ));
                    status.job_name = Some(job_name.clone());
                    Next::Running(Why::new(format!("Job {job_name}")))
                }
            },
        )
    }
}

/// backup-NAME-job for this record, owned by it. A backup to a bucket goes under a
/// key named after the record's creation time, which `status` records from the start.
fn backup_job(
    backup: &MySQLBackup,
    (instance, backup_storage_class): (&MySQL, Option<String>),
    names: &InstanceNames,
    renderer: &Renderer,
    now: &str,
    status: &mut MySQLBackupStatus,
) -> Result<Job> {
    let mut template_ctx = InstanceContext::new(instance, names);
    template_ctx.backup_storage_class = backup_storage_class;
    let name = backup.name_any();
    let mut job = match instance.spec.backup_bucket() {
        Some(storage) => {
            let taken = backup
                .metadata
                .creation_timestamp
                .as_ref()
                .map(|t| t.0)
                .or_else(|| now.parse().ok())
                .unwrap_or_default();
            let kind = instance.spec.backup_dump_kind();
            let key = s3::dump_key(storage.prefix(), &names.namespace, &names.name, taken, kind);
            let job = match instance.spec.backup_method() {
                BackupMethod::Logical => {
                    manifests::backup_s3_job(renderer, &template_ctx, &name, storage, &key)?
                }
                BackupMethod::Physical => {
                    let place = DumpSource::Bucket {
                        storage,
                        key: &key,
                        replay: None,
                    };
                    manifests::physical_backup_job(renderer, &template_ctx, &name, place)?
                }
            };
            status.bucket = Some(storage.bucket.clone());
            status.key = Some(key);
            status.s3 = Some(storage.clone());
            job
        }
        None => match instance.spec.backup_method() {
            BackupMethod::Logical => manifests::backup_job(renderer, &template_ctx, &name)?,
            BackupMethod::Physical => {
                let path = format!(
                    "/backup/{name}{}",
                    instance.spec.backup_dump_kind().suffix()
                );
                let place = DumpSource::Volume { path: &path };
                manifests::physical_backup_job(renderer, &template_ctx, &name, place)?
            }
        },
    };
    let owner = backup
        .controller_owner_ref(&())
        .ok_or(Error::MissingField("metadata.uid"))?;
    set_owner(&mut job, &owner);
    Ok(job)
}

/// The bucket and key a Job moves its dump to, from its annotation.
fn object_of(job: &Job) -> Option<(String, String)> {
    let object = annotation(&job.metadata, OBJECT_ANNOTATION)?.strip_prefix("s3://")?;
    let (bucket, key) = object.split_once('/')?;
    Some((bucket.to_string(), key.to_string()))
}

/// Whether the Job's pod mounts the server's data claim: a physical backup's does (its
/// templates call that volume `data`, as the server's own pod does).
pub fn holds_data_claim(job: &Job) -> bool {
    job.spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .and_then(|pod| pod.volumes.as_ref())
        .is_some_and(|volumes| {
            volumes
                .iter()
                .any(|v| v.name == "data" && v.persistent_volume_claim.is_some())
        })
}

/// A Job that goes once its record is finished: a physical backup's (its pod holds the
/// data claim, which would keep it from going with its instance), and one still
/// running (its pod refused: its controller would go on asking for one for ever, and
/// hold the Job's name from the next backup).
pub fn outlives_its_record(job: &Job) -> bool {
    holds_data_claim(job) || JobState::is_running(job)
}

/// The backup's own Job and what its pods reported.
struct Outcome<'a> {
    job: &'a Job,
    pods: &'a [Pod],
    /// Why the API server refuses the Job's pod, when it does.
    refused: Option<&'a str>,
    backup_name: &'a str,
    now: &'a str,
}

impl Outcome<'_> {
    /// The status of this backup's own Job, and what comes next: one that must not
    /// outlive its finished record goes at the next look.
    fn settle(&self, status: &mut MySQLBackupStatus) -> Next {
        let job = self.job;
        let job_name = job.name_any();
        status.job_name = Some(job_name.clone());
        if let Some((bucket, key)) = object_of(job) {
            status.bucket = Some(bucket);
            status.key = Some(key);
            status.s3 = annotation(&job.metadata, BUCKET_ANNOTATION)
                .and_then(|json| serde_json::from_str(json).ok());
        }
        let next = self.record(status);
        let finished = status.phase.is_some_and(BackupPhase::is_finished);
        if finished && outlives_its_record(job) {
            // Once this outcome is recorded, the next look removes the Job (a
            // finished record's reconcile): removed now, a reconcile of the record as
            // the cache still has it (running, no Job) would start it again.
            Next::wait(format!("removing Job {job_name}"))
        } else {
            next
        }
    }

    /// Records what the Job came to.
    fn record(&self, status: &mut MySQLBackupStatus) -> Next {
        match JobState::of(self.job) {
            JobState::Running => match self.refused {
                Some(refused) => {
                    status.phase = Some(BackupPhase::Failed);
                    status.message = Some(refused.to_string());
                }
                None => {
                    status.phase = Some(BackupPhase::Running);
                    let job = self.job.name_any();
                    // Until its pod exists, a refusal is looked for in seconds, not a
                    // minute: its Event is the only news there would be.
                    return if JobState::has_made_pods(self.job) {
                        Next::Running(Why::new(format!("Job {job}")))
                    } else {
                        Next::wait(format!("Job {job} to make its pod"))
                    };
                }
            },
            JobState::Succeeded => {
                let report: TerminationReport = termination_report(self.pods).unwrap_or_default();
                status.phase = Some(BackupPhase::Succeeded);
                if status.key.is_none() {
                    status.file = Some(report.file.unwrap_or_else(|| {
                        format!("/backup/{}", manifests::dump_file_name(self.backup_name))
                    }));
                }
                status.size_bytes = report.size_bytes;
                status.binlog_position = report.binlog_position;
                status.server_version = report.server_version;
                status.sha256 = report.sha256;
                status.message = Some("backup completed".into());
            }
            JobState::Failed(message) => {
                status.phase = Some(BackupPhase::Failed);
                status.message = Some(match failure_message(self.pods) {
                    Some(line) => line,
                    None => match pod_failure(self.pods) {
                        Some(reason) => format!("{message}: {reason}"),
                        None => message,
                    },
                });
            }
        }
        status.completion_time = Some(self.now.to_string());
        Next::Done
    }
}

/// The Event of a backup that finishes with this status.
fn finish_notice(backup: &MySQLBackup, status: &MySQLBackupStatus) -> Option<Notice> {
    let finished_now = status.phase.is_some_and(BackupPhase::is_finished)
        && !backup.phase().is_some_and(BackupPhase::is_finished);
    if !finished_now {
        return None;
    }
    let message = status.message.clone().unwrap_or_default();
    Some(match status.phase {
        Some(BackupPhase::Succeeded) => Notice::normal(EventReason::BackupSucceeded, message),
        _ => Notice::warning(EventReason::BackupFailed, message),
    })
}

/// What the backup script wrote to its termination log (absent on a simulated node).
#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct TerminationReport {
    file: Option<String>,
    size_bytes: Option<i64>,
    sha256: Option<String>,
    binlog_position: Option<crate::binlog::DumpPosition>,
    server_version: Option<String>,
}

fn pod_failure(pods: &[Pod]) -> Option<String> {
    terminated_messages(pods)
        .find(|(reason, _)| reason != "Completed")
        .map(|(reason, message)| match message {
            Some(m) => format!("{reason}: {m}"),
            None => reason,
        })
}
