//! Exact memberships the contract pins, evaluated by the engine (and checked against
//! the reference evaluator).

mod common;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use common::*;
use serde_json::json;
use sift_core::record::{DateValue, FieldValue};
use std::collections::HashMap;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)).unwrap_or_default()
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
}

/// Loads contacts 1..=n with the given field values, evaluates `rule` with both
/// evaluators, asserts they agree and returns the members.
fn members(tz: Tz, now: DateTime<Utc>, values: Vec<Vec<(i64, FieldValue)>>, rule: serde_json::Value) -> Vec<u32> {
    let mut pair = Pair::new(tz);
    let created = at("2020-01-01T00:00:00Z");
    pair.apply(
        values.into_iter().enumerate().map(|(i, v)| (i as u32 + 1, Some(with_fields(contact(i as u32 + 1, created), v)))).collect(),
        false,
    );
    let rule = resolve(&parse(rule, &[]));
    let ctx = ctx(now, tz, HashMap::new());
    let engine = pair.engine(&rule, &ctx);
    assert_eq!(engine, pair.reference(&rule, &ctx), "engine and reference disagree");
    engine
}

fn s(v: &str) -> Vec<(i64, FieldValue)> {
    vec![(STAGE, FieldValue::Str(v.into())), (NAME, FieldValue::Str(v.into()))]
}

fn now() -> DateTime<Utc> {
    at("2024-06-15T12:00:00Z")
}

#[test]
fn not_equals_twice_keeps_empty_and_blank_values() {
    let values = vec![s("A"), s("B"), s(""), s("  ")];
    let rule = json!({"all": [
        {"field": "dataFields.STAGE", "op": "notEquals", "value": "A"},
        {"field": "dataFields.STAGE", "op": "notEquals", "value": "B"}
    ]});
    assert_eq!(members(Tz::UTC, now(), values.clone(), rule), vec![3, 4]);
    let empty = json!({"field": "dataFields.STAGE", "op": "isEmpty"});
    assert_eq!(members(Tz::UTC, now(), values.clone(), empty), vec![3, 4]);
    let not_empty = json!({"field": "dataFields.stage", "op": "ISNOTEMPTY"});
    assert_eq!(members(Tz::UTC, now(), values, not_empty), vec![1, 2]);
}

#[test]
fn contains_and_equals_ignore_case_only() {
    let values = vec![s("Alex"), s("ALEX"), s("alexandra"), vec![]];
    let contains = json!({"field": "dataFields.NAME", "op": "contains", "value": "alex"});
    assert_eq!(members(Tz::UTC, now(), values.clone(), contains), vec![1, 2, 3]);
    let equals = json!({"field": "dataFields.NAME", "op": "equals", "value": "alex"});
    assert_eq!(members(Tz::UTC, now(), values.clone(), equals), vec![1, 2]);
    let not_contains = json!({"field": "dataFields.NAME", "op": "notContains", "value": "ALEX"});
    assert_eq!(members(Tz::UTC, now(), values, not_contains), vec![4]);
}

#[test]
fn leading_space_is_not_trimmed() {
    let values = vec![s("UK"), s(" UK"), s("uk")];
    let rule = json!({"field": "dataFields.STAGE", "op": "in", "value": ["UK", "IE"]});
    assert_eq!(members(Tz::UTC, now(), values, rule), vec![1, 3]);
}

#[test]
fn numbers_compare_as_numbers_and_empty_matches_no_positive_operator() {
    let n = |v: f64| vec![(SPEND, FieldValue::Num(v))];
    let values = vec![n(9.0), n(10.0), n(100.0), vec![], n(-3.0)];
    let gt = json!({"field": "dataFields.SPEND", "op": "greaterThan", "value": 9});
    assert_eq!(members(Tz::UTC, now(), values.clone(), gt), vec![2, 3]);
    let lt = json!({"field": "dataFields.SPEND", "op": "lessThan", "value": 10});
    assert_eq!(members(Tz::UTC, now(), values.clone(), lt), vec![1, 5]);
    let between = json!({"field": "dataFields.SPEND", "op": "between", "value": [9, 10]});
    assert_eq!(members(Tz::UTC, now(), values.clone(), between), vec![1, 2]);
    let not_in = json!({"field": "dataFields.SPEND", "op": "notIn", "value": [9, 100]});
    assert_eq!(members(Tz::UTC, now(), values, not_in), vec![2, 4, 5]);
}

#[test]
fn string_values_are_never_coerced_to_numbers() {
    // A String field holding "9" and "10": equals compares text, folded.
    let values = vec![s("9"), s("10")];
    let rule = json!({"field": "dataFields.STAGE", "op": "startsWith", "value": "1"});
    assert_eq!(members(Tz::UTC, now(), values, rule), vec![2]);
}

#[test]
fn booleans_match_only_set_values() {
    let b = |v: bool| vec![(VIP, FieldValue::Bool(v))];
    let values = vec![b(true), b(false), vec![]];
    let t = json!({"field": "dataFields.VIP", "op": "isTrue"});
    assert_eq!(members(Tz::UTC, now(), values.clone(), t), vec![1]);
    let f = json!({"field": "dataFields.VIP", "op": "isFalse"});
    assert_eq!(members(Tz::UTC, now(), values.clone(), f), vec![2]);
    let e = json!({"field": "dataFields.VIP", "op": "isEmpty"});
    assert_eq!(members(Tz::UTC, now(), values, e), vec![3]);
}

fn d(v: DateValue) -> Vec<(i64, FieldValue)> {
    vec![(SIGNUP, FieldValue::Date(v))]
}

#[test]
fn calendar_operators_use_the_account_time_zone() {
    // 2024-06-15T02:00Z is still 14 June in New York, already 15 June in Auckland.
    let values = vec![d(DateValue::Instant(at("2024-06-15T02:00:00Z"))), d(DateValue::Day(day("2024-06-15")))];
    let on = json!({"field": "dataFields.SIGNUP", "op": "on", "value": "2024-06-15"});
    assert_eq!(members(Tz::UTC, now(), values.clone(), on.clone()), vec![1, 2]);
    assert_eq!(members(Tz::America__New_York, now(), values.clone(), on.clone()), vec![2]);
    assert_eq!(members(Tz::Pacific__Auckland, now(), values.clone(), on), vec![1, 2]);
    let before = json!({"field": "dataFields.SIGNUP", "op": "before", "value": "2024-06-15"});
    assert_eq!(members(Tz::America__New_York, now(), values.clone(), before), vec![1]);
    let between = json!({"field": "dataFields.SIGNUP", "op": "between", "value": ["2024-06-14", "2024-06-15"]});
    assert_eq!(members(Tz::America__New_York, now(), values, between), vec![1, 2]);
}

#[test]
fn in_last_runs_from_the_start_of_the_day_n_days_ago_to_now() {
    // now = 2024-06-15 12:00 UTC; inLast 30 days starts at 2024-05-16 00:00.
    let values = vec![
        d(DateValue::Instant(at("2024-05-16T00:00:00Z"))),
        d(DateValue::Instant(at("2024-05-15T23:59:59Z"))),
        d(DateValue::Instant(at("2024-06-15T12:00:00Z"))),
        d(DateValue::Instant(at("2024-06-15T12:00:01Z"))),
        d(DateValue::Day(day("2024-06-15"))),
        d(DateValue::Day(day("2024-05-16"))),
        d(DateValue::Day(day("2024-05-15"))),
        vec![],
    ];
    let in_last = json!({"field": "dataFields.SIGNUP", "op": "inLast", "value": {"amount": 30, "unit": "days"}});
    assert_eq!(members(Tz::UTC, now(), values.clone(), in_last), vec![1, 3, 5, 6]);
    let not_in_last = json!({"field": "dataFields.SIGNUP", "op": "notInLast", "value": {"AMOUNT": 30, "Unit": "DAYS"}});
    assert_eq!(members(Tz::UTC, now(), values.clone(), not_in_last), vec![2, 4, 7, 8]);
    let more_than_ago = json!({"field": "dataFields.SIGNUP", "op": "moreThanAgo", "value": {"amount": 30, "unit": "days"}});
    assert_eq!(members(Tz::UTC, now(), values.clone(), more_than_ago), vec![2, 7]);
    let in_next = json!({"field": "dataFields.SIGNUP", "op": "inNext", "value": {"amount": 1, "unit": "days"}});
    assert_eq!(members(Tz::UTC, now(), values, in_next), vec![3, 4, 5]);
}

#[test]
fn months_clamp_to_the_end_of_the_month() {
    // 31 March minus 1 month is 29 February 2024.
    let now = at("2024-03-31T10:00:00Z");
    let values = vec![d(DateValue::Day(day("2024-02-29"))), d(DateValue::Day(day("2024-02-28")))];
    let rule = json!({"field": "dataFields.SIGNUP", "op": "inLast", "value": {"amount": 1, "unit": "months"}});
    assert_eq!(members(Tz::UTC, now, values, rule), vec![1]);
}

#[test]
fn anniversary_of_29_february_counts_on_28_february_in_other_years() {
    let values = vec![
        d(DateValue::Day(day("2020-02-29"))),
        d(DateValue::Day(day("2019-02-28"))),
        d(DateValue::Day(day("2019-03-01"))),
        d(DateValue::Instant(at("2016-02-29T10:00:00Z"))),
    ];
    let rule = json!({"field": "dataFields.SIGNUP", "op": "anniversaryToday"});
    assert_eq!(members(Tz::UTC, at("2023-02-28T09:00:00Z"), values.clone(), rule.clone()), vec![1, 2, 4]);
    assert_eq!(members(Tz::UTC, at("2024-02-28T09:00:00Z"), values.clone(), rule.clone()), vec![2]);
    assert_eq!(members(Tz::UTC, at("2024-02-29T09:00:00Z"), values, rule), vec![1, 4]);
}

#[test]
fn instants_in_a_repeated_hour_compare_with_now_exactly() {
    // New York sets clocks back at 2021-11-07 06:00Z (02:00 EDT → 01:00 EST).
    // now = 05:40Z = 01:40 EDT (first pass). 06:10Z = 01:10 EST is later than now
    // although its wall-clock time is earlier.
    let now = at("2021-11-07T05:40:00Z");
    let values = vec![
        d(DateValue::Instant(at("2021-11-07T05:20:00Z"))),
        d(DateValue::Instant(at("2021-11-07T06:10:00Z"))),
        d(DateValue::Instant(at("2021-11-07T06:50:00Z"))),
    ];
    let in_last = json!({"field": "dataFields.SIGNUP", "op": "inLast", "value": {"amount": 1, "unit": "days"}});
    assert_eq!(members(Tz::America__New_York, now, values.clone(), in_last), vec![1]);
    let in_next = json!({"field": "dataFields.SIGNUP", "op": "inNext", "value": {"amount": 1, "unit": "days"}});
    assert_eq!(members(Tz::America__New_York, now, values, in_next), vec![2, 3]);
}

#[test]
fn groups_empty_all_matches_everyone_and_empty_any_no_one() {
    let values = vec![s("A"), vec![]];
    assert_eq!(members(Tz::UTC, now(), values.clone(), json!({"all": []})), vec![1, 2]);
    assert_eq!(members(Tz::UTC, now(), values.clone(), json!({"any": []})), Vec::<u32>::new());
    assert_eq!(members(Tz::UTC, now(), values, json!({"not": {"any": []}})), vec![1, 2]);
}

#[test]
fn address_book_and_segment_sets() {
    let mut pair = Pair::new(Tz::UTC);
    let created = at("2020-01-01T00:00:00Z");
    let mut batch = Vec::new();
    for (id, books, stage) in [(1, vec![1, 2], "A"), (2, vec![2], "B"), (3, vec![], "A")] {
        let mut c = with_fields(contact(id, created), s(stage));
        c.books = books;
        batch.push((id, Some(c)));
    }
    pair.apply(batch, false);
    let seg = resolve(&parse(json!({"field": "dataFields.STAGE", "op": "equals", "value": "a"}), &[]));
    let ctx = ctx(now(), Tz::UTC, HashMap::from([(7, seg)]));
    let check = |rule: serde_json::Value, expected: Vec<u32>| {
        let rule = resolve(&parse(rule, &[7]));
        assert_eq!(pair.engine(&rule, &ctx), expected);
        assert_eq!(pair.reference(&rule, &ctx), expected);
    };
    check(json!({"field": "addressBooks", "op": "contains", "value": 2}), vec![1, 2]);
    check(json!({"field": "addressBooks", "op": "notContains", "value": 1}), vec![2, 3]);
    check(json!({"field": "addressBooks", "op": "containsAll", "value": [1, 2]}), vec![1]);
    check(json!({"field": "addressBooks", "op": "containsAny", "value": [1, 2]}), vec![1, 2]);
    check(json!({"field": "addressBooks", "op": "containsNone", "value": [1, 2]}), vec![3]);
    check(json!({"field": "segments", "op": "contains", "value": 7}), vec![1, 3]);
    check(
        json!({"all": [{"field": "segments", "op": "contains", "value": 7}, {"field": "addressBooks", "op": "contains", "value": 1}]}),
        vec![1],
    );
}

#[test]
fn deletions_reupserts_and_compaction_keep_the_index_exact() {
    let mut pair = Pair::new(Tz::Pacific__Auckland);
    let created = at("2020-01-01T00:00:00Z");
    let stage = |i: u32| match i % 3 {
        0 => "Lead",
        _ => "Customer",
    };
    pair.apply((1..=20_000).map(|i| (i, Some(with_fields(contact(i, created), s(stage(i)))))).collect(), false);
    // Delete most contacts (forces a compaction), re-upsert some with a new value.
    pair.apply((1..=15_000).map(|i| (i, None)).collect(), true);
    pair.apply((1..=3_000).step_by(7).map(|i| (i, Some(with_fields(contact(i, created), s("lead"))))).collect(), false);
    // Sparse, huge ids.
    pair.apply(vec![(4_000_000_000, Some(with_fields(contact(4_000_000_000, created), s("LEAD"))))], false);
    assert_eq!(pair.index.len(), pair.live.len());
    let rule = resolve(&parse(json!({"field": "dataFields.STAGE", "op": "equals", "value": "lead"}), &[]));
    let ctx = ctx(now(), Tz::Pacific__Auckland, HashMap::new());
    let engine = pair.engine(&rule, &ctx);
    assert_eq!(engine, pair.reference(&rule, &ctx));
    assert!(engine.contains(&4_000_000_000) && engine.contains(&1));
    let everyone = resolve(&parse(json!({"all": []}), &[]));
    assert_eq!(pair.engine(&everyone, &ctx), pair.all_ids());
    assert_eq!(pair.index.applied_seq(), 20_000 + 15_000 + 429 + 1);
}

#[test]
fn a_field_missing_from_the_index_is_an_error_naming_it() {
    let pair = Pair::new(Tz::UTC);
    let rule = parse(json!({"field": "dataFields.SPEND", "op": "greaterThan", "value": 1}), &[]);
    let other = vec![field(99, "SPEND", sift_core::model::DataFieldType::Numeric)];
    let resolved = match rule.resolve(&other) {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    };
    let err = pair.index.evaluate(&resolved, &ctx(now(), Tz::UTC, HashMap::new()));
    assert!(matches!(err, Err(e) if e.message().contains("SPEND")));
}

#[test]
fn large_results_over_consecutive_ids_with_deleted_rows_match_the_reference() {
    let tz = Tz::UTC;
    let mut pair = Pair::new(tz);
    let created = at("2020-01-01T00:00:00Z");
    pair.apply((1..=3000u32).map(|i| (i, Some(with_fields(contact(i, created), s(if i % 3 == 0 { "" } else { "x" }))))).collect(), false);
    // Deleted rows in the middle keep their place in the id order.
    pair.apply((1000..1100u32).map(|i| (i, None)).collect(), false);
    for rule in [
        json!({"field": "dataFields.STAGE", "op": "isNotEmpty"}),
        json!({"all": []}),
        json!({"not": {"field": "dataFields.STAGE", "op": "isEmpty"}}),
    ] {
        let rule = resolve(&parse(rule, &[]));
        let ctx = ctx(now(), tz, HashMap::new());
        let engine = pair.engine(&rule, &ctx);
        assert_eq!(engine, pair.reference(&rule, &ctx));
        assert!(engine.iter().all(|id| !(1000..1100).contains(id)));
    }
}
