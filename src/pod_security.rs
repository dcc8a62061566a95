//! The Pod Security Standard every pod of ours is made to pass, and the security
//! contexts that make it pass: the rule lives here once, applied to each rendered pod
//! template, so a template (or a user's override of one) only says what it runs.

use k8s_openapi::api::core::v1::{
    Capabilities, Container, PodSecurityContext, PodSpec, SeccompProfile, SecurityContext,
};
use serde::Serialize;

/// The mysql user of the official mysql and mariadb images (and of our test image):
/// the server and every Job of a restricted pod run as it, and own the datadir.
pub const MYSQL_UID: i64 = 999;

/// The Pod Security Standard level a pod is made for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PodSecurityLevel {
    /// Non-root as the image's mysql user, every capability dropped, seccomp
    /// `RuntimeDefault`, no privilege escalation; the volumes owned through `fsGroup`.
    Restricted,
    /// The image's own user (root, whose entrypoint hands the server to mysql), with
    /// seccomp `RuntimeDefault`: for pods on hostPath volumes, whose ownership the
    /// kubelet cannot change for a non-root user.
    Baseline,
}

impl PodSecurityLevel {
    /// The level of a pod: restricted when the data is dynamically provisioned and
    /// every claim it mounts is one whose ownership the kubelet sets (`own_claims`, the
    /// data's, or the backup claim when a class provisioned it); baseline when it
    /// mounts a hostPath backup volume (or another instance's).
    pub fn of_pod(
        storage_class: Option<&str>,
        own_claims: &[&str],
        provisioned_backup_claim: Option<&str>,
        pod: &PodSpec,
    ) -> Self {
        let only_provisioned = pod.volumes.iter().flatten().all(|v| {
            v.persistent_volume_claim.as_ref().is_none_or(|c| {
                own_claims.contains(&c.claim_name.as_str())
                    || provisioned_backup_claim == Some(c.claim_name.as_str())
            })
        });
        if storage_class.is_some() && only_provisioned {
            PodSecurityLevel::Restricted
        } else {
            PodSecurityLevel::Baseline
        }
    }

    /// Fills in what this level needs where the template left it out; what a template
    /// sets itself is kept (an override that breaks the level is then refused by the
    /// API server, and the status says why).
    pub fn apply(self, pod: &mut PodSpec) {
        let context = pod.security_context.get_or_insert_with(Default::default);
        context
            .seccomp_profile
            .get_or_insert_with(|| SeccompProfile {
                type_: "RuntimeDefault".into(),
                localhost_profile: None,
            });
        if self == PodSecurityLevel::Baseline {
            return;
        }
        fill_restricted_pod(context);
        for container in pod
            .containers
            .iter_mut()
            .chain(pod.init_containers.iter_mut().flatten())
        {
            fill_restricted_container(container);
        }
    }
}

fn fill_restricted_pod(context: &mut PodSecurityContext) {
    context.run_as_non_root.get_or_insert(true);
    context.run_as_user.get_or_insert(MYSQL_UID);
    context.run_as_group.get_or_insert(MYSQL_UID);
    context.fs_group.get_or_insert(MYSQL_UID);
    // A large datadir is walked only when its root's group is not already right.
    context
        .fs_group_change_policy
        .get_or_insert_with(|| "OnRootMismatch".into());
}

fn fill_restricted_container(container: &mut Container) {
    let context = container
        .security_context
        .get_or_insert_with(SecurityContext::default);
    context.allow_privilege_escalation.get_or_insert(false);
    context.capabilities.get_or_insert_with(|| Capabilities {
        add: None,
        drop: Some(vec!["ALL".into()]),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{
        EmptyDirVolumeSource, PersistentVolumeClaimVolumeSource, Volume,
    };

    fn pod(claims: &[&str]) -> PodSpec {
        let mut volumes: Vec<Volume> = claims
            .iter()
            .map(|c| Volume {
                name: c.to_string(),
                persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                    claim_name: c.to_string(),
                    read_only: None,
                }),
                ..Default::default()
            })
            .collect();
        volumes.push(Volume {
            name: "work".into(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Default::default()
        });
        PodSpec {
            containers: vec![Container {
                name: "c".into(),
                ..Default::default()
            }],
            volumes: Some(volumes),
            ..Default::default()
        }
    }

    #[test]
    fn restricted_only_with_a_storage_class_and_provisioned_claims() {
        use PodSecurityLevel::*;
        let level = PodSecurityLevel::of_pod;
        assert_eq!(
            level(Some("fast"), &["data"], None, &pod(&["data"])),
            Restricted
        );
        assert_eq!(level(Some("fast"), &["data"], None, &pod(&[])), Restricted);
        // A hostPath backup volume.
        assert_eq!(
            level(Some("fast"), &["data"], None, &pod(&["data", "backup"])),
            Baseline
        );
        // The class provisioned the backup volume too.
        assert_eq!(
            level(Some("fast"), &["data"], Some("backup"), &pod(&["backup"])),
            Restricted
        );
        // Another instance's backup volume (a restore from it).
        assert_eq!(
            level(
                Some("fast"),
                &["data"],
                Some("backup"),
                &pod(&["other-backup"])
            ),
            Baseline
        );
        assert_eq!(level(None, &["data"], None, &pod(&["data"])), Baseline);
    }

    #[test]
    fn restricted_runs_as_mysql_with_nothing_extra() {
        let mut spec = pod(&["data"]);
        PodSecurityLevel::Restricted.apply(&mut spec);
        let context = spec.security_context.unwrap();
        assert_eq!(context.run_as_user, Some(MYSQL_UID));
        assert_eq!(context.fs_group, Some(MYSQL_UID));
        assert_eq!(context.run_as_non_root, Some(true));
        assert_eq!(context.seccomp_profile.unwrap().type_, "RuntimeDefault");
        let container = spec.containers[0].security_context.clone().unwrap();
        assert_eq!(container.allow_privilege_escalation, Some(false));
        assert_eq!(container.capabilities.unwrap().drop.unwrap(), ["ALL"]);
    }

    #[test]
    fn baseline_keeps_the_images_user_and_a_template_keeps_its_own_choices() {
        let mut spec = pod(&["data", "backup"]);
        PodSecurityLevel::Baseline.apply(&mut spec);
        let context = spec.security_context.unwrap();
        assert_eq!(context.run_as_user, None);
        assert_eq!(context.seccomp_profile.unwrap().type_, "RuntimeDefault");
        assert!(spec.containers[0].security_context.is_none());

        let mut own = pod(&["data"]);
        own.containers[0].security_context = Some(SecurityContext {
            run_as_user: Some(0),
            ..Default::default()
        });
        PodSecurityLevel::Restricted.apply(&mut own);
        assert_eq!(
            own.containers[0]
                .security_context
                .as_ref()
                .unwrap()
                .run_as_user,
            Some(0)
        );
    }
}
