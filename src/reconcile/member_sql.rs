//! SQL run inside a member's server container, through the API server's `exec`
//! subresource: the same path from an operator in the cluster and from `run-operator`
//! on a laptop whose pod IPs are not routable. The statements go in on stdin and the
//! client logs in with the option file the pod already mounts, so no password is in
//! an argument, the operator's memory or its logs.

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, AttachParams};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::dialect::replication::MemberState;

/// How long one exec may take before the member counts as unreachable.
const EXEC_TIMEOUT: Duration = Duration::from_secs(20);

/// How long a member's state may take to come back: a member slower than this counts
/// as not answering at this look (a failover needs `spec.failover.after` of those in a
/// row), and a frozen primary does not hold every look up for `EXEC_TIMEOUT`.
const STATE_TIMEOUT: Duration = Duration::from_secs(3);

/// The file whose presence in a member's data directory has its pod's first step
/// (`set-aside` in the Deployment) move the directory aside, to the name it holds.
pub const SET_ASIDE_MARKER: &str = "/var/lib/mysql/kubectl-mysql-set-aside";

/// How the statements reach the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Stop at the first failing statement.
    Plain,
    /// Go on past failures (kills of connections that may be gone already).
    Forced,
    /// `@REPLICATION_PASSWORD@` in the statements becomes the replication password,
    /// read inside the pod from the mounted `NAME-replication` Secret (generated,
    /// alphanumeric): it never passes through the operator.
    WithReplicationPassword,
}

/// The marker `Mode::WithReplicationPassword` replaces, as a SQL string literal.
pub const REPLICATION_PASSWORD_SQL: &str = "'@REPLICATION_PASSWORD@'";

/// The server's own client over its local socket: `root@localhost`, which keeps
/// `READ_ONLY ADMIN` (root over the network loses it on a replicated MariaDB).
const CLIENT: &str = "mysql --defaults-extra-file=/etc/mysql-credentials/client.cnf --user=root --connect-timeout=5 --vertical";

/// Runs `sql` in `pod`'s server container and returns what the client printed
/// (`--vertical`), or one line saying why it could not.
pub async fn run(pods: &Api<Pod>, pod: &str, sql: &str) -> Result<String, String> {
    run_as(pods, pod, sql, Mode::Plain).await
}

pub async fn run_as(pods: &Api<Pod>, pod: &str, sql: &str, mode: Mode) -> Result<String, String> {
    tokio::time::timeout(EXEC_TIMEOUT, run_unbounded(pods, pod, sql, mode))
        .await
        .unwrap_or_else(|_| Err(format!("no answer from {pod} in {EXEC_TIMEOUT:?}")))
}

async fn run_unbounded(
    pods: &Api<Pod>,
    pod: &str,
    sql: &str,
    mode: Mode,
) -> Result<String, String> {
    let script = match mode {
        Mode::Plain => format!("exec {CLIENT}"),
        Mode::Forced => format!("exec {CLIENT} --force"),
        Mode::WithReplicationPassword => format!(
            "p=$(cat /etc/mysql-replication/password) && sed \"s/@REPLICATION_PASSWORD@/$p/g\" | {CLIENT}"
        ),
    };
    let command = ["sh", "-c", script.as_str()];
    let params = AttachParams::default()
        .container("mysql")
        .stdin(true)
        .stdout(true)
        .stderr(true);
    let mut attached = pods
        .exec(pod, command, &params)
        .await
        .map_err(|e| match e {
            // The API server's own sentence, not the whole Status.
            kube::Error::Api(status) => format!("exec into {pod}: {}", status.message),
            other => format!("exec into {pod}: {other}"),
        })?;
    let mut stdin = attached.stdin().ok_or("exec gave no stdin")?;
    stdin
        .write_all(sql.as_bytes())
        .await
        .map_err(|e| format!("writing to {pod}'s client: {e}"))?;
    stdin
        .shutdown()
        .await
        .map_err(|e| format!("closing {pod}'s client input: {e}"))?;
    drop(stdin);
    let mut out = String::new();
    let mut err = String::new();
    let (mut stdout, mut stderr) = (
        attached.stdout().ok_or("exec gave no stdout")?,
        attached.stderr().ok_or("exec gave no stderr")?,
    );
    let (read_out, read_err) = tokio::join!(
        stdout.read_to_string(&mut out),
        stderr.read_to_string(&mut err)
    );
    read_out.map_err(|e| format!("reading {pod}'s client output: {e}"))?;
    read_err.map_err(|e| format!("reading {pod}'s client errors: {e}"))?;
    let status = match attached.take_status() {
        Some(status) => status.await,
        None => None,
    };
    let failed = status
        .as_ref()
        .and_then(|s| s.status.as_deref())
        .is_some_and(|s| s != "Success");
    if failed || (out.is_empty() && !err.trim().is_empty()) {
        let why = err
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("the client failed");
        return Err(format!("{pod}: {why}"));
    }
    Ok(out)
}

/// What `pod`'s server says about itself.
pub async fn member_state(
    pods: &Api<Pod>,
    pod: &str,
    dialect: crate::dialect::Dialect,
) -> Result<MemberState, String> {
    let text = tokio::time::timeout(
        STATE_TIMEOUT,
        run_unbounded(pods, pod, dialect.state_query(), Mode::Plain),
    )
    .await
    .unwrap_or_else(|_| Err(format!("no answer from {pod} in {STATE_TIMEOUT:?}")))?;
    MemberState::parse(&text)
}

/// Marks `pod`'s data directory to be moved aside to `directory` (a plain name, beside
/// it on the volume) when the member's next pod starts.
pub async fn mark_set_aside(pods: &Api<Pod>, pod: &str, directory: &str) -> Result<(), String> {
    let script = format!("printf '%s\\n' \"$1\" > {SET_ASIDE_MARKER}");
    let command = ["sh", "-c", script.as_str(), "sh", directory];
    let params = AttachParams::default()
        .container("mysql")
        .stdout(true)
        .stderr(true);
    let mut attached = pods
        .exec(pod, command, &params)
        .await
        .map_err(|e| format!("exec into {pod}: {e}"))?;
    let status = match attached.take_status() {
        Some(status) => status.await,
        None => None,
    };
    match status.as_ref().and_then(|s| s.status.as_deref()) {
        Some("Success") => Ok(()),
        _ => Err(format!(
            "{pod}: marking its data to be set aside failed: {:?}",
            status.and_then(|s| s.message)
        )),
    }
}
