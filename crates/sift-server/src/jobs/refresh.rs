//! The refresh worker: claims a refresh, keeps its lease alive, evaluates the
//! segment's rule on the caught-up index with one "now", and writes the membership,
//! counts and joined/left numbers in one transaction. A rule that no longer fits the
//! account (a deleted data field, a deleted segment it reads) ends `Failed` with a
//! reason, and the previous membership stays.

use std::collections::HashMap;
use std::time::Instant;

use sift_core::rules::{EvalContext, ResolvedRule, Rule};
use sift_core::SiftError;
use sift_store::lists::ListKind;
use sift_store::refreshes::{FinishOutcome, Refresh, RefreshOutcome};
use tokio::sync::watch;

use crate::app::AppState;
use crate::jobs::{guarded, heartbeat, Lease};

pub async fn worker(st: AppState, mut shutdown: watch::Receiver<bool>) {
    loop {
        if *shutdown.borrow() {
            return;
        }
        match st.store.claim_refresh(&st.worker_id, st.lease_ms()).await {
            Ok(Some(r)) => {
                run(&st, r).await;
                continue;
            }
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "claiming a refresh failed"),
        }
        tokio::select! {
            _ = st.signals.refresh.notified() => {}
            _ = tokio::time::sleep(st.config.poll_interval) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// Runs one claimed refresh with a heartbeat beside it.
async fn run(st: &AppState, r: Refresh) {
    let hb = heartbeat(st.clone(), Lease::Refresh { account_id: r.account_id, id: r.id });
    let result = guarded(evaluate_and_finish(st, &r)).await;
    hb.abort();
    if let Err(e) = result {
        // A database hiccup is recoverable: keep the job (its lease lapses and it is
        // run again, up to the attempt limit). A rule problem is not: fail it now.
        if let Some(sift_store::StoreError::Db(db)) = e.downcast_ref::<sift_store::StoreError>() {
            tracing::warn!(segment = r.segment_id, error = %db, "refresh hit a database error; it will be retried after its lease");
            return;
        }
        let reason = match e.downcast_ref::<SiftError>() {
            Some(se) => se.text.clone().unwrap_or_else(|| se.message()),
            None => match e.downcast_ref::<sift_store::StoreError>() {
                Some(sift_store::StoreError::Domain(se)) => se.text.clone().unwrap_or_else(|| se.message()),
                _ => {
                    tracing::error!(segment = r.segment_id, error = %e, "refresh failed");
                    format!("The refresh failed: {e}")
                }
            },
        };
        if let Err(e) = st.store.fail_refresh(r.account_id, r.id, &st.worker_id, &reason).await {
            tracing::error!(error = %e, "recording a failed refresh failed; its lease will lapse and it will be retried");
        }
    }
}

/// Loads the rules of every segment `rule` reads through `segments` conditions,
/// transitively, resolved against the current fields.
pub async fn referenced_segments(
    st: &AppState,
    account: i64,
    rule: &Rule,
    fields: &[sift_core::model::DataField],
) -> anyhow::Result<HashMap<i64, ResolvedRule>> {
    let mut out = HashMap::new();
    let mut todo = rule.segments_used();
    if todo.is_empty() {
        return Ok(out);
    }
    let all: HashMap<i64, String> = st.store.segments_with_rules(account).await?.into_iter().collect();
    while let Some(id) = todo.pop() {
        if out.contains_key(&id) {
            continue;
        }
        let text = all.get(&id).ok_or_else(|| SiftError::invalid(format!("Segment {id} used by this rule no longer exists")))?;
        let json: serde_json::Value = serde_json::from_str(text)?;
        let r = Rule::from_stored_json(&json)?;
        todo.extend(r.segments_used());
        let resolved = r.resolve(fields).map_err(|e| {
            SiftError::invalid(format!("Segment {id} used by this rule cannot be evaluated: {}", e.text.clone().unwrap_or_default()))
        })?;
        out.insert(id, resolved);
    }
    Ok(out)
}

async fn evaluate_and_finish(st: &AppState, r: &Refresh) -> anyhow::Result<()> {
    // One "now" per refresh: every contact sees the same moment.
    let now = st.now();
    loop {
        let Some(seg) = st.store.list(r.account_id, r.segment_id).await? else {
            return Err(SiftError::invalid("The segment was deleted").into());
        };
        if seg.kind != ListKind::Segment {
            return Err(SiftError::invalid("Not a segment").into());
        }
        let json: serde_json::Value = serde_json::from_str(seg.rule.as_deref().unwrap_or("{}"))?;
        let rule = Rule::from_stored_json(&json)?;
        let index = st.engines.caught_up(&st.store, r.account_id).await?;
        let fields = st.store.data_fields(r.account_id).await?;
        let resolved = rule.resolve(&fields)?;
        let segments = referenced_segments(st, r.account_id, &rule, &fields).await?;
        let ctx = EvalContext { now, tz: index.tz(), segments };
        let evaluated = index.len() as i64;
        let t0 = Instant::now();
        let (members, index) = tokio::task::spawn_blocking(move || {
            let m = index.evaluate(&resolved, &ctx);
            (m, index)
        })
        .await?;
        drop(index);
        let members = members?;
        let eval_micros = t0.elapsed().as_micros() as i64;
        let old = st.store.segment_members(r.account_id, r.segment_id).await?.unwrap_or_default();
        let joined = (&members - &old).len() as i64;
        let left = (&old - &members).len() as i64;
        let outcome = RefreshOutcome { evaluated, matched: members.len() as i64, joined, left, eval_micros };
        match st.store.finish_refresh(r.account_id, r.id, r.segment_id, &st.worker_id, seg.rule_version, &members, outcome).await? {
            FinishOutcome::Finished => {
                tracing::info!(
                    segment = r.segment_id,
                    members = members.len(),
                    joined,
                    left,
                    eval_ms = eval_micros as f64 / 1000.0,
                    "refresh finished"
                );
                return Ok(());
            }
            FinishOutcome::RuleChanged => continue,
            FinishOutcome::Lost => {
                tracing::warn!(segment = r.segment_id, "refresh no longer ours; dropped its result");
                return Ok(());
            }
        }
    }
}
