//! What observe hands to plan: plain data, read once per reconcile.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Node, PersistentVolume, PersistentVolumeClaim, Service};

use std::collections::BTreeMap;

use crate::api::{MySQLBackup, ScanReport};
use crate::names::InstanceNames;

pub use crate::reconcile::credentials::{Fingerprint, Password};

/// The volumes and claims as they were before this reconcile applied anything.
#[derive(Clone, Debug, Default)]
pub struct LiveVolumes {
    pub data_pv: Option<PersistentVolume>,
    /// Our hostPath backup volume, `backup-NS-NAME-pv`.
    pub backup_pv: Option<PersistentVolume>,
    /// Without a hostPath one and with a StorageClass: the volume the class
    /// provisioned for the backup claim, or, while there is no claim, one an earlier
    /// incarnation's claim left (kept by Retain, labelled with the instance).
    pub provisioned_backup_pv: Option<PersistentVolume>,
    pub data_pvc: Option<PersistentVolumeClaim>,
    pub backup_pvc: Option<PersistentVolumeClaim>,
}

impl LiveVolumes {
    /// The class the backup claim is (or will be) provisioned by; none while the
    /// backup volume is a hostPath one (`manifests::backup_storage_class`).
    pub fn backup_storage_class(&self, instance: &crate::api::MySQL) -> Option<String> {
        crate::manifests::backup_storage_class(
            instance.spec.storage_class(),
            self.backup_pv.is_some(),
            self.backup_pvc.as_ref(),
        )
    }
}

/// A read that observe makes only while a decision rests on it, and says whether it
/// made it: a skipped read is never the same as "absent".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Read<T> {
    /// Not read: no decision of this reconcile rests on it.
    Skipped,
    Done(T),
}

impl<T> Read<T> {
    /// What was read, for a step that rests on it; an error naming the read when
    /// observe skipped it.
    pub fn needed(&self, what: &'static str) -> crate::reconcile::Result<&T> {
        match self {
            Read::Done(value) => Ok(value),
            Read::Skipped => Err(crate::reconcile::Error::NotObserved(what)),
        }
    }

    /// Reads only when `wanted`.
    pub async fn when<F, E>(wanted: bool, read: F) -> Result<Self, E>
    where
        F: std::future::Future<Output = Result<T, E>>,
    {
        Ok(if wanted {
            Read::Done(read.await?)
        } else {
            Read::Skipped
        })
    }
}

/// What the instance's reconcile decides from, besides the instance itself.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub names: InstanceNames,
    /// The archived binary logs in the bucket, while point-in-time recovery is on.
    pub binlog_segments: Read<Result<Vec<crate::binlog::Segment>, ListingFailed>>,
    /// The password the spec asks for, or why it cannot be read.
    pub desired_password: Result<Password, PasswordUnreadable>,
    /// `NAME-credentials`: the password the server has.
    pub credentials: Option<Fingerprint>,
    /// `NAME-credentials` lacks the client option file (written by an earlier version).
    pub credentials_outdated: bool,
    /// With spec.tls: the server certificate Secret's version and annotations (from
    /// the cache), when it exists.
    pub tls_certificate: Option<SecretMeta>,
    /// The ConfigMap of server options `spec.mysqlConfigMapName` names, when it does.
    pub config_map: Option<ReferencedConfigMap>,
    /// A Job of the instance runs with no pod yet; and why the API server refuses the
    /// first such Job's pod when it does (its FailedCreate Event, read only for such
    /// Jobs).
    pub job_without_pods: bool,
    pub job_refused: Option<String>,
    /// `NAME-credentials-next`, read only while the status is not settled on Synced
    /// (once it is, there is no change in flight to have left one).
    pub pending_credentials: Read<Option<Password>>,
    pub password_job: Option<Job>,
    /// `restore-NAME-job`, read only while a restore is wanted.
    pub restore_job: Read<Option<Job>>,
    /// The line a failed restore Job's pod left, read only once it failed.
    pub restore_failure: Read<Option<String>>,
    /// The backup a wanted restore loads, read only before its Job exists.
    pub restore_source: Read<Option<MySQLBackup>>,
    /// How many pods of the server there are (terminating ones too), read only before
    /// the Job of a physical restore exists: it starts once there are none.
    pub server_pods: Read<usize>,
    /// `scan-NAME-job` and what it found, read only while a new instance with no
    /// record looks for dumps on an older backup volume; the report only once the
    /// Job succeeded.
    pub scan_job: Read<Option<Job>>,
    pub scan_report: Read<Option<ScanReport>>,
    /// The complete dumps in the bucket, listed only while a new instance whose
    /// backups go to a bucket has no record to start from; or why listing failed.
    pub bucket_dumps: Read<std::result::Result<Vec<crate::s3::Listed>, ListingFailed>>,
    pub volumes: LiveVolumes,
    /// The cluster's nodes, read only when a hostPath volume is about to be created and
    /// must be pinned to one of them.
    pub nodes: Read<Vec<Node>>,
    pub service: Option<Service>,
    pub deployment: Option<Deployment>,
    /// This instance's backup records.
    pub backups: Vec<MySQLBackup>,
    /// The members of a replicated instance, read while it has or had replicas.
    pub members: Read<Members>,
}

/// The ConfigMap of server options the spec names.
#[derive(Clone, Debug)]
pub struct ReferencedConfigMap {
    pub name: String,
    /// Its data; None when it does not exist.
    pub data: Option<BTreeMap<String, String>>,
}

/// What a replicated instance's members are, by member index.
#[derive(Clone, Debug, Default)]
pub struct Members {
    /// `NAME-replication` exists.
    pub replication_secret: bool,
    /// Members 1 and up: their Deployments, claims, volumes and seed Jobs.
    pub deployments: BTreeMap<u32, Deployment>,
    pub claims: BTreeMap<u32, PersistentVolumeClaim>,
    pub volumes: BTreeMap<u32, PersistentVolume>,
    pub seed_jobs: BTreeMap<u32, Job>,
    /// Every member's running pod (member 0 included) and what its server says.
    pub pods: BTreeMap<u32, MemberPod>,
    /// The nodes, read while a member's hostPath volume is about to be made (it goes
    /// to a node no other member's volume is on, where there is one).
    pub nodes: Vec<k8s_openapi::api::core::v1::Node>,
}

/// A member's pod and its server's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberPod {
    pub name: String,
    pub ready: bool,
    /// The role label the operator last set on it.
    pub role_label: Option<String>,
    /// The node it runs on.
    pub node: Option<String>,
    pub state: Result<crate::dialect::replication::MemberState, String>,
}

/// What the deletion of an instance decides from.
#[derive(Clone, Debug)]
pub struct DeletionSnapshot {
    pub names: InstanceNames,
    /// The on-delete backup of this incarnation, read from the API server: a stale
    /// answer here could start a second one.
    pub final_backup: Option<MySQLBackup>,
    pub password_job: Option<Job>,
    pub pending_credentials: Option<Password>,
    /// The data PV, if it is ours (labelled for this instance and claimed from this
    /// namespace); anything else is never deleted.
    pub data_pv: Option<PersistentVolume>,
    /// The namespace itself is being deleted: the API server refuses every new object
    /// in it, so no backup can be started any more.
    pub namespace_terminating: bool,
    /// `NAME` (the Deployment) and `NAME-pvc` exist and are this incarnation's.
    pub own_server: bool,
    pub own_data_claim: bool,
}

/// Why the bucket could not be listed, and whether trying again may help (not when the
/// keys' Secret is missing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListingFailed {
    pub message: String,
    pub retry: bool,
}

/// Why the password the spec asks for cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PasswordUnreadable {
    /// Neither `spec.password` nor `spec.passwordSecretRef` (admission refuses this;
    /// an object stored before the rule could still have it).
    NotGiven,
    SecretNotFound {
        secret: String,
    },
    KeyMissing {
        secret: String,
        key: String,
    },
}

impl std::fmt::Display for PasswordUnreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PasswordUnreadable::NotGiven => f.write_str("no password given"),
            PasswordUnreadable::SecretNotFound { secret } => {
                write!(f, "Secret {secret} not found")
            }
            PasswordUnreadable::KeyMissing { secret, key } => {
                write!(f, "Secret {secret} has no key {key}")
            }
        }
    }
}

/// What the cache holds of a Secret: its version and annotations.
#[derive(Clone, Debug, Default)]
pub struct SecretMeta {
    pub version: String,
    pub annotations: std::collections::BTreeMap<String, String>,
}
