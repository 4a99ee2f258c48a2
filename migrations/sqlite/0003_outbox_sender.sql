-- The outbox sender (issue 4): per-recipient progress of a row, so a recipient refused with a
-- 5xx never blocks the others and a retry never sends twice to a recipient already served.
-- Both are JSON arrays: delivered_to of addresses, refused of {"address", "error"} objects.
-- The recipients still to serve are recipients minus delivered_to minus refused.
ALTER TABLE outbox ADD COLUMN delivered_to TEXT NOT NULL DEFAULT '[]';
ALTER TABLE outbox ADD COLUMN refused TEXT NOT NULL DEFAULT '[]';
-- Leased rows are found by their lease expiry (a sender that died mid-send).
CREATE INDEX outbox_leases ON outbox (lease_until) WHERE status = 'sending';
