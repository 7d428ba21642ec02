//! Awards (contracts): `/api/v1/phases/{id}/awards` and `/api/v1/awards`. Public records. Made by
//! the challenge owner's officers or programme staff from a successful application, within the
//! phase's budget and cap per supplier, with explicit lineage to the earlier phase.

use actix_web::{get, patch, post, put, web, HttpRequest, HttpResponse};
use catalyst_domain::Audience;
use catalyst_domain::{
    Actor, ApplicationId, ApplicationStatus, Award, AwardFields, AwardId, AwardStatus, ExternalId,
    FieldViolation, Lifecycle, Money, PhaseId, PhaseStatus, Timestamp, ValidationErrors, Versioned,
};
use catalyst_persistence::awards::{self as store, AwardFilter, AwardSortField};
use catalyst_persistence::keyset::Direction;
use catalyst_persistence::{applications, challenges, phases, DbConnection, StoreError};

use crate::auth::Anyone;
use crate::extract::id_path::IdPath;
use crate::extract::lists::{ListReads, ListRequest};
use crate::problem::ApiError;
use crate::resources::audit::AuditContext;
use crate::resources::creates::{self, Creates};
use crate::resources::reads::{self, Readable};
use crate::resources::transitions::{self, Moves};
use crate::resources::updates::{self, Updates};
use crate::resources::upsert::{fixed, found, CreatedInBulk, Keyed, Saved};
use crate::resources::{
    current_record, field_id, optional_patch, required_patch, TransitionRequest,
};
use crate::resources::{ForeignKey, StoreErrors, UniqueMember};
use crate::server::state::AppState;

pub use catalyst_api::awards::*;

pub const TAG: &str = "awards";

impl crate::extract::id_path::RecordId for catalyst_domain::AwardId {
    const RECORD: &'static str = "award";
}

const ENTITY: &str = "awards";

const STORE_ERRORS: StoreErrors = StoreErrors {
    record: "award",
    duplicate: Some(UniqueMember {
        member: "application_id",
        detail: "this application has been awarded already",
    }),
    foreign_key: ForeignKey::Unexpected,
};

fn map_store_error(error: StoreError) -> ApiError {
    STORE_ERRORS.map(error)
}

/// Every rule of a new award, then the budget claimed and the award stored, in one transaction.
fn award(
    connection: &mut DbConnection,
    caller: &Actor,
    phase_id: PhaseId,
    body: CreateAward,
    external_ids: Vec<ExternalId>,
    audit: &AuditContext,
) -> Result<Award, ApiError> {
    let award = new_award(connection, caller, phase_id, body, external_ids)?;
    // The budget is claimed by one conditional UPDATE: of two servers awarding the last of it at
    // once, the second finds nothing left.
    if !phases::commit(
        connection,
        phase_id,
        award.fields.amount.minor_units(),
        award.created_at,
    )? {
        let current = phases::find(connection, phase_id)?;
        let violation = current
            .budget_check()
            .admits(award.fields.amount)
            .err()
            .unwrap_or_else(|| {
                FieldViolation::new(
                    "amount",
                    "exceeds_phase_budget",
                    "the phase's budget is spent",
                )
            });
        return Err(ApiError::rule(
            Some(&violation.pointer),
            &violation.code,
            violation.detail,
        ));
    }
    store::insert(connection, &award).map_err(map_store_error)?;
    audit.record_created(connection, &award)?;
    Ok(award)
}

/// A new award after every rule that reads the database (the phase, its challenge, the
/// application, the supplier's award in the phase before); its budget is not claimed yet.
fn new_award(
    connection: &mut DbConnection,
    caller: &Actor,
    phase_id: PhaseId,
    body: CreateAward,
    external_ids: Vec<ExternalId>,
) -> Result<Award, ApiError> {
    let phase = phases::find(connection, phase_id)
        .map_err(|_| ApiError::NotFound("no such phase".to_owned()))?;
    let challenge = challenges::find(connection, phase.fields.challenge_id)?;
    if !challenge.is_published()
        && !caller.sees_everything()
        && !caller.acts_for(challenge.fields.owner_organisation_id)
    {
        return Err(ApiError::NotFound("no such phase".to_owned()));
    }
    caller.may_manage_challenges_of(challenge.fields.owner_organisation_id)?;
    if !matches!(
        phase.status,
        PhaseStatus::Open | PhaseStatus::Assessing | PhaseStatus::InDelivery
    ) {
        return Err(ApiError::rule(
            None,
            "phase_not_awarding",
            format!(
                "the phase is {}: awards are made while it is open, assessing or in delivery",
                phase.status
            ),
        ));
    }
    let application_id: ApplicationId = field_id(&body.application_id, "application_id")?;
    let application =
        applications::find(connection, application_id).map_err(|error| match error {
            StoreError::NotFound => ApiError::Validation(
                FieldViolation::new("application_id", "not_found", "no application has this id")
                    .into(),
            ),
            other => other.into(),
        })?;
    if application.fields.phase_id != phase_id {
        return Err(ApiError::rule(
            Some("#/application_id"),
            "application_of_another_phase",
            "an award is made from an application to this phase".to_owned(),
        ));
    }
    if application.status != ApplicationStatus::Successful {
        return Err(ApiError::rule(
            Some("#/application_id"),
            "application_not_successful",
            format!(
                "the application is {}: only a successful one can be awarded",
                application.status
            ),
        ));
    }
    let supplier = application.fields.supplier_organisation_id;
    let given_parent = body
        .parent_award_id
        .as_deref()
        .map(|id| field_id::<AwardId>(id, "parent_award_id"))
        .transpose()?;
    // Lineage: the supplier's award in the phase before, linked by id, never matched by name.
    let earlier = if phase.fields.number > 1 {
        match phases::find_by_number(connection, challenge.id, phase.fields.number - 1)? {
            Some(previous) => store::find_for_supplier(connection, previous.id, supplier)?,
            None => None,
        }
    } else {
        None
    };
    let parent = match (given_parent, &earlier) {
        (Some(given), Some(earlier)) if given == earlier.id => Some(given),
        (Some(_), _) => {
            return Err(ApiError::Validation(
                FieldViolation::new(
                    "parent_award_id",
                    "not_earlier_award",
                    "parent_award_id must be this supplier's award in the phase before",
                )
                .into(),
            ))
        }
        (None, Some(earlier)) => Some(earlier.id),
        (None, None) if phase.fields.open_to_all => None,
        (None, None) => {
            return Err(ApiError::rule(
                None,
                "no_earlier_award",
                format!(
                    "phase {} is not open to all: the supplier needs an award in phase {} first",
                    phase.fields.number,
                    phase.fields.number - 1
                ),
            ))
        }
    };
    let fields = AwardFields {
        phase_id,
        application_id,
        supplier_organisation_id: supplier,
        contract_reference: body.contract_reference,
        amount: body.amount,
        vat_included: body.vat_included,
        starts_on: body.starts_on,
        ends_on: body.ends_on,
        parent_award_id: parent,
    }
    .validate(&phase.fields)?;
    let now = Timestamp::now();
    Ok(Award {
        id: AwardId::generate(),
        paid: Money::zero(fields.amount.currency()),
        fields,
        challenge_id: challenge.id,
        owner_organisation_id: challenge.fields.owner_organisation_id,
        status: AwardStatus::INITIAL,
        external_ids,
        version: 1,
        created_at: now,
        updated_at: now,
    })
}

creates::create_endpoint! {
    /// Award a contract in a phase (the challenge owner's officers or programme staff).
    create_award: Award, "/phases/{id}/awards", under PhaseId, tag = TAG, body = CreateAward,
    created = "Awarded; the phase's committed figure grows", resource = AwardResource,
    location = "The award's URL", errors = [
        (status = 404, description = "No such phase"),
        (status = 409, description = "A rule would be broken: budget, application, lineage or phase status"),
    ]
}

impl Creates for Award {
    type Parent = PhaseId;
    type Body = CreateAward;
    type Checked = (PhaseId, CreateAward, Vec<ExternalId>);

    fn checked(
        actor: &Actor,
        phase: PhaseId,
        body: CreateAward,
    ) -> Result<Self::Checked, ApiError> {
        actor.signed_in()?;
        let (phase_id, external_ids) = body.validate(Some(phase))?;
        Ok((phase_id, body, external_ids))
    }
    fn insert(
        connection: &mut DbConnection,
        actor: &Actor,
        audit: &AuditContext,
        (phase_id, body, external_ids): Self::Checked,
    ) -> Result<Self, ApiError> {
        award(connection, actor, phase_id, body, external_ids, audit)
    }
}

async fn list(
    request: HttpRequest,
    state: web::Data<AppState>,
    phase: Option<PhaseId>,
) -> Result<HttpResponse, ApiError> {
    let mut list = ListRequest::parse(
        &request,
        &[(AwardSortField::CreatedAt, Direction::Ascending)],
    )?;
    let filter = AwardFilter {
        phase_id: phase.or_else(|| list.id_filter("phase_id")),
        // Under a phase, the phase names the challenge: the filter is not taken there.
        challenge_id: phase.map_or_else(|| list.id_filter("challenge_id"), |_| None),
        supplier_organisation_id: list.id_filter("supplier_id"),
        status: list.enum_filter("status", AwardStatus::expected),
        updated_since: list.updated_since(),
    };
    list.answer::<AwardList>(
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

/// A phase's awards.
#[utoipa::path(
    tag = TAG, operation_id = "list_phase_awards",
    params(IdPath<PhaseId>, ListAwardsParams),
    responses((status = 200, description = "A page of awards", body = AwardList))
)]
#[get("/phases/{id}/awards")]
pub async fn list_phase_awards(
    request: HttpRequest,
    IdPath(phase): IdPath<PhaseId>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    list(request, state, Some(phase)).await
}

/// Awards, filtered: `/awards?supplier_id=...&status=active`.
#[utoipa::path(
    tag = TAG, operation_id = "list_awards", params(ListAwardsParams),
    responses((status = 200, description = "A page of awards", body = AwardList))
)]
#[get("/awards")]
pub async fn list_awards(
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    list(request, state, None).await
}

reads::get_endpoint! {
    /// Get an award.
    get_award: Awards, "/awards/{id}", tag = TAG, reader = Anyone,
    found = "The award", body = AwardResource,
    missing = "No such award"
}

updates::update_endpoint! {
    /// Update an award's contract details.
    update_award: Awards, "/awards/{id}", tag = TAG, patch = UpdateAward,
    updated = "The updated award", body = AwardResource, missing = "No such award"
}

impl Updates for Awards {
    type Patch = UpdateAward;
    type Change = (AwardFields, Vec<ExternalId>);

    fn patched(
        connection: &mut DbConnection,
        actor: &Actor,
        current: &Award,
        patch: UpdateAward,
    ) -> Result<Self::Change, ApiError> {
        actor.may_manage_challenges_of(current.owner_organisation_id)?;
        let phase = phases::find(connection, current.fields.phase_id)?;
        let mut errors = ValidationErrors::default();
        let old = &current.fields;
        let fields = AwardFields {
            contract_reference: required_patch(
                &patch.contract_reference,
                &old.contract_reference,
                "contract_reference",
                &mut errors,
            ),
            vat_included: required_patch(
                &patch.vat_included,
                &old.vat_included,
                "vat_included",
                &mut errors,
            ),
            starts_on: optional_patch(&patch.starts_on, &old.starts_on),
            ends_on: optional_patch(&patch.ends_on, &old.ends_on),
            ..old.clone()
        };
        let external_ids = crate::resources::checked_patch_keys(
            &patch.external_ids,
            &current.external_ids,
            errors,
        )?;
        Ok((fields.validate(&phase.fields)?, external_ids))
    }

    fn write(
        connection: &mut DbConnection,
        audit: &AuditContext,
        current: Award,
        (fields, external_ids): Self::Change,
    ) -> Result<Award, ApiError> {
        Ok(write_update(connection, audit, current, fields, external_ids)?.record())
    }
}

transitions::transition_endpoint! {
    /// Move an award: active → completed or terminated.
    transition_award: Awards, "/awards/{id}/transitions", tag = TAG, body = TransitionRequest,
    moved = "The award in its new status", resource = AwardResource,
    missing = "No such award", refused = "The move is not allowed from the current status"
}

/// Awards: public, like the contracts they record.
pub struct Awards;

impl Readable for Awards {
    type Id = AwardId;
    type Seen = ();
    type Found = Award;

    fn may_read(actor: &Actor) -> Result<(), ApiError> {
        reads::anyone(actor)
    }

    fn seen(_actor: &Actor) {}

    fn find(connection: &mut DbConnection, id: AwardId, _seen: &()) -> Result<Award, ApiError> {
        store::find(connection, id).map_err(map_store_error)
    }
}

/// An award's moves: the owner of its challenge (or programme staff) makes them.
impl Moves for Awards {
    type Status = AwardStatus;
    type Body = TransitionRequest;
    type Moved = Award;

    fn target(body: &TransitionRequest) -> &str {
        &body.to
    }

    fn may_move(actor: &Actor, current: &Award, _to: AwardStatus) -> Result<(), ApiError> {
        Ok(actor.may_manage_challenges_of(current.owner_organisation_id)?)
    }

    fn apply(
        connection: &mut DbConnection,
        audit: &AuditContext,
        current: Award,
        to: AwardStatus,
        _body: &TransitionRequest,
    ) -> Result<Award, ApiError> {
        let status = current.status.transition(to)?;
        let updated = Award {
            status,
            ..current.next_version(Timestamp::now())
        };
        store::update(connection, &updated, current.version).map_err(map_store_error)?;
        audit.record_updated(connection, &current, &updated)?;
        Ok(updated)
    }

    fn respond(moved: Award) -> HttpResponse {
        current_record(&moved)
    }
}

reads::history_endpoint! {
    /// An award's recorded changes, oldest first.
    list_award_history: Awards, "/awards/{id}/history", tag = TAG, reader = Anyone,
    missing = "No such award"
}

/// Writes an award's new contract details and external ids as the next version, with its
/// audit record; nothing when nothing changed.
fn write_update(
    connection: &mut DbConnection,
    audit: &AuditContext,
    current: Award,
    fields: AwardFields,
    external_ids: Vec<ExternalId>,
) -> Result<Saved<Award>, ApiError> {
    if fields == current.fields && external_ids == current.external_ids {
        return Ok(Saved::Unchanged(current));
    }
    let updated = Award {
        fields,
        external_ids,
        ..current.next_version(Timestamp::now())
    };
    store::update_with_keys(connection, &updated, &current).map_err(map_store_error)?;
    audit.record_updated(connection, &current, &updated)?;
    Ok(Saved::Updated(updated))
}

/// An award as a partner sends it, checked on its own.
#[derive(Clone)]
pub struct AwardRequest {
    phase_id: PhaseId,
    body: CreateAward,
}

crate::found_by_id!(Award, |connection, id, _actor| store::find(connection, id));

impl Keyed for Award {
    const NOUN: &'static str = "award";
    type Body = CreateAward;
    type Checked = AwardRequest;

    crate::keyed_record_fields!();

    fn check(body: CreateAward) -> Result<(AwardRequest, Vec<ExternalId>), ApiError> {
        // Its terms too: a body wrong in itself is refused before any precondition is weighed.
        let mut errors = ValidationErrors::default();
        catalyst_domain::award::check_terms(
            &body.contract_reference,
            body.starts_on,
            body.ends_on,
            &mut errors,
        );
        let (phase_id, external_ids) = errors.before(body.validate(None))?;
        Ok((AwardRequest { phase_id, body }, external_ids))
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
        request: AwardRequest,
        external_ids: Vec<ExternalId>,
    ) -> Result<Saved<Self>, ApiError> {
        let AwardRequest { phase_id, body } = request;
        let Some(current) = existing else {
            let made = award(connection, actor, phase_id, body, external_ids, audit)?;
            return Ok(Saved::Created(made));
        };
        actor.may_manage_challenges_of(current.owner_organisation_id)?;
        let old = &current.fields;
        let mut errors = ValidationErrors::default();
        fixed(
            &phase_id,
            &old.phase_id,
            "phase_id",
            "an award stays in its phase",
            &mut errors,
        );
        fixed(
            &body.application_id,
            &old.application_id.to_string(),
            "application_id",
            "an award stays with the application it was made from",
            &mut errors,
        );
        fixed(
            &body.amount,
            &old.amount,
            "amount",
            "the amount is fixed once awarded",
            &mut errors,
        );
        if let Some(parent) = &body.parent_award_id {
            fixed(
                &Some(parent.clone()),
                &old.parent_award_id.map(|id| id.to_string()),
                "parent_award_id",
                "an award keeps its lineage",
                &mut errors,
            );
        }
        errors.into_result(())?;
        let phase = phases::find(connection, old.phase_id)?;
        let fields = AwardFields {
            contract_reference: body.contract_reference,
            vat_included: body.vat_included,
            starts_on: body.starts_on,
            ends_on: body.ends_on,
            ..old.clone()
        }
        .validate(&phase.fields)?;
        write_update(connection, audit, current, fields, external_ids)
    }
}

/// An import's new awards are written together: their budget claims summed per phase, each
/// claimed by one conditional UPDATE (if one would overspend, the gathered write is undone and
/// the rows written one at a time, so that the row that overspends is the one refused).
impl CreatedInBulk for Award {
    fn new_record(
        connection: &mut DbConnection,
        actor: &Actor,
        request: AwardRequest,
        external_ids: Vec<ExternalId>,
    ) -> Result<Self, ApiError> {
        new_award(
            connection,
            actor,
            request.phase_id,
            request.body,
            external_ids,
        )
    }
    fn insert_all(connection: &mut DbConnection, records: &[Self]) -> Result<(), ApiError> {
        let mut claims: Vec<(PhaseId, i64, i64)> = Vec::new();
        for award in records {
            let amount = award.fields.amount.minor_units();
            match claims
                .iter_mut()
                .find(|(phase, ..)| *phase == award.fields.phase_id)
            {
                Some((_, total, count)) => {
                    *total = total.checked_add(amount).ok_or(ApiError::Internal)?;
                    *count += 1;
                }
                None => claims.push((award.fields.phase_id, amount, 1)),
            }
        }
        let now = Timestamp::now();
        for (phase, total, count) in claims {
            if !phases::commit_many(connection, phase, total, count, now)? {
                return Err(ApiError::rule(
                    Some("#/amount"),
                    "exceeds_phase_budget",
                    "the phase's budget is spent".to_owned(),
                ));
            }
        }
        Ok(store::insert_all(connection, records)?)
    }
    /// The supplier's award in the phase before is its parent: one gathered for the same
    /// supplier and challenge must be written before this one's lineage is read.
    fn reads_gathered(&self, gathered: &[Self]) -> bool {
        gathered.iter().any(|award| {
            award.challenge_id == self.challenge_id
                && award.fields.supplier_organisation_id == self.fields.supplier_organisation_id
        })
    }
}

crate::by_external_id_handlers!(
    record: Award, body: CreateAward, resource: AwardResource,
    path: "/awards/by-external-id/{source}/{id}",
    get_security: ((), ("bearer" = [])),
    get: get_award_by_external_id, "Get an award by a partner's key for it.",
    put: upsert_award_by_external_id, "Create or replace an award by a partner's key for it."
);

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config
        .service(get_award_by_external_id)
        .service(upsert_award_by_external_id)
        .service(create_award)
        .service(list_phase_awards)
        .service(list_awards)
        .service(get_award)
        .service(update_award)
        .service(transition_award)
        .service(list_award_history);
}

crate::audited!(Award: ENTITY, AwardResource, audience = |_| Audience::Public);
