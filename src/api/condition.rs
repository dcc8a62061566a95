use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A status condition in the shape of `metav1.Condition`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: ConditionStatus,
    pub reason: String,
    #[serde(default)]
    pub message: String,
    /// RFC 3339 time at which `status` last changed.
    pub last_transition_time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum ConditionStatus {
    True,
    False,
    Unknown,
}

impl std::fmt::Display for ConditionStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ConditionStatus::True => "True",
            ConditionStatus::False => "False",
            ConditionStatus::Unknown => "Unknown",
        })
    }
}

/// The conditions an instance reports. On the wire they are the strings of `as_str`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConditionType {
    SpecValid,
    Ready,
    Restored,
    PasswordSynced,
    StorageResized,
    LastBackupSucceeded,
    /// Point-in-time recovery: whether a restore can reach any second of a window.
    Recoverable,
    /// With replicas: whether every replica streams from the primary.
    Replicating,
    /// With replicas: whether the primary acknowledges a commit only once a replica
    /// has it.
    SemiSyncActive,
}

impl ConditionType {
    pub fn as_str(self) -> &'static str {
        match self {
            ConditionType::SpecValid => "SpecValid",
            ConditionType::Ready => "Ready",
            ConditionType::Restored => "Restored",
            ConditionType::PasswordSynced => "PasswordSynced",
            ConditionType::StorageResized => "StorageResized",
            ConditionType::LastBackupSucceeded => "LastBackupSucceeded",
            ConditionType::Recoverable => "Recoverable",
            ConditionType::Replicating => "Replicating",
            ConditionType::SemiSyncActive => "SemiSyncActive",
        }
    }
}

/// Why a condition has its status. On the wire they are the strings of `as_str`; the
/// operator reads some back (a decided restore, a synced password), so each is parsed
/// in one place, never compared as a literal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    Valid,
    InvalidSpec,
    DeploymentAvailable,
    DeploymentUnavailable,
    PodRefused,
    Restoring,
    Discovering,
    NoBackup,
    Restored,
    RestoreFailed,
    Synced,
    Changing,
    PasswordChangeFailed,
    SecretNotFound,
    AsRequested,
    CannotResize,
    BackupSucceeded,
    BackupFailed,
    Archiving,
    NoBaseBackup,
    BinlogGap,
    ArchivingBehind,
    BucketNotListed,
    AllReplicasStreaming,
    ReplicasNotStreaming,
    SemiSyncOn,
    FellBackToAsync,
    NoReplicaYet,
}

impl Reason {
    const ALL: [Reason; 28] = [
        Reason::Valid,
        Reason::InvalidSpec,
        Reason::DeploymentAvailable,
        Reason::DeploymentUnavailable,
        Reason::PodRefused,
        Reason::Restoring,
        Reason::Discovering,
        Reason::NoBackup,
        Reason::Restored,
        Reason::RestoreFailed,
        Reason::Synced,
        Reason::Changing,
        Reason::PasswordChangeFailed,
        Reason::SecretNotFound,
        Reason::AsRequested,
        Reason::CannotResize,
        Reason::BackupSucceeded,
        Reason::BackupFailed,
        Reason::Archiving,
        Reason::NoBaseBackup,
        Reason::BinlogGap,
        Reason::ArchivingBehind,
        Reason::BucketNotListed,
        Reason::AllReplicasStreaming,
        Reason::ReplicasNotStreaming,
        Reason::SemiSyncOn,
        Reason::FellBackToAsync,
        Reason::NoReplicaYet,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Valid => "Valid",
            Reason::InvalidSpec => "InvalidSpec",
            Reason::DeploymentAvailable => "DeploymentAvailable",
            Reason::DeploymentUnavailable => "DeploymentUnavailable",
            Reason::PodRefused => "PodRefused",
            Reason::Restoring => "Restoring",
            Reason::Discovering => "Discovering",
            Reason::NoBackup => "NoBackup",
            Reason::Restored => "Restored",
            Reason::RestoreFailed => "RestoreFailed",
            Reason::Synced => "Synced",
            Reason::Changing => "Changing",
            Reason::PasswordChangeFailed => "PasswordChangeFailed",
            Reason::SecretNotFound => "SecretNotFound",
            Reason::AsRequested => "AsRequested",
            Reason::CannotResize => "CannotResize",
            Reason::BackupSucceeded => "BackupSucceeded",
            Reason::BackupFailed => "BackupFailed",
            Reason::Archiving => "Archiving",
            Reason::NoBaseBackup => "NoBaseBackup",
            Reason::BinlogGap => "BinlogGap",
            Reason::ArchivingBehind => "ArchivingBehind",
            Reason::BucketNotListed => "BucketNotListed",
            Reason::AllReplicasStreaming => "AllReplicasStreaming",
            Reason::ReplicasNotStreaming => "ReplicasNotStreaming",
            Reason::SemiSyncOn => "SemiSyncOn",
            Reason::FellBackToAsync => "FellBackToAsync",
            Reason::NoReplicaYet => "NoReplicaYet",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

impl Condition {
    pub fn new(
        type_: ConditionType,
        status: ConditionStatus,
        reason: Reason,
        message: String,
        now: &str,
        observed_generation: Option<i64>,
    ) -> Self {
        Self {
            type_: type_.as_str().to_string(),
            status,
            reason: reason.as_str().to_string(),
            message,
            last_transition_time: now.to_string(),
            observed_generation,
        }
    }

    pub fn is(&self, type_: ConditionType) -> bool {
        self.type_ == type_.as_str()
    }

    /// The typed reason; None for a reason this version does not write.
    pub fn reason(&self) -> Option<Reason> {
        Reason::parse(&self.reason)
    }
}

/// The condition of `type_` in a list of conditions.
pub fn find_condition(conditions: &[Condition], type_: ConditionType) -> Option<&Condition> {
    conditions.iter().find(|c| c.is(type_))
}

/// Sets a condition in `conditions`, keeping `lastTransitionTime` unless the status
/// really changes, so that recomputing the same state writes nothing new.
pub fn set_condition(conditions: &mut Vec<Condition>, mut new: Condition) {
    match conditions.iter_mut().find(|c| c.type_ == new.type_) {
        Some(existing) => {
            if existing.status == new.status {
                new.last_transition_time = existing.last_transition_time.clone();
            }
            *existing = new;
        }
        None => conditions.push(new),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(status: ConditionStatus, reason: &str, at: &str) -> Condition {
        Condition {
            type_: "Ready".into(),
            status,
            reason: reason.into(),
            message: String::new(),
            last_transition_time: at.into(),
            observed_generation: Some(1),
        }
    }

    #[test]
    fn every_reason_parses_back_from_its_wire_string() {
        for reason in Reason::ALL {
            assert_eq!(Reason::parse(reason.as_str()), Some(reason));
        }
        assert_eq!(Reason::parse("NoSuchReason"), None);
    }

    #[test]
    fn same_status_keeps_the_transition_time() {
        let mut conditions = vec![cond(ConditionStatus::True, "A", "t1")];
        set_condition(&mut conditions, cond(ConditionStatus::True, "B", "t2"));
        assert_eq!(conditions.len(), 1);
        assert_eq!(conditions[0].last_transition_time, "t1");
        assert_eq!(conditions[0].reason, "B");
    }

    #[test]
    fn changed_status_moves_the_transition_time() {
        let mut conditions = vec![cond(ConditionStatus::True, "A", "t1")];
        set_condition(&mut conditions, cond(ConditionStatus::False, "A", "t2"));
        assert_eq!(conditions[0].last_transition_time, "t2");
        assert_eq!(conditions[0].status, ConditionStatus::False);
    }
}
