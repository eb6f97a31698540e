//! Shared state of a running server and its configuration.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sift_store::Store;
use tokio::sync::Notify;

use crate::auth::AuthCache;
use crate::engines::Engines;

/// Server settings. Field docs are the `--help` text of `sift serve`.
#[derive(Debug, Clone)]
pub struct Config {
    /// How long a claimed job (refresh, import) stays ours without a heartbeat. A job
    /// whose process died is taken over after this.
    pub lease: Duration,
    /// Refresh workers in this process.
    pub refresh_workers: usize,
    /// Import workers in this process.
    pub import_workers: usize,
    /// Fixed "now" for relative dates (demos and tests); `None` = the real clock.
    pub fixed_now: Option<DateTime<Utc>>,
    /// Rows per import transaction.
    pub import_chunk: usize,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// How often idle workers look for jobs queued by other replicas.
    pub poll_interval: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            lease: Duration::from_secs(10),
            refresh_workers: 2,
            import_workers: 1,
            fixed_now: None,
            import_chunk: 5000,
            body_limit: 32 * 1024 * 1024,
            poll_interval: Duration::from_millis(200),
        }
    }
}

/// Wakes workers when this process queued work.
#[derive(Default)]
pub struct Signals {
    pub refresh: Notify,
    pub import: Notify,
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub auth: Arc<AuthCache>,
    pub engines: Arc<Engines>,
    pub signals: Arc<Signals>,
    pub config: Arc<Config>,
    /// This process's name on the job leases it holds.
    pub worker_id: Arc<str>,
}

impl AppState {
    pub fn new(store: Store, config: Config) -> Self {
        let worker_id: Arc<str> = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple()).into();
        AppState {
            store,
            auth: Arc::new(AuthCache::default()),
            engines: Arc::new(Engines::default()),
            signals: Arc::new(Signals::default()),
            config: Arc::new(config),
            worker_id,
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.config.fixed_now.unwrap_or_else(Utc::now)
    }

    pub fn lease_ms(&self) -> i64 {
        self.config.lease.as_millis() as i64
    }
}
