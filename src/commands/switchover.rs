//! `kubectl mysql switchover NAME [--to MEMBER]`: asks the operator to move the
//! primary of a replicated instance to a replica, by a request annotation, and waits
//! for its outcome like every long operation.

use std::process::ExitCode;

use kube::api::{Api, Patch, PatchParams};

use super::flags::WaitArgs;
use super::progress::{Poll, wait_for_instance};
use super::{Target, explain};
use kubectl_mysql::api::keys::SWITCHOVER_ANNOTATION;
use kubectl_mysql::api::{MemberRole, MySQL, SwitchoverOutcome, SwitchoverRequest, validate};
use kubectl_mysql::kubeclient::ClusterArgs;
use kubectl_mysql::names::InstanceNames;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The replicated instance.
    pub name: String,
    /// The member to promote: its number (1) or Deployment (NAME-member-1). Default:
    /// the streaming replica with the least lag.
    #[arg(long, value_name = "MEMBER")]
    pub to: Option<String>,
    #[command(flatten)]
    pub wait: WaitArgs,
}

pub async fn run(cluster: &ClusterArgs, args: Args) -> anyhow::Result<ExitCode> {
    validate::instance_name(&args.name).map_err(anyhow::Error::msg)?;
    let target = Target::connect(cluster).await?;
    let names = InstanceNames::new(args.name.clone(), target.namespace.clone());
    let instances: Api<MySQL> = Api::namespaced(target.client.clone(), &target.namespace);
    let instance = instances.get(&args.name).await.map_err(|e| {
        explain(
            e,
            &format!("MySQL {} in namespace {}", args.name, target.namespace),
        )
    })?;
    let member = choose(&instance, &names, args.to.as_deref())?;
    let request = SwitchoverRequest::new(member, jiff::Timestamp::now());
    let patch =
        serde_json::json!({"metadata": {"annotations": {SWITCHOVER_ANNOTATION: request.token}}});
    instances
        .patch(&args.name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(|e| explain(e, "requesting the switchover"))?;
    let to = names.member_deployment(member);
    println!("switchover of {} to {to} requested", args.name);
    if !args.wait.wait {
        return Ok(ExitCode::SUCCESS);
    }
    wait_for_instance(
        &instances,
        &args.name,
        &format!("switchover of {} to {to}", args.name),
        args.wait.timeout,
        |instance| {
            let status = instance.status.unwrap_or_default();
            match status.switchover.filter(|s| s.request == request.token) {
                Some(s) if s.outcome == SwitchoverOutcome::Succeeded => Poll::Done(()),
                Some(s) if s.outcome == SwitchoverOutcome::Refused => Poll::Failed(format!(
                    "switchover refused: {}",
                    s.message.unwrap_or_default()
                )),
                Some(s) => Poll::Pending(s.message.unwrap_or_default()),
                None => Poll::Pending("waiting for the operator".into()),
            }
        },
    )
    .await?;
    println!("{to} is the primary of {}", args.name);
    Ok(ExitCode::SUCCESS)
}

/// The member `--to` names, checked against the instance's members; or the streaming
/// replica with the least lag.
fn choose(instance: &MySQL, names: &InstanceNames, to: Option<&str>) -> anyhow::Result<u32> {
    let members = instance.status.clone().unwrap_or_default().members;
    anyhow::ensure!(
        !members.is_empty(),
        "{} has no replicas to switch over to (spec.replicas is {})",
        names.name,
        instance.spec.members()
    );
    match to {
        Some(text) => {
            let index = text
                .parse::<u32>()
                .ok()
                .or_else(|| names.member_index(text))
                .ok_or_else(|| {
                    anyhow::anyhow!("--to {text:?} is not a member of {}: give its number or Deployment, as `kubectl mysql status {}` lists them", names.name, names.name)
                })?;
            anyhow::ensure!(
                members
                    .iter()
                    .any(|m| m.name == names.member_deployment(index)),
                "{} has no member {index} ({} members)",
                names.name,
                members.len()
            );
            Ok(index)
        }
        None => members
            .iter()
            .filter(|m| m.role == MemberRole::Replica)
            .min_by_key(|m| m.lag_seconds.unwrap_or(u64::MAX))
            .and_then(|m| names.member_index(&m.name))
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "{} has no replica that streams from the primary to switch over to",
                    names.name
                )
            }),
    }
}
