//! Hostile input: whatever a client sends, the answer is a 4xx problem+json (never a 500, never
//! a hang), and nothing in the database changes.

use crate::common;

use common::{for_each_backend, local_authority, Reply, TestServer};
use serde_json::json;

const ORGANISATIONS: &str = "/api/v1/organisations";

/// A client's mistake: 4xx, with a problem body.
fn refused(reply: &Reply, what: &str) {
    assert!(
        (400..500).contains(&reply.status),
        "{what}: {} {}",
        reply.status,
        reply.text()
    );
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json"),
        "{what}"
    );
    let problem = reply.json();
    assert_eq!(problem["status"], reply.status, "{what}");
    assert!(problem["code"].is_string(), "{what}");
}

fn post_raw(server: &TestServer, path: &str, content_type: &str, body: &[u8]) -> Reply {
    let bearer = format!("Bearer {}", server.admin_token);
    server.send(
        "POST",
        path,
        &[
            ("authorization", bearer.as_str()),
            ("content-type", content_type),
        ],
        Some(body),
    )
}

fn organisation_count(server: &TestServer) -> usize {
    server
        .get_as(
            "/api/v1/exports/organisations?format=ndjson",
            &server.admin_token,
        )
        .text()
        .lines()
        .count()
}

#[test]
fn hostile_bodies_are_refused_and_change_nothing() {
    for_each_backend(|server| {
        created_one(server);
        let before = organisation_count(server);
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let deep_object = format!(
            "{{\"name\": {}1{}}}",
            "{\"a\": ".repeat(10_000),
            "}".repeat(10_000)
        );
        let bodies: Vec<(&str, Vec<u8>)> = vec![
            ("deeply nested arrays", deep.into_bytes()),
            ("deeply nested objects", deep_object.into_bytes()),
            ("invalid UTF-8", b"{\"name\": \"Leeds \xff\xfe\", \"kind\": \"local_authority\"}".to_vec()),
            ("a lone surrogate", br#"{"name": "Leeds \ud800", "kind": "local_authority"}"#.to_vec()),
            ("an overlong name", json!({"name": "x".repeat(100_000), "kind": "local_authority"}).to_string().into_bytes()),
            ("an unknown kind", json!({"name": "Leeds", "kind": "dragon"}).to_string().into_bytes()),
            ("a number for a string", json!({"name": 12, "kind": "local_authority"}).to_string().into_bytes()),
            ("a huge number", br#"{"name": "Leeds", "kind": "local_authority", "version": 1e400}"#.to_vec()),
            ("an array for an object", b"[1, 2, 3]".to_vec()),
            // serde reads a struct from an array of its members, in order: not a body we take.
            ("the members as an array", br#"["Leeds City Council", "local_authority"]"#.to_vec()),
            ("null", b"null".to_vec()),
            ("a duplicate member", br#"{"name": "Leeds", "name": "York", "kind": "local_authority"}"#.to_vec()),
            ("SQL in a name with a NUL", json!({"name": "x'); DROP TABLE organisations; --\u{0000}", "kind": "local_authority"}).to_string().into_bytes()),
        ];
        for (what, body) in &bodies {
            let reply = post_raw(server, ORGANISATIONS, "application/json", body);
            refused(&reply, what);
        }
        // Over the body limit (1 MiB by default).
        let big =
            json!({"name": "x".repeat(2 * 1024 * 1024), "kind": "local_authority"}).to_string();
        refused(
            &post_raw(server, ORGANISATIONS, "application/json", big.as_bytes()),
            "a 2 MiB body",
        );
        // A body of the wrong type.
        refused(
            &post_raw(server, ORGANISATIONS, "text/plain", b"name=Leeds"),
            "text/plain",
        );
        // Money out of range, and a bad date, in a programme.
        for (what, body) in [
            (
                "money beyond i64",
                json!({"title": "Fund", "starts_on": "2026-01-01", "budget": {"amount": 1e30, "currency": "GBP"}}),
            ),
            (
                "a bad date",
                json!({"title": "Fund", "starts_on": "2026-02-30"}),
            ),
            (
                "an unknown currency",
                json!({"title": "Fund", "starts_on": "2026-01-01", "budget": {"amount": 100, "currency": "XYZ"}}),
            ),
        ] {
            let reply = post_raw(
                server,
                "/api/v1/programmes",
                "application/json",
                body.to_string().as_bytes(),
            );
            refused(&reply, what);
        }
        assert_eq!(organisation_count(server), before, "on {}", server.backend);
        assert_eq!(
            server.get("/api/v1/programmes").json()["data"]
                .as_array()
                .unwrap()
                .len(),
            0
        );
    });
}

fn created_one(server: &TestServer) {
    let reply = server.post_json(ORGANISATIONS, &local_authority("Leeds City Council"));
    assert_eq!(reply.status, 201, "{}", reply.text());
}

#[test]
fn hostile_queries_and_headers_are_refused_and_change_nothing() {
    for_each_backend(|server| {
        created_one(server);
        let before = organisation_count(server);
        for path in [
            "/api/v1/organisations?limit=1000000000000000000000",
            "/api/v1/organisations?limit=-1",
            "/api/v1/organisations?limit=abc",
            "/api/v1/organisations?cursor=not-a-cursor",
            "/api/v1/organisations?cursor=%00%00%00",
            "/api/v1/organisations?kind=dragon",
            "/api/v1/organisations?sort=name;DROP%20TABLE%20organisations",
            "/api/v1/organisations?updated_since=yesterday",
            "/api/v1/organisations?nonsense=1",
            "/api/v1/changes?cursor=99999999999999999999999-1",
            "/api/v1/reports/funding?from=2026-13-01",
            "/api/v1/reports/funding?group_by=name';--",
            "/api/v1/audit?limit=0",
        ] {
            let reply = server.get_as(path, &server.admin_token);
            refused(&reply, path);
        }
        // SQL in a text search is only text: it finds nothing and harms nothing.
        let reply = server
            .get("/api/v1/organisations?q=%27%20OR%201%3D1%3B%20DROP%20TABLE%20organisations%3B--");
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert_eq!(reply.json()["data"].as_array().unwrap().len(), 0);
        // A request id with a line break is not echoed (no header injection).
        let reply = server.send("GET", ORGANISATIONS, &[("x-request-id", "abc\tdef")], None);
        assert_eq!(reply.status, 200);
        assert_ne!(reply.header("x-request-id"), Some("abc\tdef"));
        // A malformed token is refused, whatever it holds.
        for token in [
            "Bearer ' OR 1=1 --",
            "Bearer a.b.c",
            "Basic YWRtaW46YWRtaW4=",
            "Bearer",
        ] {
            let reply = server.send("GET", "/api/v1/users", &[("authorization", token)], None);
            refused(&reply, token);
        }
        assert_eq!(organisation_count(server), before, "on {}", server.backend);
    });
}

/// A cursor the API did not issue is 400 `invalid_cursor` on every list paged by its rows' ids,
/// named beside any other bad parameter: never a page the client did not ask for (the webhooks
/// list compared any text with its ids and answered 200; the other lists named one problem at a
/// time; a subscription's deliveries took any cursor starting `msg_`).
#[test]
fn every_list_paged_by_id_refuses_a_cursor_it_did_not_issue() {
    for_each_backend(|server| {
        created_one(server);
        let organisation = first_id(server, "/api/v1/organisations");
        let (import, _) = crate::imports::imported(
            server,
            "collection=organisations",
            &crate::imports::ndjson(&[crate::imports::council(1)]),
        );
        let webhook = server.post_json(
            "/api/v1/webhooks",
            &json!({"url": "https://81.2.69.160/hook", "event_types": ["*"]}),
        );
        assert_eq!(webhook.status, 201, "{}", webhook.text());
        let webhook = webhook.json()["id"].as_str().expect("id").to_owned();
        for list in [
            format!("/api/v1/webhooks/{webhook}/deliveries"),
            "/api/v1/users".to_owned(),
            "/api/v1/api-clients".to_owned(),
            "/api/v1/imports".to_owned(),
            format!("{import}/results"),
            "/api/v1/webhooks".to_owned(),
            "/api/v1/audit".to_owned(),
            format!("/api/v1/organisations/{organisation}/history"),
        ] {
            let path = format!("{list}?cursor=not-a-cursor&limit=0");
            let reply = server.get_as(&path, &server.admin_token);
            let problem = reply.assert_problem(400, "invalid_query");
            let named: Vec<(&str, &str)> = problem["errors"]
                .as_array()
                .expect("errors")
                .iter()
                .map(|item| {
                    (
                        item["parameter"].as_str().unwrap_or_default(),
                        item["code"].as_str().unwrap_or_default(),
                    )
                })
                .collect();
            assert!(
                named.contains(&("cursor", "invalid_cursor")),
                "{path}: {problem}"
            );
            assert!(
                named.iter().any(|(name, _)| *name == "limit"),
                "{path}: {problem}"
            );
        }
    });
}

/// The first id of a list, as the admin sees it.
fn first_id(server: &TestServer, path: &str) -> String {
    let page = server
        .get_as(&format!("{path}?limit=1"), &server.admin_token)
        .json();
    page["data"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{path} is empty: {page}"))
        .to_owned()
}

#[test]
fn hostile_bodies_to_every_write_are_refused_and_change_nothing() {
    for_each_backend(|server| {
        server.cli(&["seed", "demo"]);
        let organisation = first_id(server, "/api/v1/organisations");
        let programme = first_id(server, "/api/v1/programmes");
        let challenge = first_id(server, "/api/v1/challenges");
        let phase = first_id(server, "/api/v1/phases");
        let application = first_id(server, "/api/v1/applications");
        let award = first_id(server, "/api/v1/awards");
        let milestone = first_id(server, "/api/v1/milestones");
        let trial = first_id(server, "/api/v1/trials");
        let user = first_id(server, "/api/v1/users");
        let writes: Vec<(&str, String)> = vec![
            ("POST", "/api/v1/organisations".to_owned()),
            ("POST", "/api/v1/programmes".to_owned()),
            ("POST", "/api/v1/challenges".to_owned()),
            ("POST", format!("/api/v1/challenges/{challenge}/phases")),
            ("POST", format!("/api/v1/phases/{phase}/applications")),
            ("POST", format!("/api/v1/phases/{phase}/awards")),
            ("POST", format!("/api/v1/awards/{award}/milestones")),
            ("POST", "/api/v1/trials".to_owned()),
            ("POST", format!("/api/v1/trials/{trial}/outcomes")),
            (
                "POST",
                format!("/api/v1/organisations/{organisation}/contacts"),
            ),
            ("POST", "/api/v1/users".to_owned()),
            ("POST", "/api/v1/webhooks".to_owned()),
            ("POST", "/api/v1/api-clients".to_owned()),
            (
                "POST",
                format!("/api/v1/challenges/{challenge}/transitions"),
            ),
            (
                "POST",
                format!("/api/v1/milestones/{milestone}/transitions"),
            ),
            ("PATCH", format!("/api/v1/organisations/{organisation}")),
            ("PATCH", format!("/api/v1/programmes/{programme}")),
            ("PATCH", format!("/api/v1/challenges/{challenge}")),
            ("PATCH", format!("/api/v1/phases/{phase}")),
            ("PATCH", format!("/api/v1/applications/{application}")),
            ("PATCH", format!("/api/v1/awards/{award}")),
            ("PATCH", format!("/api/v1/milestones/{milestone}")),
            ("PATCH", format!("/api/v1/trials/{trial}")),
            ("PATCH", format!("/api/v1/users/{user}")),
            (
                "PUT",
                "/api/v1/organisations/by-external-id/hostile/1".to_owned(),
            ),
            ("PUT", "/api/v1/awards/by-external-id/hostile/1".to_owned()),
            ("PUT", "/api/v1/trials/by-external-id/hostile/1".to_owned()),
        ];
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let oversized = format!("{{\"title\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
        let bodies: Vec<(&str, Vec<u8>)> = vec![
            ("deeply nested arrays", deep.into_bytes()),
            ("invalid UTF-8", b"{\"title\": \"Leeds \xff\xfe\"}".to_vec()),
            ("a lone surrogate", br#"{"title": "Leeds \ud800"}"#.to_vec()),
            (
                "a duplicate member",
                br#"{"title": "a", "title": "b"}"#.to_vec(),
            ),
            ("an array", b"[1, 2, 3]".to_vec()),
            ("null", b"null".to_vec()),
            ("a huge number", br#"{"version": 1e400}"#.to_vec()),
            (
                "an unknown member with SQL",
                br#"{"x'); DROP TABLE awards; --": 1}"#.to_vec(),
            ),
            (
                "a NUL in every name",
                br#"{"name": "a\u0000", "title": "a\u0000", "to": "open\u0000"}"#.to_vec(),
            ),
            ("truncated JSON", br#"{"title": "Lee"#.to_vec()),
            ("over the body limit", oversized.into_bytes()),
        ];
        let bearer = format!("Bearer {}", server.admin_token);
        let latest = |server: &TestServer| {
            server
                .get_as("/api/v1/changes/latest", &server.admin_token)
                .json()["cursor"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        // On PostgreSQL `latest` stops at the oldest transaction still running in the whole
        // cluster (other tests' databases included): once the feed has caught up with every
        // write made so far, nothing after `before` can be older than this test's writes.
        server.settle_feed();
        let before = latest(server);
        for (method, path) in &writes {
            let mut headers = vec![("authorization", bearer.as_str())];
            if *method == "PATCH" {
                headers.push(("content-type", "application/merge-patch+json"));
                headers.push(("if-match", "*"));
            } else {
                headers.push(("content-type", "application/json"));
            }
            for (what, body) in &bodies {
                let reply = server.send(method, path, &headers, Some(body));
                let what = format!("{method} {path}: {what}");
                refused(&reply, &what);
                // Refused for what was sent: the operation exists, and the admin may use it.
                assert!(
                    ![401, 403, 404, 405].contains(&reply.status),
                    "{what}: {} {}",
                    reply.status,
                    reply.text()
                );
            }
        }
        let after = server.get_as(
            &format!("/api/v1/changes?cursor={before}"),
            &server.admin_token,
        );
        assert_eq!(after.status, 200, "{}", after.text());
        assert_eq!(
            after.json()["data"],
            json!([]),
            "on {}: a refused write changed something",
            server.backend
        );
    });
}
