//! Retention: the old backups of an instance go, with their dumps (the records' own
//! finalizer deletes those, in the bucket or on the volume). The newest successful
//! backup and any a restore is using always stay.

use kube::ResourceExt;

use crate::api::EventReason;
use crate::api::keys::{BACKUP_ANNOTATION, annotation};
use crate::api::{BackupCause, JobState, MySQLBackup, Retention};
use crate::reconcile::Notice;
use crate::reconcile::instance::snapshot::Read;

use super::{Inputs, Plan, Write};

impl Inputs<'_> {
    pub(super) fn retention(&self, plan: &mut Plan, now: jiff::Timestamp) {
        let Some(retention) = self
            .instance
            .spec
            .backup
            .as_ref()
            .and_then(|b| b.retention.as_ref())
        else {
            return;
        };
        let mine = self.own_backups();
        let in_use = self.restoring();
        for name in expired(&mine, retention, &in_use, now) {
            plan.events.push(Notice::normal(
                EventReason::BackupExpired,
                format!("MySQLBackup {name} and its dump go (spec.backup.retention)"),
            ));
            plan.writes.push(Write::DeleteBackupRecord(name));
        }
    }

    /// The backups a restore of this instance is using or about to use.
    fn restoring(&self) -> Vec<String> {
        // Not read means no restore is wanted, so none of this incarnation runs.
        let job = match &self.snapshot.restore_job {
            Read::Done(job) => job.as_ref(),
            Read::Skipped => None,
        };
        let running = job
            .filter(|job| JobState::is_running(job))
            .and_then(|job| annotation(&job.metadata, BACKUP_ANNOTATION));
        let requested = self.instance.pending_restore_request().map(|r| r.backup);
        running
            .map(str::to_string)
            .into_iter()
            .chain(requested)
            .chain(self.instance.restore_from().map(str::to_string))
            .collect()
    }
}

/// The names of the records `retention` lets go, oldest last.
fn expired(
    backups: &[&MySQLBackup],
    retention: &Retention,
    in_use: &[String],
    now: jiff::Timestamp,
) -> Vec<String> {
    let mut succeeded: Vec<(jiff::Timestamp, &MySQLBackup)> = backups
        .iter()
        .filter(|b| b.succeeded())
        .filter_map(|b| b.completion_time().map(|t| (t, *b)))
        .collect();
    succeeded.sort_by_key(|(t, _)| std::cmp::Reverse(*t));
    let counted = |b: &MySQLBackup| {
        (b.object().is_some() || b.volume_file().is_some())
            && b.metadata.deletion_timestamp.is_none()
            && match b.spec.cause {
                BackupCause::Manual | BackupCause::Scheduled => true,
                BackupCause::OnDelete => retention.include_on_delete,
                BackupCause::Discovered => false,
            }
    };
    let too_old = |t: jiff::Timestamp| {
        retention
            .max_age()
            .is_some_and(|age| now.duration_since(t).unsigned_abs() > age)
    };
    let keep = retention.keep.map(|k| k as usize).unwrap_or(usize::MAX);
    succeeded
        .iter()
        // The newest successful backup stays, whatever it is.
        .skip(1)
        .filter(|(_, b)| counted(b))
        .enumerate()
        // `keep` counts the newest one too.
        .filter(|(rank, (t, _))| rank + 1 >= keep || too_old(*t))
        .map(|(_, (_, b))| b.name_any())
        .filter(|name| !in_use.contains(name))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{BackupPhase, MySQLBackupStatus};

    fn backup(name: &str, cause: BackupCause, completed: &str, in_bucket: bool) -> MySQLBackup {
        let mut b = MySQLBackup::record(name.into(), "ns", "db", cause, None);
        b.status = Some(MySQLBackupStatus {
            phase: Some(BackupPhase::Succeeded),
            completion_time: Some(completed.into()),
            bucket: in_bucket.then(|| "dumps".into()),
            key: in_bucket.then(|| format!("ns/db/{name}.sql.gz")),
            file: (!in_bucket).then(|| format!("/backup/{name}.sql")),
            ..Default::default()
        });
        b
    }

    fn keep(n: u32) -> Retention {
        Retention {
            keep: Some(n),
            ..Default::default()
        }
    }

    const NOW: &str = "2026-12-03T12:00:00Z";

    #[test]
    fn keep_two_of_four_deletes_the_two_oldest() {
        let all = [
            backup("a", BackupCause::Scheduled, "2026-12-03T10:00:00Z", true),
            backup("b", BackupCause::Scheduled, "2026-12-03T10:01:00Z", true),
            backup("c", BackupCause::Manual, "2026-12-03T10:02:00Z", true),
            backup("d", BackupCause::Scheduled, "2026-12-03T10:03:00Z", true),
        ];
        let refs: Vec<_> = all.iter().collect();
        assert_eq!(
            expired(&refs, &keep(2), &[], NOW.parse().unwrap()),
            ["b", "a"]
        );
        // One a restore is using stays.
        assert_eq!(
            expired(&refs, &keep(2), &["a".into()], NOW.parse().unwrap()),
            ["b"]
        );
        assert_eq!(
            expired(&refs, &keep(1), &[], NOW.parse().unwrap()),
            ["c", "b", "a"]
        );
    }

    #[test]
    fn on_delete_backups_and_the_newest_stay_and_volume_backups_count() {
        let all = [
            backup(
                "old-final",
                BackupCause::OnDelete,
                "2026-12-01T10:00:00Z",
                true,
            ),
            backup(
                "on-volume",
                BackupCause::Scheduled,
                "2026-12-01T11:00:00Z",
                false,
            ),
            backup(
                "newest",
                BackupCause::Scheduled,
                "2026-12-02T10:00:00Z",
                true,
            ),
            backup(
                "oldest",
                BackupCause::Scheduled,
                "2026-11-01T10:00:00Z",
                true,
            ),
        ];
        let refs: Vec<_> = all.iter().collect();
        let day = Retention {
            max_age: Some("1d".into()),
            ..Default::default()
        };
        // "newest" stays though past maxAge; the final one is not counted; a dump on
        // the volume is, like one in a bucket.
        let now = NOW.parse().unwrap();
        assert_eq!(expired(&refs, &day, &[], now), ["on-volume", "oldest"]);
        let with_final = Retention {
            include_on_delete: true,
            ..day
        };
        assert_eq!(
            expired(&refs, &with_final, &[], now),
            ["on-volume", "old-final", "oldest"]
        );
    }
}
