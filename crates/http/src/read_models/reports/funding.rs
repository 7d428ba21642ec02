//! Funding: money committed and paid.

use super::*;

#[derive(Debug, Clone, Default, PartialEq)]
struct FundingFigures {
    committed: i64,
    paid: i64,
    awards: i64,
    payments: i64,
}

const FUNDING_COLUMNS: [&str; 5] = ["currency", "committed", "paid", "awards", "payments"];

impl FundingFigures {
    fn cells(&self, row: &mut Row, currency: &str) {
        row.push("currency", Cell::Text(Some(currency.to_owned())));
        row.push(
            "committed",
            Cell::Money(self.committed, currency.to_owned()),
        );
        row.push("paid", Cell::Money(self.paid, currency.to_owned()));
        row.push("awards", Cell::Count(self.awards));
        row.push("payments", Cell::Count(self.payments));
    }
}

impl Figures for FundingFigures {
    fn add(&mut self, other: &Self) {
        self.committed += other.committed;
        self.paid += other.paid;
        self.awards += other.awards;
        self.payments += other.payments;
    }
}

report_endpoints! {
    /// Funding: committed (awards) and paid (payments).
    ///
    /// `group_by` any of `programme`, `challenge`, `phase`, `owner`, `region` (the supplier's),
    /// `supplier_scale`, `financial_year` (default `financial_year`); rows are split by currency.
    /// Committed counts awards that stand (not terminated) on their start date; paid counts paid
    /// milestones on the day paid, terminated awards included. `totals` (one per currency) are the
    /// sums of the rows. CSV gives money in pounds and pence.
    funding_report at "/reports/funding", funding_report_csv at "/reports/funding.csv",
    chart funding_report_svg at "/reports/funding.svg",
    schema = catalyst_api::reports::FundingReport,
    answer = funding_answer,
    csv_summary = "Funding, as CSV: the same rows, a line each after a header."
}

async fn funding_answer(
    request: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let asked = ask(&request, caller.actor(), &FUNDING)?;
    let (asked, columns, rows, totals) = state
        .with_read_connection(move |connection| {
            let period = asked.period();
            let committed =
                store::committed_sums(connection, &asked.filter, period, &asked.group_by)?;
            let paid = store::paid_sums(connection, &asked.filter, period, &asked.group_by)?;
            let mut grouped: Grouped<FundingFigures> = Grouped::default();
            for sum in committed {
                grouped.add(
                    keyed(sum.key, sum.currency),
                    &FundingFigures {
                        committed: sum.amount,
                        awards: sum.count,
                        ..FundingFigures::default()
                    },
                );
            }
            for sum in paid {
                grouped.add(
                    keyed(sum.key, sum.currency),
                    &FundingFigures {
                        paid: sum.amount,
                        payments: sum.count,
                        ..FundingFigures::default()
                    },
                );
            }
            let (columns, rows, totals) = tabulate(
                connection,
                &asked,
                &grouped,
                &FUNDING_COLUMNS,
                Money::ByCurrency,
                FundingFigures::cells,
            )?;
            Ok((asked.clone(), columns, rows, totals))
        })
        .await?;
    respond("funding", &asked, &columns, rows, totals)
}

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config
        .service(funding_report)
        .service(funding_report_csv)
        .service(funding_report_svg);
}
