//! Contacts: a person at an organisation, kept minimal (a name, a role, an email; nothing more
//! personal).

use crate::ids::{ContactId, OrganisationId};
use crate::text::{self, Lines};
use crate::time::Timestamp;
use crate::validation::ValidationErrors;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactFields {
    pub organisation_id: OrganisationId,
    pub name: String,
    /// Their role, such as "Innovation lead".
    pub role: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub id: ContactId,
    pub fields: ContactFields,
    /// Partners' keys for it (each source once).
    pub external_ids: Vec<crate::ExternalId>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl ContactFields {
    pub fn validate(self) -> Result<ContactFields, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let name = text::required_text(&self.name, "name", 200, Lines::Single, &mut errors);
        let role = text::optional_text(
            self.role.as_deref(),
            "role",
            200,
            Lines::Single,
            &mut errors,
        );
        let email = self
            .email
            .as_deref()
            .filter(|email| !email.trim().is_empty())
            .and_then(|email| crate::access::validate_email(email, "email", &mut errors));
        match name {
            Some(name) if errors.is_empty() => Ok(ContactFields {
                name,
                role,
                email,
                ..self
            }),
            _ => Err(errors),
        }
    }
}
