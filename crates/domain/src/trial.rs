//! Trials of solutions with a host body, and their measured outcomes: what no reference system
//! models (Leeds City Council with City of York Council trialled temperature and humidity
//! sensors in council homes).

use chrono::NaiveDate;

use crate::ids::{AwardId, OrganisationId, OutcomeId, TrialId};
use crate::lifecycle::TrialStatus;
use crate::money::Money;
use crate::text::{self, Lines};
use crate::time::Timestamp;
use crate::validation::{FieldViolation, ValidationErrors};

pub const MAX_SITES: usize = 50;

#[derive(Debug, Clone, PartialEq)]
pub struct TrialFields {
    /// The contract the trial belongs to, when there is one.
    pub award_id: Option<AwardId>,
    /// The public body hosting the trial.
    pub host_organisation_id: OrganisationId,
    pub title: String,
    /// Where: sites or locations.
    pub sites: Vec<String>,
    /// How many units (homes, vehicles, sensors) take part, and what they are.
    pub units: Option<i32>,
    pub unit_label: Option<String>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    /// Whether anyone may read the trial and its outcomes.
    pub public: bool,
    pub result: Option<String>,
    /// Was the solution adopted (a follow-on contract)?
    pub adopted: Option<bool>,
    pub follow_on_value: Option<Money>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Trial {
    pub id: TrialId,
    pub fields: TrialFields,
    /// The award's supplier, copied so that who may see a trial is decided on its row.
    pub supplier_organisation_id: Option<OrganisationId>,
    pub status: TrialStatus,
    /// Partners' keys for it (each source once).
    pub external_ids: Vec<crate::ExternalId>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl TrialFields {
    pub fn validate(self) -> Result<TrialFields, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let title = text::required_text(&self.title, "title", 200, Lines::Single, &mut errors);
        if self.sites.len() > MAX_SITES {
            errors.push(FieldViolation::new(
                "sites",
                "too_many",
                format!("at most {MAX_SITES} sites"),
            ));
        }
        let sites: Vec<String> = self
            .sites
            .iter()
            .enumerate()
            .filter_map(|(index, site)| {
                text::required_text(
                    site,
                    &format!("sites/{index}"),
                    200,
                    Lines::Single,
                    &mut errors,
                )
            })
            .collect();
        if self.units.is_some_and(|units| units < 0) {
            errors.push(FieldViolation::new(
                "units",
                "out_of_range",
                "units cannot be negative",
            ));
        }
        let unit_label = text::optional_text(
            self.unit_label.as_deref(),
            "unit_label",
            60,
            Lines::Single,
            &mut errors,
        );
        let result = text::optional_text(
            self.result.as_deref(),
            "result",
            10_000,
            Lines::Multi,
            &mut errors,
        );
        crate::programme::check_date_order(self.starts_on, self.ends_on, "ends_on", &mut errors);
        if self.follow_on_value.is_some() && self.adopted != Some(true) {
            errors.push(FieldViolation::new(
                "follow_on_value",
                "not_adopted",
                "a follow-on contract value is given only when the solution was adopted (adopted: true)",
            ));
        }
        match title {
            Some(title) if errors.is_empty() => Ok(TrialFields {
                title,
                sites,
                unit_label,
                result,
                ..self
            }),
            _ => Err(errors),
        }
    }
}

crate::text_enum!(
    /// The kinds of outcome, after UKRI Gateway to Research's outcome types.
    OutcomeKind {
        KeyFinding => "key_finding",
        Product => "product",
        IntellectualProperty => "intellectual_property",
        FurtherFunding => "further_funding",
        PolicyInfluence => "policy_influence",
    }
);

/// A measured outcome against its baseline and target.
#[derive(Debug, Clone, PartialEq)]
pub struct OutcomeFields {
    pub trial_id: TrialId,
    pub kind: OutcomeKind,
    /// What was measured: "Homes with damp detected early".
    pub metric: String,
    pub unit: Option<String>,
    pub baseline: Option<f64>,
    pub target: Option<f64>,
    pub actual: Option<f64>,
    pub measured_on: Option<NaiveDate>,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub id: OutcomeId,
    pub fields: OutcomeFields,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl OutcomeFields {
    pub fn validate(self) -> Result<OutcomeFields, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let metric = text::required_text(&self.metric, "metric", 200, Lines::Single, &mut errors);
        let unit =
            text::optional_text(self.unit.as_deref(), "unit", 40, Lines::Single, &mut errors);
        let notes = text::optional_text(
            self.notes.as_deref(),
            "notes",
            10_000,
            Lines::Multi,
            &mut errors,
        );
        for (name, value) in [
            ("baseline", self.baseline),
            ("target", self.target),
            ("actual", self.actual),
        ] {
            if value.is_some_and(|value| !value.is_finite()) {
                errors.push(FieldViolation::new(
                    name,
                    "not_finite",
                    format!("{name} must be a finite number"),
                ));
            }
        }
        match metric {
            Some(metric) if errors.is_empty() => Ok(OutcomeFields {
                metric,
                unit,
                notes,
                ..self
            }),
            _ => Err(errors),
        }
    }

    /// Whether the actual value reached the target, in the direction from the baseline.
    pub fn met_target(&self) -> Option<bool> {
        met_target(self.baseline, self.target, self.actual)
    }
}

/// Whether `actual` reached `target`, in the direction from `baseline` (lower is better when
/// the target is below the baseline); `None` without a target or an actual value.
pub fn met_target(baseline: Option<f64>, target: Option<f64>, actual: Option<f64>) -> Option<bool> {
    let (target, actual) = (target?, actual?);
    Some(match baseline {
        Some(baseline) if target < baseline => actual <= target,
        _ => actual >= target,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn homes() -> TrialFields {
        TrialFields {
            award_id: None,
            host_organisation_id: OrganisationId::generate(),
            title: "Sensors in council homes".into(),
            sites: vec!["Leeds".into(), "York".into()],
            units: Some(300),
            unit_label: Some("homes".into()),
            starts_on: NaiveDate::from_ymd_opt(2020, 4, 1),
            ends_on: NaiveDate::from_ymd_opt(2021, 3, 31),
            public: true,
            result: None,
            adopted: None,
            follow_on_value: None,
        }
    }

    #[test]
    fn a_follow_on_value_needs_adoption() {
        let fields = TrialFields {
            follow_on_value: Some(Money::gbp_pence(1).unwrap()),
            ..homes()
        };
        assert_eq!(
            fields.validate().unwrap_err().violations()[0].code,
            "not_adopted"
        );
        let adopted = TrialFields {
            adopted: Some(true),
            follow_on_value: Some(Money::gbp_pence(1).unwrap()),
            ..homes()
        };
        assert!(adopted.validate().is_ok());
    }

    #[test]
    fn targets_are_met_in_the_direction_of_the_baseline() {
        let outcome = |baseline, target, actual| OutcomeFields {
            trial_id: TrialId::generate(),
            kind: OutcomeKind::KeyFinding,
            metric: "m".into(),
            unit: None,
            baseline: Some(baseline),
            target: Some(target),
            actual: Some(actual),
            measured_on: None,
            notes: None,
        };
        // Lower is better: damp readings from 30% of homes down to a 10% target.
        assert_eq!(outcome(30.0, 10.0, 8.0).met_target(), Some(true));
        assert_eq!(outcome(30.0, 10.0, 12.0).met_target(), Some(false));
        // Higher is better.
        assert_eq!(outcome(0.0, 100.0, 120.0).met_target(), Some(true));
    }
}
