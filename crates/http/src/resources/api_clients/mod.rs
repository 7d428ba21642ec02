//! `/api/v1/api-clients`: credentials for integration partners and scripts, managed by admins.
//! The secret is shown once, at creation; only its hash is kept.

use actix_web::http::header;
use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use catalyst_domain::Audience;
use catalyst_domain::{
    ApiClient, ClientId, FieldViolation, OrganisationId, Timestamp, ValidationErrors,
};
use catalyst_persistence::api_clients::{self as store, NewApiClient};
use catalyst_persistence::{transaction, StoreError};

use crate::auth::credentials::{random_token, sha256_hex};
use crate::auth::Caller;
use crate::extract::body::{read_json, Accepts};
use crate::extract::conditional::IfMatch;
use crate::extract::id_path::RecordId;
use crate::extract::pagination::{collect_errors, limit_and_id_cursor, parse_updated_since};
use crate::problem::ApiError;
use crate::resources::audit::AuditContext;
use crate::resources::{ForeignKey, StoreErrors};
use crate::server::state::AppState;

pub use catalyst_api::api_clients::*;

pub const TAG: &str = "api-clients";

// Named so in its 404s; its path parameter is documented by hand ("The client's id").
impl crate::extract::id_path::RecordId for catalyst_domain::ClientId {
    const RECORD: &'static str = "API client";
}

const ENTITY: &str = "api_clients";

const STORE_ERRORS: StoreErrors = StoreErrors {
    record: "API client",
    duplicate: None,
    foreign_key: ForeignKey::Unexpected,
};

fn map_store_error(error: StoreError) -> ApiError {
    STORE_ERRORS.map(error)
}

/// Create an API client (admins).
#[utoipa::path(
    tag = TAG, operation_id = "create_api_client", security(("bearer" = [])),
    request_body(content = CreateApiClient, content_type = "application/json"),
    responses(
        (status = 201, description = "Created; the secret is in this response only", body = CreatedApiClient,
            headers(("Location" = String, description = "The client's URL"))),
        (status = 403, description = "Not an admin"),
    )
)]
#[post("/api-clients")]
pub async fn create_api_client(
    request: HttpRequest,
    caller: Caller,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body: CreateApiClient =
        read_json(&request, payload, state.body_limit, Accepts::Json).await?;
    caller.actor().may_administer()?;
    let mut errors = ValidationErrors::default();
    let name = catalyst_domain::text::required_text(
        &body.name,
        "name",
        200,
        catalyst_domain::text::Lines::Single,
        &mut errors,
    );
    if body.scopes.is_empty() {
        errors.push(FieldViolation::new(
            "scopes",
            "required",
            "give at least one scope: read, write, reports, webhooks",
        ));
    }
    let mut organisations: Option<Vec<OrganisationId>> = None;
    if let Some(ids) = &body.organisation_ids {
        let mut parsed = Vec::new();
        for (index, id) in ids.iter().enumerate() {
            match id.parse() {
                Ok(id) => parsed.push(id),
                Err(_) => errors.push(FieldViolation::new(
                    &format!("organisation_ids/{index}"),
                    "invalid_id",
                    format!("{id:?} is not an organisation id"),
                )),
            }
        }
        organisations = Some(parsed);
    }
    let name = errors.into_result(name)?.ok_or(ApiError::Internal)?;
    let mut scopes = body.scopes;
    scopes.sort_by_key(|scope| scope.as_str());
    scopes.dedup();
    let secret = format!("cs_{}", random_token(32).map_err(|_| ApiError::Internal)?);
    let secret_hash = sha256_hex(&secret);
    let audit = AuditContext::of(&caller);
    let created_by = caller.audit_name();
    let client = state
        .with_connection(move |connection| {
            transaction(connection, |connection| {
                let client = store::insert(
                    connection,
                    &NewApiClient {
                        name: &name,
                        scopes: &scopes,
                        organisations: organisations.as_deref(),
                        secret_hash: &secret_hash,
                        created_by: &created_by,
                    },
                    Timestamp::now(),
                )?;
                audit.record_created(connection, &client)?;
                Ok::<_, ApiError>(client)
            })
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/api-clients/{}", client.id),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(CreatedApiClient {
            client: ApiClientResource::from(&client),
            client_secret: secret,
        }))
}

/// List API clients (admins).
#[utoipa::path(
    tag = TAG, operation_id = "list_api_clients", security(("bearer" = [])),
    params(
        ("limit" = Option<i64>, Query, minimum = 1, description = "Page size, default 50; above 500 reads as 500"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page"),
        ("updated_since" = Option<String>, Query, description = "Only clients changed at or after this RFC 3339 instant"),
    ),
    responses(
        (status = 200, description = "A page of clients, oldest first", body = ApiClientList),
        (status = 403, description = "Not an admin"),
    )
)]
#[get("/api-clients")]
pub async fn list_api_clients(
    request: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.actor().may_administer()?;
    let params =
        crate::extract::query::QueryParams::parse(&request, &["limit", "cursor", "updated_since"])?;
    let mut errors = Vec::new();
    let (limit, after) = limit_and_id_cursor::<ClientId>(&params, &mut errors);
    let since = parse_updated_since(params.get("updated_since"), &mut errors);
    collect_errors(errors)?;
    let (clients, more) = state
        .with_connection(move |connection| Ok(store::list(connection, since, after, limit)?))
        .await?;
    let next_cursor =
        crate::extract::pagination::next_cursor(more, &clients, |client| client.id.to_string());
    Ok(HttpResponse::Ok().json(ApiClientList {
        data: clients.iter().map(ApiClientResource::from).collect(),
        next_cursor,
    }))
}

/// Get an API client (admins).
#[utoipa::path(
    tag = TAG, operation_id = "get_api_client", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "The client's id")),
    responses(
        (status = 200, description = "The client", body = ApiClientResource),
        (status = 403, description = "Not an admin"),
        (status = 404, description = "No such client"),
    )
)]
#[get("/api-clients/{id}")]
pub async fn get_api_client(
    caller: Caller,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.actor().may_administer()?;
    let id = ClientId::from_path(&id)?;
    let (client, _) = state
        .with_connection(move |connection| store::find(connection, id).map_err(map_store_error))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((
            actix_web::http::header::ETAG,
            crate::extract::conditional::etag(client.version),
        ))
        .json(ApiClientResource::from(&client)))
}

/// Revoke an API client (admins): its tokens stop working at once. The record stays, for the
/// audit trail.
#[utoipa::path(
    tag = TAG, operation_id = "revoke_api_client", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "The client's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, description = "Not an admin"),
        (status = 404, description = "No such client"),
        (status = 412, description = "Changed since you read it"),
    )
)]
#[delete("/api-clients/{id}")]
pub async fn revoke_api_client(
    request: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.actor().may_administer()?;
    let id = ClientId::from_path(&id)?;
    let if_match = IfMatch::from_headers(request.headers())?;
    let audit = AuditContext::of(&caller);
    state
        .with_connection(move |connection| {
            transaction(connection, |connection| {
                let (before, _) = store::find(connection, id).map_err(map_store_error)?;
                if_match.check(before.version)?;
                store::revoke(connection, id, Timestamp::now())?;
                let (after, _) = store::find(connection, id)?;
                audit.record_updated(connection, &before, &after)
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

crate::resources::reads::admin_history_endpoint! {
    /// An API client's recorded changes, oldest first (admins).
    list_api_client_history: ClientId, ENTITY, "/api-clients/{id}/history", tag = TAG, id = "The client's id"
}

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config
        .service(create_api_client)
        .service(list_api_clients)
        .service(get_api_client)
        .service(revoke_api_client)
        .service(list_api_client_history);
}

crate::audited!(ApiClient: ENTITY, ApiClientResource, audience = |_| Audience::Admins);
