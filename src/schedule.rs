//! Backup schedules: a five-field cron expression in a time zone (UTC by default), and
//! the slots it puts on the time line. Pure: the reconcile asks which slot is due and
//! when the next one comes.

use croner::Cron;
use croner::parser::{CronParser, Seconds};
use jiff::Timestamp;
use jiff::tz::TimeZone;

#[derive(Clone, Debug)]
pub struct Schedule {
    cron: Cron,
    zone: TimeZone,
}

impl Schedule {
    /// `expression` (`0 3 * * *`, `@daily`; six fields put seconds first) in the IANA
    /// `time_zone` (UTC when absent); the error is one line that says what is wrong.
    pub fn parse(expression: &str, time_zone: Option<&str>) -> Result<Self, String> {
        let cron = CronParser::builder()
            .seconds(Seconds::Optional)
            .build()
            .parse(expression)
            .map_err(|e| {
                format!("spec.backup.schedule {expression:?} is not a cron schedule: {e}")
            })?;
        let zone = match time_zone {
            None | Some("") => TimeZone::UTC,
            Some(name) => TimeZone::get(name).map_err(|_| {
                format!("spec.backup.timeZone {name:?} is not a known IANA time zone (e.g. Europe/Berlin)")
            })?,
        };
        Ok(Self { cron, zone })
    }

    /// The latest slot after `since` and no later than `now`: the one backup owed. Slots
    /// missed while nobody looked are not owed one each.
    pub fn due(&self, since: Timestamp, now: Timestamp) -> Option<Timestamp> {
        let latest = self
            .cron
            .find_previous_occurrence(&now.to_zoned(self.zone.clone()), true)
            .ok()?
            .timestamp();
        (latest > since).then_some(latest)
    }

    /// The first slot after `now`.
    pub fn next(&self, now: Timestamp) -> Option<Timestamp> {
        self.cron
            .find_next_occurrence(&now.to_zoned(self.zone.clone()), false)
            .ok()
            .map(|z| z.timestamp())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn the_latest_missed_slot_is_owed_once() {
        let every_minute = Schedule::parse("* * * * *", None).unwrap();
        let since = at("2026-12-03T10:00:00Z");
        // Five slots passed while the operator was down: one backup, for the latest.
        assert_eq!(
            every_minute.due(since, at("2026-12-03T10:05:30Z")),
            Some(at("2026-12-03T10:05:00Z"))
        );
        // Taken already: nothing is owed until the next slot.
        assert_eq!(
            every_minute.due(at("2026-12-03T10:05:00Z"), at("2026-12-03T10:05:59Z")),
            None
        );
        assert_eq!(
            every_minute.next(at("2026-12-03T10:05:30Z")),
            Some(at("2026-12-03T10:06:00Z"))
        );
    }

    #[test]
    fn slots_follow_the_time_zone() {
        let three_am_berlin = Schedule::parse("0 3 * * *", Some("Europe/Berlin")).unwrap();
        // 03:00 in Berlin is 02:00 UTC in winter.
        assert_eq!(
            three_am_berlin.next(at("2026-12-03T00:00:00Z")),
            Some(at("2026-12-03T02:00:00Z"))
        );
        let daily = Schedule::parse("@daily", None).unwrap();
        assert_eq!(
            daily.next(at("2026-12-03T10:00:00Z")),
            Some(at("2026-12-04T00:00:00Z"))
        );
    }

    #[test]
    fn bad_schedules_say_what_is_wrong() {
        let every_ten_seconds = Schedule::parse("*/10 * * * * *", None).unwrap();
        assert_eq!(
            every_ten_seconds.next(at("2026-12-03T10:00:01Z")),
            Some(at("2026-12-03T10:00:10Z"))
        );
        let e = Schedule::parse("every day", None).unwrap_err();
        assert!(e.contains("spec.backup.schedule"), "{e}");
        let e = Schedule::parse("0 3 * * *", Some("Mars/Olympus")).unwrap_err();
        assert!(e.contains("Mars/Olympus"), "{e}");
    }
}
