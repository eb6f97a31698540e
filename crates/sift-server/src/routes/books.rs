use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use sift_core::model::{Visibility, MAX_BOOK_NAME_LEN, RESERVED_BOOK_NAMES};
use sift_core::wire::{self, AddressBookInput, ContactInput};
use sift_core::ErrorCode;
use sift_store::contacts::ContactFilter;
use sift_store::lists::{List, ListKind};
use sift_store::Page;

use crate::app::AppState;
use crate::auth::Caller;
use crate::convert;
use crate::error::{ApiError, ApiResult};
use crate::extract::{parse_id, parse_since, V2Json, V2Query};

fn not_writable() -> ApiError {
    ApiError::new(ErrorCode::AddressBookNotWritable, "Address book cannot be written to via the API.")
}

/// An address book (or, with `allow_segment`, a segment) of the caller.
async fn find(st: &AppState, account: i64, raw: &str, allow_segment: bool) -> ApiResult<List> {
    let id = parse_id(raw, ErrorCode::AddressBookNotFound)?;
    match st.store.list(account, id).await? {
        Some(l) if l.kind == ListKind::Book || allow_segment => Ok(l),
        _ => Err(ApiError::bare(ErrorCode::AddressBookNotFound)),
    }
}

/// Like [`find`] for writes: a segment id answers `ERROR_ADDRESSBOOK_NOTWRITABLE`.
async fn find_writable(st: &AppState, account: i64, raw: &str) -> ApiResult<List> {
    let l = find(st, account, raw, true).await?;
    if l.kind == ListKind::Segment {
        return Err(not_writable());
    }
    Ok(l)
}

async fn list_books(st: &AppState, account: i64, vis: Option<Visibility>, q: &V2Query) -> ApiResult<Json<Vec<wire::AddressBook>>> {
    let rows = st.store.lists(account, ListKind::Book, vis, q.page()?).await?;
    Ok(Json(rows.iter().map(convert::address_book).collect()))
}

pub async fn list_all(State(st): State<AppState>, caller: Caller, q: V2Query) -> ApiResult<Json<Vec<wire::AddressBook>>> {
    list_books(&st, caller.account_id, None, &q).await
}
pub async fn list_private(State(st): State<AppState>, caller: Caller, q: V2Query) -> ApiResult<Json<Vec<wire::AddressBook>>> {
    list_books(&st, caller.account_id, Some(Visibility::Private), &q).await
}
pub async fn list_public(State(st): State<AppState>, caller: Caller, q: V2Query) -> ApiResult<Json<Vec<wire::AddressBook>>> {
    list_books(&st, caller.account_id, Some(Visibility::Public), &q).await
}

/// Validates an address-book or segment name.
pub fn valid_name(raw: Option<&str>) -> ApiResult<String> {
    let name = raw.map(str::trim).unwrap_or("");
    if name.is_empty() {
        return Err(ApiError::new(ErrorCode::AddressBookInvalid, "A name is required"));
    }
    if name.chars().count() > MAX_BOOK_NAME_LEN {
        return Err(ApiError::new(ErrorCode::AddressBookInvalid, format!("A name can be at most {MAX_BOOK_NAME_LEN} characters")));
    }
    if name.chars().any(char::is_control) {
        return Err(ApiError::new(ErrorCode::AddressBookInvalid, "A name cannot contain control characters"));
    }
    if RESERVED_BOOK_NAMES.iter().any(|r| r.eq_ignore_ascii_case(name)) {
        return Err(ApiError::new(ErrorCode::AddressBookDuplicate, "That name is in use already, please choose another."));
    }
    Ok(name.to_string())
}

pub async fn create(
    State(st): State<AppState>,
    caller: Caller,
    V2Json(body): V2Json<AddressBookInput>,
) -> ApiResult<(StatusCode, Json<wire::AddressBook>)> {
    let name = valid_name(body.name.as_deref())?;
    let l = st.store.create_list(caller.account_id, ListKind::Book, &name, body.visibility.unwrap_or(Visibility::Private), None).await?;
    Ok((StatusCode::CREATED, Json(convert::address_book(&l))))
}

pub async fn get(State(st): State<AppState>, caller: Caller, Path(raw): Path<String>) -> ApiResult<Json<wire::AddressBook>> {
    let l = find(&st, caller.account_id, &raw, false).await?;
    Ok(Json(convert::address_book(&l)))
}

pub async fn update(
    State(st): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    V2Json(body): V2Json<AddressBookInput>,
) -> ApiResult<Json<wire::AddressBook>> {
    let l = find(&st, caller.account_id, &raw, false).await?;
    let name = valid_name(body.name.as_deref())?;
    let l = st.store.update_list(caller.account_id, l.id, &name, body.visibility.unwrap_or(l.visibility), None).await?;
    Ok(Json(convert::address_book(&l)))
}

pub async fn remove(State(st): State<AppState>, caller: Caller, Path(raw): Path<String>) -> ApiResult<StatusCode> {
    let l = find(&st, caller.account_id, &raw, false).await?;
    st.store.delete_list(caller.account_id, l.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Members of an address book or of a segment (its last finished refresh).
async fn members_page(
    st: &AppState,
    account: i64,
    raw: &str,
    q: &V2Query,
    page: Page,
    modified_since: Option<i64>,
) -> ApiResult<Json<Vec<wire::Contact>>> {
    let l = find(st, account, raw, true).await?;
    let full = q.flag("withfulldata")?;
    if l.kind == ListKind::Book {
        let filter = ContactFilter { book_id: Some(l.id), modified_since_ms: modified_since, ..Default::default() };
        return crate::routes::contacts::page_of(st, account, filter, page, full).await;
    }
    let fields = st.store.data_fields(account).await?;
    let members = st.store.segment_members(account, l.id).await?.unwrap_or_default();
    let mut out = Vec::new();
    // Members are counted as they are found, not by their position in the stored
    // set, so contacts deleted since the refresh never make a page short before the end.
    let mut to_skip = page.skip as usize;
    let mut ids = members.iter();
    loop {
        let want: Vec<i64> = ids.by_ref().take(1000).map(i64::from).collect();
        if want.is_empty() {
            break;
        }
        for c in st.store.contacts_by_ids(account, &want).await? {
            if modified_since.is_some_and(|m| c.modified_ms < m) {
                continue;
            }
            if to_skip > 0 {
                to_skip -= 1;
                continue;
            }
            out.push(convert::contact(&c, &fields, full));
            if out.len() as i64 >= page.select {
                return Ok(Json(out));
            }
        }
    }
    Ok(Json(out))
}

pub async fn members(
    State(st): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    q: V2Query,
) -> ApiResult<Json<Vec<wire::Contact>>> {
    let page = q.page()?;
    members_page(&st, caller.account_id, &raw, &q, page, None).await
}

pub async fn members_modified_since(
    State(st): State<AppState>,
    caller: Caller,
    Path((raw, date)): Path<(String, String)>,
    q: V2Query,
) -> ApiResult<Json<Vec<wire::Contact>>> {
    let since = parse_since(&date)?;
    let page = q.page_with(2000, 2000)?;
    members_page(&st, caller.account_id, &raw, &q, page, Some(since)).await
}

/// `POST /v2/address-books/{id}/contacts`: creates or updates the contact and adds
/// it to the book. 200.
pub async fn add_contact(
    State(st): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    V2Json(body): V2Json<ContactInput>,
) -> ApiResult<Json<wire::Contact>> {
    let l = find_writable(&st, caller.account_id, &raw).await?;
    let fields = st.store.data_fields(caller.account_id).await?;
    let write = convert::contact_write(&body, &fields)?;
    if let Ok(existing) = st.store.contact_by_email(caller.account_id, &write.email).await {
        if existing.status.is_suppressed() {
            return Err(ApiError::new(ErrorCode::ContactSuppressed, "Contact is suppressed."));
        }
    }
    let (c, _) = st.store.upsert_contact(caller.account_id, &fields, &write, Some(l.id)).await?;
    Ok(Json(convert::contact(&c, &fields, true)))
}

pub async fn remove_contact(
    State(st): State<AppState>,
    caller: Caller,
    Path((raw, contact)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let l = find_writable(&st, caller.account_id, &raw).await?;
    let contact_id = parse_id(&contact, ErrorCode::ContactNotFound)?;
    st.store.contact(caller.account_id, contact_id).await?;
    st.store.remove_from_book(caller.account_id, l.id, contact_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Checks that `raw` names a writable address book (for imports).
pub async fn writable_book(st: &AppState, account: i64, raw: &str) -> ApiResult<i64> {
    Ok(find_writable(st, account, raw).await?.id)
}
