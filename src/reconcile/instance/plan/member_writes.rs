//! Statements on members that a switchover, a failover and the steady state share:
//! a promotion, a member pointed at the primary, and what a fresh member is.

use crate::api::MemberRole;
use crate::dialect::Dialect;
use crate::dialect::replication::MemberState;
use crate::reconcile::instance::snapshot::MemberPod;

use super::{MemberWrite, Plan, Write};

/// The target promoted once it has applied `executed`, and `NAME` on it: the label
/// write is only reached once the promotion succeeded (a failed write ends the
/// apply), so `NAME` follows at once, not a look later.
pub(super) fn promote_writes(pod: &str, executed: &str, dialect: Dialect, plan: &mut Plan) {
    plan.writes.push(Write::Member(MemberWrite::Promote {
        pod: pod.to_string(),
        dialect,
        written: executed.to_string(),
        sql: dialect.promote().to_string(),
    }));
    plan.writes.push(Write::Member(MemberWrite::LabelRole {
        pod: pod.to_string(),
        role: Some(MemberRole::Primary.label().to_string()),
    }));
}

/// A member that holds data and replicates from someone else than the primary (or
/// from no one: the old primary after a switchover), or not over TLS as `tls` asks,
/// follows the primary.
pub(super) fn repoint_writes(
    pod: &MemberPod,
    (primary_host, tls): (&str, bool),
    dialect: Dialect,
    plan: &mut Plan,
) {
    let Ok(state) = &pod.state else {
        return;
    };
    let follows = state
        .replica
        .as_ref()
        .filter(|r| r.source_host == primary_host && r.tls == tls);
    if let Some(replica) = follows {
        // Its receiving stopped by a failover that did not happen: it resumes.
        if !replica.io_running && !replica.io_connecting && replica.io_error.is_none() {
            plan.writes.push(Write::Member(MemberWrite::RunSql {
                pod: pod.name.clone(),
                sql: dialect.resume_receiving().to_string(),
            }));
        }
        return;
    }
    if state.replica.is_none() && fresh(state) {
        return;
    }
    plan.writes.push(Write::Member(MemberWrite::Repoint {
        pod: pod.name.clone(),
        sql: dialect.repoint(
            primary_host,
            crate::reconcile::member_sql::REPLICATION_PASSWORD_SQL,
            tls,
        ),
    }));
}

/// A member with no transaction of its own logged: what a seed may be loaded into
/// (again, after a seed that failed half way).
pub(super) fn fresh(state: &MemberState) -> bool {
    state.logged_nothing
}
