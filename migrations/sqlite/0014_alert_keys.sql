-- Monitoring alerts (issue 14, SPEC 7): the ticket each alert key (host + service, lower case,
-- `db1/disk`) opened. A problem whose key has a ticket that is still new, open or pending
-- threads onto it; a recovery resolves it. A key may have had many tickets over time (each
-- resolved before the next problem): the newest open one counts. A ticket with a key is an
-- alert ticket: the monitoring system that wrote it is never mailed.
CREATE TABLE alert_keys (
    key        TEXT    NOT NULL,
    ticket_id  INTEGER NOT NULL REFERENCES tickets (id),
    source     TEXT    NOT NULL,  -- the [[alerts]] entry's name
    created_at INTEGER NOT NULL,
    PRIMARY KEY (key, ticket_id)
);
CREATE INDEX alert_keys_ticket ON alert_keys (ticket_id);
