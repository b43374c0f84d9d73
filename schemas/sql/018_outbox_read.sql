-- 018_outbox_read: issue 13. The publisher's read in one query when nothing is resent.
--
-- outbox_read (013_write_once.sql) called outbox_rows_from, whose union reads the unsent
-- messages of both tables, the queued resends of both and the messages to retry of both,
-- each result materialized twice (one PL/pgSQL function returning another's rows). The
-- publisher reads after every batch: in the profile run 760 reads, 416 ms of the server's
-- time. When no resend is queued and none is to be retried (always, but after a failed
-- delivery or a credsyncctl resend), the union's other four branches are empty, the two
-- tables' seqs are one sequence's (no DISTINCT needed), and the read is the two unsent
-- branches in one query: 0.29-0.31 ms against 0.37-0.39 ms a call of 100 messages on a
-- scratch server (pgbench). Otherwise the read is outbox_rows_from's, as before.
--
-- The resends probe and the query are two statements, each with its own snapshot, both
-- after the fence's: a resend queued between them is read by the next call, as one queued
-- after a single statement's snapshot was.

CREATE OR REPLACE FUNCTION credsync.outbox_read(p_start bigint, p_after bigint, p_lim integer,
						p_skip bigint[], p_retry bigint[],
						p_fence_seq bigint, p_fence_x bigint)
RETURNS TABLE (seq bigint, id uuid, topic text, key text, payload text, start bigint,
	       passed boolean, fence_seq bigint, fence_x bigint)
LANGUAGE plpgsql VOLATILE SET jit = off SET plan_cache_mode = force_generic_plan
	SET enable_seqscan = off SET enable_bitmapscan = off AS $$
#variable_conflict use_column
DECLARE
	ls bigint;
	snap pg_snapshot;
	st bigint;
	pass boolean;
	new_seq bigint;
	new_x bigint;
	n bigint;
BEGIN
	ls := coalesce(pg_sequence_last_value('credsync.outbox_seq_seq'), 0);
	snap := pg_current_snapshot();
	st := greatest(p_after, coalesce(p_start, (SELECT c.low FROM credsync.outbox_cursor c)));
	pass := p_fence_x IS NOT NULL AND credsync.ended_below(snap, p_fence_x::text::xid8);
	IF (p_fence_x IS NULL OR pass) AND ls > greatest(st, coalesce(p_fence_seq, st)) THEN
		-- an id of its own: its commit need not wait for the WAL flush (it writes nothing)
		PERFORM set_config('synchronous_commit', 'off', true);
		new_seq := ls;
		new_x := pg_current_xact_id()::text::bigint;
	END IF;
	IF coalesce(cardinality(p_retry), 0) = 0 AND NOT EXISTS (
		SELECT 1 FROM credsync.resends r WHERE r.sent_at IS NULL AND r.seq > p_after) THEN
		RETURN QUERY
		SELECT m.seq, m.id, m.topic, m.key, m.payload, st, pass, new_seq, new_x FROM (
			(SELECT o.seq, o.id, o.topic, o.key, o.payload
			   FROM credsync.obligation_rows o
			  WHERE o.seq > st AND o.sent_at IS NULL
			    AND o.seq NOT IN (SELECT unnest(p_skip))
			  ORDER BY o.seq LIMIT p_lim)
			UNION ALL
			(SELECT b.seq, b.id, b.topic, b.key, b.payload
			   FROM credsync.outbox_rows b
			  WHERE b.seq > st AND b.sent_at IS NULL
			    AND b.seq NOT IN (SELECT unnest(p_skip))
			  ORDER BY b.seq LIMIT p_lim)) m
		ORDER BY m.seq LIMIT p_lim;
	ELSE
		RETURN QUERY
		SELECT r.seq, r.id, r.topic, r.key, r.payload, st, pass, new_seq, new_x
		FROM credsync.outbox_rows_from(st, p_after, p_lim, p_skip, p_retry) r;
	END IF;
	GET DIAGNOSTICS n = ROW_COUNT;
	IF n = 0 THEN
		RETURN QUERY SELECT NULL::bigint, NULL::uuid, NULL::text, NULL::text, NULL::text, st,
				    pass, new_seq, new_x;
	END IF;
END $$;
