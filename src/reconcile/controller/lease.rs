//! Leader election: with more than one replica, only the holder of a
//! `coordination.k8s.io` Lease reconciles; the others stand by.

use std::time::Duration;

use kube_lease_manager::LeaseManagerBuilder;

use super::ControllerError;
use crate::api::keys::MANAGED_BY;
use crate::reconcile::Metrics;
use crate::reconcile::shutdown::Shutdown;

/// A `coordination.k8s.io` Lease: its holder reconciles, the others stand by.
#[derive(Clone, Debug)]
pub struct LeaderElection {
    pub namespace: String,
    pub lease_name: String,
    /// This replica's name in the Lease (the pod's name in a cluster).
    pub identity: String,
    /// How long a holder that stopped renewing keeps the Lease.
    pub lease_duration: Duration,
}

/// Runs `work` only while this replica holds the Lease: stands by until it wins (or a
/// signal stops it first), stops at once if it loses, and hands the Lease over when
/// `work` ends after a signal.
pub(super) async fn while_leading(
    client: kube::Client,
    election: &LeaderElection,
    shutdown: &Shutdown,
    metrics: &Metrics,
    work: impl std::future::Future<Output = ()>,
) -> Result<(), ControllerError> {
    let grace = (election.lease_duration.as_secs() / 3).max(1);
    let manager = LeaseManagerBuilder::new(client, &election.lease_name)
        .with_namespace(&election.namespace)
        .with_identity(&election.identity)
        .with_duration(election.lease_duration.as_secs())
        .with_grace(grace)
        .with_field_manager(format!("{MANAGED_BY}-lease"))
        .build()
        .await?;
    let (mut leading, lease_task) = manager.watch().await;
    tracing::info!(
        lease = election.lease_name,
        identity = election.identity,
        "standing by for the Lease"
    );
    let won = tokio::select! {
        won = leading.wait_for(|l| *l) => won.is_ok(),
        () = shutdown.requested() => false,
    };
    if !won {
        drop(leading);
        let _ = lease_task.await;
        return Ok(());
    }
    tracing::info!(
        lease = election.lease_name,
        "holding the Lease: reconciling"
    );
    metrics.set_leading(true);
    let mut watch_loss = leading.clone();
    tokio::select! {
        () = work => {}
        _ = watch_loss.wait_for(|l| !*l) => {
            metrics.set_leading(false);
            return Err(ControllerError::LostLease(election.lease_name.clone()));
        }
    }
    // Stopped by a signal: hand the Lease over at once rather than let it expire.
    drop(watch_loss);
    drop(leading);
    let _ = lease_task.await;
    Ok(())
}
