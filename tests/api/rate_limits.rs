//! Per-client rate limits: every API answer says where the client stands; one over the limit is
//! 429 with `Retry-After`, and other clients are not held up by it. A 304 costs nothing.

use crate::common;

use catalyst_persistence::testing::TestDatabase;
use common::TestServer;

fn header_number(reply: &common::Reply, name: &str) -> u64 {
    reply
        .header(name)
        .unwrap_or_else(|| panic!("no {name}"))
        .parse()
        .unwrap()
}

#[test]
fn a_client_over_its_limit_gets_429_with_retry_after_and_others_go_on() {
    for database in TestDatabase::for_each_backend() {
        let server = TestServer::start(database, &[("CATALYST_RATE_LIMIT_PER_MINUTE", "5")]);
        // The admin's sign-in at start was one request from this address: four are left.
        let mut remaining = Vec::new();
        loop {
            let reply = server.get("/api/v1/organisations");
            if reply.status == 429 {
                let problem = reply.assert_problem(429, "rate_limited");
                assert!(problem["detail"].as_str().unwrap().contains('5'));
                let retry_after = header_number(&reply, "retry-after");
                assert!((1..=12).contains(&retry_after), "{retry_after}");
                assert_eq!(header_number(&reply, "ratelimit-remaining"), 0);
                assert_eq!(header_number(&reply, "ratelimit-limit"), 5);
                break;
            }
            assert_eq!(reply.status, 200, "{}", reply.text());
            assert_eq!(header_number(&reply, "ratelimit-limit"), 5);
            assert!(header_number(&reply, "ratelimit-reset") <= 60);
            remaining.push(header_number(&reply, "ratelimit-remaining"));
            assert!(remaining.len() <= 5, "never limited: {remaining:?}");
        }
        assert_eq!(remaining.last(), Some(&0), "{remaining:?}");
        assert!(
            remaining.windows(2).all(|pair| pair[1] < pair[0]),
            "{remaining:?}"
        );

        // The admin counts as itself, not as the address: its requests still pass.
        let reply = server.get_as("/api/v1/organisations", &server.admin_token);
        assert_eq!(reply.status, 200, "{}", reply.text());
        // Health checks are never limited.
        assert_eq!(server.get("/healthz").status, 200);
        assert_eq!(server.get("/readyz").status, 200);
    }
}

/// As on GitHub's API, a 304 does not count: a partner polling a list with `If-None-Match`
/// spends its allowance only on answers that changed.
#[test]
fn an_unchanged_answer_costs_nothing() {
    for database in TestDatabase::for_each_backend() {
        let server = TestServer::start(database, &[("CATALYST_RATE_LIMIT_PER_MINUTE", "5")]);
        let list = "/api/v1/organisations";
        let first = server.get(list);
        assert_eq!(first.status, 200, "{}", first.text());
        let left = header_number(&first, "ratelimit-remaining");
        let tag = first.header("etag").unwrap().to_owned();
        for _ in 0..12 {
            let reply = server.send("GET", list, &[("if-none-match", tag.as_str())], None);
            assert_eq!(reply.status, 304, "{}", reply.text());
            assert!(header_number(&reply, "ratelimit-remaining") >= left);
        }
        // A changed answer still counts.
        let reply = server.get(list);
        assert_eq!(reply.status, 200);
        assert!(header_number(&reply, "ratelimit-remaining") < left + 1);
    }
}
