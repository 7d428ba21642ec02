//! Milestones of an award: `/api/v1/awards/{id}/milestones` and `/api/v1/milestones`. Seen by the
//! supplier, the challenge owner and programme staff. The supplier invoices; the owner's officers
//! (or programme staff) plan, pay or withhold. Paid milestones never exceed the award.

use actix_web::http::StatusCode;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use catalyst_domain::{
    Actor, AwardId, Denied, FieldViolation, Lifecycle, Milestone, MilestoneFields, MilestoneId,
    MilestoneKind, MilestoneStatus, Money, Timestamp, ValidationErrors,
};
use catalyst_persistence::keyset::Direction;
use catalyst_persistence::milestones::{self as store, MilestoneFilter, MilestoneSortField};
use catalyst_persistence::{awards, transaction, StoreError};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::applications::private_visibility;
use crate::audit::{AuditContext, AuditList};
use crate::auth::Caller;
use crate::body::{read_json, Accepts};
use crate::conditional::{etag, if_none_match_matches, IfMatch};
use crate::lists::ListRequest;
use crate::problem::{ApiError, Problem};
use crate::resources::{created, optional_patch, path_id, present, required_patch, with_etag};
use crate::state::AppState;

pub const TAG: &str = "milestones";
const ENTITY: &str = "milestones";

/// A milestone.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MilestoneResource {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    #[schema(value_type = uuid::Uuid)]
    pub award_id: String,
    pub kind: MilestoneKind,
    pub title: String,
    pub due_on: Option<NaiveDate>,
    /// The tranche paid at this milestone.
    pub amount: Option<Money>,
    pub status: MilestoneStatus,
    pub paid_on: Option<NaiveDate>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<&Milestone> for MilestoneResource {
    fn from(milestone: &Milestone) -> Self {
        let fields = &milestone.fields;
        Self {
            id: milestone.id.to_string(),
            award_id: fields.award_id.to_string(),
            kind: fields.kind,
            title: fields.title.clone(),
            due_on: fields.due_on,
            amount: fields.amount,
            status: milestone.status,
            paid_on: milestone.paid_on,
            version: milestone.version,
            created_at: milestone.created_at,
            updated_at: milestone.updated_at,
        }
    }
}

/// A new milestone, planned.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "payment", "title": "First tranche (25%)", "due_on": "2019-09-30", "amount": {"amount": 1250000, "currency": "GBP"}}))]
pub struct CreateMilestone {
    pub kind: MilestoneKind,
    pub title: String,
    #[serde(default)]
    pub due_on: Option<NaiveDate>,
    /// Required for a payment milestone.
    #[serde(default)]
    pub amount: Option<Money>,
}

/// A change to a milestone that is not yet paid.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMilestone {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<NaiveDate>)]
    pub due_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Money>)]
    pub amount: Option<Option<Money>>,
}

/// A move to another status; `paid_on` (default today) when paying.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"to": "paid", "paid_on": "2019-10-04"}))]
pub struct MilestoneTransition {
    pub to: String,
    #[serde(default)]
    pub paid_on: Option<NaiveDate>,
}

/// A page of milestones.
#[derive(Debug, Serialize, ToSchema)]
pub struct MilestoneList {
    pub data: Vec<MilestoneResource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Documents the parameters; `ListRequest` parses them.
pub struct ListMilestonesParams {
    #[param(minimum = 1, maximum = 500, default = 50)]
    limit: Option<i64>,
    cursor: Option<String>,
    /// `created_at`, `updated_at`, `id`, each optionally prefixed with `-`.
    sort: Option<String>,
    #[param(value_type = Option<uuid::Uuid>)]
    award_id: Option<String>,
    status: Option<MilestoneStatus>,
    #[param(value_type = Option<String>, format = DateTime)]
    updated_since: Option<String>,
}

fn map_store_error(error: StoreError) -> ApiError {
    match error {
        StoreError::NotFound => ApiError::NotFound("no such milestone".to_owned()),
        StoreError::VersionMismatch { current } => ApiError::PreconditionFailed(format!(
            "the milestone changed meanwhile: its current version is {current}"
        )),
        other => other.into(),
    }
}

/// Plan a milestone of an award (the challenge owner's officers or programme staff).
#[utoipa::path(
    tag = TAG, operation_id = "create_milestone", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "The award's id")),
    request_body(content = CreateMilestone, content_type = "application/json"),
    responses(
        (status = 201, description = "Planned", body = MilestoneResource, headers(
            ("Location" = String, description = "The milestone's URL"), ("ETag" = String, description = "Its entity tag"))),
        (status = 404, description = "No such award", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/awards/{id}/milestones")]
pub async fn create_milestone(
    request: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body: CreateMilestone =
        read_json(&request, payload, state.body_limit, Accepts::Json).await?;
    if caller.actor() == &Actor::Anonymous {
        return Err(Denied::Unauthenticated.into());
    }
    let award_id: AwardId = path_id(&id, "award")?;
    let audit = AuditContext::of(&caller);
    let milestone = state
        .with_connection(move |connection| {
            transaction(connection, |connection| {
                let award = awards::find(connection, award_id)
                    .map_err(|_| ApiError::NotFound("no such award".to_owned()))?;
                caller
                    .actor()
                    .may_manage_challenges_of(award.owner_organisation_id)?;
                let fields = MilestoneFields {
                    award_id,
                    kind: body.kind,
                    title: body.title,
                    due_on: body.due_on,
                    amount: body.amount,
                }
                .validate(award.fields.amount)?;
                let now = Timestamp::now();
                let milestone = Milestone {
                    id: MilestoneId::generate(),
                    fields,
                    supplier_organisation_id: award.fields.supplier_organisation_id,
                    owner_organisation_id: award.owner_organisation_id,
                    status: MilestoneStatus::INITIAL,
                    paid_on: None,
                    version: 1,
                    created_at: now,
                    updated_at: now,
                };
                store::insert(connection, &milestone).map_err(map_store_error)?;
                audit.created(
                    connection,
                    ENTITY,
                    milestone.id.to_string(),
                    milestone.version,
                    milestone.audience(),
                    &MilestoneResource::from(&milestone),
                )?;
                Ok(milestone)
            })
        })
        .await?;
    Ok(created(
        format!("/api/v1/milestones/{}", milestone.id),
        milestone.version,
        &MilestoneResource::from(&milestone),
    ))
}

async fn list(
    request: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    award: Option<AwardId>,
) -> Result<HttpResponse, ApiError> {
    let filters: &[&str] = if award.is_some() {
        &["status"]
    } else {
        &["award_id", "status"]
    };
    let mut list = ListRequest::parse(
        &request,
        filters,
        MilestoneSortField::ALL,
        &[(MilestoneSortField::CreatedAt, Direction::Ascending)],
        MilestoneSortField::Id,
    )?;
    let filter = MilestoneFilter {
        award_id: award.or_else(|| list.id_filter("award_id")),
        status: list.enum_filter("status", MilestoneStatus::expected),
        updated_since: list.updated_since,
    };
    let after = list.finish(MilestoneSortField::kind)?;
    let (sort, limit) = (list.sort.clone(), list.limit);
    let seen = private_visibility(caller.actor());
    let page = state
        .with_connection(move |connection| {
            Ok(store::list(
                connection,
                &seen,
                &filter,
                &sort,
                after.as_ref(),
                limit,
            )?)
        })
        .await?;
    let next_cursor = list.cursor(page.next.as_ref());
    let body = MilestoneList {
        data: page.items.iter().map(MilestoneResource::from).collect(),
        next_cursor: next_cursor.clone(),
    };
    Ok(list.respond(&request, next_cursor.as_deref(), &body))
}

/// An award's milestones that you may see.
#[utoipa::path(
    tag = TAG, operation_id = "list_award_milestones", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "The award's id"), ListMilestonesParams),
    responses((status = 200, description = "A page of milestones", body = MilestoneList))
)]
#[get("/awards/{id}/milestones")]
pub async fn list_award_milestones(
    request: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let award: AwardId = path_id(&id, "award")?;
    list(request, caller, state, Some(award)).await
}

/// Milestones you may see.
#[utoipa::path(
    tag = TAG, operation_id = "list_milestones", security(("bearer" = [])), params(ListMilestonesParams),
    responses((status = 200, description = "A page of milestones", body = MilestoneList))
)]
#[get("/milestones")]
pub async fn list_milestones(
    request: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    list(request, caller, state, None).await
}

/// Get a milestone.
#[utoipa::path(
    tag = TAG, operation_id = "get_milestone", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "The milestone's id"),
        ("If-None-Match" = Option<String>, Header, description = "An ETag you hold: 304 if it is still current")),
    responses(
        (status = 200, description = "The milestone", body = MilestoneResource, headers(("ETag" = String, description = "Its entity tag"))),
        (status = 304, description = "Not modified"),
        (status = 404, description = "No such milestone, or not yours to see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/milestones/{id}")]
pub async fn get_milestone(
    request: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id: MilestoneId = path_id(&id, "milestone")?;
    let seen = private_visibility(caller.actor());
    let milestone = state
        .with_connection(move |connection| {
            store::find_visible(connection, id, &seen).map_err(map_store_error)
        })
        .await?;
    if if_none_match_matches(request.headers(), milestone.version)? {
        return Ok(HttpResponse::NotModified()
            .insert_header(("ETag", etag(milestone.version)))
            .finish());
    }
    Ok(with_etag(
        StatusCode::OK,
        milestone.version,
        &MilestoneResource::from(&milestone),
    ))
}

/// Update a milestone that is not yet paid.
#[utoipa::path(
    tag = TAG, operation_id = "update_milestone", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "The milestone's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read: 412 if it has changed since")),
    request_body(content = UpdateMilestone, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The updated milestone", body = MilestoneResource),
        (status = 404, description = "No such milestone", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already paid", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match does not match", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/milestones/{id}")]
pub async fn update_milestone(
    request: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let patch: UpdateMilestone =
        read_json(&request, payload, state.body_limit, Accepts::MergePatch).await?;
    if caller.actor() == &Actor::Anonymous {
        return Err(Denied::Unauthenticated.into());
    }
    let id: MilestoneId = path_id(&id, "milestone")?;
    let if_match = IfMatch::from_headers(request.headers())?;
    let audit = AuditContext::of(&caller);
    let seen = private_visibility(caller.actor());
    let updated = state
        .with_connection(move |connection| {
            transaction(connection, |connection| {
                let current =
                    store::find_visible(connection, id, &seen).map_err(map_store_error)?;
                caller
                    .actor()
                    .may_manage_challenges_of(current.owner_organisation_id)?;
                if_match.check(current.version)?;
                if current.status == MilestoneStatus::Paid {
                    return Err(ApiError::rule(
                        None,
                        "paid",
                        "a paid milestone is a record of a payment: it cannot change".to_owned(),
                    ));
                }
                let award = awards::find(connection, current.fields.award_id)?;
                let mut errors = ValidationErrors::default();
                let old = &current.fields;
                let fields = MilestoneFields {
                    title: required_patch(&patch.title, &old.title, "title", &mut errors),
                    due_on: optional_patch(&patch.due_on, &old.due_on),
                    amount: optional_patch(&patch.amount, &old.amount),
                    ..old.clone()
                };
                errors.into_result(())?;
                let fields = fields.validate(award.fields.amount)?;
                if fields == current.fields {
                    return Ok(current);
                }
                let updated = Milestone {
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
                        &MilestoneResource::from(&current),
                        &MilestoneResource::from(&updated),
                    ),
                )?;
                Ok(updated)
            })
        })
        .await?;
    Ok(with_etag(
        StatusCode::OK,
        updated.version,
        &MilestoneResource::from(&updated),
    ))
}

/// Move a milestone: the supplier invoices; the owner pays or withholds. Paying adds the tranche
/// to the award's paid figure, which can never exceed the award.
#[utoipa::path(
    tag = TAG, operation_id = "transition_milestone", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "The milestone's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    request_body(content = MilestoneTransition, content_type = "application/json"),
    responses(
        (status = 200, description = "The milestone in its new status", body = MilestoneResource),
        (status = 404, description = "No such milestone", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The move is not allowed, or paying would exceed the award", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/milestones/{id}/transitions")]
pub async fn transition_milestone(
    request: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body: MilestoneTransition =
        read_json(&request, payload, state.body_limit, Accepts::Json).await?;
    if caller.actor() == &Actor::Anonymous {
        return Err(Denied::Unauthenticated.into());
    }
    let id: MilestoneId = path_id(&id, "milestone")?;
    let if_match = IfMatch::from_headers(request.headers())?;
    let to: MilestoneStatus =
        body.to
            .parse()
            .map_err(|error: catalyst_domain::organisation::UnknownValue| {
                ApiError::Validation(
                    FieldViolation::new("to", "invalid_value", error.to_string()).into(),
                )
            })?;
    let audit = AuditContext::of(&caller);
    let seen = private_visibility(caller.actor());
    let updated = state
        .with_connection(move |connection| {
            transaction(connection, |connection| {
                let current = store::find_visible(connection, id, &seen).map_err(map_store_error)?;
                let actor = caller.actor();
                if to == MilestoneStatus::Invoiced {
                    // The supplier invoices; the owner may record an invoice too.
                    if !actor.acts_for(current.supplier_organisation_id) {
                        actor.may_manage_challenges_of(current.owner_organisation_id)?;
                    }
                } else {
                    actor.may_manage_challenges_of(current.owner_organisation_id)?;
                }
                if_match.check(current.version)?;
                let status = current.status.transition(to)?;
                let now = Timestamp::now();
                let mut paid_on = current.paid_on;
                if status == MilestoneStatus::Paid {
                    let amount = current.fields.amount.unwrap_or_else(|| Money::zero(catalyst_domain::Currency::GBP));
                    if !awards::pay(connection, current.fields.award_id, amount.minor_units(), now)? {
                        let award = awards::find(connection, current.fields.award_id)?;
                        return Err(ApiError::rule(None, "exceeds_award",
                            format!("paying {amount} would take payments past the award of {} ({} paid already)", award.fields.amount, award.paid),
                        ));
                    }
                    paid_on = Some(body.paid_on.unwrap_or_else(|| now.as_datetime().date_naive()));
                }
                let updated = Milestone { status, paid_on, version: current.version + 1, updated_at: now, ..current.clone() };
                store::update(connection, &updated, current.version).map_err(map_store_error)?;
                audit.updated(connection, ENTITY, id.to_string(), updated.version, updated.audience(), (&MilestoneResource::from(&current), &MilestoneResource::from(&updated)))?;
                Ok(updated)
            })
        })
        .await?;
    Ok(with_etag(
        StatusCode::OK,
        updated.version,
        &MilestoneResource::from(&updated),
    ))
}

/// Delete a planned milestone.
#[utoipa::path(
    tag = TAG, operation_id = "delete_milestone", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "The milestone's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such milestone", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Past planned", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/milestones/{id}")]
pub async fn delete_milestone(
    request: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if caller.actor() == &Actor::Anonymous {
        return Err(Denied::Unauthenticated.into());
    }
    let id: MilestoneId = path_id(&id, "milestone")?;
    let if_match = IfMatch::from_headers(request.headers())?;
    let audit = AuditContext::of(&caller);
    let seen = private_visibility(caller.actor());
    state
        .with_connection(move |connection| {
            transaction(connection, |connection| {
                let current =
                    store::find_visible(connection, id, &seen).map_err(map_store_error)?;
                caller
                    .actor()
                    .may_manage_challenges_of(current.owner_organisation_id)?;
                if_match.check(current.version)?;
                if current.status != MilestoneStatus::INITIAL {
                    return Err(ApiError::rule(
                        None,
                        "not_planned",
                        format!(
                            "the milestone is {}: only a planned one can be deleted",
                            current.status
                        ),
                    ));
                }
                store::delete(connection, id, current.version).map_err(map_store_error)?;
                audit.deleted(
                    connection,
                    ENTITY,
                    id.to_string(),
                    current.version,
                    current.audience(),
                    &MilestoneResource::from(&current),
                )
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A milestone's recorded changes, oldest first.
#[utoipa::path(
    tag = TAG, operation_id = "list_milestone_history", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "The milestone's id"),
        ("limit" = Option<i64>, Query, description = "Page size: 1 to 500, default 50"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page")),
    responses(
        (status = 200, description = "Recorded changes", body = AuditList),
        (status = 404, description = "No such milestone", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/milestones/{id}/history")]
pub async fn list_milestone_history(
    request: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id: MilestoneId = path_id(&id, "milestone")?;
    let seen = private_visibility(caller.actor());
    crate::audit::entity_history(
        &request,
        &state,
        ENTITY,
        id.to_string(),
        move |connection| {
            store::find_visible(connection, id, &seen)
                .map(drop)
                .map_err(map_store_error)
        },
    )
    .await
}

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config
        .service(create_milestone)
        .service(list_award_milestones)
        .service(list_milestones)
        .service(get_milestone)
        .service(update_milestone)
        .service(delete_milestone)
        .service(transition_milestone)
        .service(list_milestone_history);
}
