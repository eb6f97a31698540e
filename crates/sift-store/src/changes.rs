//! The change feed the engine catches up from: every contact whose change sequence
//! is above what the engine applied, with its state now (or a tombstone), read in one
//! consistent snapshot together with the sequence it is complete up to.
//!
//! Contacts are read in pages of [`PAGE`], each page aggregated by the database into
//! one JSON text (`json_group_array` / `json_agg`) with each contact's address books
//! inlined. Streaming a million rows one by one costs a thread hand-off per row in
//! the SQLite driver (about 30 µs a contact); a page costs one.

use std::collections::HashMap;

use crate::{get_i64, get_str, Backend, Result, Store, StoreError};
use serde::Deserialize;
use sift_core::model::{ContactStatus, DataField, DataFieldType, EmailType, OptInType};
use sift_core::record::{ContactChange, ContactRecord, FieldValue};
use sqlx::{Any, Row, Transaction};

/// Contacts per page of the change feed.
const PAGE: i64 = 5000;

/// What the engine needs to catch up.
#[derive(Debug, Clone)]
pub struct ChangeBatch {
    /// Every change numbered up to this is included.
    pub up_to_seq: i64,
    pub time_zone: String,
    pub fields: Vec<DataField>,
    pub changes: Vec<ContactChange>,
}

/// One contact of a page: id, email, status, opt-in, e-mail type, data (by field
/// id), created, modified, deleted, seq, address books.
#[derive(Deserialize)]
struct PageRow(i64, String, i64, i64, i64, HashMap<i64, serde_json::Value>, i64, i64, i64, i64, Vec<i64>);

/// A page of contacts as one JSON text. `{filter}` selects the page's rows.
fn page_sql(backend: Backend, filter: &str) -> String {
    match backend {
        Backend::Sqlite => format!(
            "SELECT json_group_array(json_array(c.id, c.email, c.status, c.opt_in, c.email_type, json(c.data), c.created_at, c.modified_at, c.deleted, c.seq, \
               (SELECT json_group_array(m.book_id) FROM book_members m WHERE m.account_id = c.account_id AND m.contact_id = c.id))) \
             FROM (SELECT * FROM contacts WHERE {filter}) c"
        ),
        Backend::Postgres => format!(
            "SELECT COALESCE(json_agg(json_build_array(c.id, c.email, c.status, c.opt_in, c.email_type, c.data::json, c.created_at, c.modified_at, c.deleted, c.seq, \
               (SELECT COALESCE(json_agg(m.book_id), '[]'::json) FROM book_members m WHERE m.account_id = c.account_id AND m.contact_id = c.id)) ORDER BY c.id), '[]'::json)::text \
             FROM (SELECT * FROM contacts WHERE {filter}) c"
        ),
    }
}

/// A full load walks the primary key in pages: live contacts with id above `$2`.
const FULL_PAGE: &str = "account_id = $1 AND id > $2 AND seq <= $3 AND deleted = 0 ORDER BY id LIMIT $4";

/// An incremental catch-up first reads the changed ids (one JSON array, through the
/// sequence index), then their rows by id list.
fn changed_ids_sql(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "SELECT json_group_array(id) FROM contacts WHERE account_id = $1 AND seq > $2 AND seq <= $3",
        Backend::Postgres => {
            "SELECT COALESCE(json_agg(id), '[]'::json)::text FROM contacts WHERE account_id = $1 AND seq > $2 AND seq <= $3"
        }
    }
}

fn by_ids_filter(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "account_id = $1 AND id IN (SELECT value FROM json_each($2))",
        Backend::Postgres => "account_id = $1 AND id IN (SELECT value::bigint FROM json_array_elements_text($2::json))",
    }
}

fn parse_page(text: Option<String>) -> Result<Vec<PageRow>> {
    serde_json::from_str(text.as_deref().unwrap_or("[]")).map_err(|e| StoreError::Corrupt(format!("change page: {e}")))
}

fn to_change(r: PageRow, kinds: &HashMap<i64, DataFieldType>) -> ContactChange {
    let PageRow(id, email, status, opt_in, email_type, data, created, modified, deleted, seq, mut books) = r;
    let id32 = id as u32;
    if deleted != 0 {
        return ContactChange { id: id32, seq, record: None };
    }
    let mut fields: Vec<(i64, FieldValue)> = data
        .iter()
        .filter_map(|(fid, v)| kinds.get(fid).and_then(|kind| FieldValue::from_json(*kind, v).ok().flatten()).map(|val| (*fid, val)))
        .collect();
    fields.sort_by_key(|(fid, _)| *fid);
    books.sort_unstable();
    books.dedup();
    ContactChange {
        id: id32,
        seq,
        record: Some(ContactRecord {
            id: id32,
            email,
            status: ContactStatus::from_code(status).unwrap_or(ContactStatus::Subscribed),
            opt_in_type: OptInType::from_code(opt_in).unwrap_or(OptInType::Unknown),
            email_type: EmailType::from_code(email_type).unwrap_or(EmailType::Html),
            created: crate::from_ms(created),
            modified: crate::from_ms(modified),
            fields,
            books: books.into_iter().map(|b| b as u32).collect(),
        }),
    }
}

/// Reads the change feed chunk by chunk inside one snapshot, so a caller can apply
/// a large load piece by piece instead of holding all of it in memory.
pub struct ChangeReader {
    tx: Transaction<'static, Any>,
    account_id: i64,
    backend: Backend,
    /// Every change numbered up to this is included.
    pub up_to_seq: i64,
    pub time_zone: String,
    pub fields: Vec<DataField>,
    kinds: HashMap<i64, DataFieldType>,
    cursor: Cursor,
}

enum Cursor {
    /// A full load: live contacts in id order, after this id.
    Full { after: i64, done: bool },
    /// An incremental catch-up: these changed ids, from this position.
    Ids { ids: Vec<i64>, at: usize },
}

impl ChangeReader {
    /// The next changes, at least `max` of them unless the feed ends first; `None`
    /// once it has ended.
    pub async fn next_chunk(&mut self, max: usize) -> Result<Option<Vec<ContactChange>>> {
        let mut out = Vec::new();
        while out.len() < max.max(1) {
            let page = match &mut self.cursor {
                Cursor::Full { done: true, .. } => break,
                Cursor::Full { after, done } => {
                    let sql = page_sql(self.backend, FULL_PAGE);
                    let row = sqlx::query(&sql)
                        .bind(self.account_id)
                        .bind(*after)
                        .bind(self.up_to_seq)
                        .bind(PAGE)
                        .fetch_one(&mut *self.tx)
                        .await?;
                    let page = parse_page(row.try_get(0)?)?;
                    if let Some(last) = page.last() {
                        *after = last.0;
                    }
                    *done = (page.len() as i64) < PAGE;
                    page
                }
                Cursor::Ids { ids, at } => {
                    if *at >= ids.len() {
                        break;
                    }
                    let end = (*at + PAGE as usize).min(ids.len());
                    let list = serde_json::to_string(&ids[*at..end]).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    *at = end;
                    let sql = page_sql(self.backend, by_ids_filter(self.backend));
                    let row = sqlx::query(&sql).bind(self.account_id).bind(list).fetch_one(&mut *self.tx).await?;
                    parse_page(row.try_get(0)?)?
                }
            };
            out.extend(page.into_iter().map(|r| to_change(r, &self.kinds)));
        }
        let ended =
            matches!(self.cursor, Cursor::Full { done: true, .. }) || matches!(&self.cursor, Cursor::Ids { ids, at } if *at >= ids.len());
        Ok(if out.is_empty() && ended { None } else { Some(out) })
    }

    /// Ends the read snapshot.
    pub async fn finish(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

impl Store {
    /// Opens the change feed of `account_id` above `since` in one consistent
    /// snapshot. With `since = 0` it is a full load (tombstones skipped).
    pub async fn change_reader(&self, account_id: i64, since: i64) -> Result<ChangeReader> {
        let mut tx = self.read_snapshot().await?;
        let acc = sqlx::query("SELECT change_seq, time_zone FROM accounts WHERE id = $1").bind(account_id).fetch_one(&mut *tx).await?;
        let up_to_seq = get_i64(&acc, "change_seq")?;
        let time_zone = get_str(&acc, "time_zone")?;
        let field_rows = sqlx::query("SELECT id, name, kind, visibility, default_value FROM data_fields WHERE account_id = $1 ORDER BY id")
            .bind(account_id)
            .fetch_all(&mut *tx)
            .await?;
        let mut fields = Vec::with_capacity(field_rows.len());
        for r in &field_rows {
            fields.push(crate::fields::row_to_field_pub(r)?);
        }
        let kinds = fields.iter().map(|f| (f.id, f.kind)).collect();
        let backend = self.backend();
        let cursor = if since == 0 {
            Cursor::Full { after: 0, done: false }
        } else {
            let row = sqlx::query(changed_ids_sql(backend)).bind(account_id).bind(since).bind(up_to_seq).fetch_one(&mut *tx).await?;
            let text: Option<String> = row.try_get(0)?;
            let ids: Vec<i64> =
                serde_json::from_str(text.as_deref().unwrap_or("[]")).map_err(|e| StoreError::Corrupt(format!("changed ids: {e}")))?;
            Cursor::Ids { ids, at: 0 }
        };
        Ok(ChangeReader { tx, account_id, backend, up_to_seq, time_zone, fields, kinds, cursor })
    }

    /// Changes of `account_id` with a sequence above `since`, all at once. With
    /// `since = 0` this is a full load (tombstones skipped).
    pub async fn changes_since(&self, account_id: i64, since: i64) -> Result<ChangeBatch> {
        let mut reader = self.change_reader(account_id, since).await?;
        let mut changes = Vec::new();
        while let Some(chunk) = reader.next_chunk(usize::MAX).await? {
            changes.extend(chunk);
        }
        let (up_to_seq, time_zone, fields) = (reader.up_to_seq, reader.time_zone.clone(), reader.fields.clone());
        reader.finish().await?;
        Ok(ChangeBatch { up_to_seq, time_zone, fields, changes })
    }
}
