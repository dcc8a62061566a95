//! The objects an instance needs, built from the templates. Pure: the reconciler and
//! the CLI's `--dry-run` both call these, and unit tests assert on the typed output.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{
    PersistentVolume, PersistentVolumeClaim, PodSpec, Secret, Service,
};
use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use kube::Resource;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::api::S3Storage;
use crate::api::keys::{
    BACKUP_ANNOTATION, BUCKET_ANNOTATION, CLIENT_CONFIG_KEY, OBJECT_ANNOTATION,
    PASSWORD_FINGERPRINT_ANNOTATION, PASSWORD_KEY, TLS_CLIENT_CONFIG_KEY, VERIFY_ANNOTATION,
    stamp_annotation, stamp_instance_labels,
};
use crate::binlog::ReplayTarget;
use crate::dialect::physical;
use crate::names::InstanceNames;
use crate::pod_security::PodSecurityLevel;
use crate::render::{InstanceContext, RenderError, Renderer, S3Context, WithExtra};

/// Renders `template`, stamps the labels the operator finds its objects by (so an
/// override that drops them from a template cannot hide an object from the operator)
/// and gives a pod template the security its Pod Security level needs.
fn render<K>(
    renderer: &Renderer,
    template: &str,
    ctx: &InstanceContext,
    context: &impl Serialize,
) -> Result<K, RenderError>
where
    K: Rendered,
{
    let mut obj: K = renderer.render(template, context)?;
    stamp_instance_labels(obj.meta_mut(), &ctx.name);
    if let Some(pod) = obj.pod_spec_mut() {
        let provisioned_backup = ctx
            .backup_storage_class
            .as_ref()
            .map(|_| ctx.names.backup_pvc.as_str());
        PodSecurityLevel::of_pod(
            ctx.storage_class_name.as_deref(),
            &[ctx.names.data_pvc.as_str()],
            provisioned_backup,
            pod,
        )
        .apply(pod);
        // The server's own pod names no MYSQL_HOST: only its clients change.
        if let Some(tls) = &ctx.tls {
            let credentials = [
                ctx.names.credentials_secret.as_str(),
                ctx.names.pending_credentials_secret.as_str(),
            ];
            tls_clients(pod, &tls.secret, &credentials);
        }
    }
    Ok(obj)
}

/// A pod that talks to a server with TLS (a container names it in `MYSQL_HOST`)
/// verifies its certificate: each credentials volume becomes a projected one whose
/// `client.cnf` is the verifying option file, with the CA's `ca.crt` beside it.
fn tls_clients(pod: &mut PodSpec, tls_secret: &str, credentials_secrets: &[&str]) {
    use k8s_openapi::api::core::v1::{
        KeyToPath, ProjectedVolumeSource, SecretProjection, VolumeProjection,
    };
    let talks_to_server = pod
        .containers
        .iter()
        .chain(pod.init_containers.iter().flatten())
        .any(|c| {
            c.env.iter().flatten().any(|e| {
                e.name == "MYSQL_HOST"
                    && e.value
                        .as_deref()
                        .is_some_and(|h| h != "127.0.0.1" && h != "localhost")
            })
        });
    if !talks_to_server {
        return;
    }
    let item = |key: &str, path: &str| KeyToPath {
        key: key.into(),
        path: path.into(),
        mode: None,
    };
    for volume in pod.volumes.iter_mut().flatten() {
        let Some(credentials) = volume
            .secret
            .as_ref()
            .and_then(|s| s.secret_name.clone())
            .filter(|name| credentials_secrets.contains(&name.as_str()))
        else {
            continue;
        };
        let mode = volume.secret.as_ref().and_then(|s| s.default_mode);
        volume.secret = None;
        volume.projected = Some(ProjectedVolumeSource {
            default_mode: mode,
            sources: Some(vec![
                VolumeProjection {
                    secret: Some(SecretProjection {
                        name: credentials,
                        items: Some(vec![
                            item(TLS_CLIENT_CONFIG_KEY, CLIENT_CONFIG_KEY),
                            item(PASSWORD_KEY, PASSWORD_KEY),
                        ]),
                        optional: None,
                    }),
                    ..Default::default()
                },
                VolumeProjection {
                    secret: Some(SecretProjection {
                        name: tls_secret.to_string(),
                        items: Some(vec![item("ca.crt", "ca.crt")]),
                        optional: None,
                    }),
                    ..Default::default()
                },
            ]),
        });
    }
}

/// An object the templates make; those that make pods say where their pod spec is.
trait Rendered: Resource + DeserializeOwned {
    fn pod_spec_mut(&mut self) -> Option<&mut PodSpec> {
        None
    }
}

impl Rendered for PersistentVolume {}
impl Rendered for PersistentVolumeClaim {}
impl Rendered for Service {}
impl Rendered for Secret {}

impl Rendered for Deployment {
    fn pod_spec_mut(&mut self) -> Option<&mut PodSpec> {
        self.spec.as_mut()?.template.spec.as_mut()
    }
}

impl Rendered for Job {
    fn pod_spec_mut(&mut self) -> Option<&mut PodSpec> {
        self.spec.as_mut()?.template.spec.as_mut()
    }
}

/// The class the backup claim is (or will be) provisioned by: the instance's class,
/// unless the backup volume is a hostPath one already: our own PV exists (made by an
/// earlier version, or holding an earlier incarnation's dumps), or the claim is bound
/// without a class. Jobs on a provisioned backup volume can be restricted: the class
/// sets its ownership (`fsGroup`), which the kubelet does not do for hostPath.
pub fn backup_storage_class(
    instance_class: Option<&str>,
    host_path_backup_pv: bool,
    claim: Option<&PersistentVolumeClaim>,
) -> Option<String> {
    if host_path_backup_pv {
        return None;
    }
    match claim {
        Some(claim) => claim
            .spec
            .as_ref()?
            .storage_class_name
            .clone()
            .filter(|c| !c.is_empty()),
        None => instance_class.map(str::to_string),
    }
}

/// The long-lived objects of one instance.
#[derive(Clone, Debug)]
pub struct Children {
    /// Only without a storage class: the hostPath PV the data claim is bound to.
    pub data_pv: Option<PersistentVolume>,
    pub data_pvc: PersistentVolumeClaim,
    /// Only while the backup volume is a hostPath one (`backup_storage_class`).
    pub backup_pv: Option<PersistentVolume>,
    pub backup_pvc: PersistentVolumeClaim,
    pub service: Service,
    pub deployment: Deployment,
}

pub fn children(renderer: &Renderer, ctx: &InstanceContext) -> Result<Children, RenderError> {
    let data_pv = match ctx.storage_class_name {
        Some(_) => None,
        None => Some(render(renderer, "mysql-pv.yaml.tera", ctx, ctx)?),
    };
    Ok(Children {
        data_pv,
        data_pvc: render(renderer, "mysql-pvc.yaml.tera", ctx, ctx)?,
        backup_pv: match ctx.backup_storage_class {
            Some(_) => None,
            None => Some(render(renderer, "backup-pv.yaml.tera", ctx, ctx)?),
        },
        backup_pvc: render(renderer, "backup-pvc.yaml.tera", ctx, ctx)?,
        service: render(renderer, "mysql-service.yaml.tera", ctx, ctx)?,
        deployment: render(renderer, "mysql-deployment.yaml.tera", ctx, ctx)?,
    })
}

/// The objects of member 1 and up of a replicated instance (member 0's are the
/// `Children`), rendered from its `InstanceContext::for_member`.
#[derive(Clone, Debug)]
pub struct MemberChildren {
    /// Only without a storage class, once the claim exists: the hostPath PV made for it.
    pub pv: Option<PersistentVolume>,
    pub pvc: PersistentVolumeClaim,
    pub deployment: Deployment,
}

pub fn member(
    renderer: &Renderer,
    member: &InstanceContext,
) -> Result<MemberChildren, RenderError> {
    let pv = match (&member.storage_class_name, &member.claim_uid) {
        (None, Some(_)) => Some(render(renderer, "mysql-pv.yaml.tera", member, member)?),
        _ => None,
    };
    Ok(MemberChildren {
        pv,
        pvc: render(renderer, "mysql-pvc.yaml.tera", member, member)?,
        deployment: render(renderer, "mysql-deployment.yaml.tera", member, member)?,
    })
}

#[derive(Serialize)]
struct MemberServiceExtra<'a> {
    service_name: &'a str,
    service_selector: BTreeMap<String, String>,
    publish_not_ready: bool,
    labels: BTreeMap<String, String>,
}

/// The headless Services of a replicated instance: each member's own address
/// (`NAME-member-K`, published ready or not) and the healthy replicas
/// (`NAME-replicas`).
pub fn member_services(
    renderer: &Renderer,
    ctx: &InstanceContext,
    names: &InstanceNames,
) -> Result<Vec<Service>, RenderError> {
    use crate::api::keys::{INSTANCE_LABEL, MEMBER_LABEL, ROLE_LABEL};
    let instance = (INSTANCE_LABEL.to_string(), names.name.clone());
    let mut wanted: Vec<(String, BTreeMap<String, String>, bool)> = (0..ctx.members)
        .map(|index| {
            let selector = BTreeMap::from([
                instance.clone(),
                (MEMBER_LABEL.to_string(), index.to_string()),
            ]);
            (names.member_service(index), selector, true)
        })
        .collect();
    wanted.push((
        names.replicas_service(),
        BTreeMap::from([
            instance.clone(),
            (
                ROLE_LABEL.to_string(),
                crate::api::MemberRole::Replica.label().to_string(),
            ),
        ]),
        false,
    ));
    wanted
        .into_iter()
        .map(|(service_name, service_selector, publish_not_ready)| {
            let extra = MemberServiceExtra {
                service_name: &service_name,
                service_selector,
                publish_not_ready,
                labels: names.job_labels(),
            };
            render(
                renderer,
                "mysql-member-service.yaml.tera",
                ctx,
                &WithExtra {
                    instance: ctx,
                    extra,
                },
            )
        })
        .collect()
}

#[derive(Serialize)]
struct SeedContext {
    job: String,
    source_host: String,
    target_host: String,
    replication_secret: String,
    fresh_query: String,
    reset_sql: String,
    dump_flags: String,
    /// Every statement list on one line: they go into shell strings and heredocs
    /// inside the YAML block, where a `\n` would reach the client as its `nopager`.
    account_sql: String,
    replicate_sql: String,
}

#[derive(Serialize)]
struct SeedExtra {
    seed: SeedContext,
}

/// `seed-NAME-member-K-job`: copies the primary (member `source`) into member `target`
/// and makes it replicate from it.
pub fn seed_job(
    renderer: &Renderer,
    ctx: &InstanceContext,
    names: &InstanceNames,
    target: u32,
    source: u32,
) -> Result<Job, RenderError> {
    let dialect = crate::dialect::Dialect::of_image(&ctx.image);
    let password = "'$REPLICATION_PASSWORD'";
    let one_line = |sql: String| sql.replace('\n', " ").trim().to_string();
    let source_host = names.member_host(source);
    let seed = SeedContext {
        job: names.seed_job(target),
        target_host: names.member_host(target),
        replication_secret: names.replication_secret(),
        fresh_query: one_line(dialect.fresh_query().to_string()),
        reset_sql: one_line(dialect.reset_for_seed().to_string()),
        dump_flags: dialect.seed_dump_flags().join(" "),
        account_sql: one_line(dialect.replication_account(password)),
        replicate_sql: one_line(dialect.replicate_from(&source_host, password, ctx.tls.is_some())),
        source_host,
    };
    render(
        renderer,
        "seed-job.yaml.tera",
        ctx,
        &WithExtra {
            instance: ctx,
            extra: SeedExtra { seed },
        },
    )
}

/// `NAME-replication`: a random password for the replication account, made once.
pub fn replication_secret(name: &str, namespace: &str, instance: &str) -> Secret {
    use rand::Rng;
    let password: String = rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(32)
        .map(char::from)
        .collect();
    let mut secret = Secret {
        metadata: kube::api::ObjectMeta {
            name: Some(name.to_string()),
            namespace: Some(namespace.to_string()),
            ..Default::default()
        },
        data: Some(BTreeMap::from([(
            PASSWORD_KEY.to_string(),
            ByteString(password.into_bytes()),
        )])),
        ..Default::default()
    };
    stamp_instance_labels(&mut secret.metadata, instance);
    secret
}

#[derive(Serialize)]
struct SecretExtra<'a> {
    secret_name: &'a str,
    password_base64: String,
}

/// A Secret holding `password` under the key `password`.
pub fn credentials_secret(
    renderer: &Renderer,
    ctx: &InstanceContext,
    secret_name: &str,
    password: &str,
) -> Result<Secret, RenderError> {
    use base64::Engine;
    let extra = SecretExtra {
        secret_name,
        password_base64: base64::engine::general_purpose::STANDARD.encode(password.as_bytes()),
    };
    let mut secret: Secret = render(
        renderer,
        "credentials-secret.yaml.tera",
        ctx,
        &WithExtra {
            instance: ctx,
            extra,
        },
    )?;
    secret
        .data
        .get_or_insert_with(Default::default)
        .extend(credentials_data(password));
    Ok(secret)
}

/// What our credentials Secrets hold: the password, and client option files with it:
/// plain, and for a server with TLS, verifying its certificate against the CA mounted
/// beside it (`tls_clients`). The verification is spelled for both clients, `loose-`
/// so that each skips the other's option: MariaDB's `ssl-verify-server-cert`, MySQL's
/// `ssl-mode=VERIFY_IDENTITY`.
pub fn credentials_data(password: &str) -> BTreeMap<String, ByteString> {
    let plain = client_option_file(password);
    let verifying = format!(
        "{plain}ssl-ca={CREDENTIALS_DIR}/ca.crt\nloose-ssl-verify-server-cert\nloose-ssl-mode=VERIFY_IDENTITY\n"
    );
    BTreeMap::from([
        (
            TLS_CLIENT_CONFIG_KEY.to_string(),
            ByteString(verifying.into_bytes()),
        ),
        (
            PASSWORD_KEY.to_string(),
            ByteString(password.as_bytes().to_vec()),
        ),
        (
            CLIENT_CONFIG_KEY.to_string(),
            ByteString(plain.into_bytes()),
        ),
    ])
}

/// Where the containers that talk to the server find its credentials.
pub const CREDENTIALS_DIR: &str = "/etc/mysql-credentials";

/// A MySQL option file that logs the clients in as root with `password`. The value is
/// quoted, so `#` and spaces are kept, and `\`, `"` and control characters escaped.
pub fn client_option_file(password: &str) -> String {
    let mut quoted = String::with_capacity(password.len() + 2);
    for c in password.chars() {
        match c {
            '\\' => quoted.push_str("\\\\"),
            '"' => quoted.push_str("\\\""),
            '\n' => quoted.push_str("\\n"),
            '\r' => quoted.push_str("\\r"),
            '\t' => quoted.push_str("\\t"),
            other => quoted.push(other),
        }
    }
    format!("[client]\nuser=root\npassword=\"{quoted}\"\n")
}

#[derive(Serialize)]
struct BackupExtra<'a> {
    backup_name: &'a str,
    backup_file: String,
}

/// The file name a backup's dump gets on the backup volume.
pub fn dump_file_name(backup_name: &str) -> String {
    format!("{backup_name}.sql")
}

pub fn backup_job(
    renderer: &Renderer,
    ctx: &InstanceContext,
    backup_name: &str,
) -> Result<Job, RenderError> {
    let extra = BackupExtra {
        backup_name,
        backup_file: dump_file_name(backup_name),
    };
    let mut job: Job = render(
        renderer,
        "backup-job.yaml.tera",
        ctx,
        &WithExtra {
            instance: ctx,
            extra,
        },
    )?;
    stamp_annotation(&mut job.metadata, BACKUP_ANNOTATION, backup_name);
    Ok(job)
}

#[derive(Serialize)]
struct RestoreExtra<'a> {
    backup_name: &'a str,
    backup_file: String,
    source_backup_pvc: &'a str,
    allow_unverified: bool,
}

/// A Job that loads `backup_name` from `source_backup_pvc`: this instance's own backup
/// claim, or another instance's when restoring into a new instance.
pub fn restore_job(
    renderer: &Renderer,
    ctx: &InstanceContext,
    backup_name: &str,
    source_backup_pvc: &str,
) -> Result<Job, RenderError> {
    restore_job_for(renderer, ctx, backup_name, source_backup_pvc, false)
}

/// `restore_job`; with `allow_unverified`, a dump without a checksum file (one found on
/// the volume, written by the course's operator) is loaded if it is complete.
pub fn restore_job_for(
    renderer: &Renderer,
    ctx: &InstanceContext,
    backup_name: &str,
    source_backup_pvc: &str,
    allow_unverified: bool,
) -> Result<Job, RenderError> {
    let extra = RestoreExtra {
        backup_name,
        backup_file: dump_file_name(backup_name),
        source_backup_pvc,
        allow_unverified,
    };
    let mut job: Job = render(
        renderer,
        "restore-job.yaml.tera",
        ctx,
        &WithExtra {
            instance: ctx,
            extra,
        },
    )?;
    stamp_annotation(&mut job.metadata, BACKUP_ANNOTATION, backup_name);
    Ok(job)
}

#[derive(Serialize)]
struct ObjectJobExtra<'a> {
    s3: S3Context,
    object_key: &'a str,
    backup_name: &'a str,
    replay: Option<ReplayContext>,
}

/// A restore to a point in time: after the dump, its archived binary logs from the
/// dump's position up to `until`.
pub struct BinlogReplay<'a> {
    pub instance_prefix: String,
    pub position: &'a crate::binlog::DumpPosition,
    pub target: crate::binlog::ReplayTarget,
    pub dialect: crate::dialect::Dialect,
}

/// What the restore Job's template reads of a `BinlogReplay`.
#[derive(Serialize)]
struct ReplayContext {
    instance_prefix: String,
    timeline: String,
    from_file: String,
    start_position: u64,
    /// The fetch's stop: `--until=TIME` or `--before-gtid=GTID`.
    fetch_stop: String,
    /// `mysqlbinlog`'s stop: `--stop-datetime="…"` (UTC: the Job sets TZ=UTC), or the
    /// offset of the GTID's event the fetch found.
    replay_stop: String,
    /// What the restore says it replayed up to.
    target: String,
    flags: String,
}

impl From<&BinlogReplay<'_>> for ReplayContext {
    fn from(r: &BinlogReplay<'_>) -> Self {
        Self {
            instance_prefix: r.instance_prefix.clone(),
            timeline: r.position.timeline.clone(),
            from_file: r.position.position.file.clone(),
            start_position: r.position.position.position,
            fetch_stop: match r.target {
                ReplayTarget::Time(until) => format!("--until={until}"),
                ReplayTarget::BeforeGtid(gtid) => format!("--before-gtid={gtid}"),
            },
            replay_stop: match r.target {
                ReplayTarget::Time(until) => format!(
                    "--stop-datetime=\"{}\"",
                    crate::binlog::window::stop_after(until).strftime("%Y-%m-%d %H:%M:%S")
                ),
                ReplayTarget::BeforeGtid(_) => {
                    "--stop-position=\"$(cat /work/binlogs/stop-position)\"".to_string()
                }
            },
            target: r.target.to_string(),
            flags: r.dialect.replay_flags().join(" "),
        }
    }
}

/// backup-NAME-job for a backup that goes to `storage` under `object_key`.
pub fn backup_s3_job(
    renderer: &Renderer,
    ctx: &InstanceContext,
    backup_name: &str,
    storage: &S3Storage,
    object_key: &str,
) -> Result<Job, RenderError> {
    object_job(
        renderer,
        "backup-s3-job.yaml.tera",
        ctx,
        backup_name,
        storage,
        (object_key, None),
    )
}

/// backup-NAME-job for a physical backup: mariadb-backup's stream (MySQL: the clone
/// plugin's copy, packed) of the server's data
/// directory to `place` (a key in the bucket, or a file on the backup volume).
pub fn physical_backup_job(
    renderer: &Renderer,
    ctx: &InstanceContext,
    backup_name: &str,
    place: DumpSource,
) -> Result<Job, RenderError> {
    physical_job(
        renderer,
        "backup-physical-job.yaml.tera",
        ctx,
        backup_name,
        place,
    )
}

/// restore-NAME-job for a physical backup: with the server stopped, the copy at
/// `place` is checked, unpacked and prepared beside the data directory, which it then
/// replaces (the old one is set aside, never deleted).
pub fn physical_restore_job(
    renderer: &Renderer,
    ctx: &InstanceContext,
    backup_name: &str,
    place: DumpSource,
) -> Result<Job, RenderError> {
    physical_job(
        renderer,
        "restore-physical-job.yaml.tera",
        ctx,
        backup_name,
        place,
    )
}

/// A physical copy's Job from `template`, for a copy in the bucket or on the volume.
fn physical_job(
    renderer: &Renderer,
    template: &str,
    ctx: &InstanceContext,
    backup_name: &str,
    place: DumpSource,
) -> Result<Job, RenderError> {
    let object = match &place {
        DumpSource::Bucket { storage, key, .. } => Some((*storage, *key)),
        DumpSource::Volume { .. } => None,
    };
    let mut job: Job = render(
        renderer,
        template,
        ctx,
        &WithExtra {
            instance: ctx,
            extra: DumpJobExtra::of(backup_name, place),
        },
    )?;
    stamp_annotation(&mut job.metadata, BACKUP_ANNOTATION, backup_name);
    if let Some((storage, key)) = object {
        stamp_object(&mut job.metadata, storage, key);
    }
    Ok(job)
}

/// restore-NAME-job loading the dump at `object_key` in `storage`, then replaying its
/// binary logs when `replay` says to.
pub fn restore_s3_job(
    renderer: &Renderer,
    ctx: &InstanceContext,
    backup_name: &str,
    storage: &S3Storage,
    object_key: &str,
    replay: Option<&BinlogReplay>,
) -> Result<Job, RenderError> {
    object_job(
        renderer,
        "restore-s3-job.yaml.tera",
        ctx,
        backup_name,
        storage,
        (object_key, replay.map(ReplayContext::from)),
    )
}

/// Where a dump lies: one to verify, or a physical copy to take or restore.
pub enum DumpSource<'a> {
    /// On the instance's backup volume, mounted at /backup: the record's `file`.
    Volume { path: &'a str },
    Bucket {
        storage: &'a S3Storage,
        key: &'a str,
        /// The archived binary logs to replay onto the dump (point-in-time recovery).
        replay: Option<BinlogReplay<'a>>,
    },
}

/// What a Job's template reads of where its dump lies.
#[derive(Serialize)]
struct DumpJobExtra<'a> {
    backup_name: &'a str,
    s3: Option<S3Context>,
    object_key: Option<&'a str>,
    dump_path: String,
    replay: Option<ReplayContext>,
    /// A physical copy's kind, by its key or file name.
    copy_kind: Option<crate::s3::DumpKind>,
    /// MySQL: this backup's clone, as a Job that mounts the data volume at /volume
    /// sees it, and the statement that makes it (with the server's path).
    clone_in_job: String,
    clone_statement: String,
    /// The file in a clone's archive that holds its server's version.
    version_file: &'static str,
}

impl<'a> DumpJobExtra<'a> {
    fn of(backup_name: &'a str, source: DumpSource<'a>) -> Self {
        let (clone_in_server, clone_in_job) = physical::clone_dirs(backup_name);
        let mut extra = match source {
            DumpSource::Volume { path } => Self {
                backup_name,
                s3: None,
                object_key: None,
                dump_path: path.to_string(),
                replay: None,
                copy_kind: None,
                clone_in_job,
                clone_statement: physical::CloneStatements::clone_into(&clone_in_server),
                version_file: physical::VERSION_FILE,
            },
            DumpSource::Bucket {
                storage,
                key,
                replay,
            } => Self {
                backup_name,
                s3: Some(S3Context::new(storage)),
                object_key: Some(key),
                dump_path: "/work/dump.sql".into(),
                replay: replay.as_ref().map(ReplayContext::from),
                copy_kind: None,
                clone_in_job,
                clone_statement: physical::CloneStatements::clone_into(&clone_in_server),
                version_file: physical::VERSION_FILE,
            },
        };
        let name = extra.object_key.unwrap_or(&extra.dump_path);
        extra.copy_kind = crate::s3::DumpKind::physical_of_key(name);
        extra
    }

    /// Whether the dump is a physical copy, by its key or its file's name.
    fn physical(&self) -> bool {
        self.copy_kind.is_some()
    }
}

/// verify-NAME-job, loading `backup_name`'s dump into a throwaway server; it says
/// which backup and which request it serves.
pub fn verify_job(
    renderer: &Renderer,
    ctx: &InstanceContext,
    backup_name: &str,
    request: &str,
    source: DumpSource,
) -> Result<Job, RenderError> {
    let extra = DumpJobExtra::of(backup_name, source);
    // A physical copy is proven the way it restores: unpacked, prepared and started.
    let physical = extra.physical();
    let template = if physical {
        "verify-physical-job.yaml.tera"
    } else {
        "verify-job.yaml.tera"
    };
    let mut job: Job = render(
        renderer,
        template,
        ctx,
        &WithExtra {
            instance: ctx,
            extra,
        },
    )?;
    stamp_annotation(&mut job.metadata, BACKUP_ANNOTATION, backup_name);
    stamp_annotation(&mut job.metadata, VERIFY_ANNOTATION, request);
    Ok(job)
}

/// prune-NAME-job, deleting the dump at `dump_path` on the backup volume of the
/// instance `names` names (the instance itself may be gone); it says which record it
/// serves. `provisioned`: the backup claim is a class's (restricted), not hostPath.
pub fn prune_job(
    renderer: &Renderer,
    names: &InstanceNames,
    backup_name: &str,
    (dump_path, provisioned): (&str, bool),
) -> Result<Job, RenderError> {
    #[derive(Serialize)]
    struct Context<'a> {
        namespace: &'a str,
        job_labels: BTreeMap<String, String>,
        names: crate::render::TemplateNames,
        dump_path: &'a str,
        provisioned: bool,
    }
    let context = Context {
        namespace: &names.namespace,
        job_labels: names.job_labels(),
        names: crate::render::TemplateNames::from(names),
        dump_path,
        provisioned,
    };
    let mut job: Job = renderer.render("prune-job.yaml.tera", &context)?;
    stamp_instance_labels(&mut job.metadata, &names.name);
    if let Some(pod) = job.pod_spec_mut() {
        let level = if provisioned {
            PodSecurityLevel::Restricted
        } else {
            PodSecurityLevel::Baseline
        };
        level.apply(pod);
    }
    stamp_annotation(&mut job.metadata, BACKUP_ANNOTATION, backup_name);
    Ok(job)
}

fn object_job(
    renderer: &Renderer,
    template: &str,
    ctx: &InstanceContext,
    backup_name: &str,
    storage: &S3Storage,
    (object_key, replay): (&str, Option<ReplayContext>),
) -> Result<Job, RenderError> {
    let extra = ObjectJobExtra {
        s3: S3Context::new(storage),
        object_key,
        backup_name,
        replay,
    };
    let mut job: Job = render(
        renderer,
        template,
        ctx,
        &WithExtra {
            instance: ctx,
            extra,
        },
    )?;
    stamp_annotation(&mut job.metadata, BACKUP_ANNOTATION, backup_name);
    stamp_object(&mut job.metadata, storage, object_key);
    Ok(job)
}

/// The object a Job reads or writes, and its bucket, in its annotations.
fn stamp_object(meta: &mut kube::api::ObjectMeta, storage: &S3Storage, object_key: &str) {
    stamp_annotation(
        meta,
        OBJECT_ANNOTATION,
        format!("s3://{}/{object_key}", storage.bucket),
    );
    stamp_annotation(
        meta,
        BUCKET_ANNOTATION,
        serde_json::to_string(storage).unwrap_or_default(),
    );
}

/// A Job that lists the dumps on the instance's backup volume.
pub fn scan_job(renderer: &Renderer, ctx: &InstanceContext) -> Result<Job, RenderError> {
    render(renderer, "scan-job.yaml.tera", ctx, ctx)
}

#[derive(Serialize)]
struct PasswordExtra<'a> {
    password_fingerprint: &'a str,
}

pub fn password_job(
    renderer: &Renderer,
    ctx: &InstanceContext,
    password_fingerprint: &str,
) -> Result<Job, RenderError> {
    let extra = PasswordExtra {
        password_fingerprint,
    };
    let mut job: Job = render(
        renderer,
        "password-job.yaml.tera",
        ctx,
        &WithExtra {
            instance: ctx,
            extra,
        },
    )?;
    stamp_annotation(
        &mut job.metadata,
        PASSWORD_FINGERPRINT_ANNOTATION,
        password_fingerprint,
    );
    Ok(job)
}

/// A password's SHA-256 in hex: lets the operator tell which password a Job applies
/// without putting the password itself in an annotation.
pub fn password_fingerprint(password: &str) -> String {
    sha256_hex(password.as_bytes())
}

/// SHA-256 in lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests;
