//! Shared by the cluster tests: a client from KUBECONFIG, a fresh namespace per test,
//! the operator as a child process, and polling with a deadline.
#![allow(dead_code)]

use std::future::Future;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ObjectMeta, PostParams};
use kube::{Client, Config};

/// A client for the test cluster. Without one the test fails and says how to get one
/// (tests/run starts it): a cluster test never passes without a cluster, in CI or not.
pub async fn cluster() -> Client {
    kubectl_mysql::kubeclient::use_ring_for_tls();
    let reason = match std::env::var("KUBECONFIG") {
        Err(_) => "KUBECONFIG is not set".to_string(),
        Ok(_) => match Config::infer().await {
            Err(e) => format!("cannot load KUBECONFIG: {e}"),
            Ok(config) => match Client::try_from(config) {
                Err(e) => format!("cannot build a client: {e}"),
                Ok(client) => match client.apiserver_version().await {
                    Ok(_) => return client,
                    Err(e) => format!("the API server does not answer: {e}"),
                },
            },
        },
    };
    panic!(
        "no test cluster ({reason}); run the suite with tests/run, which starts the local control plane"
    );
}

/// Creates a namespace with a unique name starting with `prefix`.
pub async fn namespace(client: &Client, prefix: &str) -> String {
    let name = format!(
        "{prefix}-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
            % 10_000_000_000
    );
    let api: Api<Namespace> = Api::all(client.clone());
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            ..Default::default()
        },
        ..Default::default()
    };
    api.create(&PostParams::default(), &ns)
        .await
        .expect("create namespace");
    // Pods need the namespace's default ServiceAccount.
    let sa: Api<k8s_openapi::api::core::v1::ServiceAccount> =
        Api::namespaced(client.clone(), &name);
    eventually(
        Duration::from_secs(30),
        "default ServiceAccount",
        || async { sa.get_opt("default").await.ok().flatten() },
    )
    .await;
    name
}

/// Polls `check` every 250 ms until it returns Some, or panics with `what` after `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            start.elapsed() < timeout,
            "timed out after {}s waiting for {what}",
            timeout.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The plugin binary: cargo names it for tests; the benchmark (an example, for which
/// cargo does not) finds it beside its own directory, where cargo builds both.
pub fn plugin() -> Command {
    let built = option_env!("CARGO_BIN_EXE_kubectl-mysql").map(std::path::PathBuf::from);
    Command::new(built.unwrap_or_else(|| {
        let exe = std::env::current_exe().expect("the running executable");
        exe.parent()
            .and_then(|examples| examples.parent())
            .expect("target/PROFILE/examples")
            .join("kubectl-mysql")
    }))
}

/// The real kubectl, which finds kubectl-mysql on PATH (tests/run puts it there).
pub fn kubectl(args: &[&str]) -> Output {
    Command::new("kubectl")
        .args(args)
        .output()
        .expect("kubectl on PATH")
}

/// The real kubectl with `input` on its standard input.
pub fn kubectl_with_stdin(args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new("kubectl")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl on PATH");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The operator binary, running against the test cluster until dropped.
pub struct Operator {
    child: Child,
    args: Vec<String>,
    log: std::path::PathBuf,
    /// Where its /metrics answer: what a test waits on before it asserts that nothing
    /// happened (the operator saw the change and did nothing, not merely not yet).
    pub metrics: String,
}

impl Operator {
    pub fn start(namespaces: &[&str]) -> Self {
        Self::start_with(&[], namespaces)
    }

    pub fn start_with(extra: &[&str], namespaces: &[&str]) -> Self {
        let mut args = vec![
            "run-operator".to_string(),
            "--concurrency".into(),
            "8".into(),
        ];
        for ns in namespaces {
            args.push("-n".into());
            args.push(ns.to_string());
        }
        let given = extra
            .iter()
            .position(|a| *a == "--metrics-addr")
            .map(|i| extra[i + 1].to_string());
        let metrics = given
            .clone()
            .unwrap_or_else(|| format!("127.0.0.1:{}", free_port()));
        if given.is_none() {
            args.push("--metrics-addr".into());
            args.push(metrics.clone());
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        Self::spawn(args, metrics)
    }

    fn spawn(args: Vec<String>, metrics: String) -> Self {
        let log = operator_log(&args);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let child = plugin()
            .args(&args)
            .env(
                "KUBECTL_MYSQL_LOG",
                "info,kubectl_mysql=debug,kubectl_mysql::reconcile::controller=trace,kube=warn",
            )
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("start the operator");
        Self {
            child,
            args,
            log,
            metrics,
        }
    }

    /// One counter of its /metrics (the first line starting with `series `); None
    /// while it does not answer.
    pub async fn counter(&self, series: &str) -> Option<u64> {
        let scraped = http_get(&self.metrics, "/metrics").await?;
        scraped.lines().find_map(|l| {
            l.strip_prefix(series)?
                .strip_prefix(' ')?
                .trim()
                .parse::<f64>()
                .ok()
                .map(|v| v as u64)
        })
    }

    /// Successful instance reconciles so far.
    pub async fn instance_reconciles(&self) -> Option<u64> {
        self.counter("kubectl_mysql_reconciles_total{controller=\"instance\"}")
            .await
    }

    /// Changes to instances that passed the watch's filter and woke a reconcile.
    pub async fn instance_wakeups(&self) -> Option<u64> {
        self.counter("kubectl_mysql_instance_wakeups_total").await
    }

    /// Waits until the instance reconciles reach `at_least`.
    pub async fn wait_instance_reconciles(&self, at_least: u64) {
        eventually(
            Duration::from_secs(60),
            &format!("{at_least} instance reconciles"),
            || async { self.instance_reconciles().await.filter(|n| *n >= at_least) },
        )
        .await;
    }

    /// Kills it (SIGKILL: no chance to finish anything) and starts a fresh one.
    pub fn restart(&mut self) {
        self.stop();
        *self = Self::spawn(self.args.clone(), self.metrics.clone());
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits for a clean exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        unsafe_kill_term(self.child.id());
        // A hang fails the test instead of the whole run.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for operator") {
                return status;
            }
            if std::time::Instant::now() > deadline {
                self.stop();
                panic!("the operator did not exit within 60 s of SIGTERM");
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(60).collect();
            eprintln!("--- the operator's last lines ({}):", self.log.display());
            tail.iter().rev().for_each(|line| eprintln!("{line}"));
        }
    }
}

/// Where an operator's log goes: one file per watched namespace list, in the
/// cluster's log folder when `tests/run` gives one (kept when a test fails), so a
/// failure in CI can be read afterwards.
fn operator_log(args: &[String]) -> std::path::PathBuf {
    let dir = std::env::var_os("KUBECTL_MYSQL_TEST_LOGS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let watched: Vec<&str> = args
        .windows(2)
        .filter(|pair| pair[0] == "-n" || pair[0] == "--namespace")
        .map(|pair| pair[1].as_str())
        .collect();
    let label = if watched.is_empty() {
        "all".to_string()
    } else {
        watched.join("+")
    };
    dir.join(format!("operator-{label}.log"))
}

fn unsafe_kill_term(pid: u32) {
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
}

pub fn install_crds() {
    let out = plugin().arg("install-crd").output().unwrap();
    assert!(out.status.success(), "install-crd failed: {}", text(&out));
}

/// `kubectl get events` in `namespace` whose fields match `selector`, with `more`.
fn events_where(namespace: &str, selector: &str, more: &[&str]) -> Output {
    let mut args = vec![
        "get",
        "events",
        "-n",
        namespace,
        "--field-selector",
        selector,
    ];
    args.extend_from_slice(more);
    kubectl(&args)
}

/// The Events of `namespace` with `reason`, as `kubectl get events` prints them (their
/// messages whole).
pub fn events_with_reason(namespace: &str, reason: &str) -> String {
    text(&events_where(namespace, &format!("reason={reason}"), &[]))
}

/// Whether an Event with `reason` names the object `name` in `namespace`.
pub fn has_event(namespace: &str, name: &str, reason: &str) -> bool {
    let selector = format!("involvedObject.name={name},reason={reason}");
    let out = events_where(namespace, &selector, &["-o", "name"]);
    !String::from_utf8_lossy(&out.stdout).trim().is_empty()
}

/// `GET path` on `addr` over plain HTTP/1.1: the whole response, head and body.
pub async fn http_get(addr: &str, path: &str) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await.ok()?;
    Some(response)
}

/// A free port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The tests' S3 server (tests/cluster/s3/up, started by tests/run). Without one the
/// test fails and says how to get one.
pub struct S3 {
    pub endpoint: String,
    pub bucket: String,
    pub access_key: String,
    pub secret_key: String,
    /// The server's directory: DIR/BUCKET/KEY is a stored object's file.
    pub data: std::path::PathBuf,
}

impl S3 {
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(format!("KUBECTL_MYSQL_S3_{name}")).ok();
        let (Some(endpoint), Some(bucket), Some(access_key), Some(secret_key), Some(data)) = (
            var("ENDPOINT"),
            var("BUCKET"),
            var("ACCESS_KEY"),
            var("SECRET_KEY"),
            var("DATA"),
        ) else {
            panic!(
                "no S3 server (KUBECTL_MYSQL_S3_* unset); run the suite with tests/run, which starts one"
            );
        };
        Self {
            endpoint,
            bucket,
            access_key,
            secret_key,
            data: data.into(),
        }
    }

    /// The file the server keeps an object's bytes in.
    pub fn object_file(&self, key: &str) -> std::path::PathBuf {
        self.data.join(&self.bucket).join(key)
    }
}
