//! Who is calling: the bearer token checked, and the user or client it names loaded afresh, so
//! a deleted user's or a revoked client's token stops working at once.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use catalyst_domain::{Actor, ClientId, Timestamp, UserId};
use catalyst_persistence::{api_clients, users, DbConnection, StoreError};

use crate::auth::keys::{Claims, InvalidToken, TokenKeys};
use crate::problem::ApiError;
use crate::server::state::AppState;

/// The authenticated caller (or `Actor::Anonymous` when no token was sent).
#[derive(Debug, Clone)]
pub struct Caller(pub Actor);

impl Caller {
    pub fn actor(&self) -> &Actor {
        &self.0
    }

    /// The audit trail's name for the caller.
    pub fn audit_name(&self) -> String {
        self.0.subject().unwrap_or_else(|| "anonymous".to_owned())
    }
}

/// The reader of a public collection whose records everyone sees alike: credentials are not
/// looked at (no token check, no database hop), as for an anonymous caller.
#[derive(Debug, Clone, Copy)]
pub struct Anyone;

static ANONYMOUS: Actor = Actor::Anonymous;

impl Anyone {
    pub fn actor(&self) -> &Actor {
        &ANONYMOUS
    }
}

impl FromRequest for Anyone {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(_: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(Anyone))
    }
}

/// The token in `Authorization: Bearer <token>`, if the header is there.
pub(crate) fn bearer_token(request: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = request.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let text = value.to_str().map_err(|_| ApiError::InvalidToken)?;
    let (scheme, token) = text.split_once(' ').ok_or(ApiError::InvalidToken)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::Unauthenticated(
            "use Authorization: Bearer <access token>".to_owned(),
        ));
    }
    Ok(Some(token.trim().to_owned()))
}

/// The subject of the request's bearer token if it is valid: who the rate limiter counts and
/// the idempotency guard keys a request to (the caller extractor answers for a bad one).
pub(crate) fn verified_subject(request: &HttpRequest, keys: &TokenKeys) -> Option<String> {
    let token = bearer_token(request).ok().flatten()?;
    verify_once(request, keys, &token)
        .ok()
        .map(|claims| claims.sub)
}

/// A bearer token checked on this request, and what the check found.
struct VerifiedToken {
    token: String,
    outcome: Result<Claims, InvalidToken>,
}

/// The bearer token's claims, its signature checked once per request: the rate limiter, the
/// idempotency guard and the caller all ask, and each later one reads the first one's answer
/// from the request's extensions.
pub(crate) fn verify_once(
    request: &HttpRequest,
    keys: &TokenKeys,
    token: &str,
) -> Result<Claims, InvalidToken> {
    if let Some(seen) = request.extensions().get::<VerifiedToken>() {
        if seen.token == token {
            return seen.outcome.clone();
        }
    }
    let outcome = keys.verify(token);
    request.extensions_mut().insert(VerifiedToken {
        token: token.to_owned(),
        outcome: outcome.clone(),
    });
    outcome
}

/// The caller as its bearer token names it: the token checked (signature, expiry), the user or
/// client it names not yet loaded. A read loads it on the hop that reads the record
/// ([`Reader`]), so that a request makes one trip to the blocking pool rather than two.
#[derive(Debug, Clone, Copy)]
pub enum CallerToken {
    Anonymous,
    User(UserId),
    Client(ClientId),
}

impl CallerToken {
    fn of(request: &HttpRequest) -> Result<Self, ApiError> {
        let Some(token) = bearer_token(request)? else {
            return Ok(CallerToken::Anonymous);
        };
        let state = request
            .app_data::<web::Data<AppState>>()
            .ok_or(ApiError::Internal)?;
        let claims = verify_once(request, &state.keys, &token).map_err(|reason| {
            tracing::info!(%reason, "refused an access token");
            ApiError::InvalidToken
        })?;
        let (kind, id) = claims.sub.split_once(':').ok_or(ApiError::InvalidToken)?;
        match kind {
            "user" => Ok(CallerToken::User(
                id.parse().map_err(|_| ApiError::InvalidToken)?,
            )),
            "client" => Ok(CallerToken::Client(
                id.parse().map_err(|_| ApiError::InvalidToken)?,
            )),
            _ => Err(ApiError::InvalidToken),
        }
    }

    /// 401 without a token, as `Actor::signed_in` (a token that names no one any more is
    /// refused when it is loaded).
    pub fn signed_in(&self) -> Result<(), catalyst_domain::Denied> {
        match self {
            CallerToken::Anonymous => Err(catalyst_domain::Denied::Unauthenticated),
            _ => Ok(()),
        }
    }

    /// The caller the token names, read afresh: a deleted user's or a revoked client's token is
    /// refused (401).
    pub fn load(self, connection: &mut DbConnection) -> Result<Actor, ApiError> {
        match self {
            CallerToken::Anonymous => Ok(Actor::Anonymous),
            CallerToken::User(id) => match users::find(connection, id) {
                Ok(user) => Ok(user.actor()),
                Err(StoreError::NotFound) => Err(ApiError::InvalidToken),
                Err(error) => Err(error.into()),
            },
            CallerToken::Client(id) => match api_clients::find(connection, id) {
                Ok((client, _)) if client.revoked_at.is_none() => {
                    // The last-used time is kept to the minute: no write on most requests.
                    let now = Timestamp::now();
                    let stale = client.last_used_at.is_none_or(|used| {
                        now.as_datetime() - used.as_datetime() >= chrono::Duration::minutes(1)
                    });
                    if stale {
                        api_clients::touch(connection, id, now)?;
                    }
                    Ok(client.actor())
                }
                Ok(_) | Err(StoreError::NotFound) => Err(ApiError::InvalidToken),
                Err(error) => Err(error.into()),
            },
        }
    }
}

impl FromRequest for CallerToken {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(CallerToken::of(request))
    }
}

/// Who reads a record: loaded on the blocking hop that reads it.
pub trait Reader: Send + 'static {
    fn load(self, connection: &mut DbConnection) -> Result<Actor, ApiError>;
}

impl Reader for CallerToken {
    fn load(self, connection: &mut DbConnection) -> Result<Actor, ApiError> {
        CallerToken::load(self, connection)
    }
}

/// A caller loaded already (by the `Caller` extractor, on a hop of its own).
impl Reader for Caller {
    fn load(self, _: &mut DbConnection) -> Result<Actor, ApiError> {
        Ok(self.0)
    }
}

impl Reader for Anyone {
    fn load(self, _: &mut DbConnection) -> Result<Actor, ApiError> {
        Ok(Actor::Anonymous)
    }
}

async fn identify(request: HttpRequest) -> Result<Caller, ApiError> {
    let token = CallerToken::of(&request)?;
    if let CallerToken::Anonymous = token {
        return Ok(Caller(Actor::Anonymous));
    }
    let state = request
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or(ApiError::Internal)?;
    let actor = state
        .with_connection(move |connection| token.load(connection))
        .await?;
    Ok(Caller(actor))
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(identify(request.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::keys::tests::keys_with as keys;

    #[test]
    fn a_token_is_verified_once_per_request() {
        let ours = keys(b"0123456789abcdef0123456789abcdef");
        let others = keys(b"fedcba9876543210fedcba9876543210");
        let token = ours
            .issue("user:1", chrono::Utc::now().timestamp(), "j1")
            .unwrap();
        let request = actix_web::test::TestRequest::default().to_http_request();
        assert_eq!(verify_once(&request, &ours, &token).unwrap().sub, "user:1");
        // The second asker reads the first answer: its keys (which would refuse) are not used.
        assert_eq!(
            verify_once(&request, &others, &token).unwrap().sub,
            "user:1"
        );
        // Another request checks afresh.
        let fresh = actix_web::test::TestRequest::default().to_http_request();
        assert!(verify_once(&fresh, &others, &token).is_err());
        // Another token on the same request is checked afresh too.
        let forged = others
            .issue("user:2", chrono::Utc::now().timestamp(), "j2")
            .unwrap();
        assert!(verify_once(&request, &ours, &forged).is_err());
    }
}
