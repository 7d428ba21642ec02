//! Migrations, embedded in the binary: one folder per backend, with identical folder names and
//! each backend's own SQL.

use diesel::connection::SimpleConnection;
use diesel::RunQueryDsl;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::database::DbConnection;
use crate::error::StoreError;

pub const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
pub const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// An arbitrary constant: the advisory lock that makes replicas starting together take turns.
const MIGRATION_LOCK_KEY: i64 = 0x00ca_7a15;

#[derive(diesel::QueryableByName)]
struct StatementTimeout {
    #[diesel(sql_type = diesel::sql_types::Text)]
    setting: String,
}

#[derive(Debug, thiserror::Error)]
#[error("migration failed: {0}")]
pub struct MigrationError(String);

impl From<StoreError> for MigrationError {
    fn from(error: StoreError) -> Self {
        Self(error.to_string())
    }
}

/// Applies every pending migration and returns the versions applied.
pub fn run_pending(connection: &mut DbConnection) -> Result<Vec<String>, MigrationError> {
    let applied = match connection {
        DbConnection::Postgres(postgres) => {
            // A migration may build an index on a large table: no statement timeout for it, and
            // the connection's own timeout back afterwards (it returns to the pool).
            let timeout: StatementTimeout =
                diesel::sql_query("SELECT current_setting('statement_timeout') AS setting")
                    .get_result(postgres)
                    .map_err(|error| MigrationError(error.to_string()))?;
            // Two replicas starting at once would otherwise race to create the same tables.
            postgres
                .batch_execute(&format!(
                    "SET statement_timeout = 0; SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"
                ))
                .map_err(|error| MigrationError(error.to_string()))?;
            let result = postgres
                .run_pending_migrations(POSTGRES)
                .map(|versions| versions.iter().map(ToString::to_string).collect())
                .map_err(|error| MigrationError(error.to_string()));
            let unlocked = postgres
                .batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
                .and_then(|()| {
                    diesel::sql_query("SELECT set_config('statement_timeout', $1, false)")
                        .bind::<diesel::sql_types::Text, _>(&timeout.setting)
                        .execute(postgres)
                        .map(drop)
                })
                .map_err(|error| MigrationError(error.to_string()));
            let versions = result?;
            unlocked?;
            versions
        }
        DbConnection::Sqlite(sqlite) => sqlite
            .run_pending_migrations(SQLITE)
            .map(|versions| versions.iter().map(ToString::to_string).collect())
            .map_err(|error| MigrationError(error.to_string()))?,
    };
    Ok(applied)
}

/// Reverts every applied migration, newest first (used to prove each `down` undoes its `up`).
pub fn revert_all(connection: &mut DbConnection) -> Result<Vec<String>, MigrationError> {
    let reverted = match connection {
        DbConnection::Postgres(postgres) => postgres.revert_all_migrations(POSTGRES),
        DbConnection::Sqlite(sqlite) => sqlite.revert_all_migrations(SQLITE),
    };
    reverted
        .map(|versions| versions.iter().map(ToString::to_string).collect())
        .map_err(|error| MigrationError(error.to_string()))
}
