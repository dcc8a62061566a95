//! The dump mover the backup and restore Jobs run (`kubectl-mysql object-store`),
//! against the real S3 server tests/run starts (versitygw over a directory): what it
//! stores can be read back byte for byte, and every fault (wrong credentials, a
//! missing bucket, an unreachable endpoint, an incomplete dump, a damaged or
//! unchecksummed object) ends in one line, a non-zero exit and nothing lost.

mod common;

use std::path::Path;
use std::process::Output;

use common::S3;
use sha2::{Digest, Sha256};

/// A dump as mysqldump ends one, of about `rows` lines.
fn write_dump(path: &Path, rows: usize) -> Vec<u8> {
    let mut text = String::from("CREATE TABLE t (id int, note text);\n");
    for i in 0..rows {
        text.push_str(&format!("INSERT INTO t VALUES ({i},'row {i}');\n"));
    }
    text.push_str("-- Dump completed on 2026-12-03  9:00:00\n");
    std::fs::write(path, &text).unwrap();
    text.into_bytes()
}

fn unique_prefix(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("tests/{test}-{nanos}")
}

/// Runs `object-store` with the server's location; `secret` stands for the secret key.
fn object_store(s3: &S3, bucket: &str, secret: &str, args: &[&str]) -> Output {
    common::plugin()
        .args([
            "object-store",
            "--endpoint",
            &s3.endpoint,
            "--bucket",
            bucket,
            "--path-style",
        ])
        .args(args)
        .env("AWS_ACCESS_KEY_ID", &s3.access_key)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .output()
        .expect("the plugin runs")
}

fn ok(s3: &S3, args: &[&str]) -> String {
    let out = object_store(s3, &s3.bucket, &s3.secret_key, args);
    assert!(
        out.status.success(),
        "object-store {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A failure: non-zero, and stderr is one line starting with `error:`.
fn fails(out: Output) -> String {
    assert!(!out.status.success(), "expected a failure");
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<_> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line, got: {stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    lines[0].to_string()
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn a_dump_goes_up_zstd_compressed_and_comes_back_verified() {
    round_trip(".sql.zst", &[0x28, 0xb5, 0x2f, 0xfd]);
}

/// Dumps stored before zstd are gzip (`.sql.gz`): they still list, download and verify.
#[test]
fn a_gzip_dump_of_before_still_comes_back_verified() {
    round_trip(".sql.gz", &[0x1f, 0x8b]);
}

/// Uploads a dump under a key with `suffix`, checks the stored object starts with
/// `magic`, lists, downloads and deletes it.
fn round_trip(suffix: &str, magic: &[u8]) {
    let s3 = S3::from_env();
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump.sql");
    let original = write_dump(&dump, 50_000);
    let prefix = unique_prefix("round-trip");
    let key = format!("{prefix}/shop/db/20261203-090000{suffix}");

    let stored: serde_json::Value = serde_json::from_str(&ok(
        &s3,
        &["upload", "--file", dump.to_str().unwrap(), "--key", &key],
    ))
    .unwrap();
    // What the server holds is the compressed dump, and the reported checksum is
    // that of the stored bytes; the checksum object beside it says the same.
    let object = std::fs::read(s3.object_file(&key)).unwrap();
    assert_eq!(&object[..magic.len()], magic, "the format the key names");
    assert!(
        object.len() * 5 < original.len(),
        "compressed: {} bytes",
        object.len()
    );
    assert_eq!(stored["sha256"], sha256_hex(&object));
    assert_eq!(stored["sizeBytes"], object.len() as u64);
    assert_eq!(stored["dumpBytes"], original.len() as u64);
    let checksum = std::fs::read_to_string(s3.object_file(&format!("{key}.sha256"))).unwrap();
    assert_eq!(
        checksum,
        format!("{}  20261203-090000{suffix}\n", sha256_hex(&object))
    );

    let listed = ok(&s3, &["list", "--prefix", &format!("{prefix}/shop/db/")]);
    let lines: Vec<_> = listed.lines().collect();
    assert_eq!(lines.len(), 1, "{listed}");
    assert!(
        lines[0].starts_with(&format!("{key}\t{}\t", object.len())),
        "{listed}"
    );
    assert!(!lines[0].contains("no checksum"), "{listed}");

    let back = dir.path().join("back.sql");
    ok(
        &s3,
        &["download", "--key", &key, "--to", back.to_str().unwrap()],
    );
    assert_eq!(std::fs::read(&back).unwrap(), original);

    ok(&s3, &["delete", "--key", &key]);
    assert!(!s3.object_file(&key).exists());
    assert!(!s3.object_file(&format!("{key}.sha256")).exists());
    assert_eq!(ok(&s3, &["list", "--prefix", &prefix]), "");
}

#[test]
fn an_incomplete_dump_is_never_uploaded() {
    let s3 = S3::from_env();
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump.sql");
    std::fs::write(&dump, "CREATE TABLE t (id int);\nINSERT INTO t VALUES (1").unwrap();
    let key = format!(
        "{}/shop/db/20261203-090000.sql.zst",
        unique_prefix("incomplete")
    );
    let line = fails(object_store(
        &s3,
        &s3.bucket,
        &s3.secret_key,
        &["upload", "--file", dump.to_str().unwrap(), "--key", &key],
    ));
    assert!(line.contains("stopped before its end"), "{line}");
    assert!(!s3.object_file(&key).exists());
    assert!(!s3.object_file(&format!("{key}.sha256")).exists());
}

/// A pipe at `path`, as the backup Job's `pipe` container makes it.
fn make_fifo(path: &Path) {
    let made = std::process::Command::new("mkfifo").arg(path).status();
    assert!(made.unwrap().success(), "mkfifo {}", path.display());
}

/// Writes `text` into the pipe at `path` in small pieces, as mysqldump does, from
/// another thread; the write end closes when the text is out.
fn write_into_pipe(path: &Path, text: Vec<u8>) -> std::thread::JoinHandle<()> {
    let path = path.to_path_buf();
    std::thread::spawn(move || {
        use std::io::Write;
        let mut pipe = std::fs::OpenOptions::new().write(true).open(path).unwrap();
        for piece in text.chunks(4096) {
            pipe.write_all(piece).unwrap();
        }
    })
}

/// The backup Job's path: mysqldump writes into a pipe that the upload reads, so the
/// dump never lies whole on the node's disk, and what comes back is byte for byte it.
#[test]
fn a_dump_streamed_through_a_pipe_is_stored_whole() {
    let s3 = S3::from_env();
    let dir = tempfile::tempdir().unwrap();
    let text = write_dump(&dir.path().join("source.sql"), 200_000);
    let fifo = dir.path().join("dump.fifo");
    make_fifo(&fifo);
    let key = format!("{}/shop/db/20261203-090000.sql.zst", unique_prefix("pipe"));
    let writer = write_into_pipe(&fifo, text.clone());
    let stored: serde_json::Value = serde_json::from_str(&ok(
        &s3,
        &["upload", "--file", fifo.to_str().unwrap(), "--key", &key],
    ))
    .unwrap();
    writer.join().unwrap();
    assert_eq!(stored["dumpBytes"], text.len() as u64);
    assert_eq!(stored["compression"], "zstd");
    let back = dir.path().join("back.sql");
    ok(
        &s3,
        &["download", "--key", &key, "--to", back.to_str().unwrap()],
    );
    assert_eq!(std::fs::read(&back).unwrap(), text);
}

/// A dump that stops half-way (the server went away) closes the pipe early: nothing
/// is stored, and the refusal quotes the dump's own last line.
#[test]
fn a_dump_that_stops_in_the_pipe_is_refused_with_its_reason() {
    let s3 = S3::from_env();
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("dump.fifo");
    make_fifo(&fifo);
    let errors = dir.path().join("dump.errors");
    std::fs::write(
        &errors,
        "mysqldump: Error 2013: Lost connection to server during query when dumping table `t`\n",
    )
    .unwrap();
    let key = format!(
        "{}/shop/db/20261203-090000.sql.zst",
        unique_prefix("stopped")
    );
    let writer = write_into_pipe(
        &fifo,
        b"CREATE TABLE t (id int);\nINSERT INTO t VALUES (1".to_vec(),
    );
    let line = fails(object_store(
        &s3,
        &s3.bucket,
        &s3.secret_key,
        &[
            "upload",
            "--file",
            fifo.to_str().unwrap(),
            "--dump-errors",
            errors.to_str().unwrap(),
            "--key",
            &key,
        ],
    ));
    writer.join().unwrap();
    assert!(line.contains("stopped before its end"), "{line}");
    assert!(line.contains("Lost connection to server"), "{line}");
    assert!(!s3.object_file(&key).exists());
    assert!(!s3.object_file(&format!("{key}.sha256")).exists());
}

#[test]
fn a_damaged_or_unchecksummed_object_is_refused_before_anything_is_written() {
    let s3 = S3::from_env();
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump.sql");
    write_dump(&dump, 20_000);
    let folder = format!("{}/shop/db", unique_prefix("damaged"));
    let key = format!("{folder}/20261203-090000.sql.gz");
    ok(
        &s3,
        &["upload", "--file", dump.to_str().unwrap(), "--key", &key],
    );
    let target = dir.path().join("restored.sql");
    let download = || {
        object_store(
            &s3,
            &s3.bucket,
            &s3.secret_key,
            &["download", "--key", &key, "--to", target.to_str().unwrap()],
        )
    };

    // One byte flipped in the middle of the stored object.
    let file = s3.object_file(&key);
    let mut bytes = std::fs::read(&file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&file, &bytes).unwrap();
    let line = fails(download());
    assert!(line.contains("does not match its checksum"), "{line}");
    assert!(!target.exists(), "nothing is written for a damaged dump");
    assert!(!target.with_extension("partial").exists());

    // Without its checksum object, a dump is not trusted either.
    std::fs::remove_file(s3.object_file(&format!("{key}.sha256"))).unwrap();
    let line = fails(download());
    assert!(line.contains("has no checksum object"), "{line}");
    assert!(!target.exists());
    let listed = ok(&s3, &["list", "--prefix", &folder]);
    assert!(listed.contains("(no checksum)"), "{listed}");
}

#[test]
fn wrong_credentials_a_missing_bucket_and_an_unreachable_endpoint_fail_in_one_line() {
    let s3 = S3::from_env();
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump.sql");
    write_dump(&dump, 100);
    let key = format!("{}/shop/db/20261203-090000.sql.gz", unique_prefix("faults"));
    let upload = ["upload", "--file", dump.to_str().unwrap(), "--key", &key];

    let line = fails(object_store(&s3, &s3.bucket, "not-the-secret", &upload));
    assert!(line.contains("SignatureDoesNotMatch"), "{line}");
    assert!(
        !line.contains("not-the-secret"),
        "the secret is never printed: {line}"
    );
    assert!(!s3.object_file(&key).exists());

    let line = fails(object_store(&s3, "no-such-bucket", &s3.secret_key, &upload));
    assert!(line.contains("NoSuchBucket"), "{line}");

    let unreachable = S3 {
        endpoint: format!("http://127.0.0.1:{}", common::free_port()),
        ..S3::from_env()
    };
    let line = fails(object_store(
        &unreachable,
        &s3.bucket,
        &s3.secret_key,
        &upload,
    ));
    assert!(line.contains("cannot reach"), "{line}");
    assert!(!s3.object_file(&key).exists());
}

/// The restore Job's path: the dump comes down as stored (compressed) and verified,
/// then `decompress-dump` streams it into the pipe the server's client reads, and
/// marks the end before closing it.
#[test]
fn a_compressed_download_streams_into_a_pipe_whole_and_marks_its_end() {
    let s3 = S3::from_env();
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source.sql");
    let text = write_dump(&source, 100_000);
    let key = format!(
        "{}/shop/db/20261203-090000.sql.zst",
        unique_prefix("restore")
    );
    ok(
        &s3,
        &["upload", "--file", source.to_str().unwrap(), "--key", &key],
    );
    let compressed = dir.path().join("dump.compressed");
    let to = compressed.to_str().unwrap();
    ok(
        &s3,
        &["download", "--key", &key, "--to", to, "--compressed"],
    );
    assert_eq!(
        std::fs::read(&compressed).unwrap(),
        std::fs::read(s3.object_file(&key)).unwrap(),
        "kept as stored"
    );

    let fifo = dir.path().join("dump.fifo");
    make_fifo(&fifo);
    let done = dir.path().join("dump.done");
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    let out = common::plugin()
        .args(["decompress-dump", "--file", to, "--into"])
        .arg(&fifo)
        .arg("--done")
        .arg(&done)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(reader.join().unwrap(), text);
    assert_eq!(
        std::fs::read_to_string(&done).unwrap(),
        text.len().to_string()
    );

    // Damaged in the bucket: refused, and nothing is kept.
    let file = s3.object_file(&key);
    let mut bytes = std::fs::read(&file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&file, &bytes).unwrap();
    std::fs::remove_file(&compressed).unwrap();
    let line = fails(object_store(
        &s3,
        &s3.bucket,
        &s3.secret_key,
        &["download", "--key", &key, "--to", to, "--compressed"],
    ));
    assert!(line.contains("does not match its checksum"), "{line}");
    assert!(!compressed.exists());
}

/// A directory as the clone plugin leaves one: data files, a schema folder, its
/// `#clone` state.
fn make_clone(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let files = vec![
        ("ibdata1".to_string(), vec![3u8; 2_000_000]),
        ("shop/orders.ibd".to_string(), b"orders".repeat(50_000)),
        ("#clone/#status_fix".to_string(), Vec::new()),
    ];
    for (name, bytes) in &files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    files
}

/// `upload` of a MySQL clone: the upload packs `clone` into the pipe at `DIR/dump.fifo`
/// itself, with the version at `DIR/server.version`, as the backup Job runs it.
fn clone_upload_args(dir: &Path, clone: &Path, key: &str) -> Vec<String> {
    let path = |name: &str| dir.join(name).to_str().unwrap().to_string();
    vec![
        "upload".into(),
        format!("--file={}", path("dump.fifo")),
        format!("--done-mark={}", path("dump.done")),
        format!("--dump-errors={}", path("dump.errors")),
        format!("--key={key}"),
        format!("--pack-directory={}", clone.to_str().unwrap()),
        format!("--version-file={}", path("server.version")),
    ]
}

/// MySQL's physical backup path (the clone plugin is only unit-tested, no MySQL server
/// runs here; this is the rest of it, for real): the upload packs the clone's
/// directory into the pipe it reads itself, stores it in the real S3 server with the
/// server's version, and removes the clone; the copy comes back checked and unpacks
/// byte for byte, with the version file the restore reads.
#[test]
fn a_clone_is_packed_through_the_pipe_stored_and_unpacks_whole() {
    let s3 = S3::from_env();
    let dir = tempfile::tempdir().unwrap();
    let clone = dir.path().join("clones").join("db-1");
    let files = make_clone(&clone);
    let version = dir.path().join("server.version");
    std::fs::write(&version, "8.4.3\n").unwrap();
    let fifo = dir.path().join("dump.fifo");
    make_fifo(&fifo);
    let key = format!(
        "{}/shop/db/20261206-090000.clone.tar.zst",
        unique_prefix("clone")
    );
    let path = |p: &Path| p.to_str().unwrap().to_string();
    let args = clone_upload_args(dir.path(), &clone, &key);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let stored: serde_json::Value = serde_json::from_str(&ok(&s3, &args)).unwrap();
    assert_eq!(stored["serverVersion"], "8.4.3");
    assert_eq!(stored["compression"], "zstd");
    assert!(!clone.exists(), "the clone goes once stored");

    let compressed = dir.path().join("copy.compressed");
    ok(
        &s3,
        &[
            "download",
            "--key",
            &key,
            "--to",
            &path(&compressed),
            "--compressed",
        ],
    );
    let staging = dir.path().join("restore-staging");
    let out = common::plugin()
        .args([
            "unpack-copy",
            "--from",
            &path(&compressed),
            "--to",
            &path(&staging),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (name, bytes) in &files {
        assert_eq!(&std::fs::read(staging.join(name)).unwrap(), bytes, "{name}");
    }
    assert_eq!(
        std::fs::read_to_string(staging.join("kubectl-mysql-server-version")).unwrap(),
        "8.4.3\n"
    );
}

/// A clone that cannot be packed (its directory is gone: the server's clone failed
/// after the Job's check) stores nothing, says why in one line, and leaves no object.
#[test]
fn a_clone_that_cannot_be_packed_stores_nothing_and_says_why() {
    let s3 = S3::from_env();
    let dir = tempfile::tempdir().unwrap();
    let version = dir.path().join("server.version");
    std::fs::write(&version, "8.4.3\n").unwrap();
    let fifo = dir.path().join("dump.fifo");
    make_fifo(&fifo);
    let key = format!(
        "{}/shop/db/20261206-090000.clone.tar.zst",
        unique_prefix("clone-gone")
    );
    let args = clone_upload_args(dir.path(), &dir.path().join("clones/db-1"), &key);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let line = fails(object_store(&s3, &s3.bucket, &s3.secret_key, &args));
    assert!(line.contains("packing "), "{line}");
    assert!(!s3.object_file(&key).exists());
    assert!(!s3.object_file(&format!("{key}.sha256")).exists());
}

/// An S3 server of its own whose disk is a 1 MiB tmpfs; stopped and unmounted on drop.
struct FullServer {
    dir: tempfile::TempDir,
    s3: S3,
}

impl FullServer {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(
            mounted.success(),
            "mounting a 1 MiB tmpfs needs root (tests/run runs as root)"
        );
        let up =
            std::process::Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cluster/s3/up"))
                .arg(dir.path().join("s3"))
                .output()
                .unwrap();
        assert!(
            up.status.success(),
            "{}",
            String::from_utf8_lossy(&up.stderr)
        );
        let env: std::collections::HashMap<String, String> = String::from_utf8(up.stdout)
            .unwrap()
            .lines()
            .filter_map(|l| l.strip_prefix("export KUBECTL_MYSQL_S3_")?.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let s3 = S3 {
            endpoint: env["ENDPOINT"].clone(),
            bucket: env["BUCKET"].clone(),
            access_key: env["ACCESS_KEY"].clone(),
            secret_key: env["SECRET_KEY"].clone(),
            data: env["DATA"].clone().into(),
        };
        Self { dir, s3 }
    }
}

impl Drop for FullServer {
    fn drop(&mut self) {
        let _ = std::process::Command::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/cluster/s3/down"
        ))
        .arg(self.dir.path().join("s3"))
        .status();
        let _ = std::process::Command::new("umount")
            .arg(self.dir.path())
            .status();
    }
}

/// A bucket whose disk fills up mid-upload fails the backup in one line with the S3
/// server's reason, leaves nothing under the key (nor a checksum), and the backup
/// before it stays restorable.
#[test]
fn a_full_bucket_fails_the_upload_with_the_servers_reason_and_stores_nothing() {
    let server = FullServer::start();
    let s3 = &server.s3;
    let dir = tempfile::tempdir().unwrap();
    // 3 MB that zstd cannot shrink, ended as mysqldump ends a dump.
    let mut dump = vec![0u8; 3_000_000];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom").unwrap(), &mut dump)
        .unwrap();
    dump.extend_from_slice(b"\n-- Dump completed on 2026-12-06  9:00:00\n");
    let source = dir.path().join("dump.sql");
    std::fs::write(&source, &dump).unwrap();
    // The backup before it, small enough to fit.
    let earlier = dir.path().join("earlier.sql");
    let earlier_text = write_dump(&earlier, 100);
    let earlier_key = "shop/db/20261206-080000.sql.zst";
    let upload = |file: &Path, key: &str| {
        object_store(
            s3,
            &s3.bucket,
            &s3.secret_key,
            &["upload", "--file", file.to_str().unwrap(), "--key", key],
        )
    };
    assert!(upload(&earlier, earlier_key).status.success());
    let key = "shop/db/20261206-090000.sql.zst";
    let line = fails(object_store(
        s3,
        &s3.bucket,
        &s3.secret_key,
        &["upload", "--file", source.to_str().unwrap(), "--key", key],
    ));
    assert!(
        line.contains("s3://kubectl-mysql-tests") && line.contains("No space left on device"),
        "{line}"
    );
    assert!(!s3.object_file(key).exists());
    assert!(!s3.object_file(&format!("{key}.sha256")).exists());
    // The backup before it still comes back whole and verified.
    let back = dir.path().join("back.sql");
    let download = object_store(
        s3,
        &s3.bucket,
        &s3.secret_key,
        &[
            "download",
            "--key",
            earlier_key,
            "--to",
            back.to_str().unwrap(),
        ],
    );
    assert!(download.status.success());
    assert_eq!(std::fs::read(back).unwrap(), earlier_text);
}
