//! Bulk imports (`POST /api/v1/imports`, `catalyst import`): row-by-row results with line
//! numbers, all-or-nothing or partial, NDJSON and CSV, a server killed mid-import. On each
//! backend.

use crate::common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use catalyst_persistence::testing::TestDatabase;
use common::sbri::ok;
use common::{for_each_backend, TestServer};
use serde_json::{json, Value};

pub(super) fn upload(
    server: &TestServer,
    token: Option<&str>,
    query: &str,
    content_type: &str,
    body: &str,
) -> common::Reply {
    let bearer = token.map(|token| format!("Bearer {token}"));
    let mut headers = vec![("content-type", content_type)];
    if let Some(bearer) = &bearer {
        headers.push(("authorization", bearer.as_str()));
    }
    server.send(
        "POST",
        &format!("/api/v1/imports?{query}"),
        &headers,
        Some(body.as_bytes()),
    )
}

/// Waits for the import at `location` to end and returns it.
pub(super) fn finished(server: &TestServer, location: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let import = ok(server.get_as(location, &server.admin_token));
        if import["status"] == "succeeded" || import["status"] == "failed" {
            return import;
        }
        assert!(
            Instant::now() < deadline,
            "the import did not end: {import}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub(super) fn results(server: &TestServer, location: &str, query: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut path = format!("{location}/results?limit=500{query}");
    loop {
        let page = ok(server.get_as(&path, &server.admin_token));
        all.extend(page["data"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("{location}/results?limit=500{query}&cursor={cursor}"),
            None => return all,
        }
    }
}

/// An NDJSON file imported by the admin: the job's location, and the job once it has ended.
pub(super) fn imported(server: &TestServer, query: &str, file: &str) -> (String, Value) {
    let reply = upload(
        server,
        Some(&server.admin_token),
        query,
        "application/x-ndjson",
        file,
    );
    assert_eq!(reply.status, 202, "{}", reply.text());
    let location = reply.header("location").unwrap().to_owned();
    let import = finished(server, &location);
    (location, import)
}

pub(super) fn organisation_count(server: &TestServer) -> usize {
    server.get("/api/v1/organisations?limit=500").json()["data"]
        .as_array()
        .unwrap()
        .len()
}

pub(super) fn ndjson(rows: &[Value]) -> String {
    rows.iter().map(|row| format!("{row}\n")).collect()
}

pub(super) fn council(index: usize) -> Value {
    json!({"name": format!("Council {index}"), "kind": "local_authority", "region": "london",
           "external_ids": [{"source": "crm", "id": format!("C{index}")}]})
}

#[test]
fn an_import_reports_every_row_and_writes_all_or_nothing() {
    for_each_backend(|server| {
        let mut rows: Vec<Value> = (1..=5).map(council).collect();
        rows[2]["kind"] = json!("castle");
        let mut file = ndjson(&rows);
        file.push_str("{not json\n");

        let reply = upload(
            server,
            Some(&server.admin_token),
            "collection=organisations",
            "application/x-ndjson",
            &file,
        );
        assert_eq!(reply.status, 202, "{}", reply.text());
        let location = reply.header("location").unwrap().to_owned();
        let import = finished(server, &location);
        assert_eq!(import["status"], "failed");
        assert_eq!(import["rows_processed"], 6);
        assert_eq!(import["rows_rejected"], 2);
        assert!(import["error"]
            .as_str()
            .unwrap()
            .contains("nothing was imported"));
        let rejected = results(server, &location, "&outcome=rejected");
        let lines: Vec<i64> = rejected
            .iter()
            .map(|r| r["line"].as_i64().unwrap())
            .collect();
        assert_eq!(lines, [3, 6]);
        assert_eq!(rejected[0]["errors"][0]["pointer"], "#/kind");
        assert_eq!(rejected[1]["errors"][0]["code"], "malformed_json");
        assert_eq!(organisation_count(server), 0, "all or nothing: nothing");

        // Partial: the good rows go in, the bad ones are reported.
        let reply = upload(
            server,
            Some(&server.admin_token),
            "collection=organisations&mode=partial",
            "application/x-ndjson",
            &file,
        );
        let location = reply.header("location").unwrap().to_owned();
        let import = finished(server, &location);
        assert_eq!(import["status"], "succeeded", "{import}");
        assert_eq!(
            (
                import["rows_created"].as_i64(),
                import["rows_rejected"].as_i64()
            ),
            (Some(4), Some(2))
        );
        let all = results(server, &location, "");
        let outcomes: Vec<(i64, &str)> = all
            .iter()
            .map(|r| (r["line"].as_i64().unwrap(), r["outcome"].as_str().unwrap()))
            .collect();
        assert_eq!(
            outcomes,
            [
                (1, "created"),
                (2, "created"),
                (3, "rejected"),
                (4, "created"),
                (5, "created"),
                (6, "rejected")
            ]
        );
        let created = ok(server.get(&format!(
            "/api/v1/organisations/{}",
            all[0]["id"].as_str().unwrap()
        )));
        assert_eq!(
            created["external_ids"],
            json!([{"source": "crm", "id": "C1"}])
        );

        // Again, fixed, all or nothing: rows with known keys update or stay; the fixed row is new.
        rows[2]["kind"] = json!("local_authority");
        rows[0]["name"] = json!("Council One");
        let reply = upload(
            server,
            Some(&server.admin_token),
            "collection=organisations",
            "application/x-ndjson",
            &ndjson(&rows),
        );
        let import = finished(server, reply.header("location").unwrap());
        assert_eq!(import["status"], "succeeded", "{import}");
        assert_eq!(
            (
                import["rows_created"].as_i64(),
                import["rows_updated"].as_i64(),
                import["rows_unchanged"].as_i64()
            ),
            (Some(1), Some(1), Some(3))
        );
        assert_eq!(organisation_count(server), 5);
    });
}

#[test]
fn csv_imports_map_columns_and_quoted_fields() {
    for_each_backend(|server| {
        let file = "name,kind,scale,region,identifier_scheme,identifier_id,website,external_source,external_id\r\n\
                    \"HomeLINK, Ltd\",sme,small,london,GB-COH,08365849,,crm,S1\r\n\
                    \"Sensors \"\"R\"\" Us\",sme,micro,,,,,crm,S2\r\n\
                    \"Two\nLines\",sme,micro,,,,,crm,S3\r\n\
                    Bad,sme,,,,,,crm,S4\r\n";
        let reply = upload(
            server,
            Some(&server.admin_token),
            "collection=organisations&mode=partial",
            "text/csv",
            file,
        );
        let location = reply.header("location").unwrap().to_owned();
        let import = finished(server, &location);
        assert_eq!(import["format"], "csv");
        let all = results(server, &location, "");
        let outcomes: Vec<(i64, &str)> = all
            .iter()
            .map(|r| (r["line"].as_i64().unwrap(), r["outcome"].as_str().unwrap()))
            .collect();
        // The third record spans lines 4 and 5 (a name is one line: rejected); the SME without
        // a scale is line 6.
        assert_eq!(
            outcomes,
            [
                (2, "created"),
                (3, "created"),
                (4, "rejected"),
                (6, "rejected")
            ]
        );
        assert_eq!(all[2]["errors"][0]["pointer"], "#/name");
        assert_eq!(all[3]["errors"][0]["pointer"], "#/scale");
        let homelink = ok(server.get(&format!(
            "/api/v1/organisations/{}",
            all[0]["id"].as_str().unwrap()
        )));
        assert_eq!(homelink["name"], "HomeLINK, Ltd");
        assert_eq!(
            homelink["identifier"],
            json!({"scheme": "GB-COH", "id": "08365849"})
        );
        let second = ok(server.get(&format!(
            "/api/v1/organisations/{}",
            all[1]["id"].as_str().unwrap()
        )));
        assert_eq!(second["name"], "Sensors \"R\" Us");

        let reply = upload(
            server,
            Some(&server.admin_token),
            "collection=organisations",
            "text/csv",
            "name,colour\r\nx,red\r\n",
        );
        let import = finished(server, reply.header("location").unwrap());
        assert_eq!(import["status"], "failed");
        assert!(
            import["error"].as_str().unwrap().contains("colour"),
            "{import}"
        );
    });
}

#[test]
fn imports_are_refused_to_those_who_may_not_create_and_kept_to_their_owners() {
    for_each_backend(|server| {
        let file = ndjson(&[council(1)]);
        upload(
            server,
            None,
            "collection=organisations",
            "application/x-ndjson",
            &file,
        )
        .assert_problem(401, "unauthenticated");
        upload(
            server,
            Some(&server.admin_token),
            "",
            "application/x-ndjson",
            &file,
        )
        .assert_problem(400, "invalid_query");
        let unknown = upload(
            server,
            Some(&server.admin_token),
            "collection=trials",
            "application/x-ndjson",
            &file,
        )
        .assert_problem(400, "invalid_query");
        assert_eq!(unknown["errors"][0]["code"], "unknown_collection");
        assert_eq!(
            unknown["errors"][0]["detail"],
            "\"trials\" cannot be imported; importable: organisations, challenges, applications, awards, payments"
        );
        upload(
            server,
            Some(&server.admin_token),
            "collection=organisations&mode=some",
            "application/x-ndjson",
            &file,
        )
        .assert_problem(400, "invalid_query");
        upload(
            server,
            Some(&server.admin_token),
            "collection=organisations",
            "application/xml",
            &file,
        )
        .assert_problem(415, "unsupported_media_type");
        let sme = ok(server.get("/api/v1/organisations"));
        assert_eq!(sme["data"], json!([]));
        let leeds = server
            .post_json(
                "/api/v1/organisations",
                &json!({"name": "Leeds City Council", "kind": "local_authority"}),
            )
            .json();
        let (_, officer) = server.user(
            "officer@leeds.test",
            "authority_officer",
            &[leeds["id"].as_str().unwrap()],
        );
        upload(
            server,
            Some(&officer),
            "collection=organisations",
            "application/x-ndjson",
            &file,
        )
        .assert_problem(403, "forbidden");

        let (_, manager) = server.user("pm@catalyst.test", "programme_manager", &[]);
        let reply = upload(
            server,
            Some(&manager),
            "collection=organisations",
            "application/x-ndjson",
            &file,
        );
        assert_eq!(reply.status, 202, "{}", reply.text());
        let location = reply.header("location").unwrap().to_owned();
        ok(server.get_as(&location, &manager));
        server
            .get_as(&location, &officer)
            .assert_problem(404, "not_found");
        server
            .get_as(&format!("{location}/results"), &officer)
            .assert_problem(404, "not_found");
        server
            .get_as(&format!("{location}/results?outcome=maybe"), &manager)
            .assert_problem(400, "invalid_query");
        assert_eq!(finished(server, &location)["status"], "succeeded");

        // Each lists its own imports; the admin lists all.
        let mine = ok(server.get_as("/api/v1/imports", &manager));
        assert_eq!(mine["data"].as_array().unwrap().len(), 1);
        assert_eq!(
            ok(server.get_as("/api/v1/imports", &officer))["data"],
            json!([])
        );
        assert_eq!(
            ok(server.get_as("/api/v1/imports", &server.admin_token))["data"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        server
            .get("/api/v1/imports")
            .assert_problem(401, "unauthenticated");
        server
            .get_as("/api/v1/imports?cursor=zzz", &manager)
            .assert_problem(400, "invalid_query");
    });
}

#[test]
fn the_cli_imports_a_file_with_a_progress_bar() {
    for_each_backend(|server| {
        let folder = std::env::temp_dir().join(format!("catalyst-import-{}", std::process::id()));
        std::fs::create_dir_all(&folder).unwrap();
        let path = folder.join(format!("councils-{}.ndjson", server.backend));
        let mut rows: Vec<Value> = (1..=1200).map(council).collect();
        rows[999]["kind"] = json!("castle");
        std::fs::write(&path, ndjson(&rows)).unwrap();
        let output = std::process::Command::new(common::BINARY)
            .args(["import", path.to_str().unwrap(), "--mode", "partial"])
            .env("DATABASE_URL", server.database().url_text())
            .env("CATALYST_LOG", "warn")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        assert!(
            stdout.contains(
                "succeeded (1200 rows: 1199 created, 0 updated, 0 unchanged, 1 rejected)"
            ),
            "{stdout}"
        );
        // Not a terminal: a plain line when another tenth of the way is done, none twice, and
        // no carriage returns or escape codes for a log file to keep.
        let progress: Vec<&str> = stderr
            .lines()
            .filter(|line| line.contains(" rows ("))
            .collect();
        let distinct: HashSet<&str> = progress.iter().copied().collect();
        assert_eq!(distinct.len(), progress.len(), "{stderr}");
        assert_eq!(
            progress.last().copied(),
            Some("1200/1200 rows (100%): 1199 created, 0 updated, 1 rejected"),
            "{stderr}"
        );
        assert!(
            !stderr.contains('\r') && !stderr.contains('\u{1b}'),
            "{stderr:?}"
        );
        // A rejected row names its line and member, as a person reads it.
        assert!(
            stderr
                .lines()
                .any(|line| line.starts_with("line 1000: /kind: ")),
            "{stderr}"
        );
        assert!(
            !stdout.contains("rows ("),
            "progress stays off standard output: {stdout}"
        );

        // All or nothing with a bad row fails, and says so by its exit status.
        let output = std::process::Command::new(common::BINARY)
            .args(["import", path.to_str().unwrap()])
            .env("DATABASE_URL", server.database().url_text())
            .env("CATALYST_LOG", "warn")
            .output()
            .unwrap();
        assert!(!output.status.success());
        assert!(String::from_utf8_lossy(&output.stderr).contains("nothing was imported"));
    });
}

/// An all-or-nothing import writes in one transaction: a server killed while it writes leaves
/// none of it behind.
#[test]
fn a_server_killed_during_an_all_or_nothing_import_leaves_nothing() {
    for database in TestDatabase::for_each_backend() {
        let mut server = TestServer::start(database, &[]);
        let rows: Vec<Value> = (1..=20_000).map(council).collect();
        let reply = upload(
            &server,
            Some(&server.admin_token),
            "collection=organisations",
            "application/x-ndjson",
            &ndjson(&rows),
        );
        let location = reply.header("location").unwrap().to_owned();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let import = ok(server.get_as(&location, &server.admin_token));
            if import["status"] == "applying" {
                break;
            }
            assert_ne!(
                import["status"], "succeeded",
                "the import ended before the server could be killed"
            );
            assert!(Instant::now() < deadline, "{import}");
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(200));
        server.kill();
        let replica = server.replica();
        let import = ok(replica.get_as(&location, &server.admin_token));
        assert_ne!(import["status"], "succeeded", "{import}");
        assert_eq!(
            organisation_count(&replica),
            0,
            "half an import was left behind"
        );
    }
}

#[test]
fn challenges_import_as_drafts_each_row_checked_against_its_owner() {
    for_each_backend(|server| {
        let world = common::sbri::world(server, 1);
        let row = |n: usize, owner: &str| {
            json!({"programme_id": world.programme, "owner_organisation_id": owner,
                   "reference": format!("REF-{n}"), "title": format!("Challenge {n}"),
                   "problem_statement": "How might we find damp before tenants suffer?",
                   "external_ids": [{"source": "crm", "id": format!("CH{n}")}]})
        };
        let file = ndjson(&[
            row(1, &world.leeds),
            row(2, &world.york),
            row(3, &world.leeds),
        ]);
        let reply = upload(
            server,
            Some(&world.leeds_officer),
            "collection=challenges&mode=partial",
            "application/x-ndjson",
            &file,
        );
        assert_eq!(reply.status, 202, "{}", reply.text());
        let location = reply.header("location").unwrap().to_owned();
        let import = finished(server, &location);
        assert_eq!(import["status"], "succeeded", "{import}");
        let all = results(server, &location, "");
        let outcomes: Vec<(i64, &str)> = all
            .iter()
            .map(|r| (r["line"].as_i64().unwrap(), r["outcome"].as_str().unwrap()))
            .collect();
        assert_eq!(outcomes, [(1, "created"), (2, "rejected"), (3, "created")]);
        assert_eq!(all[1]["errors"][0]["code"], "forbidden");
        let first = ok(server.get_as(
            &format!("/api/v1/challenges/{}", all[0]["id"].as_str().unwrap()),
            &world.leeds_officer,
        ));
        assert_eq!(first["status"], "draft");
        assert_eq!(
            first["external_ids"],
            json!([{"source": "crm", "id": "CH1"}])
        );

        // CSV, with themes in one cell; a known key updates the challenge it names.
        let csv = format!(
            "programme_id,owner_organisation_id,reference,title,problem_statement,themes,external_source,external_id\r\n\
             {},{},REF-1,Challenge one,How might we find damp before tenants suffer?,Housing; IoT,crm,CH1\r\n",
            world.programme, world.leeds
        );
        let reply = upload(
            server,
            Some(&world.leeds_officer),
            "collection=challenges",
            "text/csv",
            &csv,
        );
        let import = finished(server, reply.header("location").unwrap());
        assert_eq!(import["status"], "succeeded", "{import}");
        assert_eq!(import["rows_updated"], 1);
        let first = ok(server.get_as(
            &format!("/api/v1/challenges/{}", all[0]["id"].as_str().unwrap()),
            &world.leeds_officer,
        ));
        assert_eq!(first["title"], "Challenge one");
        assert_eq!(first["themes"].as_array().unwrap().len(), 2);

        let (_, supplier) = world.suppliers[0].clone();
        upload(
            server,
            Some(&supplier),
            "collection=challenges",
            "application/x-ndjson",
            &file,
        )
        .assert_problem(403, "forbidden");
    });
}

#[test]
fn an_upload_with_an_idempotency_key_is_one_job_however_often_it_is_sent() {
    for_each_backend(|server| {
        let bearer = format!("Bearer {}", server.admin_token);
        let send = |key: &str, file: &str| {
            server.send(
                "POST",
                "/api/v1/imports?collection=organisations&mode=partial",
                &[
                    ("authorization", &bearer),
                    ("content-type", "application/x-ndjson"),
                    ("idempotency-key", key),
                ],
                Some(file.as_bytes()),
            )
        };
        let file = ndjson(&[council(1), council(2)]);
        let first = send("councils-1", &file);
        assert_eq!(first.status, 202, "{}", first.text());
        let again = send("councils-1", &file);
        assert_eq!(again.status, 202, "{}", again.text());
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
        assert_eq!(again.header("location"), first.header("location"));
        assert_eq!(again.json()["id"], first.json()["id"]);
        // The same key with another file is refused, and leaves no job behind.
        send("councils-1", &ndjson(&[council(3)])).assert_problem(422, "invalid_body");

        // Sent at once from four clients: one job.
        let file = ndjson(&[council(4)]);
        let replies: Vec<common::Reply> = std::thread::scope(|scope| {
            let runs: Vec<_> = (0..4)
                .map(|_| scope.spawn(|| send("councils-2", &file)))
                .collect();
            runs.into_iter().map(|run| run.join().unwrap()).collect()
        });
        let ids: std::collections::BTreeSet<String> = replies
            .iter()
            .filter(|reply| reply.status == 202)
            .map(|reply| reply.json()["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(ids.len(), 1, "{replies:?}");
        assert!(
            replies.iter().all(|r| r.status == 202 || r.status == 409),
            "{replies:?}"
        );

        let jobs = ok(server.get_as("/api/v1/imports?limit=100", &server.admin_token));
        assert_eq!(jobs["data"].as_array().unwrap().len(), 2, "{jobs}");
        finished(server, first.header("location").unwrap());
        let only = ids.iter().next().unwrap();
        finished(server, &format!("/api/v1/imports/{only}"));
        assert_eq!(organisation_count(server), 3);
    });
}

#[test]
fn a_large_upload_streams_through_with_or_without_an_idempotency_key() {
    for_each_backend(|server| {
        // An upload larger than the JSON body limit streams through, Idempotency-Key or not.
        let big: Vec<Value> = (1..=10_000).map(council).collect();
        let bearer = format!("Bearer {}", server.admin_token);
        let big_file = ndjson(&big);
        assert!(big_file.len() > 1_048_576);
        let reply = server.send(
            "POST",
            "/api/v1/imports?collection=organisations&mode=partial",
            &[
                ("authorization", &bearer),
                ("content-type", "application/x-ndjson"),
                ("idempotency-key", "big-upload-1"),
            ],
            Some(big_file.as_bytes()),
        );
        assert_eq!(reply.status, 202, "{}", reply.text());
        let big_import = finished(server, reply.header("location").unwrap());
        assert_eq!(big_import["rows_created"], 10_000);
        assert_eq!(
            big_import["bytes"].as_u64().unwrap() as usize,
            big_file.len()
        );
        let again = server.send(
            "POST",
            "/api/v1/imports?collection=organisations&mode=partial",
            &[
                ("authorization", &bearer),
                ("content-type", "application/x-ndjson"),
            ],
            Some(big_file.as_bytes()),
        );
        assert_eq!(
            finished(server, again.header("location").unwrap())["rows_unchanged"],
            10_000
        );
    });
}

/// An import job says in the server's log when it starts and how it ended (rows, rejections,
/// duration), a failed one at warning level with the reason: an operator sees imports without
/// polling them.
#[test]
fn an_import_job_logs_its_start_and_its_end() {
    for_each_backend(|server| {
        let rows = [
            council(1),
            json!({"name": "", "kind": "local_authority"}),
            council(2),
        ];
        let mut ids = Vec::new();
        for mode in ["partial", "all_or_nothing"] {
            let reply = upload(
                server,
                Some(&server.admin_token),
                &format!("collection=organisations&mode={mode}"),
                "application/x-ndjson",
                &ndjson(&rows),
            );
            assert_eq!(reply.status, 202, "{}", reply.text());
            let location = reply.header("location").unwrap().to_owned();
            let import = finished(server, &location);
            ids.push((mode, import["id"].as_str().unwrap().to_owned()));
        }
        let started = server.await_logged("import started", 2);
        let ended = server.await_logged("import finished", 2);
        for (mode, id) in &ids {
            let start = started
                .iter()
                .find(|line| line["import"] == id.as_str())
                .unwrap_or_else(|| panic!("no start line for {id}: {started:?}"));
            assert_eq!(start["collection"], "organisations");
            assert_eq!(start["mode"], *mode);
            assert_eq!(start["level"], "INFO", "{start}");
            let end = ended
                .iter()
                .find(|line| line["import"] == id.as_str())
                .unwrap_or_else(|| panic!("no end line for {id}: {ended:?}"));
            assert_eq!(end["rows"], 3, "{end}");
            assert_eq!(end["rejected"], 1, "{end}");
            assert!(end["duration_ms"].is_u64(), "{end}");
            if *mode == "partial" {
                assert_eq!(end["status"], "succeeded", "{end}");
                assert_eq!(end["created"], 2, "{end}");
                assert_eq!(end["level"], "INFO", "{end}");
            } else {
                assert_eq!(end["status"], "failed", "{end}");
                assert_eq!(end["level"], "WARN", "{end}");
                assert!(
                    end["reason"].as_str().unwrap().contains("rejected"),
                    "{end}"
                );
            }
        }
    });
}
