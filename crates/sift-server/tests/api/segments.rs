use std::collections::BTreeSet;
use std::time::Duration;

use crate::helpers::*;
use serde_json::{json, Value};

const T: Duration = Duration::from_secs(30);

fn cond(field: &str, op: &str, value: Value) -> Value {
    json!({"field": field, "op": op, "value": value})
}

#[tokio::test]
async fn not_equals_matches_empty_and_blank_values_and_is_empty_agrees() {
    let app = spawn_app().await;
    app.fields(&[("STAGE", "String")]).await;
    app.contact("a@x.com", json!({"STAGE": "A"})).await;
    app.contact("b@x.com", json!({"STAGE": "B"})).await;
    app.contact("empty@x.com", json!({"STAGE": ""})).await;
    app.contact("blank@x.com", json!({"STAGE": "  "})).await;
    let s = app
        .segment(
            "not A or B",
            json!({"all": [cond("dataFields.STAGE", "notEquals", json!("A")), cond("dataFields.STAGE", "notEquals", json!("B"))]}),
        )
        .await;
    assert_eq!(app.members(s).await, vec!["blank@x.com", "empty@x.com"]);
    let e = app.segment("stage empty", json!({"field": "dataFields.stage", "op": "isEmpty"})).await;
    assert_eq!(app.members(e).await, vec!["blank@x.com", "empty@x.com"]);
}

#[tokio::test]
async fn contains_and_equals_ignore_case() {
    let app = spawn_app().await;
    app.fields(&[("NAME", "String")]).await;
    app.contact("1@x.com", json!({"NAME": "Alex"})).await;
    app.contact("2@x.com", json!({"NAME": "ALEX"})).await;
    app.contact("3@x.com", json!({"NAME": "alexandra"})).await;
    app.contact("4@x.com", json!({"NAME": "Bob"})).await;
    let c = app.segment("contains", cond("dataFields.NAME", "contains", json!("alex"))).await;
    assert_eq!(app.members(c).await, vec!["1@x.com", "2@x.com", "3@x.com"]);
    let e = app.segment("equals", cond("dataFields.NAME", "equals", json!("alex"))).await;
    assert_eq!(app.members(e).await, vec!["1@x.com", "2@x.com"]);
}

#[tokio::test]
async fn contacts_that_stop_matching_after_a_rule_edit_leave() {
    let app = spawn_app().await;
    app.fields(&[("CITY", "String")]).await;
    app.contact("x@x.com", json!({"CITY": "X"})).await;
    app.contact("y@x.com", json!({"CITY": "Y"})).await;
    let s = app.segment("city", cond("dataFields.CITY", "equals", json!("X"))).await;
    assert_eq!(app.members(s).await, vec!["x@x.com"]);
    let r = app.client.put(&format!("/v2/segments/{s}"), &json!({"rule": cond("dataFields.CITY", "equals", json!("Y"))})).await.unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(app.client.refresh(s, T).await.unwrap(), "Finished");
    assert_eq!(app.members(s).await, vec!["y@x.com"]);
    let detail = app.client.get(&format!("/v2/segments/{s}")).await.unwrap().ok().unwrap();
    assert_eq!(detail["contacts"], 1);
    // The refresh that first ran the new rule records one joined and one left (a
    // later one, if the POST came after it finished, records none).
    let history = app.client.get(&format!("/v2/segments/{s}/refreshes")).await.unwrap().ok().unwrap();
    let after_edit: Vec<&Value> = history.as_array().unwrap().iter().rev().skip(1).collect();
    assert_eq!(after_edit[0]["joined"], 1);
    assert_eq!(after_edit[0]["left"], 1);
    assert!(after_edit[1..].iter().all(|h| h["joined"] == 0 && h["left"] == 0));
}

#[tokio::test]
async fn segment_conditions_read_the_other_segments_rule_at_the_same_refresh() {
    let app = spawn_app().await;
    app.fields(&[("COUNTRY", "String"), ("TIER", "String")]).await;
    let c = app.contact("c@x.com", json!({"COUNTRY": "X", "TIER": "silver"})).await;
    app.contact("d@x.com", json!({"COUNTRY": "X", "TIER": "gold"})).await;
    let a = app.segment("gold", cond("dataFields.TIER", "equals", json!("gold"))).await;
    let b = app
        .segment(
            "X not gold",
            json!({"all": [cond("dataFields.COUNTRY", "equals", json!("X")), {"not": cond("segments", "contains", json!(a))}]}),
        )
        .await;
    assert_eq!(app.members(b).await, vec!["c@x.com"]);
    // c moves into A's rule; only B is refreshed.
    let r = app
        .client
        .put(&format!("/v2/contacts/{c}"), &json!({"email": "c@x.com", "dataFields": [{"key": "TIER", "value": "gold"}]}))
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(app.client.refresh(b, T).await.unwrap(), "Finished");
    assert!(app.members(b).await.is_empty());
}

#[tokio::test]
async fn a_rule_that_makes_segments_read_each_other_is_rejected_as_a_cycle() {
    let app = spawn_app().await;
    let b = app.segment("B", json!({"all": []})).await;
    let a = app.segment("A", json!({"not": cond("segments", "contains", json!(b))})).await;
    let r = app.client.put(&format!("/v2/segments/{b}"), &json!({"rule": {"not": cond("segments", "contains", json!(a))}})).await.unwrap();
    assert_error(&r, 400, "ERROR_PARAMETER_INVALID");
    assert!(r.body["message"].as_str().unwrap().contains("cycle"));
    // Nothing saved: B still matches everyone.
    let detail = app.client.get(&format!("/v2/segments/{b}")).await.unwrap().ok().unwrap();
    assert_eq!(detail["rule"], json!({"all": []}));
    let r = app.client.put(&format!("/v2/segments/{a}"), &json!({"rule": cond("segments", "contains", json!(a))})).await.unwrap();
    assert_error(&r, 400, "ERROR_PARAMETER_INVALID");
}

#[tokio::test]
async fn deleting_a_used_data_field_fails_the_next_refresh_and_keeps_the_old_membership() {
    let app = spawn_app().await;
    app.fields(&[("F", "Numeric"), ("G", "String")]).await;
    app.contact("a@x.com", json!({"F": 5, "G": "g"})).await;
    app.contact("b@x.com", json!({"F": 1, "G": "g"})).await;
    let uses_f = app.segment("F>2", cond("dataFields.F", "greaterThan", json!(2))).await;
    let other = app.segment("G=g", cond("dataFields.G", "equals", json!("g"))).await;
    assert_eq!(app.members(uses_f).await, vec!["a@x.com"]);
    let r = app.client.delete("/v2/data-fields/F").await.unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(app.client.refresh(uses_f, T).await.unwrap(), "Failed");
    let detail = app.client.get(&format!("/v2/segments/{uses_f}")).await.unwrap().ok().unwrap();
    let error = detail["lastRefresh"]["error"].as_str().unwrap();
    assert!(error.contains('F'), "the reason names the field: {error}");
    assert_eq!(app.members(uses_f).await, vec!["a@x.com"], "old membership stays");
    assert_eq!(app.client.refresh(other, T).await.unwrap(), "Finished");
    assert_eq!(app.members(other).await, vec!["a@x.com", "b@x.com"]);
    // A new field with the same name does not bring the old values back.
    app.fields(&[("F", "Numeric")]).await;
    let again = app.segment("F empty", cond("dataFields.F", "isEmpty", Value::Null)).await;
    assert_eq!(app.members(again).await, vec!["a@x.com", "b@x.com"]);
}

#[tokio::test]
async fn simultaneous_refresh_requests_and_a_rule_edit_end_with_one_job_and_the_latest_rule() {
    let app = spawn_app().await;
    app.fields(&[("CITY", "String")]).await;
    for i in 0..200 {
        app.contact(&format!("c{i}@x.com"), json!({"CITY": if i % 2 == 0 { "X" } else { "Y" }})).await;
    }
    let s = app.segment("city", cond("dataFields.CITY", "equals", json!("X"))).await;
    let path = format!("/v2/segments/refresh/{s}");
    let edit = format!("/v2/segments/{s}");
    let new_rule = json!({"rule": cond("dataFields.CITY", "equals", json!("Y"))});
    let (r1, r2, r3) = tokio::join!(app.client.post_empty(&path), app.client.post_empty(&path), app.client.put(&edit, &new_rule));
    let (r1, r2, r3) = (r1.unwrap(), r2.unwrap(), r3.unwrap());
    assert_eq!((r1.status, r2.status, r3.status), (202, 202, 200), "{} {} {}", r1.text, r2.text, r3.text);
    assert_eq!(app.client.wait_refresh(s, T).await.unwrap(), "Finished");
    let history = app.client.get(&format!("/v2/segments/{s}/refreshes")).await.unwrap().ok().unwrap();
    let in_flight = history.as_array().unwrap().iter().filter(|h| h["status"] == "NotStarted" || h["status"] == "NotFinished").count();
    assert_eq!(in_flight, 0);
    let members = app.members(s).await;
    assert_eq!(members.len(), 100);
    assert!(members.iter().all(|m| {
        let n: usize = m.trim_start_matches('c').trim_end_matches("@x.com").parse().unwrap();
        n % 2 == 1
    }));
}

#[tokio::test]
async fn segment_list_items_have_exactly_id_name_contacts() {
    let app = spawn_app().await;
    app.contact("a@x.com", json!({})).await;
    let s = app.segment("everyone", json!({"all": []})).await;
    let r = app.client.get("/v2/segments").await.unwrap();
    assert_eq!(r.status, 200);
    let items = r.body.as_array().unwrap();
    assert_eq!(items.len(), 1);
    let keys: BTreeSet<&str> = items[0].as_object().unwrap().keys().map(|k| k.as_str()).collect();
    assert_eq!(keys, BTreeSet::from(["id", "name", "contacts"]));
    assert_eq!(items[0], json!({"id": s, "name": "everyone", "contacts": 1}));
    let r = app.client.get("/v2/segments?select=0").await.unwrap();
    assert_error(&r, 400, "ERROR_PARAMETER_INVALID");
}

#[tokio::test]
async fn refresh_routes_answer_202_and_200_with_exactly_id_and_status() {
    let app = spawn_app().await;
    let s = app.segment("everyone", json!({"all": []})).await;
    // No body (romanpitak) and `{}` (node) are both accepted.
    let r = app.client.post_empty(&format!("/v2/segments/refresh/{s}")).await.unwrap();
    assert_eq!(r.status, 202);
    let obj = r.body.as_object().unwrap();
    assert_eq!(obj.len(), 2);
    assert_eq!(obj["id"], s);
    assert!(["NotStarted", "NotFinished", "Finished"].contains(&obj["status"].as_str().unwrap()));
    let r = app.client.post(&format!("/v2/segments/refresh/{s}"), &json!({})).await.unwrap();
    assert_eq!(r.status, 202);
    assert_eq!(app.client.wait_refresh(s, T).await.unwrap(), "Finished");
    let r = app.client.get(&format!("/v2/segments/refresh/{s}")).await.unwrap();
    assert_eq!(r.body, json!({"id": s, "status": "Finished"}));
}

#[tokio::test]
async fn other_version_segments_answer_not_available_in_this_version() {
    let app = spawn_app().await;
    let s = app.segment("everyone", json!({"all": []})).await;
    let r = app.client.get(&format!("/v1/segments/refresh/{s}")).await.unwrap();
    assert_eq!(r.body, json!({"id": s, "status": "NotAvailableInThisVersion"}));
    let r = app.client.post_empty(&format!("/v3/segments/refresh/{s}")).await.unwrap();
    assert_eq!(r.body["status"], "NotAvailableInThisVersion");
}

#[tokio::test]
async fn unknown_foreign_or_address_book_ids_are_segment_not_found() {
    let app = spawn_app().await;
    let s = app.segment("mine", json!({"all": []})).await;
    let book = app.book("a book").await;
    for path in [format!("/v2/segments/refresh/{}", s + 100), format!("/v2/segments/refresh/{book}"), format!("/v2/segments/{book}")] {
        let r = app.client.get(&path).await.unwrap();
        assert_eq!(r.status, 404);
        assert_eq!(r.text, r#"{"message":"Error: ERROR_SEGMENT_NOT_FOUND"}"#);
    }
    let r = app.client.post_empty(&format!("/v2/segments/refresh/{book}")).await.unwrap();
    assert_eq!(r.text, r#"{"message":"Error: ERROR_SEGMENT_NOT_FOUND"}"#);
    let other = app.other_account().await;
    for r in [
        other.get(&format!("/v2/segments/refresh/{s}")).await.unwrap(),
        other.post_empty(&format!("/v2/segments/refresh/{s}")).await.unwrap(),
        other.get(&format!("/v2/segments/{s}")).await.unwrap(),
        other.delete(&format!("/v2/segments/{s}")).await.unwrap(),
    ] {
        assert_eq!(r.status, 404);
        assert_eq!(r.text, r#"{"message":"Error: ERROR_SEGMENT_NOT_FOUND"}"#);
    }
    assert_eq!(other.get("/v2/segments").await.unwrap().body, json!([]));
    let r = app.client.get("/v2/segments/refresh/abc").await.unwrap();
    assert_error(&r, 400, "ERROR_PARAMETER_INVALID");
}

#[tokio::test]
async fn segments_share_ids_and_names_with_address_books_and_are_read_only_through_them() {
    let app = spawn_app().await;
    let c = app.contact("a@x.com", json!({})).await;
    let book = app.book("Customers").await;
    let s = app.segment("Everyone", json!({"all": []})).await;
    assert_ne!(book, s);
    // Names: one name space, case-insensitive.
    let r = app.client.post("/v2/segments", &json!({"name": "customers", "rule": {"all": []}})).await.unwrap();
    assert_error(&r, 400, "That name is in use already, please choose another. ERROR_ADDRESSBOOK_DUPLICATE");
    let r = app.client.post("/v2/address-books", &json!({"name": "EVERYONE"})).await.unwrap();
    assert_error(&r, 400, "ERROR_ADDRESSBOOK_DUPLICATE");
    // Reads through the address-book routes work; the segment is not listed as a book.
    let members = app.client.get(&format!("/v2/address-books/{s}/contacts?withFullData=true")).await.unwrap().ok().unwrap();
    assert_eq!(members.as_array().unwrap().len(), 1);
    assert!(members[0]["dataFields"].is_array());
    let ms = app.client.get(&format!("/v2/address-books/{s}/contacts/modified-since/2000-01-01")).await.unwrap().ok().unwrap();
    assert_eq!(ms.as_array().unwrap().len(), 1);
    let books = app.client.get("/v2/address-books").await.unwrap().ok().unwrap();
    assert!(books.as_array().unwrap().iter().all(|b| b["id"] != s));
    // Writes through them are refused.
    let r = app.client.post(&format!("/v2/address-books/{s}/contacts"), &json!({"email": "b@x.com"})).await.unwrap();
    assert_error(&r, 400, "Address book cannot be written to via the API. ERROR_ADDRESSBOOK_NOTWRITABLE");
    let r = app.client.delete(&format!("/v2/address-books/{s}/contacts/{c}")).await.unwrap();
    assert_error(&r, 400, "ERROR_ADDRESSBOOK_NOTWRITABLE");
    let r = app.client.post_file(&format!("/v2/address-books/{s}/contacts/import"), "c.csv", b"Email\nz@x.com\n".to_vec()).await.unwrap();
    assert_error(&r, 400, "ERROR_ADDRESSBOOK_NOTWRITABLE");
}

#[tokio::test]
async fn address_book_conditions_and_membership_changes_are_seen_by_the_next_refresh() {
    let app = spawn_app().await;
    let a = app.contact("a@x.com", json!({})).await;
    app.contact("b@x.com", json!({})).await;
    let book = app.book("VIP").await;
    let r = app.client.post(&format!("/v2/address-books/{book}/contacts"), &json!({"email": "a@x.com"})).await.unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
    let s = app.segment("in VIP", cond("addressBooks", "contains", json!(book))).await;
    assert_eq!(app.members(s).await, vec!["a@x.com"]);
    let not_in = app.segment("not in VIP", cond("addressBooks", "notContains", json!(book))).await;
    assert_eq!(app.members(not_in).await, vec!["b@x.com"]);
    app.client.delete(&format!("/v2/address-books/{book}/contacts/{a}")).await.unwrap();
    assert_eq!(app.client.refresh(s, T).await.unwrap(), "Finished");
    assert!(app.members(s).await.is_empty());
    // A deleted contact leaves every segment.
    app.client.delete(&format!("/v2/contacts/{a}")).await.unwrap();
    assert_eq!(app.client.refresh(not_in, T).await.unwrap(), "Finished");
    assert_eq!(app.members(not_in).await, vec!["b@x.com"]);
}

#[tokio::test]
async fn calendar_dates_are_compared_in_the_account_time_zone() {
    let app = spawn_app().await;
    app.client.put("/v2/account-info", &json!({"timeZone": "Pacific/Auckland"})).await.unwrap().ok().unwrap();
    app.fields(&[("SEEN", "Date")]).await;
    // 20:00 UTC on 1 January is already 2 January in Auckland.
    app.contact("late@x.com", json!({"SEEN": "2024-01-01T20:00:00Z"})).await;
    app.contact("day@x.com", json!({"SEEN": "2024-01-02"})).await;
    app.contact("early@x.com", json!({"SEEN": "2024-01-01T08:00:00Z"})).await;
    let s = app.segment("on 2 Jan", cond("dataFields.SEEN", "on", json!("2024-01-02"))).await;
    assert_eq!(app.members(s).await, vec!["day@x.com", "late@x.com"]);
}

#[tokio::test]
async fn relative_dates_use_one_now_fixed_when_the_refresh_starts() {
    let mut config = test_config();
    config.fixed_now = Some("1998-07-01T12:00:00Z".parse().unwrap());
    let app = spawn_app_with(config).await;
    app.fields(&[("LAST", "Date")]).await;
    app.contact("recent@x.com", json!({"LAST": "1998-06-20"})).await;
    app.contact("edge@x.com", json!({"LAST": "1998-06-01"})).await;
    app.contact("old@x.com", json!({"LAST": "1997-01-15"})).await;
    app.contact("none@x.com", json!({})).await;
    let s = app.segment("last 30 days", cond("dataFields.LAST", "inLast", json!({"amount": 30, "unit": "days"}))).await;
    assert_eq!(app.members(s).await, vec!["edge@x.com", "recent@x.com"]);
    let n = app.segment("not last 30 days", cond("dataFields.LAST", "notInLast", json!({"amount": 30, "unit": "days"}))).await;
    assert_eq!(app.members(n).await, vec!["none@x.com", "old@x.com"]);
    let m = app.segment("over 180 days", cond("dataFields.LAST", "moreThanAgo", json!({"amount": 180, "unit": "days"}))).await;
    assert_eq!(app.members(m).await, vec!["old@x.com"]);
}

#[tokio::test]
async fn full_segment_shows_rule_latest_refresh_and_history_newest_first() {
    let app = spawn_app().await;
    app.fields(&[("N", "Numeric")]).await;
    for i in 0..10 {
        app.contact(&format!("c{i}@x.com"), json!({"N": i})).await;
    }
    let rule = cond("dataFields.N", "between", json!([3, 6]));
    let s = app.segment("mid", rule.clone()).await;
    assert_eq!(app.client.refresh(s, T).await.unwrap(), "Finished");
    let d = app.client.get(&format!("/v2/segments/{s}")).await.unwrap().ok().unwrap();
    assert_eq!(d["id"], s);
    assert_eq!(d["name"], "mid");
    assert_eq!(d["contacts"], 4);
    assert_eq!(d["rule"], json!({"field": "dataFields.N", "op": "between", "value": [3, 6]}));
    let last = &d["lastRefresh"];
    assert_eq!(last["status"], "Finished");
    assert_eq!(last["contactsEvaluated"], 10);
    assert_eq!(last["matched"], 4);
    assert_eq!(last["joined"], 0);
    assert_eq!(last["left"], 0);
    assert!(last["started"].is_string() && last["finished"].is_string());
    let h = app.client.get(&format!("/v2/segments/{s}/refreshes")).await.unwrap().ok().unwrap();
    let h = h.as_array().unwrap();
    assert_eq!(h.len(), 2);
    assert!(h[0]["id"].as_i64() > h[1]["id"].as_i64());
    assert_eq!(h[1]["joined"], 4);
    let p =
        app.client.post("/v2/segments/preview", &json!({"rule": cond("dataFields.N", "lessThan", json!(3))})).await.unwrap().ok().unwrap();
    assert_eq!(p, json!({"contacts": 3}));
    assert_eq!(app.client.get("/v2/segments").await.unwrap().body.as_array().unwrap().len(), 1, "preview saves nothing");
    let r = app.client.delete(&format!("/v2/segments/{s}")).await.unwrap();
    assert_eq!(r.status, 204);
    assert_eq!(app.client.get(&format!("/v2/segments/{s}")).await.unwrap().status, 404);
}

#[tokio::test]
async fn invalid_rules_are_rejected_with_a_v2_error_that_names_the_problem_and_nothing_is_saved() {
    let app = spawn_app().await;
    app.fields(&[("SPEND", "Numeric"), ("CITY", "String")]).await;
    let deep = (0..20).fold(json!({"all": []}), |acc, _| json!({"all": [acc]}));
    let many: Vec<Value> = (0..501).map(|_| cond("dataFields.CITY", "equals", json!("x"))).collect();
    let long_list: Vec<Value> = (0..10_001).map(|i| json!(format!("v{i}"))).collect();
    let cases = vec![
        (cond("dataFields.NOPE", "equals", json!("x")), "NOPE"),
        (cond("dataFields.SPEND", "contains", json!("1")), "contains"),
        (cond("dataFields.SPEND", "greaterThan", json!("ten")), "SPEND"),
        (cond("dataFields.CITY", "between", json!([1])), "between"),
        (cond("status", "equals", json!("Sleeping")), "Sleeping"),
        (cond("addressBooks", "contains", json!(999)), "999"),
        (cond("segments", "contains", json!(999)), "999"),
        (json!({"all": [], "any": []}), ""),
        (json!("everyone"), ""),
        (json!({"field": "dataFields.CITY"}), ""),
        (deep, "16"),
        (json!({"any": many}), "500"),
        (cond("dataFields.CITY", "in", json!(long_list)), "10000"),
        (cond("dataFields.CITY", "equals", json!("x".repeat(1025))), "1024"),
    ];
    for (rule, needle) in cases {
        let r = app.client.post("/v2/segments", &json!({"name": "bad", "rule": rule})).await.unwrap();
        assert_error(&r, 400, "ERROR_PARAMETER_INVALID");
        let msg = r.body["message"].as_str().unwrap().replace(',', "");
        assert!(msg.contains(needle), "message '{msg}' should name '{needle}'");
    }
    for body in [json!({"name": "no rule"}), json!({"rule": {"all": []}}), json!({"name": "", "rule": {"all": []}})] {
        let r = app.client.post("/v2/segments", &body).await.unwrap();
        assert_eq!(r.status, 400, "{}", r.text);
    }
    let r = app.client.post_raw("/v2/segments", "application/json", b"{not json".to_vec()).await.unwrap();
    assert_eq!(r.status, 400);
    assert_eq!(app.client.get("/v2/segments").await.unwrap().body, json!([]));
}

#[tokio::test]
async fn keys_and_operator_names_in_rules_are_case_insensitive() {
    let app = spawn_app().await;
    app.fields(&[("CITY", "String")]).await;
    app.contact("a@x.com", json!({"CITY": "Leeds"})).await;
    let id =
        app.client.create_segment("ci", json!({"ALL": [{"Field": "DATAFIELDS.city", "Op": "EQUALS", "Value": "leeds"}]})).await.unwrap();
    assert_eq!(app.client.wait_refresh(id, T).await.unwrap(), "Finished");
    assert_eq!(app.members(id).await, vec!["a@x.com"]);
}

#[tokio::test]
async fn a_refresh_whose_process_keeps_dying_ends_failed_with_a_reason_after_three_attempts() {
    let (_dir, _url, _schema, store) = fresh_db().await;
    let (account, _, _) = sift_server::create_account(&store, "dying").await.unwrap();
    let seg = store
        .create_list(account, sift_store::lists::ListKind::Segment, "s", sift_core::model::Visibility::Private, Some(r#"{"all":[]}"#))
        .await
        .unwrap();
    // Three processes claim it and die (their 1 ms leases lapse without a heartbeat).
    for attempt in 1..=3 {
        let r = store.claim_refresh(&format!("dead-{attempt}"), 1).await.unwrap().expect("claimable");
        assert_eq!(r.attempts, attempt);
        assert_eq!(r.segment_id, seg.id);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(store.claim_refresh("next", 1000).await.unwrap().is_none(), "not run a fourth time");
    let last = store.latest_refresh(account, seg.id).await.unwrap().unwrap();
    assert_eq!(last.status, sift_core::model::RefreshStatus::Failed);
    assert!(last.error.unwrap().contains("interrupted 3 times"));
    // A new request is accepted afterwards.
    let again = store.request_refresh(account, seg.id).await.unwrap();
    assert_eq!(again.status, sift_core::model::RefreshStatus::NotStarted);
}

#[tokio::test]
async fn a_lapsed_lease_is_taken_over_and_the_old_owner_cannot_finish_it() {
    let (_dir, _url, _schema, store) = fresh_db().await;
    let (account, _, _) = sift_server::create_account(&store, "lease").await.unwrap();
    let seg = store
        .create_list(account, sift_store::lists::ListKind::Segment, "s", sift_core::model::Visibility::Private, Some(r#"{"all":[]}"#))
        .await
        .unwrap();
    let first = store.claim_refresh("slow", 1).await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let second = store.claim_refresh("fast", 60_000).await.unwrap().unwrap();
    assert_eq!(first.id, second.id);
    assert!(!store.heartbeat_refresh(account, first.id, "slow", 60_000).await.unwrap());
    let outcome = sift_store::refreshes::RefreshOutcome { evaluated: 0, matched: 0, joined: 0, left: 0, eval_micros: 0 };
    let members = roaring::RoaringBitmap::new();
    let lost = store.finish_refresh(account, first.id, seg.id, "slow", 0, &members, outcome).await.unwrap();
    assert_eq!(lost, sift_store::refreshes::FinishOutcome::Lost);
    let done = store.finish_refresh(account, second.id, seg.id, "fast", 0, &members, outcome).await.unwrap();
    assert_eq!(done, sift_store::refreshes::FinishOutcome::Finished);
}
