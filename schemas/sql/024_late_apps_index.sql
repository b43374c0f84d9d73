-- 024_late_apps_index: issue 13. The deadline job's question about repair applications,
-- "which are late and not logged yet", by an index of exactly those.
--
-- The job asks it every second. Its only index was repair_applications_open, every
-- undecided application (002_deadlines.sql), and the planner walked the primary key past
-- all of them instead: an application logged late stays undecided, often for good, and is
-- read again on every tick. On a scratch server with 20,000 open applications, all logged,
-- a tick that found nothing took 11 ms; in the benchmark's run 4 (1,000 events/s, 7,000
-- applications), 44 ticks took 25 ms each of the server's time, a cost that grew with every
-- application ever late. Each partial index below holds the applications whose step is
-- still undone and not logged late, by its due date, so a tick reads the late ones it logs
-- and one entry more; an application leaves it when the step is done or logged.

CREATE INDEX IF NOT EXISTS repair_applications_accept_unlogged
	ON credsync.repair_applications (accept_due)
	WHERE decided_at IS NULL AND accepted_at IS NULL AND accept_late_logged_at IS NULL;
CREATE INDEX IF NOT EXISTS repair_applications_decide_unlogged
	ON credsync.repair_applications (decide_due)
	WHERE decided_at IS NULL AND accepted_at IS NOT NULL AND decide_late_logged_at IS NULL;
