//! Reconciling one MySQL object, read top to bottom: observe (the only reads) ->
//! plan (every decision, pure) -> apply (the only writes, status last).
//! Deletion takes the same three steps: the final backup, its wait, the tear-down.

mod apply;
pub mod observe;
pub mod plan;
pub mod snapshot;
pub mod status;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use kube::ResourceExt;
use kube::runtime::controller::Action;

use crate::api::MySQL;
use crate::api::keys::FINALIZER;
use crate::reconcile::{Context, SHORT_WAIT, error_policy_for, object_key};
use crate::reconcile::{Error, Result};

pub async fn reconcile(instance: Arc<MySQL>, ctx: Arc<Context>) -> Result<Action> {
    let key = object_key(instance.as_ref());
    let started = std::time::Instant::now();
    let result = reconcile_instance(&instance, &ctx, &key).await;
    ctx.record("instance", &key, started, &result);
    result
}

async fn reconcile_instance(instance: &MySQL, ctx: &Context, key: &str) -> Result<Action> {
    if !ctx.caches.ready().await {
        tracing::debug!(object = key, "waiting for the watch caches to fill");
        return Ok(Action::requeue(SHORT_WAIT));
    }
    let now = jiff::Timestamp::now();
    let instance = &*ctx.statuses_written.as_written(instance);
    let plan = if instance.metadata.deletion_timestamp.is_some() {
        if !instance.finalizers().iter().any(|f| f == FINALIZER) {
            return Ok(Action::await_change());
        }
        let snapshot = observe::deletion(instance, ctx).await?;
        plan::deletion(instance, &snapshot, now)
    } else {
        let snapshot = observe::instance(instance, ctx).await?;
        plan::instance(instance, &snapshot, &ctx.renderer, now)?
    };
    apply::apply(instance, &plan, ctx).await?;
    if plan.finalizer == plan::FinalizerChange::Remove {
        log_deleted(key, &plan);
    }
    record_last_backup(instance, &plan, ctx);
    record_recoverable(instance, &plan, ctx);
    record_members(instance, &plan, ctx);
    // A second past the slot, so the look that follows finds it due.
    let deadline = plan.wake_at.map(|at| {
        let wait = at.duration_since(now).unsigned_abs();
        wait.saturating_add(std::time::Duration::from_secs(1))
    });
    Ok(plan.next.action_by(key, deadline))
}

/// The newest successful backup's time, as the status (new or kept) says it.
fn record_last_backup(instance: &MySQL, plan: &plan::Plan, ctx: &Context) {
    let status = plan.status.as_ref().or(instance.status.as_ref());
    let Some(last) = status.and_then(|s| s.last_backup.as_ref()) else {
        return;
    };
    let Some(at) = last.completion_time.as_deref().and_then(|t| t.parse().ok()) else {
        return;
    };
    let namespace = instance.namespace().unwrap_or_default();
    ctx.metrics
        .last_successful_backup(&namespace, &instance.name_any(), at);
}

/// The recoverable window, as the status (new or kept) says it.
fn record_recoverable(instance: &MySQL, plan: &plan::Plan, ctx: &Context) {
    let status = plan.status.as_ref().or(instance.status.as_ref());
    let window = status.and_then(|s| {
        let from = s.recoverable_from.as_deref()?.parse().ok()?;
        let until = s.recoverable_until.as_deref()?.parse().ok()?;
        Some((from, until))
    });
    let namespace = instance.namespace().unwrap_or_default();
    ctx.metrics
        .recoverable(&namespace, &instance.name_any(), window);
}

/// Failovers and replication lag, as the new status says them.
fn record_members(instance: &MySQL, plan: &plan::Plan, ctx: &Context) {
    let Some(status) = plan.status.as_ref().or(instance.status.as_ref()) else {
        return;
    };
    if status.members.is_empty() {
        return;
    }
    let lags: Vec<(String, Option<u64>)> = status
        .members
        .iter()
        .map(|m| (m.name.clone(), m.lag_seconds))
        .collect();
    let namespace = instance.namespace().unwrap_or_default();
    ctx.metrics.members(
        &namespace,
        &instance.name_any(),
        plan.failover_step == Some(plan::failover::FailoverStep::Done),
        &lags,
    );
}

fn log_deleted(key: &str, plan: &plan::Plan) {
    match plan
        .events
        .iter()
        .find(|e| e.reason == crate::api::EventReason::BackupSkipped)
    {
        Some(skipped) => tracing::warn!(instance = key, "deleted: {}", skipped.message),
        None => tracing::info!(instance = key, "deleted"),
    }
}

pub fn error_policy(instance: Arc<MySQL>, error: &Error, ctx: Arc<Context>) -> Action {
    error_policy_for(&object_key(instance.as_ref()), error, &ctx)
}
