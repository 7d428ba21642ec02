//! `/api/v1/challenges`: public bodies' problem statements. Published challenges (past draft) are
//! public; drafts are seen by programme staff and the owner's own officers. The status moves only
//! through `POST /challenges/{id}/transitions`.

use actix_web::http::StatusCode;
use actix_web::{delete, get, patch, post, put, web, HttpRequest, HttpResponse};
use catalyst_domain::{
    Actor, Challenge, ChallengeFields, ChallengeId, ChallengeStatus, ExternalId, FieldViolation,
    Lifecycle, Money, OrganisationId, ProgrammeId, Timestamp, ValidationErrors, Versioned,
};
use catalyst_persistence::challenges::{
    self as store, ChallengeFilter, ChallengeSortField, ChallengeTotals, Visibility,
};
use catalyst_persistence::changes::Operation;
use catalyst_persistence::keyset::{Direction, Page};
use catalyst_persistence::{organisations, programmes, transaction, DbConnection, StoreError};

use crate::auth::{Caller, CallerToken};
use crate::extract::body::{read_json, Accepts};
use crate::extract::conditional::{derived_etag, IfMatch};
use crate::extract::id_path::IdPath;
use crate::extract::lists::{ListBody, ListReads, ListRequest};
use crate::problem::ApiError;
use crate::resources::audit::AuditContext;
use crate::resources::deletes::{self, Deletes};
use crate::resources::reads::{self, Readable};
use crate::resources::transitions::{self, Moves};
use crate::resources::upsert::{found_visible, CreatedInBulk, Keyed, Reply, Saved};
use crate::resources::{optional_patch, required_patch, TransitionRequest};
use crate::resources::{ForeignKey, StoreErrors, UniqueMember};
use crate::server::state::AppState;
use catalyst_domain::Audience;

pub use catalyst_api::challenges::*;

pub const TAG: &str = "challenges";

impl crate::extract::id_path::RecordId for catalyst_domain::ChallengeId {
    const RECORD: &'static str = "challenge";
}

const ENTITY: &str = "challenges";

/// Loads the derived figures of one challenge.
fn totals_of(
    connection: &mut DbConnection,
    challenge: &Challenge,
) -> Result<ChallengeTotals, ApiError> {
    Ok(store::totals(connection, &[challenge.id])?
        .remove(&challenge.id)
        .unwrap_or_default())
}

/// What the caller may see of challenges (and so of their phases).
pub fn visibility(actor: &Actor) -> Visibility {
    if actor.sees_everything() {
        Visibility::Everything
    } else {
        Visibility::PublishedAnd(actor.member_organisations())
    }
}

const STORE_ERRORS: StoreErrors = StoreErrors {
    record: "challenge",
    duplicate: Some(UniqueMember {
        member: "reference",
        detail: "another challenge has this reference",
    }),
    foreign_key: ForeignKey::Referenced("phases still belong to this challenge"),
};

fn map_store_error(error: StoreError) -> ApiError {
    STORE_ERRORS.map(error)
}

/// The programme must exist and the owner must be a public body.
fn check_references(
    connection: &mut DbConnection,
    programme: ProgrammeId,
    owner: OrganisationId,
) -> Result<(), ApiError> {
    let mut errors = ValidationErrors::default();
    match programmes::find(connection, programme) {
        Ok(_) => {}
        Err(StoreError::NotFound) => errors.push(FieldViolation::new(
            "programme_id",
            "not_found",
            "no programme has this id",
        )),
        Err(error) => return Err(error.into()),
    }
    match organisations::find(connection, owner) {
        Ok(organisation) if organisation.fields.kind.is_public_body() => {}
        Ok(organisation) => errors.push(FieldViolation::new(
            "owner_organisation_id",
            "not_public_body",
            format!(
                "a challenge is owned by a public body; this organisation is {}",
                organisation.fields.kind
            ),
        )),
        Err(StoreError::NotFound) => errors.push(FieldViolation::new(
            "owner_organisation_id",
            "not_found",
            "no organisation has this id",
        )),
        Err(error) => return Err(error.into()),
    }
    errors.into_result(()).map_err(Into::into)
}

/// Create a challenge (programme staff, or an officer of the owning body).
#[utoipa::path(
    tag = TAG, operation_id = "create_challenge", security(("bearer" = [])),
    request_body(content = CreateChallenge, content_type = "application/json"),
    responses(
        (status = 201, description = "Created, in draft", body = ChallengeResource, headers(
            ("Location" = String, description = "The challenge's URL"), ("ETag" = String, description = "Its entity tag"))),
        (status = 409, description = "Another challenge has this reference"),
    )
)]
#[post("/challenges")]
pub async fn create_challenge(
    request: HttpRequest,
    caller: Caller,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body: CreateChallenge =
        read_json(&request, payload, state.body_limit, Accepts::Json).await?;
    caller.actor().signed_in()?;
    let (fields, external_ids) = body.validate()?;
    caller
        .actor()
        .may_manage_challenges_of(fields.owner_organisation_id)?;
    let challenge = Challenge {
        external_ids,
        ..Challenge::create(fields, Timestamp::now())
    };
    let audit = AuditContext::of(&caller);
    let stored = challenge.clone();
    state
        .with_connection(move |connection| {
            transaction(connection, |connection| {
                check_references(
                    connection,
                    stored.fields.programme_id,
                    stored.fields.owner_organisation_id,
                )?;
                store::insert(connection, &stored).map_err(map_store_error)?;
                audit.record_created(connection, &stored)
            })
        })
        .await?;
    let mut response = respond(StatusCode::CREATED, &challenge, &ChallengeTotals::default());
    response.headers_mut().insert(
        actix_web::http::header::LOCATION,
        actix_web::http::header::HeaderValue::from_str(&format!(
            "/api/v1/challenges/{}",
            challenge.id
        ))
        .map_err(|_| ApiError::Internal)?,
    );
    Ok(response)
}

/// Get a challenge.
#[utoipa::path(
    tag = TAG, operation_id = "get_challenge",
    params(IdPath<ChallengeId>),
    responses(
        (status = 200, description = "The challenge", body = ChallengeResource),
        (status = 404, description = "No such challenge, or a draft you may not see"),
    )
)]
#[get("/challenges/{id}")]
pub async fn get_challenge(
    caller: CallerToken,
    IdPath(id): IdPath<ChallengeId>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (challenge, totals) = state
        .with_connection(move |connection| {
            // The caller is loaded on the hop that reads the challenge.
            let seen = visibility(&caller.load(connection)?);
            let challenge = store::find_visible(connection, id, &seen).map_err(map_store_error)?;
            let totals = totals_of(connection, &challenge)?;
            Ok((challenge, totals))
        })
        .await?;
    Ok(respond(StatusCode::OK, &challenge, &totals))
}

/// The ETag of a challenge with its figures: it changes when either does.
fn challenge_etag(challenge: &Challenge, totals: &ChallengeTotals) -> String {
    derived_etag(challenge.version, &format!("{totals:?}"))
}

fn respond(status: StatusCode, challenge: &Challenge, totals: &ChallengeTotals) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(("ETag", challenge_etag(challenge, totals)))
        .json(with_totals(challenge, totals))
}

/// List challenges you may see.
#[utoipa::path(
    tag = TAG, operation_id = "list_challenges", params(ListChallengesParams),
    responses((status = 200, description = "A page of challenges", body = ChallengeList,
        headers(("Link" = String, description = "`<url>; rel=\"next\"` when there is a next page"))))
)]
#[get("/challenges")]
pub async fn list_challenges(
    request: HttpRequest,
    caller: CallerToken,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut list = ListRequest::parse(
        &request,
        &[(ChallengeSortField::CreatedAt, Direction::Ascending)],
    )?;
    let filter = ChallengeFilter {
        programme_id: list.id_filter("programme_id"),
        owner_organisation_id: list.id_filter("owner_id"),
        status: list.enum_filter("status", ChallengeStatus::expected),
        text: list.text_filter("q"),
        updated_since: list.updated_since(),
    };
    list.answer::<ChallengeList>(
        &request,
        &state,
        ListReads::ReplicaForAnonymous,
        caller,
        move |connection, actor, sort, after, limit| {
            let page = store::list(connection, &visibility(actor), &filter, sort, after, limit)?;
            let ids: Vec<ChallengeId> = page.items.iter().map(|challenge| challenge.id).collect();
            let mut totals = store::totals(connection, &ids)?;
            let items = page
                .items
                .into_iter()
                .map(|challenge| {
                    let sums = totals.remove(&challenge.id).unwrap_or_default();
                    (challenge, sums)
                })
                .collect();
            Ok(Page {
                items,
                next: page.next,
            })
        },
    )
    .await
}

catalyst_api::list_body! {
    /// A page of challenges.
    ChallengeList of ChallengeResource
}

/// A page of challenges shows each with its phases' totals (the store's, so the page is made
/// here rather than beside the other shapes in catalyst_api).
impl ListBody for ChallengeList {
    type Item = (Challenge, ChallengeTotals);
    fn page(items: Vec<Self::Item>, next_cursor: Option<String>) -> Self {
        Self {
            data: items
                .iter()
                .map(|(challenge, totals)| with_totals(challenge, totals))
                .collect(),
            next_cursor,
        }
    }
}

/// Update a challenge (programme staff, or an officer of the owning body).
#[utoipa::path(
    tag = TAG, operation_id = "update_challenge", security(("bearer" = [])),
    params(IdPath<ChallengeId>,
        ("If-Match" = Option<String>, Header, description = "The ETag you read: 412 if it has changed since")),
    request_body(content = UpdateChallenge, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The updated challenge", body = ChallengeResource),
        (status = 404, description = "No such challenge"),
        (status = 409, description = "Another challenge has this reference"),
    )
)]
#[patch("/challenges/{id}")]
pub async fn update_challenge(
    request: HttpRequest,
    caller: Caller,
    IdPath(id): IdPath<ChallengeId>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let patch: UpdateChallenge =
        read_json(&request, payload, state.body_limit, Accepts::MergePatch).await?;
    caller.actor().signed_in()?;
    let if_match = IfMatch::from_headers(request.headers())?;
    let audit = AuditContext::of(&caller);
    let seen = visibility(caller.actor());
    let updated = state
        .with_connection(move |connection| {
            transaction(connection, |connection| {
                let current =
                    store::find_visible(connection, id, &seen).map_err(map_store_error)?;
                caller
                    .actor()
                    .may_manage_challenges_of(current.fields.owner_organisation_id)?;
                let old = &current.fields;
                let mut errors = ValidationErrors::default();
                let fields = ChallengeFields {
                    programme_id: old.programme_id,
                    owner_organisation_id: old.owner_organisation_id,
                    reference: required_patch(
                        &patch.reference,
                        &old.reference,
                        "reference",
                        &mut errors,
                    ),
                    title: required_patch(&patch.title, &old.title, "title", &mut errors),
                    problem_statement: required_patch(
                        &patch.problem_statement,
                        &old.problem_statement,
                        "problem_statement",
                        &mut errors,
                    ),
                    themes: optional_patch(&patch.themes, &Some(old.themes.clone()))
                        .unwrap_or_default(),
                    opens_at: optional_patch(&patch.opens_at, &old.opens_at),
                    closes_at: optional_patch(&patch.closes_at, &old.closes_at),
                    documents: optional_patch(&patch.documents, &Some(old.documents.clone()))
                        .unwrap_or_default(),
                };
                let new_external_ids = patch.external_ids.as_ref().map(|given| {
                    crate::resources::external_ids(
                        given.as_deref().unwrap_or_default(),
                        &mut errors,
                    )
                });
                errors.into_result(())?;
                let fields = fields.validate()?;
                if_match.check(current.version)?;
                let external_ids = new_external_ids.unwrap_or_else(|| current.external_ids.clone());
                if fields == current.fields && external_ids == current.external_ids {
                    let totals = totals_of(connection, &current)?;
                    return Ok((current, totals));
                }
                let updated = Challenge {
                    fields,
                    external_ids,
                    ..current.next_version(Timestamp::now())
                };
                store::update(connection, &updated, current.version).map_err(map_store_error)?;
                if updated.external_ids != current.external_ids {
                    store::set_external_ids(
                        connection,
                        id,
                        &updated.external_ids,
                        updated.updated_at,
                    )
                    .map_err(map_store_error)?;
                }
                audit.record_updated(connection, &current, &updated)?;
                let totals = totals_of(connection, &updated)?;
                Ok((updated, totals))
            })
        })
        .await?;
    Ok(respond(StatusCode::OK, &updated.0, &updated.1))
}

transitions::transition_endpoint! {
    /// Move a challenge to another status: draft → open → assessing → in_delivery → completed, or
    /// cancelled before completion. Any other move is 409 with `allowed_transitions`.
    transition_challenge: Challenges, "/challenges/{id}/transitions", tag = TAG, body = TransitionRequest,
    moved = "The challenge in its new status", resource = ChallengeResource,
    missing = "No such challenge", refused = "The move is not allowed from the current status"
}

/// Challenges: public once published; a draft is seen by its owner's side.
pub struct Challenges;

impl Readable for Challenges {
    type Id = ChallengeId;
    type Seen = Visibility;
    type Found = Challenge;

    fn may_read(actor: &Actor) -> Result<(), ApiError> {
        reads::anyone(actor)
    }

    fn seen(actor: &Actor) -> Visibility {
        visibility(actor)
    }

    fn find(
        connection: &mut DbConnection,
        id: ChallengeId,
        seen: &Visibility,
    ) -> Result<Challenge, ApiError> {
        store::find_visible(connection, id, seen).map_err(map_store_error)
    }
}

impl Deletes for Challenges {
    fn may_delete(actor: &Actor, current: &Challenge) -> Result<(), ApiError> {
        Ok(actor.may_manage_challenges_of(current.fields.owner_organisation_id)?)
    }

    fn must_stay(current: &Challenge) -> Result<(), ApiError> {
        if !current.is_published() {
            return Ok(());
        }
        Err(ApiError::rule(
            None,
            "published",
            "a published challenge is a public record: cancel it instead (POST .../transitions {\"to\": \"cancelled\"})".to_owned(),
        ))
    }

    fn audience(current: &Challenge) -> Audience {
        current.audience()
    }

    fn delete_row(
        connection: &mut DbConnection,
        _audit: &AuditContext,
        current: &Challenge,
    ) -> Result<(), ApiError> {
        store::set_external_ids(connection, current.id, &[], Timestamp::now())?;
        store::delete(connection, current.id, current.version).map_err(map_store_error)
    }
}

/// A challenge's moves: its owner's officers (or programme staff) make them. Publishing it puts
/// its phases in everyone's feed; the answer carries the challenge's figures.
impl Moves for Challenges {
    type Status = ChallengeStatus;
    type Body = TransitionRequest;
    type Moved = (Challenge, ChallengeTotals);

    fn target(body: &TransitionRequest) -> &str {
        &body.to
    }

    fn may_move(actor: &Actor, current: &Challenge, _to: ChallengeStatus) -> Result<(), ApiError> {
        Ok(actor.may_manage_challenges_of(current.fields.owner_organisation_id)?)
    }

    fn apply(
        connection: &mut DbConnection,
        audit: &AuditContext,
        current: Challenge,
        to: ChallengeStatus,
        _body: &TransitionRequest,
    ) -> Result<(Challenge, ChallengeTotals), ApiError> {
        let status = current.status.transition(to)?;
        let updated = current.moved_to(status, Timestamp::now());
        store::update(connection, &updated, current.version).map_err(map_store_error)?;
        audit.record_updated(connection, &current, &updated)?;
        if !current.is_published() && updated.is_published() {
            announce_phases(connection, &updated)?;
        }
        let totals = totals_of(connection, &updated)?;
        Ok((updated, totals))
    }

    fn respond((moved, totals): (Challenge, ChallengeTotals)) -> HttpResponse {
        respond(StatusCode::OK, &moved, &totals)
    }
}

/// A challenge's phases were seen only by its owner while it was a draft: once it is
/// published, the feed gives them to everyone (the same versions, so a reader that had them
/// already can tell).
fn announce_phases(connection: &mut DbConnection, challenge: &Challenge) -> Result<(), ApiError> {
    for phase in catalyst_persistence::phases::all_of_challenge(connection, challenge.id)? {
        crate::resources::audit::announce_resource(
            connection,
            crate::resources::phases::ENTITY,
            &phase.id.to_string(),
            phase.version,
            challenge.audience(),
            Operation::Update,
            &crate::resources::phases::PhaseResource::from(&phase),
        )?;
    }
    Ok(())
}

deletes::delete_endpoint! {
    /// Delete a challenge while it is a draft without phases.
    delete_challenge: Challenges, "/challenges/{id}", tag = TAG,
    missing = "No such challenge",
    refused = "Published, or phases still belong to it"
}

reads::history_endpoint! {
    /// A challenge's recorded changes, oldest first.
    list_challenge_history: Challenges, "/challenges/{id}/history", tag = TAG, reader = CallerToken,
    missing = "No such challenge"
}

/// Writes a whole challenge over `existing` (or as a new draft), with its audit record: the
/// one path of PUT by external id and of imports. A challenge keeps its programme and owner.
fn save_whole(
    connection: &mut DbConnection,
    actor: &Actor,
    audit: &AuditContext,
    existing: Option<Challenge>,
    fields: ChallengeFields,
    external_ids: Vec<ExternalId>,
) -> Result<Saved<Challenge>, ApiError> {
    let Some(current) = existing else {
        let challenge = Challenge::new_record(connection, actor, fields, external_ids)?;
        store::insert(connection, &challenge).map_err(map_store_error)?;
        audit.record_created(connection, &challenge)?;
        return Ok(Saved::Created(challenge));
    };
    actor.may_manage_challenges_of(current.fields.owner_organisation_id)?;
    let mut errors = ValidationErrors::default();
    if fields.programme_id != current.fields.programme_id {
        errors.push(FieldViolation::new(
            "programme_id",
            "immutable",
            "a challenge stays in its programme",
        ));
    }
    if fields.owner_organisation_id != current.fields.owner_organisation_id {
        errors.push(FieldViolation::new(
            "owner_organisation_id",
            "immutable",
            "a challenge stays with its owner",
        ));
    }
    errors.into_result(())?;
    if fields == current.fields && external_ids == current.external_ids {
        return Ok(Saved::Unchanged(current));
    }
    let updated = Challenge {
        fields,
        external_ids,
        ..current.next_version(Timestamp::now())
    };
    store::update(connection, &updated, current.version).map_err(map_store_error)?;
    store::set_external_ids(
        connection,
        updated.id,
        &updated.external_ids,
        updated.updated_at,
    )
    .map_err(map_store_error)?;
    audit.record_updated(connection, &current, &updated)?;
    Ok(Saved::Updated(updated))
}

crate::found_by_id!(Challenge, |connection, id, actor| {
    store::find_visible(connection, id, &visibility(actor))
});

impl Keyed for Challenge {
    const NOUN: &'static str = "challenge";
    type Body = CreateChallenge;
    type Checked = ChallengeFields;

    crate::keyed_record_fields!();

    fn check(body: CreateChallenge) -> Result<(ChallengeFields, Vec<ExternalId>), ApiError> {
        body.validate().map_err(ApiError::from)
    }
    /// Drafts are found by key only by those who may see them.
    fn find_by_key(
        connection: &mut DbConnection,
        key: &ExternalId,
        actor: &Actor,
    ) -> Result<Option<Self>, ApiError> {
        let seen = visibility(actor);
        found_visible(
            store::find_by_external_id(connection, &key.source, &key.id),
            key,
            |challenge| {
                if seen.allows(&challenge) {
                    Ok(challenge)
                } else {
                    Err(())
                }
            },
        )
    }
    /// A challenge keeps its programme and owner, and its status moves only by transitions.
    fn save(
        connection: &mut DbConnection,
        actor: &Actor,
        audit: &AuditContext,
        existing: Option<Self>,
        fields: ChallengeFields,
        external_ids: Vec<ExternalId>,
    ) -> Result<Saved<Self>, ApiError> {
        save_whole(connection, actor, audit, existing, fields, external_ids)
    }
    fn reply(&self, connection: &mut DbConnection) -> Result<Reply, ApiError> {
        let totals = totals_of(connection, self)?;
        Ok(Reply {
            etag: challenge_etag(self, &totals),
            json: serde_json::to_string(&with_totals(self, &totals))
                .map_err(|_| ApiError::Internal)?,
        })
    }
}

impl CreatedInBulk for Challenge {
    fn new_record(
        connection: &mut DbConnection,
        actor: &Actor,
        fields: ChallengeFields,
        external_ids: Vec<ExternalId>,
    ) -> Result<Self, ApiError> {
        actor.may_manage_challenges_of(fields.owner_organisation_id)?;
        let challenge = Challenge {
            external_ids,
            ..Challenge::create(fields, Timestamp::now())
        };
        check_references(
            connection,
            challenge.fields.programme_id,
            challenge.fields.owner_organisation_id,
        )?;
        Ok(challenge)
    }
    fn insert_all(connection: &mut DbConnection, records: &[Self]) -> Result<(), ApiError> {
        Ok(store::insert_all(connection, records)?)
    }
}

crate::by_external_id_handlers!(
    record: Challenge, body: CreateChallenge, resource: ChallengeResource,
    path: "/challenges/by-external-id/{source}/{id}",
    get_security: ((), ("bearer" = [])),
    get: get_challenge_by_external_id, "Get a challenge by a partner's key for it.",
    put: upsert_challenge_by_external_id, "Create or replace a challenge by a partner's key for it (created as a draft; it keeps its programme and owner)."
);

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config
        .service(get_challenge_by_external_id)
        .service(upsert_challenge_by_external_id)
        .service(list_challenges)
        .service(create_challenge)
        .service(get_challenge)
        .service(update_challenge)
        .service(delete_challenge)
        .service(transition_challenge)
        .service(list_challenge_history);
}

crate::audited!(Challenge: ENTITY, ChallengeResource, audience = |record| record.audience());

/// The resource with its derived figures.
fn with_totals(challenge: &Challenge, totals: &ChallengeTotals) -> ChallengeResource {
    let money = |minor: i64| match totals.currency {
        Some(currency) if !totals.mixed_currencies => Money::new(minor, currency).ok(),
        _ => None,
    };
    ChallengeResource {
        totals: Some(ChallengeFigures {
            budget: money(totals.budget),
            committed: money(totals.committed),
            applications: totals.applications,
        }),
        ..ChallengeResource::from(challenge)
    }
}
