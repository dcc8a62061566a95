//! Reconciling MySQLBackup records: one backup Job per instance at a time, named
//! backup-NAME-job as in the course, owned by the record (not by the instance) so it
//! stays visible after the instance is gone.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::{Resource, ResourceExt};
use serde_json::json;

use super::kube_ops::{
    JobState, annotation, create_if_absent, delete_if_present, job_state, set_owner,
};
use super::{Context, MANAGER, now_rfc3339};
use crate::api::{BackupPhase, MySQL, MySQLBackup, MySQLBackupStatus};
use crate::manifests;
use crate::names::{BACKUP_ANNOTATION, InstanceNames};
use crate::render::InstanceContext;
use crate::{Error, Result};

pub async fn reconcile(backup: Arc<MySQLBackup>, ctx: Arc<Context>) -> Result<Action> {
    let key = super::object_key(backup.as_ref());
    let result = reconcile_backup(&backup, &ctx).await;
    if result.is_ok() {
        ctx.succeeded(&key);
    }
    result
}

pub fn error_policy(backup: Arc<MySQLBackup>, error: &Error, ctx: Arc<Context>) -> Action {
    super::error_policy_for(&super::object_key(backup.as_ref()), error, &ctx)
}

async fn reconcile_backup(backup: &MySQLBackup, ctx: &Context) -> Result<Action> {
    if backup.phase().is_some_and(BackupPhase::is_finished) {
        return Ok(Action::await_change());
    }
    let namespace = backup
        .namespace()
        .ok_or(Error::MissingField("metadata.namespace"))?;
    let names = InstanceNames::new(backup.spec.instance.clone(), namespace.clone());
    let jobs: Api<Job> = Api::namespaced(ctx.client.clone(), &namespace);
    let instances: Api<MySQL> = Api::namespaced(ctx.client.clone(), &namespace);
    let mut status = backup.status.clone().unwrap_or_default();
    let name = backup.name_any();
    let job_name = names.backup_job();

    let next =
        match jobs.get_opt(&job_name).await? {
            Some(job) if annotation(&job, BACKUP_ANNOTATION) == Some(name.as_str()) => {
                status.job_name = Some(job_name.clone());
                match job_state(&job) {
                    JobState::Running => {
                        status.phase = Some(BackupPhase::Running);
                        Action::requeue(Duration::from_secs(60))
                    }
                    JobState::Succeeded => {
                        let report = termination_report(ctx, &namespace, &job_name).await;
                        status.phase = Some(BackupPhase::Succeeded);
                        status.completion_time = Some(now_rfc3339());
                        status.file =
                            Some(report.as_ref().and_then(|r| r.file.clone()).unwrap_or_else(
                                || format!("/backup/{}", manifests::dump_file_name(&name)),
                            ));
                        status.size_bytes = report.as_ref().and_then(|r| r.size_bytes);
                        status.sha256 = report.and_then(|r| r.sha256);
                        status.message = Some("backup completed".into());
                        Action::await_change()
                    }
                    JobState::Failed(message) => {
                        let detail = pod_failure(ctx, &namespace, &job_name).await;
                        status.phase = Some(BackupPhase::Failed);
                        status.completion_time = Some(now_rfc3339());
                        status.message = Some(match detail {
                            Some(detail) => format!("{message}: {detail}"),
                            None => message,
                        });
                        Action::await_change()
                    }
                }
            }
            Some(other) => {
                // backup-NAME-job still holds the previous backup's run.
                if job_state(&other) == JobState::Running {
                    status.phase = Some(BackupPhase::Pending);
                    status.message =
                        Some(format!("waiting for the running Job {job_name} to finish"));
                } else {
                    delete_if_present(&jobs, &job_name).await?;
                    status.phase = Some(BackupPhase::Pending);
                    status.message = Some(format!("replacing the finished Job {job_name}"));
                }
                write_status(backup, ctx, &status).await?;
                return Err(Error::Waiting(format!("Job {job_name} is busy")));
            }
            None => {
                let Some(instance) = instances.get_opt(&names.name).await? else {
                    status.phase = Some(BackupPhase::Failed);
                    status.message = Some(format!("MySQL instance {} not found", names.name));
                    write_status(backup, ctx, &status).await?;
                    return Ok(Action::await_change());
                };
                if let Some(restore) = jobs.get_opt(&names.restore_job()).await?
                    && job_state(&restore) == JobState::Running
                {
                    status.phase = Some(BackupPhase::Pending);
                    status.message = Some("waiting for the running restore to finish".into());
                    write_status(backup, ctx, &status).await?;
                    return Err(Error::Waiting("a restore is running".into()));
                }
                let template_ctx = InstanceContext::new(&instance, &names);
                let mut job = manifests::backup_job(&ctx.renderer, &template_ctx, &name)?;
                let owner = backup
                    .controller_owner_ref(&())
                    .ok_or(Error::MissingField("metadata.uid"))?;
                set_owner(&mut job, &owner);
                create_if_absent(&jobs, &job).await?;
                status.phase = Some(BackupPhase::Running);
                status.job_name = Some(job_name.clone());
                status.start_time = Some(now_rfc3339());
                status.message = Some(format!(
                    "Job {job_name} is dumping {}",
                    instance.spec.database
                ));
                ctx.publish(
                    &backup.object_ref(&()),
                    EventType::Normal,
                    "BackupStarted",
                    format!("Job {job_name} started"),
                )
                .await;
                Action::requeue(Duration::from_secs(60))
            }
        };
    write_status(backup, ctx, &status).await?;
    Ok(next)
}

async fn write_status(
    backup: &MySQLBackup,
    ctx: &Context,
    status: &MySQLBackupStatus,
) -> Result<()> {
    if backup.status.as_ref() == Some(status) {
        return Ok(());
    }
    let api: Api<MySQLBackup> =
        Api::namespaced(ctx.client.clone(), &backup.namespace().unwrap_or_default());
    // Events before the status, as for instances: a kill in between repeats the Event
    // rather than losing it.
    let finished_now = status.phase.is_some_and(BackupPhase::is_finished)
        && !backup.phase().is_some_and(BackupPhase::is_finished);
    if finished_now {
        let (type_, reason) = match status.phase {
            Some(BackupPhase::Succeeded) => (EventType::Normal, "BackupSucceeded"),
            _ => (EventType::Warning, "BackupFailed"),
        };
        ctx.publish(
            &backup.object_ref(&()),
            type_,
            reason,
            status.message.clone().unwrap_or_default(),
        )
        .await;
    }
    let patch = json!({
        "apiVersion": MySQLBackup::api_version(&()),
        "kind": MySQLBackup::kind(&()),
        "status": status,
    });
    api.patch_status(
        &backup.name_any(),
        &PatchParams::apply(MANAGER).force(),
        &Patch::Apply(&patch),
    )
    .await?;
    Ok(())
}

/// What the backup script wrote to its termination log (absent on a simulated node).
#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct TerminationReport {
    file: Option<String>,
    size_bytes: Option<i64>,
    sha256: Option<String>,
}

async fn job_pods(ctx: &Context, namespace: &str, job_name: &str) -> Vec<Pod> {
    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), namespace);
    pods.list(&ListParams::default().labels(&format!("job-name={job_name}")))
        .await
        .map(|l| l.items)
        .unwrap_or_default()
}

fn terminated_messages(pods: &[Pod]) -> impl Iterator<Item = (String, Option<String>)> + '_ {
    pods.iter()
        .filter_map(|p| p.status.as_ref()?.container_statuses.as_ref())
        .flatten()
        .filter_map(|c| c.state.as_ref()?.terminated.as_ref())
        .map(|t| (t.reason.clone().unwrap_or_default(), t.message.clone()))
}

async fn termination_report(
    ctx: &Context,
    namespace: &str,
    job_name: &str,
) -> Option<TerminationReport> {
    let pods = job_pods(ctx, namespace, job_name).await;
    terminated_messages(&pods)
        .filter_map(|(_, message)| serde_json::from_str(message.as_deref()?).ok())
        .next()
}

async fn pod_failure(ctx: &Context, namespace: &str, job_name: &str) -> Option<String> {
    let pods = job_pods(ctx, namespace, job_name).await;
    terminated_messages(&pods)
        .find(|(reason, _)| reason != "Completed")
        .map(|(reason, message)| match message {
            Some(m) => format!("{reason}: {m}"),
            None => reason,
        })
}
