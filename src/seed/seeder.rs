//! The seeder: writes records through the domain's rules, with their change-feed rows and, for
//! the demo data, their audit records (the API's resource shapes), in the caller's transaction.

use catalyst_http::resources::audit::Audited;
use catalyst_persistence::trials::outcome_store;

use super::*;

pub(super) struct Seeder<'a> {
    pub(super) connection: &'a mut DbConnection,
    pub(super) now: Timestamp,
    pub(super) created: usize,
    /// The demo data is audited like any write; the synthetic set, made for benchmarks, is not.
    pub(super) audited: bool,
    /// The synthetic set's records, kept until `flush` writes them together (`None`: each is
    /// written as it is made).
    pub(super) pending: Option<Pending>,
}

/// Records made and not yet written. They are written together, in multi-row statements,
/// each as it stands at the end (a phase with its awards committed, an award with its
/// payments), with a change row each in the order they were made.
#[derive(Default)]
pub(super) struct Pending {
    challenges: Vec<Challenge>,
    phases: Vec<Phase>,
    applications: Vec<Application>,
    awards: Vec<Award>,
    milestones: Vec<Milestone>,
    trials: Vec<Trial>,
    outcomes: Vec<Outcome>,
    /// What was made, in order: its change row's maker, its place in its list, its audience.
    made: Vec<(ChangeOf, usize, Audience)>,
}

/// The change row of the record at an index of a pending list: entity, id and state.
type ChangeOf = fn(&Pending, usize) -> Result<(&'static str, String, String), SeedError>;

/// A record the seeder writes: where it waits while pending and how it is stored alone; its
/// collection and the resource its change row and audit record hold are the API's
/// ([`Audited`]).
pub(super) trait Seeded: Audited + Sized + 'static {
    fn waiting(pending: &mut Pending) -> &mut Vec<Self>;
    fn waiting_in(pending: &Pending) -> &Vec<Self>;
    fn insert(connection: &mut DbConnection, record: &Self) -> Result<(), StoreError>;

    fn change_at(
        pending: &Pending,
        index: usize,
    ) -> Result<(&'static str, String, String), SeedError> {
        let record = &Self::waiting_in(pending)[index];
        Ok((Self::ENTITY, record.audited_id(), state_of(record)?))
    }
}

/// The API's resource for a record, as JSON (the change row's and audit record's state).
fn state_of<T: Audited>(record: &T) -> Result<String, SeedError> {
    serde_json::to_string(&T::Resource::from(record)).map_err(|error| invalid(T::ENTITY, error))
}

macro_rules! seeded {
    ($record:ty, $list:ident, $store:ident) => {
        impl Seeded for $record {
            fn waiting(pending: &mut Pending) -> &mut Vec<Self> {
                &mut pending.$list
            }
            fn waiting_in(pending: &Pending) -> &Vec<Self> {
                &pending.$list
            }
            fn insert(connection: &mut DbConnection, record: &Self) -> Result<(), StoreError> {
                $store::insert(connection, record)
            }
        }
    };
}

seeded!(Challenge, challenges, challenges);
seeded!(Phase, phases, phases);
seeded!(Application, applications, applications);
seeded!(Award, awards, awards);
seeded!(Milestone, milestones, milestones);
seeded!(Trial, trials, trials);
seeded!(Outcome, outcomes, outcome_store);

impl Seeder<'_> {
    /// Writes a record (or, for the synthetic set, keeps it for `flush`) with its change row.
    pub(super) fn save<T: Seeded>(
        &mut self,
        record: T,
        audience: Audience,
    ) -> Result<(), SeedError> {
        if let Some(pending) = &mut self.pending {
            let index = T::waiting(pending).len();
            pending.made.push((T::change_at, index, audience));
            T::waiting(pending).push(record);
            self.created += 1;
            return Ok(());
        }
        T::insert(self.connection, &record)?;
        self.audit(&record, audience)
    }

    /// Writes the pending records, list by list in multi-row statements, then their change rows
    /// in the order the records were made.
    pub(super) fn flush(&mut self) -> Result<(), SeedError> {
        let Some(pending) = self.pending.take() else {
            return Ok(());
        };
        challenges::insert_all(self.connection, &pending.challenges)?;
        phases::insert_all(self.connection, &pending.phases)?;
        applications::insert_all(self.connection, &pending.applications)?;
        awards::insert_all(self.connection, &pending.awards)?;
        milestones::insert_all(self.connection, &pending.milestones)?;
        trials::insert_all(self.connection, &pending.trials)?;
        trials::outcome_store::insert_all(self.connection, &pending.outcomes)?;
        let made = pending
            .made
            .iter()
            .map(|(change_of, index, audience)| {
                change_of(&pending, *index)
                    .map(|(entity, id, state)| (entity, id, state, *audience))
            })
            .collect::<Result<Vec<_>, SeedError>>()?;
        let rows: Vec<changes::NewChange<'_>> = made
            .iter()
            .map(|(entity, id, state, audience)| changes::NewChange {
                entity,
                entity_id: id,
                operation: changes::Operation::Create,
                version: 1,
                state: Some(state),
                audience: *audience,
                occurred_at: self.now,
            })
            .collect();
        changes::record_all(self.connection, &rows)?;
        self.pending = Some(Pending::default());
        Ok(())
    }

    /// Claims `amount` of a phase's budget, as the API does (false: over budget).
    fn commit(&mut self, phase: &Phase, amount: Money) -> Result<bool, SeedError> {
        let Some(pending) = &mut self.pending else {
            let amount = amount.minor_units();
            return Ok(phases::commit(self.connection, phase.id, amount, self.now)?);
        };
        let waiting = pending
            .phases
            .iter_mut()
            .rev()
            .find(|waiting| waiting.id == phase.id);
        let budget = phase.fields.budget;
        add_within(
            waiting.map(|phase| &mut phase.committed),
            amount,
            budget,
            "phase",
        )
    }

    /// Pays `amount` of an award, as the API does (false: more than the award).
    fn pay(&mut self, award: &Award, amount: Money) -> Result<bool, SeedError> {
        let Some(pending) = &mut self.pending else {
            let amount = amount.minor_units();
            return Ok(awards::pay(self.connection, award.id, amount, self.now)?);
        };
        let waiting = pending
            .awards
            .iter_mut()
            .rev()
            .find(|waiting| waiting.id == award.id);
        add_within(
            waiting.map(|award| &mut award.paid),
            amount,
            award.fields.amount,
            "award",
        )
    }

    /// Records a created record in the change feed, and for the demo in the audit trail too.
    /// The change row of a record written alone and, for the demo data, its audit record.
    pub(super) fn audit<T: Audited>(
        &mut self,
        record: &T,
        audience: Audience,
    ) -> Result<(), SeedError> {
        let state = state_of(record)?;
        self.audit_state(T::ENTITY, record.audited_id(), audience, state)
    }

    fn audit_state(
        &mut self,
        entity: &str,
        id: String,
        audience: Audience,
        state: String,
    ) -> Result<(), SeedError> {
        self.created += 1;
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
        self.audit(&organisation, Audience::Public)?;
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
        self.save(challenge.clone(), challenge.audience())?;
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
        self.save(phase.clone(), challenge.audience())?;
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
        self.save(application.clone(), application.audience())?;
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
        if !self.commit(phase, fields.amount)? {
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
        self.save(award.clone(), Audience::Public)?;
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
        if paid_on.is_some() && !self.pay(award, amount)? {
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
        let audience = milestone.audience();
        self.save(milestone, audience)
    }
}

/// Adds `amount` to a pending record's `total` unless that would pass `limit` (false).
fn add_within(
    total: Option<&mut Money>,
    amount: Money,
    limit: Money,
    what: &str,
) -> Result<bool, SeedError> {
    let Some(total) = total else {
        return Err(invalid(what, "not made in this batch"));
    };
    let sum = total
        .checked_add(amount)
        .map_err(|error| invalid(what, error))?;
    if sum.minor_units() > limit.minor_units() {
        return Ok(false);
    }
    *total = sum;
    Ok(true)
}
