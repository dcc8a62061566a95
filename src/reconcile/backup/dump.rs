//! A record's dump in a bucket goes with the record: a finalizer holds the record
//! until the dump is deleted, or until it is clear the dump cannot be (its Secret is
//! gone, or the store kept failing for `PATIENCE`), which an Event says; a deletion
//! never hangs for good.

use std::time::Duration;

use kube::api::Api;
use kube::runtime::controller::Action;
use kube::{Resource, ResourceExt};

use super::super::Context;
use super::super::bucket::{self, Failure};
use super::super::instance::status::Notice;
use super::super::kube_ops::set_finalizers;
use crate::api::MySQLBackup;
use crate::api::keys::DUMP_FINALIZER;
use crate::{Error, Result};

/// How long a store that keeps failing holds a record's deletion.
const PATIENCE: Duration = Duration::from_secs(600);
const RETRY: Duration = Duration::from_secs(30);

pub fn holds(backup: &MySQLBackup) -> bool {
    backup.finalizers().iter().any(|f| f == DUMP_FINALIZER)
}

/// Puts the finalizer on a record whose dump is in a bucket.
pub async fn hold(backup: &MySQLBackup, ctx: &Context) -> Result<()> {
    let mut finalizers = backup.finalizers().to_vec();
    finalizers.push(DUMP_FINALIZER.to_string());
    set_finalizers(&records(backup, ctx), backup, finalizers)
        .await
        .map_err(|source| Error::Finalizer {
            what: format!("MySQLBackup {}", backup.name_any()),
            source,
        })
}

/// A record being deleted: its dump first, then the finalizer.
pub async fn release(backup: &MySQLBackup, ctx: &Context) -> Result<Action> {
    if !holds(backup) {
        return Ok(Action::await_change());
    }
    if backup.dump_goes_with_record() {
        let location = backup.location().unwrap_or_default();
        let notice = match delete_dump(backup, ctx).await {
            Ok(()) => Notice::normal("DumpDeleted", format!("deleted {location}")),
            Err(Failure::Permanent(reason)) => {
                Notice::warning("DumpKept", format!("{location} is left: {reason}"))
            }
            Err(Failure::Transient(reason)) if waited(backup) < PATIENCE => {
                let notice =
                    Notice::warning("DumpNotDeleted", format!("{location}: {reason}; retrying"));
                ctx.publish_all(&backup.object_ref(&()), &[notice]).await;
                return Ok(Action::requeue(RETRY));
            }
            Err(Failure::Transient(reason)) => Notice::warning(
                "DumpKept",
                format!(
                    "{location} is left after {} minutes of failures: {reason}",
                    PATIENCE.as_secs() / 60
                ),
            ),
        };
        ctx.publish_all(&backup.object_ref(&()), &[notice]).await;
    }
    let finalizers = backup
        .finalizers()
        .iter()
        .filter(|f| *f != DUMP_FINALIZER)
        .cloned()
        .collect();
    set_finalizers(&records(backup, ctx), backup, finalizers)
        .await
        .map_err(|source| Error::Finalizer {
            what: format!("MySQLBackup {}", backup.name_any()),
            source,
        })?;
    Ok(Action::await_change())
}

fn waited(backup: &MySQLBackup) -> Duration {
    let since = backup.metadata.deletion_timestamp.as_ref().map(|t| t.0);
    since
        .map(|t| jiff::Timestamp::now().duration_since(t).unsigned_abs())
        .unwrap_or_default()
}

fn records(backup: &MySQLBackup, ctx: &Context) -> Api<MySQLBackup> {
    Api::namespaced(ctx.client.clone(), &backup.namespace().unwrap_or_default())
}

async fn delete_dump(backup: &MySQLBackup, ctx: &Context) -> Result<(), Failure> {
    let status = backup.status.as_ref();
    let (Some((_, key)), Some(s3)) = (backup.object(), status.and_then(|s| s.s3.as_ref())) else {
        return Err(Failure::Permanent(
            "the record does not say where its bucket is".into(),
        ));
    };
    let namespace = backup.namespace().unwrap_or_default();
    let store = bucket::open(ctx, &namespace, s3).await?;
    store
        .delete_dump(key)
        .await
        .map_err(|e| Failure::Transient(e.to_string()))
}
