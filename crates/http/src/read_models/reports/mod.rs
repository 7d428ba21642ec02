//! `/api/v1/reports/{funding,sme-share,pipeline,trials,payment-times,funnel}`: the figures programme managers script
//! against, as JSON or CSV, filtered by programme, owner, region, dates or financial year and
//! grouped as asked. Each report sums facts (domain `report`), so its totals are the sums of
//! its rows.

use std::collections::{BTreeMap, HashMap, HashSet};

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use catalyst_domain::report::{self, median, ratio, Dimension, Figures, FinancialYear, Grouped};
use catalyst_domain::{Actor, Role, Scope};
use catalyst_persistence::reports::{self as store, AwardFact, Labels, ReportFilter};
use chrono::NaiveDate;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::extract::accept::{negotiate, varies_by_accept};
use crate::extract::query::QueryParams;
use crate::problem::{ApiError, ProblemItem};
use crate::server::state::AppState;

pub const TAG: &str = "reports";

/// The parameters every report takes; `format` last (the `.csv` paths take the others).
const COMMON_PARAMETERS: [&str; 8] = [
    "programme_id",
    "owner_id",
    "region",
    "from",
    "to",
    "financial_year",
    "group_by",
    "format",
];

/// A parsed report request.
#[derive(Debug, Clone)]
struct Asked {
    filter: ReportFilter,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    group_by: Vec<Dimension>,
    group_names: Vec<String>,
    format: Format,
    applied: BTreeMap<String, String>,
}

/// What a report answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Csv,
    /// A bar chart (the `.svg` paths).
    Svg,
}

impl Asked {
    fn period(&self) -> store::Period {
        store::Period {
            from: self.from,
            to: self.to,
        }
    }

    fn covers(&self, day: NaiveDate) -> bool {
        self.from.is_none_or(|from| day >= from) && self.to.is_none_or(|to| day <= to)
    }
}

/// Who may run reports: programme staff (every body's figures), authority officers (their own
/// bodies' challenges and trials), and API clients with the `reports` scope (as their
/// organisations allow). `None`: every owner.
fn owners_in_scope(actor: &Actor) -> Result<Option<Vec<String>>, ApiError> {
    let ids = |organisations: Vec<catalyst_domain::OrganisationId>| {
        organisations.iter().map(ToString::to_string).collect()
    };
    match actor {
        Actor::Anonymous => Err(catalyst_domain::Denied::Unauthenticated.into()),
        Actor::Client {
            organisations,
            scopes,
            ..
        } => {
            if !scopes.contains(&Scope::Reports) {
                return Err(ApiError::Forbidden(
                    "reports need an API client with the reports scope".to_owned(),
                ));
            }
            Ok(organisations.clone().map(ids))
        }
        _ if actor.is_admin() || actor.has_role(Role::ProgrammeManager) => Ok(None),
        _ if actor.has_role(Role::AuthorityOfficer) => Ok(Some(ids(actor.member_organisations()))),
        _ => Err(ApiError::Forbidden(
            "reports are for programme staff, authority officers (their own bodies) and API clients with the reports scope".to_owned(),
        )),
    }
}

fn invalid(name: &str, code: &str, detail: impl Into<String>) -> ProblemItem {
    ProblemItem::parameter(name, code, detail)
}

/// What a report may be grouped by, and by what when the request does not say.
pub struct Grouping {
    /// The report's path under `/api/v1`.
    pub path: &'static str,
    pub dimensions: &'static [&'static str],
    pub default: &'static [&'static str],
}

pub const FUNDING: Grouping = Grouping {
    path: "/reports/funding",
    dimensions: &[
        "programme",
        "challenge",
        "phase",
        "owner",
        "region",
        "supplier_scale",
        "financial_year",
    ],
    default: &["financial_year"],
};

pub const SME_SHARE: Grouping = Grouping {
    path: "/reports/sme-share",
    dimensions: &["owner", "financial_year", "programme"],
    default: &["owner", "financial_year"],
};

pub const PIPELINE: Grouping = Grouping {
    path: "/reports/pipeline",
    dimensions: &["phase", "programme", "challenge", "owner"],
    default: &["phase"],
};

pub const PAYMENT_TIMES: Grouping = Grouping {
    path: "/reports/payment-times",
    dimensions: &[
        "owner",
        "programme",
        "supplier_scale",
        "region",
        "financial_year",
    ],
    default: &["financial_year"],
};

pub const FUNNEL: Grouping = Grouping {
    path: "/reports/funnel",
    dimensions: &["supplier_scale", "programme", "owner"],
    default: &["supplier_scale"],
};

pub const TRIALS: Grouping = Grouping {
    path: "/reports/trials",
    dimensions: &[
        "status",
        "result",
        "host",
        "owner",
        "programme",
        "financial_year",
    ],
    default: &["status"],
};

/// Every report's grouping, for the OpenAPI document's `group_by` patterns.
pub const GROUPINGS: [Grouping; 6] = [FUNDING, SME_SHARE, PIPELINE, TRIALS, PAYMENT_TIMES, FUNNEL];

/// Reads the common parameters; `dimensions` are those this report groups by.
fn ask(request: &HttpRequest, actor: &Actor, grouping: &Grouping) -> Result<Asked, ApiError> {
    let (dimensions, default_group) = (grouping.dimensions, grouping.default);
    // A `.csv` or `.svg` path names its format: no `format` parameter, and no negotiation.
    let named = if request.path().ends_with(".csv") {
        Some(Format::Csv)
    } else if request.path().ends_with(".svg") {
        Some(Format::Svg)
    } else {
        None
    };
    let accepted = if named.is_some() {
        &COMMON_PARAMETERS[..COMMON_PARAMETERS.len() - 1]
    } else {
        &COMMON_PARAMETERS[..]
    };
    let params = QueryParams::parse(request, accepted)?;
    let in_scope = owners_in_scope(actor)?;
    let mut errors = Vec::new();
    let mut applied = BTreeMap::new();
    let mut id = |name: &str, errors: &mut Vec<ProblemItem>| {
        let value = params.get(name)?;
        if uuid::Uuid::parse_str(value).is_err() {
            errors.push(invalid(
                name,
                "invalid_id",
                format!("{name} must be a UUID"),
            ));
            return None;
        }
        applied.insert(name.to_owned(), value.to_owned());
        Some(value.to_lowercase())
    };
    let programme_id = id("programme_id", &mut errors);
    let owner = id("owner_id", &mut errors);
    let mut day = |name: &str, errors: &mut Vec<ProblemItem>| {
        let value = params.get(name)?;
        match NaiveDate::parse_from_str(value, "%Y-%m-%d") {
            Ok(day) => {
                applied.insert(name.to_owned(), value.to_owned());
                Some(day)
            }
            Err(_) => {
                errors.push(invalid(
                    name,
                    "invalid_date",
                    format!("{name} must be a date, YYYY-MM-DD"),
                ));
                None
            }
        }
    };
    let mut from = day("from", &mut errors);
    let mut to = day("to", &mut errors);
    if let Some(text) = params.get("financial_year") {
        match FinancialYear::parse(text) {
            Ok(year) => {
                applied.insert("financial_year".to_owned(), year.to_string());
                from = Some(from.map_or(year.first_day(), |day| day.max(year.first_day())));
                to = Some(to.map_or(year.last_day(), |day| day.min(year.last_day())));
            }
            Err(detail) => errors.push(invalid("financial_year", "invalid_financial_year", detail)),
        }
    }
    let region = match params.get("region") {
        Some(text) => match text.parse::<catalyst_domain::Region>() {
            Ok(region) => {
                applied.insert("region".to_owned(), region.as_str().to_owned());
                Some(region.as_str().to_owned())
            }
            Err(error) => {
                errors.push(invalid("region", "invalid_value", error.to_string()));
                None
            }
        },
        None => None,
    };
    let names: Vec<String> = match params.get("group_by") {
        Some(text) => text
            .split(',')
            .map(|name| name.trim().to_owned())
            .filter(|name| !name.is_empty())
            .collect(),
        None => default_group
            .iter()
            .map(|name| (*name).to_owned())
            .collect(),
    };
    let mut group_by = Vec::new();
    let mut group_names = Vec::new();
    for name in &names {
        match Dimension::parse(name).filter(|_| dimensions.contains(&name.as_str())) {
            // Named twice is the same as named once (as with `sort`).
            Some(dimension) => {
                if !group_by.contains(&dimension) {
                    group_by.push(dimension);
                    group_names.push(name.clone());
                }
            }
            None => errors.push(invalid(
                "group_by",
                "unknown_dimension",
                format!(
                    "this report groups by {}, not {name:?}",
                    dimensions.join(", ")
                ),
            )),
        }
    }
    let format = match (named, params.get("format")) {
        (Some(format), _) => format,
        (None, Some("csv")) => Format::Csv,
        (None, Some("json")) => Format::Json,
        (None, Some(other)) => {
            errors.push(invalid(
                "format",
                "unknown_format",
                format!("format must be json or csv, got {other:?}"),
            ));
            Format::Json
        }
        (None, None) => match negotiate(request.headers(), &["application/json", "text/csv"])? {
            "text/csv" => Format::Csv,
            _ => Format::Json,
        },
    };
    // A period that ends before it starts (`to` before `from`, or `from` after the end of
    // `financial_year`) holds no day: the report is empty, as a search with no match is.
    if !errors.is_empty() {
        return Err(ApiError::InvalidQuery(errors));
    }
    let owners = match (in_scope, owner) {
        (None, None) => None,
        (None, Some(owner)) => Some(vec![owner]),
        (Some(allowed), None) => Some(allowed),
        // Outside the caller's bodies: nothing to report, rather than a hint that it exists.
        (Some(allowed), Some(owner)) => {
            Some(allowed.into_iter().filter(|id| id == &owner).collect())
        }
    };
    Ok(Asked {
        filter: ReportFilter {
            programme_id,
            owners,
            supplier_region: region,
        },
        from,
        to,
        group_by,
        group_names,
        format,
        applied,
    })
}

/// One value of a report row.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Text(Option<String>),
    Count(i64),
    /// A whole number that may be unknown (a percentile of no values).
    Whole(Option<i64>),
    /// Minor units and currency.
    Money(i64, String),
    Ratio(Option<f64>),
    Flag(Option<bool>),
}

impl Cell {
    fn csv(&self) -> String {
        match self {
            Cell::Text(Some(text)) => crate::read_models::exports::text_cell(text),
            Cell::Text(None) | Cell::Ratio(None) | Cell::Flag(None) | Cell::Whole(None) => {
                String::new()
            }
            Cell::Count(count) | Cell::Whole(Some(count)) => count.to_string(),
            // Spreadsheets read pounds and pence as a number.
            Cell::Money(minor, _) => catalyst_domain::money::decimal(*minor),
            Cell::Ratio(Some(value)) => value.to_string(),
            Cell::Flag(Some(flag)) => flag.to_string(),
        }
    }
}

/// A row: named cells in column order.
#[derive(Debug, Clone, Default)]
struct Row(Vec<(String, Cell)>);

impl Row {
    fn push(&mut self, name: &str, cell: Cell) {
        self.0.push((name.to_owned(), cell));
    }
}

impl Serialize for Row {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, cell) in &self.0 {
            match cell {
                Cell::Text(text) => map.serialize_entry(name, text)?,
                Cell::Count(count) => map.serialize_entry(name, count)?,
                Cell::Whole(value) => map.serialize_entry(name, value)?,
                Cell::Money(minor, currency) => map.serialize_entry(
                    name,
                    &serde_json::json!({"amount": minor, "currency": currency}),
                )?,
                Cell::Ratio(value) => map.serialize_entry(name, value)?,
                Cell::Flag(flag) => map.serialize_entry(name, flag)?,
            }
        }
        map.end()
    }
}

/// A report as JSON: its rows, and totals that are the sums of the rows.
#[derive(Debug, Serialize, ToSchema)]
pub struct Report {
    /// `funding`, `sme-share`, `pipeline`, `trials`, `payment-times` or `funnel`.
    pub report: String,
    /// The dimensions of each row, in order.
    pub group_by: Vec<String>,
    /// The filters applied, normalised (a financial year as `2019-20`).
    #[schema(value_type = Object)]
    pub filters: BTreeMap<String, String>,
    /// One object per group: its dimensions (ids and names), then its figures. Money is
    /// `{amount, currency}` in minor units.
    #[schema(value_type = Vec<Object>)]
    rows: Vec<Row>,
    /// The figures over every row (one per currency where money is summed).
    #[schema(value_type = Vec<Object>)]
    totals: Vec<Row>,
}

fn respond(
    name: &str,
    asked: &Asked,
    columns: &[String],
    rows: Vec<Row>,
    totals: Vec<Row>,
) -> Result<HttpResponse, ApiError> {
    if asked.format == Format::Svg {
        return charts::respond(name, asked, &rows);
    }
    if asked.format == Format::Csv {
        let mut body = columns
            .iter()
            .map(|column| crate::read_models::exports::text_cell(column))
            .collect::<Vec<_>>()
            .join(",");
        body.push_str("\r\n");
        for row in &rows {
            let cells: Vec<String> = row.0.iter().map(|(_, cell)| cell.csv()).collect();
            body.push_str(&cells.join(","));
            body.push_str("\r\n");
        }
        return Ok(varies_by_accept(&mut HttpResponse::Ok())
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.csv\""),
            ))
            .body(body));
    }
    Ok(varies_by_accept(&mut HttpResponse::Ok()).json(Report {
        report: name.to_owned(),
        group_by: asked.group_names.clone(),
        filters: asked.applied.clone(),
        rows,
        totals,
    }))
}

/// What a fact is filed under, for each dimension asked (none by default).
#[derive(Default, Clone, Copy)]
struct Place<'a> {
    programme: Option<&'a str>,
    challenge: Option<&'a str>,
    phase: Option<&'a str>,
    phase_number: Option<i32>,
    owner: Option<&'a str>,
    region: Option<&'a str>,
    scale: Option<&'a str>,
    day: Option<NaiveDate>,
    status: Option<&'a str>,
    result: Option<&'a str>,
}

impl<'a> Place<'a> {
    fn of_award(award: &'a AwardFact, day: NaiveDate) -> Self {
        Place {
            programme: Some(&award.programme_id),
            challenge: Some(&award.challenge_id),
            phase: Some(&award.phase_id),
            phase_number: Some(award.phase_number),
            owner: Some(&award.owner_id),
            region: award.supplier_region.as_deref(),
            scale: award.supplier_scale.as_deref(),
            day: Some(day),
            status: Some(&award.status),
            result: None,
        }
    }

    fn key(&self, group_by: &[Dimension], currency: Option<&str>) -> Vec<String> {
        let text = |value: Option<&str>| value.unwrap_or("").to_owned();
        let mut key: Vec<String> = group_by
            .iter()
            .map(|dimension| match dimension {
                Dimension::Programme => text(self.programme),
                Dimension::Challenge => text(self.challenge),
                Dimension::Phase => text(self.phase),
                Dimension::PhaseNumber => self
                    .phase_number
                    .map(|number| number.to_string())
                    .unwrap_or_default(),
                Dimension::Owner => text(self.owner),
                Dimension::Region => text(self.region),
                Dimension::SupplierScale => text(self.scale),
                Dimension::FinancialYear => self
                    .day
                    .map(|day| FinancialYear::of(day).to_string())
                    .unwrap_or_default(),
                Dimension::Status => text(self.status),
                Dimension::Result => text(self.result),
            })
            .collect();
        if let Some(currency) = currency {
            key.push(currency.to_owned());
        }
        key
    }
}

/// The columns that name a row's group.
fn dimension_columns(group_by: &[Dimension]) -> Vec<String> {
    let mut columns = Vec::new();
    for dimension in group_by {
        let names: &[&str] = match dimension {
            Dimension::Programme => &["programme_id", "programme"],
            Dimension::Challenge => &["challenge_id", "challenge"],
            Dimension::Phase => &["phase_id", "phase"],
            Dimension::PhaseNumber => &["phase"],
            Dimension::Owner => &["owner_id", "owner"],
            Dimension::Region => &["region"],
            Dimension::SupplierScale => &["supplier_scale"],
            Dimension::FinancialYear => &["financial_year"],
            Dimension::Status => &["status"],
            Dimension::Result => &["result"],
        };
        columns.extend(names.iter().map(|name| (*name).to_owned()));
    }
    columns
}

/// The cells that name a row's group (ids with their names).
fn dimension_cells(group_by: &[Dimension], key: &[String], labels: &Labels) -> Row {
    let mut row = Row::default();
    let named = |value: &str| (!value.is_empty()).then(|| value.to_owned());
    for (dimension, value) in group_by.iter().zip(key) {
        let label = |names: &HashMap<String, String>| Cell::Text(names.get(value).cloned());
        match dimension {
            Dimension::Programme => {
                row.push("programme_id", Cell::Text(named(value)));
                row.push("programme", label(&labels.programmes));
            }
            Dimension::Challenge => {
                row.push("challenge_id", Cell::Text(named(value)));
                row.push("challenge", label(&labels.challenges));
            }
            Dimension::Phase => {
                row.push("phase_id", Cell::Text(named(value)));
                let name = labels.phases.get(value).map(|(challenge, number)| {
                    let reference = labels
                        .challenges
                        .get(challenge)
                        .cloned()
                        .unwrap_or_default();
                    format!("{reference} phase {number}")
                });
                row.push("phase", Cell::Text(name));
            }
            Dimension::PhaseNumber => row.push("phase", Cell::Text(named(value))),
            Dimension::Owner => {
                row.push("owner_id", Cell::Text(named(value)));
                row.push("owner", label(&labels.organisations));
            }
            Dimension::Region => row.push("region", Cell::Text(named(value))),
            Dimension::SupplierScale => row.push("supplier_scale", Cell::Text(named(value))),
            Dimension::FinancialYear => row.push("financial_year", Cell::Text(named(value))),
            Dimension::Status => row.push("status", Cell::Text(named(value))),
            Dimension::Result => row.push("result", Cell::Text(named(value))),
        }
    }
    row
}

/// Names for the ids in the keys of `rows`.
fn labels_for<F>(
    connection: &mut catalyst_persistence::DbConnection,
    group_by: &[Dimension],
    grouped: &Grouped<F>,
) -> Result<Labels, ApiError> {
    let mut programmes = HashSet::new();
    let mut challenges = HashSet::new();
    let mut organisations = HashSet::new();
    let mut phases = HashSet::new();
    for key in grouped.rows.keys() {
        for (dimension, value) in group_by.iter().zip(key) {
            match dimension {
                Dimension::Programme => {
                    programmes.insert(value.clone());
                }
                Dimension::Challenge => {
                    challenges.insert(value.clone());
                }
                Dimension::Phase => {
                    phases.insert(value.clone());
                }
                Dimension::Owner => {
                    organisations.insert(value.clone());
                }
                _ => {}
            }
        }
    }
    let list = |set: HashSet<String>| set.into_iter().collect::<Vec<_>>();
    Ok(store::labels(
        connection,
        &list(programmes),
        &list(challenges),
        &list(organisations),
        &list(phases),
    )?)
}

/// Whether a report's keys end with a currency (money is summed per currency).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Money {
    ByCurrency,
    None,
}

type Table = (Vec<String>, Vec<Row>, Vec<Row>);

/// A grouped report's columns, rows (named dimensions, then figures) and totals (one per
/// currency, or one).
fn tabulate<F: Figures>(
    connection: &mut catalyst_persistence::DbConnection,
    asked: &Asked,
    grouped: &Grouped<F>,
    figure_columns: &[&str],
    money: Money,
    cells: impl Fn(&F, &mut Row, &str),
) -> Result<Table, ApiError> {
    let labels = labels_for(connection, &asked.group_by, grouped)?;
    let mut columns = dimension_columns(&asked.group_by);
    columns.extend(figure_columns.iter().map(|column| (*column).to_owned()));
    let rows = grouped
        .rows
        .iter()
        .map(|(key, figures)| {
            let (currency, dimensions) = match (money, key.split_last()) {
                (Money::ByCurrency, Some((currency, dimensions))) => {
                    (currency.as_str(), dimensions)
                }
                _ => ("", key.as_slice()),
            };
            let mut row = dimension_cells(&asked.group_by, dimensions, &labels);
            cells(figures, &mut row, currency);
            row
        })
        .collect();
    let totals = match money {
        Money::ByCurrency => by_currency(grouped)
            .into_iter()
            .map(|(currency, figures)| {
                let mut row = Row::default();
                cells(&figures, &mut row, &currency);
                row
            })
            .collect(),
        Money::None => {
            let mut row = Row::default();
            cells(&grouped.total(), &mut row, "");
            vec![row]
        }
    };
    Ok((columns, rows, totals))
}

/// Contracts (awards) that stand: a terminated award commits nothing more than it paid.
fn stands(award: &AwardFact) -> bool {
    award.status != "terminated"
}

/// A group's key with its currency last (money is summed per currency).
fn keyed(mut key: Vec<String>, currency: String) -> Vec<String> {
    key.push(currency);
    key
}

/// The sums of rows whose last key part is a currency, per currency.
fn by_currency<F: Figures>(grouped: &Grouped<F>) -> BTreeMap<String, F> {
    let mut totals: BTreeMap<String, F> = BTreeMap::new();
    for (key, figures) in &grouped.rows {
        if let Some(currency) = key.last() {
            totals.entry(currency.clone()).or_default().add(figures);
        }
    }
    totals
}

#[macro_use]
mod endpoints;
use endpoints::{ReportFormat, ReportParams};

mod charts;
mod funding;
mod funnel;
mod payment_times;
mod pipeline;
mod sme_share;
mod trials;

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config
        .configure(funding::routes)
        .configure(sme_share::routes)
        .configure(pipeline::routes)
        .configure(trials::routes)
        .configure(payment_times::routes)
        .configure(funnel::routes);
}
