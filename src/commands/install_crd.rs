use std::process::ExitCode;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::wait::{await_condition, conditions};

use super::explain;
use super::flags::WaitArgs;
use kubectl_mysql::api;
use kubectl_mysql::api::keys::MANAGED_BY;
use kubectl_mysql::kubeclient::ClusterArgs;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print the CRDs as YAML instead of applying them.
    #[arg(long)]
    pub dry_run: bool,
    /// Output format; `yaml` prints the CRDs without applying them.
    #[arg(short = 'o', long, value_parser = ["yaml"])]
    pub output: Option<String>,
    #[command(flatten)]
    pub wait: WaitArgs,
}

pub async fn run(cluster: &ClusterArgs, args: Args) -> anyhow::Result<ExitCode> {
    if args.dry_run || args.output.is_some() {
        print!("{}", api::crds_yaml());
        return Ok(ExitCode::SUCCESS);
    }
    apply_crds(cluster, &args.wait).await?;
    Ok(ExitCode::SUCCESS)
}

/// Applies every CRD and waits until each is Established.
pub async fn apply_crds(cluster: &ClusterArgs, wait: &WaitArgs) -> anyhow::Result<()> {
    let timeout = wait.timeout;
    let client = cluster.connect().await?.client;
    let crds: Api<CustomResourceDefinition> = Api::all(client);
    let params = PatchParams::apply(MANAGED_BY).force();
    for crd in api::crds() {
        let name = crd.metadata.name.clone().unwrap_or_default();
        crds.patch(&name, &params, &Patch::Apply(&crd))
            .await
            .map_err(|e| explain(e, &format!("applying CRD {name}")))?;
        if !wait.wait {
            println!("customresourcedefinition.apiextensions.k8s.io/{name} applied");
            continue;
        }
        let established = await_condition(crds.clone(), &name, conditions::is_crd_established());
        match tokio::time::timeout(timeout, established).await {
            Ok(Ok(_)) => {
                println!("customresourcedefinition.apiextensions.k8s.io/{name} established")
            }
            Ok(Err(e)) => anyhow::bail!("waiting for CRD {name}: {e}"),
            Err(_) => anyhow::bail!(
                "CRD {name} was not Established within {}s",
                timeout.as_secs()
            ),
        }
    }
    Ok(())
}
