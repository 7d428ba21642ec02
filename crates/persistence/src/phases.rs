//! Storing and finding phases. A phase is seen by whoever may see its challenge.

use catalyst_domain::{ChallengeId, Phase, PhaseFields, PhaseId, Timestamp};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::challenges::Visibility;
use crate::convert::{money, parse};
use crate::database::{DbConnection, MultiBackend};
use crate::error::{unique_as, StoreError};
use crate::external_ids;
use crate::keyset::{self, After, Page, Sort, SortColumn};
use crate::schema::phases;

pub const NUMBER_CONSTRAINT: &str = "phases_challenge_id_number_key";

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = phases, treat_none_as_null = true, treat_none_as_default_value = false)]
struct PhaseRow {
    id: String,
    challenge_id: String,
    number: i32,
    kind: String,
    budget_amount: i64,
    budget_currency: String,
    max_award_amount: i64,
    max_award_currency: String,
    /// Changed only by [`commit`], never by a phase update.
    #[diesel(skip_update)]
    committed_amount: i64,
    max_suppliers: Option<i32>,
    starts_on: Option<NaiveDate>,
    ends_on: Option<NaiveDate>,
    open_to_all: bool,
    status: String,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl From<&Phase> for PhaseRow {
    fn from(phase: &Phase) -> Self {
        let fields = &phase.fields;
        Self {
            id: phase.id.to_string(),
            challenge_id: fields.challenge_id.to_string(),
            number: fields.number,
            kind: fields.kind.as_str().to_owned(),
            budget_amount: fields.budget.minor_units(),
            budget_currency: fields.budget.currency().to_string(),
            max_award_amount: fields.max_award.minor_units(),
            max_award_currency: fields.max_award.currency().to_string(),
            committed_amount: phase.committed.minor_units(),
            max_suppliers: fields.max_suppliers,
            starts_on: fields.starts_on,
            ends_on: fields.ends_on,
            open_to_all: fields.open_to_all,
            status: phase.status.as_str().to_owned(),
            version: phase.version,
            created_at: phase.created_at.to_naive_utc(),
            updated_at: phase.updated_at.to_naive_utc(),
        }
    }
}

impl TryFrom<PhaseRow> for Phase {
    type Error = StoreError;

    fn try_from(row: PhaseRow) -> Result<Self, StoreError> {
        Ok(Phase {
            // Filled by the queries below, from their own table.
            external_ids: Vec::new(),
            id: parse("phases", "id", &row.id)?,
            fields: PhaseFields {
                challenge_id: parse("phases", "challenge_id", &row.challenge_id)?,
                number: row.number,
                kind: parse("phases", "kind", &row.kind)?,
                budget: money("phases", "budget", row.budget_amount, &row.budget_currency)?,
                max_award: money(
                    "phases",
                    "max_award",
                    row.max_award_amount,
                    &row.max_award_currency,
                )?,
                max_suppliers: row.max_suppliers,
                starts_on: row.starts_on,
                ends_on: row.ends_on,
                open_to_all: row.open_to_all,
            },
            committed: money(
                "phases",
                "committed",
                row.committed_amount,
                &row.budget_currency,
            )?,
            status: parse("phases", "status", &row.status)?,
            version: row.version,
            created_at: Timestamp::from_naive_utc(row.created_at),
            updated_at: Timestamp::from_naive_utc(row.updated_at),
        })
    }
}

fn map_write_error(error: diesel::result::Error) -> StoreError {
    unique_as(NUMBER_CONSTRAINT, error)
}

insert_all_with_external_ids!(Phase, phases::table, |phase| Ok(PhaseRow::from(phase)));

insert_and_find_with_external_ids!(Phase, PhaseId, phases, PhaseRow, |phase| Ok(
    PhaseRow::from(phase)
));

/// Every phase of a challenge, in number order (a challenge has a handful).
pub fn all_of_challenge(
    connection: &mut DbConnection,
    challenge: ChallengeId,
) -> Result<Vec<Phase>, StoreError> {
    let records = phases::table
        .filter(phases::challenge_id.eq(challenge.to_string()))
        .order(phases::number.asc())
        .select(PhaseRow::as_select())
        .load(connection)?
        .into_iter()
        .map(Phase::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    external_ids::loaded_all(connection, ENTITY, records)
}

/// The phases of each of `challenges`, in number order, in one query.
pub fn all_of_challenges(
    connection: &mut DbConnection,
    challenges: &[ChallengeId],
) -> Result<Vec<Phase>, StoreError> {
    let ids: Vec<String> = challenges.iter().map(ToString::to_string).collect();
    let mut records = Vec::new();
    for batch in ids.chunks(10_000) {
        let rows: Vec<PhaseRow> = phases::table
            .filter(phases::challenge_id.eq_any(batch))
            .order((phases::challenge_id.asc(), phases::number.asc()))
            .select(PhaseRow::as_select())
            .load(connection)?;
        for row in rows {
            records.push(Phase::try_from(row)?);
        }
    }
    external_ids::loaded_all(connection, ENTITY, records)
}

/// The phase with `number` in a challenge, if there is one.
pub fn find_by_number(
    connection: &mut DbConnection,
    challenge: ChallengeId,
    number: i32,
) -> Result<Option<Phase>, StoreError> {
    phases::table
        .filter(phases::challenge_id.eq(challenge.to_string()))
        .filter(phases::number.eq(number))
        .select(PhaseRow::as_select())
        .first(connection)
        .optional()?
        .map(Phase::try_from)
        .transpose()?
        .map(|record| external_ids::loaded(connection, ENTITY, record))
        .transpose()
}

/// Adds `amount` to the phase's committed sum if it stays within the budget, in one statement:
/// two servers awarding the last of a budget at once cannot both succeed. Returns false when
/// the budget would be exceeded. The phase's version grows, since its figures changed.
pub fn commit(
    connection: &mut DbConnection,
    id: PhaseId,
    amount: i64,
    now: Timestamp,
) -> Result<bool, StoreError> {
    commit_many(connection, id, amount, 1, now)
}

/// `commit` for `awards` awards at once, of `amount` in all: the version grows by one per award,
/// as if each had been committed alone.
pub fn commit_many(
    connection: &mut DbConnection,
    id: PhaseId,
    amount: i64,
    awards: i64,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let changed = diesel::update(
        phases::table
            .filter(phases::id.eq(id.to_string()))
            .filter((phases::committed_amount + amount).le(phases::budget_amount)),
    )
    .set((
        phases::committed_amount.eq(phases::committed_amount + amount),
        phases::version.eq(phases::version + awards),
        phases::updated_at.eq(now.to_naive_utc()),
    ))
    .execute(connection)?;
    Ok(changed == 1)
}

/// Only phases of challenges the caller may see: written as SQL subqueries because diesel's
/// multi-backend connection cannot box a subselect.
fn visible_challenges(visibility: &Visibility) -> Option<keyset::Predicate<phases::table>> {
    use diesel::dsl::sql;
    use diesel::sql_types::{Bool, Text};
    let Visibility::PublishedAnd(organisations) = visibility else {
        return None;
    };
    let mut seen: keyset::Predicate<phases::table> = Box::new(sql::<Bool>(
        "phases.challenge_id IN (SELECT challenges.id FROM challenges WHERE challenges.status <> 'draft')",
    ));
    for organisation in organisations {
        let own: keyset::Predicate<phases::table> = Box::new(
            sql::<Bool>("phases.challenge_id IN (SELECT challenges.id FROM challenges WHERE challenges.owner_organisation_id = ")
                .bind::<Text, _>(organisation.to_string())
                .sql(")"),
        );
        seen = Box::new(seen.or(own));
    }
    Some(seen)
}

crate::keyed_by_partners!("phases", Phase, PhaseId);

crate::versioned_writes!(phases, Phase, PhaseId, |phase: &Phase| Ok::<_, StoreError>(
    PhaseRow::from(phase)
));

crate::sort_fields!(PhaseSortField for phases, Phase {
    Number => number: Int = |p| p.fields.number,
    CreatedAt => created_at: Time = |p| p.created_at,
    UpdatedAt => updated_at: Time = |p| p.updated_at,
    Id => id: Text = |p| p.id.to_string(),
});

#[derive(Debug, Clone, Default)]
pub struct PhaseFilter {
    pub challenge_id: Option<ChallengeId>,
    pub status: Option<catalyst_domain::PhaseStatus>,
    pub kind: Option<catalyst_domain::PhaseKind>,
    pub updated_since: Option<Timestamp>,
}

pub fn list(
    connection: &mut DbConnection,
    visibility: &Visibility,
    filter: &PhaseFilter,
    sort: &Sort<PhaseSortField>,
    after: Option<&After>,
    limit: usize,
) -> Result<Page<Phase>, StoreError> {
    let mut query = phases::table
        .select(PhaseRow::as_select())
        .into_boxed::<MultiBackend>();
    if let Some(seen) = visible_challenges(visibility) {
        query = query.filter(seen);
    }
    if let Some(challenge) = filter.challenge_id {
        query = query.filter(phases::challenge_id.eq(challenge.to_string()));
    }
    if let Some(status) = filter.status {
        query = query.filter(phases::status.eq(status.as_str()));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(phases::kind.eq(kind.as_str()));
    }
    if let Some(since) = filter.updated_since {
        query = query.filter(phases::updated_at.ge(since.to_naive_utc()));
    }
    let mut page = crate::keyset_page!(connection, query, PhaseRow => Phase, PhaseSortField, sort, after, limit)?;
    page.items = external_ids::loaded_all(connection, ENTITY, page.items)?;
    Ok(page)
}
