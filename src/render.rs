//! Tera templates -> typed k8s-openapi objects. Pure: no cluster involved.
//!
//! The templates in `templates/` are embedded in the binary; `--templates DIR` replaces
//! any of them by a file of the same name.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::api::keys::{INSTANCE_LABEL, MEMBER_LABEL, ROLE_LABEL};
use crate::api::{MySQL, S3Storage};
use crate::names::InstanceNames;

/// The embedded templates, by file name.
pub const TEMPLATES: [(&str, &str); 22] = [
    ("macros.tera", include_str!("../templates/macros.tera")),
    (
        "mysql-pv.yaml.tera",
        include_str!("../templates/mysql-pv.yaml.tera"),
    ),
    (
        "mysql-pvc.yaml.tera",
        include_str!("../templates/mysql-pvc.yaml.tera"),
    ),
    (
        "mysql-service.yaml.tera",
        include_str!("../templates/mysql-service.yaml.tera"),
    ),
    (
        "mysql-deployment.yaml.tera",
        include_str!("../templates/mysql-deployment.yaml.tera"),
    ),
    (
        "mysql-member-service.yaml.tera",
        include_str!("../templates/mysql-member-service.yaml.tera"),
    ),
    (
        "seed-job.yaml.tera",
        include_str!("../templates/seed-job.yaml.tera"),
    ),
    (
        "backup-pv.yaml.tera",
        include_str!("../templates/backup-pv.yaml.tera"),
    ),
    (
        "backup-pvc.yaml.tera",
        include_str!("../templates/backup-pvc.yaml.tera"),
    ),
    (
        "backup-job.yaml.tera",
        include_str!("../templates/backup-job.yaml.tera"),
    ),
    (
        "restore-job.yaml.tera",
        include_str!("../templates/restore-job.yaml.tera"),
    ),
    (
        "backup-s3-job.yaml.tera",
        include_str!("../templates/backup-s3-job.yaml.tera"),
    ),
    (
        "backup-physical-job.yaml.tera",
        include_str!("../templates/backup-physical-job.yaml.tera"),
    ),
    (
        "restore-physical-job.yaml.tera",
        include_str!("../templates/restore-physical-job.yaml.tera"),
    ),
    (
        "restore-s3-job.yaml.tera",
        include_str!("../templates/restore-s3-job.yaml.tera"),
    ),
    (
        "verify-job.yaml.tera",
        include_str!("../templates/verify-job.yaml.tera"),
    ),
    (
        "verify-physical-job.yaml.tera",
        include_str!("../templates/verify-physical-job.yaml.tera"),
    ),
    (
        "prune-job.yaml.tera",
        include_str!("../templates/prune-job.yaml.tera"),
    ),
    (
        "scan-job.yaml.tera",
        include_str!("../templates/scan-job.yaml.tera"),
    ),
    (
        "password-job.yaml.tera",
        include_str!("../templates/password-job.yaml.tera"),
    ),
    (
        "operator.yaml.tera",
        include_str!("../templates/operator.yaml.tera"),
    ),
    (
        "credentials-secret.yaml.tera",
        include_str!("../templates/credentials-secret.yaml.tera"),
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("template {template}: {message}")]
    Template { template: String, message: String },
    #[error("template {template} rendered invalid YAML: {message}")]
    Yaml { template: String, message: String },
    #[error("templates directory {dir}: {message}")]
    Directory { dir: String, message: String },
}

pub struct Renderer {
    tera: tera::Tera,
    /// The image of this tool, which the Jobs that move dumps to and from object
    /// storage run; every template sees it as `operator_image`.
    operator_image: String,
}

/// The image the Jobs that move dumps to object storage run when none is given:
/// this build's own.
pub fn default_operator_image() -> String {
    format!("kubectl-mysql:{}", env!("CARGO_PKG_VERSION"))
}

impl Default for Renderer {
    fn default() -> Self {
        Self::embedded()
    }
}

impl Renderer {
    pub fn embedded() -> Self {
        let mut tera = tera::Tera::default();
        tera.autoescape_on(vec![]);
        tera.add_raw_templates(TEMPLATES)
            .expect("embedded templates parse (checked by unit tests)");
        Self {
            tera,
            operator_image: default_operator_image(),
        }
    }

    /// The same renderer, with `image` as the image of this tool in the Jobs.
    pub fn with_operator_image(mut self, image: impl Into<String>) -> Self {
        self.operator_image = image.into();
        self
    }

    /// The embedded templates, with every `*.tera` in `dir` taking the place of the
    /// embedded template of the same name.
    pub fn with_overrides(dir: &Path) -> Result<Self, RenderError> {
        let dir_error = |message: String| RenderError::Directory {
            dir: dir.display().to_string(),
            message,
        };
        let mut renderer = Self::embedded();
        let entries = std::fs::read_dir(dir).map_err(|e| dir_error(e.to_string()))?;
        for entry in entries {
            let path = entry.map_err(|e| dir_error(e.to_string()))?.path();
            let Some(file) = path.file_name().and_then(|f| f.to_str()) else {
                continue;
            };
            if !file.ends_with(".tera") {
                continue;
            }
            if !TEMPLATES.iter().any(|(name, _)| *name == file) {
                return Err(dir_error(format!(
                    "{file} does not replace any template (known: {})",
                    TEMPLATES.map(|(name, _)| name).join(", ")
                )));
            }
            let text = std::fs::read_to_string(&path).map_err(|e| dir_error(e.to_string()))?;
            renderer
                .tera
                .add_raw_template(file, &text)
                .map_err(|e| RenderError::Template {
                    template: file.to_string(),
                    message: error_chain(&e),
                })?;
        }
        Ok(renderer)
    }

    /// Renders `template` with `context` and reads the YAML as a `T`.
    pub fn render<T: DeserializeOwned>(
        &self,
        template: &str,
        context: &impl Serialize,
    ) -> Result<T, RenderError> {
        let text = self.render_text(template, context)?;
        serde_saphyr::from_str(&text).map_err(|e| RenderError::Yaml {
            template: template.to_string(),
            message: e.to_string().replace('\n', " "),
        })
    }

    pub fn render_text(
        &self,
        template: &str,
        context: &impl Serialize,
    ) -> Result<String, RenderError> {
        let template_error = |message: String| RenderError::Template {
            template: template.to_string(),
            message,
        };
        let mut context =
            tera::Context::from_serialize(context).map_err(|e| template_error(error_chain(&e)))?;
        context.insert("operator_image", &self.operator_image);
        self.tera
            .render(template, &context)
            .map_err(|e| template_error(error_chain(&e)))
    }
}

/// Tera nests the useful part of an error (the line, the missing variable) in its
/// sources; show the whole chain on one line.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(e) = source {
        parts.push(e.to_string());
        source = e.source();
    }
    parts.join(": ").replace('\n', " ")
}

/// Every name a template may use, precomputed so templates never build names.
#[derive(Serialize, Clone, Debug)]
pub struct TemplateNames {
    pub deployment: String,
    pub service: String,
    pub data_pv: String,
    pub data_pvc: String,
    pub backup_pv: String,
    pub backup_pvc: String,
    pub data_host_path: String,
    pub backup_host_path: String,
    pub backup_job: String,
    pub restore_job: String,
    pub password_job: String,
    pub scan_job: String,
    pub verify_job: String,
    pub prune_job: String,
    pub credentials_secret: String,
    pub pending_credentials_secret: String,
    pub replication_secret: String,
}

impl TemplateNames {
    /// Each incarnation of an instance (each uid) gets a fresh data directory and its
    /// own data PV: a re-created instance must start from its restore, never from the
    /// old datadir, whose root password may differ, and never waits for the old PV to
    /// be released. The old directory is left alone, not deleted.
    pub fn for_incarnation(names: &InstanceNames, uid: Option<&str>) -> Self {
        let mut out = Self::from(names);
        if let Some(uid) = uid {
            out.data_host_path = format!("{}/{uid}", out.data_host_path);
            out.data_pv = names.data_pv_of(uid);
        }
        out
    }
}

impl From<&InstanceNames> for TemplateNames {
    fn from(n: &InstanceNames) -> Self {
        Self {
            deployment: n.deployment(),
            service: n.service(),
            data_pv: n.legacy_data_pv(),
            data_pvc: n.data_pvc(),
            backup_pv: n.backup_pv(),
            backup_pvc: n.backup_pvc(),
            data_host_path: n.data_host_path(),
            backup_host_path: n.backup_host_path(),
            backup_job: n.backup_job(),
            restore_job: n.restore_job(),
            password_job: n.password_job(),
            scan_job: n.scan_job(),
            verify_job: n.verify_job(),
            prune_job: n.prune_job(),
            credentials_secret: n.credentials_secret(),
            pending_credentials_secret: n.pending_credentials_secret(),
            replication_secret: n.replication_secret(),
        }
    }
}

/// What every template sees about the instance.
#[derive(Serialize, Clone, Debug)]
pub struct InstanceContext {
    pub name: String,
    pub namespace: String,
    pub image: String,
    pub database: String,
    pub storage_size: String,
    pub storage_class_name: Option<String>,
    /// The class the backup claim is (or will be) provisioned by: the instance's for a
    /// new backup volume, none while it is a hostPath one (the course's mode, an
    /// earlier version's, or an earlier incarnation's with dumps on it). See
    /// `manifests::backup_storage_class`.
    pub backup_storage_class: Option<String>,
    pub labels: std::collections::BTreeMap<String, String>,
    /// The labels of Jobs and their pods: without the course's `app=NAME`, which
    /// selects the server's pod alone (`kubectl exec` on `-l app=NAME`).
    pub job_labels: std::collections::BTreeMap<String, String>,
    pub names: TemplateNames,
    /// The incarnation (`names::incarnation` of the uid): the timeline of its
    /// server's binary logs.
    pub incarnation: String,
    /// The server's command line after its image's entrypoint: binary logs, GTIDs and
    /// a server id, in the image's dialect.
    pub server_args: Vec<String>,
    /// How the image's server makes and restores physical copies (its programs, and
    /// for MySQL the clone plugin's statements).
    pub physical: crate::dialect::physical::PhysicalTools,
    /// MySQL with physical backups: where the server's pod also mounts its whole data
    /// volume, so that the clone plugin writes outside the data directory.
    pub clone_mount: Option<&'static str>,
    /// mysqldump's flags that record where a dump stands in the binary log.
    pub dump_position_flags: String,
    /// The binlog archiver beside the server, when point-in-time recovery is on and
    /// the backups go to a bucket.
    pub archiver: Option<ArchiverContext>,
    /// How many members the instance has (`spec.replicas`).
    pub members: u32,
    /// Which member these objects are of (0: the course's `NAME`).
    pub member_index: u32,
    /// The server Deployment's selector: the course's `app=NAME` for member 0, the
    /// instance and member labels for the others.
    pub selector: std::collections::BTreeMap<String, String>,
    /// What `NAME` selects: member 0 by the course's `app=NAME` while the instance is
    /// one server; the pod labelled primary once it has replicas.
    pub service_selector: std::collections::BTreeMap<String, String>,
    /// A member's PV is bound to this claim uid (members 1 and up).
    pub claim_uid: Option<String>,
    /// Where backups dump from: `NAME` (the primary), or a streaming replica.
    pub dump_host: String,
    /// With a replica to dump from: how it first catches up with the primary.
    pub dump_from_replica: Option<ReplicaDump>,
    /// The server is held at no pod: a physical restore replaces its data directory.
    pub server_stopped: bool,
    /// The server container's `resources`.
    pub server_resources: serde_json::Value,
    /// With spec.tls: the Secret the server presents and its version.
    pub tls: Option<TlsContext>,
    /// The flag that makes the server's own client (its probe) use TLS over TCP, which
    /// `require_secure_transport` asks of 127.0.0.1 too.
    pub local_tls_flag: &'static str,
    /// The last restart asked for (`kubectl mysql restart`): in the pod template, so a
    /// new one rolls the server.
    pub restart_token: Option<String>,
    /// The Pod Security level of the server's pod (restricted with a StorageClass).
    pub server_security: crate::pod_security::PodSecurityLevel,
    /// Where the server's pod may run: `nodeSelector`, `tolerations`, `affinity` and
    /// `priorityClassName` as the spec gives them (absent ones left out).
    pub scheduling: serde_json::Map<String, serde_json::Value>,
    /// The options of the spec's ConfigMap (`spec.mysqlConfigMapName`), as observe
    /// read them: in every member's command line, before the spec's own.
    #[serde(skip)]
    pub settings_from_config_map: crate::api::ServerSettings,
}

/// The server's certificate: the Secret it is mounted from, and the version of that
/// Secret (in the pod template, so a renewed certificate restarts the server, said in
/// an Event).
#[derive(Serialize, Clone, Debug)]
pub struct TlsContext {
    pub secret: String,
    pub certificate_version: String,
}

/// The spec's scheduling fields, as the pod spec takes them.
fn scheduling_of(spec: &crate::api::MySQLSpec) -> serde_json::Map<String, serde_json::Value> {
    let mut out = serde_json::Map::new();
    let fields = [
        ("nodeSelector", serde_json::to_value(&spec.node_selector)),
        ("tolerations", serde_json::to_value(&spec.tolerations)),
        ("affinity", serde_json::to_value(&spec.affinity)),
        (
            "priorityClassName",
            serde_json::to_value(&spec.priority_class_name),
        ),
    ];
    for (key, value) in fields {
        if let Ok(value) = value
            && !value.is_null()
        {
            out.insert(key.to_string(), value);
        }
    }
    out
}

/// A backup taken from a replica waits until the replica has applied everything the
/// primary had written when the backup began (its dump then holds every transaction
/// committed before it started, as one from the primary would).
#[derive(Serialize, Clone, Debug)]
pub struct ReplicaDump {
    pub primary_host: String,
    pub written_query: &'static str,
    /// A shell condition, true once the replica has applied `$primary_position`.
    pub applied_check: String,
}

/// The replica backups dump from: a ready member the status says streams, when the
/// instance has replicas and no point-in-time recovery (whose positions are the
/// archiving member's binary log).
fn replica_to_dump_from(instance: &MySQL, names: &InstanceNames) -> Option<(String, ReplicaDump)> {
    if instance.spec.members() <= 1 || instance.spec.point_in_time().is_some() {
        return None;
    }
    let status = instance.status.as_ref()?;
    let replica = status
        .members
        .iter()
        .filter(|m| m.ready && m.role == crate::api::MemberRole::Replica)
        .min_by_key(|m| m.lag_seconds.unwrap_or(u64::MAX))?;
    let index = names.member_index(&replica.name)?;
    let dialect = crate::dialect::Dialect::of_image(&instance.spec.image);
    Some((
        names.member_host(index),
        ReplicaDump {
            primary_host: format!("{}.{}.svc", names.service(), names.namespace),
            written_query: dialect.written_query(),
            applied_check: dialect.applied_shell_check(),
        },
    ))
}

/// What the binlog archiver sidecar needs: the bucket, the instance's folder in it,
/// the server's incarnation (its timeline) and the interval.
#[derive(Serialize, Clone, Debug)]
pub struct ArchiverContext {
    pub s3: S3Context,
    pub instance_prefix: String,
    pub timeline: String,
    pub interval: String,
}

/// What the object-store containers need of a bucket: the flags that say where it
/// is, and the Secret keys that hold the access key pair (passed by reference, never
/// copied).
#[derive(Serialize, Clone, Debug)]
pub struct S3Context {
    pub location_args: Vec<String>,
    pub credentials_secret: String,
    pub access_key_id_key: String,
    pub secret_access_key_key: String,
}

impl S3Context {
    pub fn new(storage: &S3Storage) -> Self {
        let mut location_args = Vec::new();
        if let Some(endpoint) = &storage.endpoint {
            location_args.push(format!("--endpoint={endpoint}"));
        }
        location_args.push(format!("--bucket={}", storage.bucket));
        if let Some(region) = &storage.region {
            location_args.push(format!("--region={region}"));
        }
        if storage.force_path_style {
            location_args.push("--path-style".to_string());
        }
        let secret = &storage.credentials_secret;
        Self {
            location_args,
            credentials_secret: secret.name.clone(),
            access_key_id_key: secret.access_key_id_key().to_string(),
            secret_access_key_key: secret.secret_access_key_key().to_string(),
        }
    }
}

/// The archiver of `instance`, when it has one.
fn archiver_of(instance: &MySQL, names: &InstanceNames) -> Option<ArchiverContext> {
    let point_in_time = instance.spec.point_in_time()?;
    let storage = instance.spec.backup_bucket()?;
    let uid = instance.metadata.uid.as_deref()?;
    let interval = point_in_time
        .interval()
        .unwrap_or(crate::api::DEFAULT_ARCHIVE_INTERVAL);
    Some(ArchiverContext {
        s3: S3Context::new(storage),
        instance_prefix: crate::s3::instance_prefix(
            storage.prefix.as_deref().unwrap_or_default(),
            &names.namespace,
            &names.name,
        ),
        timeline: crate::names::incarnation(uid),
        interval: format!("{}s", interval.as_secs()),
    })
}

impl InstanceContext {
    pub fn new(instance: &MySQL, names: &InstanceNames) -> Self {
        let dialect = crate::dialect::Dialect::of_image(&instance.spec.image);
        let members = instance.spec.members();
        let dump_from = replica_to_dump_from(instance, names);
        let service_selector = if members > 1 {
            BTreeMap::from([
                (INSTANCE_LABEL.to_string(), names.name.clone()),
                (
                    ROLE_LABEL.to_string(),
                    crate::api::MemberRole::Primary.label().to_string(),
                ),
            ])
        } else {
            BTreeMap::from([("app".to_string(), names.name.clone())])
        };
        Self {
            name: names.name.clone(),
            namespace: names.namespace.clone(),
            image: instance.spec.image.clone(),
            database: instance.spec.database.clone(),
            storage_size: instance.spec.storage_size.clone(),
            storage_class_name: instance.spec.storage_class().map(str::to_string),
            backup_storage_class: instance.spec.storage_class().map(str::to_string),
            job_labels: names.job_labels(),
            names: TemplateNames::for_incarnation(names, instance.metadata.uid.as_deref()),
            incarnation: instance
                .metadata
                .uid
                .as_deref()
                .map(crate::names::incarnation)
                .unwrap_or_default(),
            server_args: member_server_args(&instance.spec, 0, &Default::default()),
            physical: dialect.physical(),
            clone_mount: (instance.spec.backup_dump_kind() == crate::s3::DumpKind::Clone)
                .then_some(crate::dialect::physical::CLONE_VOLUME_MOUNT),
            dump_position_flags: dialect.dump_position_flags().join(" "),
            archiver: archiver_of(instance, names),
            members,
            member_index: 0,
            selector: BTreeMap::from([("app".to_string(), names.name.clone())]),
            service_selector,
            claim_uid: None,
            dump_host: dump_from
                .as_ref()
                .map_or_else(|| names.service(), |(host, _)| host.clone()),
            dump_from_replica: dump_from.map(|(_, dump)| dump),
            server_stopped: false,
            server_resources: instance.spec.server_resources().to_container(),
            local_tls_flag: dialect.local_tls_flag(),
            tls: instance.spec.tls_secret(names).map(|secret| TlsContext {
                secret,
                certificate_version: String::new(),
            }),
            restart_token: crate::api::keys::annotation(
                &instance.metadata,
                crate::api::keys::RESTART_ANNOTATION,
            )
            .map(str::to_string),
            server_security: if instance.spec.storage_class().is_some() {
                crate::pod_security::PodSecurityLevel::Restricted
            } else {
                crate::pod_security::PodSecurityLevel::Baseline
            },
            scheduling: scheduling_of(&instance.spec),
            settings_from_config_map: Default::default(),
            labels: if members > 1 {
                names.member_labels(0)
            } else {
                names.labels()
            },
        }
    }

    /// With the options of the spec's ConfigMap, which observe read.
    pub fn with_config_map_settings(
        &mut self,
        instance: &MySQL,
        settings: crate::api::ServerSettings,
    ) {
        self.server_args = member_server_args(&instance.spec, self.member_index, &settings);
        self.settings_from_config_map = settings;
    }

    /// The context of member `index` (1 and up) of a replicated instance: its own
    /// Deployment, claim, volume (on the claim with `claim_uid`, once it exists),
    /// labels and server id, and no archiver (the primary's server archives).
    pub fn for_member(
        &self,
        instance: &MySQL,
        names: &InstanceNames,
        index: u32,
        claim_uid: Option<&str>,
    ) -> Self {
        let mut ctx = self.clone();
        ctx.names.deployment = names.member_deployment(index);
        ctx.names.data_pvc = names.member_pvc(index);
        ctx.names.data_pv = claim_uid
            .map(|uid| names.member_pv(index, uid))
            .unwrap_or_default();
        ctx.names.data_host_path = claim_uid
            .map(|uid| names.member_host_path(index, uid))
            .unwrap_or_default();
        ctx.claim_uid = claim_uid.map(str::to_string);
        ctx.member_index = index;
        ctx.labels = names.member_labels(index);
        ctx.selector = BTreeMap::from([
            (INSTANCE_LABEL.to_string(), names.name.clone()),
            (MEMBER_LABEL.to_string(), index.to_string()),
        ]);
        ctx.server_args = member_server_args(&instance.spec, index, &ctx.settings_from_config_map);
        ctx.archiver = None;
        ctx
    }
}

/// A member's server options: binary logs and its server id (its index + 1), with
/// replicas what replication needs, then the spec's settings and buffer pool.
fn member_server_args(
    spec: &crate::api::MySQLSpec,
    index: u32,
    from_config_map: &crate::api::ServerSettings,
) -> Vec<String> {
    let dialect = crate::dialect::Dialect::of_image(&spec.image);
    let mut args = dialect.server_args(index + 1);
    if spec.members() > 1 {
        args.extend(dialect.member_args());
    }
    args.extend(spec.server_option_args(from_config_map));
    if let Some(tls) = &spec.tls {
        args.extend(crate::api::server::tls_args(tls));
    }
    args
}

/// An instance's context plus a few template-specific values.
#[derive(Serialize)]
pub struct WithExtra<'a, E: Serialize> {
    #[serde(flatten)]
    pub instance: &'a InstanceContext,
    #[serde(flatten)]
    pub extra: E,
}
