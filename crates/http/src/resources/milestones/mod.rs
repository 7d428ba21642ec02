//! Milestones of an award: `/api/v1/awards/{id}/milestones` and `/api/v1/milestones`. Seen by the
//! supplier, the challenge owner and programme staff. The supplier invoices; the owner's officers
//! (or programme staff) plan, pay or withhold. Paid milestones never exceed the award.

use actix_web::{delete, get, patch, post, put, web, HttpRequest, HttpResponse};
use catalyst_domain::{
    milestone, Actor, AwardId, ExternalId, FieldViolation, Lifecycle, Milestone, MilestoneFields,
    MilestoneId, MilestoneStatus, Money, Timestamp, ValidationErrors, Versioned,
};
use catalyst_persistence::applications::PrivateVisibility;
use catalyst_persistence::keyset::Direction;
use catalyst_persistence::milestones::{self as store, MilestoneFilter, MilestoneSortField};
use catalyst_persistence::{awards, DbConnection, StoreError};
use chrono::NaiveDate;

use crate::auth::CallerToken;
use crate::extract::conditional::IfMatch;
use crate::extract::lists::{list_endpoints, ListReads, ListRequest};
use crate::problem::ApiError;
use crate::resources::applications::private_visibility;
use crate::resources::audit::AuditContext;
use crate::resources::creates::{self, Creates};
use crate::resources::deletes::{self, Deletes};
use crate::resources::reads::{self, Readable};
use crate::resources::transitions::{self, Moves};
use crate::resources::updates::{self, Updates};
use crate::resources::upsert::{fixed, found_visible, Keyed, Saved};
use crate::resources::{current_record, optional_patch, required_patch};
use crate::resources::{ForeignKey, StoreErrors};
use crate::server::state::AppState;
use catalyst_domain::Audience;

pub use catalyst_api::milestones::*;

pub const TAG: &str = "milestones";

impl crate::extract::id_path::RecordId for catalyst_domain::MilestoneId {
    const RECORD: &'static str = "milestone";
}

const ENTITY: &str = "milestones";

const STORE_ERRORS: StoreErrors = StoreErrors {
    record: "milestone",
    duplicate: None,
    foreign_key: ForeignKey::Unexpected,
};

fn map_store_error(error: StoreError) -> ApiError {
    STORE_ERRORS.map(error)
}

creates::create_endpoint! {
    /// Plan a milestone of an award (the challenge owner's officers or programme staff).
    create_milestone: Milestone, "/awards/{id}/milestones", under AwardId, tag = TAG,
    body = CreateMilestone, created = "Planned", resource = MilestoneResource,
    location = "The milestone's URL", errors = [(status = 404, description = "No such award")]
}

impl Creates for Milestone {
    type Parent = AwardId;
    type Body = CreateMilestone;
    type Checked = (MilestoneFields, Vec<ExternalId>);

    fn checked(
        actor: &Actor,
        award: AwardId,
        body: CreateMilestone,
    ) -> Result<Self::Checked, ApiError> {
        actor.signed_in()?;
        Ok(body.validate(Some(award))?)
    }
    fn insert(
        connection: &mut DbConnection,
        actor: &Actor,
        audit: &AuditContext,
        (fields, external_ids): Self::Checked,
    ) -> Result<Self, ApiError> {
        insert_new(connection, actor, audit, fields, external_ids)
    }
}

async fn list(
    request: HttpRequest,
    caller: CallerToken,
    state: web::Data<AppState>,
    award: Option<AwardId>,
) -> Result<HttpResponse, ApiError> {
    let mut list = ListRequest::parse(
        &request,
        &[(MilestoneSortField::CreatedAt, Direction::Ascending)],
    )?;
    let filter = MilestoneFilter {
        award_id: award.or_else(|| list.id_filter("award_id")),
        status: list.enum_filter("status", MilestoneStatus::expected),
        updated_since: list.updated_since(),
    };
    list.answer::<MilestoneList>(
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
    tag = TAG, serve = list, params = ListMilestonesParams, body = MilestoneList, page = "A page of milestones",
    security = (("bearer" = [])), guard = signed_in;
    /// An award's milestones that you may see.
    list_award_milestones: "/awards/{id}/milestones", under AwardId;
    /// Milestones you may see.
    list_milestones: "/milestones";
}

reads::get_endpoint! {
    /// Get a milestone.
    get_milestone: Milestones, "/milestones/{id}", tag = TAG, reader = CallerToken,
    security = (("bearer" = [])),
    found = "The milestone", body = MilestoneResource,
    missing = "No such milestone, or not yours to see"
}

updates::update_endpoint! {
    /// Update a milestone that is not yet paid.
    update_milestone: Milestones, "/milestones/{id}", tag = TAG, patch = UpdateMilestone,
    updated = "The updated milestone", body = MilestoneResource, missing = "No such milestone",
    refused = "Already paid"
}

impl Updates for Milestones {
    type Patch = UpdateMilestone;
    type Change = (MilestoneFields, Vec<ExternalId>);

    fn patched(
        connection: &mut DbConnection,
        actor: &Actor,
        current: &Milestone,
        patch: UpdateMilestone,
    ) -> Result<Self::Change, ApiError> {
        actor.may_manage_challenges_of(current.owner_organisation_id)?;
        let mut errors = ValidationErrors::default();
        let old = &current.fields;
        let fields = MilestoneFields {
            title: required_patch(&patch.title, &old.title, "title", &mut errors),
            due_on: optional_patch(&patch.due_on, &old.due_on),
            amount: optional_patch(&patch.amount, &old.amount),
            ..old.clone()
        };
        let external_ids = crate::resources::checked_patch_keys(
            &patch.external_ids,
            &current.external_ids,
            errors,
        )?;
        Ok((validated(connection, current, fields)?, external_ids))
    }

    fn write(
        connection: &mut DbConnection,
        audit: &AuditContext,
        current: Milestone,
        (fields, external_ids): Self::Change,
    ) -> Result<Milestone, ApiError> {
        Ok(write_replacement(connection, audit, current, fields, external_ids)?.record())
    }
}

transitions::transition_endpoint! {
    /// Move a milestone: the supplier invoices; the owner pays or withholds. Paying adds the tranche
    /// to the award's paid figure, which can never exceed the award.
    transition_milestone: Milestones, "/milestones/{id}/transitions", tag = TAG, body = MilestoneTransition,
    moved = "The milestone in its new status", resource = MilestoneResource,
    missing = "No such milestone", refused = "The move is not allowed, or paying would exceed the award"
}

/// Milestones: private, like the applications and awards' terms behind them.
pub struct Milestones;

impl Readable for Milestones {
    type Id = MilestoneId;
    type Seen = PrivateVisibility;
    type Found = Milestone;

    fn may_read(actor: &Actor) -> Result<(), ApiError> {
        reads::signed_in(actor)
    }

    fn seen(actor: &Actor) -> PrivateVisibility {
        private_visibility(actor)
    }

    fn find(
        connection: &mut DbConnection,
        id: MilestoneId,
        seen: &PrivateVisibility,
    ) -> Result<Milestone, ApiError> {
        store::find_visible(connection, id, seen).map_err(map_store_error)
    }
}

impl Deletes for Milestones {
    fn may_delete(actor: &Actor, current: &Milestone) -> Result<(), ApiError> {
        Ok(actor.may_manage_challenges_of(current.owner_organisation_id)?)
    }

    fn must_stay(current: &Milestone) -> Result<(), ApiError> {
        if current.status == MilestoneStatus::INITIAL {
            return Ok(());
        }
        Err(ApiError::rule(
            None,
            "not_planned",
            format!(
                "the milestone is {}: only a planned one can be deleted",
                current.status
            ),
        ))
    }

    fn audience(current: &Milestone) -> Audience {
        current.audience()
    }

    fn delete_row(
        connection: &mut DbConnection,
        _audit: &AuditContext,
        current: &Milestone,
    ) -> Result<(), ApiError> {
        store::delete(connection, current.id, current.version).map_err(map_store_error)
    }
}

/// A milestone's moves: the supplier invoices (the owner may record an invoice too); the
/// challenge's owner (or programme staff) makes the others. Paying it takes `paid_on`.
impl Moves for Milestones {
    type Status = MilestoneStatus;
    type Body = MilestoneTransition;
    type Moved = Milestone;

    fn target(body: &MilestoneTransition) -> &str {
        &body.to
    }

    fn may_move(actor: &Actor, current: &Milestone, to: MilestoneStatus) -> Result<(), ApiError> {
        if to == MilestoneStatus::Invoiced && actor.acts_for(current.supplier_organisation_id) {
            return Ok(());
        }
        Ok(actor.may_manage_challenges_of(current.owner_organisation_id)?)
    }

    fn apply(
        connection: &mut DbConnection,
        audit: &AuditContext,
        current: Milestone,
        to: MilestoneStatus,
        body: &MilestoneTransition,
    ) -> Result<Milestone, ApiError> {
        if body.invoiced_on.is_some() && to != MilestoneStatus::Invoiced {
            return Err(ApiError::Validation(
                FieldViolation::new(
                    "invoiced_on",
                    "not_allowed",
                    "invoiced_on goes with \"to\": \"invoiced\"",
                )
                .into(),
            ));
        }
        let days = Days {
            invoiced_on: body.invoiced_on,
            paid_on: body.paid_on,
        };
        move_to(connection, audit, current, to, days)
    }

    fn respond(moved: Milestone) -> HttpResponse {
        current_record(&moved)
    }
}

deletes::delete_endpoint! {
    /// Delete a planned milestone.
    delete_milestone: Milestones, "/milestones/{id}", tag = TAG,
    missing = "No such milestone",
    refused = "Past planned"
}

reads::history_endpoint! {
    /// A milestone's recorded changes, oldest first.
    list_milestone_history: Milestones, "/milestones/{id}/history", tag = TAG, reader = CallerToken,
    security = (("bearer" = [])),
    missing = "No such milestone"
}

/// The days a move asks for (each defaults to today).
#[derive(Debug, Clone, Copy, Default)]
struct Days {
    invoiced_on: Option<NaiveDate>,
    paid_on: Option<NaiveDate>,
}

/// Moves a milestone to `to` as the next version, with its audit record; invoicing dates the
/// invoice, and paying adds its tranche to the award's paid figure, which can never exceed the
/// award.
fn move_to(
    connection: &mut DbConnection,
    audit: &AuditContext,
    current: Milestone,
    to: MilestoneStatus,
    days: Days,
) -> Result<Milestone, ApiError> {
    let status = current.status.transition(to)?;
    let now = Timestamp::now();
    let today = now.as_datetime().date_naive();
    let mut invoiced = current.invoiced_on;
    let mut paid = current.paid_on;
    if status == MilestoneStatus::Invoiced {
        invoiced = Some(milestone::invoice_day(days.invoiced_on, today).map_err(invalid)?);
    }
    if status == MilestoneStatus::Paid {
        let day = milestone::payment_day(days.paid_on, today, invoiced).map_err(invalid)?;
        let amount = current
            .fields
            .amount
            .unwrap_or_else(|| Money::zero(catalyst_domain::Currency::GBP));
        if !awards::pay(
            connection,
            current.fields.award_id,
            amount.minor_units(),
            now,
        )? {
            let award = awards::find(connection, current.fields.award_id)?;
            return Err(ApiError::rule(
                None,
                "exceeds_award",
                format!(
                    "paying {amount} would take payments past the award of {} ({} paid already)",
                    award.fields.amount, award.paid
                ),
            ));
        }
        paid = Some(day);
    }
    let updated = Milestone {
        status,
        invoiced_on: invoiced,
        paid_on: paid,
        ..current.next_version(now)
    };
    store::update(connection, &updated, current.version).map_err(map_store_error)?;
    audit.record_updated(connection, &current, &updated)?;
    Ok(updated)
}

fn invalid(violation: FieldViolation) -> ApiError {
    ApiError::Validation(violation.into())
}

/// What a `payments` import row shows on its own: its fields, and the milestone it names.
pub(crate) fn check_payment(body: serde_json::Value) -> Result<(), ApiError> {
    let row: PaymentRow = crate::extract::body::from_value(body)?;
    row.milestone().map(drop).map_err(ApiError::from)
}

/// One row of a `payments` import: the milestone moves to paid on `paid_on` (already paid on
/// that day: unchanged).
pub(crate) fn import_payment(
    connection: &mut DbConnection,
    body: serde_json::Value,
    actor: &Actor,
    audit: &AuditContext,
) -> Result<crate::workers::import_engine::Applied, ApiError> {
    use crate::workers::import_engine::Applied;
    let row: PaymentRow = crate::extract::body::from_value(body)?;
    let reference = row.milestone()?;
    let no_milestone = || {
        ApiError::Validation(
            FieldViolation::new(
                "milestone_id",
                "not_found",
                "no milestone you may see is named so",
            )
            .into(),
        )
    };
    let by_id = |connection: &mut DbConnection, id| {
        store::find_visible(connection, id, &private_visibility(actor)).map_err(|_| no_milestone())
    };
    let current = match reference {
        MilestoneRef::Id(id) => by_id(connection, id)?,
        MilestoneRef::Key(key) => {
            Milestone::find_by_key(connection, &key, actor)?.ok_or_else(no_milestone)?
        }
        MilestoneRef::Both(id, key) => {
            let current = by_id(connection, id)?;
            let keyed = Milestone::find_by_key(connection, &key, actor)?;
            if keyed.as_ref().map(|keyed| keyed.id) != Some(current.id) {
                return Err(ApiError::Validation(
                    FieldViolation::new(
                        "milestone_external_id",
                        "mismatch",
                        format!("{}/{} does not name milestone {id}", key.source, key.id),
                    )
                    .into(),
                ));
            }
            current
        }
    };
    actor.may_manage_challenges_of(current.owner_organisation_id)?;
    if let Some(amount) = row.amount {
        if Some(amount) != current.fields.amount {
            return Err(ApiError::Validation(
                FieldViolation::new(
                    "amount",
                    "mismatch",
                    format!(
                        "the milestone's tranche is {}",
                        current
                            .fields
                            .amount
                            .map_or_else(|| "not set".to_owned(), |amount| amount.to_string())
                    ),
                )
                .into(),
            ));
        }
    }
    if current.status == MilestoneStatus::Paid {
        return if current.paid_on == Some(row.paid_on) {
            Ok(Applied::Unchanged(current.id.to_string()))
        } else {
            Err(ApiError::rule(
                None,
                "already_paid",
                format!(
                    "the milestone was paid on {} already",
                    current
                        .paid_on
                        .map_or_else(|| "an unknown day".to_owned(), |day| day.to_string())
                ),
            ))
        };
    }
    let paid = move_to(
        connection,
        audit,
        current,
        MilestoneStatus::Paid,
        Days {
            invoiced_on: None,
            paid_on: Some(row.paid_on),
        },
    )?;
    Ok(Applied::Updated(paid.id.to_string()))
}

/// Stores a new milestone of an award the actor manages, with its audit record.
fn insert_new(
    connection: &mut DbConnection,
    actor: &Actor,
    audit: &AuditContext,
    fields: MilestoneFields,
    external_ids: Vec<ExternalId>,
) -> Result<Milestone, ApiError> {
    let award = awards::find(connection, fields.award_id)
        .map_err(|_| ApiError::NotFound("no such award".to_owned()))?;
    actor.may_manage_challenges_of(award.owner_organisation_id)?;
    let fields = fields.validate(award.fields.amount)?;
    let now = Timestamp::now();
    let milestone = Milestone {
        id: MilestoneId::generate(),
        fields,
        supplier_organisation_id: award.fields.supplier_organisation_id,
        owner_organisation_id: award.owner_organisation_id,
        status: MilestoneStatus::INITIAL,
        invoiced_on: None,
        paid_on: None,
        external_ids,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    store::insert(connection, &milestone).map_err(map_store_error)?;
    audit.record_created(connection, &milestone)?;
    Ok(milestone)
}

/// Replaces a milestone's fields (not once paid) and external ids as the next version, with
/// its audit record; nothing when nothing changed.
fn replace(
    connection: &mut DbConnection,
    audit: &AuditContext,
    current: Milestone,
    fields: MilestoneFields,
    external_ids: Vec<ExternalId>,
    precondition: &IfMatch,
) -> Result<Saved<Milestone>, ApiError> {
    let fields = validated(connection, &current, fields)?;
    // After validation: a request that is wrong in itself hears that first, not 412.
    precondition.check(current.version)?;
    write_replacement(connection, audit, current, fields, external_ids)
}

/// A milestone's new fields checked against its award.
fn validated(
    connection: &mut DbConnection,
    current: &Milestone,
    fields: MilestoneFields,
) -> Result<MilestoneFields, ApiError> {
    let award = awards::find(connection, current.fields.award_id)?;
    Ok(fields.validate(award.fields.amount)?)
}

/// Writes checked fields and keys over the milestone found (a paid one cannot change).
fn write_replacement(
    connection: &mut DbConnection,
    audit: &AuditContext,
    current: Milestone,
    fields: MilestoneFields,
    external_ids: Vec<ExternalId>,
) -> Result<Saved<Milestone>, ApiError> {
    if fields == current.fields && external_ids == current.external_ids {
        return Ok(Saved::Unchanged(current));
    }
    if fields != current.fields && current.status == MilestoneStatus::Paid {
        return Err(ApiError::rule(
            None,
            "paid",
            "a paid milestone is a record of a payment: it cannot change".to_owned(),
        ));
    }
    let updated = Milestone {
        fields,
        external_ids,
        ..current.next_version(Timestamp::now())
    };
    store::update_with_keys(connection, &updated, &current).map_err(map_store_error)?;
    audit.record_updated(connection, &current, &updated)?;
    Ok(Saved::Updated(updated))
}

impl Keyed for Milestone {
    const NOUN: &'static str = "milestone";
    const PRIVATE: bool = true;
    type Body = CreateMilestone;
    type Checked = MilestoneFields;

    crate::keyed_record_fields!();

    fn check(body: CreateMilestone) -> Result<(MilestoneFields, Vec<ExternalId>), ApiError> {
        // Its terms too: a body wrong in itself is refused before any precondition is weighed.
        let mut errors = ValidationErrors::default();
        catalyst_domain::milestone::check_terms(&body.title, body.kind, body.amount, &mut errors);
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
        fields: MilestoneFields,
        external_ids: Vec<ExternalId>,
    ) -> Result<Saved<Self>, ApiError> {
        let Some(current) = existing else {
            let milestone = insert_new(connection, actor, audit, fields, external_ids)?;
            return Ok(Saved::Created(milestone));
        };
        actor.may_manage_challenges_of(current.owner_organisation_id)?;
        let mut errors = ValidationErrors::default();
        fixed(
            &fields.award_id,
            &current.fields.award_id,
            "award_id",
            "a milestone stays with its award",
            &mut errors,
        );
        fixed(
            &fields.kind,
            &current.fields.kind,
            "kind",
            "a milestone keeps its kind",
            &mut errors,
        );
        errors.into_result(())?;
        replace(
            connection,
            audit,
            current,
            fields,
            external_ids,
            &IfMatch::absent(),
        )
    }
}

crate::by_external_id_handlers!(
    record: Milestone, body: CreateMilestone, resource: MilestoneResource,
    path: "/milestones/by-external-id/{source}/{id}",
    get_security: (("bearer" = [])),
    get: get_milestone_by_external_id, "Get a milestone by a partner's key for it.",
    put: upsert_milestone_by_external_id, "Create or replace a milestone by a partner's key for it."
);

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config
        .service(get_milestone_by_external_id)
        .service(upsert_milestone_by_external_id)
        .service(create_milestone)
        .service(list_award_milestones)
        .service(list_milestones)
        .service(get_milestone)
        .service(update_milestone)
        .service(delete_milestone)
        .service(transition_milestone)
        .service(list_milestone_history);
}

crate::audited!(Milestone: ENTITY, MilestoneResource, audience = |record| record.audience());
