//! Background workers: refresh jobs and imports. Jobs are rows in the store,
//! claimed with a lease; any process (or replica) may run any job.

pub mod imports;
pub mod refresh;

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::app::AppState;

/// Runs `body` and turns a panic into an error, so one bad job cannot take a worker down.
pub async fn guarded<F: Future<Output = anyhow::Result<()>>>(body: F) -> anyhow::Result<()> {
    match AssertUnwindSafe(body).catch_unwind().await {
        Ok(r) => r,
        Err(_) => Err(anyhow::anyhow!("the job panicked")),
    }
}

/// Starts the workers; they stop when `shutdown` turns true.
pub fn spawn(st: &AppState, shutdown: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    let mut handles = Vec::new();
    for _ in 0..st.config.refresh_workers {
        handles.push(tokio::spawn(refresh::worker(st.clone(), shutdown.clone())));
    }
    for _ in 0..st.config.import_workers {
        handles.push(tokio::spawn(import_worker(st.clone(), shutdown.clone())));
    }
    handles
}

async fn import_worker(st: AppState, mut shutdown: watch::Receiver<bool>) {
    loop {
        if *shutdown.borrow() {
            return;
        }
        match st.store.claim_import(&st.worker_id, st.lease_ms()).await {
            Ok(Some((imp, file))) => {
                let id = imp.id.clone();
                let hb = heartbeat(st.clone(), Lease::Import { account_id: imp.account_id, id: id.clone() });
                let result = guarded(imports::process(&st, imp.clone(), file)).await;
                hb.abort();
                if let Err(e) = result {
                    tracing::error!(import = %id, error = %e, "import failed; it will be retried after its lease");
                }
                continue;
            }
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "claiming an import failed"),
        }
        tokio::select! {
            _ = st.signals.import.notified() => {}
            _ = tokio::time::sleep(st.config.poll_interval) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// A claimed job whose lease a heartbeat keeps alive.
pub enum Lease {
    Refresh { account_id: i64, id: i64 },
    Import { account_id: i64, id: String },
}

/// Extends a running job's lease every third of the lease, so slow work is never
/// mistaken for a dead process. Stops by itself once the job is no longer ours;
/// the caller aborts it when the job ends.
pub fn heartbeat(st: AppState, job: Lease) -> JoinHandle<()> {
    tokio::spawn(async move {
        let every = st.config.lease / 3;
        loop {
            tokio::time::sleep(every).await;
            let extended = match &job {
                Lease::Refresh { account_id, id } => st.store.heartbeat_refresh(*account_id, *id, &st.worker_id, st.lease_ms()).await,
                Lease::Import { account_id, id } => st.store.heartbeat_import(*account_id, id, &st.worker_id, st.lease_ms()).await,
            };
            match extended {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => tracing::warn!(error = %e, "job heartbeat failed"),
            }
        }
    })
}
