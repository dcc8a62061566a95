//! Waiting for an object with an indicatif spinner that names the current phase.

use std::future::Future;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

pub enum Poll<T> {
    Pending(String),
    Done(T),
    Failed(String),
}

/// Calls `poll` every second until it is done or fails, or `timeout` passes. The
/// spinner shows the phase on a terminal; elsewhere nothing is printed but the final
/// line (the caller's, or the one-line failure).
pub async fn wait_until<T, F, Fut>(what: &str, timeout: Duration, mut poll: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Poll<T>>>,
{
    let terminal = std::io::stderr().is_terminal();
    let bar = if terminal {
        ProgressBar::new_spinner()
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}").expect("valid template"),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let started = Instant::now();
    let mut last = String::new();
    loop {
        match poll().await? {
            Poll::Done(value) => {
                bar.finish_and_clear();
                return Ok(value);
            }
            Poll::Failed(reason) => {
                bar.finish_and_clear();
                anyhow::bail!("{what} failed: {reason}");
            }
            Poll::Pending(phase) => {
                if phase != last {
                    bar.set_message(format!("{what}: {phase}"));
                    last = phase;
                }
            }
        }
        if started.elapsed() >= timeout {
            bar.finish_and_clear();
            anyhow::bail!(
                "timed out after {}s waiting for {what} (last seen: {last})",
                timeout.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Reads the instance `name` every second until `decide` says the request it waits
/// for is done or has failed (`wait_until` with the read every such wait makes).
pub async fn wait_for_instance<T>(
    instances: &kube::Api<kubectl_mysql::api::MySQL>,
    name: &str,
    what: &str,
    timeout: Duration,
    decide: impl Fn(kubectl_mysql::api::MySQL) -> Poll<T>,
) -> anyhow::Result<T> {
    wait_until(what, timeout, || async {
        let instance = instances
            .get(name)
            .await
            .map_err(|e| super::explain(e, "reading the instance"))?;
        Ok(decide(instance))
    })
    .await
}
