//! Milestones of an award: deliveries, reports and payments. SBRI contracts pay in tranches
//! against milestones (one competition paid 25% at the first). Committed (the award) is kept
//! apart from paid (its paid milestones), as 360Giving keeps Amount Awarded apart from Amount
//! Disbursed.

use chrono::NaiveDate;

use crate::ids::{AwardId, MilestoneId, OrganisationId};
use crate::lifecycle::MilestoneStatus;
use crate::money::Money;
use crate::text::{self, Lines};
use crate::time::Timestamp;
use crate::validation::{FieldViolation, ValidationErrors};

crate::text_enum!(
    /// What a milestone marks.
    MilestoneKind {
        Delivery => "delivery",
        Report => "report",
        Payment => "payment",
    }
);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MilestoneFields {
    pub award_id: AwardId,
    pub kind: MilestoneKind,
    pub title: String,
    pub due_on: Option<NaiveDate>,
    /// The tranche paid at this milestone; required for a payment milestone.
    pub amount: Option<Money>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Milestone {
    pub id: MilestoneId,
    pub fields: MilestoneFields,
    pub supplier_organisation_id: OrganisationId,
    pub owner_organisation_id: OrganisationId,
    pub status: MilestoneStatus,
    pub paid_on: Option<NaiveDate>,
    /// Partners' keys for it (each source once).
    pub external_ids: Vec<crate::ExternalId>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl MilestoneFields {
    /// Checks the title, and that a tranche is in the award's currency and within its amount.
    pub fn validate(self, award_amount: Money) -> Result<MilestoneFields, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let title = text::required_text(&self.title, "title", 200, Lines::Single, &mut errors);
        match self.amount {
            None if self.kind == MilestoneKind::Payment => errors.push(FieldViolation::new(
                "amount",
                "required",
                "a payment milestone needs an amount",
            )),
            Some(amount) if amount.currency() != award_amount.currency() => {
                errors.push(FieldViolation::new(
                    "amount/currency",
                    "currency_mismatch",
                    format!("the award is in {}", award_amount.currency()),
                ))
            }
            Some(amount) if amount.minor_units() > award_amount.minor_units() => {
                errors.push(FieldViolation::new(
                    "amount",
                    "exceeds_award",
                    format!("{amount} is more than the award of {award_amount}"),
                ))
            }
            _ => {}
        }
        match title {
            Some(title) if errors.is_empty() => Ok(MilestoneFields { title, ..self }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tranche(amount: Option<Money>, kind: MilestoneKind) -> MilestoneFields {
        MilestoneFields {
            award_id: AwardId::generate(),
            kind,
            title: "First tranche (25%)".into(),
            due_on: None,
            amount,
        }
    }

    #[test]
    fn a_payment_needs_an_amount_within_the_award() {
        let award = Money::gbp_pence(5_000_000).unwrap();
        assert!(tranche(
            Some(Money::gbp_pence(1_250_000).unwrap()),
            MilestoneKind::Payment
        )
        .validate(award)
        .is_ok());
        assert_eq!(
            tranche(None, MilestoneKind::Payment)
                .validate(award)
                .unwrap_err()
                .violations()[0]
                .code,
            "required"
        );
        assert_eq!(
            tranche(
                Some(Money::gbp_pence(5_000_001).unwrap()),
                MilestoneKind::Payment
            )
            .validate(award)
            .unwrap_err()
            .violations()[0]
                .code,
            "exceeds_award"
        );
        assert!(tranche(None, MilestoneKind::Report).validate(award).is_ok());
    }
}
