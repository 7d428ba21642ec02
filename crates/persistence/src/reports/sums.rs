//! Sums computed by the database: one GROUP BY query per kind of fact, so a report reads a row
//! per group, not a row per award or payment.

use super::aggregate::{split_key, Aggregate, Fact};
use super::*;

/// The days a report covers, inclusive; each fact counts on its own day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Period {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// Money and a count summed for one group and currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoneySum {
    /// The values of the dimensions asked, in order (a financial year as `2019-20`).
    pub key: Vec<String>,
    pub currency: String,
    pub amount: i64,
    pub count: i64,
}

/// What the SME-share report sums for one group and currency of standing awards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmeSum {
    pub key: Vec<String>,
    pub currency: String,
    pub value: i64,
    pub sme_value: i64,
    pub micro_value: i64,
    pub small_value: i64,
    pub medium_value: i64,
    pub contracts: i64,
    pub sme_contracts: i64,
}

#[derive(QueryableByName)]
struct MoneySumRow {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = Text)]
    currency: String,
    #[diesel(sql_type = BigInt)]
    amount: i64,
    #[diesel(sql_type = BigInt)]
    count: i64,
}

#[derive(QueryableByName)]
struct SmeSumRow {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = Text)]
    currency: String,
    #[diesel(sql_type = BigInt)]
    value: i64,
    #[diesel(sql_type = BigInt)]
    sme_value: i64,
    #[diesel(sql_type = BigInt)]
    micro_value: i64,
    #[diesel(sql_type = BigInt)]
    small_value: i64,
    #[diesel(sql_type = BigInt)]
    medium_value: i64,
    #[diesel(sql_type = BigInt)]
    contracts: i64,
    #[diesel(sql_type = BigInt)]
    sme_contracts: i64,
}

/// Awards that stand (not terminated) on their day, summed: `amount` is the value committed.
pub fn committed_sums(
    connection: &mut DbConnection,
    filter: &ReportFilter,
    period: Period,
    group_by: &[Dimension],
) -> Result<Vec<MoneySum>, StoreError> {
    let query = Aggregate::new(connection, Fact::Award, filter, period, group_by);
    money_sums(connection, query, "a.status <> 'terminated'", "a")
}

/// Paid milestones of the awards the filter covers (terminated ones included), summed on the
/// day paid.
pub fn paid_sums(
    connection: &mut DbConnection,
    filter: &ReportFilter,
    period: Period,
    group_by: &[Dimension],
) -> Result<Vec<MoneySum>, StoreError> {
    let query = Aggregate::new(connection, Fact::Payment, filter, period, group_by);
    let paid =
        "m.status = 'paid' AND m.amount_amount IS NOT NULL AND m.amount_currency IS NOT NULL";
    money_sums(connection, query, paid, "m")
}

/// The facts of `query` that meet `condition`, their amounts (in `table`) summed per currency.
fn money_sums(
    connection: &mut DbConnection,
    mut query: Aggregate<'_>,
    condition: &str,
    table: &str,
) -> Result<Vec<MoneySum>, StoreError> {
    let group_by = query.group_by;
    query.condition(condition.to_owned());
    let sql = query.sql(
        &[("currency", format!("{table}.amount_currency"))],
        &[
            ("amount", format!("{table}.amount_amount")),
            ("count", "1".to_owned()),
        ],
    );
    let rows: Vec<MoneySumRow> = query.load(connection, sql)?;
    Ok(rows.into_iter().map(|row| row.into_sum(group_by)).collect())
}

/// Standing awards summed with their SME parts (the rule of `report::is_sme`).
pub fn sme_sums(
    connection: &mut DbConnection,
    filter: &ReportFilter,
    period: Period,
    group_by: &[Dimension],
) -> Result<Vec<SmeSum>, StoreError> {
    let mut query = Aggregate::new(connection, Fact::Award, filter, period, group_by);
    query.needs_supplier = true;
    query.condition("a.status <> 'terminated'".to_owned());
    let sme = sme_condition();
    let band = |scale: Scale| format!("{sme} AND scale = '{}'", scale.as_str());
    query.supplier_flags = Some(vec![
        ("is_sme", sme.clone()),
        ("is_micro", band(Scale::Micro)),
        ("is_small", band(Scale::Small)),
        ("is_medium", band(Scale::Medium)),
    ]);
    let sums = [
        ("value", "a.amount_amount".to_owned()),
        ("sme_value", "a.amount_amount * o.is_sme".to_owned()),
        ("micro_value", "a.amount_amount * o.is_micro".to_owned()),
        ("small_value", "a.amount_amount * o.is_small".to_owned()),
        ("medium_value", "a.amount_amount * o.is_medium".to_owned()),
        ("contracts", "1".to_owned()),
        ("sme_contracts", "o.is_sme".to_owned()),
    ];
    let sql = query.sql(&[("currency", "a.amount_currency".to_owned())], &sums);
    let rows: Vec<SmeSumRow> = query.load(connection, sql)?;
    Ok(rows
        .into_iter()
        .map(|row| SmeSum {
            key: split_key(&row.key, group_by),
            currency: row.currency,
            value: row.value,
            sme_value: row.sme_value,
            micro_value: row.micro_value,
            small_value: row.small_value,
            medium_value: row.medium_value,
            contracts: row.contracts,
            sme_contracts: row.sme_contracts,
        })
        .collect())
}

impl MoneySumRow {
    fn into_sum(self, group_by: &[Dimension]) -> MoneySum {
        MoneySum {
            key: split_key(&self.key, group_by),
            currency: self.currency,
            amount: self.amount,
            count: self.count,
        }
    }
}

/// `report::is_sme` as SQL over an organisation's own columns, spelled from the domain's lists.
fn sme_condition() -> String {
    let quoted = |values: Vec<&str>| {
        values
            .iter()
            .map(|value| format!("'{value}'"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let sme_scales = quoted(
        Scale::ALL
            .iter()
            .filter(|scale| scale.is_sme())
            .map(Scale::as_str)
            .collect(),
    );
    let public_kinds = quoted(
        OrganisationKind::ALL
            .iter()
            .filter(|kind| kind.is_public_body())
            .map(OrganisationKind::as_str)
            .collect(),
    );
    format!(
        "(CASE WHEN scale IS NOT NULL THEN (scale IN ({sme_scales}) AND kind NOT IN ({public_kinds})) \
         ELSE kind = '{}' END)",
        OrganisationKind::Sme.as_str()
    )
}
