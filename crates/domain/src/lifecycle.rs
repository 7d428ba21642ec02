//! Lifecycles as state machines: each status lists the statuses it may move to, and a move
//! elsewhere is refused with the allowed ones named.

/// A status with its allowed next statuses.
pub trait Lifecycle: Copy + PartialEq + std::fmt::Display + 'static {
    /// Where a new record starts.
    const INITIAL: Self;

    /// The statuses this one may move to (empty for a final status).
    fn next(&self) -> &'static [Self];

    /// The move to `to`, or why not.
    fn transition(self, to: Self) -> Result<Self, IllegalTransition<Self>> {
        if self.next().contains(&to) {
            Ok(to)
        } else {
            Err(IllegalTransition {
                from: self,
                to,
                allowed: self.next(),
            })
        }
    }
}

/// A refused move between statuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot move from {from} to {to}; allowed: {}", allowed_text(.allowed))]
pub struct IllegalTransition<S: Lifecycle> {
    pub from: S,
    pub to: S,
    pub allowed: &'static [S],
}

fn allowed_text<S: Lifecycle>(allowed: &[S]) -> String {
    if allowed.is_empty() {
        "none (this status is final)".to_owned()
    } else {
        allowed
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

crate::text_enum!(
    /// A challenge's life: drafted, open for applications, assessed, delivered, completed (or
    /// cancelled at any point before completion).
    ChallengeStatus {
        Draft => "draft",
        Open => "open",
        Assessing => "assessing",
        InDelivery => "in_delivery",
        Completed => "completed",
        Cancelled => "cancelled",
    }
);

impl Lifecycle for ChallengeStatus {
    const INITIAL: Self = ChallengeStatus::Draft;

    fn next(&self) -> &'static [Self] {
        use ChallengeStatus::*;
        match self {
            Draft => &[Open, Cancelled],
            Open => &[Assessing, Cancelled],
            Assessing => &[InDelivery, Cancelled],
            InDelivery => &[Completed, Cancelled],
            Completed | Cancelled => &[],
        }
    }
}

crate::text_enum!(
    /// A phase's life, like its challenge's but starting from planned.
    PhaseStatus {
        Planned => "planned",
        Open => "open",
        Assessing => "assessing",
        InDelivery => "in_delivery",
        Completed => "completed",
        Cancelled => "cancelled",
    }
);

impl Lifecycle for PhaseStatus {
    const INITIAL: Self = PhaseStatus::Planned;

    fn next(&self) -> &'static [Self] {
        use PhaseStatus::*;
        match self {
            Planned => &[Open, Cancelled],
            Open => &[Assessing, Cancelled],
            Assessing => &[InDelivery, Cancelled],
            InDelivery => &[Completed, Cancelled],
            Completed | Cancelled => &[],
        }
    }
}

crate::text_enum!(
    /// An application's life: drafted by the supplier, submitted, perhaps shortlisted, then
    /// successful or unsuccessful; the supplier may withdraw it until it is decided.
    ApplicationStatus {
        Draft => "draft",
        Submitted => "submitted",
        Shortlisted => "shortlisted",
        Successful => "successful",
        Unsuccessful => "unsuccessful",
        Withdrawn => "withdrawn",
    }
);

impl Lifecycle for ApplicationStatus {
    const INITIAL: Self = ApplicationStatus::Draft;

    fn next(&self) -> &'static [Self] {
        use ApplicationStatus::*;
        match self {
            Draft => &[Submitted, Withdrawn],
            Submitted => &[Shortlisted, Successful, Unsuccessful, Withdrawn],
            Shortlisted => &[Successful, Unsuccessful, Withdrawn],
            Successful | Unsuccessful | Withdrawn => &[],
        }
    }
}

impl ApplicationStatus {
    /// Moves the supplier makes; the others are the assessors'.
    pub fn is_suppliers_move(&self) -> bool {
        matches!(
            self,
            ApplicationStatus::Submitted | ApplicationStatus::Withdrawn
        )
    }
}

crate::text_enum!(
    /// An award (a contract): active, then completed or terminated.
    AwardStatus {
        Active => "active",
        Completed => "completed",
        Terminated => "terminated",
    }
);

impl Lifecycle for AwardStatus {
    const INITIAL: Self = AwardStatus::Active;

    fn next(&self) -> &'static [Self] {
        use AwardStatus::*;
        match self {
            Active => &[Completed, Terminated],
            Completed | Terminated => &[],
        }
    }
}

crate::text_enum!(
    /// A milestone's life: planned, invoiced, then paid; a payment may be withheld (and invoiced
    /// again once the reason is resolved).
    MilestoneStatus {
        Planned => "planned",
        Invoiced => "invoiced",
        Paid => "paid",
        Withheld => "withheld",
    }
);

impl Lifecycle for MilestoneStatus {
    const INITIAL: Self = MilestoneStatus::Planned;

    fn next(&self) -> &'static [Self] {
        use MilestoneStatus::*;
        match self {
            Planned => &[Invoiced, Withheld],
            Invoiced => &[Paid, Withheld],
            Withheld => &[Invoiced],
            Paid => &[],
        }
    }
}

crate::text_enum!(
    /// A trial's life: planned, live, then completed or stopped.
    TrialStatus {
        Planned => "planned",
        Live => "live",
        Completed => "completed",
        Stopped => "stopped",
    }
);

impl Lifecycle for TrialStatus {
    const INITIAL: Self = TrialStatus::Planned;

    fn next(&self) -> &'static [Self] {
        use TrialStatus::*;
        match self {
            Planned => &[Live, Stopped],
            Live => &[Completed, Stopped],
            Completed | Stopped => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk<S: Lifecycle + std::fmt::Debug>(all: &[S]) {
        for from in all {
            for to in all {
                let result = from.transition(*to);
                assert_eq!(result.is_ok(), from.next().contains(to), "{from} -> {to}");
                if let Err(error) = result {
                    assert_eq!(error.allowed, from.next());
                }
            }
        }
    }

    #[test]
    fn only_listed_moves_are_allowed() {
        walk(ChallengeStatus::ALL);
        walk(PhaseStatus::ALL);
        walk(ApplicationStatus::ALL);
        walk(AwardStatus::ALL);
        walk(MilestoneStatus::ALL);
        walk(TrialStatus::ALL);
    }

    #[test]
    fn a_challenge_runs_from_draft_to_completed() {
        use ChallengeStatus::*;
        let mut status = ChallengeStatus::INITIAL;
        for next in [Open, Assessing, InDelivery, Completed] {
            status = status.transition(next).unwrap();
        }
        assert_eq!(status, Completed);
        let error = Completed.transition(Open).unwrap_err();
        assert!(error.to_string().contains("final"));
    }

    #[test]
    fn an_illegal_move_names_the_allowed_ones() {
        let error = ChallengeStatus::Draft
            .transition(ChallengeStatus::Completed)
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "cannot move from draft to completed; allowed: open, cancelled"
        );
    }
}
