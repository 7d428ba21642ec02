//! Phases of a challenge: `/api/v1/challenges/{id}/phases` and `/api/v1/phases`. A phase is
//! seen by whoever may see its challenge and managed by whoever manages it.

use actix_web::{delete, get, patch, post, put, web, HttpRequest, HttpResponse};
use catalyst_domain::{
    Actor, Challenge, ChallengeId, ChallengeStatus, ExternalId, FieldViolation, Lifecycle, Phase,
    PhaseFields, PhaseId, PhaseKind, PhaseStatus, Timestamp, ValidationErrors, Versioned,
};
use catalyst_persistence::challenges::{self as challenge_store, Visibility};
use catalyst_persistence::keyset::Direction;
use catalyst_persistence::phases::{self as store, PhaseFilter, PhaseSortField};
use catalyst_persistence::{DbConnection, StoreError};

use crate::auth::CallerToken;
use crate::extract::lists::{list_endpoints, ListReads, ListRequest};
use crate::problem::ApiError;
use crate::resources::audit::AuditContext;
use crate::resources::challenges::visibility;
use crate::resources::creates::{self, Creates};
use crate::resources::deletes::{self, Deletes};
use crate::resources::reads::{self, Readable};
use crate::resources::transitions::{self, Moves};
use crate::resources::updates::{self, Updates};
use crate::resources::upsert::{fixed, found_visible, Keyed, Saved};
use crate::resources::{current_record, optional_patch, required_patch, TransitionRequest};
use crate::resources::{ForeignKey, StoreErrors, UniqueMember};
use crate::server::state::AppState;
use catalyst_domain::Audience;

pub use catalyst_api::phases::*;

pub const TAG: &str = "phases";

impl crate::extract::id_path::RecordId for catalyst_domain::PhaseId {
    const RECORD: &'static str = "phase";
}

pub const ENTITY: &str = "phases";

const STORE_ERRORS: StoreErrors = StoreErrors {
    record: "phase",
    duplicate: Some(UniqueMember {
        member: "number",
        detail: "the challenge already has a phase with this number",
    }),
    foreign_key: ForeignKey::Unexpected,
};

fn map_store_error(error: StoreError) -> ApiError {
    STORE_ERRORS.map(error)
}

/// The phase and its challenge, if the caller may see them.
fn find_visible(
    connection: &mut DbConnection,
    id: PhaseId,
    seen: &Visibility,
) -> Result<(Phase, Challenge), ApiError> {
    let phase = store::find(connection, id).map_err(map_store_error)?;
    let challenge = challenge_store::find_visible(connection, phase.fields.challenge_id, seen)
        .map_err(|_| ApiError::NotFound("no such phase".to_owned()))?;
    Ok((phase, challenge))
}

/// Rules that need the other phases: dates in order with the phases either side, and no new
/// phases on a finished challenge.
fn check_against_others(
    connection: &mut DbConnection,
    fields: &PhaseFields,
    challenge: &Challenge,
) -> Result<(), ApiError> {
    if matches!(
        challenge.status,
        ChallengeStatus::Completed | ChallengeStatus::Cancelled
    ) {
        return Err(ApiError::rule(
            None,
            "challenge_closed",
            format!(
                "the challenge is {}: its phases can no longer change",
                challenge.status
            ),
        ));
    }
    let previous = store::find_by_number(connection, fields.challenge_id, fields.number - 1)?;
    fields.check_order_after(previous.as_ref().map(|phase| &phase.fields))?;
    if let Some(next) = store::find_by_number(connection, fields.challenge_id, fields.number + 1)? {
        next.fields.check_order_after(Some(fields)).map_err(|_| {
            ApiError::Validation(
                FieldViolation::new(
                    "starts_on",
                    "after_next_phase",
                    format!(
                        "phase {} must start before phase {} starts",
                        fields.number, next.fields.number
                    ),
                )
                .into(),
            )
        })?;
    }
    Ok(())
}

creates::create_endpoint! {
    /// Add a phase to a challenge (programme staff, or an officer of the owning body).
    create_phase: Phase, "/challenges/{id}/phases", under ChallengeId, tag = TAG,
    body = CreatePhase, created = "Created, planned", resource = PhaseResource,
    location = "The phase's URL", errors = [
        (status = 404, description = "No such challenge"),
        (status = 409, description = "The number is taken, or the challenge is finished"),
    ]
}

impl Creates for Phase {
    type Parent = ChallengeId;
    type Body = CreatePhase;
    type Checked = Phase;

    fn checked(
        actor: &Actor,
        challenge: ChallengeId,
        body: CreatePhase,
    ) -> Result<Phase, ApiError> {
        actor.signed_in()?;
        let (fields, external_ids) = body.validate(Some(challenge))?;
        Ok(Phase {
            external_ids,
            ..Phase::create(fields, Timestamp::now())
        })
    }
    fn insert(
        connection: &mut DbConnection,
        actor: &Actor,
        audit: &AuditContext,
        phase: Phase,
    ) -> Result<Self, ApiError> {
        insert_new(connection, actor, audit, &phase, &visibility(actor))?;
        Ok(phase)
    }
}

async fn list(
    request: HttpRequest,
    caller: CallerToken,
    state: web::Data<AppState>,
    challenge: Option<ChallengeId>,
) -> Result<HttpResponse, ApiError> {
    let mut list = ListRequest::parse(&request, &[(PhaseSortField::Number, Direction::Ascending)])?;
    let filter = PhaseFilter {
        challenge_id: challenge.or_else(|| list.id_filter("challenge_id")),
        status: list.enum_filter("status", PhaseStatus::expected),
        kind: list.enum_filter("kind", PhaseKind::expected),
        updated_since: list.updated_since(),
    };
    list.answer::<PhaseList>(
        &request,
        &state,
        ListReads::ReplicaForAnonymous,
        caller,
        move |connection, actor, sort, after, limit| {
            let seen = visibility(actor);
            if let Some(challenge) = challenge {
                challenge_store::find_visible(connection, challenge, &seen)
                    .map_err(|_| ApiError::NotFound("no such challenge".to_owned()))?;
            }
            Ok(store::list(connection, &seen, &filter, sort, after, limit)?)
        },
    )
    .await
}

list_endpoints! {
    tag = TAG, serve = list, params = ListPhasesParams, body = PhaseList, page = "A page of phases";
    /// A challenge's phases, by number.
    list_challenge_phases: "/challenges/{id}/phases", under ChallengeId, missing = "No such challenge";
    /// Phases you may see, across challenges.
    list_phases: "/phases";
}

reads::get_endpoint! {
    /// Get a phase.
    get_phase: Phases, "/phases/{id}", tag = TAG, reader = CallerToken,
    found = "The phase", body = PhaseResource,
    missing = "No such phase"
}

updates::update_endpoint! {
    /// Update a phase.
    update_phase: Phases, "/phases/{id}", tag = TAG, patch = UpdatePhase,
    updated = "The updated phase", body = PhaseResource, missing = "No such phase",
    refused = "The challenge is finished"
}

impl Updates for Phases {
    type Patch = UpdatePhase;
    type Change = (PhaseFields, Vec<ExternalId>);

    fn patched(
        _connection: &mut DbConnection,
        actor: &Actor,
        (current, challenge): &(Phase, Challenge),
        patch: UpdatePhase,
    ) -> Result<Self::Change, ApiError> {
        actor.may_manage_challenges_of(challenge.fields.owner_organisation_id)?;
        let old = &current.fields;
        let mut errors = ValidationErrors::default();
        let fields = PhaseFields {
            challenge_id: old.challenge_id,
            number: old.number,
            kind: required_patch(&patch.kind, &old.kind, "kind", &mut errors),
            budget: required_patch(&patch.budget, &old.budget, "budget", &mut errors),
            max_award: required_patch(&patch.max_award, &old.max_award, "max_award", &mut errors),
            max_suppliers: optional_patch(&patch.max_suppliers, &old.max_suppliers),
            starts_on: optional_patch(&patch.starts_on, &old.starts_on),
            ends_on: optional_patch(&patch.ends_on, &old.ends_on),
            open_to_all: required_patch(
                &patch.open_to_all,
                &old.open_to_all,
                "open_to_all",
                &mut errors,
            ),
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
        (current, challenge): (Phase, Challenge),
        (fields, external_ids): Self::Change,
    ) -> Result<(Phase, Challenge), ApiError> {
        let phase = replace(connection, audit, current, &challenge, fields, external_ids)?;
        Ok((phase.record(), challenge))
    }
}

transitions::transition_endpoint! {
    /// Move a phase to another status: planned → open → assessing → in_delivery → completed, or
    /// cancelled before completion. Any other move is 409 with `allowed_transitions`.
    transition_phase: Phases, "/phases/{id}/transitions", tag = TAG, body = TransitionRequest,
    moved = "The phase in its new status", resource = PhaseResource,
    missing = "No such phase", refused = "The move is not allowed from the current status"
}

/// Phases: seen with their challenge (public once it is published).
pub struct Phases;

impl Readable for Phases {
    type Id = PhaseId;
    type Seen = Visibility;
    type Found = (Phase, Challenge);

    fn may_read(actor: &Actor) -> Result<(), ApiError> {
        reads::anyone(actor)
    }

    fn seen(actor: &Actor) -> Visibility {
        visibility(actor)
    }

    fn find(
        connection: &mut DbConnection,
        id: PhaseId,
        seen: &Visibility,
    ) -> Result<(Phase, Challenge), ApiError> {
        find_visible(connection, id, seen)
    }
}

impl Deletes for Phases {
    fn may_delete(actor: &Actor, (_, challenge): &(Phase, Challenge)) -> Result<(), ApiError> {
        Ok(actor.may_manage_challenges_of(challenge.fields.owner_organisation_id)?)
    }

    fn must_stay((current, _): &(Phase, Challenge)) -> Result<(), ApiError> {
        if current.status == PhaseStatus::INITIAL {
            return Ok(());
        }
        Err(ApiError::rule(
            None,
            "not_planned",
            format!(
                "the phase is {}: only a planned phase can be deleted; cancel it instead",
                current.status
            ),
        ))
    }

    fn audience((_, challenge): &(Phase, Challenge)) -> Audience {
        challenge.audience()
    }

    fn delete_row(
        connection: &mut DbConnection,
        _audit: &AuditContext,
        (current, _): &(Phase, Challenge),
    ) -> Result<(), ApiError> {
        store::delete(connection, current.id, current.version).map_err(map_store_error)
    }
}

/// A phase's moves: its challenge's owner (or programme staff) makes them.
impl Moves for Phases {
    type Status = PhaseStatus;
    type Body = TransitionRequest;
    type Moved = Phase;

    fn target(body: &TransitionRequest) -> &str {
        &body.to
    }

    fn may_move(
        actor: &Actor,
        current: &(Phase, Challenge),
        _to: PhaseStatus,
    ) -> Result<(), ApiError> {
        Ok(actor.may_manage_challenges_of(current.1.fields.owner_organisation_id)?)
    }

    fn apply(
        connection: &mut DbConnection,
        audit: &AuditContext,
        (current, challenge): (Phase, Challenge),
        to: PhaseStatus,
        _body: &TransitionRequest,
    ) -> Result<Phase, ApiError> {
        let status = current.status.transition(to)?;
        let updated = Phase {
            status,
            ..current.next_version(Timestamp::now())
        };
        store::update(connection, &updated, current.version).map_err(map_store_error)?;
        audit.record_updated_for(connection, &current, &updated, challenge.audience())?;
        Ok(updated)
    }

    fn respond(moved: Phase) -> HttpResponse {
        current_record(&moved)
    }
}

deletes::delete_endpoint! {
    /// Delete a phase while it is planned.
    delete_phase: Phases, "/phases/{id}", tag = TAG,
    missing = "No such phase",
    refused = "The phase is past planned"
}

reads::history_endpoint! {
    /// A phase's recorded changes, oldest first.
    list_phase_history: Phases, "/phases/{id}/history", tag = TAG, reader = CallerToken,
    missing = "No such phase"
}

/// Stores a new phase of a challenge the actor may see and manage, with its audit record.
fn insert_new(
    connection: &mut DbConnection,
    actor: &Actor,
    audit: &AuditContext,
    phase: &Phase,
    seen: &Visibility,
) -> Result<(), ApiError> {
    let challenge = challenge_store::find_visible(connection, phase.fields.challenge_id, seen)
        .map_err(|_| ApiError::NotFound("no such challenge".to_owned()))?;
    actor.may_manage_challenges_of(challenge.fields.owner_organisation_id)?;
    check_against_others(connection, &phase.fields, &challenge)?;
    store::insert(connection, phase).map_err(map_store_error)?;
    audit.record_created_for(connection, phase, challenge.audience())
}

/// Replaces a phase's fields and external ids under the rules of a change (nothing is written
/// when they are the same).
fn replace(
    connection: &mut DbConnection,
    audit: &AuditContext,
    current: Phase,
    challenge: &Challenge,
    fields: PhaseFields,
    external_ids: Vec<ExternalId>,
) -> Result<Saved<Phase>, ApiError> {
    if fields == current.fields && external_ids == current.external_ids {
        return Ok(Saved::Unchanged(current));
    }
    if fields.budget.currency() != current.committed.currency()
        || fields.budget.minor_units() < current.committed.minor_units()
    {
        return Err(ApiError::rule(
            Some("#/budget"),
            "below_committed",
            format!(
                "the budget cannot go below the {} already awarded",
                current.committed
            ),
        ));
    }
    check_against_others(connection, &fields, challenge)?;
    let updated = Phase {
        fields,
        external_ids,
        ..current.next_version(Timestamp::now())
    };
    store::update_with_keys(connection, &updated, &current).map_err(map_store_error)?;
    audit.record_updated_for(connection, &current, &updated, challenge.audience())?;
    Ok(Saved::Updated(updated))
}

impl Keyed for Phase {
    const NOUN: &'static str = "phase";
    type Body = CreatePhase;
    type Checked = PhaseFields;

    crate::keyed_record_fields!();

    fn check(body: CreatePhase) -> Result<(PhaseFields, Vec<ExternalId>), ApiError> {
        body.validate(None).map_err(ApiError::from)
    }
    fn find_by_key(
        connection: &mut DbConnection,
        key: &ExternalId,
        actor: &Actor,
    ) -> Result<Option<Self>, ApiError> {
        found_visible(
            store::find_by_external_id(connection, &key.source, &key.id),
            key,
            |record| {
                find_visible(connection, record.id, &visibility(actor)).map(|(phase, _)| phase)
            },
        )
    }
    fn save(
        connection: &mut DbConnection,
        actor: &Actor,
        audit: &AuditContext,
        existing: Option<Self>,
        fields: PhaseFields,
        external_ids: Vec<ExternalId>,
    ) -> Result<Saved<Self>, ApiError> {
        let seen = visibility(actor);
        let Some(current) = existing else {
            let phase = Phase {
                external_ids,
                ..Phase::create(fields, Timestamp::now())
            };
            insert_new(connection, actor, audit, &phase, &seen)?;
            return Ok(Saved::Created(phase));
        };
        let (current, challenge) = find_visible(connection, current.id, &seen)?;
        actor.may_manage_challenges_of(challenge.fields.owner_organisation_id)?;
        let mut errors = ValidationErrors::default();
        fixed(
            &fields.challenge_id,
            &current.fields.challenge_id,
            "challenge_id",
            "a phase stays in its challenge",
            &mut errors,
        );
        fixed(
            &fields.number,
            &current.fields.number,
            "number",
            "a phase keeps its number",
            &mut errors,
        );
        errors.into_result(())?;
        replace(connection, audit, current, &challenge, fields, external_ids)
    }
}

crate::by_external_id_handlers!(
    record: Phase, body: CreatePhase, resource: PhaseResource,
    path: "/phases/by-external-id/{source}/{id}",
    get_security: ((), ("bearer" = [])),
    get: get_phase_by_external_id, "Get a phase by a partner's key for it.",
    put: upsert_phase_by_external_id, "Create or replace a phase by a partner's key for it."
);

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config
        .service(get_phase_by_external_id)
        .service(upsert_phase_by_external_id)
        .service(list_challenge_phases)
        .service(create_phase)
        .service(list_phases)
        .service(get_phase)
        .service(update_phase)
        .service(delete_phase)
        .service(transition_phase)
        .service(list_phase_history);
}

crate::audited!(Phase: ENTITY, PhaseResource);
