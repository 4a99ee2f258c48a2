//! What is derived from a stored mail when it is shown: its texts and its attachments' content.
//! mailgate keeps each received mail once, compressed; the full text, the new part of a reply and
//! the files are read from it by the same parser that decided on it (without its budgets).

use anyhow::Context;

use crate::store::{AttachmentSource, MessageRow, Store};

/// What a message says: the whole text body and the new part (quotes and signature removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageTexts {
    pub full: String,
    pub reply: String,
}

/// The texts of the message: stored for mail mailgate wrote, derived from the raw bytes for
/// received mail (a note in brackets when the stored mail cannot be read or parsed).
pub fn message_texts(m: &MessageRow) -> MessageTexts {
    if let (Some(full), Some(reply)) = (&m.body_text, &m.reply_text) {
        return MessageTexts {
            full: full.clone(),
            reply: reply.clone(),
        };
    }
    let derived = match m.raw_bytes() {
        Some(Ok(bytes)) => crate::parse::parse_stored(&bytes)
            .map(|e| (e.body_text, e.reply_text))
            .map_err(|e| format!("[the stored mail cannot be parsed: {e}]")),
        Some(Err(e)) => Err(format!("[the stored mail cannot be read: {e}]")),
        None => Err(String::new()),
    };
    let (full, reply) = match derived {
        Ok((full, reply)) => (full, reply),
        Err(note) => (note.clone(), note),
    };
    MessageTexts {
        full: m.body_text.clone().unwrap_or(full),
        reply: m.reply_text.clone().unwrap_or(reply),
    }
}

/// The content of a message's attachment: a part of the stored mail, or a file mailgate sent.
/// Checked against the SHA-256 recorded when the mail arrived, so what is returned is exactly
/// what was received.
pub async fn attachment_content(
    store: &Store,
    message_id: &str,
    position: i64,
) -> anyhow::Result<Vec<u8>> {
    let Some((sha256, source)) = store.attachment_source(message_id, position).await? else {
        anyhow::bail!("message {message_id} has no attachment at position {position}");
    };
    let raw = match source {
        AttachmentSource::Sent(content) => return Ok(content),
        AttachmentSource::StoredMail(raw) => raw,
    };
    let email = crate::parse::parse_stored(&raw)
        .map_err(|e| anyhow::anyhow!("the stored mail {message_id} cannot be parsed: {e}"))?;
    let attachment = usize::try_from(position)
        .ok()
        .and_then(|p| email.attachments.into_iter().nth(p))
        .with_context(|| {
            format!("the stored mail {message_id} has no attachment at position {position}")
        })?;
    anyhow::ensure!(
        attachment.sha256 == sha256,
        "attachment {position} of {message_id} does not match the SHA-256 recorded on arrival"
    );
    Ok(attachment.content)
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use crate::config::{Role, Settings};
    use crate::domain::Source;
    use crate::pipeline::{Pipeline, RawMessage, RunOptions};
    use crate::store::Store;

    use super::*;

    #[tokio::test]
    async fn attachment_contents_are_read_back_from_the_stored_mail() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/t.db", dir.path().display());
        let store = Store::open(&url).await.unwrap();
        let mut settings = Settings::from_toml("", "test").unwrap();
        settings.database_url = url;
        let mut pipeline = Pipeline::new(
            store.clone(),
            settings,
            RunOptions::import("support", Role::Support),
        );
        let raw = std::fs::read("fixtures/cases/attachments.eml").unwrap();
        let outcome = pipeline
            .process_message(RawMessage {
                source: Source::Stdin,
                bytes: raw,
            })
            .await
            .unwrap();
        let number = outcome.ticket.unwrap().number();

        let attachments = store.attachments(number).await.unwrap();
        assert_eq!(attachments.len(), 3, "{attachments:?}");
        for a in &attachments {
            let content = attachment_content(&store, &a.message_id, a.position)
                .await
                .unwrap();
            assert_eq!(content.len() as i64, a.size, "{a:?}");
            assert_eq!(hex::encode(Sha256::digest(&content)), a.sha256, "{a:?}");
        }
        let missing = attachment_content(&store, &attachments[0].message_id, 3)
            .await
            .unwrap_err();
        assert!(
            missing.to_string().contains("no attachment at position 3"),
            "{missing:#}"
        );
    }
}
