//! One stop signal for the whole operator. SIGTERM and Ctrl-C are listened for from the
//! very start, before the health endpoint answers: each controller listening for itself
//! began only when it was built, so a SIGTERM sent as soon as the pod looked alive could
//! reach one controller and not the other, which then ran on and the process never
//! exited.

use std::future::Future;

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

#[derive(Clone, Debug)]
pub struct Shutdown {
    requested: watch::Receiver<bool>,
}

impl Shutdown {
    /// Listens from now on (the handlers are installed before this returns).
    pub fn listen() -> std::io::Result<Self> {
        let mut terminate = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        let (stop, requested) = watch::channel(false);
        tokio::spawn(async move {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = interrupt.recv() => {}
            }
            stop.send_replace(true);
            // Kept open so that every later `requested()` sees the value.
            std::future::pending::<()>().await;
        });
        Ok(Self { requested })
    }

    /// Resolves once a stop was asked for; at once if it already was.
    pub fn requested(&self) -> impl Future<Output = ()> + Send + Sync + 'static {
        let mut requested = self.requested.clone();
        async move {
            let _ = requested.wait_for(|stop| *stop).await;
        }
    }
}
