//! Automatic failover on the real node: five faults of a three-member instance
//! (`spec.failover.after: 5s`) under a steady writer going through the Service, each
//! ending with three streaming members, every acknowledged insert on every one of them
//! and exactly one member taking writes.
//!
//! The primary's server killed with SIGKILL: a replica takes over and the old primary
//! comes back as a replica (or is set aside and seeded afresh). The primary's pod
//! force-deleted and kept from starting again (its node cordoned; its volume is pinned
//! there): a replica takes over while the member is gone, and the member rejoins once
//! the node takes pods again. A replica holding a transaction of its own (an errant
//! one): the failover passes it over for the clean replica, and it is set aside and
//! seeded afresh without that transaction. The operator SIGKILLed at each step of a
//! failover (`KUBECTL_MYSQL_KILL_AT`), the old primary held down meanwhile: the
//! operator started again finishes it, once. And a failover right after a planned
//! switchover, the new primary killed at once.
//!
//! Servers are killed from the host (the tests run as root beside the real node's
//! containers): see `kill_mysqld` for why not with `kubectl exec`.
//!
//! Included from tests/real_node.rs (`#[path = "real_node/failover.rs"] mod failover;`):
//! the helpers are that file's.

use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::common::{self, kubectl, kubectl_with_stdin, text};
use super::{
    INSTANCE, Writer, instance_field, member_value, ok, read_only, wait_acknowledged_everywhere,
    wait_replicating, wait_until,
};

const MEMBER_1: &str = "mysql-instance-member-1";
const MEMBER_2: &str = "mysql-instance-member-2";
const ALL: [&str; 3] = [INSTANCE, MEMBER_1, MEMBER_2];

/// How long a failover, or the operator's recovery of one, may take on the real node
/// (slow: a 2-core machine running every pod).
const FAILOVER: Duration = Duration::from_secs(300);

/// Where `KUBECTL_MYSQL_KILL_AT` stops the operator, in the order a failover reaches
/// them: fencing applied, the running failover recorded, the candidate promoted, the
/// failover done (each but the second before its status is written).
const KILL_POINTS: [&str; 4] = [
    "failover-fencing-applied",
    "failover-fencing-recorded",
    "failover-promoting-applied",
    "failover-done-applied",
];

/// A fresh namespace with the operator in the cluster watching it, and in it the
/// instance of [`three_members`].
async fn setup(prefix: &str) -> String {
    let client = common::cluster().await;
    let ns = common::namespace(&client, prefix).await;
    let image = super::operator_image();
    super::install_operator(&format!("{ns}-operator"), &image, &ns);
    three_members(&ns);
    ns
}

/// The course's instance with three members failing over after 5 s, every replica
/// streaming, and table `t` holding 1, 2, 3 on every member (written through the
/// Service from a replica's pod, as any client in the cluster).
fn three_members(ns: &str) {
    // course_cr() ends inside `spec:`, whose fields are indented by two spaces.
    let cr = format!(
        "{}  replicas: 3\n  failover:\n    after: 5s\n",
        super::course_cr()
    );
    ok(
        kubectl_with_stdin(&["apply", "-n", ns, "-f", "-"], &cr),
        "the course's CR with replicas: 3 and failover after 5s",
    );
    super::wait_ready(ns);
    wait_replicating(ns, 3);
    ok(
        member_value(
            ns,
            MEMBER_2,
            INSTANCE,
            "CREATE TABLE t (id INT PRIMARY KEY); INSERT INTO t VALUES (1), (2), (3)",
        ),
        "writing through the Service",
    );
    super::wait_rows_everywhere(ns, &ALL, 3);
}

/// Deletes the instance (its backup on delete taken) and, best effort, its volumes.
fn remove_instance(ns: &str) {
    ok(
        super::on_instance("delete", ns, &["--timeout=300s"]),
        "deleting the replicated instance",
    );
    super::delete_volumes_of(ns);
}

/// A [`Writer`] in member `pod_of`'s pod (never one whose server the test kills: the
/// writer's shell dies with the container), once its first inserts are acknowledged.
fn steady_writer(ns: &str, pod_of: &str) -> Writer {
    let writer = Writer::start(ns, pod_of);
    writer.wait_acknowledged_after(1004);
    writer
}

fn last_acknowledged(writer: &Writer) -> u32 {
    writer.acknowledged().into_iter().max().unwrap_or(0)
}

/// Once a failover is done: the writer has an insert acknowledged since (by the new
/// primary, the old one being down or read-only), then stops. What it had acknowledged,
/// and how many inserts it saw refused.
fn stop_after_a_new_write(writer: Writer) -> (Vec<u32>, usize) {
    writer.wait_acknowledged_after(last_acknowledged(&writer));
    let failed = writer.failed();
    (writer.stop(), failed)
}

/// Three members again, every replica streaming, each holding every acknowledged row,
/// and exactly one taking writes; that one.
fn settled(ns: &str, acknowledged: &[u32]) -> String {
    wait_replicating(ns, 3);
    wait_acknowledged_everywhere(ns, &ALL, acknowledged);
    exactly_one_writable(ns)
}

/// Exactly one member has `read_only` 0, and it is the primary the status names; its
/// Deployment.
fn exactly_one_writable(ns: &str) -> String {
    let writable: Vec<&str> = ALL
        .into_iter()
        .filter(|member| read_only(ns, member) == "0")
        .collect();
    assert_eq!(
        writable.len(),
        1,
        "exactly one writable member: {writable:?}"
    );
    assert_eq!(
        writable[0],
        instance_field(ns, ".status.primary"),
        "the writable member is the primary the status names"
    );
    writable[0].to_string()
}

/// Waits until `.status.failover.count` is `count` and a member other than `from` is
/// the primary; that member. More failovers than `count` fail at once.
fn wait_failed_over(ns: &str, from: &str, count: u32) -> String {
    let mut primary = String::new();
    wait_until(
        FAILOVER,
        &format!("failover {count}, away from {from}"),
        || {
            let done: u32 = instance_field(ns, ".status.failover.count")
                .parse()
                .unwrap_or(0);
            assert!(done <= count, "{done} failovers, {count} expected");
            primary = instance_field(ns, ".status.primary");
            (done == count && !primary.is_empty() && primary != from)
                .then_some(())
                .ok_or_else(|| {
                    format!(
                        "{done} failovers, primary {primary:?}, health {:?}, running {}",
                        instance_field(ns, ".status.health"),
                        instance_field(ns, ".status.failover.running")
                    )
                })
        },
    );
    primary
}

/// Waits until the instance's field at `path` reads `want`.
fn wait_field(ns: &str, path: &str, want: &str) {
    wait_until(FAILOVER, &format!("{path} to be {want}"), || {
        let got = instance_field(ns, path);
        (got == want).then_some(()).ok_or(got)
    });
}

/// Waits until an Event with `reason` names the instance.
fn wait_event(ns: &str, reason: &str) {
    wait_until(
        Duration::from_secs(60),
        &format!("a {reason} Event"),
        || {
            common::has_event(ns, INSTANCE, reason)
                .then_some(())
                .ok_or_else(String::new)
        },
    );
}

/// The last failover's figures and the writer's, on stderr.
fn report(ns: &str, what: &str, acknowledged: &[u32], failed: usize) {
    eprintln!(
        "{what}: {} → {} at {}; writes refused for {} s; the writer had {} inserts acknowledged and saw {failed} refused",
        instance_field(ns, ".status.failover.last.from"),
        instance_field(ns, ".status.failover.last.to"),
        instance_field(ns, ".status.failover.last.position"),
        instance_field(ns, ".status.failover.last.writesRefusedSeconds"),
        acknowledged.len()
    );
}

/// A member's pod, as `member_pods` lists it.
struct MemberPod {
    name: String,
    uid: String,
    node: String,
    deleting: bool,
    /// Its server container's runtime id, while that runs.
    running: Option<String>,
}

/// Member `deployment`'s pods.
fn member_pods(ns: &str, deployment: &str) -> Result<Vec<MemberPod>, String> {
    let index = if deployment == INSTANCE {
        "0"
    } else {
        deployment
            .strip_prefix("mysql-instance-member-")
            .unwrap_or_else(|| panic!("{deployment} is not a member's Deployment"))
    };
    let selector =
        format!("mysqls.otus.homework/instance={INSTANCE},mysqls.otus.homework/member={index}");
    let columns = r#"jsonpath={range .items[*]}{.metadata.name}|{.metadata.uid}|{.metadata.deletionTimestamp}|{.spec.nodeName}|{.status.containerStatuses[?(@.name=="mysql")].state.running.startedAt}|{.status.containerStatuses[?(@.name=="mysql")].containerID}{"\n"}{end}"#;
    let listed = kubectl(&["get", "pods", "-n", ns, "-l", &selector, "-o", columns]);
    if !listed.status.success() {
        return Err(text(&listed));
    }
    let pods = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split('|').collect();
            let [name, uid, deleting, node, started, container] = fields[..] else {
                return None;
            };
            let container = container.rsplit("://").next().unwrap_or_default();
            Some(MemberPod {
                name: name.to_string(),
                uid: uid.to_string(),
                node: node.to_string(),
                deleting: !deleting.is_empty(),
                running: (!started.is_empty() && !container.is_empty())
                    .then(|| container.to_string()),
            })
        })
        .collect();
    Ok(pods)
}

/// Member `deployment`'s pod whose server runs (not one being deleted), if it has one.
fn running_server(ns: &str, deployment: &str) -> Option<MemberPod> {
    member_pods(ns, deployment)
        .unwrap_or_else(|why| panic!("{deployment}'s pods: {why}"))
        .into_iter()
        .find(|pod| !pod.deleting && pod.running.is_some())
}

/// The host's pids of the servers (`mariadbd`) in `pod`: processes in its server
/// container's cgroup (named by the container's id), or with mounts from the pod's
/// directory on the node (`…/pods/UID/…`: its /etc/hosts), which finds a container
/// that just started before the API says it runs.
fn host_servers(pod: &MemberPod) -> Vec<u32> {
    let pod_dir = format!("/pods/{}/", pod.uid);
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let read =
            |file: &str| std::fs::read_to_string(entry.path().join(file)).unwrap_or_default();
        if read("comm").trim() != "mariadbd" {
            continue;
        }
        let in_container = pod
            .running
            .as_ref()
            .is_some_and(|id| read("cgroup").contains(id.as_str()));
        if in_container || read("mountinfo").contains(&pod_dir) {
            pids.push(pid);
        }
    }
    pids
}

fn sigkill(pid: u32) -> Output {
    Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .output()
        .expect("kill")
}

/// `kill -9` of member `deployment`'s server, sent from the host. In the container the
/// server is PID 1 (the image's entrypoint execs it), and the kernel drops every
/// signal sent to a PID namespace's init from inside that namespace for which it has
/// no handler, SIGKILL included: `kubectl exec … kill -9 1` would do nothing. The
/// real node's containers are processes of this host, and the tests run as root.
fn kill_mysqld(ns: &str, deployment: &str) {
    let pod = running_server(ns, deployment)
        .unwrap_or_else(|| panic!("{deployment} has no running server to kill"));
    let pids = host_servers(&pod);
    assert!(
        !pids.is_empty(),
        "no mariadbd on this host is {deployment}'s (pod {}, container {:?})",
        pod.name,
        pod.running
    );
    for pid in pids {
        ok(
            sigkill(pid),
            &format!("kill -9 of {deployment}'s mariadbd (pid {pid} on the host)"),
        );
    }
}

/// Member `deployment`'s server killed, then killed again whenever its container
/// restarts, until dropped: a primary that stays down, as on a lost node. One that
/// restarts within `failover.after` comes back read-only, and within five minutes of
/// the last failover the operator makes it writable again rather than fail it over
/// (no ping-pong): rounds of failovers in a row need it held down.
struct HeldDown {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HeldDown {
    fn start(ns: &str, deployment: &str) -> Self {
        kill_mysqld(ns, deployment);
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let (ns, deployment) = (ns.to_string(), deployment.to_string());
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                // Found by its pod's directory, a server that starts again is killed
                // well before it answers (InnoDB's start takes seconds).
                for pod in member_pods(&ns, &deployment).unwrap_or_default() {
                    for pid in host_servers(&pod) {
                        let _ = sigkill(pid);
                    }
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        });
        Self {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for HeldDown {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// `sql` on member `deployment`'s server as root@localhost over its socket, as the
/// operator runs its statements: that account keeps READ_ONLY ADMIN, so it writes on a
/// read-only replica (root over the network, as `member_value` logs in, does not).
fn local_root(ns: &str, deployment: &str, sql: &str) -> Output {
    kubectl(&[
        "exec",
        "-n",
        ns,
        &format!("deploy/{deployment}"),
        "-c",
        "mysql",
        "--",
        "mysql",
        "--defaults-extra-file=/etc/mysql-credentials/client.cnf",
        "--user=root",
        "-N",
        "-B",
        "-e",
        sql,
        super::DATABASE,
    ])
}

/// The node cordoned until dropped (a failed test too): a pod deleted there is not
/// started again, since its member's volume is pinned to the node, while the pods
/// running there go on. The operator re-applies its Deployments, never the node.
struct Cordoned(String);

impl Cordoned {
    fn node(node: &str) -> Self {
        ok(kubectl(&["cordon", node]), "cordon the node");
        Cordoned(node.to_string())
    }
}

impl Drop for Cordoned {
    fn drop(&mut self) {
        let _ = kubectl(&["uncordon", &self.0]);
    }
}

/// `kubectl-mysql run-operator -n NS` as `common::Operator` runs it, but with
/// `KUBECTL_MYSQL_KILL_AT=POINT`: it SIGKILLs itself once a failover reaches POINT.
/// Its log goes to the file `common::Operator`'s for NS goes to.
struct SelfKillingOperator {
    child: std::process::Child,
    log: PathBuf,
}

impl SelfKillingOperator {
    fn start(ns: &str, point: &str) -> Self {
        let log = std::env::var_os("KUBECTL_MYSQL_TEST_LOGS")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir)
            .join(format!("operator-{ns}.log"));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let child = common::plugin()
            .args(["run-operator", "--concurrency", "8", "-n", ns])
            .env(
                "KUBECTL_MYSQL_LOG",
                "info,kubectl_mysql=debug,kubectl_mysql::reconcile::controller=trace,kube=warn",
            )
            .env("KUBECTL_MYSQL_KILL_AT", point)
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("start the operator");
        Self { child, log }
    }

    /// Waits until it has exited, and checks that its own SIGKILL ended it.
    fn wait_killed(&mut self, point: &str) {
        let mut exited = None;
        wait_until(
            FAILOVER,
            &format!("the operator to kill itself at {point}"),
            || {
                exited = self.child.try_wait().expect("the operator's exit status");
                exited
                    .map(|_| ())
                    .ok_or_else(|| "still running".to_string())
            },
        );
        let status = exited.expect("an exit status");
        assert_eq!(
            status.signal(),
            Some(9),
            "the operator ended otherwise than by SIGKILL at {point}: {status}"
        );
    }
}

impl Drop for SelfKillingOperator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            eprintln!("--- the operator's last lines ({}):", self.log.display());
            for line in &lines[lines.len().saturating_sub(60)..] {
                eprintln!("{line}");
            }
        }
    }
}

/// One round of the operator-crash test: the primary's server is killed (and held
/// down) while the operator that kills itself at `point` runs; once it has died
/// there, the usual operator, started again, finishes the failover: one more, and,
/// the old primary let up, the instance Healthy. Takes the usual operator and returns
/// the one started again.
fn failover_across_operator_crash(
    ns: &str,
    point: &str,
    mut operator: common::Operator,
) -> common::Operator {
    let before: u32 = instance_field(ns, ".status.failover.count")
        .parse()
        .unwrap_or(0);
    let primary = instance_field(ns, ".status.primary");
    // Each round's writer runs on a replica (the primary's container dies with its
    // server, and the writer's shell with it) and numbers its rows from 1000 again:
    // the round before's, found on every member then, go first.
    ok(
        member_value(ns, &primary, "127.0.0.1", "DELETE FROM t WHERE id >= 1000"),
        "deleting the round before's rows",
    );
    let replica = ALL
        .into_iter()
        .find(|member| *member != primary.as_str())
        .expect("a replica");
    let writer = steady_writer(ns, replica);
    // One operator at a time: the usual one goes before the one that dies.
    let stopped = operator.terminate();
    assert!(stopped.success(), "the operator exited with {stopped}");
    drop(operator);
    let mut dying = SelfKillingOperator::start(ns, point);
    // The old primary stays down until the failover is done, so that what the
    // operator started again finds is the failover its predecessor left.
    let held = HeldDown::start(ns, &primary);
    dying.wait_killed(point);
    drop(dying);
    let operator = common::Operator::start(&[ns]);
    wait_failed_over(ns, &primary, before + 1);
    drop(held);
    wait_field(ns, ".status.health", "Healthy");
    let (acknowledged, failed) = stop_after_a_new_write(writer);
    settled(ns, &acknowledged);
    report(
        ns,
        &format!("round {}, the operator killed at {point}", before + 1),
        &acknowledged,
        failed,
    );
    operator
}

/// The primary's server killed (SIGKILL: no shutdown, no goodbye to the replicas): a
/// replica takes over after `failover.after`, the writer goes on through the same
/// Service, no acknowledged insert is lost, and the old primary ends as a replica with
/// every row (rejoined, or set aside and seeded afresh).
#[tokio::test]
async fn real_node_failover_after_the_primary_server_is_killed() {
    super::require_real_node();
    let ns = setup("real-fo-kill").await;
    let writer = steady_writer(&ns, MEMBER_2);
    kill_mysqld(&ns, INSTANCE);
    wait_failed_over(&ns, INSTANCE, 1);
    let (acknowledged, failed) = stop_after_a_new_write(writer);
    settled(&ns, &acknowledged);
    wait_event(&ns, "FailedOver");
    report(
        &ns,
        "kill -9 of the primary's server",
        &acknowledged,
        failed,
    );
    remove_instance(&ns);
}

/// The primary's pod force-deleted and its replacement kept from starting (the node
/// cordoned): a replica takes over while member 0 is gone, with every acknowledged
/// row; once the node takes pods again, member 0 comes back as a replica.
#[tokio::test]
async fn real_node_failover_after_the_primary_pod_is_deleted() {
    super::require_real_node();
    let ns = setup("real-fo-pod").await;
    let writer = steady_writer(&ns, MEMBER_2);
    let pod = running_server(&ns, INSTANCE).expect("the primary's pod");
    let cordoned = Cordoned::node(&pod.node);
    ok(
        kubectl(&[
            "delete",
            "pod",
            &pod.name,
            "-n",
            &ns,
            "--grace-period=0",
            "--force",
        ]),
        "force-deleting the primary's pod",
    );
    let primary = wait_failed_over(&ns, INSTANCE, 1);
    assert!(
        running_server(&ns, INSTANCE).is_none(),
        "member 0 started again on the cordoned node"
    );
    let (acknowledged, failed) = stop_after_a_new_write(writer);
    wait_acknowledged_everywhere(&ns, &[primary.as_str()], &acknowledged);
    drop(cordoned);
    settled(&ns, &acknowledged);
    report(&ns, "the primary's pod deleted", &acknowledged, failed);
    remove_instance(&ns);
}

/// A replica with a transaction of its own (errant: the primary never had it), then
/// the primary's server killed: the failover promotes the clean replica, never the
/// errant one, which is reported, set aside and seeded afresh: the errant row is
/// nowhere afterwards, every acknowledged one everywhere.
#[tokio::test]
async fn real_node_failover_passes_over_an_errant_replica() {
    super::require_real_node();
    let ns = setup("real-fo-errant").await;
    let writer = steady_writer(&ns, MEMBER_1);
    ok(
        local_root(
            &ns,
            MEMBER_2,
            "SET SESSION sql_log_bin = 1; INSERT INTO t VALUES (500)",
        ),
        "a transaction on member 2 alone",
    );
    kill_mysqld(&ns, INSTANCE);
    let primary = wait_failed_over(&ns, INSTANCE, 1);
    assert_eq!(primary, MEMBER_1, "the errant replica was promoted");
    assert_eq!(instance_field(&ns, ".status.failover.last.to"), MEMBER_1);
    wait_until(FAILOVER, "member 2 to be reported and set aside", || {
        let aside = instance_field(&ns, ".status.failover.setAside[*].member");
        let reported = common::has_event(&ns, INSTANCE, "ErrantTransactions")
            || common::has_event(&ns, INSTANCE, "MemberSetAside");
        (reported && aside.split_whitespace().any(|m| m == MEMBER_2))
            .then_some(())
            .ok_or(format!("set aside: {aside:?}; an Event: {reported}"))
    });
    let (acknowledged, failed) = stop_after_a_new_write(writer);
    assert_eq!(settled(&ns, &acknowledged), MEMBER_1);
    super::wait_on_every_member(
        &ns,
        &ALL,
        "no errant row",
        "SELECT COUNT(*) FROM t WHERE id = 500",
        |got| (got == "0").then_some(()).ok_or(format!("{got} rows 500")),
    );
    assert_eq!(
        instance_field(&ns, ".status.failover.count"),
        "1",
        "no second failover"
    );
    eprintln!(
        "set aside: {} with {} in {}",
        instance_field(&ns, ".status.failover.setAside[*].member"),
        instance_field(&ns, ".status.failover.setAside[*].transactions"),
        instance_field(&ns, ".status.failover.setAside[*].directory"),
    );
    report(&ns, "past an errant replica", &acknowledged, failed);
    remove_instance(&ns);
}

/// The operator SIGKILLed at each step of a failover, in turn (a local process, so
/// that `KUBECTL_MYSQL_KILL_AT` reaches it), each round failing the primary of the
/// round before over: each time, the operator started again finishes the failover
/// once, with every acknowledged row on every member and one writable member.
#[tokio::test]
async fn real_node_failover_survives_the_operator_killed_midway() {
    super::require_real_node();
    let client = common::cluster().await;
    let ns = common::namespace(&client, "real-fo-crash").await;
    common::install_crds();
    let mut operator = common::Operator::start(&[&ns]);
    three_members(&ns);
    for point in KILL_POINTS {
        operator = failover_across_operator_crash(&ns, point, operator);
    }
    assert_eq!(
        instance_field(&ns, ".status.failover.count"),
        KILL_POINTS.len().to_string()
    );
    remove_instance(&ns);
    drop(operator);
}

/// A failover right after a planned switchover (where MOCO was seen to stall): the new
/// primary's server is killed as soon as the switchover returns, and another member
/// takes over with every acknowledged row.
#[tokio::test]
async fn real_node_failover_right_after_a_switchover() {
    super::require_real_node();
    let ns = setup("real-fo-switch").await;
    let writer = steady_writer(&ns, MEMBER_2);
    super::switchover(&ns, "1");
    assert_eq!(instance_field(&ns, ".status.primary"), MEMBER_1);
    kill_mysqld(&ns, MEMBER_1);
    wait_failed_over(&ns, MEMBER_1, 1);
    let (acknowledged, failed) = stop_after_a_new_write(writer);
    settled(&ns, &acknowledged);
    report(&ns, "right after a switchover", &acknowledged, failed);
    remove_instance(&ns);
}
