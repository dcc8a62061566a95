//! The controllers' wiring: one watch per kind, reflected into the caches the
//! reconciles read, and the triggers that wake an instance when a child changes.

use std::sync::Arc;
use std::time::Duration;

use futures::{FutureExt, StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{
    Node, NodeSpec, NodeStatus, PersistentVolume, PersistentVolumeClaim, Secret, Service,
};
use kube::core::PartialObjectMeta;
use kube::runtime::controller::{Config, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{Predicate, WatchStreamExt, predicates, watcher};
use kube::{Api, Client, ResourceExt};
use kube_lease_manager::LeaseManagerBuilder;

use super::kube_ops::{AppliedMemo, hash_of};
use super::shutdown::Shutdown;
use super::{Caches, Context, ForeignNames, Metrics, backup, instance};
use crate::api::keys::{INSTANCE_LABEL, MANAGED_BY, MANAGED_BY_LABEL};
use crate::api::{MySQL, MySQLBackup};
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

/// A `coordination.k8s.io` Lease: its holder reconciles, the others stand by.
#[derive(Clone, Debug)]
pub struct LeaderElection {
    pub namespace: String,
    pub lease_name: String,
    /// This replica's name in the Lease (the pod's name in a cluster).
    pub identity: String,
    /// How long a holder that stopped renewing keeps the Lease.
    pub lease_duration: Duration,
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
    let Some(election) = scope.leader_election.clone() else {
        metrics.set_leading(true);
        run_controllers(client, renderer, metrics, &scope).await;
        return Ok(());
    };
    let grace = (election.lease_duration.as_secs() / 3).max(1);
    let manager = LeaseManagerBuilder::new(client.clone(), &election.lease_name)
        .with_namespace(&election.namespace)
        .with_identity(&election.identity)
        .with_duration(election.lease_duration.as_secs())
        .with_grace(grace)
        .with_field_manager(format!("{MANAGED_BY}-lease"))
        .build()
        .await?;
    let (mut leading, lease_task) = manager.watch().await;
    tracing::info!(
        lease = election.lease_name,
        identity = election.identity,
        "standing by for the Lease"
    );
    let won = tokio::select! {
        won = leading.wait_for(|l| *l) => won.is_ok(),
        () = scope.shutdown.requested() => false,
    };
    if !won {
        drop(leading);
        let _ = lease_task.await;
        return Ok(());
    }
    tracing::info!(
        lease = election.lease_name,
        "holding the Lease: reconciling"
    );
    metrics.set_leading(true);
    let mut watch_loss = leading.clone();
    tokio::select! {
        () = run_controllers(client, renderer, metrics.clone(), &scope) => {}
        _ = watch_loss.wait_for(|l| !*l) => {
            metrics.set_leading(false);
            return Err(ControllerError::LostLease(election.lease_name));
        }
    }
    // Stopped by a signal: hand the Lease over at once rather than let it expire.
    drop(watch_loss);
    drop(leading);
    let _ = lease_task.await;
    Ok(())
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
            let (caches, triggers) = watch_children(&client, scope.as_deref(), &applied);
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
                    run_backups(client, scope.as_deref(), ctx, (concurrency, shutdown))
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

type Trigger<K> = futures::stream::BoxStream<'static, Result<K, watcher::Error>>;

/// The watch streams that both fill the caches and wake the instances.
struct Triggers {
    pvs: Trigger<PersistentVolume>,
    pvcs: Trigger<PersistentVolumeClaim>,
    services: Trigger<Service>,
    deployments: Trigger<Deployment>,
    backups: Trigger<MySQLBackup>,
    jobs: Trigger<Job>,
    secrets: Trigger<PartialObjectMeta<Secret>>,
    /// Watches that only fill caches and wake nothing.
    fillers: Vec<futures::future::BoxFuture<'static, ()>>,
}

/// Polls a watch that only fills a cache, for as long as the controllers run.
fn drain<K: Send + 'static>(trigger: Trigger<K>) -> futures::future::BoxFuture<'static, ()> {
    trigger.for_each(|_| futures::future::ready(())).boxed()
}

type Events<K> = futures::stream::BoxStream<'static, Result<watcher::Event<K>, watcher::Error>>;

/// One watch per kind, reflected into a cache; managedFields are dropped first, since
/// nothing reads them and they are half of an object's size. Every change wakes.
fn reflected<K>(api: Api<K>, config: watcher::Config) -> (Store<K>, Trigger<K>)
where
    K: kube::Resource
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
    K::DynamicType: Default + Eq + std::hash::Hash + Clone + Send + Sync,
{
    let (store, events) = reflect(watcher(api, config), |_| {});
    (store, events.touched_objects().boxed())
}

/// Reflects a watch stream into a cache after `slim` (and dropping managedFields) made
/// each object as small as what the reconciles read.
fn reflect<K>(
    events: impl futures::Stream<Item = Result<watcher::Event<K>, watcher::Error>> + Send + 'static,
    slim: fn(&mut K),
) -> (Store<K>, Events<K>)
where
    K: kube::Resource + Clone + std::fmt::Debug + Send + Sync + 'static,
    K::DynamicType: Default + Eq + std::hash::Hash + Clone + Send + Sync,
{
    let (reader, writer) = reflector::store();
    let stream = events
        .default_backoff()
        .modify(move |o: &mut K| {
            o.meta_mut().managed_fields = None;
            slim(o);
        })
        .reflect(writer)
        .boxed();
    (reader, stream)
}

/// A child's watch as a trigger that wakes its instance only for news: not for the
/// echo of our own write (the reconcile that wrote it knew what it wrote), and not for
/// a change to nothing the reconcile reads (`reads` hashes what it reads). A deletion
/// always wakes.
fn waking_on_news<K>(
    events: Events<K>,
    reads: fn(&K) -> u64,
    applied: Arc<AppliedMemo>,
) -> Trigger<K>
where
    K: kube::Resource + Send + 'static,
    K::DynamicType: Default,
{
    let mut last_read = std::collections::HashMap::<u64, u64>::new();
    let key = |obj: &K| hash_of(&(obj.meta().namespace.as_deref(), obj.meta().name.as_deref()));
    events
        .filter_map(move |event| {
            let news = match event {
                Err(e) => Some(Err(e)),
                Ok(watcher::Event::Apply(obj) | watcher::Event::InitApply(obj)) => {
                    let read = reads(&obj);
                    let before = last_read.insert(key(&obj), read);
                    let echo = applied.is_echo(&obj);
                    let news = !echo && before != Some(read);
                    tracing::trace!(
                        child = obj.meta().name.as_deref().unwrap_or_default(),
                        version = obj.meta().resource_version.as_deref().unwrap_or_default(),
                        echo,
                        news,
                        "child event"
                    );
                    news.then_some(Ok(obj))
                }
                Ok(watcher::Event::Delete(obj)) => {
                    last_read.remove(&key(&obj));
                    Some(Ok(obj))
                }
                Ok(watcher::Event::Init | watcher::Event::InitDone) => None,
            };
            futures::future::ready(news)
        })
        .boxed()
}

/// What a reconcile reads of most children: all of it but the version.
fn reads_all<K: kube::Resource + Clone + serde::Serialize>(obj: &K) -> u64 {
    let mut unversioned = obj.clone();
    unversioned.meta_mut().resource_version = None;
    hash_of(&unversioned)
}

/// What a reconcile reads of its Deployment: the metadata (owner, labels, the
/// generation) and whether it is available, not the replica counts and conditions
/// the Deployment controller rewrites as its pod comes up.
fn reads_of_deployment(deployment: &Deployment) -> u64 {
    let mut meta = deployment.metadata.clone();
    meta.resource_version = None;
    hash_of(&(meta, instance::plan::is_available(Some(deployment))))
}

/// What a reconcile reads of a Secret's metadata-only event: that its data may have
/// changed, which only the version tells.
fn reads_version<K: kube::Resource>(obj: &K) -> u64 {
    hash_of(&obj.meta().resource_version)
}

/// A Deployment as the reconcile reads it: metadata (owner, labels, and the
/// generation, which stands for the spec in the apply memo) and status. The pod
/// template is most of its size.
fn slim_deployment(deployment: &mut Deployment) {
    deployment.spec = None;
}

/// A node as the volume placement reads it: its labels, whether it takes pods
/// (cordon, taints) and its Ready condition. The rest (images, addresses, capacity,
/// heartbeats' other conditions) is most of a Node's size.
fn slim_node(node: &mut Node) {
    node.metadata.annotations = None;
    node.spec = node.spec.take().map(|spec| NodeSpec {
        unschedulable: spec.unschedulable,
        taints: spec.taints,
        ..Default::default()
    });
    node.status = node.status.take().map(|status| NodeStatus {
        conditions: status.conditions.map(|conditions| {
            conditions
                .into_iter()
                .filter(|c| c.type_ == "Ready")
                .collect()
        }),
        ..Default::default()
    });
}

fn watch_children(
    client: &Client,
    scope: Option<&str>,
    applied: &Arc<AppliedMemo>,
) -> (Caches, Triggers) {
    let managed = watcher::Config::default().labels(&format!("{MANAGED_BY_LABEL}={MANAGED_BY}"));
    let (pvs, pv_events) = reflect(
        watcher(
            Api::<PersistentVolume>::all(client.clone()),
            managed.clone(),
        ),
        |_| {},
    );
    let (pvcs, pvc_events) = reflect(
        watcher(
            scoped::<PersistentVolumeClaim>(client.clone(), scope),
            managed.clone(),
        ),
        |_| {},
    );
    let (services, service_events) = reflect(
        watcher(scoped::<Service>(client.clone(), scope), managed.clone()),
        |_| {},
    );
    let (deployments, deployment_events) = reflect(
        watcher(scoped::<Deployment>(client.clone(), scope), managed),
        slim_deployment,
    );
    let (backups, backup_trigger) = reflected(
        scoped::<MySQLBackup>(client.clone(), scope),
        watcher::Config::default(),
    );
    let (jobs, job_trigger) = reflected(
        scoped::<Job>(client.clone(), scope),
        watcher::Config::default().labels(INSTANCE_LABEL),
    );
    // Secrets by metadata only: which exist and at what version; their data is read
    // only when a version is new to us (observe's SecretMemo).
    let (secrets, secret_events) = reflect(
        watcher(
            scoped::<PartialObjectMeta<Secret>>(client.clone(), scope),
            watcher::Config::default(),
        ),
        |_| {},
    );
    let (nodes, node_filler) = reflect(
        watcher(Api::<Node>::all(client.clone()), watcher::Config::default()),
        slim_node,
    );
    let (foreign, mut fillers) = watch_foreign_names(client, scope);
    fillers.push(drain(node_filler.touched_objects().boxed()));
    (
        Caches {
            pvs,
            pvcs,
            services,
            deployments,
            backups,
            jobs,
            secrets,
            nodes,
            foreign,
            filled: Arc::new(tokio::sync::watch::Sender::new(false)),
        },
        Triggers {
            pvs: waking_on_news(pv_events, reads_all, applied.clone()),
            pvcs: waking_on_news(pvc_events, reads_all, applied.clone()),
            services: waking_on_news(service_events, reads_all, applied.clone()),
            deployments: waking_on_news(deployment_events, reads_of_deployment, applied.clone()),
            backups: backup_trigger,
            jobs: job_trigger,
            secrets: waking_on_news(secret_events, reads_version, applied.clone()),
            fillers,
        },
    )
}

/// Names of objects of our kinds that are not ours (metadata only): an instance's
/// child missing from the caches of ours is absent unless one of these has its name
/// (left unlabelled by the course's operator), and only then is it read.
fn watch_foreign_names(
    client: &Client,
    scope: Option<&str>,
) -> (ForeignNames, Vec<futures::future::BoxFuture<'static, ()>>) {
    let unmanaged = watcher::Config::default().labels(&format!("{MANAGED_BY_LABEL}!={MANAGED_BY}"));
    let (pvs, pv_filler) = reflected(
        Api::<PartialObjectMeta<PersistentVolume>>::all(client.clone()),
        unmanaged.clone(),
    );
    let (pvcs, pvc_filler) = reflected(
        scoped::<PartialObjectMeta<PersistentVolumeClaim>>(client.clone(), scope),
        unmanaged.clone(),
    );
    let (services, service_filler) = reflected(
        scoped::<PartialObjectMeta<Service>>(client.clone(), scope),
        unmanaged.clone(),
    );
    let (deployments, deployment_filler) = reflected(
        scoped::<PartialObjectMeta<Deployment>>(client.clone(), scope),
        unmanaged,
    );
    (
        ForeignNames {
            pvs,
            pvcs,
            services,
            deployments,
        },
        vec![
            drain(pv_filler),
            drain(pvc_filler),
            drain(service_filler),
            drain(deployment_filler),
        ],
    )
}

fn scoped<K>(client: Client, scope: Option<&str>) -> Api<K>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    K::DynamicType: Default,
{
    match scope {
        Some(ns) => Api::namespaced(client, ns),
        None => Api::all(client),
    }
}

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

/// `instance_changes`, counting what it lets through and what it drops: a test (or
/// a person) can see that a change was seen and dropped, not merely not acted on yet.
fn counting_instance_changes(metrics: Arc<Metrics>) -> impl Fn(&MySQL) -> Option<u64> {
    let last = std::sync::Mutex::new(std::collections::HashMap::<String, u64>::new());
    move |instance: &MySQL| {
        let hash = instance_changes(instance);
        let key = instance.metadata.uid.clone().unwrap_or_default();
        let before = match hash {
            Some(hash) => last.lock().expect("not poisoned").insert(key, hash),
            None => None,
        };
        metrics.instance_changed(hash.is_none() || before != hash);
        hash
    }
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
        .predicate_filter(
            counting_instance_changes(ctx.metrics.clone()),
            Default::default(),
        );
    let secret_owners = instances.clone();
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
            let namespace = secret.namespace().unwrap_or_default();
            let referencing: Vec<_> = secret_owners
                .state()
                .iter()
                .filter(|i| i.namespace().as_deref() == Some(namespace.as_str()))
                .filter(|i| {
                    i.spec
                        .password_secret_ref
                        .as_ref()
                        .is_some_and(|r| r.name == secret.name_any())
                        || secret
                            .owner_references()
                            .iter()
                            .any(|o| Some(&o.uid) == i.metadata.uid.as_ref())
                })
                .map(|i| ObjectRef::from_obj(i.as_ref()))
                .collect();
            referencing
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

async fn run_backups(
    client: Client,
    scope: Option<&str>,
    ctx: Arc<Context>,
    (concurrency, shutdown): (u16, Shutdown),
) {
    let (backups, writer) = reflector::store();
    let forget = ctx.clone();
    let changes = watcher(
        scoped::<MySQLBackup>(client.clone(), scope),
        watcher::Config::default(),
    )
    .default_backoff()
    .modify(|o: &mut MySQLBackup| o.metadata.managed_fields = None)
    .reflect(writer)
    .inspect_ok(move |event| {
        if let watcher::Event::Delete(gone) = event {
            forget.forget_backup(gone);
        }
    })
    .applied_objects();
    Controller::for_stream(changes, backups)
        .owns(
            scoped::<Job>(client, scope),
            watcher::Config::default().labels(INSTANCE_LABEL),
        )
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

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::DeploymentStatus;

    fn deployment(version: &str, available: i32, replicas: i32) -> Deployment {
        let mut d = Deployment::default();
        d.metadata.name = Some("db".into());
        d.metadata.namespace = Some("ns".into());
        d.metadata.resource_version = Some(version.into());
        d.status = Some(DeploymentStatus {
            available_replicas: Some(available),
            replicas: Some(replicas),
            ..Default::default()
        });
        d
    }

    async fn woken(
        events: Vec<watcher::Event<Deployment>>,
        applied: Arc<AppliedMemo>,
    ) -> Vec<String> {
        let events = futures::stream::iter(events.into_iter().map(Ok)).boxed();
        waking_on_news(events, reads_of_deployment, applied)
            .map(|d| d.unwrap().resource_version().unwrap())
            .collect()
            .await
    }

    #[tokio::test]
    async fn only_news_wakes_an_instance() {
        use watcher::Event::{Apply, Delete, Init, InitApply, InitDone};
        let applied = Arc::new(AppliedMemo::default());
        applied.wrote(&deployment("2", 0, 0));
        let events = vec![
            Init,
            InitApply(deployment("1", 0, 0)),
            InitDone,
            // The echo of our own write.
            Apply(deployment("2", 0, 0)),
            // The Deployment controller counts a replica: nothing we read.
            Apply(deployment("3", 0, 1)),
            // Its pod is available: news.
            Apply(deployment("4", 1, 1)),
            // Unavailable again: news.
            Apply(deployment("5", 0, 1)),
            Delete(deployment("5", 0, 1)),
        ];
        assert_eq!(woken(events, applied).await, ["1", "4", "5", "5"]);
    }

    /// An apply that changed nothing answers with the latest version, which may be
    /// another manager's write the cache has not shown yet: its event is news.
    #[tokio::test]
    async fn an_answer_carrying_another_managers_write_is_no_echo() {
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::ManagedFieldsEntry;
        use watcher::Event::{Apply, Init, InitApply, InitDone};
        let manager = |name: &str| ManagedFieldsEntry {
            manager: Some(name.into()),
            ..Default::default()
        };
        let mut available_again = deployment("3", 1, 1);
        available_again.metadata.managed_fields = Some(vec![
            manager(MANAGED_BY),
            manager("kube-controller-manager"),
        ]);
        let applied = Arc::new(AppliedMemo::default());
        applied.wrote(&available_again);
        let events = vec![
            Init,
            InitApply(deployment("2", 0, 1)),
            InitDone,
            Apply(available_again),
        ];
        assert_eq!(woken(events, applied).await, ["2", "3"]);
    }
}
