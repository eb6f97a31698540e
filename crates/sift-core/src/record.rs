//! What a segment rule can read of one contact, and typed data-field values.

use crate::model::{ContactStatus, DataFieldType, EmailType, OptInType};
use chrono::{DateTime, NaiveDate, Utc};

/// A Date data-field value: a calendar date, or an instant.
///
/// A calendar date has no time zone of its own: it is that day in the account's time
/// zone. An instant is converted to the account's time zone before calendar
/// comparisons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DateValue {
    Day(NaiveDate),
    Instant(DateTime<Utc>),
}

impl DateValue {
    /// The storage and wire text: `YYYY-MM-DD` for a day, RFC 3339 UTC for an instant.
    pub fn to_text(&self) -> String {
        match self {
            DateValue::Day(d) => d.format("%Y-%m-%d").to_string(),
            DateValue::Instant(t) => t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }
    }

    pub fn parse(s: &str) -> Option<DateValue> {
        crate::time::parse_date_value(s)
    }
}

/// A typed data-field value. An unset (or empty) value is represented by absence.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// Stored exactly as given (a blank string is kept, but rules treat it as empty).
    Str(String),
    Num(f64),
    Date(DateValue),
    Bool(bool),
}

impl FieldValue {
    pub fn kind(&self) -> DataFieldType {
        match self {
            FieldValue::Str(_) => DataFieldType::String,
            FieldValue::Num(_) => DataFieldType::Numeric,
            FieldValue::Date(_) => DataFieldType::Date,
            FieldValue::Bool(_) => DataFieldType::Boolean,
        }
    }

    /// Whether a rule sees this value as empty: blank strings are empty.
    pub fn is_empty(&self) -> bool {
        match self {
            FieldValue::Str(s) => s.trim().is_empty(),
            FieldValue::Num(n) => !n.is_finite(),
            _ => false,
        }
    }

    /// Parses a JSON value for a field of type `kind`. `Ok(None)` means "no value"
    /// (null, or an empty/blank string for a non-String field). Strings are accepted
    /// for every type because CSV imports and many clients send text.
    pub fn from_json(kind: DataFieldType, v: &serde_json::Value) -> Result<Option<FieldValue>, String> {
        use serde_json::Value as J;
        match (kind, v) {
            (_, J::Null) => Ok(None),
            (DataFieldType::String, J::String(s)) => Ok(Some(FieldValue::Str(s.clone()))),
            (DataFieldType::String, J::Number(n)) => Ok(Some(FieldValue::Str(n.to_string()))),
            (DataFieldType::String, J::Bool(b)) => Ok(Some(FieldValue::Str(b.to_string()))),
            (kind, J::String(s)) => FieldValue::from_text(kind, s),
            (DataFieldType::Numeric, J::Number(n)) => match n.as_f64() {
                Some(f) if f.is_finite() => Ok(Some(FieldValue::Num(f))),
                _ => Err(format!("{n} is not a number this field can hold")),
            },
            (DataFieldType::Boolean, J::Bool(b)) => Ok(Some(FieldValue::Bool(*b))),
            (kind, other) => Err(format!("{other} is not a valid {kind} value")),
        }
    }

    /// Parses text (a CSV cell, a JSON string) for a field of type `kind`.
    pub fn from_text(kind: DataFieldType, s: &str) -> Result<Option<FieldValue>, String> {
        if kind == DataFieldType::String {
            return Ok(Some(FieldValue::Str(s.to_string())));
        }
        let t = s.trim();
        if t.is_empty() {
            return Ok(None);
        }
        match kind {
            DataFieldType::String => unreachable_string(s),
            DataFieldType::Numeric => match t.parse::<f64>() {
                Ok(f) if f.is_finite() => Ok(Some(FieldValue::Num(f))),
                _ => Err(format!("'{t}' is not a number")),
            },
            DataFieldType::Date => DateValue::parse(t).map(|d| Some(FieldValue::Date(d))).ok_or_else(|| format!("'{t}' is not a date")),
            DataFieldType::Boolean => match t.to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" | "y" => Ok(Some(FieldValue::Bool(true))),
                "false" | "no" | "0" | "n" => Ok(Some(FieldValue::Bool(false))),
                _ => Err(format!("'{t}' is not a boolean")),
            },
        }
    }

    /// The JSON form used both in storage and on the wire.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            FieldValue::Str(s) => serde_json::Value::String(s.clone()),
            // Whole numbers print without a fraction (`7`, not `7.0`).
            FieldValue::Num(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => serde_json::Value::Number((*n as i64).into()),
            FieldValue::Num(n) => serde_json::Number::from_f64(*n).map(serde_json::Value::Number).unwrap_or(serde_json::Value::Null),
            FieldValue::Date(d) => serde_json::Value::String(d.to_text()),
            FieldValue::Bool(b) => serde_json::Value::Bool(*b),
        }
    }
}

fn unreachable_string(s: &str) -> Result<Option<FieldValue>, String> {
    Ok(Some(FieldValue::Str(s.to_string())))
}

/// Everything a rule can read of one contact.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactRecord {
    pub id: u32,
    pub email: String,
    pub status: ContactStatus,
    pub opt_in_type: OptInType,
    pub email_type: EmailType,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
    /// Data-field values by field id; absent = no value.
    pub fields: Vec<(i64, FieldValue)>,
    /// Ids of the address books the contact is in.
    pub books: Vec<u32>,
}

impl ContactRecord {
    pub fn field(&self, id: i64) -> Option<&FieldValue> {
        self.fields.iter().find(|(f, _)| *f == id).map(|(_, v)| v)
    }
}

/// One entry of the change feed the engine catches up from: the contact's state now,
/// or `None` if it was deleted.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactChange {
    pub id: u32,
    pub seq: i64,
    pub record: Option<ContactRecord>,
}
