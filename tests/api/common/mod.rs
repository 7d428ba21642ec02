//! Black-box test harness: starts the real `catalyst` binary on a free port against a fresh
//! database, and talks to it over HTTP like any client would.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod receiver;
pub mod sbri;
pub mod secrets;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use catalyst_persistence::testing::TestDatabase;
use serde_json::Value;

pub const BINARY: &str = env!("CARGO_BIN_EXE_catalyst");

/// The signing secret test servers use, so tests can forge tokens that differ in one way only.
pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123456789";
pub const ADMIN_EMAIL: &str = "admin@catalyst.test";
pub const PASSWORD: &str = "correct horse battery staple";

/// A running server and the database it owns; both go away on drop.
pub struct TestServer {
    pub base_url: String,
    pub backend: String,
    child: Child,
    /// Every line the server logged (JSON), the newest last.
    log: ServerLog,
    agent: ureq::Agent,
    /// An admin's access token, made at start.
    pub admin_token: String,
    // Dropped after the child is killed (fields drop in order; Drop kills first). A replica
    // shares another server's database and owns none.
    database: Option<TestDatabase>,
    database_url: String,
    extra_env: Vec<(String, String)>,
}

/// Runs `test` against a server on each backend under test: SQLite always, PostgreSQL when
/// `TEST_DATABASE_URL` is set.
pub fn for_each_backend(test: impl Fn(&TestServer)) {
    for database in TestDatabase::for_each_backend() {
        let server = TestServer::start(database, &[]);
        test(&server);
    }
}

impl TestServer {
    /// Starts `catalyst serve` with `extra_env` on top of the test settings.
    pub fn start(database: TestDatabase, extra_env: &[(&str, &str)]) -> Self {
        secrets::note(PASSWORD);
        secrets::note(JWT_SECRET);
        let admin = Command::new(BINARY)
            .args([
                "user",
                "create",
                "--email",
                ADMIN_EMAIL,
                "--name",
                "Test Admin",
                "--role",
                "admin",
            ])
            .env("DATABASE_URL", database.url_text())
            .env("CATALYST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child
                    .stdin
                    .take()
                    .expect("stdin")
                    .write_all(format!("{PASSWORD}\n").as_bytes())?;
                child.wait_with_output()
            })
            .expect("run catalyst user create");
        assert!(
            admin.status.success(),
            "create the admin: {}",
            String::from_utf8_lossy(&admin.stderr)
        );
        let extra_env = extra_env
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        Self::serving(&database.url_text(), extra_env, Some(database))
    }

    /// A server on `database_url` with `extra_env`, signed in as the tests' admin; `database`
    /// is kept until the server goes, when there is one.
    fn serving(
        database_url: &str,
        extra_env: Vec<(String, String)>,
        database: Option<TestDatabase>,
    ) -> Self {
        let env: Vec<(&str, &str)> = extra_env
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        let (child, address, log) = spawn_server(database_url, &env);
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        let backend = if database_url.starts_with("postgres") {
            "postgres"
        } else {
            "sqlite"
        };
        let mut server = Self {
            base_url: format!("http://{address}"),
            backend: backend.to_owned(),
            child,
            log,
            agent,
            admin_token: String::new(),
            database,
            database_url: database_url.to_owned(),
            extra_env,
        };
        server.admin_token = server.token_for(ADMIN_EMAIL, PASSWORD);
        server
    }

    /// The server's log lines so far that are JSON objects with this `message`.
    pub fn logged(&self, message: &str) -> Vec<Value> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|entry| entry["message"] == message)
            .collect()
    }

    /// Waits (up to ten seconds) until the server has logged `message` `count` times; returns
    /// those lines.
    pub fn await_logged(&self, message: &str, count: usize) -> Vec<Value> {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let lines = self.logged(message);
            if lines.len() >= count || std::time::Instant::now() > deadline {
                return lines;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// An access token for a person, by the password grant.
    pub fn token_for(&self, email: &str, password: &str) -> String {
        let reply = self.send(
            "POST",
            "/api/v1/auth/token",
            &[("content-type", "application/x-www-form-urlencoded")],
            Some(
                serde_urlencoded_pairs(&[
                    ("grant_type", "password"),
                    ("username", email),
                    ("password", password),
                ])
                .as_bytes(),
            ),
        );
        assert_eq!(reply.status, 200, "sign in as {email}: {}", reply.text());
        reply.json()["access_token"].as_str().unwrap().to_owned()
    }

    /// Creates a user with `role`, acting for `organisations`, and returns (id, access token).
    pub fn user(&self, email: &str, role: &str, organisations: &[&str]) -> (String, String) {
        let reply = self.send_json(
            "POST",
            "/api/v1/users",
            &serde_json::json!({
                "email": email, "name": email, "role": role,
                "organisation_ids": organisations, "password": PASSWORD
            }),
            Some(&self.admin_token),
        );
        assert_eq!(reply.status, 201, "create user {email}: {}", reply.text());
        (
            reply.json()["id"].as_str().unwrap().to_owned(),
            self.token_for(email, PASSWORD),
        )
    }

    /// Makes an API client (as the admin) from `body` and returns an access token for it.
    pub fn api_client_token(&self, body: &Value) -> String {
        let client = self.post_json("/api/v1/api-clients", body);
        assert_eq!(
            client.status,
            201,
            "create an API client: {}",
            client.text()
        );
        let client = client.json();
        let reply = self.send(
            "POST",
            "/api/v1/auth/token",
            &[("content-type", "application/x-www-form-urlencoded")],
            Some(
                serde_urlencoded_pairs(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", client["id"].as_str().unwrap()),
                    ("client_secret", client["client_secret"].as_str().unwrap()),
                ])
                .as_bytes(),
            ),
        );
        assert_eq!(reply.status, 200, "client token: {}", reply.text());
        reply.json()["access_token"].as_str().unwrap().to_owned()
    }

    /// Runs the `catalyst` CLI with `args` against this server's database; returns stdout.
    pub fn cli(&self, args: &[&str]) -> String {
        let output = Command::new(BINARY)
            .args(args)
            .env("DATABASE_URL", &self.database_url)
            .env("CATALYST_LOG", "warn")
            .output()
            .expect("run the catalyst CLI");
        assert!(
            output.status.success(),
            "catalyst {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Sends JSON with `method`, as the holder of `token` (anonymously with `None`).
    pub fn send_json(&self, method: &str, path: &str, body: &Value, token: Option<&str>) -> Reply {
        let bearer = token.map(|token| format!("Bearer {token}"));
        let mut headers = vec![("content-type", "application/json")];
        if let Some(bearer) = &bearer {
            headers.push(("authorization", bearer.as_str()));
        }
        self.send(method, path, &headers, Some(body.to_string().as_bytes()))
    }

    /// GET as the holder of `token`.
    pub fn get_as(&self, path: &str, token: &str) -> Reply {
        let bearer = format!("Bearer {token}");
        self.send("GET", path, &[("authorization", bearer.as_str())], None)
    }

    /// GET as the admin with this `Accept`: a 200 that says it varies by `Accept`; its
    /// `Content-Type`.
    pub fn negotiated(&self, path: &str, accept: &str) -> String {
        let bearer = format!("Bearer {}", self.admin_token);
        let headers = [("authorization", bearer.as_str()), ("accept", accept)];
        let reply = self.send("GET", path, &headers, None);
        assert_eq!(reply.status, 200, "{path}, {accept}: {}", reply.text());
        assert!(
            reply.varies_by("Accept"),
            "{path}, {accept}: {:?}",
            reply.headers
        );
        reply.header("content-type").unwrap_or_default().to_owned()
    }

    /// DELETE as the holder of `token`, with extra headers.
    pub fn delete_as(&self, path: &str, token: &str, headers: &[(&str, &str)]) -> Reply {
        let bearer = format!("Bearer {token}");
        let mut all = vec![("authorization", bearer.as_str())];
        all.extend_from_slice(headers);
        self.send("DELETE", path, &all, None)
    }

    /// Kills the server process at once (SIGKILL), keeping its database.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends `signal` (`TERM`, `KILL`, ...) to the server process, as an operator would.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args(["-s", signal, &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -s {signal}");
    }

    /// Waits up to `within` for the process to exit; its exit status, or `None` if it did not.
    pub fn wait_for_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + within;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if std::time::Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn database(&self) -> &TestDatabase {
        self.database.as_ref().expect("a replica owns no database")
    }

    /// Another server process on the same database, with the same signing key: a second
    /// replica behind the same load balancer.
    pub fn replica(&self) -> TestServer {
        self.replica_with(&[])
    }

    /// A server on a database that has its data already (a fixture, a restored backup) and
    /// the tests' admin in it; `database` is kept until the server goes, when there is one.
    pub fn start_on_existing(database_url: &str, database: Option<TestDatabase>) -> Self {
        Self::serving(database_url, Vec::new(), database)
    }

    /// Another server, with this one's settings and admin token, on the database at
    /// `database_url` (a copy of this one's, say a restored backup).
    pub fn on_copy(&self, database_url: &str) -> TestServer {
        self.beside(database_url, &[])
    }

    /// [`Self::replica`] with `extra_env` on top of this server's settings.
    pub fn replica_with(&self, extra_env: &[(&str, &str)]) -> TestServer {
        self.beside(&self.database_url, extra_env)
    }

    /// Another server with this one's settings (and `extra_env`) and admin token, on
    /// `database_url`; it owns no database.
    fn beside(&self, database_url: &str, extra_env: &[(&str, &str)]) -> TestServer {
        let mut env: Vec<(&str, &str)> = self
            .extra_env
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        env.extend_from_slice(extra_env);
        let (child, address, log) = spawn_server(database_url, &env);
        TestServer {
            base_url: format!("http://{address}"),
            backend: self.backend.clone(),
            child,
            log,
            agent: self.agent.clone(),
            admin_token: self.admin_token.clone(),
            database: None,
            database_url: database_url.to_owned(),
            extra_env: self.extra_env.clone(),
        }
    }

    /// The whole change feed from its start, page after page (after `settle_feed`).
    pub fn changes_from_start(&self) -> Vec<Value> {
        self.settle_feed();
        let mut changes = Vec::new();
        let mut path = "/api/v1/changes?limit=500".to_owned();
        loop {
            let page: Value = self.get_as(&path, &self.admin_token).json();
            changes.extend(page["data"].as_array().unwrap().iter().cloned());
            match page["next_cursor"].as_str() {
                Some(cursor) if page["has_more"] == true => {
                    path = format!("/api/v1/changes?limit=500&cursor={cursor}")
                }
                _ => return changes,
            }
        }
    }

    /// Waits until the change feed offers every write made so far. On PostgreSQL the feed
    /// serves only transactions older than the oldest still running anywhere on the server
    /// (other tests' included), so it can lag a moment behind; SQLite never lags.
    pub fn settle_feed(&self) {
        if !self.database_url.starts_with("postgres") {
            return;
        }
        use diesel::{Connection, RunQueryDsl};
        #[derive(diesel::QueryableByName)]
        struct Txid {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            txid: i64,
        }
        let mut connection = diesel::PgConnection::establish(&self.database_url).unwrap();
        // A position taken now is newer than every write already acknowledged.
        let now: Txid = diesel::sql_query("SELECT change_position_txid() AS txid")
            .get_result(&mut connection)
            .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let latest = self.get("/api/v1/changes/latest").json();
            let cursor = latest["cursor"].as_str().unwrap();
            let horizon: i64 = cursor.split('-').next().unwrap().parse().unwrap();
            if horizon > now.txid {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the change feed did not catch up with transaction {} (at {cursor})",
                now.txid
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Sends a request; `body` is sent as is, with the given headers.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Reply {
        let mut builder = ureq::http::Request::builder()
            .method(method)
            .uri(self.url(path));
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let body_sent = body;
        let response = match body {
            Some(body) => self.agent.run(builder.body(body.to_vec()).unwrap()),
            None => self.agent.run(builder.body(()).unwrap()),
        };
        let mut response = response.unwrap_or_else(|error| panic!("{method} {path}: {error}"));
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    value.to_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        let body = response
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_vec()
            .unwrap_or_default();
        secrets::note_request(body_sent);
        secrets::note_response(&body);
        Reply {
            status,
            headers,
            body,
        }
    }

    pub fn get(&self, path: &str) -> Reply {
        self.send("GET", path, &[], None)
    }

    /// POSTs JSON as the admin.
    pub fn post_json(&self, path: &str, body: &Value) -> Reply {
        self.send_json("POST", path, body, Some(&self.admin_token))
    }

    /// PATCHes a merge patch as the admin.
    pub fn patch_json(&self, path: &str, body: &Value, if_match: Option<&str>) -> Reply {
        let bearer = format!("Bearer {}", self.admin_token);
        let mut headers = vec![
            ("content-type", "application/merge-patch+json"),
            ("authorization", bearer.as_str()),
        ];
        if let Some(tag) = if_match {
            headers.push(("if-match", tag));
        }
        self.send("PATCH", path, &headers, Some(body.to_string().as_bytes()))
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Whether a `Vary` header names `request_header`.
    pub fn varies_by(&self, request_header: &str) -> bool {
        self.headers.iter().any(|(name, value)| {
            name.eq_ignore_ascii_case("vary")
                && value
                    .split(',')
                    .any(|named| named.trim().eq_ignore_ascii_case(request_header))
        })
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|error| {
            panic!(
                "body is not JSON ({error}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Asserts a problem+json response with this status and code, and returns its body.
    pub fn assert_problem(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status, status, "status; body: {}", self.text());
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "content type; body: {}",
            self.text()
        );
        let problem = self.json();
        assert_eq!(problem["code"], code, "{problem}");
        assert_eq!(problem["status"], status, "{problem}");
        for member in ["type", "title", "detail", "instance", "request_id"] {
            assert!(
                problem[member].is_string(),
                "problem lacks {member}: {problem}"
            );
        }
        assert_eq!(
            Some(problem["request_id"].as_str().unwrap()),
            self.header("x-request-id")
        );
        problem
    }
}

/// Starts `catalyst serve` on `database_url` and returns it with the address it listens on.
/// A server's log lines, shared with the thread that drains its standard error.
type ServerLog = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

fn spawn_server(database_url: &str, extra_env: &[(&str, &str)]) -> (Child, String, ServerLog) {
    let data_dir = std::env::temp_dir().join(format!("catalyst-data-{}", uuid_suffix()));
    let mut command = Command::new(BINARY);
    command
        .arg("serve")
        .env("DATABASE_URL", database_url)
        .env(
            if extra_env
                .iter()
                .any(|(name, _)| *name == "CATALYST_JWT_KEY_DIR")
            {
                "CATALYST_UNUSED"
            } else {
                "CATALYST_JWT_SECRET"
            },
            JWT_SECRET,
        )
        .env("CATALYST_DATA_DIR", &data_dir)
        .env("CATALYST_BIND", "127.0.0.1:0")
        .env("CATALYST_LOG_FORMAT", "json")
        .env("CATALYST_LOG", "info")
        // Tests send bursts far above any sensible limit; tests/api/rate_limits.rs sets its own.
        .env("CATALYST_RATE_LIMIT_PER_MINUTE", "0")
        .env("CATALYST_WORKERS", "2")
        .env("CATALYST_SHUTDOWN_TIMEOUT_SECS", "1")
        // The server logs to standard error and prints nothing on standard output.
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (name, value) in extra_env {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("start the catalyst binary");
    let log = child.stderr.take().expect("stderr");
    let (address_sender, address_receiver) = mpsc::channel();
    let early_lines: ServerLog = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = early_lines.clone();
    // Reads the log, keeping every line for the test, and drains it so the server never
    // blocks on a full pipe.
    std::thread::spawn(move || {
        let mut sender = Some(address_sender);
        for line in BufReader::new(log).lines().map_while(Result::ok) {
            kept.lock().unwrap().push(line.clone());
            if let Ok(entry) = serde_json::from_str::<Value>(&line) {
                if entry["message"] == "listening" {
                    if let (Some(sender), Some(address)) =
                        (sender.take(), entry["address"].as_str())
                    {
                        let _ = sender.send(address.to_owned());
                    }
                }
            }
            if std::env::var_os("CATALYST_TEST_LOGS").is_some() {
                eprintln!("server: {line}");
            }
            secrets::keep_log_line(&line);
        }
    });
    let address = match address_receiver.recv_timeout(Duration::from_secs(60)) {
        Ok(address) => address,
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the server did not start: {}",
                early_lines.lock().unwrap().join("\n")
            );
        }
    };
    (child, address, early_lines)
}

fn uuid_suffix() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

/// `application/x-www-form-urlencoded` of `pairs`.
pub fn serde_urlencoded_pairs(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            b' ' => "+".to_owned(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// Runs the `catalyst` CLI with `args`, `env` on top of this process's environment (less
/// `DATABASE_URL` and `NO_COLOR`) and `input` on standard input; waits for it to end.
pub fn run_cli_with_input(
    args: &[&str],
    env: &[(&str, &str)],
    input: &str,
) -> std::process::Output {
    use std::io::Write;
    let mut command = Command::new(BINARY);
    command
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("NO_COLOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("run the catalyst CLI");
    let written = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes());
    // A CLI that refuses its arguments exits before it reads its input: the pipe is closed.
    if let Err(error) = written {
        assert_eq!(
            error.kind(),
            std::io::ErrorKind::BrokenPipe,
            "write to the CLI: {error}"
        );
    }
    child.wait_with_output().expect("the CLI's output")
}

/// A valid organisation body with this name.
pub fn local_authority(name: &str) -> Value {
    serde_json::json!({
        "name": name,
        "kind": "local_authority",
        "region": "yorkshire_and_the_humber",
        "website": "https://www.leeds.gov.uk"
    })
}

/// Runs `pg_ctl` (the command line `.ci/replica` or `.ci/faults` gives, ending before the
/// action) for a test cluster, as the postgres account when the scripts say so.
pub fn pg_ctl(ctl: &str, as_postgres: bool, action: &str) {
    let command = format!("{ctl} {action}");
    let status = if as_postgres {
        Command::new("su")
            .args(["postgres", "-s", "/bin/sh", "-c", &command])
            .status()
    } else {
        Command::new("sh").args(["-c", &command]).status()
    }
    .expect("run pg_ctl");
    assert!(status.success(), "pg_ctl {action}");
}
