//! The facts that reports sum: awards, payments, applications and trials, each with the
//! dimensions reports group by, read in a few joined queries (never one per record).

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use catalyst_domain::report::{Dimension, FinancialYear};
use catalyst_domain::{OrganisationKind, Scale};
use diesel::sql_types::{BigInt, Text};

use crate::database::{Backend, DbConnection, MultiBackend};
use crate::error::StoreError;
use crate::schema::{
    applications, awards, challenges, organisations, outcomes, phases, programmes, trials,
};

/// Which records a report covers (dates are applied to each fact's own date by the caller).
#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    pub programme_id: Option<String>,
    /// Only challenges owned by these public bodies (`None`: every owner).
    pub owners: Option<Vec<String>>,
    /// Only suppliers in this region.
    pub supplier_region: Option<String>,
}

/// An award (a contract) with where it sits and who won it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwardFact {
    pub id: String,
    pub programme_id: String,
    pub challenge_id: String,
    pub phase_id: String,
    pub phase_number: i32,
    pub owner_id: String,
    pub supplier_id: String,
    pub supplier_kind: String,
    pub supplier_scale: Option<String>,
    pub supplier_region: Option<String>,
    pub amount: i64,
    pub currency: String,
    /// The contract's start, or the day it was recorded.
    pub awarded_on: NaiveDate,
    pub status: String,
    pub parent_award_id: Option<String>,
    pub challenge_opens_at: Option<NaiveDateTime>,
}

type AwardRow = (
    String,
    String,
    String,
    String,
    i32,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    i64,
    String,
    Option<NaiveDate>,
    NaiveDateTime,
    String,
    Option<String>,
    Option<NaiveDateTime>,
);

/// Every award the filter covers.
pub fn award_facts(
    connection: &mut DbConnection,
    filter: &ReportFilter,
) -> Result<Vec<AwardFact>, StoreError> {
    let mut query = awards::table
        .inner_join(organisations::table.on(organisations::id.eq(awards::supplier_organisation_id)))
        .inner_join(phases::table.on(phases::id.eq(awards::phase_id)))
        .inner_join(challenges::table.on(challenges::id.eq(awards::challenge_id)))
        .select((
            awards::id,
            challenges::programme_id,
            awards::challenge_id,
            awards::phase_id,
            phases::number,
            awards::owner_organisation_id,
            awards::supplier_organisation_id,
            organisations::kind,
            organisations::scale,
            organisations::region,
            awards::amount_amount,
            awards::amount_currency,
            awards::starts_on,
            awards::created_at,
            awards::status,
            awards::parent_award_id,
            challenges::opens_at,
        ))
        .into_boxed::<MultiBackend>();
    if let Some(programme) = &filter.programme_id {
        query = query.filter(challenges::programme_id.eq(programme.clone()));
    }
    if let Some(owners) = &filter.owners {
        query = query.filter(awards::owner_organisation_id.eq_any(owners.clone()));
    }
    if let Some(region) = &filter.supplier_region {
        query = query.filter(organisations::region.eq(region.clone()));
    }
    let rows: Vec<AwardRow> = query.order(awards::id.asc()).load(connection)?;
    Ok(rows
        .into_iter()
        .map(|row| AwardFact {
            id: row.0,
            programme_id: row.1,
            challenge_id: row.2,
            phase_id: row.3,
            phase_number: row.4,
            owner_id: row.5,
            supplier_id: row.6,
            supplier_kind: row.7,
            supplier_scale: row.8,
            supplier_region: row.9,
            amount: row.10,
            currency: row.11,
            awarded_on: row.12.unwrap_or_else(|| row.13.date()),
            status: row.14,
            parent_award_id: row.15,
            challenge_opens_at: row.16,
        })
        .collect())
}

/// An application, with its phase and challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationFact {
    pub programme_id: String,
    pub challenge_id: String,
    pub phase_id: String,
    pub phase_number: i32,
    pub owner_id: String,
    pub supplier_id: String,
    pub supplier_scale: Option<String>,
    pub status: String,
    pub submitted_on: Option<NaiveDate>,
}

/// Every application the filter covers (drafts included: the caller decides what counts).
pub fn application_facts(
    connection: &mut DbConnection,
    filter: &ReportFilter,
) -> Result<Vec<ApplicationFact>, StoreError> {
    let mut query = applications::table
        .inner_join(phases::table.on(phases::id.eq(applications::phase_id)))
        .inner_join(challenges::table.on(challenges::id.eq(applications::challenge_id)))
        .inner_join(
            organisations::table.on(organisations::id.eq(applications::supplier_organisation_id)),
        )
        .select((
            challenges::programme_id,
            applications::challenge_id,
            applications::phase_id,
            phases::number,
            applications::owner_organisation_id,
            applications::supplier_organisation_id,
            organisations::scale,
            applications::status,
            applications::submitted_at,
        ))
        .into_boxed::<MultiBackend>();
    if let Some(programme) = &filter.programme_id {
        query = query.filter(challenges::programme_id.eq(programme.clone()));
    }
    if let Some(owners) = &filter.owners {
        query = query.filter(applications::owner_organisation_id.eq_any(owners.clone()));
    }
    if let Some(region) = &filter.supplier_region {
        query = query.filter(organisations::region.eq(region.clone()));
    }
    type ApplicationRow = (
        String,
        String,
        String,
        i32,
        String,
        String,
        Option<String>,
        String,
        Option<NaiveDateTime>,
    );
    let rows: Vec<ApplicationRow> = query.order(applications::id.asc()).load(connection)?;
    Ok(rows
        .into_iter()
        .map(|row| ApplicationFact {
            programme_id: row.0,
            challenge_id: row.1,
            phase_id: row.2,
            phase_number: row.3,
            owner_id: row.4,
            supplier_id: row.5,
            supplier_scale: row.6,
            status: row.7,
            submitted_on: row.8.map(|at| at.date()),
        })
        .collect())
}

/// A trial with its result and its outcomes' figures.
#[derive(Debug, Clone, PartialEq)]
pub struct TrialFact {
    pub id: String,
    pub award_id: Option<String>,
    pub host_id: String,
    pub programme_id: Option<String>,
    pub status: String,
    pub result: Option<String>,
    pub adopted: Option<bool>,
    pub follow_on: Option<(i64, String)>,
    /// When it starts, or the day it was recorded.
    pub starts_on: NaiveDate,
    /// Each outcome's baseline, target and actual.
    pub outcomes: Vec<Measure>,
}

/// An outcome's baseline, target and actual value.
pub type Measure = (Option<f64>, Option<f64>, Option<f64>);

/// Every trial hosted by the filter's owners (or every trial), with its outcomes.
pub fn trial_facts(
    connection: &mut DbConnection,
    filter: &ReportFilter,
) -> Result<Vec<TrialFact>, StoreError> {
    let mut query = trials::table
        .left_join(awards::table.on(awards::id.nullable().eq(trials::award_id)))
        .left_join(challenges::table.on(challenges::id.eq(awards::challenge_id)))
        .select((
            trials::id,
            trials::award_id,
            trials::host_organisation_id,
            challenges::programme_id.nullable(),
            trials::status,
            trials::result,
            trials::adopted,
            trials::follow_on_value_amount,
            trials::follow_on_value_currency,
            trials::starts_on,
            trials::created_at,
        ))
        .into_boxed::<MultiBackend>();
    if let Some(programme) = &filter.programme_id {
        query = query.filter(challenges::programme_id.nullable().eq(programme.clone()));
    }
    if let Some(owners) = &filter.owners {
        query = query.filter(trials::host_organisation_id.eq_any(owners.clone()));
    }
    type TrialRow = (
        String,
        Option<String>,
        String,
        Option<String>,
        String,
        Option<String>,
        Option<bool>,
        Option<i64>,
        Option<String>,
        Option<NaiveDate>,
        NaiveDateTime,
    );
    let rows: Vec<TrialRow> = query.order(trials::id.asc()).load(connection)?;
    let ids: Vec<String> = rows.iter().map(|row| row.0.clone()).collect();
    let mut measured: HashMap<String, Vec<Measure>> = HashMap::new();
    for batch in ids.chunks(10_000) {
        let found: Vec<(String, Measure)> = outcomes::table
            .filter(outcomes::trial_id.eq_any(batch))
            .select((
                outcomes::trial_id,
                (outcomes::baseline, outcomes::target, outcomes::actual),
            ))
            .load(connection)?;
        for (trial, measure) in found {
            measured.entry(trial).or_default().push(measure);
        }
    }
    Ok(rows
        .into_iter()
        .map(|row| TrialFact {
            outcomes: measured.remove(&row.0).unwrap_or_default(),
            id: row.0,
            award_id: row.1,
            host_id: row.2,
            programme_id: row.3,
            status: row.4,
            result: row.5,
            adopted: row.6,
            follow_on: row.7.zip(row.8),
            starts_on: row.9.unwrap_or_else(|| row.10.date()),
        })
        .collect())
}

/// Names to show beside ids: programmes' titles, challenges' references, organisations'
/// names and phases' challenges and numbers, for the ids given.
#[derive(Debug, Clone, Default)]
pub struct Labels {
    pub programmes: HashMap<String, String>,
    pub challenges: HashMap<String, String>,
    pub organisations: HashMap<String, String>,
    /// Each phase's challenge and number.
    pub phases: HashMap<String, (String, i32)>,
}

pub fn labels(
    connection: &mut DbConnection,
    programme_ids: &[String],
    challenge_ids: &[String],
    organisation_ids: &[String],
    phase_ids: &[String],
) -> Result<Labels, StoreError> {
    let mut labels = Labels::default();
    for batch in phase_ids.chunks(10_000) {
        let found: Vec<(String, String, i32)> = phases::table
            .filter(phases::id.eq_any(batch))
            .select((phases::id, phases::challenge_id, phases::number))
            .load(connection)?;
        for (phase, challenge, number) in found {
            labels.phases.insert(phase, (challenge, number));
        }
    }
    // A phase is named by its challenge's reference.
    let mut challenge_ids = challenge_ids.to_vec();
    challenge_ids.extend(
        labels
            .phases
            .values()
            .map(|(challenge, _)| challenge.clone()),
    );
    challenge_ids.sort_unstable();
    challenge_ids.dedup();
    for batch in programme_ids.chunks(10_000) {
        let found: Vec<(String, String)> = programmes::table
            .filter(programmes::id.eq_any(batch))
            .select((programmes::id, programmes::title))
            .load(connection)?;
        labels.programmes.extend(found);
    }
    for batch in challenge_ids.chunks(10_000) {
        let found: Vec<(String, String)> = challenges::table
            .filter(challenges::id.eq_any(batch))
            .select((challenges::id, challenges::reference))
            .load(connection)?;
        labels.challenges.extend(found);
    }
    for batch in organisation_ids.chunks(10_000) {
        let found: Vec<(String, String)> = organisations::table
            .filter(organisations::id.eq_any(batch))
            .select((organisations::id, organisations::name))
            .load(connection)?;
        labels.organisations.extend(found);
    }
    Ok(labels)
}

mod aggregate;
mod counts;
mod sums;
pub use counts::*;
pub use sums::*;
