//! Storing and finding programmes.

use catalyst_domain::{OrganisationId, Programme, ProgrammeFields, ProgrammeId, Timestamp};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::convert::{like_pattern, lower, money, parse};
use crate::database::{DbConnection, MultiBackend};
use crate::error::{unique_as, StoreError};
use crate::external_ids;
use crate::keyset::{After, Page, Sort, SortColumn};
use crate::schema::programmes;

pub const CODE_CONSTRAINT: &str = "programmes_code_key";

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = programmes, treat_none_as_null = true)]
struct ProgrammeRow {
    id: String,
    code: String,
    title: String,
    description: Option<String>,
    funder_organisation_id: String,
    budget_amount: i64,
    budget_currency: String,
    opens_on: Option<NaiveDate>,
    closes_on: Option<NaiveDate>,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl From<&Programme> for ProgrammeRow {
    fn from(programme: &Programme) -> Self {
        let fields = &programme.fields;
        Self {
            id: programme.id.to_string(),
            code: fields.code.clone(),
            title: fields.title.clone(),
            description: fields.description.clone(),
            funder_organisation_id: fields.funder_organisation_id.to_string(),
            budget_amount: fields.budget.minor_units(),
            budget_currency: fields.budget.currency().to_string(),
            opens_on: fields.opens_on,
            closes_on: fields.closes_on,
            version: programme.version,
            created_at: programme.created_at.to_naive_utc(),
            updated_at: programme.updated_at.to_naive_utc(),
        }
    }
}

impl TryFrom<ProgrammeRow> for Programme {
    type Error = StoreError;

    fn try_from(row: ProgrammeRow) -> Result<Self, StoreError> {
        Ok(Programme {
            // Filled by the queries below, from their own table.
            external_ids: Vec::new(),
            id: parse("programmes", "id", &row.id)?,
            fields: ProgrammeFields {
                code: row.code,
                title: row.title,
                description: row.description,
                funder_organisation_id: parse(
                    "programmes",
                    "funder_organisation_id",
                    &row.funder_organisation_id,
                )?,
                budget: money(
                    "programmes",
                    "budget",
                    row.budget_amount,
                    &row.budget_currency,
                )?,
                opens_on: row.opens_on,
                closes_on: row.closes_on,
            },
            version: row.version,
            created_at: Timestamp::from_naive_utc(row.created_at),
            updated_at: Timestamp::from_naive_utc(row.updated_at),
        })
    }
}

fn map_write_error(error: diesel::result::Error) -> StoreError {
    unique_as(CODE_CONSTRAINT, error)
}

insert_and_find_with_external_ids!(
    Programme,
    ProgrammeId,
    programmes,
    ProgrammeRow,
    |programme| Ok(ProgrammeRow::from(programme))
);

/// The programme with this code, if any.
pub fn find_by_code(
    connection: &mut DbConnection,
    code: &str,
) -> Result<Option<Programme>, StoreError> {
    programmes::table
        .filter(programmes::code.eq(code))
        .select(ProgrammeRow::as_select())
        .first(connection)
        .optional()?
        .map(Programme::try_from)
        .transpose()?
        .map(|record| external_ids::loaded(connection, ENTITY, record))
        .transpose()
}

crate::keyed_by_partners!("programmes", Programme, ProgrammeId);

crate::versioned_writes!(
    programmes,
    Programme,
    ProgrammeId,
    |programme: &Programme| Ok::<_, StoreError>(ProgrammeRow::from(programme))
);

crate::sort_fields!(ProgrammeSortField for programmes, Programme {
    Title => title: Text = |p| p.fields.title.clone(),
    Code => code: Text = |p| p.fields.code.clone(),
    CreatedAt => created_at: Time = |p| p.created_at,
    UpdatedAt => updated_at: Time = |p| p.updated_at,
    Id => id: Text = |p| p.id.to_string(),
});

#[derive(Debug, Clone, Default)]
pub struct ProgrammeFilter {
    pub funder_organisation_id: Option<OrganisationId>,
    pub text: Option<String>,
    pub updated_since: Option<Timestamp>,
}

pub fn list(
    connection: &mut DbConnection,
    filter: &ProgrammeFilter,
    sort: &Sort<ProgrammeSortField>,
    after: Option<&After>,
    limit: usize,
) -> Result<Page<Programme>, StoreError> {
    let mut query = programmes::table
        .select(ProgrammeRow::as_select())
        .into_boxed::<MultiBackend>();
    if let Some(funder) = filter.funder_organisation_id {
        query = query.filter(programmes::funder_organisation_id.eq(funder.to_string()));
    }
    if let Some(text) = &filter.text {
        query = query.filter(
            lower(programmes::title)
                .like(like_pattern(&text.to_lowercase()))
                .escape('\\'),
        );
    }
    if let Some(since) = filter.updated_since {
        query = query.filter(programmes::updated_at.ge(since.to_naive_utc()));
    }
    let mut page = crate::keyset_page!(connection, query, ProgrammeRow => Programme, ProgrammeSortField, sort, after, limit)?;
    page.items = external_ids::loaded_all(connection, ENTITY, page.items)?;
    Ok(page)
}
