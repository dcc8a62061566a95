//! `kubectl mysql restore NAME [--from BACKUP]`: asks the operator to restore a running
//! instance by setting a request annotation; the operator runs restore-NAME-job.

use std::io::IsTerminal;
use std::process::ExitCode;

use k8s_openapi::api::batch::v1::Job;
use kube::ResourceExt;
use kube::api::{Api, ListParams, Patch, PatchParams};

use super::flags::WaitArgs;
use super::progress::{Poll, wait_until};
use super::{Target, confirm, explain};
use kubectl_mysql::api::keys::{INSTANCE_LABEL, RESTORE_REQUEST_ANNOTATION};
use kubectl_mysql::api::{
    ConditionStatus, ConditionType, JobState, MySQL, MySQLBackup, RestoreRequest, newest_succeeded,
    validate,
};
use kubectl_mysql::kubeclient::ClusterArgs;
use kubectl_mysql::names::InstanceNames;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The instance to restore into.
    pub name: String,
    /// The MySQLBackup to restore (default: the instance's latest successful backup).
    #[arg(long, value_name = "BACKUP")]
    pub from: Option<String>,
    /// Do not ask for confirmation (required when stdin is not a terminal).
    #[arg(short = 'y', long)]
    pub yes: bool,
    #[command(flatten)]
    pub wait: WaitArgs,
}

pub async fn run(cluster: &ClusterArgs, args: Args) -> anyhow::Result<ExitCode> {
    validate::instance_name(&args.name).map_err(anyhow::Error::msg)?;
    let target = Target::connect(cluster).await?;
    let ns = target.namespace.clone();
    let names = InstanceNames::new(args.name.clone(), ns.clone());
    let instances: Api<MySQL> = Api::namespaced(target.client.clone(), &ns);
    let backups: Api<MySQLBackup> = Api::namespaced(target.client.clone(), &ns);
    instances
        .get(&args.name)
        .await
        .map_err(|e| explain(e, &format!("MySQL {} in namespace {ns}", args.name)))?;

    let backup = backup_to_restore(&backups, &args).await?;

    let jobs: Api<Job> = Api::namespaced(target.client.clone(), &ns);
    if let Some(job) = jobs.get_opt(&names.backup_job()).await?
        && JobState::is_running(&job)
    {
        anyhow::bail!(
            "a backup of {} is running ({}); try again when it has finished",
            args.name,
            names.backup_job()
        );
    }
    if !args.yes {
        anyhow::ensure!(
            std::io::stdin().is_terminal(),
            "restoring overwrites the database of {}; pass --yes to confirm",
            args.name
        );
        if !confirm(&format!(
            "Restore {} from {backup}? Its tables are replaced by the backup's.",
            args.name
        ))? {
            anyhow::bail!("restore cancelled");
        }
    }
    let request = RestoreRequest::new(&backup, jiff::Timestamp::now()).token;
    let patch =
        serde_json::json!({"metadata": {"annotations": {RESTORE_REQUEST_ANNOTATION: request}}});
    instances
        .patch(&args.name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(|e| explain(e, "requesting the restore"))?;
    println!("restore of {} from {backup} requested", args.name);
    if !args.wait.wait {
        return Ok(ExitCode::SUCCESS);
    }
    wait_until(
        &format!("restore of {}", args.name),
        args.wait.timeout,
        || async {
            let instance = instances
                .get(&args.name)
                .await
                .map_err(|e| explain(e, "reading the instance"))?;
            let status = instance.status.clone().unwrap_or_default();
            let handled = status.restore_request.as_deref() == Some(request.as_str());
            let restored = instance.condition(ConditionType::Restored);
            Ok(match restored {
                Some(c) if handled && c.status == ConditionStatus::True => Poll::Done(()),
                Some(c) if handled && c.status == ConditionStatus::False => {
                    Poll::Failed(c.message.clone())
                }
                _ => Poll::Pending(status.phase.map(|p| p.to_string()).unwrap_or_default()),
            })
        },
    )
    .await?;
    println!("{} restored from {backup}", args.name);
    Ok(ExitCode::SUCCESS)
}

/// `--from`, checked; or the newest successful backup of the instance.
async fn backup_to_restore(backups: &Api<MySQLBackup>, args: &Args) -> anyhow::Result<String> {
    Ok(match &args.from {
        Some(name) => {
            let b = backups
                .get(name)
                .await
                .map_err(|e| explain(e, &format!("MySQLBackup {name}")))?;
            anyhow::ensure!(
                b.succeeded(),
                "MySQLBackup {name} has not succeeded; only a successful backup can be restored"
            );
            name.clone()
        }
        None => {
            let list = backups
                .list(&ListParams::default().labels(&format!("{INSTANCE_LABEL}={}", args.name)))
                .await
                .map_err(|e| explain(e, "listing backups"))?
                .items;
            newest_succeeded(&list, None)
                .map(|b| b.name_any())
                .ok_or_else(|| anyhow::anyhow!("{} has no successful backup to restore; take one with `kubectl mysql backup {}`", args.name, args.name))?
        }
    })
}
