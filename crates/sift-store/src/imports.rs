//! The import job queue. The uploaded file is stored when the import is accepted (so
//! an acknowledged import survives a crash), in its own table so that recording
//! progress never rewrites the file; the worker processes it in
//! chunks, each chunk's contacts, counters, faults and `rows_done` committed in one
//! transaction, so an import resumed after a crash continues where it stopped and
//! counts nothing twice.

use crate::{get_i64, get_opt_i64, get_opt_str, get_str, now_ms, Backend, Result, Store, StoreError};
use serde::{Deserialize, Serialize};
use sift_core::model::{ImportStatus, MergeOption};
use sqlx::{Any, Row, Transaction};

/// Imports that may be waiting or running per account (v2's limit).
pub const MAX_ACTIVE_IMPORTS: i64 = 25;
/// How many times an import may be started before it is failed.
pub const MAX_ATTEMPTS: i64 = 3;

/// The v2 import report counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    pub new_contacts: i64,
    pub updated_contacts: i64,
    pub globally_suppressed: i64,
    pub invalid_entries: i64,
    pub duplicate_emails: i64,
    pub blocked: i64,
    pub unsubscribed: i64,
    pub hard_bounced: i64,
    pub soft_bounced: i64,
    pub isp_complaints: i64,
    pub mail_blocked: i64,
    pub domain_suppressed: i64,
    pub pending_double_optin: i64,
    pub failures: i64,
    pub suppressed_contacts: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Import {
    pub account_id: i64,
    pub id: String,
    pub book_id: Option<i64>,
    pub status: ImportStatus,
    pub merge: MergeOption,
    pub file_name: String,
    pub attempts: i64,
    pub rows_done: i64,
    pub report: ImportReport,
    /// The fault rows so far, CSV without its header line.
    pub faults: String,
    pub created_ms: i64,
    pub finished_ms: Option<i64>,
    pub error: Option<String>,
}

const COLS: &str =
    "account_id, id, book_id, status, merge_option, file_name, attempts, rows_done, report, faults, created_at, finished_at, error";

fn row_to_import(r: &sqlx::any::AnyRow) -> Result<Import> {
    Ok(Import {
        account_id: get_i64(r, "account_id")?,
        id: get_str(r, "id")?,
        book_id: get_opt_i64(r, "book_id")?,
        status: ImportStatus::from_code(get_i64(r, "status")?).unwrap_or(ImportStatus::Unknown),
        merge: MergeOption::from_code(get_i64(r, "merge_option")?).unwrap_or(MergeOption::Overwrite),
        file_name: get_str(r, "file_name")?,
        attempts: get_i64(r, "attempts")?,
        rows_done: get_i64(r, "rows_done")?,
        report: serde_json::from_str(&get_str(r, "report")?).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        faults: get_str(r, "faults")?,
        created_ms: get_i64(r, "created_at")?,
        finished_ms: get_opt_i64(r, "finished_at")?,
        error: get_opt_str(r, "error")?,
    })
}

fn report_text(r: &ImportReport) -> String {
    serde_json::to_string(r).unwrap_or_else(|_| "{}".into())
}

impl Store {
    /// Records an accepted import with its file. Fails with
    /// `ERROR_IMPORT_TOOMANYACTIVEIMPORTS` past the per-account limit.
    pub async fn create_import(
        &self,
        account_id: i64,
        id: &str,
        book_id: Option<i64>,
        merge: MergeOption,
        file_name: &str,
        file: &[u8],
    ) -> Result<Import> {
        let mut w = self.write().await?;
        let row =
            sqlx::query("SELECT count(*) FROM imports WHERE account_id = $1 AND status = 1").bind(account_id).fetch_one(&mut *w.tx).await?;
        if row.try_get::<i64, _>(0)? >= MAX_ACTIVE_IMPORTS {
            return Err(sift_core::SiftError::new(
                sift_core::ErrorCode::ImportTooManyActiveImports,
                format!("At most {MAX_ACTIVE_IMPORTS} imports may run at once."),
            )
            .into());
        }
        let now = now_ms();
        sqlx::query("INSERT INTO imports (account_id, id, book_id, status, merge_option, file_name, report, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(account_id)
            .bind(id)
            .bind(book_id)
            .bind(ImportStatus::NotFinished.code())
            .bind(merge.code())
            .bind(file_name)
            .bind(report_text(&ImportReport::default()))
            .bind(now)
            .execute(&mut *w.tx)
            .await?;
        sqlx::query("INSERT INTO import_files (account_id, id, file) VALUES ($1, $2, $3)")
            .bind(account_id)
            .bind(id)
            .bind(file.to_vec())
            .execute(&mut *w.tx)
            .await?;
        w.commit().await?;
        self.import(account_id, id).await?.ok_or_else(|| StoreError::Corrupt("import vanished".into()))
    }

    pub async fn import(&self, account_id: i64, id: &str) -> Result<Option<Import>> {
        let sql = format!("SELECT {COLS} FROM imports WHERE account_id = $1 AND id = $2");
        let row = sqlx::query(&sql).bind(account_id).bind(id).fetch_optional(self.pool()).await?;
        row.as_ref().map(row_to_import).transpose()
    }

    /// Claims an import that is waiting (never started) or whose lease lapsed, and
    /// returns it with its file. One that used [`MAX_ATTEMPTS`] is failed instead.
    pub async fn claim_import(&self, owner: &str, lease_ms: i64) -> Result<Option<(Import, Vec<u8>)>> {
        loop {
            let mut w = self.write().await?;
            let now = now_ms();
            let lock = if self.backend() == Backend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
            let sql = format!(
                "SELECT {COLS} FROM imports WHERE status = 1 AND (lease_until IS NULL OR lease_until < $1) ORDER BY created_at, id LIMIT 1{lock}"
            );
            let Some(row) = sqlx::query(&sql).bind(now).fetch_optional(&mut *w.tx).await? else {
                return Ok(None);
            };
            let mut imp = row_to_import(&row)?;
            let file: Option<Vec<u8>> = sqlx::query("SELECT file FROM import_files WHERE account_id = $1 AND id = $2")
                .bind(imp.account_id)
                .bind(&imp.id)
                .fetch_optional(&mut *w.tx)
                .await?
                .map(|r| r.try_get::<Vec<u8>, _>(0))
                .transpose()?;
            if imp.attempts >= MAX_ATTEMPTS || file.is_none() {
                let msg = "The import was interrupted too many times; giving up.";
                sqlx::query("UPDATE imports SET status = $3, finished_at = $4, error = $5 WHERE account_id = $1 AND id = $2")
                    .bind(imp.account_id)
                    .bind(&imp.id)
                    .bind(ImportStatus::Failed.code())
                    .bind(now)
                    .bind(msg)
                    .execute(&mut *w.tx)
                    .await?;
                sqlx::query("DELETE FROM import_files WHERE account_id = $1 AND id = $2")
                    .bind(imp.account_id)
                    .bind(&imp.id)
                    .execute(&mut *w.tx)
                    .await?;
                w.commit().await?;
                continue;
            }
            sqlx::query("UPDATE imports SET attempts = attempts + 1, lease_owner = $3, lease_until = $4 WHERE account_id = $1 AND id = $2")
                .bind(imp.account_id)
                .bind(&imp.id)
                .bind(owner)
                .bind(now + lease_ms)
                .execute(&mut *w.tx)
                .await?;
            w.commit().await?;
            imp.attempts += 1;
            return Ok(Some((imp, file.unwrap_or_default())));
        }
    }

    /// Records a processed chunk inside the chunk's own transaction. False if the
    /// import is no longer ours (then the caller rolls back).
    pub async fn import_progress(&self, tx: &mut Transaction<'static, Any>, imp: &Import, owner: &str, lease_ms: i64) -> Result<bool> {
        let res = sqlx::query("UPDATE imports SET rows_done = $4, report = $5, faults = $6, lease_until = $7 WHERE account_id = $1 AND id = $2 AND lease_owner = $3 AND status = 1")
            .bind(imp.account_id)
            .bind(&imp.id)
            .bind(owner)
            .bind(imp.rows_done)
            .bind(report_text(&imp.report))
            .bind(&imp.faults)
            .bind(now_ms() + lease_ms)
            .execute(&mut **tx)
            .await?;
        Ok(res.rows_affected() > 0)
    }

    /// Extends the lease of a running import. False if it is no longer ours.
    pub async fn heartbeat_import(&self, account_id: i64, id: &str, owner: &str, lease_ms: i64) -> Result<bool> {
        crate::extend_lease(self, crate::JobTable::Imports, account_id, id, owner, lease_ms).await
    }

    /// Ends an import with a final status (and drops the stored file).
    pub async fn finish_import(&self, imp: &Import, owner: &str, status: ImportStatus, error: Option<&str>) -> Result<bool> {
        let mut w = self.write().await?;
        let res = sqlx::query("UPDATE imports SET status = $4, finished_at = $5, error = $6, report = $7, faults = $8, rows_done = $9, lease_owner = NULL WHERE account_id = $1 AND id = $2 AND lease_owner = $3 AND status = 1")
            .bind(imp.account_id)
            .bind(&imp.id)
            .bind(owner)
            .bind(status.code())
            .bind(now_ms())
            .bind(error)
            .bind(report_text(&imp.report))
            .bind(&imp.faults)
            .bind(imp.rows_done)
            .execute(&mut *w.tx)
            .await?;
        if res.rows_affected() > 0 {
            sqlx::query("DELETE FROM import_files WHERE account_id = $1 AND id = $2")
                .bind(imp.account_id)
                .bind(&imp.id)
                .execute(&mut *w.tx)
                .await?;
        }
        w.commit().await?;
        Ok(res.rows_affected() > 0)
    }
}
