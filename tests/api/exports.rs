//! Exports (`GET /api/v1/exports/{collection}`): whole collections as CSV or NDJSON, streamed,
//! holding exactly what the caller's lists hold. On each backend.

use crate::common;

use std::collections::BTreeSet;

use common::sbri::{created, id, leeds_challenge, world};
use common::{for_each_backend, TestServer};
use serde_json::{json, Value};

const COLLECTIONS: [&str; 8] = [
    "organisations",
    "programmes",
    "challenges",
    "phases",
    "applications",
    "awards",
    "milestones",
    "trials",
];

fn export(server: &TestServer, token: &str, collection: &str, format: &str) -> common::Reply {
    let reply = server.get_as(
        &format!("/api/v1/exports/{collection}?format={format}"),
        token,
    );
    assert_eq!(reply.status, 200, "{collection}: {}", reply.text());
    reply
}

fn ndjson(reply: &common::Reply) -> Vec<Value> {
    assert_eq!(reply.header("content-type"), Some("application/x-ndjson"));
    reply
        .text()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// Every id a list holds, page by page (`collection` may carry filters: `milestones?status=paid`).
fn listed(server: &TestServer, token: &str, collection: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let collection = if collection.contains('?') {
        format!("{collection}&")
    } else {
        format!("{collection}?")
    };
    let mut path = format!("/api/v1/{collection}limit=500");
    loop {
        let page = server.get_as(&path, token).json();
        for item in page["data"].as_array().unwrap() {
            ids.insert(id(item));
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/{collection}limit=500&cursor={cursor}"),
            None => return ids,
        }
    }
}

#[test]
fn an_export_holds_the_whole_collection_in_both_formats() {
    for_each_backend(|server| {
        server.cli(&["seed", "synthetic", "--scale", "120"]);
        for collection in COLLECTIONS {
            let records = ndjson(&export(server, &server.admin_token, collection, "ndjson"));
            let exported: BTreeSet<String> = records.iter().map(id).collect();
            assert_eq!(
                exported.len(),
                records.len(),
                "{collection}: no record twice"
            );
            assert_eq!(
                exported,
                listed(server, &server.admin_token, collection),
                "{collection}"
            );

            let csv = export(server, &server.admin_token, collection, "csv");
            assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
            assert!(csv
                .header("content-disposition")
                .unwrap()
                .contains(&format!("{collection}.csv")));
            let text = csv.text();
            let mut lines = text.split("\r\n").filter(|line| !line.is_empty());
            let header: Vec<&str> = lines.next().unwrap().split(',').collect();
            assert_eq!(header[0], "id");
            // Every column names a member of the resource (a typo would export an empty column);
            // `external_source` and `external_id` are its first partner key.
            for column in &header {
                let parent = match *column {
                    "external_source" | "external_id" => "external_ids",
                    other => other.split('.').next().unwrap(),
                };
                assert!(
                    records.iter().any(|record| record.get(parent).is_some()),
                    "{collection}.{column}"
                );
            }
            let ids: BTreeSet<String> = lines
                .map(|line| line.split(',').next().unwrap().to_owned())
                .collect();
            assert_eq!(ids, exported, "{collection} as CSV");
        }
        // Payments: the paid milestones, as rows of the payments import.
        let payments = ndjson(&export(server, &server.admin_token, "payments", "ndjson"));
        let paid: BTreeSet<String> = payments
            .iter()
            .map(|row| row["milestone_id"].as_str().unwrap().to_owned())
            .collect();
        assert!(!paid.is_empty());
        assert_eq!(
            paid,
            listed(server, &server.admin_token, "milestones?status=paid")
        );
        for row in &payments {
            assert!(row["paid_on"].is_string(), "{row}");
            assert!(
                row.get("id").is_none() && row.get("status").is_none(),
                "{row}"
            );
        }
        let csv = export(server, &server.admin_token, "payments", "csv").text();
        assert_eq!(csv.lines().count(), payments.len() + 1);

        // More than one page of the database's reads went into this one.
        assert!(listed(server, &server.admin_token, "applications").len() > 1000);
    });
}

#[test]
fn an_export_applies_the_callers_visibility_and_scopes() {
    for_each_backend(|server| {
        let world = world(server, 1);
        let (_, supplier) = world.suppliers[0].clone();
        let draft = created(server.send_json(
            "POST",
            "/api/v1/challenges",
            &leeds_challenge(&world),
            Some(&world.leeds_officer),
        ));
        for (who, token, sees) in [
            ("leeds officer", &world.leeds_officer, true),
            ("programme manager", &world.manager, true),
            ("york officer", &world.york_officer, false),
            ("supplier", &supplier, false),
        ] {
            let records = ndjson(&export(server, token, "challenges", "ndjson"));
            assert_eq!(
                records.iter().any(|record| id(record) == id(&draft)),
                sees,
                "{who}"
            );
            assert_eq!(
                records.iter().map(id).collect::<BTreeSet<_>>(),
                listed(server, token, "challenges"),
                "{who}: the export is the list"
            );
        }

        server
            .get("/api/v1/exports/challenges")
            .assert_problem(401, "unauthenticated");
        let client_token =
            |scopes: Value| server.api_client_token(&json!({"name": "Script", "scopes": scopes}));
        server
            .get_as("/api/v1/exports/challenges", &client_token(json!(["read"])))
            .assert_problem(403, "forbidden");
        export(
            server,
            &client_token(json!(["read", "reports"])),
            "challenges",
            "csv",
        );

        let admin = &server.admin_token;
        server
            .get_as("/api/v1/exports/widgets", admin)
            .assert_problem(404, "not_found");
        server
            .get_as("/api/v1/exports/users", admin)
            .assert_problem(404, "not_found");
        server
            .get_as("/api/v1/exports/challenges?format=xml", admin)
            .assert_problem(400, "invalid_query");
        server
            .get_as("/api/v1/exports/challenges?limit=5", admin)
            .assert_problem(400, "invalid_query");
        let bearer = format!("Bearer {admin}");
        server
            .send(
                "GET",
                "/api/v1/exports/challenges",
                &[("authorization", &bearer), ("accept", "application/xml")],
                None,
            )
            .assert_problem(406, "not_acceptable");
        let by_accept = server.send(
            "GET",
            "/api/v1/exports/challenges",
            &[("authorization", &bearer), ("accept", "text/csv")],
            None,
        );
        assert_eq!(
            by_accept.header("content-type"),
            Some("text/csv; charset=utf-8")
        );
        // Weights count, as RFC 9110 (12.5.1) reads `Accept`: a CSV named but weighed under
        // NDJSON was answered as CSV, and `text/*` was refused.
        let path = "/api/v1/exports/challenges";
        assert_eq!(
            server.negotiated(path, "text/csv;q=0.1, application/x-ndjson"),
            "application/x-ndjson"
        );
        assert_eq!(server.negotiated(path, "text/*"), "text/csv; charset=utf-8");
    });
}
