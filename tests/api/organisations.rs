//! Organisations end to end over HTTP, on each backend.

use crate::common;

use common::{for_each_backend, local_authority, TestServer};
use serde_json::{json, Value};

const COLLECTION: &str = "/api/v1/organisations";

fn create(server: &TestServer, body: &Value) -> Value {
    let reply = server.post_json(COLLECTION, body);
    assert_eq!(reply.status, 201, "{}: {}", server.backend, reply.text());
    reply.json()
}

#[test]
fn an_organisation_can_be_created_read_listed_updated_and_deleted() {
    for_each_backend(|server| {
        let created = server.post_json(
            COLLECTION,
            &json!({
                "name": "  HomeLINK  ",
                "kind": "sme",
                "scale": "small",
                "region": "london",
                "identifier": {"scheme": "GB-COH", "id": "08365849"},
                "website": "https://www.homelink.example"
            }),
        );
        assert_eq!(created.status, 201, "{}", created.text());
        let organisation = created.json();
        let id = organisation["id"].as_str().unwrap().to_owned();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "7", "ids are UUIDv7: {id}");
        assert_eq!(
            created.header("location"),
            Some(format!("{COLLECTION}/{id}").as_str())
        );
        assert_eq!(created.header("etag"), Some("\"1\""));
        assert_eq!(organisation["name"], "HomeLINK", "names are trimmed");
        assert_eq!(organisation["version"], 1);
        assert_eq!(organisation["region"], "london");
        let created_at = organisation["created_at"].as_str().unwrap();
        assert!(
            created_at.ends_with('Z') && created_at.len() == 27,
            "{created_at}"
        );

        let read = server.get(&format!("{COLLECTION}/{id}"));
        assert_eq!(read.status, 200);
        assert_eq!(read.json(), organisation);
        assert_eq!(read.header("etag"), Some("\"1\""));

        let listed = server.get(COLLECTION);
        assert_eq!(listed.status, 200);
        assert_eq!(listed.json()["data"], json!([organisation]));
        assert_eq!(
            listed.json().get("next_cursor"),
            Some(&Value::Null),
            "the last page says so: next_cursor is null"
        );
        assert!(listed.header("link").is_none());

        let updated = server.patch_json(
            &format!("{COLLECTION}/{id}"),
            &json!({"region": null, "scale": "medium"}),
            Some("\"1\""),
        );
        assert_eq!(updated.status, 200, "{}", updated.text());
        let updated_body = updated.json();
        assert_eq!(updated_body["version"], 2);
        assert_eq!(updated_body["region"], Value::Null, "null clears a member");
        assert_eq!(updated_body["scale"], "medium");
        assert_eq!(
            updated_body["name"], "HomeLINK",
            "members left out are unchanged"
        );
        assert_eq!(updated.header("etag"), Some("\"2\""));
        assert!(updated_body["updated_at"].as_str() > organisation["updated_at"].as_str());

        let deleted = server.delete_as(
            &format!("{COLLECTION}/{id}"),
            &server.admin_token,
            &[("if-match", "\"2\"")],
        );
        assert_eq!(deleted.status, 204, "{}", deleted.text());
        server
            .get(&format!("{COLLECTION}/{id}"))
            .assert_problem(404, "not_found");
        server
            .delete_as(&format!("{COLLECTION}/{id}"), &server.admin_token, &[])
            .assert_problem(404, "not_found");
    });
}

#[test]
fn a_stale_if_match_is_refused_and_loses_nothing() {
    for_each_backend(|server| {
        let organisation = create(server, &local_authority("Leeds City Council"));
        let path = format!("{COLLECTION}/{}", organisation["id"].as_str().unwrap());
        let first = server.patch_json(&path, &json!({"name": "Leeds CC"}), Some("\"1\""));
        assert_eq!(first.status, 200);
        let second = server.patch_json(&path, &json!({"name": "Lost update"}), Some("\"1\""));
        let problem = second.assert_problem(412, "precondition_failed");
        assert!(
            problem["detail"].as_str().unwrap().contains('2'),
            "{problem}"
        );
        assert_eq!(server.get(&path).json()["name"], "Leeds CC");
        server
            .delete_as(&path, &server.admin_token, &[("if-match", "\"1\"")])
            .assert_problem(412, "precondition_failed");
        assert_eq!(
            server.get(&path).status,
            200,
            "a refused delete deletes nothing"
        );
        server
            .patch_json(&path, &json!({"name": "x"}), Some("not-a-tag"))
            .assert_problem(400, "invalid_header");
    });
}

#[test]
fn if_none_match_with_the_current_etag_gives_304() {
    for_each_backend(|server| {
        let organisation = create(server, &local_authority("Leeds City Council"));
        let path = format!("{COLLECTION}/{}", organisation["id"].as_str().unwrap());
        let unchanged = server.send("GET", &path, &[("if-none-match", "\"1\"")], None);
        assert_eq!(unchanged.status, 304);
        assert!(unchanged.body.is_empty());
        assert_eq!(unchanged.header("etag"), Some("\"1\""));
        server.patch_json(&path, &json!({"name": "Leeds CC"}), None);
        let changed = server.send("GET", &path, &[("if-none-match", "\"1\"")], None);
        assert_eq!(changed.status, 200);
        assert_eq!(changed.header("etag"), Some("\"2\""));
    });
}

#[test]
fn a_patch_that_breaks_a_rule_is_refused_with_the_field_named() {
    for_each_backend(|server| {
        let supplier = create(
            server,
            &json!({"name": "Aware Technologies", "kind": "sme", "scale": "micro"}),
        );
        let path = format!("{COLLECTION}/{}", supplier["id"].as_str().unwrap());
        let problem = server
            .patch_json(&path, &json!({"scale": "large"}), None)
            .assert_problem(422, "validation_failed");
        assert_eq!(problem["errors"][0]["pointer"], "#/scale");
        assert_eq!(problem["errors"][0]["code"], "inconsistent_with_kind");
        let problem = server
            .patch_json(&path, &json!({"name": null}), None)
            .assert_problem(422, "validation_failed");
        assert_eq!(problem["errors"][0]["pointer"], "#/name");
        let problem = server
            .patch_json(&path, &json!({"version": 7}), None)
            .assert_problem(422, "invalid_body");
        assert_eq!(problem["errors"][0]["code"], "read_only_field");
        assert_eq!(
            server.get(&path).json()["version"],
            1,
            "nothing was changed"
        );
    });
}

#[test]
fn validation_reports_every_field_at_fault() {
    for_each_backend(|server| {
        let problem = server
            .post_json(
                COLLECTION,
                &json!({
                    "name": "",
                    "kind": "sme",
                    "identifier": {"scheme": "GB-COH", "id": "12"},
                    "website": "homelink"
                }),
            )
            .assert_problem(422, "validation_failed");
        let pointers: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|error| error["pointer"].as_str().unwrap())
            .collect();
        for pointer in ["#/name", "#/identifier/id", "#/website", "#/scale"] {
            assert!(
                pointers.contains(&pointer),
                "{pointer} missing from {problem}"
            );
        }
        assert_eq!(
            server.get(COLLECTION).json()["data"],
            json!([]),
            "nothing was stored"
        );
    });
}

#[test]
fn a_nul_character_is_a_validation_error_not_a_server_error() {
    for_each_backend(|server| {
        let problem = server
            .post_json(
                COLLECTION,
                &json!({"name": "Leeds\u{0000}", "kind": "local_authority"}),
            )
            .assert_problem(422, "validation_failed");
        assert_eq!(problem["errors"][0]["code"], "invalid_characters");
    });
}

#[test]
fn a_second_organisation_with_the_same_identifier_is_a_conflict() {
    for_each_backend(|server| {
        let body = json!({
            "name": "HomeLINK", "kind": "sme", "scale": "small",
            "identifier": {"scheme": "GB-COH", "id": "08365849"}
        });
        create(server, &body);
        let problem = server
            .post_json(COLLECTION, &body)
            .assert_problem(409, "conflict");
        assert_eq!(problem["errors"][0]["pointer"], "#/identifier");
    });
}

/// Pages through `path` following `next_cursor`, checking the `Link` header agrees.
fn all_pages(server: &TestServer, path: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut next = Some(path.to_owned());
    while let Some(path) = next.take() {
        let reply = server.get(&path);
        assert_eq!(reply.status, 200, "{}", reply.text());
        let body = reply.json();
        items.extend(body["data"].as_array().unwrap().iter().cloned());
        if let Some(cursor) = body["next_cursor"].as_str() {
            let link = reply.header("link").expect("Link header with a next page");
            assert!(link.ends_with("; rel=\"next\""), "{link}");
            assert!(link.contains(cursor), "{link}");
            let url = &link[1..link.find('>').unwrap()];
            next = Some(url.strip_prefix(&server.base_url).unwrap().to_owned());
        } else {
            assert!(reply.header("link").is_none());
        }
    }
    items
}

#[test]
fn pages_follow_the_sort_and_filters_without_gaps_or_repeats() {
    for_each_backend(|server| {
        let names = [
            "Wakefield",
            "Bradford",
            "York",
            "Calderdale",
            "Kirklees",
            "Bradford",
            "Leeds",
        ];
        for name in names {
            create(server, &local_authority(name));
        }
        create(
            server,
            &json!({"name": "HomeLINK", "kind": "sme", "scale": "small"}),
        );

        let by_name = all_pages(
            server,
            &format!("{COLLECTION}?kind=local_authority&sort=-name&limit=2"),
        );
        let listed: Vec<&str> = by_name
            .iter()
            .map(|o| o["name"].as_str().unwrap())
            .collect();
        let mut expected = names.to_vec();
        expected.sort_by(|a, b| b.cmp(a));
        assert_eq!(listed, expected, "{}", server.backend);
        let ids: std::collections::HashSet<&str> =
            by_name.iter().map(|o| o["id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), names.len(), "no repeats");

        let by_creation = all_pages(server, &format!("{COLLECTION}?limit=3"));
        assert_eq!(by_creation.len(), names.len() + 1);
        let created: Vec<&str> = by_creation
            .iter()
            .map(|o| o["created_at"].as_str().unwrap())
            .collect();
        assert!(
            created.windows(2).all(|pair| pair[0] <= pair[1]),
            "{created:?}"
        );

        let found = server.get(&format!("{COLLECTION}?q=brad")).json();
        assert_eq!(found["data"].as_array().unwrap().len(), 2);
    });
}

#[test]
fn a_cursor_only_works_with_the_query_it_was_made_for() {
    for_each_backend(|server| {
        for name in ["A", "B", "C"] {
            create(server, &local_authority(name));
        }
        let first = server
            .get(&format!("{COLLECTION}?sort=name&limit=1"))
            .json();
        let cursor = first["next_cursor"].as_str().unwrap();
        let second = server.get(&format!("{COLLECTION}?sort=name&limit=1&cursor={cursor}"));
        assert_eq!(second.json()["data"][0]["name"], "B");
        let with_other_limit =
            server.get(&format!("{COLLECTION}?sort=name&limit=5&cursor={cursor}"));
        assert_eq!(
            with_other_limit.status, 200,
            "limit may change between pages"
        );
        let problem = server
            .get(&format!("{COLLECTION}?sort=-name&limit=1&cursor={cursor}"))
            .assert_problem(400, "invalid_query");
        assert_eq!(problem["errors"][0]["code"], "cursor_mismatch");
        let problem = server
            .get(&format!("{COLLECTION}?sort=name&kind=nhs&cursor={cursor}"))
            .assert_problem(400, "invalid_query");
        assert_eq!(problem["errors"][0]["parameter"], "cursor");
        server
            .get(&format!("{COLLECTION}?cursor=garbage"))
            .assert_problem(400, "invalid_query");
    });
}

#[test]
fn updated_since_returns_only_later_changes() {
    for_each_backend(|server| {
        let old = create(server, &local_authority("Old"));
        std::thread::sleep(std::time::Duration::from_millis(5));
        let recent = create(server, &local_authority("Recent"));
        let since = recent["updated_at"].as_str().unwrap();
        let listed = server
            .get(&format!("{COLLECTION}?updated_since={since}"))
            .json();
        let names: Vec<&str> = listed["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Recent"]);
        let path = format!("{COLLECTION}/{}", old["id"].as_str().unwrap());
        server.patch_json(&path, &json!({"name": "Old, renamed"}), None);
        let listed = server
            .get(&format!("{COLLECTION}?updated_since={since}&sort=name"))
            .json();
        assert_eq!(listed["data"].as_array().unwrap().len(), 2);
        server
            .get(&format!("{COLLECTION}?updated_since=yesterday"))
            .assert_problem(400, "invalid_query");
    });
}

#[test]
fn list_parameters_are_checked() {
    for_each_backend(|server| {
        for (query, parameter) in [
            ("limit=-1", "limit"),
            ("limit=0", "limit"),
            ("limit=many", "limit"),
            ("kind=martian", "kind"),
            ("region=mars", "region"),
            ("sort=colour", "sort"),
            ("knid=sme", "knid"),
        ] {
            let problem = server
                .get(&format!("{COLLECTION}?{query}"))
                .assert_problem(400, "invalid_query");
            assert_eq!(
                problem["errors"][0]["parameter"], parameter,
                "{query}: {problem}"
            );
        }
        let capped = server.get(&format!("{COLLECTION}?limit=100000"));
        assert_eq!(
            capped.status, 200,
            "a limit above 500 is reduced, not refused"
        );
    });
}

#[test]
fn an_organisation_still_referred_to_cannot_be_deleted() {
    for_each_backend(|server| {
        let refused_delete = |id: &str| {
            let path = format!("{COLLECTION}/{id}");
            let problem = server
                .delete_as(&path, &server.admin_token, &[])
                .assert_problem(409, "conflict");
            assert_eq!(problem["errors"][0]["code"], "referenced", "{problem}");
            assert_eq!(
                server.get(&path).status,
                200,
                "a refused delete deletes nothing"
            );
        };
        // A member: the user's membership refers to the organisation.
        let member = create(server, &local_authority("Wakefield Council"));
        let member = member["id"].as_str().unwrap();
        server.user("officer@wakefield.test", "authority_officer", &[member]);
        refused_delete(member);

        // A programme's funder.
        let funder = create(server, &local_authority("Calderdale Council"));
        let funder = funder["id"].as_str().unwrap();
        let programme = server.post_json(
            "/api/v1/programmes",
            &json!({
                "code": "CALDERDALE", "title": "Calderdale Catalyst",
                "funder_organisation_id": funder,
                "budget": {"amount": 100000000, "currency": "GBP"}
            }),
        );
        assert_eq!(programme.status, 201, "{}", programme.text());
        refused_delete(funder);
    });
}
