//! The API and the CLI conventions against the real API server.

mod common;

use common::{cluster, install_crds, kubectl, namespace, plugin, text};

fn apply(ns: &str, manifest: &str) -> std::process::Output {
    let path = std::env::temp_dir().join(format!("cr-{ns}-{}.yaml", manifest.len()));
    std::fs::write(&path, manifest).unwrap();
    kubectl(&["apply", "-n", ns, "-f", path.to_str().unwrap()])
}

fn cr(name: &str, spec: &str) -> String {
    format!("apiVersion: otus.homework/v1\nkind: MySQL\nmetadata:\n  name: {name}\nspec:\n{spec}")
}

const GOOD_SPEC: &str = "  image: mysql:8.4\n  database: otus-database\n  password: otuspassword\n  storage_size: 1Gi\n";

#[tokio::test]
async fn install_crd_is_idempotent_and_the_course_cr_applies() {
    let client = cluster().await;
    install_crds();
    install_crds();
    let dry = plugin()
        .args(["install-crd", "--dry-run"])
        .output()
        .unwrap();
    let on_disk =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/crd.yml")).unwrap();
    assert_eq!(String::from_utf8_lossy(&dry.stdout), on_disk);
    let ns = namespace(&client, "course-cr").await;
    let out = kubectl(&[
        "apply",
        "-n",
        &ns,
        "-f",
        concat!(env!("CARGO_MANIFEST_DIR"), "/examples/cr.yml"),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let got = kubectl(&[
        "get",
        "ms",
        "-n",
        &ns,
        "mysql-instance",
        "-o",
        "jsonpath={.spec.storage_size}",
    ]);
    assert_eq!(String::from_utf8_lossy(&got.stdout), "1Gi");
}

#[tokio::test]
async fn invalid_objects_are_rejected_with_their_own_message() {
    let client = cluster().await;
    install_crds();
    let ns = namespace(&client, "invalid-cr").await;
    let long = "a".repeat(52);
    let cases: Vec<(String, &str)> = vec![
        (cr(&long, GOOD_SPEC), "at most 51 characters"),
        (cr("dotted.name", GOOD_SPEC), "DNS-1035 label"),
        (
            cr("bad-size", &GOOD_SPEC.replace("1Gi", "1GB")),
            "positive Kubernetes quantity",
        ),
        (
            cr("zero-size", &GOOD_SPEC.replace("1Gi", "\"0\"")),
            "positive Kubernetes quantity",
        ),
        (
            cr("bad-db", &GOOD_SPEC.replace("otus-database", "\"a b\"")),
            "MySQL database name",
        ),
        (
            cr("empty-image", &GOOD_SPEC.replace("mysql:8.4", "\"\"")),
            "spec.image must not be empty",
        ),
        (
            cr(
                "no-password",
                &GOOD_SPEC.replace("  password: otuspassword\n", ""),
            ),
            "exactly one of spec.password and spec.passwordSecretRef",
        ),
        (
            cr(
                "two-passwords",
                &format!("{GOOD_SPEC}  passwordSecretRef: {{name: s}}\n"),
            ),
            "exactly one of spec.password and spec.passwordSecretRef",
        ),
        (
            cr(
                "no-database",
                &GOOD_SPEC.replace("  database: otus-database\n", ""),
            ),
            "spec.database: Required value",
        ),
        (
            cr("no-servers", &format!("{GOOD_SPEC}  replicas: 0\n")),
            "spec.replicas must be from 1 to 9",
        ),
        (
            cr("negative-servers", &format!("{GOOD_SPEC}  replicas: -2\n")),
            "spec.replicas must be from 1 to 9",
        ),
        (
            cr(
                "locked-option",
                &format!(
                    "{GOOD_SPEC}  mysqlConfig:\n    max_connections: 200\n    loose-Server-Id: 7\n"
                ),
            ),
            "spec.mysqlConfig.loose-Server-Id is set by the operator",
        ),
        (
            cr(
                "no-binlog",
                &format!("{GOOD_SPEC}  mysqlConfig:\n    skip-log-bin: \"ON\"\n"),
            ),
            "spec.mysqlConfig.skip-log-bin is set by the operator",
        ),
        (
            cr(
                "spaced-option",
                &format!("{GOOD_SPEC}  mysqlConfig:\n    \"max connections\": 1\n"),
            ),
            "spec.mysqlConfig keys are server option names",
        ),
        (
            cr(
                "tiny-memory",
                &format!("{GOOD_SPEC}  resources:\n    limits:\n      memory: 10Mi\n"),
            ),
            "at least 64Mi",
        ),
        (
            cr(
                "zero-cpu",
                &format!("{GOOD_SPEC}  resources:\n    requests:\n      cpu: 0\n"),
            ),
            "positive quantity such as 500m",
        ),
        (
            cr(
                "tls-option",
                &format!("{GOOD_SPEC}  mysqlConfig:\n    ssl-cert: /x.pem\n"),
            ),
            "spec.mysqlConfig.ssl-cert is set by the operator",
        ),
        (
            cr(
                "inverted-memory",
                &format!(
                    "{GOOD_SPEC}  resources:\n    requests:\n      memory: 2Gi\n    limits:\n      memory: 1Gi\n"
                ),
            ),
            "requests.memory must not exceed",
        ),
    ];
    // What those refusals allow: numbers or text, tuning options, scheduling fields.
    let tuned = format!(
        "{GOOD_SPEC}  resources:\n    requests: {{cpu: 1, memory: 512Mi}}\n    limits: {{cpu: 2, memory: 1Gi}}\n  mysqlConfig:\n    max_connections: 200\n    sql_mode: STRICT_ALL_TABLES\n    innodb-buffer-pool-size: 256M\n  nodeSelector: {{disk: ssd}}\n  tolerations: [{{key: dedicated, operator: Exists}}]\n  affinity: {{nodeAffinity: {{}}}}\n  priorityClassName: databases\n  tls: {{secretName: db-cert, requireSecureTransport: true}}\n  updatePolicy: manual\n"
    );
    let out = apply(&ns, &cr("tuned", &tuned));
    assert!(out.status.success(), "{}", text(&out));
    // Replication and the binlog archiver keep working where plain connections are
    // refused: required TLS goes with replicas and point-in-time recovery.
    let required = format!(
        "{GOOD_SPEC}  replicas: 3\n  tls:\n    requireSecureTransport: true\n  backup:\n    storage:\n      s3: {{endpoint: http://s3:9000, bucket: dumps, credentialsSecret: {{name: k}}}}\n    pointInTime: {{enabled: true}}\n"
    );
    let out = apply(&ns, &cr("tls-replicas", &required));
    assert!(out.status.success(), "{}", text(&out));
    for (manifest, expected) in cases {
        let out = apply(&ns, &manifest);
        let said = text(&out);
        assert!(!out.status.success(), "accepted:\n{manifest}");
        assert!(
            said.contains(expected),
            "expected {expected:?} for:\n{manifest}\ngot: {said}"
        );
    }
}

/// Fields the server cannot follow are refused at admission with what to do instead;
/// the fields it does follow (image, password, size) still change.
#[tokio::test]
async fn fixed_fields_are_refused_with_their_reason() {
    let client = cluster().await;
    install_crds();
    let ns = namespace(&client, "fixed-fields").await;
    let with_class = format!("{GOOD_SPEC}  storageClassName: fast\n");
    for (name, spec) in [("hostpath", GOOD_SPEC), ("dynamic", with_class.as_str())] {
        let out = apply(&ns, &cr(name, spec));
        assert!(out.status.success(), "{}", text(&out));
    }
    let refused = [
        (
            "hostpath",
            r#"{"spec":{"database":"other"}}"#,
            "spec.database cannot change",
        ),
        (
            "hostpath",
            r#"{"spec":{"storageClassName":"fast"}}"#,
            "spec.storageClassName cannot change",
        ),
        (
            "dynamic",
            r#"{"spec":{"storageClassName":"slow"}}"#,
            "spec.storageClassName cannot change",
        ),
        (
            "dynamic",
            r#"{"spec":{"storageClassName":null}}"#,
            "spec.storageClassName cannot change",
        ),
    ];
    for (name, patch, expected) in refused {
        let out = kubectl(&[
            "patch", "ms", name, "-n", &ns, "--type", "merge", "-p", patch,
        ]);
        let said = text(&out);
        assert!(!out.status.success(), "{name} accepted {patch}");
        assert!(said.contains(expected), "{patch}: {said}");
        assert!(said.contains("--restore-from"), "says what to do: {said}");
    }
    let allowed = r#"{"spec":{"image":"mysql:8.4.1","password":"new","storage_size":"2Gi"}}"#;
    let out = kubectl(&[
        "patch", "ms", "hostpath", "-n", &ns, "--type", "merge", "-p", allowed,
    ]);
    assert!(out.status.success(), "{}", text(&out));
}

#[tokio::test]
async fn help_through_kubectl_lists_the_subcommands() {
    let out = kubectl(&["mysql", "--help"]);
    assert!(out.status.success(), "{}", text(&out));
    let help = text(&out);
    for sub in [
        "install-crd",
        "create",
        "status",
        "backup",
        "restore",
        "run-operator",
        "completion",
        "version",
    ] {
        assert!(help.contains(sub), "{sub} missing from:\n{help}");
    }
    let version = kubectl(&["mysql", "version"]);
    assert!(text(&version).starts_with("kubectl-mysql "));
}

#[tokio::test]
async fn plugin_completion_offers_instance_names() {
    let client = cluster().await;
    install_crds();
    let ns = namespace(&client, "complete").await;
    assert!(apply(&ns, &cr("alpha-db", GOOD_SPEC)).status.success());
    let out = std::process::Command::new("kubectl_complete-mysql")
        .args(["status", "-n", &ns, "al"])
        .output()
        .unwrap();
    let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(lines, vec!["alpha-db".to_string(), ":4".to_string()]);
    let out = std::process::Command::new("kubectl_complete-mysql")
        .arg("ba")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "backup\n:4\n");
}

#[tokio::test]
async fn errors_are_one_line_with_exit_code_1() {
    let client = cluster().await;
    install_crds();
    let ns = namespace(&client, "errors").await;
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["status", "nope", "-n", &ns], "not found"),
        (vec!["backup", "nope", "-n", &ns], "not found"),
        (vec!["restore", "nope", "-n", &ns, "--yes"], "not found"),
        (
            vec!["create", "Bad_Name", "--generate-password", "-n", &ns],
            "invalid name",
        ),
        (
            vec![
                "create",
                "db",
                "--generate-password",
                "--storage-size",
                "lots",
                "-n",
                &ns,
            ],
            "invalid storage size",
        ),
    ];
    for (args, expected) in cases {
        let out = plugin().args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(
            stderr.trim_end().lines().count(),
            1,
            "{args:?} printed more than one line: {stderr}"
        );
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"));
    }
    // Nothing was half-created by the failed creates.
    let left = kubectl(&["get", "ms,secrets", "-n", &ns, "-o", "name"]);
    assert!(
        !String::from_utf8_lossy(&left.stdout).contains("mysql"),
        "{}",
        text(&left)
    );
    // Usage errors exit 2.
    assert_eq!(
        plugin()
            .args(["status", "--no-such-flag"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(2)
    );
}

#[tokio::test]
async fn unreachable_cluster_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kubeconfig");
    std::fs::write(&config, "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:9'}\nusers:\n- name: u\n  user: {token: x}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\n").unwrap();
    let out = plugin()
        .args(["status", "x", "--kubeconfig", config.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("cannot reach the Kubernetes API server"),
        "{stderr}"
    );
}
