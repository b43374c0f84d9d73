-- 012_async_marks: issue 13. Marking messages sent no longer waits for the WAL flush.
--
-- The publisher's cycle was: mark the delivered messages sent, commit, read the next ones,
-- produce them. The commit waited for its WAL to reach the disk, although a mark that is
-- lost costs only a resend with the same id, which the contract allows (a site treats an id
-- it has applied as done). So the marking transaction commits asynchronously: its WAL reaches
-- the disk with the next flush (the next apply commit, or wal_writer_delay at the latest).
--
-- What a crash can lose is a suffix of marks: WAL is written in order, so a durable commit
-- after a mark (an acknowledgement of the message, another mark) makes the mark durable too.
-- The marks, the cursor and its fence are lost together, as they are written together.

CREATE OR REPLACE FUNCTION credsync.outbox_mark_sent(p_seqs bigint[]) RETURNS void
LANGUAGE plpgsql SET enable_seqscan = off SET enable_bitmapscan = off SET jit = off AS $$
DECLARE
	last_seq bigint;
	me xid8;
	snap pg_snapshot;
	c credsync.outbox_cursor;
	horizon bigint;
	below bigint;
BEGIN
	PERFORM set_config('synchronous_commit', 'off', true);
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
