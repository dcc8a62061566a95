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
use crate::{Error, Result};

pub async fn reconcile(instance: Arc<MySQL>, ctx: Arc<Context>) -> Result<Action> {
    let key = object_key(instance.as_ref());
    if !ctx.caches.ready().await {
        tracing::debug!(object = key, "waiting for the watch caches to fill");
        return Ok(Action::requeue(SHORT_WAIT));
    }
    let now = jiff::Timestamp::now();
    let plan = if instance.metadata.deletion_timestamp.is_some() {
        if !instance.finalizers().iter().any(|f| f == FINALIZER) {
            return Ok(Action::await_change());
        }
        let snapshot = observe::deletion(&instance, &ctx).await?;
        plan::deletion(&instance, &snapshot, now)
    } else {
        let snapshot = observe::instance(&instance, &ctx).await?;
        plan::instance(&instance, &snapshot, &ctx.renderer, now)?
    };
    apply::apply(&instance, &plan, &ctx).await?;
    if plan.finalizer == plan::FinalizerChange::Remove {
        log_deleted(&key, &plan);
    }
    ctx.succeeded(&key);
    Ok(plan.next.action(&key))
}

fn log_deleted(key: &str, plan: &plan::Plan) {
    match plan.events.iter().find(|e| e.reason == "BackupSkipped") {
        Some(skipped) => tracing::warn!(instance = key, "deleted: {}", skipped.message),
        None => tracing::info!(instance = key, "deleted"),
    }
}

pub fn error_policy(instance: Arc<MySQL>, error: &Error, ctx: Arc<Context>) -> Action {
    error_policy_for(&object_key(instance.as_ref()), error, &ctx)
}
