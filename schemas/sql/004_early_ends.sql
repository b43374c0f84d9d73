-- 004_early_ends: issue 12. An end (removal, repair, revocation) consumed before the record it
-- ends is judged when the add comes, as if it had come second. The record already holds one such
-- end (ended_by, end_reason, ended_at, ended_on, end_event_id, repair_decision_no); these hold a
-- second one from another producer, so that a foreign early end cannot push the owner's out
-- before the add judges both. end2_reason is NULL when there is none.
ALTER TABLE credsync.records
	ADD COLUMN end2_reason text,
	ADD COLUMN end2_at timestamptz,
	ADD COLUMN end2_by text NOT NULL DEFAULT '',
	ADD COLUMN end2_event_id uuid,
	ADD COLUMN end2_on date,
	ADD COLUMN end2_repair_decision_no text NOT NULL DEFAULT '';
