//! The everyday commands, driven the way a user types them: the real kubectl finds
//! kubectl-mysql on PATH, against the local control plane, with the operator running.

mod common;

use std::process::Output;

use common::{Operator, cluster, install_crds, kubectl, kubectl_with_stdin, namespace, text};

fn mysql(args: &[&str]) -> Output {
    let mut all = vec!["mysql"];
    all.extend_from_slice(args);
    kubectl(&all)
}

fn mysql_with_stdin(args: &[&str], input: &str) -> Output {
    let mut all = vec!["mysql"];
    all.extend_from_slice(args);
    kubectl_with_stdin(&all, input)
}

fn json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", text(out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(out)))
}

fn one_line_failure(out: &Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{}", text(out));
    // Progress lines may come first (off a terminal they are plain lines); the error is
    // one line, the last.
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "not one error line: {stderr}");
    assert_eq!(
        stderr.trim_end().lines().last(),
        Some(errors[0]),
        "{stderr}"
    );
    assert!(
        errors[0].contains(expected),
        "expected {expected:?} in {stderr}"
    );
}

#[tokio::test]
async fn create_status_backup_restore_as_a_user_types_them() {
    let client = cluster().await;
    install_crds();
    let ns = namespace(&client, "commands").await;
    let _operator = Operator::start(&[&ns]);

    // --dry-run changes nothing and never shows the password.
    let dry = mysql_with_stdin(
        &[
            "create",
            "shop",
            "-n",
            &ns,
            "--database",
            "shop",
            "--password-stdin",
            "--dry-run",
            "-o",
            "yaml",
        ],
        "s3cret-pw\n",
    );
    assert!(dry.status.success(), "{}", text(&dry));
    let printed = String::from_utf8_lossy(&dry.stdout);
    assert!(
        printed.contains("kind: MySQL") && printed.contains("kind: Secret"),
        "{printed}"
    );
    assert!(
        !printed.contains("s3cret-pw"),
        "dry run printed the password"
    );
    assert!(
        String::from_utf8_lossy(&kubectl(&["get", "ms,secrets", "-n", &ns, "-o", "name"]).stdout)
            .trim()
            .is_empty()
    );

    let created = mysql_with_stdin(
        &[
            "create",
            "shop",
            "-n",
            &ns,
            "--database",
            "shop",
            "--password-stdin",
            "--wait",
            "--timeout",
            "90s",
        ],
        "s3cret-pw\n",
    );
    assert!(created.status.success(), "{}", text(&created));
    assert!(text(&created).contains("is Ready"));
    let secret = kubectl(&[
        "get",
        "secret",
        "-n",
        &ns,
        "shop-root-password",
        "-o",
        "jsonpath={.metadata.ownerReferences[0].kind}",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&secret.stdout),
        "MySQL",
        "the password Secret is owned by the instance"
    );
    one_line_failure(
        &mysql_with_stdin(&["create", "shop", "-n", &ns, "--password-stdin"], "x\n"),
        "already exists",
    );

    // status: a row per instance, and a stable JSON schema for one.
    let list = json(&mysql(&["status", "-A", "-o", "json"]));
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "shop" && r["namespace"] == ns.as_str() && r["ready"] == true),
        "{list}"
    );
    let detail = json(&mysql(&["status", "shop", "-n", &ns, "-o", "json"]));
    assert_eq!(detail["phase"], "Ready");
    assert_eq!(detail["endpoint"], format!("shop.{ns}.svc:3306"));
    assert_eq!(detail["dataVolumeClaim"]["phase"], "Bound");
    assert_eq!(detail["replicas"]["available"], 1);
    assert!(detail["operatorWarning"].is_null());
    let table = mysql(&["status", "shop", "-n", &ns]);
    assert!(
        text(&table).contains("PasswordSynced") && !text(&table).contains("\u{1b}["),
        "no colour off a terminal"
    );

    // backup: dry run, then a real one with --wait, then the list.
    let dry_backup = mysql(&["backup", "shop", "-n", &ns, "--dry-run"]);
    assert!(text(&dry_backup).contains("kind: MySQLBackup"));
    let backup = mysql(&["backup", "shop", "-n", &ns, "--wait", "--timeout", "90s"]);
    assert!(backup.status.success(), "{}", text(&backup));
    let name = text(&backup)
        .lines()
        .next()
        .unwrap()
        .trim_start_matches("mysqlbackup.otus.homework/")
        .trim_end_matches(" created")
        .to_string();
    let listed = json(&mysql(&[
        "backup", "shop", "-n", &ns, "--list", "-o", "json",
    ]));
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["name"] == name.as_str() && b["phase"] == "Succeeded"),
        "{listed}"
    );

    // restore: needs --yes off a terminal; then restores and reports it.
    one_line_failure(&mysql(&["restore", "shop", "-n", &ns]), "pass --yes");
    let restored = mysql(&["restore", "shop", "-n", &ns, "--yes", "--timeout", "90s"]);
    assert!(restored.status.success(), "{}", text(&restored));
    assert!(
        text(&restored).contains(&format!("shop restored from {name}")),
        "{}",
        text(&restored)
    );
    assert!(
        common::has_event(&ns, "shop", "Restored"),
        "no Restored Event"
    );

    // Restore into a new instance from another instance's backup.
    let copy = mysql_with_stdin(
        &[
            "create",
            "shop-copy",
            "-n",
            &ns,
            "--database",
            "shop",
            "--password-stdin",
            "--restore-from",
            &name,
            "--wait",
            "--timeout",
            "90s",
        ],
        "other-pw\n",
    );
    assert!(copy.status.success(), "{}", text(&copy));
    let copy_detail = json(&mysql(&["status", "shop-copy", "-n", &ns, "-o", "json"]));
    let restored_condition = copy_detail["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Restored")
        .cloned()
        .unwrap();
    assert_eq!(restored_condition["status"], "True", "{copy_detail}");
    let job = kubectl(&[
        "get",
        "job",
        "-n",
        &ns,
        "restore-shop-copy-job",
        "-o",
        "jsonpath={.spec.template.spec.volumes[0].persistentVolumeClaim.claimName}",
    ]);
    assert_eq!(String::from_utf8_lossy(&job.stdout), "backup-shop-pvc");
}

#[tokio::test]
async fn a_stopped_operator_and_a_timeout_are_stated_plainly() {
    let client = cluster().await;
    install_crds();
    let ns = namespace(&client, "no-operator").await;
    // No operator for this namespace: --wait times out with one line, exit 1.
    let out = mysql_with_stdin(
        &[
            "create",
            "lonely",
            "-n",
            &ns,
            "--password-stdin",
            "--wait",
            "--timeout",
            "3s",
        ],
        "pw\n",
    );
    one_line_failure(&out, "timed out after 3s");
    let status = mysql(&["status", "lonely", "-n", &ns]);
    assert!(
        text(&status).contains("kubectl mysql run-operator"),
        "{}",
        text(&status)
    );
    let detail = json(&mysql(&["status", "lonely", "-n", &ns, "-o", "json"]));
    assert!(
        detail["operatorWarning"]
            .as_str()
            .unwrap()
            .contains("is it running?")
    );
}

#[tokio::test]
async fn backup_and_restore_refuse_to_overlap() {
    let client = cluster().await;
    install_crds();
    let ns = namespace(&client, "overlap").await;
    let templates = tempfile::tempdir().unwrap();
    let original = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/templates/backup-job.yaml.tera"
    ))
    .unwrap();
    // Backups of this instance never finish (kwok keeps pods labelled hang Running).
    let hanging = original.replacen(
        "    spec:\n      restartPolicy: Never",
        "        kubectl-mysql.test/outcome: hang\n    spec:\n      restartPolicy: Never",
        1,
    );
    std::fs::write(templates.path().join("backup-job.yaml.tera"), hanging).unwrap();
    let mut operator = Operator::start(&[&ns]);
    let created = mysql_with_stdin(
        &[
            "create",
            "slow",
            "-n",
            &ns,
            "--password-stdin",
            "--wait",
            "--timeout",
            "90s",
        ],
        "pw\n",
    );
    assert!(created.status.success(), "{}", text(&created));
    let good = mysql(&["backup", "slow", "-n", &ns, "--wait", "--timeout", "90s"]);
    assert!(good.status.success(), "{}", text(&good));
    // From now on this operator's backups hang.
    operator.stop();
    let _operator =
        Operator::start_with(&["--templates", templates.path().to_str().unwrap()], &[&ns]);
    let running = mysql(&["backup", "slow", "-n", &ns, "--wait=false"]);
    assert!(running.status.success(), "{}", text(&running));
    common::eventually(
        std::time::Duration::from_secs(60),
        "the backup Job to run",
        || async {
            let out = kubectl(&[
                "get",
                "job",
                "-n",
                &ns,
                "backup-slow-job",
                "-o",
                "jsonpath={.status.active}",
            ]);
            (String::from_utf8_lossy(&out.stdout) == "1").then_some(())
        },
    )
    .await;
    one_line_failure(
        &mysql(&["restore", "slow", "-n", &ns, "--yes"]),
        "a backup of slow is running",
    );
    let timeout = mysql(&["backup", "slow", "-n", &ns, "--wait", "--timeout", "3s"]);
    one_line_failure(&timeout, "timed out");
}

/// What a person sees: `status` inside a real pseudo-terminal (util-linux `script`),
/// colours on. Every row of a boxed table has the same display width, a list's columns
/// line up under their headers, and an empty section says `none`.
#[tokio::test]
async fn tables_line_up_in_a_real_terminal() {
    let client = cluster().await;
    install_crds();
    let ns = namespace(&client, "tty").await;
    let _operator = Operator::start(&[&ns]);
    let created = mysql_with_stdin(&["create", "db", "-n", &ns, "--password-stdin"], "pw\n");
    assert!(created.status.success(), "{}", text(&created));
    let in_terminal = |args: &str| {
        let binary = env!("CARGO_BIN_EXE_kubectl-mysql");
        let out = std::process::Command::new("script")
            .args(["-qec", &format!("{binary} {args}"), "/dev/null"])
            .env("COLUMNS", "100")
            .env("TERM", "xterm")
            .env_remove("NO_COLOR")
            .output()
            .expect("script (util-linux)");
        assert!(out.status.success(), "{}", text(&out));
        String::from_utf8_lossy(&out.stdout).replace('\r', "")
    };
    let strip = |s: &str| {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c == '\u{1b}' {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    };
    let raw = in_terminal(&format!("status db -n {ns}"));
    assert!(raw.contains("\u{1b}["), "no colour in a terminal:\n{raw}");
    let shown = strip(&raw);
    let mut tables = 0;
    let mut widths: Vec<usize> = Vec::new();
    for line in shown.lines() {
        if line.starts_with('┌') {
            widths.clear();
        }
        if ['┌', '│', '╞', '├', '└']
            .iter()
            .any(|c| line.starts_with(*c))
        {
            widths.push(line.chars().count());
        }
        if line.starts_with('└') {
            tables += 1;
            assert!(
                widths.iter().all(|w| *w == widths[0]),
                "ragged table:\n{shown}"
            );
            assert!(widths[0] <= 100, "wider than the terminal:\n{shown}");
        }
    }
    assert!(tables >= 3, "{shown}");
    assert!(shown.contains("Backups: none"), "{shown}");

    let list = strip(&in_terminal(&format!("status -n {ns}")));
    assert!(!list.contains('│'), "a list is plain columns:\n{list}");
    let header = list.lines().next().unwrap();
    let column = header.find("READY").unwrap();
    let row = list.lines().find(|l| l.contains(" db ")).unwrap();
    assert_eq!(
        &row[column..column + 3],
        "yes",
        "READY is not under its header:\n{list}"
    );
}

/// `status --watch -o json` prints one document when it starts and another after each
/// change (a watch, not polling), until it is stopped.
#[tokio::test]
async fn status_watch_prints_a_document_per_change() {
    let client = cluster().await;
    install_crds();
    let ns = namespace(&client, "watch").await;
    let _operator = Operator::start(&[&ns]);
    let created = mysql_with_stdin(&["create", "db", "-n", &ns, "--password-stdin"], "pw\n");
    assert!(created.status.success(), "{}", text(&created));
    let mut watching = std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-mysql"))
        .args(["status", "db", "-n", &ns, "--watch", "-o", "json"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = watching.stdout.take().unwrap();
    let (lines, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let next = |what: &str| -> serde_json::Value {
        let line = received
            .recv_timeout(std::time::Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("no document for {what}"));
        serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("not one JSON document ({e}): {line}"))
    };
    let first = next("the start");
    assert_eq!(first["phase"], "Ready", "{first}");
    assert!(first["backups"].as_array().unwrap().is_empty());
    let backup = mysql(&["backup", "db", "-n", &ns, "--timeout", "90s"]);
    assert!(backup.status.success(), "{}", text(&backup));
    let mut seen = first;
    while seen["backups"].as_array().unwrap().is_empty()
        || seen["backups"][0]["phase"] != "Succeeded"
    {
        seen = next("the backup");
    }
    watching.kill().unwrap();
    let _ = watching.wait();
}

/// `connect` refuses an instance that is not Ready, in one line.
#[tokio::test]
async fn connect_refuses_an_instance_that_is_not_ready() {
    let client = cluster().await;
    install_crds();
    let ns = namespace(&client, "connect").await;
    let created = mysql_with_stdin(
        &[
            "create",
            "idle",
            "-n",
            &ns,
            "--password-stdin",
            "--wait=false",
        ],
        "pw\n",
    );
    assert!(created.status.success(), "{}", text(&created));
    one_line_failure(
        &mysql(&["connect", "idle", "-n", &ns, "--", "-e", "select 1"]),
        "idle is not Ready",
    );
}

/// Bad input that names something missing is refused before anything is written: one
/// line, exit 1, nothing left behind.
#[tokio::test]
async fn commands_check_what_they_name_before_writing() {
    let client = cluster().await;
    install_crds();
    let ns = namespace(&client, "badinput").await;

    let create = mysql_with_stdin(
        &[
            "create",
            "shop",
            "-n",
            &ns,
            "--password-stdin",
            "--restore-from",
            "shop-20990101-000000",
            "--wait=false",
        ],
        "pw\n",
    );
    one_line_failure(&create, "MySQLBackup shop-20990101-000000 not found");
    let left = kubectl(&["get", "mysql,secret", "-n", &ns, "-o", "name"]);
    assert!(left.status.success(), "{}", text(&left));
    let left = String::from_utf8_lossy(&left.stdout);
    assert!(
        !left.contains("mysql.otus.homework/shop") && !left.contains("shop-root-password"),
        "left behind: {left}"
    );

    let list = mysql(&["backup", "nosuch", "--list", "-n", &ns]);
    one_line_failure(&list, "MySQL nosuch not found");

    for image in ["", "   ", "kubectl mysql:1"] {
        let install = mysql(&["install-operator", "--image", image, "--dry-run"]);
        one_line_failure(&install, "--image");
    }
}
