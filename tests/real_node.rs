//! The course's check, as its grader runs it, on a real node: containerd and runc run
//! MariaDB, the backup Job really dumps it and the restore Job really loads it.
//!
//! tests/run starts a second cluster for this with `tests/cluster/up --real-node` and
//! runs this file alone against it, with KUBECTL_MYSQL_REAL_NODE=1. Without that node
//! the test fails and says how to get one.

mod common;
#[path = "real_node/failover.rs"]
mod failover;
#[path = "real_node/hardened.rs"]
mod hardened;
#[path = "real_node/physical.rs"]
mod physical;
#[path = "real_node/under_load.rs"]
mod under_load;

use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{Operator, kubectl, kubectl_with_stdin, text};
use sha2::Digest;

/// The image `tests/cluster/images/build` makes and `up --real-node` imports.
const LOCAL_IMAGE: &str = "kubectl-mysql.local/mariadb:10.11";
const INSTANCE: &str = "mysql-instance";
const DATABASE: &str = "otus-database";

/// The real-node cluster tests/run started; without it the test fails and says why.
fn require_real_node() {
    if std::env::var("KUBECTL_MYSQL_REAL_NODE").is_ok_and(|v| v == "1") {
        return;
    }
    match std::env::var("KUBECTL_MYSQL_REAL_NODE_ERROR") {
        Ok(reason) => panic!("the real node did not start: {reason}"),
        Err(_) => panic!(
            "no real-node cluster (KUBECTL_MYSQL_REAL_NODE is not 1); tests/run starts one with tests/cluster/up --real-node"
        ),
    }
}

/// Best effort, after a test: the PVs of the instance in `ns` (the data PVs of every
/// incarnation, `NS-NAME-…-pv`, and the backup PV), which outlive their namespace.
fn delete_volumes_of(ns: &str) {
    let listed = kubectl(&["get", "pv", "-o", "name"]);
    let ours = |pv: &&str| {
        pv.starts_with(&format!("{ns}-{INSTANCE}-")) || *pv == format!("backup-{ns}-{INSTANCE}-pv")
    };
    for pv in String::from_utf8_lossy(&listed.stdout)
        .lines()
        .filter_map(|line| line.strip_prefix("persistentvolume/"))
        .filter(ours)
    {
        let _ = kubectl(&["delete", "pv", pv, "--wait=false"]);
    }
}

fn ok(output: Output, what: &str) -> String {
    assert!(output.status.success(), "{what} failed: {}", text(&output));
    String::from_utf8_lossy(&output.stdout).into_owned()
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

/// The course's grading script, run as written (less `-it`: CI has no terminal): in a
/// directory holding `deploy/cr.yml`, with a kubeconfig whose current namespace is the
/// test's, since the grader names none.
struct Grader {
    dir: tempfile::TempDir,
}

impl Grader {
    fn new(namespace: &str, cr: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("deploy")).unwrap();
        std::fs::write(dir.path().join("deploy/cr.yml"), cr).unwrap();
        let config = dir.path().join("kubeconfig");
        let current = std::env::var("KUBECONFIG").expect("KUBECONFIG");
        std::fs::copy(&current, &config).unwrap();
        let grader = Self { dir };
        ok(
            grader.run(&format!(
                "kubectl config set-context --current --namespace={namespace}"
            )),
            "point the grader's kubeconfig at the test namespace",
        );
        grader
    }

    fn run(&self, lines: &str) -> Output {
        std::process::Command::new("sh")
            .args(["-ec", lines])
            .current_dir(self.dir.path())
            .env("KUBECONFIG", self.dir.path().join("kubeconfig"))
            .output()
            .expect("sh")
    }
}

/// The grader's lines after the instance is first created.
const GRADER_FILL: &str = r#"
export MYSQLPOD=$(kubectl get pods -l app=mysql-instance -o jsonpath="{.items[*].metadata.name}")
kubectl exec $MYSQLPOD -- mysql -u root -potuspassword -e "CREATE TABLE test ( id smallint unsigned not null auto_increment, name varchar(20) not null, constraint pk_example primary key (id) );" otus-database
kubectl exec $MYSQLPOD -- mysql -potuspassword -e "INSERT INTO test ( id, name ) VALUES ( null, 'some data' );" otus-database
kubectl exec $MYSQLPOD -- mysql -potuspassword -e "INSERT INTO test ( id, name ) VALUES ( null, 'some data-2' );" otus-database
"#;

/// The grader's lines after the instance is deleted and created again.
const GRADER_CHECK: &str = r#"
export MYSQLPOD=$(kubectl get pods -l app=mysql-instance -o jsonpath="{.items[*].metadata.name}")
kubectl exec $MYSQLPOD -- mysql -potuspassword -e "select * from test;" otus-database
"#;

/// Every process on this host, the containers' included (they are host processes under
/// runc), is checked for the secrets in its argv until dropped.
struct ArgvScan {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<(Vec<String>, bool)>>,
}

impl ArgvScan {
    fn start(secrets: &[&str]) -> Self {
        let secrets: Vec<String> = secrets.iter().map(|s| s.to_string()).collect();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut found = Vec::new();
            let mut saw_server = false;
            while !flag.load(Ordering::Relaxed) {
                for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
                    let Ok(argv) = std::fs::read(entry.path().join("cmdline")) else {
                        continue;
                    };
                    let argv = String::from_utf8_lossy(&argv).replace('\0', " ");
                    saw_server |= argv.starts_with("mariadbd ");
                    if secrets.iter().any(|s| argv.contains(s.as_str())) && !found.contains(&argv) {
                        found.push(argv);
                    }
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            (found, saw_server)
        });
        Self {
            stop,
            thread: Some(thread),
        }
    }

    /// Stops scanning and fails if any process showed a secret, or if the scan never saw
    /// the MySQL server's own process (it would not be looking inside the containers).
    fn assert_clean(mut self, phase: &str) {
        self.stop.store(true, Ordering::Relaxed);
        let (found, saw_server) = self.thread.take().unwrap().join().unwrap();
        assert!(
            found.is_empty(),
            "a secret in argv during {phase}: {found:#?}"
        );
        assert!(
            saw_server,
            "the argv scan never saw mariadbd during {phase}"
        );
    }
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
        Duration::from_secs(120),
        &format!("Job {job} to exist"),
        || {
            let out = kubectl(&["get", "job", job, "-n", namespace, "-o", "name"]);
            // What the instance waits for, when it waits instead.
            out.status.success().then_some(()).ok_or_else(|| {
                let objects = kubectl(&["get", "mysql,pvc,pods,jobs", "-n", namespace]);
                let said = on_instance("get", namespace, &["-o", "jsonpath={.status.message}"]);
                format!("{}\n{}\n{}", text(&out), text(&objects), text(&said))
            })
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

/// `kubectl VERB -n NAMESPACE mysqls.otus.homework/mysql-instance ARGS...`
fn on_instance(verb: &str, namespace: &str, args: &[&str]) -> Output {
    let instance = format!("mysqls.otus.homework/{INSTANCE}");
    let mut all = vec![verb, "-n", namespace, instance.as_str()];
    all.extend_from_slice(args);
    kubectl(&all)
}

/// `kubectl mysql restore --from RECORD -y --wait` on the instance in `namespace`.
fn restore_from(namespace: &str, record: &str) -> Output {
    kubectl(&[
        "mysql",
        "restore",
        INSTANCE,
        "--from",
        record,
        "-y",
        "-n",
        namespace,
        "--wait",
        "--timeout",
        "600s",
    ])
}

/// Deletes the instance and waits until it is gone, which the operator allows only once
/// its backup on delete has succeeded.
fn delete_instance(namespace: &str, what: &str) {
    ok(on_instance("delete", namespace, &["--timeout=300s"]), what);
}

/// Sets a new password through a patch file (never argv); returns the new generation.
fn change_password(namespace: &str, password: &str) -> String {
    let patch = std::env::temp_dir().join(format!("{namespace}-password-patch.json"));
    std::fs::write(&patch, format!(r#"{{"spec":{{"password":"{password}"}}}}"#)).unwrap();
    let out = on_instance(
        "patch",
        namespace,
        &[
            "--type",
            "merge",
            "--patch-file",
            patch.to_str().unwrap(),
            "-o",
            "jsonpath={.metadata.generation}",
        ],
    );
    std::fs::remove_file(&patch).unwrap();
    ok(out, "change the password")
}

/// The operator's image tests/run built.
fn operator_image() -> String {
    std::env::var("KUBECTL_MYSQL_OPERATOR_IMAGE").expect(
        "tests/run builds the operator's image and names it in KUBECTL_MYSQL_OPERATOR_IMAGE",
    )
}

/// The end of a test: the installed operator goes, a local one removes the instance's
/// finalizers while the namespace is deleted (within `timeout`), and the volumes on
/// the node and their PVs go.
fn tear_down(ns: &str, operator_ns: &str, timeout: &str) {
    ok(
        kubectl(&["mysql", "uninstall-operator", "-n", operator_ns]),
        "kubectl mysql uninstall-operator",
    );
    let _operator = Operator::start(&[ns]);
    ok(
        kubectl(&["delete", "namespace", ns, &format!("--timeout={timeout}")]),
        "delete the namespace",
    );
    let _ = std::fs::remove_dir_all(format!("/var/lib/kubectl-mysql/{ns}"));
    delete_volumes_of(ns);
}

/// The operator in the cluster (the image tests/run built) watching `ns`, and the
/// Secret with the S3 server's keys in `ns`; the operator's namespace.
fn operator_and_keys(ns: &str, s3: &common::S3) -> String {
    let image = operator_image();
    let operator_ns = format!("{ns}-operator");
    install_operator(&operator_ns, &image, ns);
    // The keys go in through stdin, never argv.
    let keys = serde_json::json!({
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s3-keys"},
        "stringData": {"accessKeyId": s3.access_key, "secretAccessKey": s3.secret_key}
    });
    ok(
        kubectl_with_stdin(&["apply", "-n", ns, "-f", "-"], &keys.to_string()),
        "the Secret with the S3 keys",
    );
    operator_ns
}

/// The course's instance backing up to the bucket, Ready in a namespace of its own.
struct BucketInstance {
    s3: common::S3,
    ns: String,
    operator_ns: String,
    /// The CR as applied (a test applies it again after a deletion).
    cr: String,
}

/// A fresh namespace named from `namespace`, the operator installed for it, and the
/// course's CR applied there with its backups in the bucket under `prefix` (and
/// `more` lines of `spec.backup`), Ready.
async fn course_instance_in_bucket(namespace: &str, prefix: &str, more: &str) -> BucketInstance {
    require_real_node();
    let s3 = common::S3::from_env();
    let client = common::cluster().await;
    let ns = common::namespace(&client, namespace).await;
    let operator_ns = operator_and_keys(&ns, &s3);
    let cr = course_cr_in_bucket(&s3, prefix, more);
    ok(
        kubectl_with_stdin(&["apply", "-n", &ns, "-f", "-"], &cr),
        "the course's CR with backups to the bucket",
    );
    wait_ready(&ns);
    BucketInstance {
        s3,
        ns,
        operator_ns,
        cr,
    }
}

/// The course's CR with its backups in the S3 server's bucket under `prefix`, and
/// `more` lines of `spec.backup`.
fn course_cr_in_bucket(s3: &common::S3, prefix: &str, more: &str) -> String {
    format!(
        "{}  backup:\n    storage:\n      s3:\n        endpoint: {}\n        bucket: {}\n        prefix: {prefix}\n        forcePathStyle: true\n        credentialsSecret: {{name: s3-keys}}\n{more}",
        course_cr(),
        s3.endpoint,
        s3.bucket
    )
}

/// The operator in the cluster, as pods of `image`, watching `watched`.
fn install_operator(namespace: &str, image: &str, watched: &str) {
    ok(
        kubectl(&[
            "mysql",
            "install-operator",
            "-n",
            namespace,
            "--image",
            image,
            "--watch-namespace",
            watched,
            "--wait",
            "--timeout",
            "180s",
        ]),
        "kubectl mysql install-operator --wait",
    );
}

fn wait_ready(namespace: &str) {
    let out = on_instance(
        "wait",
        namespace,
        &["--for=condition=Ready", "--timeout=240s"],
    );
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
    require_real_node();
    let client = common::cluster().await;
    let nodes = ok(
        kubectl(&["get", "nodes", "-l", "type=real", "-o", "name"]),
        "list real nodes",
    );
    assert!(
        !nodes.trim().is_empty(),
        "KUBECTL_MYSQL_REAL_NODE=1 but the cluster has no node labelled type=real"
    );
    let ns = common::namespace(&client, "real-node").await;

    // 1. The operator in the cluster, as pods of the image built from the release
    // binary (two replicas, one leading), then the course's CR.
    let image = operator_image();
    let operator_ns = format!("{ns}-operator");
    install_operator(&operator_ns, &image, &ns);
    let cr = course_cr();
    ok(
        kubectl_with_stdin(&["apply", "-n", &ns, "-f", "-"], &cr),
        "kubectl apply -f examples/cr.yml",
    );
    wait_ready(&ns);

    // 2. The grader's table and rows, its pod found by its own label selector.
    let grader = Grader::new(&ns, &cr);
    ok(
        grader.run(GRADER_FILL),
        "the grader's CREATE TABLE and INSERTs",
    );

    // From here until the password change, no command of the test's own carries a
    // password: whatever shows one in argv is the operator's or its pods'.
    let scan = ArgvScan::start(&["otuspassword"]);

    // 3. The grader deletes (kubectl waits: the backup Job dumps the database before
    // anything goes) and lists the Jobs.
    ok(
        grader.run("kubectl delete mysqls.otus.homework mysql-instance"),
        "the grader's kubectl delete",
    );
    wait_for_job(&ns, &format!("backup-{INSTANCE}-job"));
    let jobs = ok(
        grader.run("kubectl get jobs.batch"),
        "the grader's kubectl get jobs",
    );
    assert!(
        jobs.lines()
            .any(|l| l.starts_with("backup-mysql-instance-job") && l.contains("Complete")),
        "the grader expects backup-mysql-instance-job Complete: {jobs}"
    );
    // Its children go with it (the garbage collector removes them just after), the
    // server's pod included, so the grader's selector finds one pod afterwards.
    wait_until(
        Duration::from_secs(120),
        "the MySQL Deployment and its pod to go with the instance",
        || {
            let out = kubectl(&[
                "get",
                "deployment,pods",
                "-l",
                "app=mysql-instance",
                "-n",
                &ns,
                "-o",
                "name",
            ]);
            let left = String::from_utf8_lossy(&out.stdout).trim().to_string();
            (out.status.success() && left.is_empty())
                .then_some(())
                .ok_or(left)
        },
    );

    // 4. The grader applies again: the restore Job loads the dump into a fresh datadir.
    ok(
        grader.run("kubectl apply -f deploy/cr.yml"),
        "the grader's kubectl apply -f deploy/cr.yml (again)",
    );
    wait_for_job(&ns, &format!("restore-{INSTANCE}-job"));
    wait_ready(&ns);

    scan.assert_clean("delete with backup and re-create with restore");

    // 5. The grader's check: both rows, from the one pod its selector finds (the Jobs'
    // pods do not carry app=mysql-instance).
    let rows = ok(grader.run(GRADER_CHECK), "the grader's select");
    for row in ["some data", "some data-2"] {
        assert!(
            rows.lines().any(|l| l.split('\t').nth(1) == Some(row)),
            "the grader sees no row {row:?}: {rows}"
        );
    }

    // `kubectl mysql connect`: the client in the server's pod, logged in by its option
    // file; one statement's output and exit code come back, and no password is in any
    // process's argv.
    let scan = ArgvScan::start(&["otuspassword"]);
    let count = ok(
        kubectl(&[
            "mysql",
            "connect",
            INSTANCE,
            "-n",
            &ns,
            "--",
            "-e",
            "select count(*) from test",
        ]),
        "kubectl mysql connect -- -e",
    );
    assert!(count.lines().any(|l| l.trim() == "2"), "{count}");
    let failing = kubectl(&[
        "mysql",
        "connect",
        INSTANCE,
        "-n",
        &ns,
        "--",
        "-e",
        "select * from no_such_table",
    ]);
    assert_eq!(failing.status.code(), Some(1), "{}", text(&failing));
    scan.assert_clean("kubectl mysql connect");

    // The everyday commands on the running instance: an on-demand backup, a lost table,
    // and a restore that brings it back.
    let scan = ArgvScan::start(&["otuspassword"]);
    ok(
        kubectl(&["mysql", "backup", INSTANCE, "-n", &ns, "--wait"]),
        "kubectl mysql backup --wait",
    );
    scan.assert_clean("kubectl mysql backup");
    ok(
        mysql_exec(&ns, "otuspassword", "DROP TABLE test"),
        "drop the table",
    );
    let scan = ArgvScan::start(&["otuspassword"]);
    ok(
        kubectl(&["mysql", "restore", INSTANCE, "-n", &ns, "--yes"]),
        "kubectl mysql restore --yes",
    );
    scan.assert_clean("kubectl mysql restore");
    let count = ok(
        mysql_exec(&ns, "otuspassword", "select count(*) from test"),
        "count after kubectl mysql restore",
    );
    assert!(count.lines().any(|l| l.trim() == "2"), "{count}");

    // Then a password change: the old one is refused and the new one accepted. The new
    // password goes in a patch file, so the scan holds for the whole change.
    let scan = ArgvScan::start(&["otuspassword"]);
    let generation = change_password(&ns, "new-otuspassword");
    ok(
        on_instance(
            "wait",
            &ns,
            &[
                &format!("--for=jsonpath={{.status.observedGeneration}}={generation}"),
                "--timeout=60s",
            ],
        ),
        "the operator to see the new password",
    );
    ok(
        on_instance(
            "wait",
            &ns,
            &["--for=condition=PasswordSynced", "--timeout=180s"],
        ),
        "the password change",
    );
    scan.assert_clean("the password change");
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

    // A delete in the middle of a password change. The operator holds a deletion until
    // its backup succeeds, so this passes only if the final backup uses the password the
    // server has by then.
    let scan = ArgvScan::start(&["otuspassword"]);
    change_password(&ns, "third-otuspassword");
    // PasswordSynced=Unknown means the password Job is running: the delete lands mid-change.
    ok(
        on_instance(
            "wait",
            &ns,
            &["--for=condition=PasswordSynced=Unknown", "--timeout=60s"],
        ),
        "the second password change to start",
    );
    delete_instance(&ns, "delete during a password change");
    scan.assert_clean("a delete during a password change");

    // A record deleted by hand takes its dump on the node with it (the prune Job), and
    // only that one.
    let backup_dir = format!("/var/lib/kubectl-mysql/{ns}/{INSTANCE}/backup");
    let dumps_on_node = || -> Vec<String> {
        let mut files: Vec<String> = std::fs::read_dir(&backup_dir)
            .unwrap_or_else(|e| panic!("{backup_dir}: {e}"))
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        files
    };
    let oldest = ok(
        kubectl(&[
            "get",
            "mysqlbackups",
            "-n",
            &ns,
            "--sort-by=.metadata.creationTimestamp",
            "-o",
            "jsonpath={.items[0].metadata.name}",
        ]),
        "the oldest backup record",
    );
    let before = dumps_on_node();
    assert!(before.contains(&format!("{oldest}.sql")), "{before:?}");
    ok(
        kubectl(&[
            "delete",
            "mysqlbackup",
            &oldest,
            "-n",
            &ns,
            "--timeout=120s",
        ]),
        "delete the oldest record",
    );
    let after = dumps_on_node();
    let gone: Vec<&String> = before.iter().filter(|f| !after.contains(f)).collect();
    assert_eq!(
        gone,
        [&format!("{oldest}.sql"), &format!("{oldest}.sql.sha256")],
        "{after:?}"
    );

    // Records lost with their namespace: the dumps on the backup volume are the
    // backups. The namespace goes within a minute, the dumps stay on the node (nothing
    // can be created in a namespace being deleted, so no prune Job runs).
    ok(
        kubectl(&["delete", "namespace", &ns, "--timeout=60s"]),
        "delete the namespace within a minute",
    );
    let dumps: Vec<String> = std::fs::read_dir(&backup_dir)
        .unwrap_or_else(|e| panic!("{backup_dir}: {e}"))
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".sql"))
        .collect();
    assert!(dumps.len() >= 2, "the dumps on the node: {dumps:?}");

    // The same namespace and CR again: the operator finds the dumps, records them and
    // restores the newest, with real rows.
    ok(
        kubectl(&["create", "namespace", &ns]),
        "re-create the namespace",
    );
    wait_until(
        Duration::from_secs(60),
        "the default ServiceAccount",
        || {
            let out = kubectl(&["get", "serviceaccount", "default", "-n", &ns]);
            out.status.success().then_some(()).ok_or_else(|| text(&out))
        },
    );
    ok(
        kubectl_with_stdin(&["apply", "-n", &ns, "-f", "-"], &cr),
        "kubectl apply -f examples/cr.yml in the re-created namespace",
    );
    wait_for_job(&ns, &format!("scan-{INSTANCE}-job"));
    wait_for_job(&ns, &format!("restore-{INSTANCE}-job"));
    wait_ready(&ns);
    let restored = ok(
        on_instance("get", &ns, &["-o", "jsonpath={.status.restoredFrom}"]),
        "where the instance was restored from",
    );
    assert!(!restored.is_empty(), "no restoredFrom");
    let count = ok(
        mysql_exec(&ns, "otuspassword", "select count(*) from test"),
        "count after restoring from the dumps found on the volume",
    );
    assert!(count.lines().any(|l| l.trim() == "2"), "{count}");
    let listed = ok(
        kubectl(&["mysql", "backup", INSTANCE, "-n", &ns, "--list"]),
        "kubectl mysql backup --list",
    );
    assert!(listed.contains("Discovered"), "{listed}");

    // A wrong image ends the rollout's wait with the kubelet's own reason, at once.
    let wrong = kubectl(&[
        "mysql",
        "install-operator",
        "-n",
        &operator_ns,
        "--image",
        "kubectl-mysql.local/no-such-operator:1",
        "--watch-namespace",
        &ns,
        "--wait",
        "--timeout",
        "120s",
    ]);
    assert!(!wrong.status.success(), "a wrong image rolled out");
    let said = text(&wrong);
    let last = said.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error:")
            && (last.contains("ErrImagePull") || last.contains("ImagePullBackOff")),
        "{said}"
    );
    ok(
        kubectl(&["mysql", "uninstall-operator", "-n", &operator_ns]),
        "kubectl mysql uninstall-operator",
    );

    // And a namespace deleted with its instance running goes within a minute too (no
    // operator runs now: the instance's finalizer is the operator's to remove, so one
    // runs here for that).
    let _operator = Operator::start(&[&ns]);
    ok(
        kubectl(&["delete", "namespace", &ns, "--timeout=60s"]),
        "delete the namespace with a running instance",
    );
    let host_dir = format!("/var/lib/kubectl-mysql/{ns}");
    std::fs::remove_dir_all(&host_dir).unwrap_or_else(|e| panic!("remove {host_dir}: {e}"));
    delete_volumes_of(&ns);
}

/// Backups that leave the node: the instance's dumps go to the S3 server tests/run
/// started on the pod bridge (versitygw), uploaded by the operator's own image; the
/// instance deleted and created again restores real rows from the bucket.
#[tokio::test]
async fn real_node_backup_to_s3_and_restore_real_rows() {
    let BucketInstance {
        s3,
        ns,
        operator_ns,
        cr,
    } = course_instance_in_bucket("real-s3", "real-node", "").await;
    let rows = 500;
    fill_kept(&ns, rows);

    // An on-demand backup: the object holds the zstd of the dump (streamed from
    // mysqldump through a pipe), and its checksum is the one the record holds.
    ok(
        kubectl(&["mysql", "backup", INSTANCE, "-n", &ns, "--wait"]),
        "kubectl mysql backup --wait",
    );
    let key = ok(
        kubectl(&[
            "get",
            "mysqlbackups",
            "-n",
            &ns,
            "-o",
            "jsonpath={.items[0].status.key}",
        ]),
        "the backup's key",
    );
    assert!(
        key.starts_with(&format!("real-node/{ns}/{INSTANCE}/")) && key.ends_with(".sql.zst"),
        "{key}"
    );
    let object = std::fs::read(s3.object_file(&key))
        .unwrap_or_else(|e| panic!("the object {key} on the S3 server: {e}"));
    assert_eq!(&object[..4], [0x28, 0xb5, 0x2f, 0xfd], "zstd");
    let recorded = ok(
        kubectl(&[
            "get",
            "mysqlbackups",
            "-n",
            &ns,
            "-o",
            "jsonpath={.items[0].status.sha256}",
        ]),
        "the backup's checksum",
    );
    let stored: String = sha2::Sha256::digest(&object)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(recorded, stored);
    let listed = ok(
        kubectl(&["mysql", "backup", INSTANCE, "-n", &ns, "--list"]),
        "kubectl mysql backup --list",
    );
    assert!(
        listed.contains(&format!("s3://{}/{key}", s3.bucket)),
        "{listed}"
    );

    let record = ok(
        kubectl(&[
            "get",
            "mysqlbackups",
            "-n",
            &ns,
            "-o",
            "jsonpath={.items[0].metadata.name}",
        ]),
        "the backup's name",
    );

    // Faults of the store, each a backup that fails with the server's reason in one
    // line, on its record and in an Event; the good backup above stays restorable
    // (verified and loaded below).
    let wrong_keys = serde_json::json!({
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "wrong-keys"},
        "stringData": {"accessKeyId": s3.access_key, "secretAccessKey": "not-the-secret"}
    });
    ok(
        kubectl_with_stdin(&["apply", "-n", &ns, "-f", "-"], &wrong_keys.to_string()),
        "a Secret with a wrong secret key",
    );
    let unreachable = format!(
        "http://{}:1",
        s3.endpoint
            .trim_start_matches("http://")
            .split(':')
            .next()
            .unwrap()
    );
    let faults = [
        (
            serde_json::json!({"credentialsSecret": {"name": "wrong-keys"}}),
            "SignatureDoesNotMatch",
        ),
        (
            serde_json::json!({"bucket": "no-such-bucket"}),
            "NoSuchBucket",
        ),
        (serde_json::json!({"endpoint": unreachable}), "cannot reach"),
    ];
    let good_store = serde_json::json!({
        "endpoint": s3.endpoint, "bucket": s3.bucket,
        "credentialsSecret": {"name": "s3-keys"}
    });
    for (change, reason) in faults {
        // One fault at a time: the good settings with one of them changed.
        let mut store = good_store.clone();
        for (field, value) in change.as_object().unwrap() {
            store[field] = value.clone();
        }
        let patch = serde_json::json!({"spec": {"backup": {"storage": {"s3": store}}}});
        ok(
            kubectl(&[
                "patch",
                "mysql",
                INSTANCE,
                "-n",
                &ns,
                "--type=merge",
                "-p",
                &patch.to_string(),
            ]),
            "point the backups at a faulty store",
        );
        let failed = kubectl(&["mysql", "backup", INSTANCE, "-n", &ns, "--wait"]);
        assert!(!failed.status.success(), "{}", text(&failed));
        let said = String::from_utf8_lossy(&failed.stderr);
        assert!(said.contains(reason), "{reason}: {}", text(&failed));
        assert!(!said.contains("not-the-secret"), "{said}");
        assert_eq!(said.trim().lines().count(), 1, "one line: {said}");
        let events = ok(
            kubectl(&[
                "get",
                "events",
                "-n",
                &ns,
                "--field-selector",
                "reason=BackupFailed",
                "-o",
                "jsonpath={.items[*].message}",
            ]),
            "the BackupFailed Events",
        );
        assert!(events.contains(reason), "{reason}: {events}");
    }
    let good = serde_json::json!({"spec": {"backup": {"storage": {"s3": good_store}}}});
    ok(
        kubectl(&[
            "patch",
            "mysql",
            INSTANCE,
            "-n",
            &ns,
            "--type=merge",
            "-p",
            &good.to_string(),
        ]),
        "the good store again",
    );

    // Verified: loaded into a throwaway server, which counts the rows.
    verified_with_rows(&ns, &record, 500);

    // The object damaged on the server: verifying fails its checksum, and a restore
    // from it fails before the database is touched (the row added since stays).
    ok(
        mysql_exec(
            &ns,
            "otuspassword",
            "INSERT INTO kept VALUES (500, 'after')",
        ),
        "a row after the backup",
    );
    let mut damaged = object.clone();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0xff;
    std::fs::write(s3.object_file(&key), &damaged).unwrap();
    let refused = kubectl(&["mysql", "backup", "verify", &record, "-n", &ns]);
    assert!(!refused.status.success(), "{}", text(&refused));
    assert!(text(&refused).contains("checksum"), "{}", text(&refused));
    let refused = kubectl(&[
        "mysql", "restore", INSTANCE, "--from", &record, "-y", "-n", &ns,
    ]);
    assert!(!refused.status.success(), "{}", text(&refused));
    assert!(text(&refused).contains("checksum"), "{}", text(&refused));
    let count = ok(
        mysql_exec(&ns, "otuspassword", "select count(*) from kept"),
        "count after the refused restore",
    );
    assert!(count.lines().any(|l| l.trim() == "501"), "{count}");
    let rows = rows + 1;

    // Deleted (its final backup goes to the bucket too) and created again: the new
    // incarnation restores every row from the newest object. That object is first
    // turned into what an earlier version stored (gzip, `.sql.gz`), as a bucket
    // written before zstd holds: it still restores.
    delete_instance(&ns, "delete the instance backed up to S3");
    as_a_gzip_dump_of_before(&s3, &ns, &format!("real-node/{ns}/{INSTANCE}/"));
    ok(
        kubectl_with_stdin(&["apply", "-n", &ns, "-f", "-"], &cr),
        "the same CR again",
    );
    wait_for_job(&ns, &format!("restore-{INSTANCE}-job"));
    wait_ready(&ns);
    let count = ok(
        mysql_exec(&ns, "otuspassword", "select count(*) from kept"),
        "count after restoring from the bucket",
    );
    assert!(
        count.lines().any(|l| l.trim() == rows.to_string()),
        "{count}"
    );

    tear_down(&ns, &operator_ns, "60s");
}

/// Replaces the newest dump under `folder` by the same dump as an earlier version
/// stored and recorded it: gzip, under `.sql.gz`, with its checksum, and its record in
/// `namespace` saying so.
fn as_a_gzip_dump_of_before(s3: &common::S3, namespace: &str, folder: &str) {
    let object_store = |args: &[&str]| {
        let out = common::plugin()
            .args(["object-store", "--endpoint", &s3.endpoint])
            .args(["--bucket", &s3.bucket, "--path-style"])
            .args(args)
            .env("AWS_ACCESS_KEY_ID", &s3.access_key)
            .env("AWS_SECRET_ACCESS_KEY", &s3.secret_key)
            .output()
            .expect("the plugin runs");
        ok(out, &format!("object-store {args:?}"))
    };
    let listed = object_store(&["list", "--prefix", folder]);
    let newest = listed
        .lines()
        .filter_map(|l| l.split('\t').next())
        .filter(|k| k.ends_with(".sql.zst"))
        .max()
        .unwrap_or_else(|| panic!("no zstd dump under {folder}: {listed}"))
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump.sql");
    object_store(&["download", "--key", &newest, "--to", dump.to_str().unwrap()]);
    let old = newest.replace(".sql.zst", ".sql.gz");
    object_store(&["upload", "--file", dump.to_str().unwrap(), "--key", &old]);
    object_store(&["delete", "--key", &newest]);
    let object = std::fs::read(s3.object_file(&old)).unwrap();
    assert_eq!(&object[..2], [0x1f, 0x8b], "gzip, as before zstd");
    let records = ok(
        kubectl(&[
            "get",
            "mysqlbackups",
            "-n",
            namespace,
            "-o",
            "jsonpath={range .items[*]}{.metadata.name} {.status.key}{\"\\n\"}{end}",
        ]),
        "the backup records",
    );
    let record = records
        .lines()
        .find_map(|l| l.strip_suffix(&format!(" {newest}")))
        .unwrap_or_else(|| panic!("no record of {newest}: {records}"));
    let sha256: String = sha2::Sha256::digest(&object)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let status = serde_json::json!({"status": {
        "key": old, "sha256": sha256, "sizeBytes": object.len()
    }});
    ok(
        kubectl(&[
            "patch",
            "mysqlbackup",
            record,
            "-n",
            namespace,
            "--subresource=status",
            "--type=merge",
            "-p",
            &status.to_string(),
        ]),
        "the record as an earlier version wrote it",
    );
}

/// The table `kept` with `rows` rows (`id` from 0), through the grader's command line.
/// `kubectl mysql backup verify RECORD`: its report counts `rows` in the table `kept`,
/// and the record says it passed with them.
fn verified_with_rows(namespace: &str, record: &str, rows: u32) {
    let verified = ok(
        kubectl(&["mysql", "backup", "verify", record, "-n", namespace]),
        "kubectl mysql backup verify",
    );
    let expected = rows.to_string();
    assert!(
        verified
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["kept", expected.as_str()]),
        "{verified}"
    );
    let recorded = ok(
        kubectl(&[
            "get",
            "mysqlbackup",
            record,
            "-n",
            namespace,
            "-o",
            "jsonpath={.status.verification.result} {.status.verification.tables[0].rows}",
        ]),
        "the verification on the record",
    );
    assert_eq!(recorded, format!("Passed {rows}"));
}

fn fill_kept(namespace: &str, rows: usize) {
    let values: Vec<String> = (0..rows).map(|i| format!("({i},'row {i}')")).collect();
    ok(
        mysql_exec(
            namespace,
            "otuspassword",
            &format!(
                "CREATE TABLE kept (id int primary key, note varchar(40)); INSERT INTO kept VALUES {}",
                values.join(",")
            ),
        ),
        "fill a table",
    );
}

/// One value the server answers (`mysql -N -B`), logged in as the grader is.
fn server_value(namespace: &str, sql: &str) -> String {
    let out = kubectl(&[
        "exec",
        "-n",
        namespace,
        &format!("deploy/{INSTANCE}"),
        "-c",
        "mysql",
        "--",
        "mysql",
        "-N",
        "-B",
        "-u",
        "root",
        "-potuspassword",
        "-e",
        sql,
        DATABASE,
    ]);
    ok(out, sql).trim().to_string()
}

/// The server's clock, UTC, to the second.
fn server_now(namespace: &str) -> jiff::Timestamp {
    let text = server_value(
        namespace,
        "SELECT DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-%dT%H:%i:%sZ')",
    );
    text.parse()
        .unwrap_or_else(|e| panic!("the server's time {text:?}: {e}"))
}

/// Waits until the server's clock has passed `t` (whole seconds), so that what comes
/// next is logged at a later second than `t`.
fn after_second(namespace: &str, t: jiff::Timestamp) {
    wait_until(
        Duration::from_secs(30),
        "the server's clock to pass a second",
        || {
            let now = server_now(namespace);
            (now > t).then_some(()).ok_or(format!("{now}"))
        },
    );
}

fn instance_field(namespace: &str, path: &str) -> String {
    ok(
        on_instance("get", namespace, &["-o", &format!("jsonpath={{{path}}}")]),
        path,
    )
}

/// The archived binary logs of the instance in the S3 server's directory, by name.
fn archived_segments(s3: &common::S3, namespace: &str, timeline: &str) -> Vec<String> {
    let dir = s3.object_file(&format!(
        "real-pitr/{namespace}/{INSTANCE}/binlog/{timeline}"
    ));
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|n| n.ends_with(".gz"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Point-in-time recovery with the real server and S3 server: binary logs archived by
/// the sidecar every 5 s, the window in status, a restore to the second before a
/// `DROP TABLE` that brings back every row up to it and none after, refusals in one
/// line, and a segment lost from the bucket ending the window there.
#[tokio::test]
async fn real_node_point_in_time_recovery() {
    require_real_node();
    let s3 = common::S3::from_env();
    let client = common::cluster().await;
    let ns = common::namespace(&client, "real-pitr").await;
    let operator_ns = operator_and_keys(&ns, &s3);
    // Plain connections refused: the archiver reads over the server's socket.
    let cr = course_cr_in_bucket(
        &s3,
        "real-pitr",
        "    pointInTime: {enabled: true, interval: 5s}\n",
    )
    .replace(
        "  backup:\n",
        "  tls:\n    requireSecureTransport: true\n  backup:\n",
    );
    ok(
        kubectl_with_stdin(&["apply", "-n", &ns, "-f", "-"], &cr),
        "the course's CR with point-in-time recovery and required TLS",
    );
    wait_ready(&ns);
    let uid = instance_field(&ns, ".metadata.uid");
    let timeline = kubectl_mysql::names::incarnation(&uid);

    // A table, a backup that records where it stands in the binary log.
    server_value(
        &ns,
        "CREATE TABLE ticks (id int primary key, at datetime); INSERT INTO ticks VALUES (0, UTC_TIMESTAMP())",
    );
    ok(
        kubectl(&["mysql", "backup", INSTANCE, "-n", &ns, "--wait"]),
        "kubectl mysql backup --wait",
    );
    let position = ok(
        kubectl(&[
            "get",
            "mysqlbackups",
            "-n",
            &ns,
            "-o",
            // The record of the backup just taken: other records may be there, found
            // in the bucket (an instance of this name in another namespace).
            "jsonpath={.items[?(@.spec.cause==\"Manual\")].status.binlogPosition.timeline} {.items[?(@.spec.cause==\"Manual\")].status.binlogPosition.file} {.items[?(@.spec.cause==\"Manual\")].status.binlogPosition.position}",
        ]),
        "the backup's binary log position",
    );
    let fields: Vec<&str> = position.split_whitespace().collect();
    assert_eq!(fields.len(), 3, "{position}");
    assert_eq!(fields[0], timeline);
    assert!(fields[1].starts_with("mysql-bin."), "{position}");
    assert!(fields[2].parse::<u64>().unwrap() > 0, "{position}");

    // Rows at distinct seconds after the backup; T is the last one kept.
    let mut last = server_now(&ns);
    for id in 1..=6 {
        after_second(&ns, last);
        server_value(
            &ns,
            &format!("INSERT INTO ticks VALUES ({id}, UTC_TIMESTAMP())"),
        );
        last = server_now(&ns);
    }
    let target = last;
    after_second(&ns, target);
    server_value(&ns, "INSERT INTO ticks VALUES (100, UTC_TIMESTAMP())");
    server_value(&ns, "DROP TABLE ticks");
    let dropped = server_now(&ns);
    // The DROP's own GTID: the server's last transaction.
    let drop_gtid = server_value(&ns, "SELECT @@gtid_binlog_pos");

    // The archive reaches past the DROP: the window in status says so.
    wait_until(
        Duration::from_secs(120),
        "the recoverable window to reach past the DROP",
        || {
            let until = instance_field(&ns, ".status.recoverableUntil");
            match until.parse::<jiff::Timestamp>() {
                Ok(until) if until >= dropped => Ok(()),
                _ => Err(format!("recoverableUntil {until:?}")),
            }
        },
    );
    let from: jiff::Timestamp = instance_field(&ns, ".status.recoverableFrom")
        .parse()
        .unwrap();
    assert!(from <= target, "window from {from}, target {target}");
    let condition = instance_field(&ns, ".status.conditions[?(@.type==\"Recoverable\")].reason");
    assert_eq!(condition, "Archiving");
    // Archived files are purged from the server: it keeps none the bucket lacks, and
    // not the ones before.
    let archived = archived_segments(&s3, &ns, &timeline);
    assert!(archived.len() >= 2, "{archived:?}");
    let oldest_kept = server_value(&ns, "SHOW BINARY LOGS");
    let first_on_server = oldest_kept
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    assert!(
        !archived
            .iter()
            .any(|a| a.starts_with(&format!("{first_on_server}_")))
            || archived.len() > 1,
        "{first_on_server}: {archived:?}"
    );
    assert!(
        archived[0].as_str() < first_on_server.as_str(),
        "the oldest archived file {} is gone from the server ({first_on_server} first)",
        archived[0]
    );

    // Verification replays the chain onto the dump in a throwaway server: up to the
    // window's end, after the DROP, so no table is left, and it says how far it got.
    let record = ok(
        kubectl(&[
            "get",
            "mysqlbackups",
            "-n",
            &ns,
            "-o",
            "jsonpath={.items[?(@.spec.cause==\"Manual\")].metadata.name}",
        ]),
        "the backup's name",
    );
    let verified = ok(
        kubectl(&["mysql", "backup", "verify", &record, "-n", &ns]),
        "kubectl mysql backup verify with the chain",
    );
    assert!(verified.contains("replayed up to"), "{verified}");
    let replayed = ok(
        kubectl(&[
            "get",
            "mysqlbackup",
            &record,
            "-n",
            &ns,
            "-o",
            "jsonpath={.status.verification.result} {.status.verification.replayedUntil}",
        ]),
        "the verification on the record",
    );
    let (result, until) = replayed.split_once(' ').unwrap_or_default();
    assert_eq!(result, "Passed");
    assert!(
        until.parse::<jiff::Timestamp>().unwrap() >= dropped,
        "{replayed}"
    );

    // Refusals: one line each, nothing asked of the operator.
    for (to_time, says) in [
        ("yesterday", "not a time"),
        ("2999-01-01T00:00:00Z", "in the future"),
        ("2000-01-01T00:00:00Z", "outside the recoverable window"),
    ] {
        let refused = kubectl(&[
            "mysql",
            "restore",
            INSTANCE,
            "-n",
            &ns,
            "--to-time",
            to_time,
            "-y",
        ]);
        assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
        let said = String::from_utf8_lossy(&refused.stderr);
        assert!(said.contains(says), "{to_time}: {said}");
        assert_eq!(said.trim().lines().count(), 1, "{said}");
    }
    assert_eq!(
        instance_field(
            &ns,
            ".metadata.annotations.mysqls\\.otus\\.homework/restore-request"
        ),
        "",
        "a refused restore asks nothing of the operator"
    );

    // The restore to T: the table is back with every row up to T and none after.
    let restored = ok(
        kubectl(&[
            "mysql",
            "restore",
            INSTANCE,
            "-n",
            &ns,
            "--to-time",
            &target.to_string(),
            "-y",
            "--timeout",
            "300s",
        ]),
        "kubectl mysql restore --to-time",
    );
    assert!(restored.contains(&target.to_string()), "{restored}");
    let ids = server_value(&ns, "SELECT GROUP_CONCAT(id ORDER BY id) FROM ticks");
    assert_eq!(ids, "0,1,2,3,4,5,6");
    let message = instance_field(&ns, ".status.conditions[?(@.type==\"Restored\")].message");
    assert!(message.contains(&format!("up to {target}")), "{message}");

    // The restore up to the DROP's transaction, leaving it out: every row, the one
    // after T too, and the table.
    let restored = ok(
        kubectl(&[
            "mysql",
            "restore",
            INSTANCE,
            "-n",
            &ns,
            "--to-gtid",
            &drop_gtid,
            "-y",
            "--timeout",
            "300s",
        ]),
        "kubectl mysql restore --to-gtid",
    );
    assert!(restored.contains(&drop_gtid), "{restored}");
    let ids = server_value(&ns, "SELECT GROUP_CONCAT(id ORDER BY id) FROM ticks");
    assert_eq!(ids, "0,1,2,3,4,5,6,100");
    let refused = kubectl(&[
        "mysql",
        "restore",
        INSTANCE,
        "-n",
        &ns,
        "--to-gtid",
        "0-1",
        "-y",
    ]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(
        text(&refused).contains("is not a GTID"),
        "{}",
        text(&refused)
    );

    // A new instance as the original was at T: its backup and binary logs, its
    // database and bucket; the original is not touched.
    let target_text = target.to_string();
    let create_copy = |name: &str, at: &str| {
        kubectl_with_stdin(
            &[
                "mysql",
                "create",
                name,
                "-n",
                &ns,
                "--image",
                LOCAL_IMAGE,
                "--password-stdin",
                "--restore-from-time",
                at,
                "--source",
                INSTANCE,
                "--timeout",
                "300s",
            ],
            "copypassword",
        )
    };
    ok(
        create_copy("copy", &target_text),
        "kubectl mysql create copy --restore-from-time",
    );
    let copied = ok(
        kubectl(&[
            "exec",
            "-n",
            &ns,
            "deploy/copy",
            "-c",
            "mysql",
            "--",
            "mysql",
            "-N",
            "-B",
            "-u",
            "root",
            "-pcopypassword",
            "-e",
            "SELECT GROUP_CONCAT(id ORDER BY id) FROM ticks",
            DATABASE,
        ]),
        "the copy's rows",
    );
    assert_eq!(copied.trim(), "0,1,2,3,4,5,6");
    let refused = create_copy("too-early", "2000-01-01T00:00:00Z");
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(
        text(&refused).contains("outside the recoverable window"),
        "{}",
        text(&refused)
    );
    let absent = kubectl(&["get", "mysql", "too-early", "-n", &ns]);
    assert!(!absent.status.success(), "a refused copy leaves nothing");

    // A segment lost from the bucket: the window ends before it, with a Warning, and a
    // restore past it is refused.
    let archived = archived_segments(&s3, &ns, &timeline);
    assert!(archived.len() >= 3, "{archived:?}");
    let lost = &archived[archived.len() / 2];
    let before_lost = &archived[archived.len() / 2 - 1];
    let dir = s3.object_file(&format!("real-pitr/{ns}/{INSTANCE}/binlog/{timeline}"));
    std::fs::remove_file(dir.join(lost)).unwrap();
    std::fs::remove_file(dir.join(format!("{lost}.sha256"))).unwrap();
    // The segment before the gap holds every commit up to the second before its last
    // event's: later commits of that second may be in the lost file.
    let gap_ends_at = before_lost
        .trim_end_matches(".gz")
        .rsplit('_')
        .next()
        .and_then(|t| jiff::civil::DateTime::strptime("%Y%m%dT%H%M%SZ", t).ok())
        .and_then(|t| t.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|z| z.timestamp() - jiff::SignedDuration::from_secs(1))
        .unwrap();
    wait_until(
        Duration::from_secs(60),
        "the window to end at the gap",
        || {
            let reason =
                instance_field(&ns, ".status.conditions[?(@.type==\"Recoverable\")].reason");
            let until = instance_field(&ns, ".status.recoverableUntil");
            (reason == "BinlogGap" && until == gap_ends_at.to_string())
                .then_some(())
                .ok_or(format!("{reason} until {until}"))
        },
    );
    let events = ok(
        kubectl(&[
            "get",
            "events",
            "-n",
            &ns,
            "--field-selector",
            "reason=BinlogGap",
            "-o",
            "jsonpath={.items[*].type}",
        ]),
        "the BinlogGap Event",
    );
    assert!(events.contains("Warning"), "{events}");
    let past_gap = gap_ends_at + jiff::SignedDuration::from_secs(1);
    let refused = kubectl(&[
        "mysql",
        "restore",
        INSTANCE,
        "-n",
        &ns,
        "--to-time",
        &past_gap.to_string(),
        "-y",
    ]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(
        text(&refused).contains("outside the recoverable window"),
        "{}",
        text(&refused)
    );

    tear_down(&ns, &operator_ns, "120s");
}

/// `SQL` on member `deployment`'s own server (`-N -B`), with `host` naming where the
/// client connects (`127.0.0.1`: the member itself; `mysql-instance`: the Service).
fn member_value(namespace: &str, deployment: &str, host: &str, sql: &str) -> Output {
    let deploy = format!("deploy/{deployment}");
    let mut args = vec![
        "exec", "-n", namespace, &deploy, "-c", "mysql", "--", "mysql", "-N", "-B", "-h", host,
    ];
    // An instance with TLS (which may refuse plain connections): verified against its
    // CA, by the name the client used.
    if !instance_field(namespace, ".spec.tls").is_empty() {
        args.extend(["--ssl-ca=/etc/mysql-tls/ca.crt", "--ssl-verify-server-cert"]);
    }
    args.extend(["-u", "root", "-potuspassword", "-e", sql, DATABASE]);
    kubectl(&args)
}

/// Waits until the instance has `members` members and every replica streams.
fn wait_replicating(namespace: &str, members: usize) {
    wait_until(
        Duration::from_secs(420),
        &format!("{members} members, every replica streaming"),
        || {
            let reason = instance_field(
                namespace,
                ".status.conditions[?(@.type==\"Replicating\")].reason",
            );
            let names = instance_field(namespace, ".status.members[*].name");
            let count = names.split_whitespace().count();
            (reason == "AllReplicasStreaming" && count == members)
                .then_some(())
                .ok_or(format!("{reason}: {names}"))
        },
    );
}

/// `@@read_only` of member `deployment`'s server: "1" or "0".
fn read_only(namespace: &str, deployment: &str) -> String {
    text(&member_value(
        namespace,
        deployment,
        "127.0.0.1",
        "SELECT @@read_only",
    ))
    .trim()
    .to_string()
}

/// Waits until `sql`'s answer on every member passes `check`.
fn wait_on_every_member(
    namespace: &str,
    members: &[&str],
    what: &str,
    sql: &str,
    check: impl Fn(&str) -> Result<(), String>,
) {
    for member in members {
        wait_until(
            Duration::from_secs(120),
            &format!("{what} on {member}"),
            || {
                let out = member_value(namespace, member, "127.0.0.1", sql);
                let answer = text(&out);
                if !out.status.success() {
                    return Err(answer);
                }
                check(answer.trim())
            },
        );
    }
}

/// Every member holds `rows` rows of the table below id 1000 (the writer's rows are
/// from 1000 on).
fn wait_rows_everywhere(namespace: &str, members: &[&str], rows: u32) {
    let sql = "SELECT COUNT(*) FROM t WHERE id < 1000";
    wait_on_every_member(namespace, members, &format!("{rows} rows"), sql, |got| {
        (got == rows.to_string())
            .then_some(())
            .ok_or(got.to_string())
    });
}

/// A client in `pod_of`'s pod inserting 1000, 1001, … through the Service
/// `mysql-instance` every 200 ms until told to stop, printing `ok N` for each insert
/// the server acknowledged and `fail N` for each it did not.
struct Writer {
    namespace: String,
    pod_of: String,
    lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    child: std::process::Child,
}

impl Writer {
    // With TLS on, over TLS verified against the instance's CA.
    const SCRIPT: &str = r#"rm -f /tmp/stop-writer; i=1000
tls=""; [ -r /etc/mysql-tls/ca.crt ] && tls="--ssl-ca=/etc/mysql-tls/ca.crt --ssl-verify-server-cert"
while [ ! -e /tmp/stop-writer ]; do
  if mysql --defaults-extra-file=/etc/mysql-credentials/client.cnf --user=root $tls -h mysql-instance --connect-timeout=2 -e "INSERT INTO t VALUES ($i)" otus-database 2>/dev/null; then echo "ok $i"; else echo "fail $i"; fi
  i=$((i+1)); sleep 0.2
done
echo done"#;

    fn start(namespace: &str, pod_of: &str) -> Self {
        let mut child = std::process::Command::new("kubectl")
            .args([
                "exec",
                "-n",
                namespace,
                &format!("deploy/{pod_of}"),
                "-c",
                "mysql",
                "--",
                "sh",
                "-c",
                Self::SCRIPT,
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("kubectl exec");
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let stdout = child.stdout.take().unwrap();
        let sink = lines.clone();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                sink.lock().unwrap().push(line);
            }
        });
        Writer {
            namespace: namespace.into(),
            pod_of: pod_of.into(),
            lines,
            child,
        }
    }

    fn acknowledged(&self) -> Vec<u32> {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| l.strip_prefix("ok ")?.parse().ok())
            .collect()
    }

    fn failed(&self) -> usize {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.starts_with("fail "))
            .count()
    }

    /// Waits until the writer has an acknowledged insert after `after`.
    fn wait_acknowledged_after(&self, after: u32) {
        wait_until(
            Duration::from_secs(120),
            &format!("an acknowledged insert after {after}"),
            || {
                let acked = self.acknowledged();
                acked
                    .iter()
                    .any(|n| *n > after)
                    .then_some(())
                    .ok_or(format!(
                        "last lines {:?}",
                        self.lines
                            .lock()
                            .unwrap()
                            .iter()
                            .rev()
                            .take(3)
                            .collect::<Vec<_>>()
                    ))
            },
        );
    }

    fn stop(mut self) -> Vec<u32> {
        ok(
            kubectl(&[
                "exec",
                "-n",
                &self.namespace,
                &format!("deploy/{}", self.pod_of),
                "-c",
                "mysql",
                "--",
                "touch",
                "/tmp/stop-writer",
            ]),
            "stopping the writer",
        );
        wait_until(Duration::from_secs(60), "the writer to stop", || {
            self.lines
                .lock()
                .unwrap()
                .iter()
                .any(|l| l == "done")
                .then_some(())
                .ok_or_else(String::new)
        });
        let _ = self.child.wait();
        self.acknowledged()
    }
}

/// `kubectl mysql switchover mysql-instance --to MEMBER`, waited for.
fn switchover(namespace: &str, to: &str) {
    ok(
        kubectl(&[
            "mysql",
            "switchover",
            INSTANCE,
            "-n",
            namespace,
            "--to",
            to,
            "--timeout",
            "300s",
        ]),
        &format!("kubectl mysql switchover --to {to}"),
    );
}

/// Every id in `acknowledged` is on every member.
fn wait_acknowledged_everywhere(namespace: &str, members: &[&str], acknowledged: &[u32]) {
    let sql = "SELECT id FROM t WHERE id >= 1000";
    wait_on_every_member(namespace, members, "every acknowledged row", sql, |ids| {
        let present: std::collections::BTreeSet<u32> = ids
            .split_whitespace()
            .filter_map(|n| n.parse().ok())
            .collect();
        let missing: Vec<&u32> = acknowledged
            .iter()
            .filter(|n| !present.contains(n))
            .collect();
        missing
            .is_empty()
            .then_some(())
            .ok_or(format!("missing {missing:?}"))
    });
}

#[tokio::test]
async fn real_node_replicas() {
    require_real_node();
    let client = common::cluster().await;
    let ns = common::namespace(&client, "real-replicas").await;
    let image = operator_image();
    install_operator(&format!("{ns}-operator"), &image, &ns);
    // Plain connections refused: replication, seeds, switchover and the members'
    // state all go over TLS or the local socket.
    let cr = format!(
        "{}  replicas: 3\n  tls:\n    requireSecureTransport: true\n",
        course_cr()
    );
    ok(
        kubectl_with_stdin(&["apply", "-n", &ns, "-f", "-"], &cr),
        "the course's CR with replicas: 3 and required TLS",
    );
    wait_ready(&ns);
    wait_replicating(&ns, 3);
    let all = [
        INSTANCE,
        "mysql-instance-member-1",
        "mysql-instance-member-2",
    ];

    // Rows written through the Service `mysql-instance` (from a replica's pod, as any
    // client in the cluster) reach the primary and, through it, both replicas.
    ok(
        member_value(
            &ns,
            "mysql-instance-member-2",
            INSTANCE,
            "CREATE TABLE t (id INT PRIMARY KEY); INSERT INTO t VALUES (1), (2), (3)",
        ),
        "writing through the Service",
    );
    wait_rows_everywhere(&ns, &all, 3);
    assert_eq!(read_only(&ns, INSTANCE), "0", "the primary takes writes");
    for replica in &all[1..] {
        assert_eq!(read_only(&ns, replica), "1", "{replica} is read-only");
        // Replication itself goes over TLS, verifying the primary's certificate.
        let status = ok(
            kubectl(&[
                "exec",
                "-n",
                &ns,
                &format!("deploy/{replica}"),
                "-c",
                "mysql",
                "--",
                "mysql",
                "-u",
                "root",
                "-potuspassword",
                "-e",
                "SHOW SLAVE STATUS\\G",
            ]),
            "the replica's status, with its fields' names",
        );
        assert!(
            status.contains("Master_SSL_Allowed: Yes")
                && status.contains("Master_SSL_Verify_Server_Cert: Yes"),
            "{status}"
        );
    }
    assert_eq!(
        instance_field(&ns, ".status.primary"),
        INSTANCE,
        "the status names the primary"
    );
    // The primary acknowledges a commit only once a replica has it.
    assert_eq!(
        text(&member_value(
            &ns,
            INSTANCE,
            "127.0.0.1",
            "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'RPL_SEMI_SYNC_MASTER_STATUS'"
        ))
        .trim(),
        "ON"
    );
    let replicas_service = ok(
        kubectl(&[
            "get",
            "endpointslices",
            "-n",
            &ns,
            "-l",
            "kubernetes.io/service-name=mysql-instance-replicas",
            "-o",
            "jsonpath={.items[*].endpoints[*].targetRef.name}",
        ]),
        "the replicas Service's endpoints",
    );
    assert_eq!(
        replicas_service.split_whitespace().count(),
        2,
        "{replicas_service}"
    );

    // A planned switchover to member 1 under a steady writer through the Service: no
    // acknowledged row is lost, and the writer goes on through the same Service.
    let writer = Writer::start(&ns, "mysql-instance-member-2");
    writer.wait_acknowledged_after(1004);
    switchover(&ns, "1");
    assert_eq!(
        instance_field(&ns, ".status.primary"),
        "mysql-instance-member-1"
    );
    let at_switchover = writer.acknowledged().into_iter().max().unwrap_or(0);
    writer.wait_acknowledged_after(at_switchover);
    let failed = writer.failed();
    let acknowledged = writer.stop();
    eprintln!(
        "switchover under load: {} inserts acknowledged, {failed} refused while the primary moved",
        acknowledged.len()
    );
    wait_replicating(&ns, 3);
    wait_acknowledged_everywhere(&ns, &all, &acknowledged);
    assert_eq!(
        read_only(&ns, INSTANCE),
        "1",
        "the old primary is read-only"
    );
    assert_eq!(
        read_only(&ns, "mysql-instance-member-1"),
        "0",
        "the new primary takes writes"
    );
    // Root over the network cannot write on a replica.
    let refused = member_value(&ns, INSTANCE, "127.0.0.1", "INSERT INTO t VALUES (999)");
    assert!(
        !refused.status.success(),
        "a write on a replica: {}",
        text(&refused)
    );
    let events = ok(
        kubectl(&[
            "get",
            "events",
            "-n",
            &ns,
            "--field-selector",
            "reason=PrimaryChanged",
            "-o",
            "jsonpath={.items[*].message}",
        ]),
        "the PrimaryChanged Event",
    );
    assert!(
        events.contains("mysql-instance-member-1 is the primary"),
        "{events}"
    );

    // 3 → 2: the last replica goes, the others keep replicating.
    ok(
        on_instance(
            "patch",
            &ns,
            &["--type=merge", "-p", r#"{"spec":{"replicas":2}}"#],
        ),
        "replicas: 2",
    );
    wait_replicating(&ns, 2);
    wait_until(Duration::from_secs(120), "member 2's objects to go", || {
        let out = kubectl(&[
            "get",
            "deployment/mysql-instance-member-2",
            "pvc/mysql-instance-member-2-pvc",
            "-n",
            &ns,
            "--ignore-not-found",
            "-o",
            "name",
        ]);
        let left = String::from_utf8_lossy(&out.stdout).trim().to_string();
        left.is_empty().then_some(()).ok_or(left)
    });
    ok(
        member_value(
            &ns,
            "mysql-instance-member-1",
            INSTANCE,
            "INSERT INTO t VALUES (4)",
        ),
        "a write after scaling down",
    );
    wait_rows_everywhere(&ns, &all[..2], 4);

    // 2 → 3: a new member 2, seeded afresh from the primary, with every row.
    ok(
        on_instance(
            "patch",
            &ns,
            &["--type=merge", "-p", r#"{"spec":{"replicas":3}}"#],
        ),
        "replicas: 3 again",
    );
    wait_replicating(&ns, 3);
    ok(
        member_value(
            &ns,
            "mysql-instance-member-1",
            INSTANCE,
            "INSERT INTO t VALUES (5)",
        ),
        "a write after scaling up",
    );
    wait_rows_everywhere(&ns, &all, 5);

    // A switchover back to member 0 with every operator pod killed right after the
    // request: the new leader finishes it, with exactly one writable member.
    ok(
        kubectl(&[
            "mysql",
            "switchover",
            INSTANCE,
            "-n",
            &ns,
            "--to",
            "0",
            "--wait=false",
        ]),
        "kubectl mysql switchover --to 0 --wait=false",
    );
    ok(
        kubectl(&[
            "delete",
            "pods",
            "-n",
            &format!("{ns}-operator"),
            "-l",
            "app.kubernetes.io/name=kubectl-mysql-operator",
            "--grace-period=0",
            "--force",
        ]),
        "killing the operator",
    );
    wait_until(
        Duration::from_secs(300),
        "the switchover to finish after the kill",
        || {
            let outcome = instance_field(&ns, ".status.switchover.outcome");
            let primary = instance_field(&ns, ".status.primary");
            (outcome == "Succeeded" && primary == INSTANCE)
                .then_some(())
                .ok_or(format!("{outcome} {primary}"))
        },
    );
    wait_replicating(&ns, 3);
    let writable: Vec<&&str> = all.iter().filter(|m| read_only(&ns, m) == "0").collect();
    assert_eq!(writable, vec![&INSTANCE], "exactly one writable member");

    // A backup of a replicated instance dumps from a replica that caught up, and
    // restores every row (through the primary, to every member).
    ok(
        kubectl(&[
            "mysql",
            "backup",
            INSTANCE,
            "-n",
            &ns,
            "--wait",
            "--timeout",
            "300s",
        ]),
        "a backup of the replicated instance",
    );
    let dumped_from = ok(
        kubectl(&[
            "get",
            "job",
            &format!("backup-{INSTANCE}-job"),
            "-n",
            &ns,
            "-o",
            "jsonpath={.spec.template.spec.containers[0].env[?(@.name==\"MYSQL_HOST\")].value}",
        ]),
        "the backup Job's server",
    );
    assert!(
        dumped_from.starts_with("mysql-instance-member-")
            && !dumped_from.starts_with("mysql-instance-member-0."),
        "dumped from {dumped_from:?}, not a replica"
    );
    ok(
        member_value(&ns, INSTANCE, "127.0.0.1", "INSERT INTO t VALUES (6)"),
        "a row after the backup",
    );
    wait_rows_everywhere(&ns, &all, 6);
    ok(
        kubectl(&[
            "mysql",
            "restore",
            INSTANCE,
            "-n",
            &ns,
            "--yes",
            "--wait",
            "--timeout",
            "300s",
        ]),
        "restoring the replica's backup",
    );
    wait_rows_everywhere(&ns, &all, 5);
    wait_acknowledged_everywhere(&ns, &all, &acknowledged);

    ok(
        on_instance("delete", &ns, &["--timeout=300s"]),
        "deleting the replicated instance",
    );
    delete_volumes_of(&ns);
}
