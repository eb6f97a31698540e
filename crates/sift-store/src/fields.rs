//! Contact data-field definitions.

use crate::{allocate_ids, get_i64, get_opt_str, get_str, Result, Store, StoreError};
use sift_core::model::{DataField, DataFieldType, Visibility};
use sift_core::record::FieldValue;
use sift_core::{ErrorCode, SiftError};

/// Most data fields one account may define.
pub const MAX_DATA_FIELDS: i64 = 500;

pub(crate) fn row_to_field_pub(r: &sqlx::any::AnyRow) -> Result<DataField> {
    row_to_field(r)
}

fn row_to_field(r: &sqlx::any::AnyRow) -> Result<DataField> {
    let kind = DataFieldType::from_code(get_i64(r, "kind")?).ok_or_else(|| StoreError::Corrupt("field kind".into()))?;
    let default_value = match get_opt_str(r, "default_value")? {
        Some(text) => {
            let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            FieldValue::from_json(kind, &v).map_err(StoreError::Corrupt)?
        }
        None => None,
    };
    Ok(DataField {
        id: get_i64(r, "id")?,
        name: get_str(r, "name")?,
        kind,
        visibility: Visibility::from_code(get_i64(r, "visibility")?).unwrap_or(Visibility::Private),
        default_value,
    })
}

impl Store {
    /// The account's data fields, in creation order.
    pub async fn data_fields(&self, account_id: i64) -> Result<Vec<DataField>> {
        let rows = sqlx::query("SELECT id, name, kind, visibility, default_value FROM data_fields WHERE account_id = $1 ORDER BY id")
            .bind(account_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(row_to_field).collect()
    }

    /// Creates a data field. `name` must already be valid and upper-case.
    pub async fn create_data_field(
        &self,
        account_id: i64,
        name: &str,
        kind: DataFieldType,
        visibility: Visibility,
        default_value: Option<&FieldValue>,
    ) -> Result<DataField> {
        let mut w = self.write().await?;
        let row =
            sqlx::query("SELECT count(*) AS n, sum(CASE WHEN name = $2 THEN 1 ELSE 0 END) AS dup FROM data_fields WHERE account_id = $1")
                .bind(account_id)
                .bind(name)
                .fetch_one(&mut *w.tx)
                .await?;
        let n = get_i64(&row, "n")?;
        let dup: Option<i64> = sqlx::Row::try_get(&row, "dup")?;
        if dup.unwrap_or(0) > 0 {
            return Err(SiftError::new(ErrorCode::NonUniqueDatafield, "Field already exists.").into());
        }
        if n >= MAX_DATA_FIELDS {
            return Err(SiftError::new(
                ErrorCode::DatafieldLimitExceeded,
                format!("An account can have at most {MAX_DATA_FIELDS} data fields."),
            )
            .into());
        }
        let id = allocate_ids(&mut w.tx, account_id, "next_field_id", 1).await?;
        sqlx::query("INSERT INTO data_fields (account_id, id, name, kind, visibility, default_value) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(account_id)
            .bind(id)
            .bind(name)
            .bind(kind.code())
            .bind(visibility.code())
            .bind(default_value.map(|v| v.to_json().to_string()))
            .execute(&mut *w.tx)
            .await?;
        // A new field is a new column for the engine: advance the sequence.
        crate::next_change_seq(&mut w.tx, account_id).await?;
        w.commit().await?;
        Ok(DataField { id, name: name.to_string(), kind, visibility, default_value: default_value.cloned() })
    }

    /// Deletes a data field by (upper-case) name. Values stored under its id become
    /// unreachable: ids are never reused. Returns false if there was no such field.
    pub async fn delete_data_field(&self, account_id: i64, name: &str) -> Result<bool> {
        let mut w = self.write().await?;
        let res = sqlx::query("DELETE FROM data_fields WHERE account_id = $1 AND name = $2")
            .bind(account_id)
            .bind(name)
            .execute(&mut *w.tx)
            .await?;
        if res.rows_affected() > 0 {
            // What rules can read changed: advance the sequence so engines notice.
            crate::next_change_seq(&mut w.tx, account_id).await?;
        }
        w.commit().await?;
        Ok(res.rows_affected() > 0)
    }
}
