//! Every label, annotation and finalizer key the operator matches objects by. The
//! operator stamps these onto rendered objects itself (`stamp_instance_labels`), so a
//! user's template override can change what a server looks like but never how the
//! operator finds its objects.

use std::collections::BTreeMap;

use kube::api::ObjectMeta;

/// Our field manager, and the `app.kubernetes.io/managed-by` value on every child.
pub const MANAGED_BY: &str = "kubectl-mysql";
/// The label key whose value is [`MANAGED_BY`]; the operator's caches select by it.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// The version of kubectl-mysql that installed an object (the CRDs, the operator).
pub const VERSION_LABEL: &str = "app.kubernetes.io/version";
/// Finalizer that holds a MySQL object until its backup is recorded.
pub const FINALIZER: &str = "mysqls.otus.homework/backup-before-delete";
/// On a backup record whose dump is in a bucket: deleting the record deletes the dump.
pub const DUMP_FINALIZER: &str = "mysqls.otus.homework/delete-dump";
/// On a backup record: `true` keeps its dump when the record is deleted.
pub const KEEP_DUMP_ANNOTATION: &str = "mysqls.otus.homework/keep-dump";
/// On a backup record: a new value (the time it was asked for, or `scheduled`) asks
/// for a verification of its dump (`kubectl mysql backup verify`, spec.backup.verify).
pub const VERIFY_ANNOTATION: &str = "mysqls.otus.homework/verify";
/// On a server's Deployment: the hash of each part of its pod template, so that the
/// next change says what restarts the server (`plan::rollout`).
pub const POD_TEMPLATE_ANNOTATION: &str = "mysqls.otus.homework/pod-template";
/// On a MySQL object (and its server's pod template): a new value, the time it was
/// asked for, restarts the server (`kubectl mysql restart`).
pub const RESTART_ANNOTATION: &str = "mysqls.otus.homework/restart";
/// Annotation on a MySQL object: `true` stops its reconciling (`kubectl mysql pause`).
pub const PAUSED_ANNOTATION: &str = "mysqls.otus.homework/paused";
/// Annotation on a MySQL object: `true` deletes it without taking a backup first.
pub const SKIP_BACKUP_ANNOTATION: &str = "mysqls.otus.homework/skip-backup-on-delete";
/// Label on children, Jobs and backup records naming the instance they belong to.
pub const INSTANCE_LABEL: &str = "mysqls.otus.homework/instance";
/// Which member of its instance a server's pod is (0, 1, …).
pub const MEMBER_LABEL: &str = "mysqls.otus.homework/member";
/// A member's role, set on its pod by the operator: `primary` (what `NAME` selects
/// once the instance has replicas) or `replica` (what `NAME-replicas` selects, while it
/// replicates); absent while the operator has not confirmed either.
pub const ROLE_LABEL: &str = "mysqls.otus.homework/role";
/// Annotation on a backup or restore Job naming the backup record it serves.
pub const BACKUP_ANNOTATION: &str = "mysqls.otus.homework/backup";
/// On a backup or restore Job that moves a dump to or from a bucket: `s3://BUCKET/KEY`.
/// The Job says where its dump goes, so the record's status never depends on a cache
/// having caught up with an earlier status write.
pub const OBJECT_ANNOTATION: &str = "mysqls.otus.homework/object";
/// On a scheduled backup record: the time of the schedule it was taken for (RFC 3339).
/// With `OBJECT_ANNOTATION`: the bucket's settings (endpoint, region, keys' Secret) as
/// JSON, which the record keeps so its dump can be deleted after the instance is gone.
pub const BUCKET_ANNOTATION: &str = "mysqls.otus.homework/bucket";
pub const SCHEDULED_FOR_ANNOTATION: &str = "mysqls.otus.homework/scheduled-for";
/// Annotation on the password Job naming the password fingerprint it applies.
pub const PASSWORD_FINGERPRINT_ANNOTATION: &str = "mysqls.otus.homework/password-sha256";
/// Annotation on an on-delete backup record: the uid of the incarnation it belongs to.
pub const INSTANCE_UID_ANNOTATION: &str = "mysqls.otus.homework/instance-uid";
/// Set by `create --restore-from`: the backup a new instance starts from.
pub const RESTORE_FROM_ANNOTATION: &str = "mysqls.otus.homework/restore-from";
/// Set by `create --restore-from-time` beside `restore-from`: after that backup, replay
/// its instance's archived binary logs up to this time (`ReplayTarget::token`).
pub const RESTORE_TO_ANNOTATION: &str = "mysqls.otus.homework/restore-to";
/// Set by `kubectl mysql restore`: `BACKUP@REQUEST-ID`; a new value asks for a restore.
pub const RESTORE_REQUEST_ANNOTATION: &str = "mysqls.otus.homework/restore-request";
/// Set by `kubectl mysql switchover`: `MEMBER@REQUEST-ID`; a new value asks for a
/// planned switchover to member MEMBER (its index).
pub const SWITCHOVER_ANNOTATION: &str = "mysqls.otus.homework/switchover";
/// On a restore Job: which request (or which incarnation's create) it serves.
pub const RESTORE_TOKEN_ANNOTATION: &str = "mysqls.otus.homework/restore-token";

/// The key of our credentials Secrets holding the bare password (for the server's
/// first start and for `ALTER USER`).
pub const PASSWORD_KEY: &str = "password";
/// The key of our credentials Secrets holding a MySQL client option file with the
/// password: every script and probe logs in with `--defaults-extra-file`, never with
/// the password in argv or in `MYSQL_PWD`.
pub const CLIENT_CONFIG_KEY: &str = "client.cnf";
/// In a credentials Secret: the option file of a client that talks to a server with
/// TLS, verifying its certificate against `ca.crt` beside it.
pub const TLS_CLIENT_CONFIG_KEY: &str = "client-tls.cnf";
/// On a server certificate Secret the operator issued: the hash of the names it holds
/// and when it expires, so the plan can tell from the metadata alone when to reissue.
pub const CERTIFICATE_NAMES_ANNOTATION: &str = "mysqls.otus.homework/certificate-names";
pub const CERTIFICATE_NOT_AFTER_ANNOTATION: &str = "mysqls.otus.homework/certificate-not-after";
/// In the server's pod template: the version of its certificate Secret, so a renewed
/// certificate restarts the server (announced) and is served.
pub const CERTIFICATE_VERSION_ANNOTATION: &str = "mysqls.otus.homework/certificate-version";

/// The labels the operator's watches select by: managed-by and the instance.
pub fn operator_labels(instance: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (MANAGED_BY_LABEL.to_string(), MANAGED_BY.to_string()),
        (INSTANCE_LABEL.to_string(), instance.to_string()),
    ])
}

/// Adds [`operator_labels`] to an object's metadata, whatever the template wrote.
pub fn stamp_instance_labels(meta: &mut ObjectMeta, instance: &str) {
    meta.labels
        .get_or_insert_with(Default::default)
        .extend(operator_labels(instance));
}

/// Sets one annotation on an object's metadata.
pub fn stamp_annotation(meta: &mut ObjectMeta, key: &str, value: impl Into<String>) {
    meta.annotations
        .get_or_insert_with(Default::default)
        .insert(key.to_string(), value.into());
}

/// One annotation's value.
pub fn annotation<'a>(meta: &'a ObjectMeta, key: &str) -> Option<&'a str> {
    meta.annotations.as_ref()?.get(key).map(String::as_str)
}
