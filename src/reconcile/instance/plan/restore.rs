//! Restores: on create from a record, from dumps found on the volume, or on request.

use kube::ResourceExt;

use crate::Result;
use crate::api::keys::{RESTORE_TOKEN_ANNOTATION, annotation, stamp_annotation};
use crate::api::{ConditionType, JobState, MySQL, MySQLBackup, Reason, newest_succeeded};
use crate::manifests::{self};
use crate::names::InstanceNames;
use crate::reconcile::instance::snapshot::LiveVolumes;
use crate::reconcile::instance::status::RestoreState;

use super::{Inputs, Kind, Plan, Write, is_owned_by, set_owner};

/// The restore this incarnation wants, decided from the instance and its records alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RestoreWanted {
    /// Decided earlier and recorded in the status.
    Decided(RestoreState),
    /// No backup to start from: the instance starts empty.
    Nothing,
    /// Load `backup`; `token` tells this run's Job from any other.
    Run { backup: String, token: String },
}

/// Restores happen once per incarnation on create (from `--restore-from`, or the newest
/// successful backup of an instance with this name that finished before this one was
/// created), and again whenever `kubectl mysql restore` sets a new request.
pub fn wanted_restore(instance: &MySQL, backups: &[MySQLBackup]) -> RestoreWanted {
    if let Some(request) = instance.pending_restore_request() {
        return RestoreWanted::Run {
            backup: request.backup,
            token: request.token,
        };
    }
    if let Some(done) = decided_restore(instance, backups) {
        return RestoreWanted::Decided(done);
    }
    let created = instance.metadata.creation_timestamp.as_ref().map(|t| t.0);
    let chosen = match instance.restore_from() {
        Some(explicit) => Some(explicit.to_string()),
        None => newest_succeeded(backups, created).map(|b| b.name_any()),
    };
    match chosen {
        Some(backup) => RestoreWanted::Run {
            backup,
            token: create_token(instance),
        },
        None => RestoreWanted::Nothing,
    }
}

/// What a restore (or scan) Job for this incarnation's creation is marked with.
fn create_token(instance: &MySQL) -> String {
    format!("create@{}", instance.uid().unwrap_or_default())
}

/// A new instance with no backup record to start from, whose backup volume is older
/// than it: the dumps on it are looked for before the instance starts empty.
pub fn wants_scan(instance: &MySQL, backups: &[MySQLBackup], live: &LiveVolumes) -> bool {
    wanted_restore(instance, backups) == RestoreWanted::Nothing
        && backup_volume_predates(instance, live)
}

fn backup_volume_predates(instance: &MySQL, live: &LiveVolumes) -> bool {
    let Some(created) = instance.metadata.creation_timestamp.as_ref().map(|t| t.0) else {
        return false;
    };
    let older = |meta: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta>| {
        meta.and_then(|m| m.creation_timestamp.as_ref())
            .is_some_and(|t| t.0 < created)
    };
    older(live.backup_pv.as_ref().map(|pv| &pv.metadata))
        || older(live.backup_pvc.as_ref().map(|pvc| &pvc.metadata))
}

fn decided_restore(instance: &MySQL, backups: &[MySQLBackup]) -> Option<RestoreState> {
    let status = instance.status.as_ref()?;
    let condition = instance.condition(ConditionType::Restored)?;
    let backup = status.restored_from.clone().unwrap_or_default();
    let request = status.restore_request.clone();
    match condition.reason()? {
        Reason::NoBackup => Some(RestoreState::NothingToRestore),
        Reason::Restored => Some(RestoreState::Succeeded {
            unverified: is_unverified(backups, &backup),
            backup,
            request,
        }),
        Reason::RestoreFailed => Some(RestoreState::Failed {
            backup,
            message: condition.message.clone(),
            request,
        }),
        _ => None,
    }
}

fn is_unverified(backups: &[MySQLBackup], name: &str) -> bool {
    backups
        .iter()
        .any(|b| b.name_any() == name && b.unverified())
}

impl Inputs<'_> {
    /// Where the wanted restore stands, and the Job writes it needs. The inner Err is
    /// a wait.
    pub(super) fn restore(&self, plan: &mut Plan) -> Result<Result<RestoreState, String>> {
        let (backup, token) = match wanted_restore(self.instance, &self.snapshot.backups) {
            RestoreWanted::Decided(state) => return Ok(Ok(state)),
            RestoreWanted::Nothing => return self.discover(plan),
            RestoreWanted::Run { backup, token } => (backup, token),
        };
        let uid = self.owner.uid.as_str();
        let job_name = self.names().restore_job();
        let request = (!token.starts_with("create@")).then(|| token.clone());
        let state = match &self.snapshot.restore_job {
            Some(job)
                if is_owned_by(job, uid)
                    && annotation(&job.metadata, RESTORE_TOKEN_ANNOTATION)
                        == Some(token.as_str()) =>
            {
                match JobState::of(job) {
                    JobState::Running => RestoreState::Running { backup },
                    JobState::Succeeded => RestoreState::Succeeded {
                        unverified: is_unverified(&self.snapshot.backups, &backup),
                        backup,
                        request,
                    },
                    JobState::Failed(message) => RestoreState::Failed {
                        backup,
                        message,
                        request,
                    },
                }
            }
            // restore-NAME-job holds an earlier run (ours, an earlier incarnation's, or
            // the course operator's); it must go before this one starts.
            Some(other) if JobState::is_running(other) && is_owned_by(other, uid) => {
                return Ok(Err(format!(
                    "the earlier restore Job {job_name} is still running"
                )));
            }
            Some(_) => {
                plan.writes.push(Write::Delete(Kind::Job, job_name.clone()));
                return Ok(Err(format!("removing the earlier Job {job_name}")));
            }
            None => {
                let source = self.snapshot.restore_source.as_ref();
                let source = source.filter(|b| b.name_any() == backup);
                return self
                    .start_restore(plan, backup, token, request, source)
                    .map(Ok);
            }
        };
        Ok(Ok(state))
    }

    fn start_restore(
        &self,
        plan: &mut Plan,
        backup: String,
        token: String,
        request: Option<String>,
        source: Option<&MySQLBackup>,
    ) -> Result<RestoreState> {
        let Some(source) = source.filter(|b| b.succeeded()) else {
            return Ok(RestoreState::Failed {
                message: format!("MySQLBackup {backup} does not exist or has not succeeded"),
                backup,
                request,
            });
        };
        let mut job = match source.object() {
            Some((bucket, key)) => {
                let storage = self.instance.spec.backup_bucket();
                let Some(storage) = storage.filter(|s| s.bucket == bucket) else {
                    return Ok(RestoreState::Failed {
                        message: format!(
                            "MySQLBackup {backup} lies in the bucket {bucket}, which this instance's spec.backup.storage.s3 does not name (its endpoint and credentials are needed to read it)"
                        ),
                        backup,
                        request,
                    });
                };
                manifests::restore_s3_job(self.renderer, self.template_ctx, &backup, storage, key)?
            }
            None => {
                let source_names = InstanceNames::new(
                    source.spec.instance.clone(),
                    self.names().namespace.clone(),
                );
                manifests::restore_job_for(
                    self.renderer,
                    self.template_ctx,
                    &backup,
                    &source_names.backup_pvc(),
                    source.unverified(),
                )?
            }
        };
        stamp_annotation(&mut job.metadata, RESTORE_TOKEN_ANNOTATION, token);
        set_owner(&mut job, self.owner);
        plan.writes.push(Write::CreateJob(job));
        Ok(RestoreState::Running { backup })
    }

    /// No record to restore from: if the backup volume is older than this instance,
    /// a scan Job lists its dumps first; the ones found are recorded and the newest
    /// complete one restored. The inner Err is a wait.
    fn discover(&self, plan: &mut Plan) -> Result<Result<RestoreState, String>> {
        if !backup_volume_predates(self.instance, &self.snapshot.volumes) {
            return Ok(Ok(RestoreState::NothingToRestore));
        }
        let token = create_token(self.instance);
        let job_name = self.names().scan_job();
        let Some(job) = &self.snapshot.scan_job else {
            let mut job = manifests::scan_job(self.renderer, self.template_ctx)?;
            stamp_annotation(&mut job.metadata, RESTORE_TOKEN_ANNOTATION, token);
            set_owner(&mut job, self.owner);
            plan.writes.push(Write::CreateJob(job));
            return Ok(Ok(RestoreState::Discovering));
        };
        if annotation(&job.metadata, RESTORE_TOKEN_ANNOTATION) != Some(token.as_str()) {
            plan.writes.push(Write::Delete(Kind::Job, job_name.clone()));
            return Ok(Err(format!("removing the earlier Job {job_name}")));
        }
        let state = match JobState::of(job) {
            JobState::Running => RestoreState::Discovering,
            JobState::Failed(message) => RestoreState::Failed {
                backup: "found on the backup volume".into(),
                message: format!("could not list the backup volume: {message}"),
                request: None,
            },
            JobState::Succeeded => return self.restore_found(plan, token).map(Ok),
        };
        Ok(Ok(state))
    }

    /// Records every complete dump the scan found that has no record, and restores the
    /// newest one that is older than this instance.
    fn restore_found(&self, plan: &mut Plan, token: String) -> Result<RestoreState> {
        let names = self.names();
        let report = self.snapshot.scan_report.clone().unwrap_or_default();
        let created = self
            .instance
            .metadata
            .creation_timestamp
            .as_ref()
            .map(|t| t.0);
        let found: Vec<MySQLBackup> = report
            .dumps
            .iter()
            .filter_map(|d| d.record(&names.namespace, &names.name))
            .collect();
        for record in &found {
            let known = self
                .snapshot
                .backups
                .iter()
                .any(|b| b.name_any() == record.name_any());
            if !known {
                plan.writes.push(Write::RecordFoundBackup(record.clone()));
            }
        }
        match newest_succeeded(&found, created) {
            Some(newest) => {
                let backup = newest.name_any();
                self.start_restore(plan, backup, token, None, Some(newest))
            }
            None => Ok(RestoreState::NothingToRestore),
        }
    }
}
