//! Typed identifiers. Every entity has its own id type so that an organisation id can never be
//! passed where a challenge id is expected. Ids are UUIDv7: time-ordered, so they index well and
//! break ties in keyset pagination in creation order.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! entity_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new, time-ordered (v7) id.
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }

            pub fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // Hyphenated lower case: the one spelling we store and send.
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

entity_id!(
    /// Identifies an organisation: a public body, a supplier or anyone else in a programme.
    OrganisationId
);

entity_id!(
    /// Identifies a person who signs in.
    UserId
);

entity_id!(
    /// Identifies an API client: an integration partner's or a script's credentials.
    ClientId
);

entity_id!(
    /// Identifies a programme: a fund that runs rounds of challenges.
    ProgrammeId
);

entity_id!(
    /// Identifies a challenge posed by a public body.
    ChallengeId
);

entity_id!(
    /// Identifies a phase of a challenge (feasibility, prototype, deployment).
    PhaseId
);

entity_id!(
    /// Identifies a supplier's application to a phase.
    ApplicationId
);

entity_id!(
    /// Identifies an award: a contract with one supplier in one phase.
    AwardId
);

entity_id!(
    /// Identifies a milestone of an award: a delivery, a report or a payment.
    MilestoneId
);

entity_id!(
    /// Identifies a trial of a solution with a host body.
    TrialId
);

entity_id!(
    /// Identifies a measured outcome of a trial.
    OutcomeId
);

entity_id!(
    /// Identifies a contact: a person at an organisation.
    ContactId
);

entity_id!(
    /// Identifies an audit record.
    AuditId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_version_7_and_increase() {
        let first = OrganisationId::generate();
        let second = OrganisationId::generate();
        assert_eq!(first.as_uuid().get_version_num(), 7);
        assert!(second > first, "v7 ids must be time-ordered");
    }

    #[test]
    fn ids_round_trip_through_their_text_form() {
        let id = OrganisationId::generate();
        let parsed: OrganisationId = id.to_string().parse().unwrap();
        assert_eq!(parsed, id);
        assert!("not-a-uuid".parse::<OrganisationId>().is_err());
    }
}
