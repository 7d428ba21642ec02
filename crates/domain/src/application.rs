//! Applications: a supplier's bid for a contract in one phase.

use crate::ids::{ApplicationId, ChallengeId, OrganisationId, PhaseId};
use crate::lifecycle::ApplicationStatus;
use crate::money::Money;
use crate::phase::PhaseFields;
use crate::text::{self, Lines};
use crate::time::Timestamp;
use crate::validation::{FieldViolation, ValidationErrors};

/// An application's facts the supplier writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationFields {
    pub phase_id: PhaseId,
    pub supplier_organisation_id: OrganisationId,
    pub amount_requested: Money,
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    pub id: ApplicationId,
    pub fields: ApplicationFields,
    /// Copied from the phase's challenge (which never changes owner), so that who may see an
    /// application is decided on its own row.
    pub challenge_id: ChallengeId,
    pub owner_organisation_id: OrganisationId,
    pub status: ApplicationStatus,
    /// 0 to 100, set by assessors.
    pub assessment_score: Option<i32>,
    pub submitted_at: Option<Timestamp>,
    /// Partners' keys for it (each source once).
    pub external_ids: Vec<crate::ExternalId>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl ApplicationFields {
    /// Checks the summary and that the request fits the phase's cap per supplier.
    pub fn validate(self, phase: &PhaseFields) -> Result<ApplicationFields, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let summary = check_terms(&self.summary, &mut errors);
        check_within_cap(
            self.amount_requested,
            phase,
            "amount_requested",
            &mut errors,
        );
        match summary {
            Some(summary) if errors.is_empty() => Ok(ApplicationFields { summary, ..self }),
            _ => Err(errors),
        }
    }
}

/// Checks the application's own terms, which need no phase: its summary (a body checked alone,
/// before any record is read). The summary as kept, if it is valid.
pub fn check_terms(summary: &str, errors: &mut ValidationErrors) -> Option<String> {
    text::required_text(summary, "summary", 10_000, Lines::Multi, errors)
}

/// An amount must be in the phase's currency and within its cap per supplier.
pub fn check_within_cap(
    amount: Money,
    phase: &PhaseFields,
    path: &str,
    errors: &mut ValidationErrors,
) {
    if amount.currency() != phase.max_award.currency() {
        errors.push(FieldViolation::new(
            &format!("{path}/currency"),
            "currency_mismatch",
            format!("the phase is funded in {}", phase.max_award.currency()),
        ));
    } else if amount.minor_units() > phase.max_award.minor_units() {
        errors.push(FieldViolation::new(
            path,
            "exceeds_max_award",
            format!(
                "{} is more than the phase's cap per supplier of {}",
                amount, phase.max_award
            ),
        ));
    }
}

/// Scores are whole numbers from 0 to 100.
pub fn validate_score(score: i32) -> Result<i32, ValidationErrors> {
    if (0..=100).contains(&score) {
        Ok(score)
    } else {
        Err(FieldViolation::new(
            "assessment_score",
            "out_of_range",
            "assessment_score must be between 0 and 100",
        )
        .into())
    }
}
