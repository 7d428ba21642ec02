//! The `catalyst` command line: configuration is checked before anything starts.

use crate::common;

use std::process::Command;

use catalyst_persistence::testing::TestDatabase;
use common::BINARY;

fn run(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut command = Command::new(BINARY);
    command
        .args(args)
        .env_remove("DATABASE_URL")
        .env("CATALYST_LOG_FORMAT", "json");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("run catalyst")
}

#[test]
fn a_database_url_with_an_unknown_scheme_is_refused_and_creates_nothing() {
    let folder = std::env::temp_dir().join(format!("catalyst-cli-{}", std::process::id()));
    std::fs::create_dir_all(&folder).unwrap();
    let mut command = Command::new(BINARY);
    let output = command
        .args(["migrate"])
        .current_dir(&folder)
        .env("DATABASE_URL", "postgress://localhost/catalyst")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("DATABASE_URL") && stderr.contains("postgress"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_dir(&folder).unwrap().count(),
        0,
        "no database was created"
    );
    std::fs::remove_dir_all(&folder).unwrap();
}

#[test]
fn a_bad_setting_is_named_in_the_error() {
    let database = TestDatabase::sqlite();
    for (name, value) in [
        ("CATALYST_BIND", "localhost"),
        ("CATALYST_LOG_FORMAT", "xml"),
        ("CATALYST_DB_POOL_SIZE", "0"),
        ("CATALYST_BODY_LIMIT", "lots"),
    ] {
        let output = run(
            &["serve"],
            &[("DATABASE_URL", &database.url_text()), (name, value)],
        );
        assert_eq!(output.status.code(), Some(2), "{name}={value}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(name), "{name}: {stderr}");
    }
}

#[test]
fn migrate_creates_the_sqlite_database_and_its_folder() {
    let folder = std::env::temp_dir().join(format!("catalyst-migrate-{}", uuid_like()));
    let path = folder.join("nested/catalyst.db");
    let url = format!("sqlite://{}", path.display());
    let output = run(&["migrate"], &[("DATABASE_URL", &url)]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(path.exists());
    let again = run(&["migrate"], &[("DATABASE_URL", &url)]);
    assert!(again.status.success(), "migrate is idempotent");
    std::fs::remove_dir_all(&folder).unwrap();
}

#[test]
fn openapi_prints_the_committed_spec() {
    let output = run(&["openapi"], &[]);
    assert!(output.status.success());
    let committed = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/v1.json")).unwrap();
    assert!(
        output.stdout == committed,
        "run `cargo run -- openapi > openapi/v1.json`"
    );
}

fn uuid_like() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

#[test]
fn token_key_settings_are_checked_at_start() {
    let database = TestDatabase::sqlite();
    let url = database.url_text();
    let missing = run(
        &["serve"],
        &[
            ("DATABASE_URL", &url),
            ("CATALYST_JWT_KEY_DIR", "/nonexistent/keys"),
        ],
    );
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("CATALYST_JWT_KEY_DIR"));
    let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/jwt-keys");
    let both = run(
        &["serve"],
        &[
            ("DATABASE_URL", &url),
            ("CATALYST_JWT_KEY_DIR", folder),
            ("CATALYST_JWT_SECRET", "x".repeat(40).as_str()),
        ],
    );
    assert_eq!(both.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&both.stderr).contains("not both"));
    let short = run(
        &["serve"],
        &[("DATABASE_URL", &url), ("CATALYST_JWT_SECRET", "too-short")],
    );
    assert_eq!(short.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&short.stderr).contains("CATALYST_JWT_SECRET"));
}

/// Runs `catalyst user create` with `password` on standard input.
fn create_user(args: &[&str], env: &[(&str, &str)], password: &str) -> std::process::Output {
    let args: Vec<&str> = ["user", "create"].iter().chain(args).copied().collect();
    common::run_cli_with_input(&args, env, &format!("{password}\n"))
}

#[test]
fn a_command_prints_its_result_alone_on_stdout_and_logs_plainly_on_stderr() {
    let database = TestDatabase::sqlite();
    let url = database.url_text();
    // As a script runs it: text logs at info, standard error not a terminal.
    let made = create_user(
        &[
            "--email",
            "first@catalyst.test",
            "--name",
            "First",
            "--role",
            "admin",
        ],
        &[
            ("DATABASE_URL", &url),
            ("CATALYST_LOG", "info"),
            ("CATALYST_LOG_FORMAT", "text"),
        ],
        "a long enough passphrase",
    );
    let stdout = String::from_utf8_lossy(&made.stdout);
    let stderr = String::from_utf8_lossy(&made.stderr);
    assert!(made.status.success(), "{stderr}");
    let id = stdout.trim_end_matches('\n');
    assert!(
        id.len() == 36 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-'),
        "standard output is the new user's id alone: {stdout:?}"
    );
    assert!(
        stderr.contains("applied") && stderr.contains("migrations now"),
        "the log, on standard error, says how many migrations it applied: {stderr}"
    );
    assert!(
        !stderr.contains('\u{1b}'),
        "no colour codes off a terminal: {stderr:?}"
    );

    // The second time the database is up to date, and the log says so.
    let again = run(
        &["migrate"],
        &[("DATABASE_URL", &url), ("CATALYST_LOG_FORMAT", "text")],
    );
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{stderr}");
    assert!(stderr.contains("none to apply"), "{stderr}");
    assert!(
        again.stdout.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&again.stdout)
    );
}

#[test]
fn usage_errors_exit_2_and_help_lists_every_option_and_value() {
    let database = TestDatabase::sqlite();
    let url = database.url_text();
    let wizard = create_user(
        &[
            "--email",
            "w@catalyst.test",
            "--name",
            "W",
            "--role",
            "wizard",
        ],
        &[("DATABASE_URL", &url)],
        "a long enough passphrase",
    );
    assert_eq!(wizard.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&wizard.stderr);
    assert!(
        stderr.contains("programme_manager") && stderr.contains("supplier"),
        "the error lists the roles: {stderr}"
    );

    let help = run(&["user", "create", "--help"], &[]);
    let text = String::from_utf8_lossy(&help.stdout);
    let lines: Vec<&str> = text.lines().collect();
    for option in ["--email", "--name", "--role", "--organisation"] {
        let at = lines
            .iter()
            .position(|line| line.trim_start().starts_with(option))
            .unwrap_or_else(|| panic!("{option} missing: {text}"));
        // Long help puts each option's description on the line below it.
        let description = lines.get(at + 1).map_or("", |line| line.trim());
        assert!(
            !description.is_empty() && !description.starts_with('-'),
            "{option} has no description: {text}"
        );
    }
    assert!(text.contains("ORGANISATION_ID"), "{text}");
    assert!(
        text.contains("admin, programme_manager, authority_officer, supplier"),
        "{text}"
    );

    let help = run(&["import", "--help"], &[]);
    let text = String::from_utf8_lossy(&help.stdout);
    for value in [
        "organisations",
        "challenges",
        "all_or_nothing",
        "partial",
        "ndjson",
    ] {
        assert!(text.contains(value), "import --help lacks {value}: {text}");
    }
    let bad_mode = run(
        &["import", "x.csv", "--mode", "most"],
        &[("DATABASE_URL", &url)],
    );
    assert_eq!(bad_mode.status.code(), Some(2));
}

#[test]
fn boolean_settings_are_switches() {
    use std::io::BufRead;
    let database = TestDatabase::sqlite();
    let folder = std::env::temp_dir().join(format!("catalyst-switch-{}", uuid_like()));
    let mut child = Command::new(BINARY)
        .args([
            "serve",
            "--metrics-public",
            "--webhook-allow-private",
            "--bind",
            "127.0.0.1:0",
        ])
        .env("DATABASE_URL", database.url_text())
        .env("CATALYST_DATA_DIR", &folder)
        .env("CATALYST_LOG_FORMAT", "json")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let log = std::io::BufReader::new(child.stderr.take().unwrap());
    let (sender, receiver) = std::sync::mpsc::channel();
    // Reads the log for the address, then drains it so the server never writes to a closed pipe.
    std::thread::spawn(move || {
        for line in log.lines().map_while(Result::ok) {
            if let Ok(entry) = serde_json::from_str::<serde_json::Value>(&line) {
                if entry["message"] == "listening" {
                    let _ = sender.send(entry["address"].as_str().unwrap_or("").to_owned());
                }
            }
        }
    });
    let address = receiver.recv_timeout(std::time::Duration::from_secs(30));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let status = address
        .as_ref()
        .ok()
        .and_then(|address| agent.get(&format!("http://{address}/metrics")).call().ok())
        .map(|reply| reply.status().as_u16());
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&folder);
    assert!(
        address.is_ok(),
        "the server did not start with both switches"
    );
    assert_eq!(
        status,
        Some(200),
        "--metrics-public alone makes /metrics public"
    );
}

#[test]
fn settings_are_checked_before_a_database_is_made_or_migrated() {
    let folder = std::env::temp_dir().join(format!("catalyst-settings-{}", uuid_like()));
    let path = folder.join("catalyst.db");
    let output = run(
        &["serve"],
        &[
            ("DATABASE_URL", &format!("sqlite://{}", path.display())),
            ("CATALYST_DATA_DIR", folder.to_str().unwrap()),
            ("CATALYST_JWT_SECRET", "too short"),
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("CATALYST_JWT_SECRET"));
    assert!(
        !path.exists(),
        "the database was made before the settings were checked"
    );
    let _ = std::fs::remove_dir_all(&folder);
}

#[test]
fn a_missing_postgres_database_or_a_refused_password_is_one_clear_line() {
    let Some(database) = TestDatabase::postgres_only() else {
        eprintln!("skipped: TEST_DATABASE_URL is not set");
        return;
    };
    let url = database.url_text();
    let (server, _) = url.rsplit_once('/').unwrap();
    let missing = format!("{server}/catalyst_no_such_database_{}", std::process::id());
    let output = run(&["migrate"], &[("DATABASE_URL", &missing)]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.contains("does not exist") && stderr.contains("createdb"),
        "{stderr}"
    );

    // A user PostgreSQL does not know: refused credentials, one line, a setting to correct.
    let (scheme, rest) = url.split_once("://").unwrap();
    let host_and_database = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let stranger = format!("{scheme}://catalyst_no_such_role@{host_and_database}");
    let output = run(&["migrate"], &[("DATABASE_URL", &stranger)]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains("refused the user or password"), "{stderr}");
}

/// Colour is for a person at a terminal who has not asked for none: `script` (util-linux) gives
/// the command a terminal, as a person's shell would.
#[test]
fn logs_are_coloured_only_on_a_terminal_without_no_color() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: no `script` command to give the CLI a terminal");
        return;
    }
    let at_terminal = |no_color: Option<&str>| {
        let database = TestDatabase::sqlite();
        let mut command = Command::new("script");
        command
            .args(["-qec", &format!("{BINARY} migrate"), "/dev/null"])
            .env("DATABASE_URL", database.url_text())
            .env("CATALYST_LOG_FORMAT", "text")
            .env("CATALYST_LOG", "info")
            .env_remove("NO_COLOR");
        if let Some(value) = no_color {
            command.env("NO_COLOR", value);
        }
        let output = command.output().unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let coloured = at_terminal(None);
    assert!(coloured.contains("migrations now"), "{coloured:?}");
    assert!(
        coloured.contains('\u{1b}'),
        "no colour at a terminal: {coloured:?}"
    );
    let plain = at_terminal(Some("1"));
    assert!(plain.contains("migrations now"), "{plain:?}");
    assert!(
        !plain.contains('\u{1b}'),
        "colour despite NO_COLOR: {plain:?}"
    );
}
