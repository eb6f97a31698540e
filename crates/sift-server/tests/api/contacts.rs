use crate::helpers::*;
use serde_json::{json, Value};
use sift_core::model::ContactStatus;

fn field(c: &Value, key: &str) -> Value {
    c["dataFields"]
        .as_array()
        .unwrap_or_else(|| panic!("no dataFields: {c}"))
        .iter()
        .find(|d| d["key"] == key)
        .map(|d| d["value"].clone())
        .unwrap_or(json!("<missing>"))
}

fn ids(list: &Value) -> Vec<i64> {
    list.as_array().unwrap_or_else(|| panic!("not an array: {list}")).iter().map(|c| c["id"].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn create_answers_201_with_the_full_v2_contact() {
    let app = spawn_app().await;
    app.fields(&[("SCORE", "Numeric")]).await;
    let seq = app.seq().await;
    let r = app
        .client
        .post("/v2/contacts", &json!({"email": "John@Example.com", "optInType": "Single", "emailType": "PlainText", "dataFields": [{"key": "FIRSTNAME", "value": "John"}, {"key": "SCORE", "value": 3}]}))
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.text);
    let c = r.body;
    let keys: Vec<&String> = c.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 6, "{c}");
    for k in ["id", "email", "optInType", "emailType", "dataFields", "status"] {
        assert!(c.get(k).is_some(), "missing {k}: {c}");
    }
    assert_eq!(c["email"], "John@Example.com");
    assert_eq!(c["optInType"], "Single");
    assert_eq!(c["emailType"], "PlainText");
    assert_eq!(c["status"], "Subscribed");
    // Every account field is listed, unset ones as null.
    assert_eq!(c["dataFields"].as_array().unwrap().len(), 7);
    assert_eq!(field(&c, "FIRSTNAME"), "John");
    assert_eq!(field(&c, "SCORE"), 3.0);
    assert_eq!(field(&c, "POSTCODE"), Value::Null);
    assert!(app.seq().await > seq, "a create advances the change sequence");
}

#[tokio::test]
async fn property_names_and_enum_values_match_case_insensitively() {
    let app = spawn_app().await;
    for (i, body) in [
        json!({"Email": "a1@example.com", "OptInType": "single", "EmailType": "html", "DataFields": [{"Key": "firstname", "Value": "A"}]}),
        json!({"EMAIL": "a2@example.com", "OPTINTYPE": "VERIFIEDDOUBLE", "EMAILTYPE": "PLAINTEXT", "DATAFIELDS": [{"KEY": "FirstName", "VALUE": "A"}]}),
        json!({"email": "a3@example.com", "optintype": "Double", "emailtype": "Html", "datafields": [{"key": "FIRSTNAME", "value": "A"}]}),
    ]
    .into_iter()
    .enumerate()
    {
        let r = app.client.post("/v2/contacts", &body).await.unwrap();
        assert_eq!(r.status, 201, "{i}: {}", r.text);
        assert_eq!(r.body["email"], format!("a{}@example.com", i + 1));
        assert_eq!(field(&r.body, "FIRSTNAME"), "A");
    }
    let list = app.client.get("/v2/contacts?withFullData=true").await.unwrap().body;
    let opt: Vec<&str> = list.as_array().unwrap().iter().map(|c| c["optInType"].as_str().unwrap()).collect();
    assert_eq!(opt, ["Single", "VerifiedDouble", "Double"]);
    let et: Vec<&str> = list.as_array().unwrap().iter().map(|c| c["emailType"].as_str().unwrap()).collect();
    assert_eq!(et, ["Html", "PlainText", "Html"]);
}

#[tokio::test]
async fn null_optional_properties_mean_default_and_unknown_properties_are_ignored() {
    let app = spawn_app().await;
    let r = app
        .client
        .post("/v2/contacts", &json!({"email": "n@example.com", "optInType": null, "emailType": null, "dataFields": null, "id": null, "status": "HardBounced", "shoeSize": 44}))
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["optInType"], "Unknown");
    assert_eq!(r.body["emailType"], "Html");
    assert_eq!(r.body["status"], "Subscribed", "status is read-only");
    // A data value of null on update clears the field; a null list leaves them alone.
    let id = r.body["id"].as_i64().unwrap();
    app.client
        .put(&format!("/v2/contacts/{id}"), &json!({"email": "n@example.com", "dataFields": [{"key": "FIRSTNAME", "value": "N"}]}))
        .await
        .unwrap();
    let r = app
        .client
        .put(&format!("/v2/contacts/{id}"), &json!({"email": "n@example.com", "optInType": null, "dataFields": null}))
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(field(&r.body, "FIRSTNAME"), "N");
    let r = app
        .client
        .put(&format!("/v2/contacts/{id}"), &json!({"email": "n@example.com", "dataFields": [{"key": "FIRSTNAME", "value": null}]}))
        .await
        .unwrap();
    assert_eq!(field(&r.body, "FIRSTNAME"), Value::Null);
}

#[tokio::test]
async fn post_with_a_known_address_updates_that_contact() {
    let app = spawn_app().await;
    let id = app.contact("up@example.com", json!({"FIRSTNAME": "Old", "LASTNAME": "Kept"})).await;
    let r = app
        .client
        .post(
            "/v2/contacts",
            &json!({"email": "UP@example.com", "optInType": "Double", "dataFields": [{"key": "FIRSTNAME", "value": "New"}]}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["id"].as_i64(), Some(id));
    assert_eq!(field(&r.body, "FIRSTNAME"), "New");
    assert_eq!(field(&r.body, "LASTNAME"), "Kept");
    assert_eq!(r.body["optInType"], "Double");
    assert_eq!(app.client.get("/v2/contacts/count").await.unwrap().body, json!(1));
}

#[tokio::test]
async fn get_by_id_or_by_address() {
    let app = spawn_app().await;
    let id = app.contact("Mixed.Case+tag@Example.com", json!({"FIRSTNAME": "M"})).await;
    for path in [
        format!("/v2/contacts/{id}"),
        "/v2/contacts/Mixed.Case+tag@Example.com".to_string(),
        "/v2/contacts/mixed.case%2Btag%40example.com".to_string(),
    ] {
        let r = app.client.get(&path).await.unwrap();
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        assert_eq!(r.body["id"].as_i64(), Some(id), "{path}");
        assert_eq!(field(&r.body, "FIRSTNAME"), "M");
    }
    for missing in ["/v2/contacts/999", "/v2/contacts/nobody@example.com", "/v2/contacts/0"] {
        let r = app.client.get(missing).await.unwrap();
        assert_error(&r, 404, "ERROR_CONTACT_NOT_FOUND");
        assert_eq!(r.body["message"], "Error: ERROR_CONTACT_NOT_FOUND");
    }
}

#[tokio::test]
async fn put_updates_address_and_data_and_advances_the_sequence() {
    let app = spawn_app().await;
    app.fields(&[("BORN", "Date"), ("VIP", "Boolean")]).await;
    let id = app.contact("old@example.com", json!({"FIRSTNAME": "F"})).await;
    let seq = app.seq().await;
    let r = app
        .client
        .put(&format!("/v2/contacts/{id}"), &json!({"Email": "new@example.com", "EmailType": "plaintext", "DataFields": [{"Key": "born", "Value": "1990-02-03"}, {"key": "VIP", "value": "true"}]}))
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["email"], "new@example.com");
    assert_eq!(r.body["emailType"], "PlainText");
    assert_eq!(field(&r.body, "BORN"), "1990-02-03");
    assert_eq!(field(&r.body, "VIP"), true);
    assert_eq!(field(&r.body, "FIRSTNAME"), "F");
    assert!(app.seq().await > seq);
    assert_error(&app.client.get("/v2/contacts/old@example.com").await.unwrap(), 404, "ERROR_CONTACT_NOT_FOUND");
    assert_eq!(app.client.get("/v2/contacts/new@example.com").await.unwrap().body["id"].as_i64(), Some(id));
}

#[tokio::test]
async fn put_to_another_contacts_address_is_non_unique_email_and_changes_nothing() {
    let app = spawn_app().await;
    let a = app.contact("a@example.com", json!({})).await;
    app.contact("b@example.com", json!({})).await;
    let seq = app.seq().await;
    let r = app
        .client
        .put(&format!("/v2/contacts/{a}"), &json!({"email": "B@example.com", "dataFields": [{"key": "FIRSTNAME", "value": "X"}]}))
        .await
        .unwrap();
    assert_error(&r, 400, "ERROR_NON_UNIQUE_EMAIL");
    let msg = r.body["message"].as_str().unwrap();
    assert_eq!(msg.matches("ERROR_").count(), 1, "exactly one code: {msg}");
    assert_eq!(app.seq().await, seq);
    let c = app.client.get(&format!("/v2/contacts/{a}")).await.unwrap().body;
    assert_eq!(c["email"], "a@example.com");
    assert_eq!(field(&c, "FIRSTNAME"), Value::Null);
}

#[tokio::test]
async fn put_and_delete_of_unknown_or_bad_ids() {
    let app = spawn_app().await;
    let body = json!({"email": "x@example.com"});
    assert_error(&app.client.put("/v2/contacts/12345", &body).await.unwrap(), 404, "ERROR_CONTACT_NOT_FOUND");
    assert_error(&app.client.delete("/v2/contacts/12345").await.unwrap(), 404, "ERROR_CONTACT_NOT_FOUND");
    assert_error(&app.client.put("/v2/contacts/0", &body).await.unwrap(), 404, "ERROR_CONTACT_NOT_FOUND");
    assert_error(&app.client.delete("/v2/contacts/-4").await.unwrap(), 404, "ERROR_CONTACT_NOT_FOUND");
    assert_error(&app.client.put("/v2/contacts/abc", &body).await.unwrap(), 400, "ERROR_PARAMETER_INVALID");
    assert_error(&app.client.delete("/v2/contacts/1.5").await.unwrap(), 400, "ERROR_PARAMETER_INVALID");
    assert_error(&app.client.delete("/v2/contacts/99999999999999999999").await.unwrap(), 400, "ERROR_PARAMETER_INVALID");
    assert_eq!(app.client.get("/v2/contacts/count").await.unwrap().body, json!(0));
}

#[tokio::test]
async fn delete_answers_204_and_the_contact_is_gone() {
    let app = spawn_app().await;
    let book = app.book("B").await;
    let r = app.client.post(&format!("/v2/address-books/{book}/contacts"), &json!({"email": "del@example.com"})).await.unwrap();
    let id = r.body["id"].as_i64().unwrap();
    let seq = app.seq().await;
    let r = app.client.delete(&format!("/v2/contacts/{id}")).await.unwrap();
    assert_eq!(r.status, 204);
    assert_eq!(r.text, "");
    assert!(app.seq().await > seq);
    assert_error(&app.client.get(&format!("/v2/contacts/{id}")).await.unwrap(), 404, "ERROR_CONTACT_NOT_FOUND");
    assert_error(&app.client.get("/v2/contacts/del@example.com").await.unwrap(), 404, "ERROR_CONTACT_NOT_FOUND");
    assert_error(&app.client.delete(&format!("/v2/contacts/{id}")).await.unwrap(), 404, "ERROR_CONTACT_NOT_FOUND");
    assert_eq!(app.client.get("/v2/contacts/count").await.unwrap().body, json!(0));
    assert_eq!(app.client.get(&format!("/v2/address-books/{book}")).await.unwrap().body["contacts"], 0);
    // The address can be used again, as a new contact.
    let again = app.contact("del@example.com", json!({})).await;
    assert_ne!(again, id);
}

#[tokio::test]
async fn data_values_are_checked_against_the_field_type() {
    let app = spawn_app().await;
    app.fields(&[("NUM", "Numeric"), ("WHEN", "Date"), ("YES", "Boolean")]).await;
    let id = app.contact("t@example.com", json!({"NUM": 1})).await;
    let seq = app.seq().await;
    for (key, value) in [
        ("NUM", json!("abc")),
        ("NUM", json!(true)),
        ("NUM", json!({"a": 1})),
        ("WHEN", json!("31/12/2020")),
        ("WHEN", json!("2020-13-01")),
        ("WHEN", json!(5)),
        ("YES", json!("maybe")),
        ("YES", json!(2)),
        ("FIRSTNAME", json!(["a"])),
    ] {
        for (method, path) in [("post", "/v2/contacts".to_string()), ("put", format!("/v2/contacts/{id}"))] {
            let body = json!({"email": "t@example.com", "dataFields": [{"key": key, "value": value}]});
            let r =
                if method == "post" { app.client.post(&path, &body).await.unwrap() } else { app.client.put(&path, &body).await.unwrap() };
            assert_error(&r, 400, "ERROR_DATAFIELD_INVALID");
        }
    }
    assert_eq!(app.seq().await, seq, "refused writes change nothing");
    let c = app.client.get(&format!("/v2/contacts/{id}")).await.unwrap().body;
    assert_eq!(field(&c, "NUM"), 1.0);
    // Text is accepted for every type when it parses.
    let r = app
        .client
        .post("/v2/contacts", &json!({"email": "t@example.com", "dataFields": [{"key": "NUM", "value": "2.5"}, {"key": "WHEN", "value": "2021-06-01 10:00:00"}, {"key": "YES", "value": "False"}]}))
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(field(&r.body, "NUM"), 2.5);
    assert_eq!(field(&r.body, "WHEN"), "2021-06-01T10:00:00Z");
    assert_eq!(field(&r.body, "YES"), false);
}

#[tokio::test]
async fn unknown_data_field_key_is_datafield_notfound_and_changes_nothing() {
    let app = spawn_app().await;
    let r = app
        .client
        .post(
            "/v2/contacts",
            &json!({"email": "u@example.com", "dataFields": [{"key": "FIRSTNAME", "value": "x"}, {"key": "NOSUCH", "value": "x"}]}),
        )
        .await
        .unwrap();
    assert_error(&r, 400, "ERROR_DATAFIELD_NOTFOUND");
    assert_eq!(app.client.get("/v2/contacts/count").await.unwrap().body, json!(0));
}

#[tokio::test]
async fn over_long_values_are_refused() {
    let app = spawn_app().await;
    let long = "x".repeat(sift_core::model::MAX_STRING_VALUE_LEN + 1);
    let r = app
        .client
        .post("/v2/contacts", &json!({"email": "l@example.com", "dataFields": [{"key": "FIRSTNAME", "value": long}]}))
        .await
        .unwrap();
    assert_error(&r, 400, "ERROR_DATAFIELD_VALUE_OVERFLOW");
    let fits = "x".repeat(sift_core::model::MAX_STRING_VALUE_LEN);
    let r = app
        .client
        .post("/v2/contacts", &json!({"email": "l@example.com", "dataFields": [{"key": "FIRSTNAME", "value": fits}]}))
        .await
        .unwrap();
    assert_eq!(r.status, 201);
    let long_email = format!("{}@example.com", "a".repeat(250));
    let r = app.client.post("/v2/contacts", &json!({"email": long_email})).await.unwrap();
    assert_error(&r, 400, "ERROR_PARAMETER_INVALID");
    assert_eq!(app.client.get("/v2/contacts/count").await.unwrap().body, json!(1));
}

#[tokio::test]
async fn invalid_addresses_are_parameter_invalid() {
    let app = spawn_app().await;
    for bad in [
        json!("not-an-email"),
        json!(""),
        json!("a@b"),
        json!("a b@example.com"),
        json!("a@@example.com"),
        json!("<a@example.com>"),
        json!(null),
    ] {
        let r = app.client.post("/v2/contacts", &json!({"email": bad})).await.unwrap();
        assert_error(&r, 400, "ERROR_PARAMETER_INVALID");
    }
    let r = app.client.post("/v2/contacts", &json!({"email": "nope"})).await.unwrap();
    assert_eq!(r.body["message"], "Email is not a valid email address. ERROR_PARAMETER_INVALID");
    let r = app.client.post("/v2/contacts", &json!({"dataFields": []})).await.unwrap();
    assert_error(&r, 400, "ERROR_PARAMETER_INVALID");
    assert_eq!(app.client.get("/v2/contacts/count").await.unwrap().body, json!(0));
}

#[tokio::test]
async fn list_pages_in_ascending_id_order_with_data_only_when_asked() {
    let app = spawn_app().await;
    let mut all = Vec::new();
    for i in 0..7 {
        all.push(app.contact(&format!("p{i}@example.com"), json!({"FIRSTNAME": format!("P{i}")})).await);
    }
    let r = app.client.get("/v2/contacts").await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(ids(&r.body), all);
    assert!(r.body.as_array().unwrap().iter().all(|c| c["dataFields"].is_null()), "dataFields null without withFullData");
    for q in ["withFullData=true", "WithFullData=True", "withfulldata=TRUE", "WITHFULLDATA=1"] {
        let r = app.client.get(&format!("/v2/contacts?{q}")).await.unwrap();
        assert_eq!(r.status, 200, "{q}");
        assert_eq!(field(&r.body[3], "FIRSTNAME"), "P3", "{q}");
    }
    let r = app.client.get("/v2/contacts?withFullData=false").await.unwrap();
    assert!(r.body[0]["dataFields"].is_null());
    // Pages: full pages until the end, then a short one, then empty.
    let mut seen = Vec::new();
    let mut skip = 0;
    loop {
        let page = app.client.get(&format!("/v2/contacts?Select=3&Skip={skip}")).await.unwrap().body;
        let got = ids(&page);
        seen.extend(got.iter().copied());
        if got.len() < 3 {
            assert!(seen.len() == all.len(), "a short page only at the end");
            break;
        }
        skip += 3;
    }
    assert_eq!(seen, all);
    assert_eq!(ids(&app.client.get("/v2/contacts?select=3&skip=6").await.unwrap().body), &all[6..]);
    assert_eq!(ids(&app.client.get("/v2/contacts?select=3&skip=100").await.unwrap().body), Vec::<i64>::new());
    assert_eq!(ids(&app.client.get("/v2/contacts?select=&skip=").await.unwrap().body), all, "empty params mean defaults");
}

#[tokio::test]
async fn default_page_is_1000_and_1000_is_the_largest() {
    let app = spawn_app().await;
    let csv: String = std::iter::once("Email\n".to_string()).chain((0..1005).map(|i| format!("c{i:04}@example.com\n"))).collect();
    let (_, status) = app.client.import_csv(None, csv.into_bytes(), std::time::Duration::from_secs(60)).await.unwrap();
    assert_eq!(status, "Finished");
    let page = app.client.get("/v2/contacts").await.unwrap().body;
    assert_eq!(page.as_array().unwrap().len(), 1000);
    let page = app.client.get("/v2/contacts?select=1000&skip=1000").await.unwrap().body;
    assert_eq!(page.as_array().unwrap().len(), 5);
    assert_error(&app.client.get("/v2/contacts?select=1001").await.unwrap(), 400, "ERROR_PARAMETER_INVALID");
    // modified-since allows up to 2000 and defaults to 2000.
    let page = app.client.get("/v2/contacts/modified-since/2000-01-01").await.unwrap().body;
    assert_eq!(page.as_array().unwrap().len(), 1005);
    assert_eq!(app.client.get("/v2/contacts/modified-since/2000-01-01?select=2000").await.unwrap().status, 200);
    assert_error(&app.client.get("/v2/contacts/modified-since/2000-01-01?select=2001").await.unwrap(), 400, "ERROR_PARAMETER_INVALID");
}

#[tokio::test]
async fn bad_paging_parameters_are_parameter_invalid_on_every_paged_route() {
    let app = spawn_app().await;
    let id = app.contact("x@example.com", json!({})).await;
    let book = app.book("B").await;
    let routes = [
        "/v2/contacts".to_string(),
        format!("/v2/contacts/{id}/address-books"),
        "/v2/contacts/created-since/2000-01-01".to_string(),
        "/v2/contacts/modified-since/2000-01-01".to_string(),
        "/v2/contacts/unsubscribed-since/2000-01-01".to_string(),
        "/v2/address-books".to_string(),
        "/v2/address-books/private".to_string(),
        "/v2/address-books/public".to_string(),
        format!("/v2/address-books/{book}/contacts"),
        format!("/v2/address-books/{book}/contacts/modified-since/2000-01-01"),
    ];
    for route in &routes {
        let lists_contacts = route.contains("/contacts") && !route.ends_with("/address-books") && !route.contains("unsubscribed-since");
        for q in ["select=0", "select=-1", "select=abc", "select=1.5", "skip=-1", "skip=abc", "Select=99999", "withFullData=maybe"] {
            if q.starts_with("withFullData") && !lists_contacts {
                continue;
            }
            let r = app.client.get(&format!("{route}?{q}")).await.unwrap();
            assert_eq!(r.status, 400, "{route}?{q}: {}", r.text);
            assert_error(&r, 400, "ERROR_PARAMETER_INVALID");
        }
        assert_eq!(app.client.get(&format!("{route}?select=1&skip=0")).await.unwrap().status, 200, "{route}");
    }
}

#[tokio::test]
async fn count_is_a_bare_integer() {
    let app = spawn_app().await;
    let r = app.client.get("/v2/contacts/count").await.unwrap();
    assert_eq!((r.status, r.text.as_str()), (200, "0"));
    app.contact("a@example.com", json!({})).await;
    let b = app.contact("b@example.com", json!({})).await;
    assert_eq!(app.client.get("/v2/contacts/count").await.unwrap().text, "2");
    app.client.delete(&format!("/v2/contacts/{b}")).await.unwrap();
    assert_eq!(app.client.get("/v2/contacts/count").await.unwrap().text, "1");
}

#[tokio::test]
async fn contacts_address_books_lists_the_books_it_is_in() {
    let app = spawn_app().await;
    let b1 = app.book("One").await;
    let _b2 = app.book("Two").await;
    let b3 = app.book("Three").await;
    let id = app.contact("m@example.com", json!({})).await;
    let r = app.client.get(&format!("/v2/contacts/{id}/address-books")).await.unwrap();
    assert_eq!((r.status, r.body.clone()), (200, json!([])));
    for b in [b3, b1] {
        app.client.post(&format!("/v2/address-books/{b}/contacts"), &json!({"email": "m@example.com"})).await.unwrap();
    }
    let r = app.client.get(&format!("/v2/contacts/{id}/address-books")).await.unwrap().body;
    assert_eq!(
        r,
        json!([{"id": b1, "name": "One", "visibility": "Private", "contacts": 1}, {"id": b3, "name": "Three", "visibility": "Private", "contacts": 1}])
    );
    let r = app.client.get(&format!("/v2/contacts/{id}/address-books?select=1&skip=1")).await.unwrap().body;
    assert_eq!(ids(&r), [b3]);
    assert_error(&app.client.get("/v2/contacts/999/address-books").await.unwrap(), 404, "ERROR_CONTACT_NOT_FOUND");
    assert_error(&app.client.get("/v2/contacts/abc/address-books").await.unwrap(), 400, "ERROR_PARAMETER_INVALID");
}

#[tokio::test]
async fn created_and_modified_since_accept_the_date_forms_clients_send() {
    let app = spawn_app().await;
    let a = app.contact("a@example.com", json!({})).await;
    let b = app.contact("b@example.com", json!({})).await;
    for date in [
        "2000-01-01",
        "2000-01-01%2000:00:00",
        "2000-01-01T00:00:00",
        "2000-01-01T00:00:00Z",
        "2000-01-01T00:00:00.000Z",
        "2000-01-01T01:00:00%2B01:00",
    ] {
        for kind in ["created-since", "modified-since"] {
            let r = app.client.get(&format!("/v2/contacts/{kind}/{date}")).await.unwrap();
            assert_eq!(r.status, 200, "{kind}/{date}: {}", r.text);
            assert_eq!(ids(&r.body), [a, b], "{kind}/{date}");
            assert!(r.body[0]["dataFields"].is_null());
        }
    }
    let r = app.client.get("/v2/contacts/created-since/2000-01-01?withFullData=true").await.unwrap().body;
    assert!(r[0]["dataFields"].is_array());
    assert_eq!(app.client.get("/v2/contacts/created-since/2999-01-01").await.unwrap().body, json!([]));
    for bad in ["yesterday", "2020-13-45", "0", "31-12-2020"] {
        assert_error(&app.client.get(&format!("/v2/contacts/created-since/{bad}")).await.unwrap(), 400, "ERROR_PARAMETER_INVALID");
        assert_error(&app.client.get(&format!("/v2/contacts/modified-since/{bad}")).await.unwrap(), 400, "ERROR_PARAMETER_INVALID");
        assert_error(&app.client.get(&format!("/v2/contacts/unsubscribed-since/{bad}")).await.unwrap(), 400, "ERROR_PARAMETER_INVALID");
    }
}

#[tokio::test]
async fn modified_since_sees_updates_but_created_since_does_not() {
    let app = spawn_app().await;
    let a = app.contact("a@example.com", json!({})).await;
    let _b = app.contact("b@example.com", json!({})).await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let mark = sift_core::time::format_instant(chrono::Utc::now());
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    app.client
        .put(&format!("/v2/contacts/{a}"), &json!({"email": "a@example.com", "dataFields": [{"key": "FIRSTNAME", "value": "A"}]}))
        .await
        .unwrap();
    let c = app.contact("c@example.com", json!({})).await;
    assert_eq!(ids(&app.client.get(&format!("/v2/contacts/modified-since/{mark}")).await.unwrap().body), [a, c]);
    assert_eq!(ids(&app.client.get(&format!("/v2/contacts/created-since/{mark}")).await.unwrap().body), [c]);
}

#[tokio::test]
async fn unsubscribe_returns_the_suppression_and_hides_the_contact_by_id() {
    let app = spawn_app().await;
    let id = app.contact("u@example.com", json!({"FIRSTNAME": "U"})).await;
    let keep = app.contact("keep@example.com", json!({})).await;
    let seq = app.seq().await;
    let r = app.client.post("/v2/contacts/unsubscribe", &json!({"Email": "U@example.com"})).await.unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
    let keys: Vec<&String> = r.body.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 3, "{}", r.text);
    assert_eq!(r.body["reason"], "Unsubscribed");
    assert_eq!(r.body["suppressedContact"]["id"].as_i64(), Some(id));
    assert_eq!(r.body["suppressedContact"]["status"], "Unsubscribed");
    let when = r.body["dateRemoved"].as_str().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(when).is_ok() && when.ends_with('Z'), "{when}");
    assert!(app.seq().await > seq);
    // By id it is hidden (as the v2 swagger says); by address it is there.
    assert_error(&app.client.get(&format!("/v2/contacts/{id}")).await.unwrap(), 404, "ERROR_CONTACT_NOT_FOUND");
    assert_eq!(app.client.get("/v2/contacts/u@example.com").await.unwrap().body["status"], "Unsubscribed");
    let r = app.client.get("/v2/contacts/unsubscribed-since/2000-01-01").await.unwrap();
    assert_eq!(r.status, 200);
    let list = r.body.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["suppressedContact"]["email"], "u@example.com");
    assert_eq!(list[0]["reason"], "Unsubscribed");
    assert!(list[0]["suppressedContact"]["dataFields"].is_null());
    assert_eq!(app.client.get("/v2/contacts/unsubscribed-since/2999-01-01").await.unwrap().body, json!([]));
    let _ = keep;
}

#[tokio::test]
async fn unsubscribe_of_bad_or_unknown_address_changes_nothing() {
    let app = spawn_app().await;
    app.contact("a@example.com", json!({})).await;
    let seq = app.seq().await;
    assert_error(&app.client.post("/v2/contacts/unsubscribe", &json!({"email": "nope"})).await.unwrap(), 400, "ERROR_PARAMETER_INVALID");
    assert_error(&app.client.post("/v2/contacts/unsubscribe", &json!({})).await.unwrap(), 400, "ERROR_PARAMETER_INVALID");
    assert_error(
        &app.client.post("/v2/contacts/unsubscribe", &json!({"email": "b@example.com"})).await.unwrap(),
        404,
        "ERROR_CONTACT_NOT_FOUND",
    );
    assert_eq!(app.seq().await, seq);
    assert_eq!(app.client.get("/v2/contacts/a@example.com").await.unwrap().body["status"], "Subscribed");
}

#[tokio::test]
async fn resubscribe_brings_an_unsubscribed_contact_back() {
    let app = spawn_app().await;
    for route in ["/v2/contacts/resubscribe", "/v2/contacts/resubscribe-with-no-challenge"] {
        let email = format!("r{}@example.com", route.len());
        let id = app.contact(&email, json!({})).await;
        app.client.post("/v2/contacts/unsubscribe", &json!({"email": email})).await.unwrap();
        let seq = app.seq().await;
        let r = app
            .client
            .post(route, &json!({"UnsubscribedContact": {"Email": email, "DataFields": [{"Key": "FIRSTNAME", "Value": "Back"}]}, "PreferredLocale": "de-DE", "ReturnUrlToUseIfChallenged": "https://example.com"}))
            .await
            .unwrap();
        assert_eq!(r.status, 200, "{route}: {}", r.text);
        assert_eq!(r.body["status"], "ContactAdded");
        assert_eq!(r.body["contact"]["id"].as_i64(), Some(id));
        assert_eq!(r.body["contact"]["status"], "Subscribed");
        assert_eq!(field(&r.body["contact"], "FIRSTNAME"), "Back");
        assert!(app.seq().await > seq);
        assert_eq!(app.client.get(&format!("/v2/contacts/{id}")).await.unwrap().status, 200);
    }
    // A new address is created subscribed.
    let r = app.client.post("/v2/contacts/resubscribe", &json!({"unsubscribedContact": {"email": "fresh@example.com"}})).await.unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "ContactAdded");
    assert_eq!(r.body["contact"]["status"], "Subscribed");
}

#[tokio::test]
async fn resubscribe_cannot_unsuppress_a_bounced_contact() {
    let app = spawn_app().await;
    let id = app.contact("hb@example.com", json!({})).await;
    app.store.set_contact_status(app.account_id, id, ContactStatus::HardBounced).await.unwrap();
    let seq = app.seq().await;
    let r = app
        .client
        .post(
            "/v2/contacts/resubscribe",
            &json!({"unsubscribedContact": {"email": "hb@example.com", "dataFields": [{"key": "FIRSTNAME", "value": "X"}]}}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "ContactCannotBeUnsuppressed");
    assert_eq!(r.body["contact"]["status"], "HardBounced");
    assert_eq!(app.seq().await, seq, "nothing changed");
    let c = app.client.get("/v2/contacts/hb@example.com").await.unwrap().body;
    assert_eq!(field(&c, "FIRSTNAME"), Value::Null);
}

#[tokio::test]
async fn resubscribe_without_a_contact_or_with_a_bad_one_is_refused() {
    let app = spawn_app().await;
    for body in [
        json!({}),
        json!({"unsubscribedContact": null}),
        json!({"unsubscribedContact": {"email": "bad"}}),
        json!({"unsubscribedContact": "x@example.com"}),
    ] {
        let r = app.client.post("/v2/contacts/resubscribe", &body).await.unwrap();
        assert_error(&r, 400, "ERROR_PARAMETER_INVALID");
    }
    assert_eq!(app.client.get("/v2/contacts/count").await.unwrap().body, json!(0));
}

#[tokio::test]
async fn every_contact_write_advances_the_change_sequence() {
    let app = spawn_app().await;
    let book = app.book("B").await;
    let mut last = app.seq().await;
    let mut step = |what: &str, now: i64| {
        assert!(now > last, "{what} must advance the change sequence ({last} → {now})");
        last = now;
    };
    let id = app.contact("s@example.com", json!({})).await;
    step("create", app.seq().await);
    app.client.post("/v2/contacts", &json!({"email": "s@example.com", "dataFields": [{"key": "FIRSTNAME", "value": "S"}]})).await.unwrap();
    step("upsert", app.seq().await);
    app.client.put(&format!("/v2/contacts/{id}"), &json!({"email": "s2@example.com"})).await.unwrap();
    step("update", app.seq().await);
    app.client.post(&format!("/v2/address-books/{book}/contacts"), &json!({"email": "s2@example.com"})).await.unwrap();
    step("add to book", app.seq().await);
    app.client.delete(&format!("/v2/address-books/{book}/contacts/{id}")).await.unwrap();
    step("remove from book", app.seq().await);
    app.client.post("/v2/contacts/unsubscribe", &json!({"email": "s2@example.com"})).await.unwrap();
    step("unsubscribe", app.seq().await);
    app.client.post("/v2/contacts/resubscribe", &json!({"unsubscribedContact": {"email": "s2@example.com"}})).await.unwrap();
    step("resubscribe", app.seq().await);
    app.client.post(&format!("/v2/address-books/{book}/contacts"), &json!({"email": "s2@example.com"})).await.unwrap();
    step("add again", app.seq().await);
    app.client.delete(&format!("/v2/address-books/{book}")).await.unwrap();
    step("delete book with members", app.seq().await);
    app.client.delete(&format!("/v2/contacts/{id}")).await.unwrap();
    step("delete", app.seq().await);
    let (_, status) = app.client.import_csv(None, b"Email\nimp@example.com\n".to_vec(), std::time::Duration::from_secs(30)).await.unwrap();
    assert_eq!(status, "Finished");
    step("import", app.seq().await);
    // The change feed shows the current state of what changed.
    let batch = app.store.changes_since(app.account_id, 0).await.unwrap();
    assert_eq!(batch.up_to_seq, last);
    let emails: Vec<String> = batch.changes.iter().filter_map(|c| c.record.as_ref().map(|r| r.email.clone())).collect();
    assert_eq!(emails, ["imp@example.com"]);
}
