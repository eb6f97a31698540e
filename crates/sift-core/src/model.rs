//! Domain types and the v2 enums with their exact wire spelling.
//!
//! Every enum parses case-insensitively (`"single"`, `"Single"`, `"SINGLE"`) because
//! real v2 clients send all three, and always renders the PascalCase v2 name.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Declares a v2 enum: PascalCase on output, case-insensitive on input, and the
/// `NotAvailableInThisVersion` placeholder tolerated on input where v2 has it.
macro_rules! wire_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => stringify!($variant)),+ }
            }

            /// Case-insensitive parse of the wire name.
            pub fn parse(s: &str) -> Option<Self> {
                let s = s.trim();
                $(if s.eq_ignore_ascii_case(stringify!($variant)) { return Some($name::$variant); })+
                None
            }

            /// Stable small integer for storage.
            pub fn code(self) -> i64 { self as i64 }

            pub fn from_code(c: i64) -> Option<Self> {
                Self::ALL.get(usize::try_from(c).ok()?).copied()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let v = serde_json::Value::deserialize(d)?;
                match &v {
                    serde_json::Value::String(s) => Self::parse(s).ok_or_else(|| {
                        serde::de::Error::custom(format!(
                            "'{}' is not a valid {}", s, stringify!($name)
                        ))
                    }),
                    // Some clients send enums as their ordinal.
                    serde_json::Value::Number(n) => n
                        .as_i64()
                        .and_then(Self::from_code)
                        .ok_or_else(|| serde::de::Error::custom(format!(
                            "{} is not a valid {}", n, stringify!($name)
                        ))),
                    _ => Err(serde::de::Error::custom(format!(
                        "expected a {} name", stringify!($name)
                    ))),
                }
            }
        }
    };
}

wire_enum!(
    /// `ApiContactStatuses`.
    ContactStatus {
        Subscribed, Unsubscribed, SoftBounced, HardBounced, IspComplained, MailBlocked,
        PendingOptIn, DirectComplaint, Deleted, SharedSuppression, Suppressed, NotAllowed,
        DomainSuppression, NoMxRecord,
    }
);

wire_enum!(
    /// `ApiContactOptInTypes`.
    OptInType { Unknown, Single, Double, VerifiedDouble }
);

wire_enum!(
    /// `ApiContactEmailTypes`.
    EmailType { PlainText, Html }
);

wire_enum!(
    /// `ApiDataFieldTypes`.
    DataFieldType { String, Numeric, Date, Boolean }
);

wire_enum!(
    /// `ApiDataFieldVisibility` and `ApiAddressBookVisibility`.
    Visibility { Private, Public }
);

wire_enum!(
    /// `ApiSegmentRefreshStatuses` (without the placeholder, which is emitted only by
    /// the version check, see [`RefreshStatus::NOT_AVAILABLE`]).
    RefreshStatus { NotStarted, NotFinished, Finished, Failed }
);

impl RefreshStatus {
    /// The v2 placeholder answered for any version segment other than `v2`.
    pub const NOT_AVAILABLE: &'static str = "NotAvailableInThisVersion";

    pub fn is_in_flight(self) -> bool {
        matches!(self, RefreshStatus::NotStarted | RefreshStatus::NotFinished)
    }
}

wire_enum!(
    /// `ApiContactImportStatuses`.
    ImportStatus {
        Finished, NotFinished, RejectedByWatchdog, InvalidFileFormat, Unknown, Failed,
        ExceedsAllowedContactLimit,
    }
);

wire_enum!(
    /// How an import treats existing contacts' data fields.
    MergeOption { Overwrite, OnlyOverwriteIfNotEmpty, OnlyOverwriteIfContactDataNotPopulated }
);

impl ContactStatus {
    /// Statuses that v2 treats as suppressed (not mailable, hidden from by-id reads).
    pub fn is_suppressed(self) -> bool {
        !matches!(self, ContactStatus::Subscribed | ContactStatus::PendingOptIn)
    }
}

/// Reserved address-book names (not creatable, not writable).
pub const RESERVED_BOOK_NAMES: &[&str] = &["Test", "All Contacts"];

/// The contact data fields every new account starts with (name, type).
pub const DEFAULT_DATA_FIELDS: &[(&str, DataFieldType)] = &[
    ("FIRSTNAME", DataFieldType::String),
    ("LASTNAME", DataFieldType::String),
    ("FULLNAME", DataFieldType::String),
    ("GENDER", DataFieldType::String),
    ("POSTCODE", DataFieldType::String),
    ("LASTSUBSCRIBED", DataFieldType::Date),
];

/// Data fields the system maintains; clients cannot delete them.
pub const UNDELETABLE_DATA_FIELDS: &[&str] = &["FIRSTNAME", "LASTNAME", "FULLNAME", "GENDER", "POSTCODE", "LASTSUBSCRIBED"];

/// A contact data field definition. `id` is never reused, so values stored under a
/// deleted field's id can never resurface under a new field of the same name.
#[derive(Debug, Clone, PartialEq)]
pub struct DataField {
    pub id: i64,
    /// Upper-case name.
    pub name: String,
    pub kind: DataFieldType,
    pub visibility: Visibility,
    pub default_value: Option<crate::record::FieldValue>,
}

/// Data-field name rule: 1–20 characters of `[A-Za-z0-9_-]`.
pub fn valid_data_field_name(name: &str) -> bool {
    (1..=20).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Longest e-mail address accepted (RFC 5321 path limit).
pub const MAX_EMAIL_LEN: usize = 254;
/// Longest String data-field value accepted.
pub const MAX_STRING_VALUE_LEN: usize = 2048;
/// Longest address-book or segment name.
pub const MAX_BOOK_NAME_LEN: usize = 128;

/// A pragmatic e-mail check: one `@`, a non-empty local part, a dotted domain, no
/// spaces or control characters. Returns the trimmed address.
pub fn parse_email(raw: &str) -> Option<String> {
    let s = raw.trim();
    if s.is_empty() || s.len() > MAX_EMAIL_LEN {
        return None;
    }
    let (local, domain) = s.rsplit_once('@')?;
    if local.is_empty() || local.len() > 64 || domain.len() < 3 || local.contains('@') {
        return None;
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';' | '"' | '(' | ')' | '[' | ']' | '\\')) {
        return None;
    }
    if !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') || domain.contains("..") || domain.starts_with('-') {
        return None;
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return None;
    }
    Some(s.to_string())
}

/// Lower-case key used to match e-mail addresses (addresses are unique per account,
/// ignoring case).
pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_parse_case_insensitively() {
        assert_eq!(OptInType::parse("single"), Some(OptInType::Single));
        assert_eq!(OptInType::parse("VERIFIEDDOUBLE"), Some(OptInType::VerifiedDouble));
        assert_eq!(EmailType::parse("html"), Some(EmailType::Html));
        assert_eq!(EmailType::parse("nope"), None);
        let v: Visibility = serde_json::from_str("\"public\"").unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), "\"Public\"");
    }

    #[test]
    fn email_validation() {
        assert!(parse_email("a@b.co").is_some());
        assert!(parse_email(" a@b.co ").is_some());
        assert!(parse_email("not-an-email").is_none());
        assert!(parse_email("a@b").is_none());
        assert!(parse_email("a b@c.com").is_none());
        assert!(parse_email("a@@c.com").is_none());
    }
}
