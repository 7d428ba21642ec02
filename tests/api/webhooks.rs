//! Webhooks: subscriptions, deliveries signed as Standard Webhooks to a receiver on loopback,
//! retries, 410, redelivery, a restart mid-delivery, two replicas, and the destination guard.
//! On each backend.

use crate::common;

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine;
use catalyst_persistence::testing::TestDatabase;
use common::receiver::{Received, Receiver};
use common::sbri::{created, id, ok};
use common::{local_authority, TestServer};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

const ALLOW_PRIVATE: (&str, &str) = ("CATALYST_WEBHOOK_ALLOW_PRIVATE", "true");

fn each_backend(extra_env: &[(&str, &str)], test: impl Fn(&TestServer)) {
    for database in TestDatabase::for_each_backend() {
        let server = TestServer::start(database, extra_env);
        test(&server);
    }
}

fn subscribe(server: &TestServer, url: &str, types: Value) -> Value {
    created(server.post_json(
        "/api/v1/webhooks",
        &json!({"url": url, "event_types": types}),
    ))
}

/// Checks a delivery's signature the way a receiver would, with the secret alone.
fn assert_signed(received: &Received, secret: &str) {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(
        format!(
            "{}.{}.{}",
            received.header("webhook-id"),
            received.header("webhook-timestamp"),
            received.body
        )
        .as_bytes(),
    );
    let expected = format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    );
    assert!(
        received
            .header("webhook-signature")
            .split(' ')
            .any(|s| s == expected),
        "bad signature on {received:?}"
    );
    let sent_at: i64 = received.header("webhook-timestamp").parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((now - sent_at).abs() < 300);
}

fn deliveries(server: &TestServer, webhook: &Value) -> Vec<Value> {
    ok(server.get_as(
        &format!("/api/v1/webhooks/{}/deliveries", id(webhook)),
        &server.admin_token,
    ))["data"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn a_receiver_gets_every_event_it_subscribed_to_signed_and_in_order() {
    each_backend(&[ALLOW_PRIVATE], |server| {
        let receiver = Receiver::accepting();
        let webhook = subscribe(server, &receiver.url, json!(["organisations.*"]));
        let secret = webhook["secret"].as_str().unwrap().to_owned();
        assert!(secret.starts_with("whsec_"));
        assert_eq!(webhook["status"], "active");

        let leeds = created(server.post_json(
            "/api/v1/organisations",
            &local_authority("Leeds City Council"),
        ));
        let path = format!("/api/v1/organisations/{}", id(&leeds));
        ok(server.patch_json(&path, &json!({"name": "Leeds CC"}), None));
        assert_eq!(
            server.delete_as(&path, &server.admin_token, &[]).status,
            204
        );
        // Not subscribed to: no delivery.
        server.user("someone@catalyst.test", "programme_manager", &[]);

        receiver.wait_for("three events", |r| r.len() >= 3);
        // Nothing more comes (the user is not an organisations event).
        std::thread::sleep(Duration::from_millis(700));
        let received = receiver.received();
        assert_eq!(received.len(), 3, "{received:#?}");
        let types: Vec<String> = received
            .iter()
            .map(|r| r.json()["type"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            types,
            [
                "organisations.created",
                "organisations.updated",
                "organisations.deleted"
            ]
        );
        for delivery in &received {
            assert_signed(delivery, &secret);
            assert_eq!(delivery.header("content-type"), "application/json");
            assert!(delivery.header("webhook-id").starts_with("msg_"));
        }
        assert_eq!(received[0].json()["data"], leeds);
        assert_eq!(received[1].json()["data"]["name"], "Leeds CC");
        assert_eq!(
            received[2].json()["data"],
            json!({"id": id(&leeds), "version": 3}),
            "a delete is the record's next version"
        );

        // The log shows each as delivered; the secret is never shown again.
        let log = deliveries(server, &webhook);
        assert_eq!(log.len(), 3);
        // Page by page (a delivery's id is the next page's cursor), the same three.
        let mut paged = Vec::new();
        let mut next = format!("/api/v1/webhooks/{}/deliveries?limit=2", id(&webhook));
        loop {
            let page = ok(server.get_as(&next, &server.admin_token));
            paged.extend(page["data"].as_array().unwrap().iter().cloned());
            let Some(cursor) = page["next_cursor"].as_str() else {
                break;
            };
            next = format!(
                "/api/v1/webhooks/{}/deliveries?limit=2&cursor={cursor}",
                id(&webhook)
            );
        }
        assert_eq!(paged, log);
        assert!(log.iter().all(|d| d["status"] == "succeeded"
            && d["attempts"] == 1
            && d["last_status_code"] == 204));
        let read = ok(server.get_as(
            &format!("/api/v1/webhooks/{}", id(&webhook)),
            &server.admin_token,
        ));
        assert!(read.get("secret").is_none());
        assert!(!server
            .get_as("/api/v1/webhooks", &server.admin_token)
            .text()
            .contains(&secret));

        // Redelivery sends the same message again.
        let first = log
            .iter()
            .find(|d| d["event_type"] == "organisations.created")
            .unwrap();
        let again = server.send_json(
            "POST",
            &format!(
                "/api/v1/webhooks/{}/deliveries/{}/redeliver",
                id(&webhook),
                first["id"].as_str().unwrap()
            ),
            &json!({}),
            Some(&server.admin_token),
        );
        assert_eq!(again.status, 202, "{}", again.text());
        let received = receiver.wait_for("the redelivery", |r| r.len() >= 4);
        assert_eq!(
            received[3].header("webhook-id"),
            first["id"].as_str().unwrap()
        );
        assert_signed(&received[3], &secret);
    });
}

#[test]
fn a_failed_delivery_is_retried_and_410_disables_the_subscription() {
    each_backend(&[ALLOW_PRIVATE], |server| {
        // 500 first, then 200: the same message comes again after the first backoff.
        let flaky = Receiver::start(Box::new(|n| Some(if n == 0 { 500 } else { 200 })));
        let webhook = subscribe(server, &flaky.url, json!(["organisations.created"]));
        created(server.post_json(
            "/api/v1/organisations",
            &local_authority("Leeds City Council"),
        ));
        let received = flaky.wait_for("the retry", |r| r.len() >= 2);
        assert_eq!(
            received[0].header("webhook-id"),
            received[1].header("webhook-id")
        );
        assert_eq!(received[0].body, received[1].body);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let log = deliveries(server, &webhook);
            if log[0]["status"] == "succeeded" {
                assert_eq!(log[0]["attempts"], 2);
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{log:?}");
            std::thread::sleep(Duration::from_millis(100));
        }

        let gone = Receiver::start(Box::new(|_| Some(410)));
        let webhook = subscribe(server, &gone.url, json!(["*"]));
        created(server.post_json(
            "/api/v1/organisations",
            &local_authority("City of York Council"),
        ));
        gone.wait_for("the first delivery", |r| !r.is_empty());
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let read = ok(server.get_as(
                &format!("/api/v1/webhooks/{}", id(&webhook)),
                &server.admin_token,
            ));
            if read["status"] == "disabled" {
                assert!(read["disabled_reason"].as_str().unwrap().contains("410"));
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{read}");
            std::thread::sleep(Duration::from_millis(100));
        }
        assert_eq!(deliveries(server, &webhook)[0]["status"], "failed");

        // The log says so, at the level each needs, naming the webhook and never its URL.
        let retried = server.await_logged("webhook delivery failed; will retry", 1);
        assert_eq!(retried[0]["level"], "INFO", "{retried:?}");
        assert_eq!(retried[0]["status_code"], 500, "{retried:?}");
        assert_eq!(retried[0]["attempts"], 1, "{retried:?}");
        let disabled = server.await_logged("webhook disabled: the receiver answered 410 Gone", 1);
        assert_eq!(disabled[0]["level"], "WARN", "{disabled:?}");
        assert_eq!(
            disabled[0]["webhook"],
            id(&webhook).as_str(),
            "{disabled:?}"
        );
        for line in retried.iter().chain(&disabled) {
            assert!(
                !line.to_string().contains("127.0.0.1"),
                "a URL in the log: {line}"
            );
        }
    });
}

#[test]
fn a_server_killed_mid_delivery_loses_nothing() {
    for database in TestDatabase::for_each_backend() {
        // The receiver hangs on the first request; the server is killed while it waits.
        let receiver = Receiver::start(Box::new(|n| if n == 0 { None } else { Some(200) }));
        let mut first = TestServer::start(
            database,
            &[ALLOW_PRIVATE, ("CATALYST_WEBHOOK_TIMEOUT_SECS", "1")],
        );
        subscribe(&first, &receiver.url, json!(["organisations.created"]));
        let leeds = created(first.post_json(
            "/api/v1/organisations",
            &local_authority("Leeds City Council"),
        ));
        receiver.wait_for("the first attempt", |r| !r.is_empty());
        first.kill();
        let _restarted = first.replica();
        let received = receiver.wait_for("the delivery after the restart", |r| r.len() >= 2);
        assert_eq!(received[1].json()["data"]["id"], id(&leeds).as_str());
        assert_eq!(
            received[0].header("webhook-id"),
            received[1].header("webhook-id")
        );
    }
}

#[test]
fn two_replicas_send_each_delivery_once() {
    each_backend(&[ALLOW_PRIVATE], |server| {
        let receiver = Receiver::accepting();
        subscribe(server, &receiver.url, json!(["organisations.created"]));
        let replica = server.replica();
        for index in 0..30 {
            let target = if index % 2 == 0 { server } else { &replica };
            created(target.post_json(
                "/api/v1/organisations",
                &local_authority(&format!("Council {index}")),
            ));
        }
        receiver.wait_for("thirty events", |r| r.len() >= 30);
        std::thread::sleep(Duration::from_secs(2));
        let mut seen: HashMap<String, usize> = HashMap::new();
        for delivery in receiver.received() {
            *seen
                .entry(delivery.header("webhook-id").to_owned())
                .or_default() += 1;
        }
        assert_eq!(seen.len(), 30);
        assert!(seen.values().all(|count| *count == 1), "{seen:?}");
    });
}

#[test]
fn subscriptions_are_checked_and_kept_to_their_owners() {
    each_backend(&[], |server| {
        // Destinations inside the server's own networks are refused by default.
        for url in [
            "http://127.0.0.1:9/hook",
            "http://localhost/hook",
            "http://169.254.169.254/",
            "http://[::1]/",
            "http://10.0.0.1/",
        ] {
            let problem = server
                .post_json(
                    "/api/v1/webhooks",
                    &json!({"url": url, "event_types": ["*"]}),
                )
                .assert_problem(422, "validation_failed");
            assert_eq!(problem["errors"][0]["pointer"], "#/url", "{url}");
        }
        for (body, pointer) in [
            (
                json!({"url": "ftp://example.org/", "event_types": ["*"]}),
                "#/url",
            ),
            // Control characters and spaces inside a URL, as the spec's pattern refuses them
            // (Schemathesis: a fragment with line breaks was stored).
            (
                json!({"url": "https://81.2.69.160/hook#j\n\u{b}\n\u{3000}*", "event_types": ["*"]}),
                "#/url",
            ),
            (
                json!({"url": "https://81.2.69.160/my hook", "event_types": ["*"]}),
                "#/url",
            ),
            (json!({"url": "   ", "event_types": ["*"]}), "#/url"),
            (
                json!({"url": "https://81.2.69.160/hook", "event_types": ["awards.paid"]}),
                "#/event_types/0",
            ),
            (
                json!({"url": "https://81.2.69.160/hook", "event_types": []}),
                "#/event_types",
            ),
        ] {
            let problem = server
                .post_json("/api/v1/webhooks", &body)
                .assert_problem(422, "validation_failed");
            assert_eq!(problem["errors"][0]["pointer"], pointer, "{body}");
        }
        server
            .post_json(
                "/api/v1/webhooks",
                &json!({"url": "https://81.2.69.160/hook", "event_types": ["*"], "secret": "mine"}),
            )
            .assert_problem(422, "invalid_body");

        let body = json!({"url": "http://127.0.0.1:9/hook", "event_types": ["*"]});
        server
            .send_json("POST", "/api/v1/webhooks", &body, None)
            .assert_problem(401, "unauthenticated");
        let (_, manager) = server.user("pm@catalyst.test", "programme_manager", &[]);
        server
            .send_json("POST", "/api/v1/webhooks", &body, Some(&manager))
            .assert_problem(403, "forbidden");
        let reader = server.api_client_token(&json!({"name": "Reader", "scopes": ["read"]}));
        server
            .send_json("POST", "/api/v1/webhooks", &body, Some(&reader))
            .assert_problem(403, "forbidden");
    });
    each_backend(&[ALLOW_PRIVATE], |server| {
        let partner =
            server.api_client_token(&json!({"name": "Partner", "scopes": ["read", "webhooks"]}));
        let other = server.api_client_token(&json!({"name": "Other", "scopes": ["webhooks"]}));
        let mine = created(server.send_json(
            "POST",
            "/api/v1/webhooks",
            &json!({"url": "http://127.0.0.1:9/hook", "event_types": ["awards.*"], "description": "Awards sync"}),
            Some(&partner),
        ));
        let path = format!("/api/v1/webhooks/{}", id(&mine));
        ok(server.get_as(&path, &partner));
        ok(server.get_as(&path, &server.admin_token));
        server
            .get_as(&path, &other)
            .assert_problem(404, "not_found");
        assert_eq!(
            ok(server.get_as("/api/v1/webhooks", &other))["data"],
            json!([])
        );
        assert_eq!(
            ok(server.get_as("/api/v1/webhooks", &partner))["data"]
                .as_array()
                .unwrap()
                .len(),
            1
        );

        // A merge patch with If-Match; null for a required member is refused.
        let bearer = format!("Bearer {partner}");
        let patch = |body: Value, if_match: &str| {
            server.send(
                "PATCH",
                &path,
                &[
                    ("authorization", &bearer),
                    ("content-type", "application/merge-patch+json"),
                    ("if-match", if_match),
                ],
                Some(body.to_string().as_bytes()),
            )
        };
        let changed = patch(
            json!({"event_types": ["awards.created"], "status": "disabled"}),
            "\"1\"",
        );
        assert_eq!(changed.status, 200, "{}", changed.text());
        assert_eq!(changed.json()["status"], "disabled");
        patch(json!({"url": null}), "\"2\"").assert_problem(422, "validation_failed");
        patch(json!({"status": "active"}), "\"1\"").assert_problem(412, "precondition_failed");
        let rotated = ok(server.send_json(
            "POST",
            &format!("{path}/rotate-secret"),
            &json!({}),
            Some(&partner),
        ));
        assert_ne!(rotated["secret"], mine["secret"]);
        assert_eq!(server.delete_as(&path, &other, &[]).status, 404);
        assert_eq!(server.delete_as(&path, &partner, &[]).status, 204);
        server
            .get_as(&path, &partner)
            .assert_problem(404, "not_found");
    });
}
