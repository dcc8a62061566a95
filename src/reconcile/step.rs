//! Where a reconcile, or one step of its plan, stands: the shared vocabulary of every
//! controller's plan. An expected wait is a value here, never an error.

use std::time::Duration;

use kube::runtime::controller::Action;

/// How soon to look again while something we started is under way (a Job, a deletion).
pub const SHORT_WAIT: Duration = Duration::from_secs(3);
/// How soon to look again at something only a person can unblock; a change to the
/// objects involved wakes the reconcile sooner.
pub const BLOCKED_WAIT: Duration = Duration::from_secs(60);
/// The resync of a settled object.
pub const SETTLED_WAIT: Duration = Duration::from_secs(3600);
/// The safety net under a long step whose own events wake the object.
pub const RUNNING_RECHECK: Duration = Duration::from_secs(60);

/// What a plan waits for, in words for the log and the status message: something under
/// way that a watch event or a short requeue will move on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Why(String);

impl Why {
    pub fn new(what: impl Into<String>) -> Self {
        Why(what.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Why {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One step of a plan: done, with what it found, or waiting for something under way
/// (the plan stops there and looks again soon).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step<T> {
    Done(T),
    Wait(Why),
}

impl<T> Step<T> {
    pub fn wait(what: impl Into<String>) -> Self {
        Step::Wait(Why::new(what))
    }
}

/// Where a reconcile stops, for the log and the next look.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// Nothing under way: the periodic resync.
    Settled,
    /// Something we started is under way.
    Wait(Why),
    /// A long step is under way (a backup Job): its own events wake the object, and a
    /// look each minute is the safety net.
    Running(Why),
    /// Only a person can move this on; what they should do.
    Blocked(Why),
    /// The spec cannot be acted on until it changes.
    AwaitChange(Why),
    /// The object is finished with (its deletion released).
    Done,
}

impl Next {
    pub fn wait(what: impl Into<String>) -> Self {
        Next::Wait(Why::new(what))
    }

    pub fn blocked(why: impl Into<String>) -> Self {
        Next::Blocked(Why::new(why))
    }

    pub fn await_change(why: impl Into<String>) -> Self {
        Next::AwaitChange(Why::new(why))
    }

    pub fn action(&self, key: &str) -> Action {
        self.action_by(key, None)
    }

    /// The action, with the next look no later than `deadline` (a scheduled backup)
    /// unless the object is finished with.
    pub fn action_by(&self, key: &str, deadline: Option<Duration>) -> Action {
        let delay = match self {
            Next::Settled => Some(SETTLED_WAIT),
            Next::Wait(what) => {
                tracing::debug!(object = key, "waiting: {what}");
                Some(SHORT_WAIT)
            }
            Next::Running(what) => {
                tracing::debug!(object = key, "running: {what}");
                Some(RUNNING_RECHECK)
            }
            Next::Blocked(why) => {
                tracing::warn!(object = key, "blocked: {why}");
                Some(BLOCKED_WAIT)
            }
            Next::AwaitChange(why) => {
                tracing::warn!(object = key, "invalid spec: {why}");
                None
            }
            Next::Done => return Action::await_change(),
        };
        match (delay, deadline) {
            (Some(delay), Some(deadline)) => Action::requeue(delay.min(deadline)),
            (None, Some(delay)) | (Some(delay), None) => Action::requeue(delay),
            (None, None) => Action::await_change(),
        }
    }
}
