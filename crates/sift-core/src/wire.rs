//! The v2 JSON shapes, exactly as v2 clients see them.
//!
//! Responses serialise in v2's camelCase. Requests deserialise from lower-cased keys:
//! the server lower-cases every object key of a request body before parsing, which is
//! how property names are matched case-insensitively (`Email`, `email`, `EMAIL`).
//! Optional request fields accept `null` as "default".

use serde::{Deserialize, Serialize};

use crate::model::{ContactStatus, DataFieldType, EmailType, OptInType, RefreshStatus, Visibility};

/// `{"key": "FIRSTNAME", "value": "John"}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all(serialize = "camelCase", deserialize = "lowercase"))]
pub struct DataFieldValue {
    pub key: String,
    #[serde(default)]
    pub value: serde_json::Value,
}

/// `ApiContact`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all(serialize = "camelCase", deserialize = "lowercase"))]
pub struct Contact {
    #[serde(default)]
    pub id: i64,
    pub email: String,
    #[serde(default)]
    #[serde(rename(deserialize = "optintype"))]
    pub opt_in_type: Option<OptInType>,
    #[serde(default)]
    #[serde(rename(deserialize = "emailtype"))]
    pub email_type: Option<EmailType>,
    #[serde(default)]
    #[serde(rename(deserialize = "datafields"))]
    pub data_fields: Option<Vec<DataFieldValue>>,
    #[serde(default)]
    pub status: Option<ContactStatus>,
}

/// A contact as written by a client (create, update, add to book).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all(serialize = "camelCase", deserialize = "lowercase"))]
pub struct ContactInput {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    #[serde(rename(deserialize = "optintype"))]
    pub opt_in_type: Option<OptInType>,
    #[serde(default)]
    #[serde(rename(deserialize = "emailtype"))]
    pub email_type: Option<EmailType>,
    #[serde(default)]
    #[serde(rename(deserialize = "datafields"))]
    pub data_fields: Option<Vec<DataFieldValue>>,
}

/// `ApiContactSuppression`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all(serialize = "camelCase", deserialize = "lowercase"))]
pub struct ContactSuppression {
    #[serde(rename(deserialize = "suppressedcontact"))]
    pub suppressed_contact: Contact,
    #[serde(rename(deserialize = "dateremoved"))]
    pub date_removed: String,
    pub reason: ContactStatus,
}

/// `POST /v2/contacts/resubscribe` body.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all(serialize = "camelCase", deserialize = "lowercase"))]
pub struct ResubscribeInput {
    #[serde(default)]
    #[serde(rename(deserialize = "unsubscribedcontact"))]
    pub unsubscribed_contact: Option<ContactInput>,
    #[serde(default)]
    #[serde(rename(deserialize = "preferredlocale"))]
    pub preferred_locale: Option<String>,
    #[serde(default)]
    #[serde(rename(deserialize = "returnurltouseifchallenged"))]
    pub return_url_to_use_if_challenged: Option<String>,
}

/// `POST /v2/contacts/resubscribe` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all(serialize = "camelCase", deserialize = "lowercase"))]
pub struct ResubscribeResult {
    pub contact: Contact,
    pub status: String,
}

/// `ApiDataField`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all(serialize = "camelCase", deserialize = "lowercase"))]
pub struct DataField {
    pub name: String,
    #[serde(rename(deserialize = "type"))]
    pub r#type: DataFieldType,
    pub visibility: Visibility,
    #[serde(rename(deserialize = "defaultvalue"))]
    pub default_value: serde_json::Value,
}

/// A data field as created by a client.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all(serialize = "camelCase", deserialize = "lowercase"))]
pub struct DataFieldInput {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, rename(deserialize = "type", serialize = "type"))]
    pub kind: Option<DataFieldType>,
    #[serde(default)]
    pub visibility: Option<Visibility>,
    #[serde(default)]
    #[serde(rename(deserialize = "defaultvalue"))]
    pub default_value: Option<serde_json::Value>,
}

/// `ApiDependencyResult`, the answer to a data-field delete.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all(serialize = "camelCase", deserialize = "lowercase"))]
pub struct DependencyResult {
    pub result: bool,
    pub dependencies: Option<Vec<String>>,
}

/// `ApiAddressBook`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all(serialize = "camelCase", deserialize = "lowercase"))]
pub struct AddressBook {
    pub id: i64,
    pub name: String,
    pub visibility: Visibility,
    pub contacts: i64,
}

/// An address book as written by a client.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all(serialize = "camelCase", deserialize = "lowercase"))]
pub struct AddressBookInput {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub visibility: Option<Visibility>,
}

/// `ApiSegment`: exactly `id`, `name`, `contacts` (client libraries reject extra keys).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Segment {
    pub id: i64,
    pub name: String,
    pub contacts: i64,
}

/// `ApiSegmentRefresh`: exactly `id` (the segment id) and `status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentRefresh {
    pub id: i64,
    pub status: String,
}

/// Extension: a segment with its rule and its latest refresh.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SegmentDetail {
    pub id: i64,
    pub name: String,
    pub contacts: i64,
    pub rule: serde_json::Value,
    pub last_refresh: Option<RefreshRecord>,
}

/// Extension: one refresh of a segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshRecord {
    pub id: i64,
    pub status: RefreshStatus,
    pub requested: String,
    pub started: Option<String>,
    pub finished: Option<String>,
    pub attempts: i64,
    pub contacts_evaluated: Option<i64>,
    pub matched: Option<i64>,
    pub joined: Option<i64>,
    pub left: Option<i64>,
    pub evaluation_ms: Option<f64>,
    pub error: Option<String>,
}

/// Extension: `POST /v2/segments` and `PUT /v2/segments/{id}` body.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all(serialize = "camelCase", deserialize = "lowercase"))]
pub struct SegmentInput {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub rule: Option<serde_json::Value>,
}

/// Import submission answer and status: `{"id": guid, "status": ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportState {
    pub id: String,
    pub status: String,
}

/// The JSON form of an import upload.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all(serialize = "camelCase", deserialize = "lowercase"))]
pub struct ImportUpload {
    #[serde(default)]
    #[serde(rename(deserialize = "filename"))]
    pub file_name: Option<String>,
    #[serde(default)]
    pub data: Option<String>,
}

/// `ApiAccount`: `{"id", "properties": [{"name","type","value"}]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountInfo {
    pub id: i64,
    pub properties: Vec<AccountProperty>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountProperty {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
}

/// Extension: `PUT /v2/account-info` body.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all(serialize = "camelCase", deserialize = "lowercase"))]
pub struct AccountSettings {
    #[serde(default)]
    #[serde(rename(deserialize = "timezone"))]
    pub time_zone: Option<String>,
}

/// The v2 error body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub message: String,
}
