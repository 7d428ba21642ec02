//! The opportunity feeds SMEs subscribe to: Atom (RFC 4287) and iCalendar (RFC 5545) of the
//! challenges open for applications; filters; conditional requests; linked from `GET /api/v1`.
//! (CI parses both with real parsers, feedparser and icalendar: examples/subscribe.py.)

use crate::common;

use common::sbri::{created, id, leeds_challenge, ok, phase, transition, world};
use common::{for_each_backend, TestServer};
use serde_json::json;

const ATOM: &str = "/api/v1/feeds/challenges.atom";
const CALENDAR: &str = "/api/v1/feeds/challenges.ics";

fn get_with(server: &TestServer, path: &str, headers: &[(&str, &str)]) -> common::Reply {
    server.send("GET", path, headers, None)
}

fn entries(body: &str) -> usize {
    body.matches("<entry>").count()
}

/// A challenge opened by `officer`, closing in 2100, with a first phase.
fn open_challenge(server: &TestServer, body: serde_json::Value, officer: &str) -> String {
    let challenge = created(server.send_json("POST", "/api/v1/challenges", &body, Some(officer)));
    let path = format!("/api/v1/challenges/{}", id(&challenge));
    created(server.send_json(
        "POST",
        &format!("{path}/phases"),
        &phase(1, "2099-06-01", 100_000_000, 10_000_000),
        Some(officer),
    ));
    ok(transition(server, &path, "open", officer));
    id(&challenge)
}

#[test]
fn open_challenges_are_published_as_atom_and_icalendar_feeds() {
    for_each_backend(|server| {
        let world = world(server, 0);
        let mut leeds = leeds_challenge(&world);
        leeds["title"] = json!("Damp & mould <sensors> in council homes");
        leeds["opens_at"] = json!("2026-01-05T09:00:00Z");
        leeds["closes_at"] = json!("2100-01-31T12:00:00Z");
        let leeds_id = open_challenge(server, leeds, &world.leeds_officer);
        let york_id = open_challenge(
            server,
            json!({
                "programme_id": world.programme, "owner_organisation_id": world.york,
                "reference": "gtc-r3-york", "title": "Journey times on the inner ring road",
                "problem_statement": "How might we see journey times across the city in real time?",
                "themes": ["Transport"], "opens_at": "2026-02-01T09:00:00Z",
                "closes_at": "2100-03-01T12:00:00Z"
            }),
            &world.york_officer,
        );
        // A draft is nobody's opportunity yet.
        created(server.send_json(
            "POST",
            "/api/v1/challenges",
            &json!({
                "programme_id": world.programme, "owner_organisation_id": world.leeds,
                "reference": "gtc-r3-draft", "title": "Not yet",
                "problem_statement": "A challenge still being written."
            }),
            Some(&world.leeds_officer),
        ));

        // Public: no token.
        let feed = server.get(ATOM);
        assert_eq!(feed.status, 200, "{}", feed.text());
        assert_eq!(
            feed.header("content-type"),
            Some("application/atom+xml; charset=utf-8")
        );
        let body = feed.text();
        assert!(body.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">"));
        assert_eq!(entries(&body), 2, "{body}");
        // Newest first, markup escaped, the owner as author, themes as categories.
        let york_at = body.find(&format!("urn:uuid:{york_id}")).unwrap();
        let leeds_at = body.find(&format!("urn:uuid:{leeds_id}")).unwrap();
        assert!(york_at < leeds_at, "newest first");
        assert!(
            body.contains(
                "<title>GTC-R3-LEEDS: Damp &amp; mould &lt;sensors&gt; in council homes</title>"
            ),
            "{body}"
        );
        assert!(body.contains("<author><name>Leeds City Council</name></author>"));
        assert!(body.contains("<category term=\"housing\"/>"), "{body}");
        assert!(body.contains("<published>2026-01-05T09:00:00.000000Z</published>"));
        assert!(
            body.contains(
                "Phase 1 (feasibility): budget GBP 1000000.00, up to GBP 100000.00 per supplier"
            ),
            "{body}"
        );
        assert!(body.contains("Applications close at 2100-01-31 12:00 UTC."));
        assert!(!body.contains("GTC-R3-DRAFT"));

        // Filters: theme (any case), owner, the owner's region; bad ones are 400.
        assert_eq!(
            entries(&server.get(&format!("{ATOM}?theme=housing")).text()),
            1
        );
        let york_only = server
            .get(&format!("{ATOM}?owner_id={}", world.york))
            .text();
        assert_eq!(entries(&york_only), 1);
        assert!(york_only.contains(&york_id));
        assert_eq!(
            entries(
                &server
                    .get(&format!("{ATOM}?region=yorkshire_and_the_humber"))
                    .text()
            ),
            2
        );
        assert_eq!(
            entries(&server.get(&format!("{ATOM}?region=south_west")).text()),
            0
        );
        server
            .get(&format!("{ATOM}?region=atlantis"))
            .assert_problem(400, "invalid_query");
        server
            .get(&format!("{ATOM}?owner_id=leeds"))
            .assert_problem(400, "invalid_query");
        server
            .get(&format!("{ATOM}?sort=title"))
            .assert_problem(400, "invalid_query");

        // Cheap to poll: the ETag or the Last-Modified of a current copy gives 304.
        let etag = feed.header("etag").unwrap().to_owned();
        let modified = feed.header("last-modified").unwrap().to_owned();
        assert_eq!(feed.header("cache-control"), Some("public, max-age=300"));
        let again = get_with(server, ATOM, &[("if-none-match", &etag)]);
        assert_eq!(again.status, 304);
        assert_eq!(again.text(), "");
        assert_eq!(
            get_with(server, ATOM, &[("if-modified-since", &modified)]).status,
            304
        );

        // A challenge that leaves the set (cancelled) changes both validators.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        ok(transition(
            server,
            &format!("/api/v1/challenges/{york_id}"),
            "cancelled",
            &world.york_officer,
        ));
        let changed = get_with(server, ATOM, &[("if-none-match", &etag)]);
        assert_eq!(changed.status, 200);
        assert_eq!(entries(&changed.text()), 1);
        assert_eq!(
            get_with(server, ATOM, &[("if-modified-since", &modified)]).status,
            200
        );

        // The calendar: the deadline as a moment, each dated phase as all-day events; lines of
        // at most 75 octets, ended by CRLF.
        let calendar = server.get(CALENDAR);
        assert_eq!(calendar.status, 200, "{}", calendar.text());
        assert_eq!(
            calendar.header("content-type"),
            Some("text/calendar; charset=utf-8")
        );
        let text = calendar.text();
        assert!(text.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:"));
        assert!(text.ends_with("END:VCALENDAR\r\n"));
        for line in text.split_terminator("\r\n") {
            assert!(line.len() <= 75, "{line:?}");
            assert!(!line.contains('\n'));
        }
        let unfolded = text.replace("\r\n ", "");
        assert_eq!(unfolded.matches("BEGIN:VEVENT").count(), 2, "{unfolded}");
        assert!(unfolded.contains(&format!("UID:{leeds_id}-closes@catalyst\r\n")));
        assert!(unfolded.contains("DTSTART:21000131T120000Z\r\n"));
        assert!(unfolded.contains("DTSTART;VALUE=DATE:20990601\r\n"));
        assert!(unfolded.contains(
            "SUMMARY:Applications close: GTC-R3-LEEDS: Damp & mould <sensors> in council homes\r\n"
        ));
        assert!(unfolded.contains("CATEGORIES:housing,iot\r\n"));
        let etag = calendar.header("etag").unwrap().to_owned();
        assert_eq!(
            get_with(server, CALENDAR, &[("if-none-match", &etag)]).status,
            304
        );

        // Linked from the API's front door.
        let index = server.get("/api/v1");
        assert_eq!(index.status, 200, "{}", index.text());
        let links = &index.json()["links"];
        assert_eq!(links["opportunities_atom"], ATOM);
        assert_eq!(links["opportunities_calendar"], CALENDAR);
        assert_eq!(links["documentation"], "/docs/");
    });
}

/// Someone arriving with a browser gets a page saying what this is and linking the
/// documentation, the feeds and the open data; it may style itself but never run a script.
#[test]
fn the_root_is_a_page_for_people_linking_docs_feeds_and_open_data() {
    let server = TestServer::start(catalyst_persistence::testing::TestDatabase::sqlite(), &[]);
    let page = server.get("/");
    assert_eq!(page.status, 200, "{}", page.text());
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(
        page.header("content-security-policy"),
        Some("default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
    );
    let html = page.text();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(!html.contains("<script"));
    for link in [
        "/docs/",
        "/api/v1/openapi.json",
        ATOM,
        CALENDAR,
        "/api/v1/ocds/releases",
        "/api/v1",
    ] {
        assert!(html.contains(&format!("href=\"{link}\"")), "{link}");
        let target = server.get(link);
        assert_eq!(target.status, 200, "{link}: {}", target.text());
    }
}
