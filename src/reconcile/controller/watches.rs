//! The watches: one per kind, reflected into the caches the reconciles read, and the
//! triggers that wake an instance when a child changes with news for it.

use std::sync::Arc;

use futures::{FutureExt, StreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{
    ConfigMap, Node, NodeSpec, NodeStatus, PersistentVolume, PersistentVolumeClaim, Secret, Service,
};
use kube::core::PartialObjectMeta;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};

use crate::api::MySQLBackup;
use crate::api::keys::{INSTANCE_LABEL, MANAGED_BY, MANAGED_BY_LABEL};
use crate::reconcile::instance;
use crate::reconcile::kube_ops::{AppliedMemo, hash_of};
use crate::reconcile::{Caches, ForeignNames};

pub(super) type Trigger<K> = futures::stream::BoxStream<'static, Result<K, watcher::Error>>;

/// The watch streams that both fill the caches and wake the instances.
pub(super) struct Triggers {
    pub pvs: Trigger<PersistentVolume>,
    pub pvcs: Trigger<PersistentVolumeClaim>,
    pub services: Trigger<Service>,
    pub deployments: Trigger<Deployment>,
    pub backups: Trigger<MySQLBackup>,
    pub jobs: Trigger<Job>,
    pub secrets: Trigger<PartialObjectMeta<Secret>>,
    pub config_maps: Trigger<PartialObjectMeta<ConfigMap>>,
    /// Watches that only fill caches and wake nothing.
    pub fillers: Vec<futures::future::BoxFuture<'static, ()>>,
}

/// The backup controller's feeds: the same watches of records and Jobs as the
/// instance controller's (each kind is watched once, its events fanned out to both).
pub(super) struct BackupFeeds {
    pub records: Events<MySQLBackup>,
    pub jobs: Events<Job>,
}

/// Polls a watch that only fills a cache, for as long as the controllers run.
fn drain<K: Send + 'static>(trigger: Trigger<K>) -> futures::future::BoxFuture<'static, ()> {
    trigger.for_each(|_| futures::future::ready(())).boxed()
}

pub(super) type Events<K> =
    futures::stream::BoxStream<'static, Result<watcher::Event<K>, watcher::Error>>;

/// One watch, two consumers: each gets every event, in order. The pump waits for the
/// slower one (no event is dropped) and goes on while either listens; a watch error is
/// logged here (the watch retries with backoff) rather than passed to both.
fn fan_out<K: Clone + Send + 'static>(
    events: Events<K>,
) -> (
    Events<K>,
    Events<K>,
    futures::future::BoxFuture<'static, ()>,
) {
    use futures::SinkExt;
    let (mut to_first, first) = futures::channel::mpsc::channel(64);
    let (mut to_second, second) = futures::channel::mpsc::channel(64);
    let pump = async move {
        let mut events = events;
        while let Some(event) = events.next().await {
            let event = match event {
                Ok(event) => event,
                Err(error) => {
                    tracing::warn!("watch failed, retrying: {error}");
                    continue;
                }
            };
            let first_listens = to_first.send(event.clone()).await.is_ok();
            let second_listens = to_second.send(event).await.is_ok();
            if !first_listens && !second_listens {
                break;
            }
        }
    };
    (first.map(Ok).boxed(), second.map(Ok).boxed(), pump.boxed())
}

/// What a watched kind is: what kube's watcher and reflector need of it, said once.
pub(super) trait Watched:
    kube::Resource<DynamicType = ()>
    + Clone
    + serde::de::DeserializeOwned
    + std::fmt::Debug
    + Send
    + Sync
    + 'static
{
}

impl<K> Watched for K where
    K: kube::Resource<DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static
{
}

/// One watch per kind, reflected into a cache; managedFields are dropped first, since
/// nothing reads them and they are half of an object's size. Every change wakes.
fn reflected<K>(api: Api<K>, config: watcher::Config) -> (Store<K>, Trigger<K>)
where
    K: Watched,
{
    let (store, events) = reflect(api, config, |_| {});
    (store, events.touched_objects().boxed())
}

/// A watch both controllers follow, reflected into one cache: the instance
/// controller's trigger, the backup controller's events, and the pump that feeds them.
#[allow(clippy::type_complexity)]
fn shared<K>(
    api: Api<K>,
    config: watcher::Config,
) -> (
    Store<K>,
    Trigger<K>,
    Events<K>,
    futures::future::BoxFuture<'static, ()>,
)
where
    K: Watched,
{
    let (store, events) = reflect(api, config, |_| {});
    let (for_instances, for_backups, pump) = fan_out(events);
    (
        store,
        for_instances.touched_objects().boxed(),
        for_backups,
        pump,
    )
}

/// Reflects a watch stream into a cache after `slim` (and dropping managedFields) made
/// each object as small as what the reconciles read.
fn reflect<K>(api: Api<K>, config: watcher::Config, slim: fn(&mut K)) -> (Store<K>, Events<K>)
where
    K: Watched,
{
    let (reader, writer) = reflector::store();
    let stream = watcher(api, config)
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
/// generation), whether it is available and why its pods are refused, not the replica
/// counts and conditions the Deployment controller rewrites as its pod comes up.
fn reads_of_deployment(deployment: &Deployment) -> u64 {
    let mut meta = deployment.metadata.clone();
    meta.resource_version = None;
    hash_of(&(
        meta,
        instance::plan::is_available(Some(deployment)),
        instance::plan::pod_refusal(Some(deployment)),
    ))
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

pub(super) fn watch_children(
    client: &Client,
    scope: Option<&str>,
    applied: &Arc<AppliedMemo>,
) -> (Caches, Triggers, BackupFeeds) {
    let managed = watcher::Config::default().labels(&format!("{MANAGED_BY_LABEL}={MANAGED_BY}"));
    let (pvs, pv_events) = reflect(
        Api::<PersistentVolume>::all(client.clone()),
        managed.clone(),
        |_| {},
    );
    let (pvcs, pvc_events) = reflect(
        scoped::<PersistentVolumeClaim>(client.clone(), scope),
        managed.clone(),
        |_| {},
    );
    let (services, service_events) = reflect(
        scoped::<Service>(client.clone(), scope),
        managed.clone(),
        |_| {},
    );
    let (deployments, deployment_events) = reflect(
        scoped::<Deployment>(client.clone(), scope),
        managed,
        slim_deployment,
    );
    let (backups, backup_trigger, backup_records, backup_pump) = shared(
        scoped::<MySQLBackup>(client.clone(), scope),
        watcher::Config::default(),
    );
    let (jobs, job_trigger, backup_jobs, job_pump) = shared(
        scoped::<Job>(client.clone(), scope),
        watcher::Config::default().labels(INSTANCE_LABEL),
    );
    // Secrets by metadata only: which exist and at what version; their data is read
    // only when a version is new to us (observe's SecretMemo).
    let (secrets, secret_events) = reflect(
        scoped::<PartialObjectMeta<Secret>>(client.clone(), scope),
        watcher::Config::default(),
        |_| {},
    );
    let (nodes, node_filler) = reflect(
        Api::<Node>::all(client.clone()),
        watcher::Config::default(),
        slim_node,
    );
    let (foreign, mut fillers) = watch_foreign_names(client, scope);
    fillers.push(drain(node_filler.touched_objects().boxed()));
    fillers.extend([backup_pump, job_pump]);
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
            config_maps: config_map_changes(client, scope),
            fillers,
        },
        BackupFeeds {
            records: backup_records,
            jobs: backup_jobs,
        },
    )
}

/// ConfigMaps by metadata only, and not cached: a change wakes the instances that name
/// one (`spec.mysqlConfigMapName`), whose reconcile reads its data.
fn config_map_changes(
    client: &Client,
    scope: Option<&str>,
) -> Trigger<PartialObjectMeta<ConfigMap>> {
    watcher(
        scoped::<PartialObjectMeta<ConfigMap>>(client.clone(), scope),
        watcher::Config::default(),
    )
    .default_backoff()
    .touched_objects()
    .boxed()
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

pub(super) fn scoped<K>(client: Client, scope: Option<&str>) -> Api<K>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    K::DynamicType: Default,
{
    match scope {
        Some(ns) => Api::namespaced(client, ns),
        None => Api::all(client),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::DeploymentStatus;
    use kube::ResourceExt;

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
