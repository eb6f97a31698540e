//! Contacts, their data-field values and their address-book memberships.
//!
//! A contact's data-field values are one JSON object keyed by field id (not name), so
//! a deleted field's values can never reappear under a new field of the same name.
//! Deleting a contact leaves a tombstone row (`deleted = 1`) stamped with the change
//! sequence, so engines catching up learn of the deletion.

use std::collections::HashMap;

use crate::{allocate_ids, get_i64, get_opt_i64, get_str, next_change_seq, now_ms, Backend, Page, Result, Store, StoreError};
use serde_json::{Map, Value};
use sift_core::model::{email_key, ContactStatus, DataField, EmailType, MergeOption, OptInType};
use sift_core::record::FieldValue;
use sift_core::{ErrorCode, SiftError};
use sqlx::any::AnyRow;
use sqlx::{Any, Transaction};

/// A contact as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredContact {
    pub id: i64,
    pub email: String,
    pub status: ContactStatus,
    pub opt_in: OptInType,
    pub email_type: EmailType,
    /// Data-field values by field id (as text keys).
    pub data: Map<String, Value>,
    pub created_ms: i64,
    pub modified_ms: i64,
    pub status_changed_ms: Option<i64>,
    pub deleted: bool,
    pub seq: i64,
}

impl StoredContact {
    /// The typed value of field `f`, if set.
    pub fn value(&self, f: &DataField) -> Option<FieldValue> {
        self.data.get(&f.id.to_string()).and_then(|v| FieldValue::from_json(f.kind, v).ok().flatten())
    }
}

/// What a client writes to a contact. `None` leaves a property unchanged (or
/// defaulted on create); a data value of `None` clears the field.
#[derive(Debug, Clone, Default)]
pub struct ContactWrite {
    pub email: String,
    pub opt_in: Option<OptInType>,
    pub email_type: Option<EmailType>,
    pub data: Vec<(i64, Option<FieldValue>)>,
}

/// Which contacts a listing returns.
#[derive(Debug, Clone, Copy, Default)]
pub struct ContactFilter {
    pub created_since_ms: Option<i64>,
    pub modified_since_ms: Option<i64>,
    /// Only members of this address book.
    pub book_id: Option<i64>,
    /// Only contacts whose status is not Subscribed since this time.
    pub unsubscribed_since_ms: Option<i64>,
}

const CONTACT_COLS: &str =
    "c.id, c.email, c.status, c.opt_in, c.email_type, c.data, c.created_at, c.modified_at, c.status_changed_at, c.deleted, c.seq";

pub(crate) fn row_to_contact(r: &AnyRow) -> Result<StoredContact> {
    let data_text = get_str(r, "data")?;
    let data = match serde_json::from_str::<Value>(&data_text) {
        Ok(Value::Object(m)) => m,
        _ => return Err(StoreError::Corrupt("contact data".into())),
    };
    Ok(StoredContact {
        id: get_i64(r, "id")?,
        email: get_str(r, "email")?,
        status: ContactStatus::from_code(get_i64(r, "status")?).unwrap_or(ContactStatus::Subscribed),
        opt_in: OptInType::from_code(get_i64(r, "opt_in")?).unwrap_or(OptInType::Unknown),
        email_type: EmailType::from_code(get_i64(r, "email_type")?).unwrap_or(EmailType::Html),
        data,
        created_ms: get_i64(r, "created_at")?,
        modified_ms: get_i64(r, "modified_at")?,
        status_changed_ms: get_opt_i64(r, "status_changed_at")?,
        deleted: get_i64(r, "deleted")? != 0,
        seq: get_i64(r, "seq")?,
    })
}

fn apply_data(data: &mut Map<String, Value>, writes: &[(i64, Option<FieldValue>)], merge: MergeOption) {
    for (id, v) in writes {
        let key = id.to_string();
        match merge {
            MergeOption::Overwrite => {}
            MergeOption::OnlyOverwriteIfNotEmpty => {
                if v.as_ref().is_none_or(|v| v.is_empty()) {
                    continue;
                }
            }
            MergeOption::OnlyOverwriteIfContactDataNotPopulated => {
                if data.get(&key).is_some_and(|old| !old.is_null() && old.as_str().is_none_or(|s| !s.trim().is_empty())) {
                    continue;
                }
            }
        }
        match v {
            Some(v) => {
                data.insert(key, v.to_json());
            }
            None => {
                data.remove(&key);
            }
        }
    }
}

fn new_data(fields: &[DataField], writes: &[(i64, Option<FieldValue>)]) -> Map<String, Value> {
    let mut data = Map::new();
    for f in fields {
        if let Some(d) = &f.default_value {
            data.insert(f.id.to_string(), d.to_json());
        }
    }
    apply_data(&mut data, writes, MergeOption::Overwrite);
    data
}

async fn find_by_key(tx: &mut Transaction<'static, Any>, account_id: i64, key: &str) -> Result<Option<StoredContact>> {
    let sql = format!("SELECT {CONTACT_COLS} FROM contacts c WHERE c.account_id = $1 AND c.email_key = $2 AND c.deleted = 0");
    let row = sqlx::query(&sql).bind(account_id).bind(key).fetch_optional(&mut **tx).await?;
    row.as_ref().map(row_to_contact).transpose()
}

async fn insert_contact(tx: &mut Transaction<'static, Any>, account_id: i64, c: &StoredContact) -> Result<()> {
    sqlx::query("INSERT INTO contacts (account_id, id, email, email_key, status, opt_in, email_type, data, created_at, modified_at, status_changed_at, deleted, seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, $12)")
        .bind(account_id)
        .bind(c.id)
        .bind(&c.email)
        .bind(email_key(&c.email))
        .bind(c.status.code())
        .bind(c.opt_in.code())
        .bind(c.email_type.code())
        .bind(Value::Object(c.data.clone()).to_string())
        .bind(c.created_ms)
        .bind(c.modified_ms)
        .bind(c.status_changed_ms)
        .bind(c.seq)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn update_row(tx: &mut Transaction<'static, Any>, account_id: i64, c: &StoredContact) -> Result<()> {
    sqlx::query("UPDATE contacts SET email = $3, email_key = $4, status = $5, opt_in = $6, email_type = $7, data = $8, modified_at = $9, status_changed_at = $10, seq = $11 WHERE account_id = $1 AND id = $2")
        .bind(account_id)
        .bind(c.id)
        .bind(&c.email)
        .bind(email_key(&c.email))
        .bind(c.status.code())
        .bind(c.opt_in.code())
        .bind(c.email_type.code())
        .bind(Value::Object(c.data.clone()).to_string())
        .bind(c.modified_ms)
        .bind(c.status_changed_ms)
        .bind(c.seq)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn add_member(tx: &mut Transaction<'static, Any>, account_id: i64, book_id: i64, contact_id: i64, now: i64) -> Result<()> {
    sqlx::query("INSERT INTO book_members (account_id, book_id, contact_id, added_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
        .bind(account_id)
        .bind(book_id)
        .bind(contact_id)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Counters of one import batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchCounts {
    pub new_contacts: i64,
    pub updated_contacts: i64,
}

/// A batch's result: counters, and the rows left alone because the contact is
/// suppressed (index into the batch, the contact's status).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchResult {
    pub counts: BatchCounts,
    pub suppressed: Vec<(usize, ContactStatus)>,
}

/// One valid row of an import.
#[derive(Debug, Clone)]
pub struct ImportRow {
    pub email: String,
    pub opt_in: Option<OptInType>,
    pub email_type: Option<EmailType>,
    pub data: Vec<(i64, Option<FieldValue>)>,
}

impl Store {
    pub async fn contact(&self, account_id: i64, id: i64) -> Result<StoredContact> {
        let sql = format!("SELECT {CONTACT_COLS} FROM contacts c WHERE c.account_id = $1 AND c.id = $2 AND c.deleted = 0");
        let row = sqlx::query(&sql).bind(account_id).bind(id).fetch_optional(self.pool()).await?;
        row.as_ref().map(row_to_contact).transpose()?.ok_or_else(|| StoreError::not_found(ErrorCode::ContactNotFound))
    }

    pub async fn contact_by_email(&self, account_id: i64, email: &str) -> Result<StoredContact> {
        let sql = format!("SELECT {CONTACT_COLS} FROM contacts c WHERE c.account_id = $1 AND c.email_key = $2 AND c.deleted = 0");
        let row = sqlx::query(&sql).bind(account_id).bind(email_key(email)).fetch_optional(self.pool()).await?;
        row.as_ref().map(row_to_contact).transpose()?.ok_or_else(|| StoreError::not_found(ErrorCode::ContactNotFound))
    }

    /// Contacts by id (missing or deleted ids are skipped), in ascending id order.
    pub async fn contacts_by_ids(&self, account_id: i64, ids: &[i64]) -> Result<Vec<StoredContact>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let placeholders: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "SELECT {CONTACT_COLS} FROM contacts c WHERE c.account_id = $1 AND c.deleted = 0 AND c.id IN ({}) ORDER BY c.id",
                placeholders.join(",")
            );
            let mut q = sqlx::query(&sql).bind(account_id);
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(self.pool()).await? {
                out.push(row_to_contact(&r)?);
            }
        }
        out.sort_by_key(|c| c.id);
        Ok(out)
    }

    /// A page of contacts in ascending id order.
    pub async fn list_contacts(&self, account_id: i64, filter: ContactFilter, page: Page) -> Result<Vec<StoredContact>> {
        let mut sql = format!("SELECT {CONTACT_COLS} FROM contacts c");
        if filter.book_id.is_some() {
            sql.push_str(" JOIN book_members m ON m.account_id = c.account_id AND m.contact_id = c.id AND m.book_id = $4");
        }
        sql.push_str(" WHERE c.account_id = $1 AND c.deleted = 0");
        if filter.created_since_ms.is_some() {
            sql.push_str(" AND c.created_at >= $5");
        }
        if filter.modified_since_ms.is_some() {
            sql.push_str(" AND c.modified_at >= $6");
        }
        if filter.unsubscribed_since_ms.is_some() {
            sql.push_str(" AND c.status <> 0 AND c.status_changed_at >= $7");
        }
        sql.push_str(" ORDER BY c.id LIMIT $2 OFFSET $3");
        let rows = sqlx::query(&sql)
            .bind(account_id)
            .bind(page.select)
            .bind(page.skip)
            .bind(filter.book_id.unwrap_or(0))
            .bind(filter.created_since_ms.unwrap_or(0))
            .bind(filter.modified_since_ms.unwrap_or(0))
            .bind(filter.unsubscribed_since_ms.unwrap_or(0))
            .fetch_all(self.pool())
            .await;
        // SQLite rejects binding parameters the statement does not use, so the
        // statement always mentions them all.
        let rows = match rows {
            Ok(r) => r,
            Err(e) => return Err(e.into()),
        };
        rows.iter().map(row_to_contact).collect()
    }

    pub async fn count_contacts(&self, account_id: i64) -> Result<i64> {
        let row = sqlx::query("SELECT count(*) FROM contacts WHERE account_id = $1 AND deleted = 0")
            .bind(account_id)
            .fetch_one(self.pool())
            .await?;
        Ok(sqlx::Row::try_get::<i64, _>(&row, 0)?)
    }

    /// Creates the contact, or updates the one with the same address (v2's
    /// "create or update"). Optionally adds it to an address book in the same
    /// transaction. Returns the contact and whether it was created.
    pub async fn upsert_contact(
        &self,
        account_id: i64,
        fields: &[DataField],
        write: &ContactWrite,
        book_id: Option<i64>,
    ) -> Result<(StoredContact, bool)> {
        let mut w = self.write().await?;
        let seq = next_change_seq(&mut w.tx, account_id).await?;
        let now = now_ms();
        let existing = find_by_key(&mut w.tx, account_id, &email_key(&write.email)).await?;
        let (contact, created) = match existing {
            Some(mut c) => {
                c.email = write.email.clone();
                if let Some(o) = write.opt_in {
                    c.opt_in = o;
                }
                if let Some(t) = write.email_type {
                    c.email_type = t;
                }
                apply_data(&mut c.data, &write.data, MergeOption::Overwrite);
                c.modified_ms = now;
                c.seq = seq;
                update_row(&mut w.tx, account_id, &c).await?;
                (c, false)
            }
            None => {
                let id = allocate_ids(&mut w.tx, account_id, "next_contact_id", 1).await?;
                let c = StoredContact {
                    id,
                    email: write.email.clone(),
                    status: ContactStatus::Subscribed,
                    opt_in: write.opt_in.unwrap_or(OptInType::Unknown),
                    email_type: write.email_type.unwrap_or(EmailType::Html),
                    data: new_data(fields, &write.data),
                    created_ms: now,
                    modified_ms: now,
                    status_changed_ms: None,
                    deleted: false,
                    seq,
                };
                insert_contact(&mut w.tx, account_id, &c).await?;
                (c, true)
            }
        };
        if let Some(book) = book_id {
            add_member(&mut w.tx, account_id, book, contact.id, now).await?;
        }
        w.commit().await?;
        Ok((contact, created))
    }

    /// Updates contact `id` (its address may change, but not to one another contact
    /// of the account has).
    pub async fn update_contact(&self, account_id: i64, id: i64, write: &ContactWrite) -> Result<StoredContact> {
        let mut w = self.write().await?;
        let sql = format!("SELECT {CONTACT_COLS} FROM contacts c WHERE c.account_id = $1 AND c.id = $2 AND c.deleted = 0");
        let row = sqlx::query(&sql).bind(account_id).bind(id).fetch_optional(&mut *w.tx).await?;
        let mut c = row.as_ref().map(row_to_contact).transpose()?.ok_or_else(|| StoreError::not_found(ErrorCode::ContactNotFound))?;
        if email_key(&c.email) != email_key(&write.email) {
            if let Some(other) = find_by_key(&mut w.tx, account_id, &email_key(&write.email)).await? {
                if other.id != id {
                    return Err(SiftError::new(ErrorCode::NonUniqueEmail, "Another contact already has this email address.").into());
                }
            }
        }
        let seq = next_change_seq(&mut w.tx, account_id).await?;
        c.email = write.email.clone();
        if let Some(o) = write.opt_in {
            c.opt_in = o;
        }
        if let Some(t) = write.email_type {
            c.email_type = t;
        }
        apply_data(&mut c.data, &write.data, MergeOption::Overwrite);
        c.modified_ms = now_ms();
        c.seq = seq;
        update_row(&mut w.tx, account_id, &c).await?;
        w.commit().await?;
        Ok(c)
    }

    /// Deletes a contact (leaving a tombstone for the change feed) and its memberships.
    pub async fn delete_contact(&self, account_id: i64, id: i64) -> Result<()> {
        let mut w = self.write().await?;
        let seq = next_change_seq(&mut w.tx, account_id).await?;
        let res = sqlx::query("UPDATE contacts SET deleted = 1, seq = $3, modified_at = $4, email_key = email_key || '#' || CAST(id AS TEXT) WHERE account_id = $1 AND id = $2 AND deleted = 0")
            .bind(account_id)
            .bind(id)
            .bind(seq)
            .bind(now_ms())
            .execute(&mut *w.tx)
            .await?;
        if res.rows_affected() == 0 {
            return Err(StoreError::not_found(ErrorCode::ContactNotFound));
        }
        sqlx::query("DELETE FROM book_members WHERE account_id = $1 AND contact_id = $2")
            .bind(account_id)
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        w.commit().await
    }

    /// Sets a contact's status (unsubscribe, resubscribe). Returns the contact.
    pub async fn set_contact_status(&self, account_id: i64, id: i64, status: ContactStatus) -> Result<StoredContact> {
        let mut w = self.write().await?;
        let seq = next_change_seq(&mut w.tx, account_id).await?;
        let now = now_ms();
        let res = sqlx::query("UPDATE contacts SET status = $3, status_changed_at = $4, modified_at = $4, seq = $5 WHERE account_id = $1 AND id = $2 AND deleted = 0")
            .bind(account_id)
            .bind(id)
            .bind(status.code())
            .bind(now)
            .bind(seq)
            .execute(&mut *w.tx)
            .await?;
        if res.rows_affected() == 0 {
            return Err(StoreError::not_found(ErrorCode::ContactNotFound));
        }
        w.commit().await?;
        self.contact(account_id, id).await
    }

    /// Ids of the address books contact `id` is in, ascending.
    pub async fn contact_book_ids(&self, account_id: i64, contact_id: i64) -> Result<Vec<i64>> {
        let rows = sqlx::query("SELECT book_id FROM book_members WHERE account_id = $1 AND contact_id = $2 ORDER BY book_id")
            .bind(account_id)
            .bind(contact_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(|r| Ok(sqlx::Row::try_get::<i64, _>(r, 0)?)).collect()
    }

    /// Removes a contact from an address book. Returns whether it was a member.
    pub async fn remove_from_book(&self, account_id: i64, book_id: i64, contact_id: i64) -> Result<bool> {
        let mut w = self.write().await?;
        let res = sqlx::query("DELETE FROM book_members WHERE account_id = $1 AND book_id = $2 AND contact_id = $3")
            .bind(account_id)
            .bind(book_id)
            .bind(contact_id)
            .execute(&mut *w.tx)
            .await?;
        if res.rows_affected() > 0 {
            let seq = next_change_seq(&mut w.tx, account_id).await?;
            touch(&mut w.tx, account_id, &[contact_id], seq).await?;
        }
        w.commit().await?;
        Ok(res.rows_affected() > 0)
    }

    /// Writes one batch of import rows in the caller's transaction: creates new
    /// contacts, merges into existing ones, adds all to `book_id`. Rows must have
    /// distinct addresses.
    pub async fn import_batch(
        &self,
        tx: &mut Transaction<'static, Any>,
        account_id: i64,
        fields: &[DataField],
        rows: &[ImportRow],
        book_id: Option<i64>,
        merge: MergeOption,
    ) -> Result<BatchResult> {
        let mut counts = BatchCounts::default();
        let mut suppressed = Vec::new();
        if rows.is_empty() {
            return Ok(BatchResult::default());
        }
        let seq = next_change_seq(tx, account_id).await?;
        let now = now_ms();
        // Numbered parameters (`$n`) cost SQLite a linear search per parameter when
        // binding (sqlite3_bind_parameter_name), quadratic in a statement with
        // thousands of them; anonymous `?` are bound by position. PostgreSQL needs `$n`.
        let sqlite = self.backend() == Backend::Sqlite;
        let param = |n: usize| if sqlite { "?".to_string() } else { format!("${n}") };
        // Existing contacts of this batch, by address key.
        let mut existing: HashMap<String, StoredContact> = HashMap::new();
        for chunk in rows.chunks(1000) {
            let placeholders: Vec<String> = (0..chunk.len()).map(|i| param(i + 2)).collect();
            let sql = format!(
                "SELECT {CONTACT_COLS} FROM contacts c WHERE c.account_id = {} AND c.deleted = 0 AND c.email_key IN ({})",
                param(1),
                placeholders.join(",")
            );
            let mut q = sqlx::query(&sql).bind(account_id);
            for r in chunk {
                q = q.bind(email_key(&r.email));
            }
            for row in q.fetch_all(&mut **tx).await? {
                let c = row_to_contact(&row)?;
                existing.insert(email_key(&c.email), c);
            }
        }
        let new_count = rows.len() - existing.len();
        let mut next_id = if new_count > 0 { allocate_ids(tx, account_id, "next_contact_id", new_count as i64).await? } else { 0 };
        // New and changed contacts alike are written whole, by multi-row upserts: no
        // statement per row.
        let mut writes: Vec<StoredContact> = Vec::with_capacity(rows.len());
        for (i, r) in rows.iter().enumerate() {
            match existing.remove(&email_key(&r.email)) {
                Some(c) if c.status.is_suppressed() => suppressed.push((i, c.status)),
                Some(mut c) => {
                    if let Some(o) = r.opt_in {
                        c.opt_in = o;
                    }
                    if let Some(t) = r.email_type {
                        c.email_type = t;
                    }
                    apply_data(&mut c.data, &r.data, merge);
                    c.modified_ms = now;
                    c.seq = seq;
                    writes.push(c);
                    counts.updated_contacts += 1;
                }
                None => {
                    writes.push(StoredContact {
                        id: next_id,
                        email: r.email.clone(),
                        status: ContactStatus::Subscribed,
                        opt_in: r.opt_in.unwrap_or(OptInType::Unknown),
                        email_type: r.email_type.unwrap_or(EmailType::Html),
                        data: new_data(fields, &r.data),
                        created_ms: now,
                        modified_ms: now,
                        status_changed_ms: None,
                        deleted: false,
                        seq,
                    });
                    next_id += 1;
                    counts.new_contacts += 1;
                }
            }
        }
        const COLS: usize = 12;
        for chunk in writes.chunks(1000) {
            let mut sql = String::with_capacity(64 + chunk.len() * COLS * 6);
            sql.push_str("INSERT INTO contacts (account_id, id, email, email_key, status, opt_in, email_type, data, created_at, modified_at, status_changed_at, seq, deleted) VALUES ");
            for i in 0..chunk.len() {
                sql.push_str(if i > 0 { ",(" } else { "(" });
                for j in 0..COLS {
                    sql.push_str(&param(i * COLS + j + 1));
                    sql.push(',');
                }
                sql.push_str("0)");
            }
            sql.push_str(
                " ON CONFLICT (account_id, id) DO UPDATE SET email = excluded.email, email_key = excluded.email_key, status = excluded.status, \
                 opt_in = excluded.opt_in, email_type = excluded.email_type, data = excluded.data, modified_at = excluded.modified_at, \
                 status_changed_at = excluded.status_changed_at, seq = excluded.seq",
            );
            let mut q = sqlx::query(&sql);
            for c in chunk {
                q = q
                    .bind(account_id)
                    .bind(c.id)
                    .bind(c.email.clone())
                    .bind(email_key(&c.email))
                    .bind(c.status.code())
                    .bind(c.opt_in.code())
                    .bind(c.email_type.code())
                    .bind(Value::Object(c.data.clone()).to_string())
                    .bind(c.created_ms)
                    .bind(c.modified_ms)
                    .bind(c.status_changed_ms)
                    .bind(c.seq);
            }
            q.execute(&mut **tx).await?;
        }
        if let Some(book) = book_id {
            for chunk in writes.chunks(2000) {
                let mut sql = String::with_capacity(96 + chunk.len() * 24);
                sql.push_str("INSERT INTO book_members (account_id, book_id, contact_id, added_at) VALUES ");
                for i in 0..chunk.len() {
                    let b = i * 4;
                    if i > 0 {
                        sql.push(',');
                    }
                    sql.push_str(&format!("({},{},{},{})", param(b + 1), param(b + 2), param(b + 3), param(b + 4)));
                }
                sql.push_str(" ON CONFLICT DO NOTHING");
                let mut q = sqlx::query(&sql);
                for c in chunk {
                    q = q.bind(account_id).bind(book).bind(c.id).bind(now);
                }
                q.execute(&mut **tx).await?;
            }
        }
        Ok(BatchResult { counts, suppressed })
    }
}

/// Stamps contacts with a new change sequence (their memberships changed).
pub(crate) async fn touch(tx: &mut Transaction<'static, Any>, account_id: i64, ids: &[i64], seq: i64) -> Result<()> {
    for chunk in ids.chunks(500) {
        let placeholders: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 3)).collect();
        let sql = format!("UPDATE contacts SET seq = $2 WHERE account_id = $1 AND id IN ({})", placeholders.join(","));
        let mut q = sqlx::query(&sql).bind(account_id).bind(seq);
        for id in chunk {
            q = q.bind(*id);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}
