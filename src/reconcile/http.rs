//! Health and metrics over HTTP (axum): `/healthz` is liveness, `/readyz` readiness
//! (this replica's caches are filled, or it stands by for the lease), `/metrics` the
//! Prometheus text format.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use super::metrics::Metrics;

pub fn router(metrics: Arc<Metrics>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .with_state(metrics)
}

/// Serves `router` on a bound listener until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, metrics: Arc<Metrics>) {
    if let Err(e) = axum::serve(listener, router(metrics)).await {
        tracing::error!("the health and metrics endpoint stopped: {e}");
    }
}

async fn readyz(State(metrics): State<Arc<Metrics>>) -> impl IntoResponse {
    match (metrics.leading(), metrics.caches_synced()) {
        (true, true) => (StatusCode::OK, "ready: leading, caches synced\n"),
        (true, false) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: leading, filling the caches\n",
        ),
        (false, _) => (StatusCode::OK, "ready: standing by for the lease\n"),
    }
}

async fn metrics_text(State(metrics): State<Arc<Metrics>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics.encode(),
    )
}
