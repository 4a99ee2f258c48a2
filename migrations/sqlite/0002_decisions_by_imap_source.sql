-- After a crash between commit and IMAP move, the poller finds the decision of each message
-- still in the folder by its source (imap:<mailbox>;uidvalidity=<v>;uid=<n>). Partial, so
-- imports (whose sources are file positions) pay nothing for it.
CREATE INDEX decisions_imap_source ON decisions (source) WHERE source LIKE 'imap:%';
