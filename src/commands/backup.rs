//! `kubectl mysql backup NAME`: record and start an on-demand backup; `--list` shows an
//! instance's backups; `backup verify BACKUP` proves that a backup loads.

use std::process::ExitCode;

use k8s_openapi::api::batch::v1::Job;
use kube::ResourceExt;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};

use super::flags::WaitArgs;
use super::output::{
    Format, RecoverableWindow, TableStyle, backup_report, backup_table, print_section,
    print_serialized, verification_table,
};
use super::progress::{Poll, wait_until};
use super::{Target, explain};
use kubectl_mysql::api::keys::{INSTANCE_LABEL, MANAGED_BY, VERIFY_ANNOTATION};
use kubectl_mysql::api::{
    BackupCause, BackupPhase, JobState, MySQL, MySQLBackup, VerificationResult, validate,
};
use kubectl_mysql::kubeclient::ClusterArgs;
use kubectl_mysql::names::InstanceNames;

#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Args {
    #[command(subcommand)]
    pub action: Option<Action>,
    /// The instance to back up.
    #[arg(required = true)]
    pub name: Option<String>,
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

#[derive(clap::Subcommand, Debug)]
pub enum Action {
    /// Load a backup into a throwaway server (the instance's image, an emptyDir
    /// datadir) and report its tables and rows; the result goes on the backup's status.
    Verify(VerifyArgs),
}

#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// The MySQLBackup to verify.
    pub backup: String,
    #[command(flatten)]
    pub wait: WaitArgs,
    /// Output format of the result.
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: Format,
}

pub async fn run(cluster: &ClusterArgs, args: Args) -> anyhow::Result<ExitCode> {
    if let Some(Action::Verify(verify_args)) = args.action {
        return verify(cluster, verify_args).await;
    }
    let name = args.name.clone().unwrap_or_default();
    validate::instance_name(&name).map_err(anyhow::Error::msg)?;
    let target = Target::connect(cluster).await?;
    let ns = target.namespace.clone();
    let names = InstanceNames::new(name.clone(), ns.clone());
    let backups: Api<MySQLBackup> = Api::namespaced(target.client.clone(), &ns);

    if args.list {
        return list(&target.client, &backups, &name, &ns, args.output).await;
    }
    let record = MySQLBackup::record(
        names.backup_record(jiff::Timestamp::now()),
        &ns,
        &name,
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
        .get(&name)
        .await
        .map_err(|e| explain(e, &format!("MySQL {name} in namespace {ns}")))?;
    let jobs: Api<Job> = Api::namespaced(target.client.clone(), &ns);
    if let Some(restore) = jobs.get_opt(&names.restore_job()).await?
        && JobState::is_running(&restore)
    {
        anyhow::bail!(
            "a restore of {} is running ({}); try again when it has finished",
            name,
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
async fn list(
    client: &kube::Client,
    backups: &Api<MySQLBackup>,
    instance: &str,
    ns: &str,
    output: Format,
) -> anyhow::Result<ExitCode> {
    let mut list = backups
        .list(&ListParams::default().labels(&format!("{INSTANCE_LABEL}={instance}")))
        .await
        .map_err(|e| explain(e, "listing backups"))?
        .items;
    // The instance, for its point-in-time window; a typo'd name must not look like an
    // instance without backups, and the records of an instance that is gone are still
    // listed.
    let found = Api::<MySQL>::namespaced(client.clone(), ns)
        .get_opt(instance)
        .await
        .map_err(|e| explain(e, &format!("reading MySQL {instance}")))?;
    if list.is_empty() && found.is_none() {
        anyhow::bail!("MySQL {instance} not found in namespace {ns}, and no backups of it");
    }
    list.sort_by_key(|b| b.metadata.creation_timestamp.clone().map(|t| t.0));
    let reports: Vec<_> = list.iter().map(backup_report).collect();
    if output == Format::Table {
        print_section("Backups", &backup_table(&reports, TableStyle::Plain));
        let window = found
            .and_then(|i| i.status)
            .and_then(|s| RecoverableWindow::of(&s));
        if let Some(window) = window {
            println!("\nPoint in time: {window} (kubectl mysql restore {instance} --to-time TIME)");
        }
    } else {
        print_serialized(&reports, output)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `backup verify BACKUP`: asks the operator for a verification with a new request
/// (the time), then waits for the answer to that request.
async fn verify(cluster: &ClusterArgs, args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let target = Target::connect(cluster).await?;
    let backups: Api<MySQLBackup> = Api::namespaced(target.client.clone(), &target.namespace);
    let name = args.backup;
    let record = backups.get(&name).await.map_err(|e| {
        explain(
            e,
            &format!("MySQLBackup {name} in namespace {}", target.namespace),
        )
    })?;
    if !record.succeeded() {
        let phase = record.phase().unwrap_or(BackupPhase::Pending);
        anyhow::bail!("backup {name} is {phase}: only a backup that succeeded can be verified");
    }
    let request = jiff::Timestamp::now().to_string();
    let patch = serde_json::json!({"metadata": {"annotations": {VERIFY_ANNOTATION: request}}});
    backups
        .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(|e| explain(e, &format!("MySQLBackup {name}")))?;
    if !args.wait.wait {
        println!("verification of backup {name} requested");
        return Ok(ExitCode::SUCCESS);
    }
    let verification = wait_until(&format!("verify {name}"), args.wait.timeout, || async {
        let b = backups
            .get(&name)
            .await
            .map_err(|e| explain(e, &format!("MySQLBackup {name}")))?;
        let answer = b
            .status
            .and_then(|s| s.verification)
            .filter(|v| v.request == request);
        Ok(match answer {
            Some(v) if v.result == VerificationResult::Passed => Poll::Done(v),
            Some(v) if v.result == VerificationResult::Failed => Poll::Failed(v.summary()),
            Some(v) => Poll::Pending(v.message.unwrap_or_else(|| "loading the dump".into())),
            None => Poll::Pending("Pending (is the operator running?)".into()),
        })
    })
    .await?;
    if args.output == Format::Table {
        print_section("Tables", &verification_table(&verification));
        println!("backup {name} loads: {}", verification.summary());
    } else {
        print_serialized(&verification, args.output)?;
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
