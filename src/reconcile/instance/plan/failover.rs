//! Automatic failover of a replicated instance, decided from what the members say now
//! and what the status recorded (so that an operator restarted half way finishes what
//! its predecessor started):
//!
//! 1. detection: the primary is failed once it has not answered for
//!    `spec.failover.after`, or at once when it restarted (members start read-only)
//!    and a replica holds every transaction it has;
//! 2. the rails: a majority of members answer, every replica that streamed answers
//!    (one may hold an acknowledged write the others lack), semi-synchronous
//!    replication was on (else a write may have been acknowledged with no replica
//!    having it), no switchover, restore or point-in-time archive in the way;
//! 3. fencing first: the old primary out of `NAME`, its replicas stop receiving from
//!    it (so nothing it commits is acknowledged: semi-sync with no replica
//!    acknowledging never returns), and it is fenced too if it answers;
//! 4. the candidate: a drained replica holding every transaction any other member
//!    has (GTID sets compared, errant ones never promoted), promoted; the others
//!    follow it;
//! 5. done once it takes writes: recorded, with the position and how long writes were
//!    refused.

use crate::api::{
    EventReason, FailoverRecord, FailoverRun, FailoverStatus, Health, MemberRole, SetAsideRecord,
};
use crate::dialect::Dialect;
use crate::dialect::replication::MemberState;
use crate::reconcile::Notice;
use crate::reconcile::instance::snapshot::{MemberPod, Members};

use super::{Inputs, MemberWrite, Plan, Write};

/// After a failover, a primary that restarted is made writable again rather than
/// replaced, for this long: only a primary that stops answering for
/// `spec.failover.after` fails over again within it (no ping-pong).
pub const COOL_DOWN: jiff::SignedDuration = jiff::SignedDuration::from_mins(5);

/// How the primary is, for failover's sake.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrimaryHealth {
    Answering,
    /// Its server came back read-only while still labelled the primary: mysqld
    /// restarted (members start read-only; a fenced primary loses its label first).
    Restarted,
    /// It cannot be asked: why.
    Down(String),
}

/// The steps of a failover a plan takes (each one a point the tests kill the operator
/// at: `KUBECTL_MYSQL_KILL_AT=failover-STEP-applied|recorded`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailoverStep {
    /// The failed primary and its replicas being fenced.
    Fencing,
    /// The candidate promoted and the others pointed at it.
    Promoting,
    /// The candidate takes writes: recorded.
    Done,
}

impl FailoverStep {
    pub fn name(self) -> &'static str {
        match self {
            FailoverStep::Fencing => "fencing",
            FailoverStep::Promoting => "promoting",
            FailoverStep::Done => "done",
        }
    }
}

/// What failover decided this reconcile, for the rest of the members' plan and the
/// status.
#[derive(Clone, Debug, PartialEq)]
pub struct FailoverOutcome {
    /// What `status.failover` becomes.
    pub status: FailoverStatus,
    pub health: Option<Health>,
    /// A failover runs: the old primary is not made writable, members are not
    /// repointed by the usual rules, the old primary's label stays off.
    pub under_way: bool,
    pub step: Option<FailoverStep>,
    /// Look again this soon.
    pub look_again: Option<jiff::SignedDuration>,
}

impl FailoverOutcome {
    fn new(status: FailoverStatus) -> Self {
        Self {
            status,
            health: None,
            under_way: false,
            step: None,
            look_again: None,
        }
    }
}

/// How soon a primary that stopped answering, or a failover under way, is looked at
/// again.
pub const FAILOVER_LOOK: jiff::SignedDuration = jiff::SignedDuration::from_secs(1);

pub fn primary_health(pod: Option<&MemberPod>) -> PrimaryHealth {
    let Some(pod) = pod else {
        return PrimaryHealth::Down("its pod is not running".to_string());
    };
    match &pod.state {
        Err(why) => PrimaryHealth::Down(why.clone()),
        Ok(state)
            if state.read_only
                && pod.role_label.as_deref() == Some(MemberRole::Primary.label()) =>
        {
            PrimaryHealth::Restarted
        }
        Ok(_) => PrimaryHealth::Answering,
    }
}

/// The member's state with its received transactions as its executed ones: what it
/// would hold once drained.
fn as_received(state: &MemberState) -> MemberState {
    let mut received = state.clone();
    if let Some(replica) = &state.replica
        && !replica.received.is_empty()
    {
        received.executed = replica.received.clone();
        received.binlog_state = format!("{},{}", state.binlog_state, replica.received);
    }
    received
}

/// The replica to promote in place of `failed`: one that replicated from it, applies
/// without error, has applied all it received and holds every transaction any other
/// answering member has or received (errant ones set apart). Lowest index first.
pub fn choose_candidate(
    failed: u32,
    failed_host: &str,
    members: &Members,
    dialect: Dialect,
) -> Result<u32, String> {
    let answering: Vec<(u32, &MemberState)> = members
        .pods
        .iter()
        .filter_map(|(i, p)| p.state.as_ref().ok().map(|s| (*i, s)))
        .collect();
    let mut reasons = Vec::new();
    for &(index, state) in answering.iter().filter(|(i, _)| *i != failed) {
        let Some(replica) = &state.replica else {
            reasons.push(format!("member {index} replicates from no one"));
            continue;
        };
        if replica.source_host != failed_host || !replica.sql_running {
            reasons.push(format!(
                "member {index} does not apply the failed primary's transactions"
            ));
            continue;
        }
        if let Some(error) = &replica.sql_error {
            reasons.push(format!("member {index} stopped applying: {error}"));
            continue;
        }
        let errant = errant_without_primary(index, state, &answering, dialect);
        if !errant.is_empty() {
            reasons.push(format!(
                "member {index} has errant transactions {}",
                errant.join(",")
            ));
            continue;
        }
        if !dialect.drained(state) {
            reasons.push(format!("member {index} is still applying what it received"));
            continue;
        }
        let lacking: Vec<String> = answering
            .iter()
            .filter(|(other, _)| *other != index)
            .flat_map(|(other, other_state)| {
                let errant = errant_without_primary(*other, other_state, &answering, dialect);
                let mut lacks = dialect.missing_on(state, &as_received(other_state));
                lacks.extend(dialect.missing_on(state, other_state));
                lacks.retain(|g| !errant.contains(g));
                lacks
                    .into_iter()
                    .map(move |g| format!("{g} (member {other})"))
            })
            .collect();
        if lacking.is_empty() {
            return Ok(index);
        }
        reasons.push(format!("member {index} lacks {}", lacking.join(", ")));
    }
    Err(if reasons.is_empty() {
        "no replica answers".to_string()
    } else {
        reasons.join("; ")
    })
}

/// A member's own writes that no other answering member has: errant, when the
/// primary cannot be asked (a former primary's own writes reached the others).
fn errant_without_primary(
    index: u32,
    state: &MemberState,
    answering: &[(u32, &MemberState)],
    dialect: Dialect,
) -> Vec<String> {
    let others: Vec<&MemberState> = answering
        .iter()
        .filter(|(i, _)| *i != index)
        .map(|(_, s)| *s)
        .collect();
    let mut errant: Option<Vec<String>> = None;
    for other in others {
        let on_this = dialect.errant(other, state);
        errant = Some(match errant {
            None => on_this,
            Some(so_far) => so_far.into_iter().filter(|g| on_this.contains(g)).collect(),
        });
    }
    errant.unwrap_or_default()
}

/// Why a member that is not the primary must be set aside rather than follow it: the
/// transactions it has that the primary lacks. For a member that follows the primary
/// without error, only its own writes count (errant): it may have been read a moment
/// after the primary, ahead of the primary's answer. For any other (an old primary
/// that no one repointed yet, a replica whose replication broke) every transaction
/// counts: its position stands still. Never for a fresh member.
pub fn divergence(
    member: &MemberPod,
    primary: &MemberState,
    primary_host: &str,
    dialect: Dialect,
) -> Option<(SetAsideReason, Vec<String>)> {
    let state = member.state.as_ref().ok()?;
    if state.logged_nothing {
        return None;
    }
    let own = dialect.errant(primary, state);
    if !own.is_empty() {
        let reason = if state.replica.is_some() {
            SetAsideReason::Errant
        } else {
            SetAsideReason::Diverged
        };
        return Some((reason, own));
    }
    let replica = state.replica.as_ref();
    // The source itself refuses the member's position (MariaDB's and MySQL's error
    // 1236: not in its binary log, or purged from it): only a new copy follows it.
    let refused = replica
        .and_then(|r| r.io_error.as_deref())
        .is_some_and(|e| e.contains("1236"));
    if refused {
        return Some((SetAsideReason::Diverged, vec![state.executed.clone()]));
    }
    let follows = replica.is_some_and(|r| {
        r.source_host == primary_host && r.sql_error.is_none() && r.io_error.is_none()
    });
    if follows {
        return None;
    }
    let extra = dialect.missing_on(primary, state);
    (!extra.is_empty()).then_some((SetAsideReason::Diverged, extra))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetAsideReason {
    /// A replica wrote transactions of its own.
    Errant,
    /// A former primary has transactions that never reached a replica.
    Diverged,
}

impl SetAsideReason {
    fn describe(self) -> &'static str {
        match self {
            SetAsideReason::Errant => "errant transactions (written on the replica itself)",
            SetAsideReason::Diverged => {
                "transactions no other member got (never acknowledged to a client)"
            }
        }
    }
}

impl Inputs<'_> {
    fn failover_status(&self) -> FailoverStatus {
        self.instance
            .status
            .as_ref()
            .and_then(|s| s.failover.clone())
            .unwrap_or_default()
    }

    /// The member index of a failover under way's candidate, once promoted.
    pub(super) fn failover_candidate(&self) -> Option<u32> {
        let run = self.failover_status().running?;
        self.names().member_index(run.candidate.as_deref()?)
    }

    /// Detection, the rails and each step of a failover of `primary`.
    pub(super) fn failover(
        &self,
        primary: u32,
        members: &Members,
        (kept, restoring): (u32, bool),
        dialect: Dialect,
        plan: &mut Plan,
    ) -> FailoverOutcome {
        let names = self.names();
        let mut status = self.failover_status();
        let previous_message = status.message.take();
        if let Some(run) = status.running.clone() {
            if names.member_index(&run.from) != Some(primary) {
                return self.finish_failover(run, primary, members, status, plan);
            }
            return self.fail_over(run, primary, members, dialect, status, plan);
        }
        let health = primary_health(members.pods.get(&primary));
        if health == PrimaryHealth::Answering {
            remember_last_look(&mut status, primary, members, names);
        }
        if health == PrimaryHealth::Answering || self.instance.spec.failover_after().is_none() {
            status.primary_down_since = None;
            return FailoverOutcome::new(status);
        }
        let since = status
            .primary_down_since
            .as_deref()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            .unwrap_or(self.now);
        status.primary_down_since = Some(since.to_string());
        let mut outcome = FailoverOutcome::new(status.clone());
        let reason = match self.failover_due(&health, (since, &status), primary, members, dialect) {
            Due::No => {
                if health == PrimaryHealth::Restarted {
                    // It takes writes again (`primary_writes`): not down any more.
                    outcome.status.primary_down_since = None;
                    return outcome;
                }
                outcome.health = Some(Health::Degraded);
                let after = self.instance.spec.failover_after().unwrap_or_default();
                let due_in = (since + after).duration_since(self.now);
                outcome.look_again = Some(due_in.max(FAILOVER_LOOK).min(FAILOVER_LOOK * 3));
                return outcome;
            }
            Due::Now(reason) => reason,
        };
        let refusal = if restoring {
            Some("a restore is loading into the primary".to_string())
        } else {
            self.failover_refusal(primary, members, kept, &status)
        };
        if let Some(why) = refusal {
            if previous_message.as_deref() != Some(why.as_str()) {
                plan.events
                    .push(Notice::warning(EventReason::FailoverRefused, why.clone()));
            }
            outcome.status.message = Some(why);
            outcome.health = Some(Health::Failed);
            outcome.look_again = Some(FAILOVER_LOOK * 3);
            return outcome;
        }
        plan.events.push(Notice::warning(
            EventReason::FailoverStarted,
            format!(
                "{} failed ({reason}): fencing it and promoting the replica that holds every transaction",
                names.member_deployment(primary)
            ),
        ));
        let run = FailoverRun {
            from: names.member_deployment(primary),
            started_at: self.now.to_string(),
            reason,
            candidate: None,
        };
        status.running = Some(run.clone());
        self.fail_over(run, primary, members, dialect, status, plan)
    }

    /// Whether the failed primary is to be replaced now, and why.
    fn failover_due(
        &self,
        health: &PrimaryHealth,
        (since, status): (jiff::Timestamp, &FailoverStatus),
        primary: u32,
        members: &Members,
        dialect: Dialect,
    ) -> Due {
        let after = self.instance.spec.failover_after().unwrap_or_default();
        match health {
            PrimaryHealth::Answering => Due::No,
            PrimaryHealth::Down(why) if self.now.duration_since(since) >= after => {
                Due::Now(format!("not answering for {}s: {why}", after.as_secs()))
            }
            PrimaryHealth::Down(_) => Due::No,
            PrimaryHealth::Restarted => {
                let cooling = status
                    .last
                    .as_ref()
                    .and_then(|l| l.at.parse::<jiff::Timestamp>().ok())
                    .is_some_and(|at| self.now.duration_since(at) < COOL_DOWN);
                let state = members
                    .pods
                    .get(&primary)
                    .and_then(|p| p.state.as_ref().ok());
                let covered = state.is_some_and(|primary_state| {
                    members.pods.iter().any(|(index, pod)| {
                        *index != primary
                            && pod.state.as_ref().is_ok_and(|s| {
                                s.replica.is_some()
                                    && dialect
                                        .missing_on(&as_received(s), primary_state)
                                        .is_empty()
                            })
                    })
                });
                if cooling || !covered {
                    Due::No
                } else {
                    Due::Now(
                        "its server restarted; a replica holds every transaction it has"
                            .to_string(),
                    )
                }
            }
        }
    }

    /// Why no failover may start: None when it may.
    fn failover_refusal(
        &self,
        primary: u32,
        members: &Members,
        kept: u32,
        last_look: &FailoverStatus,
    ) -> Option<String> {
        let names = self.names();
        let answering = members.pods.values().filter(|p| p.state.is_ok()).count() as u32;
        let silent_streamers: Vec<String> = last_look
            .last_seen_streaming
            .iter()
            .filter(|name| {
                names.member_index(name).is_some_and(|i| {
                    i != primary && members.pods.get(&i).is_none_or(|p| p.state.is_err())
                })
            })
            .cloned()
            .collect();
        let semi_sync_was_on = last_look.last_seen_semi_sync;
        if self.instance.pending_switchover().is_some() {
            Some("a switchover is under way".to_string())
        } else if self.instance.spec.point_in_time().is_some() {
            Some("point-in-time recovery archives beside member 0 only: failover is off while it is on".to_string())
        } else if answering * 2 <= kept {
            Some(format!(
                "only {answering} of {kept} members answer: a failover needs a majority (the operator may be the one cut off)"
            ))
        } else if !silent_streamers.is_empty() {
            Some(format!(
                "{} streamed from the primary and does not answer: it may hold an acknowledged write the others lack",
                silent_streamers.join(", ")
            ))
        } else if !semi_sync_was_on {
            Some("semi-synchronous replication was not on at the last look: a write may have been acknowledged that no replica has".to_string())
        } else {
            None
        }
    }

    /// One step of the failover `run` of `primary`: fencing until nothing can reach
    /// it or acknowledge it, then the candidate promoted and the others pointed at it.
    fn fail_over(
        &self,
        mut run: FailoverRun,
        primary: u32,
        members: &Members,
        dialect: Dialect,
        mut status: FailoverStatus,
        plan: &mut Plan,
    ) -> FailoverOutcome {
        let names = self.names();
        let failed_host = names.member_host(primary);
        let fenced = fence_failed_primary(primary, &failed_host, members, dialect, plan);
        let mut outcome = FailoverOutcome::new(status.clone());
        outcome.under_way = true;
        outcome.step = Some(FailoverStep::Fencing);
        outcome.health = Some(Health::FailingOver);
        outcome.look_again = Some(FAILOVER_LOOK);
        if !fenced {
            return outcome;
        }
        match choose_candidate(primary, &failed_host, members, dialect) {
            Ok(candidate) => {
                let pod = &members.pods[&candidate];
                let executed = pod
                    .state
                    .as_ref()
                    .map(|s| s.executed.clone())
                    .unwrap_or_default();
                super::member_writes::promote_writes(&pod.name, &executed, dialect, plan);
                let host = names.member_host(candidate);
                for (index, other) in &members.pods {
                    if *index != candidate && *index != primary {
                        let tls = self.instance.spec.tls.is_some();
                        super::member_writes::repoint_writes(other, (&host, tls), dialect, plan);
                    }
                }
                run.candidate = Some(names.member_deployment(candidate));
                outcome.step = Some(FailoverStep::Promoting);
            }
            Err(why) => {
                status.message = Some(format!("no replica can take over yet: {why}"));
                outcome.health = Some(Health::Failed);
            }
        }
        status.running = Some(run);
        outcome.status = status;
        outcome
    }

    /// The candidate takes writes: the failover is recorded and the run ends.
    fn finish_failover(
        &self,
        run: FailoverRun,
        primary: u32,
        members: &Members,
        mut status: FailoverStatus,
        plan: &mut Plan,
    ) -> FailoverOutcome {
        let names = self.names();
        let from_down = status
            .primary_down_since
            .as_deref()
            .or(Some(run.started_at.as_str()))
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            .unwrap_or(self.now);
        let refused = self.now.duration_since(from_down).as_secs().max(0) as u64;
        let position = members
            .pods
            .get(&primary)
            .and_then(|p| p.state.as_ref().ok())
            .map(|s| s.executed.clone())
            .unwrap_or_default();
        let to = names.member_deployment(primary);
        plan.events.push(Notice::normal(
            EventReason::FailedOver,
            format!(
                "{} → {to} at {position}; writes refused for {refused}s",
                run.from
            ),
        ));
        status.last = Some(FailoverRecord {
            from: run.from,
            to,
            position,
            at: self.now.to_string(),
            writes_refused_seconds: refused,
        });
        status.count += 1;
        status.running = None;
        status.primary_down_since = None;
        let mut outcome = FailoverOutcome::new(status);
        outcome.step = Some(FailoverStep::Done);
        outcome
    }

    /// A member with transactions the primary lacks is set aside: its data directory
    /// moved beside itself on its volume (never deleted), recorded, and the member
    /// seeded afresh in its place.
    pub(super) fn set_aside(
        &self,
        index: u32,
        member: &MemberPod,
        reason: SetAsideReason,
        transactions: Vec<String>,
        status: &mut FailoverStatus,
        plan: &mut Plan,
    ) {
        let names = self.names();
        let name = names.member_deployment(index);
        let transactions = transactions.join(",");
        let recorded = status
            .set_aside
            .iter()
            .any(|r| r.member == name && r.transactions == transactions);
        let directory = format!("set-aside-{}", self.now.strftime("%Y%m%dT%H%M%SZ"));
        if !recorded {
            if reason == SetAsideReason::Errant {
                plan.events.push(Notice::warning(
                    EventReason::ErrantTransactions,
                    format!("{name} wrote transactions of its own that the primary lacks: {transactions}; it is never promoted"),
                ));
            }
            plan.events.push(Notice::warning(
                EventReason::MemberSetAside,
                format!(
                    "{name} has {}: {transactions}; its data is kept in {directory} on its volume and it is seeded afresh",
                    reason.describe()
                ),
            ));
            status.set_aside.push(SetAsideRecord {
                member: name,
                reason: reason.describe().to_string(),
                transactions,
                directory: directory.clone(),
                at: self.now.to_string(),
            });
            // The newest ten are kept.
            let excess = status.set_aside.len().saturating_sub(10);
            status.set_aside.drain(..excess);
        }
        let directory = status
            .set_aside
            .iter()
            .rev()
            .find(|r| r.member == names.member_deployment(index))
            .map_or(directory, |r| r.directory.clone());
        plan.writes.push(Write::Member(MemberWrite::SetAside {
            pod: member.name.clone(),
            directory,
        }));
    }
}

/// What a failover decides from once the primary stops answering, as the last look
/// that had it answer saw it: the replicas streaming from it and its semi-sync.
fn remember_last_look(
    status: &mut FailoverStatus,
    primary: u32,
    members: &Members,
    names: &crate::names::InstanceNames,
) {
    let host = names.member_host(primary);
    status.last_seen_streaming = members
        .pods
        .iter()
        .filter(|(index, pod)| {
            **index != primary
                && pod.state.as_ref().is_ok_and(|s| {
                    s.replica
                        .as_ref()
                        .is_some_and(|r| r.source_host == host && r.io_running && r.sql_running)
                })
        })
        .map(|(index, _)| names.member_deployment(*index))
        .collect();
    status.last_seen_semi_sync = members
        .pods
        .get(&primary)
        .and_then(|p| p.state.as_ref().ok())
        .is_some_and(|s| s.semi_sync_source_enabled && s.semi_sync_source == Some(true));
}

enum Due {
    No,
    Now(String),
}

/// The failed primary out of `NAME`, fenced if it answers, and every replica stopped
/// from receiving (and acknowledging) its transactions. True once all of that holds.
fn fence_failed_primary(
    primary: u32,
    failed_host: &str,
    members: &Members,
    dialect: Dialect,
    plan: &mut Plan,
) -> bool {
    let mut fenced = true;
    if let Some(pod) = members.pods.get(&primary) {
        if pod.role_label.is_some() {
            plan.writes.push(Write::Member(MemberWrite::LabelRole {
                pod: pod.name.clone(),
                role: None,
            }));
            fenced = false;
        }
        if pod.state.as_ref().is_ok_and(|s| !s.read_only) {
            plan.writes.push(Write::Member(MemberWrite::Fence {
                pod: pod.name.clone(),
                sql: dialect.fence(),
            }));
            fenced = false;
        }
    }
    for (index, pod) in &members.pods {
        let receiving = pod.state.as_ref().is_ok_and(|s| {
            s.replica
                .as_ref()
                .is_some_and(|r| r.source_host == failed_host && (r.io_running || r.io_connecting))
        });
        if *index != primary && receiving {
            plan.writes.push(Write::Member(MemberWrite::RunSql {
                pod: pod.name.clone(),
                sql: dialect.stop_receiving().to_string(),
            }));
            fenced = false;
        }
    }
    fenced
}
