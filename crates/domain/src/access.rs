//! Who may do what: people with roles and memberships, API clients with scopes, and the
//! permission rules that every handler asks before it acts.

use crate::ids::{ClientId, OrganisationId, UserId};
use crate::text::{self, Lines};
use crate::time::Timestamp;
use crate::validation::{FieldViolation, ValidationErrors};

crate::text_enum!(
    /// What a person does in Catalyst.
    Role {
        /// Everything, including users, memberships and API clients.
        Admin => "admin",
        /// Manages programmes, reads everything in them, runs reports.
        ProgrammeManager => "programme_manager",
        /// Manages its own public body's challenges, phases, awards and trials.
        AuthorityOfficer => "authority_officer",
        /// Applies for and delivers contracts for its own organisation.
        Supplier => "supplier",
    }
);

crate::text_enum!(
    /// What an API client may do.
    Scope {
        /// Read what the client may see.
        Read => "read",
        /// Create, change and delete.
        Write => "write",
        /// Run reports and exports.
        Reports => "reports",
        /// Manage webhook subscriptions.
        Webhooks => "webhooks",
        /// Scrape `/metrics`.
        Metrics => "metrics",
    }
);

/// Whoever makes a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Anonymous,
    User {
        id: UserId,
        role: Role,
        organisations: Vec<OrganisationId>,
    },
    Client {
        id: ClientId,
        scopes: Vec<Scope>,
        /// `None`: any organisation; otherwise only these.
        organisations: Option<Vec<OrganisationId>>,
    },
}

/// Why an action is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// No credentials where some are needed: 401.
    #[error("sign in to do this")]
    Unauthenticated,
    /// Authenticated but not allowed: 403.
    #[error("you may not do this")]
    Forbidden,
}

impl Actor {
    pub fn is_admin(&self) -> bool {
        matches!(
            self,
            Actor::User {
                role: Role::Admin,
                ..
            }
        )
    }

    pub fn has_role(&self, wanted: Role) -> bool {
        matches!(self, Actor::User { role, .. } if *role == wanted)
    }

    pub fn has_scope(&self, wanted: Scope) -> bool {
        matches!(self, Actor::Client { scopes, .. } if scopes.contains(&wanted))
    }

    /// Whether the actor acts for `organisation`: a member, or a client not restricted away
    /// from it.
    pub fn acts_for(&self, organisation: OrganisationId) -> bool {
        match self {
            Actor::Anonymous => false,
            Actor::User { organisations, .. } => organisations.contains(&organisation),
            Actor::Client { organisations, .. } => organisations
                .as_ref()
                .is_none_or(|allowed| allowed.contains(&organisation)),
        }
    }

    /// `sub` in tokens and `actor` in the audit trail: `user:<id>` or `client:<id>`.
    pub fn subject(&self) -> Option<String> {
        match self {
            Actor::Anonymous => None,
            Actor::User { id, .. } => Some(format!("user:{id}")),
            Actor::Client { id, .. } => Some(format!("client:{id}")),
        }
    }

    /// Whose records of a per-owner collection (imports, webhooks) the caller lists: an admin
    /// everyone's (`None`), anyone else its own (its subject). For a signed-in caller: an
    /// anonymous one has no subject, so it is refused before this is asked.
    pub fn owner_filter(&self) -> Option<String> {
        if self.is_admin() {
            None
        } else {
            self.subject()
        }
    }

    /// Whether the caller may see a per-owner record (an import, a webhook) of `owner`: an admin
    /// any, anyone else its own.
    pub fn owns(&self, owner: &str) -> bool {
        self.is_admin() || self.subject().as_deref() == Some(owner)
    }

    /// Any signed-in caller: a user or an API client.
    pub fn signed_in(&self) -> Result<(), Denied> {
        match self {
            Actor::Anonymous => Err(Denied::Unauthenticated),
            _ => Ok(()),
        }
    }

    fn allow(&self, allowed: bool) -> Result<(), Denied> {
        self.signed_in()?;
        if allowed {
            Ok(())
        } else {
            Err(Denied::Forbidden)
        }
    }

    /// Organisations are public records: anyone may read them, but only staff who run
    /// programmes (or a client with `write`) may add them.
    pub fn may_create_organisation(&self) -> Result<(), Denied> {
        self.allow(
            self.is_admin()
                || self.has_role(Role::ProgrammeManager)
                || self.has_scope(Scope::Write),
        )
    }

    /// Programme staff, or the organisation's own members keeping their details current.
    pub fn may_update_organisation(&self, organisation: OrganisationId) -> Result<(), Denied> {
        let own = match self {
            Actor::User { .. } => self.acts_for(organisation),
            Actor::Client { .. } => self.has_scope(Scope::Write) && self.acts_for(organisation),
            Actor::Anonymous => false,
        };
        self.allow(self.is_admin() || self.has_role(Role::ProgrammeManager) || own)
    }

    /// Deleting a record others may rely on is for admins.
    pub fn may_delete_organisation(&self) -> Result<(), Denied> {
        self.allow(self.is_admin())
    }

    /// Programme staff: admins and programme managers (and clients with `write` and no
    /// organisation restriction).
    pub fn runs_programmes(&self) -> bool {
        self.is_admin()
            || self.has_role(Role::ProgrammeManager)
            || matches!(self, Actor::Client { scopes, organisations: None, .. } if scopes.contains(&Scope::Write))
    }

    /// Sees everything, drafts included: programme staff, and clients with `read` and no
    /// organisation restriction.
    pub fn sees_everything(&self) -> bool {
        self.is_admin()
            || self.has_role(Role::ProgrammeManager)
            || matches!(self, Actor::Client { scopes, organisations: None, .. } if scopes.contains(&Scope::Read))
    }

    /// The organisations whose unpublished records the actor may see (beyond what is public).
    pub fn member_organisations(&self) -> Vec<OrganisationId> {
        match self {
            Actor::User { organisations, .. } => organisations.clone(),
            Actor::Client {
                organisations: Some(organisations),
                scopes,
                ..
            } if scopes.contains(&Scope::Read) => organisations.clone(),
            _ => Vec::new(),
        }
    }

    /// Programmes are managed by programme staff.
    pub fn may_manage_programmes(&self) -> Result<(), Denied> {
        self.allow(self.runs_programmes())
    }

    /// A public body's challenges (and their phases) are managed by programme staff and by the
    /// body's own officers (or a client with `write` acting for it).
    pub fn may_manage_challenges_of(&self, owner: OrganisationId) -> Result<(), Denied> {
        let own = match self {
            Actor::User {
                role: Role::AuthorityOfficer,
                ..
            } => self.acts_for(owner),
            Actor::Client { .. } => self.has_scope(Scope::Write) && self.acts_for(owner),
            _ => false,
        };
        self.allow(self.runs_programmes() || own)
    }

    /// An organisation's contacts are seen and kept by programme staff and its own members.
    pub fn may_see_contacts_of(&self, organisation: OrganisationId) -> bool {
        self.sees_everything() || self.member_organisations().contains(&organisation)
    }

    pub fn may_manage_contacts_of(&self, organisation: OrganisationId) -> Result<(), Denied> {
        let own = match self {
            Actor::User { .. } => self.acts_for(organisation),
            Actor::Client { .. } => self.has_scope(Scope::Write) && self.acts_for(organisation),
            Actor::Anonymous => false,
        };
        self.allow(self.runs_programmes() || own)
    }

    /// Users, memberships and API clients are managed by admins.
    pub fn may_administer(&self) -> Result<(), Denied> {
        self.allow(self.is_admin())
    }

    /// The audit trail as a whole: admins and programme managers.
    pub fn may_read_audit(&self) -> Result<(), Denied> {
        self.allow(self.is_admin() || self.has_role(Role::ProgrammeManager))
    }
}

/// A person who signs in. The password hash is kept by persistence, never here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub organisations: Vec<OrganisationId>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl User {
    pub fn actor(&self) -> Actor {
        Actor::User {
            id: self.id,
            role: self.role,
            organisations: self.organisations.clone(),
        }
    }
}

/// The shortest password accepted (NCSC guidance favours length over composition rules).
pub const PASSWORD_MIN_CHARS: usize = 12;
pub const PASSWORD_MAX_CHARS: usize = 256;

/// Checks a new password's length.
pub fn validate_password(password: &str, path: &str, errors: &mut ValidationErrors) {
    let length = password.chars().count();
    if length < PASSWORD_MIN_CHARS {
        errors.push(FieldViolation::new(
            path,
            "too_short",
            format!("the password must be at least {PASSWORD_MIN_CHARS} characters"),
        ));
    } else if length > PASSWORD_MAX_CHARS {
        errors.push(FieldViolation::new(
            path,
            "too_long",
            format!("the password must be at most {PASSWORD_MAX_CHARS} characters"),
        ));
    }
}

/// Normalises an email address (trimmed, lower case) and checks its shape.
pub fn validate_email(email: &str, path: &str, errors: &mut ValidationErrors) -> Option<String> {
    let email = text::required_text(email, path, 254, Lines::Single, errors)?.to_lowercase();
    let valid = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.chars().any(char::is_whitespace)
                && !domain.contains('@')
        }
        None => false,
    };
    if valid {
        Some(email)
    } else {
        errors.push(FieldViolation::new(
            path,
            "invalid_email",
            format!(
                "{} must be an email address such as officer@leeds.gov.uk",
                text::field_name(path)
            ),
        ));
        None
    }
}

/// A new user's details, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserFields {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub organisations: Vec<OrganisationId>,
}

impl UserFields {
    /// Authority officers and suppliers act for organisations, so they need at least one.
    pub fn validate(
        email: &str,
        name: &str,
        role: Role,
        organisations: Vec<OrganisationId>,
    ) -> Result<UserFields, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let email = validate_email(email, "email", &mut errors);
        let name = text::required_text(name, "name", 200, Lines::Single, &mut errors);
        if matches!(role, Role::AuthorityOfficer | Role::Supplier) && organisations.is_empty() {
            errors.push(FieldViolation::new(
                "organisation_ids",
                "required",
                format!("a {role} must be a member of at least one organisation"),
            ));
        }
        match (email, name) {
            (Some(email), Some(name)) if errors.is_empty() => Ok(UserFields {
                email,
                name,
                role,
                organisations,
            }),
            _ => Err(errors),
        }
    }
}

/// An API client: credentials for a partner's system or a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiClient {
    pub id: ClientId,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub organisations: Option<Vec<OrganisationId>>,
    pub revoked_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub version: i64,
}

impl ApiClient {
    pub fn actor(&self) -> Actor {
        Actor::Client {
            id: self.id,
            scopes: self.scopes.clone(),
            organisations: self.organisations.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role, organisations: Vec<OrganisationId>) -> Actor {
        Actor::User {
            id: UserId::generate(),
            role,
            organisations,
        }
    }

    #[test]
    fn per_owner_records_are_an_admins_to_see_all_and_others_their_own() {
        let admin = user(Role::Admin, vec![]);
        let supplier = user(Role::Supplier, vec![]);
        let own = supplier.subject().expect("a user has a subject");
        assert_eq!(admin.owner_filter(), None);
        assert_eq!(supplier.owner_filter(), Some(own.clone()));
        assert!(admin.owns(&own) && supplier.owns(&own));
        assert!(!supplier.owns("user:someone-else"));
        assert!(!Actor::Anonymous.owns(&own));
    }

    #[test]
    fn anonymous_callers_are_asked_to_sign_in_not_refused() {
        assert_eq!(
            Actor::Anonymous.may_create_organisation(),
            Err(Denied::Unauthenticated)
        );
    }

    #[test]
    fn members_may_update_their_own_organisation_only() {
        let leeds = OrganisationId::generate();
        let york = OrganisationId::generate();
        let officer = user(Role::AuthorityOfficer, vec![leeds]);
        assert_eq!(officer.may_update_organisation(leeds), Ok(()));
        assert_eq!(
            officer.may_update_organisation(york),
            Err(Denied::Forbidden)
        );
        assert_eq!(officer.may_create_organisation(), Err(Denied::Forbidden));
        assert_eq!(officer.may_delete_organisation(), Err(Denied::Forbidden));
    }

    #[test]
    fn clients_act_within_their_scopes_and_organisations() {
        let leeds = OrganisationId::generate();
        let reader = Actor::Client {
            id: ClientId::generate(),
            scopes: vec![Scope::Read],
            organisations: None,
        };
        assert_eq!(reader.may_create_organisation(), Err(Denied::Forbidden));
        let writer = Actor::Client {
            id: ClientId::generate(),
            scopes: vec![Scope::Read, Scope::Write],
            organisations: Some(vec![leeds]),
        };
        assert_eq!(writer.may_update_organisation(leeds), Ok(()));
        assert_eq!(
            writer.may_update_organisation(OrganisationId::generate()),
            Err(Denied::Forbidden)
        );
    }

    #[test]
    fn officers_and_suppliers_need_an_organisation() {
        let errors = UserFields::validate("a@b.org", "A", Role::Supplier, vec![]).unwrap_err();
        assert_eq!(errors.violations()[0].pointer, "#/organisation_ids");
        assert!(UserFields::validate("a@b.org", "A", Role::ProgrammeManager, vec![]).is_ok());
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        let mut errors = ValidationErrors::default();
        assert_eq!(
            validate_email(" Officer@Leeds.GOV.uk ", "email", &mut errors).as_deref(),
            Some("officer@leeds.gov.uk")
        );
        for bad in ["officer", "officer@leeds", "a b@c.org", "@leeds.gov.uk"] {
            assert!(validate_email(bad, "email", &mut errors).is_none(), "{bad}");
        }
    }

    #[test]
    fn short_passwords_are_refused() {
        let mut errors = ValidationErrors::default();
        validate_password("short", "password", &mut errors);
        assert_eq!(errors.violations()[0].code, "too_short");
    }
}
