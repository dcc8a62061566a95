//! Connecting to the cluster the way kubectl does: `--kubeconfig`, then `$KUBECONFIG`,
//! then `~/.kube/config`; `--context`; the context's namespace, then `default`.

use std::path::PathBuf;
use std::sync::Arc;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

pub mod requests;

use requests::RequestCounter;

#[derive(clap::Args, Clone, Debug, Default)]
#[command(next_help_heading = "Global options")]
pub struct ClusterArgs {
    /// Namespace (default: the context's namespace, then `default`); run-operator
    /// takes it more than once.
    #[arg(short = 'n', long, value_name = "NAMESPACE", global = true, action = clap::ArgAction::Append)]
    pub namespace: Vec<String>,
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, value_name = "FILE", global = true)]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long, value_name = "NAME", global = true)]
    pub context: Option<String>,
}

/// A client plus the namespace to use when none was given.
pub struct Connection {
    pub client: Client,
    pub default_namespace: String,
    pub cluster_url: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot load the kubeconfig{}: {source}", .path.as_ref().map(|p| format!(" {}", p.display())).unwrap_or_default())]
    Kubeconfig {
        path: Option<PathBuf>,
        #[source]
        source: kube::config::KubeconfigError,
    },
    #[error("no cluster configured: set KUBECONFIG or pass --kubeconfig ({0})")]
    Infer(String),
    #[error("cannot build a client: {0}")]
    Client(#[from] kube::Error),
}

impl ClusterArgs {
    pub async fn config(&self) -> Result<Config, ConnectError> {
        use_ring_for_tls();
        let options = KubeConfigOptions {
            context: self.context.clone(),
            ..Default::default()
        };
        match &self.kubeconfig {
            Some(path) => {
                let kubeconfig =
                    Kubeconfig::read_from(path).map_err(|source| ConnectError::Kubeconfig {
                        path: Some(path.clone()),
                        source,
                    })?;
                Config::from_custom_kubeconfig(kubeconfig, &options)
                    .await
                    .map_err(|source| ConnectError::Kubeconfig {
                        path: Some(path.clone()),
                        source,
                    })
            }
            None if self.context.is_some() => Config::from_kubeconfig(&options)
                .await
                .map_err(|source| ConnectError::Kubeconfig { path: None, source }),
            None => Config::infer()
                .await
                .map_err(|e| ConnectError::Infer(e.to_string())),
        }
    }

    pub async fn connect(&self) -> Result<Connection, ConnectError> {
        let config = self.config().await?;
        Self::connection(config.clone(), Client::try_from(config)?)
    }

    /// Like `connect`, with every request counted by verb in `counter`.
    pub async fn connect_counted(
        &self,
        counter: Arc<RequestCounter>,
    ) -> Result<Connection, ConnectError> {
        let config = self.config().await?;
        let count =
            tower::util::MapRequestLayer::new(move |request: http::Request<kube::client::Body>| {
                counter.record(&request);
                request
            });
        let client = kube::client::ClientBuilder::try_from(config.clone())?
            .with_layer(&count)
            .build();
        Self::connection(config, client)
    }

    fn connection(config: Config, client: Client) -> Result<Connection, ConnectError> {
        let default_namespace = config.default_namespace.clone();
        let cluster_url = config.cluster_url.to_string();
        Ok(Connection {
            client,
            default_namespace,
            cluster_url,
        })
    }
}

/// Makes ring the process's TLS provider (kube's; object_store links aws-lc-rs as well,
/// and with two providers rustls picks none by itself). Idempotent.
pub fn use_ring_for_tls() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Err only when a provider is installed already, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
