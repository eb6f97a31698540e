//! Two accounts on one server: account B can neither see nor change anything of
//! account A's, and is answered exactly as if A's things did not exist.

use crate::helpers::*;
use serde_json::json;

#[tokio::test]
async fn another_account_cannot_read_update_or_delete_contacts_books_fields_or_imports() {
    let app = spawn_app().await;
    let b = app.other_account().await;
    // A's things; A has more contacts and books than B, so B has nothing under A's ids.
    app.fields(&[("SECRET", "String")]).await;
    let book = app.book("A's book").await;
    let mut contacts = Vec::new();
    for i in 0..3 {
        let r = app
            .client
            .post(
                &format!("/v2/address-books/{book}/contacts"),
                &json!({"email": format!("a{i}@example.com"), "dataFields": [{"key": "SECRET", "value": "s"}]}),
            )
            .await
            .unwrap();
        contacts.push(r.body["id"].as_i64().unwrap());
    }
    let (import, status) =
        app.client.import_csv(Some(book), b"Email\na9@example.com\n".to_vec(), std::time::Duration::from_secs(30)).await.unwrap();
    assert_eq!(status, "Finished");
    let c = contacts[2];
    let seq = app.seq().await;
    let before = app.client.get("/v2/contacts?withFullData=true").await.unwrap().text;

    // Reads: A's contacts, books, members and imports are not found.
    for path in [format!("/v2/contacts/{c}"), "/v2/contacts/a1@example.com".to_string(), format!("/v2/contacts/{c}/address-books")] {
        assert_error(&b.get(&path).await.unwrap(), 404, "ERROR_CONTACT_NOT_FOUND");
    }
    for path in [
        format!("/v2/address-books/{book}"),
        format!("/v2/address-books/{book}/contacts"),
        format!("/v2/address-books/{book}/contacts/modified-since/2000-01-01"),
    ] {
        assert_error(&b.get(&path).await.unwrap(), 404, "ERROR_ADDRESSBOOK_NOT_FOUND");
    }
    for suffix in ["", "/report", "/report-faults"] {
        assert_error(&b.get(&format!("/v2/contacts/import/{import}{suffix}")).await.unwrap(), 404, "ERROR_IMPORT_NOT_FOUND");
    }
    // Listings and counts show only B's (nothing).
    for path in [
        "/v2/contacts",
        "/v2/address-books",
        "/v2/address-books/private",
        "/v2/contacts/created-since/2000-01-01",
        "/v2/contacts/modified-since/2000-01-01",
        "/v2/contacts/unsubscribed-since/2000-01-01",
    ] {
        assert_eq!(b.get(path).await.unwrap().body, json!([]), "{path}");
    }
    assert_eq!(b.get("/v2/contacts/count").await.unwrap().body, json!(0));
    let fields = b.get("/v2/data-fields").await.unwrap().body;
    assert!(fields.as_array().unwrap().iter().all(|f| f["name"] != "SECRET"));
    // A data field of A's is unknown to B's contact writes.
    let r = b.post("/v2/contacts", &json!({"email": "b@example.com", "dataFields": [{"key": "SECRET", "value": "x"}]})).await.unwrap();
    assert_error(&r, 400, "ERROR_DATAFIELD_NOTFOUND");

    // Writes: the same answers as for things that do not exist.
    assert_error(
        &b.put(&format!("/v2/contacts/{c}"), &json!({"email": "stolen@example.com"})).await.unwrap(),
        404,
        "ERROR_CONTACT_NOT_FOUND",
    );
    assert_error(&b.delete(&format!("/v2/contacts/{c}")).await.unwrap(), 404, "ERROR_CONTACT_NOT_FOUND");
    assert_error(&b.post("/v2/contacts/unsubscribe", &json!({"email": "a1@example.com"})).await.unwrap(), 404, "ERROR_CONTACT_NOT_FOUND");
    assert_error(
        &b.put(&format!("/v2/address-books/{book}"), &json!({"name": "Mine now"})).await.unwrap(),
        404,
        "ERROR_ADDRESSBOOK_NOT_FOUND",
    );
    assert_error(&b.delete(&format!("/v2/address-books/{book}")).await.unwrap(), 404, "ERROR_ADDRESSBOOK_NOT_FOUND");
    assert_error(
        &b.post(&format!("/v2/address-books/{book}/contacts"), &json!({"email": "b@example.com"})).await.unwrap(),
        404,
        "ERROR_ADDRESSBOOK_NOT_FOUND",
    );
    assert_error(&b.delete(&format!("/v2/address-books/{book}/contacts/{c}")).await.unwrap(), 404, "ERROR_ADDRESSBOOK_NOT_FOUND");
    assert_error(
        &b.post_file(&format!("/v2/address-books/{book}/contacts/import"), "x.csv", b"Email\nx@example.com\n".to_vec()).await.unwrap(),
        404,
        "ERROR_ADDRESSBOOK_NOT_FOUND",
    );
    let missing = b.delete("/v2/data-fields/NOSUCHFIELD").await.unwrap();
    let theirs = b.delete("/v2/data-fields/SECRET").await.unwrap();
    assert_eq!((theirs.status, theirs.text.clone()), (missing.status, missing.text.replace("NOSUCHFIELD", "SECRET")), "as if absent");
    assert_error(&theirs, 400, "ERROR_DATAFIELD_NOTFOUND");

    // Nothing of A's changed.
    assert_eq!(app.seq().await, seq);
    assert_eq!(app.client.get("/v2/contacts?withFullData=true").await.unwrap().text, before);
    assert_eq!(app.client.get(&format!("/v2/address-books/{book}")).await.unwrap().body["contacts"], 4);
    assert_eq!(app.client.get("/v2/data-fields").await.unwrap().body.as_array().unwrap().len(), 7);
}

#[tokio::test]
async fn accounts_have_separate_name_spaces_and_id_spaces() {
    let app = spawn_app().await;
    let b = app.other_account().await;
    app.fields(&[("SHARED", "Numeric")]).await;
    app.book("Shared name").await;
    app.contact("same@example.com", json!({"SHARED": 1})).await;
    // B may use the same names and addresses; they are B's own.
    let r = b.post("/v2/data-fields", &json!({"name": "SHARED", "type": "String"})).await.unwrap();
    assert_eq!(r.status, 201, "{}", r.text);
    let r = b.post("/v2/address-books", &json!({"name": "Shared name"})).await.unwrap();
    assert_eq!(r.status, 201, "{}", r.text);
    let r =
        b.post("/v2/contacts", &json!({"email": "same@example.com", "dataFields": [{"key": "SHARED", "value": "text"}]})).await.unwrap();
    assert_eq!(r.status, 201, "{}", r.text);
    let bid = r.body["id"].as_i64().unwrap();
    // B's write did not touch A's contact of the same address.
    let a = app.client.get("/v2/contacts/same@example.com").await.unwrap().body;
    let shared = a["dataFields"].as_array().unwrap().iter().find(|d| d["key"] == "SHARED").unwrap()["value"].clone();
    assert_eq!(shared, json!(1));
    assert_eq!(b.get(&format!("/v2/contacts/{bid}")).await.unwrap().body["email"], "same@example.com");
    assert_eq!(app.client.get("/v2/contacts/count").await.unwrap().body, json!(1));
    assert_eq!(b.get("/v2/contacts/count").await.unwrap().body, json!(1));
    // An import by B lands in B's account only.
    let (id, status) =
        b.import_csv(None, b"Email\nsame@example.com\nonlyb@example.com\n".to_vec(), std::time::Duration::from_secs(30)).await.unwrap();
    assert_eq!(status, "Finished");
    assert_eq!(b.get(&format!("/v2/contacts/import/{id}/report")).await.unwrap().body["newContacts"], 1);
    assert_eq!(app.client.get("/v2/contacts/count").await.unwrap().body, json!(1));
    assert_error(&app.client.get("/v2/contacts/onlyb@example.com").await.unwrap(), 404, "ERROR_CONTACT_NOT_FOUND");
}
