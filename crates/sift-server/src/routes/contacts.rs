use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use sift_core::model::{ContactStatus, DataField};
use sift_core::time::format_instant;
use sift_core::wire::{self, ContactInput, ContactSuppression, ResubscribeInput, ResubscribeResult};
use sift_core::ErrorCode;
use sift_store::contacts::{ContactFilter, ContactWrite, StoredContact};
use sift_store::Page;

use crate::app::AppState;
use crate::auth::Caller;
use crate::convert;
use crate::error::{ApiError, ApiResult};
use crate::extract::{parse_id, parse_since, V2Json, V2Query};

pub(crate) async fn page_of(
    st: &AppState,
    account: i64,
    filter: ContactFilter,
    page: Page,
    full: bool,
) -> ApiResult<Json<Vec<wire::Contact>>> {
    let fields = st.store.data_fields(account).await?;
    let rows = st.store.list_contacts(account, filter, page).await?;
    Ok(Json(rows.iter().map(|c| convert::contact(c, &fields, full)).collect()))
}

pub async fn list(State(st): State<AppState>, caller: Caller, q: V2Query) -> ApiResult<Json<Vec<wire::Contact>>> {
    page_of(&st, caller.account_id, ContactFilter::default(), q.page()?, q.flag("withfulldata")?).await
}

pub async fn count(State(st): State<AppState>, caller: Caller) -> ApiResult<Json<i64>> {
    Ok(Json(st.store.count_contacts(caller.account_id).await?))
}

/// `POST /v2/contacts`: create, or update the contact with that address. 201.
pub async fn create(
    State(st): State<AppState>,
    caller: Caller,
    V2Json(body): V2Json<ContactInput>,
) -> ApiResult<(StatusCode, Json<wire::Contact>)> {
    let fields = st.store.data_fields(caller.account_id).await?;
    let write = convert::contact_write(&body, &fields)?;
    let (c, _) = st.store.upsert_contact(caller.account_id, &fields, &write, None).await?;
    Ok((StatusCode::CREATED, Json(convert::contact(&c, &fields, true))))
}

/// `GET /v2/contacts/{id}` or `GET /v2/contacts/{email}`. As the v2 swagger says,
/// the by-id form does not return unsubscribed or suppressed contacts; by e-mail does.
pub async fn get(State(st): State<AppState>, caller: Caller, Path(raw): Path<String>) -> ApiResult<Json<wire::Contact>> {
    let fields = st.store.data_fields(caller.account_id).await?;
    let c = match raw.trim().parse::<i64>() {
        Ok(id) => {
            let c = st.store.contact(caller.account_id, id).await?;
            if c.status.is_suppressed() {
                return Err(ApiError::bare(ErrorCode::ContactNotFound));
            }
            c
        }
        Err(_) => st.store.contact_by_email(caller.account_id, &raw).await?,
    };
    Ok(Json(convert::contact(&c, &fields, true)))
}

pub async fn update(
    State(st): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    V2Json(body): V2Json<ContactInput>,
) -> ApiResult<Json<wire::Contact>> {
    let id = parse_id(&raw, ErrorCode::ContactNotFound)?;
    let fields = st.store.data_fields(caller.account_id).await?;
    let write = convert::contact_write(&body, &fields)?;
    let c = st.store.update_contact(caller.account_id, id, &write).await?;
    Ok(Json(convert::contact(&c, &fields, true)))
}

pub async fn remove(State(st): State<AppState>, caller: Caller, Path(raw): Path<String>) -> ApiResult<StatusCode> {
    let id = parse_id(&raw, ErrorCode::ContactNotFound)?;
    st.store.delete_contact(caller.account_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn books(
    State(st): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    q: V2Query,
) -> ApiResult<Json<Vec<wire::AddressBook>>> {
    let id = parse_id(&raw, ErrorCode::ContactNotFound)?;
    let page = q.page()?;
    st.store.contact(caller.account_id, id).await?;
    let ids = st.store.contact_book_ids(caller.account_id, id).await?;
    let mut out = Vec::new();
    for book in ids.into_iter().skip(page.skip as usize).take(page.select as usize) {
        if let Some(l) = st.store.list(caller.account_id, book).await? {
            out.push(convert::address_book(&l));
        }
    }
    Ok(Json(out))
}

pub async fn created_since(
    State(st): State<AppState>,
    caller: Caller,
    Path(date): Path<String>,
    q: V2Query,
) -> ApiResult<Json<Vec<wire::Contact>>> {
    let since = parse_since(&date)?;
    let filter = ContactFilter { created_since_ms: Some(since), ..Default::default() };
    page_of(&st, caller.account_id, filter, q.page()?, q.flag("withfulldata")?).await
}

/// Default and maximum page size 2000 on the modified-since routes, as the v2 swagger.
pub async fn modified_since(
    State(st): State<AppState>,
    caller: Caller,
    Path(date): Path<String>,
    q: V2Query,
) -> ApiResult<Json<Vec<wire::Contact>>> {
    let since = parse_since(&date)?;
    let filter = ContactFilter { modified_since_ms: Some(since), ..Default::default() };
    page_of(&st, caller.account_id, filter, q.page_with(2000, 2000)?, q.flag("withfulldata")?).await
}

fn suppression(c: &StoredContact, fields: &[DataField]) -> ContactSuppression {
    ContactSuppression {
        suppressed_contact: convert::contact(c, fields, false),
        date_removed: format_instant(sift_store::from_ms(c.status_changed_ms.unwrap_or(c.modified_ms))),
        reason: c.status,
    }
}

pub async fn unsubscribed_since(
    State(st): State<AppState>,
    caller: Caller,
    Path(date): Path<String>,
    q: V2Query,
) -> ApiResult<Json<Vec<ContactSuppression>>> {
    let since = parse_since(&date)?;
    let fields = st.store.data_fields(caller.account_id).await?;
    let filter = ContactFilter { unsubscribed_since_ms: Some(since), ..Default::default() };
    let rows = st.store.list_contacts(caller.account_id, filter, q.page()?).await?;
    Ok(Json(rows.iter().map(|c| suppression(c, &fields)).collect()))
}

#[derive(Deserialize, Default)]
pub struct EmailOnly {
    #[serde(default)]
    email: Option<String>,
}

/// `POST /v2/contacts/unsubscribe` `{"email"}` → the suppression record.
pub async fn unsubscribe(
    State(st): State<AppState>,
    caller: Caller,
    V2Json(body): V2Json<EmailOnly>,
) -> ApiResult<Json<ContactSuppression>> {
    let email = convert::email(body.email.as_deref())?;
    let c = st.store.contact_by_email(caller.account_id, &email).await?;
    let c = st.store.set_contact_status(caller.account_id, c.id, ContactStatus::Unsubscribed).await?;
    let fields = st.store.data_fields(caller.account_id).await?;
    Ok(Json(suppression(&c, &fields)))
}

/// `POST /v2/contacts/resubscribe[-with-no-challenge]`: an unsubscribed contact is
/// subscribed again (`ContactAdded`); a new address is created; a bounced or
/// complained contact cannot be (`ContactCannotBeUnsuppressed`). sift sends no
/// confirmation mail, so both routes behave alike.
pub async fn resubscribe(
    State(st): State<AppState>,
    caller: Caller,
    V2Json(body): V2Json<ResubscribeInput>,
) -> ApiResult<Json<ResubscribeResult>> {
    let input = body.unsubscribed_contact.ok_or_else(|| ApiError::invalid("unsubscribedContact is required"))?;
    let fields = st.store.data_fields(caller.account_id).await?;
    let write: ContactWrite = convert::contact_write(&input, &fields)?;
    let existing = match st.store.contact_by_email(caller.account_id, &write.email).await {
        Ok(c) => Some(c),
        Err(sift_store::StoreError::Domain(e)) if e.code == ErrorCode::ContactNotFound => None,
        Err(e) => return Err(e.into()),
    };
    if let Some(c) = &existing {
        if !matches!(c.status, ContactStatus::Unsubscribed | ContactStatus::Subscribed) {
            return Ok(Json(ResubscribeResult {
                contact: convert::contact(c, &fields, true),
                status: "ContactCannotBeUnsuppressed".into(),
            }));
        }
    }
    let (c, _) = st.store.upsert_contact(caller.account_id, &fields, &write, None).await?;
    let c = if c.status != ContactStatus::Subscribed {
        st.store.set_contact_status(caller.account_id, c.id, ContactStatus::Subscribed).await?
    } else {
        c
    };
    Ok(Json(ResubscribeResult { contact: convert::contact(&c, &fields, true), status: "ContactAdded".into() }))
}
