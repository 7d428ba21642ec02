//! The change feed, `GET /api/v1/changes`: every create, update and delete that the caller may
//! see, in an order that can be resumed from without missing any (see
//! `catalyst_persistence::changes`).

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use catalyst_domain::{Actor, Timestamp};
use catalyst_persistence::changes::{
    self as store, ChangeRecord, ChangeVisibility, FeedError, Position,
};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::extract::links::next_link;
use crate::extract::query::QueryParams;
use crate::problem::{ApiError, ProblemItem};
use crate::server::state::AppState;

pub const TAG: &str = "changes";

/// The collections whose changes the feed carries.
pub const ENTITIES: [&str; 12] = catalyst_domain::webhook::EVENT_ENTITIES;

const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;

/// One change.
#[derive(Debug, Serialize, ToSchema)]
pub struct Change {
    /// Where this change sits in the feed: pass it as `cursor` to resume after it.
    #[schema(example = "48213-1077")]
    pub cursor: String,
    #[schema(schema_with = entity_schema)]
    pub entity: String,
    /// The entity's id.
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    #[schema(schema_with = operation_schema)]
    pub operation: String,
    /// The entity's version after the change; a delete is one more than the last version the
    /// record had. A reader that holds this version or a later one already may skip the change.
    pub version: i64,
    pub occurred_at: Timestamp,
    /// The entity as `GET` would return it after the change; null for a delete (a tombstone).
    #[schema(value_type = Option<Object>)]
    pub state: Option<Box<serde_json::value::RawValue>>,
}

/// `entity` as the spec states it: one of the collections, so generated clients get an enum.
fn entity_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(ENTITIES))
        .description(Some("The collection, such as `challenges`."))
        .build()
}

fn operation_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(["create", "update", "delete"]))
        .description(Some("What happened to the entity."))
        .build()
}

impl Change {
    fn from_record(record: ChangeRecord) -> Result<Self, ApiError> {
        let cursor = record.position().to_string();
        let state = record
            .state
            .map(serde_json::value::RawValue::from_string)
            .transpose()
            .map_err(|_| ApiError::Internal)?;
        Ok(Self {
            cursor,
            entity: record.entity,
            id: record.entity_id,
            operation: record.operation,
            version: record.version,
            occurred_at: Timestamp::from_naive_utc(record.occurred_at),
            state,
        })
    }
}

/// A stretch of the feed, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeList {
    pub data: Vec<Change>,
    /// Where to resume, always given: after the last change here or, when caught up, past
    /// every change made so far. Poll again with it.
    #[schema(example = "48240-0")]
    pub next_cursor: String,
    /// Whether more changes are waiting already (ask again at once rather than after a pause).
    pub has_more: bool,
}

/// The place to start following the feed after copying the current data.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedPosition {
    #[schema(example = "48240-0")]
    pub cursor: String,
}

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Documents the parameters; `QueryParams` parses them.
pub struct ChangeParams {
    /// Resume after this position: a `cursor` or `next_cursor` from an earlier answer, or
    /// the one from `/changes/latest`. Without it, the feed starts at the oldest change kept.
    cursor: Option<String>,
    #[param(minimum = 1, default = 100)]
    limit: Option<i64>,
    /// Only these collections, comma-separated, such as `awards,milestones`.
    #[param(example = "awards,milestones")]
    entity: Option<String>,
}

/// What the caller may see of the feed: what it may read of the records themselves.
pub fn visibility(actor: &Actor) -> ChangeVisibility {
    if actor.is_admin() {
        ChangeVisibility::Everything
    } else if actor.sees_everything() {
        ChangeVisibility::AllButAdmin
    } else {
        ChangeVisibility::PublicAnd(actor.member_organisations())
    }
}

fn parse_limit(value: Option<&str>) -> Result<usize, ProblemItem> {
    crate::extract::pagination::parse_limit_up_to(value, DEFAULT_LIMIT, MAX_LIMIT)
}

fn parse_cursor(value: Option<&str>) -> Result<Option<Position>, ProblemItem> {
    value
        .map(|text| {
            text.parse::<Position>().map_err(|()| {
                ProblemItem::parameter(
                    "cursor",
                    "invalid_cursor",
                    "cursor is not one this feed issued: use a cursor or next_cursor as given",
                )
            })
        })
        .transpose()
}

fn parse_entities(value: Option<&str>) -> Result<Vec<String>, ProblemItem> {
    let Some(text) = value else {
        return Ok(Vec::new());
    };
    let mut entities = Vec::new();
    for name in text.split(',').map(str::trim) {
        if !ENTITIES.contains(&name) {
            return Err(ProblemItem::parameter(
                "entity",
                "unknown_entity",
                format!(
                    "{name:?} is not a collection the feed carries; use one or more of: {}",
                    ENTITIES.join(", ")
                ),
            ));
        }
        if !entities.iter().any(|known: &String| known == name) {
            entities.push(name.to_owned());
        }
    }
    Ok(entities)
}

/// Read the change feed.
///
/// Every create, update and delete that you may see, oldest first. Keep the `next_cursor`
/// and ask again with it: nothing is missed, though a change can come twice (compare
/// `version`). A cursor older than the kept history (90 days by default) is 410 Gone: copy
/// the data afresh and follow from `/changes/latest`.
#[utoipa::path(
    tag = TAG,
    operation_id = "list_changes",
    params(ChangeParams),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Changes after the cursor", body = ChangeList),
        (status = 400, description = "A bad cursor, limit or entity"),
        (status = 401, description = "An invalid access token"),
        (status = 410, description = "The cursor is older than the kept history"),
    )
)]
#[get("/changes")]
pub async fn list_changes(
    request: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let params = QueryParams::parse(&request, &["cursor", "limit", "entity"])?;
    let mut errors = Vec::new();
    let after = parse_cursor(params.get("cursor")).unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    let limit = parse_limit(params.get("limit")).unwrap_or_else(|e| {
        errors.push(e);
        DEFAULT_LIMIT
    });
    let entities = parse_entities(params.get("entity")).unwrap_or_else(|e| {
        errors.push(e);
        Vec::new()
    });
    crate::extract::pagination::collect_errors(errors)?;
    let seen = visibility(caller.actor());
    let page = state
        .with_connection(move |connection| {
            store::read(connection, after, &entities, &seen, limit).map_err(|error| match error {
                FeedError::Gone => ApiError::Gone(
                    "changes after this cursor are no longer kept: copy the data afresh and follow the feed from GET /api/v1/changes/latest".to_owned(),
                ),
                FeedError::Store(error) => error.into(),
            })
        })
        .await?;
    let next_cursor = page.next.to_string();
    let list = ChangeList {
        data: page
            .changes
            .into_iter()
            .map(Change::from_record)
            .collect::<Result<_, _>>()?,
        next_cursor: next_cursor.clone(),
        has_more: page.has_more,
    };
    let mut response = HttpResponse::Ok();
    if list.has_more {
        response.insert_header((header::LINK, next_link(&request, &params, &next_cursor)));
    }
    Ok(response.json(list))
}

/// The feed's current position.
///
/// Take it before copying the current data; then follow the feed from it, and no change made
/// after the copy began is missed.
#[utoipa::path(
    tag = TAG,
    operation_id = "get_latest_change_cursor",
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The cursor to follow from", body = FeedPosition),
        (status = 401, description = "An invalid access token"),
    )
)]
#[get("/changes/latest")]
pub async fn get_latest_change_cursor(
    request: HttpRequest,
    _caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    QueryParams::parse(&request, &[])?;
    let position = state
        .with_connection(|connection| Ok(store::latest(connection)?))
        .await?;
    Ok(HttpResponse::Ok().json(FeedPosition {
        cursor: position.to_string(),
    }))
}

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config
        .service(get_latest_change_cursor)
        .service(list_changes);
}
