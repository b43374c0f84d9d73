-- 014_copy: issue 13. Large batches COPY their obligations.
--
-- A batch of 32 messages or more writes its inbound rows, and its obligations with their
-- pending rows, with COPY straight into the tables (store_batch.c): in the profile run the
-- obligations insert from arrays was a third of PostgreSQL's time, and COPY writes the same
-- rows for about a third less. COPY cannot compute an obligation's seq as the insert from
-- arrays does (nextval in the statement), so the column draws it by default, in the order of
-- the rows, as the insert did. Every obligation credsyncd writes with a message gets one;
-- an obligation without a message still says seq NULL in its insert (obligations_message).

ALTER TABLE credsync.obligation_rows
	ALTER COLUMN seq SET DEFAULT nextval('credsync.outbox_seq_seq');

-- The publisher's read plans once per connection. A PL/pgSQL function plans its queries for
-- each call's parameters (a custom plan) until a generic plan seems no costlier; for the
-- read's union of six branches that planning was most of a call (3 ms against 0.5 ms).
ALTER FUNCTION credsync.outbox_rows_from(bigint, bigint, integer, bigint[], bigint[])
	SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION credsync.outbox_read(bigint, bigint, integer, bigint[], bigint[], bigint, bigint)
	SET plan_cache_mode = force_generic_plan;
