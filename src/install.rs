//! The operator in the cluster: its manifests (rendered from `operator.yaml.tera`), and
//! installing, removing and watching the rollout of them. `kubectl mysql
//! install-operator` and `uninstall-operator` are glue over this.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Namespace, Pod, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::{Client, ResourceExt};
use serde::Serialize;

use crate::api::keys::{MANAGED_BY, MANAGED_BY_LABEL, VERSION_LABEL};
use crate::render::{RenderError, Renderer};

/// The name of every object the operator's install creates (its ClusterRole, its
/// Deployment, ...), so `uninstall-operator` finds them; also its leader Lease's.
pub const OPERATOR_NAME: &str = "kubectl-mysql-operator";
/// Where the operator is installed unless `-n` says otherwise.
pub const DEFAULT_NAMESPACE: &str = "kubectl-mysql-system";
/// The port of /healthz, /readyz and /metrics in the operator's pod.
pub const HTTP_PORT: u16 = 8081;

/// What `install-operator` was asked for.
#[derive(Clone, Debug)]
pub struct OperatorInstall {
    pub namespace: String,
    pub image: String,
    pub replicas: u16,
    /// Namespaces the operator watches; empty for all.
    pub watch_namespaces: Vec<String>,
}

#[derive(Serialize)]
struct OperatorContext<'a> {
    name: &'a str,
    namespace: &'a str,
    image: &'a str,
    replicas: u16,
    args: Vec<String>,
    labels: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error("operator.yaml.tera: {0}")]
    Manifest(String),
    #[error("{what}: {source}")]
    Api {
        what: String,
        #[source]
        source: kube::Error,
    },
}

impl OperatorInstall {
    fn context(&self) -> OperatorContext<'_> {
        let addr = format!("0.0.0.0:{HTTP_PORT}");
        let mut args = vec![
            "run-operator".to_string(),
            "--leader-elect".into(),
            "--health-addr".into(),
            addr.clone(),
            "--metrics-addr".into(),
            addr,
            "--log-format".into(),
            "json".into(),
            // The Jobs that move dumps to object storage run this same image.
            "--operator-image".into(),
            self.image.clone(),
        ];
        for ns in &self.watch_namespaces {
            args.push("-n".into());
            args.push(ns.clone());
        }
        OperatorContext {
            name: OPERATOR_NAME,
            namespace: &self.namespace,
            image: &self.image,
            replicas: self.replicas,
            args,
            labels: BTreeMap::from([
                ("app.kubernetes.io/name".into(), OPERATOR_NAME.into()),
                (MANAGED_BY_LABEL.into(), MANAGED_BY.into()),
                (VERSION_LABEL.into(), env!("CARGO_PKG_VERSION").into()),
            ]),
        }
    }

    /// The manifests as one YAML stream (what `--dry-run` prints).
    pub fn yaml(&self, renderer: &Renderer) -> Result<String, InstallError> {
        Ok(renderer.render_text("operator.yaml.tera", &self.context())?)
    }

    /// The manifests as objects, in the order they are applied.
    pub fn objects(&self, renderer: &Renderer) -> Result<Vec<DynamicObject>, InstallError> {
        self.yaml(renderer)?
            .split("\n---")
            .filter(|doc| {
                doc.lines()
                    .any(|l| !l.trim().is_empty() && !l.starts_with('#'))
            })
            .map(|doc| {
                serde_saphyr::from_str(doc)
                    .map_err(|e| InstallError::Manifest(e.to_string().replace('\n', " ")))
            })
            .collect()
    }
}

/// The API resource of each kind the install holds.
fn resource_of(obj: &DynamicObject) -> Option<ApiResource> {
    let kind = obj.types.as_ref()?.kind.as_str();
    Some(match kind {
        "Namespace" => ApiResource::erase::<Namespace>(&()),
        "ServiceAccount" => ApiResource::erase::<ServiceAccount>(&()),
        "ClusterRole" => ApiResource::erase::<ClusterRole>(&()),
        "ClusterRoleBinding" => ApiResource::erase::<ClusterRoleBinding>(&()),
        "Role" => ApiResource::erase::<Role>(&()),
        "RoleBinding" => ApiResource::erase::<RoleBinding>(&()),
        "Deployment" => ApiResource::erase::<Deployment>(&()),
        _ => return None,
    })
}

fn api_for(
    client: &Client,
    obj: &DynamicObject,
) -> Result<(Api<DynamicObject>, String), InstallError> {
    let resource = resource_of(obj)
        .ok_or_else(|| InstallError::Manifest(format!("unexpected kind in {}", obj.name_any())))?;
    let what = format!("{} {}", resource.kind, obj.name_any());
    let api = match obj.namespace() {
        Some(ns) => Api::namespaced_with(client.clone(), &ns, &resource),
        None => Api::all_with(client.clone(), &resource),
    };
    Ok((api, what))
}

/// Server-side applies every object; running it twice changes nothing. Returns what
/// was applied, as `kind/name`.
pub async fn apply_all(
    client: &Client,
    objects: &[DynamicObject],
) -> Result<Vec<String>, InstallError> {
    let params = PatchParams::apply(MANAGED_BY).force();
    let mut applied = Vec::new();
    for obj in objects {
        let (api, what) = api_for(client, obj)?;
        api.patch(&obj.name_any(), &params, &Patch::Apply(obj))
            .await
            .map_err(|source| InstallError::Api {
                what: format!("applying {what}"),
                source,
            })?;
        applied.push(what);
    }
    Ok(applied)
}

/// Deletes what `apply_all` made but the namespace: it may be one the user had before,
/// holding other things (instances among them), so it is never ours to delete. CRDs and
/// instances are not touched either. Returns what was deleted.
pub async fn delete_all(
    client: &Client,
    objects: &[DynamicObject],
) -> Result<Vec<String>, InstallError> {
    let mut deleted = Vec::new();
    let not_namespace =
        |obj: &&DynamicObject| obj.types.as_ref().is_none_or(|t| t.kind != "Namespace");
    for obj in objects.iter().rev().filter(not_namespace) {
        let (api, what) = api_for(client, obj)?;
        match api
            .delete(&obj.name_any(), &DeleteParams::background())
            .await
        {
            Ok(_) => deleted.push(what),
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(source) => {
                return Err(InstallError::Api {
                    what: format!("deleting {what}"),
                    source,
                });
            }
        }
    }
    Ok(deleted)
}

/// Where the operator's rollout stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rollout {
    Available,
    Progressing(String),
    /// A pod cannot start for a reason that waiting will not fix (a wrong image).
    Stuck(String),
}

/// Reads the Deployment and its pods once.
pub async fn rollout(
    client: &Client,
    namespace: &str,
    replicas: u16,
) -> Result<Rollout, InstallError> {
    let api_error = |what: &str| {
        let what = what.to_string();
        move |source| InstallError::Api { what, source }
    };
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    let deployment = deployments
        .get_opt(OPERATOR_NAME)
        .await
        .map_err(api_error("reading the operator's Deployment"))?;
    let Some(deployment) = deployment else {
        return Ok(Rollout::Progressing(
            "the Deployment does not exist yet".into(),
        ));
    };
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let selector = format!("app.kubernetes.io/name={OPERATOR_NAME}");
    let pods = pods
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(api_error("listing the operator's pods"))?
        .items;
    if let Some(stuck) = pods.iter().find_map(stuck_reason) {
        return Ok(Rollout::Stuck(stuck));
    }
    let status = deployment.status.unwrap_or_default();
    let generation_seen = status.observed_generation >= deployment.metadata.generation;
    let available = status.available_replicas.unwrap_or(0);
    let updated = status.updated_replicas.unwrap_or(0);
    let wanted = i32::from(replicas);
    if generation_seen && available >= wanted && updated >= wanted {
        return Ok(Rollout::Available);
    }
    Ok(Rollout::Progressing(format!(
        "{available}/{wanted} replicas available, {updated} updated"
    )))
}

/// Why a pod's container cannot start, when waiting will not change it.
fn stuck_reason(pod: &Pod) -> Option<String> {
    let statuses = pod.status.as_ref()?.container_statuses.as_ref()?;
    statuses.iter().find_map(|s| {
        let waiting = s.state.as_ref()?.waiting.as_ref()?;
        let reason = waiting.reason.as_deref()?;
        matches!(
            reason,
            "ImagePullBackOff" | "ErrImagePull" | "InvalidImageName" | "CrashLoopBackOff"
        )
        .then(|| {
            let message = waiting.message.clone().unwrap_or_default();
            format!("pod {}: {reason} {message}", pod.name_any())
                .trim()
                .to_string()
        })
    })
}

/// Deletes the leader Lease, if any.
pub async fn delete_lease(client: &Client, namespace: &str) -> Result<(), InstallError> {
    let leases: Api<Lease> = Api::namespaced(client.clone(), namespace);
    match leases.delete(OPERATOR_NAME, &DeleteParams::default()).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(source) => Err(InstallError::Api {
            what: "deleting the leader Lease".into(),
            source,
        }),
    }
}
