//! Payment times: how long suppliers wait from invoice to payment. The Public Contracts
//! Regulations 2015, regulation 113, give public bodies 30 days to pay an undisputed invoice;
//! late payment is the barrier SMEs name first.

use super::*;
use catalyst_domain::report::Tally;

/// The regulation's limit, in days.
pub(super) const PROMPT_DAYS: i64 = 30;

#[derive(Debug, Clone, Default, PartialEq)]
struct PaymentTimes {
    invoices: i64,
    /// Days from invoice to payment of the paid invoices (medians do not add up, so the
    /// values are tallied and merged).
    waited: Tally,
    unpaid: i64,
    unpaid_past_limit: i64,
}

impl Figures for PaymentTimes {
    fn add(&mut self, other: &Self) {
        self.invoices += other.invoices;
        self.waited.merge(&other.waited);
        self.unpaid += other.unpaid;
        self.unpaid_past_limit += other.unpaid_past_limit;
    }
}

const PAYMENT_TIME_COLUMNS: [&str; 8] = [
    "invoices",
    "paid",
    "median_days",
    "p90_days",
    "paid_within_30_days",
    "share_paid_within_30_days",
    "unpaid",
    "unpaid_past_30_days",
];

impl PaymentTimes {
    fn cells(&self, row: &mut Row) {
        let waited = &self.waited;
        let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        let (paid, prompt) = (count(waited.len()), count(waited.at_most(PROMPT_DAYS)));
        row.push("invoices", Cell::Count(self.invoices));
        row.push("paid", Cell::Count(paid));
        row.push("median_days", Cell::Ratio(waited.median()));
        row.push("p90_days", Cell::Whole(waited.percentile(90)));
        row.push("paid_within_30_days", Cell::Count(prompt));
        row.push(
            "share_paid_within_30_days",
            Cell::Ratio(ratio(prompt, paid)),
        );
        row.push("unpaid", Cell::Count(self.unpaid));
        row.push("unpaid_past_30_days", Cell::Count(self.unpaid_past_limit));
    }
}

report_endpoints! {
    /// Payment times: from invoice to payment, against the 30 days of regulation 113.
    ///
    /// Per group: invoices raised (milestones invoiced, then paid or still awaiting payment; a
    /// withheld one is disputed and left out), how many are paid, the median and 90th-percentile
    /// days from invoice to payment, how many (and what share of those paid) were paid within 30
    /// days, and how many are unpaid, and unpaid past 30 days today. An invoice counts on the day
    /// it was raised (`from`, `to`, `financial_year` and the `financial_year` dimension use it).
    /// `group_by` any of `owner`, `programme`, `supplier_scale`, `region` (the supplier's),
    /// `financial_year` (default).
    payment_times_report at "/reports/payment-times", payment_times_report_csv at "/reports/payment-times.csv",
    chart payment_times_report_svg at "/reports/payment-times.svg",
    schema = catalyst_api::reports::PaymentTimesReport,
    answer = payment_times_answer,
    csv_summary = "Payment times, as CSV: the same rows, a line each after a header."
}

async fn payment_times_answer(
    request: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let asked = ask(&request, caller.actor(), &PAYMENT_TIMES)?;
    let today = catalyst_domain::Timestamp::now().as_datetime().date_naive();
    let (asked, columns, rows, totals) = state
        .with_read_connection(move |connection| {
            let overdue_before = today - chrono::Days::new(PROMPT_DAYS.unsigned_abs());
            let counts = store::invoice_counts(
                connection,
                &asked.filter,
                asked.period(),
                &asked.group_by,
                overdue_before,
            )?;
            let mut grouped: Grouped<PaymentTimes> = Grouped::default();
            for count in counts {
                let times = usize::try_from(count.invoices).unwrap_or(0);
                let mut figures = PaymentTimes {
                    invoices: count.invoices,
                    ..PaymentTimes::default()
                };
                match count.days_waited {
                    Some(days) => figures.waited.record(days, times),
                    None => {
                        figures.unpaid = count.invoices;
                        if count.overdue {
                            figures.unpaid_past_limit = count.invoices;
                        }
                    }
                }
                grouped.add(count.key, &figures);
            }
            let (columns, rows, totals) = tabulate(
                connection,
                &asked,
                &grouped,
                &PAYMENT_TIME_COLUMNS,
                Money::None,
                |figures: &PaymentTimes, row: &mut Row, _: &str| figures.cells(row),
            )?;
            Ok((asked.clone(), columns, rows, totals))
        })
        .await?;
    respond("payment-times", &asked, &columns, rows, totals)
}

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config
        .service(payment_times_report)
        .service(payment_times_report_csv)
        .service(payment_times_report_svg);
}
