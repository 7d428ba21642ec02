//! Upgrades keep data: a database made by an earlier release's binary (a fixture per released
//! schema, made by `tests/fixtures/upgrade/make`: the demo data, some writes, and what that
//! release served) is migrated by this binary at start, and serves the same records, the same
//! report figures, and the same changes after a cursor a reader took before the upgrade. On
//! SQLite (the fixture's file) and on PostgreSQL (its pg_dump, restored into a new database).

use std::path::{Path, PathBuf};

use catalyst_persistence::testing::{postgres_admin_url, TestDatabase};
use serde_json::Value;

use crate::common::TestServer;

/// The fixtures, one folder per released schema.
fn fixtures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/upgrade");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .collect();
    found.sort();
    assert!(
        !found.is_empty(),
        "no upgrade fixture in {}",
        root.display()
    );
    found
}

/// `old` (what the earlier release served) is within `new`: every member it had has the same
/// value now (a newer release may add members, never change or drop one).
fn within(old: &Value, new: &Value, at: &str) {
    match (old, new) {
        (Value::Object(old), Value::Object(new)) => {
            for (key, value) in old {
                let inner = new
                    .get(key)
                    .unwrap_or_else(|| panic!("{at}/{key} is gone after the upgrade"));
                within(value, inner, &format!("{at}/{key}"));
            }
        }
        (Value::Array(old), Value::Array(new)) => {
            assert_eq!(old.len(), new.len(), "{at}: the number of items");
            for (index, (old, new)) in old.iter().zip(new).enumerate() {
                within(old, new, &format!("{at}/{index}"));
            }
        }
        _ => assert_eq!(old, new, "{at}"),
    }
}

fn lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn check(server: &TestServer, expected: &Path) {
    let name = expected.display().to_string();
    for entry in std::fs::read_dir(expected.join("exports")).unwrap() {
        let path = entry.unwrap().path();
        let collection = path.file_stem().unwrap().to_string_lossy().into_owned();
        let reply = server.get_as(
            &format!("/api/v1/exports/{collection}?format=ndjson"),
            &server.admin_token,
        );
        assert_eq!(reply.status, 200, "{name} {collection}: {}", reply.text());
        let old = lines(&std::fs::read_to_string(&path).unwrap());
        assert!(
            !old.is_empty(),
            "{name} {collection}: the fixture has records"
        );
        within(
            &Value::Array(old),
            &Value::Array(lines(&reply.text())),
            &format!("{name} {collection}"),
        );
    }
    for entry in std::fs::read_dir(expected.join("reports")).unwrap() {
        let path = entry.unwrap().path();
        let report = path.file_stem().unwrap().to_string_lossy().into_owned();
        let old: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let new = server
            .get_as(&format!("/api/v1/reports/{report}"), &server.admin_token)
            .json();
        for part in ["rows", "totals"] {
            within(
                &old[part],
                &new[part],
                &format!("{name} report {report} {part}"),
            );
        }
    }
    let cursor = std::fs::read_to_string(expected.join("cursor")).unwrap();
    let old: Value = serde_json::from_str(
        &std::fs::read_to_string(expected.join("changes-after-cursor.json")).unwrap(),
    )
    .unwrap();
    assert!(
        !old.as_array().unwrap().is_empty(),
        "{name}: writes after the cursor"
    );
    // The feed shows a change once every transaction older than it has ended, cluster-wide:
    // another test's long import may hold the restored changes back for a moment.
    server.settle_feed();
    let new = server
        .get_as(
            &format!("/api/v1/changes?cursor={}&limit=100", cursor.trim()),
            &server.admin_token,
        )
        .json();
    within(
        &old,
        &new["data"],
        &format!("{name} changes after the cursor"),
    );
}

#[test]
fn an_earlier_releases_sqlite_database_is_migrated_and_serves_the_same() {
    for fixture in fixtures() {
        let folder = std::env::temp_dir().join(format!(
            "catalyst-upgrade-{}-{}",
            std::process::id(),
            fixture.file_name().unwrap().to_string_lossy()
        ));
        std::fs::create_dir_all(&folder).unwrap();
        let file = folder.join("catalyst.db");
        std::fs::copy(fixture.join("sqlite/catalyst.db"), &file).unwrap();
        let server = TestServer::start_on_existing(&format!("sqlite://{}", file.display()), None);
        check(&server, &fixture.join("sqlite"));
        drop(server);
        let _ = std::fs::remove_dir_all(&folder);
    }
}

#[test]
fn an_earlier_releases_postgresql_dump_is_migrated_and_serves_the_same() {
    let Some(admin_url) = postgres_admin_url() else {
        return;
    };
    for fixture in fixtures() {
        let database = TestDatabase::postgres(&admin_url);
        let url = database.url_text();
        let restored = std::process::Command::new("pg_restore")
            .args(["--no-owner", "--exit-on-error", "--dbname", &url])
            .arg(fixture.join("postgres/catalyst.pgdump"))
            .output()
            .expect("pg_restore is installed beside PostgreSQL");
        assert!(
            restored.status.success(),
            "{}",
            String::from_utf8_lossy(&restored.stderr)
        );
        let server = TestServer::start_on_existing(&url, Some(database));
        check(&server, &fixture.join("postgres"));
    }
}
