-- 002_deadlines: time and deadlines (issue 4). When each late obligation was logged, so that
-- a breach or an at-risk line is written once whatever the number of instances; repair
-- applications and their working-day deadlines by channel.

-- A breach: not acknowledged by the end of its due date (Beijing). At risk: due today, still
-- unacknowledged after 12:00 Beijing. Set (under the row lock of an UPDATE) by the instance
-- that logged it.
ALTER TABLE credsync.obligations
	ADD COLUMN breach_logged_at timestamptz,
	ADD COLUMN at_risk_logged_at timestamptz;

-- A repair application, as its channel system reports it (repair.applied / accepted /
-- declined / denied; a penalty.repaired of the record from the channel decides it). Each
-- event sets its own columns, so the order they arrive in does not matter.
CREATE TABLE credsync.repair_applications (
	channel text NOT NULL,
	application_no text NOT NULL,
	uscc text NOT NULL,
	decision_no text NOT NULL,
	applied_at timestamptz,
	accept_due date, -- from applied_at: accepted or declined by the end of it
	accepted_at timestamptz,
	decide_due date, -- from accepted_at: decided by the end of it
	decided_at timestamptz,
	outcome text CHECK (outcome IN ('declined', 'denied', 'repaired')),
	accept_late_logged_at timestamptz,
	decide_late_logged_at timestamptz,
	updated_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (channel, application_no)
);
CREATE INDEX repair_applications_record ON credsync.repair_applications (uscc, decision_no);
CREATE INDEX repair_applications_open ON credsync.repair_applications (accept_due, decide_due)
	WHERE decided_at IS NULL;

-- The daily summaries written (one per site and day), whichever instance wrote them.
CREATE TABLE credsync.daily_summaries (
	site text NOT NULL,
	day date NOT NULL,
	outbox_id uuid NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (site, day)
);
