//! The arithmetic of reports: UK financial years, who counts as an SME, and facts summed into
//! groups. Every figure is a sum (or a ratio of sums) of facts, so the totals of a report equal
//! the sums of its rows.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{Datelike, NaiveDate};

use crate::organisation::{OrganisationKind, Scale};

/// A UK public body's financial year, 1 April to 31 March, named by its first calendar year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FinancialYear {
    pub starts: i32,
}

impl FinancialYear {
    /// The financial year a day falls in.
    pub fn of(day: NaiveDate) -> Self {
        let starts = if day.month() >= 4 {
            day.year()
        } else {
            day.year() - 1
        };
        Self { starts }
    }

    /// `2019-20` (also `2019/20`, or just `2019`, the year it starts), between 1900 and 2999;
    /// spaces around it are ignored. [`Self::pattern`] says the same for the spec.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("{text:?} is not a financial year: write it as 2019-20");
        let digits = |part: &str, count: usize| {
            part.len() == count && part.bytes().all(|byte| byte.is_ascii_digit())
        };
        let text = text.trim();
        let (first, second) = match text.split_once(['-', '/']) {
            Some((first, second)) => (first, Some(second)),
            None => (text, None),
        };
        if !digits(first, 4) {
            return Err(bad());
        }
        let starts: i32 = first.parse().map_err(|_| bad())?;
        if !(1900..=2999).contains(&starts) {
            return Err(bad());
        }
        if let Some(second) = second {
            let follows =
                digits(second, 2) && second.parse::<i32>().ok() == Some((starts + 1) % 100);
            if !follows {
                return Err(bad());
            }
        }
        Ok(Self { starts })
    }

    /// A regular expression (ECMA 262, for the OpenAPI document) matching what [`Self::parse`]
    /// accepts, less the spaces around: each of the hundred two-digit endings is spelt out, as
    /// no regular expression can add one.
    pub fn pattern() -> String {
        let endings: Vec<String> = (0..100)
            .map(|last| format!("{last:02}([-/]{:02})?", (last + 1) % 100))
            .collect();
        format!("(19|2[0-9])({})", endings.join("|"))
    }

    pub fn first_day(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.starts, 4, 1).unwrap_or(NaiveDate::MIN)
    }

    pub fn last_day(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.starts + 1, 3, 31).unwrap_or(NaiveDate::MAX)
    }
}

impl fmt::Display for FinancialYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:02}", self.starts, (self.starts + 1) % 100)
    }
}

/// What a report's rows may be grouped by. Every value of a dimension is an id, an enum's
/// text or a number, never free text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dimension {
    Programme,
    Challenge,
    Phase,
    /// A phase's number across challenges (phase 1, phase 2, ...).
    PhaseNumber,
    /// The public body that owns the challenge (hosts the trial).
    Owner,
    /// The supplier's region.
    Region,
    SupplierScale,
    /// The financial year of the fact's own date.
    FinancialYear,
    Status,
    Result,
}

impl Dimension {
    /// The name used in `group_by` (`owner` is also `host`).
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "programme" => Self::Programme,
            "challenge" => Self::Challenge,
            "phase" => Self::Phase,
            "owner" | "host" => Self::Owner,
            "region" => Self::Region,
            "supplier_scale" => Self::SupplierScale,
            "financial_year" => Self::FinancialYear,
            "status" => Self::Status,
            "result" => Self::Result,
            _ => return None,
        })
    }
}

/// The government's target share of procurement spend with SMEs.
pub const SME_TARGET: f64 = 0.33;

/// An SME: a business of micro, small or medium scale; one with no scale recorded counts when
/// its kind says SME.
pub fn is_sme(kind: OrganisationKind, scale: Option<Scale>) -> bool {
    match scale {
        Some(scale) => scale.is_sme() && !kind.is_public_body(),
        None => kind == OrganisationKind::Sme,
    }
}

/// `part / whole`, rounded to four places; `None` when the whole is zero (no share to speak
/// of, rather than a misleading 0).
pub fn ratio(part: i64, whole: i64) -> Option<f64> {
    if whole == 0 {
        return None;
    }
    #[allow(clippy::cast_precision_loss)] // Counts and pence far below 2^52.
    let exact = part as f64 / whole as f64;
    Some((exact * 10_000.0).round() / 10_000.0)
}

/// Whole numbers counted by value (a histogram), which answers order statistics and adds up:
/// two groups' tallies merge, where their medians would not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    counts: BTreeMap<i64, usize>,
    len: usize,
}

impl Tally {
    pub fn new(values: Vec<i64>) -> Self {
        let mut tally = Tally::default();
        for value in values {
            tally.record(value, 1);
        }
        tally
    }

    /// Counts `value` `times` more times.
    pub fn record(&mut self, value: i64, times: usize) {
        if times > 0 {
            *self.counts.entry(value).or_default() += times;
            self.len += times;
        }
    }

    /// Adds another tally's values.
    pub fn merge(&mut self, other: &Tally) {
        for (value, times) in &other.counts {
            self.record(*value, *times);
        }
    }

    /// The value at a 0-based position in ascending order.
    fn nth(&self, position: usize) -> Option<i64> {
        let mut seen = 0;
        for (value, times) in &self.counts {
            seen += times;
            if position < seen {
                return Some(*value);
            }
        }
        None
    }

    /// The middle value, or the mean of the two middle values; `None` for no values.
    pub fn median(&self) -> Option<f64> {
        if self.len == 0 {
            return None;
        }
        let middle = self.len / 2;
        let upper = self.nth(middle)?;
        #[allow(clippy::cast_precision_loss)]
        Some(if self.len % 2 == 1 {
            upper as f64
        } else {
            (self.nth(middle - 1)? + upper) as f64 / 2.0
        })
    }

    /// The `percent`th percentile by the nearest-rank method (the smallest value at or below
    /// which `percent`% of them lie), so it is always one of the values.
    pub fn percentile(&self, percent: u32) -> Option<i64> {
        if self.len == 0 {
            return None;
        }
        // ceil(percent / 100 * count), in whole numbers.
        let rank = (percent as usize * self.len)
            .div_ceil(100)
            .clamp(1, self.len);
        self.nth(rank - 1)
    }

    /// How many are at most `limit`.
    pub fn at_most(&self, limit: i64) -> usize {
        self.counts.range(..=limit).map(|(_, times)| times).sum()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The median of some whole numbers (see [`Tally::median`]).
pub fn median(values: Vec<i64>) -> Option<f64> {
    Tally::new(values).median()
}

/// Figures that add up: a group's figures are the sum of its facts' figures.
pub trait Figures: Default + Clone {
    fn add(&mut self, other: &Self);
}

/// Facts summed by a key (the values of the dimensions asked for), keys in order.
#[derive(Debug, Clone)]
pub struct Grouped<F> {
    pub rows: BTreeMap<Vec<String>, F>,
}

impl<F: Figures> Default for Grouped<F> {
    fn default() -> Self {
        Self {
            rows: BTreeMap::new(),
        }
    }
}

impl<F: Figures> Grouped<F> {
    /// Adds one fact's figures to its group.
    pub fn add(&mut self, key: Vec<String>, figures: &F) {
        self.rows.entry(key).or_default().add(figures);
    }

    /// The sum of every row.
    pub fn total(&self) -> F {
        let mut total = F::default();
        for figures in self.rows.values() {
            total.add(figures);
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ninetieth_percentile_is_a_value_by_nearest_rank() {
        assert_eq!(Tally::new(Vec::new()).percentile(90), None);
        assert_eq!(Tally::new(vec![7]).percentile(90), Some(7));
        assert_eq!(Tally::new((1..=10).collect()).percentile(90), Some(9));
        assert_eq!(Tally::new((1..=11).collect()).percentile(90), Some(10));
        assert_eq!(Tally::new(vec![40, 4, 35, 11]).percentile(90), Some(40));
        assert_eq!(Tally::new(vec![40, 4, 35, 11]).percentile(50), Some(11));
    }

    #[test]
    fn a_tally_answers_every_order_statistic() {
        let waited = Tally::new(vec![40, 4, 30, 35, 11, 30]);
        assert_eq!(waited.len(), 6);
        assert_eq!(waited.at_most(30), 4, "30 itself is within 30 days");
        assert_eq!(waited.at_most(3), 0);
        assert_eq!(waited.median(), Some(30.0));
        assert_eq!(waited.percentile(90), Some(40));
        assert!(Tally::new(Vec::new()).is_empty());
    }

    #[test]
    fn merged_tallies_answer_as_their_values_together() {
        let mut merged = Tally::new(vec![40, 4, 30]);
        merged.merge(&Tally::new(vec![35, 11, 30]));
        let mut counted = Tally::default();
        counted.record(30, 2);
        counted.record(4, 1);
        counted.record(99, 0);
        for (value, times) in [(40, 1), (35, 1), (11, 1)] {
            counted.record(value, times);
        }
        let together = Tally::new(vec![40, 4, 30, 35, 11, 30]);
        assert_eq!(merged, together);
        assert_eq!(counted, together, "a value recorded 0 times is not there");
        assert_eq!(merged.median(), Some(30.0));
        assert_eq!(Tally::new(vec![1, 2, 3, 10]).median(), Some(2.5));
        assert_eq!(merged.percentile(90), Some(40));
    }

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn financial_years_are_read_strictly() {
        for good in [
            "2019-20",
            "2019/20",
            "2019",
            "1999-00",
            "2999-00",
            " 2019-20 ",
        ] {
            assert!(FinancialYear::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "2019-21",
            "2019-2020",
            "1899-00",
            "3000",
            "+201",
            "2019-",
            "19-20",
            "2019-2",
            "2019 -20",
        ] {
            assert!(FinancialYear::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_pattern_names_each_year_with_the_ending_that_follows_it() {
        let pattern = FinancialYear::pattern();
        assert!(
            pattern.starts_with("(19|2[0-9])(00([-/]01)?|01([-/]02)?|"),
            "{pattern}"
        );
        assert!(pattern.contains("|19([-/]20)?|"), "{pattern}");
        assert!(pattern.ends_with("|98([-/]99)?|99([-/]00)?)"), "{pattern}");
        assert_eq!(pattern.matches('|').count(), 1 + 99, "{pattern}");
    }

    #[test]
    fn financial_years_run_from_april_to_march() {
        assert_eq!(FinancialYear::of(day("2019-03-31")).to_string(), "2018-19");
        assert_eq!(FinancialYear::of(day("2019-04-01")).to_string(), "2019-20");
        assert_eq!(FinancialYear::of(day("1999-12-31")).to_string(), "1999-00");
        let year = FinancialYear::parse("2019-20").unwrap();
        assert_eq!(year.first_day(), day("2019-04-01"));
        assert_eq!(year.last_day(), day("2020-03-31"));
        assert_eq!(FinancialYear::parse("2019/20").unwrap(), year);
        assert_eq!(FinancialYear::parse("2019").unwrap(), year);
        for bad in ["2019-21", "19-20", "twenty", "2019-", ""] {
            assert!(FinancialYear::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn smes_are_micro_small_and_medium_businesses() {
        assert!(is_sme(OrganisationKind::Sme, Some(Scale::Micro)));
        assert!(is_sme(OrganisationKind::Charity, Some(Scale::Small)));
        assert!(is_sme(OrganisationKind::Sme, None));
        assert!(!is_sme(OrganisationKind::LargeBusiness, Some(Scale::Large)));
        assert!(!is_sme(OrganisationKind::LargeBusiness, None));
        assert!(!is_sme(
            OrganisationKind::LocalAuthority,
            Some(Scale::Medium)
        ));
    }

    #[test]
    fn ratios_and_medians() {
        assert_eq!(ratio(1, 3), Some(0.3333));
        assert_eq!(ratio(5, 0), None);
        assert_eq!(median(vec![30, 10, 20]), Some(20.0));
        assert_eq!(median(vec![40, 10, 20, 30]), Some(25.0));
        assert_eq!(median(Vec::new()), None);
    }

    #[derive(Debug, Default, Clone, PartialEq)]
    struct Count(i64);

    impl Figures for Count {
        fn add(&mut self, other: &Self) {
            self.0 += other.0;
        }
    }

    #[test]
    fn totals_are_the_sums_of_the_rows() {
        let mut grouped = Grouped::default();
        grouped.add(vec!["b".into()], &Count(2));
        grouped.add(vec!["a".into()], &Count(3));
        grouped.add(vec!["b".into()], &Count(4));
        let keys: Vec<_> = grouped.rows.keys().cloned().collect();
        assert_eq!(keys, [vec!["a".to_owned()], vec!["b".to_owned()]]);
        assert_eq!(grouped.rows[&vec!["b".to_owned()]], Count(6));
        assert_eq!(grouped.total(), Count(9));
    }
}
