-- 003_speed: issue 6. What keeps the hot paths cheap as the tables grow.

-- summary_run asks every few seconds whether any obligation was received before a day ends
-- (store_any_until): without an index that EXISTS read the whole table whenever none was.
CREATE INDEX obligations_received ON credsync.obligations (received_at);

-- Room on each page, so that marking an obligation sent (the publisher, two rows per event)
-- is a heap-only update: no new entry in each of the table's indexes.
ALTER TABLE credsync.obligations SET (fillfactor = 80);
