//! `kubectl mysql run-operator`: the controllers in the foreground, like `kopf run`.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use crate::kubeclient::ClusterArgs;
use crate::reconcile::controller::{self, Scope};
use crate::reconcile::{Metrics, http};
use crate::render::Renderer;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Watch only this namespace (repeatable). Default: all namespaces.
    #[arg(short = 'n', long = "namespace", value_name = "NAMESPACE")]
    pub namespaces: Vec<String>,
    /// Watch all namespaces (the default when no -n is given).
    #[arg(short = 'A', long, conflicts_with = "namespaces")]
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
}

pub async fn run(
    cluster: &ClusterArgs,
    renderer: Renderer,
    args: Args,
) -> anyhow::Result<ExitCode> {
    let metrics = Arc::new(Metrics::default());
    let connection = cluster.connect_counted(metrics.requests.clone()).await?;
    // Fail fast with a clear line rather than a watch that errors forever.
    super::require_crds(&connection.client).await?;
    for addr in [args.health_addr, args.metrics_addr].into_iter().flatten() {
        tokio::spawn(http::serve(addr, metrics.clone()));
    }
    tracing::info!(
        cluster = connection.cluster_url,
        namespaces = if args.namespaces.is_empty() {
            "all".to_string()
        } else {
            args.namespaces.join(",")
        },
        "operator started; Ctrl-C stops it after the reconciles in flight"
    );
    let scope = Scope {
        namespaces: args.namespaces,
        concurrency: args.concurrency,
    };
    controller::run(connection.client, renderer, metrics, scope).await;
    tracing::info!("operator stopped");
    Ok(ExitCode::SUCCESS)
}
