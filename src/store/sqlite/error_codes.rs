//! SQLite's result codes, read into the store's [`ErrorKind`]: a constraint, a trigger or a
//! value SQLite will not store is refused data; BUSY, LOCKED, NOMEM, READONLY, IOERR, CORRUPT,
//! FULL, CANTOPEN and NOTADB are an unwell database.

use crate::store::ErrorKind;

/// SQLite primary result codes of an unhealthy database rather than bad data: BUSY, LOCKED,
/// NOMEM, READONLY, IOERR, CORRUPT, FULL, CANTOPEN, NOTADB.
const SQLITE_UNAVAILABLE: &[i64] = &[5, 6, 7, 8, 10, 11, 13, 14, 26];

/// The kind of a driver error: a database error is refused data unless its code says the
/// database is unwell; anything else (the pool closed or timed out, I/O, a protocol or TLS
/// failure, a migration that cannot run) means the database is unavailable.
pub(in crate::store) fn kind_of(error: &sqlx::Error) -> ErrorKind {
    match error {
        sqlx::Error::Database(db) => {
            let primary = db
                .code()
                .and_then(|c| c.parse::<i64>().ok())
                .map(|c| c & 0xff);
            if primary.is_some_and(|c| SQLITE_UNAVAILABLE.contains(&c)) {
                ErrorKind::Unavailable
            } else {
                ErrorKind::Refused
            }
        }
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) | sqlx::Error::Encode(_) => {
            ErrorKind::Refused
        }
        _ => ErrorKind::Unavailable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Error;

    #[tokio::test]
    async fn sqlite_codes_tell_refused_data_from_an_unwell_database() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(&format!("sqlite://{}/t.db", dir.path().display()))
            .await
            .unwrap();
        // A constraint: the data's fault.
        let e = sqlx::query("INSERT INTO counters (name, value) VALUES ('ticket_number', 1)")
            .execute(store.pool())
            .await
            .unwrap_err();
        assert_eq!(Error::from(e).kind(), ErrorKind::Refused);
        // The write lock held by another transaction (SQLITE_BUSY): the database's.
        let other = sqlx::sqlite::SqlitePoolOptions::new()
            .connect_with(
                format!("sqlite://{}/t.db", dir.path().display())
                    .parse::<sqlx::sqlite::SqliteConnectOptions>()
                    .unwrap()
                    .busy_timeout(std::time::Duration::ZERO),
            )
            .await
            .unwrap();
        let _held = store.begin_write().await.unwrap();
        let e = other.begin_with("BEGIN IMMEDIATE").await.unwrap_err();
        assert_eq!(Error::from(e).kind(), ErrorKind::Unavailable);
    }
}
