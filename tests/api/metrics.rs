//! `/metrics`: who may scrape it, and that its figures follow what the server does.

use crate::common;

use std::time::{Duration, Instant};

use catalyst_persistence::testing::TestDatabase;
use common::receiver::Receiver;
use common::sbri::created;
use common::{local_authority, TestServer};
use serde_json::json;

/// The value of the sample `name{labels}` (or `name` alone), if the scrape has it.
fn sample(scrape: &str, series: &str) -> Option<f64> {
    scrape.lines().find_map(|line| {
        let (name, value) = line.rsplit_once(' ')?;
        (name == series).then(|| value.parse().ok())?
    })
}

fn scrape(server: &TestServer, token: &str) -> String {
    let reply = server.get_as("/metrics", token);
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(reply
        .header("content-type")
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    reply.text()
}

/// Scrapes until `done` holds (the outbox and the change log move on their own).
fn scrape_until(server: &TestServer, what: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = scrape(server, &server.admin_token);
        if done(&text) {
            return text;
        }
        assert!(Instant::now() < deadline, "{what}; last scrape:\n{text}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn metrics_are_for_admins_and_metrics_clients_unless_made_public() {
    for database in TestDatabase::for_each_backend() {
        let server = TestServer::start(database, &[]);
        server
            .get("/metrics")
            .assert_problem(401, "unauthenticated");
        let supplier_organisation = created(server.post_json(
            "/api/v1/organisations",
            &json!({"name": "Sensors Ltd", "kind": "sme", "scale": "small"}),
        ));
        let (_, supplier) = server.user(
            "ops@supplier.test",
            "supplier",
            &[supplier_organisation["id"].as_str().unwrap()],
        );
        server
            .get_as("/metrics", &supplier)
            .assert_problem(403, "forbidden");
        let reader = server.api_client_token(&json!({"name": "Reader", "scopes": ["read"]}));
        server
            .get_as("/metrics", &reader)
            .assert_problem(403, "forbidden");
        let scraper =
            server.api_client_token(&json!({"name": "Prometheus", "scopes": ["metrics"]}));
        let text = scrape(&server, &scraper);
        assert_eq!(sample(&text, "catalyst_database_up"), Some(1.0), "{text}");

        let public = server.replica_with(&[("CATALYST_METRICS_PUBLIC", "true")]);
        let reply = public.get("/metrics");
        assert_eq!(reply.status, 200, "{}", reply.text());
    }
}

#[test]
fn requests_are_counted_by_route_and_status_with_latency() {
    for database in TestDatabase::for_each_backend() {
        let server = TestServer::start(database, &[]);
        let leeds = created(server.post_json(
            "/api/v1/organisations",
            &local_authority("Leeds City Council"),
        ));
        let path = format!("/api/v1/organisations/{}", leeds["id"].as_str().unwrap());
        for _ in 0..3 {
            assert_eq!(server.get(&path).status, 200);
        }
        server
            .get("/api/v1/organisations/01890a5d-ac96-774b-bcce-b302099a8057")
            .assert_problem(404, "not_found");
        server
            .get("/no/such/page")
            .assert_problem(404, "route_not_found");

        let text = scrape(&server, &server.admin_token);
        let route = "/api/v1/organisations/{id}";
        let requests = |status: u16| {
            sample(
                &text,
                &format!(
                    "catalyst_http_requests_total{{method=\"GET\",route=\"{route}\",status=\"{status}\"}}"
                ),
            )
        };
        // Ids never become labels: the three reads and the miss share the route.
        assert_eq!(requests(200), Some(3.0), "{text}");
        assert_eq!(requests(404), Some(1.0), "{text}");
        assert_eq!(
            sample(
                &text,
                "catalyst_http_requests_total{method=\"POST\",route=\"/api/v1/organisations\",status=\"201\"}"
            ),
            Some(1.0),
            "{text}"
        );
        assert_eq!(
            sample(
                &text,
                "catalyst_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"}"
            ),
            Some(1.0),
            "{text}"
        );
        let labels = format!("method=\"GET\",route=\"{route}\"");
        let count = sample(
            &text,
            &format!("catalyst_http_request_duration_seconds_count{{{labels}}}"),
        );
        assert_eq!(count, Some(4.0), "{text}");
        assert_eq!(
            sample(
                &text,
                &format!("catalyst_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}}")
            ),
            Some(4.0)
        );
        let sum = sample(
            &text,
            &format!("catalyst_http_request_duration_seconds_sum{{{labels}}}"),
        )
        .unwrap();
        assert!(sum > 0.0 && sum < 40.0, "{sum}");
        // Buckets are cumulative.
        let mut last = 0.0;
        for line in text.lines().filter(|line| {
            line.starts_with(&format!(
                "catalyst_http_request_duration_seconds_bucket{{{labels},"
            ))
        }) {
            let value: f64 = line.rsplit_once(' ').unwrap().1.parse().unwrap();
            assert!(value >= last, "{line}");
            last = value;
        }

        let open = sample(&text, "catalyst_db_pool_connections").unwrap();
        let idle = sample(&text, "catalyst_db_pool_idle_connections").unwrap();
        let in_use = sample(&text, "catalyst_db_pool_in_use_connections").unwrap();
        assert_eq!(open - idle, in_use);
        assert!(sample(&text, "catalyst_db_pool_max_connections").unwrap() >= open);
    }
}

#[test]
fn the_webhook_outbox_depth_and_failures_are_reported() {
    for database in TestDatabase::for_each_backend() {
        let server = TestServer::start(database, &[("CATALYST_WEBHOOK_ALLOW_PRIVATE", "true")]);
        let text = scrape(&server, &server.admin_token);
        assert_eq!(sample(&text, "catalyst_webhook_outbox_depth"), Some(0.0));
        // A receiver that always fails: the delivery stays in the outbox, retrying.
        let receiver = Receiver::start(Box::new(|_| Some(500)));
        created(server.post_json(
            "/api/v1/webhooks",
            &json!({"url": receiver.url, "event_types": ["organisations.created"]}),
        ));
        created(server.post_json(
            "/api/v1/organisations",
            &local_authority("Bradford Council"),
        ));
        let text = scrape_until(&server, "a delivery waiting for a retry", |text| {
            sample(text, "catalyst_webhook_deliveries_retrying") == Some(1.0)
        });
        assert_eq!(sample(&text, "catalyst_webhook_outbox_depth"), Some(1.0));
        assert_eq!(
            sample(&text, "catalyst_webhook_deliveries_failed"),
            Some(0.0)
        );
    }
}

/// On PostgreSQL a change written after a transaction that is still open waits for it: the lag.
#[test]
fn the_change_log_lag_counts_changes_behind_an_open_transaction() {
    let Some(database) = TestDatabase::postgres_only() else {
        return; // SQLite's writers take turns: nothing waits.
    };
    use diesel::{Connection, RunQueryDsl};
    let server = TestServer::start(database, &[]);
    let mut blocker = diesel::PgConnection::establish(&server.database().url_text()).unwrap();
    diesel::sql_query("BEGIN").execute(&mut blocker).unwrap();
    diesel::sql_query("SELECT txid_current()")
        .execute(&mut blocker)
        .unwrap();
    created(server.post_json(
        "/api/v1/organisations",
        &local_authority("Wakefield Council"),
    ));
    let text = scrape(&server, &server.admin_token);
    assert!(
        sample(&text, "catalyst_change_log_lag_changes").unwrap() >= 1.0,
        "{text}"
    );
    diesel::sql_query("COMMIT").execute(&mut blocker).unwrap();
    scrape_until(&server, "the lag to clear", |text| {
        sample(text, "catalyst_change_log_lag_changes") == Some(0.0)
    });
}
