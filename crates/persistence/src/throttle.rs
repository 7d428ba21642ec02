//! Throttling repeated failed sign-ins, per account and per address, in the database so that
//! every replica sees the same counts.

use catalyst_domain::Timestamp;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::database::{write_transaction, DbConnection};
use crate::error::{is_unique_violation, StoreError};
use crate::schema::auth_throttle;

/// How failures are counted for one kind of key.
#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    /// Failures allowed within the window before blocking.
    pub allowed_failures: i64,
    pub window: Duration,
    /// How long a key stays blocked once over the limit.
    pub block_for: Duration,
}

/// A key as stored: the address or account it names comes from the request, and PostgreSQL's
/// text cannot hold a NUL, so a NUL is kept as U+FFFD (the key still counts that caller).
fn stored(key: &str) -> std::borrow::Cow<'_, str> {
    if key.contains('\0') {
        key.replace('\0', "\u{FFFD}").into()
    } else {
        key.into()
    }
}

/// When the key may try again, if it is blocked now.
pub fn blocked_until(
    connection: &mut DbConnection,
    key: &str,
    now: Timestamp,
) -> Result<Option<Timestamp>, StoreError> {
    let key = stored(key);
    let until: Option<Option<NaiveDateTime>> = auth_throttle::table
        .find(key.as_ref())
        .select(auth_throttle::blocked_until)
        .first(connection)
        .optional()?;
    Ok(until
        .flatten()
        .filter(|until| *until > now.to_naive_utc())
        .map(Timestamp::from_naive_utc))
}

/// Counts a failure for `key`; returns when it becomes blocked, if it does.
pub fn record_failure(
    connection: &mut DbConnection,
    key: &str,
    policy: ThrottlePolicy,
    now: Timestamp,
) -> Result<Option<Timestamp>, StoreError> {
    let key = stored(key);
    let key = key.as_ref();
    let now_naive = now.to_naive_utc();
    let attempt = |connection: &mut DbConnection| {
        write_transaction(connection, |connection| {
            let current: Option<(i64, NaiveDateTime)> = auth_throttle::table
                .find(key)
                .select((auth_throttle::failures, auth_throttle::window_started_at))
                .first(connection)
                .optional()?;
            let (failures, window_started) = match current {
                Some((failures, started)) if now_naive - started < policy.window => {
                    (failures + 1, started)
                }
                _ => (1, now_naive),
            };
            let blocked =
                (failures > policy.allowed_failures).then(|| now_naive + policy.block_for);
            if current.is_some() {
                diesel::update(auth_throttle::table.find(key))
                    .set((
                        auth_throttle::failures.eq(failures),
                        auth_throttle::window_started_at.eq(window_started),
                        auth_throttle::blocked_until.eq(blocked),
                    ))
                    .execute(connection)?;
            } else {
                diesel::insert_into(auth_throttle::table)
                    .values((
                        auth_throttle::throttle_key.eq(key),
                        auth_throttle::failures.eq(failures),
                        auth_throttle::window_started_at.eq(window_started),
                        auth_throttle::blocked_until.eq(blocked),
                    ))
                    .execute(connection)?;
            }
            Ok::<_, diesel::result::Error>(blocked.map(Timestamp::from_naive_utc))
        })
    };
    match attempt(connection) {
        // Another replica inserted the same key first: count on top of its row.
        Err(error) if is_unique_violation(&error) => Ok(attempt(connection)?),
        other => Ok(other?),
    }
}

/// Forgets a key's failures after a successful sign-in.
pub fn clear(connection: &mut DbConnection, key: &str) -> Result<(), StoreError> {
    diesel::delete(auth_throttle::table.find(stored(key).as_ref())).execute(connection)?;
    Ok(())
}

/// Deletes counts whose window and block have both passed; returns how many.
pub fn purge_stale(
    connection: &mut DbConnection,
    now: Timestamp,
    window: Duration,
) -> Result<usize, StoreError> {
    let now = now.to_naive_utc();
    Ok(delete_if_any!(
        connection,
        auth_throttle::table,
        auth_throttle::window_started_at.lt(now - window).and(
            auth_throttle::blocked_until
                .is_null()
                .or(auth_throttle::blocked_until.lt(now))
        )
    ))
}
