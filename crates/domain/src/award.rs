//! Awards: SBRI contracts (not grants), one supplier in one phase, 100% funded.

use chrono::NaiveDate;

use crate::application::check_within_cap;
use crate::ids::{ApplicationId, AwardId, ChallengeId, OrganisationId, PhaseId};
use crate::lifecycle::AwardStatus;
use crate::money::Money;
use crate::phase::PhaseFields;
use crate::programme::check_date_order;
use crate::text::{self, Lines};
use crate::time::Timestamp;
use crate::validation::{FieldViolation, ValidationErrors};

/// An award's facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwardFields {
    pub phase_id: PhaseId,
    pub application_id: ApplicationId,
    pub supplier_organisation_id: OrganisationId,
    pub contract_reference: String,
    pub amount: Money,
    /// SBRI amounts are often quoted including VAT.
    pub vat_included: bool,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    /// The same supplier's award in the phase before (explicit lineage, never matched by name).
    pub parent_award_id: Option<AwardId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Award {
    pub id: AwardId,
    pub fields: AwardFields,
    /// The sum of its paid milestones (kept by the database with every payment).
    pub paid: Money,
    pub challenge_id: ChallengeId,
    pub owner_organisation_id: OrganisationId,
    pub status: AwardStatus,
    /// Partners' keys for it (each source once).
    pub external_ids: Vec<crate::ExternalId>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Award {
    /// What is still to be paid.
    pub fn outstanding(&self) -> Money {
        self.fields
            .amount
            .checked_sub(self.paid)
            .ok()
            .flatten()
            .unwrap_or_else(|| Money::zero(self.fields.amount.currency()))
    }
}

impl AwardFields {
    /// Checks what needs only the award and its phase.
    pub fn validate(self, phase: &PhaseFields) -> Result<AwardFields, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let reference = text::required_text(
            &self.contract_reference,
            "contract_reference",
            100,
            Lines::Single,
            &mut errors,
        );
        check_within_cap(self.amount, phase, "amount", &mut errors);
        check_date_order(self.starts_on, self.ends_on, "ends_on", &mut errors);
        match reference {
            Some(contract_reference) if errors.is_empty() => Ok(AwardFields {
                contract_reference,
                ..self
            }),
            _ => Err(errors),
        }
    }
}

/// Checks the award's own terms, which need no phase: its contract reference and the order of
/// its dates (a body checked alone, before any record is read).
pub fn check_terms(
    contract_reference: &str,
    starts_on: Option<NaiveDate>,
    ends_on: Option<NaiveDate>,
    errors: &mut ValidationErrors,
) {
    text::required_text(
        contract_reference,
        "contract_reference",
        100,
        Lines::Single,
        errors,
    );
    check_date_order(starts_on, ends_on, "ends_on", errors);
}

/// The phase budget rule: the sum of a phase's awards stays within its budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetCheck {
    pub budget: Money,
    pub committed: Money,
}

impl BudgetCheck {
    /// What is left to award.
    pub fn remaining(&self) -> Money {
        self.budget
            .checked_sub(self.committed)
            .ok()
            .flatten()
            .unwrap_or_else(|| Money::zero(self.budget.currency()))
    }

    /// Whether `amount` more fits.
    pub fn admits(&self, amount: Money) -> Result<(), FieldViolation> {
        let remaining = self.remaining();
        if amount.currency() == remaining.currency()
            && amount.minor_units() <= remaining.minor_units()
        {
            Ok(())
        } else {
            Err(FieldViolation::new(
                "amount",
                "exceeds_phase_budget",
                format!(
                    "{amount} is more than the {remaining} left of the phase's budget of {}",
                    self.budget
                ),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_of_a_budget_can_be_awarded_but_no_more() {
        let check = BudgetCheck {
            budget: Money::gbp_pence(25_000_000).unwrap(),
            committed: Money::gbp_pence(20_000_000).unwrap(),
        };
        assert_eq!(check.remaining(), Money::gbp_pence(5_000_000).unwrap());
        assert!(check.admits(Money::gbp_pence(5_000_000).unwrap()).is_ok());
        assert_eq!(
            check
                .admits(Money::gbp_pence(5_000_001).unwrap())
                .unwrap_err()
                .code,
            "exceeds_phase_budget"
        );
    }
}
