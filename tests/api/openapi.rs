//! The committed spec (`openapi/v1.json`) is what the code generates and what the server serves.
//! After changing an endpoint, regenerate it with:
//!
//! ```sh
//! cargo run -- openapi > openapi/v1.json
//! ```

use crate::common;

use std::path::Path;

use catalyst_persistence::testing::TestDatabase;
use common::TestServer;
use serde_json::{json, Value};

fn committed() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi/v1.json");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("read {}: {error}", path.display()))
}

#[test]
fn the_committed_spec_matches_the_code() {
    let generated = catalyst_http::openapi_json();
    assert!(
        committed() == generated,
        "openapi/v1.json is out of date: run `cargo run -- openapi > openapi/v1.json` and commit it"
    );
}

#[test]
fn the_served_spec_is_the_committed_one() {
    let server = TestServer::start(TestDatabase::sqlite(), &[]);
    let served = server.get("/api/v1/openapi.json");
    assert_eq!(served.status, 200);
    let committed: serde_json::Value = serde_json::from_str(&committed()).unwrap();
    assert_eq!(served.json(), committed);
}

#[test]
fn the_spec_is_openapi_3_1_and_documents_every_error_status() {
    let spec: serde_json::Value = serde_json::from_str(&committed()).unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = spec["paths"].as_object().unwrap();
    assert!(paths.contains_key("/api/v1/organisations"));
    assert!(paths.contains_key("/api/v1/organisations/{id}"));
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            let operation_id = operation["operationId"].as_str().unwrap();
            assert!(responses.contains_key("500"), "{method} {path} lacks 500");
            for (status, response) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    assert!(
                        response["content"]["application/problem+json"].is_object(),
                        "{operation_id} {status} is not documented as problem+json"
                    );
                }
            }
            if operation.get("requestBody").is_some() {
                for status in ["413", "415", "422"] {
                    assert!(
                        responses.contains_key(status),
                        "{operation_id} lacks {status}"
                    );
                }
            }
        }
    }
    let created = &paths["/api/v1/organisations"]["post"]["responses"]["201"];
    assert!(
        created["headers"]["Location"].is_object(),
        "201 documents Location"
    );
}

#[test]
fn the_docs_page_is_served_without_a_network() {
    let server = TestServer::start(TestDatabase::sqlite(), &[]);
    let page = server.get("/docs/");
    assert_eq!(page.status, 200);
    assert!(page.text().contains("swagger"), "{}", page.text());
    let script = server.get("/docs/swagger-ui-bundle.js");
    assert_eq!(script.status, 200, "the UI's assets are served locally");
    let initializer = server.get("/docs/swagger-initializer.js").text();
    assert!(
        initializer.contains("/api/v1/openapi.json"),
        "{initializer}"
    );
}

/// What generated clients rely on (issue 17): a list's `next_cursor` is always there, null on
/// the last page, so a loop that stops on null stops; ids are UUIDs, so comparing them is typed;
/// the change feed names its entities and operations as enums.
#[test]
fn generated_clients_get_required_cursors_uuid_ids_and_enums() {
    let spec: Value = serde_json::from_str(&committed()).unwrap();
    let schemas = spec["components"]["schemas"].as_object().unwrap();
    let mut lists = 0;
    for (name, schema) in schemas {
        let Some(cursor) = schema["properties"].get("next_cursor") else {
            continue;
        };
        lists += 1;
        let required: Vec<&str> = schema["required"]
            .as_array()
            .map(|names| names.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        assert!(
            required.contains(&"next_cursor"),
            "{name}: next_cursor is not required"
        );
        if name != "ChangeList" {
            assert_eq!(
                cursor["type"],
                serde_json::json!(["string", "null"]),
                "{name}: next_cursor is not nullable"
            );
        }
    }
    assert!(lists >= 17, "only {lists} lists have a next_cursor");
    // Every id of a record, and every reference to one, is a UUID; partners' keys are not.
    for (name, schema) in schemas {
        for (member, property) in schema["properties"].as_object().into_iter().flatten() {
            let names_a_record = member == "id" || member.ends_with("_id");
            let free_text = matches!(
                (name.as_str(), member.as_str()),
                ("ExternalIdBody", "id")
                    | ("OrganisationIdentifier", "id")
                    | ("DeliveryResource", "id")
                    | (_, "request_id")
            );
            let is_text = property["type"] == "string"
                || property["type"] == serde_json::json!(["string", "null"]);
            if names_a_record && is_text && !free_text {
                assert_eq!(property["format"], "uuid", "{name}.{member} is not a UUID");
            }
        }
    }
    // The import upload is bytes, which every generator can send, with the format named.
    let import = &spec["paths"]["/api/v1/imports"]["post"];
    let media: Vec<&String> = import["requestBody"]["content"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(media, ["application/octet-stream"]);
    let format = import["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|parameter| parameter["name"] == "format")
        .unwrap();
    assert_eq!(format["required"], true);
    let change = &schemas["Change"]["properties"];
    assert_eq!(change["id"]["format"], "uuid");
    assert!(change["entity"]["enum"]
        .as_array()
        .is_some_and(|values| values.len() == 12));
    assert_eq!(
        change["operation"]["enum"],
        serde_json::json!(["create", "update", "delete"])
    );
}

/// Every GET with query parameters (lists, reports, exports, feeds) takes exactly the ones its
/// spec documents: each documented one is read (never refused as unknown), and any other name
/// is refused as unknown (never accepted and ignored, which would answer a filter with a
/// silently unfiltered page). Ids in paths are the demo data's, so that operations that find
/// the record first get that far.
/// The demo data, with a record of every kind the spec's GETs name, and every GET of the spec
/// with its path filled in.
struct DemoGets {
    /// (the spec's path, a path to ask, the operation)
    gets: Vec<(String, String, Value)>,
    trial: String,
    outcome: String,
}

fn every_get_on_the_demo(server: &TestServer) -> DemoGets {
    server.cli(&["seed", "demo"]);
    let first = |list: &str| {
        let page = server.get_as(&format!("{list}?limit=1"), &server.admin_token);
        (page.status == 200)
            .then(|| page.json()["data"][0]["id"].as_str().map(str::to_owned))
            .flatten()
    };
    let created = |path: String, body: Value| {
        let reply = server.post_json(&path, &body);
        assert_eq!(reply.status, 201, "POST {path}: {}", reply.text());
        reply.json()["id"].as_str().unwrap().to_owned()
    };
    // What the demo data lacks, and the records only found under their parents.
    created(
        "/api/v1/api-clients".into(),
        json!({"name": "Sync", "scopes": ["read"]}),
    );
    created(
        "/api/v1/webhooks".into(),
        json!({"url": "https://81.2.69.160/hook", "event_types": ["*"]}),
    );
    crate::imports::imported(
        server,
        "collection=organisations",
        &crate::imports::ndjson(&[crate::imports::council(1)]),
    );
    let organisation = first("/api/v1/organisations").unwrap();
    let contact = created(
        format!("/api/v1/organisations/{organisation}/contacts"),
        json!({"name": "A. Officer"}),
    );
    let trial = first("/api/v1/trials").unwrap();
    let outcome = created(
        format!("/api/v1/trials/{trial}/outcomes"),
        json!({"kind": "key_finding", "metric": "Homes with damp found early"}),
    );
    let releases = server.get_as("/api/v1/ocds/releases?limit=1", &server.admin_token);
    let ocid = releases.json()["releases"][0]["ocid"]
        .as_str()
        .map(str::to_owned);
    let spec: Value = serde_json::from_str(&committed()).unwrap();
    // A record of the collection named before `{id}`.
    let id_in = |path: &str| match path.split("/{id}").next().unwrap() {
        "/api/v1/contacts" => Some(contact.clone()),
        "/api/v1/outcomes" => Some(outcome.clone()),
        collection => first(collection),
    };
    // A record of the collection named before `/by-external-id`, given the key `crm`/`demo-1`.
    let keyed_in = |path: &str| {
        let collection = path.split("/by-external-id").next().unwrap();
        let id = id_in(&format!("{collection}/{{id}}"))?;
        let keyed = server.send_json(
            "PATCH",
            &format!("{collection}/{id}"),
            &json!({"external_ids": [{"source": "crm", "id": "demo-1"}]}),
            Some(&server.admin_token),
        );
        assert_eq!(
            keyed.status,
            200,
            "PATCH {collection}/{id}: {}",
            keyed.text()
        );
        Some("demo-1".to_owned())
    };
    let mut unreached = Vec::new();
    let mut gets = Vec::new();
    for (template, item) in spec["paths"].as_object().unwrap() {
        let Some(get) = item.get("get") else { continue };
        let id = if template.contains("/by-external-id/") {
            keyed_in(template)
        } else if template.contains("{id}") {
            id_in(template)
        } else {
            Some(String::new())
        };
        let (Some(id), Some(ocid)) = (id, ocid.as_deref()) else {
            unreached.push(template.clone());
            continue;
        };
        let path = template
            .replace("{id}", &id)
            .replace("{source}", "crm")
            .replace("{collection}", "organisations")
            .replace("{ocid}", ocid)
            .replace("{delivery_id}", "msg_0193a1b27c3d7e4f8a9b0c1d2e3f4a5b");
        gets.push((template.clone(), path, get.clone()));
    }
    assert_eq!(unreached, Vec::<String>::new(), "no record to ask of");
    DemoGets {
        gets,
        trial,
        outcome,
    }
}

#[test]
fn every_get_takes_exactly_the_query_parameters_it_documents() {
    common::for_each_backend(|server| {
        let DemoGets {
            gets,
            trial,
            outcome,
        } = every_get_on_the_demo(server);
        let mut names: Vec<String> = Vec::new();
        let mut operations: Vec<(String, Vec<String>)> = Vec::new();
        for (_, path, get) in gets {
            let documented: Vec<String> = get["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|parameter| parameter["in"] == "query")
                .map(|parameter| parameter["name"].as_str().unwrap().to_owned())
                .collect();
            if documented.is_empty() {
                continue;
            }
            names.extend(documented.iter().cloned());
            operations.push((path, documented));
        }
        names.push("nonsense".to_owned());
        names.sort();
        names.dedup();
        let mut checked = 0;
        for (path, documented) in &operations {
            for name in &names {
                let reply = server.get_as(&format!("{path}?{name}=x"), &server.admin_token);
                let refused_as_unknown = reply.status == 400
                    && reply.json()["errors"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|item| {
                            item["parameter"] == *name && item["code"] == "unknown_parameter"
                        });
                assert_eq!(
                    refused_as_unknown,
                    !documented.contains(name),
                    "GET {path}?{name}=x: documented {documented:?}, answered {} {}",
                    reply.status,
                    reply.text()
                );
                checked += 1;
            }
        }
        assert!(checked > 500, "only {checked} requests checked");
        // A trial's outcomes took `updated_since` undocumented and ignored it; now it filters.
        let outcomes = |since: &str| -> Vec<String> {
            let path = format!("/api/v1/trials/{trial}/outcomes?updated_since={since}");
            let page = server.get_as(&path, &server.admin_token);
            assert_eq!(page.status, 200, "{path}: {}", page.text());
            page.json()["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|outcome| outcome["id"].as_str().unwrap().to_owned())
                .collect()
        };
        assert!(outcomes("2020-01-01T00:00:00Z").contains(&outcome));
        assert_eq!(outcomes("2099-01-01T00:00:00Z"), Vec::<String>::new());
    });
}

/// Every GET of the API sends an `ETag` and answers `If-None-Match` naming it (strong or weak)
/// with 304 and no body, as the spec says (RFC 9110, sections 8.8.3 and 13.1.2): lists,
/// histories, reports, feeds, the change feed and the spec included, not only records; only a
/// streamed export has none, and the spec says so.
/// Polling clients then pay for a changed answer only. A list's tag moves when it changes.
#[test]
fn every_get_sends_an_etag_and_answers_if_none_match_with_304() {
    common::for_each_backend(|server| {
        let spec: Value = serde_json::from_str(&committed()).unwrap();
        let mut checked = Vec::new();
        for (template, path, get) in every_get_on_the_demo(server).gets {
            if !template.starts_with("/api/") {
                continue;
            }
            let documented = get["responses"]["304"].is_object()
                && get["responses"]["200"]["headers"]["ETag"].is_object()
                && get["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|parameter| parameter["name"] == "If-None-Match");
            // Caught up, the feed's `next_cursor` is "past every change so far", which on
            // PostgreSQL moves with every transaction on the server, other tests' included: a
            // page that ends at a change stays the same.
            let path = if template == "/api/v1/changes" {
                format!("{path}?limit=1")
            } else {
                path
            };
            let reply = server.get_as(&path, &server.admin_token);
            assert_eq!(reply.status, 200, "GET {path}: {}", reply.text());
            assert_eq!(
                reply.header("etag").is_some(),
                documented,
                "GET {path}: the spec and the ETag disagree"
            );
            let Some(tag) = reply.header("etag").map(str::to_owned) else {
                // Streamed as it is made: an export.
                assert_eq!(template, "/api/v1/exports/{collection}");
                continue;
            };
            let bearer = format!("Bearer {}", server.admin_token);
            let weak = format!("W/{tag}");
            let among = format!("\"other\", {tag}");
            // What may have moved since the first answer: the feed's head, "past every change
            // so far", moves with every transaction on a PostgreSQL server (other tests' too),
            // and the demo webhook's deliveries are being tried as the test runs.
            let moves = ["/api/v1/changes/latest", "/api/v1/webhooks/{id}/deliveries"]
                .contains(&template.as_str());
            for held in [tag.as_str(), weak.as_str(), among.as_str(), "*"] {
                let again = server.send(
                    "GET",
                    &path,
                    &[("authorization", &bearer), ("if-none-match", held)],
                    None,
                );
                if moves && again.status == 200 {
                    assert_ne!(again.header("etag"), Some(tag.as_str()), "GET {path}");
                    continue;
                }
                assert_eq!(again.status, 304, "GET {path} with If-None-Match {held}");
                assert!(again.body.is_empty(), "GET {path}: a 304 with a body");
                if !moves {
                    assert_eq!(again.header("etag"), Some(tag.as_str()), "GET {path}");
                }
            }
            let other = server.send(
                "GET",
                &path,
                &[("authorization", &bearer), ("if-none-match", "\"other\"")],
                None,
            );
            assert_eq!(other.status, 200, "GET {path} with another tag");
            if !moves {
                assert_eq!(other.body, reply.body, "GET {path} with another tag");
            }
            checked.push(template);
        }
        let documented_gets = spec["paths"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(path, item)| path.starts_with("/api/") && item.get("get").is_some())
            .count();
        assert_eq!(checked.len() + 1, documented_gets, "{checked:?}");

        let list = "/api/v1/organisations";
        let before = server.get(list).header("etag").unwrap().to_owned();
        let created = server.post_json(list, &common::local_authority("Wakefield Council"));
        assert_eq!(created.status, 201, "{}", created.text());
        let after = server.send("GET", list, &[("if-none-match", before.as_str())], None);
        assert_eq!(after.status, 200, "the list changed");
        assert_ne!(after.header("etag"), Some(before.as_str()));
        let malformed = server.send("GET", list, &[("if-none-match", "not-a-tag")], None);
        malformed.assert_problem(400, "invalid_header");
    });
}
