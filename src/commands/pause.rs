//! `kubectl mysql pause NAME` / `resume NAME`: an annotation that stops the operator
//! from reconciling an instance (no applies, no Jobs, no deletion backup) until it is
//! removed; the instance's status says Paused meanwhile.

use std::process::ExitCode;

use kube::api::{Api, Patch, PatchParams};

use super::{Target, explain};
use kubectl_mysql::api::keys::PAUSED_ANNOTATION;
use kubectl_mysql::api::{MySQL, validate};
use kubectl_mysql::kubeclient::ClusterArgs;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The instance.
    pub name: String,
}

pub async fn pause(cluster: &ClusterArgs, args: Args) -> anyhow::Result<ExitCode> {
    set_paused(cluster, &args.name, true).await?;
    println!(
        "mysql.otus.homework/{} paused; `kubectl mysql resume {}` picks up where it left",
        args.name, args.name
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn resume(cluster: &ClusterArgs, args: Args) -> anyhow::Result<ExitCode> {
    set_paused(cluster, &args.name, false).await?;
    println!("mysql.otus.homework/{} resumed", args.name);
    Ok(ExitCode::SUCCESS)
}

async fn set_paused(cluster: &ClusterArgs, name: &str, paused: bool) -> anyhow::Result<()> {
    annotate_instance(cluster, name, PAUSED_ANNOTATION, paused.then_some("true")).await
}

/// Sets (or with None, removes) one annotation of instance `name`.
pub async fn annotate_instance(
    cluster: &ClusterArgs,
    name: &str,
    key: &str,
    value: Option<&str>,
) -> anyhow::Result<()> {
    validate::instance_name(name).map_err(anyhow::Error::msg)?;
    let target = Target::connect(cluster).await?;
    let instances: Api<MySQL> = Api::namespaced(target.client, &target.namespace);
    let patch = serde_json::json!({"metadata": {"annotations": {key: value}}});
    instances
        .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(|e| {
            explain(
                e,
                &format!("MySQL {name} in namespace {}", target.namespace),
            )
        })?;
    Ok(())
}
