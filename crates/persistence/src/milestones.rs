//! Storing and finding milestones. Seen by the award's supplier, the challenge owner and
//! programme staff, decided in the query.

use catalyst_domain::{
    AwardId, Milestone, MilestoneFields, MilestoneId, MilestoneStatus, Money, Timestamp,
};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::applications::PrivateVisibility;
use crate::convert::{money, parse};
use crate::database::{DbConnection, MultiBackend};
use crate::error::StoreError;
use crate::external_ids;
use crate::keyset::{After, Page, Predicate, Sort, SortColumn};
use crate::schema::milestones;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = milestones, treat_none_as_null = true, treat_none_as_default_value = false)]
struct MilestoneRow {
    id: String,
    award_id: String,
    supplier_organisation_id: String,
    owner_organisation_id: String,
    kind: String,
    title: String,
    due_on: Option<NaiveDate>,
    amount_amount: Option<i64>,
    amount_currency: Option<String>,
    status: String,
    paid_on: Option<NaiveDate>,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    invoiced_on: Option<NaiveDate>,
}

impl From<&Milestone> for MilestoneRow {
    fn from(milestone: &Milestone) -> Self {
        let fields = &milestone.fields;
        Self {
            id: milestone.id.to_string(),
            award_id: fields.award_id.to_string(),
            supplier_organisation_id: milestone.supplier_organisation_id.to_string(),
            owner_organisation_id: milestone.owner_organisation_id.to_string(),
            kind: fields.kind.as_str().to_owned(),
            title: fields.title.clone(),
            due_on: fields.due_on,
            amount_amount: fields.amount.map(|amount| amount.minor_units()),
            amount_currency: fields.amount.map(|amount| amount.currency().to_string()),
            status: milestone.status.as_str().to_owned(),
            paid_on: milestone.paid_on,
            version: milestone.version,
            created_at: milestone.created_at.to_naive_utc(),
            updated_at: milestone.updated_at.to_naive_utc(),
            invoiced_on: milestone.invoiced_on,
        }
    }
}

impl TryFrom<MilestoneRow> for Milestone {
    type Error = StoreError;

    fn try_from(row: MilestoneRow) -> Result<Self, StoreError> {
        let amount: Option<Money> = match (row.amount_amount, row.amount_currency.as_deref()) {
            (Some(amount), Some(currency)) => {
                Some(money("milestones", "amount", amount, currency)?)
            }
            _ => None,
        };
        Ok(Milestone {
            // Filled by the queries below, from their own table.
            external_ids: Vec::new(),
            id: parse("milestones", "id", &row.id)?,
            fields: MilestoneFields {
                award_id: parse("milestones", "award_id", &row.award_id)?,
                kind: parse("milestones", "kind", &row.kind)?,
                title: row.title,
                due_on: row.due_on,
                amount,
            },
            supplier_organisation_id: parse(
                "milestones",
                "supplier_organisation_id",
                &row.supplier_organisation_id,
            )?,
            owner_organisation_id: parse(
                "milestones",
                "owner_organisation_id",
                &row.owner_organisation_id,
            )?,
            status: parse("milestones", "status", &row.status)?,
            invoiced_on: row.invoiced_on,
            paid_on: row.paid_on,
            version: row.version,
            created_at: Timestamp::from_naive_utc(row.created_at),
            updated_at: Timestamp::from_naive_utc(row.updated_at),
        })
    }
}

fn map_write_error(error: diesel::result::Error) -> StoreError {
    StoreError::from(error)
}

fn visible(seen: &PrivateVisibility) -> Option<Predicate<milestones::table>> {
    let PrivateVisibility::PartyTo(organisations) = seen else {
        return None;
    };
    let mut predicate: Predicate<milestones::table> = Box::new(milestones::id.ne(milestones::id));
    for organisation in organisations {
        let id = organisation.to_string();
        predicate = Box::new(
            predicate
                .or(milestones::supplier_organisation_id.eq(id.clone()))
                .or(milestones::owner_organisation_id.eq(id)),
        );
    }
    Some(predicate)
}

insert_all_with_external_ids!(Milestone, milestones::table, |milestone| Ok(
    MilestoneRow::from(milestone)
));

insert_and_find_with_external_ids!(
    Milestone,
    MilestoneId,
    milestones,
    MilestoneRow,
    |milestone| Ok(MilestoneRow::from(milestone))
);

/// Every milestone of these awards, in id order, in one query.
pub fn all_of_awards(
    connection: &mut DbConnection,
    awards: &[AwardId],
) -> Result<Vec<Milestone>, StoreError> {
    let ids: Vec<String> = awards.iter().map(ToString::to_string).collect();
    let records = milestones::table
        .filter(milestones::award_id.eq_any(ids))
        .order(milestones::id.asc())
        .select(MilestoneRow::as_select())
        .load(connection)?
        .into_iter()
        .map(Milestone::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    external_ids::loaded_all(connection, ENTITY, records)
}

pub fn find_visible(
    connection: &mut DbConnection,
    id: MilestoneId,
    seen: &PrivateVisibility,
) -> Result<Milestone, StoreError> {
    let milestone = find(connection, id)?;
    if seen.allows(
        milestone.supplier_organisation_id,
        milestone.owner_organisation_id,
    ) {
        Ok(milestone)
    } else {
        Err(StoreError::NotFound)
    }
}

crate::keyed_by_partners!("milestones", Milestone, MilestoneId);

crate::versioned_writes!(
    milestones,
    Milestone,
    MilestoneId,
    |milestone: &Milestone| Ok::<_, StoreError>(MilestoneRow::from(milestone))
);

crate::sort_fields!(MilestoneSortField for milestones, Milestone {
    CreatedAt => created_at: Time = |m| m.created_at,
    UpdatedAt => updated_at: Time = |m| m.updated_at,
    Id => id: Text = |m| m.id.to_string(),
});

#[derive(Debug, Clone, Default)]
pub struct MilestoneFilter {
    pub award_id: Option<AwardId>,
    pub status: Option<MilestoneStatus>,
    pub updated_since: Option<Timestamp>,
}

pub fn list(
    connection: &mut DbConnection,
    seen: &PrivateVisibility,
    filter: &MilestoneFilter,
    sort: &Sort<MilestoneSortField>,
    after: Option<&After>,
    limit: usize,
) -> Result<Page<Milestone>, StoreError> {
    let mut query = milestones::table
        .select(MilestoneRow::as_select())
        .into_boxed::<MultiBackend>();
    if let Some(seen) = visible(seen) {
        query = query.filter(seen);
    }
    if let Some(award) = filter.award_id {
        query = query.filter(milestones::award_id.eq(award.to_string()));
    }
    if let Some(status) = filter.status {
        query = query.filter(milestones::status.eq(status.as_str()));
    }
    if let Some(since) = filter.updated_since {
        query = query.filter(milestones::updated_at.ge(since.to_naive_utc()));
    }
    let mut page = crate::keyset_page!(connection, query, MilestoneRow => Milestone, MilestoneSortField, sort, after, limit)?;
    page.items = external_ids::loaded_all(connection, ENTITY, page.items)?;
    Ok(page)
}
