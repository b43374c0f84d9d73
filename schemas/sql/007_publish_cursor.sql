-- 007_publish_cursor: issue 13. Marking a message sent becomes a heap-only (HOT) update.
--
-- The publisher found unsent messages through the partial index obligations_unsent
-- (seq) WHERE sent_at IS NULL. Because that index names sent_at, marking a row sent wrote a
-- new row version and an entry in every index of obligations (six), and the index kept the
-- dead entries of every sent row until vacuum, so that each read of the unsent walked them
-- all (5.6 ms a read, 19 ms a mark of 500, growing with the table). Now no index names
-- sent_at: the unsent are found from a cursor instead, the publish cursor, below which every
-- message is sent.
--
-- The cursor is only sound if a message can never commit below it later. So that the
-- outbox's seq order is also its commit order, every statement that inserts messages takes
-- the transaction advisory lock outbox_seq (held to the commit) before its rows draw their
-- seq: a transaction's messages are committed before the next one draws a seq. The apply
-- transactions insert their messages last, so the lock is held only from that insert to the
-- commit.

LOCK TABLE credsync.obligations, credsync.outbox_rows IN SHARE ROW EXCLUSIVE MODE;

-- One row: every message with seq <= low is sent. The publisher moves it up after marking
-- rows sent (store_outbox_mark_sent); credsyncctl resend moves it down.
CREATE TABLE credsync.outbox_cursor (
	one boolean PRIMARY KEY DEFAULT true CHECK (one),
	low bigint NOT NULL
);

INSERT INTO credsync.outbox_cursor (low)
SELECT coalesce(least((SELECT min(seq) FROM credsync.obligations
		       WHERE sent_at IS NULL AND seq IS NOT NULL),
		      (SELECT min(seq) FROM credsync.outbox_rows WHERE sent_at IS NULL)) - 1,
		greatest((SELECT max(seq) FROM credsync.obligations),
			 (SELECT max(seq) FROM credsync.outbox_rows)),
		0);

-- The key is store_int.h's SQ_LOCK_SEQ ("creds" 3).
CREATE FUNCTION credsync.outbox_seq_lock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_advisory_xact_lock(27991802496876547);
	RETURN NULL;
END $$;

CREATE TRIGGER obligations_seq_lock BEFORE INSERT ON credsync.obligations
	FOR EACH STATEMENT EXECUTE FUNCTION credsync.outbox_seq_lock();
CREATE TRIGGER outbox_rows_seq_lock BEFORE INSERT ON credsync.outbox_rows
	FOR EACH STATEMENT EXECUTE FUNCTION credsync.outbox_seq_lock();

DROP INDEX credsync.obligations_unsent;
CREATE INDEX obligations_seq ON credsync.obligations (seq) WHERE seq IS NOT NULL;

-- A heap-only update needs room on the row's page: with 80% filled pages of rows that carry
-- their message, only one or two rows of a page found it (EXPLAIN: 64 ms, 2,707 WAL records to
-- mark 500 rows sent; with half-filled pages 2.6 ms and 500). New pages are filled to half.
ALTER TABLE credsync.obligations SET (fillfactor = 50);

-- The statement trigger of 006 on UPDATE kept every updated row twice in its transition
-- tables, also for marking rows sent, which changes no count (7 of the 16 ms of marking 500).
-- A row trigger that fires only when an acknowledgement or a due date changes replaces it.
DROP TRIGGER obligation_counts_upd ON credsync.obligations;
DROP FUNCTION credsync.obligation_counts_upd();
CREATE FUNCTION credsync.obligation_counts_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO credsync.obligation_count_deltas (due_date, unacked)
	SELECT d, sum(n) FROM (
		SELECT coalesce(OLD.due_date, 'infinity') AS d, -1 AS n WHERE OLD.acked_at IS NULL
		UNION ALL
		SELECT coalesce(NEW.due_date, 'infinity'), 1 WHERE NEW.acked_at IS NULL) c
	GROUP BY d HAVING sum(n) <> 0;
	RETURN NULL;
END $$;
CREATE TRIGGER obligation_counts_upd AFTER UPDATE OF acked_at, due_date ON credsync.obligations
	FOR EACH ROW
	WHEN ((OLD.acked_at IS NULL) <> (NEW.acked_at IS NULL)
	      OR OLD.due_date IS DISTINCT FROM NEW.due_date)
	EXECUTE FUNCTION credsync.obligation_counts_row();

-- The publisher's statements are functions, planned with the index of seq whatever the
-- statistics say: with "seq > the cursor" the planner cannot know how few rows that is, and
-- chose parallel sequential scans, sorts and JIT compilation (0.1-0.4 s a call in the profile
-- run, against a few ms). Functions carry their settings through any connection pooler.

-- The unsent messages above after (and the cursor), in seq order, at most lim (NULL: all),
-- leaving out those whose seq is in skip (the publisher's rows in flight).
CREATE FUNCTION credsync.outbox_unsent(p_after bigint, p_lim integer, p_skip bigint[])
RETURNS TABLE (seq bigint, id uuid, topic text, key text, payload text,
	       created_at timestamptz)
LANGUAGE sql STABLE SET enable_seqscan = off SET enable_bitmapscan = off SET jit = off AS $$
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
	ORDER BY m.seq LIMIT p_lim
$$;

-- Marks the messages of seqs sent, then moves the cursor up to below the first message still
-- unsent, or to the last message when none is: no message can commit below it later. A
-- cursor moved meanwhile by credsyncctl resend (which lowers it) is left as it is.
CREATE FUNCTION credsync.outbox_mark_sent(p_seqs bigint[]) RETURNS void
LANGUAGE sql SET enable_seqscan = off SET enable_bitmapscan = off SET jit = off AS $$
	UPDATE credsync.outbox_rows SET sent_at = now()
	 WHERE seq = ANY (p_seqs) AND sent_at IS NULL;
	UPDATE credsync.obligations SET sent_at = now()
	 WHERE seq = ANY (p_seqs) AND sent_at IS NULL;
	WITH c AS (SELECT low FROM credsync.outbox_cursor),
	m AS (SELECT least(
		(SELECT min(o.seq) FROM credsync.obligations o
		  WHERE o.seq > (SELECT low FROM c) AND o.sent_at IS NULL),
		(SELECT min(b.seq) FROM credsync.outbox_rows b
		  WHERE b.seq > (SELECT low FROM c) AND b.sent_at IS NULL)) - 1 AS below,
		greatest((SELECT max(o.seq) FROM credsync.obligations o),
			 (SELECT max(b.seq) FROM credsync.outbox_rows b)) AS top)
	UPDATE credsync.outbox_cursor u
	   SET low = CASE WHEN u.low = c.low
			  THEN greatest(c.low, coalesce(m.below, m.top, c.low)) ELSE u.low END
	  FROM c, m;
$$;

-- The unsent messages (credsyncctl status, the backlog line).
CREATE VIEW credsync.unsent AS
	SELECT * FROM credsync.outbox_unsent(0, NULL, '{}');

ANALYZE credsync.outbox_cursor;
