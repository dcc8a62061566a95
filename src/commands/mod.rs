//! One module per subcommand; each is small glue over the library.

pub mod backup;
pub mod completion;
pub mod connect;
pub mod create;
pub mod decompress_dump;
pub mod flags;
pub mod install_crd;
pub mod install_operator;
pub mod object_store;
pub mod output;
pub mod pause;
pub mod progress;
pub mod remove_dump;
pub mod restart;
pub mod restore;
pub mod run_operator;
pub mod status;
pub mod store_dump;
pub mod switchover;
pub mod unpack_copy;
pub mod version;

use std::process::ExitCode;

use anyhow::Context as _;
use kube::Client;

use self::flags::{LogArgs, LogFormat};
use kubectl_mysql::kubeclient::ClusterArgs;

pub fn init_logging(log: &LogArgs) {
    let json = log.log_format == LogFormat::Json;
    let default = match (log.quiet, log.verbose) {
        (true, _) => "error",
        // The CLI reports errors itself; kube_client would log them a second time.
        (false, 0) => "info,kube=warn,kube_client=off,object_store=warn",
        (false, 1) => "debug,kube=info,hyper=info,tower=info",
        (false, _) => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("KUBECTL_MYSQL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Prints an error as one line on stderr and gives exit code 1.
pub fn report(error: anyhow::Error) -> ExitCode {
    eprintln!("error: {}", one_line(&error));
    ExitCode::FAILURE
}

fn one_line(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for (i, cause) in error.chain().enumerate() {
        let part = cause.to_string();
        if i > 0 {
            if text.contains(&part) {
                continue;
            }
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text.replace('\n', " ")
}

/// A connected client and the namespace a command acts in.
pub struct Target {
    pub client: Client,
    pub namespace: String,
}

impl Target {
    pub async fn connect(cluster: &ClusterArgs) -> anyhow::Result<Self> {
        let given = one_namespace(cluster)?;
        let connection = cluster.connect().await?;
        let namespace = given.unwrap_or(connection.default_namespace);
        require_crds(&connection.client).await?;
        Ok(Self {
            client: connection.client,
            namespace,
        })
    }
}

/// The one namespace `-n` names, if any; a command that acts in one namespace refuses
/// more.
pub fn one_namespace(cluster: &ClusterArgs) -> anyhow::Result<Option<String>> {
    match cluster.namespace.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one.clone())),
        many => anyhow::bail!(
            "-n was given {} times; this command acts in one namespace",
            many.len()
        ),
    }
}

/// One discovery request: tells "no cluster" and "no CRDs" apart from everything else,
/// so that each gets its own sentence.
pub async fn require_crds(client: &Client) -> anyhow::Result<()> {
    let group_version = format!("{}/v1", kubectl_mysql::api::GROUP);
    match client.list_api_group_resources(&group_version).await {
        Ok(resources) if resources.resources.iter().any(|r| r.name == "mysqls") => Ok(()),
        Ok(_) => anyhow::bail!("{CRDS_MISSING}"),
        Err(kube::Error::Api(status)) if status.code == 404 => anyhow::bail!("{CRDS_MISSING}"),
        Err(e) => Err(explain(e, "asking the API server for the MySQL API")),
    }
}

const CRDS_MISSING: &str =
    "the MySQL CRDs are not installed in this cluster: run `kubectl mysql install-crd`";

/// Turns the API errors a user can act on into a sentence that says what to do.
/// The object a command named does not exist: a type, so that a caller can tell it
/// from other failures without reading the message.
#[derive(Debug, thiserror::Error)]
#[error("{0} not found")]
pub struct NotFound(pub String);

pub fn explain(error: kube::Error, what: &str) -> anyhow::Error {
    match &error {
        kube::Error::Api(status) if status.code == 404 => NotFound(what.to_string()).into(),
        kube::Error::Api(status) => anyhow::anyhow!("{what}: {}", status.message),
        kube::Error::HyperError(_) | kube::Error::Service(_) => {
            anyhow::anyhow!(
                "cannot reach the Kubernetes API server ({error}); is the cluster running, and are --kubeconfig/--context right?"
            )
        }
        _ => anyhow::Error::new(error).context(what.to_string()),
    }
}

/// Reads a yes/no answer when stdin is a terminal.
pub fn confirm(question: &str) -> anyhow::Result<bool> {
    use std::io::{BufRead, Write};
    eprint!("{question} [y/N] ");
    std::io::stderr().flush().ok();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .context("cannot read the answer")?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES"))
}
