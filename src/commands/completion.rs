//! Shell completion: `completion bash|zsh|fish` prints clap_complete's script; the
//! hidden `__complete` answers kubectl's plugin-completion protocol (candidates one
//! per line, then `:4`, "no file completion"), including instance names.

use std::process::ExitCode;
use std::time::Duration;

use clap_complete::Shell;
use kube::ResourceExt;
use kube::api::{Api, ListParams};

use kubectl_mysql::api::MySQL;
use kubectl_mysql::kubeclient::ClusterArgs;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The shell to print the script for.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(clap::Args, Debug)]
pub struct CompleteArgs {
    /// The words after `kubectl mysql`, the last one being completed (may be empty).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub words: Vec<String>,
}

/// kubectl's ShellCompDirectiveNoFileComp.
const NO_FILE_COMPLETION: &str = ":4";
/// Subcommands whose first positional argument is an instance name.
const TAKES_INSTANCE: [&str; 8] = [
    "status",
    "backup",
    "restore",
    "pause",
    "resume",
    "connect",
    "restart",
    "switchover",
];

/// The completion script of `command` (the whole CLI, which only `cli` names).
pub fn script(shell: Shell, mut command: clap::Command) -> String {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "kubectl-mysql", &mut out);
    String::from_utf8(out).expect("completion scripts are UTF-8")
}

pub fn run(args: Args, command: clap::Command) -> anyhow::Result<ExitCode> {
    print!("{}", script(args.shell, command));
    Ok(ExitCode::SUCCESS)
}

/// What to offer for `words`, without touching the cluster: candidates, and whether
/// instance names should be added.
pub fn static_candidates(words: &[String], command: &clap::Command) -> (Vec<String>, bool) {
    let (partial, before) = match words.split_last() {
        Some((last, before)) => (last.as_str(), before),
        None => ("", &[][..]),
    };
    let subcommand = before.iter().find_map(|w| {
        command
            .get_subcommands()
            .find(|s| s.get_name() == w && !s.is_hide_set())
    });
    let long_flags = |cmd: &clap::Command| -> Vec<String> {
        cmd.get_arguments()
            .filter(|a| !a.is_hide_set())
            .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
            .chain(
                command
                    .get_arguments()
                    .filter_map(|a| a.get_long().map(|l| format!("--{l}"))),
            )
            .collect()
    };
    let mut candidates: Vec<String> = match (subcommand, partial.starts_with('-')) {
        (None, true) => long_flags(command),
        (None, false) => command
            .get_subcommands()
            .filter(|s| !s.is_hide_set())
            .map(|s| s.get_name().to_string())
            .collect(),
        (Some(sub), true) => long_flags(sub),
        (Some(_), false) => Vec::new(),
    };
    candidates.retain(|c| c.starts_with(partial));
    candidates.sort();
    candidates.dedup();
    let positional_given = subcommand.is_some_and(|sub| {
        let after = before
            .iter()
            .skip_while(|w| w.as_str() != sub.get_name())
            .skip(1);
        has_positional(sub, command, after)
    });
    let wants_instances = subcommand.is_some_and(|s| TAKES_INSTANCE.contains(&s.get_name()))
        && !partial.starts_with('-')
        && !positional_given;
    (candidates, wants_instances)
}

pub async fn complete(
    cluster: &ClusterArgs,
    args: CompleteArgs,
    command: &clap::Command,
) -> anyhow::Result<ExitCode> {
    let (mut candidates, wants_instances) = static_candidates(&args.words, command);
    if wants_instances {
        let partial = args.words.last().cloned().unwrap_or_default();
        let namespace = namespace_in(&args.words);
        // Completion must never hang a shell: a slow or absent cluster gives nothing.
        let lookup = async {
            let connection = cluster.connect().await.ok()?;
            let ns = namespace.unwrap_or(connection.default_namespace);
            let api: Api<MySQL> = Api::namespaced(connection.client, &ns);
            api.list(&ListParams::default()).await.ok()
        };
        if let Ok(Some(list)) = tokio::time::timeout(Duration::from_secs(3), lookup).await {
            candidates.extend(
                list.items
                    .iter()
                    .map(|i| i.name_any())
                    .filter(|n| n.starts_with(&partial)),
            );
        }
    }
    for candidate in candidates {
        println!("{candidate}");
    }
    println!("{NO_FILE_COMPLETION}");
    Ok(ExitCode::SUCCESS)
}

/// Whether `words` (after the subcommand) hold a positional argument, skipping the
/// values of flags that take one (`-n NAMESPACE`).
fn has_positional<'a>(
    sub: &clap::Command,
    root: &clap::Command,
    words: impl Iterator<Item = &'a String>,
) -> bool {
    let mut skip_value = false;
    for word in words {
        if skip_value {
            skip_value = false;
            continue;
        }
        if let Some(flag) = word.strip_prefix("--") {
            skip_value = !flag.contains('=')
                && [sub, root]
                    .iter()
                    .any(|c| takes_value(c, |a| a.get_long() == Some(flag)));
        } else if let Some(short) = word.strip_prefix('-') {
            let letter = short.chars().next();
            skip_value = short.len() == 1
                && [sub, root]
                    .iter()
                    .any(|c| takes_value(c, |a| a.get_short() == letter));
        } else {
            return true;
        }
    }
    false
}

fn takes_value(sub: &clap::Command, matches: impl Fn(&clap::Arg) -> bool) -> bool {
    sub.get_arguments()
        .find(|a| matches(a))
        .is_some_and(|a| a.get_action().takes_values())
}

fn namespace_in(words: &[String]) -> Option<String> {
    words.windows(2).find_map(|w| match w[0].as_str() {
        "-n" | "--namespace" => Some(w[1].clone()),
        _ => None,
    })
}
