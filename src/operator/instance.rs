//! Reconciling one MySQL object. Read top to bottom: validate -> password -> volumes
//! and children -> restore -> status. Deletion: backup record -> wait -> tear down.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim, Secret, Service};
use kube::api::{Api, ListParams, ObjectMeta, Patch, PatchParams, PostParams};
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::runtime::finalizer::{Event as Finalizer, finalizer};
use kube::{Resource, ResourceExt};
use serde_json::json;

use super::kube_ops::{
    JobState, annotation, apply, apply_if_changed, create_if_absent, delete_if_present,
    is_owned_by, job_state, set_owner,
};
use super::status::{self, BackupOutcome, Observed, PasswordState, RestoreState, StorageState};
use super::{Caches, Context, MANAGER, lookup, now_rfc3339};
use crate::api::{
    BackupCause, BackupPhase, LastBackup, MySQL, MySQLBackup, MySQLBackupSpec, MySQLStatus,
    validate,
};
use crate::manifests;
use crate::names::{
    FINALIZER, INSTANCE_LABEL, InstanceNames, PASSWORD_FINGERPRINT_ANNOTATION,
    SKIP_BACKUP_ANNOTATION,
};
use crate::render::InstanceContext;
use crate::{Error, Result};
use kube::runtime::reflector::Store;

/// Annotation on an on-delete backup record: the uid of the incarnation it belongs to.
pub const INSTANCE_UID_ANNOTATION: &str = "mysqls.otus.homework/instance-uid";
/// Set by `create --restore-from`: the backup a new instance starts from.
pub const RESTORE_FROM_ANNOTATION: &str = "mysqls.otus.homework/restore-from";
/// Set by `kubectl mysql restore`: `BACKUP@REQUEST-ID`; a new value asks for a restore.
pub const RESTORE_REQUEST_ANNOTATION: &str = "mysqls.otus.homework/restore-request";
/// On a restore Job: which request (or which incarnation's create) it serves.
pub const RESTORE_TOKEN_ANNOTATION: &str = "mysqls.otus.homework/restore-token";

pub async fn reconcile(instance: Arc<MySQL>, ctx: Arc<Context>) -> Result<Action> {
    let namespace = instance
        .namespace()
        .ok_or(Error::MissingField("metadata.namespace"))?;
    let api: Api<MySQL> = Api::namespaced(ctx.client.clone(), &namespace);
    let key = super::object_key(instance.as_ref());
    let result = finalizer(&api, FINALIZER, instance, |event| async {
        match event {
            Finalizer::Apply(instance) => apply_instance(&instance, &ctx).await,
            Finalizer::Cleanup(instance) => cleanup_instance(&instance, &ctx).await,
        }
    })
    .await
    .map_err(|e| Error::Finalizer(Box::new(e)));
    if result.is_ok() {
        ctx.succeeded(&key);
    }
    result
}

pub fn error_policy(instance: Arc<MySQL>, error: &Error, ctx: Arc<Context>) -> Action {
    super::error_policy_for(&super::object_key(instance.as_ref()), error, &ctx)
}

/// Namespaced handles for everything an instance touches.
struct Apis {
    secrets: Api<Secret>,
    pvcs: Api<PersistentVolumeClaim>,
    pvs: Api<PersistentVolume>,
    services: Api<Service>,
    deployments: Api<Deployment>,
    jobs: Api<Job>,
    backups: Api<MySQLBackup>,
    instances: Api<MySQL>,
}

impl Apis {
    fn new(ctx: &Context, namespace: &str) -> Self {
        let c = ctx.client.clone();
        Self {
            secrets: Api::namespaced(c.clone(), namespace),
            pvcs: Api::namespaced(c.clone(), namespace),
            pvs: Api::all(c.clone()),
            services: Api::namespaced(c.clone(), namespace),
            deployments: Api::namespaced(c.clone(), namespace),
            jobs: Api::namespaced(c.clone(), namespace),
            backups: Api::namespaced(c.clone(), namespace),
            instances: Api::namespaced(c, namespace),
        }
    }
}

fn names_of(instance: &MySQL) -> Result<InstanceNames> {
    Ok(InstanceNames::new(
        instance.name_any(),
        instance
            .namespace()
            .ok_or(Error::MissingField("metadata.namespace"))?,
    ))
}

fn spec_problem(instance: &MySQL) -> Option<String> {
    let spec = &instance.spec;
    [
        validate::instance_name(&instance.name_any()),
        validate::image(&spec.image),
        validate::database(&spec.database),
        validate::storage_size(&spec.storage_size),
    ]
    .into_iter()
    .find_map(|r| r.err())
    .or_else(|| {
        (spec.password.is_some() == spec.password_secret_ref.is_some())
            .then(|| "set exactly one of spec.password and spec.passwordSecretRef".to_string())
    })
}

async fn apply_instance(instance: &MySQL, ctx: &Context) -> Result<Action> {
    ctx.caches.ready().await?;
    let names = names_of(instance)?;
    let apis = Apis::new(ctx, &names.namespace);
    let mut observed = Observed {
        generation: instance.metadata.generation,
        endpoint: names.endpoint(),
        invalid_spec: None,
        deployment_available: false,
        restore: None,
        password: PasswordState::Synced,
        storage: StorageState::AsRequested,
        latest_backup: latest_backup_outcome(&ctx.caches, &names),
        deleting: None,
    };

    if let Some(problem) = spec_problem(instance) {
        observed.invalid_spec = Some(problem.clone());
        write_status(instance, ctx, &apis, &observed).await?;
        return Err(Error::InvalidSpec(problem));
    }

    let owner = instance
        .controller_owner_ref(&())
        .ok_or(Error::MissingField("metadata.uid"))?;
    let template_ctx = InstanceContext::new(instance, &names);

    // The password first: the server's Secret must exist before its pod starts.
    let already_synced = instance.status.as_ref().is_some_and(|s| {
        s.conditions
            .iter()
            .any(|c| c.type_ == status::PASSWORD_SYNCED && c.reason == "Synced")
    });
    observed.password = match desired_password(instance, &apis).await? {
        Err(message) => PasswordState::SecretMissing { message },
        Ok(password) => {
            let synced = already_synced;
            converge_password(ctx, &apis, &names, &template_ctx, &owner, &password, synced).await?
        }
    };
    if let PasswordState::SecretMissing { .. } = observed.password
        && apis
            .secrets
            .get_opt(&names.credentials_secret())
            .await?
            .is_none()
    {
        // Without any password the server cannot start; say why and wait.
        write_status(instance, ctx, &apis, &observed).await?;
        return Err(Error::Blocked("the password Secret is missing".into()));
    }

    let mut children = manifests::children(&ctx.renderer, &template_ctx)?;
    let live = prepare_volumes(&apis, &ctx.caches, &names, &mut children, &mut observed).await?;

    // The backup claim is deliberately not owned: it outlives the instance.
    set_owner(&mut children.data_pvc, &owner);
    set_owner(&mut children.service, &owner);
    set_owner(&mut children.deployment, &owner);

    let memo = &ctx.applied;
    if let Some(pv) = &children.data_pv {
        apply_if_changed(&apis.pvs, pv, live.pvs.get(&pv.name_any()), memo).await?;
    }
    let backup_pv = &children.backup_pv;
    apply_if_changed(
        &apis.pvs,
        backup_pv,
        live.pvs.get(&backup_pv.name_any()),
        memo,
    )
    .await?;
    for claim in [&children.data_pvc, &children.backup_pvc] {
        apply_if_changed(&apis.pvcs, claim, live.pvcs.get(&claim.name_any()), memo).await?;
    }
    let uid = owner.uid.as_str();
    let ns = names.namespace.as_str();
    let caches = &ctx.caches;
    let live_service =
        owned_or_replace(&apis.services, &caches.services, ns, &names.service(), uid).await?;
    let live_deployment = owned_or_replace(
        &apis.deployments,
        &caches.deployments,
        ns,
        &names.deployment(),
        uid,
    )
    .await?;
    apply_if_changed(
        &apis.services,
        &children.service,
        live_service.as_ref(),
        memo,
    )
    .await?;
    let deployment = apply_if_changed(
        &apis.deployments,
        &children.deployment,
        live_deployment.as_ref(),
        memo,
    )
    .await?;
    observed.deployment_available = deployment
        .status
        .as_ref()
        .and_then(|s| s.available_replicas)
        .unwrap_or(0)
        >= 1;

    observed.restore =
        Some(converge_restore(instance, ctx, &apis, &names, &template_ctx, &owner).await?);

    write_status(instance, ctx, &apis, &observed).await?;
    Ok(Action::requeue(Duration::from_secs(3600)))
}

/// A Service or Deployment of our name that this instance does not own (left by the
/// course's operator, or by an earlier incarnation) may carry fields that server-side
/// apply would never remove, such as `--ignore-db-dir`. It holds no data, so it is
/// deleted and created afresh rather than merged. Returns the live object when ours.
async fn owned_or_replace<K>(
    api: &Api<K>,
    store: &Store<K>,
    namespace: &str,
    name: &str,
    uid: &str,
) -> Result<Option<K>>
where
    K: Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
    K::DynamicType: Default + Eq + std::hash::Hash + Clone,
{
    let Some(existing) = lookup(store, api, Some(namespace), name).await? else {
        return Ok(None);
    };
    if is_owned_by(&existing, uid) {
        return Ok(Some(existing));
    }
    if existing.meta().deletion_timestamp.is_none() {
        tracing::info!(
            object = name,
            "replacing an object this instance does not own"
        );
        delete_if_present(api, name).await?;
    }
    Err(Error::Waiting(format!(
        "{name} left by an earlier owner is being replaced"
    )))
}

/// The password the spec asks for: inline, or from the referenced Secret. The inner
/// Err is a user-facing reason why it cannot be read.
async fn desired_password(instance: &MySQL, apis: &Apis) -> Result<Result<String, String>> {
    if let Some(password) = &instance.spec.password {
        return Ok(Ok(password.clone()));
    }
    let Some(reference) = &instance.spec.password_secret_ref else {
        return Ok(Err("no password given".into()));
    };
    let key = reference.key_or_default();
    let Some(secret) = apis.secrets.get_opt(&reference.name).await? else {
        return Ok(Err(format!("Secret {} not found", reference.name)));
    };
    Ok(secret_value(&secret, key)
        .ok_or_else(|| format!("Secret {} has no key {key}", reference.name)))
}

fn secret_value(secret: &Secret, key: &str) -> Option<String> {
    if let Some(value) = secret.data.as_ref().and_then(|d| d.get(key)) {
        return String::from_utf8(value.0.clone()).ok();
    }
    secret
        .string_data
        .as_ref()
        .and_then(|d| d.get(key))
        .cloned()
}

/// Keeps `NAME-credentials` (what the server and Jobs read) equal to the desired
/// password. A change runs the password Job with the old password from that Secret and
/// the new one from `NAME-credentials-next`; only its success swaps them.
async fn converge_password(
    ctx: &Context,
    apis: &Apis,
    names: &InstanceNames,
    template_ctx: &InstanceContext,
    owner: &k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference,
    desired: &str,
    already_synced: bool,
) -> Result<PasswordState> {
    let live_name = names.credentials_secret();
    let pending_name = names.pending_credentials_secret();
    let live = apis.secrets.get_opt(&live_name).await?;
    let live_password = live.as_ref().and_then(|s| secret_value(s, "password"));
    let write_secret = |name: String, password: String| async move {
        let mut secret =
            manifests::credentials_secret(&ctx.renderer, template_ctx, &name, &password)?;
        set_owner(&mut secret, owner);
        apply(&apis.secrets, &secret).await
    };
    match live_password {
        // A first start (or a lost Secret before the server ever ran): the server
        // initialises with whatever the Secret holds, so just write it.
        None if apis
            .deployments
            .get_opt(&names.deployment())
            .await?
            .is_none() =>
        {
            write_secret(live_name, desired.to_string()).await?;
            Ok(PasswordState::Synced)
        }
        None => Ok(PasswordState::Failed {
            message: format!(
                "Secret {live_name} with the server's current password is missing; recreate it with the current password"
            ),
        }),
        Some(live) if live == desired => {
            // A change given up half-way (the spec went back) leaves the pending Secret;
            // once the status says Synced there is none to look for.
            if !already_synced && apis.secrets.get_opt(&pending_name).await?.is_some() {
                delete_if_present(&apis.secrets, &pending_name).await?;
            }
            Ok(PasswordState::Synced)
        }
        Some(_) => {
            let fingerprint = manifests::password_fingerprint(desired);
            let job_name = names.password_job();
            let job = apis.jobs.get_opt(&job_name).await?;
            match job {
                Some(job)
                    if annotation(&job, PASSWORD_FINGERPRINT_ANNOTATION)
                        == Some(fingerprint.as_str()) =>
                {
                    match job_state(&job) {
                        JobState::Running => Ok(PasswordState::Changing),
                        JobState::Failed(message) => Ok(PasswordState::Failed { message }),
                        JobState::Succeeded => {
                            finish_password_change(apis, names, desired).await?;
                            Ok(PasswordState::Synced)
                        }
                    }
                }
                Some(stale) => {
                    // A Job for an earlier password: it must finish before a new one
                    // starts, or two Jobs could race on the server.
                    if job_state(&stale) == JobState::Running {
                        return Ok(PasswordState::Changing);
                    }
                    delete_if_present(&apis.jobs, &job_name).await?;
                    Err(Error::Waiting(format!(
                        "replacing the finished Job {job_name}"
                    )))
                }
                None => {
                    write_secret(pending_name, desired.to_string()).await?;
                    let mut job =
                        manifests::password_job(&ctx.renderer, template_ctx, &fingerprint)?;
                    set_owner(&mut job, owner);
                    create_if_absent(&apis.jobs, &job).await?;
                    Ok(PasswordState::Changing)
                }
            }
        }
    }
}

/// The volumes and claims as they were before this reconcile applied anything.
#[derive(Default)]
struct LiveVolumes {
    pvs: std::collections::HashMap<String, PersistentVolume>,
    pvcs: std::collections::HashMap<String, PersistentVolumeClaim>,
}

/// Makes the rendered volumes safe to apply against what exists:
/// - waits while a previous incarnation's PV or claim is still being deleted;
/// - frees a Released PV of ours whose claim was deleted and re-created, so it binds
///   again without anyone deleting it by hand;
/// - adopts a claim bound elsewhere (the course's NAME-pvc on NAME-pv) instead of
///   fighting over immutable fields;
/// - keeps a size the claim cannot grow to, and says why.
async fn prepare_volumes(
    apis: &Apis,
    caches: &Caches,
    names: &InstanceNames,
    children: &mut manifests::Children,
    observed: &mut Observed,
) -> Result<LiveVolumes> {
    let mut live = LiveVolumes::default();
    let mut volumes: Vec<&mut PersistentVolume> = vec![&mut children.backup_pv];
    if let Some(pv) = children.data_pv.as_mut() {
        volumes.push(pv);
    }
    for pv in volumes {
        let name = pv.name_any();
        let Some(existing) = lookup(&caches.pvs, &apis.pvs, None, &name).await? else {
            continue;
        };
        if existing.metadata.deletion_timestamp.is_some() {
            return Err(Error::Waiting(format!(
                "PersistentVolume {name} of an earlier instance is still being deleted"
            )));
        }
        let released =
            existing.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Released");
        if !released {
            live.pvs.insert(name.clone(), existing.clone());
        } else {
            let patch = json!({"spec": {"claimRef": {"uid": null, "resourceVersion": null}}});
            apis.pvs
                .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                .await?;
            tracing::info!(
                pv = name,
                "freed a Released volume for its re-created claim"
            );
        }
        // hostPath and capacity of an existing PV are immutable; keep what is there.
        if let (Some(spec), Some(existing_spec)) = (pv.spec.as_mut(), existing.spec.as_ref()) {
            spec.host_path = existing_spec.host_path.clone();
            spec.capacity = existing_spec.capacity.clone();
        }
    }

    let adopt = |claim: &mut PersistentVolumeClaim, existing: &PersistentVolumeClaim| {
        let (Some(spec), Some(current)) = (claim.spec.as_mut(), existing.spec.as_ref()) else {
            return;
        };
        if current.volume_name.is_some() {
            spec.volume_name = current.volume_name.clone();
        }
        spec.storage_class_name = current.storage_class_name.clone();
    };
    for (claim_name, is_data) in [(names.data_pvc(), true), (names.backup_pvc(), false)] {
        let Some(existing) = lookup(
            &caches.pvcs,
            &apis.pvcs,
            Some(&names.namespace),
            &claim_name,
        )
        .await?
        else {
            continue;
        };
        if existing.metadata.deletion_timestamp.is_some() {
            return Err(Error::Waiting(format!(
                "PersistentVolumeClaim {claim_name} of an earlier instance is still being deleted"
            )));
        }
        live.pvcs.insert(claim_name.clone(), existing.clone());
        let claim = if is_data {
            &mut children.data_pvc
        } else {
            &mut children.backup_pvc
        };
        let bound_elsewhere = existing
            .spec
            .as_ref()
            .and_then(|s| s.volume_name.as_deref())
            != claim.spec.as_ref().and_then(|s| s.volume_name.as_deref());
        adopt(claim, &existing);
        if is_data && bound_elsewhere {
            // The claim was bound by someone else (the course's operator); our own PV
            // for it would stay unused.
            children.data_pv = None;
        }
        let current_size = requested_storage(&existing);
        let wanted = requested_storage(claim);
        if let (Some(current), Some(wanted)) = (current_size, wanted)
            && current != wanted
        {
            let dynamic = claim
                .spec
                .as_ref()
                .and_then(|s| s.storage_class_name.as_deref())
                .is_some_and(|s| !s.is_empty());
            if !dynamic || !is_data {
                set_requested_storage(claim, &current);
                if is_data {
                    observed.storage = StorageState::CannotResize {
                        current,
                        message: "a statically provisioned (hostPath) volume cannot be expanded; use storageClassName with an expandable class".into(),
                    };
                }
            }
        }
    }
    Ok(live)
}

fn requested_storage(claim: &PersistentVolumeClaim) -> Option<String> {
    claim
        .spec
        .as_ref()?
        .resources
        .as_ref()?
        .requests
        .as_ref()?
        .get("storage")
        .map(|q| q.0.clone())
}

fn set_requested_storage(claim: &mut PersistentVolumeClaim, size: &str) {
    if let Some(requests) = claim
        .spec
        .as_mut()
        .and_then(|s| s.resources.as_mut())
        .and_then(|r| r.requests.as_mut())
    {
        requests.insert(
            "storage".into(),
            k8s_openapi::apimachinery::pkg::api::resource::Quantity(size.into()),
        );
    }
}

/// Restores: once per incarnation on create (from `--restore-from`, or the newest
/// successful backup of an instance with this name that finished before this one was
/// created), and again whenever `kubectl mysql restore` sets a new request annotation.
async fn converge_restore(
    instance: &MySQL,
    ctx: &Context,
    apis: &Apis,
    names: &InstanceNames,
    template_ctx: &InstanceContext,
    owner: &k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference,
) -> Result<RestoreState> {
    let uid = instance.uid().unwrap_or_default();
    let status = instance.status.as_ref();
    let request = instance
        .annotations()
        .get(RESTORE_REQUEST_ANNOTATION)
        .cloned();
    let handled = status.and_then(|s| s.restore_request.clone());
    let (backup, token) = match request {
        Some(request) if Some(&request) != handled.as_ref() => {
            let backup = request.split('@').next().unwrap_or_default().to_string();
            (backup, request)
        }
        _ => {
            if let Some(done) = decided_restore(status) {
                return Ok(done);
            }
            let chosen = match instance.annotations().get(RESTORE_FROM_ANNOTATION) {
                Some(explicit) => Some(explicit.clone()),
                None => restorable_backup(&ctx.caches, names, instance),
            };
            let Some(backup) = chosen else {
                return Ok(RestoreState::NothingToRestore);
            };
            (backup, format!("create@{uid}"))
        }
    };
    let job_name = names.restore_job();
    let job = apis.jobs.get_opt(&job_name).await?;
    let request = (!token.starts_with("create@")).then(|| token.clone());
    match job {
        Some(job)
            if is_owned_by(&job, &uid)
                && annotation(&job, RESTORE_TOKEN_ANNOTATION) == Some(token.as_str()) =>
        {
            Ok(match job_state(&job) {
                JobState::Running => RestoreState::Running { backup },
                JobState::Succeeded => RestoreState::Succeeded { backup, request },
                JobState::Failed(message) => RestoreState::Failed {
                    backup,
                    message,
                    request,
                },
            })
        }
        Some(other) => {
            // restore-NAME-job holds an earlier run (ours, an earlier incarnation's, or
            // the course operator's); it must go before this one starts.
            if job_state(&other) == JobState::Running && is_owned_by(&other, &uid) {
                return Err(Error::Waiting(format!(
                    "the earlier restore Job {job_name} is still running"
                )));
            }
            delete_if_present(&apis.jobs, &job_name).await?;
            Err(Error::Waiting(format!(
                "removing the earlier Job {job_name}"
            )))
        }
        None => {
            let source = apis.backups.get_opt(&backup).await?;
            let Some(source) = source.filter(|b| b.phase() == Some(BackupPhase::Succeeded)) else {
                return Ok(RestoreState::Failed {
                    backup: backup.clone(),
                    message: format!("MySQLBackup {backup} does not exist or has not succeeded"),
                    request,
                });
            };
            let source_names =
                InstanceNames::new(source.spec.instance.clone(), names.namespace.clone());
            let mut job = manifests::restore_job(
                &ctx.renderer,
                template_ctx,
                &backup,
                &source_names.backup_pvc(),
            )?;
            job.metadata
                .annotations
                .get_or_insert_with(Default::default)
                .insert(RESTORE_TOKEN_ANNOTATION.to_string(), token);
            set_owner(&mut job, owner);
            create_if_absent(&apis.jobs, &job).await?;
            Ok(RestoreState::Running { backup })
        }
    }
}

fn decided_restore(status: Option<&MySQLStatus>) -> Option<RestoreState> {
    let status = status?;
    let condition = status
        .conditions
        .iter()
        .find(|c| c.type_ == status::RESTORED)?;
    let backup = status.restored_from.clone().unwrap_or_default();
    let request = status.restore_request.clone();
    match condition.reason.as_str() {
        "NoBackup" => Some(RestoreState::NothingToRestore),
        "Restored" => Some(RestoreState::Succeeded { backup, request }),
        "RestoreFailed" => Some(RestoreState::Failed {
            backup,
            message: condition.message.clone(),
            request,
        }),
        _ => None,
    }
}

/// The instance's backup records as the API server has them now. Used where a stale
/// answer could start a second backup (deletion).
async fn backups_of(apis: &Apis, names: &InstanceNames) -> Result<Vec<MySQLBackup>> {
    let selector = format!("{INSTANCE_LABEL}={}", names.name);
    let mut backups = apis
        .backups
        .list(&ListParams::default().labels(&selector))
        .await?
        .items;
    backups.retain(|b| b.spec.instance == names.name);
    Ok(backups)
}

/// The instance's backup records from the watch cache: for status and restore
/// decisions, where a moment's lag changes nothing.
fn cached_backups_of(caches: &Caches, names: &InstanceNames) -> Vec<MySQLBackup> {
    caches
        .backups
        .state_filter(|b| {
            b.spec.instance == names.name && b.namespace().as_deref() == Some(&names.namespace)
        })
        .into_iter()
        .map(|b| (*b).clone())
        .collect()
}

fn completion_time(backup: &MySQLBackup) -> Option<jiff::Timestamp> {
    backup
        .status
        .as_ref()?
        .completion_time
        .as_deref()?
        .parse()
        .ok()
}

fn restorable_backup(caches: &Caches, names: &InstanceNames, instance: &MySQL) -> Option<String> {
    let created = instance.metadata.creation_timestamp.as_ref().map(|t| t.0);
    let newest = cached_backups_of(caches, names)
        .into_iter()
        .filter(|b| b.phase() == Some(BackupPhase::Succeeded))
        .filter_map(|b| completion_time(&b).map(|t| (t, b)))
        .filter(|(t, _)| created.is_none_or(|c| *t <= c))
        .max_by_key(|(t, _)| *t);
    newest.map(|(_, b)| b.name_any())
}

fn latest_backup_outcome(caches: &Caches, names: &InstanceNames) -> Option<BackupOutcome> {
    let newest_finished = cached_backups_of(caches, names)
        .into_iter()
        .filter(|b| b.phase().is_some_and(BackupPhase::is_finished))
        .max_by_key(completion_time);
    newest_finished.map(|b| {
        let status = b.status.clone().unwrap_or_default();
        match status.phase {
            Some(BackupPhase::Succeeded) => BackupOutcome::Succeeded(LastBackup {
                name: b.name_any(),
                completion_time: status.completion_time,
            }),
            _ => BackupOutcome::Failed {
                name: b.name_any(),
                message: status.message.unwrap_or_default(),
            },
        }
    })
}

/// Writes the status when it differs from what is stored, and publishes an Event for
/// every condition that moved.
async fn write_status(
    instance: &MySQL,
    ctx: &Context,
    apis: &Apis,
    observed: &Observed,
) -> Result<()> {
    let previous = instance.status.as_ref();
    let new = status::compute(previous, observed, &now_rfc3339());
    if previous == Some(&new) {
        return Ok(());
    }
    // Events first: an operator killed between the two repeats them after its restart
    // (the recorder folds a repeat into a count), where the other order would lose them
    // for good once the status already shows the change.
    let reference = instance.object_ref(&());
    for notice in status::notices(previous, &new) {
        ctx.publish(&reference, notice.type_, notice.reason, notice.message)
            .await;
    }
    let patch = json!({
        "apiVersion": MySQL::api_version(&()),
        "kind": MySQL::kind(&()),
        "status": new,
    });
    apis.instances
        .patch_status(
            &instance.name_any(),
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(&patch),
        )
        .await?;
    Ok(())
}

/// Deletion: take a backup (unless opted out), wait for it without blocking the loop,
/// remove the PV we created, and let the owned children be collected.
async fn cleanup_instance(instance: &MySQL, ctx: &Context) -> Result<Action> {
    let names = names_of(instance)?;
    let apis = Apis::new(ctx, &names.namespace);
    let skip = instance
        .annotations()
        .get(SKIP_BACKUP_ANNOTATION)
        .map(String::as_str)
        == Some("true");
    if !skip {
        wait_for_final_backup(instance, ctx, &apis, &names).await?;
    }
    if let Some(pv) = &names_data_pv(&apis, &names).await? {
        delete_if_present(&apis.pvs, &pv.name_any()).await?;
    }
    tracing::info!(instance = %super::object_key(instance), skipped_backup = skip, "deleted");
    Ok(Action::await_change())
}

/// The data PV, if it is ours (labelled for this instance and claimed from this
/// namespace); anything else is never deleted.
async fn names_data_pv(apis: &Apis, names: &InstanceNames) -> Result<Option<PersistentVolume>> {
    let Some(pv) = apis.pvs.get_opt(&names.data_pv()).await? else {
        return Ok(None);
    };
    let labelled = pv.labels().get(INSTANCE_LABEL) == Some(&names.name);
    let claimed_here = pv
        .spec
        .as_ref()
        .and_then(|s| s.claim_ref.as_ref())
        .is_some_and(|c| c.namespace.as_deref() == Some(&names.namespace));
    Ok((labelled && claimed_here).then_some(pv))
}

/// The final backup reads the password from `NAME-credentials`, so that Secret must hold
/// the one the server has. A password Job still running is waited for; one that
/// succeeded before a reconcile could swap the Secrets (a delete right after a password
/// change) is finished here; a failed one left the server on the live password.
async fn settle_password_before_backup(apis: &Apis, names: &InstanceNames) -> Result<()> {
    let Some(job) = apis.jobs.get_opt(&names.password_job()).await? else {
        return Ok(());
    };
    let pending_name = names.pending_credentials_secret();
    let Some(pending) = apis.secrets.get_opt(&pending_name).await? else {
        return Ok(());
    };
    let Some(pending_password) = secret_value(&pending, "password") else {
        return Ok(());
    };
    if annotation(&job, PASSWORD_FINGERPRINT_ANNOTATION)
        != Some(manifests::password_fingerprint(&pending_password).as_str())
    {
        return Ok(());
    }
    match job_state(&job) {
        JobState::Running => Err(Error::Waiting(format!(
            "the password Job {} before the final backup",
            names.password_job()
        ))),
        JobState::Failed(_) => Ok(()),
        JobState::Succeeded => finish_password_change(apis, names, &pending_password).await,
    }
}

/// After a successful password Job: `NAME-credentials` takes the password the Job set
/// (the caller checked it against the Job's fingerprint) and `NAME-credentials-next` goes.
async fn finish_password_change(apis: &Apis, names: &InstanceNames, password: &str) -> Result<()> {
    let password = k8s_openapi::ByteString(password.as_bytes().to_vec());
    apis.secrets
        .patch(
            &names.credentials_secret(),
            &PatchParams::default(),
            &Patch::Merge(json!({ "data": { "password": password } })),
        )
        .await?;
    delete_if_present(&apis.secrets, &names.pending_credentials_secret()).await
}

async fn wait_for_final_backup(
    instance: &MySQL,
    ctx: &Context,
    apis: &Apis,
    names: &InstanceNames,
) -> Result<()> {
    let uid = instance.uid().unwrap_or_default();
    let existing = backups_of(apis, names).await?.into_iter().find(|b| {
        b.spec.cause == BackupCause::OnDelete
            && annotation(b, INSTANCE_UID_ANNOTATION) == Some(uid.as_str())
    });
    let reference = instance.object_ref(&());
    let observed_deleting = |message: String| Observed {
        generation: instance.metadata.generation,
        endpoint: names.endpoint(),
        invalid_spec: None,
        deployment_available: false,
        restore: None,
        password: PasswordState::Synced,
        storage: StorageState::AsRequested,
        latest_backup: None,
        deleting: Some(message),
    };
    let (name, phase, why) = match existing {
        Some(backup) => (
            backup.name_any(),
            backup.phase(),
            backup.status.and_then(|s| s.message).unwrap_or_default(),
        ),
        None => {
            settle_password_before_backup(apis, names).await?;
            let name = names.backup_record(jiff::Timestamp::now());
            let record = MySQLBackup {
                metadata: ObjectMeta {
                    name: Some(name.clone()),
                    namespace: Some(names.namespace.clone()),
                    labels: Some(BTreeMap::from([(
                        INSTANCE_LABEL.to_string(),
                        names.name.clone(),
                    )])),
                    annotations: Some(BTreeMap::from([(
                        INSTANCE_UID_ANNOTATION.to_string(),
                        uid.clone(),
                    )])),
                    ..Default::default()
                },
                spec: MySQLBackupSpec {
                    instance: names.name.clone(),
                    cause: BackupCause::OnDelete,
                },
                status: None,
            };
            apis.backups.create(&PostParams::default(), &record).await?;
            ctx.publish(
                &reference,
                EventType::Normal,
                "BackupStarted",
                format!(
                    "backing up before deletion: MySQLBackup {name}, Job {}",
                    names.backup_job()
                ),
            )
            .await;
            (name, None, String::new())
        }
    };
    match phase {
        Some(BackupPhase::Succeeded) => {
            ctx.publish(
                &reference,
                EventType::Normal,
                "BackupSucceeded",
                format!("backup {name} recorded; deleting"),
            )
            .await;
            Ok(())
        }
        Some(BackupPhase::Failed) => {
            let message = format!(
                "deletion stopped: backup {name} failed ({why}); fix the cause and delete MySQLBackup {name} to retry, or annotate the instance {SKIP_BACKUP_ANNOTATION}=true to delete without a backup"
            );
            let before = instance.status.as_ref().and_then(|s| s.message.clone());
            if before.as_deref() != Some(message.as_str()) {
                ctx.publish(
                    &reference,
                    EventType::Warning,
                    "BackupFailed",
                    message.clone(),
                )
                .await;
            }
            write_status(instance, ctx, apis, &observed_deleting(message.clone())).await?;
            Err(Error::Blocked(message))
        }
        _ => {
            let message = format!("backing up before deletion (MySQLBackup {name})");
            write_status(instance, ctx, apis, &observed_deleting(message)).await?;
            Err(Error::Waiting(format!("backup {name} before deletion")))
        }
    }
}
