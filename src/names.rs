//! Names of everything derived from an instance. The namespaced ones are the course's
//! (NAME, NAME-pvc, backup-NAME-pvc, backup-NAME-job, restore-NAME-job) so that its users
//! find what they expect; PersistentVolumes are cluster-scoped and so carry the
//! namespace, which the course's PVs did not (two namespaces collided there).

use std::collections::BTreeMap;

use crate::api::keys::{MEMBER_LABEL, operator_labels};

/// Where hostPath volumes live on the node.
pub const HOST_PATH_ROOT: &str = "/var/lib/kubectl-mysql";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceNames {
    pub name: String,
    pub namespace: String,
}

impl InstanceNames {
    pub fn new(name: impl Into<String>, namespace: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            namespace: namespace.into(),
        }
    }

    pub fn deployment(&self) -> String {
        self.name.clone()
    }
    pub fn service(&self) -> String {
        self.name.clone()
    }
    pub fn data_pvc(&self) -> String {
        format!("{}-pvc", self.name)
    }
    pub fn backup_pvc(&self) -> String {
        format!("backup-{}-pvc", self.name)
    }
    /// The data PV of the incarnation with `uid`. Each incarnation has its own, as it
    /// has its own data directory: a re-created instance never waits for the earlier
    /// one's volume to be released and deleted (its data comes from the restore).
    pub fn data_pv_of(&self, uid: &str) -> String {
        format!("{}-{}-{}-pv", self.namespace, self.name, incarnation(uid))
    }
    /// The data PV's name before volumes were named per incarnation: an instance made
    /// by an earlier version still has it.
    pub fn legacy_data_pv(&self) -> String {
        format!("{}-{}-pv", self.namespace, self.name)
    }
    pub fn backup_pv(&self) -> String {
        format!("backup-{}-{}-pv", self.namespace, self.name)
    }
    pub fn data_host_path(&self) -> String {
        format!("{HOST_PATH_ROOT}/{}/{}/data", self.namespace, self.name)
    }
    pub fn backup_host_path(&self) -> String {
        format!("{HOST_PATH_ROOT}/{}/{}/backup", self.namespace, self.name)
    }
    pub fn backup_job(&self) -> String {
        format!("backup-{}-job", self.name)
    }
    pub fn restore_job(&self) -> String {
        format!("restore-{}-job", self.name)
    }
    /// Loads a backup into a throwaway server (`kubectl mysql backup verify`).
    pub fn verify_job(&self) -> String {
        format!("verify-{}-job", self.name)
    }
    /// Deletes a dump on the backup volume whose record was deleted.
    pub fn prune_job(&self) -> String {
        format!("prune-{}-job", self.name)
    }
    /// Lists the dumps on the backup volume for a new instance with no records.
    pub fn scan_job(&self) -> String {
        format!("scan-{}-job", self.name)
    }
    pub fn password_job(&self) -> String {
        format!("passwd-{}-job", self.name)
    }
    /// The server certificate the operator issues (`tls.crt`, `tls.key`, `ca.crt`).
    pub fn tls_secret(&self) -> String {
        format!("{}-tls", self.name)
    }
    /// The CA the operator issues the server certificate from (`ca.crt`, `ca.key`).
    pub fn tls_ca_secret(&self) -> String {
        format!("{}-tls-ca", self.name)
    }
    /// The Secret the server and the Jobs read the live root password from.
    pub fn credentials_secret(&self) -> String {
        format!("{}-credentials", self.name)
    }
    /// Holds a new password while the password Job applies it.
    pub fn pending_credentials_secret(&self) -> String {
        format!("{}-credentials-next", self.name)
    }
    pub fn endpoint(&self) -> String {
        format!("{}.{}.svc:3306", self.name, self.namespace)
    }
    /// Member `index`'s server: member 0 is the course's Deployment `NAME`, the others
    /// `NAME-member-K`.
    pub fn member_deployment(&self, index: u32) -> String {
        match index {
            0 => self.deployment(),
            _ => format!("{}-member-{index}", self.name),
        }
    }
    /// Which member a Deployment name is (`NAME` → 0, `NAME-member-K` → K).
    pub fn member_index(&self, deployment: &str) -> Option<u32> {
        if deployment == self.name {
            return Some(0);
        }
        deployment
            .strip_prefix(&format!("{}-member-", self.name))?
            .parse()
            .ok()
    }
    /// Member `index`'s data claim: member 0's is the course's `NAME-pvc`.
    pub fn member_pvc(&self, index: u32) -> String {
        match index {
            0 => self.data_pvc(),
            _ => format!("{}-member-{index}-pvc", self.name),
        }
    }
    /// Member `index`'s own address (a headless Service that always selects it, ready
    /// or not): what replicas replicate from.
    pub fn member_service(&self, index: u32) -> String {
        format!("{}-member-{index}", self.name)
    }
    pub fn member_host(&self, index: u32) -> String {
        format!("{}.{}.svc", self.member_service(index), self.namespace)
    }
    /// The data PV of member `index` (1 and up) on a claim with `claim_uid`: each claim
    /// its own volume and directory, so a member removed and added again starts empty.
    pub fn member_pv(&self, index: u32, claim_uid: &str) -> String {
        format!(
            "{}-{}-member-{index}-{}-pv",
            self.namespace,
            self.name,
            incarnation(claim_uid)
        )
    }
    pub fn member_host_path(&self, index: u32, claim_uid: &str) -> String {
        format!(
            "{HOST_PATH_ROOT}/{}/{}/member-{index}-{}",
            self.namespace,
            self.name,
            incarnation(claim_uid)
        )
    }
    /// Healthy replicas, read-only.
    pub fn replicas_service(&self) -> String {
        format!("{}-replicas", self.name)
    }
    /// The replication account's password, generated once.
    pub fn replication_secret(&self) -> String {
        format!("{}-replication", self.name)
    }
    /// Copies the primary into a new member `index` and starts its replication.
    pub fn seed_job(&self, index: u32) -> String {
        format!("seed-{}-member-{index}-job", self.name)
    }
    /// Labels of member `index`'s pods (and its Deployment's selector beyond member 0,
    /// whose selector stays the course's `app=NAME`): no `app`, which selects member 0
    /// alone, as the course's `kubectl exec` expects.
    pub fn member_labels(&self, index: u32) -> BTreeMap<String, String> {
        let mut labels = if index == 0 {
            self.labels()
        } else {
            self.job_labels()
        };
        labels.insert(MEMBER_LABEL.to_string(), index.to_string());
        labels
    }

    /// A new backup record's name: the instance and a UTC timestamp.
    pub fn backup_record(&self, at: jiff::Timestamp) -> String {
        format!("{}-{}", self.name, at.strftime("%Y%m%d-%H%M%S"))
    }

    /// Labels on every child. `app=NAME` is the course's selector.
    pub fn labels(&self) -> BTreeMap<String, String> {
        let mut labels = BTreeMap::from([
            ("app".to_string(), self.name.clone()),
            ("app.kubernetes.io/name".to_string(), "mysql".to_string()),
            ("app.kubernetes.io/instance".to_string(), self.name.clone()),
        ]);
        labels.extend(operator_labels(&self.name));
        labels
    }

    /// Labels on Jobs and their pods: all of `labels` but `app`, so that the course's
    /// `kubectl get pods -l app=NAME` finds the server's pod and nothing else.
    pub fn job_labels(&self) -> BTreeMap<String, String> {
        let mut labels = self.labels();
        labels.remove("app");
        labels
    }
}

/// An incarnation's short name, from its uid (8 characters): it names the
/// incarnation's data PV and its binary logs' timeline in the bucket.
pub fn incarnation(uid: &str) -> String {
    uid.chars()
        .filter(char::is_ascii_alphanumeric)
        .take(8)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::validate;

    #[test]
    fn course_names() {
        let n = InstanceNames::new("mysql-instance", "default");
        assert_eq!(n.deployment(), "mysql-instance");
        assert_eq!(n.data_pvc(), "mysql-instance-pvc");
        assert_eq!(n.backup_pvc(), "backup-mysql-instance-pvc");
        assert_eq!(n.backup_job(), "backup-mysql-instance-job");
        assert_eq!(n.restore_job(), "restore-mysql-instance-job");
    }

    #[test]
    fn longest_name_fits_every_limit() {
        let name = "a".repeat(crate::api::MAX_NAME_LEN);
        assert!(validate::instance_name(&name).is_ok());
        let n = InstanceNames::new(name, "n".repeat(63));
        for label_like in [
            n.backup_job(),
            n.restore_job(),
            n.password_job(),
            n.scan_job(),
            n.verify_job(),
            n.prune_job(),
            n.service(),
            n.data_pvc(),
            n.backup_pvc(),
            n.credentials_secret(),
        ] {
            assert!(label_like.len() <= 63, "{label_like} is too long");
        }
        let uid = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";
        for subdomain in [
            n.data_pv_of(uid),
            n.backup_pv(),
            n.pending_credentials_secret(),
        ] {
            assert!(subdomain.len() <= 253, "{subdomain} is too long");
        }
    }

    #[test]
    fn same_name_in_two_namespaces_gets_distinct_volumes() {
        let a = InstanceNames::new("db", "team-a");
        let b = InstanceNames::new("db", "team-b");
        assert_ne!(a.data_pv_of("u1"), b.data_pv_of("u1"));
        assert_ne!(
            a.data_pv_of("u1"),
            a.data_pv_of("u2"),
            "one per incarnation"
        );
        assert_ne!(a.backup_pv(), b.backup_pv());
        assert_ne!(a.data_host_path(), b.data_host_path());
    }
}
