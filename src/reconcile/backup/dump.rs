//! A record's dump goes with the record: a finalizer holds the record until the dump is
//! deleted, or until it is clear the dump cannot be (its Secret is gone, or the store
//! kept failing for `PATIENCE`), which an Event says; a deletion never hangs for good.
//!
//! The same three steps as every reconcile: observe (the prune Job, its pods, the
//! claim), decide in pure functions (`prune_step`, `release_plan`, given `now`), then
//! write. Deleting an object in a bucket is itself the write whose outcome the release
//! decides from.

use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use kube::api::Api;
use kube::runtime::controller::Action;
use kube::{Resource, ResourceExt};

use super::super::Context;
use super::super::bucket::{self, Failure};
use super::super::kube_ops::{create_if_absent, delete_if_present, job_pods, set_finalizers};
use super::plan::serves;
use crate::api::EventReason;
use crate::api::keys::DUMP_FINALIZER;
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

/// Where deleting a dump stands.
#[derive(Debug, PartialEq, Eq)]
enum Pruning {
    Done,
    Running,
}

pub fn holds(backup: &MySQLBackup) -> bool {
    backup.finalizers().iter().any(|f| f == DUMP_FINALIZER)
}

/// Puts the finalizer on a record whose dump goes with it.
pub async fn hold(backup: &MySQLBackup, ctx: &Context) -> Result<()> {
    let mut finalizers = backup.finalizers().to_vec();
    finalizers.push(DUMP_FINALIZER.to_string());
    write_finalizers(backup, ctx, finalizers).await
}

/// What a release decides: the Event, whether the finalizer goes, when to look again.
#[derive(Debug, PartialEq)]
struct ReleasePlan {
    notice: Option<Notice>,
    remove_finalizer: bool,
    /// None: nothing more to do (the record goes, or waits for a change).
    retry_in: Option<Duration>,
}

/// The release of a record being deleted, from how deleting its dump went and how long
/// the deletion has waited by `now`.
fn release_plan(
    backup: &MySQLBackup,
    attempt: Option<Result<Pruning, Failure>>,
    now: jiff::Timestamp,
) -> ReleasePlan {
    let location = backup.location().unwrap_or_default();
    let done = |notice| ReleasePlan {
        notice,
        remove_finalizer: true,
        retry_in: None,
    };
    let Some(attempt) = attempt else {
        // The dump stays with its owner (kept, or found in another namespace's folder).
        return done(None);
    };
    match attempt {
        Ok(Pruning::Done) => done(Some(Notice::normal(
            EventReason::DumpDeleted,
            format!("deleted {location}"),
        ))),
        Ok(Pruning::Running) => ReleasePlan {
            notice: None,
            remove_finalizer: false,
            retry_in: Some(PRUNE_RECHECK),
        },
        Err(Failure::Permanent(reason)) => done(Some(Notice::warning(
            EventReason::DumpKept,
            format!("{location} is left: {reason}"),
        ))),
        Err(Failure::Transient(reason)) if waited(backup, now) < PATIENCE => ReleasePlan {
            notice: Some(Notice::warning(
                EventReason::DumpNotDeleted,
                format!("{location}: {reason}; retrying"),
            )),
            remove_finalizer: false,
            retry_in: Some(RETRY),
        },
        Err(Failure::Transient(reason)) => done(Some(Notice::warning(
            EventReason::DumpKept,
            format!(
                "{location} is left after {} minutes of failures: {reason}",
                PATIENCE.as_secs() / 60
            ),
        ))),
    }
}

/// A record being deleted: its dump first, then the finalizer.
pub async fn release(backup: &MySQLBackup, ctx: &Context) -> Result<Action> {
    if !holds(backup) {
        return Ok(Action::await_change());
    }
    let attempt = if backup.dump_goes_with_record() {
        Some(match backup.object() {
            Some(_) => delete_dump(backup, ctx).await.map(|()| Pruning::Done),
            None => prune_on_volume(backup, ctx).await,
        })
    } else {
        None
    };
    let plan = release_plan(backup, attempt, jiff::Timestamp::now());
    if let Some(notice) = &plan.notice {
        ctx.publish_all(&backup.object_ref(&()), std::slice::from_ref(notice))
            .await;
    }
    if plan.remove_finalizer {
        let finalizers = backup
            .finalizers()
            .iter()
            .filter(|f| *f != DUMP_FINALIZER)
            .cloned()
            .collect();
        write_finalizers(backup, ctx, finalizers).await?;
    }
    Ok(plan
        .retry_in
        .map_or_else(Action::await_change, Action::requeue))
}

fn waited(backup: &MySQLBackup, now: jiff::Timestamp) -> Duration {
    let since = backup.metadata.deletion_timestamp.as_ref().map(|t| t.0);
    since
        .map(|t| now.duration_since(t).unsigned_abs())
        .unwrap_or_default()
}

async fn write_finalizers(
    backup: &MySQLBackup,
    ctx: &Context,
    finalizers: Vec<String>,
) -> Result<()> {
    let records: Api<MySQLBackup> =
        Api::namespaced(ctx.client.clone(), &backup.namespace().unwrap_or_default());
    set_finalizers(&records, backup, finalizers)
        .await
        .map_err(|source| Error::Finalizer {
            what: format!("MySQLBackup {}", backup.name_any()),
            source,
        })
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

/// What deleting a dump on the volume rests on.
struct PruneObserved {
    /// prune-NAME-job, whichever record it serves.
    job: Option<Job>,
    /// Its pods, once it finished serving this record.
    pods: Vec<Pod>,
    /// The backup claim the Job would mount still exists.
    claim_exists: bool,
}

/// The writes one step of pruning takes.
#[derive(Debug, PartialEq)]
enum PruneWrite {
    DeleteJob,
    CreateJob,
}

/// One step of deleting `backup`'s dump with prune-NAME-job: its writes, and where the
/// pruning stands after them. One such Job per instance at a time.
fn prune_step(
    backup: &MySQLBackup,
    seen: &PruneObserved,
) -> (Vec<PruneWrite>, Result<Pruning, Failure>) {
    match &seen.job {
        Some(job) if serves(job, backup) => match JobState::of(job) {
            JobState::Running => (Vec::new(), Ok(Pruning::Running)),
            JobState::Failed(message) => (
                vec![PruneWrite::DeleteJob],
                Err(Failure::Permanent(
                    failure_message(&seen.pods).unwrap_or(message),
                )),
            ),
            JobState::Succeeded => (vec![PruneWrite::DeleteJob], Ok(Pruning::Done)),
        },
        // Another record's prune: it finishes (or goes) first.
        Some(other) if JobState::is_running(other) => (Vec::new(), Ok(Pruning::Running)),
        Some(_) => (vec![PruneWrite::DeleteJob], Ok(Pruning::Running)),
        None if !seen.claim_exists => {
            let names = names_of(backup);
            (
                Vec::new(),
                Err(Failure::Permanent(format!(
                    "the backup claim {} is gone",
                    names.backup_pvc()
                ))),
            )
        }
        None => (vec![PruneWrite::CreateJob], Ok(Pruning::Running)),
    }
}

fn names_of(backup: &MySQLBackup) -> InstanceNames {
    InstanceNames::new(
        backup.spec.instance.clone(),
        backup.namespace().unwrap_or_default(),
    )
}

/// Deletes a dump on the backup volume with prune-NAME-job (the operator cannot reach
/// the node's disk itself).
async fn prune_on_volume(backup: &MySQLBackup, ctx: &Context) -> Result<Pruning, Failure> {
    let names = names_of(backup);
    let namespace = names.namespace.clone();
    let job_name = names.prune_job();
    let jobs: Api<Job> = Api::namespaced(ctx.client.clone(), &namespace);
    let transient = |e: kube::Error| Failure::Transient(e.to_string());
    // Observe.
    let job = jobs.get_opt(&job_name).await.map_err(transient)?;
    let finished_ours = job
        .as_ref()
        .is_some_and(|j| serves(j, backup) && !JobState::is_running(j));
    let pods = if finished_ours {
        job_pods(&ctx.client, &namespace, &job_name)
            .await
            .map_err(transient)?
    } else {
        Vec::new()
    };
    let claim = match &job {
        Some(_) => None,
        None => Api::<PersistentVolumeClaim>::namespaced(ctx.client.clone(), &namespace)
            .get_opt(&names.backup_pvc())
            .await
            .map_err(transient)?,
    };
    let claim_exists = job.is_some() || claim.is_some();
    // Decide, then write.
    let seen = PruneObserved {
        job,
        pods,
        claim_exists,
    };
    let (writes, outcome) = prune_step(backup, &seen);
    for write in writes {
        match write {
            PruneWrite::DeleteJob => delete_if_present(&jobs, &job_name)
                .await
                .map_err(transient)?,
            PruneWrite::CreateJob => {
                let path = backup.volume_file().unwrap_or_default();
                let provisioned =
                    manifests::backup_storage_class(None, false, claim.as_ref()).is_some();
                let job = manifests::prune_job(
                    &ctx.renderer,
                    &names,
                    &backup.name_any(),
                    (path, provisioned),
                )
                .map_err(|e| Failure::Permanent(e.to_string()))?;
                // In a namespace being deleted nothing can be created: the dump stays
                // on the node, where a new instance of the name finds it.
                create_if_absent(&jobs, &job)
                    .await
                    .map_err(|e| Failure::Permanent(format!("cannot start {job_name}: {e}")))?;
            }
        }
    }
    outcome
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::keys::BACKUP_ANNOTATION;

    const DELETED_AT: &str = "2026-12-03T12:00:00Z";

    fn record() -> MySQLBackup {
        serde_json::from_value(json!({
            "apiVersion": "otus.homework/v1", "kind": "MySQLBackup",
            "metadata": {"name": "db-1", "namespace": "ns", "uid": "b1",
                         "deletionTimestamp": DELETED_AT,
                         "finalizers": [DUMP_FINALIZER]},
            "spec": {"instance": "db"},
            "status": {"phase": "Succeeded", "bucket": "b", "key": "p/ns/db/x.sql.gz"},
        }))
        .unwrap()
    }

    fn after(seconds: i64) -> jiff::Timestamp {
        DELETED_AT.parse::<jiff::Timestamp>().unwrap() + jiff::SignedDuration::from_secs(seconds)
    }

    fn prune_job(backup: &str, condition: Option<&str>) -> Job {
        let status = match condition {
            None => json!({"active": 1}),
            Some(c) => {
                json!({"conditions": [{"type": c, "status": "True", "message": "BackoffLimitExceeded"}]})
            }
        };
        serde_json::from_value(json!({
            "metadata": {"name": "prune-db-job", "annotations": {BACKUP_ANNOTATION: backup}},
            "status": status,
        }))
        .unwrap()
    }

    fn reason(plan: &ReleasePlan) -> Option<EventReason> {
        plan.notice.as_ref().map(|n| n.reason)
    }

    #[test]
    fn release_table() {
        let deleted = release_plan(&record(), Some(Ok(Pruning::Done)), after(1));
        assert_eq!(reason(&deleted), Some(EventReason::DumpDeleted));
        assert!(deleted.remove_finalizer && deleted.retry_in.is_none());

        let running = release_plan(&record(), Some(Ok(Pruning::Running)), after(1));
        assert_eq!(running.notice, None);
        assert!(!running.remove_finalizer);
        assert_eq!(running.retry_in, Some(PRUNE_RECHECK));

        let kept_for_good = release_plan(
            &record(),
            Some(Err(Failure::Permanent("the Secret keys is gone".into()))),
            after(1),
        );
        assert_eq!(reason(&kept_for_good), Some(EventReason::DumpKept));
        assert!(kept_for_good.remove_finalizer, "a deletion never hangs");

        let retried = release_plan(
            &record(),
            Some(Err(Failure::Transient("cannot reach s3".into()))),
            after(60),
        );
        assert_eq!(reason(&retried), Some(EventReason::DumpNotDeleted));
        assert!(!retried.remove_finalizer);
        assert_eq!(retried.retry_in, Some(RETRY));

        let given_up = release_plan(
            &record(),
            Some(Err(Failure::Transient("cannot reach s3".into()))),
            after(PATIENCE.as_secs() as i64 + 1),
        );
        assert_eq!(reason(&given_up), Some(EventReason::DumpKept));
        assert!(
            given_up.remove_finalizer,
            "the store's failures hold it ten minutes at most"
        );
        assert!(given_up.notice.unwrap().message.contains("10 minutes"));

        let not_ours = release_plan(&record(), None, after(1));
        assert_eq!(not_ours.notice, None);
        assert!(not_ours.remove_finalizer);
    }

    #[test]
    fn prune_table() {
        let seen = |job: Option<Job>, claim_exists: bool| PruneObserved {
            job,
            pods: Vec::new(),
            claim_exists,
        };
        let (writes, outcome) = prune_step(&record(), &seen(None, true));
        assert_eq!(writes, vec![PruneWrite::CreateJob]);
        assert_eq!(outcome.unwrap(), Pruning::Running);

        let (writes, outcome) = prune_step(&record(), &seen(None, false));
        assert!(writes.is_empty(), "no Job for a claim that is gone");
        assert!(matches!(outcome, Err(Failure::Permanent(m)) if m.contains("backup-db-pvc")));

        let (writes, outcome) = prune_step(&record(), &seen(Some(prune_job("db-1", None)), true));
        assert!(writes.is_empty());
        assert_eq!(outcome.unwrap(), Pruning::Running);

        let done = seen(Some(prune_job("db-1", Some("Complete"))), true);
        let (writes, outcome) = prune_step(&record(), &done);
        assert_eq!(writes, vec![PruneWrite::DeleteJob]);
        assert_eq!(outcome.unwrap(), Pruning::Done);

        let failed = seen(Some(prune_job("db-1", Some("Failed"))), true);
        let (writes, outcome) = prune_step(&record(), &failed);
        assert_eq!(writes, vec![PruneWrite::DeleteJob]);
        assert!(matches!(outcome, Err(Failure::Permanent(_))));

        let other_running = seen(Some(prune_job("db-0", None)), true);
        let (writes, outcome) = prune_step(&record(), &other_running);
        assert!(
            writes.is_empty(),
            "another record's prune is never cut short"
        );
        assert_eq!(outcome.unwrap(), Pruning::Running);

        let other_done = seen(Some(prune_job("db-0", Some("Complete"))), true);
        let (writes, outcome) = prune_step(&record(), &other_done);
        assert_eq!(writes, vec![PruneWrite::DeleteJob]);
        assert_eq!(outcome.unwrap(), Pruning::Running);
    }
}
