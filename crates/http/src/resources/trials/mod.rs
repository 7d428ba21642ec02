//! Trials (`/api/v1/trials`); their outcomes are in [`super::outcomes`]. A trial marked `public`
//! is readable by anyone; otherwise by its host, its supplier and programme staff. The host's
//! officers (or programme staff) manage them.

use actix_web::{get, patch, post, put, web, HttpRequest, HttpResponse};
use catalyst_domain::{
    Actor, Audience, AwardId, ExternalId, FieldViolation, Lifecycle, OrganisationId, Timestamp,
    Trial, TrialFields, TrialId, TrialStatus, ValidationErrors, Versioned,
};
use catalyst_persistence::changes::Operation;
use catalyst_persistence::keyset::Direction;
use catalyst_persistence::trials::outcome_store::{self};
use catalyst_persistence::trials::{self as store, TrialFilter, TrialSortField, TrialVisibility};
use catalyst_persistence::{awards, organisations, DbConnection, StoreError};

use super::outcomes::OutcomeResource;
use crate::auth::CallerToken;
use crate::extract::lists::{ListReads, ListRequest};
use crate::problem::ApiError;
use crate::resources::audit::AuditContext;
use crate::resources::creates::{self, Creates};
use crate::resources::reads::{self, Readable};
use crate::resources::transitions::{self, Moves};
use crate::resources::updates::{self, Updates};
use crate::resources::upsert::{fixed, found_visible, Keyed, Saved};
use crate::resources::{current_record, optional_patch, required_patch, TransitionRequest};
use crate::resources::{ForeignKey, StoreErrors};
use crate::server::state::AppState;

pub use catalyst_api::trials::*;

pub const TAG: &str = "trials";

impl crate::extract::id_path::RecordId for catalyst_domain::TrialId {
    const RECORD: &'static str = "trial";
}

const ENTITY: &str = "trials";

pub(super) const OUTCOMES: &str = "outcomes";

/// When a trial is no longer public (or changes hands), those who lose sight of it get
/// tombstones for it and its outcomes, before the update that the remaining readers see.
fn withdraw(connection: &mut DbConnection, trial: &Trial, from: Audience) -> Result<(), ApiError> {
    crate::resources::audit::announce(
        connection,
        ENTITY,
        &trial.id.to_string(),
        trial.version,
        from,
        Operation::Delete,
        None,
    )?;
    announce_outcomes(connection, trial, Operation::Delete, from)
}

/// A trial's outcomes follow the trial's readers: when those change, the outcomes are put in the
/// feed again for the new readers (or withdrawn from the old).
fn announce_outcomes(
    connection: &mut DbConnection,
    trial: &Trial,
    operation: Operation,
    audience: Audience,
) -> Result<(), ApiError> {
    for outcome in outcome_store::all_of_trial(connection, trial.id)? {
        crate::resources::audit::announce_resource(
            connection,
            OUTCOMES,
            &outcome.id.to_string(),
            outcome.version,
            audience,
            operation,
            &OutcomeResource::from(&outcome),
        )?;
    }
    Ok(())
}

pub fn visibility(actor: &Actor) -> TrialVisibility {
    if actor.sees_everything() {
        TrialVisibility::Everything
    } else {
        TrialVisibility::PublicAnd(actor.member_organisations())
    }
}

const STORE_ERRORS: StoreErrors = StoreErrors {
    record: "trial",
    duplicate: None,
    foreign_key: ForeignKey::Unexpected,
};

pub(super) fn map_store_error(error: StoreError) -> ApiError {
    STORE_ERRORS.map(error)
}

/// The host is a public body; the award, when given, exists (its supplier is the trial's).
fn check_references(
    connection: &mut DbConnection,
    host: OrganisationId,
    award: Option<AwardId>,
) -> Result<Option<OrganisationId>, ApiError> {
    let mut errors = ValidationErrors::default();
    match organisations::find(connection, host) {
        Ok(organisation) if organisation.fields.kind.is_public_body() => {}
        Ok(organisation) => errors.push(FieldViolation::new(
            "host_organisation_id",
            "not_public_body",
            format!(
                "a trial is hosted by a public body; this organisation is {}",
                organisation.fields.kind
            ),
        )),
        Err(StoreError::NotFound) => errors.push(FieldViolation::new(
            "host_organisation_id",
            "not_found",
            "no organisation has this id",
        )),
        Err(error) => return Err(error.into()),
    }
    let supplier = match award {
        None => None,
        Some(award) => match awards::find(connection, award) {
            Ok(award) => Some(award.fields.supplier_organisation_id),
            Err(StoreError::NotFound) => {
                errors.push(FieldViolation::new(
                    "award_id",
                    "not_found",
                    "no award has this id",
                ));
                None
            }
            Err(error) => return Err(error.into()),
        },
    };
    errors.into_result(supplier).map_err(Into::into)
}

creates::create_endpoint! {
    /// Start recording a trial (the host's officers or programme staff).
    create_trial: Trial, "/trials", tag = TAG, body = CreateTrial, created = "Created, planned",
    resource = TrialResource, location = "The trial's URL"
}

impl Creates for Trial {
    type Parent = ();
    type Body = CreateTrial;
    type Checked = (TrialFields, Vec<ExternalId>);

    fn checked(actor: &Actor, (): (), body: CreateTrial) -> Result<Self::Checked, ApiError> {
        actor.signed_in()?;
        let (fields, external_ids) = body.validate()?;
        actor.may_manage_challenges_of(fields.host_organisation_id)?;
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

/// Trials you may see.
#[utoipa::path(
    tag = TAG, operation_id = "list_trials", params(ListTrialsParams),
    responses((status = 200, description = "A page of trials", body = TrialList))
)]
#[get("/trials")]
pub async fn list_trials(
    request: HttpRequest,
    caller: CallerToken,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut list = ListRequest::parse(
        &request,
        &[(TrialSortField::CreatedAt, Direction::Ascending)],
    )?;
    let filter = TrialFilter {
        host_organisation_id: list.id_filter("host_id"),
        supplier_organisation_id: list.id_filter("supplier_id"),
        status: list.enum_filter("status", TrialStatus::expected),
        adopted: list.enum_filter("adopted", || "true, false".to_owned()),
        updated_since: list.updated_since(),
    };
    list.answer::<TrialList>(
        &request,
        &state,
        ListReads::ReplicaForAnonymous,
        caller,
        move |connection, actor, sort, after, limit| {
            let seen = visibility(actor);
            Ok(store::list(connection, &seen, &filter, sort, after, limit)?)
        },
    )
    .await
}

reads::get_endpoint! {
    /// Get a trial.
    get_trial: Trials, "/trials/{id}", tag = TAG, reader = CallerToken,
    found = "The trial", body = TrialResource,
    missing = "No such trial, or not one you may see"
}

updates::update_endpoint! {
    /// Update a trial, its result included.
    update_trial: Trials, "/trials/{id}", tag = TAG, patch = UpdateTrial,
    updated = "The updated trial", body = TrialResource, missing = "No such trial"
}

impl Updates for Trials {
    type Patch = UpdateTrial;
    type Change = (TrialFields, Vec<ExternalId>);

    fn patched(
        _connection: &mut DbConnection,
        actor: &Actor,
        current: &Trial,
        patch: UpdateTrial,
    ) -> Result<Self::Change, ApiError> {
        actor.may_manage_challenges_of(current.fields.host_organisation_id)?;
        let old = &current.fields;
        let mut errors = ValidationErrors::default();
        let fields = TrialFields {
            title: required_patch(&patch.title, &old.title, "title", &mut errors),
            sites: optional_patch(&patch.sites, &Some(old.sites.clone())).unwrap_or_default(),
            units: optional_patch(&patch.units, &old.units),
            unit_label: optional_patch(&patch.unit_label, &old.unit_label),
            starts_on: optional_patch(&patch.starts_on, &old.starts_on),
            ends_on: optional_patch(&patch.ends_on, &old.ends_on),
            public: required_patch(&patch.public, &old.public, "public", &mut errors),
            result: optional_patch(&patch.result, &old.result),
            adopted: optional_patch(&patch.adopted, &old.adopted),
            follow_on_value: optional_patch(&patch.follow_on_value, &old.follow_on_value),
            ..old.clone()
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
        current: Trial,
        (fields, external_ids): Self::Change,
    ) -> Result<Trial, ApiError> {
        Ok(replace(connection, audit, current, fields, external_ids)?.record())
    }
}

transitions::transition_endpoint! {
    /// Move a trial: planned → live → completed, or stopped.
    transition_trial: Trials, "/trials/{id}/transitions", tag = TAG, body = TransitionRequest,
    moved = "The trial in its new status", resource = TrialResource,
    missing = "No such trial", refused = "The move is not allowed from the current status"
}

/// Trials: public once under way; planned ones are seen by their parties.
pub struct Trials;

impl Readable for Trials {
    type Id = TrialId;
    type Seen = TrialVisibility;
    type Found = Trial;

    fn may_read(actor: &Actor) -> Result<(), ApiError> {
        reads::anyone(actor)
    }

    fn seen(actor: &Actor) -> TrialVisibility {
        visibility(actor)
    }

    fn find(
        connection: &mut DbConnection,
        id: TrialId,
        seen: &TrialVisibility,
    ) -> Result<Trial, ApiError> {
        store::find_visible(connection, id, seen).map_err(map_store_error)
    }
}

/// A trial's moves: its host's officers (or programme staff) make them.
impl Moves for Trials {
    type Status = TrialStatus;
    type Body = TransitionRequest;
    type Moved = Trial;

    fn target(body: &TransitionRequest) -> &str {
        &body.to
    }

    fn may_move(actor: &Actor, current: &Trial, _to: TrialStatus) -> Result<(), ApiError> {
        Ok(actor.may_manage_challenges_of(current.fields.host_organisation_id)?)
    }

    fn apply(
        connection: &mut DbConnection,
        audit: &AuditContext,
        current: Trial,
        to: TrialStatus,
        _body: &TransitionRequest,
    ) -> Result<Trial, ApiError> {
        let status = current.status.transition(to)?;
        let updated = Trial {
            status,
            ..current.next_version(Timestamp::now())
        };
        store::update(connection, &updated, current.version).map_err(map_store_error)?;
        audit.record_updated(connection, &current, &updated)?;
        Ok(updated)
    }

    fn respond(moved: Trial) -> HttpResponse {
        current_record(&moved)
    }
}

reads::history_endpoint! {
    /// A trial's recorded changes, oldest first.
    list_trial_history: Trials, "/trials/{id}/history", tag = TAG, reader = CallerToken,
    missing = "No such trial"
}

/// Stores a new trial with its audit record.
fn insert_new(
    connection: &mut DbConnection,
    audit: &AuditContext,
    fields: TrialFields,
    external_ids: Vec<ExternalId>,
) -> Result<Trial, ApiError> {
    let supplier = check_references(connection, fields.host_organisation_id, fields.award_id)?;
    let now = Timestamp::now();
    let trial = Trial {
        id: TrialId::generate(),
        fields,
        supplier_organisation_id: supplier,
        status: TrialStatus::INITIAL,
        external_ids,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    store::insert(connection, &trial).map_err(map_store_error)?;
    audit.record_created(connection, &trial)?;
    Ok(trial)
}

/// Replaces a trial's fields and external ids as the next version, with its audit record (and
/// its outcomes re-announced or withdrawn when who may see it changes); nothing when nothing
/// changed.
fn replace(
    connection: &mut DbConnection,
    audit: &AuditContext,
    current: Trial,
    fields: TrialFields,
    external_ids: Vec<ExternalId>,
) -> Result<Saved<Trial>, ApiError> {
    if fields == current.fields && external_ids == current.external_ids {
        return Ok(Saved::Unchanged(current));
    }
    let updated = Trial {
        fields,
        external_ids,
        ..current.next_version(Timestamp::now())
    };
    store::update_with_keys(connection, &updated, &current).map_err(map_store_error)?;
    let (was, now) = (current.audience(), updated.audience());
    if !was.within(&now) {
        withdraw(connection, &current, was)?;
    }
    audit.record_updated(connection, &current, &updated)?;
    if was != now {
        announce_outcomes(connection, &updated, Operation::Update, now)?;
    }
    Ok(Saved::Updated(updated))
}

impl Keyed for Trial {
    const NOUN: &'static str = "trial";
    type Body = CreateTrial;
    type Checked = TrialFields;

    crate::keyed_record_fields!();

    fn check(body: CreateTrial) -> Result<(TrialFields, Vec<ExternalId>), ApiError> {
        body.validate().map_err(ApiError::from)
    }
    fn find_by_key(
        connection: &mut DbConnection,
        key: &ExternalId,
        actor: &Actor,
    ) -> Result<Option<Self>, ApiError> {
        found_visible(
            store::find_by_external_id(connection, &key.source, &key.id),
            key,
            |record| store::find_visible(connection, record.id, &visibility(actor)),
        )
    }
    fn save(
        connection: &mut DbConnection,
        actor: &Actor,
        audit: &AuditContext,
        existing: Option<Self>,
        fields: TrialFields,
        external_ids: Vec<ExternalId>,
    ) -> Result<Saved<Self>, ApiError> {
        let Some(current) = existing else {
            actor.may_manage_challenges_of(fields.host_organisation_id)?;
            let trial = insert_new(connection, audit, fields, external_ids)?;
            return Ok(Saved::Created(trial));
        };
        actor.may_manage_challenges_of(current.fields.host_organisation_id)?;
        let old = &current.fields;
        let mut errors = ValidationErrors::default();
        fixed(
            &fields.host_organisation_id,
            &old.host_organisation_id,
            "host_organisation_id",
            "a trial stays with its host",
            &mut errors,
        );
        fixed(
            &fields.award_id,
            &old.award_id,
            "award_id",
            "a trial stays with its award",
            &mut errors,
        );
        errors.into_result(())?;
        // The result is recorded by PATCH; a whole trial as POST takes it keeps it.
        let fields = TrialFields {
            result: old.result.clone(),
            adopted: old.adopted,
            follow_on_value: old.follow_on_value,
            ..fields
        };
        replace(connection, audit, current, fields, external_ids)
    }
}

crate::by_external_id_handlers!(
    record: Trial, body: CreateTrial, resource: TrialResource,
    path: "/trials/by-external-id/{source}/{id}",
    get_security: ((), ("bearer" = [])),
    get: get_trial_by_external_id, "Get a trial by a partner's key for it.",
    put: upsert_trial_by_external_id, "Create or replace a trial by a partner's key for it."
);

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config
        .service(get_trial_by_external_id)
        .service(upsert_trial_by_external_id)
        .service(create_trial)
        .service(list_trials)
        .service(get_trial)
        .service(update_trial)
        .service(transition_trial)
        .service(list_trial_history)
        .configure(super::outcomes::routes);
}

crate::audited!(Trial: ENTITY, TrialResource, audience = |record| record.audience());
