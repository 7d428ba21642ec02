//! A stored record's next version: what every change to it writes besides the change itself.

use crate::{
    Application, Award, Challenge, Contact, Milestone, Organisation, Outcome, Phase, Programme,
    Timestamp, Trial,
};

/// A record that changes by versions: each change is the next version, stamped with its time
/// (the version is its ETag, the stamp its `updated_at`).
pub trait Versioned: Clone {
    /// This record as its next version, changed at `at`; the caller then sets what changed
    /// (`Contact { fields, ..current.next_version(now) }`).
    fn next_version(&self, at: Timestamp) -> Self;
}

macro_rules! versioned {
    ($($record:ty),* $(,)?) => {
        $(impl Versioned for $record {
            fn next_version(&self, at: Timestamp) -> Self {
                Self {
                    version: self.version + 1,
                    updated_at: at,
                    ..self.clone()
                }
            }
        })*
    };
}

versioned!(
    Application,
    Award,
    Challenge,
    Contact,
    Milestone,
    Organisation,
    Outcome,
    Phase,
    Programme,
    Trial,
);

#[cfg(test)]
mod tests {
    use super::Versioned;
    use crate::{Contact, ContactFields, ContactId, OrganisationId, Timestamp};

    #[test]
    fn the_next_version_is_one_more_stamped_with_its_time_and_otherwise_the_same() {
        let created = Timestamp::now();
        let contact = Contact {
            id: ContactId::generate(),
            fields: ContactFields {
                organisation_id: OrganisationId::generate(),
                name: "A. Officer".to_owned(),
                role: None,
                email: None,
            },
            external_ids: Vec::new(),
            version: 3,
            created_at: created,
            updated_at: created,
        };
        let later = Timestamp::now();
        let next = contact.next_version(later);
        assert_eq!(next.version, 4);
        assert_eq!(next.updated_at, later);
        assert_eq!((next.id, next.created_at), (contact.id, contact.created_at));
        assert_eq!(next.fields, contact.fields);
    }
}
