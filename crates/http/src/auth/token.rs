//! `POST /api/v1/auth/token`: the OAuth 2.0 token endpoint (password, client credentials and
//! refresh token grants), and `POST /api/v1/auth/revoke`.

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use catalyst_domain::{ApiClient, ClientId, Scope, Timestamp, UserId};
use catalyst_persistence::throttle::{self, ThrottlePolicy};
use catalyst_persistence::{api_clients, refresh_tokens, transaction, users, DbConnection};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::credentials::{constant_time_eq, random_token, sha256_hex, verify_password};
use crate::auth::oauth::{ClientAuthentication, OAuthErrorCode, OAuthProblem, TokenError};
use crate::extract::body::{content_type_essence, parse_json, read_bytes};
use crate::problem::ApiError;
use crate::server::state::AppState;

pub const TAG: &str = "auth";

/// A token request (`application/x-www-form-urlencoded`, as OAuth 2.0 asks; JSON is read too).
/// Parameters the server does not know are ignored (RFC 6749 §3.2).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"grant_type": "password", "username": "officer@leeds.gov.uk", "password": "correct horse battery staple"}))]
pub struct TokenRequest {
    /// `password`, `client_credentials` or `refresh_token`.
    pub grant_type: String,
    /// The user's email (password grant).
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// The API client's id (client credentials grant), unless sent with HTTP Basic.
    #[serde(default)]
    pub client_id: Option<String>,
    /// The API client's secret, unless sent with HTTP Basic.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// A refresh token from an earlier response (refresh token grant).
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// API clients: space-separated scopes the token must carry, each one the client holds
    /// (`read write reports webhooks metrics`). People's tokens carry their role, not scopes.
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
    /// For an API client: the scopes the token carries, space-separated (all the client holds).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "read write")]
    pub scope: Option<String>,
}

/// A refresh token to revoke (RFC 7009). Parameters the server does not know are ignored.
#[derive(Debug, Deserialize, ToSchema)]
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

/// A password or refresh token that is wrong, unknown, used or expired: one answer for all, so
/// it reveals nothing.
fn invalid_grant() -> TokenError {
    TokenError::new(
        OAuthErrorCode::InvalidGrant,
        "the credentials are not valid",
    )
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

fn required<'a>(value: &'a Option<String>, name: &str) -> Result<&'a str, TokenError> {
    value
        .as_deref()
        .filter(|value| !value.is_empty())
        .ok_or_else(|| {
            TokenError::parameter(
                name,
                "required",
                format!("{name} is required for this grant_type"),
            )
        })
}

/// The scopes asked for (space-separated, RFC 6749 §3.3); an unknown one is `invalid_scope`.
fn requested_scopes(scope: Option<&str>) -> Result<Vec<Scope>, TokenError> {
    scope
        .unwrap_or("")
        .split(' ')
        .filter(|name| !name.is_empty())
        .map(|name| {
            name.parse::<Scope>().map_err(|unknown| {
                TokenError::new(
                    OAuthErrorCode::InvalidScope,
                    format!(
                        "scope {:?} is not known: use {}",
                        unknown.value, unknown.expected
                    ),
                )
            })
        })
        .collect()
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
/// blocked (from the failure that crosses the limit on), otherwise `refusal`.
fn record_failures(
    connection: &mut DbConnection,
    account_key: &str,
    address_key: &str,
    now: Timestamp,
    refusal: TokenError,
) -> TokenError {
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
        Some(until) => TokenError::Api(ApiError::TooManyRequests {
            retry_after_seconds: (until.as_datetime() - now.as_datetime())
                .num_seconds()
                .max(1),
        }),
        None => refusal,
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

/// Checks a client's id and secret, throttled per client and per address like passwords.
fn authenticate_client(
    connection: &mut DbConnection,
    authentication: &ClientAuthentication,
    address: &str,
    now: Timestamp,
) -> Result<Option<ApiClient>, TokenError> {
    let Some((client_id, client_secret)) = authentication.credentials() else {
        return Ok(None);
    };
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
    match client {
        Some((client, stored))
            if constant_time_eq(&stored, &presented) && client.revoked_at.is_none() =>
        {
            throttle::clear(connection, &account_key)?;
            Ok(Some(client))
        }
        _ => Err(record_failures(
            connection,
            &account_key,
            &address_key,
            now,
            TokenError::invalid_client(authentication, "the client credentials are not valid"),
        )),
    }
}

fn password_grant(
    connection: &mut DbConnection,
    state: &AppState,
    username: &str,
    password: &str,
    address: &str,
) -> Result<TokenResponse, TokenError> {
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
        _ => {
            return Err(record_failures(
                connection,
                &account_key,
                &address_key,
                now,
                invalid_grant(),
            ))
        }
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
        scope: None,
    })
}

fn client_credentials_grant(
    connection: &mut DbConnection,
    state: &AppState,
    authentication: &ClientAuthentication,
    requested: &[Scope],
    address: &str,
) -> Result<TokenResponse, TokenError> {
    let now = Timestamp::now();
    let Some(client) = authenticate_client(connection, authentication, address, now)? else {
        return Err(TokenError::invalid_client(
            authentication,
            "client_credentials needs the client's id and secret: HTTP Basic, or client_id and client_secret in the form",
        ));
    };
    if let Some(missing) = requested
        .iter()
        .find(|scope| !client.scopes.contains(scope))
    {
        return Err(TokenError::new(
            OAuthErrorCode::InvalidScope,
            format!("this client does not hold the {missing} scope"),
        ));
    }
    api_clients::touch(connection, client.id, now)?;
    let (access, expires_in) = access_token(state, &format!("client:{}", client.id), now)?;
    let scope = client
        .scopes
        .iter()
        .map(Scope::as_str)
        .collect::<Vec<_>>()
        .join(" ");
    Ok(TokenResponse {
        access_token: access,
        token_type: "Bearer",
        expires_in,
        refresh_token: None,
        scope: Some(scope),
    })
}

fn refresh_token_grant(
    connection: &mut DbConnection,
    state: &AppState,
    presented: &str,
    address: &str,
) -> Result<TokenResponse, TokenError> {
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
                scope: None,
            })
        }
        Err(()) => {
            throttle::record_failure(connection, &address_key, ADDRESS_POLICY, now)?;
            Err(invalid_grant())
        }
    }
}

/// What a grant needs from the request, read before a connection is taken.
enum Grant {
    Password { username: String, password: String },
    ClientCredentials { scopes: Vec<Scope> },
    RefreshToken { refresh_token: String },
}

impl Grant {
    fn read(body: &TokenRequest) -> Result<Self, TokenError> {
        let scopes = || requested_scopes(body.scope.as_deref());
        let grant = match body.grant_type.as_str() {
            "password" => Self::Password {
                username: required(&body.username, "username")?.to_owned(),
                password: required(&body.password, "password")?.to_owned(),
            },
            "client_credentials" => {
                return Ok(Self::ClientCredentials { scopes: scopes()? })
            }
            "refresh_token" => Self::RefreshToken {
                refresh_token: required(&body.refresh_token, "refresh_token")?.to_owned(),
            },
            "" => {
                return Err(TokenError::parameter(
                    "grant_type",
                    "required",
                    "grant_type is required",
                ))
            }
            other => {
                return Err(TokenError::new(
                    OAuthErrorCode::UnsupportedGrantType,
                    format!(
                        "grant_type {other:?} is not supported: use password, client_credentials or refresh_token"
                    ),
                ))
            }
        };
        if !scopes()?.is_empty() {
            return Err(TokenError::new(
                OAuthErrorCode::InvalidScope,
                "a person's token carries the permissions of their role: scope is for API clients",
            ));
        }
        Ok(grant)
    }
}

/// Get an access token (OAuth 2.0, RFC 6749).
///
/// People sign in with `grant_type=password` (`username`, `password`) and get a refresh token
/// too; API clients use `grant_type=client_credentials`, authenticating with HTTP Basic
/// (`client_id:client_secret`, each form-encoded) or with `client_id` and `client_secret` in the
/// form. A refresh token is exchanged once (`grant_type=refresh_token`) for a new pair;
/// presenting a used one revokes the whole sign-in. Errors carry RFC 6749's `error` and
/// `error_description` beside the problem members: `invalid_request` (400), `invalid_client`
/// (401, with `WWW-Authenticate: Basic` when Basic was used), `invalid_grant` (400: a wrong
/// password or refresh token, one answer for every cause), `unsupported_grant_type` and
/// `invalid_scope` (400). Repeated failures per account and per address get 429 with
/// `Retry-After` (`temporarily_unavailable`).
#[utoipa::path(
    tag = TAG,
    operation_id = "create_token",
    request_body(content((TokenRequest = "application/x-www-form-urlencoded"))),
    responses(
        (status = 200, description = "The tokens", body = TokenResponse),
        (status = 400, description = "invalid_request, invalid_grant, unsupported_grant_type or invalid_scope", body = OAuthProblem, content_type = "application/problem+json"),
        (status = 401, description = "invalid_client: the client's credentials are wrong or missing", body = OAuthProblem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failures: retry after Retry-After seconds", body = OAuthProblem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/token")]
pub async fn create_token(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, TokenError> {
    let body: TokenRequest = read_form_or_json(&request, payload, state.body_limit).await?;
    let grant = Grant::read(&body)?;
    let authentication = ClientAuthentication::read(
        &request,
        body.client_id.as_deref(),
        body.client_secret.as_deref(),
    )?;
    let address = request
        .peer_addr()
        .map(|address| address.ip().to_string())
        .unwrap_or_else(|| "unknown".to_owned());
    let state_for_grant = state.clone();
    let outcome = state
        .with_connection(move |connection| {
            let now = Timestamp::now();
            let granted = match grant {
                Grant::ClientCredentials { scopes } => client_credentials_grant(
                    connection,
                    &state_for_grant,
                    &authentication,
                    &scopes,
                    &address,
                ),
                // A person needs no client; a client that authenticates anyway must do so
                // rightly (RFC 6749 §3.2.1).
                Grant::Password { username, password } => {
                    authenticate_client(connection, &authentication, &address, now).and_then(|_| {
                        password_grant(connection, &state_for_grant, &username, &password, &address)
                    })
                }
                Grant::RefreshToken { refresh_token } => {
                    authenticate_client(connection, &authentication, &address, now).and_then(|_| {
                        refresh_token_grant(connection, &state_for_grant, &refresh_token, &address)
                    })
                }
            };
            // The database's own failures go back as such, so a lost connection is dropped.
            match granted {
                Err(TokenError::Api(error)) => Err(error),
                other => Ok(other),
            }
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(outcome?))
}

/// Revoke a refresh token, and every token of the same sign-in (RFC 7009). Answers 200 whether
/// or not the token was valid, so it reveals nothing.
#[utoipa::path(
    tag = TAG,
    operation_id = "revoke_token",
    request_body(content((RevokeRequest = "application/x-www-form-urlencoded"))),
    responses(
        (status = 200, description = "Revoked, or was not valid"),
        (status = 400, description = "invalid_request: no token, or one too long", body = OAuthProblem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/revoke")]
pub async fn revoke_token(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, TokenError> {
    let body: RevokeRequest = read_form_or_json(&request, payload, state.body_limit).await?;
    if body.token.is_empty() {
        return Err(TokenError::parameter(
            "token",
            "required",
            "token is required",
        ));
    }
    if body.token.chars().count() > 4096 {
        return Err(TokenError::parameter(
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
        return Err(TokenError::parameter(
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
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
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
