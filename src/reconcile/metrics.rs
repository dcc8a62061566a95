//! The operator's metrics, on `prometheus-client`: what it reconciled and how long it
//! took, why a reconcile failed, its own API requests by verb, backups by outcome, the
//! last successful backup and the recoverable window of each instance, and whether
//! this replica leads.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::kubeclient::requests::RequestCounter;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ControllerLabels {
    pub controller: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    pub controller: &'static str,
    /// The step that failed: observe, render, apply, status, finalizer.
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct InstanceLabels {
    pub namespace: String,
    pub instance: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MemberLabels {
    pub namespace: String,
    pub instance: String,
    /// The member's Deployment.
    pub member: String,
}

pub struct Metrics {
    registry: Registry,
    failovers: Family<InstanceLabels, Counter>,
    replication_lag: Family<MemberLabels, Gauge>,
    reconciles: Family<ControllerLabels, Counter>,
    errors: Family<ErrorLabels, Counter>,
    duration: Family<ControllerLabels, Histogram>,
    backups: Family<OutcomeLabels, Counter>,
    last_backup: Family<InstanceLabels, Gauge>,
    recoverable_from: Family<InstanceLabels, Gauge>,
    recoverable_until: Family<InstanceLabels, Gauge>,
    instance_changes: Counter,
    instance_wakeups: Counter,
    leader: Gauge,
    /// The operator's own API requests by verb (a layer on its client).
    pub requests: std::sync::Arc<RequestCounter>,
    caches_synced: AtomicBool,
    leading: AtomicBool,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut r = Registry::with_prefix("kubectl_mysql");
        let requests = std::sync::Arc::new(RequestCounter::default());
        r.register(
            "api_requests",
            "The operator's own requests to the API server, by verb",
            requests.family(),
        );
        let reconciles: Family<ControllerLabels, Counter> = registered(
            &mut r,
            "reconciles",
            "Reconciles that finished without a failure",
        );
        // Every controller's counters exist from the start, at 0, so a dashboard (and
        // rate()) sees them before the first reconcile.
        for controller in ["instance", "backup"] {
            let _ = reconciles.get_or_create(&ControllerLabels { controller });
        }
        let duration = Family::<ControllerLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.005, 2.0, 12))
        });
        r.register(
            "reconcile_duration_seconds",
            "How long a reconcile took",
            duration.clone(),
        );
        Self {
            reconciles,
            errors: registered(
                &mut r,
                "reconcile_errors",
                "Reconciles that failed, by the step that failed",
            ),
            duration,
            backups: registered(&mut r, "backups", "Backups that finished, by outcome"),
            last_backup: registered(
                &mut r,
                "last_successful_backup_timestamp_seconds",
                "When each instance's newest successful backup finished",
            ),
            recoverable_from: registered(
                &mut r,
                "recoverable_from_timestamp_seconds",
                "Point-in-time recovery: the earliest second a restore of each instance can reach",
            ),
            recoverable_until: registered(
                &mut r,
                "recoverable_until_timestamp_seconds",
                "Point-in-time recovery: the latest second a restore of each instance can reach (now minus this is the data a loss would cost)",
            ),
            instance_changes: registered(
                &mut r,
                "instance_changes",
                "Changes to instances the watch delivered",
            ),
            instance_wakeups: registered(
                &mut r,
                "instance_wakeups",
                "Changes to instances that woke a reconcile (status-only changes do not)",
            ),
            leader: registered(&mut r, "leader", "1 while this replica reconciles"),
            failovers: registered(
                &mut r,
                "failovers",
                "Automatic failovers this operator finished, by instance",
            ),
            replication_lag: registered(
                &mut r,
                "replication_lag_seconds",
                "How far behind the primary each replica's applier is (absent while it cannot say)",
            ),
            registry: r,
            requests,
            caches_synced: AtomicBool::new(false),
            leading: AtomicBool::new(false),
        }
    }
}

/// A new metric, registered under `name`.
fn registered<M>(registry: &mut Registry, name: &str, help: &str) -> M
where
    M: prometheus_client::registry::Metric + Clone + Default,
{
    let metric = M::default();
    registry.register(name, help, metric.clone());
    metric
}

impl Metrics {
    /// The instance watch delivered a change.
    pub fn instance_changed(&self) {
        self.instance_changes.inc();
    }

    /// A change to an instance passed the filter and woke its reconcile.
    pub fn instance_woke(&self) {
        self.instance_wakeups.inc();
    }

    pub fn reconciled(&self, controller: &'static str, took: Duration) {
        let labels = ControllerLabels { controller };
        self.reconciles.get_or_create(&labels).inc();
        self.duration
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }

    pub fn failed(&self, controller: &'static str, reason: &'static str, took: Duration) {
        self.errors
            .get_or_create(&ErrorLabels { controller, reason })
            .inc();
        self.duration
            .get_or_create(&ControllerLabels { controller })
            .observe(took.as_secs_f64());
    }

    pub fn backup_finished(&self, succeeded: bool) {
        let outcome = if succeeded { "succeeded" } else { "failed" };
        self.backups.get_or_create(&OutcomeLabels { outcome }).inc();
    }

    pub fn last_successful_backup(&self, namespace: &str, instance: &str, at: jiff::Timestamp) {
        let labels = InstanceLabels {
            namespace: namespace.to_string(),
            instance: instance.to_string(),
        };
        self.last_backup.get_or_create(&labels).set(at.as_second());
    }

    /// An instance's recoverable window; None removes it (point-in-time recovery off,
    /// or the instance gone).
    pub fn recoverable(
        &self,
        namespace: &str,
        instance: &str,
        window: Option<(jiff::Timestamp, jiff::Timestamp)>,
    ) {
        let labels = InstanceLabels {
            namespace: namespace.to_string(),
            instance: instance.to_string(),
        };
        match window {
            Some((from, until)) => {
                self.recoverable_from
                    .get_or_create(&labels)
                    .set(from.as_second());
                self.recoverable_until
                    .get_or_create(&labels)
                    .set(until.as_second());
            }
            None => {
                self.recoverable_from.remove(&labels);
                self.recoverable_until.remove(&labels);
            }
        }
    }

    /// A replicated instance's failovers (a failover finished now when `finished`) and
    /// each member's replication lag.
    pub fn members(
        &self,
        namespace: &str,
        instance: &str,
        finished: bool,
        lags: &[(String, Option<u64>)],
    ) {
        let labels = InstanceLabels {
            namespace: namespace.to_string(),
            instance: instance.to_string(),
        };
        let failovers = self.failovers.get_or_create(&labels);
        if finished {
            failovers.inc();
        }
        for (member, lag) in lags {
            let labels = MemberLabels {
                namespace: namespace.to_string(),
                instance: instance.to_string(),
                member: member.clone(),
            };
            match lag {
                Some(lag) => {
                    self.replication_lag
                        .get_or_create(&labels)
                        .set(i64::try_from(*lag).unwrap_or(i64::MAX));
                }
                None => {
                    self.replication_lag.remove(&labels);
                }
            }
        }
    }

    pub fn set_leading(&self, leading: bool) {
        self.leading.store(leading, Ordering::Relaxed);
        self.leader.set(i64::from(leading));
    }

    pub fn leading(&self) -> bool {
        self.leading.load(Ordering::Relaxed)
    }

    pub fn set_caches_synced(&self) {
        self.caches_synced.store(true, Ordering::Relaxed);
    }

    pub fn caches_synced(&self) -> bool {
        self.caches_synced.load(Ordering::Relaxed)
    }

    /// The text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}
