-- Mail to tier 1 about an escalation (SPEC 4): a refusal belongs to no ticket, and tier 1's
-- answer must reach the escalation mailbox it wrote to, not the support address.
-- NULL: Reply-To is the ticket's plus-address (or the support address).
ALTER TABLE outbox ADD COLUMN reply_to TEXT;
