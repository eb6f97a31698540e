//! Parsing, validation, canonical JSON, resolution, cycles and the reference
//! evaluator's meaning of each operator.

use super::reference::matches;
use super::*;
use crate::model::{DataFieldType as T, Visibility};
use crate::record::{ContactRecord, DateValue, FieldValue};
use chrono::TimeZone;
use serde_json::json;

fn df(id: i64, name: &str, kind: T) -> DataField {
    DataField { id, name: name.into(), kind, visibility: Visibility::Private, default_value: None }
}

fn schema() -> Schema {
    Schema {
        data_fields: vec![
            df(1, "COUNTRY", T::String),
            df(2, "TOTALSPEND", T::Numeric),
            df(3, "LASTORDER", T::Date),
            df(4, "VIP", T::Boolean),
        ],
        segment_ids: [10, 11].into_iter().collect(),
        book_ids: [42, 43].into_iter().collect(),
    }
}

fn ok(v: Value) -> Rule {
    match Rule::parse(&v, &schema()) {
        Ok(r) => r,
        Err(e) => panic!("{v} should parse: {e}"),
    }
}

/// Asserts the rule is refused with ERROR_PARAMETER_INVALID and a message holding
/// every fragment.
fn refused(v: Value, fragments: &[&str]) {
    match Rule::parse(&v, &schema()) {
        Ok(r) => panic!("{v} should be refused, parsed as {r:?}"),
        Err(e) => {
            assert_eq!(e.code, ErrorCode::ParameterInvalid);
            let m = e.message();
            for f in fragments {
                assert!(m.contains(f), "message {m:?} should contain {f:?}");
            }
        }
    }
}

fn cond(field: &str, op: &str, value: Value) -> Value {
    json!({"field": field, "op": op, "value": value})
}

#[test]
fn contract_example_parses_and_renders_canonically() {
    let rule = ok(json!({
        "ALL": [
            {"Field": "datafields.country", "OP": "IN", "Value": ["UK", "IE"]},
            {"any": [
                {"field": "dataFields.TotalSpend", "op": "greaterThan", "value": 100},
                {"field": "dataFields.LASTORDER", "op": "inLast", "value": {"Amount": 30, "UNIT": "Days"}}
            ]},
            {"not": {"field": "AddressBooks", "op": "contains", "value": 42}}
        ]
    }));
    assert_eq!(
        rule.to_json(),
        json!({
            "all": [
                {"field": "dataFields.COUNTRY", "op": "in", "value": ["UK", "IE"]},
                {"any": [
                    {"field": "dataFields.TOTALSPEND", "op": "greaterThan", "value": 100},
                    {"field": "dataFields.LASTORDER", "op": "inLast", "value": {"amount": 30, "unit": "days"}}
                ]},
                {"not": {"field": "addressBooks", "op": "contains", "value": 42}}
            ]
        })
    );
    assert_eq!(rule.data_fields_used(), vec!["COUNTRY", "LASTORDER", "TOTALSPEND"]);
    assert_eq!(rule.books_used(), vec![42]);
    assert!(rule.segments_used().is_empty());
    assert_eq!(Rule::parse(&rule.to_json(), &schema()), Ok(rule.clone()));
    assert_eq!(Rule::from_stored_json(&rule.to_stored_json()), Ok(rule));
}

#[test]
fn enum_values_parse_case_insensitively_and_render_pascal_case() {
    let rule = ok(cond("status", "in", json!(["subscribed", "SOFTBOUNCED"])));
    assert_eq!(rule.to_json(), cond("status", "in", json!(["Subscribed", "SoftBounced"])));
    ok(cond("optInType", "equals", json!("verifieddouble")));
    ok(cond("EMAILTYPE", "notEquals", json!("html")));
}

#[test]
fn unknown_fields_are_refused() {
    refused(cond("dataFields.NOPE", "equals", json!("x")), &["unknown field", "dataFields.NOPE"]);
    refused(cond("phone", "equals", json!("x")), &["unknown field", "phone"]);
    refused(json!({"field": 3, "op": "equals", "value": "x"}), &["field must be a string"]);
}

#[test]
fn operators_must_exist_for_the_field_type() {
    refused(
        cond("dataFields.TOTALSPEND", "contains", json!("1")),
        &["dataFields.TOTALSPEND", "operator contains is not valid for a Numeric field"],
    );
    refused(cond("dataFields.COUNTRY", "greaterThan", json!("a")), &["not valid for a String field"]);
    refused(cond("status", "contains", json!("Subscribed")), &["not valid for a Enum field"]);
    refused(cond("dataFields.VIP", "equals", json!(true)), &["not valid for a Boolean field"]);
    refused(cond("addressBooks", "equals", json!(42)), &["not valid for a set of ids field"]);
    refused(cond("created", "equals", json!("2020-01-01")), &["not valid for a Date field"]);
    refused(cond("email", "frobnicate", json!("x")), &["unknown operator", "frobnicate"]);
    refused(json!({"field": "email", "value": "x"}), &["has no op"]);
}

#[test]
fn values_of_the_wrong_type_are_refused() {
    refused(cond("dataFields.TOTALSPEND", "greaterThan", json!("100")), &["TOTALSPEND", "needs a number", "a string"]);
    refused(cond("dataFields.COUNTRY", "equals", json!(44)), &["needs a string value"]);
    refused(cond("dataFields.COUNTRY", "equals", json!("  ")), &["non-blank", "isEmpty"]);
    refused(json!({"field": "dataFields.COUNTRY", "op": "equals"}), &["needs a value"]);
    refused(cond("dataFields.COUNTRY", "isEmpty", json!("x")), &["takes no value"]);
    refused(cond("dataFields.LASTORDER", "on", json!("2020-13-01")), &["YYYY-MM-DD"]);
    refused(cond("dataFields.LASTORDER", "on", json!("01/02/2020")), &["YYYY-MM-DD"]);
    refused(cond("dataFields.LASTORDER", "before", json!("2020-01-01T00:00:00Z")), &["YYYY-MM-DD"]);
    refused(cond("status", "equals", json!("Happy")), &["'Happy'", "Subscribed"]);
    refused(cond("status", "equals", json!(0)), &["needs an enum name"]);
    refused(cond("addressBooks", "contains", json!("42")), &["positive integer"]);
    refused(cond("addressBooks", "contains", json!(-1)), &["positive integer"]);
    ok(json!({"field": "dataFields.VIP", "op": "isTrue", "value": null}));
}

#[test]
fn between_needs_two_ordered_values() {
    ok(cond("dataFields.TOTALSPEND", "between", json!([1, 1])));
    refused(cond("dataFields.TOTALSPEND", "between", json!([5, 1])), &["low <= high"]);
    refused(cond("dataFields.TOTALSPEND", "between", json!([1, 2, 3])), &["exactly 2"]);
    refused(cond("dataFields.TOTALSPEND", "between", json!(3)), &["array"]);
    refused(cond("dataFields.LASTORDER", "between", json!(["2020-02-01", "2020-01-01"])), &["first <= last"]);
}

#[test]
fn periods_need_a_positive_whole_amount_and_a_known_unit() {
    let p = |v: Value| cond("dataFields.LASTORDER", "inLast", v);
    ok(p(json!({"amount": 2, "unit": "WEEKS"})));
    refused(p(json!({"amount": 0, "unit": "days"})), &["whole number from 1"]);
    refused(p(json!({"amount": -3, "unit": "days"})), &["whole number from 1"]);
    refused(p(json!({"amount": 1.5, "unit": "days"})), &["whole number from 1"]);
    refused(p(json!({"amount": 20000, "unit": "days"})), &["10000"]);
    refused(p(json!({"amount": 3, "unit": "fortnights"})), &["days, weeks, months or years"]);
    refused(p(json!({"amount": 3})), &["both amount and unit"]);
    refused(p(json!({"amount": 3, "unit": "days", "extra": 1})), &["unknown key", "extra"]);
    refused(p(json!(30)), &["amount"]);
}

#[test]
fn lists_must_be_non_empty_arrays() {
    refused(cond("dataFields.COUNTRY", "in", json!([])), &["non-empty"]);
    refused(cond("dataFields.COUNTRY", "in", json!("UK")), &["needs an array"]);
    refused(cond("addressBooks", "containsAny", json!([])), &["non-empty"]);
}

#[test]
fn unknown_books_and_segments_are_refused() {
    refused(cond("addressBooks", "contains", json!(7)), &["address book 7", "does not exist"]);
    refused(cond("segments", "containsAny", json!([10, 99])), &["segment 99", "does not exist"]);
    let r = ok(cond("segments", "containsAll", json!([10, 11])));
    assert_eq!(r.segments_used(), vec![10, 11]);
}

#[test]
fn malformed_trees_are_refused() {
    refused(json!([]), &["must be an object"]);
    refused(json!("all"), &["must be an object"]);
    refused(json!({}), &["exactly one of"]);
    refused(json!({"all": [], "field": "email"}), &["exactly one of"]);
    refused(json!({"all": [], "any": []}), &["exactly one of"]);
    refused(json!({"all": {}}), &["must be an array"]);
    refused(json!({"all": [], "ALL": []}), &["more than once"]);
    refused(json!({"not": []}), &["must be an object"]);
    refused(json!({"field": "email", "op": "isEmpty", "colour": 1}), &["unknown key", "colour"]);
    refused(json!({"field": "email", "op": "isEmpty", "fieldType": "String"}), &["unknown key", "fieldType"]);
    refused(json!({"all": [1]}), &["must be an object"]);
}

#[test]
fn depth_is_limited_to_16_levels() {
    let leaf = cond("email", "isEmpty", Value::Null);
    let nest = |levels: usize| (1..levels).fold(leaf.clone(), |n, _| json!({"not": n}));
    ok(nest(16));
    refused(nest(17), &["16 levels"]);
    // Very deep input does not overflow the stack.
    refused(nest(100), &["16 levels"]);
}

#[test]
fn condition_count_is_limited_to_500() {
    let leaf = cond("email", "isEmpty", Value::Null);
    ok(json!({"all": vec![leaf.clone(); 500]}));
    refused(json!({"all": vec![leaf; 501]}), &["500 conditions"]);
}

#[test]
fn lists_are_limited_to_10000_values_and_strings_to_1024_bytes() {
    ok(cond("dataFields.COUNTRY", "in", json!(vec!["x"; 10_000])));
    refused(cond("dataFields.COUNTRY", "in", json!(vec!["x"; 10_001])), &["10001 values", "at most 10000"]);
    ok(cond("dataFields.COUNTRY", "equals", json!("é".repeat(512))));
    refused(cond("dataFields.COUNTRY", "equals", json!("é".repeat(513))), &["1026 bytes", "1024 bytes"]);
    refused(cond("dataFields.COUNTRY", "in", json!(["ok", "x".repeat(1025)])), &["1024 bytes"]);
}

#[test]
fn resolve_fails_naming_a_deleted_or_retyped_field() {
    let rule = ok(cond("dataFields.TOTALSPEND", "greaterThan", json!(1)));
    let gone = rule.resolve(&[df(1, "COUNTRY", T::String)]);
    assert!(matches!(&gone, Err(e) if e.message().contains("Data field TOTALSPEND used by this segment no longer exists")));
    let retyped = rule.resolve(&[df(2, "TOTALSPEND", T::String)]);
    assert!(matches!(&retyped, Err(e) if e.message().contains("TOTALSPEND") && e.message().contains("changed type")));
    let recreated = rule.resolve(&[df(9, "TotalSpend", T::Numeric)]);
    assert_eq!(recreated.map(|r| r.field_id("TOTALSPEND")), Ok(Some(9)));
}

#[test]
fn find_cycle_reports_the_loop() {
    let refers = |ids: &[i64]| Rule {
        root: Node::Cond(Condition { field: FieldRef::Segments, op: Op::ContainsAny, value: Operand::Ids(ids.to_vec()) }),
    };
    let mut rules = HashMap::new();
    rules.insert(1, refers(&[2]));
    rules.insert(2, refers(&[3]));
    rules.insert(3, Rule { root: Node::All(vec![]) });
    assert_eq!(find_cycle(1, &rules), None);
    rules.insert(3, refers(&[1]));
    assert_eq!(find_cycle(1, &rules), Some(vec![1, 2, 3, 1]));
    rules.insert(4, refers(&[4]));
    assert_eq!(find_cycle(4, &rules), Some(vec![4, 4]));
    assert_eq!(segment_closure(&refers(&[2]), &rules), vec![1, 2, 3]);
}

// ---- the reference evaluator ----

fn contact(fields: Vec<(i64, FieldValue)>) -> ContactRecord {
    let t = Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).single().unwrap_or_default();
    ContactRecord {
        id: 1,
        email: "Alex@Example.com".into(),
        status: ContactStatus::Subscribed,
        opt_in_type: OptInType::Single,
        email_type: EmailType::Html,
        created: t,
        modified: t,
        fields,
        books: vec![42],
    }
}

fn ctx() -> EvalContext {
    EvalContext {
        now: Utc.with_ymd_and_hms(2024, 6, 15, 12, 0, 0).single().unwrap_or_default(),
        tz: chrono_tz::Tz::UTC,
        segments: HashMap::new(),
    }
}

fn eval(rule: Value, fields: Vec<(i64, FieldValue)>) -> bool {
    let r = ok(rule).resolve(&schema().data_fields);
    match r {
        Ok(r) => matches(&r, &contact(fields), &ctx()),
        Err(e) => panic!("{e}"),
    }
}

fn text(v: &str) -> Vec<(i64, FieldValue)> {
    vec![(1, FieldValue::Str(v.into()))]
}

#[test]
fn empty_and_blank_values_match_is_empty_and_every_negative_operator() {
    for v in [vec![], text(""), text("   ")] {
        assert!(eval(cond("dataFields.COUNTRY", "isEmpty", Value::Null), v.clone()));
        assert!(!eval(cond("dataFields.COUNTRY", "isNotEmpty", Value::Null), v.clone()));
        for (pos, neg) in
            [("equals", "notEquals"), ("contains", "notContains"), ("startsWith", "notStartsWith"), ("endsWith", "notEndsWith")]
        {
            assert!(!eval(cond("dataFields.COUNTRY", pos, json!("U")), v.clone()));
            assert!(eval(cond("dataFields.COUNTRY", neg, json!("U")), v.clone()));
        }
        assert!(!eval(cond("dataFields.COUNTRY", "in", json!(["U"])), v.clone()));
        assert!(eval(cond("dataFields.COUNTRY", "notIn", json!(["U"])), v.clone()));
    }
}

#[test]
fn string_comparisons_fold_case_but_do_not_trim() {
    assert!(eval(cond("dataFields.COUNTRY", "equals", json!("uk")), text("UK")));
    assert!(!eval(cond("dataFields.COUNTRY", "equals", json!("UK")), text(" UK")));
    assert!(eval(cond("dataFields.COUNTRY", "equals", json!("strasse")), text("Straße")));
    assert!(eval(cond("email", "endsWith", json!("@EXAMPLE.COM")), vec![]));
    assert!(!eval(cond("dataFields.COUNTRY", "equals", json!("alex")), text("alexandra")));
    assert!(eval(cond("dataFields.COUNTRY", "contains", json!("alex")), text("alexandra")));
}

#[test]
fn numbers_compare_numerically() {
    let n = |v: f64| vec![(2, FieldValue::Num(v))];
    assert!(eval(cond("dataFields.TOTALSPEND", "lessThan", json!(10)), n(9.0)));
    assert!(eval(cond("dataFields.TOTALSPEND", "equals", json!(10)), n(10.0)));
    assert!(!eval(cond("dataFields.TOTALSPEND", "greaterThan", json!(-1)), vec![]));
    assert!(eval(cond("dataFields.TOTALSPEND", "notEquals", json!(1)), vec![]));
}

#[test]
fn dates_follow_the_calendar_in_the_account_zone() {
    let d = |v: DateValue| vec![(3, FieldValue::Date(v))];
    let day = |s: &str| DateValue::Day(NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default());
    assert!(eval(cond("dataFields.LASTORDER", "on", json!("2024-06-01")), d(day("2024-06-01"))));
    assert!(eval(cond("dataFields.LASTORDER", "notOn", json!("2024-06-01")), vec![]));
    assert!(eval(cond("dataFields.LASTORDER", "inLast", json!({"amount": 14, "unit": "days"})), d(day("2024-06-01"))));
    assert!(!eval(cond("dataFields.LASTORDER", "inLast", json!({"amount": 13, "unit": "days"})), d(day("2024-06-01"))));
    assert!(eval(cond("dataFields.LASTORDER", "notInLast", json!({"amount": 13, "unit": "days"})), vec![]));
    assert!(eval(cond("dataFields.LASTORDER", "inNext", json!({"amount": 1, "unit": "years"})), d(day("2025-06-15"))));
    assert!(eval(cond("dataFields.LASTORDER", "moreThanAgo", json!({"amount": 1, "unit": "years"})), d(day("2023-06-14"))));
    assert!(!eval(cond("dataFields.LASTORDER", "moreThanAgo", json!({"amount": 1, "unit": "years"})), d(day("2023-06-15"))));
    assert!(eval(cond("created", "before", json!("2020-01-02")), vec![]));
}

#[test]
fn booleans_and_sets() {
    assert!(eval(cond("dataFields.VIP", "isTrue", Value::Null), vec![(4, FieldValue::Bool(true))]));
    assert!(!eval(cond("dataFields.VIP", "isFalse", Value::Null), vec![]));
    assert!(eval(cond("addressBooks", "contains", json!(42)), vec![]));
    assert!(eval(cond("addressBooks", "containsNone", json!([43])), vec![]));
    assert!(!eval(cond("addressBooks", "containsAll", json!([42, 43])), vec![]));
}

#[test]
fn every_negative_operator_has_a_twin_valid_for_the_same_types() {
    for op in Op::ALL {
        if let Some(pos) = op.positive_twin() {
            assert_eq!(pos.negative_twin(), Some(*op));
            for kind in [FieldKind::String, FieldKind::Numeric, FieldKind::Date, FieldKind::Boolean, FieldKind::Enum, FieldKind::IdSet] {
                assert_eq!(kind.operators().contains(op), kind.operators().contains(&pos), "{op:?} on {kind:?}");
            }
        }
    }
}
