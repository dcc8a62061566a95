//! `kubectl mysql connect NAME [-- MYSQL ARGS]`: the `mysql` client inside the server's
//! pod, through `kubectl exec`, logged in by the option file the pod already mounts
//! from the credentials Secret: the password is never in argv, here or in the pod.

use std::io::IsTerminal;
use std::process::ExitCode;

use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::api::{Api, ListParams};

use super::{Target, explain};
use kubectl_mysql::api::keys::{INSTANCE_LABEL, MEMBER_LABEL};
use kubectl_mysql::api::{ConditionStatus, ConditionType, MySQL, validate};
use kubectl_mysql::kubeclient::ClusterArgs;
use kubectl_mysql::names::InstanceNames;

/// Where the server's pod mounts the client option file (templates/mysql-deployment).
const CLIENT_CONFIG: &str = "/etc/mysql-credentials/client.cnf";

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The instance.
    pub name: String,
    /// A member of a replicated instance (its number, or its Deployment): default the
    /// primary.
    #[arg(long, value_name = "MEMBER")]
    pub member: Option<String>,
    /// Arguments for `mysql` after `--`, e.g. `-- -e "select 1"`; none opens a prompt.
    #[arg(last = true, value_name = "MYSQL ARGS")]
    pub mysql_args: Vec<String>,
}

pub async fn run(cluster: &ClusterArgs, args: Args) -> anyhow::Result<ExitCode> {
    validate::instance_name(&args.name).map_err(anyhow::Error::msg)?;
    let target = Target::connect(cluster).await?;
    let ns = &target.namespace;
    let name = &args.name;
    let instance = Api::<MySQL>::namespaced(target.client.clone(), ns)
        .get(name)
        .await
        .map_err(|e| explain(e, &format!("MySQL {name} in namespace {ns}")))?;
    let ready = instance
        .condition(ConditionType::Ready)
        .is_some_and(|c| c.status == ConditionStatus::True);
    if !ready {
        let phase = instance
            .status
            .as_ref()
            .and_then(|s| s.phase)
            .map(|p| p.to_string())
            .unwrap_or_else(|| "Pending".into());
        anyhow::bail!("{name} is not Ready (phase {phase}); connect once it is");
    }
    let selector = pod_selector(&instance, &args)?;
    let pods = Api::<Pod>::namespaced(target.client.clone(), ns)
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(|e| explain(e, "listing the server's pods"))?;
    let pod = pods
        .items
        .iter()
        .find(|p| {
            p.metadata.deletion_timestamp.is_none()
                && p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
        })
        .ok_or_else(|| anyhow::anyhow!("no running pod of {name}"))?;
    let mut kubectl = std::process::Command::new("kubectl");
    if let Some(config) = &cluster.kubeconfig {
        kubectl.arg("--kubeconfig").arg(config);
    }
    if let Some(context) = &cluster.context {
        kubectl.args(["--context", context]);
    }
    kubectl.args(["exec", "-n", ns]);
    let interactive = std::io::stdin().is_terminal();
    if interactive {
        kubectl.arg("-it");
    } else if args.mysql_args.is_empty() {
        kubectl.arg("-i");
    }
    let database = instance.spec.database.clone();
    kubectl
        .args([&pod.name_any(), "-c", "mysql", "--", "mysql"])
        .arg(format!("--defaults-extra-file={CLIENT_CONFIG}"))
        .args(tls_flags(&instance, pod, args.member.is_some()))
        .args(&args.mysql_args)
        .arg(database);
    let status = kubectl
        .status()
        .map_err(|e| anyhow::anyhow!("cannot run kubectl (is it on PATH?): {e}"))?;
    Ok(ExitCode::from(
        status
            .code()
            .and_then(|c| u8::try_from(c).ok())
            .unwrap_or(1),
    ))
}

/// With spec.tls: over the network to the server's name (its member address with
/// `--member`, else `NAME`), verifying its certificate against the mounted CA, as any
/// client should; without, the server's socket.
fn tls_flags(instance: &MySQL, pod: &Pod, member: bool) -> Vec<String> {
    if instance.spec.tls.is_none() {
        return Vec::new();
    }
    let name = instance.name_any();
    let names = InstanceNames::new(name.clone(), instance.namespace().unwrap_or_default());
    let index = pod
        .labels()
        .get(MEMBER_LABEL)
        .and_then(|i| i.parse::<u32>().ok())
        .filter(|_| member);
    let host = index.map_or(name, |index| names.member_host(index));
    let dialect = kubectl_mysql::dialect::Dialect::of_image(&instance.spec.image);
    let ca = format!("{}/ca.crt", kubectl_mysql::api::TLS_DIR);
    let mut flags = vec![format!("--host={host}")];
    flags.extend(dialect.verify_tls_flags(&ca));
    flags
}

/// The pods of the member to connect to: `--member`, else the primary (the course's
/// `app=NAME` for one server).
fn pod_selector(instance: &MySQL, args: &Args) -> anyhow::Result<String> {
    let names = InstanceNames::new(args.name.clone(), instance.namespace().unwrap_or_default());
    let status = instance.status.clone().unwrap_or_default();
    let member = match &args.member {
        Some(text) => {
            let index = text
                .parse::<u32>()
                .ok()
                .or_else(|| names.member_index(text))
                .filter(|i| *i < instance.spec.members())
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "--member {text:?} is not a member of {}: it has members 0 to {}",
                        args.name,
                        instance.spec.members() - 1
                    )
                })?;
            Some(index)
        }
        None => status
            .primary
            .as_deref()
            .and_then(|p| names.member_index(p)),
    };
    Ok(match member {
        Some(index) if instance.spec.members() > 1 => {
            format!("{INSTANCE_LABEL}={},{MEMBER_LABEL}={index}", args.name)
        }
        _ => format!("app={}", args.name),
    })
}
