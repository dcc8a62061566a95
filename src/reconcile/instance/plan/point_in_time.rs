//! Point-in-time recovery's window: from the dumps' recorded positions and the
//! archived binary logs, what a restore to a time can reach, and a look again each
//! archiving interval so that the window moves with the archive.

use crate::api::EventReason;
use crate::api::MySQLBackup;
use crate::binlog::window::{DumpPoint, prunable, window};
use crate::names::incarnation;
use crate::reconcile::Notice;
use crate::reconcile::Result;
use crate::reconcile::instance::status::{Observed, Recoverability};

use super::{Inputs, Plan, Write};

/// How many archived logs one reconcile deletes at most: the rest go at the next look.
const PRUNED_AT_ONCE: usize = 200;

/// How far behind the newest archived file may end, beyond its interval, before the
/// archiving is said to be failing: a round's upload time and a clock's skew.
const ARCHIVING_SLACK: jiff::SignedDuration = jiff::SignedDuration::from_secs(60);

impl Inputs<'_> {
    pub(super) fn point_in_time(
        &self,
        plan: &mut Plan,
        observed: &mut Observed,
        now: jiff::Timestamp,
    ) -> Result<()> {
        let Some(point_in_time) = self.instance.spec.point_in_time() else {
            return Ok(());
        };
        let interval = point_in_time
            .interval()
            .unwrap_or(crate::api::DEFAULT_ARCHIVE_INTERVAL);
        let interval = jiff::SignedDuration::try_from(interval).unwrap_or_default();
        // The window moves as files are archived, with no event of ours: look again.
        let next_look = now + interval;
        plan.look_again_by(next_look);
        let segments = match self
            .snapshot
            .binlog_segments
            .needed("the archived binary logs")?
        {
            Ok(segments) => segments,
            Err(failed) => {
                observed.recoverable = Some(Recoverability::NotListed(failed.message.clone()));
                return Ok(());
            }
        };
        let timeline = incarnation(self.instance.metadata.uid.as_deref().unwrap_or_default());
        let dumps: Vec<DumpPoint> = self
            .own_backups()
            .into_iter()
            .filter_map(MySQLBackup::dump_point)
            .filter(|d| d.timeline == timeline)
            .collect();
        observed.recoverable = Some(recoverability(&dumps, segments, now, interval));
        let useless: Vec<String> = prunable(&dumps, segments, &timeline)
            .into_iter()
            .take(PRUNED_AT_ONCE)
            .map(|s| s.key.clone())
            .collect();
        if let (false, Some(storage)) = (useless.is_empty(), self.instance.spec.backup_bucket()) {
            plan.events.push(Notice::normal(
                EventReason::BinlogsPruned,
                format!(
                    "{} archived binary logs from before the oldest backup's position go",
                    useless.len()
                ),
            ));
            plan.writes.push(Write::PruneArchivedLogs {
                storage: storage.clone(),
                keys: useless,
            });
        }
        Ok(())
    }
}

/// The window `dumps` and `segments` give at `now`, and whether the archive keeps up.
fn recoverability(
    dumps: &[DumpPoint],
    segments: &[crate::binlog::Segment],
    now: jiff::Timestamp,
    interval: jiff::SignedDuration,
) -> Recoverability {
    let Some(window) = window(dumps, segments) else {
        return Recoverability::NoBaseBackup;
    };
    let newest = segments
        .iter()
        .filter(|s| s.timeline == window.timeline)
        .map(|s| s.last)
        .max();
    let behind = newest
        .map(|last| now.duration_since(last))
        .filter(|behind| *behind > interval * 3 + ARCHIVING_SLACK);
    Recoverability::Window {
        from: window.from,
        until: window.until,
        gap: window
            .gaps
            .first()
            .map(|g| format!("number {} of timeline {}", g.missing, g.timeline)),
        behind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binlog::Segment;

    fn at(s: i64) -> jiff::Timestamp {
        jiff::Timestamp::from_second(1_800_000_000 + s).unwrap()
    }

    fn segment(sequence: u64, first: i64, last: i64) -> Segment {
        Segment {
            key: format!("k{sequence}"),
            timeline: "a".into(),
            file: format!("mysql-bin.{sequence:06}"),
            sequence,
            first: at(first),
            last: at(last),
        }
    }

    fn dump() -> DumpPoint {
        DumpPoint {
            name: "d".into(),
            completed: at(30),
            timeline: "a".into(),
            file: "mysql-bin.000001".into(),
            position: 4,
            gtid_set: None,
        }
    }

    #[test]
    fn the_window_says_when_archiving_falls_behind_or_breaks() {
        let minute = jiff::SignedDuration::from_secs(60);
        let segments = vec![segment(1, 0, 60), segment(2, 60, 120)];
        let window = |gap: Option<&str>, behind: Option<i64>| Recoverability::Window {
            from: at(30),
            until: at(119),
            gap: gap.map(str::to_string),
            behind: behind.map(jiff::SignedDuration::from_secs),
        };
        assert_eq!(
            recoverability(&[], &segments, at(130), minute),
            Recoverability::NoBaseBackup
        );
        assert_eq!(
            recoverability(&[dump()], &segments, at(130), minute),
            window(None, None)
        );
        // Three intervals and the slack after the newest file: behind.
        assert_eq!(
            recoverability(&[dump()], &segments, at(120 + 241), minute),
            window(None, Some(241))
        );
        let holed = vec![segment(1, 0, 60), segment(2, 60, 120), segment(4, 180, 240)];
        assert_eq!(
            recoverability(&[dump()], &holed, at(250), minute),
            window(Some("number 3 of timeline a"), None)
        );
    }
}
