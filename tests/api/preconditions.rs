//! The order of a conditional write's checks: a body that is wrong in itself is refused for what
//! is wrong with it (422, naming the field) even when its `If-Match` is stale too, so the client
//! fixes the body instead of re-reading and retrying into the same 422. A valid body with a stale
//! `If-Match` is still 412, and neither writes anything.

use crate::awards::an_award;
use crate::common;

use common::for_each_backend;
use common::sbri::{created, gbp, id, ok, transition, world};
use serde_json::json;

#[test]
fn every_patch_validates_its_body_before_its_precondition() {
    for_each_backend(|server| {
        let world = world(server, 2);
        let (phase_one, _, award_id) = an_award(server, &world);
        let award_path = format!("/api/v1/awards/{award_id}");
        // Only a draft application can change.
        let (other_supplier, other_token) = &world.suppliers[1];
        let draft = created(server.send_json(
            "POST",
            &format!("/api/v1/phases/{phase_one}/applications"),
            &json!({"supplier_organisation_id": other_supplier, "amount_requested": gbp(1_000_000), "summary": "Sensors"}),
            Some(other_token),
        ));
        let milestone = created(server.send_json(
            "POST",
            &format!("{award_path}/milestones"),
            &json!({"kind": "payment", "title": "First tranche", "due_on": "2019-09-30", "amount": gbp(1_000_000)}),
            Some(&world.leeds_officer),
        ));
        let trial = created(server.send_json(
            "POST",
            "/api/v1/trials",
            &json!({"award_id": award_id, "host_organisation_id": world.leeds, "title": "Sensors in homes"}),
            Some(&world.leeds_officer),
        ));
        let trial_path = format!("/api/v1/trials/{}", id(&trial));
        ok(transition(
            server,
            &trial_path,
            "live",
            &world.leeds_officer,
        ));
        let outcome = created(server.send_json(
            "POST",
            &format!("{trial_path}/outcomes"),
            &json!({"kind": "key_finding", "metric": "Damp caught early"}),
            Some(&world.leeds_officer),
        ));
        let phase = ok(server.get_as(&format!("/api/v1/phases/{phase_one}"), &world.leeds_officer));
        let challenge_path = format!(
            "/api/v1/challenges/{}",
            phase["challenge_id"].as_str().unwrap()
        );

        // (record, a text field, its longest valid length)
        let cases = [
            (challenge_path, "title", 200),
            (
                format!("/api/v1/applications/{}", id(&draft)),
                "summary",
                10_000,
            ),
            (award_path, "contract_reference", 100),
            (
                format!("/api/v1/milestones/{}", id(&milestone)),
                "title",
                200,
            ),
            (trial_path, "title", 200),
            (format!("/api/v1/outcomes/{}", id(&outcome)), "metric", 200),
            (
                format!("/api/v1/organisations/{}", world.leeds),
                "name",
                200,
            ),
        ];
        for (path, field, longest) in cases {
            let before = ok(server.get_as(&path, &server.admin_token));
            let stale = "\"999\"";
            let problem = server
                .patch_json(&path, &json!({field: "x".repeat(longest + 1)}), Some(stale))
                .assert_problem(422, "validation_failed");
            assert_eq!(
                problem["errors"][0]["pointer"],
                format!("#/{field}"),
                "{path}: {problem}"
            );
            server
                .patch_json(&path, &json!({field: "Valid"}), Some(stale))
                .assert_problem(412, "precondition_failed");
            let after = ok(server.get_as(&path, &server.admin_token));
            assert_eq!(after, before, "{path}: a refused write changes nothing");
        }
    });
}

/// `If-Match` is honoured by every write to a versioned record (RFC 9110, section 13.1.1: a
/// false condition means the method is not performed): deleting a user, revoking an API client
/// and rotating a webhook's secret ignored it. The spec documents it on every DELETE, PATCH
/// and PUT, and on every POST that acts on a record rather than adding one under it.
#[test]
fn every_write_to_a_record_honours_if_match() {
    let spec: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/v1.json")).unwrap(),
    )
    .unwrap();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let acts_on_a_record = match method.as_str() {
                "delete" | "patch" | "put" => true,
                // A POST under a record that is not also a list adds nothing under it: it acts
                // on the record (a transition, a rotation). A delivery has no version.
                "post" => {
                    path.contains("{id}")
                        && item.get("get").is_none()
                        && !path.ends_with("/redeliver")
                }
                _ => false,
            };
            let documented = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|parameter| parameter["name"] == "If-Match");
            assert_eq!(
                documented, acts_on_a_record,
                "{method} {path}: If-Match documented"
            );
        }
        // Where a write takes `If-Match`, the record's GET documents the ETag to send.
        let written = ["delete", "patch", "put"]
            .iter()
            .any(|method| item.get(*method).is_some());
        if written && item.get("get").is_some() {
            assert!(
                item["get"]["responses"]["200"]["headers"]
                    .get("ETag")
                    .is_some(),
                "GET {path} does not document its ETag"
            );
        }
    }
    for_each_backend(|server| {
        let stale = [("if-match", "\"99\"")];
        let as_admin = |method: &str, path: &str, headers: &[(&str, &str)]| {
            let bearer = format!("Bearer {}", server.admin_token);
            let mut headers = headers.to_vec();
            headers.push(("authorization", bearer.as_str()));
            server.send(method, path, &headers, None)
        };
        let (user, _) = server.user("leaving@example.org", "programme_manager", &[]);
        let user = format!("/api/v1/users/{user}");
        let client = created(server.send_json(
            "POST",
            "/api/v1/api-clients",
            &json!({"name": "Partner sync", "scopes": ["read"]}),
            Some(&server.admin_token),
        ));
        let client = format!("/api/v1/api-clients/{}", id(&client));
        let webhook = created(server.post_json(
            "/api/v1/webhooks",
            &json!({"url": "https://81.2.69.160/hook", "event_types": ["*"]}),
        ));
        let webhook = format!("/api/v1/webhooks/{}", id(&webhook));
        for (method, path, read) in [
            ("DELETE", user.clone(), user.clone()),
            ("DELETE", client.clone(), client.clone()),
            ("POST", format!("{webhook}/rotate-secret"), webhook.clone()),
        ] {
            let before = ok(server.get_as(&read, &server.admin_token));
            as_admin(method, &path, &stale).assert_problem(412, "precondition_failed");
            let after = ok(server.get_as(&read, &server.admin_token));
            assert_eq!(
                after, before,
                "{method} {path} with a stale If-Match changed it"
            );
            let tag = server
                .get_as(&read, &server.admin_token)
                .header("etag")
                .unwrap_or_else(|| panic!("GET {read} has no ETag"))
                .to_owned();
            let done = as_admin(method, &path, &[("if-match", tag.as_str())]);
            assert!(
                done.status == 200 || done.status == 204,
                "{method} {path} with its ETag: {} {}",
                done.status,
                done.text()
            );
        }
    });
}

/// A PUT by external id refuses a body wrong in itself (422, naming the member) before it weighs
/// `If-Match` or `If-None-Match`: an award's `parent_award_id` or `application_id` that is not a
/// UUID was checked only when the award was made, after the preconditions, so a PUT with
/// `If-Match: *` and such a body was a 412 (Schemathesis, seed 424242).
#[test]
fn a_put_by_external_id_validates_its_body_before_its_preconditions() {
    for_each_backend(|server| {
        let award = |member: &str, value: &str| {
            let mut body = json!({
                "phase_id": "0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b",
                "application_id": "0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5c",
                "contract_reference": "LCC-1",
                "amount": {"amount": 5000000, "currency": "GBP"},
            });
            body[member] = json!(value);
            body.to_string()
        };
        let bearer = format!("Bearer {}", server.admin_token);
        for (member, value) in [("parent_award_id", ""), ("application_id", "nope")] {
            for condition in [("if-match", "*"), ("if-none-match", "*")] {
                let reply = server.send(
                    "PUT",
                    "/api/v1/awards/by-external-id/crm/A-1",
                    &[
                        ("authorization", bearer.as_str()),
                        ("content-type", "application/json"),
                        condition,
                    ],
                    Some(award(member, value).as_bytes()),
                );
                let problem = reply.assert_problem(422, "validation_failed");
                assert_eq!(problem["errors"][0]["pointer"], format!("#/{member}"));
                assert_eq!(problem["errors"][0]["code"], "invalid_id");
            }
        }
    });
}

/// The spec's pattern for `If-None-Match` and `If-Match` says exactly what the server reads:
/// each value here is taken (a 200 or 304, a write that goes ahead or a 412) when it matches
/// the pattern and refused as a malformed header (400) when it does not. RFC 9110 (5.6.1.2)
/// asks a recipient to ignore empty list elements, so `,` is an empty list (no condition);
/// the pattern refused it while the server took it (Schemathesis, seed 55512340).
#[test]
fn the_spec_describes_the_entity_tags_the_server_reads() {
    let spec: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/v1.json")).unwrap(),
    )
    .unwrap();
    let parameters = spec["paths"]["/api/v1/organisations/{id}"]["patch"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .chain(
            spec["paths"]["/api/v1/organisations"]["get"]["parameters"]
                .as_array()
                .unwrap(),
        );
    let mut patterns = Vec::new();
    for parameter in parameters {
        if parameter["in"] == "header" {
            let name = parameter["name"].as_str().unwrap().to_owned();
            let validator = jsonschema::validator_for(&parameter["schema"]).unwrap();
            patterns.push((name, validator));
        }
    }
    let names: Vec<&str> = patterns.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["If-Match", "If-None-Match"]);
    let values = [
        "",
        ",",
        ", ,",
        "*",
        "\"1\"",
        "W/\"1\"",
        "\"1\",\"2\"",
        "\"1\" , , W/\"2\"",
        ",\"1\"",
        "\"1\",",
        "\"\"",
        "1",
        "\"1",
        "*,",
        "*, \"1\"",
        "W/1",
        "\"1\" \"2\"",
        "**",
        "w/\"1\"",
        "\"1 2\"",
        "\"1\t2\"",
    ];
    for_each_backend(|server| {
        let created = server.post_json(
            "/api/v1/organisations",
            &common::local_authority("Leeds City Council"),
        );
        assert_eq!(created.status, 201, "{}", created.text());
        let record = format!(
            "/api/v1/organisations/{}",
            created.json()["id"].as_str().unwrap()
        );
        let bearer = format!("Bearer {}", server.admin_token);
        for value in values {
            for (name, pattern) in &patterns {
                let described = pattern.is_valid(&json!(value));
                let reply = if name == "If-Match" {
                    server.send(
                        "PATCH",
                        &record,
                        &[
                            ("authorization", bearer.as_str()),
                            ("content-type", "application/merge-patch+json"),
                            ("if-match", value),
                        ],
                        Some(b"{}"),
                    )
                } else {
                    server.send(
                        "GET",
                        "/api/v1/organisations",
                        &[("if-none-match", value)],
                        None,
                    )
                };
                let read = match reply.status {
                    200 | 304 | 412 => true,
                    400 => false,
                    other => panic!("{name}: {value:?}: {other} {}", reply.text()),
                };
                assert_eq!(read, described, "{name}: {value:?}: {}", reply.text());
            }
        }
    });
}
