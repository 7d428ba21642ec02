//! Properties that must hold for every input, not just the examples in the unit tests.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use catalyst_domain::{
    ApplicationStatus, AwardStatus, BudgetCheck, ChallengeStatus, Currency, Lifecycle,
    MilestoneStatus, Money, PhaseStatus, TrialStatus,
};
use proptest::prelude::*;

fn pence() -> impl Strategy<Value = i64> {
    0..=10_000_000_000_000i64
}

proptest! {
    #[test]
    fn money_never_goes_negative(minor in any::<i64>()) {
        prop_assert_eq!(Money::gbp_pence(minor).is_ok(), minor >= 0);
    }

    #[test]
    fn addition_and_subtraction_are_inverse(a in pence(), b in pence()) {
        let (a, b) = (Money::gbp_pence(a).unwrap(), Money::gbp_pence(b).unwrap());
        let sum = a.checked_add(b).unwrap();
        prop_assert_eq!(sum.checked_sub(b).unwrap(), Some(a));
        prop_assert_eq!(sum.minor_units(), a.minor_units() + b.minor_units());
    }

    #[test]
    fn subtraction_refuses_to_go_below_zero(a in pence(), b in pence()) {
        let difference = Money::gbp_pence(a).unwrap().checked_sub(Money::gbp_pence(b).unwrap()).unwrap();
        prop_assert_eq!(difference.is_some(), a >= b);
    }

    #[test]
    fn money_survives_its_wire_form(minor in pence()) {
        let money = Money::gbp_pence(minor).unwrap();
        let back: Money = serde_json::from_value(serde_json::to_value(money).unwrap()).unwrap();
        prop_assert_eq!(back, money);
    }

    #[test]
    fn currencies_never_mix(minor in pence()) {
        let euros = Money::new(minor, Currency::parse("EUR").unwrap()).unwrap();
        prop_assert!(Money::gbp_pence(minor).unwrap().checked_add(euros).is_err());
    }

    /// Whatever sequence of awards is attempted, admitting only those the check allows keeps the
    /// committed sum within the budget.
    #[test]
    fn the_budget_check_never_lets_commitments_pass_the_budget(budget in pence(), awards in proptest::collection::vec(0..=5_000_000_000i64, 0..40)) {
        let budget = Money::gbp_pence(budget).unwrap();
        let mut committed = Money::zero(Currency::GBP);
        for amount in awards {
            let amount = Money::gbp_pence(amount).unwrap();
            if (BudgetCheck { budget, committed }).admits(amount).is_ok() {
                committed = committed.checked_add(amount).unwrap();
            }
            prop_assert!(committed.minor_units() <= budget.minor_units());
        }
    }

    /// Any walk of any lifecycle only ever takes listed moves, and a final status stays final.
    #[test]
    fn lifecycles_only_take_listed_moves(steps in proptest::collection::vec(0usize..8, 0..30)) {
        fn walk<S: Lifecycle + std::fmt::Debug>(all: &[S], steps: &[usize]) -> Result<(), TestCaseError> {
            let mut status = S::INITIAL;
            for step in steps {
                let to = all[step % all.len()];
                match status.transition(to) {
                    Ok(next) => {
                        prop_assert!(status.next().contains(&to));
                        status = next;
                    }
                    Err(error) => {
                        prop_assert!(!status.next().contains(&to));
                        prop_assert_eq!(error.allowed, status.next());
                    }
                }
            }
            Ok(())
        }
        walk(ChallengeStatus::ALL, &steps)?;
        walk(PhaseStatus::ALL, &steps)?;
        walk(ApplicationStatus::ALL, &steps)?;
        walk(AwardStatus::ALL, &steps)?;
        walk(MilestoneStatus::ALL, &steps)?;
        walk(TrialStatus::ALL, &steps)?;
    }
}
