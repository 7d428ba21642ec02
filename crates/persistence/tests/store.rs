//! The persistence layer against real databases: SQLite always, PostgreSQL when
//! `TEST_DATABASE_URL` is set. Each test makes its own database.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

use catalyst_domain::{
    Organisation, OrganisationDraft, OrganisationId, OrganisationKind, Region, Scale, Timestamp,
};
use catalyst_persistence::keyset::{Direction, Sort};
use catalyst_persistence::organisations::{self, OrganisationFilter, OrganisationSortField};
use catalyst_persistence::testing::TestDatabase;
use catalyst_persistence::{migrations, Pool, PoolSettings, StoreError};

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
