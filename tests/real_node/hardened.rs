//! A hardened cluster on the real node: a namespace whose Pod Security admission
//! enforces `restricted`, the data on a volume from a real dynamic provisioner
//! (rancher's local-path-provisioner, StorageClass `local-path`), backups to the real
//! S3 server. The course's flow keeps its rows there, mysqld runs as the image's mysql
//! user (its process's uid, read on the node), and the spec's memory limit and
//! settings reach the server.
//!
//! Included from tests/real_node.rs: the helpers are that file's.

use std::time::Duration;

use super::common::{self, kubectl, kubectl_with_stdin, text};
use super::{
    INSTANCE, course_cr_in_bucket, delete_instance, fill_kept, mysql_exec, ok, operator_and_keys,
    require_real_node, server_value, wait_for_job, wait_ready,
};

const ENFORCE_RESTRICTED: &str = "pod-security.kubernetes.io/enforce=restricted";

/// The uid mysqld runs as on the node: its container's process, found by the
/// container's id in the processes' cgroups.
fn mysqld_uid_on_the_node(ns: &str) -> u32 {
    let id = ok(
        kubectl(&[
            "get",
            "pods",
            "-n",
            ns,
            "-l",
            &format!("app={INSTANCE}"),
            "-o",
            "jsonpath={.items[0].status.containerStatuses[?(@.name==\"mysql\")].containerID}",
        ]),
        "the server container's id",
    );
    let id = id.trim().trim_start_matches("containerd://").to_string();
    assert!(!id.is_empty(), "no container id");
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let path = entry.path();
        let in_container =
            std::fs::read_to_string(path.join("cgroup")).is_ok_and(|c| c.contains(&id));
        let command = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        if in_container && command.trim() == "mariadbd" {
            let status = std::fs::read_to_string(path.join("status")).unwrap();
            let uids = status
                .lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .expect("a Uid line");
            // Real, effective, saved and filesystem uids: all must be the same one.
            let all: Vec<u32> = uids
                .split_whitespace()
                .map(|u| u.parse().unwrap())
                .collect();
            assert!(all.iter().all(|u| *u == all[0]), "{uids}");
            return all[0];
        }
    }
    panic!("no mariadbd process in container {id} on the node");
}

/// The mariadb client in the server's container, over TCP to the Service's name (as a
/// client elsewhere would), logged in by the option file, with `flags`.
fn mariadb_over_tcp(ns: &str, flags: &[&str], sql: &str) -> std::process::Output {
    let deploy = format!("deploy/{INSTANCE}");
    let mut args = vec![
        "exec",
        "-n",
        ns,
        &deploy,
        "-c",
        "mysql",
        "--",
        "mariadb",
        "--defaults-extra-file=/etc/mysql-credentials/client.cnf",
        "--host",
        INSTANCE,
        "-N",
        "-B",
    ];
    args.extend_from_slice(flags);
    args.extend(["-e", sql]);
    kubectl(&args)
}

/// A field of the server's certificate Secret (empty while it does not exist).
fn certificate_field(ns: &str, path: &str) -> String {
    let out = kubectl(&[
        "get",
        "secret",
        &format!("{INSTANCE}-tls"),
        "-n",
        ns,
        "-o",
        &format!("jsonpath={path}"),
    ]);
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn count(ns: &str) -> String {
    let out = ok(
        mysql_exec(ns, "otuspassword", "SELECT COUNT(*) FROM kept"),
        "count the rows",
    );
    out.lines().last().unwrap_or_default().trim().to_string()
}

#[tokio::test]
async fn real_node_restricted_namespace_with_a_real_provisioner() {
    require_real_node();
    let s3 = common::S3::from_env();
    let client = common::cluster().await;
    let ns = common::namespace(&client, "real-restricted").await;
    ok(
        kubectl(&["label", "namespace", &ns, ENFORCE_RESTRICTED]),
        "enforce restricted",
    );
    let operator_ns = operator_and_keys(&ns, &s3);
    let more = "  storageClassName: local-path\n  resources:\n    requests: {cpu: 100m, memory: 256Mi}\n    limits: {memory: 768Mi}\n  mysqlConfig:\n    max_connections: 77\n  mysqlConfigMapName: db-tuning\n  tls:\n    requireSecureTransport: true\n";
    let cr = course_cr_in_bucket(&s3, "restricted", "")
        .replace("  backup:\n", &format!("{more}  backup:\n"));
    assert!(cr.contains("local-path"), "{cr}");
    tuning_config_map(&ns);
    ok(
        kubectl_with_stdin(&["apply", "-n", &ns, "-f", "-"], &cr),
        "the course's CR with a StorageClass, resources and settings",
    );
    wait_ready(&ns);

    // The provisioner made the volume; mysqld runs as mysql (999), not root.
    let volume = ok(
        kubectl(&[
            "get",
            "pvc",
            &format!("{INSTANCE}-pvc"),
            "-n",
            &ns,
            "-o",
            "jsonpath={.spec.volumeName}",
        ]),
        "the data claim's volume",
    );
    let provisioned_by = ok(
        kubectl(&[
            "get",
            "pv",
            volume.trim(),
            "-o",
            "jsonpath={.metadata.annotations.pv\\.kubernetes\\.io/provisioned-by}",
        ]),
        "who provisioned the volume",
    );
    assert_eq!(provisioned_by, "rancher.io/local-path");
    assert_eq!(mysqld_uid_on_the_node(&ns), 999);

    // The memory limit sized the buffer pool (half of 768Mi); the setting arrived.
    assert_eq!(
        server_value(&ns, "SELECT @@innodb_buffer_pool_size"),
        (384u64 << 20).to_string()
    );
    assert_eq!(server_value(&ns, "SELECT @@max_connections"), "77");
    assert_eq!(server_value(&ns, "SELECT @@wait_timeout"), "321");

    // TLS: the server's name verifies against the CA the operator issued; a plain
    // connection over the network is refused.
    let cipher = ok(
        mariadb_over_tcp(
            &ns,
            &["--ssl-ca=/etc/mysql-tls/ca.crt", "--ssl-verify-server-cert"],
            "SHOW SESSION STATUS LIKE 'Ssl_cipher'",
        ),
        "a verified TLS connection to the Service name",
    );
    assert!(
        cipher.split_whitespace().nth(1).is_some(),
        "no cipher: {cipher}"
    );
    // `kubectl mysql connect` too goes over TLS to the server's name, verified.
    let connected = ok(
        kubectl(&[
            "mysql",
            "connect",
            INSTANCE,
            "-n",
            &ns,
            "--",
            "-N",
            "-B",
            "-e",
            "SHOW SESSION STATUS LIKE 'Ssl_cipher'",
        ]),
        "kubectl mysql connect over TLS",
    );
    assert!(
        connected.split_whitespace().nth(1).is_some(),
        "no cipher: {connected}"
    );
    // The same login without TLS: MariaDB 10.11 refuses it as a failed login (1045),
    // MySQL names the transport (3159); the TLS login just above is the control.
    let plain = mariadb_over_tcp(&ns, &["--skip-ssl"], "SELECT 1");
    assert!(!plain.status.success(), "a plain connection was accepted");
    let said = text(&plain);
    assert!(
        said.contains("ERROR 1045") || said.contains("insecure transport"),
        "{said}"
    );

    // The course's flow with real rows: a backup to the bucket, the deletion's final
    // backup, and the restore on create, each Job admitted under restricted.
    fill_kept(&ns, 300);
    ok(
        kubectl(&["mysql", "backup", INSTANCE, "-n", &ns, "--wait"]),
        "kubectl mysql backup --wait",
    );
    // A certificate renewed (here: its Secret deleted, so the operator issues a new
    // one from the same CA): the server restarts to present it, said in an Event, and
    // keeps every row.
    let before = certificate_field(&ns, "{.metadata.uid}");
    ok(
        kubectl(&["delete", "secret", &format!("{INSTANCE}-tls"), "-n", &ns]),
        "delete the certificate",
    );
    super::wait_until(Duration::from_secs(120), "a new certificate", || {
        let now = certificate_field(&ns, "{.metadata.uid}");
        if !now.is_empty() && now != before {
            Ok(())
        } else {
            Err(now)
        }
    });
    super::wait_until(Duration::from_secs(120), "a ServerRestarting Event", || {
        let events = common::events_with_reason(&ns, "ServerRestarting");
        if events.contains("restarts to apply: the TLS certificate") {
            Ok(())
        } else {
            Err(events)
        }
    });
    let renewed = certificate_field(&ns, "{.metadata.resourceVersion}");
    super::wait_until(
        Duration::from_secs(240),
        "one ready server pod with the new certificate",
        || {
            let pods = text(&kubectl(&[
                "get",
                "pods",
                "-n",
                &ns,
                "-l",
                &format!("app={INSTANCE}"),
                "-o",
                "jsonpath={range .items[*]}{.metadata.annotations.mysqls\\.otus\\.homework/certificate-version} {.status.conditions[?(@.type==\"Ready\")].status}{\"\\n\"}{end}",
            ]));
            if pods.trim() == format!("{renewed} True") {
                Ok(())
            } else {
                Err(pods)
            }
        },
    );
    assert_eq!(count(&ns), "300");
    ok(
        mysql_exec(&ns, "otuspassword", "INSERT INTO kept VALUES (300, 'last')"),
        "a row before the deletion",
    );
    delete_instance(&ns, "delete the instance");
    ok(
        kubectl_with_stdin(&["apply", "-n", &ns, "-f", "-"], &cr),
        "the same CR again",
    );
    wait_for_job(&ns, &format!("restore-{INSTANCE}-job"));
    wait_ready(&ns);
    assert_eq!(count(&ns), "301");
    assert_eq!(mysqld_uid_on_the_node(&ns), 999);
    no_pod_refused(&ns);

    let kept = backups_on_a_provisioned_volume_outlive_the_namespace(&ns, &cr);

    super::tear_down(&ns, &operator_ns, "180s");
    let _ = kubectl(&["delete", "pv", &kept, "--wait=false"]);
}

/// `db-tuning`, the ConfigMap of server options the CR names: `wait_timeout` 321.
fn tuning_config_map(ns: &str) {
    ok(
        kubectl(&[
            "create",
            "configmap",
            "db-tuning",
            "-n",
            ns,
            "--from-literal=wait_timeout=321",
        ]),
        "the ConfigMap of server options",
    );
}

/// No pod of `ns` was refused by Pod Security admission (the Job controller's and the
/// ReplicaSet controller's FailedCreate Events say so when one is).
fn no_pod_refused(ns: &str) {
    let refused = common::events_with_reason(ns, "FailedCreate");
    assert!(
        !refused.contains("violates PodSecurity"),
        "a pod was refused: {refused}"
    );
}

/// The backup claim's volume and a field of it.
fn backup_volume_field(ns: &str, path: &str) -> (String, String) {
    let volume = text(&kubectl(&[
        "get",
        "pvc",
        &format!("backup-{INSTANCE}-pvc"),
        "-n",
        ns,
        "-o",
        "jsonpath={.spec.volumeName}",
    ]))
    .trim()
    .to_string();
    if volume.is_empty() {
        return (volume, String::new());
    }
    let field = text(&kubectl(&[
        "get",
        "pv",
        &volume,
        "-o",
        &format!("jsonpath={path}"),
    ]));
    (volume, field.trim().to_string())
}

/// Backups to the backup volume (the course's storage), which the StorageClass
/// provisions here: their Jobs run restricted, the volume is made Retain, and after the
/// whole namespace is deleted and made again, a new instance of the name finds the dump
/// on it and restores every row. Returns the kept volume's name.
fn backups_on_a_provisioned_volume_outlive_the_namespace(ns: &str, cr: &str) -> String {
    ok(
        kubectl(&[
            "patch",
            &format!("mysqls.otus.homework/{INSTANCE}"),
            "-n",
            ns,
            "--type",
            "json",
            "-p",
            r#"[{"op": "remove", "path": "/spec/backup"}]"#,
        ]),
        "back up to the volume instead of the bucket",
    );
    ok(
        kubectl(&["mysql", "backup", INSTANCE, "-n", ns, "--wait"]),
        "a backup to the provisioned backup volume",
    );
    let class = backup_volume_field(ns, "{.spec.storageClassName}").1;
    assert_eq!(
        class, "local-path",
        "the class provisioned the backup volume"
    );
    super::wait_until(
        Duration::from_secs(60),
        "the backup volume made Retain",
        || {
            let (_, policy) = backup_volume_field(ns, "{.spec.persistentVolumeReclaimPolicy}");
            if policy == "Retain" {
                Ok(())
            } else {
                Err(policy)
            }
        },
    );
    let (kept, instance) =
        backup_volume_field(ns, "{.metadata.labels.mysqls\\.otus\\.homework/instance}");
    assert_eq!(instance, INSTANCE);
    ok(
        mysql_exec(
            ns,
            "otuspassword",
            "INSERT INTO kept VALUES (301, 'on the volume')",
        ),
        "a row before the deletion",
    );
    delete_instance(ns, "delete the instance (its final backup to the volume)");
    ok(
        kubectl(&["delete", "namespace", ns, "--timeout=180s"]),
        "delete the whole namespace",
    );
    let phase = text(&kubectl(&[
        "get",
        "pv",
        &kept,
        "-o",
        "jsonpath={.status.phase}",
    ]));
    assert_eq!(
        phase.trim(),
        "Released",
        "the backup volume outlives its namespace"
    );

    ok(kubectl(&["create", "namespace", ns]), "the namespace again");
    ok(
        kubectl(&["label", "namespace", ns, ENFORCE_RESTRICTED]),
        "enforce restricted again",
    );
    tuning_config_map(ns);
    let on_volume = cr.split("  backup:\n").next().unwrap();
    ok(
        kubectl_with_stdin(&["apply", "-n", ns, "-f", "-"], on_volume),
        "the CR again, backups on the volume",
    );
    wait_for_job(ns, &format!("restore-{INSTANCE}-job"));
    wait_ready(ns);
    assert_eq!(count(ns), "302");
    assert_eq!(backup_volume_field(ns, "{.metadata.name}").0, kept);
    assert_eq!(mysqld_uid_on_the_node(ns), 999);
    no_pod_refused(ns);
    kept
}
