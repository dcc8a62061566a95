//! `kubectl mysql backup NAME`: record and start an on-demand backup; `--list` shows an
//! instance's backups.

use std::process::ExitCode;

use k8s_openapi::api::batch::v1::Job;
use kube::ResourceExt;
use kube::api::{Api, ListParams, PostParams};

use super::flags::WaitArgs;
use super::output::{
    Format, TableStyle, backup_report, backup_table, print_section, print_serialized,
};
use super::progress::{Poll, wait_until};
use super::{Target, explain};
use crate::api::keys::{INSTANCE_LABEL, MANAGED_BY};
use crate::api::{BackupCause, BackupPhase, JobState, MySQL, MySQLBackup, validate};
use crate::kubeclient::ClusterArgs;
use crate::names::InstanceNames;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The instance to back up.
    pub name: String,
    /// List the instance's backups instead of starting one.
    #[arg(long)]
    pub list: bool,
    #[command(flatten)]
    pub wait: WaitArgs,
    /// Print the MySQLBackup that would be created; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Output format of --list and --dry-run.
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: Format,
}

pub async fn run(cluster: &ClusterArgs, args: Args) -> anyhow::Result<ExitCode> {
    validate::instance_name(&args.name).map_err(anyhow::Error::msg)?;
    let target = Target::connect(cluster).await?;
    let ns = target.namespace.clone();
    let names = InstanceNames::new(args.name.clone(), ns.clone());
    let backups: Api<MySQLBackup> = Api::namespaced(target.client.clone(), &ns);

    if args.list {
        return list(&backups, &args).await;
    }
    let record = MySQLBackup::record(
        names.backup_record(jiff::Timestamp::now()),
        &ns,
        &args.name,
        BackupCause::Manual,
        None,
    );
    if args.dry_run {
        print_serialized(
            &record,
            if args.output == Format::Json {
                Format::Json
            } else {
                Format::Yaml
            },
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    Api::<MySQL>::namespaced(target.client.clone(), &ns)
        .get(&args.name)
        .await
        .map_err(|e| explain(e, &format!("MySQL {} in namespace {ns}", args.name)))?;
    let jobs: Api<Job> = Api::namespaced(target.client.clone(), &ns);
    if let Some(restore) = jobs.get_opt(&names.restore_job()).await?
        && JobState::is_running(&restore)
    {
        anyhow::bail!(
            "a restore of {} is running ({}); try again when it has finished",
            args.name,
            names.restore_job()
        );
    }
    let created = create_unique(&backups, record).await?;
    let name = created.name_any();
    println!("mysqlbackup.otus.homework/{name} created");
    if args.wait.wait {
        wait_until(&format!("backup {name}"), args.wait.timeout, || async {
            let b = backups
                .get(&name)
                .await
                .map_err(|e| explain(e, &format!("MySQLBackup {name}")))?;
            let status = b.status.unwrap_or_default();
            Ok(match status.phase {
                Some(BackupPhase::Succeeded) => Poll::Done(()),
                Some(BackupPhase::Failed) => Poll::Failed(status.message.unwrap_or_default()),
                Some(phase) => Poll::Pending(phase.to_string()),
                None => Poll::Pending("Pending (is the operator running?)".into()),
            })
        })
        .await?;
        println!("backup {name} succeeded");
    }
    Ok(ExitCode::SUCCESS)
}

/// `--list`: the instance's backups, oldest first.
async fn list(backups: &Api<MySQLBackup>, args: &Args) -> anyhow::Result<ExitCode> {
    let mut list = backups
        .list(&ListParams::default().labels(&format!("{INSTANCE_LABEL}={}", args.name)))
        .await
        .map_err(|e| explain(e, "listing backups"))?
        .items;
    list.sort_by_key(|b| b.metadata.creation_timestamp.clone().map(|t| t.0));
    let reports: Vec<_> = list.iter().map(backup_report).collect();
    if args.output == Format::Table {
        print_section("Backups", &backup_table(&reports, TableStyle::Plain));
    } else {
        print_serialized(&reports, args.output)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Creates the record; a second backup within the same second gets `-2`, `-3`...
async fn create_unique(
    backups: &Api<MySQLBackup>,
    mut record: MySQLBackup,
) -> anyhow::Result<MySQLBackup> {
    let base = record.name_any();
    let params = PostParams {
        field_manager: Some(MANAGED_BY.into()),
        ..Default::default()
    };
    for attempt in 1..=10 {
        if attempt > 1 {
            record.metadata.name = Some(format!("{base}-{attempt}"));
        }
        match backups.create(&params, &record).await {
            Err(kube::Error::Api(status)) if status.code == 409 => continue,
            other => return other.map_err(|e| explain(e, "creating the backup record")),
        }
    }
    anyhow::bail!(
        "could not find a free name for a backup of {}",
        record.spec.instance
    )
}
