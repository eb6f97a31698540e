//! One columnar index per account, kept in memory and caught up from the store's
//! change sequence before each use, so it is correct after a restart, on every
//! replica, and cheap when little changed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use sift_core::model::DataField;
use sift_core::record::ContactChange;
use sift_engine::AccountIndex;
use sift_store::{Store, StoreError};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

#[derive(Default)]
pub struct Engines {
    indexes: Mutex<HashMap<i64, Arc<AsyncMutex<AccountIndex>>>>,
    last_catch_up: Mutex<HashMap<i64, CatchUp>>,
}

/// What the last catch-up of an account's index did.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CatchUp {
    /// Changed contacts applied.
    pub changes: usize,
    /// Reading the changes from the store.
    pub read_ms: f64,
    /// Reading plus applying them.
    pub total_ms: f64,
}

/// A caught-up index, locked for the caller.
pub type IndexGuard = OwnedMutexGuard<AccountIndex>;

/// Changes applied to an index at a time during a catch-up.
const CHUNK: usize = 100_000;

/// Applies a chunk of changes off the async threads.
async fn apply(
    mut guard: IndexGuard,
    fields: Arc<Vec<DataField>>,
    changes: Vec<ContactChange>,
    seq: i64,
) -> Result<IndexGuard, StoreError> {
    tokio::task::spawn_blocking(move || {
        guard.apply(&fields, changes, seq);
        guard
    })
    .await
    .map_err(|e| StoreError::Corrupt(format!("index update failed: {e}")))
}

impl Engines {
    fn slot(&self, account_id: i64) -> Arc<AsyncMutex<AccountIndex>> {
        let mut map = match self.indexes.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.entry(account_id).or_insert_with(|| Arc::new(AsyncMutex::new(AccountIndex::new(chrono_tz::UTC)))).clone()
    }

    /// The account's index with every committed change applied.
    pub async fn caught_up(&self, store: &Store, account_id: i64) -> Result<IndexGuard, StoreError> {
        let mut guard = self.slot(account_id).lock_owned().await;
        let started = Instant::now();
        let mut reader = store.change_reader(account_id, guard.applied_seq()).await?;
        let tz: chrono_tz::Tz = reader.time_zone.parse().unwrap_or(chrono_tz::UTC);
        if tz != guard.tz() {
            // Dates are indexed in the account's local time: rebuild on a zone change.
            reader.finish().await?;
            *guard = AccountIndex::new(tz);
            reader = store.change_reader(account_id, 0).await?;
        }
        if reader.up_to_seq == guard.applied_seq() && guard.applied_seq() > 0 {
            reader.finish().await?;
            return Ok(guard);
        }
        // Applied in chunks as they are read, so a cold load of millions of contacts
        // never holds all of their records at once. The index keeps its old
        // sequence until the last chunk is in; a load that fails half-way leaves an
        // incremental catch-up to be redone (re-applying is idempotent) and a full
        // load dropped.
        let before = guard.applied_seq();
        let fields = Arc::new(reader.fields.clone());
        let (mut n, mut read) = (0usize, std::time::Duration::ZERO);
        loop {
            let t = Instant::now();
            let chunk = match reader.next_chunk(CHUNK).await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                Err(e) => {
                    if before == 0 {
                        *guard = AccountIndex::new(tz);
                    }
                    return Err(e);
                }
            };
            read += t.elapsed();
            n += chunk.len();
            guard = apply(guard, fields.clone(), chunk, before).await?;
        }
        let up_to_seq = reader.up_to_seq;
        reader.finish().await?;
        let guard = apply(guard, fields, Vec::new(), up_to_seq).await?;
        let stats = CatchUp { changes: n, read_ms: read.as_secs_f64() * 1000.0, total_ms: started.elapsed().as_secs_f64() * 1000.0 };
        if let Ok(mut m) = self.last_catch_up.lock() {
            m.insert(account_id, stats);
        }
        tracing::debug!(account_id, changes = n, read_ms = stats.read_ms, total_ms = stats.total_ms, "index caught up");
        Ok(guard)
    }

    /// The last catch-up of an account's index, if any.
    pub fn last_catch_up(&self, account_id: i64) -> Option<CatchUp> {
        self.last_catch_up.lock().ok().and_then(|m| m.get(&account_id).copied())
    }
}
