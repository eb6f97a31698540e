//! Bad input on every write route: each answer is a 4xx with a v2 body (exactly one
//! key, `message`, ending in a code), never a 5xx, and nothing changes.

use crate::helpers::*;
use serde_json::json;

/// Asserts a 4xx with a v2 error body whose message ends with an `ERROR_` code.
#[track_caller]
fn assert_v2_4xx(r: &sift_client::Resp, what: &str) {
    assert!((400..500).contains(&r.status), "{what}: status {} body {}", r.status, r.text);
    let obj = r.body.as_object().unwrap_or_else(|| panic!("{what}: error body is not a JSON object: {}", r.text));
    assert_eq!(obj.len(), 1, "{what}: exactly one key: {}", r.text);
    let msg = obj["message"].as_str().unwrap_or_else(|| panic!("{what}: message is not a string: {}", r.text));
    let last = msg.rsplit(' ').next().unwrap_or("");
    assert!(last.starts_with("ERROR_") && !last.ends_with('.'), "{what}: message must end with a code: {msg}");
}

/// Everything a bad request could have changed.
async fn snapshot(app: &TestApp) -> (i64, String, String, String) {
    let seq = app.seq().await;
    let contacts = app.client.get("/v2/contacts?withFullData=true").await.unwrap().text;
    let books = app.client.get("/v2/address-books").await.unwrap().text;
    let fields = app.client.get("/v2/data-fields").await.unwrap().text;
    (seq, contacts, books, fields)
}

async fn seeded() -> (TestApp, i64, i64) {
    let app = spawn_app().await;
    app.fields(&[("NUM", "Numeric")]).await;
    let book = app.book("B").await;
    let r = app
        .client
        .post(&format!("/v2/address-books/{book}/contacts"), &json!({"email": "a@example.com", "dataFields": [{"key": "NUM", "value": 1}]}))
        .await
        .unwrap();
    let contact = r.body["id"].as_i64().unwrap();
    (app, book, contact)
}

fn write_routes(book: i64, contact: i64) -> Vec<(&'static str, String)> {
    vec![
        ("POST", "/v2/contacts".into()),
        ("PUT", format!("/v2/contacts/{contact}")),
        ("POST", "/v2/contacts/unsubscribe".into()),
        ("POST", "/v2/contacts/resubscribe".into()),
        ("POST", "/v2/contacts/resubscribe-with-no-challenge".into()),
        ("POST", "/v2/data-fields".into()),
        ("POST", "/v2/address-books".into()),
        ("PUT", format!("/v2/address-books/{book}")),
        ("POST", format!("/v2/address-books/{book}/contacts")),
        ("POST", "/v2/contacts/import".into()),
        ("POST", format!("/v2/address-books/{book}/contacts/import")),
        ("POST", "/v2/contacts/import/with-merge-option/1".into()),
        ("PUT", "/v2/account-info".into()),
    ]
}

async fn send_raw(app: &TestApp, method: &str, path: &str, content_type: &str, body: Vec<u8>) -> sift_client::Resp {
    let http = reqwest::Client::new();
    let url = format!("{}{}", app.base, path);
    let rb = if method == "PUT" { http.put(url) } else { http.post(url) };
    let (user, password) = app.credentials();
    let res = rb.basic_auth(user, Some(password)).header("content-type", content_type).body(body).send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text.clone()));
    sift_client::Resp { status, body, text }
}

#[tokio::test]
async fn malformed_json_is_a_v2_400_and_changes_nothing() {
    let (app, book, contact) = seeded().await;
    let before = snapshot(&app).await;
    for (method, path) in write_routes(book, contact) {
        for body in ["{", "{\"email\": }", "nul", "{\"email\": \"a@example.com\",}", "\u{0}", "[1, 2", "{\"a\": 1e99999}"] {
            let r = send_raw(&app, method, &path, "application/json", body.as_bytes().to_vec()).await;
            assert_v2_4xx(&r, &format!("{method} {path} <- {body:?}"));
        }
        let r = send_raw(&app, method, &path, "application/json", b"\xff\xfe{}".to_vec()).await;
        assert_v2_4xx(&r, &format!("{method} {path} <- invalid UTF-8"));
    }
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn wrong_json_types_are_a_v2_400_and_change_nothing() {
    let (app, book, contact) = seeded().await;
    let before = snapshot(&app).await;
    let bodies = [
        json!([]),
        json!("a string"),
        json!(42),
        json!(null),
        json!({"email": 5, "name": 5, "type": 5, "unsubscribedContact": 5, "data": 5, "fileName": 5, "timeZone": 5}),
        json!({"email": ["a@example.com"], "name": ["x"], "type": ["String"], "unsubscribedContact": [], "data": [], "timeZone": []}),
        json!({"email": "x@example.com", "name": "N", "type": "String", "optInType": 7, "emailType": "Rich", "visibility": 3, "dataFields": "NUM=1", "unsubscribedContact": {"email": "x@example.com", "dataFields": {"NUM": 1}}, "data": {"x": 1}, "timeZone": {"tz": 1}}),
        json!({"email": "x@example.com", "name": "N2", "type": "String", "visibility": "Everyone", "dataFields": [{"value": 1}], "unsubscribedContact": {"email": "x@example.com", "optInType": "Triple"}, "data": true, "timeZone": true}),
    ];
    for (method, path) in write_routes(book, contact) {
        for body in &bodies {
            let r = if method == "PUT" { app.client.put(&path, body).await.unwrap() } else { app.client.post(&path, body).await.unwrap() };
            assert_v2_4xx(&r, &format!("{method} {path} <- {body}"));
        }
    }
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn empty_bodies_and_wrong_content_types_are_v2_4xx() {
    let (app, book, contact) = seeded().await;
    let before = snapshot(&app).await;
    for (method, path) in write_routes(book, contact) {
        let r = send_raw(&app, method, &path, "application/json", Vec::new()).await;
        assert_v2_4xx(&r, &format!("{method} {path} <- empty"));
        let r =
            send_raw(&app, method, &path, "application/x-www-form-urlencoded", b"email=z%40example.com&name=Z&type=String".to_vec()).await;
        assert_v2_4xx(&r, &format!("{method} {path} <- form"));
        let r = send_raw(&app, method, &path, "application/xml", b"<ApiContact><Email>z@example.com</Email></ApiContact>".to_vec()).await;
        assert_v2_4xx(&r, &format!("{method} {path} <- xml"));
    }
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_with_a_v2_body() {
    let (app, book, _) = seeded().await;
    let before = snapshot(&app).await;
    let big = 33 * 1024 * 1024;
    // A JSON body: one huge string value.
    let mut body = b"{\"email\": \"big@example.com\", \"dataFields\": [{\"key\": \"FIRSTNAME\", \"value\": \"".to_vec();
    body.resize(big, b'x');
    body.extend_from_slice(b"\"}]}");
    for path in ["/v2/contacts".to_string(), format!("/v2/address-books/{book}/contacts"), "/v2/contacts/import".to_string()] {
        let r = app.client.post_raw(&path, "application/json", body.clone()).await.unwrap();
        assert_v2_4xx(&r, &format!("{path} <- 33 MiB JSON"));
    }
    // A multipart file of the same size.
    let mut csv = b"Email\n".to_vec();
    while csv.len() < big {
        csv.extend_from_slice(format!("u{}@example.com\n", csv.len()).as_bytes());
    }
    let r = app.client.post_file("/v2/contacts/import", "big.csv", csv).await.unwrap();
    assert_v2_4xx(&r, "33 MiB multipart import");
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn unknown_and_non_numeric_ids_on_every_id_route() {
    let (app, book, contact) = seeded().await;
    let before = snapshot(&app).await;
    let body = json!({"email": "a@example.com", "name": "X"});
    for raw in ["999999", "0", "-1", "abc", "1.0", "%20", "2147483648", "%FF", "1%00"] {
        let routes: Vec<(&str, String)> = vec![
            ("GET", format!("/v2/contacts/{raw}")),
            ("PUT", format!("/v2/contacts/{raw}")),
            ("DELETE", format!("/v2/contacts/{raw}")),
            ("GET", format!("/v2/contacts/{raw}/address-books")),
            ("GET", format!("/v2/address-books/{raw}")),
            ("PUT", format!("/v2/address-books/{raw}")),
            ("DELETE", format!("/v2/address-books/{raw}")),
            ("GET", format!("/v2/address-books/{raw}/contacts")),
            ("POST", format!("/v2/address-books/{raw}/contacts")),
            ("GET", format!("/v2/address-books/{raw}/contacts/modified-since/2000-01-01")),
            ("DELETE", format!("/v2/address-books/{raw}/contacts/{contact}")),
            ("DELETE", format!("/v2/address-books/{book}/contacts/{raw}")),
            ("POST", format!("/v2/address-books/{raw}/contacts/import")),
            ("GET", format!("/v2/contacts/import/{raw}")),
            ("GET", format!("/v2/contacts/import/{raw}/report")),
            ("GET", format!("/v2/contacts/import/{raw}/report-faults")),
            ("DELETE", format!("/v2/data-fields/{raw}")),
            ("GET", format!("/v2/contacts/created-since/{raw}")),
        ];
        for (method, path) in routes {
            let r = match method {
                "GET" => app.client.get(&path).await.unwrap(),
                "PUT" => app.client.put(&path, &body).await.unwrap(),
                "DELETE" => app.client.delete(&path).await.unwrap(),
                _ => app.client.post(&path, &body).await.unwrap(),
            };
            assert_v2_4xx(&r, &format!("{method} {path}"));
        }
    }
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn unsupported_methods_and_unknown_routes_answer_a_v2_body() {
    let app = spawn_app().await;
    let http = reqwest::Client::new();
    let (user, password) = app.credentials();
    for (method, path) in [
        ("PATCH", "/v2/contacts"),
        ("DELETE", "/v2/contacts"),
        ("PUT", "/v2/data-fields"),
        ("POST", "/v2/contacts/count"),
        ("GET", "/v2/nothing-here"),
    ] {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let res = http.request(m, format!("{}{}", app.base, path)).basic_auth(user, Some(password)).send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        let body: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("{method} {path}: {status} non-JSON body {text:?}"));
        assert!((400..500).contains(&status), "{method} {path}: {status}");
        assert_eq!(body.as_object().map(|o| o.len()), Some(1), "{method} {path}: {text}");
    }
}

#[tokio::test]
async fn a_get_with_a_body_is_tolerated() {
    let app = spawn_app().await;
    let r = app.client.post_raw("/v2/contacts", "application/json", b"{\"email\": \"g@example.com\"}".to_vec()).await.unwrap();
    assert_eq!(r.status, 201);
    let http = reqwest::Client::new();
    let (user, password) = app.credentials();
    let res = http
        .get(format!("{}/v2/contacts", app.base))
        .basic_auth(user, Some(password))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
}

#[tokio::test]
async fn keys_that_differ_only_in_case_a_non_json_content_type_and_repeated_columns_are_refused() {
    let app = spawn_app().await;
    let r = app.client.post("/v2/segments", &json!({"name": "s", "rule": {"all": [], "ALL": []}})).await.unwrap();
    assert_error(&r, 400, "ERROR_PARAMETER_INVALID");
    let r = app.client.post("/v2/address-books", &json!({"name": "x", "NAME": "y"})).await.unwrap();
    assert_error(&r, 400, "ERROR_PARAMETER_INVALID");
    app.fields(&[("ORDERS", "Numeric")]).await;
    let r = app
        .client
        .post("/v2/contacts", &json!({"email": "a@x.com", "dataFields": [{"key": "ORDERS", "value": 1}, {"key": "orders", "value": 2}]}))
        .await
        .unwrap();
    assert_error(&r, 400, "ERROR_DATAFIELD_INVALID");
    for ct in ["text/plain", "multipart/form-data; boundary=x", "application/json; charset=utf-16"] {
        let r = app.client.post_raw("/v2/address-books", ct, br#"{"name":"ctype"}"#.to_vec()).await.unwrap();
        assert_error(&r, 415, "ERROR_CONTENT_TYPE_IS_NOT_SUPPORTED");
    }
    let r = app.client.post_file("/v2/contacts/import", "c.csv", b"Email,ORDERS,orders\na@x.com,1,2\n".to_vec()).await.unwrap();
    assert_error(&r, 400, "ERROR_IMPORT_UNSUPPORTED_FORMAT");
    let r = app.client.get("/v1/segments/refresh/abc").await.unwrap();
    assert_error(&r, 400, "ERROR_PARAMETER_INVALID");
    assert_eq!(app.client.get("/v2/address-books").await.unwrap().body, json!([]));
    assert_eq!(app.client.get("/v2/contacts").await.unwrap().body, json!([]));
    assert_eq!(app.client.get("/v2/segments").await.unwrap().body, json!([]));
}
