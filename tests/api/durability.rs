//! Stops, abrupt and graceful, and a pool with no connection to spare: a server killed
//! (SIGKILL) in the middle of a write load loses no write it acknowledged and leaves no record
//! without its change (or a change without its record); a server asked to stop (SIGTERM)
//! finishes the request it is serving and takes no new connection; a request that finds every
//! pooled connection busy is answered 503 after the configured wait, not left hanging (on both
//! databases: a write lock held from outside keeps the pool's one connection waiting); idle
//! background workers take no write lock, so they never hold the pool waiting on one.

use crate::common;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use catalyst_persistence::testing::TestDatabase;
use catalyst_persistence::DatabaseUrl;
use common::{local_authority, TestServer};
use diesel::connection::SimpleConnection;
use diesel::Connection;
use serde_json::Value;

/// Every id of a paged list, following `next_cursor`.
fn all_ids(server: &TestServer, first: &str, id_of: impl Fn(&Value) -> String) -> Vec<String> {
    let mut ids = Vec::new();
    let mut path = first.to_owned();
    loop {
        let reply = server.get_as(&path, &server.admin_token);
        assert_eq!(reply.status, 200, "{path}: {}", reply.text());
        let page = reply.json();
        ids.extend(page["data"].as_array().unwrap().iter().map(&id_of));
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                let separator = if first.contains('?') { '&' } else { '?' };
                path = format!("{first}{separator}cursor={cursor}");
            }
            None => return ids,
        }
    }
}

/// POSTs `body` on a connection of its own; the status and body, or `None` when the server is
/// gone (refused, reset or closed before answering).
fn post_raw(address: &str, token: &str, path: &str, body: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(address).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.get(9..12)?.parse().ok()?;
    let (_, payload) = response.split_once("\r\n\r\n")?;
    Some((status, payload.to_owned()))
}

#[test]
fn a_server_killed_during_writes_keeps_every_acknowledged_write_whole() {
    for database in TestDatabase::for_each_backend() {
        let mut server = TestServer::start(database, &[]);
        let acknowledged = Mutex::new(Vec::<String>::new());
        let stop = AtomicBool::new(false);
        std::thread::scope(|scope| {
            let address = server.base_url.trim_start_matches("http://").to_owned();
            for writer in 0..4 {
                let (address, token) = (address.clone(), server.admin_token.clone());
                let (acknowledged, stop) = (&acknowledged, &stop);
                scope.spawn(move || {
                    let mut attempt = 0;
                    while !stop.load(Ordering::Relaxed) {
                        attempt += 1;
                        let body = local_authority(&format!("Council {writer}-{attempt}"));
                        match post_raw(&address, &token, "/api/v1/organisations", &body.to_string())
                        {
                            Some((201, payload)) => {
                                let created: Value = serde_json::from_str(&payload).unwrap();
                                let id = created["id"].as_str().unwrap().to_owned();
                                acknowledged.lock().unwrap().push(id);
                            }
                            Some((status, payload)) => {
                                assert!(status >= 500, "a write was refused: {status} {payload}");
                            }
                            // The server is gone: what it answered before is what counts.
                            None => break,
                        }
                    }
                });
            }
            // Let the load run, then kill the process without warning.
            let deadline = Instant::now() + Duration::from_secs(10);
            while acknowledged.lock().unwrap().len() < 40 && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            server.signal("KILL");
            stop.store(true, Ordering::Relaxed);
        });
        server.kill();
        let acknowledged = acknowledged.into_inner().unwrap();
        assert!(
            acknowledged.len() >= 40,
            "the load ran ({} writes acknowledged)",
            acknowledged.len()
        );

        let restarted = server.replica();
        for id in &acknowledged {
            let reply = restarted.get(&format!("/api/v1/organisations/{id}"));
            assert_eq!(
                reply.status,
                200,
                "acknowledged {id} is kept: {}",
                reply.text()
            );
        }
        // Each record was written with its change in one transaction: the records and the
        // feed's creates name the same ids, whatever the kill interrupted.
        restarted.settle_feed();
        let records: BTreeSet<String> =
            all_ids(&restarted, "/api/v1/organisations?limit=500", |row| {
                row["id"].as_str().unwrap().to_owned()
            })
            .into_iter()
            .collect();
        let changes: Vec<Value> = {
            let mut changes = Vec::new();
            let mut path = "/api/v1/changes?entity=organisations&limit=1000".to_owned();
            loop {
                let page = restarted.get_as(&path, &restarted.admin_token).json();
                let data = page["data"].as_array().unwrap().clone();
                let done = data.is_empty();
                changes.extend(data);
                match page["next_cursor"].as_str() {
                    Some(cursor) if !done => {
                        path = format!(
                            "/api/v1/changes?entity=organisations&limit=1000&cursor={cursor}"
                        );
                    }
                    _ => break,
                }
            }
            changes
        };
        let created: BTreeSet<String> = changes
            .iter()
            .filter(|change| change["operation"] == "create")
            .map(|change| change["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            records, created,
            "every record has its change and no change lacks its record"
        );
        assert!(records.len() >= acknowledged.len());
        // And the restarted server takes writes again.
        let reply = restarted.post_json("/api/v1/organisations", &local_authority("York Council"));
        assert_eq!(reply.status, 201, "{}", reply.text());
    }
}

#[test]
fn sigterm_lets_the_request_in_flight_finish_and_takes_no_new_one() {
    for database in TestDatabase::for_each_backend() {
        let mut server = TestServer::start(database, &[("CATALYST_SHUTDOWN_TIMEOUT_SECS", "10")]);
        let address = server.base_url.trim_start_matches("http://").to_owned();
        let body = local_authority("Bradford Council").to_string();
        let (first_half, second_half) = body.split_at(body.len() / 2);

        // A request whose body is still arriving when the signal comes.
        let mut in_flight = TcpStream::connect(&address).unwrap();
        in_flight
            .set_read_timeout(Some(Duration::from_secs(15)))
            .unwrap();
        write!(
            in_flight,
            "POST /api/v1/organisations HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{first_half}",
            server.admin_token,
            body.len()
        )
        .unwrap();
        in_flight.flush().unwrap();
        std::thread::sleep(Duration::from_millis(300));

        server.signal("TERM");
        // New connections are refused once the server has stopped accepting.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let refused = match TcpStream::connect(&address) {
                Err(_) => true,
                Ok(mut stream) => {
                    // Accepted by the kernel's backlog at most: no answer ever comes.
                    stream
                        .set_read_timeout(Some(Duration::from_millis(500)))
                        .unwrap();
                    let _ = stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
                    let mut buffer = [0_u8; 64];
                    !matches!(stream.read(&mut buffer), Ok(read) if read > 0)
                }
            };
            if refused {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the server still takes new requests after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(100));
        }

        // The request in flight completes, and is answered.
        in_flight.write_all(second_half.as_bytes()).unwrap();
        let mut response = String::new();
        in_flight.read_to_string(&mut response).unwrap();
        assert!(
            response.starts_with("HTTP/1.1 201"),
            "in-flight request answered: {response}"
        );
        let status = server.wait_for_exit(Duration::from_secs(15));
        assert!(
            status.is_some_and(|status| status.success()),
            "the server exits cleanly after SIGTERM: {status:?}"
        );

        let restarted = server.replica();
        let listed = restarted.get("/api/v1/organisations?q=Bradford");
        assert_eq!(
            listed.json()["data"].as_array().unwrap().len(),
            1,
            "the write is kept"
        );
    }
}

/// Holds the database's write lock from outside the server until the returned guard is
/// released: on PostgreSQL an exclusive lock on `tables` (plain reads of them go on, as on
/// SQLite), on SQLite the file's write lock (`BEGIN IMMEDIATE`), which the server's writers then
/// wait on (busy_timeout 5 s).
enum WriteLock {
    Postgres(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

impl WriteLock {
    fn take(url: &DatabaseUrl, tables: &[&str]) -> Self {
        match url {
            DatabaseUrl::Postgres(url) => {
                let mut holder = diesel::PgConnection::establish(url).unwrap();
                holder
                    .batch_execute(&format!(
                        "BEGIN; LOCK TABLE {} IN EXCLUSIVE MODE",
                        tables.join(", ")
                    ))
                    .unwrap();
                Self::Postgres(holder)
            }
            DatabaseUrl::Sqlite(path) => {
                let mut holder =
                    diesel::SqliteConnection::establish(&path.display().to_string()).unwrap();
                holder.batch_execute("BEGIN IMMEDIATE").unwrap();
                Self::Sqlite(holder)
            }
        }
    }

    fn release(self) {
        match self {
            Self::Postgres(mut holder) => holder.batch_execute("ROLLBACK").unwrap(),
            Self::Sqlite(mut holder) => holder.batch_execute("ROLLBACK").unwrap(),
        }
    }
}

/// A server whose pool has one connection and waits a second for it.
fn one_connection_server(database: TestDatabase) -> TestServer {
    TestServer::start(
        database,
        &[
            ("CATALYST_DB_POOL_SIZE", "1"),
            ("CATALYST_DB_POOL_TIMEOUT_SECS", "1"),
            ("CATALYST_DB_STATEMENT_TIMEOUT_MS", "20000"),
        ],
    )
}

#[test]
fn a_request_finding_every_pooled_connection_busy_is_answered_503_after_the_wait() {
    for database in TestDatabase::for_each_backend() {
        let server = one_connection_server(database);
        let lock = WriteLock::take(server.database().url(), &["organisations"]);
        std::thread::scope(|scope| {
            // This write takes the pool's only connection and waits on the lock.
            let blocked = scope.spawn(|| {
                server.post_json(
                    "/api/v1/organisations",
                    &local_authority("Leeds City Council"),
                )
            });
            std::thread::sleep(Duration::from_millis(500));
            let started = Instant::now();
            let reply = server.get("/api/v1/programmes");
            let waited = started.elapsed();
            reply.assert_problem(503, "service_unavailable");
            assert!(reply.header("retry-after").is_some(), "{}", server.backend);
            assert!(
                waited >= Duration::from_millis(900) && waited < Duration::from_secs(4),
                "{}: answered after the pool's 1 s wait, not at once and not hanging: {waited:?}",
                server.backend
            );
            lock.release();
            let created = blocked.join().unwrap();
            assert_eq!(
                created.status,
                201,
                "{}: the waiting write went through: {}",
                server.backend,
                created.text()
            );
        });
        assert_eq!(
            server.get("/api/v1/programmes").status,
            200,
            "{}: the pool recovered",
            server.backend
        );
    }
}

/// The background workers (imports, webhook fan-out and sending) ask the database for work every
/// second or half second. When there is none they must not take the write lock: on SQLite it is
/// the one lock every writer shares, and a worker waiting on it holds a pooled connection that
/// requests need. With one pooled connection and a writer holding the lock for three seconds,
/// every read is still answered.
#[test]
fn idle_background_workers_leave_the_pool_to_requests_while_a_writer_holds_the_lock() {
    for database in TestDatabase::for_each_backend() {
        let server = one_connection_server(database);
        let lock = WriteLock::take(
            server.database().url(),
            &["imports", "webhook_subscriptions", "webhook_deliveries"],
        );
        let until = Instant::now() + Duration::from_secs(3);
        let mut reads = 0;
        while Instant::now() < until {
            let reply = server.get("/api/v1/programmes");
            assert_eq!(
                reply.status,
                200,
                "{}: read {reads} while the lock is held: {}",
                server.backend,
                reply.text()
            );
            reads += 1;
            std::thread::sleep(Duration::from_millis(100));
        }
        lock.release();
        assert!(reads >= 10, "{}: only {reads} reads", server.backend);
    }
}
