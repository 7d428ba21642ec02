//! Storing and finding challenges, with what each caller may see decided in the query.

use catalyst_domain::{
    Challenge, ChallengeFields, ChallengeId, ChallengeStatus, DocumentLink, OrganisationId,
    ProgrammeId, Timestamp,
};
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::convert::{like_pattern, lower, parse};
use crate::database::{DbConnection, MultiBackend};
use crate::error::{unique_as, StoreError};
use crate::external_ids;
use crate::keyset::{After, Page, Predicate, Sort, SortColumn};
use crate::schema::challenges;

pub const REFERENCE_CONSTRAINT: &str = "challenges_reference_key";

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = challenges, treat_none_as_null = true, treat_none_as_default_value = false)]
struct ChallengeRow {
    id: String,
    programme_id: String,
    owner_organisation_id: String,
    reference: String,
    title: String,
    problem_statement: String,
    themes: String,
    documents: String,
    status: String,
    opens_at: Option<NaiveDateTime>,
    closes_at: Option<NaiveDateTime>,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl ChallengeRow {
    fn from_challenge(challenge: &Challenge) -> Result<Self, StoreError> {
        let fields = &challenge.fields;
        let json = |value: serde_json::Result<String>| {
            value.map_err(|error| StoreError::Corrupt(error.to_string()))
        };
        Ok(Self {
            id: challenge.id.to_string(),
            programme_id: fields.programme_id.to_string(),
            owner_organisation_id: fields.owner_organisation_id.to_string(),
            reference: fields.reference.clone(),
            title: fields.title.clone(),
            problem_statement: fields.problem_statement.clone(),
            themes: json(serde_json::to_string(&fields.themes))?,
            documents: json(serde_json::to_string(&fields.documents))?,
            status: challenge.status.as_str().to_owned(),
            opens_at: fields.opens_at.map(Timestamp::to_naive_utc),
            closes_at: fields.closes_at.map(Timestamp::to_naive_utc),
            version: challenge.version,
            created_at: challenge.created_at.to_naive_utc(),
            updated_at: challenge.updated_at.to_naive_utc(),
        })
    }
}

impl TryFrom<ChallengeRow> for Challenge {
    type Error = StoreError;

    fn try_from(row: ChallengeRow) -> Result<Self, StoreError> {
        let themes: Vec<String> = serde_json::from_str(&row.themes)
            .map_err(|_| StoreError::Corrupt(format!("challenges.themes = {:?}", row.themes)))?;
        let documents: Vec<DocumentLink> = serde_json::from_str(&row.documents).map_err(|_| {
            StoreError::Corrupt(format!("challenges.documents = {:?}", row.documents))
        })?;
        Ok(Challenge {
            id: parse("challenges", "id", &row.id)?,
            fields: ChallengeFields {
                programme_id: parse("challenges", "programme_id", &row.programme_id)?,
                owner_organisation_id: parse(
                    "challenges",
                    "owner_organisation_id",
                    &row.owner_organisation_id,
                )?,
                reference: row.reference,
                title: row.title,
                problem_statement: row.problem_statement,
                themes,
                opens_at: row.opens_at.map(Timestamp::from_naive_utc),
                closes_at: row.closes_at.map(Timestamp::from_naive_utc),
                documents,
            },
            // Filled by the queries below, from their own table.
            external_ids: Vec::new(),
            status: parse("challenges", "status", &row.status)?,
            version: row.version,
            created_at: Timestamp::from_naive_utc(row.created_at),
            updated_at: Timestamp::from_naive_utc(row.updated_at),
        })
    }
}

fn map_write_error(error: diesel::result::Error) -> StoreError {
    unique_as(REFERENCE_CONSTRAINT, error)
}

/// Who is asking, as far as the query needs to know: everything, or published challenges plus
/// the drafts of these organisations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visibility {
    Everything,
    PublishedAnd(Vec<OrganisationId>),
}

impl Visibility {
    /// The condition a row must meet to be seen.
    pub fn predicate(&self) -> Option<Predicate<challenges::table>> {
        match self {
            Visibility::Everything => None,
            Visibility::PublishedAnd(organisations) => {
                let mut seen: Predicate<challenges::table> =
                    Box::new(challenges::status.ne(ChallengeStatus::Draft.as_str()));
                for organisation in organisations {
                    seen = Box::new(
                        seen.or(challenges::owner_organisation_id.eq(organisation.to_string())),
                    );
                }
                Some(seen)
            }
        }
    }

    pub fn allows(&self, challenge: &Challenge) -> bool {
        match self {
            Visibility::Everything => true,
            Visibility::PublishedAnd(organisations) => {
                challenge.is_published()
                    || organisations.contains(&challenge.fields.owner_organisation_id)
            }
        }
    }
}

insert_all_with_external_ids!(Challenge, challenges::table, ChallengeRow::from_challenge);

insert_and_find_with_external_ids!(
    Challenge,
    ChallengeId,
    challenges,
    ChallengeRow,
    ChallengeRow::from_challenge
);

/// The challenge if `visibility` lets the caller see it; otherwise it does not exist.
pub fn find_visible(
    connection: &mut DbConnection,
    id: ChallengeId,
    visibility: &Visibility,
) -> Result<Challenge, StoreError> {
    let challenge = find(connection, id)?;
    if visibility.allows(&challenge) {
        Ok(challenge)
    } else {
        Err(StoreError::NotFound)
    }
}

crate::keyed_by_partners!("challenges", Challenge, ChallengeId);

crate::versioned_writes!(
    challenges,
    Challenge,
    ChallengeId,
    ChallengeRow::from_challenge
);

crate::sort_fields!(ChallengeSortField for challenges, Challenge {
    Title => title: Text = |c| c.fields.title.clone(),
    Reference => reference: Text = |c| c.fields.reference.clone(),
    Status => status: Text = |c| c.status.as_str().to_owned(),
    CreatedAt => created_at: Time = |c| c.created_at,
    UpdatedAt => updated_at: Time = |c| c.updated_at,
    Id => id: Text = |c| c.id.to_string(),
});

#[derive(Debug, Clone, Default)]
pub struct ChallengeFilter {
    pub programme_id: Option<ProgrammeId>,
    pub owner_organisation_id: Option<OrganisationId>,
    pub status: Option<ChallengeStatus>,
    pub text: Option<String>,
    pub updated_since: Option<Timestamp>,
}

pub fn list(
    connection: &mut DbConnection,
    visibility: &Visibility,
    filter: &ChallengeFilter,
    sort: &Sort<ChallengeSortField>,
    after: Option<&After>,
    limit: usize,
) -> Result<Page<Challenge>, StoreError> {
    let mut query = challenges::table
        .select(ChallengeRow::as_select())
        .into_boxed::<MultiBackend>();
    if let Some(seen) = visibility.predicate() {
        query = query.filter(seen);
    }
    if let Some(programme) = filter.programme_id {
        query = query.filter(challenges::programme_id.eq(programme.to_string()));
    }
    if let Some(owner) = filter.owner_organisation_id {
        query = query.filter(challenges::owner_organisation_id.eq(owner.to_string()));
    }
    if let Some(status) = filter.status {
        query = query.filter(challenges::status.eq(status.as_str()));
    }
    if let Some(text) = &filter.text {
        let pattern = like_pattern(&text.to_lowercase());
        query = query.filter(
            lower(challenges::title)
                .like(pattern.clone())
                .escape('\\')
                .or(lower(challenges::problem_statement)
                    .like(pattern)
                    .escape('\\')),
        );
    }
    if let Some(since) = filter.updated_since {
        query = query.filter(challenges::updated_at.ge(since.to_naive_utc()));
    }
    let mut page = crate::keyset_page!(connection, query, ChallengeRow => Challenge, ChallengeSortField, sort, after, limit)?;
    external_ids::fill(
        connection,
        ENTITY,
        &mut page.items,
        |challenge| challenge.id.to_string(),
        |challenge, ids| challenge.external_ids = ids,
    )?;
    Ok(page)
}

/// Challenges open for applications at `now` (status open, and not past their closing time),
/// owned by `owner` when given, the most recently created first, at most `limit`: what the
/// opportunity feeds publish.
pub fn open_for_applications(
    connection: &mut DbConnection,
    now: Timestamp,
    owner: Option<OrganisationId>,
    limit: i64,
) -> Result<Vec<Challenge>, StoreError> {
    let mut query = challenges::table
        .select(ChallengeRow::as_select())
        .filter(challenges::status.eq(ChallengeStatus::Open.as_str()))
        .filter(
            challenges::closes_at
                .is_null()
                .or(challenges::closes_at.gt(now.to_naive_utc())),
        )
        .into_boxed::<MultiBackend>();
    if let Some(owner) = owner {
        query = query.filter(challenges::owner_organisation_id.eq(owner.to_string()));
    }
    let rows: Vec<ChallengeRow> = query
        .order((challenges::created_at.desc(), challenges::id.desc()))
        .limit(limit)
        .load(connection)?;
    let records = rows
        .into_iter()
        .map(Challenge::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    external_ids::loaded_all(connection, ENTITY, records)
}

/// The latest moment the set of open challenges can have changed without one of them changing:
/// a published challenge updated (it may have left the set by its status) or an open one's
/// closing time passed (by `now`). `None` when there has been neither.
pub fn open_set_changed_at(
    connection: &mut DbConnection,
    now: Timestamp,
) -> Result<Option<Timestamp>, StoreError> {
    let updated: Option<NaiveDateTime> = challenges::table
        .filter(challenges::status.ne(ChallengeStatus::Draft.as_str()))
        .select(diesel::dsl::max(challenges::updated_at))
        .first(connection)?;
    let closed: Option<NaiveDateTime> = challenges::table
        .filter(challenges::status.eq(ChallengeStatus::Open.as_str()))
        .filter(challenges::closes_at.le(now.to_naive_utc()))
        .select(diesel::dsl::max(challenges::closes_at))
        .first::<Option<NaiveDateTime>>(connection)?;
    Ok(updated.max(closed).map(Timestamp::from_naive_utc))
}

/// A challenge's figures, derived from its phases and applications.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChallengeTotals {
    /// Sum of the phases' budgets, in minor units of `currency`.
    pub budget: i64,
    /// Sum of the phases' committed (awarded) amounts.
    pub committed: i64,
    /// The phases' currency; `None` with no phases, or when phases use different currencies
    /// (then no total is meaningful).
    pub currency: Option<catalyst_domain::Currency>,
    pub mixed_currencies: bool,
    pub applications: i64,
}

/// The totals of each challenge in `ids`, in two grouped queries (never one per challenge).
pub fn totals(
    connection: &mut DbConnection,
    ids: &[ChallengeId],
) -> Result<std::collections::HashMap<ChallengeId, ChallengeTotals>, StoreError> {
    use crate::schema::{applications, phases};
    use diesel::dsl::count_star;
    let keys: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let mut result: std::collections::HashMap<ChallengeId, ChallengeTotals> = ids
        .iter()
        .map(|id| (*id, ChallengeTotals::default()))
        .collect();
    if keys.is_empty() {
        return Ok(result);
    }
    // A challenge has a handful of phases: summing their rows here is portable (SUM of BIGINT is
    // NUMERIC on PostgreSQL and INTEGER on SQLite) and still one query.
    let phase_rows: Vec<(String, i64, i64, String)> = phases::table
        .filter(phases::challenge_id.eq_any(&keys))
        .select((
            phases::challenge_id,
            phases::budget_amount,
            phases::committed_amount,
            phases::budget_currency,
        ))
        .load(connection)?;
    for (id, budget, committed, currency) in phase_rows {
        if let Some(totals) = id
            .parse::<ChallengeId>()
            .ok()
            .and_then(|id| result.get_mut(&id))
        {
            let currency = catalyst_domain::Currency::parse(&currency).ok();
            if totals.currency.is_some() && totals.currency != currency {
                totals.mixed_currencies = true;
            }
            totals.currency = totals.currency.or(currency);
            totals.budget = totals.budget.saturating_add(budget);
            totals.committed = totals.committed.saturating_add(committed);
        }
    }
    let counts: Vec<(String, i64)> = applications::table
        .filter(applications::challenge_id.eq_any(&keys))
        .group_by(applications::challenge_id)
        .select((applications::challenge_id, count_star()))
        .load(connection)?;
    for (id, count) in counts {
        if let Ok(id) = id.parse::<ChallengeId>() {
            if let Some(totals) = result.get_mut(&id) {
                totals.applications = count;
            }
        }
    }
    Ok(result)
}
