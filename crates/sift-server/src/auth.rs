//! HTTP Basic authentication of API users.
//!
//! Passwords are generated (192 bits of randomness) and stored only as a SHA-256
//! digest, compared in constant time. A slow password hash (argon2) would be wrong
//! here: v2 clients authenticate every call, and a generated secret of this strength
//! cannot be brute-forced from its digest anyway. Verified users are cached in memory
//! so a poll loop costs no database read.

use std::collections::HashMap;
use std::sync::RwLock;

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::app::AppState;
use crate::error::ApiError;
use sift_core::{ErrorCode, SiftError};

/// The authenticated caller: every query is scoped to this account.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub account_id: i64,
}

#[derive(Default)]
pub struct AuthCache {
    users: RwLock<HashMap<String, ([u8; 32], i64)>>,
}

pub fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// A new API user name and password.
pub fn generate_credentials() -> (String, String) {
    use rand::RngCore;
    let mut rng = rand::thread_rng();
    let mut user = [0u8; 6];
    rng.fill_bytes(&mut user);
    let mut secret = [0u8; 24];
    rng.fill_bytes(&mut secret);
    let hex: String = user.iter().map(|b| format!("{b:02x}")).collect();
    let username = format!("apiuser-{hex}@sift.local");
    let password = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
    (username, password)
}

fn unauthorized() -> Response {
    ApiError(SiftError::bare(ErrorCode::Unauthorized)).into_response()
}

fn parse_basic(req: &Request) -> Option<(String, String)> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(rest.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

/// Middleware: authenticates the caller or answers the fixed v2 401 body.
pub async fn require_auth(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let Some((user, password)) = parse_basic(&req) else {
        return unauthorized();
    };
    let presented = digest(&password);
    let cached = state.auth.users.read().ok().and_then(|m| m.get(&user).copied());
    let (stored, account_id) = match cached {
        Some(v) => v,
        None => match state.store.api_user(&user).await {
            Ok(Some(u)) => {
                let mut d = [0u8; 32];
                if u.secret_sha256.len() != 32 {
                    return unauthorized();
                }
                d.copy_from_slice(&u.secret_sha256);
                if let Ok(mut m) = state.auth.users.write() {
                    m.insert(user.clone(), (d, u.account_id));
                }
                (d, u.account_id)
            }
            Ok(None) => return unauthorized(),
            Err(e) => return ApiError::from(e).into_response(),
        },
    };
    if !bool::from(stored.ct_eq(&presented)) {
        return unauthorized();
    }
    req.extensions_mut().insert(Caller { account_id });
    next.run(req).await
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Caller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut axum::http::request::Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Caller>().copied().ok_or(ApiError(SiftError::bare(ErrorCode::Unauthorized)))
    }
}
