//! The reasons of the Events the operator publishes: a closed set, so that a test, an
//! alert or `kubectl get events --field-selector reason=…` can rely on each name.

/// Why an Event was published. The names are the API: never rename one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventReason {
    // An instance's conditions moving (derived from its status).
    Ready,
    NotReady,
    RestoreStarted,
    ScanningBackupVolume,
    Restored,
    RestoreFailed,
    PasswordChangeStarted,
    PasswordChanged,
    PasswordChangeFailed,
    SecretNotFound,
    CannotResize,
    InvalidSpec,
    Paused,
    Recoverable,
    BinlogGap,
    ArchivingBehind,
    PodRefused,
    // Steps that leave no trace in an instance's status.
    BackupScheduled,
    BackupExpired,
    BackupSkipped,
    BucketNotListed,
    BinlogsPruned,
    MemberSeeding,
    MemberSeedFailed,
    ScaleDownWaits,
    PrimaryChanged,
    SwitchoverStarted,
    SwitchedOver,
    SwitchoverRefused,
    SemiSyncFellBack,
    FailoverStarted,
    FailedOver,
    FailoverRefused,
    MemberSetAside,
    ErrantTransactions,
    ServerRestarting,
    RestartWaits,
    // A backup record's life.
    BackupStarted,
    BackupSucceeded,
    BackupFailed,
    Verified,
    VerificationFailed,
    DumpDeleted,
    DumpNotDeleted,
    DumpKept,
}

impl EventReason {
    pub const ALL: [EventReason; 45] = [
        EventReason::PodRefused,
        EventReason::ServerRestarting,
        EventReason::RestartWaits,
        EventReason::Ready,
        EventReason::NotReady,
        EventReason::RestoreStarted,
        EventReason::ScanningBackupVolume,
        EventReason::Restored,
        EventReason::RestoreFailed,
        EventReason::PasswordChangeStarted,
        EventReason::PasswordChanged,
        EventReason::PasswordChangeFailed,
        EventReason::SecretNotFound,
        EventReason::CannotResize,
        EventReason::InvalidSpec,
        EventReason::Paused,
        EventReason::Recoverable,
        EventReason::BinlogGap,
        EventReason::ArchivingBehind,
        EventReason::BackupScheduled,
        EventReason::BackupExpired,
        EventReason::BackupSkipped,
        EventReason::BucketNotListed,
        EventReason::BinlogsPruned,
        EventReason::MemberSeeding,
        EventReason::MemberSeedFailed,
        EventReason::ScaleDownWaits,
        EventReason::PrimaryChanged,
        EventReason::SwitchoverStarted,
        EventReason::SwitchedOver,
        EventReason::SwitchoverRefused,
        EventReason::SemiSyncFellBack,
        EventReason::FailoverStarted,
        EventReason::FailedOver,
        EventReason::FailoverRefused,
        EventReason::MemberSetAside,
        EventReason::ErrantTransactions,
        EventReason::BackupStarted,
        EventReason::BackupSucceeded,
        EventReason::BackupFailed,
        EventReason::Verified,
        EventReason::VerificationFailed,
        EventReason::DumpDeleted,
        EventReason::DumpNotDeleted,
        EventReason::DumpKept,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventReason::Ready => "Ready",
            EventReason::NotReady => "NotReady",
            EventReason::PodRefused => "PodRefused",
            EventReason::ServerRestarting => "ServerRestarting",
            EventReason::RestartWaits => "RestartWaits",
            EventReason::RestoreStarted => "RestoreStarted",
            EventReason::ScanningBackupVolume => "ScanningBackupVolume",
            EventReason::Restored => "Restored",
            EventReason::RestoreFailed => "RestoreFailed",
            EventReason::PasswordChangeStarted => "PasswordChangeStarted",
            EventReason::PasswordChanged => "PasswordChanged",
            EventReason::PasswordChangeFailed => "PasswordChangeFailed",
            EventReason::SecretNotFound => "SecretNotFound",
            EventReason::CannotResize => "CannotResize",
            EventReason::InvalidSpec => "InvalidSpec",
            EventReason::Paused => "Paused",
            EventReason::Recoverable => "Recoverable",
            EventReason::BinlogGap => "BinlogGap",
            EventReason::ArchivingBehind => "ArchivingBehind",
            EventReason::BackupScheduled => "BackupScheduled",
            EventReason::BackupExpired => "BackupExpired",
            EventReason::BackupSkipped => "BackupSkipped",
            EventReason::BucketNotListed => "BucketNotListed",
            EventReason::BinlogsPruned => "BinlogsPruned",
            EventReason::MemberSeeding => "MemberSeeding",
            EventReason::MemberSeedFailed => "MemberSeedFailed",
            EventReason::ScaleDownWaits => "ScaleDownWaits",
            EventReason::PrimaryChanged => "PrimaryChanged",
            EventReason::SwitchoverStarted => "SwitchoverStarted",
            EventReason::SwitchedOver => "SwitchedOver",
            EventReason::SwitchoverRefused => "SwitchoverRefused",
            EventReason::SemiSyncFellBack => "SemiSyncFellBack",
            EventReason::FailoverStarted => "FailoverStarted",
            EventReason::FailedOver => "FailedOver",
            EventReason::FailoverRefused => "FailoverRefused",
            EventReason::MemberSetAside => "MemberSetAside",
            EventReason::ErrantTransactions => "ErrantTransactions",
            EventReason::BackupStarted => "BackupStarted",
            EventReason::BackupSucceeded => "BackupSucceeded",
            EventReason::BackupFailed => "BackupFailed",
            EventReason::Verified => "Verified",
            EventReason::VerificationFailed => "VerificationFailed",
            EventReason::DumpDeleted => "DumpDeleted",
            EventReason::DumpNotDeleted => "DumpNotDeleted",
            EventReason::DumpKept => "DumpKept",
        }
    }

    /// The reason an Event's `reason` field names, if it is one of ours.
    pub fn parse(reason: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == reason)
    }
}

impl std::fmt::Display for EventReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_is_listed_once_and_reads_back() {
        let names: std::collections::BTreeSet<_> =
            EventReason::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(names.len(), EventReason::ALL.len());
        for reason in EventReason::ALL {
            assert_eq!(EventReason::parse(reason.as_str()), Some(reason));
            assert_eq!(reason.to_string(), format!("{reason:?}"));
        }
        assert_eq!(EventReason::parse("Unknown"), None);
    }
}
