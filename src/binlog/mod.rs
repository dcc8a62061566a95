//! Point-in-time recovery's binary logs: where archived segments lie in the bucket
//! (pure key layout), what a closed file holds (`events`), the archiver that uploads
//! them (`archiver`), and the recoverable window a set of dumps and segments gives
//! (`window`).
//!
//! A segment is one closed binary log file of one server's timeline, stored as
//! `PREFIX/NAMESPACE/INSTANCE/binlog/TIMELINE/FILE_FIRST_LAST.gz` with its checksum
//! beside it: the times (UTC, to the second) are the file's first and last events, so
//! a listing alone tells the window, and the key of a given file is the same on every
//! upload (an interrupted upload is simply made again). The timeline is the server's
//! incarnation (the instance's uid, first 8 characters): a new incarnation's server
//! numbers its files from 1 again.

pub mod archiver;
pub mod events;
pub mod fetch;
pub mod window;

use jiff::Timestamp;

use crate::dialect::Gtid;

/// The folder under an instance's prefix that holds its binary logs.
pub const FOLDER: &str = "binlog/";
pub const SEGMENT_SUFFIX: &str = ".gz";
const TIME_FORMAT: &str = "%Y%m%dT%H%M%SZ";

/// One archived binary log file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    pub key: String,
    pub timeline: String,
    /// The server's file name (`mysql-bin.000012`).
    pub file: String,
    /// The file's number: consecutive files of a timeline have consecutive numbers.
    pub sequence: u64,
    pub first: Timestamp,
    pub last: Timestamp,
}

/// Where a replay stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplayTarget {
    /// Every transaction up to this second, included.
    Time(Timestamp),
    /// Every transaction before this one: it and all after it are left out.
    BeforeGtid(Gtid),
}

impl std::fmt::Display for ReplayTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplayTarget::Time(t) => write!(f, "{t}"),
            ReplayTarget::BeforeGtid(g) => write!(f, "the transaction {g}"),
        }
    }
}

impl ReplayTarget {
    /// As a restore request carries it: the time (RFC 3339) or `before:GTID`.
    pub fn token(&self) -> String {
        match self {
            ReplayTarget::Time(t) => t.to_string(),
            ReplayTarget::BeforeGtid(g) => format!("before:{g}"),
        }
    }

    pub fn parse_token(token: &str) -> Option<Self> {
        match token.strip_prefix("before:") {
            Some(gtid) => gtid.parse().ok().map(ReplayTarget::BeforeGtid),
            None => token.parse().ok().map(ReplayTarget::Time),
        }
    }
}

/// `PREFIX/NAMESPACE/INSTANCE/binlog/TIMELINE/` for `instance_prefix`
/// (`s3::instance_prefix`).
pub fn timeline_prefix(instance_prefix: &str, timeline: &str) -> String {
    format!("{instance_prefix}{FOLDER}{timeline}/")
}

/// The key of the closed file `file` of `timeline`, holding events from `first` to
/// `last`.
pub fn segment_key(
    instance_prefix: &str,
    timeline: &str,
    file: &str,
    first: Timestamp,
    last: Timestamp,
) -> String {
    format!(
        "{}{file}_{}_{}{SEGMENT_SUFFIX}",
        timeline_prefix(instance_prefix, timeline),
        first.strftime(TIME_FORMAT),
        last.strftime(TIME_FORMAT)
    )
}

/// The number of a binary log file: `mysql-bin.000012` → 12.
pub fn sequence_of(file: &str) -> Option<u64> {
    file.rsplit_once('.')?.1.parse().ok()
}

/// A segment from its key; None for anything else under the prefix (a checksum, a
/// dump, a stray object).
pub fn parse_segment_key(instance_prefix: &str, key: &str) -> Option<Segment> {
    let rest = key.strip_prefix(instance_prefix)?.strip_prefix(FOLDER)?;
    let (timeline, name) = rest.split_once('/')?;
    let name = name.strip_suffix(SEGMENT_SUFFIX)?;
    let mut parts = name.rsplitn(3, '_');
    let (last, first, file) = (parts.next()?, parts.next()?, parts.next()?);
    let parse = |t: &str| {
        jiff::civil::DateTime::strptime(TIME_FORMAT, t)
            .ok()?
            .to_zoned(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp())
    };
    Some(Segment {
        key: key.to_string(),
        timeline: timeline.to_string(),
        file: file.to_string(),
        sequence: sequence_of(file)?,
        first: parse(first)?,
        last: parse(last)?,
    })
}

/// Where a dump stands in its server's binary log, recorded with the dump: the
/// server's timeline and the position its comments give (none for a dump of a server
/// without binary logs).
#[derive(
    Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct DumpPosition {
    pub timeline: String,
    #[serde(flatten)]
    pub position: crate::dialect::BinlogPosition,
}

/// The file names already archived in `keys`, by the archiver's resume.
pub fn archived_files<'a>(
    instance_prefix: &str,
    timeline: &str,
    keys: impl IntoIterator<Item = &'a str>,
) -> std::collections::BTreeSet<String> {
    keys.into_iter()
        .filter_map(|k| parse_segment_key(instance_prefix, k))
        .filter(|s| s.timeline == timeline)
        .map(|s| s.file)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replay_target_goes_through_a_restore_request() {
        for target in [
            ReplayTarget::Time("2026-12-04T10:14:59Z".parse().unwrap()),
            ReplayTarget::BeforeGtid("0-1-57".parse().unwrap()),
            ReplayTarget::BeforeGtid("3e11fa47-71ca-11e1-9e33-c80aa9429562:57".parse().unwrap()),
        ] {
            assert_eq!(ReplayTarget::parse_token(&target.token()), Some(target));
        }
        assert_eq!(ReplayTarget::parse_token("soon"), None);
    }

    #[test]
    fn a_segments_key_reads_back() {
        let first: Timestamp = "2026-12-04T10:15:00Z".parse().unwrap();
        let last: Timestamp = "2026-12-04T10:16:01Z".parse().unwrap();
        let key = segment_key("b/shop/db/", "1a2b3c4d", "mysql-bin.000012", first, last);
        assert_eq!(
            key,
            "b/shop/db/binlog/1a2b3c4d/mysql-bin.000012_20261204T101500Z_20261204T101601Z.gz"
        );
        assert_eq!(
            parse_segment_key("b/shop/db/", &key),
            Some(Segment {
                key: key.clone(),
                timeline: "1a2b3c4d".into(),
                file: "mysql-bin.000012".into(),
                sequence: 12,
                first,
                last,
            })
        );
        assert_eq!(
            parse_segment_key("b/shop/db/", &format!("{key}.sha256")),
            None
        );
        assert_eq!(
            parse_segment_key("b/shop/db/", "b/shop/db/20261204-101500.sql.gz"),
            None
        );
        assert_eq!(
            archived_files(
                "b/shop/db/",
                "1a2b3c4d",
                [key.as_str(), "b/shop/db/x.sql.gz"]
            ),
            ["mysql-bin.000012".to_string()].into()
        );
        assert!(archived_files("b/shop/db/", "other", [key.as_str()]).is_empty());
    }
}
