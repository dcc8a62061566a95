//! The operator: two kube-runtime controllers sharing one context.
//! - `instance`: MySQL objects -> their children, restore on create, password changes,
//!   backup before delete (finalizer), status and Events.
//! - `backup`: MySQLBackup records -> backup Jobs -> recorded results.

pub mod backup;
pub mod instance;
pub mod kube_ops;
pub mod requests;
pub mod status;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kube::Client;
use kube::runtime::controller::Action;
use kube::runtime::events::{Recorder, Reporter};

use crate::Error;
use crate::render::Renderer;

pub const MANAGER: &str = crate::names::MANAGED_BY;

/// Shared by every reconcile.
pub struct Context {
    pub client: Client,
    pub renderer: Renderer,
    pub recorder: Recorder,
    failures: Mutex<HashMap<String, u32>>,
    pub metrics: Metrics,
    pub applied: kube_ops::AppliedMemo,
}

#[derive(Default)]
pub struct Metrics {
    pub reconciles: std::sync::atomic::AtomicU64,
    pub failures: std::sync::atomic::AtomicU64,
    pub requests: Arc<requests::RequestCounter>,
}

impl Context {
    pub fn new(
        client: Client,
        renderer: Renderer,
        requests: Arc<requests::RequestCounter>,
    ) -> Self {
        let reporter = Reporter {
            controller: MANAGER.into(),
            instance: std::env::var("POD_NAME").ok(),
        };
        Self {
            recorder: Recorder::new(client.clone(), reporter),
            client,
            renderer,
            failures: Mutex::default(),
            applied: kube_ops::AppliedMemo::default(),
            metrics: Metrics {
                requests,
                ..Metrics::default()
            },
        }
    }

    /// Publishes an Event; a failure to publish is logged, never fatal.
    pub async fn publish(
        &self,
        reference: &k8s_openapi::api::core::v1::ObjectReference,
        type_: kube::runtime::events::EventType,
        reason: &str,
        note: String,
    ) {
        let event = kube::runtime::events::Event {
            type_,
            reason: reason.into(),
            note: Some(note),
            action: reason.into(),
            secondary: None,
        };
        if let Err(e) = self.recorder.publish(&event, reference).await {
            tracing::warn!("could not publish Event {reason}: {e}");
        }
    }

    fn succeeded(&self, key: &str) {
        self.metrics
            .reconciles
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.failures.lock().expect("not poisoned").remove(key);
    }

    /// Exponential backoff per object (2s doubling to 5 min), so one broken instance
    /// retries slowly while the others go on.
    fn backoff(&self, key: &str) -> Duration {
        self.metrics
            .failures
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut failures = self.failures.lock().expect("not poisoned");
        let count = failures.entry(key.to_string()).or_insert(0);
        *count = count.saturating_add(1);
        Duration::from_secs((2u64 << (*count - 1).min(8)).min(300))
    }
}

/// Maps a reconcile error to what happens next. Waiting is normal progress (a Job or a
/// deletion under way): a short requeue, no warning. Everything else backs off.
pub fn error_policy_for(key: &str, error: &Error, ctx: &Context) -> Action {
    match innermost(error) {
        Error::Waiting(what) => {
            tracing::debug!(object = key, "waiting: {what}");
            Action::requeue(Duration::from_secs(3))
        }
        Error::InvalidSpec(message) => {
            tracing::warn!(object = key, "invalid spec: {message}");
            Action::await_change()
        }
        other => {
            let delay = ctx.backoff(key);
            tracing::warn!(
                object = key,
                retry_in_s = delay.as_secs(),
                "reconcile failed: {other}"
            );
            Action::requeue(delay)
        }
    }
}

/// The reconciler's own error inside the finalizer helper's wrapper.
fn innermost(error: &Error) -> &Error {
    use kube::runtime::finalizer::Error as F;
    match error {
        Error::Finalizer(boxed) => match boxed.as_ref() {
            F::ApplyFailed(inner) | F::CleanupFailed(inner) => innermost(inner),
            _ => error,
        },
        _ => error,
    }
}

/// Now, truncated to whole seconds like the API server's own timestamps: rounding up
/// could put a backup's completion after the creation of the instance that restores it.
pub fn now_rfc3339() -> String {
    let now = jiff::Timestamp::now();
    jiff::Timestamp::from_second(now.as_second())
        .unwrap_or(now)
        .to_string()
}

pub(crate) fn object_key<K: kube::Resource>(obj: &K) -> String {
    format!(
        "{}/{}",
        obj.meta().namespace.as_deref().unwrap_or_default(),
        obj.meta().name.as_deref().unwrap_or_default()
    )
}

pub type SharedContext = Arc<Context>;
