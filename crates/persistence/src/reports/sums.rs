//! Sums computed by the database: one GROUP BY query per kind of fact, so a report reads a row
//! per group, not a row per award or payment.

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
    money_sums(connection, Fact::Award, filter, period, group_by)
}

/// Paid milestones of the awards the filter covers (terminated ones included), summed on the
/// day paid.
pub fn paid_sums(
    connection: &mut DbConnection,
    filter: &ReportFilter,
    period: Period,
    group_by: &[Dimension],
) -> Result<Vec<MoneySum>, StoreError> {
    money_sums(connection, Fact::Payment, filter, period, group_by)
}

fn money_sums(
    connection: &mut DbConnection,
    fact: Fact,
    filter: &ReportFilter,
    period: Period,
    group_by: &[Dimension],
) -> Result<Vec<MoneySum>, StoreError> {
    let mut query = AwardAggregate::new(connection, fact, filter, period, group_by);
    let (condition, table) = match fact {
        Fact::Award => ("a.status <> 'terminated'", "a"),
        Fact::Payment => (
            "m.status = 'paid' AND m.amount_amount IS NOT NULL AND m.amount_currency IS NOT NULL",
            "m",
        ),
    };
    query.condition(condition.to_owned());
    let sql = query.sql(
        &format!("{table}.amount_currency"),
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
    let mut query = AwardAggregate::new(connection, Fact::Award, filter, period, group_by);
    query.needs_supplier = true;
    query.condition("a.status <> 'terminated'".to_owned());
    let sme = sme_condition();
    let part = |condition: &str| format!("CASE WHEN {condition} THEN a.amount_amount ELSE 0 END");
    let scale = |scale: Scale| part(&format!("{sme} AND o.scale = '{}'", scale.as_str()));
    let sums = [
        ("value", "a.amount_amount".to_owned()),
        ("sme_value", part(&sme)),
        ("micro_value", scale(Scale::Micro)),
        ("small_value", scale(Scale::Small)),
        ("medium_value", scale(Scale::Medium)),
        ("contracts", "1".to_owned()),
        (
            "sme_contracts",
            format!("CASE WHEN {sme} THEN 1 ELSE 0 END"),
        ),
    ];
    let sql = query.sql("a.amount_currency", &sums);
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

/// `report::is_sme` as SQL over the supplier `o`, spelled from the domain's own lists.
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
        "(CASE WHEN o.scale IS NOT NULL THEN (o.scale IN ({sme_scales}) AND o.kind NOT IN ({public_kinds})) \
         ELSE o.kind = '{}' END)",
        OrganisationKind::Sme.as_str()
    )
}

/// The separator of a group's key parts: dimension values are ids, enum texts and numbers.
const KEY_SEPARATOR: char = '|';

fn split_key(key: &str, group_by: &[Dimension]) -> Vec<String> {
    if group_by.is_empty() {
        return Vec::new();
    }
    key.split(KEY_SEPARATOR)
        .zip(group_by)
        .map(|(part, dimension)| match dimension {
            Dimension::FinancialYear => part
                .parse()
                .map(|starts| FinancialYear { starts }.to_string())
                .unwrap_or_default(),
            _ => part.to_owned(),
        })
        .collect()
}

/// Which facts an aggregate sums: awards on their start (or recording) day, or paid
/// milestones on the day paid, each with its award's dimensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fact {
    Award,
    Payment,
}

/// A GROUP BY query over awards (`a`) with their supplier (`o`), challenge (`c`) and phase
/// (`p`) joined only when a filter or dimension needs them. Values arrive as bound
/// parameters, never in the SQL text.
struct AwardAggregate<'a> {
    backend: Backend,
    fact: Fact,
    group_by: &'a [Dimension],
    conditions: Vec<String>,
    parameters: Vec<String>,
    needs_supplier: bool,
    needs_challenge: bool,
    filters_owners: bool,
}

impl<'a> AwardAggregate<'a> {
    fn new(
        connection: &DbConnection,
        fact: Fact,
        filter: &ReportFilter,
        period: Period,
        group_by: &'a [Dimension],
    ) -> Self {
        let backend = match connection {
            DbConnection::Postgres(_) => Backend::Postgres,
            DbConnection::Sqlite(_) => Backend::Sqlite,
        };
        let mut query = AwardAggregate {
            backend,
            fact,
            group_by,
            conditions: Vec::new(),
            parameters: Vec::new(),
            needs_supplier: filter.supplier_region.is_some()
                || group_by.contains(&Dimension::Region)
                || group_by.contains(&Dimension::SupplierScale),
            needs_challenge: filter.programme_id.is_some()
                || group_by.contains(&Dimension::Programme),
            filters_owners: filter.owners.is_some(),
        };
        if let Some(programme) = &filter.programme_id {
            let parameter = query.parameter(programme.clone());
            query.condition(format!("c.programme_id = {parameter}"));
        }
        if let Some(owners) = &filter.owners {
            if owners.is_empty() {
                query.condition("1 = 0".to_owned());
            } else {
                let listed: Vec<String> = owners
                    .iter()
                    .map(|owner| query.parameter(owner.clone()))
                    .collect();
                query.condition(format!(
                    "a.owner_organisation_id IN ({})",
                    listed.join(", ")
                ));
            }
        }
        if let Some(region) = &filter.supplier_region {
            let parameter = query.parameter(region.clone());
            query.condition(format!("o.region = {parameter}"));
        }
        let day = query.day();
        if let Some(from) = period.from {
            let parameter = query.date_parameter(from);
            query.condition(format!("{day} >= {parameter}"));
        }
        if let Some(to) = period.to {
            let parameter = query.date_parameter(to);
            query.condition(format!("{day} <= {parameter}"));
        }
        query
    }

    fn condition(&mut self, condition: String) {
        self.conditions.push(condition);
    }

    fn parameter(&mut self, value: String) -> String {
        self.parameters.push(value);
        match self.backend {
            Backend::Postgres => format!("${}", self.parameters.len()),
            Backend::Sqlite => "?".to_owned(),
        }
    }

    /// SQLite keeps dates as `YYYY-MM-DD` text, which compares in date order.
    fn date_parameter(&mut self, day: NaiveDate) -> String {
        let parameter = self.parameter(day.format("%Y-%m-%d").to_string());
        match self.backend {
            Backend::Postgres => format!("CAST({parameter} AS DATE)"),
            Backend::Sqlite => parameter,
        }
    }

    /// The day a fact counts on.
    fn day(&self) -> String {
        let (day, recorded) = match self.fact {
            Fact::Award => ("a.starts_on", "a.created_at"),
            Fact::Payment => ("m.paid_on", "m.updated_at"),
        };
        match self.backend {
            Backend::Postgres => format!("COALESCE({day}, CAST({recorded} AS DATE))"),
            Backend::Sqlite => format!("COALESCE({day}, date({recorded}))"),
        }
    }

    /// The first calendar year of the financial year (1 April to 31 March) of a day.
    fn financial_year(&self, day: &str) -> String {
        match self.backend {
            Backend::Postgres => {
                format!("CAST(EXTRACT(YEAR FROM {day} - INTERVAL '3 months') AS INTEGER)")
            }
            Backend::Sqlite => format!("CAST(strftime('%Y', {day}, '-3 months') AS INTEGER)"),
        }
    }

    /// The value of a dimension for one fact (the fact's day for a financial year: the year
    /// is worked out per day, not per fact, which is cheaper by far).
    fn dimension(&self, dimension: Dimension) -> String {
        match dimension {
            Dimension::Programme => "c.programme_id".to_owned(),
            Dimension::Challenge => "a.challenge_id".to_owned(),
            Dimension::Phase => "a.phase_id".to_owned(),
            Dimension::PhaseNumber => "p.number".to_owned(),
            Dimension::Owner => "a.owner_organisation_id".to_owned(),
            Dimension::Region => "o.region".to_owned(),
            Dimension::SupplierScale => "o.scale".to_owned(),
            Dimension::FinancialYear => self.day(),
            Dimension::Status => "a.status".to_owned(),
            Dimension::Result => "NULL".to_owned(),
        }
    }

    /// Whether anything reads the award (`a`) of a payment.
    fn needs_award(&self) -> bool {
        self.needs_supplier
            || self.needs_challenge
            || self.filters_owners
            || self
                .group_by
                .iter()
                .any(|dimension| *dimension != Dimension::FinancialYear)
    }

    /// Facts summed per dimension values and currency (`sums`: each name and the value a fact
    /// adds), then those groups summed per key: `key, currency, sums...`.
    fn sql(&self, currency: &str, sums: &[(&str, String)]) -> String {
        let mut from = match self.fact {
            Fact::Award => "awards a".to_owned(),
            Fact::Payment if self.needs_award() => {
                "milestones m JOIN awards a ON a.id = m.award_id".to_owned()
            }
            // Every milestone belongs to an award: the join would only filter nothing.
            Fact::Payment => "milestones m".to_owned(),
        };
        if self.needs_supplier {
            from.push_str(" JOIN organisations o ON o.id = a.supplier_organisation_id");
        }
        if self.needs_challenge {
            from.push_str(" JOIN challenges c ON c.id = a.challenge_id");
        }
        if self.group_by.contains(&Dimension::PhaseNumber) {
            from.push_str(" JOIN phases p ON p.id = a.phase_id");
        }
        let conditions = if self.conditions.is_empty() {
            "1 = 1".to_owned()
        } else {
            self.conditions.join(" AND ")
        };
        let mut inner_columns: Vec<String> = self
            .group_by
            .iter()
            .enumerate()
            .map(|(index, dimension)| format!("{} AS d{index}", self.dimension(*dimension)))
            .collect();
        inner_columns.push(format!("{currency} AS currency"));
        let inner_groups = (1..=inner_columns.len())
            .map(|position| position.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        inner_columns.extend(
            sums.iter()
                .map(|(name, value)| format!("SUM({value}) AS {name}")),
        );
        let key = if self.group_by.is_empty() {
            "''".to_owned()
        } else {
            self.group_by
                .iter()
                .enumerate()
                .map(|(index, dimension)| {
                    let value = match dimension {
                        Dimension::FinancialYear => self.financial_year(&format!("d{index}")),
                        _ => format!("d{index}"),
                    };
                    format!("COALESCE(CAST({value} AS TEXT), '')")
                })
                .collect::<Vec<_>>()
                .join(&format!(" || '{KEY_SEPARATOR}' || "))
        };
        let outer_sums = sums
            .iter()
            .map(|(name, _)| format!("CAST(SUM({name}) AS BIGINT) AS {name}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "SELECT {key} AS key, currency, {outer_sums} FROM (SELECT {} FROM {from} \
             WHERE {conditions} GROUP BY {inner_groups}) AS facts GROUP BY 1, 2",
            inner_columns.join(", ")
        )
    }

    fn load<Row>(&self, connection: &mut DbConnection, sql: String) -> Result<Vec<Row>, StoreError>
    where
        Row: QueryableByName<diesel::pg::Pg> + QueryableByName<diesel::sqlite::Sqlite> + 'static,
    {
        Ok(match connection {
            DbConnection::Postgres(postgres) => {
                let mut query = diesel::sql_query(sql).into_boxed::<diesel::pg::Pg>();
                for parameter in &self.parameters {
                    query = query.bind::<Text, _>(parameter.clone());
                }
                query.load(postgres)?
            }
            DbConnection::Sqlite(sqlite) => {
                let mut query = diesel::sql_query(sql).into_boxed::<diesel::sqlite::Sqlite>();
                for parameter in &self.parameters {
                    query = query.bind::<Text, _>(parameter.clone());
                }
                query.load(sqlite)?
            }
        })
    }
}
