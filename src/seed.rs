//! `catalyst seed demo`: a realistic, internally consistent data set built from the GovTech
//! Catalyst's public facts. Where it invents (most supplier names, amounts beyond the published
//! ones, dates, measurements), the record says "illustrative". It loads in one transaction and
//! only once: a second run finds the programme and changes nothing.

use catalyst_domain::{
    Application, ApplicationFields, ApplicationId, ApplicationStatus, Audience, Award, AwardFields,
    AwardId, AwardStatus, Challenge, ChallengeFields, ChallengeStatus, Milestone, MilestoneFields,
    MilestoneId, MilestoneKind, MilestoneStatus, Money, Organisation, OrganisationDraft,
    OrganisationId, OrganisationIdentifier, OrganisationKind, Outcome, OutcomeFields, OutcomeId,
    OutcomeKind, Phase, PhaseFields, PhaseKind, PhaseStatus, Programme, ProgrammeFields, Region,
    Scale, Timestamp, Trial, TrialFields, TrialId, TrialStatus,
};
use catalyst_persistence::{
    applications, audit, awards, challenges, changes, milestones, organisations, phases,
    programmes, transaction, trials, DbConnection, Pool, StoreError,
};
use chrono::NaiveDate;

const PROGRAMME_CODE: &str = "GOVTECH-CATALYST";

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("the demo data breaks a rule ({what}): {detail}")]
    Invalid { what: String, detail: String },
}

fn invalid(what: &str, detail: impl std::fmt::Display) -> SeedError {
    SeedError::Invalid {
        what: what.to_owned(),
        detail: detail.to_string(),
    }
}

/// When the GovTech Catalyst's third round took applications (illustrative dates).
const ROUND_THREE_COMPETITION: (NaiveDate, NaiveDate) = (
    match NaiveDate::from_ymd_opt(2019, 5, 1) {
        Some(day) => day,
        None => NaiveDate::MIN,
    },
    match NaiveDate::from_ymd_opt(2019, 6, 12) {
        Some(day) => day,
        None => NaiveDate::MIN,
    },
);

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

fn gbp(pounds: i64) -> Result<Money, SeedError> {
    Money::gbp_pence(pounds * 100).map_err(|error| invalid("money", error))
}

struct Seeder<'a> {
    connection: &'a mut DbConnection,
    now: Timestamp,
    created: usize,
    /// The demo data is audited like any write; the synthetic set, made for benchmarks, is not.
    audited: bool,
}

impl Seeder<'_> {
    /// Records a created record in the change feed, and for the demo in the audit trail too.
    fn audit<T: serde::Serialize>(
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

    fn organisation(
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
    fn challenge(
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
    fn phase(
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

    fn application(
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
    fn award(
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

    /// A payment milestone; `paid_on` pays it through the award's paid figure.
    fn tranche(
        &mut self,
        award: &Award,
        title: &str,
        share_percent: i64,
        due_on: NaiveDate,
        paid_on: Option<NaiveDate>,
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
            status: if paid_on.is_some() {
                MilestoneStatus::Paid
            } else {
                MilestoneStatus::Planned
            },
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

/// Loads the demo data unless it is there already; returns how many records it created.
pub fn demo(pool: &Pool) -> Result<usize, String> {
    let mut connection = pool.get().map_err(|error| error.to_string())?;
    transaction(&mut connection, load).map_err(|error| error.to_string())
}

fn load(connection: &mut DbConnection) -> Result<usize, SeedError> {
    if programmes::find_by_code(connection, PROGRAMME_CODE)?.is_some() {
        return Ok(0);
    }
    let mut seed = Seeder {
        connection,
        now: Timestamp::now(),
        created: 0,
        audited: true,
    };
    use catalyst_domain::IdentifierScheme::{CompaniesHouse, LocalAuthority as Lae};
    use OrganisationKind::*;

    let gds = seed.organisation(
        "Government Digital Service",
        CentralGovernment,
        Some(Scale::Large),
        Some(Region::London),
        None,
        Some("https://www.gov.uk/government/organisations/government-digital-service"),
    )?;
    let _innovate = seed.organisation(
        "Innovate UK",
        OtherPublic,
        Some(Scale::Large),
        Some(Region::SouthWest),
        None,
        Some("https://www.ukri.org/councils/innovate-uk/"),
    )?;
    let leeds = seed.organisation(
        "Leeds City Council",
        LocalAuthority,
        Some(Scale::Large),
        Some(Region::YorkshireAndTheHumber),
        Some((Lae, "LDS")),
        Some("https://www.leeds.gov.uk"),
    )?;
    let _york = seed.organisation(
        "City of York Council",
        LocalAuthority,
        Some(Scale::Large),
        Some(Region::YorkshireAndTheHumber),
        Some((Lae, "YOR")),
        Some("https://www.york.gov.uk"),
    )?;
    let oxfordshire = seed.organisation(
        "Oxfordshire County Council",
        LocalAuthority,
        Some(Scale::Large),
        Some(Region::SouthEast),
        Some((Lae, "OXF")),
        None,
    )?;
    let snh = seed.organisation(
        "Scottish Natural Heritage",
        OtherPublic,
        Some(Scale::Large),
        Some(Region::Scotland),
        None,
        None,
    )?;
    let torfaen = seed.organisation(
        "Torfaen County Borough Council",
        LocalAuthority,
        Some(Scale::Large),
        Some(Region::Wales),
        Some((Lae, "TOF")),
        None,
    )?;
    let waltham = seed.organisation(
        "London Borough of Waltham Forest",
        LocalAuthority,
        Some(Scale::Large),
        Some(Region::London),
        Some((Lae, "WFT")),
        None,
    )?;
    let homelink = seed.organisation(
        "HomeLINK",
        Sme,
        Some(Scale::Small),
        Some(Region::London),
        None,
        None,
    )?;
    let aware = seed.organisation(
        "Aware Technologies",
        Sme,
        Some(Scale::Micro),
        Some(Region::YorkshireAndTheHumber),
        None,
        None,
    )?;
    let others = [
        seed.organisation(
            "Damp Sense Ltd (illustrative)",
            Sme,
            Some(Scale::Micro),
            Some(Region::NorthWest),
            Some((CompaniesHouse, "10000001")),
            None,
        )?,
        seed.organisation(
            "Housing Analytics Ltd (illustrative)",
            Sme,
            Some(Scale::Small),
            Some(Region::EastMidlands),
            Some((CompaniesHouse, "10000002")),
            None,
        )?,
        seed.organisation(
            "Northern Sensors Ltd (illustrative)",
            Sme,
            Some(Scale::Medium),
            Some(Region::NorthEast),
            None,
            None,
        )?,
        seed.organisation(
            "Large Systems plc (illustrative)",
            LargeBusiness,
            Some(Scale::Large),
            Some(Region::SouthEast),
            None,
            None,
        )?,
    ];

    let fields = ProgrammeFields {
        code: PROGRAMME_CODE.to_owned(),
        title: "GovTech Catalyst".to_owned(),
        description: Some("GBP 20m fund announced in November 2017, run from GDS with Innovate UK. Dates beyond the announcement are illustrative.".to_owned()),
        funder_organisation_id: gds,
        budget: gbp(20_000_000)?,
        opens_on: Some(date(2017, 11, 22)),
        closes_on: Some(date(2021, 3, 31)),
    }
    .validate()
    .map_err(|errors| invalid("programme", format!("{errors:?}")))?;
    let programme = Programme::create(fields, seed.now);
    programmes::insert(seed.connection, &programme)?;
    seed.audit(
        "programmes",
        programme.id.to_string(),
        Audience::Public,
        &catalyst_http::resources::programmes::ProgrammeResource::from(&programme),
    )?;

    // A contact at each side of the Leeds challenge (people invented: illustrative).
    for (organisation, name, role) in [
        (
            leeds,
            "Innovation lead (illustrative)",
            "Housing innovation lead",
        ),
        (
            homelink,
            "Partnerships manager (illustrative)",
            "Local authority partnerships",
        ),
    ] {
        let fields = catalyst_domain::ContactFields {
            organisation_id: organisation,
            name: name.to_owned(),
            role: Some(role.to_owned()),
            email: None,
        }
        .validate()
        .map_err(|errors| invalid(name, format!("{errors:?}")))?;
        let contact = catalyst_domain::Contact {
            external_ids: Vec::new(),
            id: catalyst_domain::ContactId::generate(),
            fields,
            version: 1,
            created_at: seed.now,
            updated_at: seed.now,
        };
        catalyst_persistence::contacts::insert(seed.connection, &contact)?;
        seed.audit(
            "contacts",
            contact.id.to_string(),
            contact.audience(),
            &catalyst_http::resources::contacts::ContactResource::from(&contact),
        )?;
    }

    // Round 3: five of seventeen submitted challenges.
    let housing = seed.challenge(
        programme.id,
        leeds,
        "GTC-R3-LEEDS",
        "Monitoring the condition of council housing",
        "How might we use technology to monitor the condition of the council's housing stock? With City of York Council.",
        &["housing", "iot"],
        ChallengeStatus::InDelivery,
        Some(ROUND_THREE_COMPETITION),
    )?;
    for (owner, reference, title, theme) in [
        (
            oxfordshire,
            "GTC-R3-OXFORDSHIRE",
            "Understanding traffic and air quality (illustrative title)",
            "transport",
        ),
        (
            snh,
            "GTC-R3-SNH",
            "Monitoring the natural environment (illustrative title)",
            "environment",
        ),
        (
            torfaen,
            "GTC-R3-TORFAEN",
            "Supporting residents digitally (illustrative title)",
            "services",
        ),
        (
            waltham,
            "GTC-R3-WALTHAM-FOREST",
            "Reducing street clutter and fly-tipping (illustrative title)",
            "environment",
        ),
    ] {
        let challenge = seed.challenge(
            programme.id,
            owner,
            reference,
            title,
            "Illustrative problem statement of a GovTech Catalyst round 3 challenge.",
            &[theme],
            ChallengeStatus::Assessing,
            Some(ROUND_THREE_COMPETITION),
        )?;
        seed.phase(
            &challenge,
            1,
            PhaseKind::Feasibility,
            250_000,
            50_000,
            (date(2019, 8, 1), date(2019, 11, 30)),
            PhaseStatus::Assessing,
        )?;
    }

    // Leeds Phase 1, Aug-Nov 2019: five SMEs at GBP 50,000 each.
    let phase_one = seed.phase(
        &housing,
        1,
        PhaseKind::Feasibility,
        250_000,
        50_000,
        (date(2019, 8, 1), date(2019, 11, 30)),
        PhaseStatus::Completed,
    )?;
    let phase_one_suppliers = [aware, homelink, others[0], others[1], others[2]];
    let mut phase_one_awards = Vec::new();
    for (index, supplier) in phase_one_suppliers.iter().enumerate() {
        let application = seed.application(
            &phase_one,
            &housing,
            *supplier,
            50_000,
            ApplicationStatus::Successful,
            80 - index as i32,
        )?;
        let award = seed.award(
            &phase_one,
            &housing,
            &application,
            &format!("LCC-GTC-P1-{:02} (illustrative)", index + 1),
            None,
        )?;
        seed.tranche(
            &award,
            "First tranche (25%)",
            25,
            date(2019, 9, 30),
            Some(date(2019, 10, 4)),
        )?;
        seed.tranche(
            &award,
            "Final tranche (75%)",
            75,
            date(2019, 11, 30),
            Some(date(2019, 12, 13)),
        )?;
        phase_one_awards.push(award);
    }
    seed.application(
        &phase_one,
        &housing,
        others[3],
        50_000,
        ApplicationStatus::Unsuccessful,
        41,
    )?;

    // Phase 2 in 2020: Aware Technologies and HomeLINK (amounts illustrative).
    let phase_two = seed.phase(
        &housing,
        2,
        PhaseKind::Prototype,
        1_000_000,
        500_000,
        (date(2020, 2, 1), date(2021, 1, 31)),
        PhaseStatus::InDelivery,
    )?;
    let mut phase_two_awards = Vec::new();
    for (index, supplier) in [aware, homelink].iter().enumerate() {
        let application = seed.application(
            &phase_two,
            &housing,
            *supplier,
            480_000,
            ApplicationStatus::Successful,
            85 - index as i32,
        )?;
        let parent = phase_one_awards[index].id;
        let award = seed.award(
            &phase_two,
            &housing,
            &application,
            &format!("LCC-GTC-P2-{:02} (illustrative)", index + 1),
            Some(parent),
        )?;
        seed.tranche(
            &award,
            "Prototype installed (25%)",
            25,
            date(2020, 5, 31),
            Some(date(2020, 6, 12)),
        )?;
        seed.tranche(&award, "Trial report (75%)", 75, date(2021, 1, 31), None)?;
        phase_two_awards.push(award);
    }
    for supplier in [others[0], others[1]] {
        seed.application(
            &phase_two,
            &housing,
            supplier,
            400_000,
            ApplicationStatus::Unsuccessful,
            55,
        )?;
    }

    // The trial in council homes, with temperature and humidity outcomes (figures illustrative).
    let fields = TrialFields {
        award_id: Some(phase_two_awards[1].id),
        host_organisation_id: leeds,
        title: "Temperature and humidity sensors in council homes".to_owned(),
        sites: vec!["Leeds".to_owned(), "York".to_owned()],
        units: Some(300),
        unit_label: Some("homes".to_owned()),
        starts_on: Some(date(2020, 4, 1)),
        ends_on: Some(date(2021, 1, 31)),
        public: true,
        result: Some("Illustrative: damp and cold risks found earlier; the council extended the sensors to more homes.".to_owned()),
        adopted: Some(true),
        follow_on_value: Some(gbp(250_000)?),
    }
    .validate()
    .map_err(|errors| invalid("trial", format!("{errors:?}")))?;
    let trial = Trial {
        external_ids: Vec::new(),
        id: TrialId::generate(),
        fields,
        supplier_organisation_id: Some(homelink),
        status: TrialStatus::Completed,
        version: 1,
        created_at: seed.now,
        updated_at: seed.now,
    };
    trials::insert(seed.connection, &trial)?;
    seed.audit(
        "trials",
        trial.id.to_string(),
        trial.audience(),
        &catalyst_http::resources::trials::TrialResource::from(&trial),
    )?;
    for (kind, metric, unit, baseline, target, actual) in [
        (
            OutcomeKind::KeyFinding,
            "Homes with damp risk found before a complaint (illustrative)",
            "%",
            10.0,
            50.0,
            64.0,
        ),
        (
            OutcomeKind::KeyFinding,
            "Homes below 18 degrees C in winter evenings (illustrative)",
            "%",
            22.0,
            15.0,
            13.5,
        ),
        (
            OutcomeKind::KeyFinding,
            "Mean relative humidity in monitored homes (illustrative)",
            "%",
            68.0,
            60.0,
            61.0,
        ),
    ] {
        let fields = OutcomeFields {
            trial_id: trial.id,
            kind,
            metric: metric.to_owned(),
            unit: Some(unit.to_owned()),
            baseline: Some(baseline),
            target: Some(target),
            actual: Some(actual),
            measured_on: Some(date(2021, 1, 31)),
            notes: None,
        }
        .validate()
        .map_err(|errors| invalid(metric, format!("{errors:?}")))?;
        let outcome = Outcome {
            id: OutcomeId::generate(),
            fields,
            version: 1,
            created_at: seed.now,
            updated_at: seed.now,
        };
        trials::outcome_store::insert(seed.connection, &outcome)?;
        seed.audit(
            "outcomes",
            outcome.id.to_string(),
            trial.audience(),
            &catalyst_http::resources::outcomes::OutcomeResource::from(&outcome),
        )?;
    }
    Ok(seed.created)
}

/// A small deterministic generator (a linear congruential one): the same scale always makes the
/// same data, with no dependency for it.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, sides: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % sides.max(1)
    }
}

/// How many challenges each transaction writes: big enough to be fast, small enough that
/// progress shows and a failure loses little.
const SYNTHETIC_BATCH: usize = 50;

/// `catalyst seed synthetic --scale N`: N challenges, each with a Phase 1 of ten applications and
/// three awards, half with a Phase 2 award (with lineage), milestones (two paid of three per
/// award) and, for one in five, a trial with outcomes; all through the same rules as the API.
/// A second run at the same scale changes nothing.
pub fn synthetic(
    pool: &Pool,
    scale: usize,
    mut progress: impl FnMut(usize, usize),
) -> Result<usize, String> {
    let code = format!("SYNTHETIC-{scale}");
    let mut connection = pool.get().map_err(|error| error.to_string())?;
    let setup = transaction(&mut connection, |connection| {
        synthetic_setup(connection, &code, scale)
    })
    .map_err(|error| error.to_string())?;
    let Some((programme, owners, suppliers)) = setup else {
        return Ok(0);
    };
    let mut created = 1 + owners.len() + suppliers.len();
    let mut dice = Dice(scale as u64);
    let mut done = 0;
    while done < scale {
        let batch = SYNTHETIC_BATCH.min(scale - done);
        created += transaction(&mut connection, |connection| {
            let mut seed = Seeder {
                connection,
                now: Timestamp::now(),
                created: 0,
                audited: false,
            };
            for index in done..done + batch {
                synthetic_challenge(&mut seed, &mut dice, programme, &owners, &suppliers, index)?;
            }
            Ok::<_, SeedError>(seed.created)
        })
        .map_err(|error| error.to_string())?;
        done += batch;
        progress(done, scale);
    }
    Ok(created)
}

type SyntheticWorld = (
    catalyst_domain::ProgrammeId,
    Vec<OrganisationId>,
    Vec<OrganisationId>,
);

fn synthetic_setup(
    connection: &mut DbConnection,
    code: &str,
    scale: usize,
) -> Result<Option<SyntheticWorld>, SeedError> {
    if programmes::find_by_code(connection, code)?.is_some() {
        return Ok(None);
    }
    let mut seed = Seeder {
        connection,
        now: Timestamp::now(),
        created: 0,
        audited: false,
    };
    let regions = Region::ALL;
    let owners = (0..(scale / 100).max(10))
        .map(|index| {
            seed.organisation(
                &format!("Synthetic Council {index} ({code})"),
                OrganisationKind::LocalAuthority,
                Some(Scale::Large),
                Some(regions[index % regions.len()]),
                None,
                None,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let suppliers = (0..(scale / 5).max(50))
        .map(|index| {
            let (kind, scale) = match index % 20 {
                0..=8 => (OrganisationKind::Sme, Scale::Micro),
                9..=14 => (OrganisationKind::Sme, Scale::Small),
                15..=16 => (OrganisationKind::Sme, Scale::Medium),
                _ => (OrganisationKind::LargeBusiness, Scale::Large),
            };
            seed.organisation(
                &format!("Synthetic Supplier {index} ({code})"),
                kind,
                Some(scale),
                Some(regions[index % regions.len()]),
                None,
                None,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let fields = ProgrammeFields {
        code: code.to_owned(),
        title: format!("Synthetic programme of {scale} challenges"),
        description: Some(
            "Generated for benchmarks by catalyst seed synthetic: not real data.".to_owned(),
        ),
        funder_organisation_id: owners[0],
        budget: gbp(250_000 * scale as i64 * 3)?,
        opens_on: Some(date(2018, 1, 1)),
        closes_on: None,
    }
    .validate()
    .map_err(|errors| invalid("programme", format!("{errors:?}")))?;
    let programme = Programme::create(fields, seed.now);
    programmes::insert(seed.connection, &programme)?;
    Ok(Some((programme.id, owners, suppliers)))
}

fn synthetic_challenge(
    seed: &mut Seeder<'_>,
    dice: &mut Dice,
    programme: catalyst_domain::ProgrammeId,
    owners: &[OrganisationId],
    suppliers: &[OrganisationId],
    index: usize,
) -> Result<(), SeedError> {
    let owner = owners[dice.roll(owners.len())];
    let year = 2018 + (index % 6) as i32;
    let status = [
        ChallengeStatus::Open,
        ChallengeStatus::Assessing,
        ChallengeStatus::InDelivery,
        ChallengeStatus::Completed,
    ][dice.roll(4)];
    let challenge = seed.challenge(
        programme,
        owner,
        &format!("SYN-{index:07}"),
        &format!("Synthetic challenge {index}"),
        "Generated for benchmarks: how might we do better?",
        &[["housing", "transport", "health", "environment", "services"][index % 5]],
        status,
        None,
    )?;
    let phase_one = seed.phase(
        &challenge,
        1,
        PhaseKind::Feasibility,
        250_000,
        50_000,
        (date(year, 3, 1), date(year, 6, 30)),
        PhaseStatus::Completed,
    )?;
    // Ten distinct suppliers apply; three win.
    let start = dice.roll(suppliers.len());
    let applicants: Vec<OrganisationId> = (0..10)
        .map(|offset| suppliers[(start + offset * 7) % suppliers.len()])
        .collect();
    let mut phase_one_awards = Vec::new();
    for (rank, supplier) in applicants.iter().enumerate() {
        let won = rank < 3;
        let status = if won {
            ApplicationStatus::Successful
        } else {
            ApplicationStatus::Unsuccessful
        };
        let application = seed.application(
            &phase_one,
            &challenge,
            *supplier,
            40_000 + 1_000 * rank as i64,
            status,
            90 - rank as i32 * 5,
        )?;
        if won {
            let award = seed.award(
                &phase_one,
                &challenge,
                &application,
                &format!("SYN-{index:07}-P1-{rank}"),
                None,
            )?;
            synthetic_milestones(seed, &award, year)?;
            phase_one_awards.push(award);
        }
    }
    if index % 2 == 0 {
        let phase_two = seed.phase(
            &challenge,
            2,
            PhaseKind::Prototype,
            1_000_000,
            500_000,
            (date(year, 9, 1), date(year + 1, 8, 31)),
            PhaseStatus::InDelivery,
        )?;
        let winner = &phase_one_awards[dice.roll(phase_one_awards.len())];
        let application = seed.application(
            &phase_two,
            &challenge,
            winner.fields.supplier_organisation_id,
            300_000 + 10_000 * dice.roll(20) as i64,
            ApplicationStatus::Successful,
            88,
        )?;
        let award = seed.award(
            &phase_two,
            &challenge,
            &application,
            &format!("SYN-{index:07}-P2"),
            Some(winner.id),
        )?;
        synthetic_milestones(seed, &award, year)?;
    }
    if index % 5 == 0 {
        let award = &phase_one_awards[0];
        let adopted = dice.roll(3) == 0;
        let fields = TrialFields {
            award_id: Some(award.id),
            host_organisation_id: owner,
            title: format!("Synthetic trial {index}"),
            sites: vec![format!("Site {}", dice.roll(100))],
            units: Some(10 + dice.roll(500) as i32),
            unit_label: Some("homes".to_owned()),
            starts_on: Some(date(year + 1, 1, 1)),
            ends_on: Some(date(year + 1, 12, 31)),
            public: true,
            result: None,
            adopted: Some(adopted),
            follow_on_value: if adopted {
                Some(gbp(100_000 + 10_000 * dice.roll(50) as i64)?)
            } else {
                None
            },
        }
        .validate()
        .map_err(|errors| invalid("trial", format!("{errors:?}")))?;
        let trial = Trial {
            external_ids: Vec::new(),
            id: TrialId::generate(),
            fields,
            supplier_organisation_id: Some(award.fields.supplier_organisation_id),
            status: TrialStatus::Completed,
            version: 1,
            created_at: seed.now,
            updated_at: seed.now,
        };
        trials::insert(seed.connection, &trial)?;
        seed.audit(
            "trials",
            trial.id.to_string(),
            trial.audience(),
            &catalyst_http::resources::trials::TrialResource::from(&trial),
        )?;
        for metric in ["Synthetic measure A", "Synthetic measure B"] {
            let outcome = Outcome {
                id: OutcomeId::generate(),
                fields: OutcomeFields {
                    trial_id: trial.id,
                    kind: OutcomeKind::KeyFinding,
                    metric: metric.to_owned(),
                    unit: Some("%".to_owned()),
                    baseline: Some(dice.roll(50) as f64),
                    target: Some(50.0),
                    actual: Some(dice.roll(100) as f64),
                    measured_on: Some(date(year + 1, 12, 31)),
                    notes: None,
                },
                version: 1,
                created_at: seed.now,
                updated_at: seed.now,
            };
            trials::outcome_store::insert(seed.connection, &outcome)?;
            seed.audit(
                "outcomes",
                outcome.id.to_string(),
                trial.audience(),
                &catalyst_http::resources::outcomes::OutcomeResource::from(&outcome),
            )?;
        }
    }
    Ok(())
}

fn synthetic_milestones(seed: &mut Seeder<'_>, award: &Award, year: i32) -> Result<(), SeedError> {
    seed.tranche(
        award,
        "First tranche (25%)",
        25,
        date(year, 4, 30),
        Some(date(year, 5, 7)),
    )?;
    seed.tranche(
        award,
        "Second tranche (50%)",
        50,
        date(year, 5, 31),
        Some(date(year, 6, 7)),
    )?;
    seed.tranche(award, "Final tranche (25%)", 25, date(year, 6, 30), None)
}
