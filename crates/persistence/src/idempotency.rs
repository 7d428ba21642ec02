//! Idempotency keys: the first response to a creating request, replayed to a retry with the same
//! key, in the database so that a retry reaching another replica gets it too.

use catalyst_domain::Timestamp;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::database::{write_transaction, DbConnection};
use crate::error::{is_unique_violation, StoreError};
use crate::schema::idempotency_keys;

/// Which request a key belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyScope {
    /// `user:<id>` or `client:<id>`.
    pub caller: String,
    /// `POST /api/v1/organisations`.
    pub route: String,
    pub key: String,
}

/// A stored first response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    /// JSON object of the headers worth replaying (Location, ETag, Content-Type).
    pub headers: String,
    pub body: String,
}

/// What a key says about a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// First use: the request goes ahead, and its response is kept.
    New,
    /// The first request with this key has not finished.
    InFlight,
    /// The key was used for a different request.
    Mismatch,
    /// The first request finished: replay its response.
    Done(StoredResponse),
}

#[derive(Queryable)]
struct Row {
    fingerprint: String,
    state: String,
    response_status: Option<i32>,
    response_headers: Option<String>,
    response_body: Option<String>,
    expires_at: NaiveDateTime,
}

fn scoped(
    scope: &KeyScope,
) -> idempotency_keys::BoxedQuery<'static, crate::database::MultiBackend> {
    idempotency_keys::table
        .filter(idempotency_keys::caller.eq(scope.caller.clone()))
        .filter(idempotency_keys::route.eq(scope.route.clone()))
        .filter(idempotency_keys::idempotency_key.eq(scope.key.clone()))
        .into_boxed()
}

/// Claims the key for a request with `fingerprint`, or says why not.
pub fn claim(
    connection: &mut DbConnection,
    scope: &KeyScope,
    fingerprint: &str,
    now: Timestamp,
    keep_for: chrono::Duration,
) -> Result<Claim, StoreError> {
    let attempt = |connection: &mut DbConnection| {
        write_transaction(connection, |connection| {
            let existing: Option<Row> = scoped(scope)
                .select((
                    idempotency_keys::fingerprint,
                    idempotency_keys::state,
                    idempotency_keys::response_status,
                    idempotency_keys::response_headers,
                    idempotency_keys::response_body,
                    idempotency_keys::expires_at,
                ))
                .first(connection)
                .optional()?;
            match existing {
                Some(row) if row.expires_at > now.to_naive_utc() => {
                    return Ok(if row.fingerprint != fingerprint {
                        Claim::Mismatch
                    } else if row.state == "in_flight" {
                        Claim::InFlight
                    } else {
                        Claim::Done(StoredResponse {
                            status: u16::try_from(row.response_status.unwrap_or(500))
                                .unwrap_or(500),
                            headers: row.response_headers.unwrap_or_default(),
                            body: row.response_body.unwrap_or_default(),
                        })
                    });
                }
                Some(_) => {
                    release(connection, scope)?;
                }
                None => {}
            }
            diesel::insert_into(idempotency_keys::table)
                .values((
                    idempotency_keys::caller.eq(&scope.caller),
                    idempotency_keys::route.eq(&scope.route),
                    idempotency_keys::idempotency_key.eq(&scope.key),
                    idempotency_keys::fingerprint.eq(fingerprint),
                    idempotency_keys::state.eq("in_flight"),
                    idempotency_keys::created_at.eq(now.to_naive_utc()),
                    idempotency_keys::expires_at.eq(now.to_naive_utc() + keep_for),
                ))
                .execute(connection)?;
            Ok::<_, diesel::result::Error>(Claim::New)
        })
    };
    match attempt(connection) {
        // Another replica claimed the key between our read and insert: it is in flight there.
        Err(error) if is_unique_violation(&error) => Ok(Claim::InFlight),
        other => Ok(other?),
    }
}

/// Keeps the first response for replays.
pub fn complete(
    connection: &mut DbConnection,
    scope: &KeyScope,
    response: &StoredResponse,
) -> Result<(), StoreError> {
    diesel::update(
        idempotency_keys::table
            .filter(idempotency_keys::caller.eq(&scope.caller))
            .filter(idempotency_keys::route.eq(&scope.route))
            .filter(idempotency_keys::idempotency_key.eq(&scope.key)),
    )
    .set((
        idempotency_keys::state.eq("done"),
        idempotency_keys::response_status.eq(Some(i32::from(response.status))),
        idempotency_keys::response_headers.eq(Some(&response.headers)),
        idempotency_keys::response_body.eq(Some(&response.body)),
    ))
    .execute(connection)?;
    Ok(())
}

/// Forgets a key (its request failed in a way worth retrying).
pub fn release(
    connection: &mut DbConnection,
    scope: &KeyScope,
) -> Result<(), diesel::result::Error> {
    diesel::delete(
        idempotency_keys::table
            .filter(idempotency_keys::caller.eq(&scope.caller))
            .filter(idempotency_keys::route.eq(&scope.route))
            .filter(idempotency_keys::idempotency_key.eq(&scope.key)),
    )
    .execute(connection)?;
    Ok(())
}

/// Deletes keys past their time; returns how many.
pub fn purge_expired(connection: &mut DbConnection, now: Timestamp) -> Result<usize, StoreError> {
    Ok(delete_if_any!(
        connection,
        idempotency_keys::table,
        idempotency_keys::expires_at.lt(now.to_naive_utc())
    ))
}
