//! The one reading of a Job's outcome, shared by the operator and the commands.

use k8s_openapi::api::batch::v1::Job;

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
}
