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
#[test]
fn every_get_takes_exactly_the_query_parameters_it_documents() {
    common::for_each_backend(|server| {
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
        let spec: Value = serde_json::from_str(&committed()).unwrap();
        // A record of the collection named before `{id}`.
        let id_in = |path: &str| match path.split("/{id}").next().unwrap() {
            "/api/v1/contacts" => Some(contact.clone()),
            "/api/v1/outcomes" => Some(outcome.clone()),
            collection => first(collection),
        };
        let mut unreached = Vec::new();
        let mut names: Vec<String> = Vec::new();
        let mut operations: Vec<(String, Vec<String>)> = Vec::new();
        for (path, item) in spec["paths"].as_object().unwrap() {
            let Some(get) = item.get("get") else { continue };
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
            let id = if path.contains("{id}") {
                match id_in(path) {
                    Some(id) => id,
                    None => {
                        unreached.push(path.clone());
                        continue;
                    }
                }
            } else {
                String::new()
            };
            let path = path
                .replace("{id}", &id)
                .replace("{source}", "crm")
                .replace("{delivery_id}", "msg_0193a1b27c3d7e4f8a9b0c1d2e3f4a5b");
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
        assert_eq!(unreached, Vec::<String>::new(), "no record to ask of");
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
