// kube-derive repeats `printcolumn(type_ = ...)`; clippy mistakes that for a duplicate.
#![allow(clippy::duplicated_attributes)]

use std::collections::BTreeMap;

use kube::api::ObjectMeta;
use kube::{CustomResource, KubeSchema, ResourceExt};
use serde::{Deserialize, Serialize};

use super::keys;

/// A backup of one MySQL instance: a dump file on the instance's backup volume. The
/// record is not owned by the instance, so it outlives it and a re-created instance
/// with the same name restores from it.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "otus.homework",
    version = "v1",
    kind = "MySQLBackup",
    plural = "mysqlbackups",
    singular = "mysqlbackup",
    shortname = "msb",
    namespaced,
    status = "MySQLBackupStatus",
    doc = "A dump of one MySQL instance's database on its backup volume.",
    printcolumn(name = "Instance", type_ = "string", json_path = ".spec.instance"),
    printcolumn(name = "Cause", type_ = "string", json_path = ".spec.cause"),
    printcolumn(name = "Phase", type_ = "string", json_path = ".status.phase"),
    printcolumn(name = "Size", type_ = "integer", json_path = ".status.sizeBytes"),
    printcolumn(
        name = "Verified",
        type_ = "string",
        json_path = ".status.verification.result"
    ),
    printcolumn(
        name = "SHA256",
        type_ = "string",
        json_path = ".status.sha256",
        priority = 1
    ),
    printcolumn(
        name = "Key",
        type_ = "string",
        json_path = ".status.key",
        priority = 1
    ),
    printcolumn(
        name = "Completed",
        type_ = "date",
        json_path = ".status.completionTime"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct MySQLBackupSpec {
    /// Name of the MySQL instance in the same namespace.
    #[x_kube(validation = Rule::new("self == oldSelf").message("spec.instance is immutable"))]
    pub instance: String,
    /// Why the backup was taken.
    #[serde(default)]
    #[x_kube(validation = Rule::new("self == oldSelf").message("spec.cause is immutable"))]
    pub cause: BackupCause,
}

#[derive(
    schemars::JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq,
)]
pub enum BackupCause {
    /// Asked for with `kubectl mysql backup`.
    #[default]
    Manual,
    /// Taken by the operator before it deleted the instance.
    OnDelete,
    /// A dump found on the backup volume with no record (the records were lost, or
    /// the course's operator wrote it).
    Discovered,
    /// Taken at a time of spec.backup.schedule.
    Scheduled,
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MySQLBackupStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<BackupPhase>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_time: Option<String>,
    /// Path of the dump on the backup volume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The bucket of a dump in object storage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    /// The key of a dump in object storage (`PREFIX/NAMESPACE/NAME/TIME.sql.zst`, or
    /// `TIME.xbstream.zst` for a physical backup).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Where that bucket is and which Secret holds its keys, as the instance said when
    /// the backup was taken: the dump can be deleted after the instance is gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3: Option<super::S3Storage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Where the dump stands in its server's binary log: point-in-time recovery
    /// replays from there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binlog_position: Option<crate::binlog::DumpPosition>,
    /// The server's version, for a physical backup: only that version restores it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
    /// The last check that the dump loads (`kubectl mysql backup verify`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<Verification>,
}

/// A dump loaded into a throwaway server: whether it loaded, and what it held.
#[derive(schemars::JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    /// The request (the record's verify annotation) this answers.
    pub request: String,
    pub result: VerificationResult,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_time: Option<String>,
    /// Rows per table of the database, as the throwaway server counted them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<TableRows>,
    /// Point-in-time recovery: the archived binary logs replayed onto the dump, up to
    /// this time (the tables are counted after them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replayed_until: Option<String>,
    /// Why it failed, in one line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(schemars::JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TableRows {
    pub name: String,
    pub rows: u64,
}

#[derive(
    schemars::JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq,
)]
pub enum VerificationResult {
    #[default]
    Running,
    /// The dump loaded without an error.
    Passed,
    Failed,
}

impl std::fmt::Display for VerificationResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

impl Verification {
    /// The report of a verify Job that succeeded: `verified` on the first line, then
    /// `TABLE ROWS` per table. Anything else is no proof that the dump loads.
    pub fn from_report(request: &str, report: &str) -> Self {
        let mut lines = report.lines().map(str::trim).filter(|l| !l.is_empty());
        if lines.next() != Some("verified") {
            return Self::failed(request, "the verify Job ended without its report".into());
        }
        let mut lines = lines.peekable();
        let replayed_until = lines
            .next_if(|l| l.starts_with("replayed "))
            .map(|l| l.trim_start_matches("replayed ").to_string());
        let tables = lines
            .filter_map(|line| {
                let (name, rows) = line.rsplit_once(' ')?;
                Some(TableRows {
                    name: name.to_string(),
                    rows: rows.parse().ok()?,
                })
            })
            .collect();
        Verification {
            request: request.to_string(),
            result: VerificationResult::Passed,
            tables,
            replayed_until,
            ..Default::default()
        }
    }

    pub fn failed(request: &str, message: String) -> Self {
        Verification {
            request: request.to_string(),
            result: VerificationResult::Failed,
            message: Some(message),
            ..Default::default()
        }
    }

    /// `3 tables, 1500 rows`.
    pub fn summary(&self) -> String {
        match self.result {
            VerificationResult::Passed => {
                let rows: u64 = self.tables.iter().map(|t| t.rows).sum();
                let counted = format!("{} tables, {rows} rows", self.tables.len());
                match &self.replayed_until {
                    Some(until) => {
                        format!("{counted} after its archived binary logs replayed up to {until}")
                    }
                    None => counted,
                }
            }
            VerificationResult::Failed => self.message.clone().unwrap_or_default(),
            VerificationResult::Running => "running".into(),
        }
    }
}

#[derive(schemars::JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackupPhase {
    Pending,
    Running,
    Succeeded,
    Failed,
}

impl BackupPhase {
    pub fn is_finished(self) -> bool {
        matches!(self, BackupPhase::Succeeded | BackupPhase::Failed)
    }
}

impl std::fmt::Display for BackupPhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

impl MySQLBackup {
    /// A new record for a backup of `instance`, named `name`. An on-delete record also
    /// carries the uid of the incarnation it belongs to, so a re-created instance of the
    /// same name never mistakes it for its own.
    pub fn record(
        name: String,
        namespace: &str,
        instance: &str,
        cause: BackupCause,
        incarnation: Option<&str>,
    ) -> Self {
        let annotations = incarnation.map(|uid| {
            BTreeMap::from([(keys::INSTANCE_UID_ANNOTATION.to_string(), uid.to_string())])
        });
        MySQLBackup {
            metadata: ObjectMeta {
                name: Some(name),
                namespace: Some(namespace.to_string()),
                labels: Some(BTreeMap::from([(
                    keys::INSTANCE_LABEL.to_string(),
                    instance.to_string(),
                )])),
                annotations,
                ..Default::default()
            },
            spec: MySQLBackupSpec {
                instance: instance.to_string(),
                cause,
            },
            status: None,
        }
    }

    /// A record for the backup due at `slot` of the instance's schedule, named after it
    /// so that asking twice for one slot makes one record.
    pub fn scheduled(namespace: &str, instance: &str, slot: jiff::Timestamp) -> Self {
        let name = format!("{instance}-scheduled-{}", slot.strftime("%Y%m%d-%H%M%S"));
        let mut record = Self::record(name, namespace, instance, BackupCause::Scheduled, None);
        keys::stamp_annotation(
            &mut record.metadata,
            keys::SCHEDULED_FOR_ANNOTATION,
            slot.to_string(),
        );
        record
    }

    /// Asks the operator to load this backup's dump into a throwaway server once it is
    /// taken; a new `request` asks again.
    pub fn ask_for_verification(&mut self, request: &str) {
        keys::stamp_annotation(&mut self.metadata, keys::VERIFY_ANNOTATION, request);
    }

    /// The verification asked for and not answered yet.
    pub fn verification_requested(&self) -> Option<&str> {
        let request = keys::annotation(&self.metadata, keys::VERIFY_ANNOTATION)?;
        let answered = self
            .status
            .as_ref()
            .and_then(|s| s.verification.as_ref())
            .is_some_and(|v| v.request == request && v.result != VerificationResult::Running);
        (self.succeeded() && !answered).then_some(request)
    }

    /// Deleting this record deletes its dump (in a bucket or on the volume), unless
    /// someone asked to keep it.
    pub fn dump_goes_with_record(&self) -> bool {
        (self.object().is_some() || self.volume_file().is_some())
            && keys::annotation(&self.metadata, keys::KEEP_DUMP_ANNOTATION) != Some("true")
    }

    /// The dump's path on the backup volume, for a backup that went there.
    pub fn volume_file(&self) -> Option<&str> {
        let status = self.status.as_ref()?;
        match status.key {
            Some(_) => None,
            None => status.file.as_deref(),
        }
    }

    /// The slot of the schedule a scheduled backup was taken for.
    pub fn scheduled_for(&self) -> Option<jiff::Timestamp> {
        keys::annotation(&self.metadata, keys::SCHEDULED_FOR_ANNOTATION)?
            .parse()
            .ok()
    }

    pub fn phase(&self) -> Option<BackupPhase> {
        self.status.as_ref().and_then(|s| s.phase)
    }

    pub fn succeeded(&self) -> bool {
        self.phase() == Some(BackupPhase::Succeeded)
    }

    /// When the backup finished, as a time (not as text: text compares wrongly across
    /// formats).
    pub fn completion_time(&self) -> Option<jiff::Timestamp> {
        self.status
            .as_ref()?
            .completion_time
            .as_deref()?
            .parse()
            .ok()
    }

    /// The dump as point-in-time recovery sees it: a successful backup that recorded
    /// its binary log position.
    pub fn dump_point(&self) -> Option<crate::binlog::window::DumpPoint> {
        if !self.succeeded() {
            return None;
        }
        let recorded = self.status.as_ref()?.binlog_position.as_ref()?;
        Some(crate::binlog::window::DumpPoint {
            name: self.metadata.name.clone()?,
            completed: self.completion_time()?,
            timeline: recorded.timeline.clone(),
            file: recorded.position.file.clone(),
            position: recorded.position.position,
            gtid_set: recorded.position.gtid_set.clone(),
        })
    }

    /// The on-delete backup of the incarnation with this uid.
    pub fn is_final_backup_of(&self, incarnation: &str) -> bool {
        self.spec.cause == BackupCause::OnDelete
            && keys::annotation(&self.metadata, keys::INSTANCE_UID_ANNOTATION) == Some(incarnation)
    }

    /// A dump found without a checksum: it can only be checked for completeness.
    pub fn unverified(&self) -> bool {
        self.spec.cause == BackupCause::Discovered
            && self.status.as_ref().is_none_or(|s| s.sha256.is_none())
    }

    /// The bucket and key of a dump in object storage; None for one on a volume.
    pub fn object(&self) -> Option<(&str, &str)> {
        let status = self.status.as_ref()?;
        Some((status.bucket.as_deref()?, status.key.as_deref()?))
    }

    /// Whether this is a physical backup (a copy of the data directory), by its key or
    /// its file's name.
    pub fn physical(&self) -> bool {
        let name = match self.object() {
            Some((_, key)) => Some(key),
            None => self.volume_file(),
        };
        name.and_then(crate::s3::DumpKind::physical_of_key)
            .is_some()
    }

    /// Where the dump lies, for people: `s3://BUCKET/KEY` or the file on the volume.
    pub fn location(&self) -> Option<String> {
        match self.object() {
            Some((bucket, key)) => Some(format!("s3://{bucket}/{key}")),
            None => self.status.as_ref()?.file.clone(),
        }
    }

    pub fn belongs_to(&self, instance: &str, namespace: &str) -> bool {
        self.spec.instance == instance && self.namespace().as_deref() == Some(namespace)
    }
}

/// What the scan Job reports about the dumps on a backup volume.
#[derive(Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct ScanReport {
    pub dumps: Vec<FoundDump>,
}

#[derive(Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct FoundDump {
    /// The file name on the volume, `NAME.sql` (`NAME.xbstream.zst` or
    /// `NAME.clone.tar.zst`, a physical copy).
    pub file: String,
    pub size_bytes: i64,
    /// Last modified, in seconds since the epoch.
    pub modified: i64,
    /// Its last line is mysqldump's `-- Dump completed` (a physical copy: it has its
    /// checksum file, which lands only once the copy finished).
    pub complete: bool,
    /// From its `.sha256` file; none for the course's dumps.
    pub sha256: Option<String>,
}

impl FoundDump {
    /// The record that indexes this dump, named after its file (the dump of record
    /// `NAME` is always `NAME.sql`, or a physical copy's). None for a file whose name
    /// is no object name.
    pub fn record(&self, namespace: &str, instance: &str) -> Option<MySQLBackup> {
        let name = self.file.strip_suffix(".sql").or_else(|| {
            let kind = crate::s3::DumpKind::physical_of_key(&self.file)?;
            self.file.strip_suffix(kind.suffix())
        })?;
        let valid = !name.is_empty()
            && name.len() <= 253
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
            && name.as_bytes()[0].is_ascii_alphanumeric();
        if !valid || !self.complete {
            return None;
        }
        let completed = jiff::Timestamp::from_second(self.modified).ok()?;
        let mut record = MySQLBackup::record(
            name.to_string(),
            namespace,
            instance,
            BackupCause::Discovered,
            None,
        );
        record.status = Some(MySQLBackupStatus {
            phase: Some(BackupPhase::Succeeded),
            completion_time: Some(completed.to_string()),
            file: Some(format!("/backup/{}", self.file)),
            size_bytes: Some(self.size_bytes),
            sha256: self.sha256.clone(),
            message: Some(match self.sha256 {
                Some(_) => "found on the backup volume".into(),
                None => "found on the backup volume without a checksum: restored unverified, if complete".into(),
            }),
            ..Default::default()
        });
        Some(record)
    }
}

/// The newest successful backup among `backups` that finished no later than `until`.
pub fn newest_succeeded<'a>(
    backups: impl IntoIterator<Item = &'a MySQLBackup>,
    until: Option<jiff::Timestamp>,
) -> Option<&'a MySQLBackup> {
    backups
        .into_iter()
        .filter(|b| b.succeeded())
        .filter_map(|b| b.completion_time().map(|t| (t, b)))
        .filter(|(t, _)| until.is_none_or(|u| *t <= u))
        // Names carry the time too: they decide between dumps of the same second.
        .max_by(|(t, a), (u, b)| t.cmp(u).then_with(|| a.name_any().cmp(&b.name_any())))
        .map(|(_, b)| b)
}
