-- no-transaction
-- Received mail is kept once: its raw bytes, compressed (raw_codec), from which the full text
-- and the new part of a reply are both derived when shown. reply_text therefore becomes NULL
-- for received mail, like body_text; mail mailgate wrote keeps both texts and no raw.
-- Rows stored before this migration keep their reply_text and raw_codec 'none'.
-- A covering index answers the seen-before lookup without touching the mail itself.
--
-- SQLite cannot drop a NOT NULL in place: the table is rebuilt. Foreign keys (attachments
-- point at messages) must be off for that, which SQLite only allows outside a transaction,
-- hence no-transaction and an explicit one around the rebuild.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
CREATE TABLE messages_new (
    id             INTEGER PRIMARY KEY,
    ticket_id      INTEGER NOT NULL REFERENCES tickets (id),
    message_id     TEXT    NOT NULL UNIQUE,
    direction      TEXT    NOT NULL CHECK (direction IN ('inbound', 'outbound', 'note')),
    classification TEXT    NOT NULL,
    from_addr      TEXT    NOT NULL,
    from_name      TEXT,
    to_addrs       TEXT    NOT NULL,
    cc_addrs       TEXT    NOT NULL,
    subject        TEXT    NOT NULL,
    sent_date      INTEGER,
    received_at    INTEGER NOT NULL,
    in_reply_to    TEXT,
    references_ids TEXT    NOT NULL,
    body_text      TEXT,              -- NULL: derived from raw on read (received mail)
    reply_text     TEXT,              -- NULL: derived from raw on read (received mail)
    source         TEXT    NOT NULL,
    raw_sha256     TEXT    NOT NULL,  -- of the mail as received, before compression
    raw            BLOB,
    raw_codec      TEXT    NOT NULL DEFAULT 'none' CHECK (raw_codec IN ('none', 'lz4'))
);
INSERT INTO messages_new (id, ticket_id, message_id, direction, classification, from_addr,
    from_name, to_addrs, cc_addrs, subject, sent_date, received_at, in_reply_to, references_ids,
    body_text, reply_text, source, raw_sha256, raw, raw_codec)
SELECT id, ticket_id, message_id, direction, classification, from_addr, from_name, to_addrs,
    cc_addrs, subject, sent_date, received_at, in_reply_to, references_ids, body_text,
    reply_text, source, raw_sha256, raw, 'none'
FROM messages;
DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;
CREATE INDEX messages_ticket ON messages (ticket_id, id);
-- Covers "was this Message-ID seen, on which ticket, with which bytes" (every batch asks it
-- for every mail): answered from the index alone, without reading rows that hold mail.
CREATE INDEX messages_seen ON messages (message_id, ticket_id, raw_sha256);
COMMIT;
PRAGMA foreign_keys = ON;
