//! What can go wrong in storage, in terms the HTTP layer can map to a status without knowing SQL.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// The row exists but at another version than the caller expected.
    #[error("version mismatch: the current version is {current}")]
    VersionMismatch { current: i64 },
    /// A unique rule was broken; `constraint` names it for the caller to explain.
    #[error("duplicate value for {constraint}")]
    Duplicate { constraint: &'static str },
    /// A row refers to one that does not exist, or is still referred to.
    #[error("the change breaks a reference between records")]
    ForeignKey,
    /// The database cannot be reached or is too busy: worth retrying later.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Text the database cannot hold was sent to it: on PostgreSQL, a NUL character (SQLite
    /// takes it). It comes from a request, so it is the client's mistake, never stored.
    #[error("text the database cannot hold: {0}")]
    UnstorableText(String),
    /// A stored value that the domain does not accept: a bug or a hand-edited database.
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(DieselError),
}

impl From<DieselError> for StoreError {
    fn from(error: DieselError) -> Self {
        match error {
            DieselError::NotFound => StoreError::NotFound,
            DieselError::DatabaseError(kind, ref info) => match kind {
                DatabaseErrorKind::ForeignKeyViolation => StoreError::ForeignKey,
                // SQLite gives its plain constraint code (diesel reads no extended codes), so
                // only the message tells a broken reference.
                _ if info.message() == "FOREIGN KEY constraint failed" => StoreError::ForeignKey,
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand => {
                    StoreError::Unavailable(info.message().to_owned())
                }
                // SQLite reports a writer that outlasted busy_timeout as "database is locked";
                // PostgreSQL one that outlasted statement_timeout as a cancelled statement.
                _ if info.message().contains("database is locked")
                    || info.message().contains("statement timeout") =>
                {
                    StoreError::Unavailable(info.message().to_owned())
                }
                // SQLSTATE 22021, which diesel does not name: the one byte valid UTF-8 that
                // PostgreSQL's text refuses is NUL. Lookups guard against it where a request can
                // bring one; this catches any that a new query forgets.
                _ if info
                    .message()
                    .starts_with("invalid byte sequence for encoding") =>
                {
                    StoreError::UnstorableText(info.message().to_owned())
                }
                _ => StoreError::Database(error),
            },
            other => StoreError::Database(other),
        }
    }
}

impl From<r2d2::Error> for StoreError {
    fn from(error: r2d2::Error) -> Self {
        StoreError::Unavailable(error.to_string())
    }
}

/// Whether a diesel error is a unique violation (the caller then names the rule it broke).
pub fn is_unique_violation(error: &DieselError) -> bool {
    matches!(
        error,
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)
    )
}

/// A write's error, with a unique violation named as `constraint`: the one unique rule of the
/// table besides its partners' keys, which the caller explains in its own words.
pub fn unique_as(constraint: &'static str, error: DieselError) -> StoreError {
    if is_unique_violation(&error) {
        StoreError::Duplicate { constraint }
    } else {
        StoreError::from(error)
    }
}
