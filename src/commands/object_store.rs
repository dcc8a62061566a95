//! `kubectl-mysql object-store …` (hidden): what the backup and restore Jobs run from
//! the operator's image to move dumps to and from S3-compatible storage. The bucket's
//! location comes in flags; the access key pair only from the environment, which the
//! Jobs fill from a Secret (never a literal value).

use std::path::PathBuf;
use std::process::ExitCode;

use kubectl_mysql::binlog::archiver::{Archiver, ServerAddress};
use kubectl_mysql::binlog::fetch::{ReplayFrom, fetch_chain};
use kubectl_mysql::binlog::{DumpPosition, ReplayTarget};
use kubectl_mysql::dialect::dump_position;
use kubectl_mysql::s3::{Finished, S3Credentials, S3Location, Store, Stored, version_in_mark};

/// What an upload prints and leaves in its termination log for the operator.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct UploadReport {
    #[serde(flatten)]
    stored: Stored,
    #[serde(skip_serializing_if = "Option::is_none")]
    binlog_position: Option<DumpPosition>,
    #[serde(skip_serializing_if = "Option::is_none")]
    server_version: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub location: LocationArgs,
    #[command(subcommand)]
    pub action: Action,
}

#[derive(clap::Args, Debug)]
pub struct LocationArgs {
    /// The S3 endpoint URL (empty for AWS).
    #[arg(long, env = "S3_ENDPOINT")]
    pub endpoint: Option<String>,
    /// The bucket.
    #[arg(long, env = "S3_BUCKET")]
    pub bucket: String,
    /// The bucket's region.
    #[arg(long, env = "S3_REGION")]
    pub region: Option<String>,
    /// Path-style URLs (ENDPOINT/BUCKET/KEY), as most self-hosted servers need.
    #[arg(long, env = "S3_PATH_STYLE")]
    pub path_style: bool,
    /// The access key id.
    #[arg(
        long = "access-key-id-from-env",
        env = "AWS_ACCESS_KEY_ID",
        hide = true
    )]
    pub access_key_id: String,
    /// The secret access key.
    #[arg(
        long = "secret-access-key-from-env",
        env = "AWS_SECRET_ACCESS_KEY",
        hide = true,
        hide_env_values = true
    )]
    pub secret_access_key: String,
}

#[derive(clap::Subcommand, Debug)]
pub enum Action {
    /// Compress, checksum and upload a complete dump as it streams in; print what was
    /// stored as JSON.
    Upload {
        /// The dump mysqldump writes: a file, or a pipe it writes into.
        #[arg(long)]
        file: PathBuf,
        /// Where the dump leaves its reason when it fails half-way: the upload's
        /// refusal quotes its last line.
        #[arg(long)]
        dump_errors: Option<PathBuf>,
        /// The file the dumping side writes (with the server's version) once its tool
        /// succeeded: a physical backup's stream has no last line that says so.
        #[arg(long)]
        done_mark: Option<PathBuf>,
        /// The object key.
        #[arg(long)]
        key: String,
        /// Also write the JSON here (the container's termination log).
        #[arg(long)]
        report: Option<PathBuf>,
        /// The server's timeline (its incarnation): with the binary log position the
        /// dump records, it goes in the report for point-in-time recovery.
        #[arg(long)]
        timeline: Option<String>,
        #[command(flatten)]
        pack: super::flags::PackArgs,
    },
    /// Download a dump, verify its checksum and decompress it to a file.
    Download {
        /// The object key.
        #[arg(long)]
        key: String,
        /// Where the dump goes; it appears only once verified.
        #[arg(long)]
        to: PathBuf,
        /// Keep the dump as stored (compressed), checked to decode to a whole dump:
        /// `decompress-dump` streams it into the server.
        #[arg(long)]
        compressed: bool,
    },
    /// List the dumps under a folder of keys.
    List {
        /// The folder (whole path segments: `backups/shop/db`).
        #[arg(long, default_value = "")]
        prefix: String,
    },
    /// Archive the server's binary logs continuously (the sidecar of point-in-time
    /// recovery): every interval, close the current file, upload the closed ones,
    /// purge what the bucket confirmed.
    ArchiveBinlogs(ArchiveArgs),
    /// Download and verify the archived binary logs a restore to a time replays, from
    /// a dump's position to the target, and list them in DIR/order.
    FetchBinlogs(FetchArgs),
    /// Delete a dump and its checksum.
    Delete {
        /// The object key.
        #[arg(long)]
        key: String,
    },
}

#[derive(clap::Args, Debug)]
pub struct ArchiveArgs {
    /// The instance's folder of keys (`PREFIX/NAMESPACE/INSTANCE/`).
    #[arg(long)]
    instance_prefix: String,
    /// The server's incarnation, which its files are numbered within.
    #[arg(long)]
    timeline: String,
    /// Where the server writes its binary logs.
    #[arg(long, default_value = "/var/lib/mysql")]
    datadir: PathBuf,
    /// How often the current file is closed and archived (`60s`, `5m`).
    #[arg(long, default_value = "60s", value_parser = parse_interval)]
    interval: std::time::Duration,
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    #[arg(long, default_value_t = 3306)]
    port: u16,
    /// The server's socket (a directory shared with its container): used instead of
    /// host and port, so that `require_secure_transport` needs no TLS here.
    #[arg(long)]
    socket: Option<PathBuf>,
    /// The root password, as a file (the credentials Secret's `password`).
    #[arg(long, default_value = "/etc/mysql-credentials/password")]
    password_file: PathBuf,
}

#[derive(clap::Args, Debug)]
pub struct FetchArgs {
    #[arg(long)]
    instance_prefix: String,
    #[arg(long)]
    timeline: String,
    /// The binary log the dump's position is in.
    #[arg(long)]
    from_file: String,
    /// The time to restore to (RFC 3339, `2026-12-04T10:14:59Z`), included.
    #[arg(
        long,
        required_unless_present = "before_gtid",
        conflicts_with = "before_gtid"
    )]
    until: Option<jiff::Timestamp>,
    /// The transaction to stop before (left out, with all after it).
    #[arg(long)]
    before_gtid: Option<kubectl_mysql::dialect::Gtid>,
    #[arg(long)]
    to: PathBuf,
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let l = args.location;
    let location = S3Location {
        endpoint: l.endpoint.filter(|e| !e.is_empty()),
        bucket: l.bucket,
        region: l.region.filter(|r| !r.is_empty()),
        path_style: l.path_style,
    };
    let credentials = S3Credentials {
        access_key_id: l.access_key_id,
        secret_access_key: l.secret_access_key,
    };
    let store = Store::connect(&location, &credentials)?;
    match args.action {
        Action::Upload {
            file,
            dump_errors,
            done_mark,
            key,
            report,
            timeline,
            pack,
        } => {
            pack.start(&file, done_mark.as_deref(), dump_errors.as_deref())?;
            let dump = DumpSource {
                file: &file,
                errors: dump_errors.as_deref(),
                done_mark: done_mark.as_deref(),
            };
            upload(&store, dump, &key, report, timeline).await?
        }
        Action::Download {
            key,
            to,
            compressed,
        } => {
            let bytes = if compressed {
                store.download_compressed_dump(&key, &to).await?
            } else {
                store.download_dump(&key, &to).await?
            };
            println!(
                "downloaded s3://{}/{key} to {} ({bytes} bytes, checksum verified)",
                location.bucket,
                to.display()
            );
        }
        Action::List { prefix } => {
            for dump in store.list(&prefix).await? {
                let checksum = if dump.has_checksum {
                    ""
                } else {
                    "  (no checksum)"
                };
                println!(
                    "{}\t{}\t{}{checksum}",
                    dump.key, dump.size_bytes, dump.last_modified
                );
            }
        }
        Action::ArchiveBinlogs(archive) => archive_binlogs(store, archive).await,
        Action::FetchBinlogs(fetch) => fetch_binlogs(&store, fetch).await?,
        Action::Delete { key } => {
            store.delete_dump(&key).await?;
            println!("deleted s3://{}/{key}", location.bucket);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Where a dump streams from, and where it says why it stopped early.
struct DumpSource<'a> {
    file: &'a std::path::Path,
    errors: Option<&'a std::path::Path>,
    done_mark: Option<&'a std::path::Path>,
}

/// Uploads a dump and reports what was stored, with where it stands in its server's
/// binary log when the dump says (`--timeline` given).
async fn upload(
    store: &Store,
    dump: DumpSource<'_>,
    key: &str,
    report: Option<PathBuf>,
    timeline: Option<String>,
) -> anyhow::Result<()> {
    let finished = match dump.done_mark {
        Some(mark) => Finished::ByMark(mark),
        None => Finished::ByMysqldumpsLastLine,
    };
    let (stored, edges) = store
        .upload_dump(dump.file, key, dump.errors, finished)
        .await?;
    // The mark holds the server's version: only that version restores a physical copy.
    let server_version = match dump.done_mark {
        Some(mark) => version_in_mark(mark).await,
        None => None,
    };
    let binlog_position = timeline.and_then(|timeline| {
        dump_position(
            &String::from_utf8_lossy(&edges.head),
            &String::from_utf8_lossy(&edges.tail),
        )
        .map(|position| DumpPosition { timeline, position })
    });
    let json = serde_json::to_string(&UploadReport {
        stored,
        binlog_position,
        server_version,
    })?;
    if let Some(report) = report {
        // The termination log may be absent outside a pod; the line below still says
        // what was stored.
        let _ = std::fs::write(report, &json);
    }
    println!("{json}");
    Ok(())
}

async fn archive_binlogs(store: Store, a: ArchiveArgs) -> ! {
    let archiver = Archiver {
        store,
        instance_prefix: a.instance_prefix,
        timeline: a.timeline,
        datadir: a.datadir,
        interval: a.interval,
        server: ServerAddress {
            host: a.host,
            port: a.port,
            socket: a.socket,
            password_file: a.password_file,
        },
    };
    archiver.run().await
}

async fn fetch_binlogs(store: &Store, f: FetchArgs) -> anyhow::Result<()> {
    let target = match (f.until, f.before_gtid) {
        (Some(until), _) => ReplayTarget::Time(until),
        (None, Some(gtid)) => ReplayTarget::BeforeGtid(gtid),
        (None, None) => anyhow::bail!("--until or --before-gtid is needed"),
    };
    let from = ReplayFrom {
        instance_prefix: f.instance_prefix,
        timeline: f.timeline,
        file: f.from_file,
        target,
    };
    let files = fetch_chain(store, &from, &f.to).await?;
    println!(
        "downloaded and verified {} binary logs to replay up to {target}: {}",
        files.len(),
        files.join(" ")
    );
    Ok(())
}

fn parse_interval(text: &str) -> Result<std::time::Duration, String> {
    kubectl_mysql::api::parse_archive_interval(text)
}
