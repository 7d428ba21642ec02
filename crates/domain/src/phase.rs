//! Phases: Phase 1 feasibility (several suppliers, typically up to GBP 50,000-60,000 each, about
//! 3 months), Phase 2 prototype (the best Phase 1 suppliers, up to GBP 500,000-1m, up to 12
//! months), Phase 3 deployment (an ordinary procurement that follows).

use chrono::NaiveDate;

use crate::ids::{ChallengeId, PhaseId};
use crate::lifecycle::PhaseStatus;
use crate::money::Money;
use crate::programme::check_date_order;
use crate::time::Timestamp;
use crate::validation::{FieldViolation, ValidationErrors};

crate::text_enum!(
    /// What a phase is for.
    PhaseKind {
        Feasibility => "feasibility",
        Prototype => "prototype",
        Deployment => "deployment",
    }
);

pub const MAX_PHASE_NUMBER: i32 = 9;

/// A phase's editable facts (its status moves only through transitions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhaseFields {
    pub challenge_id: ChallengeId,
    /// 1, 2, 3: unique within the challenge.
    pub number: i32,
    pub kind: PhaseKind,
    pub budget: Money,
    /// The cap on one supplier's award, kept per phase so averages never mix rounds' caps.
    pub max_award: Money,
    pub max_suppliers: Option<i32>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    /// Whether suppliers without an award in the phase before may be awarded (Phase 1 always is).
    pub open_to_all: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phase {
    pub id: PhaseId,
    pub fields: PhaseFields,
    /// The sum of the phase's awards (kept by the database with every award).
    pub committed: Money,
    pub status: PhaseStatus,
    /// Partners' keys for it (each source once).
    pub external_ids: Vec<crate::ExternalId>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl PhaseFields {
    /// Checks every rule that needs no other record.
    pub fn validate(self) -> Result<PhaseFields, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if !(1..=MAX_PHASE_NUMBER).contains(&self.number) {
            errors.push(FieldViolation::new(
                "number",
                "out_of_range",
                format!("number must be between 1 and {MAX_PHASE_NUMBER}"),
            ));
        }
        if self.max_award.currency() != self.budget.currency() {
            errors.push(FieldViolation::new(
                "max_award/currency",
                "currency_mismatch",
                "max_award must be in the budget's currency",
            ));
        } else if self.max_award.minor_units() > self.budget.minor_units() {
            errors.push(FieldViolation::new(
                "max_award",
                "exceeds_budget",
                format!(
                    "max_award ({}) cannot exceed the budget ({})",
                    self.max_award, self.budget
                ),
            ));
        }
        if let Some(max) = self.max_suppliers {
            if max < 1 {
                errors.push(FieldViolation::new(
                    "max_suppliers",
                    "out_of_range",
                    "max_suppliers must be at least 1",
                ));
            }
        }
        check_date_order(self.starts_on, self.ends_on, "ends_on", &mut errors);
        errors.into_result(PhaseFields {
            // The first phase is an open competition by definition.
            open_to_all: self.open_to_all || self.number == 1,
            ..self
        })
    }

    /// A phase starts after the one before it starts.
    pub fn check_order_after(
        &self,
        previous: Option<&PhaseFields>,
    ) -> Result<(), ValidationErrors> {
        if let (Some(previous), Some(starts)) = (previous, self.starts_on) {
            if let Some(previous_starts) = previous.starts_on {
                if starts <= previous_starts {
                    return Err(FieldViolation::new(
                        "starts_on",
                        "before_previous_phase",
                        format!(
                            "phase {} must start after phase {} starts ({previous_starts})",
                            self.number, previous.number
                        ),
                    )
                    .into());
                }
            }
        }
        Ok(())
    }
}

impl Phase {
    /// The budget rule's view of the phase.
    pub fn budget_check(&self) -> crate::award::BudgetCheck {
        crate::award::BudgetCheck {
            budget: self.fields.budget,
            committed: self.committed,
        }
    }

    pub fn create(fields: PhaseFields, now: Timestamp) -> Self {
        Self {
            external_ids: Vec::new(),
            id: PhaseId::generate(),
            committed: Money::zero(fields.budget.currency()),
            fields,
            status: <PhaseStatus as crate::lifecycle::Lifecycle>::INITIAL,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phase_one() -> PhaseFields {
        PhaseFields {
            challenge_id: ChallengeId::generate(),
            number: 1,
            kind: PhaseKind::Feasibility,
            budget: Money::gbp_pence(25_000_000).unwrap(),
            max_award: Money::gbp_pence(5_000_000).unwrap(),
            max_suppliers: Some(5),
            starts_on: NaiveDate::from_ymd_opt(2019, 8, 1),
            ends_on: NaiveDate::from_ymd_opt(2019, 11, 30),
            open_to_all: false,
        }
    }

    #[test]
    fn phase_one_is_always_open_to_all() {
        assert!(phase_one().validate().unwrap().open_to_all);
    }

    #[test]
    fn the_cap_per_supplier_fits_the_budget() {
        let fields = PhaseFields {
            max_award: Money::gbp_pence(30_000_000).unwrap(),
            ..phase_one()
        };
        assert_eq!(
            fields.validate().unwrap_err().violations()[0].code,
            "exceeds_budget"
        );
    }

    #[test]
    fn a_later_phase_starts_after_the_earlier_one() {
        let first = phase_one().validate().unwrap();
        let second = PhaseFields {
            number: 2,
            kind: PhaseKind::Prototype,
            starts_on: NaiveDate::from_ymd_opt(2019, 7, 1),
            ends_on: NaiveDate::from_ymd_opt(2020, 12, 31),
            ..phase_one()
        };
        let errors = second.check_order_after(Some(&first)).unwrap_err();
        assert_eq!(errors.violations()[0].code, "before_previous_phase");
    }
}
