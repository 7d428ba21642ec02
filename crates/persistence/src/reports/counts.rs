//! Counts computed by the database for the payment-times and funnel reports: invoices per
//! group and days waited, and the distinct suppliers per group at each stage of the funnel,
//! so a report reads a row per group and value, not a row per invoice or application.

use diesel::sql_types::{Integer, Nullable};

use super::aggregate::{split_key, Aggregate, Fact};
use super::*;

/// Invoices of one group that waited alike: paid after `days_waited` days, or unpaid
/// (`None`) and, if `overdue`, past the limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceCount {
    pub key: Vec<String>,
    pub days_waited: Option<i64>,
    pub overdue: bool,
    pub invoices: i64,
}

#[derive(QueryableByName)]
struct InvoiceCountRow {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    waited: Option<i64>,
    #[diesel(sql_type = Integer)]
    overdue: i32,
    #[diesel(sql_type = BigInt)]
    invoices: i64,
}

/// Invoices (milestones invoiced, then paid or still awaiting payment; a withheld one is
/// disputed, and regulation 113's 30 days are for undisputed invoices) counted on the day
/// invoiced, per group and days waited. An unpaid invoice raised before `overdue_before` is
/// overdue.
pub fn invoice_counts(
    connection: &mut DbConnection,
    filter: &ReportFilter,
    period: Period,
    group_by: &[Dimension],
    overdue_before: NaiveDate,
) -> Result<Vec<InvoiceCount>, StoreError> {
    let mut query = Aggregate::new(connection, Fact::Invoice, filter, period, group_by);
    query.condition("m.invoiced_on IS NOT NULL AND m.status IN ('invoiced', 'paid')".to_owned());
    let waited = query.days_between("m.invoiced_on", "m.paid_on");
    let limit = query.date_parameter(overdue_before);
    let sql = query.sql(
        &[
            (
                "waited",
                format!("CASE WHEN m.paid_on IS NULL THEN NULL ELSE {waited} END"),
            ),
            (
                "overdue",
                format!(
                    "CASE WHEN m.paid_on IS NULL AND m.invoiced_on < {limit} THEN 1 ELSE 0 END"
                ),
            ),
        ],
        &[("invoices", "1".to_owned())],
    );
    let rows: Vec<InvoiceCountRow> = query.load(connection, sql)?;
    Ok(rows
        .into_iter()
        .map(|row| InvoiceCount {
            key: split_key(&row.key, group_by),
            days_waited: row.waited,
            overdue: row.overdue != 0,
            invoices: row.invoices,
        })
        .collect())
}

/// A step from applying to a challenge to having a solution adopted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FunnelStage {
    /// An application submitted, on the day submitted.
    Applied,
    /// A Phase 1 award, on its start (or recording) day.
    PhaseOne,
    /// An award of Phase 2 or later.
    PhaseTwo,
    /// A trial of one of its awards, on the trial's start (or recording) day.
    Trialled,
    /// Such a trial, adopted.
    Adopted,
}

/// A supplier at a stage, in a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageSupplier {
    pub key: Vec<String>,
    pub stage: FunnelStage,
    pub supplier_id: String,
}

#[derive(QueryableByName)]
struct SupplierRow {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = Integer)]
    step: i32,
    #[diesel(sql_type = Text)]
    supplier: String,
}

/// The facts a funnel query reads, each for one or two stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FunnelFacts {
    /// Submitted applications: applied.
    Applications,
    /// Awards: Phase 1, Phase 2 and later.
    Awards,
    /// Trials of awards: trialled, adopted.
    Trials,
}

/// The distinct suppliers per group at the stages `facts` tell. Applications are filed under
/// their own owner and supplier, trials under their award's.
pub fn funnel_suppliers(
    connection: &mut DbConnection,
    facts: FunnelFacts,
    filter: &ReportFilter,
    period: Period,
    group_by: &[Dimension],
) -> Result<Vec<StageSupplier>, StoreError> {
    // A query tells its two stages apart by a number, 0 for the first (an application is one
    // stage).
    let (fact, step, stages): (Fact, Option<&str>, [FunnelStage; 2]) = match facts {
        FunnelFacts::Applications => (
            Fact::Application,
            None,
            [FunnelStage::Applied, FunnelStage::Applied],
        ),
        FunnelFacts::Awards => (
            Fact::Award,
            Some("CASE WHEN p.number <= 1 THEN 0 ELSE 1 END"),
            [FunnelStage::PhaseOne, FunnelStage::PhaseTwo],
        ),
        FunnelFacts::Trials => (
            Fact::Trial,
            Some("CASE WHEN t.adopted THEN 1 ELSE 0 END"),
            [FunnelStage::Trialled, FunnelStage::Adopted],
        ),
    };
    let mut query = Aggregate::new(connection, fact, filter, period, group_by);
    if fact == Fact::Award {
        query.needs_phase = true;
    }
    if fact == Fact::Application {
        query.condition("x.submitted_at IS NOT NULL".to_owned());
    }
    let sql = query.suppliers_sql(step);
    let rows: Vec<SupplierRow> = query.load(connection, sql)?;
    let mut found = Vec::with_capacity(rows.len());
    for row in rows {
        let key = split_key(&row.key, group_by);
        let stage = stages[usize::from(row.step != 0)];
        // An adopted trial is a trial too.
        if stage == FunnelStage::Adopted {
            found.push(StageSupplier {
                key: key.clone(),
                stage: FunnelStage::Trialled,
                supplier_id: row.supplier.clone(),
            });
        }
        found.push(StageSupplier {
            key,
            stage,
            supplier_id: row.supplier,
        });
    }
    Ok(found)
}
