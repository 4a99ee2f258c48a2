-- mailgate schema, SQLite flavour. migrations/postgres/ carries the same file names with the
-- same meaning. Times are Unix seconds (INTEGER); booleans are 0/1.

-- Gapless counters (ticket numbers), incremented inside the transaction that uses them.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO counters (name, value) VALUES ('ticket_number', 0);

-- One row per ticket; id is the ticket number shown as PREFIX-id.
CREATE TABLE tickets (
    id               INTEGER PRIMARY KEY,
    subject          TEXT    NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('new', 'open', 'pending', 'resolved', 'closed')),
    priority         TEXT    NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'critical')),
    requester        TEXT    NOT NULL,
    mailbox          TEXT    NOT NULL,
    escalation       INTEGER NOT NULL DEFAULT 0,
    tier             INTEGER,
    category         TEXT,
    assignee         TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    last_customer_at INTEGER,
    last_agent_at    INTEGER,
    resolved_at      INTEGER
);
CREATE INDEX tickets_status ON tickets (status, updated_at);

CREATE TABLE participants (
    ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    address   TEXT    NOT NULL,
    name      TEXT,
    role      TEXT    NOT NULL CHECK (role IN ('requester', 'cc', 'agent', 'technician', 'contact')),
    bouncing  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (ticket_id, address)
);
CREATE INDEX participants_address ON participants (address);

-- Every mail of a ticket: received, sent by mailgate (outbound) or internal notes.
CREATE TABLE messages (
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
    body_text      TEXT,              -- NULL: derived from raw on read (inbound mail)
    reply_text     TEXT    NOT NULL,  -- what is new in this mail: quotes and signature removed
    source         TEXT    NOT NULL,
    raw_sha256     TEXT    NOT NULL,
    raw            BLOB
);
CREATE INDEX messages_ticket ON messages (ticket_id, id);

-- Attachment metadata per message; contents stored once per distinct SHA-256.
CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY,
    message_id   TEXT    NOT NULL REFERENCES messages (message_id),
    position     INTEGER NOT NULL,
    filename     TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT    NOT NULL REFERENCES blobs (sha256)
);
CREATE INDEX attachments_message ON attachments (message_id, position);

CREATE TABLE blobs (
    sha256  TEXT PRIMARY KEY,
    content BLOB NOT NULL
);

-- The decision log: why every mail went where it went.
CREATE TABLE decisions (
    id             INTEGER PRIMARY KEY,
    created_at     INTEGER NOT NULL,
    source         TEXT    NOT NULL,
    mailbox        TEXT    NOT NULL,
    message_id     TEXT,
    raw_sha256     TEXT    NOT NULL,
    classification TEXT    NOT NULL,
    decision       TEXT    NOT NULL,
    rule           TEXT    NOT NULL,
    reason         TEXT    NOT NULL,
    ticket_id      INTEGER REFERENCES tickets (id)
);
CREATE INDEX decisions_message_id ON decisions (message_id);

-- Mail that could not be processed, kept whole with its reason until reprocessed.
CREATE TABLE quarantine (
    id          INTEGER PRIMARY KEY,
    created_at  INTEGER NOT NULL,
    source      TEXT    NOT NULL,
    mailbox     TEXT    NOT NULL,
    message_id  TEXT,
    reason      TEXT    NOT NULL,
    raw_sha256  TEXT    NOT NULL UNIQUE,
    raw         BLOB    NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'held' CHECK (status IN ('held', 'reprocessed', 'discarded'))
);

-- IMAP sync checkpoints, written in the same transaction as the messages they produced.
CREATE TABLE mailbox_state (
    mailbox      TEXT PRIMARY KEY,
    uid_validity INTEGER NOT NULL,
    last_uid     INTEGER NOT NULL,
    lease_owner  TEXT,
    lease_until  INTEGER,
    updated_at   INTEGER NOT NULL
);

-- Import progress per archive path (informational; dedupe by Message-ID keeps re-runs exact).
CREATE TABLE import_checkpoints (
    path       TEXT PRIMARY KEY,
    position   TEXT    NOT NULL,
    messages   INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Outgoing notifications, written in the transaction of the change that caused them.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    ticket_id       INTEGER REFERENCES tickets (id),
    kind            TEXT    NOT NULL,
    recipients      TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    message_id      TEXT    NOT NULL UNIQUE,
    in_reply_to     TEXT,
    references_ids  TEXT    NOT NULL DEFAULT '',
    auto_submitted  TEXT    NOT NULL DEFAULT 'auto-generated',
    body_text       TEXT    NOT NULL,
    body_html       TEXT,
    status          TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'held')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_owner     TEXT,
    lease_until     INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

-- SLA pings already sent, so a restart or a second instance never sends one twice.
CREATE TABLE sla_pings (
    ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    kind      TEXT    NOT NULL,
    due_key   TEXT    NOT NULL,
    sent_at   INTEGER NOT NULL,
    PRIMARY KEY (ticket_id, kind, due_key)
);
