-- 011_seq_fence: issue 13. Apply transactions no longer commit one after the other.
--
-- 007 made the publish cursor sound by having messages commit in seq order. A statement
-- trigger took a transaction advisory lock before an insert drew its seqs, and held it to
-- the commit. With two apply workers, one waited on the other from its obligations insert
-- to the other's commit. In the profile run that wait was most of the insert's 25 ms a
-- call, and the machine was idle for 8% of the run.
--
-- Now a message may commit below messages already visible. The cursor moves up only to a
-- fence: the last seq drawn (fence_seq) before a transaction id was given out (fence_xid).
-- Whoever drew a seq up to fence_seq had its id before that, so once no transaction below
-- fence_xid runs any more, every message at or below fence_seq is committed and visible, or
-- never will be. For this to hold, a transaction must have its id before it draws a seq: the
-- trigger that took the lock now assigns the id instead.
--
-- "No transaction below x runs" is read off a snapshot: none of its running ids (xip) is
-- below x, and its xmax (the last completed id + 1) is at least x. A snapshot's xmin alone
-- does not tell: ids given out after the last completed one are not in xip (the fault run
-- lost 3,340 messages to a first version that took xmin = xmax for "nothing runs").
--
-- Order within a subject does not depend on this: its transactions hold the subject's lock
-- (or its record's row) to their commit, so a later one draws a later seq.

LOCK TABLE credsync.obligations, credsync.outbox_rows, credsync.outbox_cursor
	IN SHARE ROW EXCLUSIVE MODE;

ALTER TABLE credsync.outbox_cursor ADD COLUMN fence_seq bigint, ADD COLUMN fence_xid xid8;

DROP TRIGGER obligations_seq_lock ON credsync.obligations;
DROP TRIGGER outbox_rows_seq_lock ON credsync.outbox_rows;
DROP FUNCTION credsync.outbox_seq_lock();

CREATE FUNCTION credsync.outbox_seq_xid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_current_xact_id();
	RETURN NULL;
END $$;
CREATE TRIGGER obligations_seq_xid BEFORE INSERT ON credsync.obligations
	FOR EACH STATEMENT EXECUTE FUNCTION credsync.outbox_seq_xid();
CREATE TRIGGER outbox_rows_seq_xid BEFORE INSERT ON credsync.outbox_rows
	FOR EACH STATEMENT EXECUTE FUNCTION credsync.outbox_seq_xid();

-- Whether no transaction with an id below x runs, in snapshot snap.
CREATE FUNCTION credsync.ended_below(snap pg_snapshot, x xid8) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
	SELECT pg_snapshot_xmax(snap) >= x
	   AND NOT EXISTS (SELECT FROM pg_snapshot_xip(snap) r WHERE r < x)
$$;

-- Marks the messages of seqs sent, then moves the cursor up to below the first message still
-- unsent, but not above the last fence passed: this call's own, when no transaction older
-- than it runs. PL/pgSQL keeps its plans from call to call (a SQL function plans every
-- statement on every call).
DROP FUNCTION credsync.outbox_mark_sent(bigint[]);
CREATE FUNCTION credsync.outbox_mark_sent(p_seqs bigint[]) RETURNS void
LANGUAGE plpgsql SET enable_seqscan = off SET enable_bitmapscan = off SET jit = off AS $$
DECLARE
	last_seq bigint;
	me xid8;
	snap pg_snapshot;
	c credsync.outbox_cursor;
	horizon bigint;
	below bigint;
BEGIN
	-- The last seq drawn, then an id, then a snapshot: whoever drew up to last_seq had an id
	-- below me.
	last_seq := coalesce(pg_sequence_last_value('credsync.outbox_seq_seq'), 0);
	me := pg_current_xact_id();
	snap := pg_current_snapshot();
	SELECT * INTO c FROM credsync.outbox_cursor FOR UPDATE;
	IF credsync.ended_below(snap, me) THEN
		horizon := last_seq;
		c.fence_seq := NULL;
		c.fence_xid := NULL;
	ELSIF c.fence_xid IS NOT NULL AND credsync.ended_below(snap, c.fence_xid) THEN
		horizon := c.fence_seq;
		c.fence_seq := last_seq;
		c.fence_xid := me;
	ELSE
		horizon := c.low;
		IF c.fence_xid IS NULL THEN
			c.fence_seq := last_seq;
			c.fence_xid := me;
		END IF;
	END IF;
	SELECT least(
		(SELECT min(o.seq) FROM credsync.obligations o
		  WHERE o.seq > c.low AND o.sent_at IS NULL AND NOT (o.seq = ANY (p_seqs))),
		(SELECT min(b.seq) FROM credsync.outbox_rows b
		  WHERE b.seq > c.low AND b.sent_at IS NULL AND NOT (b.seq = ANY (p_seqs)))) - 1
	  INTO below;
	UPDATE credsync.outbox_rows SET sent_at = now()
	 WHERE seq = ANY (p_seqs) AND sent_at IS NULL;
	UPDATE credsync.obligations SET sent_at = now()
	 WHERE seq = ANY (p_seqs) AND sent_at IS NULL;
	UPDATE credsync.outbox_cursor
	   SET low = greatest(c.low, least(horizon, coalesce(below, horizon))),
	       fence_seq = c.fence_seq, fence_xid = c.fence_xid;
END $$;

-- The unsent messages, as in 007, in PL/pgSQL for the same reason.
CREATE OR REPLACE FUNCTION credsync.outbox_unsent(p_after bigint, p_lim integer, p_skip bigint[])
RETURNS TABLE (seq bigint, id uuid, topic text, key text, payload text,
	       created_at timestamptz)
LANGUAGE plpgsql STABLE SET enable_seqscan = off SET enable_bitmapscan = off SET jit = off AS $$
#variable_conflict use_column
BEGIN
	RETURN QUERY
	SELECT m.seq, m.id, m.topic, m.key, m.payload, m.created_at FROM (
		(SELECT o.seq, o.id, o.topic, o.key, o.payload, o.created_at
		   FROM credsync.obligations o
		  WHERE o.seq > greatest(p_after, (SELECT c.low FROM credsync.outbox_cursor c))
		    AND o.sent_at IS NULL AND NOT (o.seq = ANY (p_skip))
		  ORDER BY o.seq LIMIT p_lim)
		UNION ALL
		(SELECT b.seq, b.id, b.topic, b.key, b.payload, b.created_at
		   FROM credsync.outbox_rows b
		  WHERE b.seq > greatest(p_after, (SELECT c.low FROM credsync.outbox_cursor c))
		    AND b.sent_at IS NULL AND NOT (b.seq = ANY (p_skip))
		  ORDER BY b.seq LIMIT p_lim)) m
	ORDER BY m.seq LIMIT p_lim;
END $$;
