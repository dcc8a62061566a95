//! `kubectl-mysql store-dump --file PIPE --to /backup/NAME.xbstream.zst …` (hidden):
//! what a physical backup Job to the backup volume runs from the operator's image
//! beside mariadb-backup (or, for MySQL, packing the clone itself: `--pack-directory`). The copy streams through compression and hashing into a
//! hidden file that takes its final name only once the copy finished (the mark says
//! so), its checksum file first. Needs no bucket and no keys.

use std::path::PathBuf;
use std::process::ExitCode;

use kubectl_mysql::s3::{Finished, store_on_volume, version_in_mark};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The pipe the dumping side writes into.
    #[arg(long)]
    pub file: PathBuf,
    /// Where the dumping side leaves its reason when it fails half-way.
    #[arg(long)]
    pub dump_errors: Option<PathBuf>,
    /// The file the dumping side writes (with the server's version) once its tool
    /// succeeded, before the pipe closes.
    #[arg(long)]
    pub done_mark: PathBuf,
    /// The dump's final path on the backup volume; its name says the compression.
    #[arg(long)]
    pub to: PathBuf,
    /// Also write the JSON report here (the container's termination log).
    #[arg(long)]
    pub report: Option<PathBuf>,
    #[command(flatten)]
    pub pack: super::flags::PackArgs,
}

/// What the operator records of the stored copy (the backup record's status).
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct StoreReport {
    file: String,
    size_bytes: u64,
    sha256: String,
    dump_bytes: u64,
    compression: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    server_version: Option<String>,
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    args.pack.start(
        &args.file,
        Some(&args.done_mark),
        args.dump_errors.as_deref(),
    )?;
    let (stored, _) = store_on_volume(
        &args.file,
        &args.to,
        args.dump_errors.as_deref(),
        Finished::ByMark(&args.done_mark),
    )
    .await?;
    let json = serde_json::to_string(&StoreReport {
        file: stored.key,
        size_bytes: stored.size_bytes,
        sha256: stored.sha256,
        dump_bytes: stored.dump_bytes,
        compression: stored.compression,
        server_version: version_in_mark(&args.done_mark).await,
    })?;
    if let Some(report) = args.report {
        // The termination log may be absent outside a pod; the line below still says
        // what was stored.
        let _ = std::fs::write(report, &json);
    }
    println!("{json}");
    Ok(ExitCode::SUCCESS)
}
