//! The command line: the only place that names every subcommand, and the dispatch to
//! them. Flags that subcommands share live in `commands::flags` (`NamespaceArg`,
//! `LogArgs`) and `kubeclient` (`ClusterArgs`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use crate::commands::flags::LogArgs;
use crate::commands::{
    backup, completion, connect, create, decompress_dump, install_crd, install_operator,
    object_store, pause, remove_dump, restart, restore, run_operator, status, store_dump,
    switchover, unpack_copy, version,
};
use kubectl_mysql::kubeclient::ClusterArgs;
use kubectl_mysql::render::Renderer;

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
    /// Directory whose *.tera files replace the embedded templates of the same name.
    #[arg(
        long,
        value_name = "DIR",
        global = true,
        env = "KUBECTL_MYSQL_TEMPLATES",
        help_heading = "Global options"
    )]
    pub templates: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Install or update the CRDs (server-side apply) and wait until they are Established.
    InstallCrd(install_crd::Args),
    /// Install the operator in the cluster: CRDs, namespace, least-privilege RBAC, a
    /// leader-elected Deployment.
    InstallOperator(install_operator::Args),
    /// Remove what install-operator installed; CRDs, instances and backups stay.
    UninstallOperator(install_operator::UninstallArgs),
    /// Create a MySQL instance.
    Create(create::Args),
    /// Show one instance in detail, or list instances.
    Status(status::Args),
    /// Start an on-demand backup of an instance, or list its backups.
    Backup(backup::Args),
    /// Restore a running instance from a backup.
    Restore(restore::Args),
    /// Move the primary of a replicated instance to a replica (planned: no committed
    /// transaction lost; writes pause until the replica has caught up).
    Switchover(switchover::Args),
    /// Open the mysql client in the instance's server (no password in argv anywhere);
    /// `-- -e "SQL"` runs one statement and returns its exit code.
    Connect(connect::Args),
    /// Stop reconciling an instance (no applies, no Jobs, no deletion backup) until resumed.
    Pause(pause::Args),
    /// Reconcile a paused instance again.
    Resume(pause::Args),
    /// Restart an instance's servers, applying changes held by spec.updatePolicy manual.
    Restart(restart::Args),
    /// Run the operator in the foreground against the current kubeconfig.
    RunOperator(run_operator::Args),
    /// Print a shell completion script (bash, zsh or fish).
    Completion(completion::Args),
    /// Print the plugin's version and commit, and the versions of the CRDs and
    /// operators in the cluster (warning when they differ).
    Version,
    /// Move dumps to and from S3-compatible storage (what the backup and restore Jobs
    /// run from the operator's image).
    #[command(name = "object-store", hide = true)]
    ObjectStore(object_store::Args),
    /// Stream a verified, compressed dump decompressed into a pipe (what the restore
    /// Job runs from the operator's image beside the server's client).
    #[command(name = "decompress-dump", hide = true)]
    DecompressDump(decompress_dump::Args),
    /// Delete a dump on the backup volume with its checksum (what the prune Job runs
    /// from the operator's image).
    #[command(name = "remove-dump", hide = true)]
    RemoveDump(remove_dump::Args),
    /// Compress, checksum and store a physical copy on the backup volume as it streams
    /// in (what a physical backup Job to the volume runs from the operator's image).
    #[command(name = "store-dump", hide = true)]
    StoreDump(store_dump::Args),
    /// Unpack a checked MySQL clone into a directory (what a physical restore or
    /// verification of MySQL runs from the operator's image).
    #[command(name = "unpack-copy", hide = true)]
    UnpackCopy(unpack_copy::Args),
    /// Answer kubectl's plugin completion protocol (used by completions/kubectl_complete-mysql).
    #[command(name = "__complete", hide = true)]
    Complete(completion::CompleteArgs),
}

/// The embedded templates, with `--templates DIR` overriding some.
fn renderer(templates: Option<&std::path::Path>) -> anyhow::Result<Renderer> {
    Ok(match templates {
        Some(dir) => Renderer::with_overrides(dir)?,
        None => Renderer::embedded(),
    })
}

impl Cli {
    pub async fn run(self) -> anyhow::Result<ExitCode> {
        let cluster = &self.cluster;
        match self.command {
            Command::InstallCrd(args) => install_crd::run(cluster, args).await,
            Command::Create(args) => create::run(cluster, args).await,
            Command::Status(args) => status::run(cluster, args).await,
            Command::Backup(args) => backup::run(cluster, args).await,
            Command::Restore(args) => restore::run(cluster, args).await,
            Command::Connect(args) => connect::run(cluster, args).await,
            Command::Switchover(args) => switchover::run(cluster, args).await,
            Command::Pause(args) => pause::pause(cluster, args).await,
            Command::Resume(args) => pause::resume(cluster, args).await,
            Command::Restart(args) => restart::restart(cluster, args).await,
            Command::InstallOperator(args) => {
                install_operator::run(cluster, &renderer(self.templates.as_deref())?, args).await
            }
            Command::UninstallOperator(args) => {
                install_operator::uninstall(cluster, &renderer(self.templates.as_deref())?, args)
                    .await
            }
            Command::RunOperator(args) => {
                run_operator::run(cluster, renderer(self.templates.as_deref())?, args).await
            }
            Command::Completion(args) => completion::run(args, Cli::command()),
            Command::ObjectStore(args) => object_store::run(args).await,
            Command::RemoveDump(args) => remove_dump::run(args),
            Command::DecompressDump(args) => decompress_dump::run(args).await,
            Command::StoreDump(args) => store_dump::run(args).await,
            Command::UnpackCopy(args) => unpack_copy::run(args),
            Command::Complete(args) => completion::complete(cluster, args, &Cli::command()).await,
            Command::Version => version::run(cluster).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::completion::{script, static_candidates};
    use clap::CommandFactory;
    use clap_complete::Shell;

    fn candidates(words: &[String]) -> (Vec<String>, bool) {
        static_candidates(words, &Cli::command())
    }

    fn words(ws: &[&str]) -> Vec<String> {
        ws.iter().map(|s| s.to_string()).collect()
    }

    /// `--help` lists a subcommand's own options first and the shared ones under
    /// "Global options"; every option says what it does.
    #[test]
    fn every_option_has_help_and_globals_have_their_heading() {
        let mut cli = Cli::command();
        cli.build();
        let global = [
            "namespace",
            "kubeconfig",
            "context",
            "verbose",
            "quiet",
            "log_format",
            "templates",
        ];
        let mut wrong = Vec::new();
        for sub in cli.get_subcommands().filter(|s| !s.is_hide_set()) {
            for arg in sub.get_arguments() {
                let id = arg.get_id().as_str();
                if ["help", "version"].contains(&id) {
                    continue;
                }
                if arg.get_help().is_none() {
                    wrong.push(format!("{} --{id} has no help", sub.get_name()));
                }
                if (arg.get_help_heading() == Some("Global options")) != global.contains(&id) {
                    wrong.push(format!(
                        "{} --{id} is under the wrong heading",
                        sub.get_name()
                    ));
                }
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    #[test]
    fn subcommands() {
        let (c, instances) = candidates(&words(&["re"]));
        assert_eq!(c, vec!["restart", "restore", "resume"]);
        assert!(!instances);
        let (all, _) = candidates(&words(&[""]));
        for expected in [
            "install-crd",
            "create",
            "status",
            "backup",
            "restore",
            "run-operator",
            "completion",
            "version",
        ] {
            assert!(
                all.contains(&expected.to_string()),
                "{expected} missing from {all:?}"
            );
        }
        assert!(
            !all.iter().any(|c| c.starts_with("__")),
            "hidden command offered"
        );
    }

    #[test]
    fn flags_of_a_subcommand() {
        let (c, instances) = candidates(&words(&["create", "db", "--pass"]));
        assert_eq!(c, vec!["--password", "--password-stdin"]);
        assert!(!instances);
    }

    #[test]
    fn instance_names_only_for_the_first_positional() {
        assert!(candidates(&words(&["status", ""])).1);
        assert!(candidates(&words(&["restore", "-n", "x", "my"])).1);
        assert!(candidates(&words(&["status", "--namespace", "x", ""])).1);
        assert!(!candidates(&words(&["status", "-n", "x", "db", ""])).1);
        assert!(!candidates(&words(&["status", "db", ""])).1);
        assert!(!candidates(&words(&["create", ""])).1);
    }

    #[test]
    fn checked_in_scripts_are_current() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
        for (shell, file) in [
            (Shell::Bash, "kubectl-mysql.bash"),
            (Shell::Zsh, "_kubectl-mysql"),
            (Shell::Fish, "kubectl-mysql.fish"),
        ] {
            let expected = script(shell, Cli::command());
            let path = dir.join(file);
            if std::env::var_os("UPDATE_COMPLETIONS").is_some() {
                std::fs::write(&path, &expected).unwrap();
            }
            let actual = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                actual == expected,
                "{} is stale: run UPDATE_COMPLETIONS=1 cargo test checked_in_scripts_are_current",
                path.display()
            );
        }
    }
}
