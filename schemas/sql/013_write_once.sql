-- 013_write_once: issue 13. An obligation is written once: "sent" and "acknowledged" no
-- longer update it.
--
-- In the profile run (scripts/bench --profile --events 100000) marking sent and recording
-- acknowledgements were a quarter of PostgreSQL's time: each wrote a new version of the
-- obligation, message included (heap-only, so the table kept a fill factor of 50 to leave
-- room on its pages for them).
--
-- Now:
-- - "sent" is the publish cursor alone. The publisher keeps in memory what it has read and
--   delivered (store_outbox.c); its reads report the fence of 011_seq_fence.sql, so it knows
--   up to where it has read every message there will be, and moves the cursor there
--   (outbox_mark_sent) once all of them are delivered. Neither the read nor the mark walks
--   the messages between the cursor and the last one read, as they did. Each move is
--   appended to sent_marks (the cursor's history), so a message's sent_at is the time of the
--   first mark at or above its seq. After a crash the messages above the cursor go again
--   with the same ids, as before.
-- - credsyncctl resend queues a message in resends rather than clearing its sent_at: the
--   publisher sends the queued messages again in seq order and records when.
-- - An acknowledgement is a row appended to acks beside the delete of its pending row.
-- - The table becomes obligation_rows (fill factor 100: nothing updates it but the rare
--   breach and at-risk logs); credsync.obligations is a view over it with sent_at, acked_at
--   and ack_done_at derived, so readers see the same columns. The columns of the table keep
--   what earlier versions wrote (an upgrade loses and resends nothing); nothing writes them
--   any more.
--
-- sent_marks would grow by a row per publish cycle: the jobs thread thins the marks older
-- than 10 minutes to the last one of each second (sent_marks_thin), so older sent_at values
-- are up to a second late.

LOCK TABLE credsync.obligations, credsync.outbox_rows, credsync.outbox_cursor,
	credsync.pending IN SHARE ROW EXCLUSIVE MODE;

ALTER TABLE credsync.obligations RENAME TO obligation_rows;
ALTER TABLE credsync.obligation_rows SET (fillfactor = 100);

CREATE TABLE credsync.sent_marks (
	low bigint PRIMARY KEY,
	at timestamptz NOT NULL
);
CREATE INDEX sent_marks_at ON credsync.sent_marks (at);

CREATE TABLE credsync.resends (
	seq bigint PRIMARY KEY,
	queued_at timestamptz NOT NULL DEFAULT now(),
	sent_at timestamptz
);

CREATE TABLE credsync.acks (
	id uuid PRIMARY KEY,
	acked_at timestamptz NOT NULL DEFAULT now(),
	done_at timestamptz
);

-- When the message of seq was sent: NULL while it is not.
CREATE FUNCTION credsync.sent_time(p_seq bigint, p_legacy timestamptz) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN r.seq IS NOT NULL THEN r.sent_at
		    ELSE coalesce(p_legacy, (SELECT m.at FROM credsync.sent_marks m
					      WHERE m.low >= p_seq ORDER BY m.low LIMIT 1)) END
	FROM (SELECT) one LEFT JOIN credsync.resends r ON r.seq = p_seq
$$;

CREATE VIEW credsync.obligations AS
	SELECT o.id, o.site, o.type, o.reason, o.kind, o.uscc, o.list, o.decision_no, o.producer,
	       o.subject_name, o.disclose_until, o.repairable_from, o.rec_system,
	       o.rec_decision_no, o.rec_repair_decision_no, o.rec_repaired_on, o.source_event_id,
	       o.received_at, o.due_date, o.created_at,
	       credsync.sent_time(o.seq, o.sent_at) AS sent_at,
	       coalesce(o.acked_at, a.acked_at) AS acked_at,
	       coalesce(o.ack_done_at, a.done_at) AS ack_done_at,
	       o.breach_logged_at, o.at_risk_logged_at, o.seq, o.topic, o.key, o.payload
	FROM credsync.obligation_rows o LEFT JOIN credsync.acks a ON a.id = o.id;

CREATE OR REPLACE VIEW credsync.outbox AS
	SELECT seq, id, topic, key, payload, created_at, credsync.sent_time(seq, sent_at) AS sent_at
	FROM credsync.outbox_rows
	UNION ALL
	SELECT seq, id, topic, key, payload, created_at, credsync.sent_time(seq, sent_at)
	FROM credsync.obligation_rows WHERE seq IS NOT NULL;

-- The unsent messages above p_start, and above p_after the queued resends and the unsent
-- messages of p_retry (whose delivery failed), in seq order, without the seqs of p_skip (in
-- flight, or delivered above p_start). p_start NULL: from the cursor.
CREATE FUNCTION credsync.outbox_rows_from(p_start bigint, p_after bigint, p_lim integer,
					  p_skip bigint[], p_retry bigint[])
RETURNS TABLE (seq bigint, id uuid, topic text, key text, payload text,
	       created_at timestamptz)
LANGUAGE plpgsql STABLE SET enable_seqscan = off SET enable_bitmapscan = off SET jit = off AS $$
#variable_conflict use_column
DECLARE
	lo bigint := greatest(p_after,
			      coalesce(p_start, (SELECT c.low FROM credsync.outbox_cursor c)));
BEGIN
	-- DISTINCT: a message to retry may also be above lo, or a queued resend
	RETURN QUERY
	SELECT DISTINCT ON (m.seq) m.seq, m.id, m.topic, m.key, m.payload, m.created_at FROM (
		(SELECT o.seq, o.id, o.topic, o.key, o.payload, o.created_at
		   FROM credsync.obligation_rows o
		  WHERE o.seq > lo AND o.sent_at IS NULL
		    AND o.seq NOT IN (SELECT unnest(p_skip))
		  ORDER BY o.seq LIMIT p_lim)
		UNION ALL
		(SELECT b.seq, b.id, b.topic, b.key, b.payload, b.created_at
		   FROM credsync.outbox_rows b
		  WHERE b.seq > lo AND b.sent_at IS NULL
		    AND b.seq NOT IN (SELECT unnest(p_skip))
		  ORDER BY b.seq LIMIT p_lim)
		UNION ALL
		(SELECT o.seq, o.id, o.topic, o.key, o.payload, o.created_at
		   FROM credsync.resends r JOIN credsync.obligation_rows o ON o.seq = r.seq
		  WHERE r.sent_at IS NULL AND r.seq > p_after
		    AND NOT (o.seq > lo AND o.sent_at IS NULL)
		    AND r.seq NOT IN (SELECT unnest(p_skip))
		  ORDER BY r.seq LIMIT p_lim)
		UNION ALL
		(SELECT b.seq, b.id, b.topic, b.key, b.payload, b.created_at
		   FROM credsync.resends r JOIN credsync.outbox_rows b ON b.seq = r.seq
		  WHERE r.sent_at IS NULL AND r.seq > p_after
		    AND NOT (b.seq > lo AND b.sent_at IS NULL)
		    AND r.seq NOT IN (SELECT unnest(p_skip))
		  ORDER BY r.seq LIMIT p_lim)
		UNION ALL
		(SELECT o.seq, o.id, o.topic, o.key, o.payload, o.created_at
		   FROM credsync.obligation_rows o
		  WHERE o.seq = ANY (p_retry) AND o.seq > p_after AND o.sent_at IS NULL
		  ORDER BY o.seq LIMIT p_lim)
		UNION ALL
		(SELECT b.seq, b.id, b.topic, b.key, b.payload, b.created_at
		   FROM credsync.outbox_rows b
		  WHERE b.seq = ANY (p_retry) AND b.seq > p_after AND b.sent_at IS NULL
		  ORDER BY b.seq LIMIT p_lim)) m
	ORDER BY m.seq LIMIT p_lim;
END $$;

-- Every unsent message from the cursor (the view credsync.unsent, credsyncctl, the tests).
CREATE OR REPLACE FUNCTION credsync.outbox_unsent(p_after bigint, p_lim integer, p_skip bigint[])
RETURNS TABLE (seq bigint, id uuid, topic text, key text, payload text,
	       created_at timestamptz)
LANGUAGE sql STABLE AS $$
	SELECT * FROM credsync.outbox_rows_from(NULL, p_after, p_lim, p_skip, '{}')
$$;

-- The publisher's read (store_outbox.c): as outbox_rows_from, and on every row (or on a row
-- of NULLs when there is none) what the publisher needs to know how far it has read, with
-- the fence of 011_seq_fence.sql:
-- - start: where the read started;
-- - passed: the fence (p_fence_seq, p_fence_x) of an earlier read has passed: no transaction
--   with an id below p_fence_x runs, so every message up to p_fence_seq is committed and
--   visible to this read, or never will be;
-- - fence_seq, fence_x: a new fence, when the last one passed (or there was none) and seqs
--   were drawn since: the last seq drawn, then a transaction id given out after it (this
--   read's own: whoever drew up to fence_seq had an id below it). A snapshot's xmax would
--   not do: it is the last completed id + 1, and ids given out after it are in no snapshot's
--   list of running ones.
-- VOLATILE: each statement takes a new snapshot, so the rows are read at or after the
-- snapshot that passed is read from.
CREATE FUNCTION credsync.outbox_read(p_start bigint, p_after bigint, p_lim integer,
				     p_skip bigint[], p_retry bigint[], p_fence_seq bigint,
				     p_fence_x bigint)
RETURNS TABLE (seq bigint, id uuid, topic text, key text, payload text, start bigint,
	       passed boolean, fence_seq bigint, fence_x bigint)
LANGUAGE plpgsql VOLATILE SET jit = off AS $$
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
	RETURN QUERY
	SELECT r.seq, r.id, r.topic, r.key, r.payload, st, pass, new_seq, new_x
	FROM credsync.outbox_rows_from(st, p_after, p_lim, p_skip, p_retry) r;
	GET DIAGNOSTICS n = ROW_COUNT;
	IF n = 0 THEN
		RETURN QUERY SELECT NULL::bigint, NULL::uuid, NULL::text, NULL::text, NULL::text, st,
				    pass, new_seq, new_x;
	END IF;
END $$;

-- Records the resends of p_sent as sent and moves the cursor up to p_low: the publisher has
-- read every message up to it and all of them are delivered (store_outbox.c). Appends the
-- move to sent_marks. Returns the cursor. p_on_rows: the publisher holds too many delivered
-- messages above what it has read through (a delivery that keeps failing, or a transaction
-- holding an old id), and p_sent's are marked on their rows instead, as before 013.
DROP FUNCTION credsync.outbox_mark_sent(bigint[]);
CREATE FUNCTION credsync.outbox_mark_sent(p_sent bigint[], p_low bigint, p_on_rows boolean)
RETURNS bigint
LANGUAGE plpgsql SET enable_seqscan = off SET enable_bitmapscan = off SET jit = off AS $$
DECLARE
	old_low bigint;
	new_low bigint;
BEGIN
	-- a lost mark costs a resend with the same id (012_async_marks.sql)
	PERFORM set_config('synchronous_commit', 'off', true);
	IF p_on_rows THEN
		UPDATE credsync.outbox_rows SET sent_at = now()
		 WHERE seq = ANY (p_sent) AND sent_at IS NULL;
		UPDATE credsync.obligation_rows SET sent_at = now()
		 WHERE seq = ANY (p_sent) AND sent_at IS NULL;
	END IF;
	IF cardinality(p_sent) > 0 AND EXISTS (SELECT FROM credsync.resends r
						WHERE r.sent_at IS NULL) THEN
		UPDATE credsync.resends r SET sent_at = now()
		 WHERE r.seq = ANY (p_sent) AND r.sent_at IS NULL;
	END IF;
	SELECT c.low INTO old_low FROM credsync.outbox_cursor c FOR UPDATE;
	new_low := greatest(old_low, coalesce(p_low, old_low));
	IF new_low > old_low THEN
		UPDATE credsync.outbox_cursor SET low = new_low, fence_seq = NULL, fence_xid = NULL;
		INSERT INTO credsync.sent_marks (low, at) VALUES (new_low, now());
	END IF;
	RETURN new_low;
END $$;

-- Keeps, of the marks older than p_age, the last one of each second. It looks back 5 minutes
-- more: called every few seconds, older marks were thinned by earlier calls (those of an
-- instance stopped meanwhile stay, a few thousand rows at most). Returns the number deleted.
-- SECURITY DEFINER: credsync_app deletes nothing.
CREATE FUNCTION credsync.sent_marks_thin(p_age interval) RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	WITH d AS (
		DELETE FROM credsync.sent_marks m
		 WHERE m.at < now() - p_age AND m.at >= now() - p_age - interval '5 minutes'
		   AND (SELECT n.at FROM credsync.sent_marks n WHERE n.low > m.low
			 ORDER BY n.low LIMIT 1) < date_trunc('second', m.at) + interval '1 second'
		RETURNING 1)
	SELECT count(*) FROM d;
$$;

-- As in 010_pending.sql, with the acknowledgement appended to acks instead of set on the
-- obligation.
CREATE OR REPLACE FUNCTION credsync.acknowledge(p_ids uuid[], p_sites text[], p_done bigint[])
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	n bigint;
BEGIN
	WITH a AS (SELECT DISTINCT ON (id, site) id, site, done
		     FROM unnest(p_ids, p_sites, p_done) WITH ORDINALITY AS u(id, site, done, i)
		    ORDER BY id, site, i),
	d AS (DELETE FROM credsync.pending p USING a WHERE p.id = a.id AND p.site = a.site
	      RETURNING p.id, a.done)
	INSERT INTO credsync.acks (id, done_at) SELECT d.id, to_timestamp(d.done) FROM d;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END $$;

ANALYZE credsync.sent_marks, credsync.resends, credsync.acks;
