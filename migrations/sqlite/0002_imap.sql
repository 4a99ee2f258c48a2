-- After a crash between commit and IMAP move, the poller finds the decision of each message
-- still in the folder by its source (imap:<mailbox>;uidvalidity=<v>;uid=<n>). Partial, so
-- imports (whose sources are file positions) pay nothing for it.
CREATE INDEX decisions_imap_source ON decisions (source) WHERE source LIKE 'imap:%';

-- Mail over the size limit is not downloaded from IMAP: only its header is kept in the
-- quarantine (the message stays in the mailbox's quarantine folder). Such an entry cannot be
-- reprocessed from the database.
ALTER TABLE quarantine ADD COLUMN header_only INTEGER NOT NULL DEFAULT 0;
