//! HTTP behaviour every endpoint shares: problem+json for every error (the framework's own
//! included), request ids, health and readiness.

use crate::common;

use catalyst_persistence::testing::TestDatabase;
use common::{for_each_backend, TestServer};
use serde_json::json;

const COLLECTION: &str = "/api/v1/organisations";

/// A raw POST of `body` to the collection, signed in as the admin.
fn post_as_admin(server: &TestServer, content_type: Option<&str>, body: &[u8]) -> common::Reply {
    let bearer = format!("Bearer {}", server.admin_token);
    let mut headers = vec![("authorization", bearer.as_str())];
    if let Some(content_type) = content_type {
        headers.push(("content-type", content_type));
    }
    server.send("POST", COLLECTION, &headers, Some(body))
}

#[test]
fn malformed_json_is_a_400_problem() {
    for_each_backend(|server| {
        for body in ["{\"name\": ", "not json", "", "{\"name\": \"x\"} extra"] {
            post_as_admin(server, Some("application/json"), body.as_bytes())
                .assert_problem(400, "malformed_json");
        }
    });
}

#[test]
fn a_malformed_body_is_reported_as_such_even_without_a_token() {
    for_each_backend(|server| {
        server
            .send(
                "POST",
                COLLECTION,
                &[("content-type", "application/json")],
                Some(b"{\"name\": "),
            )
            .assert_problem(400, "malformed_json");
        server
            .send(
                "POST",
                COLLECTION,
                &[("content-type", "application/json")],
                Some(br#"{"name": "x", "kind": "charity", "colour": 1}"#),
            )
            .assert_problem(422, "invalid_body");
        // A well-formed body still needs a token.
        server
            .send(
                "POST",
                COLLECTION,
                &[("content-type", "application/json")],
                Some(br#"{"name": "x", "kind": "charity"}"#),
            )
            .assert_problem(401, "unauthenticated");
    });
}

#[test]
fn an_unknown_field_is_named() {
    for_each_backend(|server| {
        let problem = server
            .post_json(
                COLLECTION,
                &json!({"name": "Leeds", "kind": "local_authority", "colour": "red"}),
            )
            .assert_problem(422, "invalid_body");
        assert_eq!(problem["errors"][0]["pointer"], "#/colour");
        assert_eq!(problem["errors"][0]["code"], "unknown_field");
    });
}

#[test]
fn a_server_managed_field_cannot_be_set() {
    for_each_backend(|server| {
        let problem = server
            .post_json(
                COLLECTION,
                &json!({"id": "0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b", "name": "Leeds", "kind": "local_authority"}),
            )
            .assert_problem(422, "invalid_body");
        assert_eq!(problem["errors"][0]["pointer"], "#/id");
        assert_eq!(problem["errors"][0]["code"], "read_only_field");
    });
}

#[test]
fn a_wrong_type_is_named() {
    for_each_backend(|server| {
        let problem = server
            .post_json(COLLECTION, &json!({"name": 42, "kind": "local_authority"}))
            .assert_problem(422, "invalid_body");
        assert_eq!(problem["errors"][0]["pointer"], "#/name");
        assert_eq!(problem["errors"][0]["code"], "invalid_type");
        let problem = server
            .post_json(COLLECTION, &json!({"name": "Leeds", "kind": "council"}))
            .assert_problem(422, "invalid_body");
        assert_eq!(problem["errors"][0]["pointer"], "#/kind");
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("local_authority"),
            "{problem}"
        );
        let problem = server
            .post_json(COLLECTION, &json!({"kind": "local_authority"}))
            .assert_problem(422, "invalid_body");
        assert_eq!(problem["errors"][0]["pointer"], "#/name");
        assert_eq!(problem["errors"][0]["code"], "required");
    });
}

#[test]
fn an_oversized_body_is_a_413_problem() {
    for_each_backend(|server| {
        let name = "a".repeat(2 * 1024 * 1024);
        let body = json!({"name": name, "kind": "local_authority"}).to_string();
        post_as_admin(server, Some("application/json"), body.as_bytes())
            .assert_problem(413, "payload_too_large");
    });
}

#[test]
fn a_body_that_is_not_json_is_a_415_problem() {
    for_each_backend(|server| {
        post_as_admin(server, Some("text/csv"), b"name,kind")
            .assert_problem(415, "unsupported_media_type");
        post_as_admin(server, None, b"{}").assert_problem(415, "unsupported_media_type");
    });
}

#[test]
fn an_unknown_route_is_a_404_problem() {
    for_each_backend(|server| {
        server
            .get("/api/v1/nothing-here")
            .assert_problem(404, "route_not_found");
        server
            .get("/api/v2/organisations")
            .assert_problem(404, "route_not_found");
    });
}

/// A final `/` names no route: 404, saying the path without it. It was a 405 saying
/// "GET is not allowed here" with `Allow: GET`, which contradicted itself.
#[test]
fn a_path_with_a_final_slash_is_not_found_and_points_to_the_route() {
    for_each_backend(|server| {
        for method in ["GET", "POST", "OPTIONS"] {
            let reply = server.send(method, &format!("{COLLECTION}/"), &[], None);
            let problem = reply.assert_problem(404, "route_not_found");
            assert!(reply.header("allow").is_none(), "{method}");
            assert!(
                problem["detail"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("(without the final /: {COLLECTION})")),
                "{method}: {problem}"
            );
        }
        let reply = server.get("/api/v1/nothing-here/");
        let problem = reply.assert_problem(404, "route_not_found");
        assert!(!problem["detail"].as_str().unwrap().contains("without"));
    });
}

#[test]
fn a_known_route_with_another_method_is_a_405_problem_with_allow() {
    for_each_backend(|server| {
        let reply = server.send("PUT", COLLECTION, &[], None);
        reply.assert_problem(405, "method_not_allowed");
        assert_eq!(reply.header("allow"), Some("GET, HEAD, POST, OPTIONS"));
        let reply = server.send(
            "POST",
            &format!("{COLLECTION}/0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b"),
            &[],
            None,
        );
        reply.assert_problem(405, "method_not_allowed");
        assert_eq!(
            reply.header("allow"),
            Some("GET, HEAD, PATCH, DELETE, OPTIONS")
        );
    });
}

/// `OPTIONS` on a known path says which methods it takes (RFC 9110, section 9.3.7), as
/// GitHub's API does, and agrees with a 405's `Allow`; a browser's CORS preflight is still
/// answered by CORS (`browsers_from_configured_origins_may_call_the_api`).
#[test]
fn options_names_the_methods_a_path_takes() {
    for_each_backend(|server| {
        let reply = server.send("OPTIONS", COLLECTION, &[], None);
        assert_eq!(reply.status, 204);
        assert_eq!(reply.header("allow"), Some("GET, HEAD, POST, OPTIONS"));
        assert!(reply.body.is_empty());
        let record = format!("{COLLECTION}/0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b");
        let reply = server.send("OPTIONS", &record, &[], None);
        assert_eq!(reply.status, 204);
        assert_eq!(
            reply.header("allow"),
            Some("GET, HEAD, PATCH, DELETE, OPTIONS")
        );
        let me = "/api/v1/users/me";
        let reply = server.send("OPTIONS", me, &[], None);
        assert_eq!(reply.header("allow"), Some("GET, HEAD, OPTIONS"));
        let refused = server.send_json("DELETE", me, &json!({}), Some(&server.admin_token));
        refused.assert_problem(405, "method_not_allowed");
        assert_eq!(refused.header("allow"), Some("GET, HEAD, OPTIONS"));
        server
            .send("OPTIONS", "/api/v1/nothing-here", &[], None)
            .assert_problem(404, "route_not_found");
    });
}

/// `HEAD` is answered wherever `GET` is (RFC 9110, section 9.3.2), with the headers `GET`
/// sends and no body: a list, a record, its conditional form, a CSV export, the Atom feed and
/// the spec. A path with no `GET` still refuses it with 405.
#[test]
fn head_is_answered_wherever_get_is() {
    for_each_backend(|server| {
        let created = server.post_json(COLLECTION, &common::local_authority("Leeds City Council"));
        assert_eq!(created.status, 201, "{}", created.text());
        let record = format!("{COLLECTION}/{}", created.json()["id"].as_str().unwrap());
        let bearer = format!("Bearer {}", server.admin_token);
        let signed_in = [("authorization", bearer.as_str())];
        for path in [
            COLLECTION,
            record.as_str(),
            "/api/v1/exports/organisations?format=csv",
            "/api/v1/feeds/challenges.atom",
            "/api/v1/openapi.json",
        ] {
            let get = server.send("GET", path, &signed_in, None);
            assert_eq!(get.status, 200, "GET {path}: {}", get.text());
            let head = server.send("HEAD", path, &signed_in, None);
            assert_eq!(head.status, 200, "HEAD {path}");
            assert!(head.body.is_empty(), "HEAD {path} sent a body");
            for name in ["content-type", "etag", "content-disposition"] {
                assert_eq!(head.header(name), get.header(name), "HEAD {path}: {name}");
            }
            if let Some(length) = head.header("content-length") {
                assert_eq!(length, get.body.len().to_string(), "HEAD {path}");
            }
        }
        let tag = server.get(&record).header("etag").unwrap().to_owned();
        let unchanged = server.send("HEAD", &record, &[("if-none-match", tag.as_str())], None);
        assert_eq!(unchanged.status, 304);
        let refused = server.send("HEAD", "/api/v1/auth/token", &[], None);
        assert_eq!(refused.status, 405);
        assert_eq!(refused.header("allow"), Some("POST, OPTIONS"));
        assert!(refused.body.is_empty());
    });
}

#[test]
fn an_id_that_is_not_a_uuid_is_not_found() {
    for_each_backend(|server| {
        server
            .get(&format!("{COLLECTION}/not-a-uuid"))
            .assert_problem(404, "not_found");
        // Every kind of handler reads the path's id one way (IdPath, or the generic reads,
        // deletes and transitions): a 404 naming the record the path is about.
        let bearer = format!("Bearer {}", server.admin_token);
        let signed_in = [("authorization", bearer.as_str())];
        for (method, path, record) in [
            ("GET", "/api/v1/challenges/not-a-uuid", "challenge"),
            ("PATCH", "/api/v1/phases/not-a-uuid", "phase"),
            ("POST", "/api/v1/challenges/not-a-uuid/phases", "challenge"),
            ("GET", "/api/v1/phases/not-a-uuid/applications", "phase"),
            ("POST", "/api/v1/awards/not-a-uuid/milestones", "award"),
            ("GET", "/api/v1/trials/not-a-uuid/outcomes", "trial"),
            ("POST", "/api/v1/phases/not-a-uuid/transitions", "phase"),
            ("DELETE", "/api/v1/contacts/not-a-uuid", "contact"),
            ("GET", "/api/v1/awards/not-a-uuid/history", "award"),
        ] {
            // A transition reads its body first: one it could make.
            let body = if path.ends_with("/transitions") {
                Some(&br#"{"to": "open"}"#[..])
            } else {
                (method == "POST" || method == "PATCH").then_some(&b"{}"[..])
            };
            let mut headers = signed_in.to_vec();
            if method == "PATCH" {
                headers.push(("content-type", "application/merge-patch+json"));
            } else if body.is_some() {
                headers.push(("content-type", "application/json"));
            }
            let problem = server
                .send(method, path, &headers, body)
                .assert_problem(404, "not_found");
            assert_eq!(
                problem["detail"],
                format!("no {record} has id \"not-a-uuid\": ids are UUIDs"),
                "{method} {path}"
            );
            if method == "POST" {
                // With a key, the POST runs in one transaction whose connection the caller's
                // load borrows while the id is refused: still the 404, kept and replayed.
                let key = format!("bad-id {path}");
                headers.push(("idempotency-key", key.as_str()));
                let first = server.send(method, path, &headers, body);
                let kept = first.assert_problem(404, "not_found");
                let again = server.send(method, path, &headers, body);
                assert_eq!(again.status, 404, "{path}: {}", again.text());
                assert_eq!(again.header("idempotent-replayed"), Some("true"), "{path}");
                assert_eq!(again.json(), kept, "{path}");
            }
        }
    });
}

#[test]
fn every_response_carries_a_request_id_and_keeps_the_clients() {
    for_each_backend(|server| {
        let generated = server.get("/healthz");
        assert_eq!(generated.header("x-request-id").map(str::len), Some(36));
        let kept = server.send(
            "GET",
            "/healthz",
            &[("x-request-id", "trace-abc-123")],
            None,
        );
        assert_eq!(kept.header("x-request-id"), Some("trace-abc-123"));
        let problem = server
            .send(
                "GET",
                "/api/v1/nothing",
                &[("x-request-id", "trace-xyz")],
                None,
            )
            .assert_problem(404, "route_not_found");
        assert_eq!(problem["request_id"], "trace-xyz");
        let too_long = "x".repeat(300);
        let replaced = server.send(
            "GET",
            "/healthz",
            &[("x-request-id", too_long.as_str())],
            None,
        );
        assert_ne!(replaced.header("x-request-id"), Some(too_long.as_str()));
    });
}

#[test]
fn api_responses_vary_by_authorization() {
    for_each_backend(|server| {
        let reply = server.get(COLLECTION);
        assert!(reply.varies_by("Authorization"), "{:?}", reply.headers);
    });
}

#[test]
fn health_and_readiness_answer_when_the_database_is_up() {
    for_each_backend(|server| {
        assert_eq!(server.get("/healthz").json(), json!({"status": "ok"}));
        assert_eq!(server.get("/readyz").json(), json!({"status": "ok"}));
    });
}

#[test]
fn problem_types_lead_to_a_description() {
    for_each_backend(|server| {
        let problem = server.get("/api/v1/nothing").json();
        let described = server.get(problem["type"].as_str().unwrap());
        assert_eq!(described.status, 200);
        assert_eq!(described.json()["code"], "route_not_found");
    });
}

#[test]
fn a_lost_database_gives_503_problems_with_retry_after() {
    let Some(admin_url) = catalyst_persistence::testing::postgres_admin_url() else {
        eprintln!("skipped on SQLite alone: needs TEST_DATABASE_URL to take a database away");
        return;
    };
    let database = TestDatabase::postgres(&admin_url);
    let server = TestServer::start(database, &[("CATALYST_DB_POOL_TIMEOUT_SECS", "1")]);
    assert_eq!(server.get("/readyz").status, 200);
    assert!(server.database().make_unreachable());
    let reply = server.get("/readyz");
    reply.assert_problem(503, "service_unavailable");
    assert_eq!(reply.header("retry-after"), Some("5"));
    let reply = server.get(COLLECTION);
    reply.assert_problem(503, "service_unavailable");
    assert_eq!(
        server.get("/healthz").status,
        200,
        "liveness does not depend on the database"
    );
}

#[test]
fn browsers_from_configured_origins_may_call_the_api() {
    let server = TestServer::start(
        TestDatabase::sqlite(),
        &[("CATALYST_CORS_ORIGINS", "https://app.leeds.example")],
    );
    let preflight = server.send(
        "OPTIONS",
        COLLECTION,
        &[
            ("origin", "https://app.leeds.example"),
            ("access-control-request-method", "PATCH"),
            (
                "access-control-request-headers",
                "authorization, if-match, content-type",
            ),
        ],
        None,
    );
    assert!(preflight.status < 300, "{}", preflight.status);
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("https://app.leeds.example")
    );
    let read = server.send(
        "GET",
        COLLECTION,
        &[("origin", "https://app.leeds.example")],
        None,
    );
    let exposed = read
        .header("access-control-expose-headers")
        .unwrap_or("")
        .to_ascii_lowercase();
    // Every response header the README tells clients to read.
    for header in [
        "etag",
        "link",
        "location",
        "retry-after",
        "x-request-id",
        "idempotent-replayed",
        "ratelimit-limit",
        "ratelimit-remaining",
        "ratelimit-reset",
        "content-disposition",
        "www-authenticate",
    ] {
        assert!(exposed.contains(header), "{header} not exposed: {exposed}");
    }
    let foreign = server.send(
        "GET",
        COLLECTION,
        &[("origin", "https://evil.example")],
        None,
    );
    assert_eq!(foreign.header("access-control-allow-origin"), None);
}

#[test]
fn a_bad_cors_origin_is_refused_at_start() {
    let output = std::process::Command::new(common::BINARY)
        .arg("serve")
        .env("DATABASE_URL", TestDatabase::sqlite().url_text())
        .env("CATALYST_CORS_ORIGINS", "app.leeds.example/path")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("CATALYST_CORS_ORIGINS"));
}
