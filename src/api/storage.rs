//! `spec.backup`: where an instance's backups go. Without it, or with
//! `storage.volume`, they go to the backup volume as they always did.

use kube::KubeSchema;
use serde::{Deserialize, Serialize};

/// How an instance is backed up.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.pointInTime) || !self.pointInTime.enabled || (has(self.storage) && has(self.storage.s3))").message("spec.backup.pointInTime needs spec.backup.storage.s3: the binary logs are archived to the bucket"))]
pub struct BackupSpec {
    /// How a backup copies the data: `logical` (the default, mysqldump of the
    /// instance's database: portable across versions) or `physical` (a copy of the
    /// whole data directory, streamed compressed to the bucket or the backup volume:
    /// restores at the disk's speed, into the same server version). MariaDB copies with
    /// mariadb-backup; MySQL 8.0.17 and later with the clone plugin, into its data
    /// volume first (room for an uncompressed copy needed there while it is stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<BackupMethod>,
    /// Where the dumps go; the backup volume when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<BackupStorage>,
    /// When to take backups, in cron syntax (`0 3 * * *`, `@daily`). A time missed
    /// while the operator was down gets one backup when it is back, not one per time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// The IANA time zone of the schedule (`Europe/Berlin`); UTC when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// Which backups to delete, with their dumps in the bucket. Without it every backup
    /// is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<Retention>,
    /// Load each scheduled backup into a throwaway server once it is taken, and record
    /// its tables and rows (`kubectl mysql backup verify` does it for any backup).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub verify: bool,
    /// Continuous archiving of the binary logs to the bucket, for restores to any
    /// second since the oldest dump (`kubectl mysql restore --to-time`). Needs
    /// `storage.s3`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub point_in_time: Option<PointInTime>,
}

/// `spec.backup.method`.
#[derive(
    schemars::JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq,
)]
#[serde(rename_all = "lowercase")]
pub enum BackupMethod {
    #[default]
    Logical,
    Physical,
}

impl BackupMethod {
    /// What the objects of this method hold, taken by a server of `dialect`
    /// (a physical copy is mariadb-backup's stream or MySQL's clone).
    pub fn dump_kind(self, dialect: crate::dialect::Dialect) -> crate::s3::DumpKind {
        match self {
            BackupMethod::Logical => crate::s3::DumpKind::Logical,
            BackupMethod::Physical => dialect.physical().kind,
        }
    }
}

/// `spec.backup.pointInTime`.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PointInTime {
    #[serde(default)]
    pub enabled: bool,
    /// How often the server's current binary log is closed and archived, so that no
    /// commit waits longer to reach the bucket: from 5s to 1h (`30s`, `5m`); 60s when
    /// absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 8))]
    #[x_kube(validation = Rule::new("self.matches('^[0-9]{1,5}[smh]$') && int(self.substring(0, size(self) - 1)) * (self.endsWith('h') ? 3600 : (self.endsWith('m') ? 60 : 1)) >= 5 && int(self.substring(0, size(self) - 1)) * (self.endsWith('h') ? 3600 : (self.endsWith('m') ? 60 : 1)) <= 3600").message("spec.backup.pointInTime.interval must be from 5s to 1h, such as 60s or 5m"))]
    pub interval: Option<String>,
}

/// The archiving interval when none is given.
pub const DEFAULT_ARCHIVE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

impl PointInTime {
    /// The interval, checked as the CRD checks it.
    pub fn interval(&self) -> Result<std::time::Duration, String> {
        match self.interval.as_deref() {
            None => Ok(DEFAULT_ARCHIVE_INTERVAL),
            Some(text) => parse_archive_interval(text),
        }
    }
}

/// A number and s, m, h or d (`30d`), as a duration.
fn parse_duration(text: &str) -> Option<std::time::Duration> {
    let (number, unit) = text.split_at(text.len().checked_sub(1)?);
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return None,
    };
    Some(std::time::Duration::from_secs(
        number.parse::<u64>().ok()?.checked_mul(seconds)?,
    ))
}

/// An archiving interval: from 5 s to 1 h.
pub fn parse_archive_interval(text: &str) -> Result<std::time::Duration, String> {
    let wrong =
        || format!("the archiving interval must be from 5s to 1h, such as 60s or 5m, not {text:?}");
    let interval = parse_duration(text).ok_or_else(wrong)?;
    if !(5..=3600).contains(&interval.as_secs()) {
        return Err(wrong());
    }
    Ok(interval)
}

/// Old backups go: those beyond the newest `keep`, and those older than `maxAge`. The
/// newest successful backup and one a restore is using always stay.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Retention {
    /// How many successful backups to keep, newest first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 1").message("spec.backup.retention.keep must be at least 1"))]
    pub keep: Option<u32>,
    /// The age past which a backup goes: a number and s, m, h or d (`30d`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self.matches('^[0-9]+[smhd]$')").message("spec.backup.retention.maxAge must be a number and s, m, h or d, such as 30d"))]
    pub max_age: Option<String>,
    /// Whether the backups taken before a deletion go too; by default they are kept
    /// until deleted by hand.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub include_on_delete: bool,
}

impl Retention {
    /// maxAge as a duration; None when absent or malformed (the CRD refuses that).
    pub fn max_age(&self) -> Option<std::time::Duration> {
        parse_duration(self.max_age.as_deref()?)
    }
}

/// One of `volume` (the instance's backup volume) and `s3`.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!(has(self.volume) && has(self.s3))").message("spec.backup.storage: set one of volume and s3, not both"))]
pub struct BackupStorage {
    /// The instance's backup volume (backup-NAME-pvc), as without spec.backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume: Option<VolumeStorage>,
    /// An S3-compatible bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3: Option<S3Storage>,
}

/// The backup volume; it has no settings of its own.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct VolumeStorage {}

/// A bucket in S3-compatible object storage. Dumps are stored under
/// `PREFIX/NAMESPACE/NAME/YYYYMMDD-HHMMSS.sql.gz`, each with a `.sha256` beside it.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct S3Storage {
    /// The endpoint URL (http:// or https://); absent for AWS S3 itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self.matches('^https?://[^\\\\s/]+(/.*)?$')").message("spec.backup.storage.s3.endpoint must be an http:// or https:// URL"))]
    pub endpoint: Option<String>,
    /// The bucket; it must exist.
    #[x_kube(validation = Rule::new("self.matches('^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$')").message("spec.backup.storage.s3.bucket must be an S3 bucket name (3 to 63 lowercase letters, digits, '.' and '-')"))]
    pub bucket: String,
    /// A folder for this tool's dumps in the bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// The bucket's region; us-east-1 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Path-style URLs (ENDPOINT/BUCKET/KEY), which most self-hosted servers need.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub force_path_style: bool,
    /// The Secret in the instance's namespace holding the access key pair.
    pub credentials_secret: S3CredentialsRef,
}

/// A Secret holding an S3 access key pair.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct S3CredentialsRef {
    pub name: String,
    /// The key holding the access key id; `accessKeyId` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_id_key: Option<String>,
    /// The key holding the secret access key; `secretAccessKey` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_access_key_key: Option<String>,
}

impl S3CredentialsRef {
    pub fn access_key_id_key(&self) -> &str {
        self.access_key_id_key.as_deref().unwrap_or("accessKeyId")
    }

    pub fn secret_access_key_key(&self) -> &str {
        self.secret_access_key_key
            .as_deref()
            .unwrap_or("secretAccessKey")
    }
}

impl S3Storage {
    /// Where the bucket is, for the object-store client.
    pub fn location(&self) -> crate::s3::S3Location {
        crate::s3::S3Location {
            endpoint: self.endpoint.clone(),
            bucket: self.bucket.clone(),
            region: self.region.clone(),
            path_style: self.force_path_style,
        }
    }

    pub fn prefix(&self) -> &str {
        self.prefix.as_deref().unwrap_or_default()
    }
}

impl BackupSpec {
    /// The schedule, when there is one; an unusable one says why.
    pub fn schedule(&self) -> Option<Result<crate::schedule::Schedule, String>> {
        let expression = self.schedule.as_deref().filter(|s| !s.trim().is_empty())?;
        Some(crate::schedule::Schedule::parse(
            expression,
            self.time_zone.as_deref(),
        ))
    }

    /// The method, logical when not given.
    pub fn method(&self) -> BackupMethod {
        self.method.unwrap_or_default()
    }

    /// The bucket, when backups go to one.
    pub fn s3(&self) -> Option<&S3Storage> {
        self.storage.as_ref()?.s3.as_ref()
    }
}
