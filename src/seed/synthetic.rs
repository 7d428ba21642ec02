//! `catalyst seed synthetic --scale N`: a large, deterministic data set for benchmarks and
//! load tests, written through the same rules as the demo data and the API.

use super::seeder::Pending;
use super::*;

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

/// How many challenges each transaction writes (about 2,800 records, in multi-row statements):
/// big enough to be fast, small enough that progress shows and a failure loses little.
const SYNTHETIC_BATCH: usize = 100;

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
                pending: Some(Pending::default()),
            };
            for index in done..done + batch {
                synthetic_challenge(&mut seed, &mut dice, programme, &owners, &suppliers, index)?;
            }
            seed.flush()?;
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
        pending: None,
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
        seed.save(trial.clone(), trial.audience())?;
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
            seed.save(outcome, trial.audience())?;
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
        (Some(date(year, 4, 30)), Some(date(year, 5, 7))),
    )?;
    seed.tranche(
        award,
        "Second tranche (50%)",
        50,
        date(year, 5, 31),
        (Some(date(year, 5, 1)), Some(date(year, 6, 7))),
    )?;
    seed.tranche(
        award,
        "Final tranche (25%)",
        25,
        date(year, 6, 30),
        (None, None),
    )
}
