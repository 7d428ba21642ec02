//! `catalyst backup` and `catalyst restore` of the embedded SQLite database: a copy taken while
//! the server is writing opens, passes SQLite's integrity check, and serves every record that
//! was acknowledged before the backup began; PostgreSQL is pointed to its own tools.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use catalyst_persistence::testing::TestDatabase;
use diesel::{Connection, QueryableByName, RunQueryDsl};
use serde_json::Value;

use crate::common::{local_authority, run_cli_with_input, TestServer};

#[derive(QueryableByName)]
struct Check {
    #[diesel(sql_type = diesel::sql_types::Text)]
    integrity_check: String,
}

fn integrity(path: &std::path::Path) -> Vec<String> {
    let mut connection = diesel::SqliteConnection::establish(&path.to_string_lossy()).unwrap();
    diesel::sql_query("PRAGMA integrity_check")
        .load::<Check>(&mut connection)
        .unwrap()
        .into_iter()
        .map(|check| check.integrity_check)
        .collect()
}

#[test]
fn a_backup_taken_under_writes_restores_every_acknowledged_record() {
    let database = TestDatabase::sqlite();
    let url = database.url_text();
    let server = TestServer::start(database, &[]);
    let folder = std::env::temp_dir().join(format!("catalyst-backup-{}", uuid_like()));
    std::fs::create_dir_all(&folder).unwrap();
    let copy = folder.join("copy.db");

    // Four writers create organisations without pause; each keeps the ids it got a 201 for.
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let writing = Arc::new(AtomicBool::new(true));
    std::thread::scope(|scope| {
        for writer in 0..4 {
            let (acknowledged, writing, server) = (acknowledged.clone(), writing.clone(), &server);
            scope.spawn(move || {
                let mut n = 0;
                while writing.load(Ordering::Relaxed) {
                    n += 1;
                    let body = local_authority(&format!("Council {writer}-{n}"));
                    let reply = server.post_json("/api/v1/organisations", &body);
                    if reply.status == 201 {
                        let id = reply.json()["id"].as_str().unwrap().to_owned();
                        acknowledged.lock().unwrap().push(id);
                    }
                }
            });
        }
        std::thread::sleep(Duration::from_millis(700));
        let before: Vec<String> = acknowledged.lock().unwrap().clone();
        let made = run_cli_with_input(
            &["backup", &copy.to_string_lossy()],
            &[("DATABASE_URL", &url)],
            "",
        );
        std::thread::sleep(Duration::from_millis(300));
        writing.store(false, Ordering::Relaxed);
        assert!(
            made.status.success(),
            "{}",
            String::from_utf8_lossy(&made.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&made.stdout).trim(),
            copy.to_string_lossy()
        );
        assert!(
            before.len() > 10,
            "the writers were writing: {}",
            before.len()
        );

        assert_eq!(integrity(&copy), ["ok"]);
        // A second backup to the same name is refused (exit 2), and replaces it with --force.
        let again = run_cli_with_input(
            &["backup", &copy.to_string_lossy()],
            &[("DATABASE_URL", &url)],
            "",
        );
        assert_eq!(again.status.code(), Some(2));

        // Restored into an empty data folder, the copy serves every acknowledged record.
        let restored = folder.join("restored").join("catalyst.db");
        let restored_url = format!("sqlite://{}", restored.display());
        let done = run_cli_with_input(
            &["restore", &copy.to_string_lossy()],
            &[("DATABASE_URL", &restored_url)],
            "",
        );
        assert!(
            done.status.success(),
            "{}",
            String::from_utf8_lossy(&done.stderr)
        );
        let refused = run_cli_with_input(
            &["restore", &copy.to_string_lossy()],
            &[("DATABASE_URL", &restored_url)],
            "",
        );
        assert_eq!(refused.status.code(), Some(2), "a restore over a database");
        let from_backup = server.on_copy(&restored_url);
        let mut served = BTreeSet::new();
        let mut path = "/api/v1/organisations?limit=500".to_owned();
        loop {
            let page: Value = from_backup.get_as(&path, &from_backup.admin_token).json();
            for item in page["data"].as_array().unwrap() {
                served.insert(item["id"].as_str().unwrap().to_owned());
            }
            match page["next_cursor"].as_str() {
                Some(cursor) => path = format!("/api/v1/organisations?limit=500&cursor={cursor}"),
                None => break,
            }
        }
        let missing: Vec<&String> = before.iter().filter(|id| !served.contains(*id)).collect();
        assert!(
            missing.is_empty(),
            "acknowledged before the backup, not in it: {missing:?}"
        );
    });
    let _ = std::fs::remove_dir_all(&folder);
}

#[test]
fn postgresql_is_pointed_to_pg_dump() {
    let made = run_cli_with_input(
        &["backup", "catalyst.dump"],
        &[("DATABASE_URL", "postgres://catalyst@127.0.0.1:1/catalyst")],
        "",
    );
    assert_eq!(made.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&made.stderr).contains("pg_dump"));
    assert!(!std::path::Path::new("catalyst.dump").exists());
}

fn uuid_like() -> String {
    format!(
        "{}-{:?}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

/// Every collection's NDJSON export, and where the change feed stands.
fn everything(server: &TestServer) -> Vec<(String, String)> {
    let mut all = Vec::new();
    for collection in [
        "organisations",
        "programmes",
        "challenges",
        "phases",
        "applications",
        "awards",
        "milestones",
        "payments",
        "trials",
    ] {
        let reply = server.get_as(
            &format!("/api/v1/exports/{collection}?format=ndjson"),
            &server.admin_token,
        );
        assert_eq!(reply.status, 200, "{collection}: {}", reply.text());
        all.push((collection.to_owned(), reply.text()));
    }
    // The feed from its start: every change, in order, with its cursor. (`/changes/latest`
    // is where the cluster's oldest running transaction stands, not a fact of the data; so is
    // how far the feed reaches until every write so far is older than that.)
    let changes = server.changes_from_start();
    all.push((
        "changes".to_owned(),
        serde_json::to_string(&changes).unwrap(),
    ));
    all
}

/// PostgreSQL's own tools round-trip Catalyst: pg_dump, pg_restore into a new database, and a
/// server on it exports every collection exactly as before, with the change feed where it was.
#[test]
fn a_pg_dump_restored_into_a_new_database_serves_the_same_records() {
    let Some(database) = TestDatabase::postgres_only() else {
        return;
    };
    let Some(admin_url) = catalyst_persistence::testing::postgres_admin_url() else {
        return;
    };
    let url = database.url_text();
    let server = TestServer::start(database, &[]);
    server.cli(&["seed", "demo"]);
    let before = everything(&server);

    let folder = std::env::temp_dir().join(format!("catalyst-pgdump-{}", uuid_like()));
    std::fs::create_dir_all(&folder).unwrap();
    let dump = folder.join("catalyst.dump");
    let dumped = std::process::Command::new("pg_dump")
        .args(["--format=custom", "--no-owner", "--file"])
        .arg(&dump)
        .arg(&url)
        .output()
        .expect("pg_dump is installed beside PostgreSQL");
    assert!(
        dumped.status.success(),
        "{}",
        String::from_utf8_lossy(&dumped.stderr)
    );
    let target = TestDatabase::postgres(&admin_url);
    let restored = std::process::Command::new("pg_restore")
        .args(["--no-owner", "--exit-on-error", "--dbname"])
        .arg(target.url_text())
        .arg(&dump)
        .output()
        .expect("pg_restore is installed beside PostgreSQL");
    assert!(
        restored.status.success(),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    let copy = server.on_copy(&target.url_text());
    let after = everything(&copy);
    assert_eq!(before.len(), after.len());
    for ((collection, was), (_, is)) in before.iter().zip(&after) {
        assert!(!was.is_empty(), "{collection}");
        assert_eq!(was, is, "{collection} after pg_dump and pg_restore");
    }
    // A reader's cursor from before the backup resumes on the copy, and sees a new write.
    let cursor = server
        .get_as("/api/v1/changes?limit=1", &server.admin_token)
        .json()["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let resumed = |on: &TestServer| -> Value {
        on.get_as(
            &format!("/api/v1/changes?cursor={cursor}&limit=5"),
            &on.admin_token,
        )
        .json()["data"]
            .clone()
    };
    assert_eq!(resumed(&server), resumed(&copy));
    let hull = copy.post_json(
        "/api/v1/organisations",
        &local_authority("Hull City Council"),
    );
    assert_eq!(hull.status, 201, "{}", hull.text());
    copy.settle_feed();
    let tail = everything(&copy).pop().unwrap().1;
    assert!(
        tail.contains("Hull City Council"),
        "a new write follows in the feed"
    );
    drop(copy);
    drop(target);
    let _ = std::fs::remove_dir_all(&folder);
}

/// A dump from a cluster whose transaction counter is far ahead of this one's (restored into a
/// new or younger cluster) holds changes numbered past every transaction to come here: the
/// server moves its positions past them at start, so the restored feed is served and new
/// writes follow it.
#[test]
fn a_feed_restored_into_a_younger_cluster_serves_old_and_new_changes() {
    let Some(database) = TestDatabase::postgres_only() else {
        return; // SQLite orders its feed by sequence alone.
    };
    let url = database.url_text();
    let mut server = TestServer::start(database, &[]);
    let leeds = server.post_json(
        "/api/v1/organisations",
        &local_authority("Leeds City Council"),
    );
    assert_eq!(leeds.status, 201, "{}", leeds.text());
    server.kill();
    // What the restored dump of an older cluster looks like: positions a billion ahead.
    let mut connection = diesel::PgConnection::establish(&url).unwrap();
    diesel::sql_query("UPDATE changes SET txid = txid + 1000000000")
        .execute(&mut connection)
        .unwrap();

    let restored = server.on_copy(&url);
    assert_eq!(
        restored
            .await_logged("change feed positions moved past the stored changes", 1)
            .len(),
        1
    );
    restored.settle_feed();
    let first = restored.get_as("/api/v1/changes?limit=100", &restored.admin_token);
    assert_eq!(first.status, 200, "{}", first.text());
    let first = first.json();
    assert!(
        first["data"].to_string().contains(&id_of(&leeds)),
        "the restored change is served: {first}"
    );
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();

    let hull = restored.post_json(
        "/api/v1/organisations",
        &local_authority("Hull City Council"),
    );
    assert_eq!(hull.status, 201, "{}", hull.text());
    restored.settle_feed();
    let next = restored
        .get_as(
            &format!("/api/v1/changes?cursor={cursor}&limit=100"),
            &restored.admin_token,
        )
        .json();
    assert!(
        next["data"].to_string().contains(&id_of(&hull)),
        "a new write follows the restored changes: {next}"
    );
}

fn id_of(reply: &crate::common::Reply) -> String {
    reply.json()["id"].as_str().unwrap().to_owned()
}
