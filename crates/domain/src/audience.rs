//! Who may see a record: the rule the change feed and webhooks apply to each change, so that a
//! change reaches exactly those who may read the record it describes.

use crate::access::Actor;
use crate::ids::OrganisationId;
use crate::{Application, Challenge, Contact, Milestone, Trial};

/// The readers of a record at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Everyone, signed in or not.
    Public,
    /// Programme staff and the members of these organisations (the owner and, where there is
    /// one, the supplier).
    Parties {
        first: OrganisationId,
        second: Option<OrganisationId>,
    },
    /// Admins only: people and credentials.
    Admins,
}

impl Audience {
    pub fn party(organisation: OrganisationId) -> Self {
        Audience::Parties {
            first: organisation,
            second: None,
        }
    }

    pub fn parties(first: OrganisationId, second: OrganisationId) -> Self {
        Audience::Parties {
            first,
            second: (second != first).then_some(second),
        }
    }

    /// Whether `actor` is among the readers.
    pub fn includes(&self, actor: &Actor) -> bool {
        match self {
            Audience::Public => true,
            Audience::Admins => actor.is_admin(),
            Audience::Parties { first, second } => {
                actor.sees_everything() || {
                    let members = actor.member_organisations();
                    members.contains(first) || second.is_some_and(|s| members.contains(&s))
                }
            }
        }
    }

    /// Whether every reader of `self` is also a reader of `other` (so nobody loses sight of the
    /// record when it moves from `self` to `other`).
    pub fn within(&self, other: &Audience) -> bool {
        match (self, other) {
            (_, Audience::Public) => true,
            (Audience::Public, _) => false,
            (Audience::Admins, _) => true,
            (Audience::Parties { .. }, Audience::Admins) => false,
            (Audience::Parties { first, second }, Audience::Parties { .. }) => {
                let parties = |audience: &Audience| match audience {
                    Audience::Parties { first, second } => vec![Some(*first), *second],
                    _ => Vec::new(),
                };
                let theirs = parties(other);
                [Some(*first), *second]
                    .iter()
                    .flatten()
                    .all(|party| theirs.contains(&Some(*party)))
            }
        }
    }
}

impl Challenge {
    /// Drafts are seen by the owner's members and programme staff; published challenges, and
    /// their phases, by everyone.
    pub fn audience(&self) -> Audience {
        if self.is_published() {
            Audience::Public
        } else {
            Audience::party(self.fields.owner_organisation_id)
        }
    }
}

impl Application {
    pub fn audience(&self) -> Audience {
        Audience::parties(
            self.fields.supplier_organisation_id,
            self.owner_organisation_id,
        )
    }
}

impl Milestone {
    pub fn audience(&self) -> Audience {
        Audience::parties(self.supplier_organisation_id, self.owner_organisation_id)
    }
}

impl Trial {
    /// A trial, and its outcomes, are public when marked so; otherwise the host's and the
    /// supplier's.
    pub fn audience(&self) -> Audience {
        if self.fields.public {
            Audience::Public
        } else {
            match self.supplier_organisation_id {
                Some(supplier) => Audience::parties(self.fields.host_organisation_id, supplier),
                None => Audience::party(self.fields.host_organisation_id),
            }
        }
    }
}

impl Contact {
    pub fn audience(&self) -> Audience {
        Audience::party(self.fields.organisation_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Role;
    use crate::ids::UserId;

    fn member_of(organisation: OrganisationId) -> Actor {
        Actor::User {
            id: UserId::generate(),
            role: Role::Supplier,
            organisations: vec![organisation],
        }
    }

    #[test]
    fn parties_reach_their_members_and_staff_only() {
        let (leeds, homelink, other) = (
            OrganisationId::generate(),
            OrganisationId::generate(),
            OrganisationId::generate(),
        );
        let audience = Audience::parties(leeds, homelink);
        assert!(audience.includes(&member_of(leeds)));
        assert!(audience.includes(&member_of(homelink)));
        assert!(!audience.includes(&member_of(other)));
        assert!(!audience.includes(&Actor::Anonymous));
        let manager = Actor::User {
            id: UserId::generate(),
            role: Role::ProgrammeManager,
            organisations: vec![],
        };
        assert!(audience.includes(&manager));
        assert!(!Audience::Admins.includes(&manager));
    }

    #[test]
    fn narrowing_is_seen_when_someone_loses_sight() {
        let (leeds, homelink) = (OrganisationId::generate(), OrganisationId::generate());
        assert!(!Audience::Public.within(&Audience::party(leeds)));
        assert!(Audience::party(leeds).within(&Audience::Public));
        assert!(Audience::party(leeds).within(&Audience::parties(leeds, homelink)));
        assert!(!Audience::parties(leeds, homelink).within(&Audience::party(leeds)));
        assert!(Audience::party(leeds).within(&Audience::party(leeds)));
    }
}
