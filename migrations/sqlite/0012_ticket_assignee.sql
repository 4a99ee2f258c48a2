-- Assignment (issue 14, SPEC 7): a ticket may be assigned to one agent or technician, who gets
-- its reminders. The column `tickets.assignee` exists since 0001 (NULL: unassigned); this index
-- serves `tickets list --assignee`, which compares addresses without case.
CREATE INDEX tickets_assignee ON tickets (assignee COLLATE NOCASE) WHERE assignee IS NOT NULL;
