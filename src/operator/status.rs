//! Status computation: pure functions from what the reconciler observed to the status
//! it should write, and the Events that a change of status deserves.

use kube::runtime::events::EventType;

use crate::api::{Condition, ConditionStatus, LastBackup, MySQLStatus, Phase, set_condition};

pub const READY: &str = "Ready";
pub const RESTORED: &str = "Restored";
pub const PASSWORD_SYNCED: &str = "PasswordSynced";
pub const STORAGE_RESIZED: &str = "StorageResized";
pub const LAST_BACKUP_SUCCEEDED: &str = "LastBackupSucceeded";
pub const SPEC_VALID: &str = "SpecValid";

/// What became of restoring this incarnation from an earlier backup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RestoreState {
    /// No successful backup of an instance with this name existed at creation.
    NothingToRestore,
    Running {
        backup: String,
    },
    Succeeded {
        backup: String,
        request: Option<String>,
    },
    Failed {
        backup: String,
        message: String,
        request: Option<String>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PasswordState {
    Synced,
    Changing,
    Failed {
        message: String,
    },
    /// The referenced Secret or key is missing.
    SecretMissing {
        message: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StorageState {
    AsRequested,
    /// The claim cannot grow to the requested size; it keeps `current`.
    CannotResize {
        current: String,
        message: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BackupOutcome {
    Succeeded(LastBackup),
    Failed { name: String, message: String },
}

/// Everything `compute` needs; gathered by the reconciler.
#[derive(Clone, Debug)]
pub struct Observed {
    pub generation: Option<i64>,
    pub endpoint: String,
    pub invalid_spec: Option<String>,
    pub deployment_available: bool,
    pub restore: Option<RestoreState>,
    pub password: PasswordState,
    pub storage: StorageState,
    pub latest_backup: Option<BackupOutcome>,
    /// Set while the instance is being deleted: what the deletion waits for.
    pub deleting: Option<String>,
}

pub fn compute(previous: Option<&MySQLStatus>, observed: &Observed, now: &str) -> MySQLStatus {
    let mut status = previous.cloned().unwrap_or_default();
    let generation = observed.generation;
    let mut set = |type_: &str, state: ConditionStatus, reason: &str, message: String| {
        set_condition(
            &mut status.conditions,
            Condition {
                type_: type_.to_string(),
                status: state,
                reason: reason.to_string(),
                message,
                last_transition_time: now.to_string(),
                observed_generation: generation,
            },
        )
    };

    match &observed.invalid_spec {
        Some(message) => set(
            SPEC_VALID,
            ConditionStatus::False,
            "InvalidSpec",
            message.clone(),
        ),
        None => set(SPEC_VALID, ConditionStatus::True, "Valid", String::new()),
    }

    match (observed.deployment_available, &observed.restore) {
        // The server answers, but what a client reads now is about to be replaced:
        // `kubectl wait --for=condition=Ready` must not return before the data is back.
        (true, Some(RestoreState::Running { backup })) => set(
            READY,
            ConditionStatus::False,
            "Restoring",
            format!("MySQL is up but still restoring from backup {backup}"),
        ),
        (true, _) => set(
            READY,
            ConditionStatus::True,
            "DeploymentAvailable",
            "MySQL accepts connections".into(),
        ),
        (false, _) => set(
            READY,
            ConditionStatus::False,
            "DeploymentUnavailable",
            "waiting for the MySQL pod to become ready".into(),
        ),
    }

    match &observed.restore {
        None => {}
        Some(RestoreState::NothingToRestore) => set(
            RESTORED,
            ConditionStatus::False,
            "NoBackup",
            "no earlier backup of this instance; started empty".into(),
        ),
        Some(RestoreState::Running { backup }) => set(
            RESTORED,
            ConditionStatus::Unknown,
            "Restoring",
            format!("restoring from backup {backup}"),
        ),
        Some(RestoreState::Succeeded { backup, request }) => {
            status.restored_from = Some(backup.clone());
            status.restore_request = request.clone();
            set(
                RESTORED,
                ConditionStatus::True,
                "Restored",
                format!("restored from backup {backup}"),
            )
        }
        Some(RestoreState::Failed {
            backup,
            message,
            request,
        }) => {
            status.restore_request = request.clone();
            let text = if message.starts_with("restore from backup") {
                message.clone()
            } else {
                format!("restore from backup {backup} failed: {message}")
            };
            set(RESTORED, ConditionStatus::False, "RestoreFailed", text)
        }
    }

    match &observed.password {
        PasswordState::Synced => set(
            PASSWORD_SYNCED,
            ConditionStatus::True,
            "Synced",
            "the server uses the password from the spec".into(),
        ),
        PasswordState::Changing => set(
            PASSWORD_SYNCED,
            ConditionStatus::Unknown,
            "Changing",
            "changing the root password".into(),
        ),
        PasswordState::Failed { message } => set(
            PASSWORD_SYNCED,
            ConditionStatus::False,
            "PasswordChangeFailed",
            format!("{message}; the old password still works"),
        ),
        PasswordState::SecretMissing { message } => set(
            PASSWORD_SYNCED,
            ConditionStatus::False,
            "SecretNotFound",
            message.clone(),
        ),
    }

    match &observed.storage {
        StorageState::AsRequested => set(
            STORAGE_RESIZED,
            ConditionStatus::True,
            "AsRequested",
            String::new(),
        ),
        StorageState::CannotResize { current, message } => set(
            STORAGE_RESIZED,
            ConditionStatus::False,
            "CannotResize",
            format!("the data volume stays at {current}: {message}"),
        ),
    }

    match &observed.latest_backup {
        None => {}
        Some(BackupOutcome::Succeeded(last)) => {
            status.last_backup = Some(last.clone());
            set(
                LAST_BACKUP_SUCCEEDED,
                ConditionStatus::True,
                "BackupSucceeded",
                format!("backup {} succeeded", last.name),
            )
        }
        Some(BackupOutcome::Failed { name, message }) => set(
            LAST_BACKUP_SUCCEEDED,
            ConditionStatus::False,
            "BackupFailed",
            format!("backup {name} failed: {message}"),
        ),
    }

    let phase = phase_of(observed);
    status.phase = Some(phase);
    status.observed_generation = generation;
    status.endpoint = Some(observed.endpoint.clone());
    status.message = Some(message_of(phase, observed));
    status
}

fn phase_of(observed: &Observed) -> Phase {
    if observed.deleting.is_some() {
        return Phase::Deleting;
    }
    if observed.invalid_spec.is_some() {
        return Phase::Failed;
    }
    if matches!(observed.restore, Some(RestoreState::Running { .. })) {
        return Phase::Restoring;
    }
    if observed.password == PasswordState::Changing {
        return Phase::Updating;
    }
    if observed.deployment_available {
        Phase::Ready
    } else {
        Phase::Creating
    }
}

fn message_of(phase: Phase, observed: &Observed) -> String {
    match phase {
        Phase::Deleting => observed.deleting.clone().unwrap_or_default(),
        Phase::Failed => observed.invalid_spec.clone().unwrap_or_default(),
        Phase::Restoring => "restoring the database from its last backup".into(),
        Phase::Updating => "changing the root password".into(),
        Phase::Ready => match (&observed.password, &observed.restore) {
            (PasswordState::Failed { message }, _) => {
                format!("ready, but the password change failed: {message}")
            }
            (_, Some(RestoreState::Failed { message, .. })) => {
                format!("ready, but the restore failed: {message}")
            }
            _ => format!("ready at {}", observed.endpoint),
        },
        _ => "creating the MySQL server".into(),
    }
}

/// An Event to publish on the instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub type_: EventType,
    pub reason: &'static str,
    pub message: String,
}

/// The Events a change from `old` to `new` deserves: one per condition that moved.
/// Derived from the status, so a restarted operator does not repeat them.
pub fn notices(old: Option<&MySQLStatus>, new: &MySQLStatus) -> Vec<Notice> {
    let find = |status: Option<&MySQLStatus>, type_: &str| {
        status.and_then(|s| s.conditions.iter().find(|c| c.type_ == type_).cloned())
    };
    let mut out = Vec::new();
    for condition in &new.conditions {
        let before = find(old, &condition.type_);
        if before
            .as_ref()
            .is_some_and(|b| b.status == condition.status && b.reason == condition.reason)
        {
            continue;
        }
        let (type_, reason) = match (condition.type_.as_str(), condition.reason.as_str()) {
            (READY, "DeploymentAvailable") => (EventType::Normal, "Ready"),
            // RestoreStarted already says why.
            (READY, "Restoring") => continue,
            (READY, _) if before.is_some_and(|b| b.status == ConditionStatus::True) => {
                (EventType::Warning, "NotReady")
            }
            (RESTORED, "Restoring") => (EventType::Normal, "RestoreStarted"),
            (RESTORED, "Restored") => (EventType::Normal, "Restored"),
            (RESTORED, "RestoreFailed") => (EventType::Warning, "RestoreFailed"),
            (PASSWORD_SYNCED, "Changing") => (EventType::Normal, "PasswordChangeStarted"),
            (PASSWORD_SYNCED, "Synced")
                if old.is_some_and(|o| {
                    o.conditions
                        .iter()
                        .any(|c| c.type_ == PASSWORD_SYNCED && c.reason == "Changing")
                }) =>
            {
                (EventType::Normal, "PasswordChanged")
            }
            (PASSWORD_SYNCED, "PasswordChangeFailed") => {
                (EventType::Warning, "PasswordChangeFailed")
            }
            (PASSWORD_SYNCED, "SecretNotFound") => (EventType::Warning, "SecretNotFound"),
            (STORAGE_RESIZED, "CannotResize") => (EventType::Warning, "CannotResize"),
            (LAST_BACKUP_SUCCEEDED, "BackupSucceeded") => (EventType::Normal, "BackupSucceeded"),
            (LAST_BACKUP_SUCCEEDED, "BackupFailed") => (EventType::Warning, "BackupFailed"),
            (SPEC_VALID, "InvalidSpec") => (EventType::Warning, "InvalidSpec"),
            _ => continue,
        };
        out.push(Notice {
            type_,
            reason,
            message: condition.message.clone(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observed() -> Observed {
        Observed {
            generation: Some(1),
            endpoint: "db.ns.svc:3306".into(),
            invalid_spec: None,
            deployment_available: false,
            restore: Some(RestoreState::NothingToRestore),
            password: PasswordState::Synced,
            storage: StorageState::AsRequested,
            latest_backup: None,
            deleting: None,
        }
    }

    fn observed_with(deployment_available: bool, restore: Option<RestoreState>) -> Observed {
        Observed {
            deployment_available,
            restore: restore.or(Some(RestoreState::NothingToRestore)),
            ..observed()
        }
    }

    #[test]
    fn creating_then_ready() {
        let first = compute(None, &observed(), "t1");
        assert_eq!(first.phase, Some(Phase::Creating));
        assert_eq!(first.endpoint.as_deref(), Some("db.ns.svc:3306"));
        let ready = Observed {
            deployment_available: true,
            ..observed()
        };
        let second = compute(Some(&first), &ready, "t2");
        assert_eq!(second.phase, Some(Phase::Ready));
        let reasons: Vec<_> = notices(Some(&first), &second)
            .iter()
            .map(|n| n.reason)
            .collect();
        assert_eq!(reasons, vec!["Ready"]);
    }

    #[test]
    fn recomputing_the_same_state_changes_nothing() {
        let first = compute(None, &observed(), "t1");
        let again = compute(Some(&first), &observed(), "t2");
        assert_eq!(first, again, "a resync must not produce a status write");
        assert!(notices(Some(&first), &again).is_empty());
    }

    #[test]
    fn restore_progress() {
        let running = Observed {
            restore: Some(RestoreState::Running {
                backup: "b1".into(),
            }),
            ..observed()
        };
        let s1 = compute(None, &running, "t1");
        assert_eq!(s1.phase, Some(Phase::Restoring));
        let done = Observed {
            restore: Some(RestoreState::Succeeded {
                backup: "b1".into(),
                request: None,
            }),
            deployment_available: true,
            ..observed()
        };
        let s2 = compute(Some(&s1), &done, "t2");
        assert_eq!(s2.phase, Some(Phase::Ready));
        assert_eq!(s2.restored_from.as_deref(), Some("b1"));
        let reasons: Vec<_> = notices(Some(&s1), &s2).iter().map(|n| n.reason).collect();
        assert!(reasons.contains(&"Restored"), "{reasons:?}");
    }

    #[test]
    fn not_ready_until_the_restore_is_done() {
        let ready = compute(None, &observed_with(true, None), "t0");
        let running = RestoreState::Running {
            backup: "b1".into(),
        };
        let restoring = compute(Some(&ready), &observed_with(true, Some(running)), "t1");
        let condition = |s: &MySQLStatus| {
            s.conditions
                .iter()
                .find(|c| c.type_ == READY)
                .map(|c| (c.status, c.reason.clone()))
                .unwrap()
        };
        assert_eq!(
            condition(&restoring),
            (ConditionStatus::False, "Restoring".to_string())
        );
        assert_eq!(restoring.phase, Some(Phase::Restoring));
        let reasons: Vec<_> = notices(Some(&ready), &restoring)
            .iter()
            .map(|n| n.reason)
            .collect();
        assert_eq!(
            reasons,
            vec!["RestoreStarted"],
            "no NotReady warning for a restore"
        );
        let done = RestoreState::Succeeded {
            backup: "b1".into(),
            request: None,
        };
        let restored = compute(Some(&restoring), &observed_with(true, Some(done)), "t2");
        assert_eq!(
            condition(&restored),
            (ConditionStatus::True, "DeploymentAvailable".to_string())
        );
    }

    #[test]
    fn failed_password_change_is_a_warning_and_keeps_ready() {
        let base = compute(
            None,
            &Observed {
                deployment_available: true,
                ..observed()
            },
            "t1",
        );
        let failed = Observed {
            deployment_available: true,
            password: PasswordState::Failed {
                message: "job failed".into(),
            },
            ..observed()
        };
        let s = compute(Some(&base), &failed, "t2");
        assert_eq!(s.phase, Some(Phase::Ready));
        assert!(
            s.message
                .as_deref()
                .unwrap()
                .contains("password change failed")
        );
        let n = notices(Some(&base), &s);
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].type_, EventType::Warning);
        assert_eq!(n[0].reason, "PasswordChangeFailed");
    }

    #[test]
    fn password_changed_event_only_after_changing() {
        let changing = compute(
            None,
            &Observed {
                password: PasswordState::Changing,
                ..observed()
            },
            "t1",
        );
        assert_eq!(changing.phase, Some(Phase::Updating));
        let synced = compute(Some(&changing), &observed(), "t2");
        let reasons: Vec<_> = notices(Some(&changing), &synced)
            .iter()
            .map(|n| n.reason)
            .collect();
        assert_eq!(reasons, vec!["PasswordChanged"]);
    }

    #[test]
    fn deleting_wins() {
        let s = compute(
            None,
            &Observed {
                deleting: Some("waiting for backup b1".into()),
                deployment_available: true,
                ..observed()
            },
            "t1",
        );
        assert_eq!(s.phase, Some(Phase::Deleting));
        assert_eq!(s.message.as_deref(), Some("waiting for backup b1"));
    }
}
