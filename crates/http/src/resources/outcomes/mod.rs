//! Outcomes of trials (`/api/v1/trials/{id}/outcomes`, `/api/v1/outcomes/{id}`): what a trial
//! measured. An outcome is seen by those who see its trial, and managed by those who manage it.

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use catalyst_domain::{
    Actor, Outcome, OutcomeFields, OutcomeId, Timestamp, Trial, TrialId, ValidationErrors,
    Versioned,
};
use catalyst_persistence::keyset::Direction;
use catalyst_persistence::trials::outcome_store::{self, OutcomeSortField};
use catalyst_persistence::trials::{self as store, TrialVisibility};
use catalyst_persistence::DbConnection;

use super::trials::{map_store_error, visibility, OUTCOMES, TAG};
use crate::auth::CallerToken;
use crate::extract::id_path::IdPath;
use crate::extract::lists::{ListReads, ListRequest};
use crate::problem::ApiError;
use crate::resources::audit::AuditContext;
use crate::resources::creates::{self, Creates};
use crate::resources::deletes::{self, Deletes};
use crate::resources::reads::{self, Readable};
use crate::resources::updates::{self, Updates};
use crate::resources::{optional_patch, required_patch};
use crate::resources::{ForeignKey, StoreErrors};
use crate::server::state::AppState;
use catalyst_domain::Audience;

pub use catalyst_api::outcomes::*;

impl crate::extract::id_path::RecordId for catalyst_domain::OutcomeId {
    const RECORD: &'static str = "outcome";
}

const OUTCOME_STORE_ERRORS: StoreErrors = StoreErrors {
    record: "outcome",
    duplicate: None,
    foreign_key: ForeignKey::Unexpected,
};

creates::create_endpoint! {
    /// Record an outcome of a trial.
    create_outcome: Outcome, "/trials/{id}/outcomes", under TrialId, tag = TAG,
    body = CreateOutcome, created = "Recorded", resource = OutcomeResource,
    location = "The outcome's URL", errors = [(status = 404, description = "No such trial")]
}

impl Creates for Outcome {
    type Parent = TrialId;
    type Body = CreateOutcome;
    type Checked = OutcomeFields;

    fn checked(
        actor: &Actor,
        trial_id: TrialId,
        body: CreateOutcome,
    ) -> Result<OutcomeFields, ApiError> {
        actor.signed_in()?;
        Ok(OutcomeFields {
            trial_id,
            kind: body.kind,
            metric: body.metric,
            unit: body.unit,
            baseline: body.baseline,
            target: body.target,
            actual: body.actual,
            measured_on: body.measured_on,
            notes: body.notes,
        }
        .validate()?)
    }
    fn insert(
        connection: &mut DbConnection,
        actor: &Actor,
        audit: &AuditContext,
        fields: OutcomeFields,
    ) -> Result<Self, ApiError> {
        let trial = store::find_visible(connection, fields.trial_id, &visibility(actor))
            .map_err(map_store_error)?;
        actor.may_manage_challenges_of(trial.fields.host_organisation_id)?;
        let now = Timestamp::now();
        let outcome = Outcome {
            id: OutcomeId::generate(),
            fields,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        outcome_store::insert(connection, &outcome)?;
        audit.record_created_for(connection, &outcome, trial.audience())?;
        Ok(outcome)
    }
}

/// A trial's outcomes.
#[utoipa::path(
    tag = TAG, operation_id = "list_trial_outcomes",
    params(IdPath<TrialId>,
        ("limit" = Option<i64>, Query, minimum = 1, description = "Page size, default 50; above 500 reads as 500"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page"),
        ("sort" = Option<String>, Query, description = "`created_at`, `updated_at`, `id`, each optionally prefixed with `-`"),
        ("updated_since" = Option<String>, Query, format = DateTime, description = "Only outcomes changed at or after this time (RFC 3339)")),
    responses(
        (status = 200, description = "A page of outcomes", body = OutcomeList),
        (status = 404, description = "No such trial"),
    )
)]
#[get("/trials/{id}/outcomes")]
pub async fn list_trial_outcomes(
    request: HttpRequest,
    caller: CallerToken,
    IdPath(trial): IdPath<TrialId>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut list = ListRequest::parse(
        &request,
        &[(OutcomeSortField::CreatedAt, Direction::Ascending)],
    )?;
    let since = list.updated_since();
    list.answer::<OutcomeList>(
        &request,
        &state,
        ListReads::Primary,
        caller,
        move |connection, actor, sort, after, limit| {
            let seen = visibility(actor);
            store::find_visible(connection, trial, &seen).map_err(map_store_error)?;
            Ok(outcome_store::list(
                connection, trial, since, sort, after, limit,
            )?)
        },
    )
    .await
}

/// The outcome and its trial, if the caller may see them.
fn find_outcome(
    connection: &mut DbConnection,
    id: OutcomeId,
    seen: &TrialVisibility,
) -> Result<(Outcome, Trial), ApiError> {
    let outcome = outcome_store::find(connection, id)
        .map_err(|_| ApiError::NotFound("no such outcome".to_owned()))?;
    let trial = store::find_visible(connection, outcome.fields.trial_id, seen)
        .map_err(|_| ApiError::NotFound("no such outcome".to_owned()))?;
    Ok((outcome, trial))
}

reads::get_endpoint! {
    /// Get an outcome.
    get_outcome: Outcomes, "/outcomes/{id}", tag = TAG, reader = CallerToken,
    found = "The outcome", body = OutcomeResource,
    missing = "No such outcome"
}

updates::update_endpoint! {
    /// Update an outcome.
    update_outcome: Outcomes, "/outcomes/{id}", tag = TAG, patch = UpdateOutcome,
    updated = "The updated outcome", body = OutcomeResource, missing = "No such outcome"
}

impl Updates for Outcomes {
    type Patch = UpdateOutcome;
    type Change = OutcomeFields;

    fn patched(
        _connection: &mut DbConnection,
        actor: &Actor,
        (current, trial): &(Outcome, Trial),
        patch: UpdateOutcome,
    ) -> Result<OutcomeFields, ApiError> {
        actor.may_manage_challenges_of(trial.fields.host_organisation_id)?;
        let old = &current.fields;
        let mut errors = ValidationErrors::default();
        let fields = OutcomeFields {
            metric: required_patch(&patch.metric, &old.metric, "metric", &mut errors),
            unit: optional_patch(&patch.unit, &old.unit),
            baseline: optional_patch(&patch.baseline, &old.baseline),
            target: optional_patch(&patch.target, &old.target),
            actual: optional_patch(&patch.actual, &old.actual),
            measured_on: optional_patch(&patch.measured_on, &old.measured_on),
            notes: optional_patch(&patch.notes, &old.notes),
            ..old.clone()
        };
        errors.into_result(())?;
        Ok(fields.validate()?)
    }

    fn write(
        connection: &mut DbConnection,
        audit: &AuditContext,
        (current, trial): (Outcome, Trial),
        fields: OutcomeFields,
    ) -> Result<(Outcome, Trial), ApiError> {
        if fields == current.fields {
            return Ok((current, trial));
        }
        let updated = Outcome {
            fields,
            ..current.next_version(Timestamp::now())
        };
        outcome_store::update(connection, &updated, current.version)
            .map_err(|error| OUTCOME_STORE_ERRORS.map(error))?;
        audit.record_updated_for(connection, &current, &updated, trial.audience())?;
        Ok((updated, trial))
    }
}

deletes::delete_endpoint! {
    /// Delete an outcome.
    delete_outcome: Outcomes, "/outcomes/{id}", tag = TAG,
    missing = "No such outcome"
}

reads::history_endpoint! {
    /// An outcome's recorded changes, oldest first.
    list_outcome_history: Outcomes, "/outcomes/{id}/history", tag = TAG, reader = CallerToken,
    missing = "No such outcome"
}

/// Outcomes: seen with their trial.
pub struct Outcomes;

impl Readable for Outcomes {
    type Id = OutcomeId;
    type Seen = TrialVisibility;
    type Found = (Outcome, Trial);

    fn may_read(actor: &Actor) -> Result<(), ApiError> {
        reads::anyone(actor)
    }

    fn seen(actor: &Actor) -> TrialVisibility {
        visibility(actor)
    }

    fn find(
        connection: &mut DbConnection,
        id: OutcomeId,
        seen: &TrialVisibility,
    ) -> Result<(Outcome, Trial), ApiError> {
        find_outcome(connection, id, seen)
    }
}

impl Deletes for Outcomes {
    fn may_delete(actor: &Actor, (_, trial): &(Outcome, Trial)) -> Result<(), ApiError> {
        Ok(actor.may_manage_challenges_of(trial.fields.host_organisation_id)?)
    }

    fn audience((_, trial): &(Outcome, Trial)) -> Audience {
        trial.audience()
    }

    fn delete_row(
        connection: &mut DbConnection,
        _audit: &AuditContext,
        (current, _): &(Outcome, Trial),
    ) -> Result<(), ApiError> {
        outcome_store::delete(connection, current.id, current.version)
            .map_err(|error| OUTCOME_STORE_ERRORS.map(error))
    }
}

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config
        .service(create_outcome)
        .service(list_trial_outcomes)
        .service(get_outcome)
        .service(update_outcome)
        .service(delete_outcome)
        .service(list_outcome_history);
}

crate::audited!(Outcome: OUTCOMES, OutcomeResource);
