//! The refresh job queue: durable rows, claimed with a lease, heart-beaten while
//! running, re-claimed when the lease lapses (the process running it died), and
//! failed after a bounded number of attempts. At most one refresh per segment is
//! waiting or running: a partial unique index enforces it.

use crate::{allocate_ids, get_i64, get_opt_i64, get_opt_str, now_ms, Backend, Page, Result, Store};
use sift_core::model::RefreshStatus;
use sqlx::{Any, Row, Transaction};

/// How many times a refresh may be started before it is failed.
pub const MAX_ATTEMPTS: i64 = 3;

#[derive(Debug, Clone, PartialEq)]
pub struct Refresh {
    pub account_id: i64,
    pub id: i64,
    pub segment_id: i64,
    pub status: RefreshStatus,
    pub attempts: i64,
    pub requested_ms: i64,
    pub started_ms: Option<i64>,
    pub finished_ms: Option<i64>,
    pub evaluated: Option<i64>,
    pub matched: Option<i64>,
    pub joined: Option<i64>,
    pub left: Option<i64>,
    pub eval_micros: Option<i64>,
    pub error: Option<String>,
}

/// How an attempt to finish a refresh ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinishOutcome {
    Finished,
    /// The segment's rule changed while evaluating: evaluate again.
    RuleChanged,
    /// The refresh is no longer ours (lease lapsed and taken over) or the segment is gone.
    Lost,
}

/// What a finished refresh records.
#[derive(Debug, Clone, Copy)]
pub struct RefreshOutcome {
    pub evaluated: i64,
    pub matched: i64,
    pub joined: i64,
    pub left: i64,
    pub eval_micros: i64,
}

const COLS: &str = "account_id, id, segment_id, status, attempts, requested_at, started_at, finished_at, evaluated, matched, joined, left_count, eval_micros, error";

fn row_to_refresh(r: &sqlx::any::AnyRow) -> Result<Refresh> {
    Ok(Refresh {
        account_id: get_i64(r, "account_id")?,
        id: get_i64(r, "id")?,
        segment_id: get_i64(r, "segment_id")?,
        status: RefreshStatus::from_code(get_i64(r, "status")?).unwrap_or(RefreshStatus::Failed),
        attempts: get_i64(r, "attempts")?,
        requested_ms: get_i64(r, "requested_at")?,
        started_ms: get_opt_i64(r, "started_at")?,
        finished_ms: get_opt_i64(r, "finished_at")?,
        evaluated: get_opt_i64(r, "evaluated")?,
        matched: get_opt_i64(r, "matched")?,
        joined: get_opt_i64(r, "joined")?,
        left: get_opt_i64(r, "left_count")?,
        eval_micros: get_opt_i64(r, "eval_micros")?,
        error: get_opt_str(r, "error")?,
    })
}

async fn in_flight(tx: &mut Transaction<'static, Any>, account_id: i64, segment_id: i64) -> Result<Option<Refresh>> {
    let sql = format!("SELECT {COLS} FROM refreshes WHERE account_id = $1 AND segment_id = $2 AND status IN (0, 1)");
    let row = sqlx::query(&sql).bind(account_id).bind(segment_id).fetch_optional(&mut **tx).await?;
    row.as_ref().map(row_to_refresh).transpose()
}

/// Queues a refresh of `segment_id` inside `tx` unless one is already waiting or
/// running; returns the one in flight either way.
pub(crate) async fn queue_in(tx: &mut Transaction<'static, Any>, account_id: i64, segment_id: i64) -> Result<Refresh> {
    if let Some(r) = in_flight(tx, account_id, segment_id).await? {
        return Ok(r);
    }
    let id = allocate_ids(tx, account_id, "next_refresh_id", 1).await?;
    let now = now_ms();
    sqlx::query("INSERT INTO refreshes (account_id, id, segment_id, status, attempts, requested_at) VALUES ($1, $2, $3, 0, 0, $4)")
        .bind(account_id)
        .bind(id)
        .bind(segment_id)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(Refresh {
        account_id,
        id,
        segment_id,
        status: RefreshStatus::NotStarted,
        attempts: 0,
        requested_ms: now,
        started_ms: None,
        finished_ms: None,
        evaluated: None,
        matched: None,
        joined: None,
        left: None,
        eval_micros: None,
        error: None,
    })
}

impl Store {
    /// Asks for a refresh: queues one, or returns the one already in flight.
    pub async fn request_refresh(&self, account_id: i64, segment_id: i64) -> Result<Refresh> {
        let mut w = self.write().await?;
        // Serialise requests for one account (also on PostgreSQL, where the account
        // row lock makes the in-flight check and the insert one step).
        sqlx::query("UPDATE accounts SET next_refresh_id = next_refresh_id WHERE id = $1").bind(account_id).execute(&mut *w.tx).await?;
        let r = queue_in(&mut w.tx, account_id, segment_id).await?;
        w.commit().await?;
        Ok(r)
    }

    /// The latest refresh of a segment.
    pub async fn latest_refresh(&self, account_id: i64, segment_id: i64) -> Result<Option<Refresh>> {
        let sql = format!("SELECT {COLS} FROM refreshes WHERE account_id = $1 AND segment_id = $2 ORDER BY id DESC LIMIT 1");
        let row = sqlx::query(&sql).bind(account_id).bind(segment_id).fetch_optional(self.pool()).await?;
        row.as_ref().map(row_to_refresh).transpose()
    }

    /// The status of a segment's latest refresh, in one query (the poll path):
    /// `None` if `segment_id` is not a segment of the account; `Some(None)` if it
    /// has never been refreshed.
    pub async fn latest_refresh_status(&self, account_id: i64, segment_id: i64) -> Result<Option<Option<RefreshStatus>>> {
        let row = sqlx::query(
            "SELECT (SELECT r.status FROM refreshes r WHERE r.account_id = l.account_id AND r.segment_id = l.id ORDER BY r.id DESC LIMIT 1) AS status \
             FROM lists l WHERE l.account_id = $1 AND l.id = $2 AND l.kind = 1",
        )
        .bind(account_id)
        .bind(segment_id)
        .fetch_optional(self.pool())
        .await?;
        match row {
            None => Ok(None),
            Some(r) => Ok(Some(get_opt_i64(&r, "status")?.and_then(RefreshStatus::from_code))),
        }
    }

    /// Refresh history of a segment, newest first.
    pub async fn refresh_history(&self, account_id: i64, segment_id: i64, page: Page) -> Result<Vec<Refresh>> {
        let sql = format!("SELECT {COLS} FROM refreshes WHERE account_id = $1 AND segment_id = $2 ORDER BY id DESC LIMIT $3 OFFSET $4");
        let rows = sqlx::query(&sql).bind(account_id).bind(segment_id).bind(page.select).bind(page.skip).fetch_all(self.pool()).await?;
        rows.iter().map(row_to_refresh).collect()
    }

    /// Claims the oldest refresh that is waiting, or running under a lapsed lease.
    /// A lapsed refresh that already used [`MAX_ATTEMPTS`] is failed instead.
    pub async fn claim_refresh(&self, owner: &str, lease_ms: i64) -> Result<Option<Refresh>> {
        loop {
            let mut w = self.write().await?;
            let now = now_ms();
            let lock = if self.backend() == Backend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
            let sql = format!(
                "SELECT {COLS} FROM refreshes WHERE status = 0 OR (status = 1 AND lease_until < $1) ORDER BY requested_at, id LIMIT 1{lock}"
            );
            let Some(row) = sqlx::query(&sql).bind(now).fetch_optional(&mut *w.tx).await? else {
                return Ok(None);
            };
            let mut r = row_to_refresh(&row)?;
            if r.attempts >= MAX_ATTEMPTS {
                let msg = format!("The refresh was interrupted {} times (the process running it stopped); giving up.", r.attempts);
                sqlx::query(
                    "UPDATE refreshes SET status = 3, finished_at = $3, error = $4, lease_owner = NULL WHERE account_id = $1 AND id = $2",
                )
                .bind(r.account_id)
                .bind(r.id)
                .bind(now)
                .bind(&msg)
                .execute(&mut *w.tx)
                .await?;
                w.commit().await?;
                continue;
            }
            sqlx::query("UPDATE refreshes SET status = 1, attempts = attempts + 1, lease_owner = $3, lease_until = $4, started_at = $5 WHERE account_id = $1 AND id = $2")
                .bind(r.account_id)
                .bind(r.id)
                .bind(owner)
                .bind(now + lease_ms)
                .bind(now)
                .execute(&mut *w.tx)
                .await?;
            w.commit().await?;
            r.status = RefreshStatus::NotFinished;
            r.attempts += 1;
            r.started_ms = Some(now);
            return Ok(Some(r));
        }
    }

    /// Extends the lease of a running refresh. False if it is no longer ours.
    pub async fn heartbeat_refresh(&self, account_id: i64, id: i64, owner: &str, lease_ms: i64) -> Result<bool> {
        crate::extend_lease(self, crate::JobTable::Refreshes, account_id, id, owner, lease_ms).await
    }

    /// Finishes a refresh: writes the new membership and the counts in one
    /// transaction, so readers see the old membership or the new one. Nothing is
    /// written if the refresh is no longer ours ([`FinishOutcome::Lost`]) or if the
    /// segment's rule changed since `rule_version` was read ([`FinishOutcome::RuleChanged`]:
    /// the caller evaluates again, so the result always matches the latest rule).
    #[allow(clippy::too_many_arguments)] // each is one fact of the finished refresh
    pub async fn finish_refresh(
        &self,
        account_id: i64,
        id: i64,
        segment_id: i64,
        owner: &str,
        rule_version: i64,
        members: &roaring::RoaringBitmap,
        outcome: RefreshOutcome,
    ) -> Result<FinishOutcome> {
        let mut bytes = Vec::with_capacity(members.serialized_size());
        members.serialize_into(&mut bytes).map_err(|e| crate::StoreError::Corrupt(e.to_string()))?;
        let mut w = self.write().await?;
        let now = now_ms();
        // Lock the segment row (PostgreSQL) so a rule edit cannot slip in between.
        let lock = if self.backend() == Backend::Postgres { " FOR UPDATE" } else { "" };
        let row = sqlx::query(&format!("SELECT rule_version FROM lists WHERE account_id = $1 AND id = $2{lock}"))
            .bind(account_id)
            .bind(segment_id)
            .fetch_optional(&mut *w.tx)
            .await?;
        match row {
            None => return Ok(FinishOutcome::Lost),
            Some(r) if r.try_get::<i64, _>(0)? != rule_version => return Ok(FinishOutcome::RuleChanged),
            Some(_) => {}
        }
        let res = sqlx::query("UPDATE refreshes SET status = 2, finished_at = $4, evaluated = $5, matched = $6, joined = $7, left_count = $8, eval_micros = $9, lease_owner = NULL, error = NULL WHERE account_id = $1 AND id = $2 AND lease_owner = $3 AND status = 1")
            .bind(account_id)
            .bind(id)
            .bind(owner)
            .bind(now)
            .bind(outcome.evaluated)
            .bind(outcome.matched)
            .bind(outcome.joined)
            .bind(outcome.left)
            .bind(outcome.eval_micros)
            .execute(&mut *w.tx)
            .await?;
        if res.rows_affected() == 0 {
            return Ok(FinishOutcome::Lost);
        }
        sqlx::query("INSERT INTO segment_members (account_id, segment_id, members, member_count, refresh_id, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (account_id, segment_id) DO UPDATE SET members = excluded.members, member_count = excluded.member_count, refresh_id = excluded.refresh_id, updated_at = excluded.updated_at")
            .bind(account_id)
            .bind(segment_id)
            .bind(bytes)
            .bind(members.len() as i64)
            .bind(id)
            .bind(now)
            .execute(&mut *w.tx)
            .await?;
        w.commit().await?;
        Ok(FinishOutcome::Finished)
    }

    /// Fails a refresh with a reason; the previous membership stays.
    pub async fn fail_refresh(&self, account_id: i64, id: i64, owner: &str, error: &str) -> Result<bool> {
        let mut w = self.write().await?;
        let res = sqlx::query("UPDATE refreshes SET status = 3, finished_at = $4, error = $5, lease_owner = NULL WHERE account_id = $1 AND id = $2 AND lease_owner = $3 AND status = 1")
            .bind(account_id)
            .bind(id)
            .bind(owner)
            .bind(now_ms())
            .bind(error)
            .execute(&mut *w.tx)
            .await?;
        w.commit().await?;
        Ok(res.rows_affected() > 0)
    }
}
