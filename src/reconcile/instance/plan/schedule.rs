//! Scheduled backups: the record for a slot that is due, one at a time, and the next
//! slot in the status.

use kube::ResourceExt;

use crate::api::EventReason;
use crate::api::{BackupPhase, MySQLBackup};
use crate::reconcile::Notice;
use crate::reconcile::instance::status::Observed;

use super::{Inputs, Plan, Write};

impl Inputs<'_> {
    /// This instance's backup records.
    pub(super) fn own_backups(&self) -> Vec<&MySQLBackup> {
        let names = self.names();
        self.snapshot
            .backups
            .iter()
            .filter(|b| b.belongs_to(&names.name, &names.namespace))
            .collect()
    }

    /// With spec.backup.schedule: a record for the latest slot not yet taken (one for
    /// all the slots missed while the operator was down), unless a backup of this
    /// instance is under way (it is taken when that one ends) or the server is not up.
    pub(super) fn schedule(&self, plan: &mut Plan, observed: &mut Observed, now: jiff::Timestamp) {
        let schedule = match self
            .instance
            .spec
            .backup
            .as_ref()
            .and_then(|b| b.schedule())
        {
            Some(Ok(schedule)) => schedule,
            // An unusable schedule is a spec problem, reported before this step.
            Some(Err(_)) | None => return,
        };
        observed.next_backup = schedule.next(now);
        if let Some(next_backup) = observed.next_backup {
            plan.look_again_by(next_backup);
        }
        let names = self.names();
        let mine = self.own_backups();
        let created = self.instance.creation_timestamp().map(|t| t.0);
        let since = mine
            .iter()
            .filter_map(|b| b.scheduled_for())
            .chain(created)
            .max()
            .unwrap_or_default();
        let Some(slot) = schedule.due(since, now) else {
            return;
        };
        let under_way = mine
            .iter()
            .any(|b| !b.phase().is_some_and(BackupPhase::is_finished));
        if under_way || !observed.deployment_available {
            return;
        }
        let mut record = MySQLBackup::scheduled(&names.namespace, &names.name, slot);
        if self.instance.spec.backup.as_ref().is_some_and(|b| b.verify) {
            record.ask_for_verification("scheduled");
        }
        plan.events.push(Notice::normal(
            EventReason::BackupScheduled,
            format!("MySQLBackup {} for the time {slot}", record.name_any()),
        ));
        plan.writes.push(Write::CreateBackupRecord(record));
    }
}
