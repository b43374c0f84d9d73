-- 008_failed: issue 14 item 1. A message the database refuses for good (a constraint, a
-- trigger, a value PostgreSQL cannot store) no longer stops every other one: credsyncd stores
-- it in inbound with outcome 'failed', the server's SQLSTATE and message, moves past it, and
-- `credsyncctl retry` applies it again once the cause is fixed. A later message of the same
-- subject in the same batch is stored as failed too (it must not overtake the first), with the
-- first one's SQLSTATE and an error that names it.

ALTER TABLE credsync.inbound DROP CONSTRAINT inbound_outcome_check;
ALTER TABLE credsync.inbound ADD CONSTRAINT inbound_outcome_check
	CHECK (outcome IN ('applied', 'stale', 'noop', 'duplicate', 'rejected', 'ack', 'ignored',
			   'failed'));
ALTER TABLE credsync.inbound ADD COLUMN sqlstate text, ADD COLUMN error text;

-- credsyncctl status and rejects read the unresolved ones; there are few.
CREATE INDEX inbound_failed ON credsync.inbound (topic, partition, "offset")
	WHERE outcome = 'failed';
