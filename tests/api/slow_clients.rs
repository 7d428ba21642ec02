//! Slow clients: a body trickled in to hold a connection open is cut off with 408 and changes
//! nothing, whichever path reads it (a JSON body, a body fingerprinted for its Idempotency-Key,
//! an import upload); a large body sent at a fair rate still gets through.

use crate::common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use catalyst_persistence::testing::TestDatabase;
use common::{local_authority, TestServer};
use serde_json::Value;

/// One second to start, and one more for each KiB received.
const SETTINGS: [(&str, &str); 2] = [
    ("CATALYST_BODY_TIMEOUT_SECS", "1"),
    ("CATALYST_BODY_MIN_RATE", "1024"),
];

struct Answer {
    status: u16,
    head: String,
    body: String,
    /// How long after the first byte of the request the answer was complete.
    took: Duration,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.body))
    }
}

/// Sends a request's head and then `body` in `pieces` pieces, one every `every`; stops sending
/// when the server answers or closes. The server's answer, read to the end of the connection.
fn send_in_pieces(
    server: &TestServer,
    head: &str,
    body: &[u8],
    pieces: usize,
    every: Duration,
) -> Answer {
    let address = server.base_url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let started = Instant::now();
    write!(
        stream,
        "{head}Host: {address}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    let size = body.len().div_ceil(pieces);
    for piece in body.chunks(size) {
        if stream.write_all(piece).is_err() {
            break;
        }
        std::thread::sleep(every);
        // Has the server answered already? Peek without waiting.
        stream.set_nonblocking(true).unwrap();
        let mut probe = [0u8; 1];
        let answered = matches!(stream.peek(&mut probe), Ok(n) if n > 0);
        stream.set_nonblocking(false).unwrap();
        if answered {
            break;
        }
    }
    let mut response = Vec::new();
    // The server closes the connection after a 408; a reset after it is also an end.
    let _ = stream.read_to_end(&mut response);
    let took = started.elapsed();
    let response = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = response
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no complete answer: {response:?}"));
    Answer {
        status: head[9..12].parse().unwrap(),
        head: head.to_ascii_lowercase(),
        body: body.to_owned(),
        took,
    }
}

/// A body in 40 pieces, one every 200 ms: 8 s for a body of a few hundred bytes, far slower
/// than the 1 KiB/s the tests' settings ask for.
fn trickle(server: &TestServer, head: &str, body: &[u8]) -> Answer {
    send_in_pieces(server, head, body, 40, Duration::from_millis(200))
}

fn organisations_named(server: &TestServer, name: &str) -> usize {
    let reply = server.get_as("/api/v1/organisations?limit=500", &server.admin_token);
    reply.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|organisation| organisation["name"] == name)
        .count()
}

fn assert_cut_off(answer: &Answer, what: &str) {
    assert_eq!(answer.status, 408, "{what}: {}", answer.body);
    assert!(
        answer
            .head
            .contains("content-type: application/problem+json"),
        "{what}: {}",
        answer.head
    );
    assert!(
        answer.head.contains("connection: close"),
        "{what}: {}",
        answer.head
    );
    assert_eq!(answer.json()["code"], "body_timeout", "{what}");
    // Cut off near the one-second allowance, not when the client chose to stop.
    assert!(
        answer.took < Duration::from_secs(5),
        "{what}: took {:?}",
        answer.took
    );
}

#[test]
fn a_body_trickled_in_is_cut_off_with_408_and_changes_nothing() {
    for database in TestDatabase::for_each_backend() {
        let server = TestServer::start(database, &SETTINGS);
        let token = &server.admin_token;
        let name = format!("Trickle Council {}", server.backend);
        let body = local_authority(&name).to_string();
        let head = format!(
            "POST /api/v1/organisations HTTP/1.1\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\n"
        );
        let answer = trickle(&server, &head, body.as_bytes());
        assert_cut_off(&answer, "JSON body");

        // With an Idempotency-Key, the body is read first to fingerprint it.
        let keyed = format!("{head}Idempotency-Key: trickle-{}\r\n", server.backend);
        let answer = trickle(&server, &keyed, body.as_bytes());
        assert_cut_off(&answer, "body with an Idempotency-Key");
        assert_eq!(organisations_named(&server, &name), 0, "{}", server.backend);

        // An import upload is read in a stream of its own.
        let rows = format!("{body}\n").repeat(3);
        let upload = format!(
            "POST /api/v1/imports?collection=organisations&format=ndjson HTTP/1.1\r\n\
             Authorization: Bearer {token}\r\nContent-Type: application/x-ndjson\r\n"
        );
        let answer = trickle(&server, &upload, rows.as_bytes());
        assert_cut_off(&answer, "import upload");
        assert_eq!(organisations_named(&server, &name), 0, "{}", server.backend);

        // The server is as able as before.
        let reply = server.post_json("/api/v1/organisations", &local_authority(&name));
        assert_eq!(reply.status, 201, "{}", reply.text());
    }
}

#[test]
fn a_large_body_at_a_fair_rate_is_read_past_the_first_allowance() {
    for database in TestDatabase::for_each_backend() {
        let server = TestServer::start(database, &SETTINGS);
        let token = &server.admin_token;
        let name = format!("Steady Council {}", server.backend);
        // 8 KiB of JSON (padded with whitespace) in 16 pieces, one every 150 ms: 2.4 s in all,
        // past the first second, at about 3.4 KiB/s, above the 1 KiB/s the server asks for.
        let mut body = local_authority(&name).to_string();
        body.insert_str(1, &" ".repeat(8 * 1024));
        let head = format!(
            "POST /api/v1/organisations HTTP/1.1\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nConnection: close\r\n"
        );
        let answer = send_in_pieces(
            &server,
            &head,
            body.as_bytes(),
            16,
            Duration::from_millis(150),
        );
        assert_eq!(answer.status, 201, "{}", answer.body);
        assert!(answer.took > Duration::from_secs(2), "{:?}", answer.took);
        assert_eq!(organisations_named(&server, &name), 1, "{}", server.backend);
    }
}
