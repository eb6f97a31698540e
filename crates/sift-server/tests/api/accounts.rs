use crate::helpers::*;
use serde_json::json;

#[tokio::test]
async fn missing_or_wrong_credentials_get_the_exact_401_body() {
    let app = spawn_app().await;
    let anon = reqwest::get(format!("{}/v2/account-info", app.base)).await.unwrap();
    assert_eq!(anon.status(), 401);
    assert_eq!(anon.text().await.unwrap(), r#"{"message":"Authorization has been denied for this request."}"#);
    let wrong = app.client.with_credentials("apiuser-nobody@sift.local", "nope");
    let r = wrong.get("/v2/contacts").await.unwrap();
    assert_eq!(r.status, 401);
    assert_eq!(r.text, r#"{"message":"Authorization has been denied for this request."}"#);
    let r = app.client.get("/v2/account-info").await.unwrap();
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn account_info_points_api_endpoint_at_this_server() {
    let app = spawn_app().await;
    let r = app.client.get("/v2/account-info").await.unwrap().ok().unwrap();
    assert_eq!(r["id"].as_i64(), Some(app.account_id));
    let endpoint = r["properties"].as_array().unwrap().iter().find(|p| p["name"] == "ApiEndpoint").unwrap();
    assert_eq!(endpoint["value"].as_str().unwrap(), app.base);
    let r = app.client.put("/v2/account-info", &json!({"TimeZone": "Europe/London"})).await.unwrap().ok().unwrap();
    let tz = r["properties"].as_array().unwrap().iter().find(|p| p["name"] == "TimeZone").unwrap();
    assert_eq!(tz["value"], "Europe/London");
    let r = app.client.put("/v2/account-info", &json!({"timeZone": "Mars/Olympus"})).await.unwrap();
    assert_error(&r, 400, "ERROR_PARAMETER_INVALID");
}
