//! `/api/v1/programmes`: the funds that run rounds of challenges. Public to read; programme
//! staff manage them.

use actix_web::{delete, get, patch, post, put, web, HttpRequest, HttpResponse};
use catalyst_domain::Audience;
use catalyst_domain::{
    Actor, ExternalId, OrganisationId, Programme, ProgrammeFields, ProgrammeId, Timestamp,
    ValidationErrors, Versioned,
};
use catalyst_persistence::keyset::Direction;
use catalyst_persistence::programmes::{self as store, ProgrammeFilter, ProgrammeSortField};
use catalyst_persistence::{organisations, DbConnection, StoreError};

use crate::auth::Anyone;
use crate::extract::lists::{ListReads, ListRequest};
use crate::problem::ApiError;
use crate::resources::audit::AuditContext;
use crate::resources::creates::{self, Creates};
use crate::resources::deletes::{self, Deletes};
use crate::resources::reads::{self, Readable};
use crate::resources::updates::{self, Updates};
use crate::resources::upsert::{found, Keyed, Saved};
use crate::resources::{collect_field_id, optional_patch, required_patch};
use crate::resources::{ForeignKey, StoreErrors, UniqueMember};
use crate::server::state::AppState;

pub use catalyst_api::programmes::*;

pub const TAG: &str = "programmes";

impl crate::extract::id_path::RecordId for catalyst_domain::ProgrammeId {
    const RECORD: &'static str = "programme";
}

const ENTITY: &str = "programmes";

/// The funder must exist: a clear 422 rather than a foreign-key 409.
fn check_funder(connection: &mut DbConnection, funder: OrganisationId) -> Result<(), ApiError> {
    match organisations::find(connection, funder) {
        Ok(_) => Ok(()),
        Err(StoreError::NotFound) => Err(ApiError::Validation(
            catalyst_domain::FieldViolation::new(
                "funder_organisation_id",
                "not_found",
                "no organisation has this id",
            )
            .into(),
        )),
        Err(error) => Err(error.into()),
    }
}

const STORE_ERRORS: StoreErrors = StoreErrors {
    record: "programme",
    duplicate: Some(UniqueMember {
        member: "code",
        detail: "another programme has this code",
    }),
    foreign_key: ForeignKey::Referenced("challenges still belong to this programme"),
};

fn map_store_error(error: StoreError) -> ApiError {
    STORE_ERRORS.map(error)
}

creates::create_endpoint! {
    /// Create a programme (programme staff).
    create_programme: Programme, "/programmes", tag = TAG, body = CreateProgramme,
    created = "Created", resource = ProgrammeResource, location = "The programme's URL",
    errors = [(status = 409, description = "Another programme has this code")]
}

impl Creates for Programme {
    type Parent = ();
    type Body = CreateProgramme;
    type Checked = Programme;

    fn checked(actor: &Actor, (): (), body: CreateProgramme) -> Result<Programme, ApiError> {
        actor.may_manage_programmes()?;
        let (fields, external_ids) = body.validate()?;
        Ok(Programme {
            external_ids,
            ..Programme::create(fields, Timestamp::now())
        })
    }
    fn insert(
        connection: &mut DbConnection,
        _actor: &Actor,
        audit: &AuditContext,
        programme: Programme,
    ) -> Result<Self, ApiError> {
        insert_new(connection, audit, &programme)?;
        Ok(programme)
    }
}

reads::get_endpoint! {
    /// Get a programme.
    get_programme: Programmes, "/programmes/{id}", tag = TAG, reader = Anyone,
    found = "The programme", body = ProgrammeResource,
    missing = "No such programme"
}

/// List programmes.
#[utoipa::path(
    tag = TAG, operation_id = "list_programmes", params(ListProgrammesParams),
    responses((status = 200, description = "A page of programmes", body = ProgrammeList,
        headers(("Link" = String, description = "`<url>; rel=\"next\"` when there is a next page"))))
)]
#[get("/programmes")]
pub async fn list_programmes(
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut list = ListRequest::parse(
        &request,
        &[(ProgrammeSortField::CreatedAt, Direction::Ascending)],
    )?;
    let filter = ProgrammeFilter {
        funder_organisation_id: list.id_filter("funder_organisation_id"),
        text: list.text_filter("q"),
        updated_since: list.updated_since(),
    };
    list.answer::<ProgrammeList>(
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

updates::update_endpoint! {
    /// Update a programme (programme staff).
    update_programme: Programmes, "/programmes/{id}", tag = TAG, patch = UpdateProgramme,
    updated = "The updated programme", body = ProgrammeResource, missing = "No such programme",
    refused = "Another programme has this code"
}

impl Updates for Programmes {
    type Patch = UpdateProgramme;
    type Change = (ProgrammeFields, Vec<ExternalId>);

    fn may_update_any(actor: &Actor) -> Result<(), ApiError> {
        Ok(actor.may_manage_programmes()?)
    }

    fn patched(
        _connection: &mut DbConnection,
        _actor: &Actor,
        current: &Programme,
        patch: UpdateProgramme,
    ) -> Result<Self::Change, ApiError> {
        let mut errors = ValidationErrors::default();
        let old = &current.fields;
        let funder_text = required_patch(
            &patch.funder_organisation_id,
            &old.funder_organisation_id.to_string(),
            "funder_organisation_id",
            &mut errors,
        );
        let funder =
            collect_field_id::<OrganisationId>(&funder_text, "funder_organisation_id", &mut errors);
        let fields = ProgrammeFields {
            code: required_patch(&patch.code, &old.code, "code", &mut errors),
            title: required_patch(&patch.title, &old.title, "title", &mut errors),
            description: optional_patch(&patch.description, &old.description),
            funder_organisation_id: funder.unwrap_or(old.funder_organisation_id),
            budget: required_patch(&patch.budget, &old.budget, "budget", &mut errors),
            opens_on: optional_patch(&patch.opens_on, &old.opens_on),
            closes_on: optional_patch(&patch.closes_on, &old.closes_on),
        };
        let external_ids = crate::resources::checked_patch_keys(
            &patch.external_ids,
            &current.external_ids,
            errors,
        )?;
        Ok((fields.validate()?, external_ids))
    }

    fn write(
        connection: &mut DbConnection,
        audit: &AuditContext,
        current: Programme,
        (fields, external_ids): Self::Change,
    ) -> Result<Programme, ApiError> {
        Ok(replace(connection, audit, current, fields, external_ids)?.record())
    }
}

deletes::delete_endpoint! {
    /// Delete a programme that has no challenges (programme staff).
    delete_programme: Programmes, "/programmes/{id}", tag = TAG,
    missing = "No such programme",
    refused = "Challenges still belong to it"
}

reads::history_endpoint! {
    /// A programme's recorded changes, oldest first.
    list_programme_history: Programmes, "/programmes/{id}/history", tag = TAG, reader = Anyone,
    missing = "No such programme"
}

/// Programmes: public.
pub struct Programmes;

impl Readable for Programmes {
    type Id = ProgrammeId;
    type Seen = ();
    type Found = Programme;

    fn may_read(actor: &Actor) -> Result<(), ApiError> {
        reads::anyone(actor)
    }

    fn seen(_actor: &Actor) {}

    fn find(
        connection: &mut DbConnection,
        id: ProgrammeId,
        _seen: &(),
    ) -> Result<Programme, ApiError> {
        store::find(connection, id).map_err(map_store_error)
    }
}

impl Deletes for Programmes {
    fn may_delete_any(actor: &Actor) -> Result<(), ApiError> {
        Ok(actor.may_manage_programmes()?)
    }

    fn audience(_current: &Programme) -> Audience {
        Audience::Public
    }

    fn delete_row(
        connection: &mut DbConnection,
        _audit: &AuditContext,
        current: &Programme,
    ) -> Result<(), ApiError> {
        store::delete(connection, current.id, current.version).map_err(map_store_error)
    }
}

/// Stores a new programme with its audit record.
fn insert_new(
    connection: &mut DbConnection,
    audit: &AuditContext,
    programme: &Programme,
) -> Result<(), ApiError> {
    check_funder(connection, programme.fields.funder_organisation_id)?;
    store::insert(connection, programme).map_err(map_store_error)?;
    audit.record_created(connection, programme)
}

/// Replaces a programme's fields and external ids (nothing is written when they are the same).
fn replace(
    connection: &mut DbConnection,
    audit: &AuditContext,
    current: Programme,
    fields: ProgrammeFields,
    external_ids: Vec<ExternalId>,
) -> Result<Saved<Programme>, ApiError> {
    if fields == current.fields && external_ids == current.external_ids {
        return Ok(Saved::Unchanged(current));
    }
    if fields.funder_organisation_id != current.fields.funder_organisation_id {
        check_funder(connection, fields.funder_organisation_id)?;
    }
    let updated = Programme {
        fields,
        external_ids,
        ..current.next_version(Timestamp::now())
    };
    store::update_with_keys(connection, &updated, &current).map_err(map_store_error)?;
    audit.record_updated(connection, &current, &updated)?;
    Ok(Saved::Updated(updated))
}

impl Keyed for Programme {
    const NOUN: &'static str = "programme";
    type Body = CreateProgramme;
    type Checked = ProgrammeFields;

    crate::keyed_record_fields!();

    fn check(body: CreateProgramme) -> Result<(ProgrammeFields, Vec<ExternalId>), ApiError> {
        body.validate().map_err(ApiError::from)
    }
    fn find_by_key(
        connection: &mut DbConnection,
        key: &ExternalId,
        _actor: &Actor,
    ) -> Result<Option<Self>, ApiError> {
        found(store::find_by_external_id(connection, &key.source, &key.id))
    }
    fn save(
        connection: &mut DbConnection,
        actor: &Actor,
        audit: &AuditContext,
        existing: Option<Self>,
        fields: ProgrammeFields,
        external_ids: Vec<ExternalId>,
    ) -> Result<Saved<Self>, ApiError> {
        actor.may_manage_programmes()?;
        match existing {
            Some(current) => replace(connection, audit, current, fields, external_ids),
            None => {
                let programme = Programme {
                    external_ids,
                    ..Programme::create(fields, Timestamp::now())
                };
                insert_new(connection, audit, &programme)?;
                Ok(Saved::Created(programme))
            }
        }
    }
}

crate::by_external_id_handlers!(
    record: Programme, body: CreateProgramme, resource: ProgrammeResource,
    path: "/programmes/by-external-id/{source}/{id}",
    get_security: ((), ("bearer" = [])),
    get: get_programme_by_external_id, "Get a programme by a partner's key for it.",
    put: upsert_programme_by_external_id, "Create or replace a programme by a partner's key for it."
);

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config
        .service(get_programme_by_external_id)
        .service(upsert_programme_by_external_id)
        .service(list_programmes)
        .service(create_programme)
        .service(get_programme)
        .service(update_programme)
        .service(delete_programme)
        .service(list_programme_history);
}

crate::audited!(Programme: ENTITY, ProgrammeResource, audience = |_| Audience::Public);
