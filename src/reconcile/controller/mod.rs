//! The controllers' wiring: both controllers over shared watches and caches
//! (`watches`), run while this replica holds the Lease (`lease`).

mod lease;
mod watches;

use std::sync::Arc;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::core::PartialObjectMeta;
use kube::runtime::controller::{Config, Controller};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{Predicate, WatchStreamExt, predicates, watcher};
use kube::{Client, ResourceExt};

pub use lease::LeaderElection;
use watches::{BackupFeeds, Triggers, scoped, watch_children};

use super::kube_ops::AppliedMemo;
use super::shutdown::Shutdown;
use super::{Caches, Context, Metrics, backup, instance};
use crate::api::MySQL;
use crate::api::keys::INSTANCE_LABEL;
use crate::render::Renderer;

/// What the controllers watch and how hard they work.
#[derive(Clone, Debug)]
pub struct Scope {
    /// Namespaces to watch; empty for all.
    pub namespaces: Vec<String>,
    /// How many objects of each kind may be reconciled at once.
    pub concurrency: u16,
    /// With more than one replica: the Lease that elects the one that reconciles.
    pub leader_election: Option<LeaderElection>,
    /// SIGTERM or Ctrl-C: every controller stops after its reconciles in flight.
    pub shutdown: Shutdown,
}

#[derive(Debug, thiserror::Error)]
pub enum ControllerError {
    #[error("leader election: {0}")]
    Lease(#[from] kube_lease_manager::LeaseManagerError),
    /// Another replica holds the Lease now; this one must stop reconciling at once.
    #[error("lost the Lease {0} to another replica; exiting so that only one reconciles")]
    LostLease(String),
}

/// Runs both controllers in every watched namespace until a signal stops them; with
/// leader election, only while this replica holds the Lease.
pub async fn run(
    client: Client,
    renderer: Renderer,
    metrics: Arc<Metrics>,
    scope: Scope,
) -> Result<(), ControllerError> {
    let work = run_controllers(client.clone(), renderer, metrics.clone(), &scope);
    match &scope.leader_election {
        None => {
            metrics.set_leading(true);
            work.await;
            Ok(())
        }
        Some(election) => {
            lease::while_leading(client, election, &scope.shutdown, &metrics, work).await
        }
    }
}

async fn run_controllers(client: Client, renderer: Renderer, metrics: Arc<Metrics>, scope: &Scope) {
    let scopes: Vec<Option<String>> = if scope.namespaces.is_empty() {
        vec![None]
    } else {
        scope.namespaces.iter().cloned().map(Some).collect()
    };
    let concurrency = scope.concurrency;
    let shutdown = &scope.shutdown;
    let renderer = Arc::new(renderer);
    let mut all_caches = Vec::new();
    let runs: Vec<_> = scopes
        .into_iter()
        .map(|scope| {
            let applied = Arc::new(AppliedMemo::default());
            let (caches, triggers, feeds) = watch_children(&client, scope.as_deref(), &applied);
            all_caches.push(caches.clone());
            let ctx = Arc::new(Context::new(
                client.clone(),
                renderer.clone(),
                metrics.clone(),
                caches,
                applied,
            ));
            let client = client.clone();
            let shutdown = shutdown.clone();
            async move {
                tokio::join!(
                    run_instances(
                        client.clone(),
                        scope.as_deref(),
                        ctx.clone(),
                        triggers,
                        (concurrency, shutdown.clone())
                    ),
                    run_backups(feeds, ctx, (concurrency, shutdown))
                )
            }
        })
        .collect();
    let synced = async {
        futures::future::join_all(all_caches.iter().map(Caches::fill)).await;
        metrics.set_caches_synced();
        std::future::pending::<()>().await
    };
    // kube's graceful shutdown never ends for a controller stopped before its first
    // list (its runner waits for a store that will not fill), so a stop has a bound:
    // none before the caches are filled (nothing can be in flight), a grace period for
    // the reconciles in flight after.
    let stopped = async {
        shutdown.requested().await;
        if all_caches.iter().all(|c| *c.filled.borrow()) {
            tokio::time::sleep(SHUTDOWN_GRACE).await;
            tracing::warn!(
                "stopping without the reconciles still in flight after {} s",
                SHUTDOWN_GRACE.as_secs()
            );
        }
    };
    tokio::select! {
        _ = futures::future::join_all(runs) => {}
        () = synced => {}
        () = stopped => {}
    }
}

/// How long the reconciles in flight may finish after SIGTERM (within the pod's
/// default 30 s termination grace period).
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(20);

fn by_instance_label<K: kube::Resource>(
    obj: &K,
    namespace: Option<String>,
) -> Option<ObjectRef<MySQL>> {
    let name = obj.labels().get(INSTANCE_LABEL)?;
    Some(ObjectRef::new(name).within(&namespace?))
}

/// What of an instance, besides its status, a reconcile acts on: the spec (its
/// generation, which also moves when a deletion starts), labels, annotations (pause,
/// restore requests) and finalizers. Our own status writes change none of these, so
/// they do not wake the instance again.
fn instance_changes(instance: &MySQL) -> Option<u64> {
    predicates::generation
        .combine(predicates::labels)
        .combine(predicates::annotations)
        .combine(predicates::finalizers)
        .hash_property(instance)
}

async fn run_instances(
    client: Client,
    scope: Option<&str>,
    ctx: Arc<Context>,
    triggers: Triggers,
    (concurrency, shutdown): (u16, Shutdown),
) {
    let (instances, writer) = reflector::store();
    let forget = ctx.clone();
    let changes = watcher(scoped::<MySQL>(client, scope), watcher::Config::default())
        .default_backoff()
        .modify(|o: &mut MySQL| o.metadata.managed_fields = None)
        .reflect(writer)
        // An instance gone is forgotten: its backoff and memos must not carry over to
        // a new instance of the same name.
        .inspect_ok(move |event| {
            if let watcher::Event::Delete(gone) = event {
                forget.forget_instance(gone);
            }
        })
        .applied_objects()
        // Counted before and after the filter: a test (or a person) can see that a
        // change was delivered and dropped, not merely not acted on yet.
        .inspect_ok({
            let metrics = ctx.metrics.clone();
            move |_| metrics.instance_changed()
        })
        .predicate_filter(instance_changes, Default::default())
        .inspect_ok({
            let metrics = ctx.metrics.clone();
            move |_| metrics.instance_woke()
        });
    let secret_owners = instances.clone();
    let config_map_users = instances.clone();
    let fill_caches = futures::future::join_all(triggers.fillers);
    let controller = Controller::for_stream(changes, instances)
        .owns_stream(triggers.deployments)
        .owns_stream(triggers.services)
        // Claims and volumes by label: the backup claim and the PVs are not owned by
        // the instance, and a change to them (a deleted claim, a Released volume) must
        // still wake it.
        .watches_stream(triggers.pvcs, |pvc| {
            by_instance_label(&pvc, pvc.namespace())
        })
        .watches_stream(triggers.pvs, |pv| {
            let namespace = pv.spec.as_ref()?.claim_ref.as_ref()?.namespace.clone();
            by_instance_label(&pv, namespace)
        })
        .watches_stream(triggers.backups, |b| {
            Some(ObjectRef::new(&b.spec.instance).within(&b.namespace()?))
        })
        .watches_stream(triggers.jobs, |job| {
            by_instance_label(&job, job.namespace())
        })
        // Our credentials Secrets, and the users' Secrets that instances reference.
        .watches_stream(triggers.secrets, move |secret| {
            instances_referencing(&secret, &secret_owners)
        })
        .watches_stream(triggers.config_maps, move |config_map| {
            instances_naming_config_map(&config_map, &config_map_users)
        })
        .with_config(Config::default().concurrency(concurrency))
        .graceful_shutdown_on(shutdown.requested())
        .run(instance::reconcile, instance::error_policy, ctx)
        .for_each(|result| async move {
            if let Ok((object, _)) = result {
                tracing::debug!(instance = %object, "reconciled");
            }
        });
    tokio::select! {
        () = controller => {}
        _ = fill_caches => {}
    }
}

/// The instances a Secret's change concerns: those whose `passwordSecretRef` names it
/// and the one owning it (its credentials Secret).
fn instances_referencing(
    secret: &PartialObjectMeta<Secret>,
    instances: &Store<MySQL>,
) -> Vec<ObjectRef<MySQL>> {
    let namespace = secret.namespace().unwrap_or_default();
    instances
        .state()
        .iter()
        .filter(|i| i.namespace().as_deref() == Some(namespace.as_str()))
        .filter(|i| {
            i.spec
                .password_secret_ref
                .as_ref()
                .is_some_and(|r| r.name == secret.name_any())
                || i.spec
                    .tls_secret(&crate::names::InstanceNames::new(i.name_any(), &namespace))
                    == Some(secret.name_any())
                || secret
                    .owner_references()
                    .iter()
                    .any(|o| Some(&o.uid) == i.metadata.uid.as_ref())
        })
        .map(|i| ObjectRef::from_obj(i.as_ref()))
        .collect()
}

/// The instances whose `spec.mysqlConfigMapName` names this ConfigMap.
fn instances_naming_config_map(
    config_map: &PartialObjectMeta<ConfigMap>,
    instances: &Store<MySQL>,
) -> Vec<ObjectRef<MySQL>> {
    let namespace = config_map.namespace();
    instances
        .state()
        .iter()
        .filter(|i| i.namespace() == namespace)
        .filter(|i| i.spec.mysql_config_map_name.as_deref() == Some(&config_map.name_any()))
        .map(|i| ObjectRef::from_obj(i.as_ref()))
        .collect()
}

async fn run_backups(
    BackupFeeds { records, jobs }: BackupFeeds,
    ctx: Arc<Context>,
    (concurrency, shutdown): (u16, Shutdown),
) {
    let store = ctx.caches.backups.clone();
    let forget = ctx.clone();
    let changes = records
        // A record gone is forgotten: its backoff must not carry over to a new record
        // of the same name.
        .inspect_ok(move |event| {
            if let watcher::Event::Delete(gone) = event {
                forget.forget_backup(gone);
            }
        })
        .applied_objects();
    Controller::for_stream(changes, store)
        .owns_stream(jobs.touched_objects())
        .with_config(Config::default().concurrency(concurrency))
        .graceful_shutdown_on(shutdown.requested())
        .run(backup::reconcile, backup::error_policy, ctx)
        .for_each(|result| async move {
            if let Ok((object, _)) = result {
                tracing::debug!(backup = %object, "reconciled");
            }
        })
        .await;
}
