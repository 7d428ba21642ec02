//! `DATABASE_READ_URL`: reads that may lag (exports, reports, OCDS, anonymous reads of public
//! lists) go to a streaming read replica; writes and reads that must see them stay on the
//! primary; a replica that is down
//! sends those reads back to the primary. Runs against a real replica that `.ci/replica` sets
//! up (pg_basebackup, another port) and names in `TEST_READ_REPLICA_URL`; without one these
//! tests say so and pass, as the other backends' tests do without `TEST_DATABASE_URL`.

use crate::common;

use std::process::Command;
use std::time::{Duration, Instant};

use catalyst_persistence::testing::TestDatabase;
use common::sbri::created;
use common::{local_authority, TestServer};
use diesel::{Connection, PgConnection, RunQueryDsl};

struct Replica {
    /// The replica server's URL, without a database.
    server_url: String,
    /// `pg_ctl -D <data> ...`, run as the postgres account.
    ctl: String,
    as_postgres: bool,
}

impl Replica {
    fn from_env() -> Option<Self> {
        let server_url = std::env::var("TEST_READ_REPLICA_URL").ok()?;
        Some(Self {
            server_url,
            ctl: std::env::var("TEST_READ_REPLICA_CTL").expect("TEST_READ_REPLICA_CTL"),
            as_postgres: std::env::var("TEST_READ_REPLICA_AS_POSTGRES").as_deref() == Ok("yes"),
        })
    }

    /// The replica's copy of a primary database.
    fn url_of(&self, database: &TestDatabase) -> String {
        let primary = database.url_text();
        let name = primary.rsplit('/').next().unwrap();
        format!("{}/{name}", self.server_url)
    }

    fn pg_ctl(&self, action: &str) {
        common::pg_ctl(&self.ctl, self.as_postgres, action);
    }

    fn sql(&self, database: &TestDatabase, statement: &str) {
        let mut connection = PgConnection::establish(&self.url_of(database)).unwrap();
        diesel::sql_query(statement)
            .execute(&mut connection)
            .unwrap();
    }
}

fn eventually(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The organisations' names in an export (which reads from the replica when there is one).
fn exported_names(server: &TestServer) -> Vec<String> {
    let reply = server.get_as(
        "/api/v1/exports/organisations?format=ndjson",
        &server.admin_token,
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply
        .text()
        .lines()
        .map(|line| {
            let record: serde_json::Value = serde_json::from_str(line).unwrap();
            record["name"].as_str().unwrap().to_owned()
        })
        .collect()
}

/// The organisations' names in a list read with a token (from the primary: a caller with a
/// token may have just written).
fn listed_names(server: &TestServer) -> Vec<String> {
    names(server.get_as("/api/v1/organisations?limit=100", &server.admin_token))
}

/// The same list read anonymously (public data, which may lag: from the replica).
fn anonymous_names(server: &TestServer) -> Vec<String> {
    names(server.get("/api/v1/organisations?limit=100"))
}

fn names(reply: common::Reply) -> Vec<String> {
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|organisation| organisation["name"].as_str().unwrap().to_owned())
        .collect()
}

fn primary_database() -> Option<(TestDatabase, Replica)> {
    let Some(replica) = Replica::from_env() else {
        eprintln!(
            "TEST_READ_REPLICA_URL is not set: no read replica to test (.ci/replica sets one up)"
        );
        return None;
    };
    let database =
        TestDatabase::postgres_only().expect("a read replica needs TEST_DATABASE_URL, its primary");
    Some((database, replica))
}

#[test]
fn lagging_reads_go_to_the_replica_and_back_to_the_primary_while_it_is_down() {
    let Some((database, replica)) = primary_database() else {
        return;
    };
    let read_url = replica.url_of(&database);
    let server = TestServer::start(database, &[("DATABASE_READ_URL", read_url.as_str())]);
    created(server.post_json(
        "/api/v1/organisations",
        &local_authority("Leeds City Council"),
    ));
    eventually("the replica to replay the first write", || {
        exported_names(&server) == ["Leeds City Council"]
    });

    // With replay paused, the replica falls behind: the export (replica) does not show the
    // next write, while the list (primary) does.
    replica.sql(server.database(), "SELECT pg_wal_replay_pause()");
    created(server.post_json(
        "/api/v1/organisations",
        &local_authority("Bradford Council"),
    ));
    assert_eq!(listed_names(&server).len(), 2);
    assert_eq!(exported_names(&server), ["Leeds City Council"]);
    assert_eq!(anonymous_names(&server), ["Leeds City Council"]);
    let report = server.get_as("/api/v1/reports/funding", &server.admin_token);
    assert_eq!(report.status, 200, "{}", report.text());
    replica.sql(server.database(), "SELECT pg_wal_replay_resume()");
    eventually("the replica to catch up", || {
        exported_names(&server).len() == 2
    });

    // The replica stopped: the same reads come from the primary, without a long wait.
    replica.pg_ctl("stop -m fast");
    created(server.post_json(
        "/api/v1/organisations",
        &local_authority("Wakefield Council"),
    ));
    let started = Instant::now();
    assert_eq!(exported_names(&server).len(), 3);
    assert_eq!(anonymous_names(&server).len(), 3);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the fallback took {:?}",
        started.elapsed()
    );
    for _ in 0..5 {
        let report = server.get_as("/api/v1/reports/sme-share", &server.admin_token);
        assert_eq!(report.status, 200, "{}", report.text());
        assert_eq!(server.get("/api/v1/ocds/releases").status, 200);
    }

    // Started again, it serves once more (paused, it shows its lag again).
    replica.pg_ctl("start");
    eventually("the replica to serve again", || {
        let mut connection = match PgConnection::establish(&read_url) {
            Ok(connection) => connection,
            Err(_) => return false,
        };
        diesel::sql_query("SELECT pg_wal_replay_pause()")
            .execute(&mut connection)
            .is_ok()
    });
    created(server.post_json(
        "/api/v1/organisations",
        &local_authority("Hull City Council"),
    ));
    // Paused, the replica lags the primary's four: an export shorter than the list came from it.
    eventually("exports to read from the replica again", || {
        exported_names(&server).len() < listed_names(&server).len()
    });
    replica.sql(server.database(), "SELECT pg_wal_replay_resume()");
    eventually("the replica to catch up again", || {
        exported_names(&server).len() == 4
    });
}

#[test]
fn a_read_replica_must_be_postgresql_beside_postgresql() {
    let output = Command::new(common::BINARY)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("DATABASE_URL", "sqlite:///tmp/catalyst-replica-refused.db")
        .env(
            "DATABASE_READ_URL",
            "postgres://postgres@127.0.0.1:5433/catalyst",
        )
        .env("CATALYST_LOG", "warn")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("DATABASE_READ_URL"), "{message}");
    assert!(
        !message.contains("5433"),
        "the URL may hold a password: {message}"
    );
}
