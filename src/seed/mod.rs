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
        pending: None,
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
    seed.audit(&programme, Audience::Public)?;

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
        seed.audit(&contact, contact.audience())?;
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
            (Some(date(2019, 9, 30)), Some(date(2019, 10, 4))),
        )?;
        seed.tranche(
            &award,
            "Final tranche (75%)",
            75,
            date(2019, 11, 30),
            (Some(date(2019, 11, 8)), Some(date(2019, 12, 13))),
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
            (Some(date(2020, 6, 1)), Some(date(2020, 6, 12))),
        )?;
        seed.tranche(
            &award,
            "Trial report (75%)",
            75,
            date(2021, 1, 31),
            (Some(date(2021, 2, 1)), None),
        )?;
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
    seed.save(trial.clone(), trial.audience())?;
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
        seed.save(outcome, trial.audience())?;
    }
    Ok(seed.created)
}

mod seeder;
mod synthetic;

use seeder::Seeder;
pub use synthetic::synthetic;
