//! The schema, per dialect. Each migration runs once, in order, recorded in
//! `schema_migrations`. Every table is keyed by account first so the database can be
//! sharded by account later without changing the service.

use crate::{Backend, Result, Store};
use sqlx::Row;

/// (version, SQLite statements, PostgreSQL statements)
const MIGRATIONS: &[(i64, &str, &str)] = &[(1, SQLITE_V1, POSTGRES_V1)];

const SQLITE_V1: &str = r#"
CREATE TABLE accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    time_zone TEXT NOT NULL DEFAULT 'UTC',
    change_seq BIGINT NOT NULL DEFAULT 0,
    next_contact_id BIGINT NOT NULL DEFAULT 1,
    next_list_id BIGINT NOT NULL DEFAULT 1,
    next_field_id BIGINT NOT NULL DEFAULT 1,
    next_refresh_id BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL
);
CREATE TABLE api_users (
    username TEXT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    secret_sha256 BLOB NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE data_fields (
    account_id BIGINT NOT NULL,
    id BIGINT NOT NULL,
    name TEXT NOT NULL,
    kind BIGINT NOT NULL,
    visibility BIGINT NOT NULL,
    default_value TEXT,
    PRIMARY KEY (account_id, id),
    UNIQUE (account_id, name)
);
CREATE TABLE contacts (
    account_id BIGINT NOT NULL,
    id BIGINT NOT NULL,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL,
    status BIGINT NOT NULL,
    opt_in BIGINT NOT NULL,
    email_type BIGINT NOT NULL,
    data TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    modified_at BIGINT NOT NULL,
    status_changed_at BIGINT,
    deleted BIGINT NOT NULL DEFAULT 0,
    seq BIGINT NOT NULL,
    PRIMARY KEY (account_id, id)
);
CREATE UNIQUE INDEX contacts_email ON contacts (account_id, email_key) WHERE deleted = 0;
CREATE INDEX contacts_seq ON contacts (account_id, seq);
CREATE INDEX contacts_created ON contacts (account_id, created_at);
CREATE INDEX contacts_modified ON contacts (account_id, modified_at);
CREATE TABLE lists (
    account_id BIGINT NOT NULL,
    id BIGINT NOT NULL,
    kind BIGINT NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    visibility BIGINT NOT NULL DEFAULT 0,
    rule TEXT,
    rule_version BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    modified_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, id),
    UNIQUE (account_id, name_key)
);
CREATE TABLE book_members (
    account_id BIGINT NOT NULL,
    book_id BIGINT NOT NULL,
    contact_id BIGINT NOT NULL,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, contact_id, book_id)
);
CREATE INDEX book_members_book ON book_members (account_id, book_id, contact_id);
CREATE TABLE segment_members (
    account_id BIGINT NOT NULL,
    segment_id BIGINT NOT NULL,
    members BLOB NOT NULL,
    member_count BIGINT NOT NULL,
    refresh_id BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, segment_id)
);
CREATE TABLE refreshes (
    account_id BIGINT NOT NULL,
    id BIGINT NOT NULL,
    segment_id BIGINT NOT NULL,
    status BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until BIGINT,
    requested_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    evaluated BIGINT,
    matched BIGINT,
    joined BIGINT,
    left_count BIGINT,
    eval_micros BIGINT,
    error TEXT,
    PRIMARY KEY (account_id, id)
);
CREATE UNIQUE INDEX refreshes_one_in_flight ON refreshes (account_id, segment_id) WHERE status IN (0, 1);
CREATE INDEX refreshes_segment ON refreshes (account_id, segment_id, id);
CREATE INDEX refreshes_queue ON refreshes (status, requested_at);
CREATE TABLE imports (
    account_id BIGINT NOT NULL,
    id TEXT NOT NULL,
    book_id BIGINT,
    status BIGINT NOT NULL,
    merge_option BIGINT NOT NULL,
    file_name TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until BIGINT,
    rows_done BIGINT NOT NULL DEFAULT 0,
    report TEXT NOT NULL,
    faults TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    finished_at BIGINT,
    error TEXT,
    PRIMARY KEY (account_id, id)
);
CREATE INDEX imports_queue ON imports (status, created_at);
CREATE TABLE import_files (
    account_id BIGINT NOT NULL,
    id TEXT NOT NULL,
    file BLOB NOT NULL,
    PRIMARY KEY (account_id, id)
);
"#;

const POSTGRES_V1: &str = r#"
CREATE TABLE accounts (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    time_zone TEXT NOT NULL DEFAULT 'UTC',
    change_seq BIGINT NOT NULL DEFAULT 0,
    next_contact_id BIGINT NOT NULL DEFAULT 1,
    next_list_id BIGINT NOT NULL DEFAULT 1,
    next_field_id BIGINT NOT NULL DEFAULT 1,
    next_refresh_id BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL
);
CREATE TABLE api_users (
    username TEXT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    secret_sha256 BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE data_fields (
    account_id BIGINT NOT NULL,
    id BIGINT NOT NULL,
    name TEXT NOT NULL,
    kind BIGINT NOT NULL,
    visibility BIGINT NOT NULL,
    default_value TEXT,
    PRIMARY KEY (account_id, id),
    UNIQUE (account_id, name)
);
CREATE TABLE contacts (
    account_id BIGINT NOT NULL,
    id BIGINT NOT NULL,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL,
    status BIGINT NOT NULL,
    opt_in BIGINT NOT NULL,
    email_type BIGINT NOT NULL,
    data TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    modified_at BIGINT NOT NULL,
    status_changed_at BIGINT,
    deleted BIGINT NOT NULL DEFAULT 0,
    seq BIGINT NOT NULL,
    PRIMARY KEY (account_id, id)
);
CREATE UNIQUE INDEX contacts_email ON contacts (account_id, email_key) WHERE deleted = 0;
CREATE INDEX contacts_seq ON contacts (account_id, seq);
CREATE INDEX contacts_created ON contacts (account_id, created_at);
CREATE INDEX contacts_modified ON contacts (account_id, modified_at);
CREATE TABLE lists (
    account_id BIGINT NOT NULL,
    id BIGINT NOT NULL,
    kind BIGINT NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    visibility BIGINT NOT NULL DEFAULT 0,
    rule TEXT,
    rule_version BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    modified_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, id),
    UNIQUE (account_id, name_key)
);
CREATE TABLE book_members (
    account_id BIGINT NOT NULL,
    book_id BIGINT NOT NULL,
    contact_id BIGINT NOT NULL,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, contact_id, book_id)
);
CREATE INDEX book_members_book ON book_members (account_id, book_id, contact_id);
CREATE TABLE segment_members (
    account_id BIGINT NOT NULL,
    segment_id BIGINT NOT NULL,
    members BYTEA NOT NULL,
    member_count BIGINT NOT NULL,
    refresh_id BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, segment_id)
);
CREATE TABLE refreshes (
    account_id BIGINT NOT NULL,
    id BIGINT NOT NULL,
    segment_id BIGINT NOT NULL,
    status BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until BIGINT,
    requested_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    evaluated BIGINT,
    matched BIGINT,
    joined BIGINT,
    left_count BIGINT,
    eval_micros BIGINT,
    error TEXT,
    PRIMARY KEY (account_id, id)
);
CREATE UNIQUE INDEX refreshes_one_in_flight ON refreshes (account_id, segment_id) WHERE status IN (0, 1);
CREATE INDEX refreshes_segment ON refreshes (account_id, segment_id, id);
CREATE INDEX refreshes_queue ON refreshes (status, requested_at);
CREATE TABLE imports (
    account_id BIGINT NOT NULL,
    id TEXT NOT NULL,
    book_id BIGINT,
    status BIGINT NOT NULL,
    merge_option BIGINT NOT NULL,
    file_name TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until BIGINT,
    rows_done BIGINT NOT NULL DEFAULT 0,
    report TEXT NOT NULL,
    faults TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    finished_at BIGINT,
    error TEXT,
    PRIMARY KEY (account_id, id)
);
CREATE INDEX imports_queue ON imports (status, created_at);
CREATE TABLE import_files (
    account_id BIGINT NOT NULL,
    id TEXT NOT NULL,
    file BYTEA NOT NULL,
    PRIMARY KEY (account_id, id)
);
"#;

pub(crate) async fn run(store: &Store) -> Result<()> {
    let mut w = store.write().await?;
    if store.backend == Backend::Postgres {
        // Replicas starting at once: the first takes the lock and migrates, the
        // others wait here and then find nothing left to do.
        sqlx::query("SELECT pg_advisory_xact_lock(7305550001)").execute(&mut *w.tx).await?;
    }
    sqlx::query("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)")
        .execute(&mut *w.tx)
        .await?;
    let rows = sqlx::query("SELECT version FROM schema_migrations").fetch_all(&mut *w.tx).await?;
    let applied: Vec<i64> = rows.iter().filter_map(|r| r.try_get::<i64, _>(0).ok()).collect();
    for (version, sqlite, pg) in MIGRATIONS {
        if applied.contains(version) {
            continue;
        }
        let script = if store.backend == Backend::Postgres { pg } else { sqlite };
        for stmt in script.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            sqlx::query(stmt).execute(&mut *w.tx).await?;
        }
        sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
            .bind(*version)
            .bind(crate::now_ms())
            .execute(&mut *w.tx)
            .await?;
        tracing::info!(version, "applied migration");
    }
    w.commit().await
}
