//! The operator: two kube-runtime controllers sharing one context. Each reconcile reads
//! (observe), decides in pure functions (plan), then writes (apply).
//! - `instance`: MySQL objects -> their children, restore on create, password changes,
//!   backup before delete (finalizer), status and Events.
//! - `backup`: MySQLBackup records -> backup Jobs -> recorded results.
//! - `controller`: the watches and wiring; `http`: health and metrics.
//! - shared by both: `context` (client, caches, memos, Events), `caches`, `memos`
//!   (what is remembered between reconciles, and when it is forgotten), `step` (the
//!   plans' vocabulary: `Step`, `Next`), `credentials`, `error`.

pub mod backup;
mod bucket;
pub mod caches;
pub mod context;
pub mod controller;
pub mod credentials;
mod error;
pub mod http;
pub mod instance;
pub mod kube_ops;
pub mod member_sql;
pub mod memos;
pub mod metrics;
pub mod shutdown;
pub mod step;
#[cfg(test)]
mod test_support;

pub use caches::{Caches, ForeignNames, cached, lookup};
pub use context::{Context, MANAGER, Notice, SharedContext, error_policy_for, object_key};
pub use error::{Error, Result};
pub use memos::{SecretFacts, SecretMemo, StatusMemo};
pub use metrics::Metrics;
pub use step::{BLOCKED_WAIT, Next, SETTLED_WAIT, SHORT_WAIT, Step, Why};

/// Now, truncated to whole seconds like the API server's own timestamps: rounding up
/// could put a backup's completion after the creation of the instance that restores it.
pub fn now_rfc3339() -> String {
    rfc3339(jiff::Timestamp::now())
}

pub fn rfc3339(at: jiff::Timestamp) -> String {
    jiff::Timestamp::from_second(at.as_second())
        .unwrap_or(at)
        .to_string()
}
