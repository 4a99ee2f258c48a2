//! What can go wrong in the store, as its callers must branch on it (SPEC 12): the database
//! **refused** this data (a constraint, a trigger, a value it cannot store), which is the mail's
//! fault and sends that one mail to quarantine; or the database is **unavailable** (busy, locked,
//! out of disk, I/O error, corrupt, cannot be opened), which stops the run with nothing
//! acknowledged, so that the mail is read again once the database is back.
//!
//! The backend's own codes are read in one place (`sqlite::error_codes` today; a PostgreSQL
//! backend reads its SQLSTATE classes in its own).

use std::fmt;

/// Which of the two a failure is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The database will not take this data: quarantine the mail, go on with the others.
    Refused,
    /// The database itself failed: stop, acknowledge nothing, retry later.
    Unavailable,
}

/// A store failure with its [`ErrorKind`]. Displayed as the whole chain of what failed
/// ("committing a batch: database is locked").
pub struct Error {
    kind: ErrorKind,
    inner: anyhow::Error,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Data the store will not take, found before the database saw it.
    pub fn refused(inner: impl Into<anyhow::Error>) -> Error {
        Error {
            kind: ErrorKind::Refused,
            inner: inner.into(),
        }
    }

    /// Adds what was being done, keeping the kind.
    pub fn context<C>(self, what: C) -> Error
    where
        C: fmt::Display + Send + Sync + 'static,
    {
        Error {
            kind: self.kind,
            inner: self.inner.context(what),
        }
    }
}

/// `anyhow::Context` for store results: adds what was being done and keeps the kind.
pub trait Context<T> {
    fn context<C>(self, what: C) -> Result<T>
    where
        C: fmt::Display + Send + Sync + 'static;

    fn with_context<C, F>(self, what: F) -> Result<T>
    where
        C: fmt::Display + Send + Sync + 'static,
        F: FnOnce() -> C;
}

impl<T, E: Into<Error>> Context<T> for std::result::Result<T, E> {
    fn context<C>(self, what: C) -> Result<T>
    where
        C: fmt::Display + Send + Sync + 'static,
    {
        self.map_err(|e| e.into().context(what))
    }

    fn with_context<C, F>(self, what: F) -> Result<T>
    where
        C: fmt::Display + Send + Sync + 'static,
        F: FnOnce() -> C,
    {
        self.map_err(|e| e.into().context(what()))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", self.inner)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} ({:?})", self.inner, self.kind)
    }
}

impl std::error::Error for Error {}

impl From<sqlx::Error> for Error {
    fn from(error: sqlx::Error) -> Error {
        Error {
            kind: super::sqlite::error_codes::kind_of(&error),
            inner: error.into(),
        }
    }
}

/// An error with context added by `anyhow`: its kind is that of the driver error inside it,
/// else (a value that would not convert or serialise) refused data.
impl From<anyhow::Error> for Error {
    fn from(inner: anyhow::Error) -> Error {
        let kind = inner
            .chain()
            .find_map(|e| e.downcast_ref::<sqlx::Error>())
            .map_or(ErrorKind::Refused, super::sqlite::error_codes::kind_of);
        Error { kind, inner }
    }
}

macro_rules! refused_from {
    ($($t:ty),+ $(,)?) => {
        $(impl From<$t> for Error {
            fn from(error: $t) -> Error {
                Error::refused(error)
            }
        })+
    };
}

refused_from!(
    serde_json::Error,
    crate::domain::ticket::UnknownValue,
    std::num::TryFromIntError,
    super::RawDecodeError,
);

impl From<sqlx::migrate::MigrateError> for Error {
    fn from(error: sqlx::migrate::MigrateError) -> Error {
        Error {
            kind: ErrorKind::Unavailable,
            inner: error.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_outside_the_database_mean_it_is_unavailable() {
        assert_eq!(
            Error::from(sqlx::Error::PoolTimedOut).kind(),
            ErrorKind::Unavailable
        );
        let closed: Error = anyhow::Error::from(sqlx::Error::PoolClosed)
            .context("starting a transaction")
            .into();
        assert_eq!(closed.kind(), ErrorKind::Unavailable);
        assert_eq!(
            closed.to_string(),
            "starting a transaction: attempted to acquire a connection on a closed pool"
        );
    }

    #[test]
    fn data_that_will_not_convert_is_refused() {
        let e: Error = serde_json::from_str::<u8>("x").unwrap_err().into();
        assert_eq!(e.kind(), ErrorKind::Refused);
        assert_eq!(e.context("reading").kind(), ErrorKind::Refused);
    }
}
