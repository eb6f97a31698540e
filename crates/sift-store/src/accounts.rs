//! Accounts and their API users.

use crate::{get_i64, get_str, now_ms, Result, Store, StoreError};
use sift_core::model::{DataFieldType, Visibility, DEFAULT_DATA_FIELDS};
use sqlx::Row;

#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub id: i64,
    pub name: String,
    pub time_zone: String,
    pub change_seq: i64,
}

/// The credentials an API user authenticates with, as stored (digest only).
#[derive(Debug, Clone)]
pub struct ApiUser {
    pub username: String,
    pub account_id: i64,
    pub secret_sha256: Vec<u8>,
}

impl Store {
    /// Creates an account with its default data fields and one API user whose
    /// password digest is `secret_sha256`.
    pub async fn create_account(&self, name: &str, username: &str, secret_sha256: &[u8]) -> Result<Account> {
        let mut w = self.write().await?;
        let now = now_ms();
        let row = sqlx::query("INSERT INTO accounts (name, created_at) VALUES ($1, $2) RETURNING id")
            .bind(name)
            .bind(now)
            .fetch_one(&mut *w.tx)
            .await?;
        let id: i64 = row.try_get(0)?;
        sqlx::query("INSERT INTO api_users (username, account_id, secret_sha256, created_at) VALUES ($1, $2, $3, $4)")
            .bind(username)
            .bind(id)
            .bind(secret_sha256.to_vec())
            .bind(now)
            .execute(&mut *w.tx)
            .await?;
        for (i, (field, kind)) in DEFAULT_DATA_FIELDS.iter().enumerate() {
            sqlx::query(
                "INSERT INTO data_fields (account_id, id, name, kind, visibility, default_value) VALUES ($1, $2, $3, $4, $5, NULL)",
            )
            .bind(id)
            .bind(i as i64 + 1)
            .bind(*field)
            .bind(DataFieldType::code(*kind))
            .bind(Visibility::Private.code())
            .execute(&mut *w.tx)
            .await?;
        }
        sqlx::query("UPDATE accounts SET next_field_id = $2 WHERE id = $1")
            .bind(id)
            .bind(DEFAULT_DATA_FIELDS.len() as i64 + 1)
            .execute(&mut *w.tx)
            .await?;
        w.commit().await?;
        self.account(id).await
    }

    pub async fn account(&self, id: i64) -> Result<Account> {
        let row = sqlx::query("SELECT id, name, time_zone, change_seq FROM accounts WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("account {id} missing")))?;
        Ok(Account {
            id: get_i64(&row, "id")?,
            name: get_str(&row, "name")?,
            time_zone: get_str(&row, "time_zone")?,
            change_seq: get_i64(&row, "change_seq")?,
        })
    }

    /// Sets the account's time zone (an IANA name, validated by the caller).
    pub async fn set_time_zone(&self, account_id: i64, tz: &str) -> Result<()> {
        let mut w = self.write().await?;
        sqlx::query("UPDATE accounts SET time_zone = $2 WHERE id = $1").bind(account_id).bind(tz).execute(&mut *w.tx).await?;
        w.commit().await
    }

    pub async fn api_user(&self, username: &str) -> Result<Option<ApiUser>> {
        let row = sqlx::query("SELECT username, account_id, secret_sha256 FROM api_users WHERE username = $1")
            .bind(username)
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| {
            Ok(ApiUser {
                username: get_str(&r, "username")?,
                account_id: get_i64(&r, "account_id")?,
                secret_sha256: r.try_get::<Vec<u8>, _>("secret_sha256")?,
            })
        })
        .transpose()
    }
}
