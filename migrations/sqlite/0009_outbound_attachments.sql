-- Files mailgate sends (issue 18 item 11): an agent's attachments relayed to the customer and
-- `tickets reply --attach`. Each content is stored once, keyed by its SHA-256, however many
-- mails and recipient rows carry it; outbox_attachments says which files an outbox row (by its
-- Message-ID, unique per row) carries, in order. The outbound message stored on the ticket lists
-- the same files in `attachments` (name, type, size, SHA-256), like a received mail's.
CREATE TABLE outbound_attachment_contents (
    sha256  TEXT PRIMARY KEY,   -- hex SHA-256 of content
    content BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE outbox_attachments (
    outbox_message_id TEXT    NOT NULL,   -- outbox.message_id
    position          INTEGER NOT NULL,
    filename          TEXT    NOT NULL,
    content_type      TEXT    NOT NULL,
    sha256            TEXT    NOT NULL REFERENCES outbound_attachment_contents (sha256),
    PRIMARY KEY (outbox_message_id, position)
) WITHOUT ROWID;
