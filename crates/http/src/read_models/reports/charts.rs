//! The reports' `.svg` twins: the same rows as the JSON, drawn as bar charts (the crate
//! `catalyst-charts` draws; this module says what each report's chart shows).

use catalyst_charts::{BarChart, Reference, Series, Unit};

use super::payment_times;
use super::*;

/// What a value column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Measure {
    Money,
    Share,
    Days,
    Count,
}

/// One report's chart.
struct Design {
    title: &'static str,
    y_axis: &'static str,
    measure: Measure,
    /// The value columns drawn, with their names in the legend.
    columns: &'static [(&'static str, &'static str)],
    reference: Option<(f64, &'static str)>,
    /// The columns along the x axis and a series per row (the funnel's stages), instead of a
    /// group per row and a series per column.
    columns_along_x: bool,
}

fn design(report: &str) -> Option<Design> {
    Some(match report {
        "funding" => Design {
            title: "Funding: committed and paid",
            y_axis: "Money",
            measure: Measure::Money,
            columns: &[("committed", "Committed"), ("paid", "Paid")],
            reference: None,
            columns_along_x: false,
        },
        "sme-share" => Design {
            title: "SME share of awarded contracts",
            y_axis: "Share going to SMEs",
            measure: Measure::Share,
            columns: &[
                ("value_share", "Share of value"),
                ("contract_share", "Share of contracts"),
            ],
            reference: Some((report::SME_TARGET, "33% target")),
            columns_along_x: false,
        },
        "payment-times" => Design {
            title: "Payment times: invoice to payment",
            y_axis: "Days from invoice to payment",
            measure: Measure::Days,
            columns: &[("median_days", "Median"), ("p90_days", "90th percentile")],
            reference: Some((
                payment_times::PROMPT_DAYS as f64,
                "30 days (regulation 113)",
            )),
            columns_along_x: false,
        },
        "funnel" => Design {
            title: "Supplier funnel: from application to adoption",
            y_axis: "Suppliers",
            measure: Measure::Count,
            columns: &[
                ("suppliers_applied", "Applied"),
                ("contracted_phase_1", "Phase 1"),
                ("contracted_phase_2", "Phase 2"),
                ("trialled", "Trialled"),
                ("adopted", "Adopted"),
            ],
            reference: None,
            columns_along_x: true,
        },
        _ => return None,
    })
}

/// The SVG answer to a report's `.svg` path.
pub(super) fn respond(report: &str, asked: &Asked, rows: &[Row]) -> Result<HttpResponse, ApiError> {
    let Some(design) = design(report) else {
        return Err(ApiError::NotAcceptable(format!(
            "the {report} report has no chart"
        )));
    };
    let svg = chart(&design, asked, rows).to_svg().map_err(|error| {
        tracing::error!(report, %error, "drawing a report chart failed");
        ApiError::Internal
    })?;
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml; charset=utf-8")
        .body(svg))
}

fn chart(design: &Design, asked: &Asked, rows: &[Row]) -> BarChart {
    let (currency, rows, left_out) = one_currency(design, rows);
    let unit = match design.measure {
        Measure::Money => Unit::Money {
            currency: currency.clone(),
        },
        Measure::Share => Unit::Share,
        Measure::Days => Unit::Days,
        Measure::Count => Unit::Count,
    };
    let mut subtitle = subtitle(asked);
    if !left_out.is_empty() {
        subtitle.push_str(&format!(
            "; {currency} only (also in {}: see the JSON or CSV)",
            left_out.join(", ")
        ));
    }
    let labels: Vec<String> = rows.iter().map(|row| group_label(asked, row)).collect();
    let value = |row: &Row, column: &str| {
        row.0
            .iter()
            .find(|(name, _)| name == column)
            .and_then(|(_, cell)| number(cell))
    };
    let grouping = humane(&asked.group_names.join(" and "));
    let (x_axis, groups, series) = if design.columns_along_x {
        let groups = design
            .columns
            .iter()
            .map(|(_, legend)| (*legend).to_owned())
            .collect();
        let series = rows
            .iter()
            .zip(&labels)
            .map(|(row, label)| Series {
                name: label.clone(),
                values: design
                    .columns
                    .iter()
                    .map(|(column, _)| value(row, column))
                    .collect(),
            })
            .collect();
        ("Stage".to_owned(), groups, series)
    } else {
        let series = design
            .columns
            .iter()
            .map(|(column, legend)| Series {
                name: (*legend).to_owned(),
                values: rows.iter().map(|row| value(row, column)).collect(),
            })
            .collect();
        (grouping, labels, series)
    };
    BarChart {
        title: design.title.to_owned(),
        subtitle,
        x_axis,
        y_axis: match &unit {
            Unit::Money { currency } => format!("{} ({currency})", design.y_axis),
            _ => design.y_axis.to_owned(),
        },
        unit,
        groups,
        series,
        reference: design.reference.map(|(value, label)| Reference {
            value,
            label: label.to_owned(),
        }),
    }
}

/// Money in different currencies cannot share an axis: the chart keeps one (GBP when there is
/// any, else the first) and names the others.
fn one_currency<'a>(design: &Design, rows: &'a [Row]) -> (String, Vec<&'a Row>, Vec<String>) {
    let currency_of = |row: &Row| {
        row.0
            .iter()
            .find_map(|(name, cell)| match (name.as_str(), cell) {
                ("currency", Cell::Text(Some(currency))) => Some(currency.clone()),
                _ => None,
            })
    };
    let mut currencies: Vec<String> = rows.iter().filter_map(currency_of).collect();
    currencies.sort();
    currencies.dedup();
    if currencies.len() <= 1 || design.measure != Measure::Money {
        let currency = currencies.pop().unwrap_or_else(|| "GBP".to_owned());
        return (currency, rows.iter().collect(), Vec::new());
    }
    let kept = if currencies.iter().any(|currency| currency == "GBP") {
        "GBP".to_owned()
    } else {
        currencies[0].clone()
    };
    let kept_rows = rows
        .iter()
        .filter(|row| currency_of(row).as_deref() == Some(kept.as_str()))
        .collect();
    currencies.retain(|currency| *currency != kept);
    (kept, kept_rows, currencies)
}

/// A row's name: its groups' names (not their ids), joined.
fn group_label(asked: &Asked, row: &Row) -> String {
    let shown: Vec<String> = dimension_columns(&asked.group_by)
        .into_iter()
        .filter(|column| !column.ends_with("_id"))
        .collect();
    let parts: Vec<String> = row
        .0
        .iter()
        .filter(|(name, _)| shown.contains(name))
        .map(|(_, cell)| match cell {
            Cell::Text(Some(text)) => text.replace('_', " "),
            _ => "not recorded".to_owned(),
        })
        .collect();
    if parts.is_empty() {
        "All".to_owned()
    } else {
        parts.join(" · ")
    }
}

fn number(cell: &Cell) -> Option<f64> {
    match cell {
        // Minor units to major: every currency the API takes has two decimals.
        Cell::Money(minor, _) => Some(*minor as f64 / 100.0),
        Cell::Count(count) | Cell::Whole(Some(count)) => Some(*count as f64),
        Cell::Ratio(value) => *value,
        Cell::Text(_) | Cell::Whole(None) | Cell::Flag(_) => None,
    }
}

/// What the figures cover, in words: the grouping and the filters asked.
fn subtitle(asked: &Asked) -> String {
    let grouping = if asked.group_names.is_empty() {
        "All together".to_owned()
    } else {
        format!(
            "By {}",
            asked
                .group_names
                .iter()
                .map(|name| humane(name).to_lowercase())
                .collect::<Vec<_>>()
                .join(" and ")
        )
    };
    if asked.applied.is_empty() {
        return format!("{grouping}; everything you may see");
    }
    let filters: Vec<String> = asked
        .applied
        .iter()
        .map(|(name, value)| format!("{} {value}", humane(name).to_lowercase()))
        .collect();
    format!("{grouping}; {}", filters.join(", "))
}

/// `financial_year` as `Financial year`.
fn humane(name: &str) -> String {
    let spaced = name.replace('_', " ");
    let mut letters = spaced.chars();
    match letters.next() {
        Some(first) => first.to_uppercase().chain(letters).collect(),
        None => spaced,
    }
}
