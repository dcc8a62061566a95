//! A server's pod restarts only when it is said: the parts of its pod template are
//! hashed into an annotation on its Deployment, so a change (the spec's, or a new
//! operator version's template) is named in an Event before the Deployment rolls,
//! and with `spec.updatePolicy: manual` it waits for `kubectl mysql restart NAME`.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::PodSpec;
use kube::ResourceExt;

use crate::api::keys::{
    CERTIFICATE_VERSION_ANNOTATION, POD_TEMPLATE_ANNOTATION, RESTART_ANNOTATION,
};
use crate::api::{EventReason, UpdatePolicy};
use crate::manifests::sha256_hex;
use crate::reconcile::Notice;

/// A part of the pod template whose change restarts the server, and how a person
/// would name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TemplatePart {
    Image,
    Options,
    Resources,
    Scheduling,
    /// The TLS certificate's version (a renewal, or a user's Secret that changed).
    Certificate,
    RestartRequest,
    /// Anything else: the operator's template (a new version, or `--templates`).
    Operator,
}

impl TemplatePart {
    const ALL: [TemplatePart; 7] = [
        TemplatePart::Image,
        TemplatePart::Options,
        TemplatePart::Resources,
        TemplatePart::Scheduling,
        TemplatePart::Certificate,
        TemplatePart::RestartRequest,
        TemplatePart::Operator,
    ];

    fn key(self) -> &'static str {
        match self {
            TemplatePart::Image => "image",
            TemplatePart::Options => "options",
            TemplatePart::Resources => "resources",
            TemplatePart::Scheduling => "scheduling",
            TemplatePart::Certificate => "certificate",
            TemplatePart::RestartRequest => "restart",
            TemplatePart::Operator => "template",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            TemplatePart::Image => "spec.image",
            TemplatePart::Options => {
                "the server's options (spec.mysqlConfig, the ConfigMap of spec.mysqlConfigMapName, the buffer pool from the memory limit)"
            }
            TemplatePart::Resources => "spec.resources",
            TemplatePart::Scheduling => {
                "scheduling (nodeSelector, tolerations, affinity, priorityClassName)"
            }
            TemplatePart::Certificate => "the TLS certificate (renewed, or its Secret changed)",
            TemplatePart::RestartRequest => "a restart request (kubectl mysql restart)",
            TemplatePart::Operator => {
                "the operator's pod template (a new operator version, or --templates)"
            }
        }
    }
}

/// The hash of each part of a rendered server Deployment's pod template, as the
/// annotation writes them: `image=…,options=…,…`.
pub fn template_parts(deployment: &Deployment) -> String {
    let template = deployment.spec.as_ref().map(|s| &s.template);
    let pod: Option<&PodSpec> = template.and_then(|t| t.spec.as_ref());
    let server = pod.and_then(|p| p.containers.iter().find(|c| c.name == "mysql"));
    let hash =
        |value: serde_json::Value| sha256_hex(value.to_string().as_bytes())[..12].to_string();
    let template_annotation = |key: &str| {
        template
            .and_then(|t| t.metadata.as_ref())
            .and_then(|m| m.annotations.as_ref())
            .and_then(|a| a.get(key))
            .cloned()
            .unwrap_or_default()
    };
    let value = |part: TemplatePart| -> String {
        match part {
            TemplatePart::Image => hash(serde_json::json!(server.map(|c| &c.image))),
            TemplatePart::Options => hash(serde_json::json!(server.map(|c| &c.args))),
            TemplatePart::Resources => hash(serde_json::json!(server.map(|c| &c.resources))),
            TemplatePart::Scheduling => hash(serde_json::json!(pod.map(|p| (
                &p.node_selector,
                &p.tolerations,
                &p.affinity,
                &p.priority_class_name
            )))),
            TemplatePart::Certificate => template_annotation(CERTIFICATE_VERSION_ANNOTATION),
            TemplatePart::RestartRequest => template_annotation(RESTART_ANNOTATION),
            TemplatePart::Operator => hash(serde_json::json!(template)),
        }
    };
    TemplatePart::ALL
        .iter()
        .map(|part| format!("{}={}", part.key(), value(*part)))
        .collect::<Vec<_>>()
        .join(",")
}

/// The parts that differ between two annotations (the whole template too when only
/// it does, or when the live one has none: an earlier operator version made it). A
/// part the live annotation does not name yet (an earlier version knew no such part)
/// changed only if the whole template did.
pub fn changed_parts(desired: &str, live: Option<&str>) -> Vec<TemplatePart> {
    let Some(live) = live else {
        return vec![TemplatePart::Operator];
    };
    let value = |text: &str, part: TemplatePart| -> Option<String> {
        text.split(',')
            .find_map(|kv| kv.strip_prefix(&format!("{}=", part.key())))
            .map(str::to_string)
    };
    let template_changed =
        value(desired, TemplatePart::Operator) != value(live, TemplatePart::Operator);
    let changed: Vec<TemplatePart> = TemplatePart::ALL
        .into_iter()
        .filter(|p| match value(live, *p) {
            Some(was) => value(desired, *p) != Some(was),
            None => template_changed,
        })
        .collect();
    // The whole template changes with any part: named alone only when nothing else did.
    if changed.len() > 1 {
        changed
            .into_iter()
            .filter(|p| *p != TemplatePart::Operator)
            .collect()
    } else {
        changed
    }
}

/// What to do with a server Deployment whose pod template may change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rollout {
    /// New, or its pod template is unchanged: apply it.
    Quiet,
    /// The pod restarts now, for these reasons.
    Restart(Vec<TemplatePart>),
    /// `updatePolicy: manual`: the Deployment is left as it is until a restart is
    /// requested; these changes wait.
    Wait(Vec<TemplatePart>),
}

/// Decides, for the desired Deployment (annotated here) and the live one.
pub fn decide(
    desired: &mut Deployment,
    live: Option<&Deployment>,
    policy: UpdatePolicy,
) -> Rollout {
    let parts = template_parts(desired);
    desired
        .annotations_mut()
        .insert(POD_TEMPLATE_ANNOTATION.to_string(), parts.clone());
    let Some(live) = live else {
        return Rollout::Quiet;
    };
    let changed = changed_parts(
        &parts,
        live.annotations()
            .get(POD_TEMPLATE_ANNOTATION)
            .map(String::as_str),
    );
    if changed.is_empty() {
        return Rollout::Quiet;
    }
    // A Deployment with no pod (stopped for a physical restore) loses nothing.
    let has_pods = live.status.as_ref().and_then(|s| s.replicas).unwrap_or(0) > 0;
    let requested = changed.contains(&TemplatePart::RestartRequest);
    if policy == UpdatePolicy::Manual && has_pods && !requested {
        Rollout::Wait(changed)
    } else {
        Rollout::Restart(changed)
    }
}

/// The reasons as one phrase.
pub fn reasons(parts: &[TemplatePart]) -> String {
    parts
        .iter()
        .map(|p| p.describe())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Decides for a server Deployment about to be applied: annotates it, says a restart
/// in an Event, and returns the line status.pendingRestart gets when it waits (the
/// Deployment is then not applied).
pub fn announce(
    desired: &mut Deployment,
    live: Option<&Deployment>,
    policy: UpdatePolicy,
    events: &mut Vec<Notice>,
) -> Option<String> {
    let name = desired.name_any();
    match decide(desired, live, policy) {
        Rollout::Quiet => None,
        Rollout::Restart(parts) => {
            events.push(restart_notice(&name, &parts));
            None
        }
        Rollout::Wait(parts) => Some(format!(
            "{name} waits for `kubectl mysql restart` to apply: {}",
            reasons(&parts)
        )),
    }
}

/// The Event a restart gets.
pub fn restart_notice(deployment: &str, parts: &[TemplatePart]) -> Notice {
    Notice::normal(
        EventReason::ServerRestarting,
        format!(
            "the server's pod ({deployment}) restarts to apply: {}",
            reasons(parts)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::MySQL;
    use crate::names::InstanceNames;
    use crate::render::{InstanceContext, Renderer};
    use k8s_openapi::api::apps::v1::DeploymentStatus;

    fn server(spec: serde_json::Value, restart: Option<&str>) -> Deployment {
        let mut instance: MySQL = serde_json::from_value(serde_json::json!({
            "apiVersion": "otus.homework/v1", "kind": "MySQL",
            "metadata": {"name": "db", "namespace": "ns", "uid": "u1"},
            "spec": spec
        }))
        .unwrap();
        if let Some(token) = restart {
            instance
                .annotations_mut()
                .insert(RESTART_ANNOTATION.into(), token.into());
        }
        let ctx = InstanceContext::new(&instance, &InstanceNames::new("db", "ns"));
        crate::manifests::children(&Renderer::embedded(), &ctx)
            .unwrap()
            .deployment
    }

    fn spec() -> serde_json::Value {
        serde_json::json!({"image": "mariadb:10.11", "database": "d", "password": "p", "storage_size": "1Gi"})
    }

    /// What the cache holds of the Deployment applied from `desired`: its annotation and
    /// whether it has a pod.
    fn live(desired: &Deployment, pods: i32) -> Deployment {
        let mut applied = desired.clone();
        decide(&mut applied, None, UpdatePolicy::Auto);
        applied.spec = None;
        applied.status = Some(DeploymentStatus {
            replicas: Some(pods),
            ..Default::default()
        });
        applied
    }

    #[test]
    fn a_new_or_unchanged_server_is_quiet() {
        let mut desired = server(spec(), None);
        assert_eq!(
            decide(&mut desired, None, UpdatePolicy::Auto),
            Rollout::Quiet
        );
        let before = live(&server(spec(), None), 1);
        assert_eq!(
            decide(&mut desired, Some(&before), UpdatePolicy::Manual),
            Rollout::Quiet
        );
    }

    #[test]
    fn a_change_says_which_part_and_manual_waits_for_a_restart() {
        let before = live(&server(spec(), None), 1);
        let mut changed = spec();
        changed["mysqlConfig"] = serde_json::json!({"max_connections": 50});
        changed["resources"] = serde_json::json!({"limits": {"memory": "2Gi"}});
        let mut desired = server(changed.clone(), None);
        let parts = vec![TemplatePart::Options, TemplatePart::Resources];
        assert_eq!(
            decide(&mut desired.clone(), Some(&before), UpdatePolicy::Auto),
            Rollout::Restart(parts.clone())
        );
        assert_eq!(
            decide(&mut desired, Some(&before), UpdatePolicy::Manual),
            Rollout::Wait(parts.clone())
        );
        // Asked for: the held changes go with the restart.
        let mut asked = server(changed, Some("2026-12-05T08:00:00Z"));
        let Rollout::Restart(with) = decide(&mut asked, Some(&before), UpdatePolicy::Manual) else {
            panic!("a requested restart waits");
        };
        assert!(
            with.contains(&TemplatePart::RestartRequest) && with.contains(&TemplatePart::Options)
        );
        // A server with no pod (a physical restore stopped it) restarts at no cost.
        let stopped = live(&server(spec(), None), 0);
        let mut image = spec();
        image["image"] = "mariadb:11.4".into();
        assert_eq!(
            decide(
                &mut server(image, None),
                Some(&stopped),
                UpdatePolicy::Manual
            ),
            Rollout::Restart(vec![TemplatePart::Image])
        );
    }

    #[test]
    fn a_deployment_from_an_earlier_version_is_the_operators_change() {
        let mut before = live(&server(spec(), None), 1);
        before.metadata.annotations = None;
        let mut desired = server(spec(), None);
        assert_eq!(
            decide(&mut desired, Some(&before), UpdatePolicy::Auto),
            Rollout::Restart(vec![TemplatePart::Operator])
        );
        let mut events = Vec::new();
        let waits = announce(
            &mut desired,
            Some(&before),
            UpdatePolicy::Manual,
            &mut events,
        );
        assert!(waits.unwrap().contains("a new operator version"));
        assert!(events.is_empty());
        announce(&mut desired, Some(&before), UpdatePolicy::Auto, &mut events);
        assert_eq!(events[0].reason, EventReason::ServerRestarting);
        assert!(events[0].message.contains("restarts to apply"));
    }

    /// The server of an instance with TLS, its certificate at `version`.
    fn tls_server(version: &str) -> Deployment {
        let mut tls = spec();
        tls["tls"] = serde_json::json!({});
        let mut deployment = server(tls, None);
        let template = &mut deployment.spec.as_mut().unwrap().template;
        template
            .metadata
            .get_or_insert_with(Default::default)
            .annotations
            .get_or_insert_with(Default::default)
            .insert(CERTIFICATE_VERSION_ANNOTATION.into(), version.into());
        deployment
    }

    #[test]
    fn a_renewed_certificate_is_named_and_a_part_new_to_this_version_only_with_the_template() {
        let before = live(&tls_server("1"), 1);
        assert_eq!(
            decide(&mut tls_server("2"), Some(&before), UpdatePolicy::Auto),
            Rollout::Restart(vec![TemplatePart::Certificate])
        );
        // Written by a version that knew no certificate part: the same template is
        // quiet, a changed one names the certificate.
        let mut earlier = before.clone();
        let annotations = earlier.metadata.annotations.as_mut().unwrap();
        let parts = annotations[POD_TEMPLATE_ANNOTATION]
            .split(',')
            .filter(|kv| !kv.starts_with("certificate="))
            .collect::<Vec<_>>()
            .join(",");
        annotations.insert(POD_TEMPLATE_ANNOTATION.into(), parts);
        assert_eq!(
            decide(&mut tls_server("1"), Some(&earlier), UpdatePolicy::Auto),
            Rollout::Quiet
        );
        assert_eq!(
            decide(&mut tls_server("2"), Some(&earlier), UpdatePolicy::Auto),
            Rollout::Restart(vec![TemplatePart::Certificate])
        );
    }
}
