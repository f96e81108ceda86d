//! The miner's status endpoint: `GET /status` (the tally as JSON, what `tandem prover status`
//! reads) and `GET /metrics` (the same numbers for Prometheus). Read-only.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use crate::miner::{MinerBooks, MinerStatus};

/// Why the status endpoint could not start.
#[derive(Debug, thiserror::Error)]
#[error("status endpoint on {addr}: {source}")]
pub struct StatusServerError {
    /// The address asked for.
    pub addr: SocketAddr,
    /// The cause.
    pub source: std::io::Error,
}

fn snapshot(books: &Mutex<MinerBooks>) -> MinerStatus {
    books.lock().map(|b| b.snapshot()).unwrap_or_default()
}

/// Serves the status of `books` on `addr`; returns the bound address.
pub async fn serve_status(books: Arc<Mutex<MinerBooks>>, addr: SocketAddr) -> Result<SocketAddr, StatusServerError> {
    let for_json = books.clone();
    let app = axum::Router::new()
        .route(
            "/status",
            axum::routing::get(move || {
                let books = for_json.clone();
                async move { axum::Json(snapshot(&books)) }
            }),
        )
        .route(
            "/metrics",
            axum::routing::get(move || {
                let books = books.clone();
                async move { snapshot(&books).render_metrics() }
            }),
        );
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|source| StatusServerError { addr, source })?;
    let local = listener.local_addr().map_err(|source| StatusServerError { addr, source })?;
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "prover status server stopped");
        }
    });
    Ok(local)
}
