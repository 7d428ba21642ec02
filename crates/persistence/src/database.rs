//! Choosing a backend from `DATABASE_URL`, connecting with the right per-connection settings, and
//! pooling connections.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

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

/// Rows per multi-row INSERT: under both backends' limits on bound parameters (PostgreSQL
/// 65,535; SQLite 32,766) for tables of up to 30 columns.
pub const ROWS_PER_INSERT: usize = 500;

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
            "postgres" | "postgresql" => Ok(Self::Postgres(without_loopback_tls(url, rest))),
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

/// A PostgreSQL URL to a server on this machine's loopback interface, with `sslmode=disable`
/// unless it says otherwise. libpq's default (`prefer`) encrypts whenever the server offers
/// TLS, and on loopback that protects nothing (the traffic never leaves the machine) while
/// costing a few percent of the server's CPU per query (AES-GCM in the read profiles). Any
/// other host, and any URL naming an `sslmode`, is left as it is.
fn without_loopback_tls(url: &str, after_scheme: &str) -> String {
    let authority = after_scheme.split(['/', '?']).next().unwrap_or_default();
    let host_and_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host = if let Some(bracketed) = host_and_port.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or_default()
    } else {
        host_and_port.split(':').next().unwrap_or_default()
    };
    let loopback = matches!(host, "localhost" | "127.0.0.1" | "::1");
    let query = url.split_once('?').map(|(_, query)| query);
    let names_sslmode = query.is_some_and(|query| {
        query
            .split('&')
            .any(|pair| pair.split('=').next() == Some("sslmode"))
    });
    if !loopback || names_sslmode {
        return url.to_owned();
    }
    let separator = if query.is_some() { '&' } else { '?' };
    format!("{url}{separator}sslmode=disable")
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

/// Why the PostgreSQL database a URL names cannot be used, told in one line: found with a single
/// connection before a pool would retry it for seconds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unreachable {
    #[error("the database {name:?} does not exist on {url}: create it (`createdb {name}`, or CREATE DATABASE {name} in psql), or name another in DATABASE_URL")]
    MissingDatabase { name: String, url: String },
    #[error("PostgreSQL at {url} refused the user or password in DATABASE_URL: {reason}")]
    Refused { url: String, reason: String },
    #[error("cannot connect to PostgreSQL at {url}: {reason}")]
    Down { url: String, reason: String },
}

impl Unreachable {
    /// A setting to correct (the database's name, the credentials), rather than a server to
    /// wait for.
    pub fn is_setting(&self) -> bool {
        !matches!(self, Self::Down { .. })
    }
}

/// Opens one connection to a PostgreSQL URL and closes it, to tell a missing database or refused
/// credentials from a server that is down. A SQLite URL needs no check: its file is made.
pub fn check_reachable(url: &DatabaseUrl) -> Result<(), Unreachable> {
    let DatabaseUrl::Postgres(text) = url else {
        return Ok(());
    };
    let shown = url.to_string();
    match PgConnection::establish(text) {
        Ok(_) => Ok(()),
        Err(error) => {
            let reason = error.to_string();
            let reason = reason.trim().to_owned();
            if let Some(name) = missing_database_name(&reason) {
                Err(Unreachable::MissingDatabase { name, url: shown })
            } else if reason.contains("password authentication failed")
                || reason.contains("no password supplied")
                || (reason.contains("role \"") && reason.contains("does not exist"))
            {
                Err(Unreachable::Refused { url: shown, reason })
            } else {
                Err(Unreachable::Down { url: shown, reason })
            }
        }
    }
}

/// The name in libpq's `database "NAME" does not exist`.
fn missing_database_name(message: &str) -> Option<String> {
    let start = message.find("database \"")? + "database \"".len();
    let rest = &message[start..];
    let end = rest.find("\" does not exist")?;
    Some(rest[..end].to_owned())
}

/// Pool sizing. SQLite has one writer, so its pool stays small.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_size: u32,
    /// How long a request waits for a free connection before it is answered 503.
    pub acquire_timeout: Duration,
    /// On PostgreSQL, the longest a statement may run before the server cancels it (answered
    /// 503): a stuck query or a lock held elsewhere never holds a connection for long.
    pub statement_timeout: Duration,
}

impl PoolSettings {
    pub fn default_for(backend: Backend) -> Self {
        Self {
            max_size: match backend {
                Backend::Postgres => 10,
                Backend::Sqlite => 4,
            },
            acquire_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(30),
        }
    }
}

/// How long a SQLite writer waits for another to finish before giving up.
pub(crate) const SQLITE_BUSY_TIMEOUT_MS: u32 = 5_000;

/// Opens connections of the backend the URL names, with per-connection settings.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
    statement_timeout: Option<Duration>,
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
        Self {
            url,
            statement_timeout: None,
        }
    }

    /// Connections whose statements PostgreSQL cancels after `timeout`.
    pub fn with_statement_timeout(url: DatabaseUrl, timeout: Duration) -> Self {
        Self {
            url,
            statement_timeout: Some(timeout),
        }
    }

    pub fn connect(&self) -> Result<DbConnection, ConnectError> {
        match &self.url {
            DatabaseUrl::Postgres(url) => {
                let mut connection = PgConnection::establish(url)?;
                if let Some(timeout) = self.statement_timeout {
                    diesel::connection::SimpleConnection::batch_execute(
                        &mut connection,
                        &format!("SET statement_timeout = {}", timeout.as_millis()),
                    )?;
                }
                Ok(DbConnection::Postgres(connection))
            }
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

/// A pooled connection with what the pool needs to know about it: when it was last handed
/// back, and whether a request saw it fail.
pub struct TrackedConnection {
    connection: DbConnection,
    returned_at: Instant,
    lost: bool,
}

impl TrackedConnection {
    /// Marks the connection as lost (the database went away under it): the pool drops it
    /// rather than hand it to the next request.
    pub fn mark_lost(&mut self) {
        self.lost = true;
    }
}

impl Deref for TrackedConnection {
    type Target = DbConnection;

    fn deref(&self) -> &DbConnection {
        &self.connection
    }
}

impl DerefMut for TrackedConnection {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.connection
    }
}

/// A connection idle for longer is pinged before use: a database restart meanwhile would have
/// broken it. One in steady use is not, which saves a round trip on every request.
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = TrackedConnection;
    type Error = ConnectError;

    fn connect(&self) -> Result<TrackedConnection, ConnectError> {
        Ok(TrackedConnection {
            connection: ConnectionManager::connect(self)?,
            returned_at: Instant::now(),
            lost: false,
        })
    }

    fn is_valid(&self, tracked: &mut TrackedConnection) -> Result<(), ConnectError> {
        if tracked.returned_at.elapsed() >= PING_AFTER_IDLE {
            diesel::connection::SimpleConnection::batch_execute(
                &mut tracked.connection,
                "SELECT 1",
            )?;
        }
        Ok(())
    }

    /// Called as a connection comes back to the pool (so the time it is idle from starts here).
    fn has_broken(&self, tracked: &mut TrackedConnection) -> bool {
        tracked.returned_at = Instant::now();
        let connection = &mut tracked.connection;
        // A connection left inside a failed transaction must not go back to the pool.
        tracked.lost
            || diesel::r2d2::R2D2Connection::is_broken(connection)
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
    /// Makes the pool. A checkout pings a connection that has been idle (one broken by a
    /// database restart is replaced rather than handed to a request); one that failed under a
    /// request is dropped when it comes back ([`TrackedConnection::mark_lost`]).
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
            .build_unchecked(ConnectionManager::with_statement_timeout(
                url,
                settings.statement_timeout,
            ));
        Self { inner, backend }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The most connections the pool opens.
    pub fn max_size(&self) -> u32 {
        self.inner.max_size()
    }

    /// A connection, or [`StoreError::Unavailable`] once the acquire timeout passes.
    pub fn get(&self) -> Result<PooledConnection, StoreError> {
        Ok(self.inner.get()?)
    }

    /// Whether the database answers a trivial query.
    pub fn check(&self) -> Result<(), StoreError> {
        let mut connection = self.get()?;
        diesel::connection::SimpleConnection::batch_execute(&mut **connection, "SELECT 1")?;
        Ok(())
    }

    /// (connections open, of which idle)
    pub fn state(&self) -> (u32, u32) {
        let state = self.inner.state();
        (state.connections, state.idle_connections)
    }
}

/// Where reads that may lag the primary a moment go: a streaming read replica when one is
/// configured and answering, else the primary. Reports, exports and public open data read here;
/// writes, the change feed and reads that must see the caller's own writes use the primary.
#[derive(Clone, Debug)]
pub struct ReadPools {
    primary: Pool,
    replica: Option<Pool>,
    /// Until when the replica is passed over after it failed to give a connection.
    replica_down_until: std::sync::Arc<std::sync::Mutex<Option<Instant>>>,
}

/// How long a replica that failed is passed over before it is tried again.
const REPLICA_RETRY_AFTER: Duration = Duration::from_secs(5);

/// How long a read waits for a replica connection before it goes to the primary instead.
pub const REPLICA_ACQUIRE_TIMEOUT: Duration = Duration::from_millis(500);

impl ReadPools {
    pub fn new(primary: Pool, replica: Option<Pool>) -> Self {
        Self {
            primary,
            replica,
            replica_down_until: std::sync::Arc::default(),
        }
    }

    /// Whether a replica is configured.
    pub fn has_replica(&self) -> bool {
        self.replica.is_some()
    }

    /// Runs a read that may lag: on the replica when one is configured and answering, else on
    /// the primary. A replica that cannot give a connection, or whose connection fails under
    /// the read (it went away, or cancelled the query in a conflict with recovery), is passed
    /// over for a few seconds and the read runs again on the primary: `unavailable` says
    /// which errors are such failures.
    pub fn read<T, E>(
        &self,
        unavailable: impl Fn(&E) -> bool,
        mut work: impl FnMut(&mut DbConnection) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        if let Some(mut connection) = self.replica_connection() {
            match work(&mut connection) {
                Err(error) if unavailable(&error) => {
                    tracing::warn!("a read failed on the read replica: reading from the primary");
                    connection.mark_lost();
                    self.replica_failed();
                }
                done => return done,
            }
        }
        let mut connection = self.primary.get()?;
        let done = work(&mut connection);
        if done.as_ref().is_err_and(&unavailable) {
            connection.mark_lost();
        }
        done
    }

    fn replica_connection(&self) -> Option<PooledConnection> {
        let replica = self.replica.as_ref()?;
        if self.replica_skipped() {
            return None;
        }
        match replica.get() {
            Ok(connection) => Some(connection),
            Err(error) => {
                tracing::warn!(%error, "the read replica is unavailable: reading from the primary");
                self.replica_failed();
                None
            }
        }
    }

    /// Passes over the replica for a while (a read from it failed).
    pub fn replica_failed(&self) {
        if self.replica.is_some() {
            *self.down_until() = Some(Instant::now() + REPLICA_RETRY_AFTER);
        }
    }

    fn replica_skipped(&self) -> bool {
        self.down_until()
            .is_some_and(|until| Instant::now() < until)
    }

    fn down_until(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.replica_down_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
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
    begin_write(connection)?;
    match work(connection) {
        Ok(value) => {
            commit(connection)?;
            Ok(value)
        }
        Err(error) => {
            // The work's error is the one worth reporting; a failed rollback marks the connection
            // broken and the pool drops it.
            let _ = rollback(connection);
            Err(error)
        }
    }
}

/// Opens a write transaction that outlives one closure: a request's unit of work, begun before
/// its handler runs and ended by [`commit`] or [`rollback`] once its response is known. Work
/// inside it that asks for a [`write_transaction`] gets a savepoint. `IMMEDIATE` on SQLite, as in
/// [`write_transaction`].
pub fn begin_write(connection: &mut DbConnection) -> Result<(), diesel::result::Error> {
    match connection {
        DbConnection::Sqlite(sqlite) => {
            AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")
        }
        DbConnection::Postgres(postgres) => AnsiTransactionManager::begin_transaction(postgres),
    }
}

/// Commits the transaction [`begin_write`] opened.
pub fn commit(connection: &mut DbConnection) -> Result<(), diesel::result::Error> {
    <DbConnection as Connection>::TransactionManager::commit_transaction(connection)
}

/// Rolls back the transaction [`begin_write`] opened.
pub fn rollback(connection: &mut DbConnection) -> Result<(), diesel::result::Error> {
    <DbConnection as Connection>::TransactionManager::rollback_transaction(connection)
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
    fn loopback_postgres_skips_tls_unless_the_url_says_otherwise() {
        let url = |text: &str| match DatabaseUrl::parse(text).unwrap() {
            DatabaseUrl::Postgres(url) => url,
            DatabaseUrl::Sqlite(_) => unreachable!(),
        };
        assert_eq!(
            url("postgres://u:p@127.0.0.1:5432/db"),
            "postgres://u:p@127.0.0.1:5432/db?sslmode=disable"
        );
        assert_eq!(
            url("postgresql://localhost/db?application_name=x"),
            "postgresql://localhost/db?application_name=x&sslmode=disable"
        );
        assert_eq!(
            url("postgres://u@[::1]:5433/db"),
            "postgres://u@[::1]:5433/db?sslmode=disable"
        );
        for kept in [
            "postgres://u@127.0.0.1/db?sslmode=require",
            "postgres://u@db.example.org/db",
            "postgres://u:p@10.0.0.7:5432/db",
            "postgres://u@localhost.example.org/db",
        ] {
            assert_eq!(url(kept), kept);
        }
    }

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
