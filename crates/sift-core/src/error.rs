//! Stable error codes, kept apart from the human text (the v2 body is
//! `{"message": "<text> ERROR_CODE"}` or `{"message": "Error: ERROR_CODE"}`).

use std::fmt;

/// A v2 error code with the HTTP status v2 uses for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    ParameterInvalid,
    ContactNotFound,
    ContactInvalid,
    ContactSuppressed,
    /// Another contact of the account already has the address.
    NonUniqueEmail,
    AddressBookNotFound,
    AddressBookDuplicate,
    AddressBookInvalid,
    AddressBookNotWritable,
    NonUniqueDatafield,
    DatafieldInvalid,
    DatafieldNotFound,
    DatafieldValueOverflow,
    DatafieldLimitExceeded,
    SegmentNotFound,
    SegmentInvalid,
    ImportNotFound,
    ImportReportNotFound,
    ImportTooManyActiveImports,
    NoEmailColumn,
    MultiFileUploadNotAllowed,
    ImportUnsupportedFormat,
    MalformedRequest,
    ContentTypeNotSupported,
    RequestTooLarge,
    /// A route that exists, called with a method it does not support.
    MethodNotAllowed,
    /// The literal v2 text for a multipart part without a file name.
    FileMustBeValid,
    /// The fixed 401 body; carries no code.
    Unauthorized,
    /// Something on our side; the text is opaque.
    Unknown,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            ParameterInvalid => "ERROR_PARAMETER_INVALID",
            ContactNotFound => "ERROR_CONTACT_NOT_FOUND",
            ContactInvalid => "ERROR_CONTACT_INVALID",
            ContactSuppressed => "ERROR_CONTACT_SUPPRESSED",
            NonUniqueEmail => "ERROR_NON_UNIQUE_EMAIL",
            AddressBookNotFound => "ERROR_ADDRESSBOOK_NOT_FOUND",
            AddressBookDuplicate => "ERROR_ADDRESSBOOK_DUPLICATE",
            AddressBookInvalid => "ERROR_ADDRESSBOOK_INVALID",
            AddressBookNotWritable => "ERROR_ADDRESSBOOK_NOTWRITABLE",
            NonUniqueDatafield => "ERROR_NON_UNIQUE_DATAFIELD",
            DatafieldInvalid => "ERROR_DATAFIELD_INVALID",
            DatafieldNotFound => "ERROR_DATAFIELD_NOTFOUND",
            DatafieldValueOverflow => "ERROR_DATAFIELD_VALUE_OVERFLOW",
            DatafieldLimitExceeded => "ERROR_DATAFIELD_LIMITEXCEEDED",
            SegmentNotFound => "ERROR_SEGMENT_NOT_FOUND",
            SegmentInvalid => "ERROR_SEGMENT_INVALID",
            ImportNotFound => "ERROR_IMPORT_NOT_FOUND",
            ImportReportNotFound => "ERROR_IMPORT_REPORT_NOT_FOUND",
            ImportTooManyActiveImports => "ERROR_IMPORT_TOOMANYACTIVEIMPORTS",
            NoEmailColumn => "ERROR_NO_EMAIL_COLUMN",
            MultiFileUploadNotAllowed => "ERROR_MULTI_FILE_UPLOAD_NOT_ALLOWED",
            ImportUnsupportedFormat => "ERROR_IMPORT_UNSUPPORTED_FORMAT",
            MalformedRequest => "ERROR_MALFORMED_REQUEST",
            ContentTypeNotSupported => "ERROR_CONTENT_TYPE_IS_NOT_SUPPORTED",
            RequestTooLarge => "ERROR_PARAMETER_INVALID",
            MethodNotAllowed => "ERROR_PARAMETER_INVALID",
            Unauthorized => "",
            FileMustBeValid => "",
            Unknown => "ERROR_UNKNOWN",
        }
    }

    /// The HTTP status v2 answers with for this code.
    pub fn http_status(self) -> u16 {
        use ErrorCode::*;
        match self {
            Unauthorized => 401,
            ContactNotFound | AddressBookNotFound | SegmentNotFound | ImportNotFound | ImportReportNotFound => 404,
            RequestTooLarge => 413,
            MethodNotAllowed => 405,
            ContentTypeNotSupported => 415,
            Unknown => 500,
            _ => 400,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The one error type of the domain. `message()` renders the exact v2 text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message())]
pub struct SiftError {
    pub code: ErrorCode,
    /// A sentence without the code; `None` renders the `Error: CODE` form.
    pub text: Option<String>,
}

impl SiftError {
    /// `Error: ERROR_CODE` form (what the Java client parses, what Magento compares).
    pub fn bare(code: ErrorCode) -> Self {
        SiftError { code, text: None }
    }

    /// `<Sentence>. ERROR_CODE` form. The text should end with a full stop.
    pub fn new(code: ErrorCode, text: impl Into<String>) -> Self {
        SiftError { code, text: Some(text.into()) }
    }

    pub fn invalid(text: impl Into<String>) -> Self {
        Self::new(ErrorCode::ParameterInvalid, text)
    }

    pub fn unknown() -> Self {
        Self::new(ErrorCode::Unknown, "An unexpected error occurred.")
    }

    /// The exact v2 `message` text: the code is always the last token.
    pub fn message(&self) -> String {
        match (&self.text, self.code) {
            (_, ErrorCode::Unauthorized) => "Authorization has been denied for this request.".to_string(),
            (_, ErrorCode::FileMustBeValid) => "file must be valid".to_string(),
            (None, code) => format!("Error: {}", code.as_str()),
            (Some(text), code) => {
                let text = text.trim_end();
                let sep = if text.ends_with('.') { "" } else { "." };
                format!("{text}{sep} {}", code.as_str())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ends_with_code() {
        let e = SiftError::new(ErrorCode::ParameterInvalid, "Email is not a valid email address");
        assert_eq!(e.message(), "Email is not a valid email address. ERROR_PARAMETER_INVALID");
        assert_eq!(SiftError::bare(ErrorCode::SegmentNotFound).message(), "Error: ERROR_SEGMENT_NOT_FOUND");
    }
}
