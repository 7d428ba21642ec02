//! `POST /api/v1/auth/token`: the OAuth 2.0 token endpoint (password, client credentials and
//! refresh token grants), and `POST /api/v1/auth/revoke`.

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use catalyst_domain::{ClientId, Timestamp, UserId};
use catalyst_persistence::throttle::{self, ThrottlePolicy};
use catalyst_persistence::{api_clients, refresh_tokens, transaction, users, DbConnection};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::credentials::{constant_time_eq, random_token, sha256_hex, verify_password};
use crate::body::{content_type_essence, parse_json, read_bytes};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

pub const TAG: &str = "auth";

/// A token request, as a form (`application/x-www-form-urlencoded`, as OAuth 2.0 asks) or JSON.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"grant_type": "password", "username": "officer@leeds.gov.uk", "password": "correct horse battery staple"}))]
pub struct TokenRequest {
    /// `password`, `client_credentials` or `refresh_token`.
    pub grant_type: String,
    /// The user's email (password grant).
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// The API client's id (client credentials grant).
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub client_secret: Option<String>,
    /// A refresh token from an earlier response (refresh token grant).
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// Accepted for compatibility; a token carries the caller's own permissions.
    #[serde(default)]
    pub scope: Option<String>,
}

/// An access token, and for people a refresh token.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: i64,
    /// Exchange for a new access token with `grant_type=refresh_token`; each is good once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// A refresh token to revoke (RFC 7009).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    pub token: String,
    #[serde(default)]
    pub token_type_hint: Option<String>,
}

const ACCOUNT_POLICY: ThrottlePolicy = ThrottlePolicy {
    allowed_failures: 5,
    window: chrono::Duration::minutes(15),
    block_for: chrono::Duration::minutes(1),
};

const ADDRESS_POLICY: ThrottlePolicy = ThrottlePolicy {
    allowed_failures: 20,
    window: chrono::Duration::minutes(15),
    block_for: chrono::Duration::minutes(5),
};

fn wrong_credentials() -> ApiError {
    ApiError::InvalidCredentials("the credentials are not valid".to_owned())
}

async fn read_form_or_json<T: serde::de::DeserializeOwned>(
    request: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<T, ApiError> {
    let essence = content_type_essence(request);
    let body = read_bytes(request, payload, limit.min(64 * 1024)).await?;
    match essence.as_str() {
        "application/json" => parse_json(&body),
        "application/x-www-form-urlencoded" => {
            serde_urlencoded::from_bytes(&body).map_err(|error| ApiError::InvalidBody {
                detail: format!("the form is not valid: {error}"),
                items: Vec::new(),
            })
        }
        other => Err(ApiError::UnsupportedMediaType(format!(
            "the body must be application/x-www-form-urlencoded or application/json, got {}",
            if other.is_empty() {
                "no Content-Type"
            } else {
                other
            }
        ))),
    }
}

fn required<'a>(value: &'a Option<String>, name: &str) -> Result<&'a str, ApiError> {
    value
        .as_deref()
        .filter(|value| !value.is_empty())
        .ok_or_else(|| {
            ApiError::invalid_member(
                format!("#/{name}"),
                "required",
                format!("{name} is required for this grant_type"),
            )
        })
}

/// Refuses while either key is blocked.
fn check_throttle(
    connection: &mut DbConnection,
    keys: &[&str],
    now: Timestamp,
) -> Result<(), ApiError> {
    for key in keys {
        if let Some(until) = throttle::blocked_until(connection, key, now)? {
            let seconds = (until.as_datetime() - now.as_datetime())
                .num_seconds()
                .max(1);
            return Err(ApiError::TooManyRequests {
                retry_after_seconds: seconds,
            });
        }
    }
    Ok(())
}

/// Counts a failure against the account and the address. The answer is 429 once either is
/// blocked (from the failure that crosses the limit on), otherwise the generic 401.
fn record_failures(
    connection: &mut DbConnection,
    account_key: &str,
    address_key: &str,
    now: Timestamp,
) -> ApiError {
    let outcomes = [
        throttle::record_failure(connection, account_key, ACCOUNT_POLICY, now),
        throttle::record_failure(connection, address_key, ADDRESS_POLICY, now),
    ];
    let mut until: Option<Timestamp> = None;
    for outcome in outcomes {
        match outcome {
            Ok(Some(blocked_until)) => until = until.max(Some(blocked_until)),
            Ok(None) => {}
            Err(error) => return error.into(),
        }
    }
    match until {
        Some(until) => ApiError::TooManyRequests {
            retry_after_seconds: (until.as_datetime() - now.as_datetime())
                .num_seconds()
                .max(1),
        },
        None => wrong_credentials(),
    }
}

/// A new refresh token in `family` for `user`: `<id>.<secret>`, of which only a hash is kept.
fn new_refresh_token(
    connection: &mut DbConnection,
    state: &AppState,
    user: UserId,
    family: &str,
    now: Timestamp,
) -> Result<String, ApiError> {
    let id = uuid::Uuid::now_v7().to_string();
    let secret = random_token(32).map_err(|_| ApiError::Internal)?;
    let expires_at = Timestamp::from_datetime(
        now.as_datetime() + chrono::Duration::seconds(state.keys.settings.refresh_ttl_seconds),
    );
    refresh_tokens::insert(
        connection,
        &id,
        family,
        user,
        &sha256_hex(&secret),
        expires_at,
        now,
    )?;
    Ok(format!("{id}.{secret}"))
}

fn access_token(
    state: &AppState,
    subject: &str,
    now: Timestamp,
) -> Result<(String, i64), ApiError> {
    let token = state
        .keys
        .issue(
            subject,
            now.as_datetime().timestamp(),
            &uuid::Uuid::now_v7().to_string(),
        )
        .map_err(|error| {
            tracing::error!(%error, "cannot sign a token");
            ApiError::Internal
        })?;
    Ok((token, state.keys.settings.access_ttl_seconds))
}

fn password_grant(
    connection: &mut DbConnection,
    state: &AppState,
    username: &str,
    password: &str,
    address: &str,
) -> Result<TokenResponse, ApiError> {
    let now = Timestamp::now();
    let email = username.trim().to_lowercase();
    let account_key = format!("account:{email}");
    let address_key = format!("address:{address}");
    check_throttle(connection, &[&account_key, &address_key], now)?;
    let found = users::find_by_email(connection, &email)?;
    // The hash is checked whether or not the account exists: both refusals take as long.
    let verified = verify_password(password, found.as_ref().map(|(_, hash)| hash.as_str()));
    let user = match (found, verified) {
        (Some((user, _)), true) => user,
        _ => return Err(record_failures(connection, &account_key, &address_key, now)),
    };
    throttle::clear(connection, &account_key)?;
    let family = uuid::Uuid::now_v7().to_string();
    let refresh = transaction(connection, |connection| {
        new_refresh_token(connection, state, user.id, &family, now)
    })?;
    let (access, expires_in) = access_token(state, &format!("user:{}", user.id), now)?;
    Ok(TokenResponse {
        access_token: access,
        token_type: "Bearer",
        expires_in,
        refresh_token: Some(refresh),
    })
}

fn client_credentials_grant(
    connection: &mut DbConnection,
    state: &AppState,
    client_id: &str,
    client_secret: &str,
    address: &str,
) -> Result<TokenResponse, ApiError> {
    let now = Timestamp::now();
    let account_key = format!("client:{client_id}");
    let address_key = format!("address:{address}");
    check_throttle(connection, &[&account_key, &address_key], now)?;
    let presented = sha256_hex(client_secret);
    let client = client_id
        .parse::<ClientId>()
        .ok()
        .map(|id| api_clients::find(connection, id))
        .transpose()
        .or_else(|error| match error {
            catalyst_persistence::StoreError::NotFound => Ok(None),
            other => Err(other),
        })?;
    let client = match client {
        Some((client, stored))
            if constant_time_eq(&stored, &presented) && client.revoked_at.is_none() =>
        {
            client
        }
        _ => return Err(record_failures(connection, &account_key, &address_key, now)),
    };
    throttle::clear(connection, &account_key)?;
    api_clients::touch(connection, client.id, now)?;
    let (access, expires_in) = access_token(state, &format!("client:{}", client.id), now)?;
    Ok(TokenResponse {
        access_token: access,
        token_type: "Bearer",
        expires_in,
        refresh_token: None,
    })
}

fn refresh_token_grant(
    connection: &mut DbConnection,
    state: &AppState,
    presented: &str,
    address: &str,
) -> Result<TokenResponse, ApiError> {
    let now = Timestamp::now();
    let address_key = format!("address:{address}");
    check_throttle(connection, &[&address_key], now)?;
    let (id, secret) = presented.split_once('.').unwrap_or((presented, ""));
    let outcome = transaction(connection, |connection| {
        let Some(stored) = refresh_tokens::find(connection, id)? else {
            return Ok(Err(()));
        };
        if !constant_time_eq(&stored.token_hash, &sha256_hex(secret)) {
            return Ok(Err(()));
        }
        let expired = stored.expires_at <= now.to_naive_utc();
        if stored.revoked_at.is_some() || expired {
            return Ok(Err(()));
        }
        if stored.used_at.is_some() || !refresh_tokens::mark_used(connection, id, now)? {
            // A token used twice was copied: end the whole sign-in.
            tracing::warn!(family = %stored.family_id, "refresh token reused: family revoked");
            refresh_tokens::revoke_family(connection, &stored.family_id, now)?;
            return Ok(Err(()));
        }
        let user = stored.user()?;
        let refresh = new_refresh_token(connection, state, user, &stored.family_id, now)?;
        Ok::<_, ApiError>(Ok((user, refresh)))
    })?;
    match outcome {
        Ok((user, refresh)) => {
            let (access, expires_in) = access_token(state, &format!("user:{user}"), now)?;
            Ok(TokenResponse {
                access_token: access,
                token_type: "Bearer",
                expires_in,
                refresh_token: Some(refresh),
            })
        }
        Err(()) => {
            throttle::record_failure(connection, &address_key, ADDRESS_POLICY, now)?;
            Err(wrong_credentials())
        }
    }
}

/// Get an access token.
///
/// People sign in with `grant_type=password` (`username`, `password`) and get a refresh token
/// too; API clients use `grant_type=client_credentials` (`client_id`, `client_secret`). A refresh
/// token is exchanged once (`grant_type=refresh_token`) for a new pair; presenting a used one
/// revokes the whole sign-in. Wrong credentials of any kind get the same 401; repeated failures
/// per account and per address get 429 with `Retry-After`.
#[utoipa::path(
    tag = TAG,
    operation_id = "create_token",
    request_body(content(
        (TokenRequest = "application/x-www-form-urlencoded"),
        (TokenRequest = "application/json"),
    )),
    responses(
        (status = 200, description = "The tokens", body = TokenResponse),
        (status = 401, description = "Wrong credentials", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failures: retry after Retry-After seconds", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/token")]
pub async fn create_token(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body: TokenRequest = read_form_or_json(&request, payload, state.body_limit).await?;
    let address = request
        .peer_addr()
        .map(|address| address.ip().to_string())
        .unwrap_or_else(|| "unknown".to_owned());
    let state_for_grant = state.clone();
    let response = match body.grant_type.as_str() {
        "password" => {
            let username = required(&body.username, "username")?.to_owned();
            let password = required(&body.password, "password")?.to_owned();
            state
                .with_connection(move |connection| {
                    password_grant(connection, &state_for_grant, &username, &password, &address)
                })
                .await?
        }
        "client_credentials" => {
            let client_id = required(&body.client_id, "client_id")?.to_owned();
            let client_secret = required(&body.client_secret, "client_secret")?.to_owned();
            state
                .with_connection(move |connection| {
                    client_credentials_grant(connection, &state_for_grant, &client_id, &client_secret, &address)
                })
                .await?
        }
        "refresh_token" => {
            let refresh = required(&body.refresh_token, "refresh_token")?.to_owned();
            state
                .with_connection(move |connection| {
                    refresh_token_grant(connection, &state_for_grant, &refresh, &address)
                })
                .await?
        }
        other => {
            return Err(ApiError::InvalidBody {
                detail: format!(
                    "grant_type {other:?} is not supported: use password, client_credentials or refresh_token"
                ),
                items: vec![crate::problem::ProblemItem::member(
                    "#/grant_type",
                    "unsupported_grant_type",
                    "use password, client_credentials or refresh_token",
                )],
            })
        }
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(response))
}

/// Revoke a refresh token, and every token of the same sign-in (RFC 7009). Answers 200 whether
/// or not the token was valid, so it reveals nothing.
#[utoipa::path(
    tag = TAG,
    operation_id = "revoke_token",
    request_body(content(
        (RevokeRequest = "application/x-www-form-urlencoded"),
        (RevokeRequest = "application/json"),
    )),
    responses((status = 200, description = "Revoked, or was not valid"))
)]
#[post("/auth/revoke")]
pub async fn revoke_token(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body: RevokeRequest = read_form_or_json(&request, payload, state.body_limit).await?;
    let refuse = |member: &str, code: &str, detail: &str| {
        ApiError::invalid_member(format!("#/{member}"), code, detail)
    };
    if body.token.is_empty() {
        return Err(refuse("token", "required", "token is required"));
    }
    if body.token.chars().count() > 4096 {
        return Err(refuse(
            "token",
            "too_long",
            "token must be at most 4096 characters",
        ));
    }
    // RFC 7009: a hint the server does not know is ignored; a bounded one, that is.
    if body
        .token_type_hint
        .as_deref()
        .is_some_and(|hint| hint.chars().count() > 64)
    {
        return Err(refuse(
            "token_type_hint",
            "too_long",
            "token_type_hint must be at most 64 characters",
        ));
    }
    state
        .with_connection(move |connection| {
            let (id, secret) = body.token.split_once('.').unwrap_or((&body.token, ""));
            if let Some(stored) = refresh_tokens::find(connection, id)? {
                if constant_time_eq(&stored.token_hash, &sha256_hex(secret)) {
                    refresh_tokens::revoke_family(connection, &stored.family_id, Timestamp::now())?;
                }
            }
            Ok(())
        })
        .await?;
    Ok(HttpResponse::Ok().finish())
}

/// The public keys that verify access tokens, as a JWK Set (RFC 7517). Empty when tokens are
/// signed with a shared secret.
#[utoipa::path(
    tag = TAG,
    operation_id = "get_jwks",
    responses((status = 200, description = "The JWK Set", content_type = "application/json", body = Object))
)]
#[get("/auth/jwks.json")]
pub async fn get_jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(state.keys.jwks())
}
