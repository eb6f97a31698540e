//! The HTTP surface: v2 routes and sift's extensions, behind Basic auth.

use axum::extract::{DefaultBodyLimit, Request};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;

use crate::app::AppState;
use crate::error::ApiError;
use sift_core::ErrorCode;

mod account;
mod books;
mod contacts;
mod fields;
mod imports;
mod segments;

pub fn router(state: AppState) -> Router {
    let body_limit = state.config.body_limit;
    let v2 = Router::new()
        .route("/v2/account-info", get(account::info).put(account::update))
        .route("/v2/server-time", get(account::server_time))
        .route("/v2/data-fields", get(fields::list).post(fields::create))
        .route("/v2/data-fields/{name}", delete(fields::remove))
        .route("/v2/contacts", get(contacts::list).post(contacts::create))
        .route("/v2/contacts/count", get(contacts::count))
        .route("/v2/contacts/{id}", get(contacts::get).put(contacts::update).delete(contacts::remove))
        .route("/v2/contacts/{id}/address-books", get(contacts::books))
        .route("/v2/contacts/created-since/{date}", get(contacts::created_since))
        .route("/v2/contacts/modified-since/{date}", get(contacts::modified_since))
        .route("/v2/contacts/unsubscribed-since/{date}", get(contacts::unsubscribed_since))
        .route("/v2/contacts/unsubscribe", post(contacts::unsubscribe))
        .route("/v2/contacts/resubscribe", post(contacts::resubscribe))
        .route("/v2/contacts/resubscribe-with-no-challenge", post(contacts::resubscribe))
        .route("/v2/contacts/import", post(imports::submit_account))
        .route("/v2/contacts/import/with-merge-option/{option}", post(imports::submit_account_merge))
        .route("/v2/contacts/import/{id}", get(imports::status))
        .route("/v2/contacts/import/{id}/report", get(imports::report))
        .route("/v2/contacts/import/{id}/report-faults", get(imports::faults))
        .route("/v2/address-books", get(books::list_all).post(books::create))
        .route("/v2/address-books/private", get(books::list_private))
        .route("/v2/address-books/public", get(books::list_public))
        .route("/v2/address-books/{id}", get(books::get).put(books::update).delete(books::remove))
        .route("/v2/address-books/{id}/contacts", get(books::members).post(books::add_contact))
        .route("/v2/address-books/{id}/contacts/modified-since/{date}", get(books::members_modified_since))
        .route("/v2/address-books/{id}/contacts/{contact_id}", delete(books::remove_contact))
        .route("/v2/address-books/{id}/contacts/import", post(imports::submit_book))
        .route("/v2/address-books/{id}/contacts/import/with-merge-option/{option}", post(imports::submit_book_merge))
        .route("/v2/segments", get(segments::list).post(segments::create))
        .route("/v2/segments/preview", post(segments::preview))
        .route("/v2/segments/{id}", get(segments::get).put(segments::update).delete(segments::remove))
        .route("/v2/segments/{id}/refreshes", get(segments::history))
        .route("/v2/engine-stats", get(segments::engine_stats))
        .route("/v2/segments/refresh/{id}", get(segments::refresh_status).post(segments::refresh))
        .route("/{version}/segments/refresh/{id}", get(segments::other_version).post(segments::other_version))
        .layer(middleware::from_fn_with_state(state.clone(), crate::auth::require_auth));
    Router::new()
        .merge(v2)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn(reject_undecodable_paths))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::new(ErrorCode::ParameterInvalid, "No such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(ErrorCode::MethodNotAllowed, "The requested resource does not support this HTTP method")
}

/// A path that does not percent-decode to UTF-8 (`/v2/contacts/%FF`) or holds a NUL
/// (`/v2/contacts/a%00`) gets a v2 error
/// instead of the plain-text rejection of axum's `Path` extractor.
async fn reject_undecodable_paths(req: Request, next: Next) -> Response {
    if !crate::extract::path_is_decodable(req.uri().path()) {
        return ApiError::invalid("The URL is not valid UTF-8 text").into_response();
    }
    next.run(req).await
}
