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

/// Whole numbers in ascending order, sorted once for any number of order statistics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sorted(Vec<i64>);

impl Sorted {
    pub fn new(mut values: Vec<i64>) -> Self {
        values.sort_unstable();
        Sorted(values)
    }

    /// The middle value, or the mean of the two middle values; `None` for no values.
    pub fn median(&self) -> Option<f64> {
        let values = &self.0;
        if values.is_empty() {
            return None;
        }
        let middle = values.len() / 2;
        #[allow(clippy::cast_precision_loss)]
        Some(if values.len() % 2 == 1 {
            values[middle] as f64
        } else {
            (values[middle - 1] + values[middle]) as f64 / 2.0
        })
    }

    /// The `percent`th percentile by the nearest-rank method (the smallest value at or below
    /// which `percent`% of them lie), so it is always one of the values.
    pub fn percentile(&self, percent: u32) -> Option<i64> {
        let count = self.0.len();
        if count == 0 {
            return None;
        }
        // ceil(percent / 100 * count), in whole numbers.
        let rank = (percent as usize * count).div_ceil(100).clamp(1, count);
        Some(self.0[rank - 1])
    }

    /// How many are at most `limit`.
    pub fn at_most(&self, limit: i64) -> usize {
        self.0.partition_point(|value| *value <= limit)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The median of some whole numbers (see [`Sorted::median`]).
pub fn median(values: Vec<i64>) -> Option<f64> {
    Sorted::new(values).median()
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
        assert_eq!(Sorted::new(Vec::new()).percentile(90), None);
        assert_eq!(Sorted::new(vec![7]).percentile(90), Some(7));
        assert_eq!(Sorted::new((1..=10).collect()).percentile(90), Some(9));
        assert_eq!(Sorted::new((1..=11).collect()).percentile(90), Some(10));
        assert_eq!(Sorted::new(vec![40, 4, 35, 11]).percentile(90), Some(40));
        assert_eq!(Sorted::new(vec![40, 4, 35, 11]).percentile(50), Some(11));
    }

    #[test]
    fn sorted_once_answers_every_order_statistic() {
        let waited = Sorted::new(vec![40, 4, 30, 35, 11, 30]);
        assert_eq!(waited.len(), 6);
        assert_eq!(waited.at_most(30), 4, "30 itself is within 30 days");
        assert_eq!(waited.at_most(3), 0);
        assert_eq!(waited.median(), Some(30.0));
        assert_eq!(waited.percentile(90), Some(40));
        assert!(Sorted::new(Vec::new()).is_empty());
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
