//! Reading the decision log: why each mail went where it went.

use std::collections::HashMap;

use crate::store::{DecisionRow, Result, Store};

const COLUMNS: &str = "SELECT id, created_at, source, mailbox, message_id, classification, decision, rule, \
     reason, ticket_id FROM decisions";

impl Store {
    /// The newest `limit` decisions, newest first.
    pub async fn recent_decisions(&self, limit: i64) -> Result<Vec<DecisionRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{COLUMNS} ORDER BY id DESC LIMIT ?1"
        )))
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }

    /// The latest decision name (`created`, `quarantined` …) of each IMAP source among
    /// `sources`: how the poller finishes acknowledging mail whose batch committed just before
    /// a crash. Sources without a decision are absent from the map.
    pub async fn imap_decisions(&self, sources: &[String]) -> Result<HashMap<String, String>> {
        if sources.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT source, decision FROM decisions \
             WHERE source IN (SELECT value FROM json_each(?1)) AND source LIKE 'imap:%' \
             ORDER BY id",
        )
        .bind(serde_json::to_string(sources)?)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().collect())
    }

    /// Every decision about ticket `number`, oldest first.
    pub async fn ticket_decisions(&self, number: i64) -> Result<Vec<DecisionRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{COLUMNS} WHERE ticket_id = ?1 ORDER BY id"
        )))
        .bind(number)
        .fetch_all(self.pool())
        .await?)
    }
}
