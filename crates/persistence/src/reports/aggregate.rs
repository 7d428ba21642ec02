//! The GROUP BY queries behind the reports: one fact table with the tables its filters and
//! dimensions need joined, grouped first by the dimensions' raw values (a day, not its
//! financial year, which is cheaper by far to work out per group than per fact), then by the
//! key that names a report row.

use super::*;

/// The separator of a group's key parts: dimension values are ids, enum texts and numbers.
const KEY_SEPARATOR: char = '|';

pub(super) fn split_key(key: &str, group_by: &[Dimension]) -> Vec<String> {
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

/// Conditions joined by AND (none: true).
fn all_of<'c>(conditions: impl IntoIterator<Item = &'c String>) -> String {
    let conditions: Vec<&str> = conditions.into_iter().map(String::as_str).collect();
    if conditions.is_empty() {
        "1 = 1".to_owned()
    } else {
        conditions.join(" AND ")
    }
}

/// Whether a dimension is the supplier's own (read from `o`).
fn is_supplier_dimension(dimension: &Dimension) -> bool {
    matches!(dimension, Dimension::Region | Dimension::SupplierScale)
}

/// `1, 2, ..., count`: a GROUP BY of the first `count` columns.
fn positions(count: usize) -> String {
    (1..=count)
        .map(|position| position.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Which facts an aggregate reads, each counted on its own day and filed under its award's
/// (or application's) dimensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fact {
    /// Awards (`a`) on their start, or recording, day.
    Award,
    /// Paid milestones (`m`) on the day paid.
    Payment,
    /// Invoiced milestones (`m`) on the day invoiced; owner and supplier are the milestone's.
    Invoice,
    /// Submitted applications (`x`) on the day submitted.
    Application,
    /// Trials (`t`) of an award (`a`), on their start, or recording, day; filed under the award.
    Trial,
}

impl Fact {
    /// The public body a fact is filed under (and which the owner filter keeps).
    fn owner(self) -> &'static str {
        match self {
            Fact::Award | Fact::Payment | Fact::Trial => "a.owner_organisation_id",
            Fact::Invoice => "m.owner_organisation_id",
            Fact::Application => "x.owner_organisation_id",
        }
    }

    fn supplier(self) -> &'static str {
        match self {
            Fact::Award | Fact::Payment | Fact::Trial => "a.supplier_organisation_id",
            Fact::Invoice => "m.supplier_organisation_id",
            Fact::Application => "x.supplier_organisation_id",
        }
    }

    /// The table whose `supplier_organisation_id` is the fact's supplier.
    fn supplier_table(self) -> &'static str {
        match self {
            Fact::Award | Fact::Payment | Fact::Trial => "awards",
            Fact::Invoice => "milestones",
            Fact::Application => "applications",
        }
    }

    fn challenge(self) -> &'static str {
        match self {
            Fact::Application => "x.challenge_id",
            _ => "a.challenge_id",
        }
    }

    fn phase(self) -> &'static str {
        match self {
            Fact::Application => "x.phase_id",
            _ => "a.phase_id",
        }
    }
}

/// A GROUP BY query over a fact with its supplier (`o`), challenge (`c`) and phase (`p`)
/// joined only when a filter or dimension needs them. Values arrive as bound parameters, never
/// in the SQL text.
pub(super) struct Aggregate<'a> {
    backend: Backend,
    fact: Fact,
    pub(super) group_by: &'a [Dimension],
    conditions: Vec<String>,
    /// Conditions on the supplier (`o`) alone.
    supplier_conditions: Vec<String>,
    parameters: Vec<String>,
    pub(super) needs_supplier: bool,
    /// When set, the supplier is read through [`suppliers`](Self::suppliers) rather than
    /// joined, with these flags: each a name and a condition on the organisation's own columns,
    /// worked out once per supplier as 1 or 0 (`o.<name>`) rather than once per fact.
    pub(super) supplier_flags: Option<Vec<(&'static str, String)>>,
    pub(super) needs_phase: bool,
    needs_challenge: bool,
    filters_owners: bool,
}

impl<'a> Aggregate<'a> {
    pub(super) fn new(
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
        let mut query = Aggregate {
            backend,
            fact,
            group_by,
            conditions: Vec::new(),
            supplier_conditions: Vec::new(),
            parameters: Vec::new(),
            needs_supplier: filter.supplier_region.is_some()
                || group_by.contains(&Dimension::Region)
                || group_by.contains(&Dimension::SupplierScale),
            supplier_flags: None,
            needs_phase: group_by.contains(&Dimension::PhaseNumber),
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
                let mut owner_columns = vec![fact.owner()];
                if fact == Fact::Trial {
                    // A trial is reported to its host as well as to its award's owner.
                    owner_columns.push("t.host_organisation_id");
                }
                for column in owner_columns {
                    let listed: Vec<String> = owners
                        .iter()
                        .map(|owner| query.parameter(owner.clone()))
                        .collect();
                    query.condition(format!("{column} IN ({})", listed.join(", ")));
                }
            }
        }
        if let Some(region) = &filter.supplier_region {
            let parameter = query.parameter(region.clone());
            query
                .supplier_conditions
                .push(format!("o.region = {parameter}"));
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

    pub(super) fn condition(&mut self, condition: String) {
        self.conditions.push(condition);
    }

    /// A bound value, numbered: a parameter may appear in the SQL before one bound earlier
    /// (in a column, before the conditions).
    fn parameter(&mut self, value: String) -> String {
        self.parameters.push(value);
        match self.backend {
            Backend::Postgres => format!("${}", self.parameters.len()),
            Backend::Sqlite => format!("?{}", self.parameters.len()),
        }
    }

    /// A bound day. SQLite keeps dates as `YYYY-MM-DD` text, which compares in date order.
    pub(super) fn date_parameter(&mut self, day: NaiveDate) -> String {
        let parameter = self.parameter(day.format("%Y-%m-%d").to_string());
        match self.backend {
            Backend::Postgres => format!("CAST({parameter} AS DATE)"),
            Backend::Sqlite => parameter,
        }
    }

    /// The whole days from one date column to another.
    pub(super) fn days_between(&self, from: &str, until: &str) -> String {
        match self.backend {
            Backend::Postgres => format!("CAST({until} - {from} AS BIGINT)"),
            Backend::Sqlite => {
                format!("CAST(julianday({until}) - julianday({from}) AS INTEGER)")
            }
        }
    }

    fn date_of(&self, timestamp: &str) -> String {
        match self.backend {
            Backend::Postgres => format!("CAST({timestamp} AS DATE)"),
            Backend::Sqlite => format!("date({timestamp})"),
        }
    }

    /// The day a fact counts on.
    fn day(&self) -> String {
        let (day, recorded) = match self.fact {
            Fact::Award => ("a.starts_on", "a.created_at"),
            Fact::Payment => ("m.paid_on", "m.updated_at"),
            Fact::Invoice => return "m.invoiced_on".to_owned(),
            Fact::Application => return self.date_of("x.submitted_at"),
            Fact::Trial => ("t.starts_on", "t.created_at"),
        };
        format!("COALESCE({day}, {})", self.date_of(recorded))
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
    /// is worked out per group of the inner query).
    fn dimension(&self, dimension: Dimension) -> String {
        match dimension {
            Dimension::Programme => "c.programme_id".to_owned(),
            Dimension::Challenge => self.fact.challenge().to_owned(),
            Dimension::Phase => self.fact.phase().to_owned(),
            Dimension::PhaseNumber => "p.number".to_owned(),
            Dimension::Owner => self.fact.owner().to_owned(),
            Dimension::Region => "o.region".to_owned(),
            Dimension::SupplierScale => "o.scale".to_owned(),
            Dimension::FinancialYear => self.day(),
            Dimension::Status => match self.fact {
                Fact::Application => "x.status".to_owned(),
                _ => "a.status".to_owned(),
            },
            Dimension::Result => "NULL".to_owned(),
        }
    }

    /// Whether a milestone's award (`a`) is read: a payment is filed under its award's
    /// dimensions, an invoice under its own owner and supplier.
    fn needs_award(&self) -> bool {
        let by_award = self.needs_challenge
            || self.needs_phase
            || self.group_by.contains(&Dimension::Challenge)
            || self.group_by.contains(&Dimension::Phase)
            || self.group_by.contains(&Dimension::Status);
        match self.fact {
            Fact::Payment => {
                by_award
                    || self.needs_supplier
                    || self.filters_owners
                    || self.group_by.contains(&Dimension::Owner)
            }
            Fact::Invoice => by_award,
            Fact::Award | Fact::Application | Fact::Trial => false,
        }
    }

    fn from(&self) -> String {
        let mut from = self.facts_joined();
        if self.needs_supplier {
            let suppliers = match &self.supplier_flags {
                Some(flags) => self.suppliers(flags),
                None => "organisations".to_owned(),
            };
            from.push_str(&format!(
                " JOIN {suppliers} o ON o.id = {}",
                self.fact.supplier()
            ));
        }
        from
    }

    /// The organisations that are suppliers of the fact's table, as `o` is read (`id`, `kind`,
    /// `scale`, `region`). On PostgreSQL each distinct supplier is looked up by key (OFFSET 0
    /// keeps the lookup whole): joined to all organisations, the planner sorts or hashes every
    /// one of them, however few supply anything (1,000,000 against 2,000 in `bench/run`).
    /// SQLite looks each fact's supplier up by key anyway. It pays where every fact is read
    /// with its supplier's scale and kind (SME share: 74 against 50 ms in psql on the bench's
    /// data); where the supplier only filters (funding by region) or is probed per supplier
    /// (the funnel), the DISTINCT scan costs more than it saves. `flags` are worked out here, once
    /// per supplier: SME share's five conditions per award took a third of its time (48 against
    /// 33 ms in psql on the bench's data).
    fn suppliers(&self, flags: &[(&'static str, String)]) -> String {
        let computed: String = flags
            .iter()
            .map(|(name, condition)| {
                format!(", COALESCE(CAST(({condition}) AS INTEGER), 0) AS {name}")
            })
            .collect();
        match self.backend {
            Backend::Postgres => {
                let passed: String = flags
                    .iter()
                    .map(|(name, _)| format!(", found.{name}"))
                    .collect();
                format!(
                    "(SELECT s.id, found.kind, found.scale, found.region{passed} \
                     FROM (SELECT DISTINCT supplier_organisation_id AS id FROM {}) AS s \
                     CROSS JOIN LATERAL (SELECT kind, scale, region{computed} FROM organisations \
                     WHERE organisations.id = s.id OFFSET 0) AS found)",
                    self.fact.supplier_table()
                )
            }
            Backend::Sqlite => {
                format!("(SELECT id, kind, scale, region{computed} FROM organisations)")
            }
        }
    }

    /// The facts with every table joined but the supplier's.
    fn facts_joined(&self) -> String {
        let mut from = match self.fact {
            Fact::Award => "awards a".to_owned(),
            // Every milestone belongs to an award: the join alone would filter nothing.
            Fact::Payment | Fact::Invoice if self.needs_award() => {
                "milestones m JOIN awards a ON a.id = m.award_id".to_owned()
            }
            Fact::Payment | Fact::Invoice => "milestones m".to_owned(),
            Fact::Application => "applications x".to_owned(),
            Fact::Trial => "trials t JOIN awards a ON a.id = t.award_id".to_owned(),
        };
        if self.needs_challenge {
            from.push_str(&format!(
                " JOIN challenges c ON c.id = {}",
                self.fact.challenge()
            ));
        }
        if self.needs_phase {
            from.push_str(&format!(" JOIN phases p ON p.id = {}", self.fact.phase()));
        }
        from
    }

    /// Facts grouped by the dimensions and `columns` (each name and its value for a fact) with
    /// `sums` (each name and what a fact adds), then those groups summed per key:
    /// `key, columns..., sums...`.
    pub(super) fn sql(&self, columns: &[(&str, String)], sums: &[(&str, String)]) -> String {
        let conditions = all_of(self.conditions.iter().chain(&self.supplier_conditions));
        let mut inner_columns: Vec<String> = self
            .group_by
            .iter()
            .enumerate()
            .map(|(index, dimension)| format!("{} AS d{index}", self.dimension(*dimension)))
            .collect();
        inner_columns.extend(
            columns
                .iter()
                .map(|(name, value)| format!("{value} AS {name}")),
        );
        let inner_groups = positions(inner_columns.len());
        inner_columns.extend(
            sums.iter()
                .map(|(name, value)| format!("SUM({value}) AS {name}")),
        );
        let key = self.key(|index, _| format!("d{index}"));
        let mut outer_columns = vec![format!("{key} AS key")];
        outer_columns.extend(columns.iter().map(|(name, _)| (*name).to_owned()));
        let outer_groups = positions(outer_columns.len());
        outer_columns.extend(
            sums.iter()
                .map(|(name, _)| format!("CAST(SUM({name}) AS BIGINT) AS {name}")),
        );
        format!(
            "SELECT {} FROM (SELECT {} FROM {} WHERE {conditions} GROUP BY {inner_groups}) \
             AS facts GROUP BY {outer_groups}",
            outer_columns.join(", "),
            inner_columns.join(", "),
            self.from(),
        )
    }

    /// The dimensions read from the facts (all but the supplier's), as columns `d<position>`.
    fn fact_dimensions(&self) -> Vec<String> {
        self.group_by
            .iter()
            .enumerate()
            .filter(|(_, dimension)| !is_supplier_dimension(dimension))
            .map(|(index, dimension)| format!("{} AS d{index}", self.dimension(*dimension)))
            .collect()
    }

    /// The row key over facts grouped per supplier: the supplier's dimensions read from `o`,
    /// the others from the facts' `d<position>` columns.
    fn supplier_key(&self) -> String {
        self.key(|index, dimension| {
            if is_supplier_dimension(&dimension) {
                self.dimension(dimension)
            } else {
                format!("d{index}")
            }
        })
    }

    /// The key naming a row: each dimension's value (`value` of its position and dimension
    /// says where it is read), as text, joined.
    fn key(&self, value: impl Fn(usize, Dimension) -> String) -> String {
        if self.group_by.is_empty() {
            return "''".to_owned();
        }
        self.group_by
            .iter()
            .enumerate()
            .map(|(index, dimension)| {
                let value = match dimension {
                    Dimension::FinancialYear => self.financial_year(&value(index, *dimension)),
                    _ => value(index, *dimension),
                };
                format!("COALESCE(CAST({value} AS TEXT), '')")
            })
            .collect::<Vec<_>>()
            .join(&format!(" || '{KEY_SEPARATOR}' || "))
    }

    /// The distinct suppliers of the facts per group and `step` (a number per fact, 0 if
    /// `None`): `key, step, supplier`. The supplier's own table is read once per supplier, not
    /// per fact: when every dimension is the supplier's, as a probe per supplier for any fact
    /// (by the index on the fact's supplier), else after the facts are grouped.
    pub(super) fn suppliers_sql(&self, step: Option<&str>) -> String {
        let key = self.supplier_key();
        let from = self.facts_joined();
        let conditions = all_of(&self.conditions);
        let supplier = self.fact.supplier();
        if step.is_none() && self.group_by.iter().all(is_supplier_dimension) {
            return format!(
                "SELECT {key} AS key, CAST(0 AS INTEGER) AS step, o.id AS supplier \
                 FROM organisations o WHERE {} AND EXISTS (SELECT 1 FROM {from} \
                 WHERE {supplier} = o.id AND {conditions})",
                all_of(&self.supplier_conditions)
            );
        }
        let step = step.unwrap_or("0");
        let mut inner_columns = self.fact_dimensions();
        inner_columns.push(format!("CAST({step} AS INTEGER) AS step"));
        inner_columns.push(format!("{supplier} AS supplier"));
        let mut outer = format!(
            "SELECT {key} AS key, step, supplier FROM (SELECT {} FROM {from} WHERE {conditions} \
             GROUP BY {}) AS facts",
            inner_columns.join(", "),
            positions(inner_columns.len()),
        );
        if self.needs_supplier {
            outer.push_str(&format!(
                " JOIN organisations o ON o.id = facts.supplier WHERE {}",
                all_of(&self.supplier_conditions)
            ));
        }
        outer.push_str(" GROUP BY 1, 2, 3");
        outer
    }

    pub(super) fn load<Row>(
        &self,
        connection: &mut DbConnection,
        sql: String,
    ) -> Result<Vec<Row>, StoreError>
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
