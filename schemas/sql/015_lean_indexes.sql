-- 015_lean_indexes: issue 13. Cheaper index entries for the rows every event writes.
--
-- Every applied event writes an inbound row, its record, one or two obligations and their
-- pending rows; in the profile run, inserting index entries was a third of PostgreSQL's CPU
-- (perf: ExecInsertIndexTuples). Three of those indexes were costlier than their readers
-- need. Measured on a scratch server (fsync on, 160 transactions of 400 obligations and 200
-- inbound rows, COPY): docs/SCALE.md, tenth round.
--
-- - obligations_record (uscc, kind, list, decision_no): read only by credsyncctl history
--   (the obligations of a subject) and resend (those of one record). A hash index on uscc
--   serves both; its entry is a 4-byte hash, not four texts compared by collation. The
--   obligations' COPY takes an eighth less.
-- - inbound_uscc: the same reader (credsyncctl history). Hash as well, and without the
--   acknowledgements and unreadable messages, which have no uscc (uscc = $1 implies the
--   predicate, so the planner still uses it).
-- - pending_unlogged (due_date, id): the breach and at-risk scans read it by due date. With
--   the id in the key every insert went to a random place among a day's entries; on due_date
--   alone equal keys are kept in heap order, so a batch's inserts land together at the end
--   of their day. The scans no longer order a day's obligations by id (store_time.c): which
--   of them is logged first does not matter, and an order by id would sort the whole day.
--   The pending COPY takes a quarter less.
--
-- Hash indexes are WAL-logged and crash-safe since PostgreSQL 10. On a large database the
-- migration builds the three indexes inside its transaction (minutes for hundreds of
-- millions of rows): plan the upgrade's downtime accordingly, or build them beforehand with
-- CREATE INDEX CONCURRENTLY under these names and drop the old ones.

DROP INDEX IF EXISTS credsync.obligations_record;
CREATE INDEX IF NOT EXISTS obligations_uscc ON credsync.obligation_rows USING hash (uscc);

DROP INDEX IF EXISTS credsync.inbound_uscc;
CREATE INDEX IF NOT EXISTS inbound_uscc_hash ON credsync.inbound USING hash (uscc)
	WHERE uscc IS NOT NULL;

DROP INDEX IF EXISTS credsync.pending_unlogged;
CREATE INDEX IF NOT EXISTS pending_unlogged_due ON credsync.pending (due_date)
	WHERE NOT breach_logged;
