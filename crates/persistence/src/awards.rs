//! Storing and finding awards. Awards are public records (supplier, amount, dates): they are
//! made only on published challenges.

use catalyst_domain::{
    Award, AwardFields, AwardId, AwardStatus, ChallengeId, OrganisationId, PhaseId, Timestamp,
};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::convert::{money, parse};
use crate::database::{DbConnection, MultiBackend};
use crate::error::{unique_as, StoreError};
use crate::external_ids;
use crate::keyset::{After, Page, Sort, SortColumn};
use crate::schema::awards;

pub const APPLICATION_CONSTRAINT: &str = "awards_application_key";

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = awards, treat_none_as_null = true, treat_none_as_default_value = false)]
struct AwardRow {
    id: String,
    phase_id: String,
    challenge_id: String,
    owner_organisation_id: String,
    application_id: String,
    supplier_organisation_id: String,
    contract_reference: String,
    /// The amount changes only with the phase's committed sum, never by a plain update.
    #[diesel(skip_update)]
    amount_amount: i64,
    amount_currency: String,
    /// Changed only by [`pay`], never by an award update.
    #[diesel(skip_update)]
    paid_amount: i64,
    vat_included: bool,
    starts_on: Option<NaiveDate>,
    ends_on: Option<NaiveDate>,
    parent_award_id: Option<String>,
    status: String,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl From<&Award> for AwardRow {
    fn from(award: &Award) -> Self {
        let fields = &award.fields;
        Self {
            id: award.id.to_string(),
            phase_id: fields.phase_id.to_string(),
            challenge_id: award.challenge_id.to_string(),
            owner_organisation_id: award.owner_organisation_id.to_string(),
            application_id: fields.application_id.to_string(),
            supplier_organisation_id: fields.supplier_organisation_id.to_string(),
            contract_reference: fields.contract_reference.clone(),
            amount_amount: fields.amount.minor_units(),
            amount_currency: fields.amount.currency().to_string(),
            paid_amount: award.paid.minor_units(),
            vat_included: fields.vat_included,
            starts_on: fields.starts_on,
            ends_on: fields.ends_on,
            parent_award_id: fields.parent_award_id.map(|id| id.to_string()),
            status: award.status.as_str().to_owned(),
            version: award.version,
            created_at: award.created_at.to_naive_utc(),
            updated_at: award.updated_at.to_naive_utc(),
        }
    }
}

impl TryFrom<AwardRow> for Award {
    type Error = StoreError;

    fn try_from(row: AwardRow) -> Result<Self, StoreError> {
        Ok(Award {
            // Filled by the queries below, from their own table.
            external_ids: Vec::new(),
            id: parse("awards", "id", &row.id)?,
            fields: AwardFields {
                phase_id: parse("awards", "phase_id", &row.phase_id)?,
                application_id: parse("awards", "application_id", &row.application_id)?,
                supplier_organisation_id: parse(
                    "awards",
                    "supplier_organisation_id",
                    &row.supplier_organisation_id,
                )?,
                contract_reference: row.contract_reference,
                amount: money("awards", "amount", row.amount_amount, &row.amount_currency)?,
                vat_included: row.vat_included,
                starts_on: row.starts_on,
                ends_on: row.ends_on,
                parent_award_id: row
                    .parent_award_id
                    .as_deref()
                    .map(|id| parse("awards", "parent_award_id", id))
                    .transpose()?,
            },
            paid: money("awards", "paid", row.paid_amount, &row.amount_currency)?,
            challenge_id: parse("awards", "challenge_id", &row.challenge_id)?,
            owner_organisation_id: parse(
                "awards",
                "owner_organisation_id",
                &row.owner_organisation_id,
            )?,
            status: parse("awards", "status", &row.status)?,
            version: row.version,
            created_at: Timestamp::from_naive_utc(row.created_at),
            updated_at: Timestamp::from_naive_utc(row.updated_at),
        })
    }
}

fn map_write_error(error: diesel::result::Error) -> StoreError {
    unique_as(APPLICATION_CONSTRAINT, error)
}

insert_all_with_external_ids!(Award, awards::table, |award| Ok(AwardRow::from(award)));

insert_and_find_with_external_ids!(Award, AwardId, awards, AwardRow, |award| Ok(
    AwardRow::from(award)
));

/// Adds a payment to the award's paid sum if it stays within the award, in one statement (two
/// payments at once cannot overpay). Returns false when it would not. The award's version grows.
pub fn pay(
    connection: &mut DbConnection,
    id: AwardId,
    amount: i64,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let changed = diesel::update(
        awards::table
            .filter(awards::id.eq(id.to_string()))
            .filter((awards::paid_amount + amount).le(awards::amount_amount)),
    )
    .set((
        awards::paid_amount.eq(awards::paid_amount + amount),
        awards::version.eq(awards::version + 1),
        awards::updated_at.eq(now.to_naive_utc()),
    ))
    .execute(connection)?;
    Ok(changed == 1)
}

/// The supplier's award in a phase, if any (lineage: a Phase 2 award's parent).
pub fn find_for_supplier(
    connection: &mut DbConnection,
    phase: PhaseId,
    supplier: OrganisationId,
) -> Result<Option<Award>, StoreError> {
    awards::table
        .filter(awards::phase_id.eq(phase.to_string()))
        .filter(awards::supplier_organisation_id.eq(supplier.to_string()))
        .order(awards::id.asc())
        .select(AwardRow::as_select())
        .first(connection)
        .optional()?
        .map(Award::try_from)
        .transpose()?
        .map(|record| external_ids::loaded(connection, ENTITY, record))
        .transpose()
}

/// The sum of a phase's award amounts, in minor units (for reconciling the committed figure).
pub fn sum_for_phase(connection: &mut DbConnection, phase: PhaseId) -> Result<i64, StoreError> {
    let amounts: Vec<i64> = awards::table
        .filter(awards::phase_id.eq(phase.to_string()))
        .select(awards::amount_amount)
        .load(connection)?;
    Ok(amounts.iter().sum())
}

crate::keyed_by_partners!("awards", Award, AwardId);

crate::versioned_writes!(awards, Award, AwardId, |award: &Award| Ok::<_, StoreError>(
    AwardRow::from(award)
));

crate::sort_fields!(AwardSortField for awards, Award {
    CreatedAt => created_at: Time = |a| a.created_at,
    UpdatedAt => updated_at: Time = |a| a.updated_at,
    ContractReference => contract_reference: Text = |a| a.fields.contract_reference.clone(),
    Id => id: Text = |a| a.id.to_string(),
});

#[derive(Debug, Clone, Default)]
pub struct AwardFilter {
    pub phase_id: Option<PhaseId>,
    pub challenge_id: Option<ChallengeId>,
    pub supplier_organisation_id: Option<OrganisationId>,
    pub status: Option<AwardStatus>,
    pub updated_since: Option<Timestamp>,
}

pub fn list(
    connection: &mut DbConnection,
    filter: &AwardFilter,
    sort: &Sort<AwardSortField>,
    after: Option<&After>,
    limit: usize,
) -> Result<Page<Award>, StoreError> {
    let mut query = awards::table
        .select(AwardRow::as_select())
        .into_boxed::<MultiBackend>();
    if let Some(phase) = filter.phase_id {
        query = query.filter(awards::phase_id.eq(phase.to_string()));
    }
    if let Some(challenge) = filter.challenge_id {
        query = query.filter(awards::challenge_id.eq(challenge.to_string()));
    }
    if let Some(supplier) = filter.supplier_organisation_id {
        query = query.filter(awards::supplier_organisation_id.eq(supplier.to_string()));
    }
    if let Some(status) = filter.status {
        query = query.filter(awards::status.eq(status.as_str()));
    }
    if let Some(since) = filter.updated_since {
        query = query.filter(awards::updated_at.ge(since.to_naive_utc()));
    }
    let mut page = crate::keyset_page!(connection, query, AwardRow => Award, AwardSortField, sort, after, limit)?;
    page.items = external_ids::loaded_all(connection, ENTITY, page.items)?;
    Ok(page)
}
