//! Black-box test harness: starts the real `catalyst` binary on a free port against a fresh
//! database, and talks to it over HTTP like any client would.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use catalyst_persistence::testing::TestDatabase;
use serde_json::Value;

pub const BINARY: &str = env!("CARGO_BIN_EXE_catalyst");

/// A running server and the database it owns; both go away on drop.
pub struct TestServer {
    pub base_url: String,
    pub backend: String,
    child: Child,
    agent: ureq::Agent,
    // Dropped after the child is killed (fields drop in order; Drop kills first).
    database: TestDatabase,
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
        let mut command = Command::new(BINARY);
        command
            .arg("serve")
            .env("DATABASE_URL", database.url_text())
            .env("CATALYST_BIND", "127.0.0.1:0")
            .env("CATALYST_LOG_FORMAT", "json")
            .env("CATALYST_LOG", "info")
            .env("CATALYST_WORKERS", "2")
            .env("CATALYST_SHUTDOWN_TIMEOUT_SECS", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in extra_env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("start the catalyst binary");
        let stdout = child.stdout.take().expect("stdout");
        let (address_sender, address_receiver) = mpsc::channel();
        // Reads the log until the server says where it listens, then keeps draining it so the
        // server never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sender = Some(address_sender);
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
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
            }
        });
        let address = match address_receiver.recv_timeout(Duration::from_secs(60)) {
            Ok(address) => address,
            Err(_) => {
                let _ = child.kill();
                let output = child.wait_with_output().expect("server output");
                panic!(
                    "the server did not start: {}",
                    String::from_utf8_lossy(&output.stderr)
                );
            }
        };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        Self {
            base_url: format!("http://{address}"),
            backend: database.backend().to_string(),
            child,
            agent,
            database,
        }
    }

    pub fn database(&self) -> &TestDatabase {
        &self.database
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
        Reply {
            status,
            headers,
            body,
        }
    }

    pub fn get(&self, path: &str) -> Reply {
        self.send("GET", path, &[], None)
    }

    pub fn post_json(&self, path: &str, body: &Value) -> Reply {
        self.send(
            "POST",
            path,
            &[("content-type", "application/json")],
            Some(body.to_string().as_bytes()),
        )
    }

    pub fn patch_json(&self, path: &str, body: &Value, if_match: Option<&str>) -> Reply {
        let mut headers = vec![("content-type", "application/merge-patch+json")];
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

/// A valid organisation body with this name.
pub fn local_authority(name: &str) -> Value {
    serde_json::json!({
        "name": name,
        "kind": "local_authority",
        "region": "yorkshire_and_the_humber",
        "website": "https://www.leeds.gov.uk"
    })
}
