//! Reconciling MySQLBackup records: one backup Job per instance at a time, named
//! backup-NAME-job as in the course, owned by the record (not by the instance) so it
//! stays visible after the instance is gone. Observe -> plan (pure) -> apply.

mod dump;
pub mod plan;
#[cfg(test)]
mod tests;
mod verify;

use std::sync::Arc;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;
use kube::{Resource, ResourceExt};

use self::plan::{BackupPlan, BackupSnapshot, BackupWrite};
use super::kube_ops::{
    create_if_absent, delete_if_present, job_pods, patch_status, refused_pod_reason,
};
use super::{Context, cached, error_policy_for, now_rfc3339, object_key};
use crate::api::{BackupCause, BackupPhase, JobState, MySQL, MySQLBackup};
use crate::names::InstanceNames;
use crate::reconcile::{Error, Result};

pub async fn reconcile(backup: Arc<MySQLBackup>, ctx: Arc<Context>) -> Result<Action> {
    let key = object_key(backup.as_ref());
    let started = std::time::Instant::now();
    let result = reconcile_backup(&backup, &ctx).await;
    ctx.record("backup", &key, started, &result);
    result
}

async fn reconcile_backup(backup: &MySQLBackup, ctx: &Context) -> Result<Action> {
    if backup.metadata.deletion_timestamp.is_some() {
        return dump::release(backup, ctx).await;
    }
    if backup.dump_goes_with_record() && !dump::holds(backup) {
        dump::hold(backup, ctx).await?;
    }
    if let Some(request) = backup.verification_requested() {
        return verify::reconcile(backup, request, ctx).await;
    }
    if backup.phase().is_some_and(BackupPhase::is_finished) {
        remove_finished_job(backup, ctx).await?;
        return Ok(Action::await_change());
    }
    if backup.spec.cause == BackupCause::Discovered {
        // Its dump exists already; the instance's reconcile writes its status.
        return Ok(Action::await_change());
    }
    let snapshot = observe(backup, ctx).await?;
    let plan = plan::plan(backup, &snapshot, &ctx.renderer, &now_rfc3339())?;
    apply(backup, &plan, ctx).await?;
    if let Some(phase) = plan.status.as_ref().and_then(|s| s.phase)
        && phase.is_finished()
    {
        ctx.metrics.backup_finished(phase == BackupPhase::Succeeded);
    }
    Ok(plan.next.action(&object_key(backup)))
}

/// A finished backup's Job goes when it must not outlive it (`outlives_its_record`): a
/// physical backup's, whose pod mounts the server's data claim, and a refused one.
async fn remove_finished_job(backup: &MySQLBackup, ctx: &Context) -> Result<()> {
    let Some(namespace) = backup.namespace() else {
        return Ok(());
    };
    let names = InstanceNames::new(backup.spec.instance.clone(), namespace.clone());
    let jobs: Api<Job> = Api::namespaced(ctx.client.clone(), &namespace);
    let name = names.backup_job();
    // The Job cache holds every Job of ours (they carry the instance label): a miss is
    // a Job already gone, and asking the API server on each resync would cost a GET
    // per physical record for good.
    let Some(job) = cached(&ctx.caches.jobs, Some(&namespace), &name) else {
        return Ok(());
    };
    if plan::serves(&job, backup) && plan::outlives_its_record(&job) {
        delete_if_present(&jobs, &name)
            .await
            .map_err(Error::apply(format!("deleting Job {namespace}/{name}")))?;
    }
    Ok(())
}

pub fn error_policy(backup: Arc<MySQLBackup>, error: &Error, ctx: Arc<Context>) -> Action {
    error_policy_for(&object_key(backup.as_ref()), error, &ctx)
}

async fn observe(backup: &MySQLBackup, ctx: &Context) -> Result<BackupSnapshot> {
    let namespace = backup
        .namespace()
        .ok_or(Error::MissingField("metadata.namespace"))?;
    let names = InstanceNames::new(backup.spec.instance.clone(), namespace.clone());
    let jobs: Api<Job> = Api::namespaced(ctx.client.clone(), &namespace);
    let get_job = |name: String| {
        let jobs = jobs.clone();
        let what = format!("Job {namespace}/{name}");
        async move { jobs.get_opt(&name).await.map_err(Error::observe(what)) }
    };
    let job = get_job(names.backup_job()).await?;
    let mut snapshot = BackupSnapshot::default();
    match &job {
        Some(job) if plan::serves(job, backup) && !JobState::is_running(job) => {
            let job = names.backup_job();
            snapshot.job_pods = job_pods(&ctx.client, &names.namespace, &job)
                .await
                .map_err(Error::observe(format!("the pods of Job {job}")))?;
        }
        Some(job) if plan::serves(job, backup) && !JobState::has_made_pods(job) => {
            snapshot.job_refused = refused_pod_reason(&ctx.client, &names.namespace, job)
                .await
                .map_err(Error::observe(format!(
                    "the FailedCreate Events of Job {}",
                    names.backup_job()
                )))?;
        }
        Some(_) => {}
        None => {
            snapshot.instance = read_instance(ctx, &names).await?;
            snapshot.backup_storage_class = snapshot
                .instance
                .as_ref()
                .and_then(|i| cached_backup_storage_class(ctx, i, &names));
            snapshot.restore_job = get_job(names.restore_job()).await?;
            let bucket = snapshot
                .instance
                .as_ref()
                .and_then(|i| i.spec.backup_bucket());
            if let Some(s3) = bucket {
                snapshot.bucket_keys_exist =
                    Some(secret_exists(ctx, &namespace, &s3.credentials_secret.name).await?);
            }
        }
    }
    snapshot.job = job;
    Ok(snapshot)
}

/// The class the instance's backup claim is provisioned by (none for a hostPath
/// one), from the caches: the claim exists long before a backup needs it.
pub(crate) fn cached_backup_storage_class(
    ctx: &Context,
    instance: &MySQL,
    names: &InstanceNames,
) -> Option<String> {
    let caches = &ctx.caches;
    let claim =
        crate::reconcile::caches::cached(&caches.pvcs, Some(&names.namespace), &names.backup_pvc());
    let host_path = crate::reconcile::caches::cached(&caches.pvs, None, &names.backup_pv());
    crate::manifests::backup_storage_class(
        instance.spec.storage_class(),
        host_path.is_some(),
        claim.as_ref(),
    )
}

/// The record's instance, read from the server before a Job is made from its spec (a
/// cache a moment behind could start a Job with an old image).
async fn read_instance(ctx: &Context, names: &InstanceNames) -> Result<Option<MySQL>> {
    let instances: Api<MySQL> = Api::namespaced(ctx.client.clone(), &names.namespace);
    instances
        .get_opt(&names.name)
        .await
        .map_err(Error::observe(format!("MySQL {}", names.name)))
}

/// Whether a Secret exists: the cache answers yes; a no is confirmed with a read of its
/// metadata, since the cache may not have synced yet after a start.
async fn secret_exists(ctx: &Context, namespace: &str, name: &str) -> Result<bool> {
    if ctx
        .caches
        .secrets
        .get(&ObjectRef::new(name).within(namespace))
        .is_some()
    {
        return Ok(true);
    }
    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), namespace);
    let found = secrets
        .get_metadata_opt(name)
        .await
        .map_err(Error::observe(format!("Secret {namespace}/{name}")))?;
    Ok(found.is_some())
}

/// Writes, then Events, then the status (the order the instance's apply explains).
async fn apply(backup: &MySQLBackup, plan: &BackupPlan, ctx: &Context) -> Result<()> {
    let namespace = backup.namespace().unwrap_or_default();
    let jobs: Api<Job> = Api::namespaced(ctx.client.clone(), &namespace);
    for write in &plan.writes {
        match write {
            BackupWrite::CreateJob(job) => create_if_absent(&jobs, job)
                .await
                .map(drop)
                .map_err(Error::apply(format!("Job {namespace}/{}", job.name_any())))?,
            BackupWrite::DeleteJob(name) => delete_if_present(&jobs, name)
                .await
                .map_err(Error::apply(format!("deleting Job {namespace}/{name}")))?,
        }
    }
    ctx.publish_all(&backup.object_ref(&()), &plan.events).await;
    if let Some(status) = &plan.status {
        let api: Api<MySQLBackup> = Api::namespaced(ctx.client.clone(), &namespace);
        patch_status(&api, &backup.name_any(), status)
            .await
            .map_err(|source| Error::Status {
                what: format!("MySQLBackup {namespace}/{}", backup.name_any()),
                source,
            })?;
    }
    Ok(())
}
