//! `kubectl-mysql decompress-dump --file F --into PIPE --done MARK` (hidden): what the
//! S3 restore Job runs from the operator's image beside the server's client. The dump
//! was downloaded compressed and verified; this streams it decompressed into the pipe
//! the client loads from, so the node's disk holds the compressed dump only. Needs no
//! bucket and no keys.

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The verified, compressed dump (zstd or gzip, told by its first bytes).
    #[arg(long)]
    pub file: PathBuf,
    /// The pipe the server's client reads.
    #[arg(long)]
    pub into: PathBuf,
    /// Written once the whole dump is in the pipe, before the pipe closes.
    #[arg(long)]
    pub done: PathBuf,
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let bytes = kubectl_mysql::s3::decompress(&args.file, &args.into, &args.done).await?;
    println!(
        "decompressed {} into {} ({bytes} bytes)",
        args.file.display(),
        args.into.display()
    );
    Ok(ExitCode::SUCCESS)
}
