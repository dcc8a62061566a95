//! `kubectl mysql run-operator`: the controllers in the foreground, like `kopf run`.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use kubectl_mysql::kubeclient::ClusterArgs;

use kubectl_mysql::reconcile::controller::{self, LeaderElection, Scope};
use kubectl_mysql::reconcile::shutdown::Shutdown;
use kubectl_mysql::reconcile::{Metrics, http};
use kubectl_mysql::render::Renderer;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Watch all namespaces (the default when no -n is given; -n, repeatable, watches
    /// only those).
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// How many objects may be reconciled at once.
    #[arg(long, default_value_t = 16)]
    pub concurrency: u16,
    /// Serve /healthz on this address (e.g. 127.0.0.1:8081).
    #[arg(long, value_name = "ADDR")]
    pub health_addr: Option<SocketAddr>,
    /// Serve Prometheus metrics on /metrics at this address.
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<SocketAddr>,
    /// Reconcile only while holding a Lease, so that of several replicas one works.
    #[arg(long)]
    pub leader_elect: bool,
    /// Namespace of the Lease (default: $POD_NAMESPACE, then the context's namespace).
    #[arg(long, value_name = "NAMESPACE", requires = "leader_elect")]
    pub lease_namespace: Option<String>,
    /// Name of the Lease.
    #[arg(
        long,
        default_value = "kubectl-mysql-operator",
        requires = "leader_elect"
    )]
    pub lease_name: String,
    /// How long a holder that stopped renewing keeps the Lease (failover time).
    #[arg(long, default_value = "15s", value_parser = super::output::parse_duration, requires = "leader_elect")]
    pub lease_duration: std::time::Duration,
    /// The image of this tool that the Jobs moving dumps to and from object storage
    /// run (install-operator passes its own). Default: kubectl-mysql:VERSION.
    #[arg(long, value_name = "IMAGE", env = "KUBECTL_MYSQL_OPERATOR_IMAGE")]
    pub operator_image: Option<String>,
}

pub async fn run(
    cluster: &ClusterArgs,
    renderer: Renderer,
    args: Args,
) -> anyhow::Result<ExitCode> {
    let namespaces = cluster.namespace.clone();
    anyhow::ensure!(
        !args.all_namespaces || namespaces.is_empty(),
        "-A and -n exclude each other: -A watches every namespace"
    );
    // Before anything answers: a SIGTERM from then on is never lost.
    let shutdown = Shutdown::listen().context("cannot listen for SIGTERM")?;
    let metrics = Arc::new(Metrics::default());
    let connection = cluster.connect_counted(metrics.requests.clone()).await?;
    // Fail fast with a clear line rather than a watch that errors forever.
    super::require_crds(&connection.client).await?;
    // One endpoint serves every path; the two flags may name one address.
    let addrs: std::collections::BTreeSet<SocketAddr> = [args.health_addr, args.metrics_addr]
        .into_iter()
        .flatten()
        .collect();
    for addr in addrs {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        tokio::spawn(http::serve(listener, metrics.clone()));
    }
    tracing::info!(
        cluster = connection.cluster_url,
        namespaces = if namespaces.is_empty() {
            "all".to_string()
        } else {
            namespaces.join(",")
        },
        "operator started; Ctrl-C stops it after the reconciles in flight"
    );
    let leader_election = args.leader_elect.then(|| LeaderElection {
        namespace: args
            .lease_namespace
            .clone()
            .or_else(|| std::env::var("POD_NAMESPACE").ok())
            .unwrap_or_else(|| connection.default_namespace.clone()),
        lease_name: args.lease_name.clone(),
        identity: identity(),
        lease_duration: args.lease_duration,
    });
    let scope = Scope {
        namespaces,
        concurrency: args.concurrency,
        leader_election,
        shutdown,
    };
    let renderer = match args.operator_image {
        Some(image) => renderer.with_operator_image(image),
        None => renderer,
    };
    controller::run(connection.client, renderer, metrics, scope).await?;
    tracing::info!("operator stopped");
    Ok(ExitCode::SUCCESS)
}

/// This replica's name in the Lease: the pod's, or host and process for a local run.
fn identity() -> String {
    std::env::var("POD_NAME").unwrap_or_else(|_| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        format!("{}-{}", host.trim(), std::process::id())
    })
}
