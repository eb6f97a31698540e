//! Domain → wire, and wire → domain (parse at the edge).

use sift_core::model::{parse_email, DataField, MAX_STRING_VALUE_LEN};
use sift_core::record::FieldValue;
use sift_core::wire;
use sift_core::ErrorCode;
use sift_store::contacts::{ContactWrite, StoredContact};
use sift_store::lists::List;

use crate::error::ApiError;

/// `ApiContact`: with `full`, every account field is listed (unset ones as null);
/// otherwise `dataFields` is null, as v2 list routes answer without `withFullData`.
pub fn contact(c: &StoredContact, fields: &[DataField], full: bool) -> wire::Contact {
    let data_fields = full.then(|| {
        fields
            .iter()
            .map(|f| wire::DataFieldValue {
                key: f.name.clone(),
                value: c.value(f).map(|v| v.to_json()).unwrap_or(serde_json::Value::Null),
            })
            .collect()
    });
    wire::Contact {
        id: c.id,
        email: c.email.clone(),
        opt_in_type: Some(c.opt_in),
        email_type: Some(c.email_type),
        data_fields,
        status: Some(c.status),
    }
}

pub fn address_book(l: &List) -> wire::AddressBook {
    wire::AddressBook { id: l.id, name: l.name.clone(), visibility: l.visibility, contacts: l.contacts }
}

pub fn data_field(f: &DataField) -> wire::DataField {
    wire::DataField {
        name: f.name.clone(),
        r#type: f.kind,
        visibility: f.visibility,
        default_value: f.default_value.as_ref().map(|v| v.to_json()).unwrap_or(serde_json::Value::Null),
    }
}

/// Validates an e-mail address.
pub fn email(raw: Option<&str>) -> Result<String, ApiError> {
    let raw = raw.ok_or_else(|| ApiError::invalid("Email is required"))?;
    parse_email(raw).ok_or_else(|| ApiError::invalid("Email is not a valid email address"))
}

/// Finds a data field by name, case-insensitively.
pub fn find_field<'a>(fields: &'a [DataField], name: &str) -> Option<&'a DataField> {
    fields.iter().find(|f| f.name.eq_ignore_ascii_case(name.trim()))
}

/// Parses one data-field value against its field's type.
pub fn field_value(f: &DataField, v: &serde_json::Value) -> Result<Option<FieldValue>, ApiError> {
    let parsed = FieldValue::from_json(f.kind, v)
        .map_err(|why| ApiError::new(ErrorCode::DatafieldInvalid, format!("Value for data field {} is invalid: {why}", f.name)))?;
    if let Some(FieldValue::Str(s)) = &parsed {
        if s.len() > MAX_STRING_VALUE_LEN {
            return Err(ApiError::new(
                ErrorCode::DatafieldValueOverflow,
                format!("Value for data field {} is longer than {MAX_STRING_VALUE_LEN} bytes", f.name),
            ));
        }
    }
    Ok(parsed)
}

/// A client's contact body → a validated write.
pub fn contact_write(input: &wire::ContactInput, fields: &[DataField]) -> Result<ContactWrite, ApiError> {
    let email = email(input.email.as_deref())?;
    let mut data = Vec::new();
    for dv in input.data_fields.iter().flatten() {
        let f = find_field(fields, &dv.key)
            .ok_or_else(|| ApiError::new(ErrorCode::DatafieldNotFound, format!("Data field {} does not exist", dv.key.trim())))?;
        if data.iter().any(|(id, _)| *id == f.id) {
            return Err(ApiError::new(ErrorCode::DatafieldInvalid, format!("Data field {} is given twice", f.name)));
        }
        data.push((f.id, field_value(f, &dv.value)?));
    }
    Ok(ContactWrite { email, opt_in: input.opt_in_type, email_type: input.email_type, data })
}
