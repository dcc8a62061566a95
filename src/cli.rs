//! The command line: clap types only. Flags every subcommand shares live in flattened
//! structs (`ClusterArgs`, `NamespaceArg`, `LogArgs`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::commands;
use crate::kubeclient::ClusterArgs;

#[derive(Parser, Debug)]
#[command(
    name = "kubectl-mysql",
    bin_name = "kubectl mysql",
    version,
    about = "Create, back up, restore and operate MySQL instances (mysqls.otus.homework/v1)",
    propagate_version = true,
    disable_help_subcommand = true
)]
pub struct Cli {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub log: LogArgs,
    /// Directory whose *.yaml.tera files replace the embedded templates of the same name.
    #[arg(
        long,
        value_name = "DIR",
        global = true,
        env = "KUBECTL_MYSQL_TEMPLATES"
    )]
    pub templates: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

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

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Install or update the CRDs (server-side apply) and wait until they are Established.
    InstallCrd(commands::install_crd::Args),
    /// Create a MySQL instance.
    Create(commands::create::Args),
    /// Show one instance in detail, or list instances.
    Status(commands::status::Args),
    /// Start an on-demand backup of an instance, or list its backups.
    Backup(commands::backup::Args),
    /// Restore a running instance from a backup.
    Restore(commands::restore::Args),
    /// Run the operator in the foreground against the current kubeconfig.
    RunOperator(commands::run_operator::Args),
    /// Print a shell completion script (bash, zsh or fish).
    Completion(commands::completion::Args),
    /// Print the version.
    Version,
    /// Answer kubectl's plugin completion protocol (used by completions/kubectl_complete-mysql).
    #[command(name = "__complete", hide = true)]
    Complete(commands::completion::CompleteArgs),
}
