//! Storing and finding applications. Applications are never public: each row is seen by its
//! supplier, the challenge owner and programme staff, decided in the query.

use catalyst_domain::{
    Application, ApplicationFields, ApplicationId, ApplicationStatus, OrganisationId, PhaseId,
    Timestamp,
};
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::convert::{money, parse};
use crate::database::{DbConnection, MultiBackend};
use crate::error::{unique_as, StoreError};
use crate::external_ids;
use crate::keyset::{After, Page, Predicate, Sort, SortColumn};
use crate::schema::applications;

pub const SUPPLIER_CONSTRAINT: &str = "applications_phase_supplier_key";

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = applications, treat_none_as_null = true, treat_none_as_default_value = false)]
struct ApplicationRow {
    id: String,
    phase_id: String,
    challenge_id: String,
    owner_organisation_id: String,
    supplier_organisation_id: String,
    amount_requested_amount: i64,
    amount_requested_currency: String,
    summary: String,
    status: String,
    assessment_score: Option<i32>,
    submitted_at: Option<NaiveDateTime>,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl From<&Application> for ApplicationRow {
    fn from(application: &Application) -> Self {
        let fields = &application.fields;
        Self {
            id: application.id.to_string(),
            phase_id: fields.phase_id.to_string(),
            challenge_id: application.challenge_id.to_string(),
            owner_organisation_id: application.owner_organisation_id.to_string(),
            supplier_organisation_id: fields.supplier_organisation_id.to_string(),
            amount_requested_amount: fields.amount_requested.minor_units(),
            amount_requested_currency: fields.amount_requested.currency().to_string(),
            summary: fields.summary.clone(),
            status: application.status.as_str().to_owned(),
            assessment_score: application.assessment_score,
            submitted_at: application.submitted_at.map(Timestamp::to_naive_utc),
            version: application.version,
            created_at: application.created_at.to_naive_utc(),
            updated_at: application.updated_at.to_naive_utc(),
        }
    }
}

impl TryFrom<ApplicationRow> for Application {
    type Error = StoreError;

    fn try_from(row: ApplicationRow) -> Result<Self, StoreError> {
        Ok(Application {
            // Filled by the queries below, from their own table.
            external_ids: Vec::new(),
            id: parse("applications", "id", &row.id)?,
            fields: ApplicationFields {
                phase_id: parse("applications", "phase_id", &row.phase_id)?,
                supplier_organisation_id: parse(
                    "applications",
                    "supplier_organisation_id",
                    &row.supplier_organisation_id,
                )?,
                amount_requested: money(
                    "applications",
                    "amount_requested",
                    row.amount_requested_amount,
                    &row.amount_requested_currency,
                )?,
                summary: row.summary,
            },
            challenge_id: parse("applications", "challenge_id", &row.challenge_id)?,
            owner_organisation_id: parse(
                "applications",
                "owner_organisation_id",
                &row.owner_organisation_id,
            )?,
            status: parse("applications", "status", &row.status)?,
            assessment_score: row.assessment_score,
            submitted_at: row.submitted_at.map(Timestamp::from_naive_utc),
            version: row.version,
            created_at: Timestamp::from_naive_utc(row.created_at),
            updated_at: Timestamp::from_naive_utc(row.updated_at),
        })
    }
}

fn map_write_error(error: diesel::result::Error) -> StoreError {
    unique_as(SUPPLIER_CONSTRAINT, error)
}

/// Who may see a private record: everyone with `Everything`, otherwise the rows whose supplier or
/// owner is one of these organisations (none for an anonymous caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrivateVisibility {
    Everything,
    PartyTo(Vec<OrganisationId>),
}

impl PrivateVisibility {
    pub fn allows(&self, supplier: OrganisationId, owner: OrganisationId) -> bool {
        match self {
            PrivateVisibility::Everything => true,
            PrivateVisibility::PartyTo(organisations) => {
                organisations.contains(&supplier) || organisations.contains(&owner)
            }
        }
    }

    fn predicate(&self) -> Option<Predicate<applications::table>> {
        let PrivateVisibility::PartyTo(organisations) = self else {
            return None;
        };
        // Starts false: with no organisations, nothing is seen.
        let mut seen: Predicate<applications::table> =
            Box::new(applications::id.ne(applications::id));
        for organisation in organisations {
            let id = organisation.to_string();
            seen = Box::new(
                seen.or(applications::supplier_organisation_id.eq(id.clone()))
                    .or(applications::owner_organisation_id.eq(id)),
            );
        }
        Some(seen)
    }
}

insert_all_with_external_ids!(Application, applications::table, |application| Ok(
    ApplicationRow::from(application)
));

insert_and_find_with_external_ids!(
    Application,
    ApplicationId,
    applications,
    ApplicationRow,
    |application| Ok(ApplicationRow::from(application))
);

pub fn find_visible(
    connection: &mut DbConnection,
    id: ApplicationId,
    seen: &PrivateVisibility,
) -> Result<Application, StoreError> {
    let application = find(connection, id)?;
    if seen.allows(
        application.fields.supplier_organisation_id,
        application.owner_organisation_id,
    ) {
        Ok(application)
    } else {
        Err(StoreError::NotFound)
    }
}

crate::keyed_by_partners!("applications", Application, ApplicationId);

crate::versioned_writes!(
    applications,
    Application,
    ApplicationId,
    |application: &Application| Ok::<_, StoreError>(ApplicationRow::from(application))
);

crate::sort_fields!(ApplicationSortField for applications, Application {
    CreatedAt => created_at: Time = |a| a.created_at,
    UpdatedAt => updated_at: Time = |a| a.updated_at,
    Status => status: Text = |a| a.status.as_str().to_owned(),
    Id => id: Text = |a| a.id.to_string(),
});

#[derive(Debug, Clone, Default)]
pub struct ApplicationFilter {
    pub phase_id: Option<PhaseId>,
    pub supplier_organisation_id: Option<OrganisationId>,
    pub status: Option<ApplicationStatus>,
    pub updated_since: Option<Timestamp>,
}

pub fn list(
    connection: &mut DbConnection,
    seen: &PrivateVisibility,
    filter: &ApplicationFilter,
    sort: &Sort<ApplicationSortField>,
    after: Option<&After>,
    limit: usize,
) -> Result<Page<Application>, StoreError> {
    let mut query = applications::table
        .select(ApplicationRow::as_select())
        .into_boxed::<MultiBackend>();
    if let Some(seen) = seen.predicate() {
        query = query.filter(seen);
    }
    if let Some(phase) = filter.phase_id {
        query = query.filter(applications::phase_id.eq(phase.to_string()));
    }
    if let Some(supplier) = filter.supplier_organisation_id {
        query = query.filter(applications::supplier_organisation_id.eq(supplier.to_string()));
    }
    if let Some(status) = filter.status {
        query = query.filter(applications::status.eq(status.as_str()));
    }
    if let Some(since) = filter.updated_since {
        query = query.filter(applications::updated_at.ge(since.to_naive_utc()));
    }
    let mut page = crate::keyset_page!(connection, query, ApplicationRow => Application, ApplicationSortField, sort, after, limit)?;
    page.items = external_ids::loaded_all(connection, ENTITY, page.items)?;
    Ok(page)
}
