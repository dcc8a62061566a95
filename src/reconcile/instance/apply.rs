//! Apply: executes a plan, writes only, in its order: the finalizer when it is added,
//! the writes, the Events, the status, and the finalizer when it is removed. Events go
//! before the status: an operator killed in between repeats them after its restart
//! (the recorder folds a repeat into a count), where the other order would lose them
//! for good once the status already shows the change.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim, Pod, Secret, Service};
use kube::api::{Api, Patch, PatchParams};
use kube::{Resource, ResourceExt};
use serde_json::json;
use std::collections::BTreeMap;

use super::observe::names_of;
use super::plan::{
    CertificateRequest, FinalizerChange, Kind, MemberWrite, Plan, ReleasedVolume, Write,
};
use crate::api::keys::FINALIZER;
use crate::api::{MySQL, MySQLBackup};
use crate::names::InstanceNames;
use crate::reconcile::Context;
use crate::reconcile::kube_ops::{
    self, apply_if_changed, create_if_absent, delete_if_present, patch_status, set_finalizers,
};
use crate::reconcile::member_sql;
use crate::reconcile::{Error, Result};

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

pub async fn apply(instance: &MySQL, plan: &Plan, ctx: &Context) -> Result<()> {
    let names = names_of(instance)?;
    let namespace = names.namespace.clone();
    let apis = Apis::new(ctx, &namespace);
    let what = || format!("MySQL {namespace}/{}", instance.name_any());
    if plan.finalizer == FinalizerChange::Add {
        let mut finalizers = instance.finalizers().to_vec();
        finalizers.push(FINALIZER.to_string());
        update_finalizers(&apis, instance, finalizers, what()).await?;
    }
    for write in &plan.writes {
        execute(write, &apis, ctx, &names).await?;
    }
    let step = plan.failover_step.map(|s| s.name());
    kill_point(step, "applied");
    ctx.publish_all(&instance.object_ref(&()), &plan.events)
        .await;
    if let Some(status) = &plan.status {
        let written = patch_status(&apis.instances, &instance.name_any(), status)
            .await
            .map_err(|source| Error::Status {
                what: what(),
                source,
            })?;
        ctx.statuses_written.wrote(instance, status, written);
    }
    kill_point(step, "recorded");
    if plan.finalizer == FinalizerChange::Remove {
        let finalizers = instance
            .finalizers()
            .iter()
            .filter(|f| *f != FINALIZER)
            .cloned()
            .collect();
        match update_finalizers(&apis, instance, finalizers, what()).await {
            // A reconcile of a stale cached copy: the instance went with the last one.
            Err(Error::Finalizer {
                source: kube::Error::Api(status),
                ..
            }) if status.code == 404 => {}
            other => other?,
        }
        ctx.statuses_written.forget(instance);
    }
    Ok(())
}

/// Fault injection for the tests of a failover interrupted at each step: with
/// `KUBECTL_MYSQL_KILL_AT=failover-STEP-WHEN` (STEP fencing, promoting or done; WHEN
/// applied, after the writes, or recorded, after the status) the process kills
/// itself with SIGKILL there, as a node's loss would: nothing after runs.
fn kill_point(step: Option<&str>, when: &str) {
    let Some(step) = step else { return };
    let Ok(wanted) = std::env::var("KUBECTL_MYSQL_KILL_AT") else {
        return;
    };
    if wanted == format!("failover-{step}-{when}") {
        tracing::warn!(
            point = wanted.as_str(),
            "KUBECTL_MYSQL_KILL_AT: killing this process"
        );
        let _ = std::process::Command::new("kill")
            .args(["-9", &std::process::id().to_string()])
            .status();
        // `kill` is gone from the image: abort, which no handler catches either.
        std::process::abort();
    }
}

async fn update_finalizers(
    apis: &Apis,
    instance: &MySQL,
    finalizers: Vec<String>,
    what: String,
) -> Result<()> {
    set_finalizers(&apis.instances, instance, finalizers)
        .await
        .map_err(|source| Error::Finalizer { what, source })
}

async fn execute(write: &Write, apis: &Apis, ctx: &Context, names: &InstanceNames) -> Result<()> {
    let memo = &ctx.applied;
    let namespace = names.namespace.as_str();
    let named = |kind: &str, name: String| format!("{kind} {namespace}/{name}");
    match write {
        Write::ApplySecret(secret) => apply_secret(apis, ctx, secret, namespace).await,
        Write::IssueCertificate(request) => issue_certificate(apis, ctx, names, request).await,
        Write::ApplyVolume(pv, live) => apply_if_changed(&apis.pvs, pv, live.as_ref(), memo)
            .await
            .map(drop)
            .map_err(Error::apply(format!("PersistentVolume {}", pv.name_any()))),
        Write::ApplyClaim(claim, live) => apply_if_changed(&apis.pvcs, claim, live.as_ref(), memo)
            .await
            .map(drop)
            .map_err(Error::apply(named(
                "PersistentVolumeClaim",
                claim.name_any(),
            ))),
        Write::ApplyService(service, live) => {
            apply_if_changed(&apis.services, service, live.as_ref(), memo)
                .await
                .map(drop)
                .map_err(Error::apply(named("Service", service.name_any())))
        }
        Write::ApplyDeployment(deployment, live) => {
            apply_if_changed(&apis.deployments, deployment, live.as_ref(), memo)
                .await
                .map(drop)
                .map_err(Error::apply(named("Deployment", deployment.name_any())))
        }
        Write::CreateJob(job) => create_if_absent(&apis.jobs, job)
            .await
            .map(drop)
            .map_err(Error::apply(named("Job", job.name_any()))),
        // If absent: a scheduled record is named after its slot, and a look whose cache
        // lags behind the first creation asks for it again.
        Write::CreateBackupRecord(record) => create_if_absent(&apis.backups, record)
            .await
            .map(drop)
            .map_err(Error::apply(named("MySQLBackup", record.name_any()))),
        Write::DeleteBackupRecord(name) => {
            delete_if_present(&apis.backups, name)
                .await
                .map_err(Error::apply(format!(
                    "deleting MySQLBackup {namespace}/{name}"
                )))
        }
        Write::RecordFoundBackup(record) => record_found_backup(apis, record, namespace).await,
        Write::PruneArchivedLogs { storage, keys } => {
            prune_archived_logs(ctx, names, storage, keys).await
        }
        Write::Delete(kind, name) => {
            if *kind == Kind::Secret {
                ctx.secrets_seen.learn(namespace, name, None);
            }
            delete(apis, *kind, name)
                .await
                .map_err(Error::apply(format!(
                    "deleting {kind:?} {namespace}/{name}"
                )))
        }
        Write::FreeReleasedVolume(released) => free_released_volume(ctx, apis, released).await,
        Write::KeepVolume(name) => keep_provisioned_volume(apis, name, names).await,
        Write::Member(member) => execute_member(member, apis, ctx, names).await,
        Write::FinishPasswordChange(password) => {
            finish_password_change(apis, ctx, names, &password.0).await
        }
    }
}

/// Forgets a Released volume's dead claim uid, unless the claim of that uid is back
/// (the cache was behind) or the volume changed since it was observed: the uid is
/// tested and replaced in one JSON patch, so a uid the volume controller has just
/// written for the new claim is never erased. Either way the next look decides again.
async fn free_released_volume(ctx: &Context, apis: &Apis, released: &ReleasedVolume) -> Result<()> {
    let (namespace, claim) = &released.claim;
    let what = || format!("PersistentVolume {}", released.name);
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(ctx.client.clone(), namespace);
    let live = claims.get_opt(claim).await.map_err(Error::apply(what()))?;
    if live.and_then(|c| c.metadata.uid).as_deref() == Some(released.dead_claim_uid.as_str()) {
        return Ok(());
    }
    let patch: json_patch::Patch = serde_json::from_value(json!([
        {"op": "test", "path": "/spec/claimRef/uid", "value": released.dead_claim_uid},
        {"op": "replace", "path": "/spec/claimRef", "value": {
            "apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "namespace": namespace, "name": claim,
        }},
    ]))
    .expect("a JSON patch of literal operations");
    match apis
        .pvs
        .patch(
            &released.name,
            &PatchParams::default(),
            &Patch::<()>::Json(patch),
        )
        .await
    {
        Ok(_) => {
            tracing::info!(
                pv = released.name,
                "freed a Released volume for its re-created claim"
            );
            Ok(())
        }
        // 422: the test failed, the volume no longer names the dead claim.
        Err(kube::Error::Api(e)) if e.code == 422 || e.code == 404 => {
            tracing::debug!(
                pv = released.name,
                reason = e.message,
                "not freed: the volume changed"
            );
            Ok(())
        }
        Err(e) => Err(Error::apply(what())(e)),
    }
}

/// A provisioned backup volume becomes Retain and is labelled with its instance.
async fn keep_provisioned_volume(apis: &Apis, name: &str, names: &InstanceNames) -> Result<()> {
    let patch = json!({
        "metadata": {"labels": crate::api::keys::operator_labels(&names.name)},
        "spec": {"persistentVolumeReclaimPolicy": "Retain"}
    });
    apis.pvs
        .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(Error::apply(format!("PersistentVolume {name}")))?;
    tracing::info!(pv = name, "kept the provisioned backup volume (Retain)");
    Ok(())
}

/// The writes of a replicated instance's members: its replication Secret, statements
/// run in its servers, and the role labels on their pods.
async fn execute_member(
    write: &MemberWrite,
    apis: &Apis,
    ctx: &Context,
    names: &InstanceNames,
) -> Result<()> {
    let namespace = names.namespace.as_str();
    let named = |kind: &str, name: String| format!("{kind} {namespace}/{name}");
    match write {
        MemberWrite::CreateReplicationSecret { name, owner } => {
            let mut secret = crate::manifests::replication_secret(name, namespace, &names.name);
            crate::reconcile::kube_ops::set_owner(&mut secret, owner);
            create_if_absent(&apis.secrets, &secret)
                .await
                .map(drop)
                .map_err(Error::apply(named("Secret", name.clone())))
        }
        MemberWrite::RunSql { pod, sql } => {
            let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), namespace);
            member_sql::run(&pods, pod, sql)
                .await
                .map(drop)
                .map_err(|message| Error::Member {
                    what: format!("pod {namespace}/{pod}"),
                    message,
                })?;
            tracing::info!(
                pod = pod.as_str(),
                statements = sql.trim(),
                "ran on a member"
            );
            Ok(())
        }
        MemberWrite::Fence { pod, sql } => fence(ctx, namespace, pod, sql).await,
        MemberWrite::Promote {
            pod,
            dialect,
            written,
            sql,
        } => promote(ctx, namespace, pod, (*dialect, written), sql).await,
        MemberWrite::Repoint { pod, sql } => {
            let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), namespace);
            member_sql::run_as(&pods, pod, sql, member_sql::Mode::WithReplicationPassword)
                .await
                .map_err(|message| Error::Member {
                    what: format!("pointing {namespace}/{pod} at the primary"),
                    message,
                })?;
            tracing::info!(pod = pod.as_str(), "pointed a member at the primary");
            Ok(())
        }
        MemberWrite::SetAside { pod, directory } => {
            let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), namespace);
            member_sql::mark_set_aside(&pods, pod, directory)
                .await
                .map_err(|message| Error::Member {
                    what: format!("setting {namespace}/{pod} aside"),
                    message,
                })?;
            pods.delete(pod, &kube::api::DeleteParams::default())
                .await
                .map(drop)
                .map_err(Error::apply(named("Pod", pod.clone())))?;
            tracing::warn!(
                pod = pod.as_str(),
                directory = directory.as_str(),
                "set a member's data aside; it starts empty and is seeded"
            );
            Ok(())
        }
        MemberWrite::LabelRole { pod, role } => {
            let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), namespace);
            let patch = json!({"metadata": {"labels": {crate::api::keys::ROLE_LABEL: role}}});
            pods.patch(pod, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .map(drop)
                .map_err(Error::apply(named("Pod", pod.clone())))
        }
    }
}

/// Read-only, then every client session killed.
async fn fence(ctx: &Context, namespace: &str, pod: &str, sql: &str) -> Result<()> {
    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), namespace);
    let failed = |message| Error::Member {
        what: format!("fencing {namespace}/{pod}"),
        message,
    };
    let sessions = member_sql::run(&pods, pod, sql).await.map_err(failed)?;
    let kills: String = sessions
        .lines()
        .filter_map(|l| l.trim().strip_prefix("ID:"))
        .map(|id| format!("KILL CONNECTION {};\n", id.trim()))
        .collect();
    if !kills.is_empty() {
        // Forced: a session may have ended on its own in between.
        member_sql::run_as(&pods, pod, &kills, member_sql::Mode::Forced)
            .await
            .map_err(failed)?;
    }
    tracing::info!(
        pod,
        sessions = kills.lines().count(),
        "fenced a member: read-only, sessions killed"
    );
    Ok(())
}

/// How long a promotion waits for its member to apply the old primary's last
/// transactions before this look gives up (the next look asks again).
const CATCH_UP_WAIT: std::time::Duration = std::time::Duration::from_secs(15);

/// Promotes a replica, only once it has applied every transaction the old primary
/// wrote (asked every half second for up to `CATCH_UP_WAIT`); else an error, and the
/// next look tries again.
async fn promote(
    ctx: &Context,
    namespace: &str,
    pod: &str,
    (dialect, written): (crate::dialect::Dialect, &str),
    sql: &str,
) -> Result<()> {
    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), namespace);
    let failed = |message| Error::Member {
        what: format!("promoting {namespace}/{pod}"),
        message,
    };
    let deadline = tokio::time::Instant::now() + CATCH_UP_WAIT;
    loop {
        let answer = member_sql::run(&pods, pod, &dialect.applied_query(written))
            .await
            .map_err(failed)?;
        if dialect.has_applied(&answer, written) {
            break;
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(failed(format!(
                "it has not applied the old primary's transactions ({written}) yet: {}",
                answer.trim().replace('\n', " ")
            )));
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    member_sql::run(&pods, pod, sql).await.map_err(failed)?;
    tracing::info!(pod, "promoted a member to primary");
    Ok(())
}

/// Our Secrets are applied every time they are planned (a password change), and what
/// they now hold is remembered, so that the next look reads nothing.
async fn apply_secret(apis: &Apis, ctx: &Context, secret: &Secret, namespace: &str) -> Result<()> {
    let applied = kube_ops::apply(&apis.secrets, secret)
        .await
        .map_err(Error::apply(format!(
            "Secret {namespace}/{}",
            secret.name_any()
        )))?;
    ctx.secrets_seen
        .learn(namespace, &secret.name_any(), Some(&applied));
    ctx.applied.wrote(&applied);
    Ok(())
}

/// `NAME-tls` from the instance's CA, `NAME-tls-ca` (made first when missing; kept,
/// so clients that trust it go on trusting the renewed certificate).
async fn issue_certificate(
    apis: &Apis,
    ctx: &Context,
    names: &InstanceNames,
    certificate: &CertificateRequest,
) -> Result<()> {
    use crate::api::keys::{CERTIFICATE_NAMES_ANNOTATION, CERTIFICATE_NOT_AFTER_ANNOTATION};
    use k8s_openapi::ByteString;
    let namespace = names.namespace.as_str();
    let now = jiff::Timestamp::now();
    let ca_name = names.tls_ca_secret();
    let failed = |e: crate::tls::TlsError| Error::Certificate(e.to_string());
    let live_ca = apis
        .secrets
        .get_opt(&ca_name)
        .await
        .map_err(Error::observe(format!("Secret {ca_name}")))?;
    let pem = |s: &Secret, key: &str| {
        s.data
            .as_ref()?
            .get(key)
            .and_then(|v| String::from_utf8(v.0.clone()).ok())
    };
    let ca = match live_ca
        .as_ref()
        .and_then(|s| Some((pem(s, "ca.crt")?, pem(s, "ca.key")?)))
    {
        Some((cert_pem, key_pem)) => crate::tls::CertificateAuthority { cert_pem, key_pem },
        None => {
            let ca = crate::tls::new_ca(names, now).map_err(failed)?;
            let secret = tls_secret(
                &ca_name,
                namespace,
                certificate.owner.as_ref(),
                [("ca.crt", &ca.cert_pem), ("ca.key", &ca.key_pem)],
                BTreeMap::new(),
            );
            apply_secret(apis, ctx, &secret, namespace).await?;
            ca
        }
    };
    let issued = crate::tls::issue_server(&ca, names, &certificate.hosts, now).map_err(failed)?;
    let annotations = BTreeMap::from([
        (
            CERTIFICATE_NAMES_ANNOTATION.to_string(),
            certificate.fingerprint.clone(),
        ),
        (
            CERTIFICATE_NOT_AFTER_ANNOTATION.to_string(),
            issued.not_after.to_string(),
        ),
    ]);
    let mut secret = tls_secret(
        &names.tls_secret(),
        namespace,
        certificate.owner.as_ref(),
        [("tls.crt", &issued.cert_pem), ("tls.key", &issued.key_pem)],
        annotations,
    );
    secret
        .data
        .get_or_insert_with(Default::default)
        .insert("ca.crt".into(), ByteString(issued.ca_pem.into_bytes()));
    secret.type_ = Some("kubernetes.io/tls".into());
    apply_secret(apis, ctx, &secret, namespace).await
}

/// A Secret of the instance holding PEM files.
fn tls_secret(
    name: &str,
    namespace: &str,
    owner: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference>,
    files: [(&str, &String); 2],
    annotations: BTreeMap<String, String>,
) -> Secret {
    Secret {
        metadata: kube::api::ObjectMeta {
            name: Some(name.to_string()),
            namespace: Some(namespace.to_string()),
            owner_references: owner.map(|o| vec![o.clone()]),
            annotations: Some(annotations),
            ..Default::default()
        },
        data: Some(
            files
                .into_iter()
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        k8s_openapi::ByteString(v.clone().into_bytes()),
                    )
                })
                .collect(),
        ),
        ..Default::default()
    }
}

/// Creates the record of a dump found on the volume, then its status (a subresource).
async fn record_found_backup(apis: &Apis, record: &MySQLBackup, namespace: &str) -> Result<()> {
    let what = format!("MySQLBackup {namespace}/{}", record.name_any());
    create_if_absent(&apis.backups, record)
        .await
        .map_err(Error::apply(what.clone()))?;
    if let Some(status) = &record.status {
        patch_status(&apis.backups, &record.name_any(), status)
            .await
            .map_err(Error::apply(what))?;
    }
    Ok(())
}

async fn delete(apis: &Apis, kind: Kind, name: &str) -> Result<(), kube::Error> {
    match kind {
        Kind::Job => delete_if_present(&apis.jobs, name).await,
        Kind::Secret => delete_if_present(&apis.secrets, name).await,
        Kind::Service => {
            tracing::info!(object = name, "deleting the Service");
            delete_if_present(&apis.services, name).await
        }
        Kind::Deployment => {
            tracing::info!(object = name, "deleting the Deployment");
            delete_if_present(&apis.deployments, name).await
        }
        Kind::PersistentVolumeClaim => delete_if_present(&apis.pvcs, name).await,
        Kind::PersistentVolume => delete_if_present(&apis.pvs, name).await,
    }
}

/// `NAME-credentials` takes the password the Job set (the plan checked it against the
/// Job's fingerprint) and `NAME-credentials-next` goes.
async fn finish_password_change(
    apis: &Apis,
    ctx: &Context,
    names: &InstanceNames,
    password: &str,
) -> Result<()> {
    let live = names.credentials_secret();
    let pending = names.pending_credentials_secret();
    let data = crate::manifests::credentials_data(password);
    let patched = apis
        .secrets
        .patch(
            &live,
            &PatchParams::default(),
            &Patch::Merge(json!({ "data": data })),
        )
        .await
        .map_err(Error::apply(format!("Secret {}/{live}", names.namespace)))?;
    ctx.secrets_seen
        .learn(&names.namespace, &live, Some(&patched));
    ctx.secrets_seen.learn(&names.namespace, &pending, None);
    delete_if_present(&apis.secrets, &pending)
        .await
        .map_err(Error::apply(format!(
            "Secret {}/{pending}",
            names.namespace
        )))
}

/// Deletes archived binary logs no restore can use from the instance's bucket.
async fn prune_archived_logs(
    ctx: &Context,
    names: &InstanceNames,
    storage: &crate::api::S3Storage,
    keys: &[String],
) -> Result<()> {
    crate::reconcile::bucket::delete_objects(ctx, &names.namespace, storage, keys)
        .await
        .map_err(|failure| Error::Bucket {
            what: format!("deleting archived binary logs of {}", names.name),
            message: failure.message().to_string(),
        })
}
