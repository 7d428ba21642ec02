//! Figures for operators: work waiting in the database (the webhook outbox, changes the feed
//! cannot hand out yet), read by `/metrics`.

use chrono::Utc;
use diesel::dsl::{count_star, min};
use diesel::prelude::*;

use crate::changes;
use crate::database::DbConnection;
use crate::error::StoreError;
use crate::schema::{changes as change_log, webhook_deliveries};

/// Work waiting in the database.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Backlog {
    /// Webhook deliveries waiting to be sent.
    pub outbox_depth: i64,
    /// Of those, deliveries that have failed at least once.
    pub retrying: i64,
    /// Deliveries given up.
    pub failed: i64,
    /// Changes written by transactions still running (PostgreSQL; always 0 on SQLite, whose
    /// writers take turns).
    pub change_lag: i64,
    /// Age of the oldest of them, in seconds.
    pub change_lag_seconds: f64,
}

pub fn backlog(connection: &mut DbConnection) -> Result<Backlog, StoreError> {
    let waiting = |connection: &mut DbConnection, retried: bool| -> Result<i64, StoreError> {
        let mut query = webhook_deliveries::table
            .filter(webhook_deliveries::status.eq("pending"))
            .select(count_star())
            .into_boxed::<crate::database::MultiBackend>();
        if retried {
            query = query.filter(webhook_deliveries::attempts.gt(0));
        }
        Ok(query.first(connection)?)
    };
    let outbox_depth = waiting(connection, false)?;
    let retrying = waiting(connection, true)?;
    let failed = webhook_deliveries::table
        .filter(webhook_deliveries::status.eq("failed"))
        .select(count_star())
        .first(connection)?;
    let (change_lag, change_lag_seconds) = match changes::horizon(connection)? {
        Some(horizon) => {
            let (count, oldest) = change_log::table
                .filter(change_log::txid.ge(horizon))
                .select((count_star(), min(change_log::occurred_at)))
                .first::<(i64, Option<chrono::NaiveDateTime>)>(connection)?;
            let age = oldest.map_or(0.0, |oldest| {
                (Utc::now().naive_utc() - oldest)
                    .to_std()
                    .map_or(0.0, |age| age.as_secs_f64())
            });
            (count, age)
        }
        None => (0, 0.0),
    };
    Ok(Backlog {
        outbox_depth,
        retrying,
        failed,
        change_lag,
        change_lag_seconds,
    })
}
