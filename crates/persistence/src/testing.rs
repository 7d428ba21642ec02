//! Fresh databases for tests: every test gets its own (a new SQLite file, or a new PostgreSQL
//! database on the server `TEST_DATABASE_URL` names), so tests never depend on order or on each
//! other, and the database is dropped afterwards.

#![allow(clippy::expect_used)] // Test set-up: failing loudly is the point.

use std::path::PathBuf;

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

use crate::database::{Backend, DatabaseUrl};

/// The environment variable naming a PostgreSQL server for tests.
pub const TEST_DATABASE_URL: &str = "TEST_DATABASE_URL";

/// A database that exists for one test.
pub struct TestDatabase {
    url: DatabaseUrl,
    cleanup: Cleanup,
}

enum Cleanup {
    SqliteFile(PathBuf),
    PostgresDatabase { admin_url: String, name: String },
}

impl TestDatabase {
    /// One database per backend under test: SQLite always; PostgreSQL too when
    /// `TEST_DATABASE_URL` is set.
    pub fn for_each_backend() -> Vec<TestDatabase> {
        let mut databases = vec![Self::sqlite()];
        if let Some(admin_url) = postgres_admin_url() {
            databases.push(Self::postgres(&admin_url));
        }
        databases
    }

    /// A PostgreSQL database when `TEST_DATABASE_URL` is set, for tests of what only
    /// PostgreSQL does (statement timeouts, transaction ids); `None` otherwise.
    pub fn postgres_only() -> Option<TestDatabase> {
        postgres_admin_url().map(|admin_url| Self::postgres(&admin_url))
    }

    /// A new, empty SQLite file in the system's temporary folder.
    pub fn sqlite() -> Self {
        let folder = std::env::temp_dir().join("catalyst-tests");
        std::fs::create_dir_all(&folder).expect("create the temporary test folder");
        let path = folder.join(format!("{}.db", uuid::Uuid::now_v7().simple()));
        Self {
            url: DatabaseUrl::Sqlite(path.clone()),
            cleanup: Cleanup::SqliteFile(path),
        }
    }

    /// A new, empty database on the PostgreSQL server of `admin_url`.
    pub fn postgres(admin_url: &str) -> Self {
        let name = format!("catalyst_test_{}", uuid::Uuid::now_v7().simple());
        let mut admin = PgConnection::establish(admin_url).unwrap_or_else(|error| {
            panic!("{TEST_DATABASE_URL} is set but PostgreSQL cannot be reached: {error}")
        });
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create a test database");
        Self {
            url: DatabaseUrl::Postgres(with_database_name(admin_url, &name)),
            cleanup: Cleanup::PostgresDatabase {
                admin_url: admin_url.to_owned(),
                name,
            },
        }
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// The URL as `DATABASE_URL` spells it.
    pub fn url_text(&self) -> String {
        match &self.url {
            DatabaseUrl::Postgres(url) => url.clone(),
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
        }
    }

    /// Drops a PostgreSQL database while a server uses it, closing its connections: from then
    /// on the database is unreachable. Returns false on SQLite, where this cannot be done.
    pub fn make_unreachable(&self) -> bool {
        match &self.cleanup {
            Cleanup::PostgresDatabase { admin_url, name } => {
                let mut admin = PgConnection::establish(admin_url).expect("reach PostgreSQL");
                admin
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .expect("drop the test database");
                true
            }
            Cleanup::SqliteFile(_) => false,
        }
    }

    pub fn backend(&self) -> Backend {
        self.url.backend()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::SqliteFile(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut file = path.clone().into_os_string();
                    file.push(suffix);
                    let _ = std::fs::remove_file(PathBuf::from(file));
                }
            }
            Cleanup::PostgresDatabase { admin_url, name } => {
                if let Ok(mut admin) = PgConnection::establish(admin_url) {
                    let _ = admin
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
                }
            }
        }
    }
}

/// `TEST_DATABASE_URL`, if set and not empty.
pub fn postgres_admin_url() -> Option<String> {
    std::env::var(TEST_DATABASE_URL)
        .ok()
        .filter(|url| !url.trim().is_empty())
}

/// The same server and credentials, another database.
fn with_database_name(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let (authority, query) = match rest.split_once('/') {
        Some((authority, path)) => (authority, path.split_once('?').map(|(_, query)| query)),
        None => match rest.split_once('?') {
            Some((authority, query)) => (authority, Some(query)),
            None => (rest, None),
        },
    };
    match query {
        Some(query) => format!("{scheme}://{authority}/{name}?{query}"),
        None => format!("{scheme}://{authority}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::with_database_name;

    #[test]
    fn the_database_name_is_replaced_and_the_rest_kept() {
        assert_eq!(
            with_database_name("postgres://u:p@127.0.0.1:5432/test?sslmode=disable", "t1"),
            "postgres://u:p@127.0.0.1:5432/t1?sslmode=disable"
        );
        assert_eq!(
            with_database_name("postgres://localhost", "t1"),
            "postgres://localhost/t1"
        );
    }
}
