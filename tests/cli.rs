//! The `catalyst` command line: configuration is checked before anything starts.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

mod common;

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
