//! The context every reconcile of one watch scope shares: the client, the caches, the
//! memos, the metrics, and how Events are published.

use std::sync::Arc;

use kube::runtime::controller::Action;
use kube::runtime::events::{Recorder, Reporter};
use kube::{Client, Resource, ResourceExt};

use super::caches::Caches;
use super::memos::{Backoff, SecretMemo, StatusMemo};
use super::{Error, Metrics, Result, kube_ops};
use crate::api::EventReason;
use crate::names::InstanceNames;
use crate::render::Renderer;

pub const MANAGER: &str = crate::api::keys::MANAGED_BY;

/// Shared by every reconcile of one watch scope.
pub struct Context {
    pub client: Client,
    pub renderer: Arc<Renderer>,
    pub recorder: Recorder,
    pub metrics: Arc<Metrics>,
    pub applied: Arc<kube_ops::AppliedMemo>,
    pub secrets_seen: SecretMemo,
    pub statuses_written: StatusMemo,
    pub backoff: Backoff,
    pub caches: Caches,
}

/// One Event to publish: its type, its reason (a closed set), and the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub type_: kube::runtime::events::EventType,
    pub reason: EventReason,
    pub message: String,
}

impl Notice {
    pub fn normal(reason: EventReason, message: String) -> Self {
        Notice {
            type_: kube::runtime::events::EventType::Normal,
            reason,
            message,
        }
    }

    pub fn warning(reason: EventReason, message: String) -> Self {
        Notice {
            type_: kube::runtime::events::EventType::Warning,
            reason,
            message,
        }
    }
}

impl Context {
    pub fn new(
        client: Client,
        renderer: Arc<Renderer>,
        metrics: Arc<Metrics>,
        caches: Caches,
        applied: Arc<kube_ops::AppliedMemo>,
    ) -> Self {
        let reporter = Reporter {
            controller: MANAGER.into(),
            instance: std::env::var("POD_NAME").ok(),
        };
        Self {
            recorder: Recorder::new(client.clone(), reporter),
            client,
            renderer,
            backoff: Backoff::default(),
            applied,
            secrets_seen: SecretMemo::default(),
            statuses_written: StatusMemo::default(),
            metrics,
            caches,
        }
    }

    /// Publishes each notice on `reference`, in order; a failure to publish is
    /// logged, never fatal.
    pub async fn publish_all(
        &self,
        reference: &k8s_openapi::api::core::v1::ObjectReference,
        notices: &[Notice],
    ) {
        for notice in notices {
            let reason = notice.reason.as_str();
            let event = kube::runtime::events::Event {
                type_: notice.type_,
                reason: reason.into(),
                note: Some(notice.message.clone()),
                action: reason.into(),
                secondary: None,
            };
            if let Err(e) = self.recorder.publish(&event, reference).await {
                tracing::warn!("could not publish Event {reason}: {e}");
            }
        }
    }

    /// Records a reconcile's outcome: its duration and result in the metrics, and
    /// the object's backoff reset after a success.
    pub(crate) fn record<T>(
        &self,
        controller: &'static str,
        key: &str,
        started: std::time::Instant,
        result: &Result<T>,
    ) {
        match result {
            Ok(_) => {
                self.metrics.reconciled(controller, started.elapsed());
                self.backoff.forget(key);
            }
            Err(error) => self
                .metrics
                .failed(controller, error.step(), started.elapsed()),
        }
    }

    /// An instance is gone (the watch saw its deletion): everything remembered of it
    /// and of its credentials Secrets goes too, so a new instance of the same name
    /// starts from nothing.
    pub fn forget_instance(&self, instance: &crate::api::MySQL) {
        let key = object_key(instance);
        self.backoff.forget(&key);
        self.statuses_written.forget(instance);
        if let Some(namespace) = instance.meta().namespace.as_deref() {
            let names = InstanceNames::new(instance.name_any(), namespace.to_string());
            for secret in [
                names.credentials_secret(),
                names.pending_credentials_secret(),
            ] {
                self.secrets_seen.learn(namespace, &secret, None);
            }
            self.metrics
                .recoverable(namespace, &instance.name_any(), None);
        }
    }

    /// A backup record is gone: its backoff goes with it.
    pub fn forget_backup(&self, backup: &crate::api::MySQLBackup) {
        self.backoff.forget(&object_key(backup));
    }
}

/// A failure backs off per object; expected waits never reach here (the plan returns
/// them as an Action).
pub fn error_policy_for(key: &str, error: &Error, ctx: &Context) -> Action {
    let delay = ctx.backoff.failed(key);
    tracing::warn!(
        object = key,
        retry_in_s = delay.as_secs(),
        "reconcile failed: {error}"
    );
    Action::requeue(delay)
}

pub fn object_key<K: kube::Resource>(obj: &K) -> String {
    format!(
        "{}/{}",
        obj.meta().namespace.as_deref().unwrap_or_default(),
        obj.meta().name.as_deref().unwrap_or_default()
    )
}

pub type SharedContext = Arc<Context>;
