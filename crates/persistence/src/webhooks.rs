//! Webhook subscriptions and their deliveries. Deliveries are made from the change log inside
//! one transaction that also moves the subscription's cursor, and are claimed for sending with a
//! lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL), so every replica can send and no delivery is
//! lost on a crash or sent by two replicas at once.

use catalyst_domain::Timestamp;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::changes::Position;
use crate::database::{DbConnection, MultiBackend};
use crate::error::StoreError;
use crate::schema::{webhook_deliveries, webhook_subscriptions};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = webhook_subscriptions, treat_none_as_null = true)]
pub struct Subscription {
    pub id: String,
    /// `user:<id>` or `client:<id>`: events are what this owner may see.
    pub owner: String,
    pub url: String,
    pub description: Option<String>,
    /// Space-separated.
    pub event_types: String,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<NaiveDateTime>,
    /// `active` or `disabled`.
    pub status: String,
    pub disabled_reason: Option<String>,
    pub cursor_txid: i64,
    pub cursor_seq: i64,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl Subscription {
    pub fn event_types(&self) -> Vec<String> {
        self.event_types
            .split(' ')
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect()
    }

    pub fn cursor(&self) -> Position {
        Position {
            txid: self.cursor_txid,
            seq: self.cursor_seq,
        }
    }

    /// The secrets that sign a delivery now: the current one, and the previous one until it
    /// expires.
    pub fn signing_secrets(&self, now: Timestamp) -> Vec<String> {
        let mut secrets = vec![self.secret.clone()];
        if let (Some(previous), Some(until)) =
            (&self.previous_secret, self.previous_secret_expires_at)
        {
            if now.to_naive_utc() < until {
                secrets.push(previous.clone());
            }
        }
        secrets
    }
}

pub fn insert_subscription(
    connection: &mut DbConnection,
    subscription: &Subscription,
) -> Result<(), StoreError> {
    diesel::insert_into(webhook_subscriptions::table)
        .values(subscription)
        .execute(connection)?;
    Ok(())
}

pub fn find_subscription(
    connection: &mut DbConnection,
    id: &str,
) -> Result<Subscription, StoreError> {
    Ok(webhook_subscriptions::table
        .find(id)
        .select(Subscription::as_select())
        .first(connection)?)
}

/// Replaces a subscription if it is still at `expected_version`.
pub fn update_subscription(
    connection: &mut DbConnection,
    subscription: &Subscription,
    expected_version: i64,
) -> Result<(), StoreError> {
    let updated = diesel::update(
        webhook_subscriptions::table
            .filter(webhook_subscriptions::id.eq(&subscription.id))
            .filter(webhook_subscriptions::version.eq(expected_version)),
    )
    .set(subscription)
    .execute(connection)?;
    if updated == 0 {
        let current = find_subscription(connection, &subscription.id)?;
        return Err(StoreError::VersionMismatch {
            current: current.version,
        });
    }
    Ok(())
}

pub fn delete_subscription(connection: &mut DbConnection, id: &str) -> Result<(), StoreError> {
    let deleted = diesel::delete(webhook_subscriptions::table.find(id)).execute(connection)?;
    if deleted == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Subscriptions in id (creation) order after `after`; only `owner`'s when given.
pub fn list_subscriptions(
    connection: &mut DbConnection,
    owner: Option<&str>,
    after: Option<&str>,
    limit: usize,
) -> Result<(Vec<Subscription>, bool), StoreError> {
    let mut query = webhook_subscriptions::table
        .select(Subscription::as_select())
        .order(webhook_subscriptions::id.asc())
        .into_boxed::<MultiBackend>();
    if let Some(owner) = owner {
        query = query.filter(webhook_subscriptions::owner.eq(owner.to_owned()));
    }
    if let Some(after) = after {
        query = query.filter(webhook_subscriptions::id.gt(after.to_owned()));
    }
    let mut rows: Vec<Subscription> = query
        .limit(crate::keyset::fetch_size(limit))
        .load(connection)?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    Ok((rows, more))
}

/// Active subscriptions for fan-out, locked for this transaction; on PostgreSQL those another
/// replica is fanning out are skipped rather than waited for.
pub fn lock_active_subscriptions(
    connection: &mut DbConnection,
    limit: i64,
) -> Result<Vec<Subscription>, StoreError> {
    // Built per backend: the row's selection is typed by the backend it loads on.
    macro_rules! active {
        () => {
            webhook_subscriptions::table
                .filter(webhook_subscriptions::status.eq("active"))
                .order(webhook_subscriptions::id.asc())
                .limit(limit)
                .select(Subscription::as_select())
        };
    }
    Ok(match connection {
        DbConnection::Postgres(postgres) => active!().for_update().skip_locked().load(postgres)?,
        // SQLite's write transaction already holds the only write lock.
        DbConnection::Sqlite(sqlite) => active!().load(sqlite)?,
    })
}

/// Whether any active subscription's cursor is before `line` (where the feed has been read to),
/// so that a fan-out round has something to do. A plain read: the delivery worker asks twice a
/// second and an idle round must not take a write lock.
pub fn any_behind(connection: &mut DbConnection, line: Position) -> Result<bool, StoreError> {
    let behind = webhook_subscriptions::table
        .filter(webhook_subscriptions::status.eq("active"))
        .filter(
            webhook_subscriptions::cursor_txid
                .lt(line.txid)
                .or(webhook_subscriptions::cursor_txid
                    .eq(line.txid)
                    .and(webhook_subscriptions::cursor_seq.lt(line.seq))),
        )
        .select(webhook_subscriptions::id)
        .first::<String>(connection)
        .optional()?;
    Ok(behind.is_some())
}

pub fn move_cursor(
    connection: &mut DbConnection,
    id: &str,
    to: Position,
) -> Result<(), StoreError> {
    diesel::update(webhook_subscriptions::table.find(id))
        .set((
            webhook_subscriptions::cursor_txid.eq(to.txid),
            webhook_subscriptions::cursor_seq.eq(to.seq),
        ))
        .execute(connection)?;
    Ok(())
}

/// Stops deliveries to a subscription, saying why (`410 Gone` from the receiver, its owner
/// gone).
pub fn disable_subscription(
    connection: &mut DbConnection,
    id: &str,
    reason: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    diesel::update(webhook_subscriptions::table.find(id))
        .set((
            webhook_subscriptions::status.eq("disabled"),
            webhook_subscriptions::disabled_reason.eq(reason),
            webhook_subscriptions::version.eq(webhook_subscriptions::version + 1),
            webhook_subscriptions::updated_at.eq(now.to_naive_utc()),
        ))
        .execute(connection)?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_deliveries)]
pub struct Delivery {
    /// `msg_...`: the `webhook-id`, the same on every attempt, for the receiver to deduplicate.
    pub id: String,
    pub subscription_id: String,
    pub event_type: String,
    pub payload: String,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
    pub last_attempt_at: Option<NaiveDateTime>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub delivered_at: Option<NaiveDateTime>,
}

pub fn insert_delivery(
    connection: &mut DbConnection,
    delivery: &Delivery,
) -> Result<(), StoreError> {
    diesel::insert_into(webhook_deliveries::table)
        .values(delivery)
        .execute(connection)?;
    Ok(())
}

pub fn find_delivery(
    connection: &mut DbConnection,
    subscription: &str,
    id: &str,
) -> Result<Delivery, StoreError> {
    Ok(webhook_deliveries::table
        .filter(webhook_deliveries::subscription_id.eq(subscription))
        .filter(webhook_deliveries::id.eq(id))
        .select(Delivery::as_select())
        .first(connection)?)
}

/// A subscription's deliveries, newest first, before `before`.
pub fn list_deliveries(
    connection: &mut DbConnection,
    subscription: &str,
    before: Option<&str>,
    limit: usize,
) -> Result<(Vec<Delivery>, bool), StoreError> {
    let mut query = webhook_deliveries::table
        .filter(webhook_deliveries::subscription_id.eq(subscription.to_owned()))
        .select(Delivery::as_select())
        .order(webhook_deliveries::id.desc())
        .into_boxed::<MultiBackend>();
    if let Some(before) = before {
        query = query.filter(webhook_deliveries::id.lt(before.to_owned()));
    }
    let mut rows: Vec<Delivery> = query
        .limit(crate::keyset::fetch_size(limit))
        .load(connection)?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    Ok((rows, more))
}

/// Deliveries due now, each claimed until `lease_until`; a claim that is not settled by then
/// (the sender crashed) lapses and the delivery is claimed again.
pub fn claim_due(
    connection: &mut DbConnection,
    now: Timestamp,
    lease_until: Timestamp,
    limit: i64,
) -> Result<Vec<(Delivery, Subscription)>, StoreError> {
    let now = now.to_naive_utc();
    macro_rules! due {
        () => {
            webhook_deliveries::table
                .filter(webhook_deliveries::status.eq("pending"))
                .filter(webhook_deliveries::next_attempt_at.le(now))
                .filter(
                    webhook_deliveries::locked_until
                        .is_null()
                        .or(webhook_deliveries::locked_until.le(now)),
                )
                .order((
                    webhook_deliveries::next_attempt_at.asc(),
                    webhook_deliveries::id.asc(),
                ))
                .select(webhook_deliveries::id)
        };
    }
    // A plain read first, as in `imports::claim_next`: an idle round takes no write lock.
    if due!().first::<String>(connection).optional()?.is_none() {
        return Ok(Vec::new());
    }
    crate::database::write_transaction(connection, |connection| {
        let due = due!().limit(limit);
        let ids: Vec<String> = match connection {
            DbConnection::Postgres(postgres) => due.for_update().skip_locked().load(postgres)?,
            DbConnection::Sqlite(sqlite) => due.load(sqlite)?,
        };
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        diesel::update(webhook_deliveries::table.filter(webhook_deliveries::id.eq_any(&ids)))
            .set(webhook_deliveries::locked_until.eq(lease_until.to_naive_utc()))
            .execute(connection)?;
        let rows: Vec<(Delivery, Subscription)> = webhook_deliveries::table
            .inner_join(webhook_subscriptions::table)
            .filter(webhook_deliveries::id.eq_any(&ids))
            // Oldest first: a receiver that is keeping up gets events in the order they happened.
            .order(webhook_deliveries::id.asc())
            .select((Delivery::as_select(), Subscription::as_select()))
            .load(connection)?;
        Ok(rows)
    })
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    Succeeded {
        status_code: i32,
    },
    /// Try again at `next_attempt_at`.
    Retry {
        status_code: Option<i32>,
        error: String,
        next_attempt_at: Timestamp,
    },
    /// Given up (retries spent, or the receiver said 410 Gone).
    Failed {
        status_code: Option<i32>,
        error: String,
    },
}

pub fn record_attempt(
    connection: &mut DbConnection,
    id: &str,
    now: Timestamp,
    outcome: &AttemptOutcome,
) -> Result<(), StoreError> {
    let now = now.to_naive_utc();
    let target = webhook_deliveries::table.find(id);
    let base = (
        webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1),
        webhook_deliveries::last_attempt_at.eq(Some(now)),
        webhook_deliveries::locked_until.eq(None::<NaiveDateTime>),
    );
    match outcome {
        AttemptOutcome::Succeeded { status_code } => diesel::update(target)
            .set((
                base,
                webhook_deliveries::status.eq("succeeded"),
                webhook_deliveries::last_status_code.eq(Some(*status_code)),
                webhook_deliveries::last_error.eq(None::<String>),
                webhook_deliveries::delivered_at.eq(Some(now)),
            ))
            .execute(connection)?,
        AttemptOutcome::Retry {
            status_code,
            error,
            next_attempt_at,
        } => diesel::update(target)
            .set((
                base,
                webhook_deliveries::last_status_code.eq(*status_code),
                webhook_deliveries::last_error.eq(Some(error)),
                webhook_deliveries::next_attempt_at.eq(next_attempt_at.to_naive_utc()),
            ))
            .execute(connection)?,
        AttemptOutcome::Failed { status_code, error } => diesel::update(target)
            .set((
                base,
                webhook_deliveries::status.eq("failed"),
                webhook_deliveries::last_status_code.eq(*status_code),
                webhook_deliveries::last_error.eq(Some(error)),
            ))
            .execute(connection)?,
    };
    Ok(())
}

/// Sends a delivery again as soon as a sender is free, whatever became of it before.
pub fn redeliver(
    connection: &mut DbConnection,
    subscription: &str,
    id: &str,
    now: Timestamp,
) -> Result<Delivery, StoreError> {
    let updated = diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::subscription_id.eq(subscription))
            .filter(webhook_deliveries::id.eq(id)),
    )
    .set((
        webhook_deliveries::status.eq("pending"),
        webhook_deliveries::next_attempt_at.eq(now.to_naive_utc()),
        webhook_deliveries::locked_until.eq(None::<NaiveDateTime>),
    ))
    .execute(connection)?;
    if updated == 0 {
        return Err(StoreError::NotFound);
    }
    find_delivery(connection, subscription, id)
}

/// Pending deliveries: the outbox's depth.
pub fn pending_count(connection: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(webhook_deliveries::table
        .filter(webhook_deliveries::status.eq("pending"))
        .count()
        .get_result(connection)?)
}
