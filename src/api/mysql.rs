// kube-derive repeats `printcolumn(type_ = ...)`; clippy mistakes that for a duplicate.
#![allow(clippy::duplicated_attributes)]

use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use kube::ResourceExt;

use super::condition::{Condition, ConditionType, find_condition};
use super::keys;
use super::validate;

/// Desired state of a MySQL instance. The first four fields are the course's and keep
/// its spelling (`storage_size`), so its `cr.yml` applies unchanged.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[kube(
    group = "otus.homework",
    version = "v1",
    kind = "MySQL",
    plural = "mysqls",
    singular = "mysql",
    shortname = "ms",
    namespaced,
    status = "MySQLStatus",
    doc = "A single-server MySQL instance with its storage, Service, backups and restores.",
    validation = Rule::new("size(self.metadata.name) <= 51").message("metadata.name must be at most 51 characters, so that restore-NAME-job fits the 63-character label limit"),
    validation = Rule::new("self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')").message("metadata.name must be a DNS-1035 label (lowercase letters, digits and '-', starting with a letter), because it also names the Service"),
    printcolumn(name = "Phase", type_ = "string", json_path = ".status.phase"),
    printcolumn(name = "Ready", type_ = "string", json_path = ".status.conditions[?(@.type==\"Ready\")].status"),
    printcolumn(name = "Primary", type_ = "string", json_path = ".status.primary"),
    printcolumn(name = "Image", type_ = "string", json_path = ".spec.image"),
    printcolumn(name = "Storage", type_ = "string", json_path = ".spec.storage_size"),
    printcolumn(name = "Last backup", type_ = "string", json_path = ".status.lastBackup.completionTime"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[x_kube(validation = Rule::new("has(self.password) != has(self.passwordSecretRef)").message("set exactly one of spec.password and spec.passwordSecretRef"))]
#[x_kube(validation = Rule::new("has(self.storageClassName) == has(oldSelf.storageClassName) && (!has(self.storageClassName) || self.storageClassName == oldSelf.storageClassName)").message("spec.storageClassName cannot change: the data volume was provisioned with it; back up, then create a new instance with the other class and `kubectl mysql create NAME --restore-from BACKUP`"))]
pub struct MySQLSpec {
    /// Container image of a MySQL 8 compatible server, e.g. mysql:8.4.
    #[x_kube(validation = Rule::new("self.matches('^[^\\\\s]+$')").message("spec.image must not be empty or contain spaces"))]
    pub image: String,

    /// Database created at first start; backups and restores cover it. Fixed after
    /// creation.
    #[x_kube(validation = Rule::new("self.matches('^[A-Za-z0-9_$-]{1,64}$')").message("spec.database must be a MySQL database name of 1 to 64 characters from A-Z, a-z, 0-9, '_', '$' and '-'"))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("spec.database cannot change: the server keeps the database it was created with, and backups dump that one; to rename, create a new instance with `kubectl mysql create NAME --database NEW --restore-from BACKUP`"))]
    pub database: String,

    /// Root password in plain text, as the course had it. Prefer passwordSecretRef.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,

    /// The root password from a Secret in the instance's namespace.
    #[serde(
        default,
        rename = "passwordSecretRef",
        skip_serializing_if = "Option::is_none"
    )]
    pub password_secret_ref: Option<SecretKeyRef>,

    /// Size of the data volume and of the backup volume, a Kubernetes quantity (1Gi).
    #[x_kube(validation = Rule::new("isQuantity(self) && quantity(self).isGreaterThan(quantity('0'))").message("spec.storage_size must be a positive Kubernetes quantity such as 1Gi or 500Mi"))]
    pub storage_size: String,

    /// StorageClass for dynamic provisioning of the data volume. Without it the data
    /// lives on a hostPath PersistentVolume, as the course did. Fixed after creation.
    #[serde(
        default,
        rename = "storageClassName",
        skip_serializing_if = "Option::is_none"
    )]
    pub storage_class_name: Option<String>,

    /// Where backups go (and, later, when they are taken); the backup volume when
    /// absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup: Option<super::BackupSpec>,

    /// How many servers: one primary and `replicas - 1` semi-synchronous replicas,
    /// each with its own data volume. 1 (the default) is the course's single server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 1 && self <= 9").message("spec.replicas must be from 1 to 9: one primary and up to 8 replicas"))]
    pub replicas: Option<i32>,

    /// Automatic failover of a replicated instance (on by default with replicas).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover: Option<FailoverSpec>,

    /// CPU and memory of the server (requests 100m and 256Mi, limit 1Gi when absent;
    /// when given, exactly these). The InnoDB buffer pool is half the memory limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<super::ServerResources>,

    /// mysqld options by name (`max_connections: 200`), added after the image's option
    /// files. Options the operator sets (datadir, socket, port, binary logs, GTIDs,
    /// replication, server_id, read_only) are refused. A change restarts the server.
    #[serde(
        default,
        rename = "mysqlConfig",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(schema_with = "super::server::settings_schema")]
    #[x_kube(validation = Rule::new("self.all(k, k.matches('^[A-Za-z][A-Za-z0-9_-]{0,63}$'))").message("spec.mysqlConfig keys are server option names such as max_connections: a letter, then letters, digits, '_' and '-'"))]
    #[x_kube(validation = Rule::new(MYSQL_CONFIG_LOCKED_RULE).message(Message::Expression(MYSQL_CONFIG_LOCKED_MESSAGE.into())))]
    pub mysql_config: Option<super::ServerSettings>,

    /// A ConfigMap in the instance's namespace whose data keys are mysqld options
    /// (`max_connections: "200"`), under the same rules as `mysqlConfig`, whose own
    /// keys win. The server waits while it is missing; a change restarts the server.
    #[serde(
        default,
        rename = "mysqlConfigMapName",
        skip_serializing_if = "Option::is_none"
    )]
    #[x_kube(validation = Rule::new("size(self) <= 253 && self.matches('^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$')").message("spec.mysqlConfigMapName must be the name of a ConfigMap in the instance's namespace"))]
    pub mysql_config_map_name: Option<String>,

    /// Node labels the server's pod (and a new hostPath volume) must be on.
    #[serde(
        default,
        rename = "nodeSelector",
        skip_serializing_if = "Option::is_none"
    )]
    pub node_selector: Option<std::collections::BTreeMap<String, String>>,

    /// Taints the server's pod tolerates (Kubernetes `tolerations`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "super::server::any_objects")]
    pub tolerations: Option<Vec<k8s_openapi::api::core::v1::Toleration>>,

    /// The server pod's Kubernetes `affinity`; with replicas, it replaces the default
    /// that spreads members across nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "super::server::any_object")]
    pub affinity: Option<k8s_openapi::api::core::v1::Affinity>,

    /// The server pod's PriorityClass.
    #[serde(
        default,
        rename = "priorityClassName",
        skip_serializing_if = "Option::is_none"
    )]
    pub priority_class_name: Option<String>,

    /// When a change of the server's pod (the spec's, or a new operator version's)
    /// restarts it: `auto` (the default) at once, with an Event saying why; `manual`
    /// only at `kubectl mysql restart NAME`, the change said in status.pendingRestart.
    #[serde(
        default,
        rename = "updatePolicy",
        skip_serializing_if = "Option::is_none"
    )]
    pub update_policy: Option<UpdatePolicy>,

    /// TLS: the server presents a certificate (from `secretName`, or one the operator
    /// issues and renews), and every Job that talks to it verifies it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<super::TlsSpec>,
}

/// `spec.updatePolicy`.
#[derive(
    schemars::JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq,
)]
#[serde(rename_all = "lowercase")]
pub enum UpdatePolicy {
    #[default]
    Auto,
    Manual,
}

/// The CRD's rule for options the operator owns (see `server::LOCKED_OPTIONS`).
const MYSQL_CONFIG_LOCKED_RULE: &str = concat!(
    "self.all(k, !k.lowerAscii().replace('-', '_').matches('",
    super::server::locked_option_pattern!(),
    "'))"
);
const MYSQL_CONFIG_LOCKED_MESSAGE: &str = concat!(
    "'spec.mysqlConfig.' + self.filter(k, k.lowerAscii().replace('-', '_').matches('",
    super::server::locked_option_pattern!(),
    "'))[0] + ' is set by the operator and cannot be changed: backups, point-in-time recovery, failover or the pod itself rely on it'"
);

/// When the operator replaces a failed primary.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct FailoverSpec {
    /// How long the primary must have stopped answering before a replica takes over
    /// (`15s`, `1m`; default 15s). A member that is merely slow answers, late.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self.matches('^[1-9][0-9]*(s|m)$')").message("spec.failover.after must be a whole number of seconds or minutes, such as 15s or 1m"))]
    pub after: Option<String>,
    /// false: never fail over automatically (a switchover still can).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// How long the primary must stop answering before failover, when not given.
pub const DEFAULT_FAILOVER_AFTER: jiff::SignedDuration = jiff::SignedDuration::from_secs(15);

impl FailoverSpec {
    /// `after` read: `Ns` or `Nm`; None when it is not one of those.
    pub fn parse_after(text: &str) -> Option<jiff::SignedDuration> {
        let (number, unit) = text.split_at(text.len().checked_sub(1)?);
        let n: i64 = number.parse().ok().filter(|n| *n > 0)?;
        match unit {
            "s" => Some(jiff::SignedDuration::from_secs(n)),
            "m" => Some(jiff::SignedDuration::from_mins(n)),
            _ => None,
        }
    }
}

impl MySQLSpec {
    /// The StorageClass of a dynamically provisioned data volume; None for hostPath.
    pub fn storage_class(&self) -> Option<&str> {
        self.storage_class_name.as_deref().filter(|s| !s.is_empty())
    }

    /// The server's CPU and memory: the spec's, or the small default.
    pub fn server_resources(&self) -> super::ServerResources {
        self.resources
            .clone()
            .unwrap_or_else(super::server::default_resources)
    }

    /// mysqld's options: the settings of the spec's ConfigMap (`from_config_map`), then
    /// its own, and the buffer pool that follows the memory limit.
    pub fn server_option_args(&self, from_config_map: &super::ServerSettings) -> Vec<String> {
        let inline = self.mysql_config.clone().unwrap_or_default();
        super::server::option_args(
            &super::server::merge_settings(from_config_map, &inline),
            self.server_resources().memory_limit_bytes(),
        )
    }

    /// The Secret with the server's certificate, when TLS is on: the user's, or
    /// `NAME-tls`, which the operator issues.
    pub fn tls_secret(&self, names: &crate::names::InstanceNames) -> Option<String> {
        let tls = self.tls.as_ref()?;
        Some(
            tls.secret_name
                .clone()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| names.tls_secret()),
        )
    }

    /// Whether the operator issues the server's certificate.
    pub fn issues_certificate(&self) -> bool {
        self.tls
            .as_ref()
            .is_some_and(|t| t.secret_name.as_deref().is_none_or(str::is_empty))
    }

    /// When a change of the server's pod restarts it.
    pub fn update_policy(&self) -> UpdatePolicy {
        self.update_policy.unwrap_or_default()
    }

    /// Where the server's pod may run.
    pub fn placement(&self) -> super::server::Placement<'_> {
        super::server::Placement {
            node_selector: self.node_selector.as_ref(),
            tolerations: self.tolerations.as_deref().unwrap_or_default(),
            affinity: self.affinity.as_ref(),
        }
    }

    /// How many members the instance has (1 unless `replicas` says otherwise).
    pub fn members(&self) -> u32 {
        self.replicas
            .map_or(1, |n| n.clamp(1, MAX_MEMBERS as i32) as u32)
    }

    /// The bucket backups go to, when they go to one.
    pub fn backup_bucket(&self) -> Option<&super::S3Storage> {
        self.backup.as_ref()?.s3()
    }

    /// Why physical copies of the data directory (mariadb-backup's, or MySQL's clone
    /// plugin's) can be neither taken nor restored here, if they cannot: they need a
    /// single server of MariaDB or MySQL 8.0.17 and later (replicated instances back
    /// up logically for now).
    pub fn physical_copy_problem(&self) -> Option<String> {
        let dialect = crate::dialect::Dialect::of_image(&self.image);
        if let Some(problem) = dialect.physical_copy_problem(&self.image) {
            return Some(problem);
        }
        (self.members() > 1).then(|| {
            "is for a single server for now; a replicated instance backs up logically".to_string()
        })
    }

    /// What this instance's new backups are stored as.
    pub fn backup_dump_kind(&self) -> crate::s3::DumpKind {
        self.backup_method()
            .dump_kind(crate::dialect::Dialect::of_image(&self.image))
    }

    /// How this instance's backups copy the data.
    pub fn backup_method(&self) -> super::BackupMethod {
        self.backup
            .as_ref()
            .map(super::BackupSpec::method)
            .unwrap_or_default()
    }

    /// Whether the operator fails over on its own, and after how long.
    pub fn failover_after(&self) -> Option<jiff::SignedDuration> {
        let failover = self.failover.clone().unwrap_or_default();
        if failover.enabled == Some(false) {
            return None;
        }
        Some(
            failover
                .after
                .as_deref()
                .and_then(FailoverSpec::parse_after)
                .unwrap_or(DEFAULT_FAILOVER_AFTER),
        )
    }

    /// Point-in-time recovery, when it is on: enabled, and backups that go to a bucket
    /// (the CRD refuses it without one).
    pub fn point_in_time(&self) -> Option<&super::PointInTime> {
        self.backup_bucket()?;
        self.backup
            .as_ref()?
            .point_in_time
            .as_ref()
            .filter(|p| p.enabled)
    }
}

/// Why this spec cannot take physical backups, if it asks for them.
fn physical_backup_problem(spec: &MySQLSpec) -> Option<String> {
    if spec.backup_method() != super::BackupMethod::Physical {
        return None;
    }
    spec.physical_copy_problem()
        .map(|problem| format!("spec.backup.method physical {problem}"))
}

/// The most members an instance can have (the CRD refuses more).
pub const MAX_MEMBERS: u32 = 9;

/// A key of a Secret in the instance's namespace.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SecretKeyRef {
    pub name: String,
    /// Defaults to `password`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

impl SecretKeyRef {
    pub fn key_or_default(&self) -> &str {
        self.key.as_deref().unwrap_or("password")
    }
}

/// Observed state, written by the operator only when it changes.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MySQLStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<Phase>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Where clients connect: NAME.NAMESPACE.svc:3306.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// The node whose disk holds the hostPath volumes (the data without a
    /// storageClassName, and the backups); every pod that mounts them runs there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_backup: Option<LastBackup>,
    /// When the next scheduled backup is due (spec.backup.schedule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_backup: Option<String>,
    /// The backup this instance was restored from, once the restore succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored_from: Option<String>,
    /// The last `kubectl mysql restore` request handled (BACKUP@REQUEST-ID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_request: Option<String>,
    /// Point-in-time recovery: the earliest second a restore can reach (a dump's
    /// completion whose archived binary logs reach `recoverableUntil` unbroken).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recoverable_from: Option<String>,
    /// Point-in-time recovery: the latest second a restore can reach (the newest
    /// archived binary log's end, or a gap in them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recoverable_until: Option<String>,
    /// The member that takes writes (its Deployment's name), once the instance has
    /// replicas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<String>,
    /// Each member as the operator last saw it, once the instance has replicas.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<MemberStatus>,
    /// The last `kubectl mysql switchover` request and what became of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub switchover: Option<SwitchoverStatus>,
    /// With replicas: whether the instance can lose its primary without losing writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<Health>,
    /// With replicas: the failover under way, the last one, members set aside.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover: Option<FailoverStatus>,
    /// With spec.updatePolicy manual: the changes of the server's pod that wait for
    /// `kubectl mysql restart NAME`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_restart: Option<String>,
    /// A Job of the instance (restore, scan, password change, seed, backup) whose pod
    /// the API server refuses, with its words, while it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_refused: Option<String>,
    /// A one-line summary for humans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// What a member is to its instance.
#[derive(schemars::JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberRole {
    /// Takes the writes; `NAME` selects it.
    Primary,
    /// Replicates from the primary, read-only; `NAME-replicas` selects it while it does.
    Replica,
    /// Running, not replicating yet: its copy of the primary is being made.
    Seeding,
    /// Its server cannot be asked (starting, or its pod is not running).
    Unknown,
}

impl MemberRole {
    /// The value of the role label on the member's pod (none for the last two).
    pub fn label(self) -> &'static str {
        match self {
            MemberRole::Primary => "primary",
            MemberRole::Replica => "replica",
            MemberRole::Seeding => "seeding",
            MemberRole::Unknown => "unknown",
        }
    }
}

/// A replicated instance's health, as `kubectl mysql status` shows it.
#[derive(schemars::JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Health {
    /// The primary takes writes and every replica streams from it.
    Healthy,
    /// Writes go on, but a member is missing, behind or being seeded, or the primary
    /// has stopped answering for less than `spec.failover.after`.
    Degraded,
    /// The primary failed; a replica is taking over.
    FailingOver,
    /// The primary failed and no replica can take over without losing writes (the
    /// status's `failover.message` says why); writes are refused until it is back.
    Failed,
}

/// Failover: the one under way, the last one done, and members set aside.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct FailoverStatus {
    /// When the primary was first seen not answering (RFC 3339); gone once it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_down_since: Option<String>,
    /// A failover under way, recorded so that an operator restarted half way
    /// finishes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running: Option<FailoverRun>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<FailoverRecord>,
    /// Failovers done so far.
    #[serde(default)]
    pub count: u32,
    /// At the last look the primary answered: the replicas that streamed from it (any
    /// of them may hold a write it acknowledged, so each must answer before a
    /// failover), and whether its commits waited for a replica (semi-sync on).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub last_seen_streaming: Vec<String>,
    #[serde(default)]
    pub last_seen_semi_sync: bool,
    /// Why the failed primary is not replaced, while it is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Members whose data had transactions the primary lacks, moved aside on their
    /// own volume (never deleted) and seeded afresh; the newest last.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set_aside: Vec<SetAsideRecord>,
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct FailoverRun {
    /// The failed primary's Deployment.
    pub from: String,
    pub started_at: String,
    /// Why it is failed.
    pub reason: String,
    /// The member being promoted, once chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidate: Option<String>,
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct FailoverRecord {
    pub from: String,
    pub to: String,
    /// The new primary's GTID position when it took over.
    pub position: String,
    /// When it took over.
    pub at: String,
    /// From the first look that found the primary not answering to the promotion.
    pub writes_refused_seconds: u64,
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SetAsideRecord {
    /// The member's Deployment.
    pub member: String,
    pub reason: String,
    /// What it had that the primary lacks (GTIDs).
    pub transactions: String,
    /// Where its data went: `set-aside-STAMP` beside the data directory on its volume.
    pub directory: String,
    pub at: String,
}

/// A switchover request (`MEMBER@REQUEST-ID`) and its outcome.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SwitchoverStatus {
    pub request: String,
    pub outcome: SwitchoverOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(schemars::JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SwitchoverOutcome {
    /// The old primary is read-only; the new one is catching up or being promoted.
    Running,
    Succeeded,
    /// Refused before anything changed (the target is not a healthy replica, …).
    Refused,
}

/// A pending `kubectl mysql switchover`: the member asked for and the whole token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SwitchoverRequest {
    pub target: u32,
    pub token: String,
}

impl SwitchoverRequest {
    pub fn new(target: u32, at: jiff::Timestamp) -> Self {
        Self {
            target,
            token: format!("{target}@{}", at.as_millisecond()),
        }
    }

    pub fn parse(token: &str) -> Option<Self> {
        let (target, _) = token.split_once('@')?;
        Some(Self {
            target: target.parse().ok()?,
            token: token.to_string(),
        })
    }
}

/// One member of a replicated instance.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct MemberStatus {
    /// The member's Deployment (`NAME` for member 0, `NAME-member-K`).
    pub name: String,
    pub role: MemberRole,
    pub ready: bool,
    /// The node its server runs on: members on one node are all lost with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// Its server's executed GTID set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gtid: Option<String>,
    /// As a replica: both replication threads run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicating: Option<bool>,
    /// As a replica: how far behind the primary its applier is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lag_seconds: Option<u64>,
    /// What is wrong, when something is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The newest successful backup of this instance.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct LastBackup {
    /// Name of the MySQLBackup record.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_time: Option<String>,
}

#[derive(schemars::JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Pending,
    Creating,
    Restoring,
    Ready,
    Updating,
    Paused,
    Deleting,
    Failed,
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

impl MySQL {
    /// Why this spec cannot be acted on, in the words of the CRD's own rules; None when
    /// it can. The API server enforces the same rules at admission; this is the copy the
    /// CLI checks before it talks to a cluster and the operator checks objects admitted
    /// before a rule existed.
    pub fn spec_problem(&self) -> Option<String> {
        let spec = &self.spec;
        [
            validate::instance_name(&self.name_any()),
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
        .or_else(|| spec.backup.as_ref()?.schedule()?.err())
        .or_else(|| {
            spec.replicas
                .filter(|n| !(1..=MAX_MEMBERS as i32).contains(n))
                .map(|_| {
                    "spec.replicas must be from 1 to 9: one primary and up to 8 replicas"
                        .to_string()
                })
        })
        .or_else(|| physical_backup_problem(spec))
        .or_else(|| spec.resources.as_ref()?.problem())
        .or_else(|| super::server::settings_problem(spec.mysql_config.as_ref()?))
        .or_else(|| {
            let after = spec.failover.as_ref()?.after.as_deref()?;
            FailoverSpec::parse_after(after).is_none().then(|| {
                "spec.failover.after must be a whole number of seconds or minutes, such as 15s or 1m"
                    .to_string()
            })
        })
    }

    /// `kubectl mysql pause` stopped its reconciling.
    pub fn paused(&self) -> bool {
        keys::annotation(&self.metadata, keys::PAUSED_ANNOTATION) == Some("true")
    }

    /// Deleting this instance skips the final backup.
    pub fn skips_backup_on_delete(&self) -> bool {
        keys::annotation(&self.metadata, keys::SKIP_BACKUP_ANNOTATION) == Some("true")
    }

    /// The backup `create --restore-from` named.
    pub fn restore_from(&self) -> Option<&str> {
        keys::annotation(&self.metadata, keys::RESTORE_FROM_ANNOTATION)
    }

    /// Where `create --restore-from-time` replays the backup's binary logs up to.
    pub fn restore_to(&self) -> Option<crate::binlog::ReplayTarget> {
        keys::annotation(&self.metadata, keys::RESTORE_TO_ANNOTATION)
            .and_then(crate::binlog::ReplayTarget::parse_token)
    }

    /// A `kubectl mysql restore` request that the operator has not handled yet.
    pub fn pending_restore_request(&self) -> Option<RestoreRequest> {
        let value = keys::annotation(&self.metadata, keys::RESTORE_REQUEST_ANNOTATION)?;
        let handled = self
            .status
            .as_ref()
            .and_then(|s| s.restore_request.as_deref());
        (handled != Some(value)).then(|| RestoreRequest::parse(value))
    }

    /// A `kubectl mysql switchover` request not finished with yet (no outcome, or
    /// still running).
    pub fn pending_switchover(&self) -> Option<SwitchoverRequest> {
        let token = keys::annotation(&self.metadata, keys::SWITCHOVER_ANNOTATION)?;
        let finished = self
            .status
            .as_ref()
            .and_then(|s| s.switchover.as_ref())
            .is_some_and(|s| s.request == token && s.outcome != SwitchoverOutcome::Running);
        (!finished)
            .then(|| SwitchoverRequest::parse(token))
            .flatten()
    }

    pub fn condition(&self, type_: ConditionType) -> Option<&Condition> {
        find_condition(&self.status.as_ref()?.conditions, type_)
    }
}

/// A request to restore a running instance: the annotation value `BACKUP@REQUEST-ID`,
/// or `BACKUP@REQUEST-ID@TARGET` for a restore to a point in time (the dump, then its
/// archived binary logs up to a time, or up to a transaction: `ReplayTarget::token`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestoreRequest {
    pub backup: String,
    /// The whole annotation value; recorded in status once handled.
    pub token: String,
    pub to: Option<crate::binlog::ReplayTarget>,
}

impl RestoreRequest {
    /// A new request for `backup` (up to `to`), unique by the time it was made.
    pub fn new(backup: &str, at: jiff::Timestamp, to: Option<crate::binlog::ReplayTarget>) -> Self {
        let mut token = format!("{backup}@{}", at.as_millisecond());
        if let Some(to) = to {
            token.push_str(&format!("@{}", to.token()));
        }
        Self::parse(&token)
    }

    pub fn parse(value: &str) -> Self {
        let mut parts = value.splitn(3, '@');
        let backup = parts.next().unwrap_or_default().to_string();
        let to = parts
            .nth(1)
            .and_then(crate::binlog::ReplayTarget::parse_token);
        Self {
            backup,
            token: value.to_string(),
            to,
        }
    }
}
