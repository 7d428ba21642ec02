//! Catalyst's domain: the vocabulary of SBRI-style innovation challenges and the rules that keep
//! their records trustworthy.
//!
//! This crate is pure: no I/O, no database, no web framework. Everything here can be tested with
//! plain values, and every write path in the service goes through these types and rules.

pub mod access;
pub mod application;
pub mod audience;
pub mod award;
pub mod challenge;
pub mod contact;
pub mod external_id;
pub mod ids;
pub mod import;
pub mod lifecycle;
pub mod milestone;
pub mod money;
pub mod organisation;
pub mod phase;
pub mod programme;
pub mod report;
pub mod text;
pub mod text_enum;
pub mod time;
pub mod trial;
pub mod validation;
pub mod versioned;
pub mod webhook;

pub use access::{Actor, ApiClient, Denied, Role, Scope, User, UserFields};
pub use application::{Application, ApplicationFields};
pub use audience::Audience;
pub use award::{Award, AwardFields, BudgetCheck};
pub use challenge::{Challenge, ChallengeFields, DocumentLink};
pub use contact::{Contact, ContactFields};
pub use external_id::ExternalId;
pub use ids::{
    ApplicationId, AuditId, AwardId, ChallengeId, ClientId, ContactId, MilestoneId, OrganisationId,
    OutcomeId, PhaseId, ProgrammeId, TrialId, UserId,
};
pub use import::ImportCollection;
pub use lifecycle::{
    ApplicationStatus, AwardStatus, ChallengeStatus, IllegalTransition, Lifecycle, MilestoneStatus,
    PhaseStatus, TrialStatus,
};
pub use milestone::{Milestone, MilestoneFields, MilestoneKind};
pub use money::{Currency, Money, MoneyError};
pub use organisation::{
    IdentifierScheme, Organisation, OrganisationDraft, OrganisationFields, OrganisationIdentifier,
    OrganisationKind, OrganisationPatch, Region, Scale,
};
pub use phase::{Phase, PhaseFields, PhaseKind};
pub use programme::{Programme, ProgrammeFields};
pub use text_enum::UnknownValue;
pub use time::Timestamp;
pub use trial::{Outcome, OutcomeFields, OutcomeKind, Trial, TrialFields};
pub use validation::{FieldViolation, ValidationErrors};
pub use versioned::Versioned;
