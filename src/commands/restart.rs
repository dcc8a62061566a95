//! `kubectl mysql restart NAME`: restarts the instance's servers through their
//! Deployments (a new value of the restart annotation, copied into each pod template),
//! applying with it any change that `spec.updatePolicy: manual` held back.

use std::process::ExitCode;

use kube::api::{Api, Patch, PatchParams};

use super::{Target, explain};
use kubectl_mysql::api::keys::RESTART_ANNOTATION;
use kubectl_mysql::api::{MySQL, validate};
use kubectl_mysql::kubeclient::ClusterArgs;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The instance.
    pub name: String,
}

pub async fn restart(cluster: &ClusterArgs, args: Args) -> anyhow::Result<ExitCode> {
    let name = &args.name;
    validate::instance_name(name).map_err(anyhow::Error::msg)?;
    let target = Target::connect(cluster).await?;
    let instances: Api<MySQL> = Api::namespaced(target.client, &target.namespace);
    let asked_at = jiff::Timestamp::now().to_string();
    let patch = serde_json::json!({"metadata": {"annotations": {RESTART_ANNOTATION: asked_at}}});
    instances
        .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(|e| {
            explain(
                e,
                &format!("MySQL {name} in namespace {}", target.namespace),
            )
        })?;
    println!(
        "mysql.otus.homework/{name} restart requested at {asked_at}; `kubectl mysql status {name}` follows it"
    );
    Ok(ExitCode::SUCCESS)
}
