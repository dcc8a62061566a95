//! `kubectl mysql restore NAME [--from BACKUP]`: asks the operator to restore a running
//! instance by setting a request annotation; the operator runs restore-NAME-job.

use std::io::IsTerminal;
use std::process::ExitCode;

use k8s_openapi::api::batch::v1::Job;
use kube::ResourceExt;
use kube::api::{Api, ListParams, Patch, PatchParams};

use super::flags::WaitArgs;
use super::progress::{Poll, wait_for_instance};
use super::{Target, confirm, explain};
use kubectl_mysql::api::keys::{INSTANCE_LABEL, RESTORE_REQUEST_ANNOTATION};
use kubectl_mysql::api::{
    ConditionStatus, ConditionType, JobState, MySQL, MySQLBackup, RestoreRequest, newest_succeeded,
    validate,
};
use kubectl_mysql::binlog::ReplayTarget;
use kubectl_mysql::binlog::window::{base_before, base_for};
use kubectl_mysql::dialect::Gtid;
use kubectl_mysql::kubeclient::ClusterArgs;
use kubectl_mysql::names::{InstanceNames, incarnation};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The instance to restore into.
    pub name: String,
    /// The MySQLBackup to restore (default: the instance's latest successful backup).
    #[arg(long, value_name = "BACKUP")]
    pub from: Option<String>,
    /// Restore to this second (RFC 3339, `2026-12-04T10:14:59Z`): the newest backup
    /// before it, then the archived binary logs up to it (point-in-time recovery;
    /// `spec.backup.pointInTime`). Inside the window `kubectl mysql status` shows.
    #[arg(long, value_name = "TIME", conflicts_with = "from")]
    pub to_time: Option<String>,
    /// Restore up to the transaction GTID and leave it out (`0-1-57` on MariaDB,
    /// `UUID:57` on MySQL): the one that dropped a table, say. The newest backup without
    /// it, then the archived binary logs up to it.
    #[arg(long, value_name = "GTID", conflicts_with_all = ["from", "to_time"])]
    pub to_gtid: Option<String>,
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
    let instance = instances
        .get(&args.name)
        .await
        .map_err(|e| explain(e, &format!("MySQL {} in namespace {ns}", args.name)))?;

    anyhow::ensure!(
        (args.to_time.is_none() && args.to_gtid.is_none()) || instance.spec.members() == 1,
        "{} has replicas (spec.replicas is {}): a restore to a point in time needs one server; scale to 1, restore, then scale back",
        args.name,
        instance.spec.members()
    );
    let replay = match (args.to_time.as_deref(), args.to_gtid.as_deref()) {
        (Some(text), _) => Some(ReplayTarget::Time(point_in_time(text, &instance)?)),
        (None, Some(text)) => Some(ReplayTarget::BeforeGtid(before_transaction(
            text, &instance,
        )?)),
        (None, None) => None,
    };
    let backup = match replay {
        Some(replay) => base_backup(&backups, &instance, replay).await?,
        None => backup_to_restore(&backups, &args).await?,
    };
    let what = match replay {
        Some(replay) => format!("{backup} and its binary logs up to {replay}"),
        None => backup.clone(),
    };

    refuse_during_backup(&target.client, &names).await?;
    if !args.yes {
        anyhow::ensure!(
            std::io::stdin().is_terminal(),
            "restoring overwrites the database of {}; pass --yes to confirm",
            args.name
        );
        if !confirm(&format!(
            "Restore {} from {what}? Its tables are replaced by the backup's.",
            args.name
        ))? {
            anyhow::bail!("restore cancelled");
        }
    }
    let request = RestoreRequest::new(&backup, jiff::Timestamp::now(), replay).token;
    let patch =
        serde_json::json!({"metadata": {"annotations": {RESTORE_REQUEST_ANNOTATION: request}}});
    instances
        .patch(&args.name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(|e| explain(e, "requesting the restore"))?;
    println!("restore of {} from {what} requested", args.name);
    if !args.wait.wait {
        return Ok(ExitCode::SUCCESS);
    }
    wait_for_request(&instances, &args, &request).await?;
    println!("{} restored from {what}", args.name);
    Ok(ExitCode::SUCCESS)
}

/// A restore never overlaps a backup of the same instance.
async fn refuse_during_backup(client: &kube::Client, names: &InstanceNames) -> anyhow::Result<()> {
    let jobs: Api<Job> = Api::namespaced(client.clone(), &names.namespace);
    if let Some(job) = jobs.get_opt(&names.backup_job()).await?
        && JobState::is_running(&job)
    {
        anyhow::bail!(
            "a backup of {} is running ({}); try again when it has finished",
            names.name,
            names.backup_job()
        );
    }
    Ok(())
}

/// Waits until the operator has handled `request`: Restored, or one line why not.
async fn wait_for_request(
    instances: &Api<MySQL>,
    args: &Args,
    request: &str,
) -> anyhow::Result<()> {
    wait_for_instance(
        instances,
        &args.name,
        &format!("restore of {}", args.name),
        args.wait.timeout,
        |instance| {
            let status = instance.status.clone().unwrap_or_default();
            let handled = status.restore_request.as_deref() == Some(request);
            match instance.condition(ConditionType::Restored) {
                Some(c) if handled && c.status == ConditionStatus::True => Poll::Done(()),
                Some(c) if handled && c.status == ConditionStatus::False => {
                    Poll::Failed(c.message.clone())
                }
                _ => Poll::Pending(status.phase.map(|p| p.to_string()).unwrap_or_default()),
            }
        },
    )
    .await
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

/// `--to-time`, checked: a time, not in the future, inside the instance's recoverable
/// window.
pub(super) fn point_in_time(text: &str, instance: &MySQL) -> anyhow::Result<jiff::Timestamp> {
    let target: jiff::Timestamp = text.parse().map_err(|_| {
        anyhow::anyhow!("--to-time {text:?} is not a time; give one as 2026-12-04T10:14:59Z")
    })?;
    let now = jiff::Timestamp::now();
    anyhow::ensure!(
        target <= now,
        "--to-time {target} is in the future (it is {} now)",
        now.round(jiff::Unit::Second).unwrap_or(now)
    );
    let (from, until) = recoverable_window(instance)?;
    anyhow::ensure!(
        from <= target && target <= until,
        "--to-time {target} is outside the recoverable window of {}, {from} to {until}",
        instance.name_any()
    );
    Ok(target)
}

/// `--to-gtid`, checked: a GTID, and an instance with point-in-time recovery.
fn before_transaction(text: &str, instance: &MySQL) -> anyhow::Result<Gtid> {
    let gtid: Gtid = text.parse().map_err(anyhow::Error::msg)?;
    recoverable_window(instance)?;
    Ok(gtid)
}

/// The instance's recoverable window, or why it has none.
fn recoverable_window(instance: &MySQL) -> anyhow::Result<(jiff::Timestamp, jiff::Timestamp)> {
    let name = instance.name_any();
    let status = instance.status.clone().unwrap_or_default();
    let window = status
        .recoverable_from
        .as_deref()
        .zip(status.recoverable_until.as_deref())
        .and_then(|(from, until)| {
            Some((
                from.parse::<jiff::Timestamp>().ok()?,
                until.parse::<jiff::Timestamp>().ok()?,
            ))
        });
    window.ok_or_else(|| {
        anyhow::anyhow!(
            "{name} has no recoverable window: point-in-time recovery needs spec.backup.pointInTime and a backup taken since"
        )
    })
}

/// The backup a restore to `target` starts from: the newest of this incarnation
/// complete by then, with its binary log position.
pub(super) async fn base_backup(
    backups: &Api<MySQLBackup>,
    instance: &MySQL,
    target: ReplayTarget,
) -> anyhow::Result<String> {
    let name = instance.name_any();
    let list = backups
        .list(&ListParams::default().labels(&format!("{INSTANCE_LABEL}={name}")))
        .await
        .map_err(|e| explain(e, "listing backups"))?
        .items;
    let points: Vec<_> = list.iter().filter_map(MySQLBackup::dump_point).collect();
    let timeline = incarnation(&instance.uid().unwrap_or_default());
    let base = match &target {
        ReplayTarget::Time(t) => base_for(&points, &timeline, *t),
        ReplayTarget::BeforeGtid(gtid) => base_before(&points, &timeline, gtid),
    };
    base.map(|d| d.name.clone()).ok_or_else(|| {
        anyhow::anyhow!("{name} has no backup with a binary log position from before {target}")
    })
}
