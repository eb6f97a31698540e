//! Bulk import submission and status routes. The work itself runs in
//! [`crate::jobs::imports`].

use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use sift_core::model::{ImportStatus, MergeOption};
use sift_core::wire::{ImportState, ImportUpload};
use sift_core::ErrorCode;
use sift_store::imports::ImportReport;

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{body_bytes, parse_json};

/// The uploaded file: name and bytes.
struct Upload {
    name: String,
    bytes: Vec<u8>,
}

async fn read_upload(st: &AppState, req: Request) -> ApiResult<Upload> {
    let ctype = req.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    if ctype.starts_with("multipart/form-data") {
        let mut mp = Multipart::from_request(req, st)
            .await
            .map_err(|_| ApiError::new(ErrorCode::MalformedRequest, "The multipart body could not be read"))?;
        let mut upload: Option<Upload> = None;
        loop {
            let field = match mp.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    return Err(ApiError::new(ErrorCode::RequestTooLarge, "The uploaded file is too large"))
                }
                Err(_) => return Err(ApiError::new(ErrorCode::MalformedRequest, "The multipart body could not be read")),
            };
            let Some(name) = field.file_name().map(str::to_string) else {
                // v2 answers a part without a file name with this literal text.
                return Err(ApiError::bare(ErrorCode::FileMustBeValid));
            };
            if upload.is_some() {
                return Err(ApiError::new(ErrorCode::MultiFileUploadNotAllowed, "Only one file can be imported at a time"));
            }
            let bytes = field.bytes().await.map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(ErrorCode::RequestTooLarge, "The uploaded file is too large")
                } else {
                    ApiError::new(ErrorCode::MalformedRequest, "The uploaded file could not be read")
                }
            })?;
            upload = Some(Upload { name, bytes: bytes.to_vec() });
        }
        upload.ok_or(ApiError::bare(ErrorCode::FileMustBeValid))
    } else if ctype.starts_with("application/json") || ctype.is_empty() {
        let bytes = body_bytes(req, st).await?;
        let body: ImportUpload = parse_json(&bytes)?;
        let data = body.data.ok_or_else(|| ApiError::invalid("data (the file, base64-encoded) is required"))?;
        let bytes =
            base64::engine::general_purpose::STANDARD.decode(data.trim()).map_err(|_| ApiError::invalid("data is not valid base64"))?;
        Ok(Upload { name: body.file_name.unwrap_or_else(|| "import.csv".into()), bytes })
    } else {
        Err(ApiError::new(ErrorCode::ContentTypeNotSupported, "Send the file as multipart/form-data or as JSON"))
    }
}

/// Checks the file before accepting it: a CSV (not Excel), UTF-8, with an Email column.
fn check_file(up: &Upload) -> ApiResult<()> {
    let lower = up.name.to_ascii_lowercase();
    if lower.ends_with(".xls") || lower.ends_with(".xlsx") {
        return Err(ApiError::new(ErrorCode::ImportUnsupportedFormat, "Excel files are not supported; upload a CSV file"));
    }
    if up.bytes.is_empty() {
        return Err(ApiError::new(ErrorCode::NoEmailColumn, "The file is empty and has no Email column"));
    }
    let header = crate::jobs::imports::read_header(&up.bytes).map_err(|why| ApiError::new(ErrorCode::ImportUnsupportedFormat, why))?;
    if crate::jobs::imports::email_column(&header).is_none() {
        return Err(ApiError::new(ErrorCode::NoEmailColumn, "The file has no Email column"));
    }
    for (i, h) in header.iter().enumerate() {
        if !h.is_empty() && header[..i].iter().any(|other| other.eq_ignore_ascii_case(h)) {
            return Err(ApiError::new(ErrorCode::ImportUnsupportedFormat, format!("The column '{h}' appears twice in the file")));
        }
    }
    Ok(())
}

fn parse_merge(raw: &str) -> ApiResult<MergeOption> {
    let raw = raw.trim();
    if let Ok(n) = raw.parse::<i64>() {
        return MergeOption::from_code(n).ok_or_else(|| ApiError::invalid(format!("'{raw}' is not a merge option (0, 1 or 2)")));
    }
    MergeOption::parse(raw).ok_or_else(|| ApiError::invalid(format!("'{raw}' is not a merge option")))
}

async fn submit(st: AppState, account: i64, book: Option<i64>, merge: MergeOption, req: Request) -> ApiResult<Response> {
    let mut up = read_upload(&st, req).await?;
    // The name is only kept for people to read; control characters (NUL cannot be
    // stored in PostgreSQL text) are dropped.
    up.name.retain(|c| !c.is_control());
    check_file(&up)?;
    let id = uuid::Uuid::new_v4().to_string();
    let imp = st.store.create_import(account, &id, book, merge, &up.name, &up.bytes).await?;
    st.signals.import.notify_one();
    Ok((StatusCode::ACCEPTED, Json(ImportState { id: imp.id, status: imp.status.as_str().into() })).into_response())
}

pub async fn submit_account(State(st): State<AppState>, caller: Caller, req: Request) -> ApiResult<Response> {
    submit(st, caller.account_id, None, MergeOption::Overwrite, req).await
}

pub async fn submit_account_merge(
    State(st): State<AppState>,
    caller: Caller,
    Path(option): Path<String>,
    req: Request,
) -> ApiResult<Response> {
    let merge = parse_merge(&option)?;
    submit(st, caller.account_id, None, merge, req).await
}

pub async fn submit_book(State(st): State<AppState>, caller: Caller, Path(raw): Path<String>, req: Request) -> ApiResult<Response> {
    let book = crate::routes::books::writable_book(&st, caller.account_id, &raw).await?;
    submit(st, caller.account_id, Some(book), MergeOption::Overwrite, req).await
}

pub async fn submit_book_merge(
    State(st): State<AppState>,
    caller: Caller,
    Path((raw, option)): Path<(String, String)>,
    req: Request,
) -> ApiResult<Response> {
    let book = crate::routes::books::writable_book(&st, caller.account_id, &raw).await?;
    let merge = parse_merge(&option)?;
    submit(st, caller.account_id, Some(book), merge, req).await
}

async fn find(st: &AppState, account: i64, id: &str) -> ApiResult<sift_store::imports::Import> {
    let id = id.trim().to_ascii_lowercase();
    if uuid::Uuid::parse_str(&id).is_err() {
        return Err(ApiError::bare(ErrorCode::ImportNotFound));
    }
    st.store.import(account, &id).await?.ok_or_else(|| ApiError::bare(ErrorCode::ImportNotFound))
}

pub async fn status(State(st): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<ImportState>> {
    let imp = find(&st, caller.account_id, &id).await?;
    Ok(Json(ImportState { id: imp.id, status: imp.status.as_str().into() }))
}

pub async fn report(State(st): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<ImportReport>> {
    let imp = find(&st, caller.account_id, &id).await?;
    if imp.status != ImportStatus::Finished {
        return Err(ApiError::new(ErrorCode::ImportReportNotFound, "Import is not processed yet or completed with error."));
    }
    Ok(Json(imp.report))
}

/// The faults as UTF-8 CSV: `Reason` then the file's columns.
pub async fn faults(State(st): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    let imp = find(&st, caller.account_id, &id).await?;
    if imp.status != ImportStatus::Finished {
        return Err(ApiError::new(ErrorCode::ImportReportNotFound, "Import is not processed yet or completed with error."));
    }
    Ok(([(CONTENT_TYPE, "text/csv; charset=utf-8")], imp.faults).into_response())
}
