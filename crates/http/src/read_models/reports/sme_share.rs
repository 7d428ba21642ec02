//! SME share: how much of the money went to SMEs.

use super::*;

#[derive(Debug, Clone, Default, PartialEq)]
struct SmeFigures {
    value: i64,
    sme_value: i64,
    micro_value: i64,
    small_value: i64,
    medium_value: i64,
    contracts: i64,
    sme_contracts: i64,
}

impl Figures for SmeFigures {
    fn add(&mut self, other: &Self) {
        self.value += other.value;
        self.sme_value += other.sme_value;
        self.micro_value += other.micro_value;
        self.small_value += other.small_value;
        self.medium_value += other.medium_value;
        self.contracts += other.contracts;
        self.sme_contracts += other.sme_contracts;
    }
}

impl SmeFigures {
    fn cells(&self, row: &mut Row, currency: &str) {
        let money = |minor: i64| Cell::Money(minor, currency.to_owned());
        let value_share = ratio(self.sme_value, self.value);
        row.push("currency", Cell::Text(Some(currency.to_owned())));
        row.push("awarded_value", money(self.value));
        row.push("sme_value", money(self.sme_value));
        row.push("micro_value", money(self.micro_value));
        row.push("small_value", money(self.small_value));
        row.push("medium_value", money(self.medium_value));
        row.push("value_share", Cell::Ratio(value_share));
        row.push("contracts", Cell::Count(self.contracts));
        row.push("sme_contracts", Cell::Count(self.sme_contracts));
        row.push(
            "contract_share",
            Cell::Ratio(ratio(self.sme_contracts, self.contracts)),
        );
        row.push("target", Cell::Ratio(Some(report::SME_TARGET)));
        row.push(
            "meets_target",
            Cell::Flag(value_share.map(|share| share >= report::SME_TARGET)),
        );
    }
}

const SME_COLUMNS: [&str; 12] = [
    "currency",
    "awarded_value",
    "sme_value",
    "micro_value",
    "small_value",
    "medium_value",
    "value_share",
    "contracts",
    "sme_contracts",
    "contract_share",
    "target",
    "meets_target",
];

report_endpoints! {
    /// SME share: how much of the awarded value, and how many contracts, went to SMEs.
    ///
    /// SMEs are suppliers of micro, small or medium scale (or of kind `sme` with no scale). Each
    /// row gives the value and the count of contracts that stand (not terminated), the SMEs' part of
    /// each (value also by micro, small and medium), the shares, and whether the value share meets
    /// the government's 33% target. `group_by` any of `owner`, `financial_year`, `programme`
    /// (default `owner,financial_year`); rows are split by currency.
    sme_share_report at "/reports/sme-share", sme_share_report_csv at "/reports/sme-share.csv",
    chart sme_share_report_svg at "/reports/sme-share.svg",
    schema = catalyst_api::reports::SmeShareReport,
    answer = sme_share_answer,
    csv_summary = "SME share, as CSV: the same rows, a line each after a header."
}

async fn sme_share_answer(
    request: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let asked = ask(&request, caller.actor(), &SME_SHARE)?;
    let (asked, columns, rows, totals) = state
        .with_read_connection(move |connection| {
            let sums = store::sme_sums(connection, &asked.filter, asked.period(), &asked.group_by)?;
            let mut grouped: Grouped<SmeFigures> = Grouped::default();
            for sum in sums {
                grouped.add(
                    keyed(sum.key, sum.currency),
                    &SmeFigures {
                        value: sum.value,
                        sme_value: sum.sme_value,
                        micro_value: sum.micro_value,
                        small_value: sum.small_value,
                        medium_value: sum.medium_value,
                        contracts: sum.contracts,
                        sme_contracts: sum.sme_contracts,
                    },
                );
            }
            let (columns, rows, totals) = tabulate(
                connection,
                &asked,
                &grouped,
                &SME_COLUMNS,
                Money::ByCurrency,
                SmeFigures::cells,
            )?;
            Ok((asked.clone(), columns, rows, totals))
        })
        .await?;
    respond("sme-share", &asked, &columns, rows, totals)
}

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config
        .service(sme_share_report)
        .service(sme_share_report_csv)
        .service(sme_share_report_svg);
}
