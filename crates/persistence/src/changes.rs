//! The change log behind `GET /api/v1/changes` and webhooks: every create, update and delete,
//! appended in the transaction that made it, so that a change exists exactly when its write does.
//!
//! On PostgreSQL, sequence values are taken in one order and committed in another: a reader that
//! followed `seq` alone would step past a change whose transaction was still open and never come
//! back for it. So a change's place is `(txid, seq)`, and readers only take changes whose
//! transaction is older than the oldest still running (`txid_snapshot_xmin`): everything below
//! that line has committed or aborted, and nothing new can appear there. SQLite has one writer at a
//! time, so `seq` is commit order there and `txid` stays 0.
//!
//! PostgreSQL's transaction counter belongs to the cluster, so a dump restored into a younger
//! cluster holds changes numbered above the transactions to come. Positions are therefore the
//! transaction id plus a stored offset (`change_position_txid()`), and [`move_past_stored`]
//! raises the offset past every stored position when it finds one ahead, before serving.

use std::fmt;
use std::str::FromStr;

use catalyst_domain::{Audience, OrganisationId, Timestamp};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use crate::database::{DbConnection, MultiBackend};
use crate::error::StoreError;
use crate::keyset::Predicate;
use crate::schema::{change_log_pruned, changes};

/// What happened to the entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Update => "update",
            Operation::Delete => "delete",
        }
    }
}

/// A place in the feed: a change, or the line between two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    pub txid: i64,
    pub seq: i64,
}

impl Position {
    pub const START: Position = Position { txid: 0, seq: 0 };
}

/// Cursors are opaque to clients; this is their spelling.
impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.txid, self.seq)
    }
}

impl FromStr for Position {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (txid, seq) = text.split_once('-').ok_or(())?;
        let parse = |part: &str| -> Result<i64, ()> {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(());
            }
            part.parse().map_err(|_| ())
        };
        Ok(Position {
            txid: parse(txid)?,
            seq: parse(seq)?,
        })
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = changes, treat_none_as_default_value = false)]
struct NewChangeRow<'a> {
    occurred_at: NaiveDateTime,
    entity: &'a str,
    entity_id: &'a str,
    operation: &'a str,
    version: i64,
    state: Option<&'a str>,
    audience: &'static str,
    party_a: Option<String>,
    party_b: Option<String>,
}

/// One change to append.
#[derive(Debug, Clone, Copy)]
pub struct NewChange<'a> {
    pub entity: &'a str,
    pub entity_id: &'a str,
    pub operation: Operation,
    pub version: i64,
    /// JSON of the entity after the change; none for a delete.
    pub state: Option<&'a str>,
    pub audience: Audience,
    pub occurred_at: Timestamp,
}

/// Appends a change in the caller's transaction.
pub fn record(connection: &mut DbConnection, change: &NewChange<'_>) -> Result<(), StoreError> {
    diesel::insert_into(changes::table)
        .values(NewChangeRow::from(change))
        .execute(connection)?;
    Ok(())
}

/// Appends several changes, in order, in multi-row statements (a seed's batch).
pub fn record_all(
    connection: &mut DbConnection,
    changes: &[NewChange<'_>],
) -> Result<(), StoreError> {
    let rows: Vec<NewChangeRow<'_>> = changes.iter().map(NewChangeRow::from).collect();
    insert_rows!(connection, changes::table, rows);
    Ok(())
}

impl<'a> From<&NewChange<'a>> for NewChangeRow<'a> {
    fn from(change: &NewChange<'a>) -> Self {
        let (audience, party_a, party_b) = match change.audience {
            Audience::Public => ("public", None, None),
            Audience::Admins => ("admins", None, None),
            Audience::Parties { first, second } => (
                "parties",
                Some(first.to_string()),
                second.map(|second| second.to_string()),
            ),
        };
        NewChangeRow {
            occurred_at: change.occurred_at.to_naive_utc(),
            entity: change.entity,
            entity_id: change.entity_id,
            operation: change.operation.as_str(),
            version: change.version,
            state: change.state,
            audience,
            party_a,
            party_b,
        }
    }
}

/// A change as read back.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = changes)]
pub struct ChangeRecord {
    pub seq: i64,
    pub txid: i64,
    pub occurred_at: NaiveDateTime,
    pub entity: String,
    pub entity_id: String,
    pub operation: String,
    pub version: i64,
    pub state: Option<String>,
}

impl ChangeRecord {
    pub fn position(&self) -> Position {
        Position {
            txid: self.txid,
            seq: self.seq,
        }
    }
}

/// Which changes a reader may see: the same rule as reading the records themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeVisibility {
    /// Admins.
    Everything,
    /// Programme staff: everything but people and credentials.
    AllButAdmin,
    /// What is public, and what these organisations are party to.
    PublicAnd(Vec<OrganisationId>),
}

impl ChangeVisibility {
    fn predicate(&self) -> Option<Predicate<changes::table>> {
        match self {
            ChangeVisibility::Everything => None,
            ChangeVisibility::AllButAdmin => Some(Box::new(changes::audience.ne("admins"))),
            ChangeVisibility::PublicAnd(organisations) => {
                let mut seen: Predicate<changes::table> = Box::new(changes::audience.eq("public"));
                if !organisations.is_empty() {
                    let ids: Vec<String> = organisations.iter().map(ToString::to_string).collect();
                    seen = Box::new(
                        seen.or(changes::audience.eq("parties").and(
                            changes::party_a
                                .eq_any(ids.clone())
                                .or(changes::party_b.eq_any(ids))
                                .assume_not_null(),
                        )),
                    );
                }
                Some(seen)
            }
        }
    }
}

/// A stretch of the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangePage {
    pub changes: Vec<ChangeRecord>,
    /// Where to resume: after the last change given, or, when caught up, at the line below
    /// which every change has been offered.
    pub next: Position,
    /// Whether more changes wait past `next` already.
    pub has_more: bool,
}

/// Why a read cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// The cursor is older than the kept history: changes after it were pruned.
    #[error("the cursor is older than the kept history")]
    Gone,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(QueryableByName)]
struct Horizon {
    #[diesel(sql_type = BigInt)]
    horizon: i64,
}

/// On PostgreSQL, the oldest transaction still running: every change of an older transaction
/// has committed or never will. `None` on SQLite, where there is no such line to wait for.
pub fn horizon(connection: &mut DbConnection) -> Result<Option<i64>, StoreError> {
    match connection {
        DbConnection::Postgres(postgres) => {
            let row: Horizon = diesel::sql_query("SELECT change_position_horizon() AS horizon")
                .get_result(postgres)?;
            Ok(Some(row.horizon))
        }
        DbConnection::Sqlite(_) => Ok(None),
    }
}

/// Raises PostgreSQL's position offset so that the next transaction's position is past every
/// position stored (changes, the pruned mark, webhook cursors), as after a pg_dump restored into
/// a younger cluster; returns by how much, 0 when nothing was ahead. Run before serving: a
/// transaction already numbered with the old offset would land behind the raised horizon.
pub fn move_past_stored(connection: &mut DbConnection) -> Result<i64, StoreError> {
    #[derive(QueryableByName)]
    struct Raised {
        #[diesel(sql_type = BigInt)]
        by: i64,
    }
    match connection {
        DbConnection::Postgres(postgres) => {
            let raised: Option<Raised> = diesel::sql_query(
                "WITH stored AS (
                     SELECT GREATEST(
                         (SELECT MAX(txid) FROM changes),
                         (SELECT MAX(txid) FROM change_log_pruned),
                         (SELECT MAX(cursor_txid) FROM webhook_subscriptions)
                     ) AS position, change_position_txid() AS next
                 )
                 UPDATE change_position_offset
                 SET txid_offset = txid_offset + (stored.position - stored.next + 1)
                 FROM stored
                 WHERE change_position_offset.id = 1 AND stored.position >= stored.next
                 RETURNING stored.position - stored.next + 1 AS by",
            )
            .get_result(postgres)
            .optional()?;
            Ok(raised.map_or(0, |raised| raised.by))
        }
        DbConnection::Sqlite(_) => Ok(0),
    }
}

/// Where a reader that has copied everything now should start following: nothing before it
/// is still to come.
pub fn latest(connection: &mut DbConnection) -> Result<Position, StoreError> {
    let line = match horizon(connection)? {
        Some(horizon) => Position {
            txid: horizon,
            seq: 0,
        },
        None => Position {
            txid: 0,
            seq: newest_seq(connection)?,
        },
    };
    // Never behind what was pruned, which would make the cursor 410 at once.
    Ok(pruned(connection)?.map_or(line, |pruned| pruned.max(line)))
}

fn newest_seq(connection: &mut DbConnection) -> Result<i64, StoreError> {
    let newest: Option<i64> = changes::table
        .select(diesel::dsl::max(changes::seq))
        .first(connection)?;
    Ok(newest.unwrap_or(0))
}

fn pruned(connection: &mut DbConnection) -> Result<Option<Position>, StoreError> {
    Ok(change_log_pruned::table
        .select((change_log_pruned::txid, change_log_pruned::seq))
        .first::<(i64, i64)>(connection)
        .optional()?
        .map(|(txid, seq)| Position { txid, seq }))
}

/// Changes after `position` in (txid, seq) order, as a row-value comparison: both databases
/// read it as a range of the (txid, seq) index, so each page starts where the last ended (the
/// equivalent `txid > a OR (txid = a AND seq > b)` made PostgreSQL sort every later change for
/// each page).
fn after_position(position: Position) -> Predicate<changes::table> {
    use diesel::sql_types::{BigInt, Bool};
    Box::new(
        diesel::dsl::sql::<Bool>("(changes.txid, changes.seq) > (")
            .bind::<BigInt, _>(position.txid)
            .sql(", ")
            .bind::<BigInt, _>(position.seq)
            .sql(")"),
    )
}

/// Up to `limit` changes after `after` (from the oldest kept when none), of the named entities
/// (all when empty), that `seen` lets the reader see, oldest first.
pub fn read(
    connection: &mut DbConnection,
    after: Option<Position>,
    entities: &[String],
    seen: &ChangeVisibility,
    limit: usize,
) -> Result<ChangePage, FeedError> {
    let pruned = pruned(connection)?;
    if let (Some(after), Some(pruned)) = (after, pruned) {
        if after < pruned {
            return Err(FeedError::Gone);
        }
    }
    // Without a cursor, from the oldest change kept.
    let from = after.or(pruned).unwrap_or(Position::START);
    let horizon = horizon(connection)?;
    // On SQLite the newest change is read first: anything committed after it is past `next`.
    let newest = match horizon {
        Some(_) => None,
        None => Some(newest_seq(connection)?),
    };
    let mut query = changes::table
        .select(ChangeRecord::as_select())
        .filter(after_position(from))
        .order((changes::txid.asc(), changes::seq.asc()))
        .into_boxed::<MultiBackend>();
    if let Some(horizon) = horizon {
        query = query.filter(changes::txid.lt(horizon));
    }
    if let Some(newest) = newest {
        query = query.filter(changes::seq.le(newest));
    }
    if !entities.is_empty() {
        query = query.filter(changes::entity.eq_any(entities.to_vec()));
    }
    if let Some(seen) = seen.predicate() {
        query = query.filter(seen);
    }
    let mut records: Vec<ChangeRecord> = query
        .limit(crate::keyset::fetch_size(limit))
        .load(connection)
        .map_err(StoreError::from)?;
    let has_more = records.len() > limit;
    records.truncate(limit);
    let next = if has_more {
        records.last().map_or(from, ChangeRecord::position)
    } else {
        // Caught up: every change before the line has been offered, whatever the filters.
        let line = match (horizon, newest) {
            (Some(horizon), _) => Position {
                txid: horizon,
                seq: 0,
            },
            (None, newest) => Position {
                txid: 0,
                seq: newest.unwrap_or(0),
            },
        };
        let last = records.last().map_or(from, ChangeRecord::position);
        line.max(last).max(from)
    };
    Ok(ChangePage {
        changes: records,
        next,
        has_more,
    })
}

/// Removes changes older than `cutoff` and remembers the newest position removed, so that a
/// cursor before it is told it missed changes. Returns how many were removed.
pub fn prune(connection: &mut DbConnection, cutoff: Timestamp) -> Result<usize, StoreError> {
    let newest_old = |connection: &mut DbConnection| -> Result<Option<(i64, i64)>, StoreError> {
        Ok(changes::table
            .filter(changes::occurred_at.lt(cutoff.to_naive_utc()))
            .select((changes::txid, changes::seq))
            .order((changes::txid.desc(), changes::seq.desc()))
            .first(connection)
            .optional()?)
    };
    // Looked for before the write transaction: most sweeps find nothing old enough, and must
    // not take SQLite's one write lock to learn it.
    if newest_old(connection)?.is_none() {
        return Ok(0);
    }
    crate::database::write_transaction(connection, |connection| {
        let Some((txid, seq)) = newest_old(connection)? else {
            return Ok(0);
        };
        let through = Position { txid, seq };
        let removed = diesel::delete(changes::table)
            .filter(
                changes::txid.lt(through.txid).or(changes::txid
                    .eq(through.txid)
                    .and(changes::seq.le(through.seq))),
            )
            .execute(connection)?;
        let newest_pruned = match pruned(connection)? {
            Some(before) => before.max(through),
            None => through,
        };
        diesel::delete(change_log_pruned::table).execute(connection)?;
        diesel::insert_into(change_log_pruned::table)
            .values((
                change_log_pruned::id.eq(1),
                change_log_pruned::txid.eq(newest_pruned.txid),
                change_log_pruned::seq.eq(newest_pruned.seq),
            ))
            .execute(connection)?;
        Ok(removed)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_read_back_as_written_and_nothing_else_parses() {
        let position = Position {
            txid: 812,
            seq: 1234,
        };
        assert_eq!(position.to_string().parse::<Position>(), Ok(position));
        for bad in [
            "",
            "1",
            "1-",
            "-1",
            "a-1",
            "1-2-3",
            "+1-2",
            "1--2",
            "99999999999999999999-1",
        ] {
            assert!(bad.parse::<Position>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn positions_order_by_transaction_then_sequence() {
        let early_txid_late_seq = Position { txid: 5, seq: 90 };
        let late_txid_early_seq = Position { txid: 6, seq: 10 };
        assert!(early_txid_late_seq < late_txid_early_seq);
    }
}
