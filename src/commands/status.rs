//! `kubectl mysql status [NAME]`: one instance in detail, or a list.
//!
//! `-o json|yaml` prints `StatusReport` / `Vec<InstanceRow>`: a documented, stable
//! schema (see README), not the internal types.

use std::process::ExitCode;

use comfy_table::Cell;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Event, PersistentVolumeClaim};
use kube::ResourceExt;
use kube::api::{Api, ListParams};
use serde::Serialize;

use super::output::{
    BackupReport, Format, RecoverableWindow, TableStyle, backup_report, backup_table, new_table,
    paint, painted, print_section, print_serialized,
};
use super::{Target, explain};
use kubectl_mysql::api::keys::INSTANCE_LABEL;
use kubectl_mysql::api::{ConditionStatus, MemberRole, MemberStatus, MySQL, MySQLBackup};
use kubectl_mysql::kubeclient::ClusterArgs;
use kubectl_mysql::names::InstanceNames;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Instance to show; without it, list instances.
    pub name: Option<String>,
    /// List instances in all namespaces.
    #[arg(short = 'A', long, conflicts_with = "name")]
    pub all_namespaces: bool,
    /// Output format: a table for people, or JSON/YAML with a stable schema.
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: Format,
    /// Print again whenever the instance, its backups or its Events change, until
    /// Ctrl-C (with -o json, one document a line).
    #[arg(short = 'w', long, requires = "name")]
    pub watch: bool,
}

/// One row of the list view.
#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct InstanceRow {
    pub namespace: String,
    pub name: String,
    pub phase: String,
    pub ready: bool,
    pub image: String,
    pub storage: String,
    pub last_backup: Option<String>,
}

/// The detail view.
#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct StatusReport {
    #[serde(flatten)]
    pub summary: InstanceRow,
    pub endpoint: Option<String>,
    /// The node whose disk holds the hostPath volumes.
    pub node: Option<String>,
    /// When spec.backup.schedule takes the next backup.
    pub next_backup: Option<String>,
    /// Point-in-time recovery: the seconds a restore can reach.
    pub recoverable: Option<RecoverableWindow>,
    /// With spec.updatePolicy manual: what waits for `kubectl mysql restart`.
    pub pending_restart: Option<String>,
    /// A Job whose pod the API server refuses, and why.
    pub job_refused: Option<String>,
    pub message: Option<String>,
    pub operator_warning: Option<String>,
    pub data_volume_claim: ClaimReport,
    pub backup_volume_claim: ClaimReport,
    pub replicas: ReplicaReport,
    /// With replicas: each member's role, health and lag.
    pub members: Vec<MemberStatus>,
    /// With replicas: Healthy, Degraded, FailingOver or Failed.
    pub health: Option<kubectl_mysql::api::Health>,
    /// With replicas: the failover under way, the last one, members set aside.
    pub failover: Option<kubectl_mysql::api::FailoverStatus>,
    pub conditions: Vec<ConditionReport>,
    pub backups: Vec<BackupReport>,
    pub events: Vec<EventReport>,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct ClaimReport {
    pub name: String,
    pub phase: Option<String>,
    pub volume: Option<String>,
}

#[derive(Serialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct ReplicaReport {
    pub desired: i32,
    pub ready: i32,
    pub available: i32,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct ConditionReport {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
    pub reason: String,
    pub message: String,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct EventReport {
    #[serde(rename = "type")]
    pub type_: String,
    pub reason: String,
    pub message: String,
    pub count: i32,
}

fn row(instance: &MySQL) -> InstanceRow {
    let status = instance.status.clone().unwrap_or_default();
    InstanceRow {
        namespace: instance.namespace().unwrap_or_default(),
        name: instance.name_any(),
        phase: status
            .phase
            .map(|p| p.to_string())
            .unwrap_or_else(|| "Pending".into()),
        ready: status
            .conditions
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == ConditionStatus::True),
        image: instance.spec.image.clone(),
        storage: instance.spec.storage_size.clone(),
        last_backup: status.last_backup.map(|b| b.name),
    }
}

/// Says plainly when no operator seems to be acting on the instance.
pub fn operator_warning(instance: &MySQL) -> Option<String> {
    let observed = instance.status.as_ref().and_then(|s| s.observed_generation);
    let behind = match (instance.metadata.generation, observed) {
        (_, None) => true,
        (Some(generation), Some(observed)) => observed < generation,
        _ => false,
    };
    behind.then(|| {
        "the operator has not processed the latest spec; is it running? Start it with: kubectl mysql run-operator".to_string()
    })
}

pub async fn run(cluster: &ClusterArgs, args: Args) -> anyhow::Result<ExitCode> {
    let target = Target::connect(cluster).await?;
    let Some(name) = &args.name else {
        let api: Api<MySQL> = if args.all_namespaces {
            Api::all(target.client.clone())
        } else {
            Api::namespaced(target.client.clone(), &target.namespace)
        };
        let list = api
            .list(&ListParams::default())
            .await
            .map_err(|e| explain(e, "listing MySQL objects"))?;
        let rows: Vec<InstanceRow> = list.items.iter().map(row).collect();
        if args.output != Format::Table {
            print_serialized(&rows, args.output)?;
        } else if rows.is_empty() {
            eprintln!("no MySQL instances found");
        } else {
            let mut table = new_table(TableStyle::Plain);
            table.set_header([
                "NAMESPACE",
                "NAME",
                "PHASE",
                "READY",
                "IMAGE",
                "STORAGE",
                "LAST BACKUP",
            ]);
            for r in &rows {
                table.add_row([
                    Cell::new(&r.namespace),
                    Cell::new(&r.name),
                    Cell::new(&r.phase),
                    painted(if r.ready { "yes" } else { "no" }, Some(r.ready)),
                    Cell::new(&r.image),
                    Cell::new(&r.storage),
                    Cell::new(r.last_backup.as_deref().unwrap_or("-")),
                ]);
            }
            println!("{table}");
        }
        return Ok(ExitCode::SUCCESS);
    };

    let names = InstanceNames::new(name.clone(), target.namespace.clone());
    show(&target.client, &names, args.output, args.watch).await?;
    if args.watch {
        watch(&target.client, &names, args.output).await?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints the instance once, in `format` (compact JSON, one line, when watching).
async fn show(
    client: &kube::Client,
    names: &InstanceNames,
    format: Format,
    watching: bool,
) -> anyhow::Result<()> {
    let (name, namespace) = (&names.name, &names.namespace);
    let instance = Api::<MySQL>::namespaced(client.clone(), namespace)
        .get(name)
        .await
        .map_err(|e| explain(e, &format!("MySQL {name} in namespace {namespace}")))?;
    let report = detail(client.clone(), &instance, names).await?;
    match format {
        Format::Table => {
            if watching {
                println!("--- {}", jiff::Timestamp::now().strftime("%H:%M:%S"));
            }
            print_detail(&report);
        }
        Format::Json if watching => println!("{}", serde_json::to_string(&report)?),
        other => print_serialized(&report, other)?,
    }
    Ok(())
}

/// Watches (never polls) the instance, its backup records and its Events, and prints
/// again after each burst of changes, until Ctrl-C or the instance is gone.
async fn watch(client: &kube::Client, names: &InstanceNames, format: Format) -> anyhow::Result<()> {
    use futures::StreamExt;
    use kube::runtime::watcher::{self, Event as Change};
    let ns = &names.namespace;
    let by_name = watcher::Config::default().fields(&format!("metadata.name={}", names.name));
    let by_label = watcher::Config::default().labels(&format!("{INSTANCE_LABEL}={}", names.name));
    let by_object = watcher::Config::default().fields(&format!(
        "involvedObject.name={},involvedObject.kind=MySQL",
        names.name
    ));
    // Only a real change counts: the initial listing and restarts of a watch do not.
    fn is_change<K>(e: &Result<Change<K>, watcher::Error>) -> bool {
        matches!(e, Ok(Change::Apply(_) | Change::Delete(_)))
    }
    let mut changes = futures::stream::select_all([
        watcher::watcher(Api::<MySQL>::namespaced(client.clone(), ns), by_name)
            .map(|e| is_change(&e))
            .boxed(),
        watcher::watcher(Api::<MySQLBackup>::namespaced(client.clone(), ns), by_label)
            .map(|e| is_change(&e))
            .boxed(),
        watcher::watcher(Api::<Event>::namespaced(client.clone(), ns), by_object)
            .map(|e| is_change(&e))
            .boxed(),
    ])
    .filter(|changed| futures::future::ready(*changed));
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            next = changes.next() => {
                if next.is_none() {
                    return Ok(());
                }
            }
        }
        // A change rarely comes alone (status, then an Event): print once per burst.
        let burst = tokio::time::sleep(std::time::Duration::from_millis(300));
        tokio::pin!(burst);
        loop {
            tokio::select! {
                () = &mut burst => break,
                _ = changes.next() => {}
            }
        }
        if let Err(e) = show(client, names, format, true).await {
            if e.downcast_ref::<super::NotFound>().is_some() {
                println!("{} is gone", names.name);
                return Ok(());
            }
            return Err(e);
        }
    }
}

fn replica_report(d: Deployment) -> ReplicaReport {
    let status = d.status.unwrap_or_default();
    ReplicaReport {
        desired: d.spec.and_then(|s| s.replicas).unwrap_or(1),
        ready: status.ready_replicas.unwrap_or(0),
        available: status.available_replicas.unwrap_or(0),
    }
}

async fn detail(
    client: kube::Client,
    instance: &MySQL,
    names: &InstanceNames,
) -> anyhow::Result<StatusReport> {
    let ns = &names.namespace;
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), ns);
    let claim = |name: String, pvc: Option<PersistentVolumeClaim>| ClaimReport {
        name,
        phase: pvc.as_ref().and_then(|p| p.status.as_ref()?.phase.clone()),
        volume: pvc
            .as_ref()
            .and_then(|p| p.spec.as_ref()?.volume_name.clone()),
    };
    let data = pvcs.get_opt(&names.data_pvc()).await?;
    let backup = pvcs.get_opt(&names.backup_pvc()).await?;
    let deployment = Api::<Deployment>::namespaced(client.clone(), ns)
        .get_opt(&names.deployment())
        .await?;
    let replicas = deployment.map(replica_report).unwrap_or_default();
    let mut backups: Vec<MySQLBackup> = Api::<MySQLBackup>::namespaced(client.clone(), ns)
        .list(&ListParams::default().labels(&format!("{INSTANCE_LABEL}={}", names.name)))
        .await?
        .items;
    backups.sort_by_key(|b| std::cmp::Reverse(b.metadata.creation_timestamp.clone().map(|t| t.0)));
    let events = Api::<Event>::namespaced(client, ns)
        .list(&ListParams::default().fields(&format!(
            "involvedObject.name={},involvedObject.kind=MySQL",
            names.name
        )))
        .await
        .map(|l| l.items)
        .unwrap_or_default();
    let status = instance.status.clone().unwrap_or_default();
    Ok(StatusReport {
        summary: row(instance),
        endpoint: status.endpoint.clone(),
        node: status.node.clone(),
        next_backup: status.next_backup.clone(),
        recoverable: RecoverableWindow::of(&status),
        pending_restart: status.pending_restart.clone(),
        job_refused: status.job_refused.clone(),
        message: status.message.clone(),
        operator_warning: operator_warning(instance),
        data_volume_claim: claim(names.data_pvc(), data),
        backup_volume_claim: claim(names.backup_pvc(), backup),
        replicas,
        members: status.members.clone(),
        health: status.health,
        failover: status.failover.clone(),
        conditions: status
            .conditions
            .iter()
            .map(|c| ConditionReport {
                type_: c.type_.clone(),
                status: c.status.to_string(),
                reason: c.reason.clone(),
                message: c.message.clone(),
            })
            .collect(),
        backups: backups.iter().take(5).map(backup_report).collect(),
        events: events
            .iter()
            .rev()
            .take(10)
            .map(|e| EventReport {
                type_: e.type_.clone().unwrap_or_default(),
                reason: e.reason.clone().unwrap_or_default(),
                message: e.message.clone().unwrap_or_default(),
                count: e.count.unwrap_or(1),
            })
            .collect(),
    })
}

/// With replicas: a member a row.
fn print_members(members_status: &[MemberStatus]) {
    if members_status.is_empty() {
        return;
    }
    {
        let mut members = new_table(TableStyle::Boxed);
        members.set_header([
            "MEMBER",
            "ROLE",
            "READY",
            "NODE",
            "REPLICATING",
            "LAG",
            "GTID",
            "MESSAGE",
        ]);
        for m in members_status {
            let healthy = matches!(m.role, MemberRole::Primary | MemberRole::Replica);
            members.add_row([
                Cell::new(&m.name),
                painted(m.role.label(), Some(healthy)),
                painted(if m.ready { "yes" } else { "no" }, Some(m.ready)),
                Cell::new(m.node.as_deref().unwrap_or("-")),
                Cell::new(m.replicating.map_or("-", |r| if r { "yes" } else { "no" })),
                Cell::new(m.lag_seconds.map_or("-".to_string(), |s| format!("{s}s"))),
                Cell::new(m.gtid.as_deref().unwrap_or("-")),
                Cell::new(m.message.as_deref().unwrap_or("")),
            ]);
        }
        println!("{members}");
    }
}

/// With replicas: the health, a failover under way or refused, the last one, and the
/// newest member set aside.
fn add_failover_rows(table: &mut comfy_table::Table, r: &StatusReport) {
    use kubectl_mysql::api::Health;
    if let Some(health) = r.health {
        let ok = match health {
            Health::Healthy => Some(true),
            Health::Degraded => None,
            Health::FailingOver | Health::Failed => Some(false),
        };
        table.add_row(vec![
            Cell::new("Health"),
            painted(&format!("{health:?}"), ok),
        ]);
    }
    let Some(failover) = &r.failover else { return };
    if let Some(run) = &failover.running {
        let to = run.candidate.as_deref().unwrap_or("choosing");
        table.add_row(vec![
            Cell::new("Failing over"),
            painted(
                &format!("{} → {to} ({})", run.from, run.reason),
                Some(false),
            ),
        ]);
    }
    if let Some(why) = &failover.message {
        table.add_row(vec![Cell::new("Failover"), painted(why, Some(false))]);
    }
    if let Some(last) = &failover.last {
        table.add_row(vec![
            Cell::new("Last failover"),
            Cell::new(format!(
                "{} → {} at {} ({}; writes refused {}s; {} in all)",
                last.from,
                last.to,
                last.at,
                last.position,
                last.writes_refused_seconds,
                failover.count
            )),
        ]);
    }
    if let Some(aside) = failover.set_aside.last() {
        table.add_row(vec![
            Cell::new("Set aside"),
            Cell::new(format!(
                "{}: {} ({}) in {} at {}",
                aside.member, aside.reason, aside.transactions, aside.directory, aside.at
            )),
        ]);
    }
}

fn print_detail(r: &StatusReport) {
    let mut table = new_table(TableStyle::Boxed);
    let bound = |c: &ClaimReport| {
        let phase = c.phase.clone().unwrap_or_else(|| "missing".into());
        let ok = phase == "Bound";
        let text = format!(
            "{} {phase} (volume {})",
            c.name,
            c.volume.as_deref().unwrap_or("-")
        );
        painted(&text, Some(ok))
    };
    let plain = |key: &str, value: &str| vec![Cell::new(key), Cell::new(value)];
    table.add_row(plain(
        "Name",
        &format!("{}/{}", r.summary.namespace, r.summary.name),
    ));
    table.add_row(plain("Phase", &r.summary.phase));
    let ready = if r.summary.ready { "yes" } else { "no" };
    table.add_row(vec![
        Cell::new("Ready"),
        painted(ready, Some(r.summary.ready)),
    ]);
    table.add_row(plain("Image", &r.summary.image));
    table.add_row(plain("Endpoint", r.endpoint.as_deref().unwrap_or("-")));
    table.add_row(plain("Storage", &r.summary.storage));
    table.add_row(plain("Node", r.node.as_deref().unwrap_or("-")));
    if let Some(next) = &r.next_backup {
        table.add_row(plain("Next backup", next));
    }
    if let Some(window) = &r.recoverable {
        table.add_row(plain("Point in time", &window.to_string()));
    }
    table.add_row(vec![Cell::new("Data volume"), bound(&r.data_volume_claim)]);
    table.add_row(vec![
        Cell::new("Backup volume"),
        bound(&r.backup_volume_claim),
    ]);
    let replicas = format!(
        "{} desired, {} ready, {} available",
        r.replicas.desired, r.replicas.ready, r.replicas.available
    );
    table.add_row(plain("Replicas", &replicas));
    add_failover_rows(&mut table, r);
    if let Some(pending) = &r.pending_restart {
        table.add_row(plain("Pending restart", pending));
    }
    if let Some(refused) = &r.job_refused {
        table.add_row(plain("Refused", refused));
    }
    table.add_row(plain("Message", r.message.as_deref().unwrap_or("-")));
    println!("{table}");
    if let Some(warning) = &r.operator_warning {
        println!("{}", paint(&format!("warning: {warning}"), Some(false)));
    }
    print_members(&r.members);
    let mut conditions = new_table(TableStyle::Boxed);
    conditions.set_header(["CONDITION", "STATUS", "REASON", "MESSAGE"]);
    for c in &r.conditions {
        let ok = match c.status.as_str() {
            "True" => Some(true),
            "False" => Some(false),
            _ => None,
        };
        conditions.add_row([
            Cell::new(&c.type_),
            painted(&c.status, ok),
            Cell::new(&c.reason),
            Cell::new(&c.message),
        ]);
    }
    print_section("Conditions", &conditions);
    print_section("Backups", &backup_table(&r.backups, TableStyle::Boxed));
    let mut events = new_table(TableStyle::Boxed);
    events.set_header(["TYPE", "REASON", "MESSAGE"]);
    for e in &r.events {
        events.add_row([e.type_.clone(), e.reason.clone(), e.message.clone()]);
    }
    print_section("Events", &events);
}
