-- 014_copy: issue 13. Large batches COPY their obligations.
--
-- A batch of 32 messages or more writes its inbound rows, and its obligations with their
-- pending rows, with COPY straight into the tables (store_batch.c): in the profile run the
-- obligations insert from arrays was a third of PostgreSQL's time, and COPY writes the same
-- rows for about a third less. COPY cannot compute an obligation's seq as the insert from
-- arrays does (nextval in the statement), so the batch draws its seqs first, in the order
-- of its rows, and COPY writes them. The transaction takes its id before it draws them, as
-- the insert's trigger has it do (011_seq_fence.sql).
CREATE FUNCTION credsync.outbox_seqs(p_n integer) RETURNS SETOF bigint
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_current_xact_id();
	RETURN QUERY SELECT nextval('credsync.outbox_seq_seq') FROM generate_series(1, p_n);
END $$;

-- The publisher's read plans once per connection. A PL/pgSQL function plans its queries for
-- each call's parameters (a custom plan) until a generic plan seems no costlier; for the
-- read's union of six branches that planning was most of a call (3 ms against 0.5 ms).
ALTER FUNCTION credsync.outbox_rows_from(bigint, bigint, integer, bigint[], bigint[])
	SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION credsync.outbox_read(bigint, bigint, integer, bigint[], bigint[], bigint, bigint)
	SET plan_cache_mode = force_generic_plan;
