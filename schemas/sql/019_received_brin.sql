-- 019_received_brin: issue 13. The obligations' arrival time in a BRIN index, not a B-tree.
--
-- obligations_received (003_speed.sql) cost every obligation written a B-tree entry: 40-45 ms
-- of the server's time per 70,000 rows inserted (a scratch server, INSERT from a staging
-- table: 490-505 ms with it, 440-455 without, 455-465 with the BRIN index below). Since 017
-- the daily summary reads obligations_summary; what is left reads a day's obligations at
-- most (credsyncctl reconcile) or asks whether any came before a day (the summary's first
-- run, store_any_until). received_at is the event's Kafka timestamp: rows are appended in
-- about that order, so a block range's bounds are narrow and a day's rows sit in a few
-- ranges. A BRIN index is a few pages per million rows and its entry is updated only when
-- a row widens its range's bounds.
--
-- Ranges appended since the last summarisation are unsummarised and always read: a day's
-- read covers them too, at most what autovacuum has not reached yet.

DROP INDEX IF EXISTS credsync.obligations_received;
CREATE INDEX IF NOT EXISTS obligations_received_brin ON credsync.obligation_rows
	USING brin (received_at);
