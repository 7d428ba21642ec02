//! Storing and finding trials and their outcomes. A trial marked public is seen by anyone;
//! otherwise by its host, its supplier and programme staff, decided in the query.

use catalyst_domain::{
    OrganisationId, Outcome, OutcomeFields, OutcomeId, Timestamp, Trial, TrialFields, TrialId,
    TrialStatus,
};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::convert::{money, parse};
use crate::database::{DbConnection, MultiBackend};
use crate::error::StoreError;
use crate::external_ids;
use crate::keyset::{After, Page, Predicate, Sort, SortColumn};
use crate::schema::{outcomes, trials};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = trials, treat_none_as_null = true, treat_none_as_default_value = false)]
struct TrialRow {
    id: String,
    award_id: Option<String>,
    host_organisation_id: String,
    supplier_organisation_id: Option<String>,
    title: String,
    sites: String,
    units: Option<i32>,
    unit_label: Option<String>,
    starts_on: Option<NaiveDate>,
    ends_on: Option<NaiveDate>,
    public: bool,
    result: Option<String>,
    adopted: Option<bool>,
    follow_on_value_amount: Option<i64>,
    follow_on_value_currency: Option<String>,
    status: String,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl TrialRow {
    fn from_trial(trial: &Trial) -> Result<Self, StoreError> {
        let fields = &trial.fields;
        Ok(Self {
            id: trial.id.to_string(),
            award_id: fields.award_id.map(|id| id.to_string()),
            host_organisation_id: fields.host_organisation_id.to_string(),
            supplier_organisation_id: trial.supplier_organisation_id.map(|id| id.to_string()),
            title: fields.title.clone(),
            sites: serde_json::to_string(&fields.sites)
                .map_err(|error| StoreError::Corrupt(error.to_string()))?,
            units: fields.units,
            unit_label: fields.unit_label.clone(),
            starts_on: fields.starts_on,
            ends_on: fields.ends_on,
            public: fields.public,
            result: fields.result.clone(),
            adopted: fields.adopted,
            follow_on_value_amount: fields.follow_on_value.map(|value| value.minor_units()),
            follow_on_value_currency: fields
                .follow_on_value
                .map(|value| value.currency().to_string()),
            status: trial.status.as_str().to_owned(),
            version: trial.version,
            created_at: trial.created_at.to_naive_utc(),
            updated_at: trial.updated_at.to_naive_utc(),
        })
    }
}

impl TryFrom<TrialRow> for Trial {
    type Error = StoreError;

    fn try_from(row: TrialRow) -> Result<Self, StoreError> {
        let follow_on_value = match (
            row.follow_on_value_amount,
            row.follow_on_value_currency.as_deref(),
        ) {
            (Some(amount), Some(currency)) => {
                Some(money("trials", "follow_on_value", amount, currency)?)
            }
            _ => None,
        };
        Ok(Trial {
            // Filled by the queries below, from their own table.
            external_ids: Vec::new(),
            id: parse("trials", "id", &row.id)?,
            fields: TrialFields {
                award_id: row
                    .award_id
                    .as_deref()
                    .map(|id| parse("trials", "award_id", id))
                    .transpose()?,
                host_organisation_id: parse(
                    "trials",
                    "host_organisation_id",
                    &row.host_organisation_id,
                )?,
                title: row.title,
                sites: serde_json::from_str(&row.sites)
                    .map_err(|_| StoreError::Corrupt(format!("trials.sites = {:?}", row.sites)))?,
                units: row.units,
                unit_label: row.unit_label,
                starts_on: row.starts_on,
                ends_on: row.ends_on,
                public: row.public,
                result: row.result,
                adopted: row.adopted,
                follow_on_value,
            },
            supplier_organisation_id: row
                .supplier_organisation_id
                .as_deref()
                .map(|id| parse("trials", "supplier_organisation_id", id))
                .transpose()?,
            status: parse("trials", "status", &row.status)?,
            version: row.version,
            created_at: Timestamp::from_naive_utc(row.created_at),
            updated_at: Timestamp::from_naive_utc(row.updated_at),
        })
    }
}

fn map_write_error(error: diesel::result::Error) -> StoreError {
    StoreError::from(error)
}

/// Who may see a trial: everyone sees public ones; with `Everything` all; otherwise also those
/// hosted by or supplied by these organisations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrialVisibility {
    Everything,
    PublicAnd(Vec<OrganisationId>),
}

impl TrialVisibility {
    pub fn allows(&self, trial: &Trial) -> bool {
        match self {
            TrialVisibility::Everything => true,
            TrialVisibility::PublicAnd(organisations) => {
                trial.fields.public
                    || organisations.contains(&trial.fields.host_organisation_id)
                    || trial
                        .supplier_organisation_id
                        .is_some_and(|supplier| organisations.contains(&supplier))
            }
        }
    }

    fn predicate(&self) -> Option<Predicate<trials::table>> {
        let TrialVisibility::PublicAnd(organisations) = self else {
            return None;
        };
        let mut seen: Predicate<trials::table> = Box::new(trials::public.eq(true));
        for organisation in organisations {
            let id = organisation.to_string();
            seen = Box::new(
                seen.or(trials::host_organisation_id.eq(id.clone()))
                    .or(trials::supplier_organisation_id.eq(id).assume_not_null()),
            );
        }
        Some(seen)
    }
}

insert_all_with_external_ids!(Trial, trials::table, TrialRow::from_trial);

insert_and_find_with_external_ids!(Trial, TrialId, trials, TrialRow, TrialRow::from_trial);

pub fn find_visible(
    connection: &mut DbConnection,
    id: TrialId,
    seen: &TrialVisibility,
) -> Result<Trial, StoreError> {
    let trial = find(connection, id)?;
    if seen.allows(&trial) {
        Ok(trial)
    } else {
        Err(StoreError::NotFound)
    }
}

crate::keyed_by_partners!("trials", Trial, TrialId);

crate::versioned_writes!(trials, Trial, TrialId, TrialRow::from_trial);

crate::sort_fields!(TrialSortField for trials, Trial {
    Title => title: Text = |t| t.fields.title.clone(),
    CreatedAt => created_at: Time = |t| t.created_at,
    UpdatedAt => updated_at: Time = |t| t.updated_at,
    Id => id: Text = |t| t.id.to_string(),
});

#[derive(Debug, Clone, Default)]
pub struct TrialFilter {
    pub host_organisation_id: Option<OrganisationId>,
    pub supplier_organisation_id: Option<OrganisationId>,
    pub status: Option<TrialStatus>,
    pub adopted: Option<bool>,
    pub updated_since: Option<Timestamp>,
}

pub fn list(
    connection: &mut DbConnection,
    seen: &TrialVisibility,
    filter: &TrialFilter,
    sort: &Sort<TrialSortField>,
    after: Option<&After>,
    limit: usize,
) -> Result<Page<Trial>, StoreError> {
    let mut query = trials::table
        .select(TrialRow::as_select())
        .into_boxed::<MultiBackend>();
    if let Some(seen) = seen.predicate() {
        query = query.filter(seen);
    }
    if let Some(host) = filter.host_organisation_id {
        query = query.filter(trials::host_organisation_id.eq(host.to_string()));
    }
    if let Some(supplier) = filter.supplier_organisation_id {
        query = query.filter(trials::supplier_organisation_id.eq(supplier.to_string()));
    }
    if let Some(status) = filter.status {
        query = query.filter(trials::status.eq(status.as_str()));
    }
    if let Some(adopted) = filter.adopted {
        query = query.filter(trials::adopted.eq(adopted));
    }
    if let Some(since) = filter.updated_since {
        query = query.filter(trials::updated_at.ge(since.to_naive_utc()));
    }
    let mut page = crate::keyset_page!(connection, query, TrialRow => Trial, TrialSortField, sort, after, limit)?;
    page.items = external_ids::loaded_all(connection, ENTITY, page.items)?;
    Ok(page)
}

/// Outcomes of trials.
pub mod outcome_store {
    use super::*;

    #[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
    #[diesel(table_name = outcomes, treat_none_as_null = true, treat_none_as_default_value = false)]
    struct OutcomeRow {
        id: String,
        trial_id: String,
        kind: String,
        metric: String,
        unit: Option<String>,
        baseline: Option<f64>,
        target: Option<f64>,
        actual: Option<f64>,
        measured_on: Option<NaiveDate>,
        notes: Option<String>,
        version: i64,
        created_at: NaiveDateTime,
        updated_at: NaiveDateTime,
    }

    impl From<&Outcome> for OutcomeRow {
        fn from(outcome: &Outcome) -> Self {
            let fields = &outcome.fields;
            Self {
                id: outcome.id.to_string(),
                trial_id: fields.trial_id.to_string(),
                kind: fields.kind.as_str().to_owned(),
                metric: fields.metric.clone(),
                unit: fields.unit.clone(),
                baseline: fields.baseline,
                target: fields.target,
                actual: fields.actual,
                measured_on: fields.measured_on,
                notes: fields.notes.clone(),
                version: outcome.version,
                created_at: outcome.created_at.to_naive_utc(),
                updated_at: outcome.updated_at.to_naive_utc(),
            }
        }
    }

    impl TryFrom<OutcomeRow> for Outcome {
        type Error = StoreError;

        fn try_from(row: OutcomeRow) -> Result<Self, StoreError> {
            Ok(Outcome {
                id: parse("outcomes", "id", &row.id)?,
                fields: OutcomeFields {
                    trial_id: parse("outcomes", "trial_id", &row.trial_id)?,
                    kind: parse("outcomes", "kind", &row.kind)?,
                    metric: row.metric,
                    unit: row.unit,
                    baseline: row.baseline,
                    target: row.target,
                    actual: row.actual,
                    measured_on: row.measured_on,
                    notes: row.notes,
                },
                version: row.version,
                created_at: Timestamp::from_naive_utc(row.created_at),
                updated_at: Timestamp::from_naive_utc(row.updated_at),
            })
        }
    }

    fn map_write_error(error: diesel::result::Error) -> StoreError {
        StoreError::from(error)
    }

    /// Several new outcomes in multi-row statements.
    pub fn insert_all(
        connection: &mut DbConnection,
        records: &[Outcome],
    ) -> Result<(), StoreError> {
        let rows: Vec<OutcomeRow> = records.iter().map(OutcomeRow::from).collect();
        insert_rows!(connection, outcomes::table, rows);
        Ok(())
    }

    pub fn insert(connection: &mut DbConnection, outcome: &Outcome) -> Result<(), StoreError> {
        diesel::insert_into(outcomes::table)
            .values(OutcomeRow::from(outcome))
            .execute(connection)?;
        Ok(())
    }

    pub fn find(connection: &mut DbConnection, id: OutcomeId) -> Result<Outcome, StoreError> {
        outcomes::table
            .find(id.to_string())
            .select(OutcomeRow::as_select())
            .first(connection)?
            .try_into()
    }

    /// Every outcome of a trial (a trial measures a handful).
    pub fn all_of_trial(
        connection: &mut DbConnection,
        trial: TrialId,
    ) -> Result<Vec<Outcome>, StoreError> {
        outcomes::table
            .filter(outcomes::trial_id.eq(trial.to_string()))
            .order(outcomes::id.asc())
            .select(OutcomeRow::as_select())
            .load(connection)?
            .into_iter()
            .map(Outcome::try_from)
            .collect()
    }

    crate::versioned_writes!(outcomes, Outcome, OutcomeId, |outcome: &Outcome| Ok::<
        _,
        StoreError,
    >(
        OutcomeRow::from(outcome)
    ));

    crate::sort_fields!(OutcomeSortField for outcomes, Outcome {
        CreatedAt => created_at: Time = |o| o.created_at,
        UpdatedAt => updated_at: Time = |o| o.updated_at,
        Id => id: Text = |o| o.id.to_string(),
    });

    /// A trial's outcomes, changed at or after `updated_since` when given (check the trial's
    /// visibility first).
    pub fn list(
        connection: &mut DbConnection,
        trial: TrialId,
        updated_since: Option<Timestamp>,
        sort: &Sort<OutcomeSortField>,
        after: Option<&After>,
        limit: usize,
    ) -> Result<Page<Outcome>, StoreError> {
        let mut query = outcomes::table
            .select(OutcomeRow::as_select())
            .filter(outcomes::trial_id.eq(trial.to_string()))
            .into_boxed::<MultiBackend>();
        if let Some(since) = updated_since {
            query = query.filter(outcomes::updated_at.ge(since.to_naive_utc()));
        }
        crate::keyset_page!(connection, query, OutcomeRow => Outcome, OutcomeSortField, sort, after, limit)
    }
}
