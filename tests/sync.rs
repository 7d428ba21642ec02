//! Integration partners: idempotent creating POSTs (`Idempotency-Key`), on each backend.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

mod common;

use common::{for_each_backend, local_authority, TestServer};
use serde_json::json;

const COLLECTION: &str = "/api/v1/organisations";

fn post_with_key(
    server: &TestServer,
    token: &str,
    key: &str,
    body: &serde_json::Value,
) -> common::Reply {
    let bearer = format!("Bearer {token}");
    server.send(
        "POST",
        COLLECTION,
        &[
            ("authorization", &bearer),
            ("content-type", "application/json"),
            ("idempotency-key", key),
        ],
        Some(body.to_string().as_bytes()),
    )
}

#[test]
fn a_retry_with_the_same_key_gets_the_first_response_and_creates_nothing() {
    for_each_backend(|server| {
        let body = local_authority("Leeds City Council");
        let first = post_with_key(server, &server.admin_token, "create-leeds-1", &body);
        assert_eq!(first.status, 201, "{}", first.text());
        let again = post_with_key(server, &server.admin_token, "create-leeds-1", &body);
        assert_eq!(again.status, 201);
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
        assert_eq!(again.json(), first.json());
        assert_eq!(again.header("location"), first.header("location"));
        assert_eq!(again.header("etag"), first.header("etag"));
        assert_eq!(
            server.get(COLLECTION).json()["data"]
                .as_array()
                .unwrap()
                .len(),
            1
        );

        // The same key with another body is a client's mistake, and changes nothing.
        let other = post_with_key(
            server,
            &server.admin_token,
            "create-leeds-1",
            &local_authority("York"),
        );
        let problem = other.assert_problem(422, "invalid_body");
        assert_eq!(problem["errors"][0]["code"], "idempotency_key_reused");
        assert_eq!(
            server.get(COLLECTION).json()["data"]
                .as_array()
                .unwrap()
                .len(),
            1
        );

        // Keys are scoped to the caller: another caller's same key is another request.
        let (_, manager) = server.user("pm@catalyst.test", "programme_manager", &[]);
        let theirs = post_with_key(
            server,
            &manager,
            "create-leeds-1",
            &local_authority("Bradford"),
        );
        assert_eq!(theirs.status, 201);
        assert!(theirs.header("idempotent-replayed").is_none());

        // A refused request is an answer too, replayed as it was.
        let invalid = json!({"name": "", "kind": "sme"});
        post_with_key(server, &server.admin_token, "bad-1", &invalid)
            .assert_problem(422, "validation_failed");
        let replayed = post_with_key(server, &server.admin_token, "bad-1", &invalid);
        assert_eq!(replayed.status, 422);
        assert_eq!(replayed.header("idempotent-replayed"), Some("true"));

        let long = "k".repeat(256);
        post_with_key(server, &server.admin_token, &long, &body)
            .assert_problem(400, "invalid_header");
    });
}

#[test]
fn parallel_retries_with_one_key_create_one_record() {
    for_each_backend(|server| {
        let body = local_authority("Leeds City Council");
        let replies: Vec<(u16, Option<String>)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..6)
                .map(|_| {
                    scope.spawn(|| {
                        let reply = post_with_key(server, &server.admin_token, "parallel-1", &body);
                        (
                            reply.status,
                            (reply.status == 201)
                                .then(|| reply.json()["id"].as_str().unwrap().to_owned()),
                        )
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|handle| handle.join().unwrap())
                .collect()
        });
        assert!(
            replies
                .iter()
                .all(|(status, _)| *status == 201 || *status == 409),
            "{replies:?}"
        );
        let ids: std::collections::BTreeSet<&String> =
            replies.iter().filter_map(|(_, id)| id.as_ref()).collect();
        assert_eq!(
            ids.len(),
            1,
            "every 201 names the same organisation: {replies:?}"
        );
        assert_eq!(
            server.get(COLLECTION).json()["data"]
                .as_array()
                .unwrap()
                .len(),
            1,
            "on {}",
            server.backend
        );
    });
}

#[test]
fn a_retry_reaching_another_replica_gets_the_stored_response() {
    for_each_backend(|server| {
        let replica = server.replica();
        let body = local_authority("Leeds City Council");
        let first = post_with_key(server, &server.admin_token, "across-replicas", &body);
        assert_eq!(first.status, 201, "{}", first.text());
        // A token from one replica works on the other: they share the signing key.
        let again = post_with_key(&replica, &server.admin_token, "across-replicas", &body);
        assert_eq!(again.status, 201, "{}", again.text());
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
        assert_eq!(again.json()["id"], first.json()["id"]);
        assert_eq!(
            replica.get(COLLECTION).json()["data"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
    });
}
