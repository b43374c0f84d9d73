-- 017_summary_index: issue 13. The daily summary reads the obligations it lists, not the day's.
--
-- A daily summary lists a day's mutual recognitions and its takedowns for repair and expiry
-- (store_time.c: store_day_summary_scan). It read them through obligations_received: every
-- obligation received that day, filtered one by one. Its cost grew with the day's traffic,
-- not with the summary: in bench run 6, the preload's million obligations of "yesterday",
-- none of them of a listed kind, took two cursors and 270-290 ms of the server's time inside
-- the measured window. The partial index below holds only the listed kinds, in the order
-- the summary reads them (site, received_at, id): the scan reads what it sends and sorts
-- nothing. In the profile run about one obligation in ten is of a listed kind, so the apply
-- path pays one index entry for those alone.
--
-- The predicate is the summary's, word for word: the planner uses a partial index only when
-- the query's condition implies it. Change both together.
-- obligations_received stays: credsyncctl reconcile reads every obligation of a day.

CREATE INDEX IF NOT EXISTS obligations_summary ON credsync.obligation_rows
	(site, received_at, id)
	WHERE type = 'mutual_recognition'
	   OR (type = 'takedown' AND reason IN ('repaired', 'expired', 'light_expired'));
