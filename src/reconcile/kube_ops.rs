//! Small API helpers: server-side apply (with a skip-if-unchanged memo), create if
//! absent, delete if present, status and finalizer patches. They return kube's own
//! error; the apply step says which write it was.

use std::fmt::Debug;

use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, PropagationPolicy};
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::MANAGER;

type KubeResult<T> = std::result::Result<T, kube::Error>;

/// Server-side apply with our field manager. `force` takes over fields that another
/// manager (the course's kopf operator, a hand edit) set, so adopted objects converge.
pub async fn apply<K>(api: &Api<K>, obj: &K) -> KubeResult<K>
where
    K: Resource + Serialize + DeserializeOwned + Clone + Debug,
{
    api.patch(
        &obj.name_any(),
        &PatchParams::apply(MANAGER).force(),
        &Patch::Apply(obj),
    )
    .await
}

/// What our last apply of each object produced: the desired object's hash and a
/// fingerprint of the live object as the server returned it. While the live object
/// still has that fingerprint and the desired object that hash, applying again would
/// change nothing, so it is skipped: a resync or a child's status update costs neither
/// a read nor a write. A change by anyone to a field we set moves the fingerprint, so
/// drift is still corrected. Empty after a restart, which costs one apply per object.
///
/// It also keeps the resourceVersion each of our writes produced, until the watch
/// brings that version back: that event is the echo of our own write, which the
/// reconcile that wrote it already knew, so it wakes nobody (`is_echo`).
#[derive(Default)]
pub struct AppliedMemo {
    applied: std::sync::Mutex<std::collections::HashMap<String, (u64, u64)>>,
    /// By hash of the object's kind and name: the hash of the version we wrote.
    written_versions: std::sync::Mutex<std::collections::HashMap<u64, u64>>,
}

impl AppliedMemo {
    /// Remembers the version our write of `obj` (the server's answer) produced, when
    /// that version can only hold what we wrote: no other manager has written the
    /// object. Otherwise the answer may carry someone else's change that our cache has
    /// not shown yet (an apply that changed nothing answers with the latest version,
    /// perhaps the Deployment controller's "available again"), and its event must wake.
    pub fn wrote<K: Resource>(&self, obj: &K)
    where
        K::DynamicType: Default,
    {
        let ours_alone = obj
            .meta()
            .managed_fields
            .iter()
            .flatten()
            .all(|entry| entry.manager.as_deref() == Some(MANAGER));
        if let (true, Some(version)) = (ours_alone, obj.meta().resource_version.as_deref()) {
            self.written_versions
                .lock()
                .expect("not poisoned")
                .insert(hash_of(&Self::key(obj)), hash_of(&version));
        }
    }

    /// Whether `obj`, as a watch delivers it, is exactly what our last write of it
    /// produced. Each echo is answered once.
    pub fn is_echo<K: Resource>(&self, obj: &K) -> bool
    where
        K::DynamicType: Default,
    {
        let Some(version) = obj.meta().resource_version.as_deref() else {
            return false;
        };
        let key = hash_of(&Self::key(obj));
        let mut written = self.written_versions.lock().expect("not poisoned");
        match written.get(&key) {
            Some(v) if *v == hash_of(&version) => {
                written.remove(&key);
                true
            }
            _ => false,
        }
    }

    fn key<K: Resource>(obj: &K) -> String
    where
        K::DynamicType: Default,
    {
        format!(
            "{}/{}/{}",
            K::kind(&K::DynamicType::default()),
            obj.meta().namespace.as_deref().unwrap_or_default(),
            obj.meta().name.as_deref().unwrap_or_default()
        )
    }
}

/// A 64-bit hash of `value`'s JSON form, for memos and change detection.
pub(super) fn hash_of(value: &impl Serialize) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    serde_json::to_vec(value)
        .unwrap_or_default()
        .hash(&mut hasher);
    hasher.finish()
}

/// The live object seen through the desired one: only the fields our apply sets, so
/// that what other controllers add (a PV's claimRef uid, a claim's bind annotations, a
/// Deployment's revision, any status) does not look like drift.
fn project(desired: &serde_json::Value, live: &serde_json::Value) -> serde_json::Value {
    match (desired, live) {
        (serde_json::Value::Object(want), serde_json::Value::Object(have)) => want
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    project(v, have.get(k).unwrap_or(&serde_json::Value::Null)),
                )
            })
            .collect::<serde_json::Map<_, _>>()
            .into(),
        _ => live.clone(),
    }
}

/// For a kind with a `metadata.generation` (a Deployment), the API server moves the
/// generation on every change to its spec, so the generation and our metadata stand
/// for the whole object: the cache may then drop the spec. Other kinds compare the
/// fields we set.
fn fingerprint<K: Resource + Serialize>(desired: &K, live: &K) -> u64 {
    match live.meta().generation {
        Some(generation) => {
            let desired = serde_json::to_value(desired.meta()).unwrap_or_default();
            let live_meta = serde_json::to_value(live.meta()).unwrap_or_default();
            hash_of(&(generation, project(&desired, &live_meta)))
        }
        None => {
            let desired = serde_json::to_value(desired).unwrap_or_default();
            let live = serde_json::to_value(live).unwrap_or_default();
            hash_of(&project(&desired, &live))
        }
    }
}

/// `apply`, unless the memo shows that `live` is exactly what our last apply of the
/// same desired object left.
pub async fn apply_if_changed<K>(
    api: &Api<K>,
    obj: &K,
    live: Option<&K>,
    memo: &AppliedMemo,
) -> KubeResult<K>
where
    K: Resource + Serialize + DeserializeOwned + Clone + Debug,
    K::DynamicType: Default,
{
    let key = AppliedMemo::key(obj);
    let desired = hash_of(obj);
    if let Some(live) = live {
        let unchanged = memo
            .applied
            .lock()
            .expect("not poisoned")
            .get(&key)
            .is_some_and(|(d, f)| {
                *d == desired
                    && *f == fingerprint(obj, live)
                    && live.meta().deletion_timestamp.is_none()
            });
        if unchanged {
            return Ok(live.clone());
        }
    }
    let applied = apply(api, obj).await?;
    memo.wrote(&applied);
    memo.applied
        .lock()
        .expect("not poisoned")
        .insert(key, (desired, fingerprint(obj, &applied)));
    Ok(applied)
}

/// Creates `obj` unless an object of that name exists; returns what is there now.
/// Jobs are created, not applied: their pod template is immutable.
pub async fn create_if_absent<K>(api: &Api<K>, obj: &K) -> KubeResult<K>
where
    K: Resource + Serialize + DeserializeOwned + Clone + Debug,
{
    let name = obj.name_any();
    match api
        .create(
            &PostParams {
                field_manager: Some(MANAGER.into()),
                ..Default::default()
            },
            obj,
        )
        .await
    {
        Ok(created) => Ok(created),
        Err(kube::Error::Api(status)) if status.code == 409 => api.get(&name).await,
        Err(e) => Err(e),
    }
}

/// Deletes in the background (dependents collected by the garbage collector); a
/// missing object is fine.
pub async fn delete_if_present<K>(api: &Api<K>, name: &str) -> KubeResult<()>
where
    K: Resource + Clone + DeserializeOwned + Debug,
{
    let params = DeleteParams {
        propagation_policy: Some(PropagationPolicy::Background),
        ..Default::default()
    };
    match api.delete(name, &params).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(e) => Err(e),
    }
}

/// The pods of Job `job` (by the `job-name` label Kubernetes puts on them).
pub async fn job_pods(
    client: &kube::Client,
    namespace: &str,
    job: &str,
) -> KubeResult<Vec<k8s_openapi::api::core::v1::Pod>> {
    let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(client.clone(), namespace);
    let selector = format!("job-name={job}");
    Ok(pods
        .list(&kube::api::ListParams::default().labels(&selector))
        .await?
        .items)
}

/// Why the API server refuses the pods of `job`, if it does, as the status says it:
/// the message of its controller's latest `FailedCreate` Event (Pod Security, a
/// quota, a webhook), the only place Kubernetes says it.
pub async fn refused_pod_reason(
    client: &kube::Client,
    namespace: &str,
    job: &k8s_openapi::api::batch::v1::Job,
) -> KubeResult<Option<String>> {
    use kube::ResourceExt;
    let events: Api<k8s_openapi::api::core::v1::Event> = Api::namespaced(client.clone(), namespace);
    let selector = format!(
        "involvedObject.kind=Job,involvedObject.name={},involvedObject.uid={},reason=FailedCreate",
        job.name_any(),
        job.uid().unwrap_or_default()
    );
    let listed = events
        .list(&kube::api::ListParams::default().fields(&selector))
        .await?;
    Ok(listed
        .items
        .into_iter()
        .filter_map(|e| e.message)
        .next_back()
        .map(|why| {
            format!(
                "the API server refuses the pod of Job {}: {why}",
                job.name_any()
            )
        }))
}

/// Server-side applies `status` to the status subresource of `name`.
/// Server-side applies `status`; the object's resourceVersion after the write.
pub async fn patch_status<K>(
    api: &Api<K>,
    name: &str,
    status: &impl Serialize,
) -> KubeResult<Option<String>>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
{
    let patch = json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "status": status,
    });
    api.patch_status(
        name,
        &PatchParams::apply(MANAGER).force(),
        &Patch::Apply(&patch),
    )
    .await
    .map(|written| written.meta().resource_version.clone())
}

/// Sets `finalizers` on `obj`, failing with a conflict if the object changed since it
/// was read: another writer's finalizer list is never overwritten with a stale one.
pub async fn set_finalizers<K>(api: &Api<K>, obj: &K, finalizers: Vec<String>) -> KubeResult<()>
where
    K: Resource + Clone + DeserializeOwned + Debug,
{
    let patch = json!({
        "metadata": {
            "finalizers": finalizers,
            "resourceVersion": obj.resource_version(),
        }
    });
    api.patch(
        &obj.name_any(),
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await
    .map(|_| ())
}

/// Makes `owner` the object's only owner (its controller): garbage collection removes
/// the object with it.
pub fn set_owner<K: kube::Resource>(
    obj: &mut K,
    owner: &k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference,
) {
    obj.meta_mut().owner_references = Some(vec![owner.clone()]);
}

pub fn is_owned_by<K: kube::Resource>(obj: &K, uid: &str) -> bool {
    obj.meta()
        .owner_references
        .iter()
        .flatten()
        .any(|o| o.uid == uid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pv(value: serde_json::Value) -> k8s_openapi::api::core::v1::PersistentVolume {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn projection_ignores_fields_others_add_but_sees_drift_in_ours() {
        let desired = pv(
            json!({"metadata": {"name": "v"}, "spec": {"claimRef": {"name": "c", "namespace": "n"}, "capacity": {"storage": "1Gi"}}}),
        );
        let bound = pv(
            json!({"metadata": {"name": "v"}, "spec": {"claimRef": {"name": "c", "namespace": "n", "uid": "u1"}, "capacity": {"storage": "1Gi"}}, "status": {"phase": "Bound"}}),
        );
        let applied = pv(
            json!({"metadata": {"name": "v"}, "spec": {"claimRef": {"name": "c", "namespace": "n"}, "capacity": {"storage": "1Gi"}}, "status": {"phase": "Available"}}),
        );
        assert_eq!(
            fingerprint(&desired, &bound),
            fingerprint(&desired, &applied)
        );
        let drifted = pv(
            json!({"metadata": {"name": "v"}, "spec": {"claimRef": {"name": "c", "namespace": "n"}, "capacity": {"storage": "5Gi"}}}),
        );
        assert_ne!(
            fingerprint(&desired, &drifted),
            fingerprint(&desired, &applied)
        );
        let missing =
            pv(json!({"metadata": {"name": "v"}, "spec": {"capacity": {"storage": "1Gi"}}}));
        assert_ne!(
            fingerprint(&desired, &missing),
            fingerprint(&desired, &applied)
        );
    }

    #[test]
    fn a_generation_stands_for_the_spec_so_a_slim_cache_still_sees_drift() {
        use k8s_openapi::api::apps::v1::Deployment;
        let deployment =
            |value: serde_json::Value| -> Deployment { serde_json::from_value(value).unwrap() };
        let desired = deployment(
            json!({"metadata": {"name": "d", "labels": {"app": "d"}}, "spec": {"replicas": 1, "selector": {}, "template": {}}}),
        );
        let applied = deployment(
            json!({"metadata": {"name": "d", "generation": 3, "labels": {"app": "d"}}, "spec": {"replicas": 1, "selector": {}, "template": {}}}),
        );
        // The cache keeps no spec, and the status moved: nothing of ours changed.
        let slim = deployment(
            json!({"metadata": {"name": "d", "generation": 3, "labels": {"app": "d"}}, "status": {"availableReplicas": 1}}),
        );
        assert_eq!(
            fingerprint(&desired, &slim),
            fingerprint(&desired, &applied)
        );
        let spec_edited =
            deployment(json!({"metadata": {"name": "d", "generation": 4, "labels": {"app": "d"}}}));
        assert_ne!(
            fingerprint(&desired, &spec_edited),
            fingerprint(&desired, &applied)
        );
        let label_edited =
            deployment(json!({"metadata": {"name": "d", "generation": 3, "labels": {"app": "x"}}}));
        assert_ne!(
            fingerprint(&desired, &label_edited),
            fingerprint(&desired, &applied)
        );
    }
}
