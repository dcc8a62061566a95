//! The operator's cost on the current cluster (the local control plane by default):
//! latency for single instances, bursts of N, API requests by verb, steady-state
//! writes, peak RSS and CPU of the operator process, and two bounds: the fair one (a
//! bare client making the writes any operator must make for the same instances) and
//! the raw one (as many small ConfigMaps). Run it with `examples/bench.sh`; it prints
//! the figures and writes JSON.
//!
//!   cargo run --release --example bench -- [--sizes 100,1000[,5000]] [--samples 20]
//!       [--steady-seconds 30] [--out FILE]

use std::collections::{BTreeMap, HashMap};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Node};
use kube::api::{Api, ObjectMeta, Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use kubectl_mysql::api::keys::SKIP_BACKUP_ANNOTATION;
use kubectl_mysql::api::{MySQL, MySQLSpec, MySQLStatus, Phase};
use kubectl_mysql::manifests;
use kubectl_mysql::names::InstanceNames;
use kubectl_mysql::reconcile::kube_ops::{apply, patch_status};
use kubectl_mysql::render::{InstanceContext, Renderer};
use serde::Serialize;

#[path = "../tests/common/mod.rs"]
mod common;

type AnyError = Box<dyn std::error::Error + Send + Sync>;

/// What to measure.
#[derive(clap::Parser, Debug)]
#[command(
    about = "The operator's cost on the current cluster",
    args_override_self = true
)]
struct Options {
    /// Burst sizes, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "100,1000")]
    sizes: Vec<usize>,
    /// Single instances created one at a time for the latency figures.
    #[arg(long, default_value_t = 20)]
    samples: usize,
    /// How long each burst's steady state is watched for writes.
    #[arg(long, default_value_t = 30)]
    steady_seconds: u64,
    /// Where the JSON figures go.
    #[arg(long, default_value = "bench-results.json")]
    out: String,
    /// The operator's --concurrency.
    #[arg(long, default_value_t = 16)]
    concurrency: u16,
    /// The kubectl-mysql binary to measure (default: the one built with the benchmark),
    /// so that an older build can be measured by the same benchmark for a before/after.
    #[arg(long)]
    operator: Option<std::path::PathBuf>,
}

/// When each instance was first seen reconciled (status written) and Ready.
#[derive(Default)]
struct Seen {
    reconciled: HashMap<String, Instant>,
    ready: HashMap<String, Instant>,
}

fn spawn_observer(client: Client, ns: &str) -> Arc<Mutex<Seen>> {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let api: Api<MySQL> = Api::namespaced(client, ns);
    let out = seen.clone();
    tokio::spawn(async move {
        let mut stream = watcher(api, watcher::Config::default()).boxed();
        while let Ok(Some(event)) = stream.try_next().await {
            let objects = match event {
                watcher::Event::Apply(o) | watcher::Event::InitApply(o) => vec![o],
                _ => continue,
            };
            let now = Instant::now();
            let mut seen = out.lock().unwrap();
            for o in objects {
                let status = o.status.clone().unwrap_or_default();
                if status.observed_generation.is_some() {
                    seen.reconciled.entry(o.name_any()).or_insert(now);
                }
                if status.phase == Some(Phase::Ready) {
                    seen.ready.entry(o.name_any()).or_insert(now);
                }
            }
        }
    });
    seen
}

struct OperatorProcess {
    child: Child,
    metrics: String,
}

impl OperatorProcess {
    async fn start(ns: &str, o: &Options) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut command = match &o.operator {
            Some(path) => Command::new(path),
            None => common::plugin(),
        };
        let child = command
            .args([
                "run-operator",
                "-n",
                ns,
                "--concurrency",
                &o.concurrency.to_string(),
                "--metrics-addr",
                &format!("127.0.0.1:{port}"),
                "-q",
            ])
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the operator: {e}"));
        let me = Self {
            child,
            metrics: format!("127.0.0.1:{port}"),
        };
        for _ in 0..100 {
            if me.requests().await.is_some() {
                return me;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the operator did not serve /metrics");
    }

    async fn scrape(&self) -> Option<String> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(&self.metrics).await.ok()?;
        stream
            .write_all(b"GET /metrics HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .await
            .ok()?;
        let mut body = String::new();
        stream.read_to_string(&mut body).await.ok()?;
        Some(body)
    }

    /// How many instance reconciles the operator ran so far.
    async fn reconciles(&self) -> u64 {
        let body = self.scrape().await.unwrap_or_default();
        body.lines()
            .find_map(|l| {
                l.strip_prefix("kubectl_mysql_reconciles_total{controller=\"instance\"} ")?
                    .parse()
                    .ok()
            })
            .unwrap_or(0)
    }

    /// The operator's request counters, by verb and by `verb resource`.
    async fn requests(&self) -> Option<BTreeMap<String, u64>> {
        let body = self.scrape().await?;
        let mut counts = BTreeMap::new();
        for line in body.lines() {
            let Some(rest) = line.strip_prefix("kubectl_mysql_api_requests_total{verb=\"") else {
                continue;
            };
            let Some((labels, count)) = rest.split_once("} ") else {
                continue;
            };
            let Ok(count) = count.parse::<u64>() else {
                continue;
            };
            let (verb, resource) = labels
                .split_once("\",resource=\"")
                .map(|(v, r)| (v, r.trim_end_matches('"')))
                .unwrap_or((labels.trim_end_matches('"'), "?"));
            *counts.entry(verb.to_string()).or_default() += count;
            *counts.entry(format!("{verb} {resource}")).or_default() += count;
        }
        Some(counts)
    }

    /// Peak RSS (MiB) and CPU seconds so far, from /proc.
    fn cost(&self) -> (f64, f64) {
        let pid = self.child.id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let hwm_kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
            .unwrap_or(0.0);
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        (hwm_kib / 1024.0, cpu_seconds(&stat))
    }

    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

fn diff(after: &BTreeMap<String, u64>, before: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0)))
        .collect()
}

/// The per-verb totals (keys without a resource).
fn by_verb(requests: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    requests
        .iter()
        .filter(|(k, _)| !k.contains(' '))
        .map(|(k, v)| (k.clone(), *v))
        .collect()
}

/// Per instance, rounded to hundredths.
fn per_instance(requests: &BTreeMap<String, u64>, n: usize) -> BTreeMap<String, f64> {
    requests
        .iter()
        .filter(|(_, v)| **v > 0)
        .map(|(k, v)| (k.clone(), (*v as f64 / n as f64 * 100.0).round() / 100.0))
        .collect()
}

fn total(requests: &BTreeMap<String, u64>) -> u64 {
    by_verb(requests)
        .iter()
        .filter(|(k, _)| *k != "watch")
        .map(|(_, v)| v)
        .sum()
}

fn writes(requests: &BTreeMap<String, u64>) -> u64 {
    ["create", "update", "patch", "delete"]
        .iter()
        .map(|v| requests.get(*v).copied().unwrap_or(0))
        .sum()
}

fn instance(name: &str) -> MySQL {
    let mut i = MySQL::new(
        name,
        MySQLSpec {
            image: "mysql:8.4".into(),
            database: "bench".into(),
            password: Some("bench-password".into()),
            password_secret_ref: None,
            storage_size: "1Gi".into(),
            storage_class_name: None,
            backup: None,
            replicas: None,
            failover: None,
            ..Default::default()
        },
    );
    // Benchmark instances go without a final backup when their namespace is deleted.
    i.annotations_mut()
        .insert(SKIP_BACKUP_ANNOTATION.into(), "true".into());
    i
}

async fn wait_all(
    seen: &Arc<Mutex<Seen>>,
    names: &[String],
    ready: bool,
    timeout: Duration,
) -> Result<(), AnyError> {
    let start = Instant::now();
    loop {
        {
            let s = seen.lock().unwrap();
            let map = if ready { &s.ready } else { &s.reconciled };
            if names.iter().all(|n| map.contains_key(n)) {
                return Ok(());
            }
        }
        if start.elapsed() > timeout {
            return Err(format!(
                "timed out waiting for {} instances to be {}",
                names.len(),
                if ready { "Ready" } else { "reconciled" }
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

#[derive(Serialize)]
struct LatencyReport {
    samples: usize,
    reconciled_ms_median: f64,
    reconciled_ms_p99: f64,
    ready_ms_median: f64,
    ready_ms_p99: f64,
    requests_per_instance: BTreeMap<String, f64>,
}

#[derive(Serialize)]
struct BurstReport {
    instances: usize,
    reconciled_s: f64,
    ready_s: f64,
    /// All requests but watches, per instance.
    requests_per_instance_total: f64,
    /// By verb, and by `verb resource`.
    requests_per_instance: BTreeMap<String, f64>,
    writes_per_instance: f64,
    /// Instance reconciles run until every instance was Ready.
    reconciles_per_instance: f64,
    steady_seconds: u64,
    steady_requests: BTreeMap<String, u64>,
    steady_writes: u64,
    operator_peak_rss_mib: f64,
    operator_cpu_s: f64,
    operator_cpu_ms_per_instance: f64,
    /// CPU seconds the API server and etcd spent during the burst (to reconciled).
    apiserver_cpu_s: f64,
    etcd_cpu_s: f64,
    /// The fair bound: a bare client writes the instances and exactly the objects the
    /// operator creates for them, plus one status write each.
    fair_bound_writes: u64,
    fair_bound_s: f64,
    reconciled_over_fair: f64,
    /// The reference bound: as many small ConfigMaps as the operator made writes.
    raw_applies: u64,
    raw_apply_s: f64,
    reconciled_over_raw: f64,
}

#[derive(Serialize)]
struct Report {
    kubernetes: String,
    concurrency: u16,
    request_source: &'static str,
    latency: LatencyReport,
    bursts: Vec<BurstReport>,
}

async fn latency(client: &Client, o: &Options) -> Result<LatencyReport, AnyError> {
    let ns = common::namespace(client, "kubectl-mysql-bench-latency").await;
    let seen = spawn_observer(client.clone(), &ns);
    let operator = OperatorProcess::start(&ns, o).await;
    let api: Api<MySQL> = Api::namespaced(client.clone(), &ns);
    let before = operator.requests().await.unwrap_or_default();
    let (mut reconciled, mut ready) = (Vec::new(), Vec::new());
    for i in 0..o.samples {
        let name = format!("lat-{i}");
        let t0 = Instant::now();
        api.create(&PostParams::default(), &instance(&name)).await?;
        wait_all(
            &seen,
            std::slice::from_ref(&name),
            true,
            Duration::from_secs(60),
        )
        .await?;
        let s = seen.lock().unwrap();
        reconciled.push(s.reconciled[&name].duration_since(t0).as_secs_f64() * 1000.0);
        ready.push(s.ready[&name].duration_since(t0).as_secs_f64() * 1000.0);
    }
    let requests = diff(&operator.requests().await.unwrap_or_default(), &before);
    operator.stop();
    reconciled.sort_by(f64::total_cmp);
    ready.sort_by(f64::total_cmp);
    Ok(LatencyReport {
        samples: o.samples,
        reconciled_ms_median: percentile(&reconciled, 50.0),
        reconciled_ms_p99: percentile(&reconciled, 99.0),
        ready_ms_median: percentile(&ready, 50.0),
        ready_ms_p99: percentile(&ready, 99.0),
        requests_per_instance: per_instance(&requests, o.samples),
    })
}

async fn burst(client: &Client, n: usize, o: &Options) -> Result<BurstReport, AnyError> {
    let ns = common::namespace(client, &format!("kubectl-mysql-bench-burst{n}")).await;
    let seen = spawn_observer(client.clone(), &ns);
    let operator = OperatorProcess::start(&ns, o).await;
    let api: Api<MySQL> = Api::namespaced(client.clone(), &ns);
    let names: Vec<String> = (0..n).map(|i| format!("burst-{i}")).collect();
    let before = operator.requests().await.unwrap_or_default();
    let reconciles_before = operator.reconciles().await;
    let servers_before = ServerCpu::now();
    let t0 = Instant::now();
    futures::stream::iter(names.iter().map(|name| {
        let api = api.clone();
        async move { api.create(&PostParams::default(), &instance(name)).await }
    }))
    .buffer_unordered(CREATE_CONCURRENCY)
    .try_collect::<Vec<_>>()
    .await?;
    wait_all(&seen, &names, false, Duration::from_secs(3600)).await?;
    let reconciled_s = last_seen(&seen, &names, false, t0);
    let servers = ServerCpu::now().since(&servers_before);
    wait_all(&seen, &names, true, Duration::from_secs(3600)).await?;
    let ready_s = last_seen(&seen, &names, true, t0);
    // Let the last status writes and Events land before counting.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = operator.requests().await.unwrap_or_default();
    let reconciles = operator.reconciles().await - reconciles_before;
    let creation = diff(&after, &before);
    tokio::time::sleep(Duration::from_secs(o.steady_seconds)).await;
    let steady = by_verb(&diff(
        &operator.requests().await.unwrap_or_default(),
        &after,
    ));
    let (rss, cpu) = operator.cost();
    operator.stop();

    let raw_applies = writes(&by_verb(&creation));
    let (fair_bound_writes, fair_bound_s) = fair_bound(client, n, o.concurrency).await?;
    let raw_apply_s = raw_bound(client, &ns, raw_applies, o.concurrency).await?;
    Ok(BurstReport {
        instances: n,
        reconciled_s,
        ready_s,
        requests_per_instance_total: total(&creation) as f64 / n as f64,
        requests_per_instance: per_instance(&creation, n),
        writes_per_instance: raw_applies as f64 / n as f64,
        reconciles_per_instance: reconciles as f64 / n as f64,
        steady_seconds: o.steady_seconds,
        steady_writes: writes(&steady),
        steady_requests: steady,
        operator_peak_rss_mib: rss,
        operator_cpu_s: cpu,
        operator_cpu_ms_per_instance: cpu * 1000.0 / n as f64,
        apiserver_cpu_s: servers.apiserver,
        etcd_cpu_s: servers.etcd,
        fair_bound_writes,
        fair_bound_s,
        reconciled_over_fair: reconciled_s / fair_bound_s,
        raw_applies,
        raw_apply_s,
        reconciled_over_raw: reconciled_s / raw_apply_s,
    })
}

/// How many instances the benchmark creates at once (as `kubectl apply` of many files
/// would); the operator then works through them at its own concurrency.
const CREATE_CONCURRENCY: usize = 64;

/// Seconds from `t0` to the last instance seen reconciled (or Ready).
fn last_seen(seen: &Arc<Mutex<Seen>>, names: &[String], ready: bool, t0: Instant) -> f64 {
    let s = seen.lock().unwrap();
    let map = if ready { &s.ready } else { &s.reconciled };
    names
        .iter()
        .map(|n| map[n])
        .max()
        .unwrap()
        .duration_since(t0)
        .as_secs_f64()
}

/// CPU seconds so far of the API server and etcd on this machine (0 when they are
/// not local processes).
#[derive(Clone, Copy, Default)]
struct ServerCpu {
    apiserver: f64,
    etcd: f64,
}

impl ServerCpu {
    fn now() -> Self {
        let mut cpu = Self::default();
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return cpu;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
            let slot = match comm.trim() {
                "kube-apiserver" => &mut cpu.apiserver,
                "etcd" => &mut cpu.etcd,
                _ => continue,
            };
            *slot += cpu_seconds(&std::fs::read_to_string(path.join("stat")).unwrap_or_default());
        }
        cpu
    }

    fn since(&self, before: &Self) -> Self {
        Self {
            apiserver: self.apiserver - before.apiserver,
            etcd: self.etcd - before.etcd,
        }
    }
}

/// utime + stime of a `/proc/PID/stat` line, in seconds.
fn cpu_seconds(stat: &str) -> f64 {
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, r)| r.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// The fair bound: the least any operator can do for N instances on this cluster. A
/// bare client creates the N instances as the burst does, and for each, at the
/// operator's concurrency, server-side-applies exactly the children the operator
/// creates (rendered by the same templates) and writes its status once. Returns the
/// writes made and the seconds taken.
async fn fair_bound(client: &Client, n: usize, concurrency: u16) -> Result<(u64, f64), AnyError> {
    let ns = common::namespace(client, &format!("kubectl-mysql-bench-fair{n}")).await;
    let renderer = Renderer::embedded();
    let api: Api<MySQL> = Api::namespaced(client.clone(), &ns);
    let writes = std::sync::atomic::AtomicU64::new(0);
    let t0 = Instant::now();
    futures::stream::iter((0..n).map(|i| {
        let api = api.clone();
        async move {
            api.create(&PostParams::default(), &instance(&format!("fair-{i}")))
                .await
        }
    }))
    .buffer_unordered(CREATE_CONCURRENCY)
    .map(|created| {
        let (renderer, client, ns, writes) = (&renderer, client.clone(), ns.clone(), &writes);
        async move {
            let created = created?;
            let count = write_children(&client, &ns, renderer, &created).await?;
            writes.fetch_add(count + 1, std::sync::atomic::Ordering::Relaxed);
            Ok::<_, AnyError>(())
        }
    })
    .buffer_unordered(concurrency as usize)
    .try_collect::<Vec<_>>()
    .await?;
    Ok((writes.into_inner(), t0.elapsed().as_secs_f64()))
}

/// The writes of one instance in the fair bound; returns how many it made.
async fn write_children(
    client: &Client,
    ns: &str,
    renderer: &Renderer,
    instance: &MySQL,
) -> Result<u64, AnyError> {
    let names = InstanceNames::new(instance.name_any(), ns.to_string());
    let ctx = InstanceContext::new(instance, &names);
    let children = manifests::children(renderer, &ctx)?;
    let secret = manifests::credentials_secret(
        renderer,
        &ctx,
        &names.credentials_secret(),
        "bench-password",
    )?;
    let mut count = 0;
    apply(&Api::namespaced(client.clone(), ns), &secret).await?;
    if let Some(pv) = &children.data_pv {
        apply(&Api::all(client.clone()), pv).await?;
        count += 1;
    }
    if let Some(pv) = &children.backup_pv {
        apply(&Api::all(client.clone()), pv).await?;
        count += 1;
    }
    apply(&Api::namespaced(client.clone(), ns), &children.data_pvc).await?;
    apply(&Api::namespaced(client.clone(), ns), &children.backup_pvc).await?;
    apply(&Api::namespaced(client.clone(), ns), &children.service).await?;
    apply(&Api::namespaced(client.clone(), ns), &children.deployment).await?;
    // The Secret, both claims, the Service and the Deployment.
    count += 5;
    let status = MySQLStatus {
        phase: Some(Phase::Pending),
        observed_generation: instance.metadata.generation,
        ..Default::default()
    };
    patch_status::<MySQL>(
        &Api::namespaced(client.clone(), ns),
        &instance.name_any(),
        &status,
    )
    .await?;
    Ok(count + 1)
}

/// The physical reference: a bare client server-side-applies as many small objects as
/// the operator wrote, with the operator's concurrency.
async fn raw_bound(
    client: &Client,
    ns: &str,
    applies: u64,
    concurrency: u16,
) -> Result<f64, AnyError> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    let params = PatchParams::apply("kubectl-mysql-bench").force();
    let t0 = Instant::now();
    futures::stream::iter((0..applies).map(|i| {
        let api = api.clone();
        let params = params.clone();
        async move {
            let name = format!("raw-{i}");
            let cm = ConfigMap {
                metadata: ObjectMeta {
                    name: Some(name.clone()),
                    labels: Some(BTreeMap::from([("app".into(), format!("raw-{}", i / 8))])),
                    ..Default::default()
                },
                data: Some(BTreeMap::from([("payload".into(), "x".repeat(512))])),
                ..Default::default()
            };
            api.patch(&name, &params, &Patch::Apply(&cm)).await
        }
    }))
    .buffer_unordered(concurrency as usize)
    .try_collect::<Vec<_>>()
    .await?;
    Ok(t0.elapsed().as_secs_f64())
}

/// On a simulated cluster (kwok nodes), registers more simulated nodes until they can
/// hold `pods` more pods: every instance of every run, and the fair bound's, keeps a
/// pod. A real cluster is left alone.
async fn ensure_simulated_capacity(client: &Client, pods: u64) -> Result<(), AnyError> {
    let nodes: Api<Node> = Api::all(client.clone());
    let simulated: Vec<Node> = nodes
        .list(&Default::default())
        .await?
        .items
        .into_iter()
        .filter(|n| n.annotations().contains_key("kwok.x-k8s.io/node"))
        .collect();
    if simulated.is_empty() {
        return Ok(());
    }
    let capacity: u64 = simulated
        .iter()
        .filter_map(|n| n.status.as_ref()?.capacity.as_ref()?.get("pods"))
        .filter_map(|q| {
            q.0.trim_end_matches('k')
                .parse::<u64>()
                .ok()
                .map(|v| if q.0.ends_with('k') { v * 1000 } else { v })
        })
        .sum();
    let mut missing = pods.saturating_sub(capacity);
    let mut index = simulated.len();
    while missing > 0 {
        let name = format!("kubectl-mysql-bench-{index}");
        let manifest = format!(
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: {name}\n  annotations:\n    kwok.x-k8s.io/node: fake\n    node.alpha.kubernetes.io/ttl: \"0\"\n  labels:\n    kubernetes.io/hostname: {name}\n    kubernetes.io/os: linux\n    type: kwok\nstatus:\n  allocatable: {{cpu: \"256\", memory: 1Ti, pods: \"5000\"}}\n  capacity: {{cpu: \"256\", memory: 1Ti, pods: \"5000\"}}\n"
        );
        let out = common::kubectl_with_stdin(&["apply", "-f", "-"], &manifest);
        if !out.status.success() {
            return Err(format!("cannot register {name}: {}", common::text(&out)).into());
        }
        eprintln!("registered simulated node {name} (5000 pods)");
        missing = missing.saturating_sub(5000);
        index += 1;
    }
    // Let the new nodes turn Ready before anything is placed on them.
    tokio::time::sleep(Duration::from_secs(5)).await;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), AnyError> {
    let o = <Options as clap::Parser>::parse();
    kubectl_mysql::kubeclient::use_ring_for_tls();
    let client = Client::try_default().await?;
    let kubernetes = client.apiserver_version().await?.git_version;
    common::install_crds();
    let pods = o.samples as u64 + 2 * o.sizes.iter().map(|n| *n as u64).sum::<u64>();
    ensure_simulated_capacity(&client, pods).await?;

    eprintln!("latency: {} instances, one at a time", o.samples);
    let latency = latency(&client, &o).await?;
    let mut bursts = Vec::new();
    for &n in &o.sizes {
        eprintln!("burst: {n} instances at once");
        bursts.push(burst(&client, n, &o).await?);
    }
    let report = Report {
        kubernetes,
        concurrency: o.concurrency,
        request_source: "client-side counters in the operator (kubectl_mysql_api_requests_total on its /metrics)",
        latency,
        bursts,
    };

    println!(
        "kubectl-mysql benchmark on Kubernetes {} (operator concurrency {})",
        report.kubernetes, report.concurrency
    );
    let l = &report.latency;
    println!(
        "single instance x{}: reconciled median {:.0} ms, p99 {:.0} ms; Ready median {:.0} ms, p99 {:.0} ms\n  requests/instance {:?}",
        l.samples,
        l.reconciled_ms_median,
        l.reconciled_ms_p99,
        l.ready_ms_median,
        l.ready_ms_p99,
        l.requests_per_instance
    );
    for b in &report.bursts {
        println!(
            "burst {}: reconciled {:.1} s, Ready {:.1} s\n  fair bound: {} writes in {:.1} s -> reconciled / fair = {:.2}\n  raw bound: {} ConfigMap applies in {:.1} s -> reconciled / raw = {:.2}\n  requests/instance {:.1} (writes {:.1}), reconciles/instance {:.1}: {:?}\n  steady {} s: {} writes {:?}\n  operator: peak RSS {:.1} MiB, CPU {:.1} s ({:.2} ms/instance); apiserver CPU {:.1} s, etcd CPU {:.1} s to reconciled",
            b.instances,
            b.reconciled_s,
            b.ready_s,
            b.fair_bound_writes,
            b.fair_bound_s,
            b.reconciled_over_fair,
            b.raw_applies,
            b.raw_apply_s,
            b.reconciled_over_raw,
            b.requests_per_instance_total,
            b.writes_per_instance,
            b.reconciles_per_instance,
            b.requests_per_instance,
            b.steady_seconds,
            b.steady_writes,
            b.steady_requests,
            b.operator_peak_rss_mib,
            b.operator_cpu_s,
            b.operator_cpu_ms_per_instance,
            b.apiserver_cpu_s,
            b.etcd_cpu_s
        );
    }
    std::fs::write(&o.out, serde_json::to_string_pretty(&report)?)?;
    println!("figures written to {}", o.out);
    Ok(())
}
