//! Bulk imports: jobs, their uploaded files (in chunks, so that any replica can process one and
//! none holds it in memory) and a result per row.

use catalyst_domain::Timestamp;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::database::{DbConnection, MultiBackend};
use crate::error::StoreError;
use crate::schema::{import_chunks, import_results, imports};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = imports)]
pub struct Import {
    pub id: String,
    /// `user:<id>` or `client:<id>`.
    pub owner: String,
    pub collection: String,
    /// `ndjson` or `csv`.
    pub format: String,
    /// `all_or_nothing` or `partial`.
    pub mode: String,
    /// `queued`, `validating`, `applying`, `succeeded` or `failed`.
    pub status: String,
    pub bytes: i64,
    pub rows_processed: i64,
    pub rows_created: i64,
    pub rows_updated: i64,
    pub rows_unchanged: i64,
    pub rows_rejected: i64,
    pub error: Option<String>,
    pub claimed_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub started_at: Option<NaiveDateTime>,
    pub finished_at: Option<NaiveDateTime>,
}

pub fn insert(connection: &mut DbConnection, import: &Import) -> Result<(), StoreError> {
    diesel::insert_into(imports::table)
        .values(import)
        .execute(connection)?;
    Ok(())
}

pub fn find(connection: &mut DbConnection, id: &str) -> Result<Import, StoreError> {
    Ok(imports::table
        .find(id)
        .select(Import::as_select())
        .first(connection)?)
}

/// Imports newest first, before `before`; only `owner`'s when given.
pub fn list(
    connection: &mut DbConnection,
    owner: Option<&str>,
    before: Option<&str>,
    limit: usize,
) -> Result<(Vec<Import>, bool), StoreError> {
    let mut query = imports::table
        .select(Import::as_select())
        .order(imports::id.desc())
        .into_boxed::<MultiBackend>();
    if let Some(owner) = owner {
        query = query.filter(imports::owner.eq(owner.to_owned()));
    }
    if let Some(before) = before {
        query = query.filter(imports::id.lt(before.to_owned()));
    }
    let mut rows: Vec<Import> = query
        .limit(crate::keyset::fetch_size(limit))
        .load(connection)?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    Ok((rows, more))
}

pub fn add_chunk(
    connection: &mut DbConnection,
    id: &str,
    seq: i32,
    data: &[u8],
) -> Result<(), StoreError> {
    diesel::insert_into(import_chunks::table)
        .values((
            import_chunks::import_id.eq(id),
            import_chunks::seq.eq(seq),
            import_chunks::data.eq(data),
        ))
        .execute(connection)?;
    Ok(())
}

/// The upload's chunk `seq`, if there is one.
pub fn chunk(
    connection: &mut DbConnection,
    id: &str,
    seq: i32,
) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(import_chunks::table
        .filter(import_chunks::import_id.eq(id))
        .filter(import_chunks::seq.eq(seq))
        .select(import_chunks::data)
        .first(connection)
        .optional()?)
}

/// Forgets uploads abandoned mid-stream (a day old) and ended imports with their results
/// (`keep_days` old). Returns how many imports went.
pub fn purge(
    connection: &mut DbConnection,
    now: Timestamp,
    keep_days: i64,
) -> Result<usize, StoreError> {
    let now = now.to_naive_utc();
    let abandoned = delete_if_any!(
        connection,
        imports::table,
        imports::status
            .eq("receiving")
            .and(imports::created_at.lt(now - chrono::Duration::days(1)))
    );
    let ended = delete_if_any!(
        connection,
        imports::table,
        imports::status
            .eq_any(["succeeded", "failed"])
            .and(imports::finished_at.lt(now - chrono::Duration::days(keep_days)))
    );
    Ok(abandoned + ended)
}

/// Forgets an upload and its chunks (a replayed or refused duplicate).
pub fn discard(connection: &mut DbConnection, id: &str) -> Result<(), StoreError> {
    diesel::delete(imports::table.find(id)).execute(connection)?;
    Ok(())
}

/// Records the size of an upload that its creator processes itself (the CLI).
pub fn received(connection: &mut DbConnection, id: &str, bytes: i64) -> Result<(), StoreError> {
    diesel::update(imports::table.find(id))
        .set(imports::bytes.eq(bytes))
        .execute(connection)?;
    Ok(())
}

/// Marks an upload complete: from now on a worker may take it.
pub fn queue(connection: &mut DbConnection, id: &str, bytes: i64) -> Result<(), StoreError> {
    diesel::update(imports::table.find(id))
        .set((imports::status.eq("queued"), imports::bytes.eq(bytes)))
        .execute(connection)?;
    Ok(())
}

/// Claims the oldest import waiting (or whose worker's claim lapsed) until `until`.
pub fn claim_next(
    connection: &mut DbConnection,
    now: Timestamp,
    until: Timestamp,
) -> Result<Option<Import>, StoreError> {
    let now = now.to_naive_utc();
    macro_rules! waiting {
        () => {
            imports::table
                .filter(
                    imports::status.eq("queued").or(imports::status
                        .eq_any(["validating", "applying"])
                        .and(imports::claimed_until.lt(now))),
                )
                .order(imports::created_at.asc())
                .limit(1)
                .select(imports::id)
        };
    }
    // Looked for with a plain read first: the worker asks every second, and an idle one must not
    // take SQLite's one write lock (or wait on it holding a pooled connection) to find nothing.
    if waiting!().first::<String>(connection).optional()?.is_none() {
        return Ok(None);
    }
    crate::database::write_transaction(connection, |connection| {
        let id: Option<String> = match connection {
            DbConnection::Postgres(postgres) => waiting!()
                .for_update()
                .skip_locked()
                .first(postgres)
                .optional()?,
            DbConnection::Sqlite(sqlite) => waiting!().first(sqlite).optional()?,
        };
        let Some(id) = id else {
            return Ok(None);
        };
        diesel::update(imports::table.find(&id))
            .set((
                imports::status.eq("validating"),
                imports::claimed_until.eq(until.to_naive_utc()),
                imports::started_at.eq(now),
            ))
            .execute(connection)?;
        Ok(Some(find(connection, &id)?))
    })
}

/// Counts so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub processed: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub rejected: i64,
}

/// Records progress and renews the claim.
pub fn progress(
    connection: &mut DbConnection,
    id: &str,
    status: &str,
    counts: Counts,
    claimed_until: Timestamp,
) -> Result<(), StoreError> {
    diesel::update(imports::table.find(id))
        .set((
            imports::status.eq(status),
            imports::rows_processed.eq(counts.processed),
            imports::rows_created.eq(counts.created),
            imports::rows_updated.eq(counts.updated),
            imports::rows_unchanged.eq(counts.unchanged),
            imports::rows_rejected.eq(counts.rejected),
            imports::claimed_until.eq(Some(claimed_until.to_naive_utc())),
        ))
        .execute(connection)?;
    Ok(())
}

/// Ends an import.
pub fn finish(
    connection: &mut DbConnection,
    id: &str,
    succeeded: bool,
    counts: Counts,
    error: Option<&str>,
    now: Timestamp,
) -> Result<(), StoreError> {
    diesel::update(imports::table.find(id))
        .set((
            imports::status.eq(if succeeded { "succeeded" } else { "failed" }),
            imports::rows_processed.eq(counts.processed),
            imports::rows_created.eq(counts.created),
            imports::rows_updated.eq(counts.updated),
            imports::rows_unchanged.eq(counts.unchanged),
            imports::rows_rejected.eq(counts.rejected),
            imports::error.eq(error),
            imports::claimed_until.eq(None::<NaiveDateTime>),
            imports::finished_at.eq(Some(now.to_naive_utc())),
        ))
        .execute(connection)?;
    // The file is not needed once the import has ended.
    diesel::delete(import_chunks::table.filter(import_chunks::import_id.eq(id)))
        .execute(connection)?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = import_results, treat_none_as_default_value = false)]
pub struct RowResult {
    pub import_id: String,
    pub line: i64,
    /// `created`, `updated`, `unchanged` or `rejected`.
    pub outcome: String,
    pub entity_id: Option<String>,
    /// JSON array of problem items, for a rejected row.
    pub errors: Option<String>,
}

pub fn record_results(
    connection: &mut DbConnection,
    results: &[RowResult],
) -> Result<(), StoreError> {
    insert_rows!(connection, import_results::table, results);
    Ok(())
}

/// Forgets the results of an attempt that is starting over.
pub fn clear_results(connection: &mut DbConnection, id: &str) -> Result<(), StoreError> {
    diesel::delete(import_results::table.filter(import_results::import_id.eq(id)))
        .execute(connection)?;
    Ok(())
}

/// Results in line order after `after_line`, optionally of one outcome.
pub fn results(
    connection: &mut DbConnection,
    id: &str,
    outcome: Option<&str>,
    after_line: Option<i64>,
    limit: usize,
) -> Result<(Vec<RowResult>, bool), StoreError> {
    let mut query = import_results::table
        .filter(import_results::import_id.eq(id.to_owned()))
        .select(RowResult::as_select())
        .order(import_results::line.asc())
        .into_boxed::<MultiBackend>();
    if let Some(outcome) = outcome {
        query = query.filter(import_results::outcome.eq(outcome.to_owned()));
    }
    if let Some(after) = after_line {
        query = query.filter(import_results::line.gt(after));
    }
    let mut rows: Vec<RowResult> = query
        .limit(crate::keyset::fetch_size(limit))
        .load(connection)?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    Ok((rows, more))
}
