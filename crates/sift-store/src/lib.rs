//! sift-store: the record. The only source of truth.
//!
//! Layout
//! - [`Store`]: a pool over SQLite (default, one file) or PostgreSQL (several
//!   replicas), chosen by the URL scheme; write transactions; the change sequence.
//! - `migrate`: the schema per dialect, applied on open (safe when replicas start
//!   together: PostgreSQL takes an advisory lock).
//! - one module per aggregate: `accounts`, `fields`, `contacts`, `lists` (address books
//!   and segments, which share one id space and one name space), `refreshes` (the
//!   refresh job queue), `imports` (the import job queue), `changes` (the feed the
//!   engine catches up from).
//!
//! All SQL is written once and runs on both dialects through `sqlx::Any` (numbered
//! `$n` parameters, `ON CONFLICT`, `RETURNING`); the few dialect differences are
//! branches on [`Backend`] in this crate only. Timestamps are stored as milliseconds
//! since the Unix epoch (UTC).

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use sift_core::{ErrorCode, SiftError};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Row, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

pub mod accounts;
pub mod changes;
pub mod contacts;
pub mod fields;
pub mod imports;
pub mod lists;
mod migrate;
pub mod refreshes;

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A store error: either a domain error to answer the client with, or a database
/// failure (logged, answered with an opaque 5xx).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Domain(#[from] SiftError),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    pub fn not_found(code: ErrorCode) -> Self {
        StoreError::Domain(SiftError::bare(code))
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The store: a connection pool plus, on SQLite, the single-writer lock.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// SQLite allows one writer; taking this before `BEGIN` avoids lock-upgrade
    /// deadlocks between deferred transactions. PostgreSQL needs no such lock.
    write_lock: Option<Arc<Mutex<()>>>,
    display_url: String,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("backend", &self.backend).field("url", &self.display_url).finish()
    }
}

/// A write transaction (holding the SQLite writer lock while it lives).
pub struct WriteTx {
    pub tx: Transaction<'static, Any>,
    _guard: Option<OwnedMutexGuard<()>>,
}

impl WriteTx {
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

/// Hides a password in a database URL (for logs and `Debug`).
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}://{}:***{}", &url[..s], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

impl Store {
    /// Opens (creating if needed) the database at `url` and runs migrations.
    /// `postgres://…`/`postgresql://…` selects PostgreSQL; `sqlite:…` or a plain
    /// path selects an SQLite file.
    pub async fn open(url: &str) -> Result<Store> {
        Self::open_with(url, None).await
    }

    /// As [`Store::open`], with every PostgreSQL connection's `search_path` set to
    /// `schema` (each test gets its own schema).
    pub async fn open_with(url: &str, pg_schema: Option<&str>) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let display_url = redact_url(url);
        let store = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let schema = pg_schema.map(|s| s.to_string());
            if let Some(s) = &schema {
                if !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                    return Err(StoreError::Corrupt(format!("bad schema name {s}")));
                }
                let admin = AnyPoolOptions::new().max_connections(1).connect(url).await?;
                sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {s}")).execute(&admin).await?;
                admin.close().await;
            }
            let pool = AnyPoolOptions::new()
                .max_connections(16)
                .after_connect(move |conn, _| {
                    let schema = schema.clone();
                    Box::pin(async move {
                        if let Some(s) = schema {
                            sqlx::query(&format!("SET search_path TO {s}")).execute(&mut *conn).await?;
                        }
                        Ok(())
                    })
                })
                .connect(url)
                .await?;
            Store { pool, backend: Backend::Postgres, write_lock: None, display_url }
        } else {
            let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
            let conn_url = format!("sqlite://{path}?mode=rwc");
            let pool = AnyPoolOptions::new()
                .max_connections(8)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        // WAL: readers never wait for the writer. synchronous=NORMAL in
                        // WAL mode survives a process crash (kill -9) without losing a
                        // committed transaction; only an OS crash could lose the last ones.
                        // Checkpoint the WAL every 64 MiB rather than every 4 MiB: each
                        // checkpoint costs two fsyncs, and at the default an import paid
                        // one per chunk (a third of its time). Readers are unaffected.
                        for pragma in [
                            "PRAGMA journal_mode = WAL",
                            "PRAGMA synchronous = NORMAL",
                            "PRAGMA busy_timeout = 10000",
                            "PRAGMA foreign_keys = ON",
                            "PRAGMA cache_size = -65536",
                            "PRAGMA wal_autocheckpoint = 16384",
                        ] {
                            sqlx::query(pragma).execute(&mut *conn).await?;
                        }
                        Ok(())
                    })
                })
                .connect(&conn_url)
                .await?;
            Store { pool, backend: Backend::Sqlite, write_lock: Some(Arc::new(Mutex::new(()))), display_url }
        };
        migrate::run(&store).await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a write transaction.
    ///
    /// On SQLite it is `BEGIN IMMEDIATE`: the write lock is taken up front, where the
    /// busy timeout applies, never by upgrading a read lock mid-transaction (an
    /// upgrade that finds the lock held fails at once with "database is locked",
    /// which is what a dropped transaction whose rollback is still queued on its
    /// connection would cause).
    pub async fn write(&self) -> Result<WriteTx> {
        let guard = match &self.write_lock {
            Some(l) => Some(l.clone().lock_owned().await),
            None => None,
        };
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(WriteTx { tx, _guard: guard })
    }

    /// Refreshes the query planner's statistics of the tables bulk writes grow.
    /// PostgreSQL plans a lookup by address as a scan while it believes the table
    /// is small; SQLite's plans here do not depend on statistics.
    pub async fn refresh_statistics(&self) -> Result<()> {
        if self.backend == Backend::Postgres {
            sqlx::query("ANALYZE contacts, book_members").execute(&self.pool).await?;
        }
        Ok(())
    }

    /// Starts a read transaction that sees one consistent snapshot.
    pub async fn read_snapshot(&self) -> Result<Transaction<'static, Any>> {
        let mut tx = self.pool.begin().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY").execute(&mut *tx).await?;
        }
        Ok(tx)
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Advances the account's change sequence inside `tx` and returns the new value.
/// Every write that changes what a rule could read calls this once per transaction
/// and stamps the rows it changes with the value.
///
/// Why this cannot be skipped past by the engine on PostgreSQL: the `UPDATE` takes
/// the account row's lock until the transaction ends, so a second writer of the same
/// account waits here and draws its number only after the first has committed (or
/// rolled back). Numbers therefore become visible in order per account, and a reader
/// that has seen number N has seen every change numbered below N. The price is that
/// writes to one account are serialised, which SQLite does anyway and which the bulk
/// import amortises by writing thousands of rows per transaction.
pub async fn next_change_seq(tx: &mut Transaction<'static, Any>, account_id: i64) -> Result<i64> {
    let row = sqlx::query("UPDATE accounts SET change_seq = change_seq + 1 WHERE id = $1 RETURNING change_seq")
        .bind(account_id)
        .fetch_one(&mut **tx)
        .await?;
    Ok(row.try_get::<i64, _>(0)?)
}

/// The job queues whose rows carry leases.
pub(crate) enum JobTable {
    Refreshes,
    Imports,
}

/// Extends the lease of a running job if `owner` still holds it; false if it does not.
pub(crate) async fn extend_lease<'q, Id>(
    store: &Store,
    table: JobTable,
    account_id: i64,
    id: Id,
    owner: &'q str,
    lease_ms: i64,
) -> Result<bool>
where
    Id: 'q + Send + sqlx::Encode<'q, Any> + sqlx::Type<Any>,
{
    let mut w = store.write().await?;
    let sql = match table {
        JobTable::Imports => "UPDATE imports SET lease_until = $4 WHERE account_id = $1 AND id = $2 AND lease_owner = $3 AND status = 1",
        JobTable::Refreshes => {
            "UPDATE refreshes SET lease_until = $4 WHERE account_id = $1 AND id = $2 AND lease_owner = $3 AND status = 1"
        }
    };
    let res = sqlx::query(sql).bind(account_id).bind(id).bind(owner).bind(now_ms() + lease_ms).execute(&mut *w.tx).await?;
    w.commit().await?;
    Ok(res.rows_affected() > 0)
}

/// Allocates `n` consecutive ids from one of the account's counters and returns the
/// first. Counters: `next_contact_id`, `next_list_id`, `next_field_id`, `next_refresh_id`.
pub(crate) async fn allocate_ids(tx: &mut Transaction<'static, Any>, account_id: i64, counter: &'static str, n: i64) -> Result<i64> {
    let sql = format!("UPDATE accounts SET {counter} = {counter} + $2 WHERE id = $1 RETURNING {counter}");
    let row = sqlx::query(&sql).bind(account_id).bind(n).fetch_one(&mut **tx).await?;
    let next: i64 = row.try_get(0)?;
    Ok(next - n)
}

pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

pub fn from_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

pub(crate) fn get_i64(row: &AnyRow, col: &str) -> Result<i64> {
    Ok(row.try_get::<i64, _>(col)?)
}

pub(crate) fn get_str(row: &AnyRow, col: &str) -> Result<String> {
    Ok(row.try_get::<String, _>(col)?)
}

pub(crate) fn get_opt_str(row: &AnyRow, col: &str) -> Result<Option<String>> {
    Ok(row.try_get::<Option<String>, _>(col)?)
}

pub(crate) fn get_opt_i64(row: &AnyRow, col: &str) -> Result<Option<i64>> {
    Ok(row.try_get::<Option<i64>, _>(col)?)
}

/// Paging as v2 defines it: `select` rows after skipping `skip`.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub select: i64,
    pub skip: i64,
}

impl Default for Page {
    fn default() -> Self {
        Page { select: 1000, skip: 0 }
    }
}
