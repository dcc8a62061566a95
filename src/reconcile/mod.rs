//! The operator: two kube-runtime controllers sharing one context. Each reconcile reads
//! (observe), decides in pure functions (plan), then writes (apply).
//! - `instance`: MySQL objects -> their children, restore on create, password changes,
//!   backup before delete (finalizer), status and Events.
//! - `backup`: MySQLBackup records -> backup Jobs -> recorded results.
//! - `controller`: the watches, caches and wiring; `http`: health and metrics.

pub mod backup;
mod bucket;
pub mod controller;
pub mod http;
pub mod instance;
pub mod kube_ops;
pub mod metrics;
pub mod requests;
pub mod shutdown;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::api::{MySQL, MySQLStatus};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Node, PersistentVolume, PersistentVolumeClaim, Secret, Service};
use kube::Client;
use kube::core::PartialObjectMeta;
use kube::runtime::controller::Action;
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::reflector::{ObjectRef, Store};

use crate::render::Renderer;
use crate::{Error, Result};

pub const MANAGER: &str = crate::api::keys::MANAGED_BY;

/// How soon to look again while something we started is under way (a Job, a deletion).
pub const SHORT_WAIT: Duration = Duration::from_secs(3);
/// How soon to look again at something only a person can unblock; a change to the
/// objects involved wakes the reconcile sooner.
pub const BLOCKED_WAIT: Duration = Duration::from_secs(60);
/// The resync of a settled object.
pub const SETTLED_WAIT: Duration = Duration::from_secs(3600);

/// Shared by every reconcile of one watch scope.
pub struct Context {
    pub client: Client,
    pub renderer: Arc<Renderer>,
    pub recorder: Recorder,
    failures: Mutex<HashMap<String, u32>>,
    pub metrics: Arc<Metrics>,
    pub applied: Arc<kube_ops::AppliedMemo>,
    pub secrets_seen: SecretMemo,
    pub statuses_written: StatusMemo,
    pub caches: Caches,
}

/// The last status we wrote to each instance, with the instance's resourceVersion when
/// we wrote it. Until the watch brings our write back, the cache shows the instance at
/// that same version without our status: a reconcile then would compare its new status
/// with the old one, and either write ours again or, worse, take a status equal to the
/// old one for "no change" while the server holds ours (and our status write wakes
/// nobody). So while the cache lags, a reconcile sees the status we wrote; once the
/// version moved, the cache's own status counts again and the entry goes.
#[derive(Default)]
pub struct StatusMemo {
    written: Mutex<HashMap<String, (String, MySQLStatus)>>,
}

impl StatusMemo {
    /// The instance as the server has it: with the status we wrote, if the cache has
    /// not caught up with that write yet.
    pub fn as_written<'a>(&self, instance: &'a MySQL) -> std::borrow::Cow<'a, MySQL> {
        let (Some(uid), Some(version)) =
            (&instance.metadata.uid, &instance.metadata.resource_version)
        else {
            return std::borrow::Cow::Borrowed(instance);
        };
        let mut written = self.written.lock().expect("not poisoned");
        match written.get(uid) {
            Some((at, status)) if at == version => {
                let mut ours = instance.clone();
                ours.status = Some(status.clone());
                std::borrow::Cow::Owned(ours)
            }
            Some(_) => {
                written.remove(uid);
                std::borrow::Cow::Borrowed(instance)
            }
            None => std::borrow::Cow::Borrowed(instance),
        }
    }

    /// We wrote `status` to `instance` as the cache showed it.
    pub fn wrote(&self, instance: &MySQL, status: &MySQLStatus) {
        let (Some(uid), Some(version)) =
            (&instance.metadata.uid, &instance.metadata.resource_version)
        else {
            return;
        };
        self.written
            .lock()
            .expect("not poisoned")
            .insert(uid.clone(), (version.clone(), status.clone()));
    }

    /// The object is gone: nothing to remember.
    pub fn forget<K: kube::Resource>(&self, obj: &K) {
        if let Some(uid) = &obj.meta().uid {
            self.written.lock().expect("not poisoned").remove(uid);
        }
    }
}

/// Children as the operator's own watches last saw them: reconciles read these instead
/// of asking the API server, which made most of an instance's requests (BENCHMARKS.md).
/// A cache can lag our own writes by a moment; every use tolerates that (an apply that
/// turns out unnecessary is a no-op).
#[derive(Clone)]
pub struct Caches {
    pub pvs: Store<PersistentVolume>,
    pub pvcs: Store<PersistentVolumeClaim>,
    pub services: Store<Service>,
    pub deployments: Store<Deployment>,
    pub backups: Store<crate::api::MySQLBackup>,
    /// Jobs carrying our instance label (backup, restore and password Jobs).
    pub jobs: Store<Job>,
    /// Every Secret in scope, metadata only: never their data.
    pub secrets: Store<PartialObjectMeta<Secret>>,
    /// The nodes, slimmed to what volume placement reads.
    pub nodes: Store<Node>,
    pub foreign: ForeignNames,
    /// True once every cache above has had its first full list (`fill`).
    pub filled: Arc<tokio::sync::watch::Sender<bool>>,
}

/// Objects of our children's kinds that do not carry our managed-by label, metadata
/// only. A child's name found here (and not in the caches of ours) was left by
/// someone else, the course's operator most likely, and is read before it is replaced.
#[derive(Clone)]
pub struct ForeignNames {
    pub pvs: Store<PartialObjectMeta<PersistentVolume>>,
    pub pvcs: Store<PartialObjectMeta<PersistentVolumeClaim>>,
    pub services: Store<PartialObjectMeta<Service>>,
    pub deployments: Store<PartialObjectMeta<Deployment>>,
}

impl Caches {
    /// Waits (briefly) for the first full list of every cache, so that a reconcile right
    /// after a start never takes "not listed yet" for "absent". False if they are not
    /// filled in time. Any number of reconciles may wait here at once.
    pub async fn ready(&self) -> bool {
        let mut filled = self.filled.subscribe();
        tokio::time::timeout(Duration::from_secs(30), filled.wait_for(|filled| *filled))
            .await
            .is_ok_and(|seen| seen.is_ok())
    }

    /// Waits for every store's first list, then says so to `ready`. The one task that
    /// may wait on the stores themselves: a kube store's readiness wakes only the task
    /// that polled it last, so two reconciles waiting on it at once left the first
    /// asleep until its timeout (30 s after every start with instances to reconcile).
    pub async fn fill(&self) {
        let _ = tokio::join!(
            self.pvs.wait_until_ready(),
            self.pvcs.wait_until_ready(),
            self.services.wait_until_ready(),
            self.deployments.wait_until_ready(),
            self.backups.wait_until_ready(),
            self.jobs.wait_until_ready(),
            self.secrets.wait_until_ready(),
            self.nodes.wait_until_ready(),
            self.foreign.pvs.wait_until_ready(),
            self.foreign.pvcs.wait_until_ready(),
            self.foreign.services.wait_until_ready(),
            self.foreign.deployments.wait_until_ready(),
        );
        self.filled.send_replace(true);
    }
}

/// What we last learned of each Secret whose data a reconcile needs (our credentials
/// Secrets), by its resourceVersion: the password's fingerprint and whether the client
/// option file is there. The metadata cache says when a Secret changed; only then is
/// its data read again.
#[derive(Default)]
pub struct SecretMemo {
    known: Mutex<HashMap<String, SecretFacts>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretFacts {
    pub resource_version: Option<String>,
    pub fingerprint: Option<instance::snapshot::Fingerprint>,
    /// The client option file is missing (written by an earlier version).
    pub outdated: bool,
}

impl SecretFacts {
    pub fn of(secret: &Secret) -> Self {
        use crate::api::keys::{CLIENT_CONFIG_KEY, PASSWORD_KEY};
        let value = |key: &str| instance::observe::secret_value(secret, key);
        Self {
            resource_version: secret.metadata.resource_version.clone(),
            fingerprint: value(PASSWORD_KEY).map(|p| instance::snapshot::Password(p).fingerprint()),
            outdated: value(CLIENT_CONFIG_KEY).is_none(),
        }
    }
}

impl SecretMemo {
    /// What we know of `namespace/name` if it is still at `resource_version`.
    pub fn at(&self, namespace: &str, name: &str, resource_version: &str) -> Option<SecretFacts> {
        self.known
            .lock()
            .expect("not poisoned")
            .get(&format!("{namespace}/{name}"))
            .filter(|f| f.resource_version.as_deref() == Some(resource_version))
            .cloned()
    }

    pub fn knows(&self, namespace: &str, name: &str) -> bool {
        self.known
            .lock()
            .expect("not poisoned")
            .contains_key(&format!("{namespace}/{name}"))
    }

    /// Remembers a Secret as read or as our write returned it; None forgets it.
    pub fn learn(&self, namespace: &str, name: &str, secret: Option<&Secret>) {
        let key = format!("{namespace}/{name}");
        let mut known = self.known.lock().expect("not poisoned");
        match secret {
            Some(secret) => known.insert(key, SecretFacts::of(secret)),
            None => known.remove(&key),
        };
    }
}

/// The object `name` from the cache of ours, or from the API server when only the cache
/// of `foreign` names has it: an unlabelled object of our name (left by the course's
/// operator) must be seen to be adopted or replaced. A name in neither is absent, so a
/// new instance's first reconcile costs no request for its children.
pub async fn lookup<K>(
    store: &Store<K>,
    foreign: &Store<PartialObjectMeta<K>>,
    api: &kube::Api<K>,
    namespace: Option<&str>,
    name: &str,
) -> Result<Option<K>>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
    K::DynamicType: Default + Eq + std::hash::Hash + Clone,
{
    if let Some(found) = cached(store, namespace, name) {
        return Ok(Some(found));
    }
    if cached(foreign, namespace, name).is_none() {
        return Ok(None);
    }
    let kind = K::kind(&K::DynamicType::default()).to_string();
    api.get_opt(name)
        .await
        .map_err(Error::observe(format!("{kind} {name}")))
}

/// The cached object `name` (in `namespace`, for namespaced kinds).
pub fn cached<K>(store: &Store<K>, namespace: Option<&str>, name: &str) -> Option<K>
where
    K: kube::Resource + Clone,
    K::DynamicType: Default + Eq + std::hash::Hash + Clone,
{
    let key = ObjectRef::new(name);
    let key = match namespace {
        Some(ns) => key.within(ns),
        None => key,
    };
    store.get(&key).map(|o| (*o).clone())
}

pub use metrics::Metrics;

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
            failures: Mutex::default(),
            applied,
            secrets_seen: SecretMemo::default(),
            statuses_written: StatusMemo::default(),
            metrics,
            caches,
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

    /// Publishes each notice on `reference`, in order.
    pub async fn publish_all(
        &self,
        reference: &k8s_openapi::api::core::v1::ObjectReference,
        notices: &[instance::status::Notice],
    ) {
        for notice in notices {
            self.publish(
                reference,
                notice.type_,
                notice.reason,
                notice.message.clone(),
            )
            .await;
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
                self.failures.lock().expect("not poisoned").remove(key);
            }
            Err(error) => self
                .metrics
                .failed(controller, error.step(), started.elapsed()),
        }
    }

    /// Exponential backoff per object (2s doubling to 5 min), so one broken instance
    /// retries slowly while the others go on.
    pub(crate) fn backoff(&self, key: &str) -> Duration {
        let mut failures = self.failures.lock().expect("not poisoned");
        let count = failures.entry(key.to_string()).or_insert(0);
        *count = count.saturating_add(1);
        Duration::from_secs((2u64 << (*count - 1).min(8)).min(300))
    }
}

/// A failure backs off per object; expected waits never reach here (the plan returns
/// them as an Action).
pub fn error_policy_for(key: &str, error: &Error, ctx: &Context) -> Action {
    let delay = ctx.backoff(key);
    tracing::warn!(
        object = key,
        retry_in_s = delay.as_secs(),
        "reconcile failed: {error}"
    );
    Action::requeue(delay)
}

/// Where a reconcile stops, for the log and the next look.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// Nothing under way: the periodic resync.
    Settled,
    /// Something we started is under way.
    Wait(String),
    /// Only a person can move this on; what they should do.
    Blocked(String),
    /// The spec cannot be acted on until it changes.
    AwaitChange(String),
    /// The object is finished with (its deletion released).
    Done,
}

impl Next {
    pub fn action(&self, key: &str) -> Action {
        self.action_by(key, None)
    }

    /// The action, with the next look no later than `deadline` (a scheduled backup)
    /// unless the object is finished with.
    pub fn action_by(&self, key: &str, deadline: Option<Duration>) -> Action {
        let delay = match self {
            Next::Settled => Some(SETTLED_WAIT),
            Next::Wait(what) => {
                tracing::debug!(object = key, "waiting: {what}");
                Some(SHORT_WAIT)
            }
            Next::Blocked(why) => {
                tracing::warn!(object = key, "blocked: {why}");
                Some(BLOCKED_WAIT)
            }
            Next::AwaitChange(why) => {
                tracing::warn!(object = key, "invalid spec: {why}");
                None
            }
            Next::Done => return Action::await_change(),
        };
        match (delay, deadline) {
            (Some(delay), Some(deadline)) => Action::requeue(delay.min(deadline)),
            (None, Some(delay)) | (Some(delay), None) => Action::requeue(delay),
            (None, None) => Action::await_change(),
        }
    }
}

/// Now, truncated to whole seconds like the API server's own timestamps: rounding up
/// could put a backup's completion after the creation of the instance that restores it.
pub fn now_rfc3339() -> String {
    rfc3339(jiff::Timestamp::now())
}

pub fn rfc3339(at: jiff::Timestamp) -> String {
    jiff::Timestamp::from_second(at.as_second())
        .unwrap_or(at)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The cache still shows the instance as it was before our last status write: a
    /// reconcile compares with what we wrote, not with what the cache shows, so a
    /// status equal to the cache's is still written when ours differs.
    #[test]
    fn while_the_cache_lags_our_status_write_a_reconcile_sees_that_write() {
        let phase = |p: crate::api::Phase| MySQLStatus {
            phase: Some(p),
            ..Default::default()
        };
        let mut cached: MySQL = serde_json::from_value(serde_json::json!({
            "apiVersion": "otus.homework/v1", "kind": "MySQL",
            "metadata": {"name": "db", "namespace": "ns", "uid": "u1", "resourceVersion": "1"},
            "spec": {"image": "mysql:8.4", "database": "d", "password": "p", "storage_size": "1Gi"},
        }))
        .unwrap();
        cached.status = Some(phase(crate::api::Phase::Ready));
        let memo = StatusMemo::default();
        assert_eq!(memo.as_written(&cached).status, cached.status);
        memo.wrote(&cached, &phase(crate::api::Phase::Creating));
        assert_eq!(
            memo.as_written(&cached).status,
            Some(phase(crate::api::Phase::Creating))
        );
        // The watch brought a newer version: the cache speaks for the server again.
        cached.metadata.resource_version = Some("3".into());
        assert_eq!(memo.as_written(&cached).status, cached.status);
        cached.metadata.resource_version = Some("1".into());
        assert_eq!(memo.as_written(&cached).status, cached.status, "forgotten");
    }
    use kube::runtime::reflector::{self, store::Writer};
    use kube::runtime::watcher;

    type Listing = Box<dyn FnOnce() + Send>;

    /// An empty store, and what marks its first list done.
    fn unlisted<K>(listings: &mut Vec<Listing>) -> Store<K>
    where
        K: kube::Resource + Clone + Send + Sync + 'static,
        K::DynamicType: Default + Eq + std::hash::Hash + Clone + Send + Sync,
    {
        let (store, mut writer): (Store<K>, Writer<K>) = reflector::store();
        listings.push(Box::new(move || {
            writer.apply_watcher_event(&watcher::Event::InitDone)
        }));
        store
    }

    /// Several reconciles wait for the first lists at once (an operator starting with
    /// instances to reconcile); all of them go on as soon as the lists are in, not
    /// at the timeout.
    #[tokio::test]
    async fn every_waiting_reconcile_wakes_when_the_caches_are_filled() {
        let mut list_all = Vec::new();
        let caches = Caches {
            pvs: unlisted(&mut list_all),
            pvcs: unlisted(&mut list_all),
            services: unlisted(&mut list_all),
            deployments: unlisted(&mut list_all),
            backups: unlisted(&mut list_all),
            jobs: unlisted(&mut list_all),
            secrets: unlisted(&mut list_all),
            nodes: unlisted(&mut list_all),
            foreign: ForeignNames {
                pvs: unlisted(&mut list_all),
                pvcs: unlisted(&mut list_all),
                services: unlisted(&mut list_all),
                deployments: unlisted(&mut list_all),
            },
            filled: Arc::new(tokio::sync::watch::Sender::new(false)),
        };
        let waiting: Vec<_> = (0..3)
            .map(|_| {
                let caches = caches.clone();
                tokio::spawn(async move { caches.ready().await })
            })
            .collect();
        let filler = tokio::spawn({
            let caches = caches.clone();
            async move { caches.fill().await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        list_all.into_iter().for_each(|listed| listed());
        let all = futures::future::join_all(waiting);
        let woke = tokio::time::timeout(Duration::from_secs(5), all)
            .await
            .expect("woken when the lists are in, long before ready's 30 s");
        assert!(woke.into_iter().all(|ready| ready.unwrap()));
        filler.await.unwrap();
    }
}
