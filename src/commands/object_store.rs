//! `kubectl-mysql object-store …` (hidden): what the backup and restore Jobs run from
//! the operator's image to move dumps to and from S3-compatible storage. The bucket's
//! location comes in flags; the access key pair only from the environment, which the
//! Jobs fill from a Secret (never a literal value).

use std::path::PathBuf;
use std::process::ExitCode;

use kubectl_mysql::s3::{S3Credentials, S3Location, Store};

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
    /// Compress, checksum and upload a complete dump; print what was stored as JSON.
    Upload {
        /// The dump mysqldump wrote.
        #[arg(long)]
        file: PathBuf,
        /// The object key.
        #[arg(long)]
        key: String,
        /// Also write the JSON here (the container's termination log).
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// Download a dump, verify its checksum and decompress it to a file.
    Download {
        /// The object key.
        #[arg(long)]
        key: String,
        /// Where the decompressed dump goes; it appears only once verified.
        #[arg(long)]
        to: PathBuf,
    },
    /// List the dumps under a folder of keys.
    List {
        /// The folder (whole path segments: `backups/shop/db`).
        #[arg(long, default_value = "")]
        prefix: String,
    },
    /// Delete a dump and its checksum.
    Delete {
        /// The object key.
        #[arg(long)]
        key: String,
    },
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
        Action::Upload { file, key, report } => {
            let stored = store.upload_dump(&file, &key).await?;
            let json = serde_json::to_string(&stored)?;
            if let Some(report) = report {
                // The termination log may be absent outside a pod; the line below
                // still says what was stored.
                let _ = std::fs::write(report, &json);
            }
            println!("{json}");
        }
        Action::Download { key, to } => {
            let bytes = store.download_dump(&key, &to).await?;
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
        Action::Delete { key } => {
            store.delete_dump(&key).await?;
            println!("deleted s3://{}/{key}", location.bucket);
        }
    }
    Ok(ExitCode::SUCCESS)
}
