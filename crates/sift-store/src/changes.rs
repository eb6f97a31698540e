//! The change feed the engine catches up from: every contact whose change sequence
//! is above what the engine applied, with its state now (or a tombstone), read in one
//! consistent snapshot together with the sequence it is complete up to.

use std::collections::HashMap;

use crate::contacts::row_to_contact;
use crate::{get_i64, get_str, Result, Store};
use futures::TryStreamExt;
use sift_core::model::DataField;
use sift_core::record::{ContactChange, ContactRecord};
use sqlx::Row;

/// What the engine needs to catch up.
#[derive(Debug, Clone)]
pub struct ChangeBatch {
    /// Every change numbered up to this is included.
    pub up_to_seq: i64,
    pub time_zone: String,
    pub fields: Vec<DataField>,
    pub changes: Vec<ContactChange>,
}

impl Store {
    /// Changes of `account_id` with a sequence above `since`. With `since = 0` this is
    /// a full load (tombstones skipped).
    pub async fn changes_since(&self, account_id: i64, since: i64) -> Result<ChangeBatch> {
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
        let by_id: HashMap<String, &DataField> = fields.iter().map(|f| (f.id.to_string(), f)).collect();

        // On a full load the memberships come first, so each contact row becomes a
        // record as it streams by (nothing else of the store is held in memory).
        let mut books: HashMap<i64, Vec<u32>> = HashMap::new();
        if since == 0 {
            let mut rows =
                sqlx::query("SELECT contact_id, book_id FROM book_members WHERE account_id = $1").bind(account_id).fetch(&mut *tx);
            while let Some(r) = rows.try_next().await? {
                books.entry(r.try_get::<i64, _>(0)?).or_default().push(r.try_get::<i64, _>(1)? as u32);
            }
        }
        let sql = "SELECT c.id, c.email, c.status, c.opt_in, c.email_type, c.data, c.created_at, c.modified_at, c.status_changed_at, c.deleted, c.seq \
                   FROM contacts c WHERE c.account_id = $1 AND c.seq > $2 AND c.seq <= $3 AND ($2 > 0 OR c.deleted = 0) ORDER BY c.seq, c.id";
        let mut changes = Vec::new();
        {
            let mut rows = sqlx::query(sql).bind(account_id).bind(since).bind(up_to_seq).fetch(&mut *tx);
            while let Some(r) = rows.try_next().await? {
                let c = row_to_contact(&r)?;
                let id = c.id as u32;
                let record = if c.deleted {
                    None
                } else {
                    let mut values = Vec::with_capacity(c.data.len());
                    for (k, v) in &c.data {
                        if let Some(f) = by_id.get(k) {
                            if let Ok(Some(val)) = sift_core::record::FieldValue::from_json(f.kind, v) {
                                values.push((f.id, val));
                            }
                        }
                    }
                    values.sort_by_key(|(id, _)| *id);
                    let mut b = books.remove(&c.id).unwrap_or_default();
                    b.sort_unstable();
                    Some(ContactRecord {
                        id,
                        email: c.email,
                        status: c.status,
                        opt_in_type: c.opt_in,
                        email_type: c.email_type,
                        created: crate::from_ms(c.created_ms),
                        modified: crate::from_ms(c.modified_ms),
                        fields: values,
                        books: b,
                    })
                };
                changes.push(ContactChange { id, seq: c.seq, record });
            }
        }
        if since > 0 {
            // Memberships of the changed contacts, by contact id (the primary key's
            // prefix), then filled into their records.
            let ids: Vec<i64> = changes.iter().filter(|c| c.record.is_some()).map(|c| c.id as i64).collect();
            for chunk in ids.chunks(500) {
                let placeholders: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
                let sql = format!(
                    "SELECT contact_id, book_id FROM book_members WHERE account_id = $1 AND contact_id IN ({})",
                    placeholders.join(",")
                );
                let mut q = sqlx::query(&sql).bind(account_id);
                for id in chunk {
                    q = q.bind(*id);
                }
                for r in q.fetch_all(&mut *tx).await? {
                    books.entry(r.try_get::<i64, _>(0)?).or_default().push(r.try_get::<i64, _>(1)? as u32);
                }
            }
            for ch in &mut changes {
                if let Some(rec) = &mut ch.record {
                    if let Some(mut b) = books.remove(&(ch.id as i64)) {
                        b.sort_unstable();
                        b.dedup();
                        rec.books = b;
                    }
                }
            }
        }
        tx.commit().await?;
        Ok(ChangeBatch { up_to_seq, time_zone, fields, changes })
    }
}
