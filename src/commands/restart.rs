//! `kubectl mysql restart NAME`: restarts the instance's servers through their
//! Deployments (a new value of the restart annotation, copied into each pod template),
//! applying with it any change that `spec.updatePolicy: manual` held back.

use std::process::ExitCode;

use kubectl_mysql::api::keys::RESTART_ANNOTATION;
use kubectl_mysql::kubeclient::ClusterArgs;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The instance.
    pub name: String,
}

pub async fn restart(cluster: &ClusterArgs, args: Args) -> anyhow::Result<ExitCode> {
    let name = &args.name;
    let asked_at = jiff::Timestamp::now().to_string();
    super::pause::annotate_instance(cluster, name, RESTART_ANNOTATION, Some(&asked_at)).await?;
    println!(
        "mysql.otus.homework/{name} restart requested at {asked_at}; `kubectl mysql status {name}` follows it"
    );
    Ok(ExitCode::SUCCESS)
}
