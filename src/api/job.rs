//! The one reading of a Job's outcome, shared by the operator and the commands.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobState {
    Running,
    Succeeded,
    Failed(String),
}

impl JobState {
    pub fn of(job: &Job) -> Self {
        let status = job.status.as_ref();
        let condition = |type_: &str| {
            status
                .and_then(|s| s.conditions.as_ref())
                .and_then(|cs| cs.iter().find(|c| c.type_ == type_ && c.status == "True"))
        };
        if condition("Complete").is_some() || status.and_then(|s| s.succeeded).unwrap_or(0) > 0 {
            JobState::Succeeded
        } else if let Some(failed) = condition("Failed") {
            JobState::Failed(
                failed
                    .message
                    .clone()
                    .or_else(|| failed.reason.clone())
                    .unwrap_or_else(|| "the Job failed".into()),
            )
        } else {
            JobState::Running
        }
    }

    pub fn is_running(job: &Job) -> bool {
        Self::of(job) == JobState::Running
    }

    /// Whether the Job's controller has made any pod for it yet: one the API server
    /// refuses never appears in these counts.
    pub fn has_made_pods(job: &Job) -> bool {
        job.status.as_ref().is_some_and(|s| {
            [s.active, s.ready, s.succeeded, s.failed, s.terminating]
                .into_iter()
                .any(|n| n.unwrap_or(0) > 0)
        })
    }
}

/// The (reason, message) of every terminated container of `pods`: a Job's script
/// reports its result in its termination message.
pub fn terminated_messages(pods: &[Pod]) -> impl Iterator<Item = (String, Option<String>)> + '_ {
    // Init containers too: a dump or a download that fails there ends the pod.
    pods.iter()
        .filter_map(|p| p.status.as_ref())
        .flat_map(|s| {
            let init = s.init_container_statuses.iter().flatten();
            init.chain(s.container_statuses.iter().flatten())
        })
        .filter_map(|c| c.state.as_ref()?.terminated.as_ref())
        .map(|t| (t.reason.clone().unwrap_or_default(), t.message.clone()))
}

/// The line a failed Job's script left: the termination message of the first container
/// that did not complete (a download's bad checksum, a load error).
pub fn failure_message(pods: &[Pod]) -> Option<String> {
    terminated_messages(pods)
        .filter(|(reason, _)| reason != "Completed")
        .find_map(|(_, message)| {
            let line = message?.trim().to_string();
            // Our own binary's errors start with `error: `, which the status says anyway.
            let line = line
                .strip_prefix("error: ")
                .map(str::to_string)
                .unwrap_or(line);
            (!line.is_empty()).then_some(line)
        })
}

/// The first termination message of `pods` that parses as a `T`.
pub fn termination_report<T: serde::de::DeserializeOwned>(pods: &[Pod]) -> Option<T> {
    terminated_messages(pods)
        .filter_map(|(_, message)| serde_json::from_str(message.as_deref()?).ok())
        .next()
}
