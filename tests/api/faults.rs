//! Faults: the database going away and coming back under a running server, statements that
//! wait too long, and the headers every answer carries. The database is stopped only on a
//! cluster of these tests' own, which `.ci/faults` makes (initdb, another port) and names in
//! `TEST_FAULT_DATABASE_URL`; the shared test server is never stopped.

use crate::common;

use std::time::{Duration, Instant};

use catalyst_persistence::testing::TestDatabase;
use common::sbri::created;
use common::{local_authority, TestServer};
use diesel::connection::SimpleConnection;
use diesel::Connection;

fn pg_ctl(action: &str) {
    common::pg_ctl(
        &std::env::var("TEST_FAULT_PG_CTL").expect("TEST_FAULT_PG_CTL"),
        std::env::var("TEST_FAULT_AS_POSTGRES").as_deref() == Ok("yes"),
        action,
    );
}

/// A 503 that says when to come back, answered within `within`.
fn unavailable_quickly(server: &TestServer, method: &str, path: &str, within: Duration) {
    let started = Instant::now();
    let reply = if method == "POST" {
        server.post_json(path, &local_authority("Sheffield City Council"))
    } else {
        server.get_as(path, &server.admin_token)
    };
    let elapsed = started.elapsed();
    assert_eq!(reply.status, 503, "{method} {path}: {}", reply.text());
    assert!(reply.header("retry-after").is_some(), "{method} {path}");
    if path.starts_with("/api/") {
        reply.assert_problem(503, "service_unavailable");
    }
    assert!(elapsed < within, "{method} {path} took {elapsed:?}");
}

#[test]
fn the_database_stopping_answers_503_at_once_and_service_resumes_by_itself() {
    let Ok(admin_url) = std::env::var("TEST_FAULT_DATABASE_URL") else {
        eprintln!("TEST_FAULT_DATABASE_URL is not set: no cluster to stop (.ci/faults makes one)");
        return;
    };
    let server = TestServer::start(
        TestDatabase::postgres(&admin_url),
        &[("CATALYST_DB_POOL_TIMEOUT_SECS", "1")],
    );
    created(server.post_json(
        "/api/v1/organisations",
        &local_authority("Leeds City Council"),
    ));

    pg_ctl("stop -m fast");
    let within = Duration::from_secs(3);
    unavailable_quickly(&server, "GET", "/readyz", within);
    unavailable_quickly(&server, "GET", "/api/v1/organisations", within);
    unavailable_quickly(&server, "POST", "/api/v1/organisations", within);
    // Liveness does not depend on the database: the process is fine.
    assert_eq!(server.get("/healthz").status, 200);

    pg_ctl("start");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = server.get("/readyz").status == 200;
        let listed = server.get("/api/v1/organisations");
        if ready && listed.status == 200 {
            // The refused create wrote nothing.
            assert_eq!(listed.json()["data"].as_array().unwrap().len(), 1);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "service did not resume: {}",
            listed.text()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    created(server.post_json("/api/v1/organisations", &local_authority("York Council")));
}

#[test]
fn a_statement_kept_waiting_by_a_lock_is_cancelled_and_answered_503() {
    let Some(database) = TestDatabase::postgres_only() else {
        eprintln!("skipped: TEST_DATABASE_URL is not set (statement_timeout is PostgreSQL's)");
        return;
    };
    let server = TestServer::start(database, &[("CATALYST_DB_STATEMENT_TIMEOUT_MS", "300")]);
    created(server.post_json(
        "/api/v1/organisations",
        &local_authority("Leeds City Council"),
    ));
    let mut holder = diesel::PgConnection::establish(&server.database().url_text()).unwrap();
    holder
        .batch_execute("BEGIN; LOCK TABLE organisations IN ACCESS EXCLUSIVE MODE")
        .unwrap();
    unavailable_quickly(
        &server,
        "GET",
        "/api/v1/organisations",
        Duration::from_secs(3),
    );
    holder.batch_execute("ROLLBACK").unwrap();
    assert_eq!(server.get("/api/v1/organisations").status, 200);
}

#[test]
fn every_answer_carries_the_security_headers() {
    for database in TestDatabase::for_each_backend() {
        let server = TestServer::start(database, &[]);
        let api_answers = [
            server.get("/api/v1/organisations"),
            server.get("/api/v1/organisations/not-an-id"),
            server.get("/no/such/route"),
            server.get("/healthz"),
        ];
        for reply in &api_answers {
            assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
            assert_eq!(reply.header("x-frame-options"), Some("DENY"));
            assert_eq!(reply.header("referrer-policy"), Some("no-referrer"));
            assert!(reply
                .header("strict-transport-security")
                .is_some_and(|value| value.starts_with("max-age=")));
            assert_eq!(
                reply.header("content-security-policy"),
                Some("default-src 'none'; frame-ancestors 'none'")
            );
        }
        // The documentation runs scripts: no policy forbidding them there.
        let docs = server.get("/docs/");
        assert_eq!(docs.status, 200);
        assert_eq!(docs.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(docs.header("content-security-policy"), None);
    }
}
