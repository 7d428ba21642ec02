//! Storing and finding organisations.

use catalyst_domain::{
    ExternalId, IdentifierScheme, Organisation, OrganisationFields, OrganisationId,
    OrganisationIdentifier, OrganisationKind, Region, Scale, Timestamp,
};
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::convert::{like_pattern, lower};
use crate::database::{write_transaction, DbConnection, MultiBackend};
use crate::error::{unique_as, StoreError};
use crate::external_ids;
use crate::keyset::{self, After, Page, Sort, SortColumn};
use crate::schema::organisations;

/// The collection's name where records of every collection share a table.
pub const ENTITY: &str = "organisations";

/// The unique rule on an organisation's registered identifier, named for error messages.
pub const IDENTIFIER_CONSTRAINT: &str = "organisations_identifier_key";

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = organisations, treat_none_as_default_value = false)]
struct OrganisationRow {
    id: String,
    name: String,
    kind: String,
    scale: Option<String>,
    region: Option<String>,
    identifier_scheme: Option<String>,
    identifier: Option<String>,
    website: Option<String>,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// The columns a change writes; `None` writes NULL (a cleared field), never "leave alone".
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = organisations, treat_none_as_null = true)]
struct OrganisationChanges {
    name: String,
    kind: String,
    scale: Option<String>,
    region: Option<String>,
    identifier_scheme: Option<String>,
    identifier: Option<String>,
    website: Option<String>,
    version: i64,
    updated_at: NaiveDateTime,
}

impl From<&Organisation> for OrganisationRow {
    fn from(organisation: &Organisation) -> Self {
        let fields = &organisation.fields;
        Self {
            id: organisation.id.to_string(),
            name: fields.name.clone(),
            kind: fields.kind.as_str().to_owned(),
            scale: fields.scale.map(|scale| scale.as_str().to_owned()),
            region: fields.region.map(|region| region.as_str().to_owned()),
            identifier_scheme: fields
                .identifier
                .as_ref()
                .map(|identifier| identifier.scheme.as_str().to_owned()),
            identifier: fields
                .identifier
                .as_ref()
                .map(|identifier| identifier.id.clone()),
            website: fields.website.clone(),
            version: organisation.version,
            created_at: organisation.created_at.to_naive_utc(),
            updated_at: organisation.updated_at.to_naive_utc(),
        }
    }
}

fn parse<T: std::str::FromStr>(column: &str, value: &str) -> Result<T, StoreError> {
    value
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("organisations.{column} = {value:?}")))
}

impl TryFrom<OrganisationRow> for Organisation {
    type Error = StoreError;

    fn try_from(row: OrganisationRow) -> Result<Self, StoreError> {
        let identifier = match (row.identifier_scheme, row.identifier) {
            (Some(scheme), Some(id)) => Some(OrganisationIdentifier {
                scheme: parse::<IdentifierScheme>("identifier_scheme", &scheme)?,
                id,
            }),
            _ => None,
        };
        Ok(Organisation {
            id: parse::<OrganisationId>("id", &row.id)?,
            fields: OrganisationFields {
                name: row.name,
                kind: parse::<OrganisationKind>("kind", &row.kind)?,
                scale: row
                    .scale
                    .as_deref()
                    .map(|s| parse::<Scale>("scale", s))
                    .transpose()?,
                region: row
                    .region
                    .as_deref()
                    .map(|r| parse::<Region>("region", r))
                    .transpose()?,
                identifier,
                website: row.website,
            },
            // Filled by the queries below, from their own table.
            external_ids: Vec::new(),
            version: row.version,
            created_at: Timestamp::from_naive_utc(row.created_at),
            updated_at: Timestamp::from_naive_utc(row.updated_at),
        })
    }
}

fn map_write_error(error: diesel::result::Error) -> StoreError {
    unique_as(IDENTIFIER_CONSTRAINT, error)
}

insert_all_with_external_ids!(Organisation, organisations::table, |organisation| {
    Ok::<_, StoreError>(OrganisationRow::from(organisation))
});

/// Stores a new organisation.
pub fn insert(
    connection: &mut DbConnection,
    organisation: &Organisation,
) -> Result<(), StoreError> {
    write_transaction(connection, |connection| {
        diesel::insert_into(organisations::table)
            .values(OrganisationRow::from(organisation))
            .execute(connection)
            .map_err(map_write_error)?;
        external_ids::add(
            connection,
            ENTITY,
            &organisation.id.to_string(),
            &organisation.external_ids,
            organisation.created_at,
        )
    })
}

/// The organisation with this id.
pub fn find(connection: &mut DbConnection, id: OrganisationId) -> Result<Organisation, StoreError> {
    let mut organisation: Organisation = organisations::table
        .find(id.to_string())
        .select(OrganisationRow::as_select())
        .first(connection)?
        .try_into()?;
    organisation.external_ids = external_ids::of(connection, ENTITY, &organisation.id.to_string())?;
    Ok(organisation)
}

/// The organisations with these ids (those that exist), in one query.
pub fn find_all(
    connection: &mut DbConnection,
    ids: &[OrganisationId],
) -> Result<Vec<Organisation>, StoreError> {
    let keys: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let mut records = Vec::new();
    for batch in keys.chunks(10_000) {
        let rows: Vec<OrganisationRow> = organisations::table
            .filter(organisations::id.eq_any(batch))
            .select(OrganisationRow::as_select())
            .load(connection)?;
        for row in rows {
            records.push(Organisation::try_from(row)?);
        }
    }
    external_ids::loaded_all(connection, ENTITY, records)
}

/// The organisation that `source` knows as `key`.
pub fn find_by_external_id(
    connection: &mut DbConnection,
    source: &str,
    key: &str,
) -> Result<Organisation, StoreError> {
    let id = external_ids::resolve(connection, ENTITY, source, key)?.ok_or(StoreError::NotFound)?;
    find(
        connection,
        id.parse()
            .map_err(|_| StoreError::Corrupt(format!("external id of {id}")))?,
    )
}

/// Replaces an organisation's fields if it is still at `expected_version`, and returns it at the
/// next version. The version check is part of the UPDATE, so two writers can never both win.
pub fn update(
    connection: &mut DbConnection,
    id: OrganisationId,
    expected_version: i64,
    fields: &OrganisationFields,
    new_external_ids: Option<&[ExternalId]>,
    now: Timestamp,
) -> Result<Organisation, StoreError> {
    write_transaction(connection, |connection| {
        let current = find(connection, id)?;
        if current.version != expected_version {
            return Err(StoreError::VersionMismatch {
                current: current.version,
            });
        }
        let updated = Organisation {
            fields: fields.clone(),
            external_ids: new_external_ids
                .map_or(current.external_ids.clone(), <[ExternalId]>::to_vec),
            version: expected_version + 1,
            updated_at: now,
            ..current
        };
        if let Some(new_external_ids) = new_external_ids {
            external_ids::replace(connection, ENTITY, &id.to_string(), new_external_ids, now)?;
        }
        let row = OrganisationRow::from(&updated);
        let changes = OrganisationChanges {
            name: row.name,
            kind: row.kind,
            scale: row.scale,
            region: row.region,
            identifier_scheme: row.identifier_scheme,
            identifier: row.identifier,
            website: row.website,
            version: row.version,
            updated_at: row.updated_at,
        };
        let changed = diesel::update(
            organisations::table
                .filter(organisations::id.eq(id.to_string()))
                .filter(organisations::version.eq(expected_version)),
        )
        .set(changes)
        .execute(connection)
        .map_err(map_write_error)?;
        if changed == 0 {
            // Another writer got in between the read and the write.
            let current = find(connection, id)?;
            return Err(StoreError::VersionMismatch {
                current: current.version,
            });
        }
        Ok(updated)
    })
}

/// Deletes an organisation, if `expected_version` is given only at that version.
pub fn delete(
    connection: &mut DbConnection,
    id: OrganisationId,
    expected_version: Option<i64>,
) -> Result<(), StoreError> {
    write_transaction(connection, |connection| {
        let current = find(connection, id)?;
        if let Some(expected) = expected_version {
            if current.version != expected {
                return Err(StoreError::VersionMismatch {
                    current: current.version,
                });
            }
        }
        external_ids::replace(connection, ENTITY, &id.to_string(), &[], Timestamp::now())?;
        let deleted = diesel::delete(
            organisations::table
                .filter(organisations::id.eq(id.to_string()))
                .filter(organisations::version.eq(current.version)),
        )
        .execute(connection)?;
        if deleted == 0 {
            let current = find(connection, id)?;
            return Err(StoreError::VersionMismatch {
                current: current.version,
            });
        }
        Ok(())
    })
}

crate::sort_fields!(OrganisationSortField for organisations, Organisation {
    Name => name: Text = |o| o.fields.name.clone(),
    Kind => kind: Text = |o| o.fields.kind.as_str().to_owned(),
    CreatedAt => created_at: Time = |o| o.created_at,
    UpdatedAt => updated_at: Time = |o| o.updated_at,
    Id => id: Text = |o| o.id.to_string(),
});

/// Filters for a list of organisations; all given filters must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrganisationFilter {
    pub kind: Option<OrganisationKind>,
    pub scale: Option<Scale>,
    pub region: Option<Region>,
    /// Case-insensitive substring of the name.
    pub text: Option<String>,
    /// Changed at or after this instant.
    pub updated_since: Option<Timestamp>,
}

/// The sort with the id tie-breaker appended when it is missing, so the order is total.
pub fn total_sort(sort: &Sort<OrganisationSortField>) -> Sort<OrganisationSortField> {
    keyset::total(sort, OrganisationSortField::Id)
}

/// One page of organisations matching `filter`, in `sort` order, after `after`.
pub fn list(
    connection: &mut DbConnection,
    filter: &OrganisationFilter,
    sort: &Sort<OrganisationSortField>,
    after: Option<&After>,
    limit: usize,
) -> Result<Page<Organisation>, StoreError> {
    let sort = total_sort(sort);
    let mut query = organisations::table
        .select(OrganisationRow::as_select())
        .into_boxed::<MultiBackend>();
    if let Some(kind) = filter.kind {
        query = query.filter(organisations::kind.eq(kind.as_str()));
    }
    if let Some(scale) = filter.scale {
        query = query.filter(organisations::scale.eq(scale.as_str()));
    }
    if let Some(region) = filter.region {
        query = query.filter(organisations::region.eq(region.as_str()));
    }
    if let Some(text) = &filter.text {
        query = query.filter(
            lower(organisations::name)
                .like(like_pattern(&text.to_lowercase()))
                .escape('\\'),
        );
    }
    if let Some(since) = filter.updated_since {
        query = query.filter(organisations::updated_at.ge(since.to_naive_utc()));
    }
    let mut page = crate::keyset_page!(connection, query, OrganisationRow => Organisation, OrganisationSortField, &sort, after, limit)?;
    page.items = external_ids::loaded_all(connection, ENTITY, page.items)?;
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_in_search_text_are_literal() {
        assert_eq!(like_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }
}
