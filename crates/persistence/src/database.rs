//! Choosing a backend from `DATABASE_URL`, connecting with the right per-connection settings, and
//! pooling connections.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::prelude::*;
use diesel::{MultiConnection, PgConnection, SqliteConnection};

use crate::error::StoreError;

/// One connection to either backend. Queries are written once against this type.
#[derive(MultiConnection)]
pub enum DbConnection {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Postgres => "postgres",
            Backend::Sqlite => "sqlite",
        })
    }
}

/// A database location whose backend is known from its scheme.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A libpq connection URL (`postgres://` or `postgresql://`).
    Postgres(String),
    /// A SQLite database file.
    Sqlite(PathBuf),
}

/// Why a `DATABASE_URL` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatabaseUrlError {
    #[error(
        "DATABASE_URL has an unsupported scheme {0:?}: use postgres://USER:PASSWORD@HOST/DB or sqlite://PATH"
    )]
    UnsupportedScheme(String),
    #[error("DATABASE_URL has no scheme: use postgres://USER:PASSWORD@HOST/DB or sqlite://PATH")]
    MissingScheme,
    #[error("DATABASE_URL sqlite:// needs a file path, such as sqlite://data/catalyst.db")]
    EmptySqlitePath,
}

impl DatabaseUrl {
    /// The embedded default: a SQLite file under the current folder.
    pub const DEFAULT: &'static str = "sqlite://data/catalyst.db";

    /// Reads the backend from the scheme. Anything else is refused: a typo must never silently
    /// open a new, empty SQLite database in place of the production one.
    ///
    /// ```
    /// use catalyst_persistence::{Backend, DatabaseUrl};
    ///
    /// let url = DatabaseUrl::parse("postgres://catalyst@db/catalyst").unwrap();
    /// assert_eq!(url.backend(), Backend::Postgres);
    /// assert!(DatabaseUrl::parse("mysql://db/catalyst").is_err());
    /// ```
    pub fn parse(url: &str) -> Result<Self, DatabaseUrlError> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or(DatabaseUrlError::MissingScheme)?;
        match scheme {
            "postgres" | "postgresql" => Ok(Self::Postgres(url.to_owned())),
            "sqlite" => {
                if rest.is_empty() {
                    Err(DatabaseUrlError::EmptySqlitePath)
                } else {
                    Ok(Self::Sqlite(PathBuf::from(rest)))
                }
            }
            other => Err(DatabaseUrlError::UnsupportedScheme(other.to_owned())),
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Postgres(_) => Backend::Postgres,
            Self::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// Never prints a password.
impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Postgres(url) => {
                let shown = match (url.split_once("://"), url.rfind('@')) {
                    (Some((scheme, rest)), Some(at)) => {
                        let host = &url[at + 1..];
                        let user = rest.split([':', '@']).next().unwrap_or("");
                        format!("{scheme}://{user}:***@{host}")
                    }
                    _ => url.clone(),
                };
                f.write_str(&shown)
            }
            Self::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
        }
    }
}

/// Pool sizing. SQLite has one writer, so its pool stays small.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_size: u32,
    /// How long a request waits for a free connection before it is answered 503.
    pub acquire_timeout: Duration,
}

impl PoolSettings {
    pub fn default_for(backend: Backend) -> Self {
        Self {
            max_size: match backend {
                Backend::Postgres => 10,
                Backend::Sqlite => 4,
            },
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// How long a SQLite writer waits for another to finish before giving up.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 5_000;

/// Opens connections of the backend the URL names, with per-connection settings.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("{0}")]
    Connection(#[from] diesel::ConnectionError),
    #[error("{0}")]
    Query(#[from] diesel::result::Error),
    #[error("cannot create the folder for the SQLite database {path}: {source}")]
    Folder {
        path: String,
        source: std::io::Error,
    },
}

impl ConnectionManager {
    pub fn new(url: DatabaseUrl) -> Self {
        Self { url }
    }

    pub fn connect(&self) -> Result<DbConnection, ConnectError> {
        match &self.url {
            DatabaseUrl::Postgres(url) => Ok(DbConnection::Postgres(PgConnection::establish(url)?)),
            DatabaseUrl::Sqlite(path) => {
                create_parent_folder(path)?;
                let path_text = path.to_string_lossy();
                let mut connection = SqliteConnection::establish(&path_text)?;
                // WAL lets readers run beside the one writer; NORMAL is safe with WAL; foreign
                // keys are off in SQLite unless asked for, per connection.
                diesel::connection::SimpleConnection::batch_execute(
                    &mut connection,
                    &format!(
                        "PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}; \
                         PRAGMA journal_mode = WAL; \
                         PRAGMA synchronous = NORMAL; \
                         PRAGMA foreign_keys = ON;"
                    ),
                )?;
                Ok(DbConnection::Sqlite(connection))
            }
        }
    }
}

fn create_parent_folder(path: &Path) -> Result<(), ConnectError> {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() && !parent.exists() => {
            std::fs::create_dir_all(parent).map_err(|source| ConnectError::Folder {
                path: path.display().to_string(),
                source,
            })
        }
        _ => Ok(()),
    }
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = ConnectError;

    fn connect(&self) -> Result<DbConnection, ConnectError> {
        ConnectionManager::connect(self)
    }

    fn is_valid(&self, connection: &mut DbConnection) -> Result<(), ConnectError> {
        diesel::connection::SimpleConnection::batch_execute(connection, "SELECT 1")?;
        Ok(())
    }

    fn has_broken(&self, connection: &mut DbConnection) -> bool {
        // A connection left inside a failed transaction must not go back to the pool.
        diesel::r2d2::R2D2Connection::is_broken(connection)
            || !matches!(
                <DbConnection as Connection>::TransactionManager::transaction_manager_status_mut(
                    connection
                )
                .transaction_depth(),
                Ok(None)
            )
    }
}

/// A pool of connections to one database.
#[derive(Clone)]
pub struct Pool {
    inner: r2d2::Pool<ConnectionManager>,
    backend: Backend,
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("backend", &self.backend)
            .finish()
    }
}

pub type PooledConnection = r2d2::PooledConnection<ConnectionManager>;

impl Pool {
    /// Makes the pool without connecting. Each checkout pings the connection first, so one
    /// broken by a database restart is replaced rather than handed to a request.
    ///
    /// Makes the pool without connecting: the first use connects, so a database that is down at
    /// start is reported by the caller's first query rather than by a hang here.
    pub fn new(url: DatabaseUrl, settings: &PoolSettings) -> Self {
        let backend = url.backend();
        let inner = r2d2::Pool::builder()
            .max_size(settings.max_size)
            .min_idle(Some(0))
            .connection_timeout(settings.acquire_timeout)
            .test_on_check_out(true)
            .build_unchecked(ConnectionManager::new(url));
        Self { inner, backend }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A connection, or [`StoreError::Unavailable`] once the acquire timeout passes.
    pub fn get(&self) -> Result<PooledConnection, StoreError> {
        Ok(self.inner.get()?)
    }

    /// Whether the database answers a trivial query.
    pub fn check(&self) -> Result<(), StoreError> {
        let mut connection = self.get()?;
        diesel::connection::SimpleConnection::batch_execute(&mut *connection, "SELECT 1")?;
        Ok(())
    }

    /// (connections open, of which idle)
    pub fn state(&self) -> (u32, u32) {
        let state = self.inner.state();
        (state.connections, state.idle_connections)
    }
}

/// Runs `work` in a write transaction (a savepoint when one is already open). On SQLite the transaction starts `IMMEDIATE`, taking the
/// write lock at once: a deferred transaction that reads and then writes can fail with "database
/// is locked" at once instead of waiting out busy_timeout.
pub fn write_transaction<T, E>(
    connection: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    let depth = <DbConnection as Connection>::TransactionManager::transaction_manager_status_mut(
        connection,
    )
    .transaction_depth()?;
    if depth.is_some() {
        // Already inside a unit of work: a savepoint keeps it whole.
        return connection.transaction(work);
    }
    match connection {
        DbConnection::Sqlite(sqlite) => {
            AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?
        }
        DbConnection::Postgres(postgres) => AnsiTransactionManager::begin_transaction(postgres)?,
    }
    match work(connection) {
        Ok(value) => {
            <DbConnection as Connection>::TransactionManager::commit_transaction(connection)?;
            Ok(value)
        }
        Err(error) => {
            // The work's error is the one worth reporting; a failed rollback marks the connection
            // broken and the pool drops it.
            let _ =
                <DbConnection as Connection>::TransactionManager::rollback_transaction(connection);
            Err(error)
        }
    }
}

/// [`write_transaction`] for callers whose errors know storage errors but not diesel's: the
/// unit of work of a request, such as a change and its audit record.
pub fn transaction<T, E>(
    connection: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<StoreError>,
{
    enum Failure<E> {
        Work(E),
        Database(diesel::result::Error),
    }
    impl<E> From<diesel::result::Error> for Failure<E> {
        fn from(error: diesel::result::Error) -> Self {
            Failure::Database(error)
        }
    }
    write_transaction(connection, |connection| {
        work(connection).map_err(Failure::Work)
    })
    .map_err(|failure| match failure {
        Failure::Work(error) => error,
        Failure::Database(error) => E::from(StoreError::from(error)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scheme_chooses_the_backend() {
        assert_eq!(
            DatabaseUrl::parse("postgres://u:p@localhost/catalyst")
                .unwrap()
                .backend(),
            Backend::Postgres
        );
        assert_eq!(
            DatabaseUrl::parse("postgresql://localhost/catalyst")
                .unwrap()
                .backend(),
            Backend::Postgres
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/catalyst.db").unwrap(),
            DatabaseUrl::Sqlite(PathBuf::from("data/catalyst.db"))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/catalyst.db").unwrap(),
            DatabaseUrl::Sqlite(PathBuf::from("/var/lib/catalyst.db"))
        );
    }

    #[test]
    fn any_other_url_is_refused_rather_than_opened_as_a_file() {
        assert_eq!(
            DatabaseUrl::parse("postgress://localhost/catalyst"),
            Err(DatabaseUrlError::UnsupportedScheme("postgress".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("catalyst.db"),
            Err(DatabaseUrlError::MissingScheme)
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://"),
            Err(DatabaseUrlError::EmptySqlitePath)
        );
    }

    #[test]
    fn printing_a_url_hides_its_password() {
        let url = DatabaseUrl::parse("postgres://catalyst:s3cret@db:5432/catalyst").unwrap();
        assert_eq!(url.to_string(), "postgres://catalyst:***@db:5432/catalyst");
    }
}
