//! Flags that several subcommands share, each in one flattened struct.

use std::time::Duration;

use clap::Args;

#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Global options")]
pub struct LogArgs {
    /// More log output (-v debug, -vv trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Log format on stderr.
    #[arg(long, value_enum, global = true, default_value = "text")]
    pub log_format: LogFormat,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// The one rule for long operations (create, backup, restore, install-crd,
/// install-operator), kubectl's for `delete`: they wait until done, with progress on a
/// terminal and only the final line elsewhere; `--wait=false` returns at once.
#[derive(Args, Debug, Clone)]
pub struct WaitArgs {
    /// Wait until it is done (the default); --wait=false returns at once.
    #[arg(
        long,
        default_value_t = true,
        num_args = 0..=1,
        default_missing_value = "true",
        action = clap::ArgAction::Set,
        value_name = "BOOL"
    )]
    pub wait: bool,
    /// How long to wait before giving up, e.g. 90s, 5m, 1h.
    #[arg(long, default_value = "10m", value_parser = super::output::parse_duration)]
    pub timeout: Duration,
}

/// A MySQL clone to stream (a physical backup of MySQL): the process packs the
/// clone's directory into the pipe it reads itself, as the dumping side, and removes
/// the directory after (`kubectl_mysql::s3::pack`).
#[derive(Args, Debug, Clone, Default)]
pub struct PackArgs {
    /// The clone's directory on the data volume: packed into `--file` (a pipe),
    /// then removed.
    #[arg(long, requires = "version_file")]
    pub pack_directory: Option<std::path::PathBuf>,
    /// The server's version, which the Job wrote once the clone succeeded.
    #[arg(long, requires = "pack_directory")]
    pub version_file: Option<std::path::PathBuf>,
}

impl PackArgs {
    /// Starts the packer when a directory is given; it needs the mark that says the
    /// stream finished.
    pub fn start(
        &self,
        fifo: &std::path::Path,
        done_mark: Option<&std::path::Path>,
        errors: Option<&std::path::Path>,
    ) -> anyhow::Result<()> {
        let (Some(dir), Some(version_file)) = (&self.pack_directory, &self.version_file) else {
            return Ok(());
        };
        let done_mark =
            done_mark.ok_or_else(|| anyhow::anyhow!("--pack-directory needs --done-mark"))?;
        kubectl_mysql::s3::pack::spawn_packer(
            dir.clone(),
            version_file.clone(),
            fifo.to_path_buf(),
            done_mark.to_path_buf(),
            errors.map(std::path::Path::to_path_buf),
        );
        Ok(())
    }
}
