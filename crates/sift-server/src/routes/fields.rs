use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use sift_core::model::{valid_data_field_name, Visibility, UNDELETABLE_DATA_FIELDS};
use sift_core::wire::{self, DataFieldInput, DependencyResult};
use sift_core::ErrorCode;

use crate::app::AppState;
use crate::auth::Caller;
use crate::convert;
use crate::error::{ApiError, ApiResult};
use crate::extract::V2Json;

pub async fn list(State(st): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<wire::DataField>>> {
    let fields = st.store.data_fields(caller.account_id).await?;
    Ok(Json(fields.iter().map(convert::data_field).collect()))
}

pub async fn create(
    State(st): State<AppState>,
    caller: Caller,
    V2Json(body): V2Json<serde_json::Value>,
) -> ApiResult<(StatusCode, Json<wire::DataField>)> {
    // v2 answers a bad type or visibility with ERROR_DATAFIELD_INVALID, like a bad name.
    let body: DataFieldInput =
        serde_json::from_value(body).map_err(|e| ApiError::new(ErrorCode::DatafieldInvalid, format!("The data field is invalid: {e}")))?;
    let name = body.name.as_deref().map(str::trim).unwrap_or("");
    if !valid_data_field_name(name) {
        return Err(ApiError::new(ErrorCode::DatafieldInvalid, "A data field name must be 1 to 20 letters, digits, '_' or '-'"));
    }
    let kind = body
        .kind
        .ok_or_else(|| ApiError::new(ErrorCode::DatafieldInvalid, "A data field type (String, Numeric, Date or Boolean) is required"))?;
    let proto =
        sift_core::model::DataField { id: 0, name: name.to_uppercase(), kind, visibility: Visibility::Private, default_value: None };
    let default_value = match &body.default_value {
        None => None,
        Some(v) => convert::field_value(&proto, v)?,
    };
    let f = st
        .store
        .create_data_field(
            caller.account_id,
            &name.to_uppercase(),
            kind,
            body.visibility.unwrap_or(Visibility::Private),
            default_value.as_ref(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(convert::data_field(&f))))
}

/// `DELETE /v2/data-fields/{name}`: 200 `{"result": true, "dependencies": null}`.
/// Segments that use the field are not a blocking dependency: their next refresh
/// fails naming the field (segment-rules.md), which keeps the v2 behaviour simple.
pub async fn remove(State(st): State<AppState>, caller: Caller, Path(name): Path<String>) -> ApiResult<Json<DependencyResult>> {
    let name = name.trim().to_uppercase();
    if UNDELETABLE_DATA_FIELDS.contains(&name.as_str()) {
        return Err(ApiError::new(ErrorCode::DatafieldInvalid, format!("Data field {name} is a default field and cannot be deleted")));
    }
    if !st.store.delete_data_field(caller.account_id, &name).await? {
        return Err(ApiError::new(ErrorCode::DatafieldNotFound, format!("Data field {name} does not exist")));
    }
    Ok(Json(DependencyResult { result: true, dependencies: None }))
}
