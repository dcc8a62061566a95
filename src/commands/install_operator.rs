//! `kubectl mysql install-operator`: the CRDs, then the operator's namespace, account,
//! least-privilege RBAC and Deployment, all server-side applied; `--wait` follows the
//! rollout. `kubectl mysql uninstall-operator` removes them again.

use std::process::ExitCode;

use super::flags::WaitArgs;
use super::progress::{Poll, wait_until};
use kubectl_mysql::install::{
    DEFAULT_NAMESPACE, InstallError, OperatorInstall, Rollout, apply_all, delete_all, delete_lease,
    rollout,
};
use kubectl_mysql::kubeclient::ClusterArgs;
use kubectl_mysql::render::Renderer;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The operator's image (build it with the Dockerfile and load it into the cluster).
    #[arg(long, default_value = concat!("kubectl-mysql:", env!("CARGO_PKG_VERSION")))]
    pub image: String,
    /// How many replicas; one leads through a Lease, the others stand by.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=10))]
    pub replicas: u16,
    /// Watch only this namespace (repeatable). Default: all namespaces.
    #[arg(long = "watch-namespace", value_name = "NAMESPACE")]
    pub watch_namespaces: Vec<String>,
    /// Print the manifests as YAML; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub wait: WaitArgs,
}

/// An image reference as a pod spec takes it: not empty, no whitespace.
fn image_reference(value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err(
            "--image is empty: name the operator's image (e.g. kubectl-mysql:0.1.0)".into(),
        );
    }
    if value.chars().any(char::is_whitespace) {
        return Err(format!(
            "--image {value:?} is not an image reference: it has whitespace"
        ));
    }
    Ok(())
}

/// `uninstall-operator` takes only the global flags (`-n`: the operator's namespace).
#[derive(clap::Args, Debug)]
pub struct UninstallArgs {}

/// The operator's namespace: `-n`, else kubectl-mysql-system.
fn operator_namespace(cluster: &ClusterArgs) -> anyhow::Result<String> {
    Ok(super::one_namespace(cluster)?.unwrap_or_else(|| DEFAULT_NAMESPACE.to_string()))
}

impl Args {
    fn install(&self, namespace: String) -> OperatorInstall {
        OperatorInstall {
            namespace,
            image: self.image.clone(),
            replicas: self.replicas,
            watch_namespaces: self.watch_namespaces.clone(),
        }
    }
}

pub async fn run(
    cluster: &ClusterArgs,
    renderer: &Renderer,
    args: Args,
) -> anyhow::Result<ExitCode> {
    image_reference(&args.image).map_err(anyhow::Error::msg)?;
    let namespace = operator_namespace(cluster)?;
    let install = args.install(namespace.clone());
    if args.dry_run {
        print!("{}", kubectl_mysql::api::crds_yaml());
        println!("---");
        print!("{}", install.yaml(renderer).map_err(one_line)?);
        return Ok(ExitCode::SUCCESS);
    }
    let objects = install.objects(renderer).map_err(one_line)?;
    super::install_crd::apply_crds(cluster, &args.wait).await?;
    let client = cluster.connect().await?.client;
    for applied in apply_all(&client, &objects).await.map_err(one_line)? {
        println!("{applied} applied");
    }
    if !args.wait.wait {
        return Ok(ExitCode::SUCCESS);
    }
    let what = format!("the operator in namespace {namespace}");
    wait_until(&what, args.wait.timeout, || async {
        Ok(
            match rollout(&client, &namespace, args.replicas)
                .await
                .map_err(one_line)?
            {
                Rollout::Available => Poll::Done(()),
                Rollout::Stuck(reason) => Poll::Failed(reason),
                Rollout::Progressing(phase) => Poll::Pending(phase),
            },
        )
    })
    .await?;
    println!("the operator is available ({} replicas)", args.replicas);
    Ok(ExitCode::SUCCESS)
}

pub async fn uninstall(
    cluster: &ClusterArgs,
    renderer: &Renderer,
    _args: UninstallArgs,
) -> anyhow::Result<ExitCode> {
    let namespace = operator_namespace(cluster)?;
    let install = OperatorInstall {
        namespace: namespace.clone(),
        image: String::new(),
        replicas: 1,
        watch_namespaces: Vec::new(),
    };
    let objects = install.objects(renderer).map_err(one_line)?;
    let client = cluster.connect().await?.client;
    delete_lease(&client, &namespace).await.map_err(one_line)?;
    for deleted in delete_all(&client, &objects).await.map_err(one_line)? {
        println!("{deleted} deleted");
    }
    println!(
        "namespace {namespace}, the CRDs, the instances and their backups are kept; the instances are not reconciled until an operator runs again"
    );
    Ok(ExitCode::SUCCESS)
}

/// An API refusal as the one line a person acts on: which permission is missing.
fn one_line(error: InstallError) -> anyhow::Error {
    match error {
        InstallError::Api { what, source } => super::explain(source, &what),
        other => anyhow::anyhow!("{other}"),
    }
}
