//! The course's check, as its grader runs it, on a real node: containerd and runc run
//! MariaDB, the backup Job really dumps it and the restore Job really loads it.
//!
//! tests/run starts a second cluster for this with `tests/cluster/up --real-node` and
//! runs this file alone against it, with KUBECTL_MYSQL_REAL_NODE=1. Anywhere else the
//! test skips, except under CI, where a missing real node fails it.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{Operator, kubectl, text};

/// The image `tests/cluster/images/build` makes and `up --real-node` imports.
const LOCAL_IMAGE: &str = "kubectl-mysql.local/mariadb:10.11";
const INSTANCE: &str = "mysql-instance";
const DATABASE: &str = "otus-database";

fn real_node_requested() -> bool {
    if std::env::var("KUBECTL_MYSQL_REAL_NODE").is_ok_and(|v| v == "1") {
        return true;
    }
    let message = match std::env::var("KUBECTL_MYSQL_REAL_NODE_ERROR") {
        Ok(reason) => format!("the real node did not start: {reason}"),
        Err(_) => "no real-node cluster (KUBECTL_MYSQL_REAL_NODE is not 1); tests/run starts \
                   one with tests/cluster/up --real-node"
            .to_string(),
    };
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{message}");
    }
    eprintln!("SKIPPED (not in CI): {message}");
    false
}

fn ok(output: Output, what: &str) -> String {
    assert!(output.status.success(), "{what} failed: {}", text(&output));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn kubectl_stdin(args: &[&str], input: &str) -> Output {
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

/// examples/cr.yml as the user has it, with only the image pointed at the local one.
fn course_cr() -> String {
    let cr = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/cr.yml"))
        .expect("examples/cr.yml");
    assert!(cr.contains("image: mysql:8.4"), "examples/cr.yml changed");
    cr.replace("image: mysql:8.4", &format!("image: {LOCAL_IMAGE}"))
}

/// `kubectl exec deploy/mysql-instance -- mysql -u root -pPASSWORD -e SQL DATABASE`, the
/// grader's own command line.
fn mysql_exec(namespace: &str, password: &str, sql: &str) -> Output {
    let password_flag = format!("-p{password}");
    kubectl(&[
        "exec",
        "-n",
        namespace,
        &format!("deploy/{INSTANCE}"),
        "--",
        "mysql",
        "-u",
        "root",
        &password_flag,
        "-e",
        sql,
        DATABASE,
    ])
}

fn wait_until(timeout: Duration, what: &str, mut check: impl FnMut() -> Result<(), String>) {
    let start = Instant::now();
    loop {
        match check() {
            Ok(()) => return,
            Err(last) if start.elapsed() > timeout => {
                panic!(
                    "timed out after {}s waiting for {what}: {last}",
                    timeout.as_secs()
                )
            }
            Err(_) => std::thread::sleep(Duration::from_millis(500)),
        }
    }
}

fn wait_for_job(namespace: &str, job: &str) {
    wait_until(
        Duration::from_secs(60),
        &format!("Job {job} to exist"),
        || {
            let out = kubectl(&["get", "job", job, "-n", namespace, "-o", "name"]);
            out.status.success().then_some(()).ok_or_else(|| text(&out))
        },
    );
    let out = kubectl(&[
        "wait",
        "-n",
        namespace,
        &format!("job/{job}"),
        "--for=condition=Complete",
        "--timeout=240s",
    ]);
    if !out.status.success() {
        let logs = kubectl(&["logs", "-n", namespace, &format!("job/{job}")]);
        panic!(
            "Job {job} did not complete: {}\nits logs:\n{}",
            text(&out),
            text(&logs)
        );
    }
}

fn wait_ready(namespace: &str) {
    let out = kubectl(&[
        "wait",
        "-n",
        namespace,
        &format!("mysqls.otus.homework/{INSTANCE}"),
        "--for=condition=Ready",
        "--timeout=240s",
    ]);
    if !out.status.success() {
        let pods = kubectl(&["get", "pods", "-n", namespace, "-o", "wide"]);
        let logs = kubectl(&["logs", "-n", namespace, &format!("deploy/{INSTANCE}")]);
        panic!(
            "{INSTANCE} did not become Ready: {}\n{}\n{}",
            text(&out),
            text(&pods),
            text(&logs)
        );
    }
}

#[tokio::test]
async fn real_node_course_check_with_real_data() {
    if !real_node_requested() {
        return;
    }
    let client = common::cluster()
        .await
        .expect("the real-node cluster answers");
    let nodes = ok(
        kubectl(&["get", "nodes", "-l", "type=real", "-o", "name"]),
        "list real nodes",
    );
    assert!(
        !nodes.trim().is_empty(),
        "KUBECTL_MYSQL_REAL_NODE=1 but the cluster has no node labelled type=real"
    );
    let ns = common::namespace(&client, "real-node").await;

    // 1. Install the CRD, run the operator, apply the course's CR.
    ok(
        kubectl(&["mysql", "install-crd"]),
        "kubectl mysql install-crd",
    );
    let _operator = Operator::start(&[&ns]);
    let cr = course_cr();
    ok(
        kubectl_stdin(&["apply", "-n", &ns, "-f", "-"], &cr),
        "kubectl apply -f examples/cr.yml",
    );
    wait_ready(&ns);

    // 2. The grader's table and rows, through kubectl exec into the MySQL pod.
    ok(
        mysql_exec(
            &ns,
            "otuspassword",
            "CREATE TABLE test (id smallint unsigned not null auto_increment, \
             name varchar(20) not null, constraint pk_example primary key (id));",
        ),
        "create table test",
    );
    ok(
        mysql_exec(
            &ns,
            "otuspassword",
            "INSERT INTO test (id, name) VALUES (null, 'some data'); \
             INSERT INTO test (id, name) VALUES (null, 'some data-2');",
        ),
        "insert rows",
    );

    // 3. Delete: the backup Job dumps the database before anything goes.
    ok(
        kubectl(&[
            "delete",
            "-n",
            &ns,
            &format!("mysqls.otus.homework/{INSTANCE}"),
            "--timeout=300s",
        ]),
        "kubectl delete mysql",
    );
    wait_for_job(&ns, &format!("backup-{INSTANCE}-job"));
    // Its children go with it (the garbage collector removes them just after).
    wait_until(
        Duration::from_secs(60),
        "the MySQL Deployment to go with its instance",
        || {
            let out = kubectl(&["get", "deployment", INSTANCE, "-n", &ns]);
            text(&out)
                .contains("NotFound")
                .then_some(())
                .ok_or_else(|| text(&out))
        },
    );

    // 4. Apply again: the restore Job loads the dump into a fresh datadir.
    ok(
        kubectl_stdin(&["apply", "-n", &ns, "-f", "-"], &cr),
        "kubectl apply -f examples/cr.yml (again)",
    );
    wait_for_job(&ns, &format!("restore-{INSTANCE}-job"));
    wait_ready(&ns);

    // 5. The course's check.
    let count = ok(
        mysql_exec(
            &ns,
            "otuspassword",
            "select count(*) from test where name like 'some data%'",
        ),
        "count the restored rows",
    );
    let rows: Vec<&str> = count.lines().map(str::trim).collect();
    assert_eq!(rows, vec!["count(*)", "2"], "restored rows: {count}");

    // Then a password change: the old one is refused and the new one accepted.
    ok(
        kubectl(&[
            "patch",
            "-n",
            &ns,
            &format!("mysqls.otus.homework/{INSTANCE}"),
            "--type",
            "merge",
            "-p",
            r#"{"spec":{"password":"new-otuspassword"}}"#,
        ]),
        "change the password",
    );
    wait_until(
        Duration::from_secs(180),
        "the new password to be accepted",
        || {
            let out = mysql_exec(&ns, "new-otuspassword", "select 1");
            out.status.success().then_some(()).ok_or_else(|| text(&out))
        },
    );
    let old = mysql_exec(&ns, "otuspassword", "select 1");
    assert!(!old.status.success(), "the old password still works");
    assert!(
        text(&old).contains("Access denied"),
        "the old password failed for another reason: {}",
        text(&old)
    );
    let count = ok(
        mysql_exec(&ns, "new-otuspassword", "select count(*) from test"),
        "count with the new password",
    );
    assert!(count.lines().any(|l| l.trim() == "2"), "{count}");

    // Delete again: the operator holds the deletion until the backup Job succeeds, so
    // this also proves the backup runs with the new password. Then leave the node as we
    // found it.
    ok(
        kubectl(&[
            "delete",
            "-n",
            &ns,
            &format!("mysqls.otus.homework/{INSTANCE}"),
            "--timeout=300s",
        ]),
        "delete after the password change",
    );
    // The server may still be stopping: its files go only once its pod has.
    ok(
        kubectl(&["delete", "namespace", &ns, "--timeout=180s"]),
        "delete the test namespace",
    );
    let host_dir = format!("/var/lib/kubectl-mysql/{ns}");
    std::fs::remove_dir_all(&host_dir).unwrap_or_else(|e| panic!("remove {host_dir}: {e}"));
}
