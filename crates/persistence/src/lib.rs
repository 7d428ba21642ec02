//! Catalyst's storage: one portable diesel schema and one set of queries that run on PostgreSQL
//! (production) and SQLite (the zero-set-up default) alike.
//!
//! Connections are [`DbConnection`], a diesel `MultiConnection` over both backends; the backend is
//! chosen from the URL's scheme by [`DatabaseUrl`], never by trial. Every call here blocks: callers
//! on an async executor run them on a blocking thread.

/// Deletes the rows of `$table` matching `$predicate`, and returns how many, looking first with a
/// plain read whether there are any. Housekeeping deletes nothing most of the time, and on SQLite
/// a DELETE takes the one write lock even when it matches no row: a sweep with nothing to sweep
/// must not queue behind (or hold up) the requests' writes.
macro_rules! delete_if_any {
    ($connection:expr, $table:expr, $predicate:expr) => {{
        let predicate = $predicate;
        let any: bool = diesel::select(diesel::dsl::exists($table.filter(predicate.clone())))
            .get_result($connection)?;
        if any {
            diesel::delete($table.filter(predicate)).execute($connection)?
        } else {
            0
        }
    }};
}

/// Inserts `$rows` (a slice of insertable rows) in multi-row statements: one round trip and
/// one statement per `ROWS_PER_INSERT` rows instead of one per row. The multi-backend
/// connection cannot batch; each backend can.
macro_rules! insert_rows {
    ($connection:expr, $table:expr, $rows:expr) => {{
        for batch in $rows.chunks($crate::database::ROWS_PER_INSERT) {
            match &mut *$connection {
                // COPY: no statement to parse and plan with thousands of parameters.
                $crate::database::DbConnection::Postgres(postgres) => diesel::copy_from($table)
                    .from_insertable(batch)
                    .execute(postgres)?,
                $crate::database::DbConnection::Sqlite(sqlite) => {
                    diesel::insert_into($table).values(batch).execute(sqlite)?
                }
            };
        }
    }};
}

/// `insert` and `find` for a table whose records carry partners' keys, in a store module with
/// `ENTITY` (the keys' collection) and `map_write_error` (what its unique rules mean): `$row`
/// makes a record's row.
macro_rules! insert_and_find_with_external_ids {
    ($record:ty, $id:ty, $table:ident, $row_type:ty, $row:expr) => {
        /// Stores a new record with its partners' keys (call inside a transaction).
        pub fn insert(connection: &mut DbConnection, record: &$record) -> Result<(), StoreError> {
            let row: Result<$row_type, StoreError> = ($row)(record);
            diesel::insert_into($table::table)
                .values(row?)
                .execute(connection)
                .map_err(map_write_error)?;
            external_ids::add(
                connection,
                ENTITY,
                &record.id.to_string(),
                &record.external_ids,
                record.created_at,
            )
        }

        /// The record with its partners' keys, whoever asks (check visibility before showing it).
        pub fn find(connection: &mut DbConnection, id: $id) -> Result<$record, StoreError> {
            let record: $record = $table::table
                .find(id.to_string())
                .select(<$row_type>::as_select())
                .first(connection)?
                .try_into()?;
            external_ids::loaded(connection, ENTITY, record)
        }
    };
}

/// `insert_all` for a collection whose records carry partners' keys: several new records in
/// multi-row statements (a seed's batch, an import's new rows), with their keys. `$row` makes
/// a record's row (a `Result`).
macro_rules! insert_all_with_external_ids {
    ($record:ty, $table:expr, $row:expr) => {
        /// Several new records in multi-row statements, with their partners' keys.
        pub fn insert_all(
            connection: &mut DbConnection,
            records: &[$record],
        ) -> Result<(), StoreError> {
            let rows = records
                .iter()
                .map($row)
                .collect::<Result<Vec<_>, StoreError>>()?;
            insert_rows!(connection, $table, rows);
            external_ids::add_all(
                connection,
                ENTITY,
                records.iter().map(|record| {
                    (
                        record.id.to_string(),
                        record.external_ids.as_slice(),
                        record.created_at,
                    )
                }),
            )
        }
    };
}

pub mod api_clients;
pub mod applications;
pub mod audit;
pub mod awards;
pub mod backup;
pub mod challenges;
pub mod changes;
pub mod contacts;
pub mod convert;
pub mod database;
pub mod error;
pub mod external_ids;
pub mod idempotency;
pub mod imports;
pub mod keyset;
pub mod migrations;
pub mod milestones;
pub mod operations;
pub mod organisations;
pub mod phases;
pub mod programmes;
pub mod refresh_tokens;
pub mod reports;
pub mod schema;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod throttle;
pub mod trials;
pub mod users;
pub mod versioned;
pub mod webhooks;

pub use database::{
    transaction, write_transaction, Backend, DatabaseUrl, DbConnection, Pool, PoolSettings,
    ReadPools, REPLICA_ACQUIRE_TIMEOUT,
};
pub use error::StoreError;
