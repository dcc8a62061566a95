//! A replicated instance's members: each replica's claim, volume, Deployment and
//! address; its seed (a copy of the primary, then replication from its position);
//! the primary made writable, semi-synchronous once a replica streams from it; the
//! role labels `NAME` and `NAME-replicas` select by; and members past `spec.replicas`
//! removed (replicas only: member 0, the primary, never).

use kube::ResourceExt;

use crate::api::{
    EventReason, Health, JobState, MemberRole, MemberStatus, SwitchoverOutcome, SwitchoverRequest,
    SwitchoverStatus,
};
use crate::dialect::Dialect;
use crate::dialect::replication::MemberState;
use crate::manifests;
use crate::names::InstanceNames;
use crate::reconcile::Notice;
use crate::reconcile::Result;
use crate::reconcile::instance::snapshot::{MemberPod, Members};
use crate::reconcile::instance::status::{Observed, RestoreState, SemiSync};

use super::member_writes::{fresh, promote_writes, repoint_writes};
use super::{Inputs, Kind, MemberWrite, Plan, Write, set_owner};

/// How often a replicated instance's members are asked again (their lag and health
/// change without any object changing; a primary that stops answering is noticed
/// within this, and failed over `spec.failover.after` later).
const MEMBER_LOOK: jiff::SignedDuration = jiff::SignedDuration::from_secs(5);

/// How soon a switchover under way is looked at again.
const SWITCHOVER_LOOK: jiff::SignedDuration = jiff::SignedDuration::from_secs(1);

/// A switchover target further behind than this is refused: the old primary would
/// refuse writes for as long as it takes to catch up.
const SWITCHOVER_MAX_LAG_SECONDS: u64 = 30;

impl Inputs<'_> {
    pub(super) fn members(&self, plan: &mut Plan, observed: &mut Observed) -> Result<()> {
        let Ok(members) = self.snapshot.members.needed("the members") else {
            return Ok(());
        };
        let names = self.names();
        let dialect = Dialect::of_image(&self.instance.spec.image);
        let recorded = self
            .instance
            .status
            .as_ref()
            .and_then(|s| s.primary.as_deref())
            .and_then(|p| names.member_index(p))
            .unwrap_or(0);
        let primary = current_primary(recorded, members, self.failover_candidate());
        let Some(kept) = self.members_kept(primary, plan) else {
            self.remove_members_past(members, 1, plan);
            observed.members = Vec::new();
            observed.primary = None;
            return Ok(());
        };
        self.remove_members_past(members, kept, plan);
        self.member_children(members, kept, plan, &mut observed.pending_restart)?;
        let roles: Vec<(u32, MemberRole)> = (0..kept)
            .map(|index| (index, role_of(index, primary, members)))
            .collect();
        // A restore loads into the primary: it never fails over meanwhile.
        let restoring = matches!(
            observed.restore,
            Some(RestoreState::Running { .. } | RestoreState::Discovering)
        );
        let mut failover = self.failover(primary, members, (kept, restoring), dialect, plan);
        let request = self
            .instance
            .pending_switchover()
            .filter(|_| !failover.under_way);
        let target = request.as_ref().map(|r| r.target);
        let switchover = request
            .map(|request| self.switchover(request, primary, members, &roles, dialect, plan));
        let switching = matches!(&switchover, Some(s) if s.outcome == SwitchoverOutcome::Running);
        let fencing = switching || failover.under_way;
        fence_other_writers(primary, members, dialect, plan);
        if !fencing && let Some(pod) = members.pods.get(&primary) {
            primary_writes(pod, primary, members, dialect, plan);
        }
        // While a switchover runs, its target's label is the switchover's; while a
        // failover runs, the failed primary's stays off.
        let labelled_elsewhere = target
            .filter(|_| switching)
            .or(failover.under_way.then_some(primary));
        self.role_writes(
            members,
            &roles,
            (primary, labelled_elsewhere, fencing),
            &mut failover.status,
            plan,
        )?;
        if recorded != primary {
            plan.events.push(Notice::normal(
                EventReason::PrimaryChanged,
                format!(
                    "{} is the primary (was {})",
                    names.member_deployment(primary),
                    names.member_deployment(recorded)
                ),
            ));
        }
        plan.failover_step = failover.step;
        // A switchover under way is looked at again at once: writes pause until it
        // is done.
        let next_look = self.now
            + if switching {
                SWITCHOVER_LOOK
            } else {
                failover.look_again.unwrap_or(MEMBER_LOOK)
            };
        plan.look_again_by(next_look);
        observed.switchover = switchover;
        self.observe_members(observed, members, &roles, primary, failover);
        Ok(())
    }

    /// What status says of the members, the primary, semi-sync, health and failover.
    fn observe_members(
        &self,
        observed: &mut Observed,
        members: &Members,
        roles: &[(u32, MemberRole)],
        primary: u32,
        failover: super::failover::FailoverOutcome,
    ) {
        let names = self.names();
        observed.semi_sync = semi_sync_of(members, primary);
        observed.health = failover
            .health
            .or_else(|| Some(steady_health(roles, observed.semi_sync)));
        observed.primary = Some(names.member_deployment(primary));
        observed.members = roles
            .iter()
            .map(|&(index, role)| {
                member_status(
                    names.member_deployment(index),
                    role,
                    members.pods.get(&index),
                )
            })
            .collect();
        explain_members(&mut observed.members, members, names);
        observed.failover = Some(failover.status);
    }

    /// This request was under way (not one asking for the primary it already is).
    fn switchover_was_running(&self, token: &str) -> bool {
        self.instance
            .status
            .as_ref()
            .and_then(|s| s.switchover.as_ref())
            .is_some_and(|s| s.request == token)
    }

    /// Why a switchover to `target` cannot go on (before it starts, or while the old
    /// primary is fenced): None when it can.
    fn switchover_refusal(
        &self,
        target: u32,
        primary: u32,
        members: &Members,
        roles: &[(u32, MemberRole)],
    ) -> Option<String> {
        let names = self.names();
        let target_name = names.member_deployment(target);
        let target_role = roles.iter().find(|(i, _)| *i == target).map(|(_, r)| *r);
        let lag = members
            .pods
            .get(&target)
            .and_then(|p| p.state.as_ref().ok())
            .and_then(|s| s.replica.as_ref())
            .and_then(|r| r.seconds_behind);
        let primary_answers = members.pods.get(&primary).is_some_and(|p| p.state.is_ok());
        if self.instance.spec.point_in_time().is_some() {
            Some("point-in-time recovery archives beside member 0 only; a switchover would stop its archive".to_string())
        } else if target_role != Some(MemberRole::Replica) {
            Some(format!(
                "{target_name} is not a replica that streams from the primary"
            ))
        } else if lag.is_none_or(|l| l > SWITCHOVER_MAX_LAG_SECONDS) {
            Some(format!(
                "{target_name} is {} behind the primary, over {SWITCHOVER_MAX_LAG_SECONDS}s",
                lag.map_or("an unknown time".to_string(), |l| format!("{l}s"))
            ))
        } else if !primary_answers {
            Some(format!(
                "the primary {} cannot be asked",
                names.member_deployment(primary)
            ))
        } else {
            None
        }
    }

    /// Each member's label, its following of the primary (not while a switchover
    /// runs), and a fresh one's seed.
    fn role_writes(
        &self,
        members: &Members,
        roles: &[(u32, MemberRole)],
        (primary, labelled_elsewhere, fencing): (u32, Option<u32>, bool),
        failover: &mut crate::api::FailoverStatus,
        plan: &mut Plan,
    ) -> Result<()> {
        let dialect = Dialect::of_image(&self.instance.spec.image);
        let primary_host = self.names().member_host(primary);
        // Divergence is judged against a primary that takes writes, only.
        let primary_state = members
            .pods
            .get(&primary)
            .and_then(|p| p.state.as_ref().ok())
            .filter(|s| !s.read_only && s.replica.is_none());
        for &(index, role) in roles {
            if let Some(pod) = members.pods.get(&index) {
                if Some(index) != labelled_elsewhere {
                    label_writes(pod, role, plan);
                }
                if index != primary && !fencing {
                    let diverged = primary_state
                        .and_then(|p| super::failover::divergence(pod, p, &primary_host, dialect));
                    if let Some((reason, transactions)) = diverged {
                        self.set_aside(index, pod, reason, transactions, failover, plan);
                        continue;
                    }
                    semi_sync_source_writes(pod, dialect, plan);
                    let tls = self.instance.spec.tls.is_some();
                    repoint_writes(pod, (&primary_host, tls), dialect, plan);
                }
            }
            if index != primary {
                self.seed(members, index, primary, role, plan)?;
            }
        }
        Ok(())
    }

    /// How many members stay (None: back to one server, member 0 the primary). The
    /// primary is never removed: a scale-down below it waits for a switchover.
    fn members_kept(&self, primary: u32, plan: &mut Plan) -> Option<u32> {
        let wanted = self.instance.spec.members();
        if wanted > primary && wanted > 1 {
            return Some(wanted);
        }
        if wanted <= 1 && primary == 0 {
            return None;
        }
        plan.events.push(Notice::warning(
            EventReason::ScaleDownWaits,
            format!(
                "the primary is {}: switch over to a member below {wanted} first (kubectl mysql switchover)",
                self.names().member_deployment(primary),
            ),
        ));
        Some((primary + 1).max(wanted))
    }

    /// The replication Secret, members 1 and up's objects, and every member address.
    fn member_children(
        &self,
        members: &Members,
        kept: u32,
        plan: &mut Plan,
        pending_restart: &mut Vec<String>,
    ) -> Result<()> {
        let names = self.names();
        if !members.replication_secret {
            plan.writes
                .push(Write::Member(MemberWrite::CreateReplicationSecret {
                    name: names.replication_secret(),
                    owner: self.owner.clone(),
                }));
        }
        // New volumes placed by this plan count as taken for the next ones.
        let mut placed = Vec::new();
        for index in 1..kept {
            self.member_objects(members, index, &mut placed, plan, pending_restart)?;
        }
        for mut service in manifests::member_services(self.renderer, self.template_ctx, names)? {
            set_owner(&mut service, self.owner);
            plan.writes.push(Write::ApplyService(service, None));
        }
        Ok(())
    }

    /// One step of a requested switchover from `primary`, decided from what the
    /// members say now: refused before anything changes; the old primary fenced
    /// (read-only, its client sessions killed, out of `NAME`); the target promoted
    /// once it has every transaction the old primary wrote; done once the target is
    /// the primary. The others follow the new primary by `repoint_writes`.
    fn switchover(
        &self,
        request: SwitchoverRequest,
        primary: u32,
        members: &Members,
        roles: &[(u32, MemberRole)],
        dialect: Dialect,
        plan: &mut Plan,
    ) -> SwitchoverStatus {
        let names = self.names();
        let target = request.target;
        let outcome = |outcome, message: String| SwitchoverStatus {
            request: request.token.clone(),
            outcome,
            message: Some(message),
        };
        let target_name = names.member_deployment(target);
        if target == primary {
            let message = format!("{target_name} is the primary");
            if self.switchover_was_running(&request.token) {
                plan.events
                    .push(Notice::normal(EventReason::SwitchedOver, message.clone()));
            }
            return outcome(SwitchoverOutcome::Succeeded, message);
        }
        let primary_state = members
            .pods
            .get(&primary)
            .and_then(|p| p.state.as_ref().ok());
        let fenced = primary_state.is_some_and(|s| s.read_only);
        let refusal = self.switchover_refusal(target, primary, members, roles);
        match (refusal, fenced) {
            (Some(why), false) => {
                plan.events
                    .push(Notice::warning(EventReason::SwitchoverRefused, why.clone()));
                outcome(SwitchoverOutcome::Refused, why)
            }
            (Some(why), true) => {
                // Fenced, and the target can no longer take over: the old primary
                // takes writes again rather than leave none.
                if let Some(pod) = members.pods.get(&primary) {
                    plan.writes.push(Write::Member(MemberWrite::RunSql {
                        pod: pod.name.clone(),
                        sql: dialect.writable().to_string(),
                    }));
                }
                plan.events.push(Notice::warning(
                    EventReason::SwitchoverRefused,
                    format!("{why}; the primary takes writes again"),
                ));
                outcome(SwitchoverOutcome::Refused, why)
            }
            (None, false) => {
                let pod = &members.pods[&primary];
                plan.events.push(Notice::normal(
                    EventReason::SwitchoverStarted,
                    format!(
                        "{} stops taking writes; {target_name} takes over once it has every transaction",
                        names.member_deployment(primary)
                    ),
                ));
                fence_writes(&pod.name, dialect, plan);
                outcome(
                    SwitchoverOutcome::Running,
                    format!("fencing {}", names.member_deployment(primary)),
                )
            }
            (None, true) => {
                let executed = primary_state
                    .map(|s| s.executed.clone())
                    .unwrap_or_default();
                promote_writes(&members.pods[&target].name, &executed, dialect, plan);
                outcome(
                    SwitchoverOutcome::Running,
                    format!("promoting {target_name} once it has applied {executed}"),
                )
            }
        }
    }

    /// Member `index`'s claim, volume (once the claim exists) and Deployment; the node
    /// a new volume goes to is added to `placed`.
    fn member_objects(
        &self,
        members: &Members,
        index: u32,
        placed: &mut Vec<String>,
        plan: &mut Plan,
        pending_restart: &mut Vec<String>,
    ) -> Result<()> {
        let claim = members.claims.get(&index);
        let claim_uid = claim.and_then(|c| c.metadata.uid.as_deref());
        let ctx = self
            .template_ctx
            .for_member(self.instance, self.names(), index, claim_uid);
        let mut children = manifests::member(self.renderer, &ctx)?;
        set_owner(&mut children.pvc, self.owner);
        set_owner(&mut children.deployment, self.owner);
        plan.writes
            .push(Write::ApplyClaim(children.pvc, claim.cloned()));
        if let Some(mut pv) = children.pv {
            let live = members.volumes.get(&index).cloned();
            // An existing volume keeps its node (immutable); a new one goes to a node
            // no other member's volume is on, where there is one.
            let node = match &live {
                Some(live) => super::pinned_node(live),
                None => {
                    let node = self.node_for_new_member(members, index, placed);
                    placed.extend(node.clone());
                    node
                }
            };
            if let Some(node) = node {
                super::children::pin(&mut pv, &node);
            }
            plan.writes.push(Write::ApplyVolume(pv, live));
        }
        let live = members.deployments.get(&index);
        let policy = self.instance.spec.update_policy();
        let mut server = children.deployment;
        match super::rollout::announce(&mut server, live, policy, &mut plan.events) {
            Some(waits) => pending_restart.push(waits),
            None => plan
                .writes
                .push(Write::ApplyDeployment(server, live.cloned())),
        }
        Ok(())
    }

    /// Where member `index`'s new hostPath volume goes: the first node (by name) that
    /// takes pods and holds no other member's volume; member 0's node when every
    /// node has one (members then share a node, which `status.members[].node` shows).
    fn node_for_new_member(
        &self,
        members: &Members,
        index: u32,
        placed: &[String],
    ) -> Option<String> {
        let member_0 = self
            .snapshot
            .volumes
            .data_pv
            .as_ref()
            .and_then(super::pinned_node);
        let taken: Vec<String> = member_0
            .iter()
            .cloned()
            .chain(
                members
                    .volumes
                    .iter()
                    .filter(|(i, _)| **i != index)
                    .filter_map(|(_, pv)| super::pinned_node(pv)),
            )
            .chain(placed.iter().cloned())
            .collect();
        let mut free: Vec<String> = members
            .nodes
            .iter()
            .filter(|n| super::children::can_run_pods(n, &self.instance.spec.placement()))
            .filter_map(|n| n.labels().get(super::NODE_LABEL).cloned())
            .filter(|n| !taken.contains(n))
            .collect();
        free.sort();
        free.into_iter().next().or(member_0)
    }

    /// A running member that is neither replicating nor writing: its seed Job, again
    /// after a failure.
    fn seed(
        &self,
        members: &Members,
        index: u32,
        primary: u32,
        role: MemberRole,
        plan: &mut Plan,
    ) -> Result<()> {
        let job = members.seed_jobs.get(&index);
        match (role, job.map(JobState::of)) {
            (MemberRole::Seeding, None) => {
                // The seed loads over the network, as root without `READ_ONLY ADMIN`:
                // the fresh member (in no Service) takes writes until it replicates.
                if let Some(pod) = members.pods.get(&index)
                    && pod.state.as_ref().is_ok_and(|s| s.read_only)
                {
                    plan.writes.push(Write::Member(MemberWrite::RunSql {
                        pod: pod.name.clone(),
                        sql: Dialect::of_image(&self.instance.spec.image)
                            .writable()
                            .to_string(),
                    }));
                }
                let mut job = manifests::seed_job(
                    self.renderer,
                    self.template_ctx,
                    self.names(),
                    index,
                    primary,
                )?;
                set_owner(&mut job, self.owner);
                plan.events.push(Notice::normal(
                    EventReason::MemberSeeding,
                    format!(
                        "copying the primary into {} and starting its replication",
                        self.names().member_deployment(index)
                    ),
                ));
                plan.writes.push(Write::CreateJob(job));
            }
            (_, Some(JobState::Failed(_))) => {
                plan.events.push(Notice::warning(
                    EventReason::MemberSeedFailed,
                    format!(
                        "seeding {} failed (see the logs of Job {}); trying again",
                        self.names().member_deployment(index),
                        self.names().seed_job(index)
                    ),
                ));
                plan.writes
                    .push(Write::Delete(Kind::Job, self.names().seed_job(index)));
            }
            // Done with: the member replicates.
            (MemberRole::Replica, Some(JobState::Succeeded)) => plan
                .writes
                .push(Write::Delete(Kind::Job, self.names().seed_job(index))),
            _ => {}
        }
        Ok(())
    }

    /// Members at `wanted` and past it go: their Deployments, Services, seed Jobs,
    /// claims and volumes (a replica's data is a copy of the primary's; one added again
    /// is seeded afresh).
    fn remove_members_past(&self, members: &Members, wanted: u32, plan: &mut Plan) {
        let names = self.names();
        let first = wanted.max(1);
        for index in first..crate::api::MAX_MEMBERS {
            if members.deployments.contains_key(&index) {
                plan.writes.push(Write::Delete(
                    Kind::Deployment,
                    names.member_deployment(index),
                ));
            }
            if members.seed_jobs.contains_key(&index) {
                plan.writes
                    .push(Write::Delete(Kind::Job, names.seed_job(index)));
            }
            if members.claims.contains_key(&index) || members.deployments.contains_key(&index) {
                plan.writes
                    .push(Write::Delete(Kind::Service, names.member_service(index)));
            }
            if members.claims.contains_key(&index) {
                plan.writes.push(Write::Delete(
                    Kind::PersistentVolumeClaim,
                    names.member_pvc(index),
                ));
            }
            if let Some(pv) = members.volumes.get(&index) {
                plan.writes
                    .push(Write::Delete(Kind::PersistentVolume, pv.name_any()));
            }
        }
        if wanted <= 1 {
            for service in [names.member_service(0), names.replicas_service()] {
                plan.writes.push(Write::Delete(Kind::Service, service));
            }
        }
    }
}

/// The primary: the one recorded, unless it is read-only and not replicating while
/// exactly one other member takes writes and replicates from no one (a promotion
/// whose status was not written yet).
fn current_primary(recorded: u32, members: &Members, promoted: Option<u32>) -> u32 {
    let writer = |state: &MemberState| !state.read_only && state.replica.is_none();
    // A failover's candidate, once it takes writes (a fresh member being seeded is
    // writable too, and never the primary).
    if let Some(candidate) = promoted
        && members
            .pods
            .get(&candidate)
            .and_then(|p| p.state.as_ref().ok())
            .is_some_and(writer)
    {
        return candidate;
    }
    let recorded_writes = members
        .pods
        .get(&recorded)
        .and_then(|p| p.state.as_ref().ok())
        .is_some_and(writer);
    if recorded_writes {
        return recorded;
    }
    // The recorded one is read-only or silent, and one other member that holds data
    // takes writes: a promotion whose status was not written (the operator stopped in
    // between).
    let others: Vec<u32> = members
        .pods
        .iter()
        .filter(|(index, pod)| {
            **index != recorded
                && pod
                    .state
                    .as_ref()
                    .is_ok_and(|s| writer(s) && !s.logged_nothing)
        })
        .map(|(index, _)| *index)
        .collect();
    match others.as_slice() {
        [only] => *only,
        _ => recorded,
    }
}

/// A replicated instance's health when no failover is in question: Healthy once every
/// member is the primary or a streaming replica and commits wait for a replica.
fn steady_health(roles: &[(u32, MemberRole)], semi_sync: Option<SemiSync>) -> Health {
    let all_in_place = roles
        .iter()
        .all(|(_, role)| matches!(role, MemberRole::Primary | MemberRole::Replica));
    if all_in_place && matches!(semi_sync, Some(SemiSync::On { .. })) {
        Health::Healthy
    } else {
        Health::Degraded
    }
}

/// The primary's semi-synchronous replication, once it answered.
fn semi_sync_of(members: &Members, primary: u32) -> Option<SemiSync> {
    let state = members.pods.get(&primary)?.state.as_ref().ok()?;
    Some(
        match (state.semi_sync_source_enabled, state.semi_sync_source) {
            (false, _) => SemiSync::NoReplicaYet,
            (true, Some(true)) => SemiSync::On {
                replicas: state.semi_sync_clients,
            },
            (true, _) => SemiSync::FellBack,
        },
    )
}

/// What member `index` is, from what its server says.
fn role_of(index: u32, primary: u32, members: &Members) -> MemberRole {
    let Some(Ok(state)) = members.pods.get(&index).map(|p| &p.state) else {
        return MemberRole::Unknown;
    };
    if index == primary {
        return MemberRole::Primary;
    }
    match &state.replica {
        Some(replica) if replica.io_running && replica.sql_running => MemberRole::Replica,
        // Configured, but a thread is down: a replica that is not healthy.
        Some(_) => MemberRole::Unknown,
        None if fresh(state) => MemberRole::Seeding,
        None => MemberRole::Unknown,
    }
}

/// The old primary out of service (read-only, sessions killed) and out of `NAME`.
fn fence_writes(pod: &str, dialect: Dialect, plan: &mut Plan) {
    plan.writes.push(Write::Member(MemberWrite::Fence {
        pod: pod.to_string(),
        sql: dialect.fence(),
    }));
    plan.writes.push(Write::Member(MemberWrite::LabelRole {
        pod: pod.to_string(),
        role: None,
    }));
}

/// Any member but the primary that takes writes is fenced at once: never two
/// writable members. A fresh member is left writable while its seed loads (root over
/// the network cannot write through `read_only`); it is fenced once it replicates.
fn fence_other_writers(primary: u32, members: &Members, dialect: Dialect, plan: &mut Plan) {
    for (index, pod) in &members.pods {
        let writable = pod.state.as_ref().is_ok_and(|s| !s.read_only);
        let being_seeded = pod
            .state
            .as_ref()
            .is_ok_and(|s| s.replica.is_none() && fresh(s));
        if *index != primary && writable && !being_seeded {
            plan.writes.push(Write::Member(MemberWrite::Fence {
                pod: pod.name.clone(),
                sql: dialect.fence(),
            }));
        }
    }
}

/// A member that is not the primary is no semi-synchronous source (an old primary's
/// setting would hold every transaction it applies).
fn semi_sync_source_writes(pod: &MemberPod, dialect: Dialect, plan: &mut Plan) {
    if pod.state.as_ref().is_ok_and(|s| s.semi_sync_source_enabled) {
        plan.writes.push(Write::Member(MemberWrite::RunSql {
            pod: pod.name.clone(),
            sql: dialect.semi_sync_source_off().to_string(),
        }));
    }
}

/// The primary takes writes once it is up; semi-synchronous once a replica streams
/// from it (before that, there is no replica to wait for: a write lives on one server,
/// as it does without replicas).
fn primary_writes(
    primary: &MemberPod,
    primary_index: u32,
    members: &Members,
    dialect: Dialect,
    plan: &mut Plan,
) {
    let Ok(state) = &primary.state else {
        return;
    };
    if state.replica.is_some() {
        // A primary that replicates from someone is a state only a person (or a
        // switchover) made: never make it writable.
        return;
    }
    let streaming = members.pods.iter().any(|(index, pod)| {
        *index != primary_index
            && pod
                .state
                .as_ref()
                .is_ok_and(|s| s.replica.as_ref().is_some_and(|r| r.io_running))
    });
    let mut sql = String::new();
    if state.network_root_bypasses_read_only
        && let Some(restrict) = dialect.restrict_network_root()
    {
        sql.push_str(restrict);
    }
    if streaming && !state.semi_sync_source_enabled {
        sql.push_str(dialect.semi_sync_source_on());
    }
    if state.read_only {
        sql.push_str(dialect.writable());
    }
    if !sql.is_empty() {
        plan.writes.push(Write::Member(MemberWrite::RunSql {
            pod: primary.name.clone(),
            sql,
        }));
    }
}

/// The role label on a member's pod, changed only when it differs.
fn label_writes(pod: &MemberPod, role: MemberRole, plan: &mut Plan) {
    // A member that cannot be asked keeps its label: its pod is not ready, so no
    // Service sends to it, and a primary that comes back read-only still labelled is
    // how its restart is told from a fencing (which takes the label off first).
    if pod.state.is_err() {
        return;
    }
    let wanted = match role {
        MemberRole::Primary | MemberRole::Replica => Some(role.label().to_string()),
        MemberRole::Seeding | MemberRole::Unknown => None,
    };
    // The primary's label waits for it to be writable: `NAME` selects only a primary
    // that takes writes.
    let wanted = match (&pod.state, role) {
        (Ok(state), MemberRole::Primary) if state.read_only => None,
        _ => wanted,
    };
    if pod.role_label != wanted {
        plan.writes.push(Write::Member(MemberWrite::LabelRole {
            pod: pod.name.clone(),
            role: wanted,
        }));
    }
}

/// What status says of a member beyond its server's words: a seed that failed (from
/// its Job), or a node it shares with other members (losing the node loses them all).
fn explain_members(statuses: &mut [MemberStatus], members: &Members, names: &InstanceNames) {
    let nodes: Vec<(String, Option<String>)> = statuses
        .iter()
        .map(|m| (m.name.clone(), m.node.clone()))
        .collect();
    for status in statuses.iter_mut().filter(|m| m.message.is_none()) {
        let seed_failure = names
            .member_index(&status.name)
            .and_then(|index| members.seed_jobs.get(&index))
            .and_then(|job| match JobState::of(job) {
                JobState::Failed(why) => Some(why),
                _ => None,
            });
        let sharing: Vec<&str> = nodes
            .iter()
            .filter(|(name, node)| *name != status.name && node.is_some() && *node == status.node)
            .map(|(name, _)| name.as_str())
            .collect();
        status.message = match (seed_failure, sharing.is_empty()) {
            (Some(why), _) => Some(format!("seeding failed: {why}")),
            (None, false) => Some(format!(
                "shares node {} with {}: losing the node loses them all",
                status.node.as_deref().unwrap_or_default(),
                sharing.join(", ")
            )),
            (None, true) => None,
        };
    }
}

fn member_status(name: String, role: MemberRole, pod: Option<&MemberPod>) -> MemberStatus {
    let state = pod.and_then(|p| p.state.as_ref().ok());
    let replica = state.and_then(|s| s.replica.as_ref());
    MemberStatus {
        name,
        role,
        ready: pod.is_some_and(|p| p.ready),
        node: pod.and_then(|p| p.node.clone()),
        gtid: state.map(|s| s.executed.clone()).filter(|g| !g.is_empty()),
        replicating: replica.map(|r| r.io_running && r.sql_running),
        lag_seconds: replica.and_then(|r| r.seconds_behind),
        message: match pod {
            None => Some("no running server".to_string()),
            Some(MemberPod {
                state: Err(why), ..
            }) => Some(why.clone()),
            Some(_) => replica.and_then(|r| r.last_error.clone()),
        },
    }
}
