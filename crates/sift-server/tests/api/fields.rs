use crate::helpers::*;
use serde_json::json;

fn names(list: &serde_json::Value) -> Vec<String> {
    list.as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn new_account_lists_the_default_fields_in_the_v2_shape() {
    let app = spawn_app().await;
    let r = app.client.get("/v2/data-fields").await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(names(&r.body), ["FIRSTNAME", "LASTNAME", "FULLNAME", "GENDER", "POSTCODE", "LASTSUBSCRIBED"]);
    assert_eq!(r.body[0], json!({"name": "FIRSTNAME", "type": "String", "visibility": "Private", "defaultValue": null}));
    assert_eq!(r.body[5]["type"], "Date");
}

#[tokio::test]
async fn create_matches_property_names_and_enum_values_case_insensitively() {
    let app = spawn_app().await;
    let r = app
        .client
        .post("/v2/data-fields", &json!({"Name": "score", "Type": "numeric", "Visibility": "public", "DefaultValue": 5}))
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body, json!({"name": "SCORE", "type": "Numeric", "visibility": "Public", "defaultValue": 5}));
    let r = app.client.post("/v2/data-fields", &json!({"NAME": "Vip", "TYPE": "BOOLEAN", "defaultValue": true})).await.unwrap();
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body, json!({"name": "VIP", "type": "Boolean", "visibility": "Private", "defaultValue": true}));
    let list = app.client.get("/v2/data-fields").await.unwrap().body;
    assert!(names(&list).ends_with(&["SCORE".to_string(), "VIP".to_string()]));
}

#[tokio::test]
async fn null_optional_properties_mean_default_and_unknown_properties_are_ignored() {
    let app = spawn_app().await;
    let r = app
        .client
        .post(
            "/v2/data-fields",
            &json!({"name": "city", "type": "String", "visibility": null, "defaultValue": null, "colour": "blue", "extra": {"x": 1}}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body, json!({"name": "CITY", "type": "String", "visibility": "Private", "defaultValue": null}));
}

#[tokio::test]
async fn every_field_type_can_be_created_with_a_typed_default() {
    let app = spawn_app().await;
    for (name, kind, default, shown) in [
        ("S", "String", json!("x"), json!("x")),
        ("N", "Numeric", json!(2.5), json!(2.5)),
        ("N2", "Numeric", json!("7"), json!(7)),
        ("D", "Date", json!("2020-01-31"), json!("2020-01-31")),
        ("B", "Boolean", json!(false), json!(false)),
        ("B2", "Boolean", json!("true"), json!(true)),
    ] {
        let r = app.client.post("/v2/data-fields", &json!({"name": name, "type": kind, "defaultValue": default})).await.unwrap();
        assert_eq!(r.status, 201, "{name}: {}", r.text);
        assert_eq!(r.body["defaultValue"], shown, "{name}");
    }
    // A new contact gets the defaults.
    let id = app.contact("d@example.com", json!({})).await;
    let c = app.client.get(&format!("/v2/contacts/{id}")).await.unwrap().body;
    let value = |k: &str| c["dataFields"].as_array().unwrap().iter().find(|d| d["key"] == k).unwrap()["value"].clone();
    assert_eq!(value("N"), json!(2.5));
    assert_eq!(value("B2"), json!(true));
    assert_eq!(value("D"), json!("2020-01-31"));
}

#[tokio::test]
async fn default_value_of_the_wrong_type_is_refused() {
    let app = spawn_app().await;
    for (kind, default) in [
        ("Numeric", json!("abc")),
        ("Boolean", json!("maybe")),
        ("Date", json!("not a date")),
        ("Numeric", json!([1])),
        ("Boolean", json!(3)),
    ] {
        let r = app.client.post("/v2/data-fields", &json!({"name": "F", "type": kind, "defaultValue": default})).await.unwrap();
        assert_error(&r, 400, "ERROR_DATAFIELD_INVALID");
    }
    let list = app.client.get("/v2/data-fields").await.unwrap().body;
    assert_eq!(list.as_array().unwrap().len(), 6, "nothing was created");
}

#[tokio::test]
async fn names_must_be_1_to_20_letters_digits_underscores_or_dashes() {
    let app = spawn_app().await;
    for bad in ["", " ", "has space", "dot.ted", "ümlaut", "a/b", "x".repeat(21).as_str(), "semi;colon"] {
        let r = app.client.post("/v2/data-fields", &json!({"name": bad, "type": "String"})).await.unwrap();
        assert_error(&r, 400, "ERROR_DATAFIELD_INVALID");
    }
    let r = app.client.post("/v2/data-fields", &json!({"type": "String"})).await.unwrap();
    assert_error(&r, 400, "ERROR_DATAFIELD_INVALID");
    for good in ["a", "A_b-9", &"y".repeat(20)] {
        let r = app.client.post("/v2/data-fields", &json!({"name": good, "type": "String"})).await.unwrap();
        assert_eq!(r.status, 201, "{good}: {}", r.text);
        assert_eq!(r.body["name"], good.to_uppercase());
    }
}

#[tokio::test]
async fn missing_or_unknown_type_is_datafield_invalid() {
    let app = spawn_app().await;
    let r = app.client.post("/v2/data-fields", &json!({"name": "T"})).await.unwrap();
    assert_error(&r, 400, "ERROR_DATAFIELD_INVALID");
    let r = app.client.post("/v2/data-fields", &json!({"name": "T", "type": "Text"})).await.unwrap();
    assert_error(&r, 400, "ERROR_DATAFIELD_INVALID");
    let r = app.client.post("/v2/data-fields", &json!({"name": "T", "type": "String", "visibility": "Secret"})).await.unwrap();
    assert_error(&r, 400, "ERROR_DATAFIELD_INVALID");
    let list = app.client.get("/v2/data-fields").await.unwrap().body;
    assert_eq!(list.as_array().unwrap().len(), 6);
}

#[tokio::test]
async fn duplicate_name_in_any_case_is_non_unique_datafield() {
    let app = spawn_app().await;
    app.fields(&[("Colour", "String")]).await;
    for dup in ["COLOUR", "colour", " Colour ", "FirstName"] {
        let r = app.client.post("/v2/data-fields", &json!({"name": dup, "type": "Numeric"})).await.unwrap();
        assert_error(&r, 400, "ERROR_NON_UNIQUE_DATAFIELD");
        assert_eq!(r.body["message"], "Field already exists. ERROR_NON_UNIQUE_DATAFIELD");
    }
}

#[tokio::test]
async fn delete_answers_the_dependency_result_and_forgets_the_values() {
    let app = spawn_app().await;
    app.fields(&[("COLOUR", "String")]).await;
    let id = app.contact("a@example.com", json!({"COLOUR": "red"})).await;
    let seq = app.seq().await;
    let r = app.client.delete("/v2/data-fields/colour").await.unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.text, r#"{"result":true,"dependencies":null}"#);
    assert!(app.seq().await > seq, "deleting a field advances the change sequence");
    assert!(!names(&app.client.get("/v2/data-fields").await.unwrap().body).contains(&"COLOUR".to_string()));
    // A new field of the same name starts empty: the old values do not resurface.
    app.fields(&[("COLOUR", "String")]).await;
    let c = app.client.get(&format!("/v2/contacts/{id}")).await.unwrap().body;
    let colour = c["dataFields"].as_array().unwrap().iter().find(|d| d["key"] == "COLOUR").unwrap().clone();
    assert_eq!(colour["value"], serde_json::Value::Null);
}

#[tokio::test]
async fn deleting_an_unknown_or_default_field_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let r = app.client.delete("/v2/data-fields/NOPE").await.unwrap();
    assert_error(&r, 400, "ERROR_DATAFIELD_NOTFOUND");
    let r = app.client.delete("/v2/data-fields/firstname").await.unwrap();
    assert_error(&r, 400, "ERROR_DATAFIELD_INVALID");
    let r = app.client.delete("/v2/data-fields/%20").await.unwrap();
    assert!((400..500).contains(&r.status), "{}", r.text);
    let list = app.client.get("/v2/data-fields").await.unwrap().body;
    assert_eq!(list.as_array().unwrap().len(), 6);
}

#[tokio::test]
async fn field_limit_is_datafield_limitexceeded() {
    let app = spawn_app().await;
    for i in 0..(sift_store::fields::MAX_DATA_FIELDS - 6) {
        app.store
            .create_data_field(
                app.account_id,
                &format!("F{i}"),
                sift_core::model::DataFieldType::String,
                sift_core::model::Visibility::Private,
                None,
            )
            .await
            .unwrap();
    }
    let r = app.client.post("/v2/data-fields", &json!({"name": "ONE_TOO_MANY", "type": "String"})).await.unwrap();
    assert_error(&r, 400, "ERROR_DATAFIELD_LIMITEXCEEDED");
}
