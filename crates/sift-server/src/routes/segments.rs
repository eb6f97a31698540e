//! Segment routes: the v2 ones, wire-exact (`GET /v2/segments`, `POST`/`GET
//! /v2/segments/refresh/{id}`), and sift's extensions (save rules, read a segment
//! with its latest refresh, refresh history, preview).

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use sift_core::model::{RefreshStatus, Visibility};
use sift_core::rules::{find_cycle, EvalContext, Rule, Schema};
use sift_core::time::format_instant;
use sift_core::wire::{RefreshRecord, Segment, SegmentDetail, SegmentInput, SegmentRefresh};
use sift_core::ErrorCode;
use sift_store::from_ms;
use sift_store::lists::{List, ListKind};
use sift_store::refreshes::Refresh;

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{V2Json, V2Query};

fn not_found() -> ApiError {
    ApiError::bare(ErrorCode::SegmentNotFound)
}

fn segment_id(raw: &str) -> ApiResult<i64> {
    match raw.trim().parse::<i64>() {
        Ok(n) if n > 0 && n <= i32::MAX as i64 => Ok(n),
        Ok(_) => Err(not_found()),
        Err(_) => Err(ApiError::invalid(format!("'{raw}' is not a valid segment id"))),
    }
}

async fn find(st: &AppState, account: i64, raw: &str) -> ApiResult<List> {
    let id = segment_id(raw)?;
    match st.store.list(account, id).await? {
        Some(l) if l.kind == ListKind::Segment => Ok(l),
        _ => Err(not_found()),
    }
}

fn record(r: &Refresh) -> RefreshRecord {
    RefreshRecord {
        id: r.id,
        status: r.status,
        requested: format_instant(from_ms(r.requested_ms)),
        started: r.started_ms.map(|t| format_instant(from_ms(t))),
        finished: r.finished_ms.map(|t| format_instant(from_ms(t))),
        attempts: r.attempts,
        contacts_evaluated: r.evaluated,
        matched: r.matched,
        joined: r.joined,
        left: r.left,
        evaluation_ms: r.eval_micros.map(|us| us as f64 / 1000.0),
        error: r.error.clone(),
    }
}

fn stored_rule(l: &List) -> serde_json::Value {
    let json: serde_json::Value = l.rule.as_deref().and_then(|t| serde_json::from_str(t).ok()).unwrap_or(serde_json::Value::Null);
    match Rule::from_stored_json(&json) {
        Ok(r) => r.to_json(),
        Err(_) => json,
    }
}

async fn detail(st: &AppState, account: i64, l: &List) -> ApiResult<SegmentDetail> {
    let last = st.store.latest_refresh(account, l.id).await?;
    Ok(SegmentDetail {
        id: l.id,
        name: l.name.clone(),
        contacts: l.contacts,
        rule: stored_rule(l),
        last_refresh: last.as_ref().map(record),
    })
}

async fn schema(st: &AppState, account: i64) -> ApiResult<Schema> {
    let data_fields = st.store.data_fields(account).await?;
    let segment_ids = st.store.segments_with_rules(account).await?.into_iter().map(|(id, _)| id).collect();
    let book_ids = st.store.book_ids(account).await?.into_iter().collect();
    Ok(Schema { data_fields, segment_ids, book_ids })
}

fn parse_rule(raw: Option<&serde_json::Value>, schema: &Schema) -> ApiResult<Rule> {
    let raw = raw.ok_or_else(|| ApiError::invalid("A rule is required"))?;
    Ok(Rule::parse(raw, schema)?)
}

/// Rejects a rule that would make segment `id` read itself through `segments`.
async fn check_cycle(st: &AppState, account: i64, id: i64, rule: &Rule) -> ApiResult<()> {
    let mut rules: HashMap<i64, Rule> = HashMap::new();
    for (sid, text) in st.store.segments_with_rules(account).await? {
        if sid == id {
            continue;
        }
        let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        if let Ok(r) = Rule::from_stored_json(&json) {
            rules.insert(sid, r);
        }
    }
    rules.insert(id, rule.clone());
    if let Some(cycle) = find_cycle(id, &rules) {
        let path: Vec<String> = cycle.iter().map(|s| s.to_string()).collect();
        return Err(ApiError::invalid(format!("The rule would make segments read each other in a cycle ({})", path.join(" -> "))));
    }
    Ok(())
}

/// `GET /v2/segments`: items with exactly `id`, `name`, `contacts`.
pub async fn list(State(st): State<AppState>, caller: Caller, q: V2Query) -> ApiResult<Json<Vec<Segment>>> {
    let rows = st.store.lists(caller.account_id, ListKind::Segment, None, q.page()?).await?;
    Ok(Json(rows.into_iter().map(|l| Segment { id: l.id, name: l.name, contacts: l.contacts }).collect()))
}

/// Extension: `POST /v2/segments` `{name, rule}` → 201 with the full segment. Its
/// first refresh is queued at once.
pub async fn create(
    State(st): State<AppState>,
    caller: Caller,
    V2Json(body): V2Json<SegmentInput>,
) -> ApiResult<(StatusCode, Json<SegmentDetail>)> {
    let name = crate::routes::books::valid_name(body.name.as_deref())?;
    let schema = schema(&st, caller.account_id).await?;
    let rule = parse_rule(body.rule.as_ref(), &schema)?;
    let text = rule.to_stored_json().to_string();
    let l = st.store.create_list(caller.account_id, ListKind::Segment, &name, Visibility::Private, Some(&text)).await?;
    st.signals.refresh.notify_one();
    Ok((StatusCode::CREATED, Json(detail(&st, caller.account_id, &l).await?)))
}

pub async fn get(State(st): State<AppState>, caller: Caller, Path(raw): Path<String>) -> ApiResult<Json<SegmentDetail>> {
    let l = find(&st, caller.account_id, &raw).await?;
    Ok(Json(detail(&st, caller.account_id, &l).await?))
}

/// Extension: `PUT /v2/segments/{id}` `{name?, rule?}`. A new rule queues a refresh.
pub async fn update(
    State(st): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    V2Json(body): V2Json<SegmentInput>,
) -> ApiResult<Json<SegmentDetail>> {
    let l = find(&st, caller.account_id, &raw).await?;
    let name = match body.name.as_deref() {
        Some(n) => crate::routes::books::valid_name(Some(n))?,
        None => l.name.clone(),
    };
    let text = match body.rule.as_ref() {
        Some(raw_rule) => {
            let schema = schema(&st, caller.account_id).await?;
            let rule = parse_rule(Some(raw_rule), &schema)?;
            check_cycle(&st, caller.account_id, l.id, &rule).await?;
            Some(rule.to_stored_json().to_string())
        }
        None => None,
    };
    let l = st.store.update_list(caller.account_id, l.id, &name, l.visibility, text.as_deref()).await?;
    st.signals.refresh.notify_one();
    Ok(Json(detail(&st, caller.account_id, &l).await?))
}

pub async fn remove(State(st): State<AppState>, caller: Caller, Path(raw): Path<String>) -> ApiResult<StatusCode> {
    let l = find(&st, caller.account_id, &raw).await?;
    st.store.delete_list(caller.account_id, l.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Extension: refresh history, newest first.
pub async fn history(
    State(st): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    q: V2Query,
) -> ApiResult<Json<Vec<RefreshRecord>>> {
    let l = find(&st, caller.account_id, &raw).await?;
    let rows = st.store.refresh_history(caller.account_id, l.id, q.page()?).await?;
    Ok(Json(rows.iter().map(record).collect()))
}

#[derive(Deserialize, Default)]
pub struct PreviewInput {
    #[serde(default)]
    rule: Option<serde_json::Value>,
}

#[derive(Serialize)]
pub struct PreviewResult {
    contacts: u64,
}

/// Extension: `POST /v2/segments/preview` `{rule}` → `{"contacts": N}`, counted now,
/// nothing saved.
pub async fn preview(State(st): State<AppState>, caller: Caller, V2Json(body): V2Json<PreviewInput>) -> ApiResult<Json<PreviewResult>> {
    let schema = schema(&st, caller.account_id).await?;
    let rule = parse_rule(body.rule.as_ref(), &schema)?;
    let resolved = rule.resolve(&schema.data_fields)?;
    let segments = crate::jobs::refresh::referenced_segments(&st, caller.account_id, &rule, &schema.data_fields).await.map_err(|e| {
        match e.downcast::<sift_core::SiftError>() {
            Ok(se) => ApiError(se),
            Err(e) => {
                tracing::error!(error = %e, "preview failed");
                ApiError(sift_core::SiftError::unknown())
            }
        }
    })?;
    let index = st.engines.caught_up(&st.store, caller.account_id).await?;
    let ctx = EvalContext { now: st.now(), tz: index.tz(), segments };
    let members = tokio::task::spawn_blocking(move || index.evaluate(&resolved, &ctx))
        .await
        .map_err(|_| ApiError(sift_core::SiftError::unknown()))??;
    Ok(Json(PreviewResult { contacts: members.len() }))
}

/// `POST /v2/segments/refresh/{id}` → 202 `{"id": <segment id>, "status"}`. A refresh
/// already waiting or running is reported instead of starting a second.
pub async fn refresh(State(st): State<AppState>, caller: Caller, Path(raw): Path<String>) -> ApiResult<(StatusCode, Json<SegmentRefresh>)> {
    let l = find(&st, caller.account_id, &raw).await?;
    let r = st.store.request_refresh(caller.account_id, l.id).await?;
    st.signals.refresh.notify_one();
    Ok((StatusCode::ACCEPTED, Json(SegmentRefresh { id: l.id, status: r.status.as_str().into() })))
}

/// `GET /v2/segments/refresh/{id}`: the latest refresh's status. A segment with no
/// refresh at all answers `Finished` so pollers never hang.
pub async fn refresh_status(State(st): State<AppState>, caller: Caller, Path(raw): Path<String>) -> ApiResult<Json<SegmentRefresh>> {
    let id = segment_id(&raw)?;
    let status = st.store.latest_refresh_status(caller.account_id, id).await?.ok_or_else(not_found)?.unwrap_or(RefreshStatus::Finished);
    Ok(Json(SegmentRefresh { id, status: status.as_str().into() }))
}

/// Any version segment other than `v2`: `NotAvailableInThisVersion`.
pub async fn other_version(Path((_version, raw)): Path<(String, String)>) -> ApiResult<Json<SegmentRefresh>> {
    let id = segment_id(&raw)?;
    Ok(Json(SegmentRefresh { id, status: RefreshStatus::NOT_AVAILABLE.into() }))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EngineStats {
    contacts: usize,
    index_bytes: usize,
    bytes_per_contact: f64,
    applied_seq: i64,
    last_catch_up: Option<crate::engines::CatchUp>,
}

/// Extension: `GET /v2/engine-stats` — the account's in-memory index after catching
/// up: contacts, bytes, and what the last catch-up cost.
pub async fn engine_stats(State(st): State<AppState>, caller: Caller) -> ApiResult<Json<EngineStats>> {
    let index = st.engines.caught_up(&st.store, caller.account_id).await?;
    let contacts = index.len();
    let index_bytes = index.memory_bytes();
    Ok(Json(EngineStats {
        contacts,
        index_bytes,
        bytes_per_contact: if contacts == 0 { 0.0 } else { index_bytes as f64 / contacts as f64 },
        applied_seq: index.applied_seq(),
        last_catch_up: st.engines.last_catch_up(caller.account_id),
    }))
}
