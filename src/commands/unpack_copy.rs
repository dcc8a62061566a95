//! `kubectl-mysql unpack-copy --from FILE --to DIR` (hidden): what a restore or a
//! verification of a MySQL clone runs from the operator's image before the server's
//! container. The copy was checked against its checksum already (downloaded, or where
//! it lies on the backup volume); this unpacks it into the directory the server then
//! starts on, made afresh. Needs no bucket and no keys.

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The checked, compressed copy (`.clone.tar.zst`).
    #[arg(long)]
    pub from: PathBuf,
    /// The directory it is unpacked into; what an earlier run left there goes first.
    #[arg(long)]
    pub to: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let files = kubectl_mysql::s3::pack::unpack_copy(&args.from, &args.to).map_err(|e| {
        anyhow::anyhow!(
            "cannot unpack {} into {}: {e}",
            args.from.display(),
            args.to.display()
        )
    })?;
    println!(
        "unpacked {} into {} ({files} files)",
        args.from.display(),
        args.to.display()
    );
    Ok(ExitCode::SUCCESS)
}
