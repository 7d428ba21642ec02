//! Backups of the embedded SQLite database, and their restore. A copy is made with SQLite's
//! `VACUUM INTO`, which reads one consistent snapshot while the server goes on writing (copying
//! a live WAL database's file is not a backup: the WAL holds what the file does not yet). The
//! copy is written beside its destination and renamed into place once checked, so a cron job
//! never leaves a half-written file under the name it asked for. PostgreSQL has its own tools
//! (`pg_dump`, WAL archiving), and this module does not pretend otherwise.

use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel::sqlite::SqliteConnection;

use crate::database::{DatabaseUrl, SQLITE_BUSY_TIMEOUT_MS};

/// Why a backup or a restore could not be made.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "DATABASE_URL is PostgreSQL: {0} (catalyst backup and restore copy the embedded SQLite database)"
    )]
    Postgres(String),
    #[error("{0} exists already: name a new file (or pass --force to replace it)")]
    Exists(PathBuf),
    #[error("the database {0} exists already: restore into an empty data folder")]
    TargetExists(PathBuf),
    #[error("there is no database at {0}")]
    Missing(PathBuf),
    #[error("{path} is not a Catalyst backup: {reason}")]
    NotABackup { path: PathBuf, reason: String },
    #[error("{path}: {reason}")]
    Sqlite { path: PathBuf, reason: String },
    #[error("{path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl BackupError {
    /// Whether the caller asked for something this cannot do (a usage error), rather than
    /// something going wrong on the way.
    pub fn is_setting(&self) -> bool {
        matches!(
            self,
            BackupError::Postgres(_) | BackupError::Exists(_) | BackupError::TargetExists(_)
        )
    }
}

#[derive(QueryableByName)]
struct Check {
    #[diesel(sql_type = Text)]
    integrity_check: String,
}

/// Copies the SQLite database of `url` into `file`, consistently, while others may write.
pub fn backup(url: &DatabaseUrl, file: &Path, force: bool) -> Result<(), BackupError> {
    let source = sqlite_path(url, "back it up with pg_dump --format=custom")?;
    if !source.exists() {
        return Err(BackupError::Missing(source.to_owned()));
    }
    if file.exists() && !force {
        return Err(BackupError::Exists(file.to_owned()));
    }
    copy(source, file, verify)
}

/// Makes `file` (a backup) the SQLite database of `url`, which must not exist yet. The server
/// migrates it at its next start when the backup is from an older release.
pub fn restore(url: &DatabaseUrl, file: &Path) -> Result<(), BackupError> {
    let target = sqlite_path(url, "restore a pg_dump with pg_restore")?;
    let wal = with_suffix(target, "-wal");
    if target.exists() || wal.exists() {
        return Err(BackupError::TargetExists(target.to_owned()));
    }
    if !file.exists() {
        return Err(BackupError::Missing(file.to_owned()));
    }
    verify(file)?;
    if let Some(folder) = target
        .parent()
        .filter(|folder| !folder.as_os_str().is_empty())
    {
        std::fs::create_dir_all(folder).map_err(|source| BackupError::File {
            path: folder.to_owned(),
            source,
        })?;
    }
    copy(file, target, |_| Ok(()))
}

/// One consistent snapshot of the database at `source`, written beside `target` and renamed
/// into place once `check` accepts it (a failed check leaves nothing behind).
fn copy(
    source: &Path,
    target: &Path,
    check: impl FnOnce(&Path) -> Result<(), BackupError>,
) -> Result<(), BackupError> {
    let partial = with_suffix(target, ".partial");
    remove_if_there(&partial)?;
    let mut connection = open(source)?;
    sqlite(
        source,
        diesel::sql_query("VACUUM INTO ?")
            .bind::<Text, _>(partial.to_string_lossy().as_ref())
            .execute(&mut connection),
    )?;
    drop(connection);
    if let Err(error) = check(&partial) {
        let _ = std::fs::remove_file(&partial);
        return Err(error);
    }
    std::fs::rename(&partial, target).map_err(|source| BackupError::File {
        path: target.to_owned(),
        source,
    })
}

/// A backup is whole (`PRAGMA integrity_check`) and is a Catalyst database (it has our
/// migrations table).
fn verify(file: &Path) -> Result<(), BackupError> {
    let mut connection = open(file)?;
    let checks: Vec<Check> = sqlite(
        file,
        diesel::sql_query("PRAGMA integrity_check").load(&mut connection),
    )?;
    let verdict: Vec<String> = checks
        .into_iter()
        .map(|check| check.integrity_check)
        .collect();
    if verdict != ["ok"] {
        return Err(BackupError::NotABackup {
            path: file.to_owned(),
            reason: format!("integrity check: {}", verdict.join("; ")),
        });
    }
    let migrations: i64 = diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '__diesel_schema_migrations'",
    )
    .get_result(&mut connection)
    .map_err(|error| BackupError::NotABackup {
        path: file.to_owned(),
        reason: error.to_string(),
    })?;
    if migrations == 0 {
        return Err(BackupError::NotABackup {
            path: file.to_owned(),
            reason: "it has no Catalyst schema".to_owned(),
        });
    }
    Ok(())
}

fn sqlite_path<'a>(url: &'a DatabaseUrl, advice: &str) -> Result<&'a Path, BackupError> {
    match url {
        DatabaseUrl::Sqlite(path) => Ok(path),
        DatabaseUrl::Postgres(_) => Err(BackupError::Postgres(advice.to_owned())),
    }
}

/// A connection that waits out the server's writes rather than failing on a lock.
fn open(path: &Path) -> Result<SqliteConnection, BackupError> {
    let mut connection = sqlite(path, SqliteConnection::establish(&path.to_string_lossy()))?;
    sqlite(
        path,
        connection.batch_execute(&format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")),
    )?;
    Ok(connection)
}

fn sqlite<T, E: std::fmt::Display>(path: &Path, result: Result<T, E>) -> Result<T, BackupError> {
    result.map_err(|error| BackupError::Sqlite {
        path: path.to_owned(),
        reason: error.to_string(),
    })
}

fn with_suffix(file: &Path, suffix: &str) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn remove_if_there(file: &Path) -> Result<(), BackupError> {
    match std::fs::remove_file(file) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(BackupError::File {
            path: file.to_owned(),
            source: error,
        }),
        _ => Ok(()),
    }
}
