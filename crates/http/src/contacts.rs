//! Contacts at an organisation: `/api/v1/organisations/{id}/contacts` and `/api/v1/contacts/{id}`.
//! Never public: seen and kept by programme staff and the organisation's own members.

use actix_web::http::StatusCode;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use catalyst_domain::{
    Actor, Contact, ContactFields, ContactId, Denied, OrganisationId, Timestamp, ValidationErrors,
};
use catalyst_persistence::contacts::{self as store, ContactSortField};
use catalyst_persistence::keyset::Direction;
use catalyst_persistence::{organisations, transaction, DbConnection, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::AuditContext;
use crate::auth::Caller;
use crate::body::{read_json, Accepts};
use crate::conditional::IfMatch;
use crate::lists::ListRequest;
use crate::problem::{ApiError, Problem};
use crate::resources::{created, optional_patch, path_id, present, required_patch, with_etag};
use crate::state::AppState;

pub const TAG: &str = "contacts";
pub const ENTITY: &str = "contacts";

/// A person at an organisation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ContactResource {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    #[schema(value_type = uuid::Uuid)]
    pub organisation_id: String,
    pub name: String,
    #[schema(example = "Innovation lead")]
    pub role: Option<String>,
    pub email: Option<String>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<&Contact> for ContactResource {
    fn from(contact: &Contact) -> Self {
        Self {
            id: contact.id.to_string(),
            organisation_id: contact.fields.organisation_id.to_string(),
            name: contact.fields.name.clone(),
            role: contact.fields.role.clone(),
            email: contact.fields.email.clone(),
            version: contact.version,
            created_at: contact.created_at,
            updated_at: contact.updated_at,
        }
    }
}

/// A new contact.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "A. Officer", "role": "Innovation lead", "email": "innovation@leeds.gov.uk"}))]
pub struct CreateContact {
    pub name: String,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

/// A change (JSON Merge Patch).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateContact {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub role: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
}

/// A page of contacts.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactList {
    pub data: Vec<ContactResource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

fn not_found() -> ApiError {
    ApiError::NotFound("no such contact".to_owned())
}

/// The contact, if the caller may see its organisation's contacts.
fn find_visible(
    connection: &mut DbConnection,
    id: ContactId,
    actor: &Actor,
) -> Result<Contact, ApiError> {
    let contact = store::find(connection, id).map_err(|_| not_found())?;
    if actor.may_see_contacts_of(contact.fields.organisation_id) {
        Ok(contact)
    } else {
        Err(not_found())
    }
}

fn map_store_error(error: StoreError) -> ApiError {
    match error {
        StoreError::NotFound => not_found(),
        StoreError::VersionMismatch { current } => ApiError::PreconditionFailed(format!(
            "the contact changed meanwhile: its current version is {current}"
        )),
        other => other.into(),
    }
}

/// Add a contact to an organisation (programme staff or its members).
#[utoipa::path(
    tag = TAG, operation_id = "create_contact", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "The organisation's id")),
    request_body(content = CreateContact, content_type = "application/json"),
    responses(
        (status = 201, description = "Created", body = ContactResource, headers(
            ("Location" = String, description = "The contact's URL"), ("ETag" = String, description = "Its entity tag"))),
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/organisations/{id}/contacts")]
pub async fn create_contact(
    request: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let organisation: OrganisationId = path_id(&id, "organisation")?;
    let body: CreateContact = read_json(&request, payload, state.body_limit, Accepts::Json).await?;
    caller.actor().may_manage_contacts_of(organisation)?;
    let fields = ContactFields {
        organisation_id: organisation,
        name: body.name,
        role: body.role,
        email: body.email,
    }
    .validate()?;
    let audit = AuditContext::of(&caller);
    let contact = state
        .with_connection(move |connection| {
            transaction(connection, |connection| {
                organisations::find(connection, organisation)
                    .map_err(|_| ApiError::NotFound("no such organisation".to_owned()))?;
                let now = Timestamp::now();
                let contact = Contact {
                    id: ContactId::generate(),
                    fields,
                    version: 1,
                    created_at: now,
                    updated_at: now,
                };
                store::insert(connection, &contact)?;
                audit.created(
                    connection,
                    ENTITY,
                    contact.id.to_string(),
                    contact.version,
                    contact.audience(),
                    &ContactResource::from(&contact),
                )?;
                Ok(contact)
            })
        })
        .await?;
    Ok(created(
        format!("/api/v1/contacts/{}", contact.id),
        contact.version,
        &ContactResource::from(&contact),
    ))
}

/// An organisation's contacts (programme staff or its members).
#[utoipa::path(
    tag = TAG, operation_id = "list_contacts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "The organisation's id"),
        ("limit" = Option<i64>, Query, description = "Page size: 1 to 500, default 50"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page"),
        ("sort" = Option<String>, Query, description = "`name`, `created_at`, `updated_at`, `id`, each optionally prefixed with `-`"),
        ("updated_since" = Option<String>, Query, description = "Only contacts changed at or after this RFC 3339 instant")),
    responses(
        (status = 200, description = "A page of contacts", body = ContactList),
        (status = 404, description = "No such organisation, or not one whose contacts you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organisations/{id}/contacts")]
pub async fn list_contacts(
    request: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let organisation: OrganisationId = path_id(&id, "organisation")?;
    let mut list = ListRequest::parse(
        &request,
        &[],
        ContactSortField::ALL,
        &[(ContactSortField::Name, Direction::Ascending)],
        ContactSortField::Id,
    )?;
    let after = list.finish(ContactSortField::kind)?;
    if !caller.actor().may_see_contacts_of(organisation) {
        // Whether an organisation has contacts is not for everyone to know.
        return Err(ApiError::NotFound("no contacts you may see".to_owned()));
    }
    let (sort, limit, since) = (list.sort.clone(), list.limit, list.updated_since);
    let page = state
        .with_connection(move |connection| {
            Ok(store::list(
                connection,
                organisation,
                since,
                &sort,
                after.as_ref(),
                limit,
            )?)
        })
        .await?;
    let next_cursor = list.cursor(page.next.as_ref());
    let body = ContactList {
        data: page.items.iter().map(ContactResource::from).collect(),
        next_cursor: next_cursor.clone(),
    };
    Ok(list.respond(&request, next_cursor.as_deref(), &body))
}

/// Get a contact.
#[utoipa::path(
    tag = TAG, operation_id = "get_contact", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "The contact's id"),
        ("If-None-Match" = Option<String>, Header, description = "An ETag you hold: 304 if it is still current")),
    responses(
        (status = 200, description = "The contact", body = ContactResource),
        (status = 304, description = "Not modified"),
        (status = 404, description = "No such contact", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/contacts/{id}")]
pub async fn get_contact(
    request: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id: ContactId = path_id(&id, "contact")?;
    let contact = state
        .with_connection(move |connection| find_visible(connection, id, caller.actor()))
        .await?;
    if crate::conditional::if_none_match_matches(request.headers(), contact.version)? {
        return Ok(HttpResponse::NotModified()
            .insert_header(("ETag", crate::conditional::etag(contact.version)))
            .finish());
    }
    Ok(with_etag(
        StatusCode::OK,
        contact.version,
        &ContactResource::from(&contact),
    ))
}

/// Update a contact.
#[utoipa::path(
    tag = TAG, operation_id = "update_contact", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "The contact's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read: 412 if it has changed since")),
    request_body(content = UpdateContact, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The updated contact", body = ContactResource),
        (status = 404, description = "No such contact", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match does not match", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/contacts/{id}")]
pub async fn update_contact(
    request: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let patch: UpdateContact =
        read_json(&request, payload, state.body_limit, Accepts::MergePatch).await?;
    if caller.actor() == &Actor::Anonymous {
        return Err(Denied::Unauthenticated.into());
    }
    let id: ContactId = path_id(&id, "contact")?;
    let if_match = IfMatch::from_headers(request.headers())?;
    let audit = AuditContext::of(&caller);
    let updated = state
        .with_connection(move |connection| {
            transaction(connection, |connection| {
                let current = find_visible(connection, id, caller.actor())?;
                caller
                    .actor()
                    .may_manage_contacts_of(current.fields.organisation_id)?;
                if_match.check(current.version)?;
                let old = &current.fields;
                let mut errors = ValidationErrors::default();
                let fields = ContactFields {
                    name: required_patch(&patch.name, &old.name, "name", &mut errors),
                    role: optional_patch(&patch.role, &old.role),
                    email: optional_patch(&patch.email, &old.email),
                    ..old.clone()
                };
                errors.into_result(())?;
                let fields = fields.validate()?;
                if fields == current.fields {
                    return Ok(current);
                }
                let updated = Contact {
                    fields,
                    version: current.version + 1,
                    updated_at: Timestamp::now(),
                    ..current.clone()
                };
                store::update(connection, &updated, current.version).map_err(map_store_error)?;
                audit.updated(
                    connection,
                    ENTITY,
                    id.to_string(),
                    updated.version,
                    updated.audience(),
                    (
                        &ContactResource::from(&current),
                        &ContactResource::from(&updated),
                    ),
                )?;
                Ok(updated)
            })
        })
        .await?;
    Ok(with_etag(
        StatusCode::OK,
        updated.version,
        &ContactResource::from(&updated),
    ))
}

/// Delete a contact.
#[utoipa::path(
    tag = TAG, operation_id = "delete_contact", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "The contact's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such contact", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/contacts/{id}")]
pub async fn delete_contact(
    request: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if caller.actor() == &Actor::Anonymous {
        return Err(Denied::Unauthenticated.into());
    }
    let id: ContactId = path_id(&id, "contact")?;
    let if_match = IfMatch::from_headers(request.headers())?;
    let audit = AuditContext::of(&caller);
    state
        .with_connection(move |connection| {
            transaction(connection, |connection| {
                let current = find_visible(connection, id, caller.actor())?;
                caller
                    .actor()
                    .may_manage_contacts_of(current.fields.organisation_id)?;
                if_match.check(current.version)?;
                store::delete(connection, id, current.version).map_err(map_store_error)?;
                audit.deleted(
                    connection,
                    ENTITY,
                    id.to_string(),
                    current.version,
                    current.audience(),
                    &ContactResource::from(&current),
                )
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A contact's recorded changes, oldest first.
#[utoipa::path(
    tag = TAG, operation_id = "list_contact_history", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "The contact's id"),
        ("limit" = Option<i64>, Query, description = "Page size: 1 to 500, default 50"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page")),
    responses(
        (status = 200, description = "Recorded changes", body = crate::audit::AuditList),
        (status = 404, description = "No such contact", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/contacts/{id}/history")]
pub async fn list_contact_history(
    request: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id: ContactId = path_id(&id, "contact")?;
    crate::audit::entity_history(
        &request,
        &state,
        ENTITY,
        id.to_string(),
        move |connection| find_visible(connection, id, caller.actor()).map(drop),
    )
    .await
}

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config
        .service(create_contact)
        .service(list_contacts)
        .service(get_contact)
        .service(update_contact)
        .service(delete_contact)
        .service(list_contact_history);
}
