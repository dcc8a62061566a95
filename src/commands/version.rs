//! `kubectl mysql version`: the plugin's version and commit, and, when a cluster
//! answers, the versions of the CRDs and of every operator installed there, with a
//! warning when they differ from the plugin's (a plugin and an operator of different
//! versions can disagree on the status they read and write).

use std::process::ExitCode;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::ResourceExt;
use kube::api::{Api, ListParams};

use kubectl_mysql::api::keys::VERSION_LABEL;
use kubectl_mysql::install::OPERATOR_NAME;
use kubectl_mysql::kubeclient::ClusterArgs;

/// This plugin's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// How long the cluster may take to answer before the plugin's line is all there is.
const CLUSTER_WAIT: Duration = Duration::from_secs(5);

pub async fn run(cluster: &ClusterArgs) -> anyhow::Result<ExitCode> {
    let mut out = vec![format!(
        "kubectl-mysql {VERSION} (commit {})",
        env!("KUBECTL_MYSQL_COMMIT")
    )];
    // The plugin's own line first, even when the cluster is slow to answer.
    say(&out);
    out.clear();
    match tokio::time::timeout(CLUSTER_WAIT, installed(cluster)).await {
        Ok(Ok(lines)) => out.extend(lines),
        Ok(Err(why)) => out.push(format!("cluster: not asked ({why})")),
        Err(_) => out.push(format!(
            "cluster: no answer within {}s",
            CLUSTER_WAIT.as_secs()
        )),
    }
    say(&out);
    Ok(ExitCode::SUCCESS)
}

/// Lines on stdout; a reader that stopped reading (`| head -1`) is no error.
fn say(lines: &[String]) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    for line in lines {
        if writeln!(stdout, "{line}").is_err() {
            return;
        }
    }
}

/// A line for each CRD and each operator Deployment, and a warning for each version
/// that is not the plugin's.
async fn installed(cluster: &ClusterArgs) -> anyhow::Result<Vec<String>> {
    let client = cluster.connect().await?.client;
    let mut lines = Vec::new();
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in kubectl_mysql::api::crds() {
        let name = crd.name_any();
        let line = match crds.get_opt(&name).await? {
            None => format!("crd {name}: not installed (kubectl mysql install-crd)"),
            Some(live) => describe(&format!("crd {name}"), live.labels().get(VERSION_LABEL)),
        };
        lines.push(line);
    }
    let deployments: Api<Deployment> = Api::all(client);
    let selector = format!("app.kubernetes.io/name={OPERATOR_NAME}");
    let operators = deployments
        .list(&ListParams::default().labels(&selector))
        .await?;
    if operators.items.is_empty() {
        lines.push("operator: none installed in the cluster (kubectl mysql install-operator, or run-operator)".into());
    }
    for deployment in operators.items {
        let image = deployment
            .spec
            .as_ref()
            .and_then(|s| s.template.spec.as_ref())
            .and_then(|s| s.containers.first())
            .and_then(|c| c.image.clone())
            .unwrap_or_default();
        let what = format!(
            "operator {}/{} (image {image})",
            deployment.namespace().unwrap_or_default(),
            deployment.name_any()
        );
        lines.push(describe(&what, deployment.labels().get(VERSION_LABEL)));
    }
    Ok(lines)
}

/// `WHAT: VERSION`, with a warning when it is not the plugin's.
fn describe(what: &str, version: Option<&String>) -> String {
    match version {
        Some(v) if v == VERSION => format!("{what}: {v}"),
        Some(v) => format!(
            "{what}: {v}\nwarning: {what} is {v}, this plugin is {VERSION}: upgrade them together (kubectl mysql install-crd; kubectl mysql install-operator)"
        ),
        None => format!(
            "{what}: no version label (installed before 0.1.0)\nwarning: {what} may not match this plugin ({VERSION}): install it again with this plugin"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_other_than_the_plugins_is_a_warning() {
        let same = describe("operator a/b", Some(&VERSION.to_string()));
        assert!(!same.contains("warning"), "{same}");
        let other = describe("operator a/b", Some(&"0.0.1".to_string()));
        assert!(other.contains("warning: operator a/b is 0.0.1, this plugin is"));
        assert!(describe("crd x", None).contains("warning"));
    }
}
