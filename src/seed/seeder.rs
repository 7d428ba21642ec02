//! The seeder: writes records through the domain's rules, with their change-feed rows and, for
//! the demo data, their audit records (the API's resource shapes), in the caller's transaction.

use super::*;

pub(super) struct Seeder<'a> {
    pub(super) connection: &'a mut DbConnection,
    pub(super) now: Timestamp,
    pub(super) created: usize,
    /// The demo data is audited like any write; the synthetic set, made for benchmarks, is not.
    pub(super) audited: bool,
}

impl Seeder<'_> {
    /// Records a created record in the change feed, and for the demo in the audit trail too.
    pub(super) fn audit<T: serde::Serialize>(
        &mut self,
        entity: &str,
        id: String,
        audience: Audience,
        resource: &T,
    ) -> Result<(), SeedError> {
        self.created += 1;
        let state = serde_json::to_string(resource).map_err(|error| invalid(entity, error))?;
        changes::record(
            self.connection,
            &changes::NewChange {
                entity,
                entity_id: &id,
                operation: changes::Operation::Create,
                version: 1,
                state: Some(&state),
                audience,
                occurred_at: self.now,
            },
        )?;
        if !self.audited {
            return Ok(());
        }
        let record = audit::AuditRecord::new(
            "system:seed-demo".to_owned(),
            "create",
            entity,
            id,
            Some(1),
            None,
            Some(state),
            None,
        );
        Ok(audit::record(self.connection, &record)?)
    }

    pub(super) fn organisation(
        &mut self,
        name: &str,
        kind: OrganisationKind,
        scale: Option<Scale>,
        region: Option<Region>,
        identifier: Option<(catalyst_domain::IdentifierScheme, &str)>,
        website: Option<&str>,
    ) -> Result<OrganisationId, SeedError> {
        let fields = OrganisationDraft {
            name: name.to_owned(),
            kind,
            scale,
            region,
            identifier: identifier.map(|(scheme, id)| OrganisationIdentifier {
                scheme,
                id: id.to_owned(),
            }),
            website: website.map(str::to_owned),
        }
        .validate()
        .map_err(|errors| invalid(name, format!("{errors:?}")))?;
        let organisation = Organisation::create(fields, self.now);
        organisations::insert(self.connection, &organisation)?;
        self.audit(
            "organisations",
            organisation.id.to_string(),
            Audience::Public,
            &catalyst_http::resources::organisations::OrganisationResource::from(&organisation),
        )?;
        Ok(organisation.id)
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn challenge(
        &mut self,
        programme: catalyst_domain::ProgrammeId,
        owner: OrganisationId,
        reference: &str,
        title: &str,
        problem: &str,
        themes: &[&str],
        status: ChallengeStatus,
        window: Option<(NaiveDate, NaiveDate)>,
    ) -> Result<Challenge, SeedError> {
        let noon = |day: NaiveDate| {
            Timestamp::from_datetime(day.and_hms_opt(12, 0, 0).unwrap_or_default().and_utc())
        };
        let fields = ChallengeFields {
            programme_id: programme,
            owner_organisation_id: owner,
            reference: reference.to_owned(),
            title: title.to_owned(),
            problem_statement: problem.to_owned(),
            themes: themes.iter().map(|theme| (*theme).to_owned()).collect(),
            opens_at: window.map(|(opens, _)| noon(opens)),
            closes_at: window.map(|(_, closes)| noon(closes)),
            documents: vec![],
        }
        .validate()
        .map_err(|errors| invalid(reference, format!("{errors:?}")))?;
        let challenge = Challenge {
            status,
            ..Challenge::create(fields, self.now)
        };
        challenges::insert(self.connection, &challenge)?;
        self.audit(
            "challenges",
            challenge.id.to_string(),
            challenge.audience(),
            &catalyst_http::resources::challenges::ChallengeResource::from(&challenge),
        )?;
        Ok(challenge)
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn phase(
        &mut self,
        challenge: &Challenge,
        number: i32,
        kind: PhaseKind,
        budget: i64,
        cap: i64,
        dates: (NaiveDate, NaiveDate),
        status: PhaseStatus,
    ) -> Result<Phase, SeedError> {
        let fields = PhaseFields {
            challenge_id: challenge.id,
            number,
            kind,
            budget: gbp(budget)?,
            max_award: gbp(cap)?,
            max_suppliers: None,
            starts_on: Some(dates.0),
            ends_on: Some(dates.1),
            open_to_all: false,
        }
        .validate()
        .map_err(|errors| invalid("phase", format!("{errors:?}")))?;
        let phase = Phase {
            status,
            ..Phase::create(fields, self.now)
        };
        phases::insert(self.connection, &phase)?;
        self.audit(
            "phases",
            phase.id.to_string(),
            challenge.audience(),
            &catalyst_http::resources::phases::PhaseResource::from(&phase),
        )?;
        Ok(phase)
    }

    pub(super) fn application(
        &mut self,
        phase: &Phase,
        challenge: &Challenge,
        supplier: OrganisationId,
        pounds: i64,
        status: ApplicationStatus,
        score: i32,
    ) -> Result<Application, SeedError> {
        let fields = ApplicationFields {
            phase_id: phase.id,
            supplier_organisation_id: supplier,
            amount_requested: gbp(pounds)?,
            summary: "Illustrative summary: sensors and analytics to monitor the condition of council homes.".to_owned(),
        }
        .validate(&phase.fields)
        .map_err(|errors| invalid("application", format!("{errors:?}")))?;
        let application = Application {
            external_ids: Vec::new(),
            id: ApplicationId::generate(),
            fields,
            challenge_id: challenge.id,
            owner_organisation_id: challenge.fields.owner_organisation_id,
            status,
            assessment_score: Some(score),
            submitted_at: phase.fields.starts_on.map(|_| self.now),
            version: 1,
            created_at: self.now,
            updated_at: self.now,
        };
        applications::insert(self.connection, &application)?;
        self.audit(
            "applications",
            application.id.to_string(),
            application.audience(),
            &catalyst_http::resources::applications::ApplicationResource::from(&application),
        )?;
        Ok(application)
    }

    /// An award through the same budget rule as the API: the phase's committed sum is claimed.
    pub(super) fn award(
        &mut self,
        phase: &Phase,
        challenge: &Challenge,
        application: &Application,
        reference: &str,
        parent: Option<AwardId>,
    ) -> Result<Award, SeedError> {
        let fields = AwardFields {
            phase_id: phase.id,
            application_id: application.id,
            supplier_organisation_id: application.fields.supplier_organisation_id,
            contract_reference: reference.to_owned(),
            amount: application.fields.amount_requested,
            vat_included: true,
            starts_on: phase.fields.starts_on,
            ends_on: phase.fields.ends_on,
            parent_award_id: parent,
        }
        .validate(&phase.fields)
        .map_err(|errors| invalid(reference, format!("{errors:?}")))?;
        if !phases::commit(
            self.connection,
            phase.id,
            fields.amount.minor_units(),
            self.now,
        )? {
            return Err(invalid(reference, "over the phase budget"));
        }
        let award = Award {
            external_ids: Vec::new(),
            id: AwardId::generate(),
            paid: Money::zero(fields.amount.currency()),
            fields,
            challenge_id: challenge.id,
            owner_organisation_id: challenge.fields.owner_organisation_id,
            status: if phase.status == PhaseStatus::Completed {
                AwardStatus::Completed
            } else {
                AwardStatus::Active
            },
            version: 1,
            created_at: self.now,
            updated_at: self.now,
        };
        awards::insert(self.connection, &award)?;
        self.audit(
            "awards",
            award.id.to_string(),
            Audience::Public,
            &catalyst_http::resources::awards::AwardResource::from(&award),
        )?;
        Ok(award)
    }

    /// A payment milestone; `invoiced_on` invoices it, and `paid_on` pays it through the
    /// award's paid figure.
    pub(super) fn tranche(
        &mut self,
        award: &Award,
        title: &str,
        share_percent: i64,
        due_on: NaiveDate,
        (invoiced_on, paid_on): (Option<NaiveDate>, Option<NaiveDate>),
    ) -> Result<(), SeedError> {
        let amount = Money::gbp_pence(award.fields.amount.minor_units() * share_percent / 100)
            .map_err(|error| invalid(title, error))?;
        let fields = MilestoneFields {
            award_id: award.id,
            kind: MilestoneKind::Payment,
            title: title.to_owned(),
            due_on: Some(due_on),
            amount: Some(amount),
        }
        .validate(award.fields.amount)
        .map_err(|errors| invalid(title, format!("{errors:?}")))?;
        if paid_on.is_some()
            && !awards::pay(self.connection, award.id, amount.minor_units(), self.now)?
        {
            return Err(invalid(title, "over the award"));
        }
        let milestone = Milestone {
            external_ids: Vec::new(),
            id: MilestoneId::generate(),
            fields,
            supplier_organisation_id: award.fields.supplier_organisation_id,
            owner_organisation_id: award.owner_organisation_id,
            status: match (invoiced_on, paid_on) {
                (_, Some(_)) => MilestoneStatus::Paid,
                (Some(_), None) => MilestoneStatus::Invoiced,
                (None, None) => MilestoneStatus::Planned,
            },
            invoiced_on,
            paid_on,
            version: 1,
            created_at: self.now,
            updated_at: self.now,
        };
        milestones::insert(self.connection, &milestone)?;
        self.audit(
            "milestones",
            milestone.id.to_string(),
            milestone.audience(),
            &catalyst_http::resources::milestones::MilestoneResource::from(&milestone),
        )
    }
}
