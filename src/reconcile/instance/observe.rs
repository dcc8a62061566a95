//! Observe: the only reads of an instance's reconcile. Everything a decision needs is
//! gathered into a snapshot; the caches answer where they can, and the API server only
//! where a cache cannot (objects of ours the course's operator left unlabelled, Secrets,
//! which are never cached, and anything where a stale answer could start a second Job).

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{
    ConfigMap, Namespace, PersistentVolume, PersistentVolumeClaim, Pod, Secret, Service,
};
use kube::ResourceExt;
use kube::api::{Api, ListParams};

use super::plan::{Reads, RestoreWanted};
use super::snapshot::{
    DeletionSnapshot, Fingerprint, ListingFailed, LiveVolumes, MemberPod, Members, Password,
    PasswordUnreadable, Read, Snapshot,
};
use crate::api::keys::{INSTANCE_LABEL, MEMBER_LABEL, PASSWORD_KEY, ROLE_LABEL};
use crate::api::{JobState, MySQL, MySQLBackup, ScanReport, failure_message, termination_report};
use crate::names::InstanceNames;
use crate::reconcile::bucket;
use crate::reconcile::credentials::secret_value;
use crate::reconcile::kube_ops::{is_owned_by, job_pods, refused_pod_reason};
use crate::reconcile::{Caches, Context, SecretFacts, cached, lookup};
use crate::reconcile::{Error, Result};

pub fn names_of(instance: &MySQL) -> Result<InstanceNames> {
    Ok(InstanceNames::new(
        instance.name_any(),
        instance
            .namespace()
            .ok_or(Error::MissingField("metadata.namespace"))?,
    ))
}

pub async fn instance(instance: &MySQL, ctx: &Context) -> Result<Snapshot> {
    let names = names_of(instance)?;
    let ns = names.namespace.as_str();
    let client = &ctx.client;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), ns);
    let caches = &ctx.caches;
    let backups = cached_backups_of(caches, &names);
    let volumes = live_volumes(instance, ctx, &names).await?;
    // What this reconcile's decisions rest on beyond the reads above, decided once.
    let reads = Reads::for_instance(instance, &backups, &volumes);
    let pending_credentials = Read::when(
        reads.pending_credentials,
        read_password(ctx, &secrets, &names.pending_credentials_secret()),
    )
    .await?;
    let restore = restore_inputs(&reads.restore, ctx, &names).await?;
    let (credentials, credentials_outdated) =
        credentials_facts(ctx, &secrets, &names.credentials_secret()).await?;
    let (scan_job, scan_report) = if reads.scan {
        scan_inputs(ctx, &names).await?
    } else {
        (Read::Skipped, Read::Skipped)
    };
    let bucket = instance.spec.backup_bucket();
    let bucket_dumps = listed(
        bucket
            .filter(|_| reads.bucket_listing)
            .map(|storage| bucket::find_dumps(ctx, ns, &names.name, storage)),
    )
    .await;
    let binlog_segments = listed(
        bucket
            .filter(|_| reads.binlog_listing)
            .map(|storage| bucket::list_segments(ctx, ns, &names.name, storage)),
    )
    .await;
    let (job_without_pods, job_refused) = refused_jobs(ctx, &names).await?;
    let (service, deployment) = server_objects(ctx, &names).await?;
    let nodes = if reads.nodes {
        Read::Done(caches.nodes.state().iter().map(|n| (**n).clone()).collect())
    } else {
        Read::Skipped
    };
    Ok(Snapshot {
        desired_password: desired_password(instance, &secrets).await?,
        credentials,
        credentials_outdated,
        tls_certificate: tls_certificate(instance, caches, &names),
        config_map: referenced_config_map(instance, ctx, ns).await?,
        job_without_pods,
        job_refused,
        pending_credentials,
        password_job: cached(&caches.jobs, Some(ns), &names.password_job()),
        restore_job: restore.job,
        restore_source: restore.source,
        server_pods: restore.server_pods,
        restore_failure: restore.failure,
        scan_job,
        scan_report,
        bucket_dumps,
        binlog_segments,
        volumes,
        nodes,
        service,
        deployment,
        backups,
        members: member_inputs(instance, ctx, &names).await?,
        names,
    })
}

/// The members of a replicated instance (or one that had replicas: their objects
/// must go), each running member's server asked for its state.
async fn member_inputs(
    instance: &MySQL,
    ctx: &Context,
    names: &InstanceNames,
) -> Result<Read<Members>> {
    let had_members = instance
        .status
        .as_ref()
        .is_some_and(|s| !s.members.is_empty());
    if instance.spec.members() <= 1 && !had_members {
        return Ok(Read::Skipped);
    }
    let ns = names.namespace.as_str();
    let caches = &ctx.caches;
    let mut members = Members {
        // Ours and labelled, so in the Secrets' metadata cache: no read a reconcile
        // (a create that finds it there already is no error).
        replication_secret: cached(&caches.secrets, Some(ns), &names.replication_secret())
            .is_some(),
        ..Members::default()
    };
    for index in 1..crate::api::MAX_MEMBERS {
        if let Some(d) = cached(
            &caches.deployments,
            Some(ns),
            &names.member_deployment(index),
        ) {
            members.deployments.insert(index, d);
        }
        if let Some(job) = cached(&caches.jobs, Some(ns), &names.seed_job(index)) {
            members.seed_jobs.insert(index, job);
        }
        let Some(claim) = cached(&caches.pvcs, Some(ns), &names.member_pvc(index)) else {
            continue;
        };
        if let Some(pv) = claim
            .metadata
            .uid
            .as_deref()
            .and_then(|uid| cached(&caches.pvs, None, &names.member_pv(index, uid)))
        {
            members.volumes.insert(index, pv);
        }
        members.claims.insert(index, claim);
    }
    let volume_to_make = instance.spec.storage_class().is_none()
        && members
            .claims
            .keys()
            .any(|index| !members.volumes.contains_key(index));
    if volume_to_make {
        members.nodes = caches.nodes.state().iter().map(|n| (**n).clone()).collect();
    }
    members.pods = member_pods(instance, ctx, names).await?;
    Ok(Read::Done(members))
}

/// Every member's running pod, its server asked for its state.
async fn member_pods(
    instance: &MySQL,
    ctx: &Context,
    names: &InstanceNames,
) -> Result<std::collections::BTreeMap<u32, MemberPod>> {
    let ns = names.namespace.as_str();
    let mut found = std::collections::BTreeMap::new();
    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), ns);
    let selector = format!("{INSTANCE_LABEL}={},{MEMBER_LABEL}", names.name);
    let dialect = crate::dialect::Dialect::of_image(&instance.spec.image);
    let listed = pods
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(Error::observe(format!(
            "the member pods of {ns}/{}",
            names.name
        )))?;
    let running: Vec<(u32, Pod)> = listed
        .items
        .into_iter()
        .filter(|pod| pod.metadata.deletion_timestamp.is_none() && server_running(pod))
        .filter_map(|pod| {
            let index = pod.labels().get(MEMBER_LABEL)?.parse().ok()?;
            Some((index, pod))
        })
        .collect();
    // Asked all at once: a member that hangs (frozen, cut off) costs one timeout, not
    // one per member behind it.
    let states = futures::future::join_all(running.iter().map(|(_, pod)| {
        crate::reconcile::member_sql::member_state(
            &pods,
            pod.metadata.name.as_deref().unwrap_or_default(),
            dialect,
        )
    }))
    .await;
    for ((index, pod), state) in running.into_iter().zip(states) {
        found.insert(
            index,
            MemberPod {
                ready: pod_ready(&pod),
                role_label: pod.labels().get(ROLE_LABEL).cloned(),
                node: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
                state,
                name: pod.name_any(),
            },
        );
    }
    Ok(found)
}

/// The server container of a member's pod is running.
fn server_running(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| c.name == "mysql" && c.state.as_ref().is_some_and(|s| s.running.is_some()))
        })
}

fn pod_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// A listing of the bucket, when one is wanted: what it found, or why it could not.
async fn listed<T>(
    listing: Option<impl std::future::Future<Output = Result<T, bucket::Failure>>>,
) -> Read<Result<T, ListingFailed>> {
    match listing {
        None => Read::Skipped,
        Some(listing) => Read::Done(listing.await.map_err(|failure| ListingFailed {
            message: failure.message().to_string(),
            retry: matches!(failure, bucket::Failure::Transient(_)),
        })),
    }
}

pub async fn deletion(instance: &MySQL, ctx: &Context) -> Result<DeletionSnapshot> {
    let names = names_of(instance)?;
    let ns = names.namespace.as_str();
    let backups: Api<MySQLBackup> = Api::namespaced(ctx.client.clone(), ns);
    let uid = instance.uid().unwrap_or_default();
    let selector = format!("{INSTANCE_LABEL}={}", names.name);
    let final_backup = backups
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(Error::observe("the instance's backup records"))?
        .items
        .into_iter()
        .find(|b| b.spec.instance == names.name && b.is_final_backup_of(&uid));
    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), ns);
    let jobs: Api<Job> = Api::namespaced(ctx.client.clone(), ns);
    let claim = Api::<PersistentVolumeClaim>::namespaced(ctx.client.clone(), ns)
        .get_opt(&names.data_pvc())
        .await
        .map_err(Error::observe(format!(
            "PersistentVolumeClaim {}",
            names.data_pvc()
        )))?;
    let data_pv = data_volume_of(ctx, &names, &uid, claim.as_ref()).await?;
    let deployment = cached(&ctx.caches.deployments, Some(ns), &names.deployment());
    let namespace = Api::<Namespace>::all(ctx.client.clone())
        .get_opt(ns)
        .await
        .map_err(Error::observe(format!("Namespace {ns}")))?;
    let namespace_terminating = namespace.is_none_or(|n| {
        n.metadata.deletion_timestamp.is_some()
            || n.status.and_then(|s| s.phase).as_deref() == Some("Terminating")
    });
    Ok(DeletionSnapshot {
        final_backup,
        namespace_terminating,
        password_job: jobs
            .get_opt(&names.password_job())
            .await
            .map_err(Error::observe(format!("Job {}", names.password_job())))?,
        pending_credentials: read_password(ctx, &secrets, &names.pending_credentials_secret())
            .await?,
        data_pv,
        own_server: deployment.is_some_and(|d| is_owned_by(&d, &uid)),
        own_data_claim: claim.is_some_and(|c| is_owned_by(&c, &uid)),
        names,
    })
}

/// The data PV of this incarnation, if it is ours: the one its claim is bound to (an
/// instance made by an earlier version has the PV named without its incarnation), else
/// the one named after it.
async fn data_volume_of(
    ctx: &Context,
    names: &InstanceNames,
    uid: &str,
    claim: Option<&PersistentVolumeClaim>,
) -> Result<Option<PersistentVolume>> {
    let bound = claim.and_then(|c| c.spec.as_ref()?.volume_name.clone());
    let named = names.data_pv_of(uid);
    let candidates = match bound {
        Some(bound) if bound != named => vec![bound, named],
        _ => vec![named],
    };
    let pvs: Api<PersistentVolume> = Api::all(ctx.client.clone());
    for name in candidates {
        let found = pvs
            .get_opt(&name)
            .await
            .map_err(Error::observe(format!("PersistentVolume {name}")))?;
        if let Some(pv) = found.filter(|pv| is_data_volume_of(pv, names)) {
            return Ok(Some(pv));
        }
    }
    Ok(None)
}

fn is_data_volume_of(pv: &PersistentVolume, names: &InstanceNames) -> bool {
    let labelled = pv.labels().get(INSTANCE_LABEL) == Some(&names.name);
    let claimed_here = pv
        .spec
        .as_ref()
        .and_then(|s| s.claim_ref.as_ref())
        .is_some_and(|c| c.namespace.as_deref() == Some(&names.namespace));
    labelled && claimed_here
}

/// What a wanted restore rests on.
struct RestoreInputs {
    job: Read<Option<Job>>,
    source: Read<Option<MySQLBackup>>,
    failure: Read<Option<String>>,
    server_pods: Read<usize>,
}

/// The restore Job, and the backup it would load (before the Job exists) or why it
/// failed (once it has), read only while a restore is wanted. The Job falls back to the
/// API server: the course's operator left its restore Job unlabelled, and it must be
/// seen to be replaced.
async fn restore_inputs(
    wanted: &RestoreWanted,
    ctx: &Context,
    names: &InstanceNames,
) -> Result<RestoreInputs> {
    let RestoreWanted::Run { backup, .. } = wanted else {
        return Ok(RestoreInputs {
            job: Read::Skipped,
            source: Read::Skipped,
            failure: Read::Skipped,
            server_pods: Read::Skipped,
        });
    };
    let ns = names.namespace.as_str();
    let jobs: Api<Job> = Api::namespaced(ctx.client.clone(), ns);
    let job = match cached(&ctx.caches.jobs, Some(ns), &names.restore_job()) {
        Some(job) => Some(job),
        None => jobs
            .get_opt(&names.restore_job())
            .await
            .map_err(Error::observe(format!("Job {}", names.restore_job())))?,
    };
    if let Some(found) = &job {
        // A failed restore says why in its pod (a bad checksum, a load error); the
        // Job's own condition only counts attempts.
        let failed = matches!(JobState::of(found), JobState::Failed(_));
        let failure = Read::when(failed, async {
            let pods = job_pods(&ctx.client, ns, &names.restore_job())
                .await
                .map_err(Error::observe(format!(
                    "the pods of Job {}",
                    names.restore_job()
                )))?;
            Ok::<_, Error>(failure_message(&pods))
        })
        .await?;
        return Ok(RestoreInputs {
            job: Read::Done(job),
            source: Read::Skipped,
            failure,
            server_pods: Read::Skipped,
        });
    }
    // A backup that just finished may not be in the cache as Succeeded yet; a stale
    // "not succeeded" here would fail the restore for good, so ask the server.
    let source = match cached(&ctx.caches.backups, Some(ns), backup) {
        Some(found) if found.succeeded() => Some(found),
        _ => Api::<MySQLBackup>::namespaced(ctx.client.clone(), ns)
            .get_opt(backup)
            .await
            .map_err(Error::observe(format!("MySQLBackup {backup}")))?,
    };
    // A physical restore replaces the data directory: its Job waits until no pod of
    // the server is left, terminating ones included (a pod's mysqld may still write).
    let physical = source.as_ref().is_some_and(MySQLBackup::physical);
    let server_pods = Read::when(physical, async {
        let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), ns);
        let selector = format!("app={}", names.name);
        pods.list_metadata(&ListParams::default().labels(&selector))
            .await
            .map(|list| list.items.len())
            .map_err(Error::observe(format!("the pods of {}", names.name)))
    })
    .await?;
    Ok(RestoreInputs {
        job: Read::Done(None),
        source: Read::Done(source),
        failure: Read::Skipped,
        server_pods,
    })
}

/// `scan-NAME-job`, and once it succeeded, what its pod reported.
async fn scan_inputs(
    ctx: &Context,
    names: &InstanceNames,
) -> Result<(Read<Option<Job>>, Read<Option<ScanReport>>)> {
    let ns = names.namespace.as_str();
    let job = cached(&ctx.caches.jobs, Some(ns), &names.scan_job());
    let succeeded = job
        .as_ref()
        .is_some_and(|found| JobState::of(found) == JobState::Succeeded);
    let scan = names.scan_job();
    let report = Read::when(succeeded, async {
        let pods = job_pods(&ctx.client, ns, &scan)
            .await
            .map_err(Error::observe(format!("the pods of Job {scan}")))?;
        Ok::<_, Error>(termination_report(&pods))
    })
    .await?;
    Ok((Read::Done(job), report))
}

async fn live_volumes(
    instance: &MySQL,
    ctx: &Context,
    names: &InstanceNames,
) -> Result<LiveVolumes> {
    let caches = &ctx.caches;
    let ns = names.namespace.as_str();
    let pvs: Api<PersistentVolume> = Api::all(ctx.client.clone());
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(ctx.client.clone(), ns);
    let (foreign_pvs, foreign_pvcs) = (&caches.foreign.pvs, &caches.foreign.pvcs);
    let data_pv = match instance.uid() {
        Some(uid) if instance.spec.storage_class().is_none() => {
            lookup(
                &caches.pvs,
                foreign_pvs,
                &pvs,
                None,
                &names.data_pv_of(&uid),
            )
            .await?
        }
        _ => None,
    };
    let backup_pv = lookup(&caches.pvs, foreign_pvs, &pvs, None, &names.backup_pv()).await?;
    let backup_pvc = lookup(
        &caches.pvcs,
        foreign_pvcs,
        &pvcs,
        Some(ns),
        &names.backup_pvc(),
    )
    .await?;
    let provisioned_backup_pv = match crate::manifests::backup_storage_class(
        instance.spec.storage_class(),
        backup_pv.is_some(),
        backup_pvc.as_ref(),
    ) {
        None => None,
        Some(_) => match backup_pvc.as_ref().and_then(bound_volume) {
            Some(volume) => lookup(&caches.pvs, foreign_pvs, &pvs, None, &volume).await?,
            None if backup_pvc.is_none() => kept_backup_volume(&caches.pvs, names),
            None => None,
        },
    };
    Ok(LiveVolumes {
        data_pv,
        backup_pv,
        provisioned_backup_pv,
        data_pvc: lookup(
            &caches.pvcs,
            foreign_pvcs,
            &pvcs,
            Some(ns),
            &names.data_pvc(),
        )
        .await?,
        backup_pvc,
    })
}

fn bound_volume(claim: &PersistentVolumeClaim) -> Option<String> {
    claim
        .spec
        .as_ref()?
        .volume_name
        .clone()
        .filter(|v| !v.is_empty())
}

/// A provisioned backup volume an earlier incarnation's claim of this name left: the
/// operator labelled it with the instance and made it Retain, and its claim reference
/// still names the claim. The newest, should there be several.
fn kept_backup_volume(
    pvs: &kube::runtime::reflector::Store<PersistentVolume>,
    names: &InstanceNames,
) -> Option<PersistentVolume> {
    pvs.state()
        .into_iter()
        .filter(|pv| pv.labels().get(INSTANCE_LABEL) == Some(&names.name))
        .filter(|pv| {
            let claim = pv.spec.as_ref().and_then(|s| s.claim_ref.as_ref());
            claim.is_some_and(|c| {
                c.namespace.as_deref() == Some(names.namespace.as_str())
                    && c.name.as_deref() == Some(names.backup_pvc().as_str())
            })
        })
        .filter(|pv| pv.name_any() != names.backup_pv())
        .max_by_key(|pv| pv.metadata.creation_timestamp.clone())
        .map(|pv| (*pv).clone())
}

/// The password the spec asks for: inline, or from the referenced Secret; or why it
/// cannot be read.
async fn desired_password(
    instance: &MySQL,
    secrets: &Api<Secret>,
) -> Result<std::result::Result<Password, PasswordUnreadable>> {
    if let Some(password) = &instance.spec.password {
        return Ok(Ok(Password(password.clone())));
    }
    let Some(reference) = &instance.spec.password_secret_ref else {
        return Ok(Err(PasswordUnreadable::NotGiven));
    };
    let key = reference.key_or_default();
    let secret = secrets
        .get_opt(&reference.name)
        .await
        .map_err(Error::observe(format!("Secret {}", reference.name)))?;
    let Some(secret) = secret else {
        return Ok(Err(PasswordUnreadable::SecretNotFound {
            secret: reference.name.clone(),
        }));
    };
    Ok(secret_value(&secret, key)
        .map(Password)
        .ok_or_else(|| PasswordUnreadable::KeyMissing {
            secret: reference.name.clone(),
            key: key.to_string(),
        }))
}

/// The fingerprint of the password in `NAME-credentials` and whether it lacks the client
/// option file, read from the Secret only when the metadata cache shows a version we
/// have not seen (a first start, someone's edit); our own writes tell the memo.
async fn credentials_facts(
    ctx: &Context,
    secrets: &Api<Secret>,
    name: &str,
) -> Result<(Option<Fingerprint>, bool)> {
    let ns = secrets.namespace().unwrap_or_default();
    let memo = &ctx.secrets_seen;
    let version =
        cached(&ctx.caches.secrets, Some(ns), name).and_then(|meta| meta.metadata.resource_version);
    if let Some(facts) = version.as_deref().and_then(|v| memo.at(ns, name, v)) {
        return Ok((facts.fingerprint, facts.outdated));
    }
    // Not in the cache and never written by us: absent (the cache holds every Secret,
    // labelled or not). Known to us but not cached: our write may be ahead of the
    // watch, or someone deleted it; only the server can tell.
    if version.is_none() && !memo.knows(ns, name) {
        return Ok((None, false));
    }
    let secret = secrets
        .get_opt(name)
        .await
        .map_err(Error::observe(format!("Secret {name}")))?;
    memo.learn(ns, name, secret.as_ref());
    Ok(secret
        .map(|s| {
            let facts = SecretFacts::of(&s);
            (facts.fingerprint, facts.outdated)
        })
        .unwrap_or((None, false)))
}

/// The password in one of our credentials Secrets; None if it does not exist. Read only
/// when the metadata cache has it (or it is ours and the cache may lag our write).
async fn read_password(
    ctx: &Context,
    secrets: &Api<Secret>,
    name: &str,
) -> Result<Option<Password>> {
    let ns = secrets.namespace().unwrap_or_default();
    if cached(&ctx.caches.secrets, Some(ns), name).is_none() && !ctx.secrets_seen.knows(ns, name) {
        return Ok(None);
    }
    let password = secrets
        .get_opt(name)
        .await
        .map_err(Error::observe(format!("Secret {name}")))?
        .and_then(|secret| secret_value(&secret, PASSWORD_KEY))
        .map(Password);
    if password.is_none() {
        ctx.secrets_seen.learn(ns, name, None);
    }
    Ok(password)
}

/// The instance's backup records from the watch cache: for status and restore
/// decisions, where a moment's lag changes nothing.
/// The server certificate Secret's version and annotations, from the cache.
fn tls_certificate(
    instance: &MySQL,
    caches: &Caches,
    names: &InstanceNames,
) -> Option<super::snapshot::SecretMeta> {
    let name = instance.spec.tls_secret(names)?;
    let meta = cached(&caches.secrets, Some(&names.namespace), &name)?.metadata;
    Some(super::snapshot::SecretMeta {
        version: meta.resource_version.unwrap_or_default(),
        annotations: meta.annotations.unwrap_or_default(),
    })
}

/// The ConfigMap of server options the spec names, read whole: its data is the
/// server's options (it is small, and read only for instances that name one).
async fn referenced_config_map(
    instance: &MySQL,
    ctx: &Context,
    ns: &str,
) -> Result<Option<super::snapshot::ReferencedConfigMap>> {
    let Some(name) = instance.spec.mysql_config_map_name.clone() else {
        return Ok(None);
    };
    let config_maps: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), ns);
    let found = config_maps
        .get_opt(&name)
        .await
        .map_err(Error::observe(format!("ConfigMap {name}")))?;
    Ok(Some(super::snapshot::ReferencedConfigMap {
        name,
        data: found.map(|c| c.data.unwrap_or_default()),
    }))
}

/// `NAME`'s Service and Deployment (ours, or left by another owner).
async fn server_objects(
    ctx: &Context,
    names: &InstanceNames,
) -> Result<(Option<Service>, Option<Deployment>)> {
    let caches = &ctx.caches;
    let ns = names.namespace.as_str();
    let service = lookup(
        &caches.services,
        &caches.foreign.services,
        &Api::namespaced(ctx.client.clone(), ns),
        Some(ns),
        &names.service(),
    )
    .await?;
    let deployment = lookup(
        &caches.deployments,
        &caches.foreign.deployments,
        &Api::namespaced(ctx.client.clone(), ns),
        Some(ns),
        &names.deployment(),
    )
    .await?;
    Ok((service, deployment))
}

/// Whether a running Job of the instance has made no pod, and the API server's reason
/// for refusing the first refused one's pod. The Events are listed only for such Jobs
/// (normally none, or one for a second after its creation).
async fn refused_jobs(ctx: &Context, names: &InstanceNames) -> Result<(bool, Option<String>)> {
    let ns = names.namespace.as_str();
    let waiting: Vec<Job> = ctx
        .caches
        .jobs
        .state()
        .into_iter()
        .filter(|j| j.namespace().as_deref() == Some(ns))
        .filter(|j| j.labels().get(INSTANCE_LABEL) == Some(&names.name))
        .filter(|j| JobState::is_running(j) && !JobState::has_made_pods(j))
        .map(|j| (*j).clone())
        .collect();
    for job in &waiting {
        let reason = refused_pod_reason(&ctx.client, ns, job)
            .await
            .map_err(Error::observe(format!(
                "the FailedCreate Events of Job {}",
                job.name_any()
            )))?;
        if reason.is_some() {
            return Ok((true, reason));
        }
    }
    Ok((!waiting.is_empty(), None))
}

fn cached_backups_of(caches: &Caches, names: &InstanceNames) -> Vec<MySQLBackup> {
    caches
        .backups
        .state_filter(|b| b.belongs_to(&names.name, &names.namespace))
        .into_iter()
        .map(|b| (*b).clone())
        .collect()
}
