//! The persistence layer against real databases: SQLite always, PostgreSQL when
//! `TEST_DATABASE_URL` is set. Each test makes its own database.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

use std::collections::BTreeSet;

use catalyst_domain::{
    Challenge, ChallengeFields, ChallengeId, ChallengeStatus, ExternalId, Money, Organisation,
    OrganisationDraft, OrganisationId, OrganisationKind, Phase, PhaseFields, PhaseKind, Programme,
    ProgrammeFields, Region, Scale, Timestamp,
};
use catalyst_persistence::challenges::{self, ChallengeSortField};
use catalyst_persistence::keyset::{Direction, Sort};
use catalyst_persistence::organisations::{self, OrganisationFilter, OrganisationSortField};
use catalyst_persistence::phases::{self, PhaseSortField};
use catalyst_persistence::testing::TestDatabase;
use catalyst_persistence::{
    external_ids, migrations, programmes, Backend, Pool, PoolSettings, StoreError,
};

fn migrated_pool(database: &TestDatabase) -> Pool {
    let pool = Pool::new(
        database.url().clone(),
        &PoolSettings::default_for(database.backend()),
    );
    let mut connection = pool.get().unwrap();
    migrations::run_pending(&mut connection).unwrap();
    pool
}

fn organisation(name: &str, kind: OrganisationKind, scale: Option<Scale>) -> Organisation {
    let fields = OrganisationDraft {
        name: name.into(),
        kind,
        scale,
        region: Some(Region::YorkshireAndTheHumber),
        identifier: None,
        website: None,
    }
    .validate()
    .unwrap();
    Organisation::create(fields, Timestamp::now())
}

#[test]
fn every_migration_reverts_cleanly_and_reapplies() {
    for database in TestDatabase::for_each_backend() {
        let pool = Pool::new(
            database.url().clone(),
            &PoolSettings::default_for(database.backend()),
        );
        let mut connection = pool.get().unwrap();
        let applied = migrations::run_pending(&mut connection).unwrap();
        assert!(!applied.is_empty(), "{}", database.backend());
        let reverted = migrations::revert_all(&mut connection).unwrap();
        assert_eq!(reverted.len(), applied.len(), "{}", database.backend());
        let reapplied = migrations::run_pending(&mut connection).unwrap();
        assert_eq!(reapplied, applied, "{}", database.backend());
        assert!(migrations::run_pending(&mut connection).unwrap().is_empty());
    }
}

#[test]
fn an_organisation_reads_back_exactly_as_written() {
    for database in TestDatabase::for_each_backend() {
        let pool = migrated_pool(&database);
        let mut connection = pool.get().unwrap();
        let leeds = organisation("Leeds City Council", OrganisationKind::LocalAuthority, None);
        organisations::insert(&mut connection, &leeds).unwrap();
        let found = organisations::find(&mut connection, leeds.id).unwrap();
        assert_eq!(found, leeds, "{}", database.backend());
        assert!(matches!(
            organisations::find(&mut connection, OrganisationId::generate()),
            Err(StoreError::NotFound)
        ));
    }
}

#[test]
fn an_update_at_a_stale_version_changes_nothing() {
    for database in TestDatabase::for_each_backend() {
        let pool = migrated_pool(&database);
        let mut connection = pool.get().unwrap();
        let leeds = organisation("Leeds City Council", OrganisationKind::LocalAuthority, None);
        organisations::insert(&mut connection, &leeds).unwrap();
        let mut renamed = leeds.fields.clone();
        renamed.name = "Leeds CC".into();
        let updated = organisations::update(
            &mut connection,
            leeds.id,
            1,
            &renamed,
            None,
            Timestamp::now(),
        )
        .unwrap();
        assert_eq!(updated.version, 2);
        let mut again = leeds.fields.clone();
        again.name = "Lost update".into();
        let stale =
            organisations::update(&mut connection, leeds.id, 1, &again, None, Timestamp::now());
        assert!(
            matches!(stale, Err(StoreError::VersionMismatch { current: 2 })),
            "{}: {stale:?}",
            database.backend()
        );
        let stored = organisations::find(&mut connection, leeds.id).unwrap();
        assert_eq!(stored.fields.name, "Leeds CC");
    }
}

#[test]
fn a_duplicate_identifier_is_reported_as_such() {
    for database in TestDatabase::for_each_backend() {
        let pool = migrated_pool(&database);
        let mut connection = pool.get().unwrap();
        let mut first = organisation("HomeLINK", OrganisationKind::Sme, Some(Scale::Small));
        first.fields.identifier = Some(catalyst_domain::OrganisationIdentifier {
            scheme: catalyst_domain::IdentifierScheme::CompaniesHouse,
            id: "08365849".into(),
        });
        let mut second = organisation("HomeLINK again", OrganisationKind::Sme, Some(Scale::Small));
        second.fields.identifier = first.fields.identifier.clone();
        organisations::insert(&mut connection, &first).unwrap();
        let duplicate = organisations::insert(&mut connection, &second);
        assert!(
            matches!(duplicate, Err(StoreError::Duplicate { .. })),
            "{}: {duplicate:?}",
            database.backend()
        );
    }
}

#[test]
fn keyset_pages_cover_every_row_once_in_order() {
    for database in TestDatabase::for_each_backend() {
        let pool = migrated_pool(&database);
        let mut connection = pool.get().unwrap();
        // Equal names force the id tie-breaker to do its work across page boundaries.
        let names = ["Beta", "Alpha", "Beta", "Gamma", "Alpha", "Beta", "Delta"];
        for name in names {
            let body = organisation(name, OrganisationKind::Charity, None);
            organisations::insert(&mut connection, &body).unwrap();
        }
        for direction in [Direction::Ascending, Direction::Descending] {
            let sort = Sort {
                keys: vec![(OrganisationSortField::Name, direction)],
            };
            let mut seen = Vec::new();
            let mut after = None;
            loop {
                let page = organisations::list(
                    &mut connection,
                    &OrganisationFilter::default(),
                    &sort,
                    after.as_ref(),
                    2,
                )
                .unwrap();
                seen.extend(page.items.iter().map(|o| (o.fields.name.clone(), o.id)));
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
            assert_eq!(seen.len(), names.len(), "{}", database.backend());
            let mut expected = seen.clone();
            expected.sort_by(|a, b| match direction {
                Direction::Ascending => a.0.cmp(&b.0).then(a.1.cmp(&b.1)),
                Direction::Descending => b.0.cmp(&a.0).then(a.1.cmp(&b.1)),
            });
            assert_eq!(seen, expected, "{} {direction:?}", database.backend());
        }
    }
}

#[test]
fn filters_combine_and_text_search_ignores_case_and_wildcards() {
    for database in TestDatabase::for_each_backend() {
        let pool = migrated_pool(&database);
        let mut connection = pool.get().unwrap();
        for (name, kind, scale) in [
            (
                "Aware Technologies",
                OrganisationKind::Sme,
                Some(Scale::Micro),
            ),
            ("HomeLINK", OrganisationKind::Sme, Some(Scale::Small)),
            ("Leeds City Council", OrganisationKind::LocalAuthority, None),
            ("100% Homes_Ltd", OrganisationKind::Sme, Some(Scale::Small)),
        ] {
            organisations::insert(&mut connection, &organisation(name, kind, scale)).unwrap();
        }
        let names = |filter: OrganisationFilter, connection: &mut _| -> Vec<String> {
            let sort = Sort {
                keys: vec![(OrganisationSortField::Name, Direction::Ascending)],
            };
            organisations::list(connection, &filter, &sort, None, 50)
                .unwrap()
                .items
                .into_iter()
                .map(|o| o.fields.name)
                .collect()
        };
        let smes_small = OrganisationFilter {
            kind: Some(OrganisationKind::Sme),
            scale: Some(Scale::Small),
            ..Default::default()
        };
        assert_eq!(
            names(smes_small, &mut connection),
            ["100% Homes_Ltd", "HomeLINK"]
        );
        let text = OrganisationFilter {
            text: Some("HOME".into()),
            ..Default::default()
        };
        assert_eq!(names(text, &mut connection), ["100% Homes_Ltd", "HomeLINK"]);
        let wildcard = OrganisationFilter {
            text: Some("%".into()),
            ..Default::default()
        };
        assert_eq!(names(wildcard, &mut connection), ["100% Homes_Ltd"]);
        let future = OrganisationFilter {
            updated_since: Some(Timestamp::parse_rfc3339("2999-01-01T00:00:00Z").unwrap()),
            ..Default::default()
        };
        assert!(names(future, &mut connection).is_empty());
    }
}

#[test]
fn expired_idempotency_keys_are_purged_and_live_ones_kept() {
    use catalyst_persistence::idempotency::{self, Claim, KeyScope};
    for database in TestDatabase::for_each_backend() {
        let pool = migrated_pool(&database);
        let mut connection = pool.get().unwrap();
        let scope = |key: &str| KeyScope {
            caller: "user:x".into(),
            route: "POST /api/v1/organisations".into(),
            key: key.into(),
        };
        let now = Timestamp::now();
        assert_eq!(
            idempotency::claim(
                &mut connection,
                &scope("old"),
                "f",
                now,
                chrono::Duration::seconds(-1)
            )
            .unwrap(),
            Claim::New
        );
        assert_eq!(
            idempotency::claim(
                &mut connection,
                &scope("live"),
                "f",
                now,
                chrono::Duration::hours(24)
            )
            .unwrap(),
            Claim::New
        );
        assert_eq!(
            idempotency::claim(
                &mut connection,
                &scope("live"),
                "f",
                now,
                chrono::Duration::hours(24)
            )
            .unwrap(),
            Claim::InFlight
        );
        assert_eq!(
            idempotency::purge_expired(&mut connection, now).unwrap(),
            1,
            "{}",
            database.backend()
        );
        // An expired key is as good as new.
        assert_eq!(
            idempotency::claim(
                &mut connection,
                &scope("old"),
                "g",
                now,
                chrono::Duration::hours(1)
            )
            .unwrap(),
            Claim::New
        );
    }
}

/// A programme, a challenge of `owner` in `status`, and its Phase 1 with `budget_pence`.
fn challenge_with_phase(
    connection: &mut catalyst_persistence::DbConnection,
    owner: OrganisationId,
    reference: &str,
    status: ChallengeStatus,
    budget_pence: i64,
) -> (Challenge, Phase) {
    let budget = Money::gbp_pence(budget_pence).unwrap();
    let programme = Programme::create(
        ProgrammeFields {
            code: format!("P-{reference}"),
            title: "A programme".into(),
            description: None,
            funder_organisation_id: owner,
            budget,
            opens_on: None,
            closes_on: None,
        },
        Timestamp::now(),
    );
    programmes::insert(connection, &programme).unwrap();
    let mut challenge = Challenge::create(
        ChallengeFields {
            programme_id: programme.id,
            owner_organisation_id: owner,
            reference: reference.into(),
            title: "A challenge".into(),
            problem_statement: "How might we?".into(),
            themes: vec![],
            opens_at: None,
            closes_at: None,
            documents: vec![],
        },
        Timestamp::now(),
    );
    challenge.status = status;
    challenges::insert(connection, &challenge).unwrap();
    let phase = Phase::create(
        PhaseFields {
            challenge_id: challenge.id,
            number: 1,
            kind: PhaseKind::Feasibility,
            budget,
            max_award: budget,
            max_suppliers: None,
            starts_on: None,
            ends_on: None,
            open_to_all: true,
        },
        Timestamp::now(),
    );
    phases::insert(connection, &phase).unwrap();
    (challenge, phase)
}

fn public_body(connection: &mut catalyst_persistence::DbConnection, name: &str) -> OrganisationId {
    let body = organisation(name, OrganisationKind::LocalAuthority, None);
    organisations::insert(connection, &body).unwrap();
    body.id
}

/// The conditional budget update holds under concurrency: eight writers at once each claim 30
/// of a budget of 100, and exactly three succeed, on both databases.
#[test]
fn concurrent_claims_never_take_a_phase_past_its_budget() {
    for database in TestDatabase::for_each_backend() {
        let backend = database.backend();
        let pool = Pool::new(
            database.url().clone(),
            &PoolSettings {
                max_size: 8,
                ..PoolSettings::default_for(backend)
            },
        );
        let mut connection = pool.get().unwrap();
        migrations::run_pending(&mut connection).unwrap();
        let leeds = public_body(&mut connection, "Leeds City Council");
        let (_, phase) =
            challenge_with_phase(&mut connection, leeds, "GTC-1", ChallengeStatus::Open, 100);
        drop(connection);
        let start = std::sync::Arc::new(std::sync::Barrier::new(8));
        let claims: Vec<bool> = (0..8)
            .map(|_| {
                let pool = pool.clone();
                let start = start.clone();
                std::thread::spawn(move || {
                    let mut connection = pool.get().unwrap();
                    start.wait();
                    phases::commit(&mut connection, phase.id, 30, Timestamp::now()).unwrap()
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|claim| claim.join().unwrap())
            .collect();
        assert_eq!(
            claims.iter().filter(|claimed| **claimed).count(),
            3,
            "{backend}: {claims:?}"
        );
        let mut connection = pool.get().unwrap();
        let after = phases::find(&mut connection, phase.id).unwrap();
        assert_eq!(after.committed.minor_units(), 90, "{backend}");
        assert_eq!(after.version, phase.version + 3, "{backend}");
    }
}

/// A draft challenge, and its phases, are seen only by its owner (and by those who see
/// everything); published ones by all; the list and a lookup by id agree.
#[test]
fn drafts_and_their_phases_are_seen_only_by_their_owner() {
    for database in TestDatabase::for_each_backend() {
        let backend = database.backend();
        let pool = migrated_pool(&database);
        let mut connection = pool.get().unwrap();
        let leeds = public_body(&mut connection, "Leeds City Council");
        let york = public_body(&mut connection, "City of York Council");
        let (draft, draft_phase) = challenge_with_phase(
            &mut connection,
            leeds,
            "GTC-DRAFT",
            ChallengeStatus::Draft,
            100,
        );
        let (open, open_phase) = challenge_with_phase(
            &mut connection,
            york,
            "GTC-OPEN",
            ChallengeStatus::Open,
            100,
        );
        for (who, seen, expected) in [
            (
                "everyone",
                challenges::Visibility::Everything,
                vec![draft.id, open.id],
            ),
            (
                "leeds",
                challenges::Visibility::PublishedAnd(vec![leeds]),
                vec![draft.id, open.id],
            ),
            (
                "york",
                challenges::Visibility::PublishedAnd(vec![york]),
                vec![open.id],
            ),
            (
                "nobody",
                challenges::Visibility::PublishedAnd(vec![]),
                vec![open.id],
            ),
        ] {
            let sort = Sort {
                keys: vec![(ChallengeSortField::Id, Direction::Ascending)],
            };
            let listed: BTreeSet<ChallengeId> =
                challenges::list(&mut connection, &seen, &Default::default(), &sort, None, 50)
                    .unwrap()
                    .items
                    .iter()
                    .map(|challenge| challenge.id)
                    .collect();
            assert_eq!(
                listed,
                expected.iter().copied().collect(),
                "{backend} {who}"
            );
            for challenge in [&draft, &open] {
                assert_eq!(
                    challenges::find_visible(&mut connection, challenge.id, &seen).is_ok(),
                    expected.contains(&challenge.id),
                    "{backend} {who} finds {}",
                    challenge.fields.reference
                );
            }
            let phase_sort = Sort {
                keys: vec![(PhaseSortField::Id, Direction::Ascending)],
            };
            let phases_seen: BTreeSet<_> = phases::list(
                &mut connection,
                &seen,
                &Default::default(),
                &phase_sort,
                None,
                50,
            )
            .unwrap()
            .items
            .iter()
            .map(|phase| phase.id)
            .collect();
            let expected_phases: BTreeSet<_> =
                [(draft.id, draft_phase.id), (open.id, open_phase.id)]
                    .iter()
                    .filter(|(challenge, _)| expected.contains(challenge))
                    .map(|(_, phase)| *phase)
                    .collect();
            assert_eq!(phases_seen, expected_phases, "{backend} {who}: phases");
        }
    }
}

/// A partner's key names one record of a collection: another record of it cannot take the key
/// (`Duplicate` on the keys' constraint), a record of another collection can, and a deleted
/// record's keys are free again.
#[test]
fn a_partners_key_names_one_record_until_that_record_goes() {
    for database in TestDatabase::for_each_backend() {
        let backend = database.backend();
        let pool = migrated_pool(&database);
        let mut connection = pool.get().unwrap();
        let key = [ExternalId {
            source: "crm".into(),
            id: "ORG-1".into(),
        }];
        let leeds = public_body(&mut connection, "Leeds City Council");
        let york = public_body(&mut connection, "City of York Council");
        external_ids::replace(
            &mut connection,
            organisations::ENTITY,
            &leeds.to_string(),
            &key,
            Timestamp::now(),
        )
        .unwrap();
        assert_eq!(
            organisations::find_by_external_id(&mut connection, "crm", "ORG-1")
                .unwrap()
                .id,
            leeds,
            "{backend}"
        );
        match external_ids::replace(
            &mut connection,
            organisations::ENTITY,
            &york.to_string(),
            &key,
            Timestamp::now(),
        ) {
            Err(StoreError::Duplicate { constraint }) => {
                assert_eq!(constraint, external_ids::UNIQUE_CONSTRAINT, "{backend}")
            }
            other => panic!("{backend}: a second record took the key: {other:?}"),
        }
        // The same when keys are written many at once (imports: COPY on PostgreSQL).
        match external_ids::add_all(
            &mut connection,
            organisations::ENTITY,
            [(york.to_string(), &key[..], Timestamp::now())],
        ) {
            Err(StoreError::Duplicate { constraint }) => {
                assert_eq!(constraint, external_ids::UNIQUE_CONSTRAINT, "{backend}")
            }
            other => panic!("{backend}: a bulk write took a taken key: {other:?}"),
        }
        // Another collection's record may use the same key.
        let (challenge, _) = challenge_with_phase(
            &mut connection,
            leeds,
            "GTC-KEY",
            ChallengeStatus::Draft,
            100,
        );
        challenges::set_external_ids(&mut connection, challenge.id, &key, Timestamp::now())
            .unwrap();
        // Deleting a record frees its keys for another.
        let second = [ExternalId {
            source: "crm".into(),
            id: "ORG-2".into(),
        }];
        let wakefield = public_body(&mut connection, "Wakefield Council");
        external_ids::replace(
            &mut connection,
            organisations::ENTITY,
            &wakefield.to_string(),
            &second,
            Timestamp::now(),
        )
        .unwrap();
        organisations::delete(&mut connection, wakefield, None).unwrap();
        assert!(matches!(
            organisations::find_by_external_id(&mut connection, "crm", "ORG-2"),
            Err(StoreError::NotFound)
        ));
        external_ids::replace(
            &mut connection,
            organisations::ENTITY,
            &york.to_string(),
            &second,
            Timestamp::now(),
        )
        .unwrap();
        assert_eq!(
            organisations::find_by_external_id(&mut connection, "crm", "ORG-2")
                .unwrap()
                .id,
            york,
            "{backend}"
        );
    }
}

/// A NUL character in text sent to the database is the client's mistake on PostgreSQL, whose
/// text cannot hold one (SQLite can, and simply finds nothing): never a database failure.
#[test]
fn text_with_a_nul_is_refused_as_unstorable_or_matches_nothing() {
    for database in TestDatabase::for_each_backend() {
        let backend = database.backend();
        let pool = migrated_pool(&database);
        let mut connection = pool.get().unwrap();
        let found = organisations::find_by_external_id(&mut connection, "crm", "ORG\u{0}1");
        match (backend, found) {
            (Backend::Postgres, Err(StoreError::UnstorableText(_)))
            | (Backend::Sqlite, Err(StoreError::NotFound)) => {}
            (_, other) => panic!("{backend}: a NUL in a key was {other:?}"),
        }
    }
}
