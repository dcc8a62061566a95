//! Backups taken while sysbench writes: `oltp_write_only` deletes and inserts a row in
//! the same transaction, so every table keeps its prepared row count in any consistent
//! snapshot. A backup of each method, taken mid-load and restored, must count exactly
//! that; a torn copy counts a row more or less.
//!
//! Included from tests/real_node.rs (`#[path = "real_node/under_load.rs"] mod under_load;`):
//! the helpers are that file's.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::common::kubectl;
use super::{
    BucketInstance, DATABASE, INSTANCE, course_instance_in_bucket, ok, on_instance, server_value,
    wait_ready, wait_until,
};

const TABLES: u32 = 2;
const TABLE_ROWS: u32 = 5000;

/// The server pod's address (a physical restore starts a new pod).
fn server_ip(ns: &str) -> String {
    ok(
        kubectl(&[
            "get",
            "pods",
            "-n",
            ns,
            "-l",
            &format!("app={INSTANCE}"),
            "-o",
            "jsonpath={.items[0].status.podIP}",
        ]),
        "the server pod's address",
    )
}

/// sysbench from the node, as root on the server pod's address; its report goes to
/// `report` when given.
fn sysbench(ns: &str, args: &[&str], report: Option<&std::path::Path>) -> Command {
    let mut command = Command::new("sysbench");
    command
        .args([
            "--db-driver=mysql",
            "--mysql-user=root",
            "--mysql-password=otuspassword",
            &format!("--mysql-db={DATABASE}"),
            &format!("--mysql-host={}", server_ip(ns)),
            &format!("--tables={TABLES}"),
            &format!("--table-size={TABLE_ROWS}"),
        ])
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null());
    match report {
        Some(path) => command.stdout(std::fs::File::create(path).unwrap()),
        None => command.stdout(Stdio::null()),
    };
    command
}

/// The seconds of sysbench's report that wrote something (`tps` above 0).
fn writing_seconds(report: &std::path::Path) -> usize {
    std::fs::read_to_string(report)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            l.split("tps: ")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse::<f64>()
                .ok()
        })
        .filter(|tps| *tps > 0.0)
        .count()
}

/// Takes a backup while the write load runs; returns its record's name.
fn backup_under_load(ns: &str, method: &str) -> String {
    let report = std::env::temp_dir().join(format!("{ns}-{method}-sysbench.log"));
    let mut load: Child = sysbench(
        ns,
        &[
            "--threads=2",
            "--time=600",
            "--report-interval=1",
            "oltp_write_only",
            "run",
        ],
        Some(&report),
    )
    .spawn()
    .expect("sysbench (Debian's) runs from the node");
    // The load is writing before the backup starts.
    wait_until(
        Duration::from_secs(60),
        "sysbench to write",
        || match writing_seconds(&report) {
            0 => Err(std::fs::read_to_string(&report).unwrap_or_default()),
            _ => Ok(()),
        },
    );
    let before = writing_seconds(&report);
    let backup = kubectl(&["mysql", "backup", INSTANCE, "-n", ns, "--wait"]);
    let during = writing_seconds(&report) - before;
    let _ = load.kill();
    let _ = load.wait();
    ok(
        backup,
        &format!("kubectl mysql backup --wait ({method}, under load)"),
    );
    assert!(during > 0, "no write during the {method} backup");
    let _ = std::fs::remove_file(&report);
    ok(
        kubectl(&[
            "get",
            "mysqlbackups",
            "-n",
            ns,
            "--sort-by=.metadata.creationTimestamp",
            "-o",
            "jsonpath={.items[-1:].metadata.name}",
        ]),
        "the newest backup",
    )
}

fn table_counts(ns: &str) -> Vec<String> {
    (1..=TABLES)
        .map(|t| server_value(ns, &format!("SELECT COUNT(*) FROM sbtest{t}")))
        .collect()
}

#[tokio::test]
async fn real_node_backups_under_write_load_restore_a_consistent_snapshot() {
    let BucketInstance {
        ns, operator_ns, ..
    } = course_instance_in_bucket("real-load", "load", "").await;
    let prepared = sysbench(&ns, &["oltp_write_only", "prepare"], None)
        .status()
        .expect("sysbench (Debian's) runs from the node");
    assert!(prepared.success(), "sysbench prepare");
    let exact = vec![TABLE_ROWS.to_string(); TABLES as usize];
    assert_eq!(table_counts(&ns), exact);

    for method in ["logical", "physical"] {
        let generation = ok(
            on_instance(
                "patch",
                &ns,
                &[
                    "--type=merge",
                    "-p",
                    &format!(r#"{{"spec":{{"backup":{{"method":"{method}"}}}}}}"#),
                    "-o",
                    "jsonpath={.metadata.generation}",
                ],
            ),
            "set the backup method",
        );
        // The operator has seen the method before the backup is asked for.
        wait_until(Duration::from_secs(60), "the method observed", || {
            let seen = ok(
                on_instance("get", &ns, &["-o", "jsonpath={.status.observedGeneration}"]),
                "the observed generation",
            );
            (seen.trim() == generation.trim()).then_some(()).ok_or(seen)
        });
        let record = backup_under_load(&ns, method);
        ok(
            super::restore_from(&ns, &record),
            &format!("kubectl mysql restore --from the {method} backup taken under load"),
        );
        wait_ready(&ns);
        assert_eq!(table_counts(&ns), exact, "{method}: a consistent snapshot");
    }

    super::tear_down(&ns, &operator_ns, "120s");
}
