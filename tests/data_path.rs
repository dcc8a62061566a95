//! The scripts our Jobs run, proven against a real MariaDB server (Debian's packages,
//! installed by tests/run). Each test starts its own server on 127.0.0.1 with a
//! throwaway datadir, takes the exact script out of the rendered Job, and runs it with
//! the environment the pod would get: the host points at the local server and the
//! backup volume is a temp directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use k8s_openapi::api::batch::v1::Job;
use kubectl_mysql::api::{MySQL, MySQLSpec, ScanReport};
use kubectl_mysql::manifests;
use kubectl_mysql::names::InstanceNames;
use kubectl_mysql::render::{InstanceContext, Renderer};

const ROOT_PASSWORD: &str = "Sup3r-secret'pw\\x";
const DATABASE: &str = "otus-database";

struct Server {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

fn binary(names: &[&str]) -> PathBuf {
    for name in names {
        for dir in ["/usr/sbin", "/usr/bin", "/usr/local/bin"] {
            let path = Path::new(dir).join(name);
            if path.exists() {
                return path;
            }
        }
    }
    let message = format!(
        "MariaDB is not installed ({names:?} not found); tests/run installs mariadb-server and mariadb-client"
    );
    panic!("{message}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Server {
    /// A fresh server whose root (@localhost and @'%', as in the official image) has
    /// ROOT_PASSWORD, with an empty DATABASE.
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let tmp = dir.path().join("tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        // Concurrent bootstraps collide on temporary tables: one at a time.
        static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let guard = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
        let install = Command::new(binary(&["mariadb-install-db", "mysql_install_db"]))
            .env("TMPDIR", &tmp)
            .args([
                "--no-defaults",
                &format!("--datadir={}", data.display()),
                "--user=root",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ])
            .output()
            .unwrap();
        drop(guard);
        assert!(
            install.status.success(),
            "mariadb-install-db failed: {}",
            String::from_utf8_lossy(&install.stderr)
        );
        let port = free_port();
        let socket = dir.path().join("sock");
        let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
        let child = Command::new(binary(&["mariadbd", "mysqld"]))
            .args([
                "--no-defaults".to_string(),
                format!("--datadir={}", data.display()),
                format!("--socket={}", socket.display()),
                format!("--port={port}"),
                "--bind-address=127.0.0.1".into(),
                "--user=root".into(),
                "--skip-name-resolve".into(),
                format!("--pid-file={}", dir.path().join("pid").display()),
                "--innodb-buffer-pool-size=32M".into(),
                format!("--tmpdir={}", tmp.display()),
            ])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let server = Self { child, port, dir };
        let started = Instant::now();
        loop {
            let ping = Command::new("mysqladmin")
                .args([
                    "--no-defaults",
                    &format!("--socket={}", socket.display()),
                    "-uroot",
                    "ping",
                ])
                .output()
                .unwrap();
            if ping.status.success() {
                break;
            }
            let log =
                std::fs::read_to_string(server.dir.path().join("server.log")).unwrap_or_default();
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "MariaDB did not start: {log}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        let escaped = ROOT_PASSWORD.replace('\\', "\\\\").replace('\'', "''");
        // Only root@localhost and root@'%' stay, as in the official image; the bootstrap
        // may also create root@127.0.0.1 and anonymous users, which would shadow '%'.
        let socket_arg = format!("--socket={}", socket.display());
        let extra = Command::new("mysql")
            .args(["--no-defaults", &socket_arg, "-uroot", "--batch", "--skip-column-names", "-e", "SELECT CONCAT('DROP USER `', user, '`@`', host, '`;') FROM mysql.user WHERE NOT (user = 'root' AND host = 'localhost') AND user IN ('root', '')"])
            .output()
            .unwrap();
        let drops = String::from_utf8_lossy(&extra.stdout).into_owned();
        let setup = drops
            + &format!(
                "CREATE USER 'root'@'%' IDENTIFIED BY '{escaped}'; GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION; \
             ALTER USER 'root'@'localhost' IDENTIFIED BY '{escaped}'; CREATE DATABASE `{DATABASE}`;"
            );
        let out = Command::new("mysql")
            .args([
                "--no-defaults",
                &format!("--socket={}", socket.display()),
                "-uroot",
                "-e",
                &setup,
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "setup failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        server
    }

    /// Runs SQL as root over TCP with `password`; the password travels in MYSQL_PWD.
    fn sql_as(&self, password: &str, database: Option<&str>, sql: &str) -> Output {
        let mut cmd = Command::new("mysql");
        cmd.args([
            "--no-defaults",
            "--host=127.0.0.1",
            &format!("--port={}", self.port),
            "--user=root",
            "--batch",
            "--skip-column-names",
            "--default-character-set=utf8mb4",
        ]);
        if let Some(db) = database {
            cmd.arg(db);
        }
        cmd.env("MYSQL_PWD", password)
            .arg("-e")
            .arg(sql)
            .output()
            .unwrap()
    }

    fn sql(&self, sql: &str) -> String {
        let out = self.sql_as(ROOT_PASSWORD, Some(DATABASE), sql);
        assert!(
            out.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The instance's credentials Secrets, as the Jobs mount them.
const CREDENTIALS: &str = "mysql-instance-credentials";
const PENDING_CREDENTIALS: &str = "mysql-instance-credentials-next";

fn context() -> InstanceContext {
    let mut instance = MySQL::new(
        "mysql-instance",
        MySQLSpec {
            image: "mysql:8.4".into(),
            database: DATABASE.into(),
            password: None,
            password_secret_ref: None,
            storage_size: "1Gi".into(),
            storage_class_name: None,
            backup: None,
            replicas: None,
            failover: None,
            ..Default::default()
        },
    );
    instance.metadata.namespace = Some("default".into());
    InstanceContext::new(&instance, &InstanceNames::new("mysql-instance", "default"))
}

struct Run {
    output: Output,
    secrets_in_argv: Vec<String>,
}

impl Run {
    fn ok(&self) -> bool {
        self.output.status.success()
    }
    fn code(&self) -> Option<i32> {
        self.output.status.code()
    }
    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }
}

/// Runs the Job's script under /bin/sh with the pod's environment: literal values as
/// rendered, Secret volumes filled as the kubelet would from `secrets` (Secret name ->
/// password, through the operator's own `credentials_data`), and the host, port, backup
/// directory and waits pointed at this machine. Meanwhile every process's argv is
/// scanned for the secrets.
fn run_job(job: &Job, server_port: u16, backup_dir: &Path, secrets: &BTreeMap<&str, &str>) -> Run {
    let container = &job
        .spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref()
        .unwrap()
        .containers[0];
    let command = container.command.clone().unwrap();
    assert_eq!(command[..2], ["sh".to_string(), "-c".to_string()]);
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(&command[2])
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin");
    for var in container.env.iter().flatten() {
        assert!(
            var.value_from.is_none(),
            "{} comes from a Secret through the environment",
            var.name
        );
        cmd.env(&var.name, var.value.clone().unwrap_or_default());
    }
    let remap = |mount: &str| {
        backup_dir
            .join(mount.trim_start_matches('/'))
            .to_string_lossy()
            .into_owned()
    };
    for mount in container.volume_mounts.iter().flatten() {
        if let Some(var) = container
            .env
            .iter()
            .flatten()
            .find(|v| v.value.as_deref() == Some(mount.mount_path.as_str()))
        {
            std::fs::create_dir_all(remap(&mount.mount_path)).unwrap();
            cmd.env(&var.name, remap(&mount.mount_path));
        }
        let pod = job.spec.as_ref().unwrap().template.spec.as_ref().unwrap();
        let volume = pod.volumes.iter().flatten().find(|v| v.name == mount.name);
        if let Some(secret) = volume.and_then(|v| v.secret.as_ref()) {
            let name = secret.secret_name.as_deref().unwrap();
            let password = secrets
                .get(name)
                .unwrap_or_else(|| panic!("no password for Secret {name}"));
            let dir = remap(&mount.mount_path);
            std::fs::create_dir_all(&dir).unwrap();
            for (key, value) in manifests::credentials_data(password) {
                std::fs::write(Path::new(&dir).join(key), value.0).unwrap();
            }
        }
    }
    cmd.env("MYSQL_HOST", "127.0.0.1")
        .env("MYSQL_TCP_PORT", server_port.to_string())
        .env("WAIT_SECONDS", "4")
        .env("TERMINATION_LOG", backup_dir.join("termination-log"));
    let watched: Vec<String> = secrets.values().map(|s| s.to_string()).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let scanner = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut found = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
                    if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
                        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
                        for secret in &watched {
                            if cmdline.contains(secret.as_str()) && !found.contains(&cmdline) {
                                found.push(cmdline.clone());
                            }
                        }
                    }
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            found
        })
    };
    let output = cmd.output().unwrap();
    stop.store(true, Ordering::Relaxed);
    let secrets_in_argv = scanner.join().unwrap();
    Run {
        output,
        secrets_in_argv,
    }
}

struct Fixture {
    server: Server,
    renderer: Renderer,
    ctx: InstanceContext,
    volume: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        Self {
            server: Server::start(),
            renderer: Renderer::embedded(),
            ctx: context(),
            volume: tempfile::tempdir().unwrap(),
        }
    }

    fn backup(&self, name: &str, password: &str) -> Run {
        let job = manifests::backup_job(&self.renderer, &self.ctx, name).unwrap();
        let run = run_job(
            &job,
            self.server.port,
            self.volume.path(),
            &BTreeMap::from([(CREDENTIALS, password)]),
        );
        assert!(
            run.secrets_in_argv.is_empty(),
            "secret in argv: {:?}",
            run.secrets_in_argv
        );
        run
    }

    fn restore(&self, name: &str) -> Run {
        let job =
            manifests::restore_job(&self.renderer, &self.ctx, name, "backup-mysql-instance-pvc")
                .unwrap();
        let run = run_job(
            &job,
            self.server.port,
            self.volume.path(),
            &BTreeMap::from([(CREDENTIALS, ROOT_PASSWORD)]),
        );
        assert!(
            run.secrets_in_argv.is_empty(),
            "secret in argv: {:?}",
            run.secrets_in_argv
        );
        run
    }

    fn dump_path(&self, name: &str) -> PathBuf {
        self.volume
            .path()
            .join("backup")
            .join(format!("{name}.sql"))
    }

    fn seed_course_rows(&self) {
        self.server.sql("CREATE TABLE test (id smallint unsigned not null auto_increment, name varchar(20) not null, constraint pk_example primary key (id)); INSERT INTO test (id, name) VALUES (null, 'some data'); INSERT INTO test (id, name) VALUES (null, 'some data-2');");
    }

    fn course_count(&self) -> String {
        self.server
            .sql("select count(*) from test where name like 'some data%'")
            .trim()
            .to_string()
    }
}

#[test]
fn the_course_check_survives_backup_drop_and_restore() {
    let f = Fixture::new();
    f.seed_course_rows();
    let backup = f.backup("b1", ROOT_PASSWORD);
    assert!(backup.ok(), "backup failed: {}", backup.stderr());
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(f.volume.path().join("termination-log")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        report["sizeBytes"].as_u64().unwrap(),
        std::fs::metadata(f.dump_path("b1")).unwrap().len()
    );
    f.server.sql(&format!("DROP DATABASE `{DATABASE}`"));
    let out = f.server.sql_as(
        ROOT_PASSWORD,
        None,
        &format!("SHOW DATABASES LIKE '{DATABASE}'"),
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).trim().is_empty(),
        "database still there"
    );
    let restore = f.restore("b1");
    assert!(restore.ok(), "restore failed: {}", restore.stderr());
    assert_eq!(f.course_count(), "2");
}

fn table_checksums(server: &Server) -> String {
    server.sql("SELECT id, name, note, HEX(payload) FROM things ORDER BY id")
        + &server.sql("SELECT * FROM thing_names ORDER BY id")
}

#[test]
fn a_rich_database_round_trips_identically() {
    let f = Fixture::new();
    f.server.sql(
        "CREATE TABLE things (id INT PRIMARY KEY, name VARCHAR(100) CHARACTER SET utf8mb4, note TEXT NULL, payload BLOB NULL) DEFAULT CHARSET=utf8mb4;
         INSERT INTO things VALUES (1, 'Привет, мир', NULL, NULL), (2, '日本語 🐬 ünïcødé', 'quote '' and \\\\ backslash', X'00FF10270A0D'), (3, '', '', X'');
         INSERT INTO things SELECT seq, CONCAT('row-', seq, '-', REPEAT('x', 40)), IF(seq % 7 = 0, NULL, REPEAT('note', 10)), UNHEX(MD5(seq)) FROM seq_10_to_60000;
         CREATE VIEW thing_names AS SELECT id, name FROM things WHERE id <= 100;",
    );
    let before = table_checksums(&f.server);
    assert!(
        before.len() > 3_000_000,
        "the data set should be a few MB, got {} bytes",
        before.len()
    );
    let backup = f.backup("rich", ROOT_PASSWORD);
    assert!(backup.ok(), "{}", backup.stderr());
    f.server.sql("DROP VIEW thing_names; DROP TABLE things;");
    let restore = f.restore("rich");
    assert!(restore.ok(), "{}", restore.stderr());
    assert!(
        table_checksums(&f.server) == before,
        "restored data differs"
    );
}

#[test]
fn password_change_applies_and_a_wrong_current_password_changes_nothing() {
    let f = Fixture::new();
    let new_password = "n3w 'pass\\word\"$(x)";
    let job = manifests::password_job(&f.renderer, &f.ctx, "fp").unwrap();
    let wrong = run_job(
        &job,
        f.server.port,
        f.volume.path(),
        &BTreeMap::from([
            (CREDENTIALS, "not-the-password"),
            (PENDING_CREDENTIALS, new_password),
        ]),
    );
    assert!(
        !wrong.ok(),
        "a change with a wrong current password succeeded"
    );
    assert!(
        wrong.secrets_in_argv.is_empty(),
        "{:?}",
        wrong.secrets_in_argv
    );
    assert!(
        f.server
            .sql_as(ROOT_PASSWORD, None, "SELECT 1")
            .status
            .success(),
        "the old password stopped working"
    );
    assert!(
        !f.server
            .sql_as(new_password, None, "SELECT 1")
            .status
            .success()
    );

    let run = run_job(
        &job,
        f.server.port,
        f.volume.path(),
        &BTreeMap::from([
            (CREDENTIALS, ROOT_PASSWORD),
            (PENDING_CREDENTIALS, new_password),
        ]),
    );
    assert!(run.ok(), "password change failed: {}", run.stderr());
    assert!(run.secrets_in_argv.is_empty(), "{:?}", run.secrets_in_argv);
    assert!(
        !f.server
            .sql_as(ROOT_PASSWORD, None, "SELECT 1")
            .status
            .success(),
        "the old password still works"
    );
    assert!(
        f.server
            .sql_as(new_password, None, "SELECT 1")
            .status
            .success(),
        "the new password is refused"
    );
}

#[test]
fn a_failed_backup_keeps_the_previous_dump_intact_and_restorable() {
    let f = Fixture::new();
    f.seed_course_rows();
    assert!(f.backup("good", ROOT_PASSWORD).ok());
    let good = std::fs::read(f.dump_path("good")).unwrap();

    let wrong = f.backup("bad-password", "wrong-password");
    assert!(!wrong.ok(), "a backup with a wrong password succeeded");
    assert!(
        !f.dump_path("bad-password").exists(),
        "a failed backup left a dump under its final name"
    );

    let job = manifests::backup_job(&f.renderer, &f.ctx, "unreachable").unwrap();
    let unreachable = run_job(
        &job,
        free_port(),
        f.volume.path(),
        &BTreeMap::from([(CREDENTIALS, ROOT_PASSWORD)]),
    );
    assert!(
        !unreachable.ok(),
        "a backup of an unreachable server succeeded"
    );
    assert!(
        unreachable.stderr().contains("not reachable"),
        "{}",
        unreachable.stderr()
    );
    assert!(!f.dump_path("unreachable").exists());
    let leftovers: Vec<_> = std::fs::read_dir(f.volume.path().join("backup"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| n.to_string_lossy().contains("partial"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

    assert_eq!(
        std::fs::read(f.dump_path("good")).unwrap(),
        good,
        "the good dump changed"
    );
    f.server.sql("DROP TABLE test");
    assert!(f.restore("good").ok());
    assert_eq!(f.course_count(), "2");
}

#[test]
fn restoring_without_a_dump_destroys_nothing_and_says_so() {
    let f = Fixture::new();
    f.seed_course_rows();
    let run = f.restore("never-taken");
    assert_eq!(run.code(), Some(2), "{}", run.stderr());
    assert!(run.stderr().contains("no dump"), "{}", run.stderr());
    assert_eq!(f.course_count(), "2");
}

#[test]
fn corrupted_or_truncated_dumps_are_refused_before_anything_is_overwritten() {
    let f = Fixture::new();
    f.seed_course_rows();
    assert!(f.backup("snap", ROOT_PASSWORD).ok());
    let path = f.dump_path("snap");
    let original = std::fs::read(&path).unwrap();
    // The live data now differs from the dump: a restore would roll it back.
    f.server
        .sql("INSERT INTO test (name) VALUES ('added later')");

    let mut corrupted = original.clone();
    let middle = corrupted.len() / 2;
    corrupted[middle] ^= 0x20;
    std::fs::write(&path, &corrupted).unwrap();
    let run = f.restore("snap");
    assert_eq!(
        run.code(),
        Some(3),
        "corruption not detected: {}",
        run.stderr()
    );
    assert!(run.stderr().contains("checksum"), "{}", run.stderr());

    // Truncated, with a checksum recomputed to match: the missing trailer gives it away.
    let truncated = &original[..original.len() / 2];
    std::fs::write(&path, truncated).unwrap();
    let sum = Command::new("sha256sum").arg(&path).output().unwrap();
    let hex = String::from_utf8_lossy(&sum.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    std::fs::write(
        path.with_extension("sql.sha256"),
        format!("{hex}  snap.sql\n"),
    )
    .unwrap();
    let run = f.restore("snap");
    assert_eq!(
        run.code(),
        Some(3),
        "truncation not detected: {}",
        run.stderr()
    );
    assert!(run.stderr().contains("incomplete"), "{}", run.stderr());

    assert_eq!(
        f.server.sql("SELECT COUNT(*) FROM test").trim(),
        "3",
        "the database was touched"
    );
}

/// Dumps found where they lie: the scan Job reports every dump on the volume (complete
/// or not, with a checksum or not), and a course-style dump with no checksum restores
/// only when the operator allows it unverified, and only because it is complete.
#[test]
fn the_scan_finds_dumps_and_a_course_dump_restores_unverified() {
    let f = Fixture::new();
    f.seed_course_rows();
    assert!(f.backup("b1", ROOT_PASSWORD).ok());
    let dir = f.volume.path().join("backup");
    // The course's operator wrote NAME-dump.sql and no checksum; a broken run left a
    // truncated dump.
    let dump = std::fs::read_to_string(f.dump_path("b1")).unwrap();
    std::fs::write(dir.join("mysql-instance-dump.sql"), &dump).unwrap();
    std::fs::write(dir.join("broken.sql"), &dump[..dump.len() / 2]).unwrap();

    let scan = manifests::scan_job(&f.renderer, &f.ctx).unwrap();
    let run = run_job(&scan, f.server.port, f.volume.path(), &BTreeMap::new());
    assert!(run.ok(), "scan failed: {}", run.stderr());
    let text = std::fs::read_to_string(f.volume.path().join("termination-log")).unwrap();
    let report: ScanReport = serde_json::from_str(&text).expect(&text);
    let by_file = |file: &str| report.dumps.iter().find(|d| d.file == file).cloned();
    let b1 = by_file("b1.sql").expect("b1.sql reported");
    assert!(b1.complete);
    assert_eq!(b1.size_bytes as usize, dump.len());
    let checksum = std::fs::read_to_string(dir.join("b1.sql.sha256")).unwrap();
    assert_eq!(
        Some(checksum.split(' ').next().unwrap()),
        b1.sha256.as_deref()
    );
    let course = by_file("mysql-instance-dump.sql").expect("the course's dump reported");
    assert!(course.complete && course.sha256.is_none());
    assert!(!by_file("broken.sql").unwrap().complete);
    assert_eq!(report.dumps.len(), 3, "{text}");

    f.server.sql("DROP TABLE test");
    let restore = |allow_unverified: bool| {
        let job = manifests::restore_job_for(
            &f.renderer,
            &f.ctx,
            "mysql-instance-dump",
            "backup-mysql-instance-pvc",
            allow_unverified,
        )
        .unwrap();
        run_job(
            &job,
            f.server.port,
            f.volume.path(),
            &BTreeMap::from([(CREDENTIALS, ROOT_PASSWORD)]),
        )
    };
    let refused = restore(false);
    assert_eq!(refused.code(), Some(3), "{}", refused.stderr());
    assert!(refused.stderr().contains("no checksum file"));
    let loaded = restore(true);
    assert!(loaded.ok(), "{}", loaded.stderr());
    assert_eq!(f.course_count(), "2");
}
