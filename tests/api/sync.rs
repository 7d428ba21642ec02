//! Integration partners: idempotent creating POSTs (`Idempotency-Key`), on each backend.

use crate::common;

use common::{for_each_backend, local_authority, TestServer};
use serde_json::json;

const COLLECTION: &str = "/api/v1/organisations";

/// How many organisations the collection lists.
fn organisations_listed(server: &TestServer) -> usize {
    server.get(COLLECTION).json()["data"]
        .as_array()
        .unwrap()
        .len()
}

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
        assert_eq!(organisations_listed(server), 1);

        // The same key with another body is a client's mistake, and changes nothing.
        let other = post_with_key(
            server,
            &server.admin_token,
            "create-leeds-1",
            &local_authority("York"),
        );
        let problem = other.assert_problem(422, "invalid_body");
        assert_eq!(problem["errors"][0]["code"], "idempotency_key_reused");
        assert_eq!(organisations_listed(server), 1);

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
        // Each retry waits for the first to commit, then replays its answer.
        assert!(
            replies.iter().all(|(status, _)| *status == 201),
            "{replies:?}"
        );
        let ids: std::collections::BTreeSet<&String> =
            replies.iter().filter_map(|(_, id)| id.as_ref()).collect();
        assert_eq!(
            ids.len(),
            1,
            "every 201 names the same organisation: {replies:?}"
        );
        assert_eq!(organisations_listed(server), 1, "on {}", server.backend);
    });
}

#[test]
fn a_retry_sent_while_the_first_is_being_written_waits_for_it_and_replays_it() {
    use catalyst_persistence::DbConnection;
    use diesel::connection::SimpleConnection;
    for_each_backend(|server| {
        // Another session holds back every write of an organisation, so the first request has
        // claimed its key and is waiting to write its record when the retry arrives.
        let mut blocker =
            catalyst_persistence::database::ConnectionManager::new(server.database().url().clone())
                .connect()
                .unwrap();
        let hold = match &blocker {
            DbConnection::Postgres(_) => "BEGIN; LOCK TABLE organisations IN SHARE MODE;",
            DbConnection::Sqlite(_) => "BEGIN IMMEDIATE;",
        };
        blocker.batch_execute(hold).unwrap();
        let body = local_authority("Leeds City Council");
        let pause = std::time::Duration::from_millis(500);
        let (first, retry) = std::thread::scope(|scope| {
            let first =
                scope.spawn(|| post_with_key(server, &server.admin_token, "held-back-1", &body));
            std::thread::sleep(pause);
            let retry =
                scope.spawn(|| post_with_key(server, &server.admin_token, "held-back-1", &body));
            std::thread::sleep(pause);
            blocker.batch_execute("COMMIT;").unwrap();
            (first.join().unwrap(), retry.join().unwrap())
        });
        // The key, the record and the kept response commit together: the retry is not told
        // "still in flight" (409), it waits on the key and gets the first one's answer.
        assert_eq!(first.status, 201, "{}: {}", server.backend, first.text());
        assert_eq!(retry.status, 201, "{}: {}", server.backend, retry.text());
        assert_eq!(first.json(), retry.json());
        let replayed = [&first, &retry]
            .iter()
            .filter(|reply| reply.header("idempotent-replayed") == Some("true"))
            .count();
        assert_eq!(replayed, 1, "on {}", server.backend);
        assert_eq!(organisations_listed(server), 1, "on {}", server.backend);
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
        assert_eq!(organisations_listed(&replica), 1);
    });
}

fn put_by_key(
    server: &TestServer,
    token: Option<&str>,
    path: &str,
    body: &serde_json::Value,
    headers: &[(&str, &str)],
) -> common::Reply {
    let bearer = token.map(|token| format!("Bearer {token}"));
    let mut all = vec![("content-type", "application/json")];
    if let Some(bearer) = &bearer {
        all.push(("authorization", bearer.as_str()));
    }
    all.extend_from_slice(headers);
    server.send("PUT", path, &all, Some(body.to_string().as_bytes()))
}

#[test]
fn organisations_carry_partners_keys_and_are_found_by_them() {
    for_each_backend(|server| {
        let mut body = local_authority("Leeds City Council");
        body["external_ids"] =
            json!([{"source": "leeds-crm", "id": "ORG/42"}, {"source": "gtr", "id": "E1A2"}]);
        let leeds = server.post_json(COLLECTION, &body).json();
        assert_eq!(
            leeds["external_ids"],
            json!([{"source": "gtr", "id": "E1A2"}, {"source": "leeds-crm", "id": "ORG/42"}])
        );
        let found = server.get(&format!("{COLLECTION}/by-external-id/leeds-crm/ORG%2F42"));
        assert_eq!(found.status, 200, "{}", found.text());
        assert_eq!(found.json(), leeds);
        assert_eq!(
            server.get(COLLECTION).json()["data"][0]["external_ids"],
            leeds["external_ids"]
        );
        server
            .get(&format!("{COLLECTION}/by-external-id/leeds-crm/ORG-43"))
            .assert_problem(404, "not_found");
        server
            .get(&format!("{COLLECTION}/by-external-id/Leeds%20CRM/1"))
            .assert_problem(400, "invalid_path_parameter");

        // A key names one organisation; a source names an organisation once.
        let mut york = local_authority("City of York Council");
        york["external_ids"] = json!([{"source": "leeds-crm", "id": "ORG/42"}]);
        let problem = server
            .post_json(COLLECTION, &york)
            .assert_problem(409, "conflict");
        assert_eq!(problem["errors"][0]["pointer"], "#/external_ids");
        york["external_ids"] = json!([{"source": "crm", "id": "1"}, {"source": "crm", "id": "2"}, {"source": "Bad Source", "id": "3"}]);
        let problem = server
            .post_json(COLLECTION, &york)
            .assert_problem(422, "validation_failed");
        let pointers: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["pointer"].as_str().unwrap())
            .collect();
        assert_eq!(
            pointers,
            ["#/external_ids/1/source", "#/external_ids/2/source"]
        );

        // A merge patch replaces them; null removes them; then the key is free again.
        let path = format!("{COLLECTION}/{}", leeds["id"].as_str().unwrap());
        let patched = server
            .patch_json(
                &path,
                &json!({"external_ids": [{"source": "leeds-crm", "id": "ORG/42"}]}),
                None,
            )
            .json();
        assert_eq!(
            patched["external_ids"],
            json!([{"source": "leeds-crm", "id": "ORG/42"}])
        );
        assert_eq!(patched["version"], 2);
        let cleared = server
            .patch_json(&path, &json!({"external_ids": null}), None)
            .json();
        assert_eq!(cleared["external_ids"], json!([]));
        york["external_ids"] = json!([{"source": "leeds-crm", "id": "ORG/42"}]);
        assert_eq!(server.post_json(COLLECTION, &york).status, 201);
    });
}

#[test]
fn a_put_by_external_id_creates_then_updates_and_honours_preconditions() {
    for_each_backend(|server| {
        let admin = Some(server.admin_token.as_str());
        let path = format!("{COLLECTION}/by-external-id/leeds-crm/ORG-42");
        let body = local_authority("Leeds City Council");
        put_by_key(server, admin, &path, &body, &[("if-match", "\"1\"")])
            .assert_problem(412, "precondition_failed");
        put_by_key(server, None, &path, &body, &[]).assert_problem(401, "unauthenticated");

        let created = put_by_key(server, admin, &path, &body, &[("if-none-match", "*")]);
        assert_eq!(created.status, 201, "{}", created.text());
        let location = created.header("location").unwrap().to_owned();
        let leeds = created.json();
        assert_eq!(
            leeds["external_ids"],
            json!([{"source": "leeds-crm", "id": "ORG-42"}])
        );
        assert_eq!(server.get(&location).json(), leeds);

        // The same again changes nothing; a change is an update of the same record.
        let again = put_by_key(server, admin, &path, &body, &[]);
        assert_eq!(again.status, 200);
        assert_eq!(again.json(), leeds);
        put_by_key(server, admin, &path, &body, &[("if-none-match", "*")])
            .assert_problem(412, "precondition_failed");
        let mut renamed = body.clone();
        renamed["name"] = json!("Leeds CC");
        put_by_key(server, admin, &path, &renamed, &[("if-match", "\"7\"")])
            .assert_problem(412, "precondition_failed");
        let updated = put_by_key(server, admin, &path, &renamed, &[("if-match", "\"1\"")]);
        assert_eq!(updated.status, 200, "{}", updated.text());
        assert_eq!(updated.json()["id"], leeds["id"]);
        assert_eq!(updated.json()["version"], 2);
        assert_eq!(updated.header("etag"), Some("\"2\""));
        assert_eq!(organisations_listed(server), 1);

        // The body may not give the path's source another key; bad input changes nothing.
        let mut conflicting = renamed.clone();
        conflicting["external_ids"] = json!([{"source": "leeds-crm", "id": "ORG-43"}]);
        let problem = put_by_key(server, admin, &path, &conflicting, &[])
            .assert_problem(422, "validation_failed");
        assert_eq!(problem["errors"][0]["code"], "conflicts_with_path");
        let mut invalid = renamed.clone();
        invalid["kind"] = json!("sme");
        put_by_key(server, admin, &path, &invalid, &[]).assert_problem(422, "validation_failed");
        put_by_key(
            server,
            admin,
            &format!("{COLLECTION}/by-external-id/-bad/1"),
            &body,
            &[],
        )
        .assert_problem(400, "invalid_path_parameter");
        assert_eq!(server.get(&location).json()["version"], 2);

        // Who may not change it is refused.
        let sme = server
            .post_json(
                COLLECTION,
                &json!({"name": "HomeLINK", "kind": "sme", "scale": "small"}),
            )
            .json();
        let (_, supplier) = server.user(
            "bid@supplier.test",
            "supplier",
            &[sme["id"].as_str().unwrap()],
        );
        put_by_key(server, Some(&supplier), &path, &body, &[]).assert_problem(403, "forbidden");

        // Both writes are in the change feed, with the key in the state.
        server.settle_feed();
        let feed = server
            .get_as("/api/v1/changes?entity=organisations", &server.admin_token)
            .json();
        let leeds_changes: Vec<&serde_json::Value> = feed["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|change| change["id"] == leeds["id"])
            .collect();
        let operations: Vec<&str> = leeds_changes
            .iter()
            .map(|c| c["operation"].as_str().unwrap())
            .collect();
        assert_eq!(operations, ["create", "update"], "{leeds_changes:#?}");
        assert_eq!(
            leeds_changes[1]["state"]["external_ids"],
            leeds["external_ids"]
        );
    });
}

#[test]
fn concurrent_puts_with_one_key_make_one_organisation() {
    for_each_backend(|server| {
        let path = format!("{COLLECTION}/by-external-id/leeds-crm/ORG-42");
        let body = local_authority("Leeds City Council");
        let statuses: Vec<u16> = std::thread::scope(|scope| {
            let runs: Vec<_> = (0..6)
                .map(|_| {
                    scope.spawn(|| {
                        put_by_key(server, Some(&server.admin_token), &path, &body, &[]).status
                    })
                })
                .collect();
            runs.into_iter().map(|run| run.join().unwrap()).collect()
        });
        assert!(
            statuses.iter().all(|s| [200, 201, 409].contains(s)),
            "{statuses:?}"
        );
        assert_eq!(
            statuses.iter().filter(|s| **s == 201).count(),
            1,
            "{statuses:?}"
        );
        assert_eq!(organisations_listed(server), 1);
    });
}

#[test]
fn challenges_are_found_and_upserted_by_partners_keys() {
    for_each_backend(|server| {
        let world = common::sbri::world(server, 0);
        let path = "/api/v1/challenges/by-external-id/leeds-crm/CH-7";
        let body = common::sbri::leeds_challenge(&world);
        let officer = Some(world.leeds_officer.as_str());

        let created = put_by_key(server, officer, path, &body, &[("if-none-match", "*")]);
        assert_eq!(created.status, 201, "{}", created.text());
        let challenge = created.json();
        assert_eq!(challenge["status"], "draft");
        assert_eq!(
            challenge["external_ids"],
            json!([{"source": "leeds-crm", "id": "CH-7"}])
        );
        let location = created.header("location").unwrap().to_owned();

        // A draft: its owner finds it by the key; the public and York do not.
        assert_eq!(
            server.get_as(path, &world.leeds_officer).json()["id"],
            challenge["id"]
        );
        server.get(path).assert_problem(404, "not_found");
        server
            .get_as(path, &world.york_officer)
            .assert_problem(404, "not_found");
        put_by_key(server, Some(&world.york_officer), path, &body, &[])
            .assert_problem(404, "not_found");

        let again = put_by_key(server, officer, path, &body, &[]);
        assert_eq!(again.status, 200);
        assert_eq!(again.json()["version"], 1);
        let mut retitled = body.clone();
        retitled["title"] = json!("Monitoring damp in council homes");
        let updated = put_by_key(server, officer, path, &retitled, &[("if-match", "\"1\"")]);
        assert_eq!(updated.status, 200, "{}", updated.text());
        assert_eq!(updated.json()["version"], 2);
        assert_eq!(updated.json()["id"], challenge["id"]);

        let mut moved = retitled.clone();
        moved["owner_organisation_id"] = json!(world.york);
        let problem =
            put_by_key(server, officer, path, &moved, &[]).assert_problem(422, "validation_failed");
        assert_eq!(problem["errors"][0]["pointer"], "#/owner_organisation_id");

        // Published, York sees it but may not change it.
        ok(common::sbri::transition(
            server,
            &location,
            "open",
            &world.leeds_officer,
        ));
        assert_eq!(server.get(path).status, 200);
        put_by_key(server, Some(&world.york_officer), path, &retitled, &[])
            .assert_problem(403, "forbidden");

        // Keys in lists and merge patches; a key names one challenge.
        let listed = server.get("/api/v1/challenges").json();
        assert_eq!(
            listed["data"][0]["external_ids"],
            json!([{"source": "leeds-crm", "id": "CH-7"}])
        );
        let mut second = body.clone();
        second["reference"] = json!("GTC-R3-LEEDS-2");
        second["external_ids"] = json!([{"source": "leeds-crm", "id": "CH-7"}]);
        server
            .send_json("POST", "/api/v1/challenges", &second, officer)
            .assert_problem(409, "conflict");
        let bearer = format!("Bearer {}", world.leeds_officer);
        let patched = server.send(
            "PATCH",
            &location,
            &[
                ("authorization", &bearer),
                ("content-type", "application/merge-patch+json"),
            ],
            Some(
                json!({"external_ids": [{"source": "gtr", "id": "X1"}]})
                    .to_string()
                    .as_bytes(),
            ),
        );
        assert_eq!(patched.status, 200, "{}", patched.text());
        assert_eq!(
            patched.json()["external_ids"],
            json!([{"source": "gtr", "id": "X1"}])
        );
        server.get(path).assert_problem(404, "not_found");
        assert_eq!(
            server
                .get("/api/v1/challenges/by-external-id/gtr/X1")
                .json()["id"],
            challenge["id"]
        );
    });
}

fn ok(reply: common::Reply) -> serde_json::Value {
    common::sbri::ok(reply)
}

/// Housekeeping deletes expired keys and says how many in the log: a replica starting on the
/// database sweeps at once (then every ten minutes), and a replay of the purged key is a new
/// request again.
#[test]
fn housekeeping_purges_expired_keys_and_logs_how_many() {
    use diesel::RunQueryDsl;
    for_each_backend(|server| {
        let token = server.admin_token.clone();
        for key in ["purge-1", "purge-2"] {
            let reply = post_with_key(server, &token, key, &local_authority(key));
            assert_eq!(reply.status, 201, "{}", reply.text());
        }
        let mut connection =
            catalyst_persistence::database::ConnectionManager::new(server.database().url().clone())
                .connect()
                .unwrap();
        let expired = diesel::sql_query(
            "UPDATE idempotency_keys SET expires_at = '2000-01-01 00:00:00' \
             WHERE idempotency_key = 'purge-1'",
        )
        .execute(&mut connection)
        .unwrap();
        assert_eq!(expired, 1);

        let replica = server.replica();
        let purged = replica.await_logged("housekeeping purged", 1);
        assert_eq!(purged.len(), 1, "on {}", server.backend);
        assert_eq!(purged[0]["idempotency_keys"], 1, "{}", purged[0]);
        assert_eq!(purged[0]["level"], "INFO");
        // The expired key is gone: the same key with another body is a new organisation.
        let again = post_with_key(
            &replica,
            &token,
            "purge-1",
            &local_authority("purge-1 again"),
        );
        assert_eq!(again.status, 201, "{}", again.text());
        let kept = post_with_key(&replica, &token, "purge-2", &local_authority("another"));
        assert_eq!(kept.status, 422, "a live key still guards its body");
    });
}
