//! Applications: `/api/v1/phases/{id}/applications` and `/api/v1/applications`. Never public:
//! a supplier sees and edits its own (while drafts), submits or withdraws them; the challenge
//! owner's officers and programme staff read and assess them.

use actix_web::{delete, get, patch, post, put, web, HttpRequest, HttpResponse};
use catalyst_domain::application::validate_score;
use catalyst_domain::{
    Actor, Application, ApplicationFields, ApplicationId, ApplicationStatus, ChallengeStatus,
    Denied, ExternalId, FieldViolation, Lifecycle, OrganisationId, PhaseId, PhaseStatus, Timestamp,
    ValidationErrors, Versioned,
};
use catalyst_persistence::applications::{
    self as store, ApplicationFilter, ApplicationSortField, PrivateVisibility,
};
use catalyst_persistence::keyset::Direction;
use catalyst_persistence::{challenges, phases, DbConnection, StoreError};

use crate::auth::CallerToken;
use crate::extract::lists::{list_endpoints, ListReads, ListRequest};
use crate::problem::ApiError;
use crate::resources::audit::AuditContext;
use crate::resources::creates::{self, Creates};
use crate::resources::deletes::{self, Deletes};
use crate::resources::reads::{self, Readable};
use crate::resources::transitions::{self, Moves};
use crate::resources::updates::{self, Updates};
use crate::resources::upsert::{fixed, found_visible, CreatedInBulk, Keyed, Saved};
use crate::resources::{current_record, required_patch, TransitionRequest};
use crate::resources::{ForeignKey, StoreErrors, UniqueMember};
use crate::server::state::AppState;
use catalyst_domain::Audience;

pub use catalyst_api::applications::*;

pub const TAG: &str = "applications";

impl crate::extract::id_path::RecordId for catalyst_domain::ApplicationId {
    const RECORD: &'static str = "application";
}

const ENTITY: &str = "applications";

/// What the caller may see of private records (applications).
pub fn private_visibility(actor: &Actor) -> PrivateVisibility {
    if actor.sees_everything() {
        PrivateVisibility::Everything
    } else {
        PrivateVisibility::PartyTo(actor.member_organisations())
    }
}

const STORE_ERRORS: StoreErrors = StoreErrors {
    record: "application",
    duplicate: Some(UniqueMember {
        member: "supplier_organisation_id",
        detail: "this supplier has already applied to this phase",
    }),
    foreign_key: ForeignKey::Unexpected,
};

fn map_store_error(error: StoreError) -> ApiError {
    STORE_ERRORS.map(error)
}

/// The supplier acts: one of its members, or programme staff on its behalf.
fn may_act_as_supplier(actor: &Actor, supplier: OrganisationId) -> Result<(), Denied> {
    actor.signed_in()?;
    if actor.runs_programmes() || actor.acts_for(supplier) {
        Ok(())
    } else {
        Err(Denied::Forbidden)
    }
}

/// Applications go to an open phase of a live, published challenge.
fn check_phase_accepts(
    connection: &mut DbConnection,
    phase: PhaseId,
) -> Result<(catalyst_domain::Phase, catalyst_domain::Challenge), ApiError> {
    let phase = phases::find(connection, phase)
        .map_err(|_| ApiError::NotFound("no such phase".to_owned()))?;
    let challenge = challenges::find(connection, phase.fields.challenge_id)?;
    if !challenge.is_published() {
        return Err(ApiError::NotFound("no such phase".to_owned()));
    }
    if phase.status != PhaseStatus::Open
        || matches!(
            challenge.status,
            ChallengeStatus::Completed | ChallengeStatus::Cancelled
        )
    {
        return Err(ApiError::rule(None, "phase_not_open", format!("the phase is {} and its challenge {}: applications are taken only while the phase is open", phase.status, challenge.status)));
    }
    Ok((phase, challenge))
}

creates::create_endpoint! {
    /// Apply to a phase (a supplier for its own organisation).
    create_application: Application, "/phases/{id}/applications", under PhaseId, tag = TAG,
    body = CreateApplication, created = "Created, as a draft", resource = ApplicationResource,
    location = "The application's URL", errors = [
        (status = 404, description = "No such phase"),
        (status = 409, description = "The phase is not open, or the supplier has applied already"),
    ]
}

impl Creates for Application {
    type Parent = PhaseId;
    type Body = CreateApplication;
    type Checked = (ApplicationFields, Vec<ExternalId>);

    fn checked(
        actor: &Actor,
        phase: PhaseId,
        body: CreateApplication,
    ) -> Result<Self::Checked, ApiError> {
        actor.signed_in()?;
        let (fields, external_ids) = body.validate(Some(phase))?;
        may_act_as_supplier(actor, fields.supplier_organisation_id)?;
        Ok((fields, external_ids))
    }
    fn insert(
        connection: &mut DbConnection,
        _actor: &Actor,
        audit: &AuditContext,
        (fields, external_ids): Self::Checked,
    ) -> Result<Self, ApiError> {
        insert_new(connection, audit, fields, external_ids)
    }
}

async fn list(
    request: HttpRequest,
    caller: CallerToken,
    state: web::Data<AppState>,
    phase: Option<PhaseId>,
) -> Result<HttpResponse, ApiError> {
    let mut list = ListRequest::parse(
        &request,
        &[(ApplicationSortField::CreatedAt, Direction::Ascending)],
    )?;
    let filter = ApplicationFilter {
        phase_id: phase.or_else(|| list.id_filter("phase_id")),
        supplier_organisation_id: list.id_filter("supplier_id"),
        status: list.enum_filter("status", ApplicationStatus::expected),
        updated_since: list.updated_since(),
    };
    list.answer::<ApplicationList>(
        &request,
        &state,
        ListReads::Primary,
        caller,
        move |connection, actor, sort, after, limit| {
            let seen = private_visibility(actor);
            Ok(store::list(connection, &seen, &filter, sort, after, limit)?)
        },
    )
    .await
}

list_endpoints! {
    tag = TAG, serve = list, params = ListApplicationsParams, body = ApplicationList, page = "A page of applications",
    security = (("bearer" = [])), guard = signed_in;
    /// A phase's applications that you may see.
    list_phase_applications: "/phases/{id}/applications", under PhaseId;
    /// Applications you may see: your organisation's, or those to your body's challenges.
    list_applications: "/applications";
}

reads::get_endpoint! {
    /// Get an application.
    get_application: Applications, "/applications/{id}", tag = TAG, reader = CallerToken,
    security = (("bearer" = [])),
    found = "The application", body = ApplicationResource,
    missing = "No such application, or not yours to see"
}

updates::update_endpoint! {
    /// Update an application: the supplier edits a draft; assessors score it.
    update_application: Applications, "/applications/{id}", tag = TAG, patch = UpdateApplication,
    updated = "The updated application", body = ApplicationResource, missing = "No such application",
    refused = "No longer a draft"
}

impl Updates for Applications {
    type Patch = UpdateApplication;
    type Change = Application;

    fn patched(
        connection: &mut DbConnection,
        actor: &Actor,
        current: &Application,
        patch: UpdateApplication,
    ) -> Result<Application, ApiError> {
        let edits_bid = patch.amount_requested.is_some() || patch.summary.is_some();
        if edits_bid {
            may_act_as_supplier(actor, current.fields.supplier_organisation_id)?;
            if current.status != ApplicationStatus::Draft {
                return Err(ApiError::rule(
                    None,
                    "not_draft",
                    format!(
                        "the application is {}: only a draft can be changed",
                        current.status
                    ),
                ));
            }
        }
        if patch.assessment_score.is_some() {
            actor.may_manage_challenges_of(current.owner_organisation_id)?;
        }
        let mut errors = ValidationErrors::default();
        let phase = phases::find(connection, current.fields.phase_id)?;
        let fields = ApplicationFields {
            amount_requested: required_patch(
                &patch.amount_requested,
                &current.fields.amount_requested,
                "amount_requested",
                &mut errors,
            ),
            summary: required_patch(
                &patch.summary,
                &current.fields.summary,
                "summary",
                &mut errors,
            ),
            ..current.fields.clone()
        };
        let score = match patch.assessment_score {
            None => current.assessment_score,
            Some(None) => None,
            Some(Some(score)) => Some(validate_score(score)?),
        };
        let external_ids = crate::resources::patched_external_ids(
            &patch.external_ids,
            &current.external_ids,
            &mut errors,
        );
        if external_ids != current.external_ids && !edits_bid {
            may_act_for_either_party(actor, current)?;
        }
        errors.into_result(())?;
        Ok(Application {
            fields: fields.validate(&phase.fields)?,
            assessment_score: score,
            external_ids,
            ..current.clone()
        })
    }

    fn write(
        connection: &mut DbConnection,
        audit: &AuditContext,
        current: Application,
        updated: Application,
    ) -> Result<Application, ApiError> {
        Ok(write_update(connection, audit, current, updated)?.record())
    }
}

transitions::transition_endpoint! {
    /// Move an application: the supplier submits or withdraws it; assessors shortlist it and
    /// decide it (successful or unsuccessful). Any other move is 409 with `allowed_transitions`.
    transition_application: Applications, "/applications/{id}/transitions", tag = TAG, body = TransitionRequest,
    moved = "The application in its new status", resource = ApplicationResource,
    missing = "No such application", refused = "The move is not allowed now"
}

/// Applications: never public, seen by the supplier's side and the challenge owner's.
pub struct Applications;

impl Readable for Applications {
    type Id = ApplicationId;
    type Seen = PrivateVisibility;
    type Found = Application;

    fn may_read(actor: &Actor) -> Result<(), ApiError> {
        reads::signed_in(actor)
    }

    fn seen(actor: &Actor) -> PrivateVisibility {
        private_visibility(actor)
    }

    fn find(
        connection: &mut DbConnection,
        id: ApplicationId,
        seen: &PrivateVisibility,
    ) -> Result<Application, ApiError> {
        store::find_visible(connection, id, seen).map_err(map_store_error)
    }
}

impl Deletes for Applications {
    fn may_delete(actor: &Actor, current: &Application) -> Result<(), ApiError> {
        Ok(may_act_as_supplier(
            actor,
            current.fields.supplier_organisation_id,
        )?)
    }

    fn must_stay(current: &Application) -> Result<(), ApiError> {
        if current.status == ApplicationStatus::Draft {
            return Ok(());
        }
        Err(ApiError::rule(
            None,
            "not_draft",
            format!("the application is {}: withdraw it instead", current.status),
        ))
    }

    fn audience(current: &Application) -> Audience {
        current.audience()
    }

    fn delete_row(
        connection: &mut DbConnection,
        _audit: &AuditContext,
        current: &Application,
    ) -> Result<(), ApiError> {
        store::delete(connection, current.id, current.version).map_err(map_store_error)
    }
}

/// An application's moves: the supplier submits or withdraws it; the challenge's owner (or
/// programme staff) assesses it. Submitting needs an open phase and stamps `submitted_at`.
impl Moves for Applications {
    type Status = ApplicationStatus;
    type Body = TransitionRequest;
    type Moved = Application;

    fn target(body: &TransitionRequest) -> &str {
        &body.to
    }

    fn may_move(
        actor: &Actor,
        current: &Application,
        to: ApplicationStatus,
    ) -> Result<(), ApiError> {
        if to.is_suppliers_move() {
            may_act_as_supplier(actor, current.fields.supplier_organisation_id)?;
        } else {
            actor.may_manage_challenges_of(current.owner_organisation_id)?;
        }
        Ok(())
    }

    fn apply(
        connection: &mut DbConnection,
        audit: &AuditContext,
        current: Application,
        to: ApplicationStatus,
        _body: &TransitionRequest,
    ) -> Result<Application, ApiError> {
        let status = current.status.transition(to)?;
        let now = Timestamp::now();
        let mut submitted_at = current.submitted_at;
        if status == ApplicationStatus::Submitted {
            check_phase_accepts(connection, current.fields.phase_id)?;
            submitted_at = Some(now);
        }
        let updated = Application {
            status,
            submitted_at,
            ..current.next_version(now)
        };
        store::update(connection, &updated, current.version).map_err(map_store_error)?;
        audit.record_updated(connection, &current, &updated)?;
        Ok(updated)
    }

    fn respond(moved: Application) -> HttpResponse {
        current_record(&moved)
    }
}

deletes::delete_endpoint! {
    /// Delete a draft application (its supplier).
    delete_application: Applications, "/applications/{id}", tag = TAG,
    missing = "No such application",
    refused = "No longer a draft: withdraw it instead"
}

reads::history_endpoint! {
    /// An application's recorded changes, oldest first.
    list_application_history: Applications, "/applications/{id}/history", tag = TAG,
    reader = CallerToken,    security = (("bearer" = [])), missing = "No such application"
}

/// A key for an application is kept by its supplier or by the challenge owner's side.
fn may_act_for_either_party(actor: &Actor, application: &Application) -> Result<(), Denied> {
    may_act_as_supplier(actor, application.fields.supplier_organisation_id)
        .or_else(|_| actor.may_manage_challenges_of(application.owner_organisation_id))
}

/// A new draft application to an open phase, checked against the phase (reads only).
fn new_application(
    connection: &mut DbConnection,
    fields: ApplicationFields,
    external_ids: Vec<ExternalId>,
) -> Result<Application, ApiError> {
    let (phase, challenge) = check_phase_accepts(connection, fields.phase_id)?;
    let fields = fields.validate(&phase.fields)?;
    let now = Timestamp::now();
    Ok(Application {
        id: ApplicationId::generate(),
        fields,
        challenge_id: challenge.id,
        owner_organisation_id: challenge.fields.owner_organisation_id,
        status: ApplicationStatus::INITIAL,
        assessment_score: None,
        submitted_at: None,
        external_ids,
        version: 1,
        created_at: now,
        updated_at: now,
    })
}

/// Stores a new draft application to an open phase, with its audit record.
fn insert_new(
    connection: &mut DbConnection,
    audit: &AuditContext,
    fields: ApplicationFields,
    external_ids: Vec<ExternalId>,
) -> Result<Application, ApiError> {
    let application = new_application(connection, fields, external_ids)?;
    match store::insert(connection, &application) {
        Err(StoreError::ForeignKey) => {
            return Err(ApiError::Validation(
                FieldViolation::new(
                    "supplier_organisation_id",
                    "not_found",
                    "no organisation has this id",
                )
                .into(),
            ))
        }
        other => other.map_err(map_store_error)?,
    }
    audit.record_created(connection, &application)?;
    Ok(application)
}

/// Writes `updated` (the current application with new fields, score or external ids) as the
/// next version, with its audit record; nothing when nothing changed.
fn write_update(
    connection: &mut DbConnection,
    audit: &AuditContext,
    current: Application,
    updated: Application,
) -> Result<Saved<Application>, ApiError> {
    if updated.fields == current.fields
        && updated.assessment_score == current.assessment_score
        && updated.external_ids == current.external_ids
    {
        return Ok(Saved::Unchanged(current));
    }
    let updated = Application {
        version: current.version + 1,
        updated_at: Timestamp::now(),
        ..updated
    };
    store::update_with_keys(connection, &updated, &current).map_err(map_store_error)?;
    audit.record_updated(connection, &current, &updated)?;
    Ok(Saved::Updated(updated))
}

crate::found_by_id!(Application, |connection, id, actor| {
    store::find_visible(connection, id, &private_visibility(actor))
});

impl Keyed for Application {
    const NOUN: &'static str = "application";
    const PRIVATE: bool = true;
    type Body = CreateApplication;
    type Checked = ApplicationFields;

    crate::keyed_record_fields!();

    fn check(body: CreateApplication) -> Result<(ApplicationFields, Vec<ExternalId>), ApiError> {
        // Its terms too: a body wrong in itself is refused before any precondition is weighed.
        let mut errors = ValidationErrors::default();
        catalyst_domain::application::check_terms(&body.summary, &mut errors);
        Ok(errors.before(body.validate(None))?)
    }
    fn find_by_key(
        connection: &mut DbConnection,
        key: &ExternalId,
        actor: &Actor,
    ) -> Result<Option<Self>, ApiError> {
        found_visible(
            store::find_by_external_id(connection, &key.source, &key.id),
            key,
            |record| store::find_visible(connection, record.id, &private_visibility(actor)),
        )
    }
    fn save(
        connection: &mut DbConnection,
        actor: &Actor,
        audit: &AuditContext,
        existing: Option<Self>,
        fields: ApplicationFields,
        external_ids: Vec<ExternalId>,
    ) -> Result<Saved<Self>, ApiError> {
        let Some(current) = existing else {
            may_act_as_supplier(actor, fields.supplier_organisation_id)?;
            let application = insert_new(connection, audit, fields, external_ids)?;
            return Ok(Saved::Created(application));
        };
        let mut errors = ValidationErrors::default();
        fixed(
            &fields.phase_id,
            &current.fields.phase_id,
            "phase_id",
            "an application stays in its phase",
            &mut errors,
        );
        fixed(
            &fields.supplier_organisation_id,
            &current.fields.supplier_organisation_id,
            "supplier_organisation_id",
            "an application stays with its supplier",
            &mut errors,
        );
        errors.into_result(())?;
        let phase = phases::find(connection, current.fields.phase_id)?;
        let fields = fields.validate(&phase.fields)?;
        if fields != current.fields {
            may_act_as_supplier(actor, current.fields.supplier_organisation_id)?;
            if current.status != ApplicationStatus::Draft {
                return Err(ApiError::rule(
                    None,
                    "not_draft",
                    format!(
                        "the application is {}: only a draft can be changed",
                        current.status
                    ),
                ));
            }
        } else if external_ids != current.external_ids {
            may_act_for_either_party(actor, &current)?;
        }
        let updated = Application {
            fields,
            external_ids,
            ..current.clone()
        };
        write_update(connection, audit, current, updated)
    }
}

/// Applications change nothing that another application's checks read (the phase and its
/// challenge), so an import writes its new ones together; a supplier applying twice to a phase
/// is the database's rule, and undoes the gathered write.
impl CreatedInBulk for Application {
    fn new_record(
        connection: &mut DbConnection,
        actor: &Actor,
        fields: ApplicationFields,
        external_ids: Vec<ExternalId>,
    ) -> Result<Self, ApiError> {
        may_act_as_supplier(actor, fields.supplier_organisation_id)?;
        new_application(connection, fields, external_ids)
    }
    fn insert_all(connection: &mut DbConnection, records: &[Self]) -> Result<(), ApiError> {
        Ok(store::insert_all(connection, records)?)
    }
}

crate::by_external_id_handlers!(
    record: Application, body: CreateApplication, resource: ApplicationResource,
    path: "/applications/by-external-id/{source}/{id}",
    get_security: (("bearer" = [])),
    get: get_application_by_external_id, "Get an application by a partner's key for it.",
    put: upsert_application_by_external_id, "Create or replace an application by a partner's key for it."
);

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config
        .service(get_application_by_external_id)
        .service(upsert_application_by_external_id)
        .service(create_application)
        .service(list_phase_applications)
        .service(list_applications)
        .service(get_application)
        .service(update_application)
        .service(delete_application)
        .service(transition_application)
        .service(list_application_history);
}

crate::audited!(Application: ENTITY, ApplicationResource, audience = |record| record.audience());
