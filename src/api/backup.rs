// kube-derive repeats `printcolumn(type_ = ...)`; clippy mistakes that for a duplicate.
#![allow(clippy::duplicated_attributes)]

use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
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
    pub fn phase(&self) -> Option<BackupPhase> {
        self.status.as_ref().and_then(|s| s.phase)
    }
}
