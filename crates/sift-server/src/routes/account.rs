use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use sift_core::wire::{AccountInfo, AccountProperty, AccountSettings};

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::V2Json;

fn prop(name: &str, value: String) -> AccountProperty {
    AccountProperty { name: name.into(), kind: "String".into(), value }
}

/// `GET /v2/account-info`, with `ApiEndpoint` pointing at this server's origin (as
/// the client reached it) so clients that discover their region keep talking to us.
pub async fn info(State(st): State<AppState>, caller: Caller, headers: HeaderMap) -> ApiResult<Json<AccountInfo>> {
    let acc = st.store.account(caller.account_id).await?;
    let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1:8080");
    let scheme = headers.get("x-forwarded-proto").and_then(|h| h.to_str().ok()).unwrap_or("http");
    Ok(Json(AccountInfo {
        id: acc.id,
        properties: vec![prop("Name", acc.name), prop("ApiEndpoint", format!("{scheme}://{host}")), prop("TimeZone", acc.time_zone)],
    }))
}

/// Extension: `PUT /v2/account-info` `{"timeZone": "Europe/London"}` sets the time
/// zone calendar-date rules are evaluated in.
pub async fn update(
    State(st): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    V2Json(body): V2Json<AccountSettings>,
) -> ApiResult<Json<AccountInfo>> {
    if let Some(tz) = body.time_zone {
        let parsed: chrono_tz::Tz = tz.trim().parse().map_err(|_| ApiError::invalid(format!("'{tz}' is not an IANA time zone name")))?;
        st.store.set_time_zone(caller.account_id, parsed.name()).await?;
    }
    info(State(st), caller, headers).await
}

/// `GET /v2/server-time`: a bare JSON string.
pub async fn server_time() -> Json<String> {
    Json(sift_core::time::format_instant(chrono::Utc::now()))
}
