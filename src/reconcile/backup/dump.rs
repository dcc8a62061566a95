//! A record's dump in a bucket goes with the record: a finalizer holds the record
//! until the dump is deleted, or until it is clear the dump cannot be (its Secret is
//! gone, or the store kept failing for `PATIENCE`), which an Event says; a deletion
//! never hangs for good.

use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use kube::api::Api;
use kube::runtime::controller::Action;
use kube::{Resource, ResourceExt};

use super::super::Context;
use super::super::bucket::{self, Failure};
use super::super::kube_ops::{create_if_absent, delete_if_present, job_pods, set_finalizers};
use crate::api::EventReason;
use crate::api::keys::{BACKUP_ANNOTATION, DUMP_FINALIZER, annotation};
use crate::api::{JobState, MySQLBackup, failure_message};
use crate::manifests;
use crate::names::InstanceNames;
use crate::reconcile::Notice;
use crate::reconcile::{Error, Result};

/// How long a store that keeps failing holds a record's deletion.
const PATIENCE: Duration = Duration::from_secs(600);
const RETRY: Duration = Duration::from_secs(30);
/// The prune Job's pod is not watched (it is owned by no record); it is looked at.
const PRUNE_RECHECK: Duration = Duration::from_secs(3);

/// Where deleting a dump on the volume stands.
enum Pruning {
    Done,
    Running,
}

pub fn holds(backup: &MySQLBackup) -> bool {
    backup.finalizers().iter().any(|f| f == DUMP_FINALIZER)
}

/// Puts the finalizer on a record whose dump is in a bucket.
pub async fn hold(backup: &MySQLBackup, ctx: &Context) -> Result<()> {
    let mut finalizers = backup.finalizers().to_vec();
    finalizers.push(DUMP_FINALIZER.to_string());
    set_finalizers(&records(backup, ctx), backup, finalizers)
        .await
        .map_err(|source| Error::Finalizer {
            what: format!("MySQLBackup {}", backup.name_any()),
            source,
        })
}

/// A record being deleted: its dump first, then the finalizer.
pub async fn release(backup: &MySQLBackup, ctx: &Context) -> Result<Action> {
    if !holds(backup) {
        return Ok(Action::await_change());
    }
    if backup.dump_goes_with_record() {
        let location = backup.location().unwrap_or_default();
        let deleted = match backup.object() {
            Some(_) => delete_dump(backup, ctx).await.map(|()| Pruning::Done),
            None => prune_on_volume(backup, ctx).await,
        };
        let notice = match deleted {
            Ok(Pruning::Done) => {
                Notice::normal(EventReason::DumpDeleted, format!("deleted {location}"))
            }
            Ok(Pruning::Running) => return Ok(Action::requeue(PRUNE_RECHECK)),
            Err(Failure::Permanent(reason)) => Notice::warning(
                EventReason::DumpKept,
                format!("{location} is left: {reason}"),
            ),
            Err(Failure::Transient(reason)) if waited(backup) < PATIENCE => {
                let notice = Notice::warning(
                    EventReason::DumpNotDeleted,
                    format!("{location}: {reason}; retrying"),
                );
                ctx.publish_all(&backup.object_ref(&()), &[notice]).await;
                return Ok(Action::requeue(RETRY));
            }
            Err(Failure::Transient(reason)) => Notice::warning(
                EventReason::DumpKept,
                format!(
                    "{location} is left after {} minutes of failures: {reason}",
                    PATIENCE.as_secs() / 60
                ),
            ),
        };
        ctx.publish_all(&backup.object_ref(&()), &[notice]).await;
    }
    let finalizers = backup
        .finalizers()
        .iter()
        .filter(|f| *f != DUMP_FINALIZER)
        .cloned()
        .collect();
    set_finalizers(&records(backup, ctx), backup, finalizers)
        .await
        .map_err(|source| Error::Finalizer {
            what: format!("MySQLBackup {}", backup.name_any()),
            source,
        })?;
    Ok(Action::await_change())
}

fn waited(backup: &MySQLBackup) -> Duration {
    let since = backup.metadata.deletion_timestamp.as_ref().map(|t| t.0);
    since
        .map(|t| jiff::Timestamp::now().duration_since(t).unsigned_abs())
        .unwrap_or_default()
}

fn records(backup: &MySQLBackup, ctx: &Context) -> Api<MySQLBackup> {
    Api::namespaced(ctx.client.clone(), &backup.namespace().unwrap_or_default())
}

async fn delete_dump(backup: &MySQLBackup, ctx: &Context) -> Result<(), Failure> {
    let status = backup.status.as_ref();
    let (Some((_, key)), Some(s3)) = (backup.object(), status.and_then(|s| s.s3.as_ref())) else {
        return Err(Failure::Permanent(
            "the record does not say where its bucket is".into(),
        ));
    };
    let namespace = backup.namespace().unwrap_or_default();
    let store = bucket::open(ctx, &namespace, s3).await?;
    store
        .delete_dump(key)
        .await
        .map_err(|e| Failure::Transient(e.to_string()))
}

/// Deletes a dump on the backup volume with prune-NAME-job (the operator cannot reach
/// the node's disk itself); one such Job per instance at a time.
async fn prune_on_volume(backup: &MySQLBackup, ctx: &Context) -> Result<Pruning, Failure> {
    let namespace = backup.namespace().unwrap_or_default();
    let names = InstanceNames::new(backup.spec.instance.clone(), namespace.clone());
    let job_name = names.prune_job();
    let jobs: Api<Job> = Api::namespaced(ctx.client.clone(), &namespace);
    let transient = |e: kube::Error| Failure::Transient(e.to_string());
    let existing = jobs.get_opt(&job_name).await.map_err(transient)?;
    let ours = |job: &Job| {
        annotation(&job.metadata, BACKUP_ANNOTATION) == Some(backup.name_any().as_str())
    };
    match existing {
        Some(job) if ours(&job) => {
            let state = JobState::of(&job);
            if state == JobState::Running {
                return Ok(Pruning::Running);
            }
            let pods = job_pods(&ctx.client, &namespace, &job_name)
                .await
                .map_err(transient)?;
            delete_if_present(&jobs, &job_name)
                .await
                .map_err(transient)?;
            match state {
                JobState::Failed(message) => Err(Failure::Permanent(
                    failure_message(&pods).unwrap_or(message),
                )),
                _ => Ok(Pruning::Done),
            }
        }
        Some(other) => {
            if !JobState::is_running(&other) {
                delete_if_present(&jobs, &job_name)
                    .await
                    .map_err(transient)?;
            }
            Ok(Pruning::Running)
        }
        None => {
            let claims: Api<PersistentVolumeClaim> =
                Api::namespaced(ctx.client.clone(), &namespace);
            if claims
                .get_metadata_opt(&names.backup_pvc())
                .await
                .map_err(transient)?
                .is_none()
            {
                return Err(Failure::Permanent(format!(
                    "the backup claim {} is gone",
                    names.backup_pvc()
                )));
            }
            let path = backup.volume_file().unwrap_or_default();
            let job = manifests::prune_job(&ctx.renderer, &names, &backup.name_any(), path)
                .map_err(|e| Failure::Permanent(e.to_string()))?;
            // In a namespace being deleted nothing can be created: the dump stays on
            // the node, where a new instance of the name finds it.
            create_if_absent(&jobs, &job)
                .await
                .map_err(|e| Failure::Permanent(format!("cannot start {job_name}: {e}")))?;
            Ok(Pruning::Running)
        }
    }
}
