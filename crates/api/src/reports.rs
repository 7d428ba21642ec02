//! What each report's rows and totals hold, as the spec states it, so generated clients get
//! typed figures (`totals[0].committed.amount`) rather than bare objects. The reports build
//! their rows as named cells (the http crate's `read_models/reports/`); `tests/api/reports.rs`
//! checks every member of real answers, grouped by every dimension, against these schemas, so
//! the two cannot drift apart. Never built: these types exist for the document.

#![allow(dead_code)]

use catalyst_domain::Money;
use serde::Serialize;
use utoipa::ToSchema;

/// A row's group: the members of the dimensions asked for in `group_by` (an id with its name
/// where the dimension is a record). A value the data does not have is null.
#[derive(Serialize, ToSchema)]
pub struct ReportDimensions {
    #[schema(value_type = Option<uuid::Uuid>)]
    programme_id: Option<String>,
    /// The programme's title.
    programme: Option<String>,
    #[schema(value_type = Option<uuid::Uuid>)]
    challenge_id: Option<String>,
    /// The challenge's reference.
    challenge: Option<String>,
    #[schema(value_type = Option<uuid::Uuid>)]
    phase_id: Option<String>,
    /// The phase: its challenge's reference and number (funding), or its number (pipeline).
    phase: Option<String>,
    /// The owning body, or for trials the host, by `owner` or `host`.
    #[schema(value_type = Option<uuid::Uuid>)]
    owner_id: Option<String>,
    owner: Option<String>,
    /// The supplier's region.
    region: Option<String>,
    supplier_scale: Option<String>,
    /// `2019-20`: April to March.
    financial_year: Option<String>,
    /// A trial's status.
    status: Option<String>,
    /// A trial's result.
    result: Option<String>,
}

/// The filters a report applied, normalised (a financial year as `2019-20`).
#[derive(Serialize, ToSchema)]
pub struct ReportFilters {
    #[schema(value_type = Option<uuid::Uuid>)]
    programme_id: Option<String>,
    #[schema(value_type = Option<uuid::Uuid>)]
    owner_id: Option<String>,
    region: Option<String>,
    #[schema(value_type = Option<chrono::NaiveDate>)]
    from: Option<String>,
    #[schema(value_type = Option<chrono::NaiveDate>)]
    to: Option<String>,
    financial_year: Option<String>,
}

/// Funding figures, per currency.
#[derive(Serialize, ToSchema)]
pub struct FundingFigures {
    #[schema(example = "GBP")]
    currency: String,
    /// Awards that stand, on their start date.
    committed: Money,
    /// Paid milestones, on the day paid.
    paid: Money,
    awards: i64,
    payments: i64,
}

/// SME share figures, per currency.
#[derive(Serialize, ToSchema)]
pub struct SmeShareFigures {
    currency: String,
    awarded_value: Money,
    sme_value: Money,
    micro_value: Money,
    small_value: Money,
    medium_value: Money,
    /// The SMEs' share of the value awarded; null with nothing awarded.
    #[schema(required = true)]
    value_share: Option<f64>,
    contracts: i64,
    sme_contracts: i64,
    #[schema(required = true)]
    contract_share: Option<f64>,
    /// The government's target share (0.33).
    target: f64,
    #[schema(required = true)]
    meets_target: Option<bool>,
}

/// Pipeline figures: applications decided, awards, progression and adoption.
#[derive(Serialize, ToSchema)]
pub struct PipelineFigures {
    applications: i64,
    successful: i64,
    unsuccessful: i64,
    #[schema(required = true)]
    success_rate: Option<f64>,
    awards: i64,
    progressed: i64,
    #[schema(required = true)]
    progression_rate: Option<f64>,
    adopted: i64,
    #[schema(required = true)]
    adoption_rate: Option<f64>,
    challenges_contracted: i64,
    /// Days from a challenge's opening to its first contract, the median over challenges.
    #[schema(required = true)]
    median_days_to_first_contract: Option<f64>,
}

/// The pipeline's totals: its figures and the rates from phase to phase.
#[derive(Serialize, ToSchema)]
pub struct PipelineTotals {
    #[serde(flatten)]
    figures: PipelineFigures,
    #[schema(required = true)]
    phase_1_to_phase_2_rate: Option<f64>,
    #[schema(required = true)]
    phase_2_to_adoption_rate: Option<f64>,
}

/// Trial figures: adoption, outcomes against targets, follow-on value.
#[derive(Serialize, ToSchema)]
pub struct TrialsFigures {
    trials: i64,
    adopted: i64,
    not_adopted: i64,
    #[schema(required = true)]
    adoption_rate: Option<f64>,
    outcomes: i64,
    outcomes_with_target: i64,
    outcomes_met_target: i64,
    #[schema(required = true)]
    target_met_rate: Option<f64>,
    /// Follow-on contracts in pounds.
    follow_on_value: Money,
    /// Follow-on value in other currencies, as `EUR 100000; USD 5000`; null when none.
    #[schema(required = true)]
    follow_on_other_currencies: Option<String>,
}

/// Payment times: invoice to payment, against the 30 days of regulation 113.
#[derive(Serialize, ToSchema)]
pub struct PaymentTimesFigures {
    /// Invoices raised: milestones invoiced, then paid or awaiting payment (withheld ones,
    /// disputed, are left out).
    invoices: i64,
    paid: i64,
    /// Median days from invoice to payment; null when none is paid.
    #[schema(required = true)]
    median_days: Option<f64>,
    /// 90th percentile (nearest rank) of the days from invoice to payment.
    #[schema(required = true)]
    p90_days: Option<i64>,
    paid_within_30_days: i64,
    /// Of those paid, the share paid within 30 days.
    #[schema(required = true)]
    share_paid_within_30_days: Option<f64>,
    unpaid: i64,
    /// Unpaid more than 30 days after the invoice, today.
    unpaid_past_30_days: i64,
}

/// The supplier funnel: suppliers at each stage, and each stage's rate over the one before.
#[derive(Serialize, ToSchema)]
pub struct FunnelFigures {
    /// Suppliers with an application submitted.
    suppliers_applied: i64,
    /// Suppliers with a Phase 1 award.
    contracted_phase_1: i64,
    /// Suppliers with an award of Phase 2 or later.
    contracted_phase_2: i64,
    /// Suppliers with a trial of one of their awards.
    trialled: i64,
    /// Suppliers with such a trial adopted.
    adopted: i64,
    #[schema(required = true)]
    applied_to_phase_1_rate: Option<f64>,
    #[schema(required = true)]
    phase_1_to_phase_2_rate: Option<f64>,
    #[schema(required = true)]
    phase_2_to_trial_rate: Option<f64>,
    #[schema(required = true)]
    trial_to_adoption_rate: Option<f64>,
}

macro_rules! report_schema {
    ($report:ident, $row:ident, $figures:ty, $totals:ty, $name:literal) => {
        /// A row: its group, then its figures.
        #[derive(Serialize, ToSchema)]
        pub struct $row {
            #[serde(flatten)]
            group: ReportDimensions,
            #[serde(flatten)]
            figures: $figures,
        }

        /// The report as JSON: its rows, and totals that are the sums of the rows.
        #[derive(Serialize, ToSchema)]
        pub struct $report {
            #[schema(example = $name)]
            report: String,
            /// The dimensions of each row, in order.
            group_by: Vec<String>,
            filters: ReportFilters,
            rows: Vec<$row>,
            /// The figures over every row (one per currency where money is summed).
            totals: Vec<$totals>,
        }
    };
}

report_schema!(
    FundingReport,
    FundingRow,
    FundingFigures,
    FundingFigures,
    "funding"
);
report_schema!(
    SmeShareReport,
    SmeShareRow,
    SmeShareFigures,
    SmeShareFigures,
    "sme-share"
);
report_schema!(
    PipelineReport,
    PipelineRow,
    PipelineFigures,
    PipelineTotals,
    "pipeline"
);
report_schema!(
    PaymentTimesReport,
    PaymentTimesRow,
    PaymentTimesFigures,
    PaymentTimesFigures,
    "payment-times"
);
report_schema!(
    FunnelReport,
    FunnelRow,
    FunnelFigures,
    FunnelFigures,
    "funnel"
);
report_schema!(
    TrialsReport,
    TrialsRow,
    TrialsFigures,
    TrialsFigures,
    "trials"
);
