//! The health and metrics endpoint.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::Metrics;

/// A minimal HTTP endpoint: /healthz answers ok, /metrics the reconcile counters.
pub async fn serve(addr: SocketAddr, metrics: Arc<Metrics>) {
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(e) => {
            tracing::error!("cannot listen on {addr}: {e}");
            return;
        }
    };
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 1024];
            let n = stream.read(&mut buf).await.unwrap_or(0);
            let request = String::from_utf8_lossy(&buf[..n]);
            let path = request.split_whitespace().nth(1).unwrap_or("/");
            let (code, body) = match path {
                "/healthz" | "/readyz" => ("200 OK", "ok\n".to_string()),
                "/metrics" => ("200 OK", metrics_text(&metrics)),
                _ => ("404 Not Found", "not found\n".to_string()),
            };
            let response = format!(
                "HTTP/1.1 {code}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes()).await;
        });
    }
}

fn metrics_text(metrics: &Metrics) -> String {
    let mut out = format!(
        "# TYPE kubectl_mysql_reconciles_total counter\nkubectl_mysql_reconciles_total {}\n# TYPE kubectl_mysql_reconcile_errors_total counter\nkubectl_mysql_reconcile_errors_total {}\n# TYPE kubectl_mysql_api_requests_total counter\n",
        metrics.reconciles.load(Ordering::Relaxed),
        metrics.failures.load(Ordering::Relaxed)
    );
    for (verb, count) in metrics.requests.snapshot() {
        out.push_str(&format!(
            "kubectl_mysql_api_requests_total{{verb=\"{verb}\"}} {count}\n"
        ));
    }
    out
}
