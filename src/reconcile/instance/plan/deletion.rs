//! Deletion: the final backup, its wait, and letting go.

use kube::ResourceExt;

use crate::api::EventReason;
use crate::api::keys::{PASSWORD_FINGERPRINT_ANNOTATION, SKIP_BACKUP_ANNOTATION, annotation};
use crate::api::{BackupCause, JobState, MySQL, MySQLBackup};
use crate::manifests::{self};
use crate::reconcile::Notice;
use crate::reconcile::instance::snapshot::DeletionSnapshot;
use crate::reconcile::instance::status::Observed;
use crate::reconcile::{Next, rfc3339};

use super::{FinalizerChange, Kind, Plan, Write};

/// Deletion: take a backup (unless opted out), wait for it without blocking the loop,
/// remove the PV we created, and let the owned children be collected.
pub fn deletion(instance: &MySQL, snapshot: &DeletionSnapshot, now: jiff::Timestamp) -> Plan {
    let mut plan = Plan::new(instance);
    plan.finalizer = FinalizerChange::Keep;
    if instance.paused() {
        return super::paused_plan(plan, instance, true);
    }
    if instance.skips_backup_on_delete() {
        return finish_deletion(plan, snapshot);
    }
    let names = &snapshot.names;
    let observed = |message: String| Observed::deleting(instance, names, message);
    let stamp = rfc3339(now);
    let succeeded = snapshot
        .final_backup
        .as_ref()
        .is_some_and(|b| b.succeeded());
    if snapshot.namespace_terminating && !succeeded {
        return give_up_final_backup(plan, snapshot);
    }
    let Some(backup) = &snapshot.final_backup else {
        return start_final_backup(instance, snapshot, plan, now);
    };
    let name = backup.name_any();
    match backup.phase() {
        Some(crate::api::BackupPhase::Succeeded) => {
            plan.events.push(Notice::normal(
                EventReason::BackupSucceeded,
                format!("backup {name} recorded; deleting"),
            ));
            finish_deletion(plan, snapshot)
        }
        Some(crate::api::BackupPhase::Failed) => {
            let why = backup
                .status
                .as_ref()
                .and_then(|s| s.message.clone())
                .unwrap_or_default();
            let message = format!(
                "deletion stopped: backup {name} failed ({why}); fix the cause and delete MySQLBackup {name} to retry, or annotate the instance {SKIP_BACKUP_ANNOTATION}=true to delete without a backup"
            );
            let before = instance.status.as_ref().and_then(|s| s.message.as_deref());
            if before != Some(message.as_str()) {
                plan.events
                    .push(Notice::warning(EventReason::BackupFailed, message.clone()));
            }
            plan.with_status(instance, &observed(message.clone()), &stamp)
                .then(Next::blocked(message))
        }
        _ => {
            let message = format!("backing up before deletion (MySQLBackup {name})");
            plan.with_status(instance, &observed(message), &stamp)
                .then(Next::wait(format!("backup {name} before deletion")))
        }
    }
}

/// The namespace is going: the API server refuses a backup record or Job there, and
/// waiting would hang the namespace's deletion for good. The dumps already on the
/// backup volume stay (its PV is Retain and outlives the namespace); the instance goes
/// without a new one, and says so.
fn give_up_final_backup(mut plan: Plan, snapshot: &DeletionSnapshot) -> Plan {
    plan.events.push(Notice::warning(EventReason::BackupSkipped,
        format!(
            "namespace {} is being deleted, where no backup can be started; deleted without a final backup; earlier dumps stay on the backup volume of claim {} (its PersistentVolume is Retain)",
            snapshot.names.namespace,
            snapshot.names.backup_pvc()
        ),
    ));
    finish_deletion(plan, snapshot)
}

/// The tear-down, once the final backup is taken (or cannot be): the server, its claim
/// and its volume go now, not when the garbage collector gets to them (which a CRD it
/// has not seen yet can delay by half a minute, and with it a re-created instance of
/// the name, which needs the name `NAME-pvc`). In this order, each held by the one
/// before it: the pod by nothing, the claim by the pod, the volume by the claim.
fn finish_deletion(mut plan: Plan, snapshot: &DeletionSnapshot) -> Plan {
    let names = &snapshot.names;
    if snapshot.own_server {
        plan.writes
            .push(Write::Delete(Kind::Deployment, names.deployment()));
    }
    if snapshot.own_data_claim {
        plan.writes
            .push(Write::Delete(Kind::PersistentVolumeClaim, names.data_pvc()));
    }
    if let Some(pv) = &snapshot.data_pv {
        plan.writes
            .push(Write::Delete(Kind::PersistentVolume, pv.name_any()));
    }
    plan.finalizer = FinalizerChange::Remove;
    plan.then(Next::Done)
}

/// The final backup reads the password from `NAME-credentials`, so that Secret must
/// hold the one the server has. A password Job still running is waited for; one that
/// succeeded before a reconcile could swap the Secrets (a delete right after a password
/// change) is finished here; a failed one left the server on the live password.
fn start_final_backup(
    instance: &MySQL,
    snapshot: &DeletionSnapshot,
    mut plan: Plan,
    now: jiff::Timestamp,
) -> Plan {
    let names = &snapshot.names;
    if let (Some(job), Some(pending)) = (&snapshot.password_job, &snapshot.pending_credentials)
        && annotation(&job.metadata, PASSWORD_FINGERPRINT_ANNOTATION)
            == Some(manifests::password_fingerprint(&pending.0).as_str())
    {
        match JobState::of(job) {
            JobState::Running => {
                return plan.then(Next::wait(format!(
                    "the password Job {} before the final backup",
                    names.password_job()
                )));
            }
            JobState::Succeeded => plan
                .writes
                .push(Write::FinishPasswordChange(pending.clone())),
            JobState::Failed(_) => {}
        }
    }
    let name = names.backup_record(now);
    let record = MySQLBackup::record(
        name.clone(),
        &names.namespace,
        &names.name,
        BackupCause::OnDelete,
        instance.uid().as_deref(),
    );
    plan.writes.push(Write::CreateBackupRecord(record));
    plan.events.push(Notice::normal(
        EventReason::BackupStarted,
        format!(
            "backing up before deletion: MySQLBackup {name}, Job {}",
            names.backup_job()
        ),
    ));
    let message = format!("backing up before deletion (MySQLBackup {name})");
    let observed = Observed::deleting(instance, names, message);
    plan.with_status(instance, &observed, &rfc3339(now))
        .then(Next::wait(format!("backup {name} before deletion")))
}
