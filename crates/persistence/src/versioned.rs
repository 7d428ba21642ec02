//! Optimistic concurrency for every versioned table: an update or delete names the version it
//! read, and `WHERE id = ? AND version = ?` makes sure no change between two servers is lost.

/// Generates `update` and `delete` for a table whose module has `find`, `map_write_error` and a
/// row type made from the entity by `$to_row` (returning `Result<Row, StoreError>`).
#[macro_export]
macro_rules! versioned_writes {
    ($table:ident, $entity:ty, $id:ty, $to_row:expr) => {
        /// Writes the entity (fields, status, version and updated time) if the stored one is
        /// still at `expected_version`.
        pub fn update(
            connection: &mut $crate::DbConnection,
            entity: &$entity,
            expected_version: i64,
        ) -> Result<(), $crate::StoreError> {
            use diesel::prelude::*;
            let to_row = $to_row;
            let changed = diesel::update(
                $crate::schema::$table::table
                    .filter($crate::schema::$table::id.eq(entity.id.to_string()))
                    .filter($crate::schema::$table::version.eq(expected_version)),
            )
            .set(to_row(entity)?)
            .execute(connection)
            .map_err(map_write_error)?;
            if changed == 0 {
                return Err($crate::StoreError::VersionMismatch {
                    current: find(connection, entity.id)?.version,
                });
            }
            Ok(())
        }

        /// Deletes the row if it is still at `expected_version`.
        pub fn delete(
            connection: &mut $crate::DbConnection,
            id: $id,
            expected_version: i64,
        ) -> Result<(), $crate::StoreError> {
            use diesel::prelude::*;
            let deleted = diesel::delete(
                $crate::schema::$table::table
                    .filter($crate::schema::$table::id.eq(id.to_string()))
                    .filter($crate::schema::$table::version.eq(expected_version)),
            )
            .execute(connection)?;
            if deleted == 0 {
                return Err($crate::StoreError::VersionMismatch {
                    current: find(connection, id)?.version,
                });
            }
            // Partners' keys die with the record, so that a key can name a new one.
            diesel::delete(
                $crate::schema::external_ids::table
                    .filter($crate::schema::external_ids::entity.eq(stringify!($table)))
                    .filter($crate::schema::external_ids::entity_id.eq(id.to_string())),
            )
            .execute(connection)?;
            Ok(())
        }
    };
}
