-- 005_messages: issue 13, fewer writes per event. The obligation row is the message: it
-- carries the topic, key and payload the publisher sends, and its place in the publishing
-- order (seq, from the outbox's sequence). The outbox table keeps the other messages (rejects,
-- daily summaries) as outbox_rows; credsync.outbox becomes the view of both, so that every
-- reader (credsyncctl, the tests, scripts/bench) sees the messages as before. An accepted event
-- writes its obligations once instead of twice (obligation + outbox row), and marking it sent
-- updates one row instead of two.

ALTER TABLE credsync.outbox RENAME TO outbox_rows;

ALTER TABLE credsync.obligations
	ADD COLUMN seq bigint,
	ADD COLUMN topic text,
	ADD COLUMN key text,
	ADD COLUMN payload text;

-- Existing messages of obligations move into them, with their seq and sent state (the outbox
-- row's: credsyncctl resend marked only it unsent), so that nothing is lost, resent or doubled.
UPDATE credsync.obligations o
   SET seq = b.seq, topic = b.topic, key = b.key, payload = b.payload, sent_at = b.sent_at
  FROM credsync.outbox_rows b
 WHERE b.id = o.id;
DELETE FROM credsync.outbox_rows b USING credsync.obligations o WHERE o.id = b.id;

ALTER TABLE credsync.obligations
	ADD CONSTRAINT obligations_message CHECK ((seq IS NULL) = (payload IS NULL)
						  AND (seq IS NULL) = (topic IS NULL));
-- The publisher's read: unsent messages in seq order. It names sent_at, so marking a row sent
-- is no heap-only update any more; it still replaces two row writes (outbox, obligation).
CREATE INDEX obligations_unsent ON credsync.obligations (seq) WHERE sent_at IS NULL;

CREATE VIEW credsync.outbox AS
	SELECT seq, id, topic, key, payload, created_at, sent_at FROM credsync.outbox_rows
	UNION ALL
	SELECT seq, id, topic, key, payload, created_at, sent_at FROM credsync.obligations
	 WHERE seq IS NOT NULL;
