//! The reports' charts (`/reports/{funding,sme-share,payment-times,funnel}.svg`), on each
//! backend: each is an SVG document a real XML parser reads, titled and described for screen
//! readers, and it draws the JSON report's own figures: every group's name under its bars and
//! every value over its bar, written as the chart writes money, shares and days.

use crate::common;
use crate::reports::report;

use catalyst_charts::Unit;
use common::{for_each_backend, TestServer};
use serde_json::Value;

/// The chart's texts (trimmed), its `<title>` and its `<desc>`, read by an XML parser.
struct Drawn {
    texts: Vec<String>,
    title: String,
    description: String,
}

impl Drawn {
    fn shows(&self, text: &str) -> bool {
        self.texts.iter().any(|drawn| drawn == text)
    }

    fn assert_shows(&self, text: &str) {
        assert!(self.shows(text), "{text:?} is not drawn: {:?}", self.texts);
    }
}

fn chart(server: &TestServer, path: &str) -> Drawn {
    let reply = server.get_as(path, &server.admin_token);
    assert_eq!(reply.status, 200, "{path}: {}", reply.text());
    assert_eq!(
        reply.header("content-type"),
        Some("image/svg+xml; charset=utf-8")
    );
    let svg = reply.text();
    let document =
        roxmltree::Document::parse(&svg).unwrap_or_else(|error| panic!("{path}: {error}"));
    let root = document.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );
    assert_eq!(root.attribute("role"), Some("img"));
    let child = |name: &str| {
        root.children()
            .find(|node| node.has_tag_name(name))
            .and_then(|node| node.text())
            .unwrap_or_else(|| panic!("{path}: no <{name}>"))
            .to_owned()
    };
    Drawn {
        title: child("title"),
        description: child("desc"),
        texts: root
            .descendants()
            .filter(|node| node.has_tag_name("text"))
            .filter_map(|node| node.text())
            .map(|text| text.trim().to_owned())
            .collect(),
    }
}

fn pounds(money: &Value) -> String {
    assert_eq!(money["currency"], "GBP");
    Unit::Money {
        currency: "GBP".to_owned(),
    }
    .format(money["amount"].as_i64().unwrap() as f64 / 100.0)
}

fn rows(report: &Value) -> &Vec<Value> {
    let rows = report["rows"].as_array().unwrap();
    assert!(!rows.is_empty(), "the demo data has rows: {report}");
    rows
}

#[test]
fn each_chart_draws_its_reports_figures() {
    for_each_backend(|server| {
        server.cli(&["seed", "demo"]);

        let funding = report(server, "/api/v1/reports/funding");
        let drawn = chart(server, "/api/v1/reports/funding.svg");
        assert_eq!(drawn.title, "Funding: committed and paid");
        drawn.assert_shows("Committed");
        drawn.assert_shows("Paid");
        for row in rows(&funding) {
            let year = row["financial_year"].as_str().unwrap();
            drawn.assert_shows(year);
            drawn.assert_shows(&pounds(&row["committed"]));
            drawn.assert_shows(&pounds(&row["paid"]));
            assert!(
                drawn.description.contains(&format!(
                    "{year}: Committed {}; Paid {}.",
                    pounds(&row["committed"]),
                    pounds(&row["paid"])
                )),
                "{}",
                drawn.description
            );
        }

        let share = report(server, "/api/v1/reports/sme-share?group_by=owner");
        let drawn = chart(server, "/api/v1/reports/sme-share.svg?group_by=owner");
        drawn.assert_shows("33% target");
        for row in rows(&share) {
            drawn.assert_shows(row["owner"].as_str().unwrap());
            if let Some(value) = row["value_share"].as_f64() {
                drawn.assert_shows(&Unit::Share.format(value));
            }
        }

        let times = report(server, "/api/v1/reports/payment-times");
        let drawn = chart(server, "/api/v1/reports/payment-times.svg");
        drawn.assert_shows("30 days (regulation 113)");
        for row in rows(&times) {
            drawn.assert_shows(row["financial_year"].as_str().unwrap());
            match row["median_days"].as_f64() {
                Some(days) => drawn.assert_shows(&Unit::Days.format(days)),
                None => drawn.assert_shows("n/a"),
            }
            if let Some(days) = row["p90_days"].as_f64() {
                drawn.assert_shows(&Unit::Days.format(days));
            }
        }

        // The funnel: its stages along the axis, a series per supplier scale.
        let funnel = report(server, "/api/v1/reports/funnel");
        let drawn = chart(server, "/api/v1/reports/funnel.svg");
        for stage in ["Applied", "Phase 1", "Phase 2", "Trialled", "Adopted"] {
            drawn.assert_shows(stage);
        }
        for row in rows(&funnel) {
            let scale = row["supplier_scale"].as_str().unwrap_or("not recorded");
            drawn.assert_shows(&scale.replace('_', " "));
            drawn.assert_shows(&row["suppliers_applied"].as_i64().unwrap().to_string());
        }

        // The API's index links every chart.
        let index = server.get("/api/v1").json();
        let charts: Vec<&str> = index["links"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(name, _)| name.ends_with("_chart"))
            .map(|(_, path)| path.as_str().unwrap())
            .collect();
        assert_eq!(charts.len(), 4, "{index}");
        for path in charts {
            assert!(!chart(server, path).title.is_empty());
        }

        // The subtitle says what the figures cover.
        let drawn = chart(server, "/api/v1/reports/funding.svg?financial_year=2019-20");
        assert!(
            drawn
                .texts
                .iter()
                .any(|text| text.contains("financial year 2019-20")),
            "{:?}",
            drawn.texts
        );
    });
}

#[test]
fn charts_refuse_what_their_reports_refuse() {
    for_each_backend(|server| {
        let admin = &server.admin_token;
        server
            .get_as("/api/v1/reports/funding.svg?group_by=colour", admin)
            .assert_problem(400, "invalid_query");
        server
            .get_as("/api/v1/reports/funding.svg?format=csv", admin)
            .assert_problem(400, "invalid_query");
        server
            .get("/api/v1/reports/payment-times.svg")
            .assert_problem(401, "unauthenticated");
        let reader =
            server.api_client_token(&serde_json::json!({"name": "Reader", "scopes": ["read"]}));
        server
            .get_as("/api/v1/reports/sme-share.svg", &reader)
            .assert_problem(403, "forbidden");
        // Reports without a chart have no `.svg`.
        server
            .get_as("/api/v1/reports/pipeline.svg", admin)
            .assert_problem(404, "route_not_found");
        // Nothing to draw is still a chart, saying so.
        let drawn = chart(server, "/api/v1/reports/funnel.svg?financial_year=1999-00");
        assert!(
            drawn.shows("No figures for this selection"),
            "{:?}",
            drawn.texts
        );
    });
}
