-- 023_sent_at_views: issue 13. The views' sent_at without a function call a row.
--
-- credsync.obligations and credsync.outbox derived sent_at by calling credsync.sent_time()
-- (013_write_once.sql) for each row: a SQL function with a join and a subquery, which
-- PostgreSQL cannot inline, so each row paid a function call and a plan of its own. The
-- fault run's progress count over credsync.outbox took 5.2 s with 180,000 obligations on the
-- 2-core machine of the eighteenth round, credsyncctl status counts the sent and unsent of
-- every unacknowledged obligation so, and the daily summary reads sent_at for every
-- obligation of a day. On a scratch server with 300,000 obligations, all unacknowledged,
-- 50,000 of them unsent (2,500 marks), quiet: status's count 9.3-9.7 s, the outbox's
-- 3.9-4.6 s, a day's obligations with their sent_at 5.0-5.6 s; with the views below
-- 2.8-3.0, 1.5-1.9 and 2.2-2.3 s. The same value as an expression of the views: the queued
-- resend joined (on its primary key: the join is dropped where sent_at is not read), the
-- first mark at or above the seq by an index probe. sent_time() stays, for whoever calls it.

CREATE OR REPLACE VIEW credsync.obligations AS
	SELECT o.id, o.site, o.type, o.reason, o.kind, o.uscc, o.list, o.decision_no, o.producer,
	       o.subject_name, o.disclose_until, o.repairable_from, o.rec_system,
	       o.rec_decision_no, o.rec_repair_decision_no, o.rec_repaired_on, o.source_event_id,
	       o.received_at, o.due_date, o.created_at,
	       CASE WHEN r.seq IS NOT NULL THEN r.sent_at
		    ELSE coalesce(o.sent_at, (SELECT m.at FROM credsync.sent_marks m
					      WHERE m.low >= o.seq ORDER BY m.low LIMIT 1)) END
		   AS sent_at,
	       coalesce(o.acked_at, a.acked_at) AS acked_at,
	       coalesce(o.ack_done_at, a.done_at) AS ack_done_at,
	       o.breach_logged_at, o.at_risk_logged_at, o.seq, o.topic, o.key, o.payload
	FROM credsync.obligation_rows o
	LEFT JOIN credsync.acks a ON a.id = o.id
	LEFT JOIN credsync.resends r ON r.seq = o.seq;

CREATE OR REPLACE VIEW credsync.outbox AS
	SELECT b.seq, b.id, b.topic, b.key, b.payload, b.created_at,
	       CASE WHEN r.seq IS NOT NULL THEN r.sent_at
		    ELSE coalesce(b.sent_at, (SELECT m.at FROM credsync.sent_marks m
					      WHERE m.low >= b.seq ORDER BY m.low LIMIT 1)) END
		   AS sent_at
	FROM credsync.outbox_rows b LEFT JOIN credsync.resends r ON r.seq = b.seq
	UNION ALL
	SELECT o.seq, o.id, o.topic, o.key, o.payload, o.created_at,
	       CASE WHEN r.seq IS NOT NULL THEN r.sent_at
		    ELSE coalesce(o.sent_at, (SELECT m.at FROM credsync.sent_marks m
					      WHERE m.low >= o.seq ORDER BY m.low LIMIT 1)) END
	FROM credsync.obligation_rows o LEFT JOIN credsync.resends r ON r.seq = o.seq
	WHERE o.seq IS NOT NULL;
