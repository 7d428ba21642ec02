//! The change feed (`GET /api/v1/changes`): every write, resumable with nothing missed, and only
//! what the reader may see. On each backend; the out-of-order commit test on PostgreSQL.

use crate::common;

use std::collections::HashSet;

use common::sbri::{created, id, leeds_challenge, ok, phase, transition, world};
use common::{for_each_backend, local_authority, TestServer};
use serde_json::{json, Value};

/// Reads the feed from `cursor` until caught up; returns the changes and the last next_cursor.
fn follow(
    server: &TestServer,
    token: Option<&str>,
    cursor: Option<&str>,
    query: &str,
) -> (Vec<Value>, String) {
    server.settle_feed();
    read_feed(server, token, cursor, query)
}

/// [`follow`] without waiting for the feed to take in the writes made so far.
fn read_feed(
    server: &TestServer,
    token: Option<&str>,
    cursor: Option<&str>,
    query: &str,
) -> (Vec<Value>, String) {
    let mut changes = Vec::new();
    let mut cursor = cursor.map(str::to_owned);
    loop {
        let mut path = format!("/api/v1/changes?limit=7{query}");
        if let Some(cursor) = &cursor {
            path.push_str(&format!("&cursor={cursor}"));
        }
        let reply = match token {
            Some(token) => server.get_as(&path, token),
            None => server.get(&path),
        };
        assert_eq!(reply.status, 200, "{path}: {}", reply.text());
        let page = reply.json();
        changes.extend(page["data"].as_array().unwrap().iter().cloned());
        let next = page["next_cursor"]
            .as_str()
            .expect("next_cursor always given")
            .to_owned();
        assert_eq!(
            page["has_more"].as_bool().unwrap(),
            reply.header("link").is_some()
        );
        cursor = Some(next.clone());
        if !page["has_more"].as_bool().unwrap() {
            return (changes, next);
        }
    }
}

fn of_entity<'a>(changes: &'a [Value], entity: &str, entity_id: &str) -> Vec<&'a Value> {
    changes
        .iter()
        .filter(|change| change["entity"] == entity && change["id"] == entity_id)
        .collect()
}

#[test]
fn every_write_is_in_the_feed_in_order_with_its_state_and_deletes_leave_tombstones() {
    for_each_backend(|server| {
        let start = ok(server.get("/api/v1/changes/latest"))["cursor"]
            .as_str()
            .unwrap()
            .to_owned();
        let leeds = created(server.post_json(
            "/api/v1/organisations",
            &local_authority("Leeds City Council"),
        ));
        let path = format!("/api/v1/organisations/{}", id(&leeds));
        let renamed = ok(server.patch_json(&path, &json!({"name": "Leeds CC"}), None));
        let deleted = server.delete_as(&path, &server.admin_token, &[]);
        assert_eq!(deleted.status, 204, "{}", deleted.text());

        let (changes, caught_up) = follow(server, Some(&server.admin_token), Some(&start), "");
        let seen = of_entity(&changes, "organisations", &id(&leeds));
        let operations: Vec<&str> = seen
            .iter()
            .map(|c| c["operation"].as_str().unwrap())
            .collect();
        assert_eq!(operations, ["create", "update", "delete"]);
        assert_eq!(seen[0]["version"], 1);
        assert_eq!(seen[0]["state"], leeds);
        assert_eq!(seen[1]["version"], 2);
        assert_eq!(seen[1]["state"], renamed);
        assert_eq!(seen[2]["version"], 3, "a delete is the next version");
        assert_eq!(seen[2]["state"], Value::Null, "a delete is a tombstone");
        assert!(seen[0]["occurred_at"].as_str().is_some());

        // Caught up: the same cursor gives nothing more, and a new write comes next.
        let again = ok(server.get_as(
            &format!("/api/v1/changes?cursor={caught_up}"),
            &server.admin_token,
        ));
        assert_eq!(again["data"], json!([]));
        assert_eq!(again["has_more"], false);
        let york = created(server.post_json(
            "/api/v1/organisations",
            &local_authority("City of York Council"),
        ));
        let (after, _) = follow(server, Some(&server.admin_token), Some(&caught_up), "");
        assert_eq!(after.len(), 1, "{after:?}");
        assert_eq!(after[0]["id"], york["id"]);

        // Each change's own cursor resumes right after it.
        let (from_first, _) = follow(
            server,
            Some(&server.admin_token),
            Some(seen[0]["cursor"].as_str().unwrap()),
            "",
        );
        assert_eq!(from_first[0]["cursor"], seen[1]["cursor"]);

        // A filter by collection.
        let (users_only, _) = follow(server, Some(&server.admin_token), None, "&entity=users");
        assert!(!users_only.is_empty());
        assert!(users_only.iter().all(|change| change["entity"] == "users"));
    });
}

/// A reader that follows the documented rule to the letter: a change whose version it already
/// holds (or a later one) is skipped; otherwise a delete forgets the record and anything else
/// keeps its state.
#[derive(Default)]
struct LiteralReader {
    versions: std::collections::HashMap<String, i64>,
    records: std::collections::HashMap<String, Value>,
}

impl LiteralReader {
    fn apply(&mut self, change: &Value) {
        let id = change["id"].as_str().unwrap().to_owned();
        let version = change["version"].as_i64().unwrap();
        if self.versions.get(&id).is_some_and(|held| *held >= version) {
            return;
        }
        self.versions.insert(id.clone(), version);
        if change["operation"] == "delete" {
            self.records.remove(&id);
        } else {
            self.records.insert(id, change["state"].clone());
        }
    }
}

#[test]
fn a_reader_that_skips_versions_it_holds_still_sees_every_delete() {
    for_each_backend(|server| {
        let start = ok(server.get("/api/v1/changes/latest"))["cursor"]
            .as_str()
            .unwrap()
            .to_owned();
        let path = "/api/v1/organisations/by-external-id/crm/LEEDS-1";
        let put = |body: &Value| {
            server.send(
                "PUT",
                path,
                &[
                    ("content-type", "application/json"),
                    ("authorization", &format!("Bearer {}", server.admin_token)),
                ],
                Some(body.to_string().as_bytes()),
            )
        };
        let first = put(&local_authority("Leeds City Council"));
        assert_eq!(first.status, 201, "{}", first.text());
        let first = first.json();
        let first_path = format!("/api/v1/organisations/{}", id(&first));

        let mut reader = LiteralReader::default();
        let (changes, cursor) = follow(server, Some(&server.admin_token), Some(&start), "");
        changes.iter().for_each(|change| reader.apply(change));
        assert_eq!(reader.records.get(&id(&first)), Some(&first));

        let renamed = ok(server.patch_json(&first_path, &json!({"name": "Leeds CC"}), None));
        let deleted = server.delete_as(&first_path, &server.admin_token, &[]);
        assert_eq!(deleted.status, 204, "{}", deleted.text());
        let (changes, cursor) = follow(server, Some(&server.admin_token), Some(&cursor), "");
        let versions: Vec<(String, i64)> = of_entity(&changes, "organisations", &id(&first))
            .iter()
            .map(|c| {
                (
                    c["operation"].as_str().unwrap().to_owned(),
                    c["version"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            versions,
            [("update".to_owned(), 2), ("delete".to_owned(), 3)],
            "{renamed}"
        );
        changes.iter().for_each(|change| reader.apply(change));
        assert!(
            !reader.records.contains_key(&id(&first)),
            "the reader skipped the delete"
        );

        // Re-created through the same external id: a new record, which the reader gains.
        let again = put(&local_authority("Leeds City Council"));
        assert_eq!(again.status, 201, "{}", again.text());
        let again = again.json();
        assert_ne!(again["id"], first["id"]);
        // Delivery is at least once: reading everything again from the start changes nothing.
        let (everything, _) = follow(server, Some(&server.admin_token), Some(&start), "");
        let (changes, _) = follow(server, Some(&server.admin_token), Some(&cursor), "");
        changes.iter().for_each(|change| reader.apply(change));
        everything.iter().for_each(|change| reader.apply(change));
        assert!(
            !reader.records.contains_key(&id(&first)),
            "a replayed feed revived a deleted record"
        );
        let current = ok(server.get_as(
            &format!("/api/v1/organisations/{}", id(&again)),
            &server.admin_token,
        ));
        assert_eq!(reader.records.get(&id(&again)), Some(&current));
    });
}

#[test]
fn bad_cursors_limits_and_collections_are_client_errors() {
    for_each_backend(|server| {
        for (query, parameter) in [
            ("cursor=abc", "cursor"),
            ("cursor=1-2-3", "cursor"),
            ("cursor=-1-5", "cursor"),
            ("limit=0", "limit"),
            ("limit=ten", "limit"),
            ("entity=widgets", "entity"),
            ("entity=awards,", "entity"),
            ("since=2020-01-01", "since"),
        ] {
            let reply = server.get_as(&format!("/api/v1/changes?{query}"), &server.admin_token);
            let problem = reply.assert_problem(400, "invalid_query");
            assert_eq!(problem["errors"][0]["parameter"], parameter, "{query}");
        }
        // A huge limit is capped, not refused.
        ok(server.get_as("/api/v1/changes?limit=1000000", &server.admin_token));
    });
}

#[test]
fn the_feed_gives_each_reader_only_what_it_may_read() {
    for_each_backend(|server| {
        let world = world(server, 2);
        let (supplier_org, supplier) = world.suppliers[0].clone();
        let (_, other_supplier) = world.suppliers[1].clone();
        let challenge = created(server.send_json(
            "POST",
            "/api/v1/challenges",
            &leeds_challenge(&world),
            Some(&world.leeds_officer),
        ));
        let challenge_path = format!("/api/v1/challenges/{}", id(&challenge));
        let draft_phase = created(server.send_json(
            "POST",
            &format!("{challenge_path}/phases"),
            &phase(1, "2019-08-01", 10_000_000, 5_000_000),
            Some(&world.leeds_officer),
        ));

        // A draft and its phase: Leeds and programme staff see them, nobody else.
        let sees = |token: Option<&str>, entity: &str, entity_id: &str| {
            let (changes, _) = follow(server, token, None, "");
            !of_entity(&changes, entity, entity_id).is_empty()
        };
        for (who, token, expected) in [
            ("leeds officer", Some(world.leeds_officer.as_str()), true),
            ("programme manager", Some(world.manager.as_str()), true),
            ("york officer", Some(world.york_officer.as_str()), false),
            ("a supplier", Some(supplier.as_str()), false),
            ("anonymous", None, false),
        ] {
            assert_eq!(
                sees(token, "challenges", &id(&challenge)),
                expected,
                "{who} and the draft challenge"
            );
            assert_eq!(
                sees(token, "phases", &id(&draft_phase)),
                expected,
                "{who} and the draft's phase"
            );
        }

        // Published: everyone gets the challenge, and its phase too (announced again).
        let start = ok(server.get("/api/v1/changes/latest"))["cursor"]
            .as_str()
            .unwrap()
            .to_owned();
        ok(transition(
            server,
            &challenge_path,
            "open",
            &world.leeds_officer,
        ));
        let (public, _) = follow(server, None, Some(&start), "");
        let phase_changes = of_entity(&public, "phases", &id(&draft_phase));
        assert_eq!(phase_changes.len(), 1, "{public:?}");
        assert_eq!(phase_changes[0]["state"], draft_phase);
        assert_eq!(of_entity(&public, "challenges", &id(&challenge)).len(), 1);

        // An application: its supplier, the owner and staff; not another supplier, not the public.
        let phase_path = format!("/api/v1/phases/{}", id(&draft_phase));
        ok(transition(
            server,
            &phase_path,
            "open",
            &world.leeds_officer,
        ));
        let application = created(server.send_json(
            "POST",
            &format!("{phase_path}/applications"),
            &json!({"supplier_organisation_id": supplier_org, "amount_requested": {"amount": 5_000_000, "currency": "GBP"}, "summary": "Sensors"}),
            Some(&supplier),
        ));
        for (who, token, expected) in [
            ("its supplier", Some(supplier.as_str()), true),
            ("leeds officer", Some(world.leeds_officer.as_str()), true),
            ("programme manager", Some(world.manager.as_str()), true),
            ("another supplier", Some(other_supplier.as_str()), false),
            ("york officer", Some(world.york_officer.as_str()), false),
            ("anonymous", None, false),
        ] {
            assert_eq!(
                sees(token, "applications", &id(&application)),
                expected,
                "{who} and the application"
            );
        }

        // People and credentials: admins only.
        let (manager_view, _) = follow(server, Some(&world.manager), None, "");
        assert!(manager_view
            .iter()
            .all(|change| change["entity"] != "users"));
        let (admin_view, _) = follow(server, Some(&server.admin_token), None, "&entity=users");
        assert!(
            admin_view.len() >= 5,
            "the admin sees every user: {}",
            admin_view.len()
        );
        // A filter never widens what is seen.
        let (supplier_apps, _) = follow(
            server,
            Some(&other_supplier),
            None,
            "&entity=applications,users",
        );
        assert_eq!(supplier_apps, Vec::<Value>::new());
    });
}

#[test]
fn a_trial_made_private_is_withdrawn_from_the_public_feed() {
    for_each_backend(|server| {
        let world = world(server, 1);
        let trial = created(server.send_json(
            "POST",
            "/api/v1/trials",
            &json!({"host_organisation_id": world.leeds, "title": "Damp sensors in 300 homes", "public": true}),
            Some(&world.leeds_officer),
        ));
        let trial_path = format!("/api/v1/trials/{}", id(&trial));
        let outcome = created(server.send_json(
            "POST",
            &format!("{trial_path}/outcomes"),
            &json!({"kind": "key_finding", "metric": "Homes with damp found early"}),
            Some(&world.leeds_officer),
        ));
        let (public, cursor) = follow(server, None, None, "");
        assert_eq!(of_entity(&public, "outcomes", &id(&outcome)).len(), 1);

        let bearer = format!("Bearer {}", world.leeds_officer);
        let made_private = server.send(
            "PATCH",
            &trial_path,
            &[
                ("authorization", &bearer),
                ("content-type", "application/merge-patch+json"),
            ],
            Some(json!({"public": false}).to_string().as_bytes()),
        );
        assert_eq!(made_private.status, 200, "{}", made_private.text());
        let (withdrawn, _) = follow(server, None, Some(&cursor), "");
        let operations: Vec<(&str, &str)> = withdrawn
            .iter()
            .map(|c| {
                (
                    c["entity"].as_str().unwrap(),
                    c["operation"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(operations, [("trials", "delete"), ("outcomes", "delete")]);
        // Leeds still sees the trial: the tombstone, then the trial as it is now.
        let (leeds_view, _) = follow(server, Some(&world.leeds_officer), Some(&cursor), "");
        let last_trial = of_entity(&leeds_view, "trials", &id(&trial))
            .last()
            .cloned()
            .unwrap();
        assert_eq!(last_trial["operation"], "update");
        assert_eq!(last_trial["state"]["public"], false);
        assert_eq!(
            of_entity(&leeds_view, "outcomes", &id(&outcome))
                .last()
                .unwrap()["operation"],
            "update"
        );
    });
}

#[test]
fn two_servers_writing_at_once_while_a_reader_follows_lose_no_change() {
    for_each_backend(|server| {
        let replica = server.replica();
        let writers_done = std::sync::atomic::AtomicBool::new(false);
        let written: Vec<String> = std::thread::scope(|scope| {
            let reader = scope.spawn(|| {
                let mut seen = HashSet::new();
                let mut cursor: Option<String> = None;
                let mut quiet_after_done = 0;
                while quiet_after_done < 2 {
                    let done = writers_done.load(std::sync::atomic::Ordering::SeqCst);
                    let (changes, next) = follow(
                        server,
                        Some(&server.admin_token),
                        cursor.as_deref(),
                        "&entity=organisations",
                    );
                    for change in &changes {
                        seen.insert(change["id"].as_str().unwrap().to_owned());
                    }
                    cursor = Some(next);
                    if done {
                        quiet_after_done += 1;
                    }
                }
                seen
            });
            let writers: Vec<_> = [server, &replica]
                .into_iter()
                .enumerate()
                .map(|(writer, target)| {
                    scope.spawn(move || {
                        (0..25)
                            .map(|index| {
                                let body = local_authority(&format!("Council {writer}-{index}"));
                                id(&created(target.post_json("/api/v1/organisations", &body)))
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            let written: Vec<String> = writers
                .into_iter()
                .flat_map(|w| w.join().unwrap())
                .collect();
            writers_done.store(true, std::sync::atomic::Ordering::SeqCst);
            let seen = reader.join().unwrap();
            for organisation in &written {
                assert!(
                    seen.contains(organisation),
                    "the reader missed {organisation}"
                );
            }
            written
        });
        assert_eq!(written.len(), 50);
    });
}

#[test]
fn a_cursor_older_than_the_kept_history_is_gone() {
    for_each_backend(|server| {
        created(server.post_json(
            "/api/v1/organisations",
            &local_authority("Leeds City Council"),
        ));
        let (changes, _) = follow(server, Some(&server.admin_token), None, "");
        let oldest = changes[0]["cursor"].as_str().unwrap().to_owned();
        // A server that keeps no history prunes everything at start.
        let pruning = server.replica_with(&[("CATALYST_CHANGE_RETENTION_DAYS", "0")]);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let gone = loop {
            let reply = pruning.get_as(
                &format!("/api/v1/changes?cursor={oldest}"),
                &server.admin_token,
            );
            if reply.status != 200 || std::time::Instant::now() > deadline {
                break reply;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        };
        let problem = gone.assert_problem(410, "gone");
        assert!(problem["detail"]
            .as_str()
            .unwrap()
            .contains("/changes/latest"));
        // Starting afresh works: from the oldest kept, or from the latest position.
        ok(pruning.get_as("/api/v1/changes", &server.admin_token));
        let latest = ok(pruning.get("/api/v1/changes/latest"))["cursor"]
            .as_str()
            .unwrap()
            .to_owned();
        ok(pruning.get_as(
            &format!("/api/v1/changes?cursor={latest}"),
            &server.admin_token,
        ));
    });
}

/// A transaction that took its place in the feed first but commits last must still be read:
/// a reader that followed the sequence alone would have stepped past it.
#[test]
fn a_change_committed_late_by_an_earlier_transaction_is_not_missed() {
    let Some(database) = catalyst_persistence::testing::TestDatabase::for_each_backend()
        .into_iter()
        .find(|database| database.backend() == catalyst_persistence::Backend::Postgres)
    else {
        eprintln!("skipped: TEST_DATABASE_URL is not set");
        return;
    };
    let server = TestServer::start(database, &[]);
    let (_, caught_up) = follow(&server, Some(&server.admin_token), None, "");

    // T1 writes its change and stays open.
    let mut t1 =
        catalyst_persistence::database::ConnectionManager::new(server.database().url().clone())
            .connect()
            .unwrap();
    use diesel::connection::SimpleConnection;
    t1.batch_execute("BEGIN").unwrap();
    catalyst_persistence::changes::record(
        &mut t1,
        &catalyst_persistence::changes::NewChange {
            entity: "organisations",
            entity_id: "written-by-t1",
            operation: catalyst_persistence::changes::Operation::Create,
            version: 1,
            state: Some("{}"),
            audience: catalyst_domain::Audience::Public,
            occurred_at: catalyst_domain::Timestamp::now(),
        },
    )
    .unwrap();

    // T2 commits meanwhile; the reader reads while T1 is open.
    let t2 = created(server.post_json(
        "/api/v1/organisations",
        &local_authority("Leeds City Council"),
    ));
    let (while_open, cursor) = read_feed(&server, Some(&server.admin_token), Some(&caught_up), "");
    assert!(while_open
        .iter()
        .all(|change| change["id"] != "written-by-t1"));

    t1.batch_execute("COMMIT").unwrap();
    let (after_commit, _) = follow(&server, Some(&server.admin_token), Some(&cursor), "");
    let ids: Vec<&str> = while_open
        .iter()
        .chain(&after_commit)
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"written-by-t1"),
        "T1's change was missed: {ids:?}"
    );
    assert!(
        ids.contains(&id(&t2).as_str()),
        "T2's change was missed: {ids:?}"
    );
}
