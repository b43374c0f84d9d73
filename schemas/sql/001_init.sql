-- 001_init: the credsync schema. Applied by store_migrate (daemon/store_migrate.c) in one
-- transaction under an advisory lock; the schema and credsync.schema_migrations exist already.
-- Every name is schema-qualified so the file does not depend on search_path.
-- Enumerations are stored as the text names of the C enums (event.h, rules.h, reconcile.h),
-- dates as date (NULL for DATE_NONE), instants as timestamptz.

-- Kafka consumer offsets, committed in the same transaction as the batch they end, and fenced:
-- a partition's owner and epoch are set when an instance claims it, and a batch commits only
-- when every partition it read from is still owned by it at the epoch of its claim.
CREATE TABLE credsync.consumer_offsets (
	grp text NOT NULL,
	topic text NOT NULL,
	partition integer NOT NULL CHECK (partition >= 0),
	next_offset bigint NOT NULL CHECK (next_offset >= 0),
	owner text NOT NULL,
	epoch bigint NOT NULL,
	updated_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (grp, topic, partition)
);

-- Every message consumed, whatever its fate: nothing is lost. 'ignored': a message on a topic
-- that is neither credit.in.* nor credit.ack.*.
CREATE TABLE credsync.inbound (
	topic text NOT NULL,
	partition integer NOT NULL,
	"offset" bigint NOT NULL, -- quoted everywhere: OFFSET is a keyword
	event_id uuid,
	producer text,
	uscc text,
	kafka_ts timestamptz,
	outcome text NOT NULL
		CHECK (outcome IN ('applied', 'stale', 'noop', 'duplicate', 'rejected', 'ack',
				   'ignored')),
	reason text,
	detail text,
	payload bytea NOT NULL,
	stored_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (topic, partition, "offset")
);
-- The same event id takes effect once: later copies are kept as 'duplicate'.
CREATE UNIQUE INDEX inbound_event_once ON credsync.inbound (event_id)
	WHERE outcome IN ('applied', 'stale', 'noop');
CREATE INDEX inbound_uscc ON credsync.inbound (uscc);

-- The state of each record (struct record of common/reconcile.h), one row per identity.
CREATE TABLE credsync.records (
	uscc text NOT NULL,
	kind text NOT NULL,
	list text NOT NULL,
	decision_no text NOT NULL,
	status text NOT NULL,
	added boolean NOT NULL,
	producer text NOT NULL,
	subject_name text NOT NULL,
	added_at timestamptz,
	add_event_id uuid,
	decided_on date,
	categories text[] NOT NULL,
	field text NOT NULL,
	has_fine boolean NOT NULL,
	fine_fen bigint NOT NULL,
	severity text,
	light boolean NOT NULL,
	channel text NOT NULL,
	repairable_from date,
	disclose_until date,
	end_reason text,
	ended_at timestamptz,
	ended_by text NOT NULL,
	end_event_id uuid,
	ended_on date,
	repair_decision_no text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (uscc, kind, list, decision_no)
);
-- The expiry scan: shown records whose disclosure period has ended.
CREATE INDEX records_expiry ON credsync.records (disclose_until) WHERE status = 'shown';

-- What each site must apply (struct obligation of common/event.h) and whether it did.
CREATE TABLE credsync.obligations (
	id uuid PRIMARY KEY,
	site text NOT NULL,
	type text NOT NULL,
	reason text,
	kind text NOT NULL,
	uscc text NOT NULL,
	list text NOT NULL,
	decision_no text NOT NULL,
	producer text NOT NULL,
	subject_name text NOT NULL,
	disclose_until date,
	repairable_from date,
	rec_system text,
	rec_decision_no text,
	rec_repair_decision_no text,
	rec_repaired_on date,
	source_event_id uuid,
	received_at timestamptz NOT NULL,
	due_date date,
	created_at timestamptz NOT NULL DEFAULT now(),
	sent_at timestamptz,
	acked_at timestamptz,
	ack_done_at timestamptz
);
CREATE INDEX obligations_record ON credsync.obligations (uscc, kind, list, decision_no);
-- The backlog: obligations not acknowledged yet, by due date.
CREATE INDEX obligations_unacked ON credsync.obligations (due_date) WHERE acked_at IS NULL;

-- What the publisher sends to Kafka, in seq order: out messages and rejects.
CREATE TABLE credsync.outbox (
	seq bigserial PRIMARY KEY,
	id uuid NOT NULL UNIQUE,
	topic text NOT NULL,
	key text NOT NULL,
	payload text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	sent_at timestamptz
);
CREATE INDEX outbox_unsent ON credsync.outbox (seq) WHERE sent_at IS NULL;

-- The fencing compare-and-set of one partition's offset: raises SQLSTATE CS001 when the
-- partition is no longer owned by member at epoch, which aborts the batch's transaction.
CREATE FUNCTION credsync.offset_cas(p_grp text, p_member text, p_topic text, p_partition integer,
				    p_epoch bigint, p_next bigint)
	RETURNS void
	LANGUAGE plpgsql
	SET search_path = credsync, pg_catalog
AS $$
BEGIN
	UPDATE credsync.consumer_offsets
	   SET next_offset = p_next, updated_at = now()
	 WHERE grp = p_grp AND topic = p_topic AND partition = p_partition
	   AND owner = p_member AND epoch = p_epoch;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'partition % of "%" is no longer owned by "%" at epoch %',
			p_partition, p_topic, p_member, p_epoch
			USING ERRCODE = 'CS001';
	END IF;
END
$$;
