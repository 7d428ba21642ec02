//! `Idempotency-Key` on creating POSTs (the IETF draft's semantics): the first response is kept
//! for 24 hours, scoped to the caller and the route; a retry with the same key and body gets it
//! again (`Idempotent-Replayed: true`), the same key with another body is 422, and a retry while
//! the first is still running waits for it and gets its response. The keys live in the database,
//! so any replica can answer. Claiming the key, the request's own writes and keeping its response
//! are one transaction ([`UnitOfWork`]): one commit, and a request that fails in a way worth
//! retrying leaves nothing behind, its key included.

use actix_web::body::BoxBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage, HttpResponse, ResponseError};
use catalyst_domain::Timestamp;
use catalyst_persistence::idempotency::{self, Claim, KeyScope, StoredResponse};

use crate::auth::credentials::sha256_hex;
use crate::extract::body::BodyChunks;
use crate::problem::{ApiError, ProblemItem};
use crate::server::state::AppState;
use crate::server::unit_of_work::UnitOfWork;

pub const HEADER: &str = "idempotency-key";
const MAX_KEY_LENGTH: usize = 255;
const KEEP_HOURS: i64 = 24;
/// Headers of the first response worth replaying.
const REPLAYED_HEADERS: [HeaderName; 3] = [header::LOCATION, header::ETAG, header::CONTENT_TYPE];

fn invalid_key(detail: &str) -> ApiError {
    ApiError::InvalidHeader(ProblemItem::parameter(
        "Idempotency-Key",
        "invalid_idempotency_key",
        detail,
    ))
}

fn conflict(code: &str, detail: &str) -> ApiError {
    ApiError::Conflict(ProblemItem::parameter("Idempotency-Key", code, detail))
}

/// Middleware: does nothing unless a POST to the API carries `Idempotency-Key` from a caller
/// with a valid token (others get their 401 from the handler).
pub async fn guard(
    mut request: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let key = request.headers().get(HEADER).cloned();
    // An import's upload streams to the database and is never held whole: its handler
    // fingerprints it as it arrives and claims the key itself (`claim_key`).
    let applies = request.method() == Method::POST
        && request.path().starts_with("/api/")
        && !request.path().starts_with("/api/v1/auth/")
        && request.path() != "/api/v1/imports";
    let (Some(key), true) = (key, applies) else {
        return next.call(request).await;
    };
    let Some(state) = request.app_data::<web::Data<AppState>>().cloned() else {
        return next.call(request).await;
    };
    let key = match parse_key(&key) {
        Ok(key) => key,
        Err(error) => return Ok(request.into_response(error.error_response())),
    };
    let caller = crate::auth::caller::verified_subject(request.request(), &state.keys);
    let Some(caller) = caller else {
        return next.call(request).await;
    };

    // Read the body to fingerprint it, then hand it on unchanged.
    let mut body = web::BytesMut::new();
    let mut chunks = BodyChunks::new(request.take_payload(), state.body_timeout);
    loop {
        let chunk = match chunks.next().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(error) => return Ok(request.into_response(error.error_response())),
        };
        if body.len() + chunk.len() > state.body_limit {
            return Ok(request.into_response(
                ApiError::PayloadTooLarge {
                    limit: state.body_limit,
                }
                .error_response(),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    let body = body.freeze();
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let fingerprint = sha256_hex(&format!(
        "{content_type}\n{}",
        String::from_utf8_lossy(&body)
    ));
    request.set_payload(Payload::from(body));

    let scope = KeyScope {
        caller,
        route: format!("POST {}", request.path()),
        key,
    };
    // The key is claimed in the transaction the handler then writes in, and its response kept
    // there before the one commit. A concurrent request with the same key waits on the key's
    // row (PostgreSQL's unique index, SQLite's write lock) and then replays what this one kept.
    let unit = match UnitOfWork::begin(&state.pool).await {
        Ok(unit) => unit,
        Err(error) => return Ok(request.into_response(error.error_response())),
    };
    let claim_scope = scope.clone();
    let claim = unit
        .run(move |connection| claim_key(connection, &claim_scope, &fingerprint))
        .await;
    let answered = match claim {
        Ok(KeyClaim::New) => None,
        Ok(KeyClaim::Replay(stored)) => Some(replay(&stored)),
        Err(error) => Some(error.error_response()),
    };
    if let Some(response) = answered {
        let _ = unit.roll_back().await;
        return Ok(request.into_response(response));
    }

    let response = match unit.scope(next.call(request)).await {
        Ok(response) => response,
        Err(error) => {
            let _ = unit.roll_back().await;
            return Err(error);
        }
    };
    let status = response.status();
    let (request, response) = response.into_parts();
    let (head, body) = response.into_parts();
    let Ok(bytes) = actix_web::body::to_bytes(body).await else {
        let _ = unit.roll_back().await;
        return Ok(ServiceResponse::new(
            request,
            ApiError::Internal.error_response(),
        ));
    };
    // Responses worth retrying (a conflict of the moment, a rate limit, a server fault) leave
    // nothing behind, key included; anything else is the answer to this request, kept for its
    // retries in the transaction that wrote it.
    let retryable = status.is_server_error()
        || status == StatusCode::CONFLICT
        || status == StatusCode::TOO_MANY_REQUESTS;
    if retryable {
        if let Err(error) = unit.roll_back().await {
            tracing::error!(%error, "could not roll back a failed request");
        }
    } else {
        let stored = StoredResponse {
            status: status.as_u16(),
            headers: replayed_headers(head.headers()),
            body: String::from_utf8_lossy(&bytes).into_owned(),
        };
        let committed = unit
            .commit_after(move |connection| Ok(idempotency::complete(connection, &scope, &stored)?))
            .await;
        if let Err(error) = committed {
            // Nothing the handler wrote was kept: the client must not be told it was.
            tracing::error!(%error, "could not commit an idempotent request");
            return Ok(ServiceResponse::new(request, error.error_response()));
        }
    }
    let response = head.set_body(bytes).map_into_boxed_body();
    Ok(ServiceResponse::new(request, response))
}

/// The headers of a response worth replaying, as a JSON object.
fn replayed_headers(headers: &actix_web::http::header::HeaderMap) -> String {
    serde_json::Value::Object(
        REPLAYED_HEADERS
            .iter()
            .filter_map(|name| {
                headers
                    .get(name)
                    .and_then(|value| value.to_str().ok())
                    .map(|value| {
                        (
                            name.as_str().to_owned(),
                            serde_json::Value::String(value.to_owned()),
                        )
                    })
            })
            .collect(),
    )
    .to_string()
}

/// The key, if it is 1 to 255 printable ASCII characters.
fn parse_key(value: &HeaderValue) -> Result<String, ApiError> {
    match value.to_str() {
        Ok(text)
            if !text.is_empty()
                && text.len() <= MAX_KEY_LENGTH
                && text
                    .bytes()
                    .all(|byte| byte.is_ascii_graphic() || byte == b' ') =>
        {
            Ok(text.to_owned())
        }
        _ => Err(invalid_key(
            "Idempotency-Key must be 1 to 255 printable ASCII characters",
        )),
    }
}

/// The key a request carries, scoped to its caller and route (`None` without a key).
pub fn scope_of(
    request: &actix_web::HttpRequest,
    caller: &str,
) -> Result<Option<KeyScope>, ApiError> {
    request
        .headers()
        .get(HEADER)
        .map(|value| {
            Ok(KeyScope {
                caller: caller.to_owned(),
                route: format!("POST {}", request.path()),
                key: parse_key(value)?,
            })
        })
        .transpose()
}

/// What a key says about a request, once its body's fingerprint is known.
pub enum KeyClaim {
    /// First use: go ahead, and keep the response in the same transaction.
    New,
    /// The same request was made already: replay this (with `replay`).
    Replay(StoredResponse),
}

/// Claims `scope` for a request with `fingerprint`, inside the transaction that does the request's
/// work (so the key and the work commit together). A key of another request is 422; one whose
/// first request is still being written (on another connection) is waited for once, then 409.
pub fn claim_key(
    connection: &mut catalyst_persistence::DbConnection,
    scope: &KeyScope,
    fingerprint: &str,
) -> Result<KeyClaim, ApiError> {
    let keep = chrono::Duration::hours(KEEP_HOURS);
    for _ in 0..2 {
        match idempotency::claim(connection, scope, fingerprint, Timestamp::now(), keep)? {
            Claim::New => return Ok(KeyClaim::New),
            Claim::Done(stored) => return Ok(KeyClaim::Replay(stored)),
            Claim::Mismatch => return Err(reused_key()),
            // A concurrent request's insert made ours wait, then fail: it has committed by
            // now, so a second look finds its response.
            Claim::InFlight => {}
        }
    }
    Err(conflict(
        "request_in_flight",
        "a request with this Idempotency-Key is still being processed: retry shortly",
    ))
}

/// Keeps `response` (status, Location, body) as the answer to retries of `scope`.
pub fn keep_upload_response(
    connection: &mut catalyst_persistence::DbConnection,
    scope: &KeyScope,
    status: StatusCode,
    location: &str,
    body: &str,
) -> Result<(), ApiError> {
    let stored = StoredResponse {
        status: status.as_u16(),
        headers: serde_json::json!({
            "location": location,
            "content-type": "application/json",
        })
        .to_string(),
        body: body.to_owned(),
    };
    Ok(idempotency::complete(connection, scope, &stored)?)
}

fn reused_key() -> ApiError {
    ApiError::InvalidBody {
        detail:
            "this Idempotency-Key was used for a different request: use a new key for a new request"
                .to_owned(),
        items: vec![ProblemItem::parameter(
            "Idempotency-Key",
            "idempotency_key_reused",
            "the key belongs to another request body",
        )],
    }
}

/// The first response again, marked as a replay.
pub fn replay(stored: &StoredResponse) -> HttpResponse {
    let mut response =
        HttpResponse::build(StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK));
    if let Ok(serde_json::Value::Object(headers)) =
        serde_json::from_str::<serde_json::Value>(&stored.headers)
    {
        for (name, value) in headers {
            if let (Ok(name), Some(Ok(value))) = (
                HeaderName::from_bytes(name.as_bytes()),
                value.as_str().map(HeaderValue::from_str),
            ) {
                response.insert_header((name, value));
            }
        }
    }
    response.insert_header((
        HeaderName::from_static("idempotent-replayed"),
        HeaderValue::from_static("true"),
    ));
    response.body(stored.body.clone())
}
