//! Failover's plan: detection, the rails, fencing before promotion, the candidate by
//! GTID sets, the record, and members set aside. Member 0 (`db`) is the primary of a
//! 3-member instance unless a case says otherwise.

use super::members::{
    labels, pod, primary_state, replica_state, replicated, running, writes_named,
};
use super::*;
use crate::api::{FailoverRun, FailoverStatus, Health};
use crate::dialect::replication::MemberState;

const SECOND: jiff::SignedDuration = jiff::SignedDuration::from_secs(1);

/// A 3-member (or `n`) instance whose last look found every replica streaming and
/// semi-sync on, with `failover` as its failover status.
fn watched(n: i32, failover: FailoverStatus) -> MySQL {
    let mut instance = with_conditions(
        replicated(n),
        &[(ConditionType::SemiSyncActive, Reason::SemiSyncOn)],
    );
    // MariaDB: the dialect that runs for real (its GTIDs are what these cases write).
    instance.spec.image = "mariadb:10.11".into();
    let status = instance.status.as_mut().unwrap();
    status.members = (0..n as u32)
        .map(|i| crate::api::MemberStatus {
            name: names().member_deployment(i),
            role: if i == 0 {
                crate::api::MemberRole::Primary
            } else {
                crate::api::MemberRole::Replica
            },
            ready: true,
            node: None,
            gtid: None,
            replicating: (i > 0).then_some(true),
            lag_seconds: None,
            message: None,
        })
        .collect();
    let mut failover = failover;
    if failover.last_seen_streaming.is_empty() {
        failover.last_seen_streaming = (1..n as u32)
            .map(|i| names().member_deployment(i))
            .collect();
        failover.last_seen_semi_sync = true;
    }
    status.failover = Some(failover);
    instance
}

fn down_since(seconds_ago: i64) -> FailoverStatus {
    FailoverStatus {
        primary_down_since: Some((at(NOW) - SECOND * seconds_ago as i32).to_string()),
        ..FailoverStatus::default()
    }
}

fn running_failover(candidate: Option<&str>) -> FailoverStatus {
    FailoverStatus {
        primary_down_since: Some((at(NOW) - SECOND * 20).to_string()),
        running: Some(FailoverRun {
            from: "db".into(),
            started_at: (at(NOW) - SECOND * 5).to_string(),
            reason: "not answering".into(),
            candidate: candidate.map(str::to_string),
        }),
        ..FailoverStatus::default()
    }
}

/// A member whose server cannot be asked, still labelled as it was.
fn silent(index: u32, role: Option<&str>) -> (u32, MemberPod) {
    let (index, mut pod) = pod(index, role, MemberState::default());
    pod.state = Err("exec into the pod: container not running".into());
    (index, pod)
}

/// A replica of member 0 at `executed`, having received `received`, its receiving
/// thread `io` (running, connecting or stopped).
fn replica_at(server: u32, executed: &str, received: &str, io: &str) -> MemberState {
    let mut state = replica_state(io == "running", true);
    state.server_id = server.to_string();
    state.executed = executed.into();
    state.binlog_state = executed.into();
    state.slave_pos = executed.into();
    let replica = state.replica.as_mut().unwrap();
    replica.received = received.into();
    replica.io_connecting = io == "connecting";
    state
}

/// `primary` (member 0) and members 1 and 2, its replicas at 0-1-40 with their
/// receiving thread `io`.
fn three(primary: (u32, MemberPod), io: &str) -> Snapshot {
    running([
        primary,
        pod(1, Some("replica"), replica_at(2, "0-1-40", "0-1-40", io)),
        pod(2, Some("replica"), replica_at(3, "0-1-40", "0-1-40", io)),
    ])
}

/// Member 0 dead, members 1 and 2 its replicas in these states.
fn after_death(member_1: MemberState, member_2: MemberState) -> Snapshot {
    running([
        silent(0, None),
        pod(1, Some("replica"), member_1),
        pod(2, Some("replica"), member_2),
    ])
}

/// Member 0 dead, members 1 and 2 replicas of it, both at 0-1-40, receiving stopped.
fn dead_primary_fenced() -> Snapshot {
    three(silent(0, None), "stopped")
}

fn failover_of(plan: &Plan) -> FailoverStatus {
    plan.status
        .as_ref()
        .and_then(|s| s.failover.clone())
        .unwrap_or_default()
}

fn health(plan: &Plan) -> Option<Health> {
    plan.status.as_ref().and_then(|s| s.health)
}

fn promotions(plan: &Plan) -> Vec<String> {
    writes_named(plan)
        .into_iter()
        .filter(|w| w.starts_with("promote "))
        .collect()
}

fn set_asides(plan: &Plan) -> Vec<String> {
    plan.writes
        .iter()
        .filter_map(|w| match w {
            Write::Member(MemberWrite::SetAside { pod, .. }) => Some(pod.clone()),
            _ => None,
        })
        .collect()
}

// ---- detection ----

#[test]
fn a_primary_first_seen_silent_is_recorded_and_looked_at_again_soon() {
    let snapshot = three(silent(0, Some("primary")), "connecting");
    let plan = plan_for(&watched(3, FailoverStatus::default()), &snapshot);
    let failover = failover_of(&plan);
    assert_eq!(failover.primary_down_since, Some(at(NOW).to_string()));
    assert!(failover.running.is_none());
    assert_eq!(health(&plan), Some(Health::Degraded));
    assert!(!events(&plan).contains(&EventReason::FailoverStarted));
    assert!(promotions(&plan).is_empty());
    assert!(plan.wake_at.unwrap() <= at(NOW) + SECOND * 3);
}

#[test]
fn a_silent_primary_keeps_its_label_so_that_its_restart_is_told_from_a_fencing() {
    let plan = plan_for(
        &watched(3, FailoverStatus::default()),
        &three(silent(0, Some("primary")), "connecting"),
    );
    assert!(
        !labels(&plan)
            .iter()
            .any(|(pod, _)| pod == "db-member-0-pod"),
        "{:?}",
        labels(&plan)
    );
}

#[test]
fn a_primary_silent_for_less_than_after_is_not_failed_over() {
    let snapshot = three(silent(0, Some("primary")), "connecting");
    let plan = plan_for(&watched(3, down_since(14)), &snapshot);
    assert!(failover_of(&plan).running.is_none());
    assert!(
        sql_runs_named(&plan).is_empty(),
        "{:?}",
        writes_named(&plan)
    );
    assert_eq!(
        failover_of(&plan).primary_down_since,
        Some((at(NOW) - SECOND * 14).to_string()),
        "the first silent look stays the start"
    );
}

fn sql_runs_named(plan: &Plan) -> Vec<String> {
    writes_named(plan)
        .into_iter()
        .filter(|w| w.starts_with("run "))
        .collect()
}

#[test]
fn a_primary_silent_for_after_is_fenced_first() {
    let snapshot = running([
        silent(0, Some("primary")),
        pod(
            1,
            Some("replica"),
            replica_at(2, "0-1-40", "0-1-40", "connecting"),
        ),
        pod(
            2,
            Some("replica"),
            replica_at(3, "0-1-40", "0-1-40", "running"),
        ),
    ]);
    let plan = plan_for(&watched(3, down_since(15)), &snapshot);
    assert_eq!(
        writes_named(&plan),
        vec![
            "run db-member-1-pod: STOP SLAVE IO_THREAD;".to_string(),
            "run db-member-2-pod: STOP SLAVE IO_THREAD;".to_string(),
        ],
        "its replicas stop receiving (and acknowledging) it; nothing promoted yet"
    );
    assert!(
        labels(&plan).contains(&("db-member-0-pod".to_string(), None)),
        "out of NAME"
    );
    let failover = failover_of(&plan);
    assert_eq!(failover.running.as_ref().unwrap().from, "db");
    assert!(failover.running.unwrap().candidate.is_none());
    assert_eq!(health(&plan), Some(Health::FailingOver));
    assert!(events(&plan).contains(&EventReason::FailoverStarted));
    assert_eq!(plan.wake_at, Some(at(NOW) + SECOND));
}

#[test]
fn a_primary_without_a_running_pod_counts_as_silent() {
    let snapshot = running([
        pod(
            1,
            Some("replica"),
            replica_at(2, "0-1-40", "0-1-40", "connecting"),
        ),
        pod(
            2,
            Some("replica"),
            replica_at(3, "0-1-40", "0-1-40", "connecting"),
        ),
    ]);
    let plan = plan_for(&watched(3, down_since(16)), &snapshot);
    assert!(failover_of(&plan).running.is_some());
}

#[test]
fn spec_failover_after_sets_the_wait_and_enabled_false_turns_it_off() {
    let snapshot = three(silent(0, Some("primary")), "connecting");
    let mut quick = watched(3, down_since(5));
    quick.spec.failover = Some(crate::api::FailoverSpec {
        after: Some("5s".into()),
        enabled: None,
    });
    assert!(failover_of(&plan_for(&quick, &snapshot)).running.is_some());
    let mut off = watched(3, down_since(3600));
    off.spec.failover = Some(crate::api::FailoverSpec {
        after: None,
        enabled: Some(false),
    });
    let plan = plan_for(&off, &snapshot);
    assert!(failover_of(&plan).running.is_none());
    assert!(promotions(&plan).is_empty() && sql_runs_named(&plan).is_empty());
}

#[test]
fn the_last_look_at_an_answering_primary_is_remembered_for_a_failover() {
    let snapshot = running([
        pod(0, Some("primary"), primary_state(false, true)),
        pod(1, Some("replica"), replica_state(true, true)),
        pod(2, Some("replica"), replica_state(false, true)),
    ]);
    let plan = plan_for(&watched(3, FailoverStatus::default()), &snapshot);
    let failover = failover_of(&plan);
    assert_eq!(
        failover.last_seen_streaming,
        vec!["db-member-1".to_string()]
    );
    assert!(failover.last_seen_semi_sync);
}

#[test]
fn an_operator_stopped_after_promoting_finds_the_promoted_member_primary() {
    // The status still has the failover fencing (no candidate): the promotion ran but
    // its status was never written. The one writer holding data is the primary.
    let mut promoted = primary_state(false, true);
    promoted.server_id = "2".into();
    let snapshot = running([
        silent(0, None),
        pod(1, Some("primary"), promoted),
        pod(
            2,
            Some("replica"),
            replica_at(3, "0-1-40", "0-1-40", "stopped"),
        ),
    ]);
    let plan = plan_for(&watched(3, running_failover(None)), &snapshot);
    assert!(promotions(&plan).is_empty(), "{:?}", promotions(&plan));
    assert_eq!(plan.status.unwrap().primary.as_deref(), Some("db-member-1"));
}

#[test]
fn a_primary_that_answers_again_is_not_down_any_more() {
    let snapshot = running([
        pod(0, Some("primary"), primary_state(false, true)),
        pod(1, Some("replica"), replica_state(true, true)),
        pod(2, Some("replica"), replica_state(true, true)),
    ]);
    let plan = plan_for(&watched(3, down_since(10)), &snapshot);
    assert_eq!(failover_of(&plan).primary_down_since, None);
    assert_eq!(health(&plan), Some(Health::Healthy));
}

#[test]
fn a_restarted_primary_whose_every_transaction_a_replica_has_fails_over_at_once() {
    // Back read-only (members start so) and still labelled: mysqld restarted.
    let snapshot = three(
        pod(0, Some("primary"), primary_state(true, true)),
        "connecting",
    );
    let plan = plan_for(&watched(3, FailoverStatus::default()), &snapshot);
    let run = failover_of(&plan).running.expect("a failover starts");
    assert!(run.reason.contains("restarted"), "{}", run.reason);
    assert!(
        !writes_named(&plan)
            .iter()
            .any(|w| w.contains("read_only = OFF")),
        "never made writable again"
    );
}

#[test]
fn a_restarted_primary_with_a_transaction_no_replica_has_takes_writes_again() {
    let mut primary = primary_state(true, true);
    primary.executed = "0-1-41".into();
    primary.binlog_state = "0-1-41".into();
    let snapshot = three(pod(0, Some("primary"), primary), "connecting");
    let plan = plan_for(&watched(3, FailoverStatus::default()), &snapshot);
    assert!(failover_of(&plan).running.is_none());
    assert!(
        sql_runs_named(&plan)
            .iter()
            .any(|w| w.starts_with("run db-member-0-pod") && w.contains("read_only = OFF")),
        "{:?}",
        writes_named(&plan)
    );
}

#[test]
fn within_the_cool_down_a_restart_does_not_fail_over_again() {
    let recent = FailoverStatus {
        last: Some(crate::api::FailoverRecord {
            from: "db-member-1".into(),
            to: "db".into(),
            position: "0-1-40".into(),
            at: (at(NOW) - SECOND * 60).to_string(),
            writes_refused_seconds: 16,
        }),
        count: 1,
        ..FailoverStatus::default()
    };
    let snapshot = three(
        pod(0, Some("primary"), primary_state(true, true)),
        "connecting",
    );
    let plan = plan_for(&watched(3, recent.clone()), &snapshot);
    assert!(failover_of(&plan).running.is_none());
    // A primary silent for `after` fails over even within it.
    let silent_snapshot = three(silent(0, None), "connecting");
    let mut down = recent;
    down.primary_down_since = Some((at(NOW) - SECOND * 15).to_string());
    let plan = plan_for(&watched(3, down), &silent_snapshot);
    assert!(failover_of(&plan).running.is_some());
}

// ---- the rails ----

fn refusal(instance: &MySQL, snapshot: &Snapshot) -> String {
    let plan = plan_for(instance, snapshot);
    assert_eq!(health(&plan), Some(Health::Failed));
    assert!(failover_of(&plan).running.is_none());
    assert!(promotions(&plan).is_empty() && sql_runs_named(&plan).is_empty());
    failover_of(&plan).message.unwrap()
}

#[test]
fn no_failover_without_a_majority_answering() {
    let snapshot = running([
        silent(0, Some("primary")),
        silent(1, Some("replica")),
        pod(
            2,
            Some("replica"),
            replica_at(3, "0-1-40", "0-1-40", "connecting"),
        ),
    ]);
    let why = refusal(&watched(3, down_since(30)), &snapshot);
    assert!(why.contains("only 1 of 3 members answer"), "{why}");
}

#[test]
fn no_failover_while_a_replica_that_streamed_is_silent() {
    let snapshot = running([
        silent(0, Some("primary")),
        pod(
            1,
            Some("replica"),
            replica_at(2, "0-1-40", "0-1-40", "connecting"),
        ),
        pod(
            2,
            Some("replica"),
            replica_at(3, "0-1-40", "0-1-40", "connecting"),
        ),
        pod(
            3,
            Some("replica"),
            replica_at(4, "0-1-40", "0-1-40", "connecting"),
        ),
        silent(4, Some("replica")),
    ]);
    let why = refusal(&watched(5, down_since(30)), &snapshot);
    assert!(
        why.contains("db-member-4 streamed from the primary"),
        "{why}"
    );
}

#[test]
fn no_failover_when_semi_sync_was_off() {
    let mut instance = watched(3, down_since(30));
    let failover = instance.status.as_mut().unwrap().failover.as_mut().unwrap();
    failover.last_seen_semi_sync = false;
    let snapshot = three(silent(0, Some("primary")), "connecting");
    let why = refusal(&instance, &snapshot);
    assert!(why.contains("semi-synchronous"), "{why}");
}

#[test]
fn a_refusal_is_an_event_once_not_every_look() {
    let snapshot = running([
        silent(0, Some("primary")),
        silent(1, Some("replica")),
        pod(
            2,
            Some("replica"),
            replica_at(3, "0-1-40", "0-1-40", "connecting"),
        ),
    ]);
    let first = plan_for(&watched(3, down_since(30)), &snapshot);
    assert!(events(&first).contains(&EventReason::FailoverRefused));
    let mut again = watched(3, down_since(31));
    again.status.as_mut().unwrap().failover = Some(failover_of(&first));
    let second = plan_for(&again, &snapshot);
    assert!(!events(&second).contains(&EventReason::FailoverRefused));
    assert_eq!(health(&second), Some(Health::Failed));
}

// ---- fencing, then the candidate ----

#[test]
fn a_failed_primary_that_wakes_up_writable_is_fenced_before_any_promotion() {
    let snapshot = three(
        pod(0, Some("primary"), primary_state(false, true)),
        "stopped",
    );
    let plan = plan_for(&watched(3, running_failover(None)), &snapshot);
    assert_eq!(
        writes_named(&plan),
        vec!["fence db-member-0-pod".to_string()]
    );
    assert!(labels(&plan).contains(&("db-member-0-pod".to_string(), None)));
}

#[test]
fn once_fenced_the_replica_with_every_transaction_is_promoted_and_the_others_follow_it() {
    let plan = plan_for(&watched(3, running_failover(None)), &dead_primary_fenced());
    assert_eq!(
        writes_named(&plan),
        vec![
            "promote db-member-1-pod after 0-1-40".to_string(),
            "repoint db-member-2-pod".to_string(),
        ]
    );
    assert!(labels(&plan).contains(&("db-member-1-pod".to_string(), Some("primary".into()))));
    assert_eq!(
        failover_of(&plan).running.unwrap().candidate.as_deref(),
        Some("db-member-1")
    );
}

#[test]
fn the_superset_is_chosen_not_the_lowest_index() {
    let snapshot = after_death(
        replica_at(2, "0-1-39", "0-1-39", "stopped"),
        replica_at(3, "0-1-40", "0-1-40", "stopped"),
    );
    let plan = plan_for(&watched(3, running_failover(None)), &snapshot);
    assert_eq!(
        promotions(&plan),
        vec!["promote db-member-2-pod after 0-1-40".to_string()]
    );
}

#[test]
fn a_replica_still_applying_its_relay_log_is_waited_for() {
    let snapshot = after_death(
        replica_at(2, "0-1-38", "0-1-40", "stopped"),
        replica_at(3, "0-1-38", "0-1-40", "stopped"),
    );
    let plan = plan_for(&watched(3, running_failover(None)), &snapshot);
    assert!(promotions(&plan).is_empty());
    let message = failover_of(&plan).message.unwrap();
    assert!(message.contains("still applying"), "{message}");
    assert_eq!(health(&plan), Some(Health::Failed));
    assert!(
        !writes_named(&plan)
            .iter()
            .any(|w| w.contains("read_only = OFF")),
        "no one takes writes meanwhile"
    );
}

#[test]
fn what_another_replica_received_counts_even_unapplied() {
    // Member 2 got 0-1-41 (acknowledged it) but has not applied it yet; member 1
    // never got it: member 1 is no candidate, member 2 is once it has applied it.
    let snapshot = after_death(
        replica_at(2, "0-1-40", "0-1-40", "stopped"),
        replica_at(3, "0-1-40", "0-1-41", "stopped"),
    );
    let plan = plan_for(&watched(3, running_failover(None)), &snapshot);
    assert!(promotions(&plan).is_empty(), "{:?}", promotions(&plan));
    let message = failover_of(&plan).message.unwrap();
    assert!(message.contains("member 1 lacks 0-1-41"), "{message}");
}

#[test]
fn a_replica_with_errant_transactions_is_never_promoted() {
    let mut errant = replica_at(2, "0-2-41", "0-1-40", "stopped");
    errant.binlog_state = "0-1-40,0-2-41".into();
    errant.slave_pos = "0-1-40".into();
    let snapshot = after_death(errant, replica_at(3, "0-1-40", "0-1-40", "stopped"));
    let plan = plan_for(&watched(3, running_failover(None)), &snapshot);
    assert_eq!(
        promotions(&plan),
        vec!["promote db-member-2-pod after 0-1-40".to_string()],
        "member 1's own 0-2-41 is errant: member 2 need not have it"
    );
}

#[test]
fn a_replica_that_stopped_on_an_error_is_never_promoted() {
    let mut broken = replica_at(2, "0-1-40", "0-1-40", "stopped");
    broken.replica.as_mut().unwrap().sql_error = Some("Duplicate entry".into());
    let snapshot = after_death(broken, replica_at(3, "0-1-40", "0-1-40", "stopped"));
    let plan = plan_for(&watched(3, running_failover(None)), &snapshot);
    assert_eq!(
        promotions(&plan),
        vec!["promote db-member-2-pod after 0-1-40".to_string()]
    );
}

#[test]
fn an_operator_restarted_after_the_promotion_was_chosen_promotes_again() {
    // The status names the candidate, but it is still a read-only replica: the
    // promotion did not run (or failed); it runs again, idempotent.
    let plan = plan_for(
        &watched(3, running_failover(Some("db-member-1"))),
        &dead_primary_fenced(),
    );
    assert_eq!(
        promotions(&plan),
        vec!["promote db-member-1-pod after 0-1-40".to_string()]
    );
}

// ---- done ----

#[test]
fn once_the_candidate_takes_writes_the_failover_is_recorded() {
    let mut promoted = primary_state(false, true);
    promoted.server_id = "2".into();
    let snapshot = running([
        silent(0, None),
        pod(1, Some("primary"), promoted),
        pod(
            2,
            Some("replica"),
            replica_at(3, "0-1-40", "0-1-40", "stopped"),
        ),
    ]);
    let plan = plan_for(
        &watched(3, running_failover(Some("db-member-1"))),
        &snapshot,
    );
    let status = plan.status.clone().unwrap();
    assert_eq!(status.primary.as_deref(), Some("db-member-1"));
    let failover = status.failover.unwrap();
    assert!(failover.running.is_none());
    assert_eq!(failover.count, 1);
    let last = failover.last.unwrap();
    assert_eq!(
        (last.from.as_str(), last.to.as_str()),
        ("db", "db-member-1")
    );
    assert_eq!(last.position, "0-1-40");
    assert_eq!(
        last.writes_refused_seconds, 20,
        "from the first silent look"
    );
    assert!(events(&plan).contains(&EventReason::FailedOver));
    assert_eq!(
        plan.failover_step,
        Some(super::plan::failover::FailoverStep::Done)
    );
}

#[test]
fn an_old_primary_that_comes_back_with_a_prefix_rejoins_as_a_replica() {
    let mut new_primary = primary_state(false, true);
    new_primary.server_id = "2".into();
    new_primary.executed = "0-2-45".into();
    new_primary.binlog_state = "0-1-40,0-2-45".into();
    let mut old = primary_state(true, false);
    old.semi_sync_source = None;
    let mut instance = watched(3, FailoverStatus::default());
    instance.status.as_mut().unwrap().primary = Some("db-member-1".into());
    let snapshot = running([
        pod(0, None, old),
        pod(1, Some("primary"), new_primary),
        pod(
            2,
            Some("replica"),
            replica_at(3, "0-2-45", "0-2-45", "running"),
        ),
    ]);
    let plan = plan_for(&instance, &snapshot);
    assert!(
        writes_named(&plan).contains(&"repoint db-member-0-pod".to_string()),
        "{:?}",
        writes_named(&plan)
    );
    assert!(set_asides(&plan).is_empty());
}

fn after_failover_with(old: MemberState, member_2: MemberState) -> (MySQL, Snapshot) {
    let mut new_primary = primary_state(false, true);
    new_primary.server_id = "2".into();
    new_primary.executed = "0-2-45".into();
    new_primary.binlog_state = "0-1-40,0-2-45".into();
    let mut instance = watched(3, FailoverStatus::default());
    instance.status.as_mut().unwrap().primary = Some("db-member-1".into());
    let snapshot = running([
        pod(0, None, old),
        pod(1, Some("primary"), new_primary),
        pod(2, Some("replica"), member_2),
    ]);
    (instance, snapshot)
}

#[test]
fn an_old_primary_with_a_tail_no_replica_got_is_set_aside_not_repointed() {
    let mut old = primary_state(true, false);
    old.executed = "0-1-41".into();
    old.binlog_state = "0-1-41".into();
    let mut member_2 = replica_at(3, "0-2-45", "0-2-45", "running");
    member_2.replica.as_mut().unwrap().source_host = "db-member-1.ns.svc".into();
    let (instance, snapshot) = after_failover_with(old, member_2);
    let plan = plan_for(&instance, &snapshot);
    assert_eq!(set_asides(&plan), vec!["db-member-0-pod".to_string()]);
    assert!(!writes_named(&plan).contains(&"repoint db-member-0-pod".to_string()));
    let record = failover_of(&plan).set_aside.pop().unwrap();
    assert_eq!(record.member, "db");
    assert_eq!(record.transactions, "0-1-41");
    assert!(record.directory.starts_with("set-aside-"));
    assert!(events(&plan).contains(&EventReason::MemberSetAside));
}

#[test]
fn a_replica_with_errant_writes_under_a_healthy_primary_is_set_aside_and_reported() {
    let mut errant = replica_at(3, "0-3-46", "0-2-45", "running");
    errant.binlog_state = "0-2-45,0-3-46".into();
    errant.slave_pos = "0-2-45".into();
    errant.replica.as_mut().unwrap().source_host = "db-member-1.ns.svc".into();
    let mut old = replica_at(1, "0-2-45", "0-2-45", "running");
    old.replica.as_mut().unwrap().source_host = "db-member-1.ns.svc".into();
    let (instance, snapshot) = after_failover_with(old, errant);
    let plan = plan_for(&instance, &snapshot);
    assert_eq!(set_asides(&plan), vec!["db-member-2-pod".to_string()]);
    assert!(events(&plan).contains(&EventReason::ErrantTransactions));
    // Recorded once: the next look moves it again but says nothing new.
    let mut again = instance.clone();
    again.status.as_mut().unwrap().failover = Some(failover_of(&plan));
    let second = plan_for(&again, &snapshot);
    assert_eq!(set_asides(&second), vec!["db-member-2-pod".to_string()]);
    assert!(!events(&second).contains(&EventReason::MemberSetAside));
    assert_eq!(failover_of(&second).set_aside.len(), 1);
}

#[test]
fn a_replica_read_ahead_of_the_primarys_answer_is_not_set_aside() {
    let mut ahead = replica_at(3, "0-2-46", "0-2-46", "running");
    ahead.replica.as_mut().unwrap().source_host = "db-member-1.ns.svc".into();
    let mut old = replica_at(1, "0-2-45", "0-2-45", "running");
    old.replica.as_mut().unwrap().source_host = "db-member-1.ns.svc".into();
    let (instance, snapshot) = after_failover_with(old, ahead);
    let plan = plan_for(&instance, &snapshot);
    assert!(set_asides(&plan).is_empty());
}

#[test]
fn a_replica_left_not_receiving_by_a_failover_that_did_not_happen_resumes() {
    let snapshot = running([
        pod(0, Some("primary"), primary_state(false, true)),
        pod(
            1,
            Some("replica"),
            replica_at(2, "0-1-40", "0-1-40", "stopped"),
        ),
        pod(
            2,
            Some("replica"),
            replica_at(3, "0-1-40", "0-1-40", "running"),
        ),
    ]);
    let plan = plan_for(&watched(3, FailoverStatus::default()), &snapshot);
    assert_eq!(
        sql_runs_named(&plan),
        vec!["run db-member-1-pod: START SLAVE IO_THREAD;".to_string()]
    );
}
