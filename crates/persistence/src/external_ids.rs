//! External ids of records, one table for every collection: `(entity, source, external_id)` is
//! unique (a partner's key names one record), and so is `(entity, entity_id, source)` (a record
//! has one key per partner).

use std::collections::{HashMap, HashSet};

use catalyst_domain::{ExternalId, Timestamp};
use diesel::prelude::*;

use crate::database::DbConnection;
use crate::error::{unique_as, StoreError};
use crate::schema::external_ids;

pub const UNIQUE_CONSTRAINT: &str = "external_ids_key";

/// The record of `entity` that `source` knows as `key`, if any.
pub fn resolve(
    connection: &mut DbConnection,
    entity: &str,
    source: &str,
    key: &str,
) -> Result<Option<String>, StoreError> {
    Ok(external_ids::table
        .filter(external_ids::entity.eq(entity))
        .filter(external_ids::source.eq(source))
        .filter(external_ids::external_id.eq(key))
        .select(external_ids::entity_id)
        .first(connection)
        .optional()?)
}

/// A record's external ids, in source order.
pub fn of(
    connection: &mut DbConnection,
    entity: &str,
    entity_id: &str,
) -> Result<Vec<ExternalId>, StoreError> {
    Ok(external_ids::table
        .filter(external_ids::entity.eq(entity))
        .filter(external_ids::entity_id.eq(entity_id))
        .order(external_ids::source.asc())
        .select((external_ids::source, external_ids::external_id))
        .load::<(String, String)>(connection)?
        .into_iter()
        .map(|(source, id)| ExternalId { source, id })
        .collect())
}

/// The external ids of many records (a page) in one query.
pub fn of_many(
    connection: &mut DbConnection,
    entity: &str,
    entity_ids: &[String],
) -> Result<HashMap<String, Vec<ExternalId>>, StoreError> {
    let mut by_record: HashMap<String, Vec<ExternalId>> = HashMap::new();
    if entity_ids.is_empty() {
        return Ok(by_record);
    }
    let rows: Vec<(String, String, String)> = external_ids::table
        .filter(external_ids::entity.eq(entity))
        .filter(external_ids::entity_id.eq_any(entity_ids))
        .order((external_ids::entity_id.asc(), external_ids::source.asc()))
        .select((
            external_ids::entity_id,
            external_ids::source,
            external_ids::external_id,
        ))
        .load(connection)?;
    for (entity_id, source, id) in rows {
        by_record
            .entry(entity_id)
            .or_default()
            .push(ExternalId { source, id });
    }
    Ok(by_record)
}

/// Makes `ids` a record's external ids, replacing those it had. A key that names another record
/// already is `Duplicate`.
pub fn replace(
    connection: &mut DbConnection,
    entity: &str,
    entity_id: &str,
    ids: &[ExternalId],
    now: Timestamp,
) -> Result<(), StoreError> {
    diesel::delete(
        external_ids::table
            .filter(external_ids::entity.eq(entity))
            .filter(external_ids::entity_id.eq(entity_id)),
    )
    .execute(connection)?;
    add(connection, entity, entity_id, ids, now)
}

/// Records the keys of a record just created (which can have none yet): no statement at all
/// when there are none.
pub fn add(
    connection: &mut DbConnection,
    entity: &str,
    entity_id: &str,
    ids: &[ExternalId],
    now: Timestamp,
) -> Result<(), StoreError> {
    for external in ids {
        diesel::insert_into(external_ids::table)
            .values((
                external_ids::entity.eq(entity),
                external_ids::source.eq(&external.source),
                external_ids::external_id.eq(&external.id),
                external_ids::entity_id.eq(entity_id),
                external_ids::created_at.eq(now.to_naive_utc()),
            ))
            .execute(connection)
            .map_err(|error| unique_as(UNIQUE_CONSTRAINT, error))?;
    }
    Ok(())
}

/// A key as it is inserted.
#[derive(Insertable)]
#[diesel(table_name = external_ids, treat_none_as_default_value = false)]
struct NewExternalId<'a> {
    entity: &'a str,
    source: &'a str,
    external_id: &'a str,
    entity_id: String,
    created_at: chrono::NaiveDateTime,
}

/// Records the keys of several records just created, in multi-row statements. A key that names
/// another record already is `Duplicate` (and the statement writes nothing).
pub fn add_all<'a>(
    connection: &mut DbConnection,
    entity: &'a str,
    records: impl IntoIterator<Item = (String, &'a [ExternalId], Timestamp)>,
) -> Result<(), StoreError> {
    let rows: Vec<NewExternalId<'a>> = records
        .into_iter()
        .flat_map(|(entity_id, ids, now)| {
            ids.iter().map(move |external| NewExternalId {
                entity,
                source: &external.source,
                external_id: &external.id,
                entity_id: entity_id.clone(),
                created_at: now.to_naive_utc(),
            })
        })
        .collect();
    let inserted = (|| -> Result<(), diesel::result::Error> {
        insert_rows!(connection, external_ids::table, rows);
        Ok(())
    })();
    inserted.map_err(|error| unique_as(UNIQUE_CONSTRAINT, error))
}

/// Which of `keys` name a record of `entity` already: one query per source.
pub fn known(
    connection: &mut DbConnection,
    entity: &str,
    keys: &[&ExternalId],
) -> Result<HashSet<ExternalId>, StoreError> {
    let mut by_source: HashMap<&str, Vec<&str>> = HashMap::new();
    for key in keys {
        by_source.entry(&key.source).or_default().push(&key.id);
    }
    let mut found = HashSet::new();
    for (source, ids) in by_source {
        for batch in ids.chunks(crate::database::ROWS_PER_INSERT) {
            let existing = known_of_source(connection, entity, source, batch)?;
            found.extend(existing.into_iter().map(|id| ExternalId {
                source: source.to_owned(),
                id,
            }));
        }
    }
    Ok(found)
}

fn known_of_source(
    connection: &mut DbConnection,
    entity: &str,
    source: &str,
    ids: &[&str],
) -> Result<Vec<String>, StoreError> {
    #[derive(QueryableByName)]
    struct Known {
        #[diesel(sql_type = diesel::sql_types::Text)]
        id: String,
    }
    match connection {
        // A key at a time, each found by the whole primary key. `external_id = ANY($3)` would
        // be one statement too, but while an import's own rows are uncommitted the planner
        // has no statistics for them, expects one row per (entity, source), and filters
        // every key of the source against the array instead: quadratic in the import's size.
        DbConnection::Postgres(postgres) => Ok(diesel::sql_query(
            "SELECT k.id FROM unnest($3::text[]) AS k(id)
             CROSS JOIN LATERAL (
                 SELECT 1 FROM external_ids e
                 WHERE e.entity = $1 AND e.source = $2 AND e.external_id = k.id
                 LIMIT 1
             ) AS found",
        )
        .bind::<diesel::sql_types::Text, _>(entity)
        .bind::<diesel::sql_types::Text, _>(source)
        .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(ids)
        .load::<Known>(postgres)?
        .into_iter()
        .map(|known| known.id)
        .collect()),
        DbConnection::Sqlite(sqlite) => Ok(external_ids::table
            .filter(external_ids::entity.eq(entity))
            .filter(external_ids::source.eq(source))
            .filter(external_ids::external_id.eq_any(ids))
            .select(external_ids::external_id)
            .load(sqlite)?),
    }
}

/// Fills in the external ids of a page of records, in one query.
pub fn fill<T>(
    connection: &mut DbConnection,
    entity: &str,
    items: &mut [T],
    id_of: impl Fn(&T) -> String,
    set: impl Fn(&mut T, Vec<ExternalId>),
) -> Result<(), StoreError> {
    let ids: Vec<String> = items.iter().map(&id_of).collect();
    let mut known = of_many(connection, entity, &ids)?;
    for item in items.iter_mut() {
        let found = known.remove(&id_of(item)).unwrap_or_default();
        set(item, found);
    }
    Ok(())
}

/// A record that partners may key by their own ids.
pub trait Keyed {
    fn record_id(&self) -> String;
    fn external_ids_mut(&mut self) -> &mut Vec<ExternalId>;
}

macro_rules! keyed {
    ($($record:ty),*) => {$(
        impl Keyed for $record {
            fn record_id(&self) -> String {
                self.id.to_string()
            }
            fn external_ids_mut(&mut self) -> &mut Vec<ExternalId> {
                &mut self.external_ids
            }
        }
    )*};
}

keyed!(
    catalyst_domain::Organisation,
    catalyst_domain::Challenge,
    catalyst_domain::Programme,
    catalyst_domain::Phase,
    catalyst_domain::Application,
    catalyst_domain::Award,
    catalyst_domain::Milestone,
    catalyst_domain::Trial,
    catalyst_domain::Contact
);

/// The record with its external ids loaded.
pub fn loaded<T: Keyed>(
    connection: &mut DbConnection,
    entity: &str,
    mut record: T,
) -> Result<T, StoreError> {
    *record.external_ids_mut() = of(connection, entity, &record.record_id())?;
    Ok(record)
}

/// The records with their external ids loaded, in one query.
pub fn loaded_all<T: Keyed>(
    connection: &mut DbConnection,
    entity: &str,
    mut records: Vec<T>,
) -> Result<Vec<T>, StoreError> {
    fill(
        connection,
        entity,
        &mut records,
        Keyed::record_id,
        |record, ids| *record.external_ids_mut() = ids,
    )?;
    Ok(records)
}

/// Generates, for a store module with `find(connection, id)`, the lookups by a partner's key.
#[macro_export]
macro_rules! keyed_by_partners {
    ($entity:literal, $record:ty, $id:ty) => {
        /// The collection's name where records of every collection share a table.
        pub const ENTITY: &str = $entity;

        /// The record that `source` knows as `key` (check visibility before showing it).
        pub fn find_by_external_id(
            connection: &mut $crate::DbConnection,
            source: &str,
            key: &str,
        ) -> Result<$record, $crate::StoreError> {
            let id = $crate::external_ids::resolve(connection, ENTITY, source, key)?
                .ok_or($crate::StoreError::NotFound)?;
            find(
                connection,
                id.parse()
                    .map_err(|_| $crate::StoreError::Corrupt(format!("external id of {id}")))?,
            )
        }

        /// Makes `ids` the record's external ids (a key naming another record is `Duplicate`).
        pub fn set_external_ids(
            connection: &mut $crate::DbConnection,
            id: $id,
            ids: &[catalyst_domain::ExternalId],
            now: catalyst_domain::Timestamp,
        ) -> Result<(), $crate::StoreError> {
            $crate::external_ids::replace(connection, ENTITY, &id.to_string(), ids, now)
        }

        /// Writes `updated` over `current` (at its version), and its external ids when they
        /// changed.
        pub fn update_with_keys(
            connection: &mut $crate::DbConnection,
            updated: &$record,
            current: &$record,
        ) -> Result<(), $crate::StoreError> {
            update(connection, updated, current.version)?;
            if updated.external_ids != current.external_ids {
                set_external_ids(
                    connection,
                    updated.id,
                    &updated.external_ids,
                    updated.updated_at,
                )?;
            }
            Ok(())
        }
    };
}
