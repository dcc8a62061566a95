//! The operator's own watch caches of the children, and reads through them.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Node, PersistentVolume, PersistentVolumeClaim, Secret, Service};
use kube::core::PartialObjectMeta;
use kube::runtime::reflector::{ObjectRef, Store};

use super::{Error, Result};

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

#[cfg(test)]
mod tests {
    use super::*;
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
        // Every waiter (and the filler) subscribed before the lists come in: the case
        // that lost wake-ups. The test's runtime has one thread, so they have run.
        while caches.filled.receiver_count() < 3 {
            tokio::task::yield_now().await;
        }
        list_all.into_iter().for_each(|listed| listed());
        let all = futures::future::join_all(waiting);
        let woke = tokio::time::timeout(Duration::from_secs(5), all)
            .await
            .expect("woken when the lists are in, long before ready's 30 s");
        assert!(woke.into_iter().all(|ready| ready.unwrap()));
        filler.await.unwrap();
    }
}
