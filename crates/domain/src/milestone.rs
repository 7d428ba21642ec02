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
    /// When the supplier invoiced it (never after `paid_on`).
    pub invoiced_on: Option<NaiveDate>,
    pub paid_on: Option<NaiveDate>,
    /// Partners' keys for it (each source once).
    pub external_ids: Vec<crate::ExternalId>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The days of a milestone's invoice and payment, as a move asks for them: each defaults to
/// `today`, an invoice may not be dated in the future, and a payment may not come before the
/// invoice it settles.
pub fn invoice_day(
    given: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<NaiveDate, FieldViolation> {
    let day = given.unwrap_or(today);
    if day > today {
        return Err(FieldViolation::new(
            "invoiced_on",
            "in_future",
            format!("an invoice cannot be dated after today ({today})"),
        ));
    }
    Ok(day)
}

/// The day a milestone is paid: `given` or `today`, never before its invoice.
pub fn payment_day(
    given: Option<NaiveDate>,
    today: NaiveDate,
    invoiced_on: Option<NaiveDate>,
) -> Result<NaiveDate, FieldViolation> {
    let day = given.unwrap_or(today);
    match invoiced_on {
        Some(invoiced) if day < invoiced => Err(FieldViolation::new(
            "paid_on",
            "before_invoice",
            format!("the milestone was invoiced on {invoiced}: it cannot be paid before that"),
        )),
        _ => Ok(day),
    }
}

impl MilestoneFields {
    /// Checks the title, and that a tranche is in the award's currency and within its amount.
    pub fn validate(self, award_amount: Money) -> Result<MilestoneFields, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let title = check_terms(&self.title, self.kind, self.amount, &mut errors);
        match self.amount {
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

/// Checks the milestone's own terms, which need no award: its title, and that a payment
/// milestone has an amount (a body checked alone, before any record is read). The title as
/// kept, if it is valid.
pub fn check_terms(
    title: &str,
    kind: MilestoneKind,
    amount: Option<Money>,
    errors: &mut ValidationErrors,
) -> Option<String> {
    let title = text::required_text(title, "title", 200, Lines::Single, errors);
    if amount.is_none() && kind == MilestoneKind::Payment {
        errors.push(FieldViolation::new(
            "amount",
            "required",
            "a payment milestone needs an amount",
        ));
    }
    title
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

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn an_invoice_is_not_dated_ahead_and_a_payment_does_not_precede_it() {
        let today = day("2026-12-06");
        assert_eq!(invoice_day(None, today).unwrap(), today);
        assert_eq!(
            invoice_day(Some(day("2026-11-01")), today).unwrap(),
            day("2026-11-01")
        );
        assert_eq!(
            invoice_day(Some(day("2026-12-07")), today)
                .unwrap_err()
                .code,
            "in_future"
        );
        let invoiced = Some(day("2026-11-01"));
        assert_eq!(
            payment_day(Some(day("2026-11-01")), today, invoiced).unwrap(),
            day("2026-11-01")
        );
        assert_eq!(
            payment_day(Some(day("2026-10-31")), today, invoiced)
                .unwrap_err()
                .code,
            "before_invoice"
        );
        assert_eq!(payment_day(None, today, None).unwrap(), today);
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
