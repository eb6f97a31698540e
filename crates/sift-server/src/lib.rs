//! sift-server: the HTTP service and the `sift` binary.
//!
//! Layout
//! - [`routes`]: the v2 routes and sift's extensions (axum), behind Basic auth.
//! - [`extract`], [`error`], [`convert`]: parsing at the edge, the one error type,
//!   domain ↔ wire.
//! - [`auth`]: API users and HTTP Basic.
//! - [`engines`]: one in-memory columnar index per account, caught up from the store.
//! - [`jobs`]: refresh and import workers (jobs are rows claimed with leases).
//! - [`cli`]: the `sift` command line (serve, account, demo, bench).
//!
//! [`run`] takes a bound listener, so tests bind `127.0.0.1:0` and `main` is glue.

pub mod app;
pub mod auth;
pub mod bench;
pub mod cli;
pub mod convert;
pub mod demo;
pub mod engines;
pub mod error;
pub mod extract;
pub mod jobs;
pub mod process;
pub mod routes;

use app::AppState;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Serves the API on `listener` and runs the workers until `shutdown` resolves.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let workers = jobs::spawn(&state, stop_rx);
    let app = routes::router(state.clone());
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await?;
    let _ = stop_tx.send(true);
    for w in workers {
        let _ = w.await;
    }
    Ok(())
}

/// Creates an account and its API user; returns (account id, username, password).
pub async fn create_account(store: &sift_store::Store, name: &str) -> anyhow::Result<(i64, String, String)> {
    let (username, password) = auth::generate_credentials();
    let acc = store.create_account(name, &username, &auth::digest(&password)).await?;
    Ok((acc.id, username, password))
}
