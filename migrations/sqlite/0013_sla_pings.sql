-- SLA pings (issue 14, SPEC 7). Each ping is one row keyed by (ticket, kind, due time), written
-- in the transaction that queues its mail: a repeated pass, a second process or a clock that
-- jumped finds the key taken and sends nothing. The due time comes from the ticket's stored
-- times (`sla::schedule`), never from the clock of the pass. It replaces 0001's table of the
-- same name, which nothing ever wrote (its key was text).
DROP TABLE sla_pings;
CREATE TABLE sla_pings (
    ticket_id  INTEGER NOT NULL REFERENCES tickets (id),
    kind       TEXT    NOT NULL CHECK (kind IN ('open_reminder', 'pending_prompt', 'auto_close')),
    due_at     INTEGER NOT NULL,
    sent_at    INTEGER NOT NULL,
    PRIMARY KEY (ticket_id, kind, due_at)
);

-- When a ticket took its current status (the SLA clocks start there), and the agent's note
-- given with it (what a pending ticket waits for, quoted in the prompt to the customer).
ALTER TABLE tickets ADD COLUMN status_since INTEGER;
ALTER TABLE tickets ADD COLUMN status_note TEXT;
UPDATE tickets SET status_since = updated_at;
