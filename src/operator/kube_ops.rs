//! Small API helpers: server-side apply, create-if-absent, owner references, Job state.

use std::fmt::Debug;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, PropagationPolicy};
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::MANAGER;
use crate::{Error, Result};

/// Server-side apply with our field manager. `force` takes over fields that another
/// manager (the course's kopf operator, a hand edit) set, so adopted objects converge.
pub async fn apply<K>(api: &Api<K>, obj: &K) -> Result<K>
where
    K: Resource + Serialize + DeserializeOwned + Clone + Debug,
{
    let name = obj
        .meta()
        .name
        .clone()
        .ok_or(Error::MissingField("metadata.name"))?;
    Ok(api
        .patch(
            &name,
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(obj),
        )
        .await?)
}

/// What our last apply of each object produced: the desired object's hash and a
/// fingerprint of the fields it sets as the server returned them. While the live object
/// still has that fingerprint and the desired object that hash, applying again would
/// change nothing, so it is skipped: a resync or a child's status update costs a read,
/// not a write. A change by anyone to a field we set moves the fingerprint, so drift is
/// still corrected. Empty after a restart, which costs one apply per object.
#[derive(Default)]
pub struct AppliedMemo {
    applied: std::sync::Mutex<std::collections::HashMap<String, (String, String)>>,
}

impl AppliedMemo {
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

fn hash_of(value: &impl Serialize) -> String {
    use sha2::{Digest, Sha256};
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    Sha256::digest(&bytes)
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
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

fn fingerprint(desired: &impl Serialize, live: &impl Serialize) -> String {
    let desired = serde_json::to_value(desired).unwrap_or_default();
    let live = serde_json::to_value(live).unwrap_or_default();
    hash_of(&project(&desired, &live))
}

/// `apply`, unless the memo shows that `live` is exactly what our last apply of the
/// same desired object left.
pub async fn apply_if_changed<K>(
    api: &Api<K>,
    obj: &K,
    live: Option<&K>,
    memo: &AppliedMemo,
) -> Result<K>
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
    memo.applied
        .lock()
        .expect("not poisoned")
        .insert(key, (desired, fingerprint(obj, &applied)));
    Ok(applied)
}

/// Creates `obj` unless an object of that name exists; returns what is there now.
/// Jobs are created, not applied: their pod template is immutable.
pub async fn create_if_absent<K>(api: &Api<K>, obj: &K) -> Result<K>
where
    K: Resource + Serialize + DeserializeOwned + Clone + Debug,
{
    let name = obj
        .meta()
        .name
        .clone()
        .ok_or(Error::MissingField("metadata.name"))?;
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
        Err(kube::Error::Api(status)) if status.code == 409 => Ok(api.get(&name).await?),
        Err(e) => Err(e.into()),
    }
}

/// Deletes in the background (dependents collected by the garbage collector); a
/// missing object is fine.
pub async fn delete_if_present<K>(api: &Api<K>, name: &str) -> Result<()>
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
        Err(e) => Err(e.into()),
    }
}

pub fn set_owner<K: Resource>(obj: &mut K, owner: &OwnerReference) {
    obj.meta_mut().owner_references = Some(vec![owner.clone()]);
}

pub fn is_owned_by<K: Resource>(obj: &K, uid: &str) -> bool {
    obj.owner_references().iter().any(|o| o.uid == uid)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobState {
    Running,
    Succeeded,
    Failed(String),
}

pub fn job_state(job: &Job) -> JobState {
    let status = job.status.as_ref();
    let condition = |type_: &str| {
        status
            .and_then(|s| s.conditions.as_ref())
            .and_then(|cs| cs.iter().find(|c| c.type_ == type_ && c.status == "True"))
    };
    if condition("Complete").is_some() || status.and_then(|s| s.succeeded).unwrap_or(0) > 0 {
        JobState::Succeeded
    } else if let Some(failed) = condition("Failed") {
        JobState::Failed(
            failed
                .message
                .clone()
                .or_else(|| failed.reason.clone())
                .unwrap_or_else(|| "the Job failed".into()),
        )
    } else {
        JobState::Running
    }
}

pub fn annotation<'a, K: Resource>(obj: &'a K, key: &str) -> Option<&'a str> {
    obj.annotations().get(key).map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn projection_ignores_fields_others_add_but_sees_drift_in_ours() {
        let desired = json!({"spec": {"claimRef": {"name": "c", "namespace": "n"}, "capacity": {"storage": "1Gi"}}});
        let bound = json!({"spec": {"claimRef": {"name": "c", "namespace": "n", "uid": "u1"}, "capacity": {"storage": "1Gi"}}, "status": {"phase": "Bound"}});
        let applied = json!({"spec": {"claimRef": {"name": "c", "namespace": "n"}, "capacity": {"storage": "1Gi"}}, "status": {"phase": "Available"}});
        assert_eq!(
            fingerprint(&desired, &bound),
            fingerprint(&desired, &applied)
        );
        let drifted = json!({"spec": {"claimRef": {"name": "c", "namespace": "n"}, "capacity": {"storage": "5Gi"}}});
        assert_ne!(
            fingerprint(&desired, &drifted),
            fingerprint(&desired, &applied)
        );
        let missing = json!({"spec": {"capacity": {"storage": "1Gi"}}});
        assert_ne!(
            fingerprint(&desired, &missing),
            fingerprint(&desired, &applied)
        );
    }
}
