//! Flags that several subcommands share, each in one flattened struct.

use clap::Args;

#[derive(Args, Debug, Clone, Default)]
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

/// `-n/--namespace` for commands that act in one namespace.
#[derive(Args, Debug, Clone, Default)]
pub struct NamespaceArg {
    /// Namespace (default: the context's namespace, then `default`).
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
}
