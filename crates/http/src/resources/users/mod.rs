//! `/api/v1/users`: admins manage people; everyone signed in sees and secures their own account.

use actix_web::http::header;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use catalyst_domain::Audience;
use catalyst_domain::{
    access, Actor, OrganisationId, Role, Timestamp, User, UserFields, UserId, ValidationErrors,
};
use catalyst_persistence::{refresh_tokens, transaction, users as store, StoreError};

use crate::auth::credentials::{hash_password, verify_password};
use crate::auth::Caller;
use crate::extract::body::{read_json, Accepts};
use crate::extract::conditional::{etag, IfMatch};
use crate::extract::id_path::RecordId;
use crate::extract::pagination::{collect_errors, limit_and_id_cursor, parse_updated_since};
use crate::extract::query::QueryParams;
use crate::problem::{ApiError, ProblemItem};
use crate::resources::audit::AuditContext;
use crate::resources::required_patch;
use crate::resources::{ForeignKey, StoreErrors, UniqueMember};
use crate::server::state::AppState;

pub use catalyst_api::users::*;

pub const TAG: &str = "users";

impl crate::extract::id_path::RecordId for catalyst_domain::UserId {
    const RECORD: &'static str = "user";
}

const ENTITY: &str = "users";

/// `/users/me` is the caller's own account, which is read here and changed through its own
/// operations: not updated or deleted as `/users/{id}`.
fn not_me(text: &str, method: &str) -> Result<(), ApiError> {
    if text == "me" {
        return Err(ApiError::MethodNotAllowed {
            method: method.to_owned(),
            allowed: ["GET", "HEAD", "OPTIONS"].map(str::to_owned).to_vec(),
        });
    }
    Ok(())
}

/// An admin may not demote or delete themselves: it would end their own session at once and
/// could leave no admin at all. Another admin can.
fn refuse_own_account(caller: &Option<String>, id: UserId, what: &str) -> Result<(), ApiError> {
    if caller.as_deref() == Some(format!("user:{id}").as_str()) {
        return Err(ApiError::Conflict(ProblemItem {
            pointer: None,
            parameter: None,
            code: "own_account".to_owned(),
            detail: format!("you cannot {what}: ask another admin"),
        }));
    }
    Ok(())
}

fn parse_organisations(ids: &[String]) -> Result<Vec<OrganisationId>, ApiError> {
    let mut errors = ValidationErrors::default();
    let mut parsed = Vec::new();
    for (index, id) in ids.iter().enumerate() {
        match id.parse() {
            Ok(id) => parsed.push(id),
            Err(_) => errors.push(catalyst_domain::FieldViolation::new(
                &format!("organisation_ids/{index}"),
                "invalid_id",
                format!("{id:?} is not an organisation id"),
            )),
        }
    }
    parsed.sort();
    parsed.dedup();
    errors.into_result(parsed).map_err(Into::into)
}

const STORE_ERRORS: StoreErrors = StoreErrors {
    record: "user",
    duplicate: Some(UniqueMember {
        member: "email",
        detail: "another user has this email",
    }),
    foreign_key: ForeignKey::Missing {
        member: "organisation_ids",
        detail: "an organisation in organisation_ids does not exist",
    },
};

fn map_store_error(error: StoreError) -> ApiError {
    STORE_ERRORS.map(error)
}

fn respond(status: actix_web::http::StatusCode, user: &User) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::ETAG, etag(user.version)))
        .json(UserResource::from(user))
}

/// Create a user (admins).
#[utoipa::path(
    tag = TAG, operation_id = "create_user", security(("bearer" = [])),
    request_body(content = CreateUser, content_type = "application/json"),
    responses(
        (status = 201, description = "Created", body = UserResource, headers(("Location" = String, description = "The user's URL"))),
        (status = 403, description = "Not an admin"),
        (status = 409, description = "Another user has this email"),
    )
)]
#[post("/users")]
pub async fn create_user(
    request: HttpRequest,
    caller: Caller,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body: CreateUser = read_json(&request, payload, state.body_limit, Accepts::Json).await?;
    caller.actor().may_administer()?;
    let organisations = parse_organisations(&body.organisation_ids)?;
    let mut errors =
        match UserFields::validate(&body.email, &body.name, body.role, organisations.clone()) {
            Ok(_) => ValidationErrors::default(),
            Err(errors) => errors,
        };
    access::validate_password(&body.password, "password", &mut errors);
    let fields = errors
        .into_result(())
        .and_then(|()| UserFields::validate(&body.email, &body.name, body.role, organisations))?;
    let password = body.password;
    let hash = web::block(move || hash_password(&password))
        .await?
        .map_err(|_| ApiError::Internal)?;
    let audit = AuditContext::of(&caller);
    let user = state
        .with_connection(move |connection| {
            transaction(connection, |connection| {
                let user = store::insert(connection, &fields, &hash, Timestamp::now())
                    .map_err(map_store_error)?;
                audit.record_created(connection, &user)?;
                Ok(user)
            })
        })
        .await?;
    let mut response = respond(actix_web::http::StatusCode::CREATED, &user);
    response.headers_mut().insert(
        header::LOCATION,
        header::HeaderValue::from_str(&format!("/api/v1/users/{}", user.id))
            .map_err(|_| ApiError::Internal)?,
    );
    Ok(response)
}

/// List users (admins).
#[utoipa::path(
    tag = TAG, operation_id = "list_users", security(("bearer" = [])), params(ListUsersParams),
    responses(
        (status = 200, description = "A page of users", body = UserList),
        (status = 403, description = "Not an admin"),
    )
)]
#[get("/users")]
pub async fn list_users(
    request: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.actor().may_administer()?;
    let params = QueryParams::parse(&request, &["role", "limit", "cursor", "updated_since"])?;
    let mut errors = Vec::new();
    let (limit, after) = limit_and_id_cursor::<UserId>(&params, &mut errors);
    let role: Option<Role> = params.parse_value("role", &mut errors, Role::expected);
    let since = parse_updated_since(params.get("updated_since"), &mut errors);
    collect_errors(errors)?;
    let (found, more) = state
        .with_connection(move |connection| Ok(store::list(connection, role, since, after, limit)?))
        .await?;
    let next_cursor =
        crate::extract::pagination::next_cursor(more, &found, |user| user.id.to_string());
    Ok(HttpResponse::Ok().json(UserList {
        data: found.iter().map(UserResource::from).collect(),
        next_cursor,
    }))
}

/// The signed-in user.
#[utoipa::path(
    tag = TAG, operation_id = "get_current_user", security(("bearer" = [])),
    responses(
        (status = 200, description = "You", body = UserResource),
        (status = 401, description = "No valid access token, or not a person's"),
    )
)]
#[get("/users/me")]
pub async fn get_current_user(
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let Actor::User { id, .. } = caller.0 else {
        return Err(ApiError::Unauthenticated(
            "sign in as a person to see your account".to_owned(),
        ));
    };
    let user = state
        .with_connection(move |connection| store::find(connection, id).map_err(map_store_error))
        .await?;
    Ok(respond(actix_web::http::StatusCode::OK, &user))
}

/// Change your own password. Every refresh token of yours is revoked: other devices sign in
/// again.
#[utoipa::path(
    tag = TAG, operation_id = "change_current_user_password", security(("bearer" = [])),
    request_body(content = ChangePassword, content_type = "application/json"),
    responses(
        (status = 204, description = "Changed"),
        (status = 422, description = "The current password is wrong (`current_password`, `incorrect`), or the new one too short"),
    )
)]
#[post("/users/me/password")]
pub async fn change_current_user_password(
    request: HttpRequest,
    caller: Caller,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let Actor::User { id, .. } = caller.0 else {
        return Err(ApiError::Unauthenticated(
            "sign in as a person to change a password".to_owned(),
        ));
    };
    let body: ChangePassword =
        read_json(&request, payload, state.body_limit, Accepts::Json).await?;
    let mut errors = ValidationErrors::default();
    access::validate_password(&body.new_password, "new_password", &mut errors);
    errors.into_result(())?;
    let audit = AuditContext::of(&caller);
    state
        .with_connection(move |connection| {
            let stored = store::password_hash(connection, id).map_err(map_store_error)?;
            // A field error, not 401: the access token is good, and a client that reads 401
            // as "sign in again" would throw away a valid session for a typo.
            if !verify_password(&body.current_password, Some(&stored)) {
                return Err(ApiError::Validation(
                    catalyst_domain::FieldViolation::new(
                        "current_password",
                        "incorrect",
                        "the current password is wrong",
                    )
                    .into(),
                ));
            }
            let hash = hash_password(&body.new_password).map_err(|_| ApiError::Internal)?;
            transaction(connection, |connection| {
                let now = Timestamp::now();
                store::set_password(connection, id, &hash, now)?;
                refresh_tokens::revoke_user(connection, id, now)?;
                let user = store::find(connection, id)?;
                // The trail records that the password changed, never any form of it.
                let before = serde_json::json!({"password": "previous"});
                let after = serde_json::json!({"password": "changed"});
                audit.updated(
                    connection,
                    ENTITY,
                    id.to_string(),
                    user.version,
                    Audience::Admins,
                    (&before, &after),
                )
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Get a user (admins).
#[utoipa::path(
    tag = TAG, operation_id = "get_user", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The user", body = UserResource),
        (status = 403, description = "Not an admin"),
        (status = 404, description = "No such user"),
    )
)]
#[get("/users/{id}")]
pub async fn get_user(
    caller: Caller,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.actor().may_administer()?;
    let id = UserId::from_path(&id)?;
    let user = state
        .with_connection(move |connection| store::find(connection, id).map_err(map_store_error))
        .await?;
    Ok(respond(actix_web::http::StatusCode::OK, &user))
}

/// Change a user's name, role or memberships (admins).
#[utoipa::path(
    tag = TAG, operation_id = "update_user", security(("bearer" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "The user's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read"),
    ),
    request_body(content = UpdateUser, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The user", body = UserResource),
        (status = 403, description = "Not an admin"),
        (status = 404, description = "No such user"),
        (status = 409, description = "An admin changing their own role"),
    )
)]
#[patch("/users/{id}")]
pub async fn update_user(
    request: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    not_me(&id, "PATCH")?;
    caller.actor().may_administer()?;
    let id = UserId::from_path(&id)?;
    let body: UpdateUser =
        read_json(&request, payload, state.body_limit, Accepts::MergePatch).await?;
    let if_match = IfMatch::from_headers(request.headers())?;
    let organisations = body
        .organisation_ids
        .as_deref()
        .map(parse_organisations)
        .transpose()?;
    let audit = AuditContext::of(&caller);
    let caller_id = caller.actor().subject();
    let user = state
        .with_connection(move |connection| {
            transaction(connection, |connection| {
                let current = store::find(connection, id).map_err(map_store_error)?;
                let mut errors = ValidationErrors::default();
                let name = required_patch(&body.name, &current.name, "name", &mut errors);
                let role = required_patch(&body.role, &current.role, "role", &mut errors);
                errors.into_result(())?;
                if role != current.role {
                    refuse_own_account(&caller_id, id, "change your own role")?;
                }
                let fields = UserFields::validate(
                    &current.email,
                    &name,
                    role,
                    organisations.unwrap_or_else(|| current.organisations.clone()),
                )?;
                if_match.check(current.version)?;
                let changed = User {
                    name: fields.name,
                    role: fields.role,
                    organisations: fields.organisations,
                    ..current.clone()
                };
                let updated =
                    store::update(connection, &changed, current.version, Timestamp::now())
                        .map_err(|error| match error {
                            StoreError::VersionMismatch { current } => {
                                ApiError::PreconditionFailed(format!(
                                    "the user changed meanwhile: its current version is {current}"
                                ))
                            }
                            other => map_store_error(other),
                        })?;
                audit.record_updated(connection, &current, &updated)?;
                Ok(updated)
            })
        })
        .await?;
    Ok(respond(actix_web::http::StatusCode::OK, &user))
}

/// Delete a user (admins). Their tokens stop working at once.
#[utoipa::path(
    tag = TAG, operation_id = "delete_user", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "The user's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not an admin"),
        (status = 404, description = "No such user"),
        (status = 409, description = "An admin deleting their own account"),
        (status = 412, description = "Changed since you read it"),
    )
)]
#[delete("/users/{id}")]
pub async fn delete_user(
    request: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    not_me(&id, "DELETE")?;
    caller.actor().may_administer()?;
    let id = UserId::from_path(&id)?;
    refuse_own_account(&caller.actor().subject(), id, "delete your own account")?;
    let if_match = IfMatch::from_headers(request.headers())?;
    let audit = AuditContext::of(&caller);
    state
        .with_connection(move |connection| {
            transaction(connection, |connection| {
                let current = store::find(connection, id).map_err(map_store_error)?;
                if_match.check(current.version)?;
                store::delete(connection, id).map_err(map_store_error)?;
                let before = UserResource::from(&current);
                audit.deleted(
                    connection,
                    ENTITY,
                    id.to_string(),
                    current.version,
                    Audience::Admins,
                    &before,
                )
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

crate::resources::reads::admin_history_endpoint! {
    /// A user's recorded changes, oldest first (admins).
    list_user_history: UserId, ENTITY, "/users/{id}/history", tag = TAG, id = "The user's id"
}

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config
        .service(create_user)
        .service(list_users)
        .service(get_current_user)
        .service(change_current_user_password)
        .service(get_user)
        .service(update_user)
        .service(delete_user)
        .service(list_user_history);
}

crate::audited!(User: ENTITY, UserResource, audience = |_| Audience::Admins);
