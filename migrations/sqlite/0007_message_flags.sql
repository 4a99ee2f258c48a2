-- Mail stored on a ticket with a reservation (SPEC 2, Trust; 2.4.1; 6):
--   non_participant   threaded by Message-ID from someone who is not a participant
--   unverified_agent  from an agent's address but not authenticated: an internal note, never relayed
-- NULL for every other message.
ALTER TABLE messages ADD COLUMN flag TEXT;
