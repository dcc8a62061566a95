//! Status computation: pure functions from what the reconciler observed to the status
//! it should write, and the Events that a change of status deserves.

use kube::runtime::events::EventType;

use crate::api::{
    Condition, ConditionStatus, ConditionType, EventReason, LastBackup, MemberRole, MySQL,
    MySQLStatus, Phase, Reason, set_condition,
};
use crate::names::InstanceNames;
use crate::reconcile::Notice;

/// What became of restoring this incarnation from an earlier backup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RestoreState {
    /// No successful backup of an instance with this name existed at creation.
    NothingToRestore,
    /// Looking for dumps on a backup volume that outlived the instance's records.
    Discovering,
    Running {
        backup: String,
    },
    Succeeded {
        backup: String,
        request: Option<String>,
        /// The dump had no checksum (found on the volume, written by the course's
        /// operator): only its completeness was checked.
        unverified: bool,
        /// Where its archived binary logs were replayed up to, for a restore to a point
        /// in time.
        replayed: Option<crate::binlog::ReplayTarget>,
    },
    Failed {
        backup: String,
        why: FailureText,
        request: Option<String>,
    },
}

/// Why a step failed: a reason this reconcile found, which the condition frames, or
/// the condition's own words, recorded by an earlier reconcile and kept as they are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FailureText {
    Fresh(String),
    Recorded(String),
}

impl FailureText {
    pub fn as_str(&self) -> &str {
        match self {
            FailureText::Fresh(text) | FailureText::Recorded(text) => text,
        }
    }
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
    /// Why the API server refuses the server's pod (its admission's words, from the
    /// Deployment's ReplicaFailure condition), while it does.
    pub server_refused: Option<String>,
    /// With spec.updatePolicy manual: each server Deployment whose pod waits for a
    /// restart, and the changes it waits with.
    pub pending_restart: Vec<String>,
    /// A Job of the instance whose pod the API server refuses, and its words.
    pub job_refused: Option<String>,
    pub restore: Option<RestoreState>,
    pub password: PasswordState,
    pub storage: StorageState,
    pub latest_backup: Option<BackupOutcome>,
    /// Set while the instance is being deleted: what the deletion waits for.
    pub deleting: Option<String>,
    /// What must happen before the children can be applied (an earlier incarnation's
    /// volume still being deleted, an object of our name left by another owner).
    pub waiting: Option<crate::reconcile::Why>,
    /// The node whose disk holds the hostPath volumes.
    pub node: Option<String>,
    /// The next time of spec.backup.schedule.
    pub next_backup: Option<jiff::Timestamp>,
    /// With point-in-time recovery on: what a restore to a time can reach.
    pub recoverable: Option<Recoverability>,
    /// With replicas: the primary's Deployment and every member.
    pub primary: Option<String>,
    pub members: Vec<crate::api::MemberStatus>,
    /// A switchover request handled by this reconcile, and where it stands.
    pub switchover: Option<crate::api::SwitchoverStatus>,
    /// With replicas, once the primary answered: whether it is semi-synchronous.
    pub semi_sync: Option<SemiSync>,
    /// With replicas: whether losing the primary loses writes, and failover's record.
    pub health: Option<crate::api::Health>,
    pub failover: Option<crate::api::FailoverStatus>,
}

/// The primary's semi-synchronous replication, as it says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SemiSync {
    /// On, with this many replicas acknowledging.
    On { replicas: u32 },
    /// Switched on, but no replica acknowledged within the timeout: commits are
    /// acknowledged without a replica having them.
    FellBack,
    /// Not switched on yet: no replica streams (a write lives on one server, as
    /// without replicas).
    NoReplicaYet,
}

/// What point-in-time recovery can reach, from the dumps and the archived binary logs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recoverability {
    /// No dump with a binary log position yet.
    NoBaseBackup,
    Window {
        from: jiff::Timestamp,
        until: jiff::Timestamp,
        /// The first file missing after the window, which ends it.
        gap: Option<String>,
        /// The newest archived file ends this long ago, well past the interval: the
        /// archiver is failing (the bucket unreachable, the sidecar down).
        behind: Option<jiff::SignedDuration>,
    },
    /// The bucket could not be listed; the window is as last written.
    NotListed(String),
}

impl Observed {
    /// A live instance before anything is known about its parts.
    pub fn for_instance(
        generation: Option<i64>,
        names: &InstanceNames,
        latest_backup: Option<BackupOutcome>,
    ) -> Self {
        Observed {
            generation,
            endpoint: names.endpoint(),
            invalid_spec: None,
            deployment_available: false,
            server_refused: None,
            restore: None,
            password: PasswordState::Synced,
            storage: StorageState::AsRequested,
            latest_backup,
            deleting: None,
            waiting: None,
            node: None,
            next_backup: None,
            recoverable: None,
            primary: None,
            members: Vec::new(),
            switchover: None,
            semi_sync: None,
            health: None,
            failover: None,
            pending_restart: Vec::new(),
            job_refused: None,
        }
    }

    /// An instance being deleted, and what its deletion waits for.
    pub fn deleting(instance: &MySQL, names: &InstanceNames, message: String) -> Self {
        Observed {
            deleting: Some(message),
            ..Self::for_instance(instance.metadata.generation, names, None)
        }
    }
}

pub fn compute(previous: Option<&MySQLStatus>, observed: &Observed, now: &str) -> MySQLStatus {
    let mut status = previous.cloned().unwrap_or_default();
    let mut conditions = Conditions {
        list: std::mem::take(&mut status.conditions),
        now,
        generation: observed.generation,
    };
    conditions.spec_valid(observed);
    conditions.ready(observed);
    conditions.restored(observed, &mut status);
    conditions.password(observed);
    conditions.storage(observed);
    conditions.last_backup(observed, &mut status);
    conditions.recoverable(observed, &mut status);
    conditions.replicating(observed);
    conditions.semi_sync(observed);
    status.conditions = conditions.list;
    status.primary = observed.primary.clone();
    status.members = observed.members.clone();
    if observed.switchover.is_some() {
        status.switchover = observed.switchover.clone();
    }
    status.health = observed.health.filter(|_| !observed.members.is_empty());
    if observed.failover.is_some() {
        status.failover = observed.failover.clone();
    }
    let phase = phase_of(observed);
    status.phase = Some(phase);
    status.observed_generation = observed.generation;
    status.endpoint = Some(observed.endpoint.clone());
    status.next_backup = observed.next_backup.map(|t| t.to_string());
    if observed.node.is_some() {
        status.node = observed.node.clone();
    }
    status.pending_restart =
        (!observed.pending_restart.is_empty()).then(|| observed.pending_restart.join("; "));
    status.job_refused = observed.job_refused.clone();
    status.message = Some(message_of(phase, observed));
    status
}

/// The conditions being computed, with what every one of them is stamped with.
struct Conditions<'a> {
    list: Vec<Condition>,
    now: &'a str,
    generation: Option<i64>,
}

impl Conditions<'_> {
    fn set(
        &mut self,
        type_: ConditionType,
        state: ConditionStatus,
        reason: Reason,
        message: String,
    ) {
        let condition = Condition::new(type_, state, reason, message, self.now, self.generation);
        set_condition(&mut self.list, condition);
    }

    fn spec_valid(&mut self, observed: &Observed) {
        match &observed.invalid_spec {
            Some(message) => self.set(
                ConditionType::SpecValid,
                ConditionStatus::False,
                Reason::InvalidSpec,
                message.clone(),
            ),
            None => self.set(
                ConditionType::SpecValid,
                ConditionStatus::True,
                Reason::Valid,
                String::new(),
            ),
        }
    }

    fn ready(&mut self, observed: &Observed) {
        let (state, reason, message) = match (observed.deployment_available, &observed.restore) {
            // The server answers, but what a client reads now is about to be replaced:
            // `kubectl wait --for=condition=Ready` must not return before the data is back.
            (true, Some(RestoreState::Running { backup })) => (
                ConditionStatus::False,
                Reason::Restoring,
                format!("MySQL is up but still restoring from backup {backup}"),
            ),
            (true, Some(RestoreState::Discovering)) => (
                ConditionStatus::False,
                Reason::Restoring,
                "MySQL is up but first looks for dumps on its backup volume".into(),
            ),
            (true, _) => (
                ConditionStatus::True,
                Reason::DeploymentAvailable,
                "MySQL accepts connections".into(),
            ),
            (false, _) => match &observed.server_refused {
                Some(why) => (
                    ConditionStatus::False,
                    Reason::PodRefused,
                    format!("the API server refuses the MySQL pod: {why}"),
                ),
                None => (
                    ConditionStatus::False,
                    Reason::DeploymentUnavailable,
                    "waiting for the MySQL pod to become ready".into(),
                ),
            },
        };
        self.set(ConditionType::Ready, state, reason, message);
    }

    /// With replicas: True while every replica streams from the primary.
    fn replicating(&mut self, observed: &Observed) {
        if observed.members.is_empty() {
            self.list.retain(|c| !c.is(ConditionType::Replicating));
            return;
        }
        let behind: Vec<&str> = observed
            .members
            .iter()
            .filter(|m| m.role != MemberRole::Primary && m.role != MemberRole::Replica)
            .map(|m| m.name.as_str())
            .collect();
        let (state, reason, message) = if behind.is_empty() {
            (
                ConditionStatus::True,
                Reason::AllReplicasStreaming,
                format!(
                    "{} replicas stream from the primary",
                    observed.members.len() - 1
                ),
            )
        } else {
            (
                ConditionStatus::False,
                Reason::ReplicasNotStreaming,
                format!("not replicating yet: {}", behind.join(", ")),
            )
        };
        self.set(ConditionType::Replicating, state, reason, message);
    }

    /// With replicas, once the primary answered: whether a commit waits for a replica.
    fn semi_sync(&mut self, observed: &Observed) {
        if observed.members.is_empty() {
            self.list.retain(|c| !c.is(ConditionType::SemiSyncActive));
            return;
        }
        // A primary that does not answer: the condition stays as its last answer left it.
        let Some(semi_sync) = observed.semi_sync else {
            return;
        };
        let (state, reason, message) = match semi_sync {
            SemiSync::On { replicas } => (
                ConditionStatus::True,
                Reason::SemiSyncOn,
                format!("a commit is acknowledged once one of {replicas} replicas has it (AFTER_SYNC)"),
            ),
            SemiSync::FellBack => (
                ConditionStatus::False,
                Reason::FellBackToAsync,
                "no replica acknowledged within the timeout: the primary acknowledges commits no replica has yet".into(),
            ),
            SemiSync::NoReplicaYet => (
                ConditionStatus::False,
                Reason::NoReplicaYet,
                "no replica streams yet: semi-synchronous replication comes on once one does".into(),
            ),
        };
        self.set(ConditionType::SemiSyncActive, state, reason, message);
    }

    fn restored(&mut self, observed: &Observed, status: &mut MySQLStatus) {
        let (state, reason, message) = match &observed.restore {
            None => return,
            Some(RestoreState::NothingToRestore) => (
                ConditionStatus::False,
                Reason::NoBackup,
                "no earlier backup of this instance; started empty".into(),
            ),
            Some(RestoreState::Discovering) => (
                ConditionStatus::Unknown,
                Reason::Discovering,
                "looking for dumps on the backup volume, which has no records".into(),
            ),
            Some(RestoreState::Running { backup }) => (
                ConditionStatus::Unknown,
                Reason::Restoring,
                format!("restoring from backup {backup}"),
            ),
            Some(RestoreState::Succeeded {
                backup,
                request,
                unverified,
                replayed,
            }) => {
                status.restored_from = Some(backup.clone());
                status.restore_request = request.clone();
                let message = match (replayed, unverified) {
                    (Some(crate::binlog::ReplayTarget::Time(to_time)), _) => format!(
                        "restored from backup {backup} and its archived binary logs up to {to_time}"
                    ),
                    (Some(crate::binlog::ReplayTarget::BeforeGtid(gtid)), _) => format!(
                        "restored from backup {backup} and its archived binary logs up to the transaction {gtid}, which was left out"
                    ),
                    (None, true) => format!(
                        "restored from backup {backup}, a dump found without a checksum: unverified, but complete"
                    ),
                    (None, false) => format!("restored from backup {backup}"),
                };
                (ConditionStatus::True, Reason::Restored, message)
            }
            Some(RestoreState::Failed {
                backup,
                why,
                request,
            }) => {
                status.restore_request = request.clone();
                let text = match why {
                    FailureText::Fresh(reason) => {
                        format!("restore from backup {backup} failed: {reason}")
                    }
                    FailureText::Recorded(said) => said.clone(),
                };
                (ConditionStatus::False, Reason::RestoreFailed, text)
            }
        };
        self.set(ConditionType::Restored, state, reason, message);
    }

    /// The Recoverable condition and the window's ends; both go when point-in-time
    /// recovery is turned off.
    fn recoverable(&mut self, observed: &Observed, status: &mut MySQLStatus) {
        let Some(recoverable) = &observed.recoverable else {
            self.list.retain(|c| !c.is(ConditionType::Recoverable));
            status.recoverable_from = None;
            status.recoverable_until = None;
            return;
        };
        let (state, reason, message) = match recoverable {
            Recoverability::NoBaseBackup => {
                status.recoverable_from = None;
                status.recoverable_until = None;
                (
                    ConditionStatus::False,
                    Reason::NoBaseBackup,
                    "binary logs are archived, but no backup records a binary log position yet: a restore to a time starts from one (kubectl mysql backup)".to_string(),
                )
            }
            Recoverability::Window {
                from,
                until,
                gap,
                behind,
            } => {
                status.recoverable_from = Some(from.to_string());
                status.recoverable_until = Some(until.to_string());
                match (gap, behind) {
                    (Some(missing), _) => (
                        ConditionStatus::False,
                        Reason::BinlogGap,
                        format!(
                            "the binary log {missing} is missing from the bucket: restores reach only {from} to {until}, and nothing after {until} until the next backup"
                        ),
                    ),
                    (None, Some(behind)) => (
                        ConditionStatus::False,
                        Reason::ArchivingBehind,
                        format!(
                            "the newest archived binary log ends {}s ago: archiving is failing (see the binlog-archiver container's log); restores reach {from} to {until}",
                            behind.as_secs()
                        ),
                    ),
                    (None, None) => (
                        ConditionStatus::True,
                        Reason::Archiving,
                        format!("restores can reach any second from {from} to {until}"),
                    ),
                }
            }
            Recoverability::NotListed(message) => (
                ConditionStatus::Unknown,
                Reason::BucketNotListed,
                format!("the archived binary logs could not be listed: {message}"),
            ),
        };
        self.set(ConditionType::Recoverable, state, reason, message);
    }

    fn password(&mut self, observed: &Observed) {
        let (state, reason, message) = match &observed.password {
            PasswordState::Synced => (
                ConditionStatus::True,
                Reason::Synced,
                "the server uses the password from the spec".into(),
            ),
            PasswordState::Changing => (
                ConditionStatus::Unknown,
                Reason::Changing,
                "changing the root password".into(),
            ),
            PasswordState::Failed { message } => (
                ConditionStatus::False,
                Reason::PasswordChangeFailed,
                format!("{message}; the old password still works"),
            ),
            PasswordState::SecretMissing { message } => (
                ConditionStatus::False,
                Reason::SecretNotFound,
                message.clone(),
            ),
        };
        self.set(ConditionType::PasswordSynced, state, reason, message);
    }

    fn storage(&mut self, observed: &Observed) {
        let (state, reason, message) = match &observed.storage {
            StorageState::AsRequested => {
                (ConditionStatus::True, Reason::AsRequested, String::new())
            }
            StorageState::CannotResize { current, message } => (
                ConditionStatus::False,
                Reason::CannotResize,
                format!("the data volume stays at {current}: {message}"),
            ),
        };
        self.set(ConditionType::StorageResized, state, reason, message);
    }

    fn last_backup(&mut self, observed: &Observed, status: &mut MySQLStatus) {
        let (state, reason, message) = match &observed.latest_backup {
            None => return,
            Some(BackupOutcome::Succeeded(last)) => {
                status.last_backup = Some(last.clone());
                (
                    ConditionStatus::True,
                    Reason::BackupSucceeded,
                    format!("backup {} succeeded", last.name),
                )
            }
            Some(BackupOutcome::Failed { name, message }) => (
                ConditionStatus::False,
                Reason::BackupFailed,
                format!("backup {name} failed: {message}"),
            ),
        };
        self.set(ConditionType::LastBackupSucceeded, state, reason, message);
    }
}

fn phase_of(observed: &Observed) -> Phase {
    if observed.deleting.is_some() {
        return Phase::Deleting;
    }
    if observed.invalid_spec.is_some() {
        return Phase::Failed;
    }
    if matches!(
        observed.restore,
        Some(RestoreState::Running { .. } | RestoreState::Discovering)
    ) {
        return Phase::Restoring;
    }
    if observed.password == PasswordState::Changing {
        return Phase::Updating;
    }
    match (observed.deployment_available, &observed.waiting) {
        (true, _) => Phase::Ready,
        (false, Some(_)) => Phase::Pending,
        (false, None) => Phase::Creating,
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
            (_, Some(RestoreState::Failed { why, .. })) => {
                format!("ready, but the restore failed: {}", why.as_str())
            }
            _ => format!("ready at {}", observed.endpoint),
        },
        Phase::Pending => match &observed.waiting {
            Some(why) => format!("waiting: {why}"),
            None => "waiting".into(),
        },
        _ => "creating the MySQL server".into(),
    }
}

/// The status of a paused instance: what it had, with phase and message saying so. The
/// generation is observed (seen, and deliberately held), so a client can tell a spec
/// change that was seen while paused from one not seen yet.
pub fn paused(
    previous: Option<&MySQLStatus>,
    name: &str,
    generation: Option<i64>,
    deleting: bool,
) -> MySQLStatus {
    let mut status = previous.cloned().unwrap_or_default();
    status.phase = Some(Phase::Paused);
    status.observed_generation = generation;
    status.message = Some(if deleting {
        format!("paused: the deletion (and its backup) waits; `kubectl mysql resume {name}`")
    } else {
        format!("paused: nothing is reconciled; `kubectl mysql resume {name}`")
    });
    status
}

/// The Events a change from `old` to `new` deserves: one per condition that moved.
/// Derived from the status, so a restarted operator does not repeat them.
pub fn notices(old: Option<&MySQLStatus>, new: &MySQLStatus) -> Vec<Notice> {
    let before_of = |condition: &Condition| {
        old.and_then(|s| s.conditions.iter().find(|c| c.type_ == condition.type_))
    };
    let waits = new
        .pending_restart
        .as_ref()
        .filter(|now| old.and_then(|o| o.pending_restart.as_ref()) != Some(*now))
        .map(|now| Notice::normal(EventReason::RestartWaits, now.clone()));
    let refused = new
        .job_refused
        .as_ref()
        .filter(|now| old.and_then(|o| o.job_refused.as_ref()) != Some(*now))
        .map(|now| Notice::warning(EventReason::PodRefused, now.clone()));
    let moved = new
        .conditions
        .iter()
        .filter(|condition| {
            !before_of(condition)
                .is_some_and(|b| b.status == condition.status && b.reason == condition.reason)
        })
        .filter_map(|condition| {
            let was_true = before_of(condition).is_some_and(|b| b.status == ConditionStatus::True);
            let (type_, reason) = notice_for(condition, was_true, old)?;
            Some(Notice {
                type_,
                reason,
                message: condition.message.clone(),
            })
        });
    moved.chain(waits).chain(refused).collect()
}

/// The Event a condition that moved deserves, if any.
fn notice_for(
    condition: &Condition,
    was_true: bool,
    old: Option<&MySQLStatus>,
) -> Option<(EventType, EventReason)> {
    use ConditionType as T;
    let type_ = [
        T::Ready,
        T::Restored,
        T::PasswordSynced,
        T::StorageResized,
        T::LastBackupSucceeded,
        T::SpecValid,
        T::Recoverable,
        T::SemiSyncActive,
    ]
    .into_iter()
    .find(|t| condition.is(*t))?;
    let was_changing = || {
        old.and_then(|o| crate::api::find_condition(&o.conditions, T::PasswordSynced))
            .is_some_and(|c| c.reason() == Some(Reason::Changing))
    };
    Some(match (type_, condition.reason()?) {
        (T::Ready, Reason::DeploymentAvailable) => (EventType::Normal, EventReason::Ready),
        (T::SemiSyncActive, Reason::FellBackToAsync) => {
            (EventType::Warning, EventReason::SemiSyncFellBack)
        }
        (T::SemiSyncActive, _) => return None,
        // RestoreStarted already says why.
        (T::Ready, Reason::Restoring) => return None,
        (T::Ready, Reason::PodRefused) => (EventType::Warning, EventReason::PodRefused),
        (T::Ready, _) if was_true => (EventType::Warning, EventReason::NotReady),
        (T::Restored, Reason::Restoring) => (EventType::Normal, EventReason::RestoreStarted),
        (T::Restored, Reason::Discovering) => {
            (EventType::Normal, EventReason::ScanningBackupVolume)
        }
        (T::Restored, Reason::Restored) => (EventType::Normal, EventReason::Restored),
        (T::Restored, Reason::RestoreFailed) => (EventType::Warning, EventReason::RestoreFailed),
        (T::PasswordSynced, Reason::Changing) => {
            (EventType::Normal, EventReason::PasswordChangeStarted)
        }
        (T::PasswordSynced, Reason::Synced) if was_changing() => {
            (EventType::Normal, EventReason::PasswordChanged)
        }
        (T::PasswordSynced, Reason::PasswordChangeFailed) => {
            (EventType::Warning, EventReason::PasswordChangeFailed)
        }
        (T::PasswordSynced, Reason::SecretNotFound) => {
            (EventType::Warning, EventReason::SecretNotFound)
        }
        (T::StorageResized, Reason::CannotResize) => {
            (EventType::Warning, EventReason::CannotResize)
        }
        (T::LastBackupSucceeded, Reason::BackupSucceeded) => {
            (EventType::Normal, EventReason::BackupSucceeded)
        }
        (T::LastBackupSucceeded, Reason::BackupFailed) => {
            (EventType::Warning, EventReason::BackupFailed)
        }
        (T::SpecValid, Reason::InvalidSpec) => (EventType::Warning, EventReason::InvalidSpec),
        (T::Recoverable, Reason::Archiving) if !was_true => {
            (EventType::Normal, EventReason::Recoverable)
        }
        (T::Recoverable, Reason::BinlogGap) => (EventType::Warning, EventReason::BinlogGap),
        (T::Recoverable, Reason::ArchivingBehind) => {
            (EventType::Warning, EventReason::ArchivingBehind)
        }
        _ => return None,
    })
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
            server_refused: None,
            restore: Some(RestoreState::NothingToRestore),
            password: PasswordState::Synced,
            storage: StorageState::AsRequested,
            latest_backup: None,
            deleting: None,
            waiting: None,
            node: None,
            next_backup: None,
            recoverable: None,
            primary: None,
            members: Vec::new(),
            switchover: None,
            semi_sync: None,
            health: None,
            failover: None,
            pending_restart: Vec::new(),
            job_refused: None,
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
        assert_eq!(reasons, vec![EventReason::Ready]);
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
                replayed: None,
                backup: "b1".into(),
                request: None,
                unverified: false,
            }),
            deployment_available: true,
            ..observed()
        };
        let s2 = compute(Some(&s1), &done, "t2");
        assert_eq!(s2.phase, Some(Phase::Ready));
        assert_eq!(s2.restored_from.as_deref(), Some("b1"));
        let reasons: Vec<_> = notices(Some(&s1), &s2).iter().map(|n| n.reason).collect();
        assert!(reasons.contains(&EventReason::Restored), "{reasons:?}");
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
                .find(|c| c.is(ConditionType::Ready))
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
            vec![EventReason::RestoreStarted],
            "no NotReady warning for a restore"
        );
        let done = RestoreState::Succeeded {
            replayed: None,
            backup: "b1".into(),
            request: None,
            unverified: false,
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
        assert_eq!(n[0].reason, EventReason::PasswordChangeFailed);
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
        assert_eq!(reasons, vec![EventReason::PasswordChanged]);
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
