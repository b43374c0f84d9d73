-- 006_backlog_counts: issue 13 step 5. The backlog line's counts (unacknowledged, overdue,
-- breach, at_risk, oldest due date) without reading every unacknowledged obligation: a
-- histogram of the unacknowledged obligations by due date, kept by statement triggers.
--
-- The apply transactions only append to obligation_count_deltas (one row per due date a
-- statement changed; no row is shared, so parallel writers never wait on each other). The
-- periodic jobs fold the deltas into obligation_counts (store_counts_fold) and read the sum
-- of both, whose size is the number of distinct due dates, not of obligations.
-- A NULL due date is counted under 'infinity' (a key cannot be NULL).

CREATE TABLE credsync.obligation_counts (
	due_date date PRIMARY KEY,
	unacked bigint NOT NULL
);

CREATE TABLE credsync.obligation_count_deltas (
	due_date date NOT NULL,
	unacked bigint NOT NULL
);

CREATE FUNCTION credsync.obligation_counts_ins() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO credsync.obligation_count_deltas (due_date, unacked)
	SELECT coalesce(due_date, 'infinity'), count(*) FROM new_rows
	WHERE acked_at IS NULL GROUP BY 1;
	RETURN NULL;
END $$;

CREATE FUNCTION credsync.obligation_counts_upd() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	-- Rows matched by id: an acknowledgement (or its undoing, or a changed due date) moves
	-- one obligation out of (or into) a due date's count.
	INSERT INTO credsync.obligation_count_deltas (due_date, unacked)
	SELECT d, sum(n) FROM (
		SELECT coalesce(o.due_date, 'infinity') AS d, -1 AS n
		FROM old_rows o JOIN new_rows n ON n.id = o.id
		WHERE o.acked_at IS NULL
		  AND (n.acked_at IS NOT NULL OR n.due_date IS DISTINCT FROM o.due_date)
		UNION ALL
		SELECT coalesce(n.due_date, 'infinity'), 1
		FROM old_rows o JOIN new_rows n ON n.id = o.id
		WHERE n.acked_at IS NULL
		  AND (o.acked_at IS NOT NULL OR n.due_date IS DISTINCT FROM o.due_date)
	) c GROUP BY d HAVING sum(n) <> 0;
	RETURN NULL;
END $$;

CREATE FUNCTION credsync.obligation_counts_del() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO credsync.obligation_count_deltas (due_date, unacked)
	SELECT coalesce(due_date, 'infinity'), -count(*) FROM old_rows
	WHERE acked_at IS NULL GROUP BY 1;
	RETURN NULL;
END $$;

-- Taken before the triggers and the first count, and held to the commit: no obligation is
-- written between the count and the triggers (counted twice or never).
LOCK TABLE credsync.obligations IN SHARE ROW EXCLUSIVE MODE;

CREATE TRIGGER obligation_counts_ins AFTER INSERT ON credsync.obligations
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION credsync.obligation_counts_ins();
CREATE TRIGGER obligation_counts_upd AFTER UPDATE ON credsync.obligations
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION credsync.obligation_counts_upd();
CREATE TRIGGER obligation_counts_del AFTER DELETE ON credsync.obligations
	REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION credsync.obligation_counts_del();

INSERT INTO credsync.obligation_counts (due_date, unacked)
SELECT coalesce(due_date, 'infinity'), count(*) FROM credsync.obligations
WHERE acked_at IS NULL GROUP BY 1;

-- Folds the deltas into the counts: the one DELETE of credsync, a bookkeeping one (the
-- deltas are a sum already counted), so it runs as the owner, not as credsync_app, which may
-- delete nothing. Concurrent folds take disjoint rows; the upserts go in due date order.
CREATE FUNCTION credsync.obligation_counts_fold() RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	DELETE FROM credsync.obligation_counts WHERE unacked = 0;
	WITH d AS (DELETE FROM credsync.obligation_count_deltas RETURNING due_date, unacked),
	s AS (SELECT due_date, sum(unacked) AS n, count(*) AS rows FROM d GROUP BY due_date),
	u AS (INSERT INTO credsync.obligation_counts AS c (due_date, unacked)
	      SELECT due_date, n FROM s ORDER BY due_date
	      ON CONFLICT (due_date) DO UPDATE SET unacked = c.unacked + excluded.unacked
	      RETURNING 1)
	SELECT coalesce(sum(rows), 0)::bigint FROM s;
$$;

-- The breach scan (store_late_take, every 2 s) looks for overdue obligations whose breach was
-- not logged yet: through obligations_unacked it read every overdue one each time (the whole
-- backlog after a sites' outage). This index holds only the unlogged ones, in scan order.
CREATE INDEX obligations_breach_unlogged ON credsync.obligations (due_date, id)
	WHERE acked_at IS NULL AND breach_logged_at IS NULL;
