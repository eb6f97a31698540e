//! The one error type at the HTTP edge. It renders the v2 body
//! `{"message": "… ERROR_CODE"}` with the status v2 uses; database and unexpected
//! errors are logged with their chain and answered with an opaque 500.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sift_core::{ErrorCode, SiftError};
use sift_store::StoreError;

#[derive(Debug)]
pub struct ApiError(pub SiftError);

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn invalid(text: impl Into<String>) -> Self {
        ApiError(SiftError::invalid(text))
    }
    pub fn bare(code: ErrorCode) -> Self {
        ApiError(SiftError::bare(code))
    }
    pub fn new(code: ErrorCode, text: impl Into<String>) -> Self {
        ApiError(SiftError::new(code, text))
    }
}

impl From<SiftError> for ApiError {
    fn from(e: SiftError) -> Self {
        ApiError(e)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Domain(d) => ApiError(d),
            other => {
                tracing::error!(error = %other, "store failure");
                ApiError(SiftError::unknown())
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::json!({ "message": self.0.message() });
        (status, [(axum::http::header::CONTENT_TYPE, "application/json; charset=utf-8")], body.to_string()).into_response()
    }
}
