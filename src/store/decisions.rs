//! Reading the decision log: why each mail went where it went.

use sqlx::FromRow;

use super::Store;

#[derive(Debug, Clone, FromRow)]
pub struct DecisionRow {
    pub id: i64,
    pub created_at: i64,
    pub source: String,
    pub mailbox: String,
    pub message_id: Option<String>,
    pub classification: String,
    pub decision: String,
    pub rule: String,
    pub reason: String,
    pub ticket_id: Option<i64>,
}

const COLUMNS: &str = "SELECT id, created_at, source, mailbox, message_id, classification, decision, rule, \
     reason, ticket_id FROM decisions";

impl Store {
    /// The newest `limit` decisions, newest first.
    pub async fn recent_decisions(&self, limit: i64) -> anyhow::Result<Vec<DecisionRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{COLUMNS} ORDER BY id DESC LIMIT ?1"
        )))
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }

    /// Every decision about ticket `number`, oldest first.
    pub async fn ticket_decisions(&self, number: i64) -> anyhow::Result<Vec<DecisionRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{COLUMNS} WHERE ticket_id = ?1 ORDER BY id"
        )))
        .bind(number)
        .fetch_all(self.pool())
        .await?)
    }
}
