//! Address books and segments. They share one id space and one name space per
//! account (v2 answers `ERROR_ADDRESSBOOK_DUPLICATE` for a name used by either, and
//! several address-book read routes accept a segment id).

use crate::{allocate_ids, get_i64, get_opt_str, get_str, next_change_seq, now_ms, Page, Result, Store, StoreError};
use sift_core::model::{Visibility, RESERVED_BOOK_NAMES};
use sift_core::{ErrorCode, SiftError};
use sqlx::{Any, Row, Transaction};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    Book = 0,
    Segment = 1,
}

/// An address book or a segment.
#[derive(Debug, Clone, PartialEq)]
pub struct List {
    pub id: i64,
    pub kind: ListKind,
    pub name: String,
    pub visibility: Visibility,
    /// The segment's rule (canonical JSON text); `None` for address books.
    pub rule: Option<String>,
    /// Members: an address book's current count, a segment's last finished count.
    pub contacts: i64,
    pub created_ms: i64,
    pub modified_ms: i64,
    /// Bumped each time a segment's rule changes.
    pub rule_version: i64,
}

/// Names are unique ignoring case, with Unicode case folding (as rules compare
/// strings): `Straße` and `STRASSE` are the same name.
fn name_key(name: &str) -> String {
    caseless::default_case_fold_str(name.trim())
}

fn duplicate() -> StoreError {
    SiftError::new(ErrorCode::AddressBookDuplicate, "That name is in use already, please choose another.").into()
}

const LIST_SELECT: &str = "SELECT l.id, l.kind, l.name, l.visibility, l.rule, l.rule_version, l.created_at, l.modified_at, \
    CASE WHEN l.kind = 0 THEN (SELECT count(*) FROM book_members m WHERE m.account_id = l.account_id AND m.book_id = l.id) \
    ELSE COALESCE((SELECT s.member_count FROM segment_members s WHERE s.account_id = l.account_id AND s.segment_id = l.id), 0) END AS contacts \
    FROM lists l";

fn row_to_list(r: &sqlx::any::AnyRow) -> Result<List> {
    Ok(List {
        id: get_i64(r, "id")?,
        kind: if get_i64(r, "kind")? == 1 { ListKind::Segment } else { ListKind::Book },
        name: get_str(r, "name")?,
        visibility: Visibility::from_code(get_i64(r, "visibility")?).unwrap_or(Visibility::Private),
        rule: get_opt_str(r, "rule")?,
        contacts: get_i64(r, "contacts")?,
        created_ms: get_i64(r, "created_at")?,
        modified_ms: get_i64(r, "modified_at")?,
        rule_version: get_i64(r, "rule_version")?,
    })
}

async fn name_taken(tx: &mut Transaction<'static, Any>, account_id: i64, name: &str, except: i64) -> Result<bool> {
    if RESERVED_BOOK_NAMES.iter().any(|r| name_key(r) == name_key(name)) {
        return Ok(true);
    }
    let row = sqlx::query("SELECT count(*) FROM lists WHERE account_id = $1 AND name_key = $2 AND id <> $3")
        .bind(account_id)
        .bind(name_key(name))
        .bind(except)
        .fetch_one(&mut **tx)
        .await?;
    Ok(row.try_get::<i64, _>(0)? > 0)
}

impl Store {
    /// Creates an address book or a segment. A segment's first refresh is queued
    /// in the same transaction, so every segment always has a latest refresh.
    pub async fn create_list(
        &self,
        account_id: i64,
        kind: ListKind,
        name: &str,
        visibility: Visibility,
        rule: Option<&str>,
    ) -> Result<List> {
        let mut w = self.write().await?;
        if name_taken(&mut w.tx, account_id, name, 0).await? {
            return Err(duplicate());
        }
        let id = allocate_ids(&mut w.tx, account_id, "next_list_id", 1).await?;
        let now = now_ms();
        sqlx::query("INSERT INTO lists (account_id, id, kind, name, name_key, visibility, rule, created_at, modified_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)")
            .bind(account_id)
            .bind(id)
            .bind(kind as i64)
            .bind(name.trim())
            .bind(name_key(name))
            .bind(visibility.code())
            .bind(rule)
            .bind(now)
            .execute(&mut *w.tx)
            .await?;
        if kind == ListKind::Segment {
            crate::refreshes::queue_in(&mut w.tx, account_id, id).await?;
        }
        w.commit().await?;
        Ok(List {
            id,
            kind,
            name: name.trim().to_string(),
            visibility,
            rule: rule.map(str::to_string),
            contacts: 0,
            created_ms: now,
            modified_ms: now,
            rule_version: 0,
        })
    }

    pub async fn list(&self, account_id: i64, id: i64) -> Result<Option<List>> {
        let sql = format!("{LIST_SELECT} WHERE l.account_id = $1 AND l.id = $2");
        let row = sqlx::query(&sql).bind(account_id).bind(id).fetch_optional(self.pool()).await?;
        row.as_ref().map(row_to_list).transpose()
    }

    /// A page of address books or segments, ascending id; optionally one visibility.
    pub async fn lists(&self, account_id: i64, kind: ListKind, visibility: Option<Visibility>, page: Page) -> Result<Vec<List>> {
        let sql = format!(
            "{LIST_SELECT} WHERE l.account_id = $1 AND l.kind = $2 AND ($3 < 0 OR l.visibility = $3) ORDER BY l.id LIMIT $4 OFFSET $5"
        );
        let rows = sqlx::query(&sql)
            .bind(account_id)
            .bind(kind as i64)
            .bind(visibility.map(|v| v.code()).unwrap_or(-1))
            .bind(page.select)
            .bind(page.skip)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(row_to_list).collect()
    }

    /// All segments of the account with their rules (for cycle checks and refreshes).
    pub async fn segments_with_rules(&self, account_id: i64) -> Result<Vec<(i64, String)>> {
        let rows = sqlx::query("SELECT id, rule FROM lists WHERE account_id = $1 AND kind = 1 ORDER BY id")
            .bind(account_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(|r| Ok((get_i64(r, "id")?, get_opt_str(r, "rule")?.unwrap_or_default()))).collect()
    }

    /// Ids of the account's address books.
    pub async fn book_ids(&self, account_id: i64) -> Result<Vec<i64>> {
        let rows = sqlx::query("SELECT id FROM lists WHERE account_id = $1 AND kind = 0 ORDER BY id")
            .bind(account_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(|r| Ok(r.try_get::<i64, _>(0)?)).collect()
    }

    /// Renames / changes an address book or segment. For a segment, a changed rule
    /// queues a refresh (or leaves the one in flight, which reads the new rule when it
    /// starts).
    pub async fn update_list(&self, account_id: i64, id: i64, name: &str, visibility: Visibility, rule: Option<&str>) -> Result<List> {
        let mut w = self.write().await?;
        if name_taken(&mut w.tx, account_id, name, id).await? {
            return Err(duplicate());
        }
        let res = sqlx::query("UPDATE lists SET name = $3, name_key = $4, visibility = $5, rule = COALESCE($6, rule), rule_version = rule_version + (CASE WHEN $6 IS NULL THEN 0 ELSE 1 END), modified_at = $7 WHERE account_id = $1 AND id = $2")
            .bind(account_id)
            .bind(id)
            .bind(name.trim())
            .bind(name_key(name))
            .bind(visibility.code())
            .bind(rule)
            .bind(now_ms())
            .execute(&mut *w.tx)
            .await?;
        if res.rows_affected() == 0 {
            return Err(StoreError::not_found(ErrorCode::AddressBookNotFound));
        }
        if rule.is_some() {
            crate::refreshes::queue_in(&mut w.tx, account_id, id).await?;
        }
        w.commit().await?;
        self.list(account_id, id).await?.ok_or_else(|| StoreError::not_found(ErrorCode::AddressBookNotFound))
    }

    /// Deletes an address book (its members leave it) or a segment (its membership
    /// and refresh history go too). Returns false if there was no such list.
    pub async fn delete_list(&self, account_id: i64, id: i64) -> Result<bool> {
        let mut w = self.write().await?;
        let row = sqlx::query("SELECT kind FROM lists WHERE account_id = $1 AND id = $2")
            .bind(account_id)
            .bind(id)
            .fetch_optional(&mut *w.tx)
            .await?;
        let Some(row) = row else { return Ok(false) };
        let kind: i64 = row.try_get(0)?;
        if kind == 0 {
            let seq = next_change_seq(&mut w.tx, account_id).await?;
            sqlx::query("UPDATE contacts SET seq = $3 WHERE account_id = $1 AND id IN (SELECT contact_id FROM book_members WHERE account_id = $1 AND book_id = $2)")
                .bind(account_id)
                .bind(id)
                .bind(seq)
                .execute(&mut *w.tx)
                .await?;
            sqlx::query("DELETE FROM book_members WHERE account_id = $1 AND book_id = $2")
                .bind(account_id)
                .bind(id)
                .execute(&mut *w.tx)
                .await?;
        } else {
            sqlx::query("DELETE FROM segment_members WHERE account_id = $1 AND segment_id = $2")
                .bind(account_id)
                .bind(id)
                .execute(&mut *w.tx)
                .await?;
            sqlx::query("DELETE FROM refreshes WHERE account_id = $1 AND segment_id = $2")
                .bind(account_id)
                .bind(id)
                .execute(&mut *w.tx)
                .await?;
        }
        sqlx::query("DELETE FROM lists WHERE account_id = $1 AND id = $2").bind(account_id).bind(id).execute(&mut *w.tx).await?;
        w.commit().await?;
        Ok(true)
    }

    /// The stored membership of a segment (serialised roaring bitmap), if any.
    pub async fn segment_members(&self, account_id: i64, segment_id: i64) -> Result<Option<roaring::RoaringBitmap>> {
        let row = sqlx::query("SELECT members FROM segment_members WHERE account_id = $1 AND segment_id = $2")
            .bind(account_id)
            .bind(segment_id)
            .fetch_optional(self.pool())
            .await?;
        match row {
            None => Ok(None),
            Some(r) => {
                let bytes: Vec<u8> = r.try_get(0)?;
                roaring::RoaringBitmap::deserialize_from(&bytes[..]).map(Some).map_err(|e| StoreError::Corrupt(e.to_string()))
            }
        }
    }
}
