-- Quarantined mail is stored like a message's bytes: LZ4-compressed, the encoding named by
-- raw_codec (rows from before keep 'none'). A hostile mail of millions of header lines shrinks
-- to a fraction, so holding it costs the database, and the writer's memory, little.
ALTER TABLE quarantine ADD COLUMN raw_codec TEXT NOT NULL DEFAULT 'none';

-- The mail's size as received. LENGTH(raw) is no longer it: raw is compressed, and for a
-- header-only entry it is only the header. NULL for rows from before (their LENGTH(raw) is the
-- size) and for mail only known to be over the limit (read from standard input).
ALTER TABLE quarantine ADD COLUMN size INTEGER;
