-- no-transaction
-- Attachment contents are read from the stored mail (messages.raw) when needed, like the
-- texts since 0005: the blobs table held a second copy of every attachment. attachments
-- keeps the metadata (name, type, size, SHA-256 of the content, which checks what is derived
-- from raw). Its sha256 pointed at blobs, so the table is rebuilt without that reference.
--
-- participants_address indexed participants by address for a lookup that no query makes;
-- each batch paid for it with writes to pages all over the index.
--
-- decisions_message_id indexed every decision by Message-ID, for one question only: which
-- Message-IDs were decided on without being stored (ignored, rejected). A partial index of
-- just those decisions answers it from the index alone, and the other 99% of decisions no
-- longer write to random pages of an index.
--
-- Foreign keys must be off to rebuild a table, which SQLite only allows outside a
-- transaction, hence no-transaction and an explicit one around the rebuild (as in 0005).
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
CREATE TABLE attachments_new (
    id           INTEGER PRIMARY KEY,
    message_id   TEXT    NOT NULL REFERENCES messages (message_id),
    position     INTEGER NOT NULL,
    filename     TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT    NOT NULL   -- hex SHA-256 of the decoded content
);
INSERT INTO attachments_new (id, message_id, position, filename, content_type, size, sha256)
    SELECT id, message_id, position, filename, content_type, size, sha256 FROM attachments;
DROP TABLE attachments;
ALTER TABLE attachments_new RENAME TO attachments;
CREATE INDEX attachments_message ON attachments (message_id, position);
DROP TABLE blobs;
DROP INDEX participants_address;
DROP INDEX decisions_message_id;
CREATE INDEX decisions_unstored ON decisions (message_id, ticket_id, raw_sha256)
    WHERE decision IN ('ignored', 'rejected');
COMMIT;
PRAGMA foreign_keys = ON;
