//! Webhook subscriptions (`/api/v1/webhooks`) for integration partners: which events to
//! receive, where, signed with which secret; their delivery log, and redelivery. Sending is
//! `webhook_delivery`'s.

use actix_web::http::{header, StatusCode};
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use base64::Engine;
use catalyst_domain::webhook::validate_event_types;
use catalyst_domain::{Actor, Denied, FieldViolation, Scope, Timestamp, ValidationErrors};
use catalyst_persistence::webhooks::{self as store, Delivery, Subscription};
use catalyst_persistence::{changes, transaction, StoreError};

use crate::auth::Caller;
use crate::extract::body::{read_json, Accepts};
use crate::extract::conditional::IfMatch;
use crate::extract::query::QueryParams;
use crate::problem::ApiError;
use crate::resources::with_etag;
use crate::server::state::AppState;

pub use catalyst_api::webhooks::*;

pub const TAG: &str = "webhooks";

/// How long the secret before a rotation keeps signing, so that receivers can switch over.
const ROTATION_OVERLAP_HOURS: i64 = 24;

/// Admins, and API clients with the `webhooks` scope, manage subscriptions.
fn may_manage_webhooks(actor: &Actor) -> Result<(), ApiError> {
    match actor {
        Actor::Anonymous => Err(Denied::Unauthenticated.into()),
        _ if actor.is_admin() || actor.has_scope(Scope::Webhooks) => Ok(()),
        _ => Err(ApiError::Forbidden(
            "webhooks are managed by admins and by API clients with the webhooks scope".to_owned(),
        )),
    }
}

/// The subscription, if the caller owns it (admins see all): otherwise it does not exist.
fn find_own(
    connection: &mut catalyst_persistence::DbConnection,
    caller: &Caller,
    id: &str,
) -> Result<Subscription, ApiError> {
    let not_found = || ApiError::NotFound("no such webhook".to_owned());
    // Ids are UUIDs: anything else (a NUL, which PostgreSQL's text cannot hold) names none.
    let id = uuid::Uuid::try_parse(id)
        .map_err(|_| not_found())?
        .to_string();
    let subscription = store::find_subscription(connection, &id).map_err(|error| match error {
        StoreError::NotFound => not_found(),
        other => other.into(),
    })?;
    if caller.actor().owns(&subscription.owner) {
        Ok(subscription)
    } else {
        Err(not_found())
    }
}

/// A delivery's `webhook-id` (`msg_` and a UUID's 32 hex digits), the cursor of a
/// subscription's deliveries.
struct MessageId(String);

impl std::str::FromStr for MessageId {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        let hex = text.strip_prefix("msg_").ok_or(())?;
        let id = uuid::Uuid::try_parse(hex).map_err(|_| ())?;
        Ok(Self(format!("msg_{}", id.simple())))
    }
}

fn new_secret() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|_| ApiError::Internal)?;
    Ok(format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

/// A subscription's URL: an absolute http or https URL of at most 2,000 characters with no
/// spaces or control characters inside (the spec's URL pattern, as for an organisation's
/// website), going where deliveries may go.
fn check_url(url: &str, allow_private: bool, errors: &mut ValidationErrors) -> Option<String> {
    use catalyst_domain::text::{self, Lines};
    let url = text::required_text(url, "url", 2000, Lines::Single, errors)
        .and_then(|url| text::web_url(&url, "url", errors))?;
    match crate::workers::webhook_delivery::check_destination(&url, allow_private) {
        Ok(()) => Some(url),
        Err(reason) => {
            errors.push(FieldViolation::new("url", "invalid_destination", reason));
            None
        }
    }
}

fn check_description(description: Option<&str>, errors: &mut ValidationErrors) -> Option<String> {
    description.and_then(|text| {
        catalyst_domain::text::optional_text(
            Some(text),
            "description",
            500,
            catalyst_domain::text::Lines::Single,
            errors,
        )
    })
}

/// Subscribe to events.
///
/// Deliveries start with the changes after this moment. Each is a POST of
/// `{"type", "timestamp", "data"}` with the Standard Webhooks headers `webhook-id`,
/// `webhook-timestamp` and `webhook-signature` (`v1,<base64 HMAC-SHA256 of
/// "id.timestamp.body">` under the secret returned here). Only 2xx counts as delivered;
/// others are retried with backoff for about three days; 410 Gone disables the subscription.
/// You receive the events of what you may read.
#[utoipa::path(
    tag = TAG, operation_id = "create_webhook", security(("bearer" = [])),
    request_body(content = CreateWebhook, content_type = "application/json"),
    responses(
        (status = 201, description = "Subscribed; the secret is in this response only", body = WebhookWithSecret,
            headers(("Location" = String, description = "The subscription's URL"))),
        (status = 403, description = "Neither an admin nor a client with the webhooks scope"),
        (status = 422, description = "A bad URL, a destination inside private networks, or an unknown event type"),
    )
)]
#[post("/webhooks")]
pub async fn create_webhook(
    request: HttpRequest,
    caller: Caller,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body: CreateWebhook = read_json(&request, payload, state.body_limit, Accepts::Json).await?;
    may_manage_webhooks(caller.actor())?;
    let owner = caller.actor().subject().ok_or(ApiError::Internal)?;
    let allow_private = state.webhooks_allow_private;
    let (url, event_types, description) = web::block(move || {
        let mut errors = ValidationErrors::default();
        let url = check_url(&body.url, allow_private, &mut errors);
        let event_types = validate_event_types(&body.event_types, &mut errors);
        let description = check_description(body.description.as_deref(), &mut errors);
        errors.into_result((url, event_types, description))
    })
    .await
    .map_err(|_| ApiError::Internal)??;
    let url = url.ok_or(ApiError::Internal)?;
    let secret = new_secret()?;
    let stored_secret = secret.clone();
    let subscription = state
        .with_connection(move |connection| {
            transaction(connection, |connection| {
                let start = changes::latest(connection)?;
                let now = Timestamp::now().to_naive_utc();
                let subscription = Subscription {
                    id: uuid::Uuid::now_v7().to_string(),
                    owner,
                    url,
                    description,
                    event_types: event_types.join(" "),
                    secret: stored_secret,
                    previous_secret: None,
                    previous_secret_expires_at: None,
                    status: "active".to_owned(),
                    disabled_reason: None,
                    cursor_txid: start.txid,
                    cursor_seq: start.seq,
                    version: 1,
                    created_at: now,
                    updated_at: now,
                };
                store::insert_subscription(connection, &subscription)?;
                Ok::<_, ApiError>(subscription)
            })
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/webhooks/{}", subscription.id),
        ))
        .insert_header((
            header::ETAG,
            crate::extract::conditional::etag(subscription.version),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(WebhookWithSecret {
            webhook: webhook_resource(&subscription),
            secret,
        }))
}

/// List your subscriptions (admins: all).
#[utoipa::path(
    tag = TAG, operation_id = "list_webhooks", security(("bearer" = [])),
    params(
        ("limit" = Option<i64>, Query, minimum = 1, description = "Page size, default 50; above 500 reads as 500"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page"),
    ),
    responses(
        (status = 200, description = "Subscriptions, oldest first", body = WebhookList),
        (status = 403, description = "Neither an admin nor a client with the webhooks scope"),
    )
)]
#[get("/webhooks")]
pub async fn list_webhooks(
    request: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    may_manage_webhooks(caller.actor())?;
    let params = QueryParams::parse(&request, &["limit", "cursor"])?;
    let mut errors = Vec::new();
    let (limit, after) =
        crate::extract::pagination::limit_and_id_cursor::<uuid::Uuid>(&params, &mut errors);
    crate::extract::pagination::collect_errors(errors)?;
    let after = after.map(|id| id.to_string());
    let owner = caller.actor().owner_filter();
    let (rows, more) = state
        .with_connection(move |connection| {
            Ok(store::list_subscriptions(
                connection,
                owner.as_deref(),
                after.as_deref(),
                limit,
            )?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(WebhookList {
        next_cursor: crate::extract::pagination::next_cursor(more, &rows, |row| row.id.clone()),
        data: rows.iter().map(webhook_resource).collect(),
    }))
}

/// Get a subscription.
#[utoipa::path(
    tag = TAG, operation_id = "get_webhook", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "The subscription's id")),
    responses(
        (status = 200, description = "The subscription", body = WebhookResource),
        (status = 403, description = "Neither an admin nor a client with the webhooks scope"),
        (status = 404, description = "No such subscription of yours"),
    )
)]
#[get("/webhooks/{id}")]
pub async fn get_webhook(
    caller: Caller,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    may_manage_webhooks(caller.actor())?;
    let id = id.into_inner();
    let subscription = state
        .with_connection(move |connection| find_own(connection, &caller, &id))
        .await?;
    Ok(with_etag(
        StatusCode::OK,
        subscription.version,
        &webhook_resource(&subscription),
    ))
}

/// Change a subscription (a merge patch; `If-Match` guards it).
#[utoipa::path(
    tag = TAG, operation_id = "update_webhook", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "The subscription's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    request_body(content = UpdateWebhook, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Changed", body = WebhookResource),
        (status = 403, description = "Neither an admin nor a client with the webhooks scope"),
        (status = 404, description = "No such subscription of yours"),
        (status = 412, description = "Changed since you read it"),
        (status = 422, description = "A bad URL, destination, event type or status"),
    )
)]
#[patch("/webhooks/{id}")]
pub async fn update_webhook(
    request: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let patch: UpdateWebhook =
        read_json(&request, payload, state.body_limit, Accepts::MergePatch).await?;
    may_manage_webhooks(caller.actor())?;
    let if_match = IfMatch::from_headers(request.headers())?;
    let allow_private = state.webhooks_allow_private;
    let id = id.into_inner();
    let checked = web::block(move || {
        let mut errors = ValidationErrors::default();
        let required = |field: &str, errors: &mut ValidationErrors| {
            errors.push(FieldViolation::new(
                field,
                "required",
                format!("{field} cannot be removed"),
            ));
        };
        let url = match &patch.url {
            None => None,
            Some(None) => {
                required("url", &mut errors);
                None
            }
            Some(Some(url)) => check_url(url, allow_private, &mut errors),
        };
        let event_types = match &patch.event_types {
            None => None,
            Some(None) => {
                required("event_types", &mut errors);
                None
            }
            Some(Some(types)) => Some(validate_event_types(types, &mut errors)),
        };
        let description = patch
            .description
            .as_ref()
            .map(|text| check_description(text.as_deref(), &mut errors));
        let status = match patch.status {
            None => None,
            Some(Some(status)) if status == "active" || status == "disabled" => Some(status),
            Some(_) => {
                errors.push(FieldViolation::new(
                    "status",
                    "invalid_value",
                    "status is active or disabled",
                ));
                None
            }
        };
        errors.into_result((url, event_types, description, status))
    })
    .await
    .map_err(|_| ApiError::Internal)??;
    let (url, event_types, description, status) = checked;
    let updated = state
        .with_connection(move |connection| {
            transaction(connection, |connection| {
                let current = find_own(connection, &caller, &id)?;
                if_match.check(current.version)?;
                let mut updated = current.clone();
                if let Some(url) = url {
                    updated.url = url;
                }
                if let Some(types) = event_types {
                    updated.event_types = types.join(" ");
                }
                if let Some(description) = description {
                    updated.description = description;
                }
                if let Some(status) = status {
                    if status == "active" {
                        updated.disabled_reason = None;
                    } else if current.status == "active" {
                        updated.disabled_reason = Some("disabled by its owner".to_owned());
                    }
                    updated.status = status;
                }
                if updated == current {
                    return Ok(current);
                }
                updated.version = current.version + 1;
                updated.updated_at = Timestamp::now().to_naive_utc();
                store::update_subscription(connection, &updated, current.version).map_err(
                    |error| match error {
                        StoreError::VersionMismatch { current } => {
                            ApiError::PreconditionFailed(format!(
                                "the webhook changed meanwhile: its current version is {current}"
                            ))
                        }
                        other => other.into(),
                    },
                )?;
                Ok::<_, ApiError>(updated)
            })
        })
        .await?;
    Ok(with_etag(
        StatusCode::OK,
        updated.version,
        &webhook_resource(&updated),
    ))
}

/// Delete a subscription and its delivery log.
#[utoipa::path(
    tag = TAG, operation_id = "delete_webhook", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "The subscription's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Neither an admin nor a client with the webhooks scope"),
        (status = 404, description = "No such subscription of yours"),
        (status = 412, description = "Changed since you read it"),
    )
)]
#[delete("/webhooks/{id}")]
pub async fn delete_webhook(
    request: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    may_manage_webhooks(caller.actor())?;
    let if_match = IfMatch::from_headers(request.headers())?;
    let id = id.into_inner();
    state
        .with_connection(move |connection| {
            transaction(connection, |connection| {
                let current = find_own(connection, &caller, &id)?;
                if_match.check(current.version)?;
                store::delete_subscription(connection, &id)?;
                Ok::<_, ApiError>(())
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Rotate the signing secret.
///
/// The new secret signs from now on; the old one also signs for 24 hours, so each delivery
/// carries both signatures while receivers switch over.
#[utoipa::path(
    tag = TAG, operation_id = "rotate_webhook_secret", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "The subscription's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    responses(
        (status = 200, description = "The new secret, shown this once", body = WebhookWithSecret),
        (status = 403, description = "Neither an admin nor a client with the webhooks scope"),
        (status = 404, description = "No such subscription of yours"),
        (status = 412, description = "Changed since you read it"),
    )
)]
#[post("/webhooks/{id}/rotate-secret")]
pub async fn rotate_webhook_secret(
    request: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    may_manage_webhooks(caller.actor())?;
    let if_match = IfMatch::from_headers(request.headers())?;
    let id = id.into_inner();
    let secret = new_secret()?;
    let stored = secret.clone();
    let updated = state
        .with_connection(move |connection| {
            transaction(connection, |connection| {
                let current = find_own(connection, &caller, &id)?;
                if_match.check(current.version)?;
                let now = Timestamp::now().to_naive_utc();
                let updated = Subscription {
                    previous_secret: Some(current.secret.clone()),
                    previous_secret_expires_at: Some(
                        now + chrono::Duration::hours(ROTATION_OVERLAP_HOURS),
                    ),
                    secret: stored,
                    version: current.version + 1,
                    updated_at: now,
                    ..current.clone()
                };
                store::update_subscription(connection, &updated, current.version)?;
                Ok::<_, ApiError>(updated)
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((
            header::ETAG,
            crate::extract::conditional::etag(updated.version),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(WebhookWithSecret {
            webhook: webhook_resource(&updated),
            secret,
        }))
}

/// A subscription's delivery log, newest first.
#[utoipa::path(
    tag = TAG, operation_id = "list_webhook_deliveries", security(("bearer" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "The subscription's id"),
        ("limit" = Option<i64>, Query, minimum = 1, description = "Page size, default 50; above 500 reads as 500"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page"),
    ),
    responses(
        (status = 200, description = "Deliveries, newest first", body = DeliveryList),
        (status = 403, description = "Neither an admin nor a client with the webhooks scope"),
        (status = 404, description = "No such subscription of yours"),
    )
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn list_webhook_deliveries(
    request: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    may_manage_webhooks(caller.actor())?;
    let params = QueryParams::parse(&request, &["limit", "cursor"])?;
    let mut errors = Vec::new();
    let (limit, before) =
        crate::extract::pagination::limit_and_id_cursor::<MessageId>(&params, &mut errors);
    crate::extract::pagination::collect_errors(errors)?;
    let before = before.map(|MessageId(id)| id);
    let id = id.into_inner();
    let (rows, more) = state
        .with_connection(move |connection| {
            let subscription = find_own(connection, &caller, &id)?;
            Ok(store::list_deliveries(
                connection,
                &subscription.id,
                before.as_deref(),
                limit,
            )?)
        })
        .await?;
    let next_cursor = crate::extract::pagination::next_cursor(more, &rows, |row| row.id.clone());
    Ok(HttpResponse::Ok().json(DeliveryList {
        data: rows
            .into_iter()
            .map(delivery_resource)
            .collect::<Result<_, _>>()?,
        next_cursor,
    }))
}

/// Send a delivery again, now, whatever became of it before.
#[utoipa::path(
    tag = TAG, operation_id = "redeliver_webhook_delivery", security(("bearer" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "The subscription's id"),
        ("delivery_id" = String, Path, description = "The delivery's id (`msg_...`)"),
    ),
    responses(
        (status = 202, description = "Queued to be sent again", body = DeliveryResource),
        (status = 403, description = "Neither an admin nor a client with the webhooks scope"),
        (status = 404, description = "No such subscription or delivery"),
    )
)]
#[post("/webhooks/{id}/deliveries/{delivery_id}/redeliver")]
pub async fn redeliver_webhook_delivery(
    caller: Caller,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    may_manage_webhooks(caller.actor())?;
    let (id, delivery_id) = path.into_inner();
    let delivery = state
        .with_connection(move |connection| {
            transaction(connection, |connection| {
                let subscription = find_own(connection, &caller, &id)?;
                let no_delivery = || ApiError::NotFound("no such delivery".to_owned());
                let MessageId(delivery_id) = delivery_id.parse().map_err(|()| no_delivery())?;
                store::redeliver(connection, &subscription.id, &delivery_id, Timestamp::now())
                    .map_err(|error| match error {
                        StoreError::NotFound => no_delivery(),
                        other => other.into(),
                    })
            })
        })
        .await?;
    Ok(HttpResponse::Accepted().json(delivery_resource(delivery)?))
}

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config
        .service(create_webhook)
        .service(list_webhooks)
        .service(get_webhook)
        .service(update_webhook)
        .service(delete_webhook)
        .service(rotate_webhook_secret)
        .service(list_webhook_deliveries)
        .service(redeliver_webhook_delivery);
}

/// A subscription as the API shows it.
fn webhook_resource(subscription: &Subscription) -> WebhookResource {
    WebhookResource {
        id: subscription.id.clone(),
        url: subscription.url.clone(),
        description: subscription.description.clone(),
        event_types: subscription.event_types(),
        status: subscription.status.clone(),
        disabled_reason: subscription.disabled_reason.clone(),
        version: subscription.version,
        created_at: Timestamp::from_naive_utc(subscription.created_at),
        updated_at: Timestamp::from_naive_utc(subscription.updated_at),
    }
}

/// A delivery as the API shows it.
fn delivery_resource(delivery: Delivery) -> Result<DeliveryResource, ApiError> {
    Ok(DeliveryResource {
        next_attempt_at: (delivery.status == "pending")
            .then(|| Timestamp::from_naive_utc(delivery.next_attempt_at)),
        last_attempt_at: delivery.last_attempt_at.map(Timestamp::from_naive_utc),
        created_at: Timestamp::from_naive_utc(delivery.created_at),
        delivered_at: delivery.delivered_at.map(Timestamp::from_naive_utc),
        payload: serde_json::value::RawValue::from_string(delivery.payload)
            .map_err(|_| ApiError::Internal)?,
        id: delivery.id,
        event_type: delivery.event_type,
        status: delivery.status,
        attempts: delivery.attempts,
        last_status_code: delivery.last_status_code,
        last_error: delivery.last_error,
    })
}
