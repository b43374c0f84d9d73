-- 025_at_risk_unlogged: issue 13. The at-risk scan by an index of the unlogged ones.
--
-- After 12:00 the deadline job asks every second which unacknowledged obligations due today
-- are not logged at risk yet. pending's index held the obligations due today whose breach
-- was not logged (015_lean_indexes.sql), and whether the at-risk line was logged lived in
-- obligation_rows.at_risk_logged_at alone: every tick read all of today's unacknowledged,
-- logged or not, and looked each one's obligation up. On a scratch server with 100,000 due
-- today, all logged, a tick that found nothing took 89 ms (a sequential scan of the
-- obligations); a site down on a busy day makes that every second of the afternoon.
--
-- pending now notes the at-risk line too, and its index of the unlogged breaches is by
-- (due date, at-risk logged): the breach scan reads the days before today as before, the
-- at-risk scan today's not yet logged. The index stays one entry a pending row, as wide as
-- before (a date and a boolean fit the 8 bytes a date took).
--
-- During an upgrade an instance of the previous release logs at risk without the flag: the
-- new release may log such an obligation once more that afternoon.

ALTER TABLE credsync.pending ADD COLUMN at_risk_logged boolean NOT NULL DEFAULT false;
UPDATE credsync.pending p SET at_risk_logged = true
FROM credsync.obligation_rows o WHERE o.id = p.id AND o.at_risk_logged_at IS NOT NULL;

DROP INDEX IF EXISTS credsync.pending_unlogged_due;
CREATE INDEX pending_unlogged_due ON credsync.pending (due_date, at_risk_logged)
	WHERE NOT breach_logged;
