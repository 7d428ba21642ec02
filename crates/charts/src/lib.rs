//! Report figures as SVG bar charts: grouped bars, a value over each bar, an optional reference
//! line (a target or a legal limit), and a legend. Series differ by fill pattern as well as by
//! colour, so a chart printed in grey or read by someone who does not tell the colours apart
//! still says which bar is which; `<title>` and `<desc>` carry the figures for screen readers.
//!
//! Pure: figures in, SVG text out. The http crate turns a report's rows into a [`BarChart`].

use std::fmt::Write as _;

use plotters::coord::types::RangedCoordf64;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

const WIDTH: u32 = 880;
const HEIGHT: u32 = 520;
const HEADER: u32 = 96;
const FONT: &str = "sans-serif";
/// More groups than this would draw bars too thin to read: the chart shows the first ones and
/// says so.
pub const MOST_GROUPS: usize = 40;
/// Values are written over the bars while there are at most this many.
const MOST_LABELLED_BARS: usize = 36;

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("drawing the chart failed: {0}")]
    Drawing(String),
    #[error("series {series:?} has {got} values for {expected} groups")]
    Shape {
        series: String,
        got: usize,
        expected: usize,
    },
}

/// What the values measure, which decides how they are written.
#[derive(Debug, Clone, PartialEq)]
pub enum Unit {
    /// Major units (pounds) of an ISO 4217 currency.
    Money {
        currency: String,
    },
    /// A fraction, written as a percentage.
    Share,
    Days,
    Count,
}

impl Unit {
    /// A value as written over a bar and in the description: `£1.25m`, `34%`, `41 days`, `12`.
    pub fn format(&self, value: f64) -> String {
        match self {
            Unit::Money { currency } => {
                let symbol = match currency.as_str() {
                    "GBP" => "£".to_owned(),
                    "EUR" => "€".to_owned(),
                    "USD" => "$".to_owned(),
                    other => format!("{other} "),
                };
                let size = value.abs();
                if size >= 999_500.0 {
                    format!("{symbol}{}m", trimmed(value / 1_000_000.0, 2))
                } else if size >= 1_000.0 {
                    format!("{symbol}{}k", trimmed(value / 1_000.0, 1))
                } else {
                    format!("{symbol}{}", trimmed(value, 2))
                }
            }
            Unit::Share => format!("{}%", trimmed(value * 100.0, 1)),
            Unit::Days if (value - 1.0).abs() < f64::EPSILON => "1 day".to_owned(),
            Unit::Days => format!("{} days", trimmed(value, 1)),
            Unit::Count => trimmed(value, 0),
        }
    }

    /// A value on the axis: the same, without the word `days`.
    fn tick(&self, value: f64) -> String {
        match self {
            Unit::Days => trimmed(value, 0),
            other => other.format(value),
        }
    }
}

/// `value` with at most `places` decimals and no trailing zeros.
fn trimmed(value: f64, places: usize) -> String {
    let text = format!("{value:.places$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

/// One kind of bar: a value per group (`None`: not known, such as a median of nothing).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
}

/// A horizontal line that the bars are read against.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    pub value: f64,
    pub label: String,
}

/// Groups along the x axis, a bar per series in each.
#[derive(Debug, Clone, PartialEq)]
pub struct BarChart {
    pub title: String,
    /// What the figures cover (the filters asked), under the title.
    pub subtitle: String,
    pub x_axis: String,
    pub y_axis: String,
    pub unit: Unit,
    pub groups: Vec<String>,
    pub series: Vec<Series>,
    pub reference: Option<Reference>,
}

/// How a series' bars are filled: colour (Okabe and Ito's palette, safe for colour-blind
/// readers) and a pattern that tells them apart in grey.
#[derive(Debug, Clone, Copy)]
enum Pattern {
    Solid,
    VerticalStripes,
    Outline,
    HorizontalStripes,
    Crossed,
}

const PATTERNS: [(Pattern, RGBColor); 5] = [
    (Pattern::Solid, RGBColor(0, 114, 178)),
    (Pattern::VerticalStripes, RGBColor(213, 94, 0)),
    (Pattern::Outline, RGBColor(0, 158, 115)),
    (Pattern::HorizontalStripes, RGBColor(204, 121, 167)),
    (Pattern::Crossed, RGBColor(86, 80, 20)),
];

impl BarChart {
    /// The chart as an SVG document.
    pub fn to_svg(&self) -> Result<String, ChartError> {
        for series in &self.series {
            if series.values.len() != self.groups.len() {
                return Err(ChartError::Shape {
                    series: series.name.clone(),
                    got: series.values.len(),
                    expected: self.groups.len(),
                });
            }
        }
        let shown = self.groups.len().min(MOST_GROUPS);
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
            self.draw(&root, shown).map_err(drawing)?;
            root.present().map_err(drawing)?;
        }
        Ok(self.with_text_alternative(&svg, shown))
    }

    fn draw(
        &self,
        root: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
        shown: usize,
    ) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
        root.fill(&WHITE)?;
        let (header, body) = root.split_vertically(HEADER);
        header.draw(&Text::new(
            self.title.clone(),
            (20, 14),
            (FONT, 28).into_font().style(FontStyle::Bold).color(&BLACK),
        ))?;
        let mut subtitle = self.subtitle.clone();
        if shown < self.groups.len() {
            let _ = write!(
                subtitle,
                " (the first {shown} of {} groups)",
                self.groups.len()
            );
        }
        header.draw(&Text::new(
            subtitle,
            (20, 44),
            (FONT, 18).into_font().color(&RGBColor(60, 60, 60)),
        ))?;
        self.draw_legend(&header)?;

        let ceiling = self.ceiling(shown);
        let mut chart = ChartBuilder::on(&body)
            .margin_left(16)
            .margin_right(28)
            .margin_bottom(12)
            .x_label_area_size(56)
            .y_label_area_size(84)
            .build_cartesian_2d(0f64..shown.max(1) as f64, 0f64..ceiling)?;
        let tick = |value: &f64| self.unit.tick(*value);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_labels(self.tick_count(ceiling))
            .y_label_formatter(&tick)
            .y_desc(self.y_axis.as_str())
            .x_desc(self.x_axis.as_str())
            .axis_desc_style((FONT, 17))
            .label_style((FONT, 15))
            .max_light_lines(1)
            .light_line_style(RGBColor(240, 240, 240))
            .bold_line_style(RGBColor(215, 215, 215))
            .draw()?;

        let plot_width = f64::from(WIDTH - 16 - 28 - 84);
        let chars = ((plot_width / shown.max(1) as f64) / 8.5).floor().max(3.0) as usize;
        for (index, group) in self.groups.iter().take(shown).enumerate() {
            chart.plotting_area().draw(
                &(EmptyElement::at((index as f64 + 0.5, 0.0))
                    + Text::new(
                        shortened(group, chars),
                        (0, 8),
                        TextStyle::from((FONT, 15).into_font())
                            .pos(Pos::new(HPos::Center, VPos::Top)),
                    )),
            )?;
        }
        if shown == 0 || self.series.is_empty() {
            chart.plotting_area().draw(&Text::new(
                "No figures for this selection",
                (0.5, ceiling / 2.0),
                TextStyle::from((FONT, 18).into_font()).pos(Pos::new(HPos::Center, VPos::Center)),
            ))?;
        }

        let group_width = 0.8;
        let bar_width = group_width / self.series.len().max(1) as f64;
        // Written after the reference line, so that it never hides a value.
        let mut labels = Vec::new();
        for (number, series) in self.series.iter().enumerate() {
            let (pattern, colour) = PATTERNS[number % PATTERNS.len()];
            for (index, value) in series.values.iter().take(shown).enumerate() {
                let left = index as f64 + (1.0 - group_width) / 2.0 + number as f64 * bar_width;
                let right = left + bar_width * 0.92;
                let centre = (left + right) / 2.0;
                match value {
                    Some(value) => {
                        let top = value.max(0.0);
                        draw_bar(&mut chart, (left, right), top, ceiling, pattern, colour)?;
                        labels.push(((centre, top), self.unit.format(*value), BLACK));
                    }
                    None => labels.push(((centre, 0.0), "n/a".to_owned(), RGBColor(90, 90, 90))),
                }
            }
        }

        if let Some(reference) = &self.reference {
            let end = shown.max(1) as f64;
            chart.plotting_area().draw(&DashedPathElement::new(
                vec![(0.0, reference.value), (end, reference.value)],
                8,
                5,
                BLACK.stroke_width(2),
            ))?;
            chart.plotting_area().draw(
                &(EmptyElement::at((end, reference.value))
                    + Text::new(
                        reference.label.clone(),
                        (-6, -6),
                        TextStyle::from((FONT, 16).into_font().style(FontStyle::Bold))
                            .pos(Pos::new(HPos::Right, VPos::Bottom)),
                    )),
            )?;
        }

        if labels.len() <= MOST_LABELLED_BARS {
            for (at, text, colour) in labels {
                chart.plotting_area().draw(
                    &(EmptyElement::at(at)
                        + Text::new(
                            text,
                            (0, -4),
                            TextStyle::from((FONT, 14).into_font())
                                .color(&colour)
                                .pos(Pos::new(HPos::Center, VPos::Bottom)),
                        )),
                )?;
            }
        }
        Ok(())
    }

    fn draw_legend(
        &self,
        header: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    ) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
        let mut x = 20;
        let y = 68;
        for (number, series) in self.series.iter().enumerate() {
            let (pattern, colour) = PATTERNS[number % PATTERNS.len()];
            let swatch = header.clone().shrink((x, y), (18, 18));
            let mut area = ChartBuilder::on(&swatch).build_cartesian_2d(0f64..1.0, 0f64..1.0)?;
            draw_bar(&mut area, (0.0, 1.0), 1.0, 1.0, pattern, colour)?;
            header.draw(&Text::new(
                series.name.clone(),
                (x + 24, y + 2),
                (FONT, 17).into_font(),
            ))?;
            x += 24 + i32::try_from(series.name.chars().count()).unwrap_or(40) * 8 + 24;
        }
        if let Some(reference) = &self.reference {
            header.draw(&DashedPathElement::new(
                vec![(x, y + 9), (x + 28, y + 9)],
                6,
                4,
                BLACK.stroke_width(2),
            ))?;
            header.draw(&Text::new(
                reference.label.clone(),
                (x + 34, y + 2),
                (FONT, 17).into_font(),
            ))?;
        }
        Ok(())
    }

    /// Counts and days are ticked in whole numbers: no more ticks than whole numbers below the
    /// top (else a tick of 0.5 suppliers would be written `0`, beside the tick of 0).
    fn tick_count(&self, ceiling: f64) -> usize {
        match self.unit {
            Unit::Count | Unit::Days => (ceiling.floor() as usize + 1).clamp(2, 6),
            Unit::Money { .. } | Unit::Share => 6,
        }
    }

    /// The y axis' top: above the tallest bar and the reference line, with room for labels.
    fn ceiling(&self, shown: usize) -> f64 {
        let tallest = self
            .series
            .iter()
            .flat_map(|series| series.values.iter().take(shown).flatten())
            .chain(self.reference.as_ref().map(|reference| &reference.value))
            .fold(0.0_f64, |most, value| most.max(*value));
        match self.unit {
            _ if tallest > 0.0 => tallest * 1.18,
            Unit::Count | Unit::Days => 5.0,
            Unit::Money { .. } | Unit::Share => 1.0,
        }
    }

    /// Adds `role="img"`, `<title>` and a `<desc>` that states every figure drawn.
    fn with_text_alternative(&self, svg: &str, shown: usize) -> String {
        let mut description = format!("{}. {}.", self.title, self.subtitle);
        for (index, group) in self.groups.iter().take(shown).enumerate() {
            let _ = write!(description, " {group}:");
            for (number, series) in self.series.iter().enumerate() {
                let value = series.values[index]
                    .map_or_else(|| "not known".to_owned(), |value| self.unit.format(value));
                let separator = if number == 0 { "" } else { ";" };
                let _ = write!(description, "{separator} {} {value}", series.name);
            }
            description.push('.');
        }
        if let Some(reference) = &self.reference {
            let _ = write!(
                description,
                " Reference line: {} at {}.",
                reference.label,
                self.unit.format(reference.value)
            );
        }
        let alternative = format!(
            "<title id=\"chart-title\">{}</title><desc id=\"chart-desc\">{}</desc>",
            escaped(&self.title),
            escaped(&description)
        );
        match svg
            .find("<svg")
            .and_then(|start| svg[start..].find('>').map(|end| start + end))
        {
            Some(end) => format!(
                "{} role=\"img\" aria-labelledby=\"chart-title chart-desc\">{alternative}{}",
                &svg[..end],
                &svg[end + 1..]
            ),
            None => svg.to_owned(),
        }
    }
}

fn draw_bar<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    (left, right): (f64, f64),
    top: f64,
    ceiling: f64,
    pattern: Pattern,
    colour: RGBColor,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let area = chart.plotting_area();
    let fill = match pattern {
        Pattern::Solid => colour.filled(),
        Pattern::Outline => WHITE.filled(),
        _ => colour.mix(0.25).filled(),
    };
    area.draw(&Rectangle::new([(left, 0.0), (right, top)], fill))?;
    let line = colour.stroke_width(2);
    let vertical = |area: &DrawingArea<DB, _>| {
        (1..5).try_for_each(|step| {
            let x = left + (right - left) * f64::from(step) / 5.0;
            area.draw(&PathElement::new(vec![(x, 0.0), (x, top)], line))
        })
    };
    let horizontal = |area: &DrawingArea<DB, _>| {
        let spacing = ceiling / 24.0;
        let mut y = spacing;
        while y < top {
            area.draw(&PathElement::new(vec![(left, y), (right, y)], line))?;
            y += spacing;
        }
        Ok(())
    };
    match pattern {
        Pattern::Solid | Pattern::Outline => {}
        Pattern::VerticalStripes => vertical(area)?,
        Pattern::HorizontalStripes => horizontal(area)?,
        Pattern::Crossed => {
            vertical(area)?;
            horizontal(area)?;
        }
    }
    area.draw(&Rectangle::new([(left, 0.0), (right, top)], line))
}

fn drawing<E: std::fmt::Debug>(error: E) -> ChartError {
    ChartError::Drawing(format!("{error:?}"))
}

/// `text` in at most `chars` characters, ending with `…` when cut.
fn shortened(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(chars.saturating_sub(1)).collect();
    short.push('…');
    short
}

fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn funding() -> BarChart {
        BarChart {
            title: "Funding by financial year".to_owned(),
            subtitle: "All programmes".to_owned(),
            x_axis: "Financial year".to_owned(),
            y_axis: "GBP".to_owned(),
            unit: Unit::Money {
                currency: "GBP".to_owned(),
            },
            groups: vec!["2019-20".to_owned(), "2020-21 <&>".to_owned()],
            series: vec![
                Series {
                    name: "Committed".to_owned(),
                    values: vec![Some(1_250_000.0), Some(400_000.0)],
                },
                Series {
                    name: "Paid".to_owned(),
                    values: vec![Some(500_000.0), None],
                },
            ],
            reference: None,
        }
    }

    #[test]
    fn values_are_written_as_people_read_them() {
        let pounds = Unit::Money {
            currency: "GBP".to_owned(),
        };
        assert_eq!(pounds.format(1_250_000.0), "£1.25m");
        assert_eq!(pounds.format(999_999.0), "£1m");
        assert_eq!(pounds.format(35_000.0), "£35k");
        assert_eq!(pounds.format(12.5), "£12.5");
        assert_eq!(
            Unit::Money {
                currency: "NOK".to_owned()
            }
            .format(2_000.0),
            "NOK 2k"
        );
        assert_eq!(Unit::Share.format(0.3333), "33.3%");
        assert_eq!(Unit::Days.format(1.0), "1 day");
        assert_eq!(Unit::Days.format(30.5), "30.5 days");
        assert_eq!(Unit::Count.format(12.0), "12");
    }

    #[test]
    fn the_svg_states_every_figure_and_escapes_names() {
        let svg = funding().to_svg().unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("role=\"img\""));
        assert!(svg.contains("<title id=\"chart-title\">Funding by financial year</title>"));
        for label in [
            "£1.25m",
            "£400k",
            "£500k",
            "n/a",
            "Committed",
            "Paid",
            "2019-20",
        ] {
            assert!(svg.contains(label), "{label} missing");
        }
        assert!(svg.contains("2020-21 &lt;&amp;&gt;"));
        assert!(!svg.contains("<&>"));
        assert!(svg.contains("2020-21 &lt;&amp;&gt;: Committed £400k; Paid not known."));
    }

    #[test]
    fn a_mismatched_series_is_an_error_not_a_panic() {
        let mut chart = funding();
        chart.series[1].values.pop();
        assert!(matches!(chart.to_svg(), Err(ChartError::Shape { .. })));
    }

    #[test]
    fn too_many_groups_are_cut_and_said_to_be() {
        let mut chart = funding();
        chart.groups = (0..50).map(|n| format!("group {n}")).collect();
        chart.series.truncate(1);
        chart.series[0].values = (0..50).map(|n| Some(f64::from(n))).collect();
        chart.reference = Some(Reference {
            value: 30.0,
            label: "30 days".to_owned(),
        });
        let svg = chart.to_svg().unwrap();
        assert!(svg.contains("(the first 40 of 50 groups)"));
        assert!(svg.contains("group 39"));
        assert!(!svg.contains("group 40"));
    }

    #[test]
    fn an_empty_selection_still_draws() {
        let mut chart = funding();
        chart.groups.clear();
        for series in &mut chart.series {
            series.values.clear();
        }
        let svg = chart.to_svg().unwrap();
        assert!(svg.contains("No figures for this selection"));
        // Groups with no series (the funnel's stages, with no supplier) are empty too.
        let mut stages = funding();
        stages.series.clear();
        let svg = stages.to_svg().unwrap();
        assert!(svg.contains("No figures for this selection"));
    }
}
