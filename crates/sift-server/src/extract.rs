//! Extractors that parse at the edge: request bodies with case-insensitive property
//! names, case-insensitive query strings, v2 paging, path ids. Every rejection is a
//! v2 error body, never axum's plain-text default.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sift_core::ErrorCode;
use sift_store::Page;

use crate::error::ApiError;

/// Lower-cases every object key, recursively: how property names are matched
/// case-insensitively.
/// Two keys that differ only in case (`{"all": [], "ALL": []}`) are refused: which
/// one was meant cannot be known.
pub fn lowercase_keys(v: Value) -> Result<Value, ApiError> {
    Ok(match v {
        Value::Object(map) => {
            let mut out = serde_json::Map::with_capacity(map.len());
            for (k, v) in map {
                let lower = k.to_lowercase();
                if out.contains_key(&lower) {
                    return Err(ApiError::invalid(format!("The property '{k}' is given twice (property names ignore case)")));
                }
                out.insert(lower, lowercase_keys(v)?);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(lowercase_keys).collect::<Result<_, _>>()?),
        other => other,
    })
}

/// Turns a serde message into a sentence fit for a v2 error body.
fn describe(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
    format!("The request body is invalid: {msg}")
}

/// Reads the whole body, mapping a too-large body to a v2 error.
pub async fn body_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(ErrorCode::RequestTooLarge, "The request body is too large")
        } else {
            ApiError::new(ErrorCode::MalformedRequest, "The request body could not be read")
        }
    })
}

/// Parses JSON bytes with case-insensitive keys into `T`.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let v: Value =
        serde_json::from_slice(bytes).map_err(|_| ApiError::new(ErrorCode::MalformedRequest, "The request body is not valid JSON"))?;
    // Every v2 body parsed here is an object; serde would otherwise read a struct
    // from an array (`[]` as "all defaults").
    if !v.is_object() {
        return Err(ApiError::invalid("The request body must be a JSON object"));
    }
    serde_json::from_value(lowercase_keys(v)?).map_err(|e| ApiError::invalid(describe(&e)))
}

/// A JSON body whose property names match case-insensitively. An empty body is an
/// error (routes whose body v2 leaves optional do not use this extractor).
pub struct V2Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for V2Json<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // A body declared as something other than JSON is refused; a body without a
        // content type is read as JSON (some clients send none).
        if let Some(ct) = req.headers().get(axum::http::header::CONTENT_TYPE) {
            let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
            let essence = ct.split(';').next().unwrap_or("").trim().to_string();
            let charset_ok = !ct.contains("charset") || ct.contains("utf-8") || ct.contains("utf8");
            if !(essence == "application/json" || essence == "text/json" || essence.ends_with("+json")) || !charset_ok {
                return Err(ApiError::new(
                    ErrorCode::ContentTypeNotSupported,
                    format!("The body must be application/json (UTF-8), not '{ct}'"),
                ));
            }
        }
        let bytes = body_bytes(req, state).await?;
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(ApiError::invalid("A request body is required"));
        }
        parse_json(&bytes).map(V2Json)
    }
}

/// The query string with lower-cased names (v2 clients send `Select`, `withFullData`).
#[derive(Debug, Default, Clone)]
pub struct V2Query(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for V2Query {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        let map = form_urlencoded_pairs(q);
        Ok(V2Query(map))
    }
}

fn form_urlencoded_pairs(q: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for pair in q.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = percent_decode(k).to_lowercase();
        out.insert(k, percent_decode(v));
    }
    out
}

/// Decodes `%XX` escapes and `+` in a query component.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl V2Query {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|s| s.as_str()).filter(|s| !s.is_empty())
    }

    /// A boolean parameter (`true`/`True`/`1`); absent means `false`.
    pub fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.get(name).map(|s| s.to_ascii_lowercase()) {
            None => Ok(false),
            Some(s) if s == "true" || s == "1" => Ok(true),
            Some(s) if s == "false" || s == "0" => Ok(false),
            Some(s) => Err(ApiError::invalid(format!("{name} must be true or false, not '{s}'"))),
        }
    }

    /// v2 paging: `select` 1..=max (default `default`), `skip` ≥ 0 (default 0).
    pub fn page_with(&self, default: i64, max: i64) -> Result<Page, ApiError> {
        let select = match self.get("select") {
            None => default,
            Some(s) => match s.trim().parse::<i64>() {
                Ok(n) if (1..=max).contains(&n) => n,
                _ => return Err(ApiError::invalid(format!("select must be a whole number from 1 to {max}"))),
            },
        };
        let skip = match self.get("skip") {
            None => 0,
            Some(s) => match s.trim().parse::<i64>() {
                Ok(n) if n >= 0 => n,
                _ => return Err(ApiError::invalid("skip must be a whole number of at least 0")),
            },
        };
        Ok(Page { select, skip })
    }

    pub fn page(&self) -> Result<Page, ApiError> {
        self.page_with(1000, 1000)
    }
}

/// Parses an id from the path: a positive 32-bit integer, else the given not-found.
pub fn parse_id(raw: &str, not_found: ErrorCode) -> Result<i64, ApiError> {
    match raw.trim().parse::<i64>() {
        Ok(n) if n > 0 && n <= i32::MAX as i64 => Ok(n),
        Ok(_) => Err(ApiError::bare(not_found)),
        Err(_) => Err(ApiError::invalid(format!("'{raw}' is not a valid id"))),
    }
}

/// Parses a `…/since/{date}` path segment (UTC unless an offset is given). axum has
/// already percent-decoded it, so a `+` here is literal (an offset such as `+01:00`);
/// failing that, it is read as a space, as form-style encoders write one.
pub fn parse_since(raw: &str) -> Result<i64, ApiError> {
    sift_core::time::parse_instant(raw)
        .or_else(|| sift_core::time::parse_instant(&raw.replace('+', " ")))
        .map(|t| t.timestamp_millis())
        .ok_or_else(|| ApiError::invalid(format!("'{raw}' is not a valid date")))
}

/// Whether a request path percent-decodes to UTF-8 without NUL characters. axum's
/// `Path` extractor rejects invalid UTF-8 with a plain-text body, and PostgreSQL
/// rejects text holding NUL; checking first keeps every answer a v2 body.
pub fn path_is_decodable(path: &str) -> bool {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = if bytes[i] == b'%' && i + 2 < bytes.len() {
            std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok())
        } else {
            None
        };
        match hex {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    !out.contains(&0) && std::str::from_utf8(&out).is_ok()
}
