use std::time::Duration;

use crate::helpers::*;
use base64::Engine;
use serde_json::{json, Value};
use sift_core::model::{ContactStatus, ImportStatus, MergeOption};

const WAIT: Duration = Duration::from_secs(60);

/// A multipart body from (part name, file name, bytes); returns (content type, body).
fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "XsiftBoundary7MA4YWxk";
    let mut body = Vec::new();
    for (name, file, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file {
            Some(f) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: text/csv\r\n\r\n").as_bytes(),
            ),
            None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
        }
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn report(app: &TestApp, id: &str) -> Value {
    let r = app.client.get(&format!("/v2/contacts/import/{id}/report")).await.unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

async fn faults(app: &TestApp, id: &str) -> Vec<Vec<String>> {
    let r = app.client.get(&format!("/v2/contacts/import/{id}/report-faults")).await.unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(r.text.as_bytes());
    rdr.records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect()
}

fn field(c: &Value, key: &str) -> Value {
    c["dataFields"].as_array().unwrap().iter().find(|d| d["key"] == key).map(|d| d["value"].clone()).unwrap_or(json!("<missing>"))
}

#[tokio::test]
async fn multipart_import_answers_202_then_finishes_with_a_report() {
    let app = spawn_app().await;
    app.fields(&[("AGE", "Numeric")]).await;
    let seq = app.seq().await;
    let csv = "email,FirstName,age,OptInType,EmailType,Unmapped\na@example.com,Ann,30,double,plaintext,zzz\nB@Example.com,Bob,,,,\n";
    let r = app.client.post_file("/v2/contacts/import", "contacts.csv", csv.as_bytes().to_vec()).await.unwrap();
    assert_eq!(r.status, 202, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    assert_eq!(r.body.as_object().unwrap().len(), 2, "{}", r.text);
    assert_eq!(r.body["status"], "NotFinished");
    assert_eq!(app.client.wait_import(&id, WAIT).await.unwrap(), "Finished");
    let s = app.client.get(&format!("/v2/contacts/import/{id}")).await.unwrap().body;
    assert_eq!(s, json!({"id": id, "status": "Finished"}));
    let rep = report(&app, &id).await;
    let keys = [
        "newContacts",
        "updatedContacts",
        "globallySuppressed",
        "invalidEntries",
        "duplicateEmails",
        "blocked",
        "unsubscribed",
        "hardBounced",
        "softBounced",
        "ispComplaints",
        "mailBlocked",
        "domainSuppressed",
        "pendingDoubleOptin",
        "failures",
        "suppressedContacts",
    ];
    assert_eq!(rep.as_object().unwrap().len(), keys.len(), "{rep}");
    for k in keys {
        let want = if k == "newContacts" { 2 } else { 0 };
        assert_eq!(rep[k], want, "{k}: {rep}");
    }
    let a = app.client.get("/v2/contacts/a@example.com").await.unwrap().body;
    assert_eq!(field(&a, "FIRSTNAME"), "Ann");
    assert_eq!(field(&a, "AGE"), 30.0);
    assert_eq!(a["optInType"], "Double");
    assert_eq!(a["emailType"], "PlainText");
    let b = app.client.get("/v2/contacts/b@example.com").await.unwrap().body;
    assert_eq!(field(&b, "AGE"), Value::Null);
    assert!(app.seq().await > seq, "an import advances the change sequence");
    // Upper-case id works too (GUIDs are case-insensitive).
    assert_eq!(app.client.get(&format!("/v2/contacts/import/{}", id.to_uppercase())).await.unwrap().status, 200);
    // No faults: just the header.
    assert_eq!(faults(&app, &id).await, vec![vec!["Reason", "email", "FirstName", "age", "OptInType", "EmailType", "Unmapped"]]);
}

#[tokio::test]
async fn json_base64_import_is_accepted_with_any_property_case() {
    let app = spawn_app().await;
    let book = app.book("B").await;
    let data = base64::engine::general_purpose::STANDARD.encode("Email\nj1@example.com\nj2@example.com\n");
    for (i, body) in [json!({"fileName": "a.csv", "data": data}), json!({"FileName": "b.csv", "Data": data})].into_iter().enumerate() {
        let r = app.client.post(&format!("/v2/address-books/{book}/contacts/import"), &body).await.unwrap();
        assert_eq!(r.status, 202, "{i}: {}", r.text);
        let id = r.body["id"].as_str().unwrap().to_string();
        assert_eq!(app.client.wait_import(&id, WAIT).await.unwrap(), "Finished");
        let rep = report(&app, &id).await;
        assert_eq!(
            (rep["newContacts"].as_i64(), rep["updatedContacts"].as_i64()),
            if i == 0 { (Some(2), Some(0)) } else { (Some(0), Some(2)) }
        );
    }
    assert_eq!(app.client.get(&format!("/v2/address-books/{book}")).await.unwrap().body["contacts"], 2);
    for bad in [json!({"fileName": "a.csv"}), json!({"fileName": "a.csv", "data": "***not base64***"}), json!({"data": 5})] {
        let r = app.client.post("/v2/contacts/import", &bad).await.unwrap();
        assert_error(&r, 400, "ERROR_PARAMETER_INVALID");
    }
}

#[tokio::test]
async fn a_part_without_a_file_name_is_exactly_file_must_be_valid() {
    let app = spawn_app().await;
    let (ct, body) = multipart(&[("file", None, b"Email\na@example.com\n")]);
    let r = app.client.post_raw("/v2/contacts/import", &ct, body).await.unwrap();
    assert_eq!(r.status, 400);
    assert_eq!(r.text, r#"{"message":"file must be valid"}"#);
    // No parts at all is the same.
    let (ct, body) = multipart(&[]);
    let r = app.client.post_raw("/v2/contacts/import", &ct, body).await.unwrap();
    assert_eq!((r.status, r.text.as_str()), (400, r#"{"message":"file must be valid"}"#));
}

#[tokio::test]
async fn two_files_are_multi_file_upload_not_allowed() {
    let app = spawn_app().await;
    let (ct, body) = multipart(&[("file", Some("a.csv"), b"Email\na@example.com\n"), ("file2", Some("b.csv"), b"Email\nb@example.com\n")]);
    let r = app.client.post_raw("/v2/contacts/import", &ct, body).await.unwrap();
    assert_error(&r, 400, "ERROR_MULTI_FILE_UPLOAD_NOT_ALLOWED");
    assert_eq!(app.client.get("/v2/contacts/count").await.unwrap().body, json!(0));
}

#[tokio::test]
async fn a_file_without_an_email_column_is_refused_up_front() {
    let app = spawn_app().await;
    for csv in ["FirstName,LastName\nA,B\n", "", "Emails\nx@example.com\n"] {
        let r = app.client.post_file("/v2/contacts/import", "c.csv", csv.as_bytes().to_vec()).await.unwrap();
        assert_error(&r, 400, "ERROR_NO_EMAIL_COLUMN");
    }
    // Any case, with a byte-order mark, is fine.
    let r = app.client.post_file("/v2/contacts/import", "c.csv", b"\xEF\xBB\xBFEMAIL\nx@example.com\n".to_vec()).await.unwrap();
    assert_eq!(r.status, 202, "{}", r.text);
}

#[tokio::test]
async fn excel_and_wrong_content_types_are_refused() {
    let app = spawn_app().await;
    let r = app.client.post_file("/v2/contacts/import", "c.xlsx", b"PK\x03\x04".to_vec()).await.unwrap();
    assert_error(&r, 400, "ERROR_IMPORT_UNSUPPORTED_FORMAT");
    let r = app.client.post_raw("/v2/contacts/import", "text/csv", b"Email\na@example.com\n".to_vec()).await.unwrap();
    assert_error(&r, 415, "ERROR_CONTENT_TYPE_IS_NOT_SUPPORTED");
    let r = app.client.post_raw("/v2/contacts/import", "multipart/form-data; boundary=nope", b"garbage".to_vec()).await.unwrap();
    assert!((400..500).contains(&r.status), "{}", r.text);
    assert_eq!(r.body.as_object().map(|o| o.len()), Some(1), "{}", r.text);
    assert_eq!(app.client.get("/v2/contacts/count").await.unwrap().body, json!(0));
}

#[tokio::test]
async fn unknown_import_ids_are_import_not_found() {
    let app = spawn_app().await;
    for id in ["af4ac4bc-e1e7-4817-8a66-73fb59e91ce6", "not-a-guid", "1"] {
        for suffix in ["", "/report", "/report-faults"] {
            let r = app.client.get(&format!("/v2/contacts/import/{id}{suffix}")).await.unwrap();
            assert_error(&r, 404, "ERROR_IMPORT_NOT_FOUND");
        }
    }
}

#[tokio::test]
async fn report_before_the_end_is_import_report_not_found() {
    let app = spawn_app_with(sift_server::app::Config { import_workers: 0, ..test_config() }).await;
    let r = app.client.post_file("/v2/contacts/import", "c.csv", b"Email\na@example.com\n".to_vec()).await.unwrap();
    assert_eq!(r.status, 202, "{}", r.text);
    let id = r.body["id"].as_str().unwrap();
    assert_eq!(app.client.get(&format!("/v2/contacts/import/{id}")).await.unwrap().body["status"], "NotFinished");
    for suffix in ["/report", "/report-faults"] {
        let r = app.client.get(&format!("/v2/contacts/import/{id}{suffix}")).await.unwrap();
        assert_error(&r, 404, "ERROR_IMPORT_REPORT_NOT_FOUND");
        assert_eq!(r.body["message"], "Import is not processed yet or completed with error. ERROR_IMPORT_REPORT_NOT_FOUND");
    }
}

#[tokio::test]
async fn import_into_a_book_adds_new_and_existing_contacts() {
    let app = spawn_app().await;
    let book = app.book("Imported").await;
    let existing = app.contact("old@example.com", json!({"FIRSTNAME": "Old"})).await;
    let (id, status) =
        app.client.import_csv(Some(book), b"Email,FirstName\nold@example.com,Renamed\nnew@example.com,New\n".to_vec(), WAIT).await.unwrap();
    assert_eq!(status, "Finished");
    let rep = report(&app, &id).await;
    assert_eq!((rep["newContacts"].as_i64(), rep["updatedContacts"].as_i64()), (Some(1), Some(1)));
    let members = app.client.member_ids(book).await.unwrap();
    assert_eq!(members.len(), 2);
    assert!(members.contains(&existing));
    assert_eq!(field(&app.client.get(&format!("/v2/contacts/{existing}")).await.unwrap().body, "FIRSTNAME"), "Renamed");
    assert_error(
        &app.client.post_file("/v2/address-books/999/contacts/import", "c.csv", b"Email\na@example.com\n".to_vec()).await.unwrap(),
        404,
        "ERROR_ADDRESSBOOK_NOT_FOUND",
    );
    assert_error(
        &app.client.post_file("/v2/address-books/abc/contacts/import", "c.csv", b"Email\na@example.com\n".to_vec()).await.unwrap(),
        400,
        "ERROR_PARAMETER_INVALID",
    );
}

#[tokio::test]
async fn suppressed_contacts_are_left_alone_and_reported() {
    let app = spawn_app().await;
    let book = app.book("B").await;
    let u = app.contact("unsub@example.com", json!({"FIRSTNAME": "U"})).await;
    let h = app.contact("hard@example.com", json!({})).await;
    app.store.set_contact_status(app.account_id, u, ContactStatus::Unsubscribed).await.unwrap();
    app.store.set_contact_status(app.account_id, h, ContactStatus::HardBounced).await.unwrap();
    let csv = "Email,FirstName\nunsub@example.com,Changed\nhard@example.com,Changed\nok@example.com,Ok\n";
    let (id, status) = app.client.import_csv(Some(book), csv.as_bytes().to_vec(), WAIT).await.unwrap();
    assert_eq!(status, "Finished");
    let rep = report(&app, &id).await;
    assert_eq!(rep["newContacts"], 1);
    assert_eq!(rep["updatedContacts"], 0);
    assert_eq!(rep["unsubscribed"], 1);
    assert_eq!(rep["hardBounced"], 1);
    assert_eq!(field(&app.client.get("/v2/contacts/unsub@example.com").await.unwrap().body, "FIRSTNAME"), "U");
    assert_eq!(app.client.member_ids(book).await.unwrap().len(), 1);
    let f = faults(&app, &id).await;
    assert_eq!(f[0], ["Reason", "Email", "FirstName"]);
    assert_eq!(
        f[1..].to_vec(),
        vec![vec!["Unsubscribed", "unsub@example.com", "Changed"], vec!["Hard Bounced", "hard@example.com", "Changed"]]
    );
}

#[tokio::test]
async fn three_thousand_rows_with_broken_ones_land_the_good_rows_and_count_exactly() {
    let app = spawn_app().await;
    app.fields(&[("AGE", "Numeric"), ("JOINED", "Date"), ("VIP", "Boolean")]).await;
    let book = app.book("Big").await;
    let mut csv = String::from("Email,FirstName,Age,Joined,Vip\n");
    let (mut good, mut invalid, mut duplicate) = (0, 0, 0);
    let mut expected_faults: Vec<(String, String)> = Vec::new();
    for i in 0..3000 {
        let email = format!("user{i:05}@example.com");
        match i % 100 {
            7 => {
                csv.push_str(&format!("not-an-email-{i},X,1,2020-01-01,true\n"));
                invalid += 1;
                expected_faults.push(("Invalid Entries".into(), format!("not-an-email-{i}")));
            }
            13 => {
                // Same address as row i-1, in another case.
                csv.push_str(&format!("USER{:05}@EXAMPLE.COM,Dup,1,2020-01-01,true\n", i - 1));
                duplicate += 1;
                expected_faults.push(("Duplicate".into(), format!("USER{:05}@EXAMPLE.COM", i - 1)));
            }
            21 => {
                csv.push_str(&format!("{email},X,not-a-number,2020-01-01,true\n"));
                invalid += 1;
                expected_faults.push(("Invalid Entries".into(), email.clone()));
            }
            22 => {
                csv.push_str(&format!("{email},X,1,31/31/2020,true\n"));
                invalid += 1;
                expected_faults.push(("Invalid Entries".into(), email.clone()));
            }
            23 => {
                csv.push_str(&format!("{email},X,1,2020-01-01,perhaps\n"));
                invalid += 1;
                expected_faults.push(("Invalid Entries".into(), email.clone()));
            }
            37 => {
                // A ragged row: more cells than the header; its values cannot be trusted.
                csv.push_str(&format!("{email},X,1,2020-01-01,true,surplus\n"));
                invalid += 1;
                expected_faults.push(("Invalid Entries".into(), email.clone()));
            }
            38 => {
                // A ragged row: fewer cells than the header.
                csv.push_str(&format!("{email},X\n"));
                invalid += 1;
                expected_faults.push(("Invalid Entries".into(), email.clone()));
            }
            _ => {
                csv.push_str(&format!("{email},\"Name, {i}\",{},2020-01-{:02},{}\n", i % 90, i % 28 + 1, i % 2 == 0));
                good += 1;
            }
        }
    }
    let seq = app.seq().await;
    let (id, status) = app.client.import_csv(Some(book), csv.into_bytes(), WAIT).await.unwrap();
    assert_eq!(status, "Finished");
    let rep = report(&app, &id).await;
    assert_eq!(rep["newContacts"], good, "{rep}");
    assert_eq!(rep["updatedContacts"], 0, "{rep}");
    assert_eq!(rep["invalidEntries"], invalid, "{rep}");
    assert_eq!(rep["duplicateEmails"], duplicate, "{rep}");
    assert_eq!(app.client.get("/v2/contacts/count").await.unwrap().body, json!(good));
    assert_eq!(app.client.member_ids(book).await.unwrap().len(), good as usize);
    assert!(app.seq().await > seq);
    let f = faults(&app, &id).await;
    assert_eq!(f[0], ["Reason", "Email", "FirstName", "Age", "Joined", "Vip"]);
    let got: Vec<(String, String)> = f[1..].iter().map(|r| (r[0].clone(), r.get(1).cloned().unwrap_or_default())).collect();
    assert_eq!(got, expected_faults);
    // Good rows carry their values; the quoted comma survived.
    let c = app.client.get("/v2/contacts/user00042@example.com").await.unwrap().body;
    assert_eq!(field(&c, "FIRSTNAME"), "Name, 42");
    assert_eq!(field(&c, "AGE"), 42.0);
    assert_eq!(field(&c, "JOINED"), "2020-01-15");
    assert_eq!(field(&c, "VIP"), true);
    // The first of a duplicated pair landed with its own values.
    let c = app.client.get("/v2/contacts/user00012@example.com").await.unwrap().body;
    assert_eq!(field(&c, "FIRSTNAME"), "Name, 12");
    assert_error(&app.client.get("/v2/contacts/user00021@example.com").await.unwrap(), 404, "ERROR_CONTACT_NOT_FOUND");
    assert_error(&app.client.get("/v2/contacts/user00037@example.com").await.unwrap(), 404, "ERROR_CONTACT_NOT_FOUND");
}

async fn merge_import(app: &TestApp, option: &str) -> Value {
    let csv = "Email,FirstName,LastName,Postcode\nm@example.com,NewFirst,,NewCode\n";
    let r =
        app.client.post_file(&format!("/v2/contacts/import/with-merge-option/{option}"), "m.csv", csv.as_bytes().to_vec()).await.unwrap();
    assert_eq!(r.status, 202, "{option}: {}", r.text);
    let id = r.body["id"].as_str().unwrap();
    assert_eq!(app.client.wait_import(id, WAIT).await.unwrap(), "Finished");
    app.client.get("/v2/contacts/m@example.com").await.unwrap().body
}

async fn reset(app: &TestApp) {
    let r = app
        .client
        .post(
            "/v2/contacts",
            &json!({"email": "m@example.com", "dataFields": [
        {"key": "FIRSTNAME", "value": "OldFirst"}, {"key": "LASTNAME", "value": "OldLast"}, {"key": "POSTCODE", "value": null}]}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 201);
}

#[tokio::test]
async fn merge_options_by_name_or_number() {
    let app = spawn_app().await;
    // Overwrite (0): every column is written, an empty cell clears a String field.
    for opt in ["0", "Overwrite", "overwrite"] {
        reset(&app).await;
        let c = merge_import(&app, opt).await;
        assert_eq!(
            (field(&c, "FIRSTNAME"), field(&c, "LASTNAME"), field(&c, "POSTCODE")),
            (json!("NewFirst"), json!(""), json!("NewCode")),
            "{opt}"
        );
    }
    // OnlyOverwriteIfNotEmpty (1): empty cells leave the old value.
    for opt in ["1", "OnlyOverwriteIfNotEmpty"] {
        reset(&app).await;
        let c = merge_import(&app, opt).await;
        assert_eq!(
            (field(&c, "FIRSTNAME"), field(&c, "LASTNAME"), field(&c, "POSTCODE")),
            (json!("NewFirst"), json!("OldLast"), json!("NewCode")),
            "{opt}"
        );
    }
    // OnlyOverwriteIfContactDataNotPopulated (2): only empty fields are filled.
    for opt in ["2", "onlyoverwriteifcontactdatanotpopulated"] {
        reset(&app).await;
        let c = merge_import(&app, opt).await;
        assert_eq!(
            (field(&c, "FIRSTNAME"), field(&c, "LASTNAME"), field(&c, "POSTCODE")),
            (json!("OldFirst"), json!("OldLast"), json!("NewCode")),
            "{opt}"
        );
    }
    let book = app.book("B").await;
    let r = app
        .client
        .post_file(&format!("/v2/address-books/{book}/contacts/import/with-merge-option/1"), "m.csv", b"Email\nmb@example.com\n".to_vec())
        .await
        .unwrap();
    assert_eq!(r.status, 202, "{}", r.text);
    for bad in ["3", "-1", "Sometimes"] {
        let r = app
            .client
            .post_file(&format!("/v2/contacts/import/with-merge-option/{bad}"), "m.csv", b"Email\nx@example.com\n".to_vec())
            .await
            .unwrap();
        assert_error(&r, 400, "ERROR_PARAMETER_INVALID");
        let r = app
            .client
            .post_file(
                &format!("/v2/address-books/{book}/contacts/import/with-merge-option/{bad}"),
                "m.csv",
                b"Email\nx@example.com\n".to_vec(),
            )
            .await
            .unwrap();
        assert_error(&r, 400, "ERROR_PARAMETER_INVALID");
    }
}

#[tokio::test]
async fn too_many_active_imports_is_refused() {
    let app = spawn_app_with(sift_server::app::Config { import_workers: 0, ..test_config() }).await;
    for _ in 0..sift_store::imports::MAX_ACTIVE_IMPORTS {
        let r = app.client.post_file("/v2/contacts/import", "c.csv", b"Email\na@example.com\n".to_vec()).await.unwrap();
        assert_eq!(r.status, 202);
    }
    let r = app.client.post_file("/v2/contacts/import", "c.csv", b"Email\na@example.com\n".to_vec()).await.unwrap();
    assert_error(&r, 400, "ERROR_IMPORT_TOOMANYACTIVEIMPORTS");
}

#[tokio::test]
async fn an_import_whose_worker_died_is_taken_over_and_finished_after_restart() {
    let db = fresh_db().await;
    let store = db.3.clone();
    let (account, _, _) = sift_server::create_account(&store, "Crashed").await.unwrap();
    let csv = "Email,FirstName\na@example.com,A\nb@example.com,B\nbad,C\na@example.com,Dup\n";
    store
        .create_import(account, "6f1c1f58-5b43-4c52-9a43-1d1a4f0c0c01", None, MergeOption::Overwrite, "c.csv", csv.as_bytes())
        .await
        .unwrap();
    let (claimed, _) = store.claim_import("dead-worker", 1).await.unwrap().expect("claimable");
    assert_eq!(claimed.attempts, 1);
    tokio::time::sleep(Duration::from_millis(5)).await;
    // A new process starts on the same database; its worker takes over the lapsed lease.
    let app = spawn_app_on(db, test_config()).await;
    let deadline = std::time::Instant::now() + WAIT;
    let imp = loop {
        let imp = store.import(account, "6f1c1f58-5b43-4c52-9a43-1d1a4f0c0c01").await.unwrap().unwrap();
        if imp.status != ImportStatus::NotFinished || std::time::Instant::now() > deadline {
            break imp;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(imp.status, ImportStatus::Finished, "{imp:?}");
    assert_eq!((imp.report.new_contacts, imp.report.invalid_entries, imp.report.duplicate_emails), (2, 1, 1));
    assert_eq!(store.count_contacts(account).await.unwrap(), 2);
    drop(app);
}

#[tokio::test]
async fn nul_characters_in_the_file_name_or_cells_do_not_break_the_import() {
    let app = spawn_app().await;
    let csv = b"Email,FirstName\nbad\x00@example.com,x\x00y\nok@example.com,a\x00b\n".to_vec();
    let data = base64::engine::general_purpose::STANDARD.encode(&csv);
    let r = app.client.post("/v2/contacts/import", &json!({"fileName": "nul\u{0}.csv", "data": data})).await.unwrap();
    assert_eq!(r.status, 202, "{}", r.text);
    let id = r.body["id"].as_str().unwrap();
    assert_eq!(app.client.wait_import(id, WAIT).await.unwrap(), "Finished");
    let rep = report(&app, id).await;
    assert_eq!((rep["newContacts"].as_i64(), rep["invalidEntries"].as_i64()), (Some(1), Some(1)));
    let f = faults(&app, id).await;
    assert_eq!(f[1], ["Invalid Entries", "bad@example.com", "xy"]);
    let c = app.client.get("/v2/contacts/ok@example.com").await.unwrap().body;
    assert_eq!(field(&c, "FIRSTNAME"), "a\u{0}b");
}
