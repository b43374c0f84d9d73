-- 020_received_btree: issue 13. The obligations' arrival time in a B-tree again (019 undone).
--
-- The daily summary asks, until it has written its first summary, whether any obligation was
-- received before today (store_any_until, every 2 s of the clock's jobs). On a table that
-- holds only today's obligations (the first day of a deployment, the benchmark, every test)
-- the answer is no, and with the BRIN index of 019 it was found by reading the whole table:
-- the ranges appended since the last summarisation are always read, and before autovacuum
-- has analysed the table the planner took a sequential scan anyway. In the profile run
-- (`scripts/bench --profile --events 50000`) that scan was 2.4% of the machine's samples, 8
-- calls for 98 ms of the server's time, against the 40-45 ms per 70,000 obligations written
-- that the B-tree costs. With the B-tree the question is min(received_at), one descent
-- whatever the table's size and statistics.

DROP INDEX IF EXISTS credsync.obligations_received_brin;
CREATE INDEX IF NOT EXISTS obligations_received ON credsync.obligation_rows (received_at);
