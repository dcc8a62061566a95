//! `kubectl mysql create NAME`: a Secret with the root password, then the instance that
//! references it. Nothing is left half-created: a failed create removes the Secret.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ObjectMeta, Patch, PatchParams, PostParams};
use kube::{Resource, ResourceExt};
use rand::Rng;

use super::flags::WaitArgs;
use super::output::{Format, print_serialized};
use super::progress::{Poll, wait_until};
use super::{Target, explain};
use kubectl_mysql::api::keys::{
    INSTANCE_LABEL, MANAGED_BY, MANAGED_BY_LABEL, RESTORE_FROM_ANNOTATION, RESTORE_TO_ANNOTATION,
};
use kubectl_mysql::api::{BackupSpec, MySQL, MySQLBackup, MySQLSpec, Phase, SecretKeyRef};
use kubectl_mysql::binlog::ReplayTarget;
use kubectl_mysql::kubeclient::ClusterArgs;

pub const DEFAULT_IMAGE: &str = "mysql:8.4";

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Name of the instance (also the Deployment and Service name).
    #[arg(required_unless_present = "file")]
    pub name: Option<String>,
    /// Create from a MySQL manifest instead of flags.
    #[arg(short = 'f', long, value_name = "FILE", conflicts_with_all = ["image", "database", "storage_size", "storage_class", "replicas"])]
    pub file: Option<PathBuf>,
    /// MySQL 8 compatible image (multi-arch: runs on arm64 and amd64).
    #[arg(long)]
    pub image: Option<String>,
    /// Database to create.
    #[arg(long)]
    pub database: Option<String>,
    /// Size of the data and backup volumes.
    #[arg(long, value_name = "QUANTITY")]
    pub storage_size: Option<String>,
    /// StorageClass for a dynamically provisioned data volume (default: a hostPath PV).
    #[arg(long, value_name = "CLASS")]
    pub storage_class: Option<String>,
    /// Servers: one primary and N-1 semi-synchronous replicas (1 to 9).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i32).range(1..=9))]
    pub replicas: Option<i32>,
    /// Read the root password from standard input.
    #[arg(long, group = "password_source")]
    pub password_stdin: bool,
    /// Generate a random root password (printed with the command to read it back).
    #[arg(long, group = "password_source")]
    pub generate_password: bool,
    /// The root password (stays in your shell history; prefer --password-stdin).
    #[arg(long, group = "password_source", value_name = "PASSWORD")]
    pub password: Option<String>,
    /// Start from this MySQLBackup (of any instance in the namespace).
    #[arg(long, value_name = "BACKUP")]
    pub restore_from: Option<String>,
    /// Start as the instance --source was at TIME (RFC 3339): its newest backup before
    /// TIME, then its archived binary logs up to TIME (point-in-time recovery). The copy
    /// takes the source's database and bucket.
    #[arg(
        long,
        value_name = "TIME",
        requires = "source",
        conflicts_with = "restore_from"
    )]
    pub restore_from_time: Option<String>,
    /// The instance, in this namespace, whose backups and binary logs
    /// --restore-from-time uses.
    #[arg(long, value_name = "NAME", requires = "restore_from_time")]
    pub source: Option<String>,
    /// Print what would be created; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Output format for --dry-run.
    #[arg(short = 'o', long, value_enum, default_value = "yaml")]
    pub output: Format,
    #[command(flatten)]
    pub wait: WaitArgs,
}

pub async fn run(cluster: &ClusterArgs, args: Args) -> anyhow::Result<ExitCode> {
    let (mut instance, password) = desired(&args, !cluster.namespace.is_empty())?;
    let name = instance.name_any();

    if args.dry_run {
        return print_dry_run(cluster, &args, instance, password.as_deref()).await;
    }

    let target = Target::connect(cluster).await?;
    let namespace = target.namespace.clone();
    instance.metadata.namespace = Some(namespace.clone());
    let instances: Api<MySQL> = Api::namespaced(target.client.clone(), &namespace);
    let secrets: Api<Secret> = Api::namespaced(target.client.clone(), &namespace);

    check_before_writing(&target.client, &instances, &args, &mut instance).await?;
    let params = PostParams {
        field_manager: Some(MANAGED_BY.into()),
        ..Default::default()
    };
    let secret_name = match &password {
        Some(password) => {
            let secret = password_secret(&name, &namespace, password);
            let created = secrets
                .create(&params, &secret)
                .await
                .map_err(|e| explain(e, &format!("creating Secret {}", secret.name_any())))?;
            Some(created.name_any())
        }
        None => None,
    };
    let created = match instances.create(&params, &instance).await {
        Ok(created) => created,
        Err(e) => {
            if let Some(secret_name) = &secret_name {
                let _ = secrets.delete(secret_name, &Default::default()).await;
            }
            return Err(explain(e, &format!("creating MySQL {name}")));
        }
    };
    if let Some(secret_name) = &secret_name {
        // Owned by the instance, so deleting the instance removes its password.
        let owner = created
            .controller_owner_ref(&())
            .context("the created instance has no uid")?;
        let patch = serde_json::json!({"metadata": {"ownerReferences": [owner]}});
        secrets
            .patch(secret_name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map_err(|e| explain(e, &format!("linking Secret {secret_name} to the instance")))?;
    }
    println!("mysql.otus.homework/{name} created in namespace {namespace}");
    if args.generate_password {
        println!(
            "root password stored in Secret {}; read it with:\n  kubectl get secret -n {namespace} {} -o jsonpath='{{.data.password}}' | base64 -d",
            password_secret_name(&name),
            password_secret_name(&name)
        );
    }
    if args.wait.wait {
        wait_ready(&instances, &name, args.wait.timeout).await?;
        println!("mysql.otus.homework/{name} is Ready");
    }
    Ok(ExitCode::SUCCESS)
}

/// What the command names, checked before anything is written: the name is free, and
/// the backup (or the source and time) to start from can be had.
async fn check_before_writing(
    client: &kube::Client,
    instances: &Api<MySQL>,
    args: &Args,
    instance: &mut MySQL,
) -> anyhow::Result<()> {
    let name = instance.name_any();
    let namespace = instance.namespace().unwrap_or_default();
    if instances
        .get_opt(&name)
        .await
        .map_err(|e| explain(e, "reading MySQL objects"))?
        .is_some()
    {
        anyhow::bail!("MySQL {name} already exists in namespace {namespace}");
    }
    if let Some(backup) = &args.restore_from {
        check_restore_source(client, &namespace, backup).await?;
    }
    if let (Some(time), Some(source)) = (&args.restore_from_time, &args.source) {
        copy_at(client, &namespace, source, time, args, instance).await?;
    }
    Ok(())
}

/// `--restore-from` names a backup that can be loaded: checked before anything is
/// written, so a typo leaves no instance that starts empty.
async fn check_restore_source(
    client: &kube::Client,
    namespace: &str,
    backup: &str,
) -> anyhow::Result<()> {
    let record = Api::<MySQLBackup>::namespaced(client.clone(), namespace)
        .get_opt(backup)
        .await
        .map_err(|e| explain(e, &format!("reading MySQLBackup {backup}")))?;
    match record {
        None => anyhow::bail!(
            "MySQLBackup {backup} not found in namespace {namespace} (`kubectl mysql backup NAME --list` lists an instance's backups)"
        ),
        Some(record) if !record.succeeded() => anyhow::bail!(
            "MySQLBackup {backup} has not succeeded ({}); restore from a succeeded backup",
            record
                .phase()
                .map_or_else(|| "no phase yet".to_string(), |p| p.to_string())
        ),
        Some(_) => Ok(()),
    }
}

/// `--restore-from-time TIME --source NAME`, checked against the source's recoverable
/// window: the new instance starts from the source's newest backup before TIME and
/// replays the source's archived binary logs up to it, so it needs the source's
/// database (the logs name it) and bucket (the logs and dumps lie there).
async fn copy_at(
    client: &kube::Client,
    namespace: &str,
    source: &str,
    time: &str,
    args: &Args,
    instance: &mut MySQL,
) -> anyhow::Result<()> {
    if let Some((other, _)) = source.split_once('/').filter(|(ns, _)| *ns != namespace) {
        anyhow::bail!(
            "--source {source}: a copy is made in its source's namespace, where the bucket's keys are; use -n {other}"
        );
    }
    let source_name = source.rsplit('/').next().unwrap_or(source);
    let source = Api::<MySQL>::namespaced(client.clone(), namespace)
        .get_opt(source_name)
        .await
        .map_err(|e| explain(e, &format!("reading MySQL {source_name}")))?
        .ok_or_else(|| {
            anyhow::anyhow!(
                "--source {source_name}: no MySQL of that name in namespace {namespace}"
            )
        })?;
    let target = super::restore::point_in_time(time, &source)?;
    let backups = Api::<MySQLBackup>::namespaced(client.clone(), namespace);
    let base = super::restore::base_backup(&backups, &source, ReplayTarget::Time(target)).await?;
    let database = &source.spec.database;
    let chosen = args.database.as_deref().or(args
        .file
        .is_some()
        .then_some(instance.spec.database.as_str()));
    if let Some(other) = chosen.filter(|d| d != database) {
        anyhow::bail!(
            "the copy's database must be its source's ({database}, not {other}): the binary logs replayed name it"
        );
    }
    instance.spec.database = database.clone();
    let source_bucket = source.spec.backup_bucket().cloned();
    match (instance.spec.backup_bucket(), &source_bucket) {
        (Some(own), Some(theirs)) if own.bucket != theirs.bucket => anyhow::bail!(
            "the copy's spec.backup.storage.s3 names the bucket {}, but {source_name}'s backups and binary logs lie in {}",
            own.bucket,
            theirs.bucket
        ),
        (Some(_), _) => {}
        (None, _) => {
            let storage = source.spec.backup.as_ref().and_then(|b| b.storage.clone());
            instance.spec.backup = Some(BackupSpec {
                storage,
                ..Default::default()
            });
        }
    }
    let annotations = instance.annotations_mut();
    annotations.insert(RESTORE_FROM_ANNOTATION.into(), base);
    annotations.insert(
        RESTORE_TO_ANNOTATION.into(),
        ReplayTarget::Time(target).token(),
    );
    Ok(())
}

pub fn password_secret_name(instance: &str) -> String {
    format!("{instance}-root-password")
}

fn password_secret(instance: &str, namespace: &str, password: &str) -> Secret {
    Secret {
        metadata: ObjectMeta {
            name: Some(password_secret_name(instance)),
            namespace: Some(namespace.into()),
            labels: Some(BTreeMap::from([
                (INSTANCE_LABEL.to_string(), instance.to_string()),
                (MANAGED_BY_LABEL.to_string(), MANAGED_BY.to_string()),
            ])),
            ..Default::default()
        },
        type_: Some("Opaque".into()),
        data: Some(BTreeMap::from([(
            "password".into(),
            ByteString(password.as_bytes().to_vec()),
        )])),
        ..Default::default()
    }
}

/// The instance to create and the password for a new Secret (None with -f, whose
/// manifest carries its own password or Secret reference).
fn desired(args: &Args, namespace_given: bool) -> anyhow::Result<(MySQL, Option<String>)> {
    if let Some(file) = &args.file {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let mut instance: MySQL = serde_saphyr::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "{} is not a MySQL manifest: {}",
                file.display(),
                e.to_string().replace('\n', " ")
            )
        })?;
        if let Some(name) = &args.name {
            instance.metadata.name = Some(name.clone());
        }
        if namespace_given {
            instance.metadata.namespace = None;
        }
        let password = read_password(args)?;
        if password.is_some() {
            instance.spec.password = None;
            instance.spec.password_secret_ref = Some(SecretKeyRef {
                name: password_secret_name(&instance.name_any()),
                key: None,
            });
        }
        check(&instance)?;
        return Ok((with_restore(instance, args), password));
    }
    let name = args.name.clone().context("a NAME is required")?;
    let password = read_password(args)?
        .context("give a password with --password-stdin, --generate-password or --password")?;
    let spec = MySQLSpec {
        image: args.image.clone().unwrap_or_else(|| DEFAULT_IMAGE.into()),
        database: args.database.clone().unwrap_or_else(|| "app".into()),
        password: None,
        password_secret_ref: Some(SecretKeyRef {
            name: password_secret_name(&name),
            key: None,
        }),
        storage_size: args.storage_size.clone().unwrap_or_else(|| "1Gi".into()),
        storage_class_name: args.storage_class.clone(),
        backup: None,
        replicas: args.replicas,
        failover: None,
        ..Default::default()
    };
    let instance = MySQL::new(&name, spec);
    check(&instance)?;
    Ok((with_restore(instance, args), Some(password)))
}

fn with_restore(mut instance: MySQL, args: &Args) -> MySQL {
    if let Some(backup) = &args.restore_from {
        instance
            .annotations_mut()
            .insert(RESTORE_FROM_ANNOTATION.into(), backup.clone());
    }
    instance
}

fn check(instance: &MySQL) -> anyhow::Result<()> {
    match instance.spec_problem() {
        Some(problem) => Err(anyhow::Error::msg(problem)),
        None => Ok(()),
    }
}

fn read_password(args: &Args) -> anyhow::Result<Option<String>> {
    if args.password_stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the password from stdin")?;
        let password = text.trim_end_matches(['\n', '\r']).to_string();
        anyhow::ensure!(
            !password.is_empty(),
            "the password read from stdin is empty"
        );
        return Ok(Some(password));
    }
    if args.generate_password {
        const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
        let mut rng = rand::rng();
        let password = (0..24)
            .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
            .collect();
        return Ok(Some(password));
    }
    if let Some(password) = &args.password {
        eprintln!(
            "warning: a password given with --password stays in your shell history; prefer --password-stdin"
        );
        anyhow::ensure!(!password.is_empty(), "the password is empty");
        return Ok(Some(password.clone()));
    }
    Ok(None)
}

pub async fn wait_ready(
    instances: &Api<MySQL>,
    name: &str,
    timeout: Duration,
) -> anyhow::Result<()> {
    wait_until(&format!("mysql {name}"), timeout, || async {
        let instance = instances
            .get(name)
            .await
            .map_err(|e| explain(e, &format!("MySQL {name}")))?;
        let status = instance.status.unwrap_or_default();
        Ok(match status.phase {
            Some(Phase::Ready) => Poll::Done(()),
            Some(Phase::Failed) => Poll::Failed(status.message.unwrap_or_default()),
            Some(phase) => Poll::Pending(phase.to_string()),
            None => Poll::Pending(Phase::Pending.to_string()),
        })
    })
    .await
}

/// `--dry-run`: what would be created, the password redacted.
async fn print_dry_run(
    cluster: &ClusterArgs,
    args: &Args,
    mut instance: MySQL,
    password: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let name = instance.name_any();
    let namespace = match super::one_namespace(cluster)? {
        Some(ns) => ns,
        None => cluster
            .connect()
            .await
            .map(|c| c.default_namespace)
            .unwrap_or_else(|_| "default".into()),
    };
    instance.metadata.namespace = Some(namespace.clone());
    let mut objects = Vec::new();
    if let Some(password) = password {
        let mut secret = password_secret(&name, &namespace, password);
        // A dry run never shows the password.
        secret.data = Some(BTreeMap::from([(
            "password".into(),
            ByteString(b"<redacted>".to_vec()),
        )]));
        objects.push(serde_json::to_value(&secret)?);
    }
    objects.push(serde_json::to_value(&instance)?);
    for object in objects {
        if args.output == Format::Yaml {
            println!("---");
        }
        print_serialized(
            &object,
            if args.output == Format::Table {
                Format::Yaml
            } else {
                args.output
            },
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
