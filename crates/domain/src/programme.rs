//! Programmes fund and run rounds of challenges (GovTech Catalyst: GBP 20m, from GDS with
//! Innovate UK).

use chrono::NaiveDate;

use crate::ids::{OrganisationId, ProgrammeId};
use crate::money::Money;
use crate::text::{self, Lines};
use crate::time::Timestamp;
use crate::validation::{FieldViolation, ValidationErrors};

/// A programme's editable facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgrammeFields {
    /// A short unique code, upper case: `GOVTECH-CATALYST`.
    pub code: String,
    pub title: String,
    pub description: Option<String>,
    pub funder_organisation_id: OrganisationId,
    pub budget: Money,
    pub opens_on: Option<NaiveDate>,
    pub closes_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Programme {
    pub id: ProgrammeId,
    pub fields: ProgrammeFields,
    /// Partners' keys for it (each source once).
    pub external_ids: Vec<crate::ExternalId>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Codes and references: 2 to 40 letters, digits and hyphens, kept in upper case.
pub fn validate_code(value: &str, path: &str, errors: &mut ValidationErrors) -> Option<String> {
    let code = text::required_text(value, path, 40, Lines::Single, errors)?.to_ascii_uppercase();
    if code.len() >= 2 && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        Some(code)
    } else {
        errors.push(FieldViolation::new(
            path,
            "invalid_format",
            format!(
                "{} must be 2 to 40 letters, digits or hyphens, such as GTC-R3-LEEDS",
                text::field_name(path)
            ),
        ));
        None
    }
}

/// `ends` may not come before `starts`.
pub fn check_date_order(
    starts: Option<NaiveDate>,
    ends: Option<NaiveDate>,
    ends_path: &str,
    errors: &mut ValidationErrors,
) {
    if let (Some(starts), Some(ends)) = (starts, ends) {
        if ends < starts {
            errors.push(FieldViolation::new(
                ends_path,
                "before_start",
                format!(
                    "{} ({ends}) is before the start ({starts})",
                    text::field_name(ends_path)
                ),
            ));
        }
    }
}

impl ProgrammeFields {
    /// Normalises and checks every rule, reporting every violation.
    pub fn validate(self) -> Result<ProgrammeFields, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let code = validate_code(&self.code, "code", &mut errors);
        let title = text::required_text(&self.title, "title", 200, Lines::Single, &mut errors);
        let description = text::optional_text(
            self.description.as_deref(),
            "description",
            5000,
            Lines::Multi,
            &mut errors,
        );
        check_date_order(self.opens_on, self.closes_on, "closes_on", &mut errors);
        match (code, title) {
            (Some(code), Some(title)) if errors.is_empty() => Ok(ProgrammeFields {
                code,
                title,
                description,
                ..self
            }),
            _ => Err(errors),
        }
    }
}

impl Programme {
    pub fn create(fields: ProgrammeFields, now: Timestamp) -> Self {
        Self {
            external_ids: Vec::new(),
            id: ProgrammeId::generate(),
            fields,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn govtech() -> ProgrammeFields {
        ProgrammeFields {
            code: "govtech-catalyst".into(),
            title: "GovTech Catalyst".into(),
            description: None,
            funder_organisation_id: OrganisationId::generate(),
            budget: Money::gbp_pence(2_000_000_000).unwrap(),
            opens_on: NaiveDate::from_ymd_opt(2017, 11, 22),
            closes_on: NaiveDate::from_ymd_opt(2021, 3, 31),
        }
    }

    #[test]
    fn codes_are_kept_in_upper_case() {
        assert_eq!(govtech().validate().unwrap().code, "GOVTECH-CATALYST");
    }

    #[test]
    fn a_programme_cannot_close_before_it_opens() {
        let fields = ProgrammeFields {
            closes_on: NaiveDate::from_ymd_opt(2017, 1, 1),
            ..govtech()
        };
        let errors = fields.validate().unwrap_err();
        assert_eq!(errors.violations()[0].pointer, "#/closes_on");
        assert_eq!(errors.violations()[0].code, "before_start");
    }

    #[test]
    fn a_code_with_spaces_is_refused() {
        let fields = ProgrammeFields {
            code: "GOV TECH".into(),
            ..govtech()
        };
        assert_eq!(
            fields.validate().unwrap_err().violations()[0].code,
            "invalid_format"
        );
    }
}
