//! `/api/v1/organisations`: create, read, list, update and delete organisations.

use actix_web::http::header;
use actix_web::{delete, get, patch, post, put, web, HttpRequest, HttpResponse};
use catalyst_domain::{Actor, Audience};
use catalyst_domain::{
    ExternalId, Organisation, OrganisationFields, OrganisationId, OrganisationKind,
    OrganisationPatch, Region, Scale, Timestamp, ValidationErrors,
};
use catalyst_persistence::keyset::Direction;
use catalyst_persistence::organisations::{
    self as store, OrganisationFilter, OrganisationSortField,
};
use catalyst_persistence::{DbConnection, StoreError};

use crate::auth::{Anyone, Caller};
use crate::extract::body::{read_json, Accepts};
use crate::extract::conditional::{etag, IfMatch};
use crate::extract::id_path::{IdPath, RecordId};
use crate::extract::links::resource_path;
use crate::extract::lists::{ListReads, ListRequest};
use crate::problem::{ApiError, ProblemItem};
use crate::resources::audit::AuditContext;
use crate::resources::deletes::{self, Deletes};
use crate::resources::reads::{self, Readable};
use crate::resources::upsert::{found, CreatedInBulk, Keyed, Saved};
use crate::resources::{ForeignKey, StoreErrors, UniqueMember};
use crate::server::state::AppState;

pub use catalyst_api::organisations::*;

pub const TAG: &str = "organisations";

impl RecordId for OrganisationId {
    const RECORD: &'static str = "organisation";
}

const COLLECTION: &str = "/api/v1/organisations";

/// The entity's name in the audit trail.
const ENTITY: &str = "organisations";

fn not_found(id: OrganisationId) -> ApiError {
    ApiError::NotFound(format!("no organisation has id {id}"))
}

const STORE_ERRORS: StoreErrors = StoreErrors {
    record: "organisation",
    duplicate: Some(UniqueMember {
        member: "identifier",
        detail: "another organisation already has this identifier",
    }),
    foreign_key: ForeignKey::Unexpected,
};

fn map_store_error(id: OrganisationId, error: StoreError) -> ApiError {
    match error {
        StoreError::NotFound => not_found(id),
        other => STORE_ERRORS.map(other),
    }
}

fn respond(status: actix_web::http::StatusCode, organisation: Organisation) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response.insert_header((header::ETAG, etag(organisation.version)));
    response.json(OrganisationResource::from(organisation))
}

/// Create an organisation.
#[utoipa::path(
    tag = TAG,
    operation_id = "create_organisation",
    request_body(content = CreateOrganisation, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = OrganisationResource, headers(
            ("Location" = String, description = "The new organisation's URL"),
            ("ETag" = String, description = "The new organisation's entity tag"),
        )),
        (status = 403, description = "Only admins, programme managers and clients with `write` may add organisations"),
        (status = 409, description = "Another organisation has this identifier"),
    )
)]
#[post("/organisations")]
pub async fn create_organisation(
    request: HttpRequest,
    caller: Caller,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    // The body's form is checked first: a malformed request is malformed whoever sends it, and
    // the schema is public. Who may act is checked before anything is read from the database.
    let body: CreateOrganisation =
        read_json(&request, payload, state.body_limit, Accepts::Json).await?;
    caller.actor().may_create_organisation()?;
    let audit = AuditContext::of(&caller);
    let (fields, external_ids) = body.validate()?;
    let organisation = Organisation {
        external_ids,
        ..Organisation::create(fields, Timestamp::now())
    };
    let stored = organisation.clone();
    state
        .with_connection(move |connection| {
            catalyst_persistence::transaction(connection, |connection| {
                store::insert(connection, &stored)
                    .map_err(|error| map_store_error(stored.id, error))?;
                audit.record_created(connection, &stored)
            })
        })
        .await?;
    let location = resource_path(COLLECTION, &organisation.id.to_string());
    let mut response = respond(actix_web::http::StatusCode::CREATED, organisation);
    response.headers_mut().insert(
        header::LOCATION,
        header::HeaderValue::from_str(&location).map_err(|_| ApiError::Internal)?,
    );
    Ok(response)
}

reads::get_endpoint! {
    /// Get an organisation.
    get_organisation: Organisations, "/organisations/{id}", tag = TAG, reader = Anyone,
    found = "The organisation", body = OrganisationResource,
    missing = "No such organisation"
}

/// List organisations.
#[utoipa::path(
    tag = TAG,
    operation_id = "list_organisations",
    params(ListOrganisationsParams),
    responses(
        (status = 200, description = "A page of organisations", body = OrganisationList, headers(
            ("Link" = String, description = "`<url>; rel=\"next\"` when there is a next page"),
        )),
    )
)]
#[get("/organisations")]
pub async fn list_organisations(
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut list = ListRequest::parse(
        &request,
        &[(OrganisationSortField::CreatedAt, Direction::Ascending)],
    )?;
    let filter = OrganisationFilter {
        kind: list.enum_filter("kind", OrganisationKind::expected),
        scale: list.enum_filter("scale", Scale::expected),
        region: list.enum_filter("region", Region::expected),
        text: list.text_filter("q"),
        updated_since: list.updated_since(),
    };
    list.answer::<OrganisationList>(
        &request,
        &state,
        ListReads::ReplicaForAnonymous,
        Anyone,
        move |connection, _actor, sort, after, limit| {
            Ok(store::list(connection, &filter, sort, after, limit)?)
        },
    )
    .await
}

/// Update an organisation.
///
/// A JSON Merge Patch: members left out are unchanged, `null` clears an optional member. Send
/// `If-Match` with the ETag you read to be sure you change what you saw.
#[utoipa::path(
    tag = TAG,
    operation_id = "update_organisation",
    params(
        IdPath<OrganisationId>,
        ("If-Match" = Option<String>, Header, description = "The ETag you read: 412 if the organisation has changed since"),
    ),
    request_body(content = UpdateOrganisation, content_type = "application/merge-patch+json"),
    security(("bearer" = [])),
    responses(
        (status = 403, description = "Not an admin, a programme manager or a member of the organisation"),
        (status = 200, description = "The updated organisation", body = OrganisationResource, headers(
            ("ETag" = String, description = "The organisation's new entity tag"),
        )),
        (status = 404, description = "No such organisation"),
        (status = 409, description = "Another organisation has this identifier"),
        (status = 412, description = "If-Match does not match the current version"),
    )
)]
#[patch("/organisations/{id}")]
pub async fn update_organisation(
    request: HttpRequest,
    caller: Caller,
    IdPath(id): IdPath<OrganisationId>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let audit = AuditContext::of(&caller);
    let if_match = IfMatch::from_headers(request.headers())?;
    let body: UpdateOrganisation =
        read_json(&request, payload, state.body_limit, Accepts::MergePatch).await?;
    caller.actor().signed_in()?;
    let patch = OrganisationPatch {
        name: body.name,
        kind: body.kind,
        scale: body.scale,
        region: body.region,
        identifier: body.identifier,
        website: body.website,
    };
    let new_external_ids = match &body.external_ids {
        None => None,
        Some(given) => {
            let mut errors = ValidationErrors::default();
            let ids =
                crate::resources::external_ids(given.as_deref().unwrap_or_default(), &mut errors);
            Some(errors.into_result(ids)?)
        }
    };
    let organisation = state
        .with_connection(move |connection| {
            // Without If-Match a concurrent change is merged by re-reading; with it, the
            // client asked to change only the version it saw.
            const ATTEMPTS: usize = 3;
            for _ in 0..ATTEMPTS {
                let current = store::find(connection, id).map_err(|e| map_store_error(id, e))?;
                caller.actor().may_update_organisation(id)?;
                let fields = current.patched(&patch)?;
                if_match.check(current.version)?;
                if patch.is_empty() && new_external_ids.is_none() {
                    return Ok(current);
                }
                let ids_unchanged = new_external_ids.as_ref().is_none_or(|ids| *ids == current.external_ids);
                if fields == current.fields && ids_unchanged {
                    return Ok(current);
                }
                let attempt = catalyst_persistence::transaction(connection, |connection| {
                    let updated = store::update(connection, id, current.version, &fields, new_external_ids.as_deref(), Timestamp::now())?;
                    audit
                        .record_updated(connection, &current, &updated)
                        .map_err(UpdateFailure::Api)?;
                    Ok(updated)
                });
                match attempt {
                    Ok(updated) => return Ok(updated),
                    Err(UpdateFailure::Api(error)) => return Err(error),
                    Err(UpdateFailure::Store(error)) => match error {
                        StoreError::VersionMismatch { current } if if_match.is_present() => {
                            return Err(ApiError::PreconditionFailed(format!(
                                "the organisation changed meanwhile: its current version is {current}"
                            )))
                        }
                        StoreError::VersionMismatch { .. } => continue,
                        error => return Err(map_store_error(id, error)),
                    },
                }
            }
            Err(ApiError::Conflict(ProblemItem::parameter(
                "id",
                "concurrent_update",
                "the organisation is being changed by others: retry",
            )))
        })
        .await?;
    Ok(respond(actix_web::http::StatusCode::OK, organisation))
}

deletes::delete_endpoint! {
    /// Delete an organisation.
    delete_organisation: Organisations, "/organisations/{id}", tag = TAG,
    missing = "No such organisation",
    forbidden = "Only admins may delete organisations",
    refused = "Other records still refer to the organisation"
}

/// Why an update attempt failed: a storage error may be worth a retry, an API error is final.
enum UpdateFailure {
    Store(StoreError),
    Api(ApiError),
}

impl From<StoreError> for UpdateFailure {
    fn from(error: StoreError) -> Self {
        UpdateFailure::Store(error)
    }
}

reads::history_endpoint! {
    /// An organisation's recorded changes, oldest first.
    list_organisation_history: Organisations, "/organisations/{id}/history", tag = TAG, reader = Anyone,
    missing = "No such organisation"
}

/// Organisations: public, and their history too (a deleted one has none to show).
pub struct Organisations;

impl Readable for Organisations {
    type Id = OrganisationId;
    type Seen = ();
    type Found = Organisation;

    fn may_read(actor: &Actor) -> Result<(), ApiError> {
        reads::anyone(actor)
    }

    fn seen(_actor: &Actor) {}

    fn find(
        connection: &mut DbConnection,
        id: OrganisationId,
        _seen: &(),
    ) -> Result<Organisation, ApiError> {
        store::find(connection, id).map_err(|error| map_store_error(id, error))
    }
}

impl Deletes for Organisations {
    fn may_delete_any(actor: &Actor) -> Result<(), ApiError> {
        Ok(actor.may_delete_organisation()?)
    }

    fn audience(_current: &Organisation) -> Audience {
        Audience::Public
    }

    fn delete_row(
        connection: &mut DbConnection,
        audit: &AuditContext,
        current: &Organisation,
    ) -> Result<(), ApiError> {
        let id = current.id;
        // Its contacts go with it: each leaves its own audit record and tombstone.
        for contact in catalyst_persistence::contacts::all_of_organisation(connection, id)? {
            audit.deleted(
                connection,
                crate::resources::contacts::ENTITY,
                contact.id.to_string(),
                contact.version,
                contact.audience(),
                &crate::resources::contacts::ContactResource::from(&contact),
            )?;
        }
        store::delete(connection, id, Some(current.version)).map_err(|error| match error {
            StoreError::VersionMismatch { current } => ApiError::PreconditionFailed(format!(
                "the organisation changed meanwhile: its current version is {current}"
            )),
            other => map_store_error(id, other),
        })
    }
}

/// Writes a whole organisation over `existing` (or as a new one), with its audit record:
/// the one path of PUT by external id and of imports.
fn save_whole(
    connection: &mut catalyst_persistence::DbConnection,
    actor: &catalyst_domain::Actor,
    audit: &AuditContext,
    existing: Option<Organisation>,
    fields: OrganisationFields,
    external_ids: Vec<ExternalId>,
) -> Result<Saved<Organisation>, ApiError> {
    match existing {
        Some(current) => {
            actor.may_update_organisation(current.id)?;
            if fields == current.fields && external_ids == current.external_ids {
                return Ok(Saved::Unchanged(current));
            }
            let updated = store::update(
                connection,
                current.id,
                current.version,
                &fields,
                Some(&external_ids),
                Timestamp::now(),
            )
            .map_err(|error| map_store_error(current.id, error))?;
            audit.record_updated(connection, &current, &updated)?;
            Ok(Saved::Updated(updated))
        }
        None => {
            let organisation = Organisation::new_record(connection, actor, fields, external_ids)?;
            store::insert(connection, &organisation)
                .map_err(|error| map_store_error(organisation.id, error))?;
            audit.record_created(connection, &organisation)?;
            Ok(Saved::Created(organisation))
        }
    }
}

crate::found_by_id!(Organisation, |connection, id, _actor| store::find(
    connection, id
));

impl Keyed for Organisation {
    const NOUN: &'static str = "organisation";
    type Body = CreateOrganisation;
    type Checked = OrganisationFields;

    crate::keyed_record_fields!();

    fn check(body: CreateOrganisation) -> Result<(OrganisationFields, Vec<ExternalId>), ApiError> {
        body.validate().map_err(ApiError::from)
    }
    fn find_by_key(
        connection: &mut catalyst_persistence::DbConnection,
        key: &ExternalId,
        _actor: &catalyst_domain::Actor,
    ) -> Result<Option<Self>, ApiError> {
        found(store::find_by_external_id(connection, &key.source, &key.id))
    }
    fn save(
        connection: &mut catalyst_persistence::DbConnection,
        actor: &catalyst_domain::Actor,
        audit: &AuditContext,
        existing: Option<Self>,
        fields: OrganisationFields,
        external_ids: Vec<ExternalId>,
    ) -> Result<Saved<Self>, ApiError> {
        save_whole(connection, actor, audit, existing, fields, external_ids)
    }
}

impl CreatedInBulk for Organisation {
    fn new_record(
        _connection: &mut catalyst_persistence::DbConnection,
        actor: &catalyst_domain::Actor,
        fields: OrganisationFields,
        external_ids: Vec<ExternalId>,
    ) -> Result<Self, ApiError> {
        actor.may_create_organisation()?;
        Ok(Organisation {
            external_ids,
            ..Organisation::create(fields, Timestamp::now())
        })
    }
    fn insert_all(
        connection: &mut catalyst_persistence::DbConnection,
        records: &[Self],
    ) -> Result<(), ApiError> {
        Ok(store::insert_all(connection, records)?)
    }
}

crate::by_external_id_handlers!(
    record: Organisation, body: CreateOrganisation, resource: OrganisationResource,
    path: "/organisations/by-external-id/{source}/{id}",
    get_security: ((), ("bearer" = [])),
    get: get_organisation_by_external_id, "Get an organisation by a partner's key for it.",
    put: upsert_organisation_by_external_id, "Create or replace an organisation by a partner's key for it."
);

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config
        .service(get_organisation_by_external_id)
        .service(upsert_organisation_by_external_id)
        .service(list_organisations)
        .service(create_organisation)
        .service(get_organisation)
        .service(update_organisation)
        .service(delete_organisation)
        .service(list_organisation_history);
}

crate::audited!(Organisation: ENTITY, OrganisationResource, audience = |_| Audience::Public);
