-- 016_acks_log: issue 13. An acknowledgement that meets its obligation is kept in acks, with
-- the message it came in; only those that change nothing stay in inbound.
--
-- Every acknowledgement was an inbound row besides its row in acks. In the benchmark's run
-- with 5 million records stored, the inbound COPY wrote 36,000 full-page images for 86,000
-- rows (pg_waldump by relation): a VACUUM of the insert-only inbound table (autovacuum does
-- the same) records the few hundred bytes left at the end of each full page, and the
-- acknowledgements, small rows, went one by one into those old pages, each the page's first
-- change since the checkpoint, so 8 kB of WAL for a row of 250 bytes. acks holds rows of one
-- size, appended.
--
-- acks gains the message's place (topic, partition, offset), its Kafka timestamp and its
-- bytes: with them nothing consumed is lost, and an acknowledgement is one row, not two.
-- The acknowledgements that change nothing (a repeat, another site's, an unknown id) are
-- inbound rows with outcome 'ack', as before. Those recorded before this migration keep their
-- inbound rows and have no place in acks.
--
-- credsync.acknowledge of 013_write_once.sql stays for an instance of the previous release
-- still running during an upgrade: it writes the inbound rows itself.

ALTER TABLE credsync.acks
	ADD COLUMN topic text,
	ADD COLUMN partition integer,
	ADD COLUMN "offset" bigint,
	ADD COLUMN kafka_ts timestamptz,
	ADD COLUMN payload bytea;

-- Records the acknowledgements of a batch, given in its order sorted by id, each with the
-- message it came in (p_topics NULL: none to keep). As 013_write_once.sql, the first of each
-- (id, site) counts, for an obligation of that site not acknowledged yet: its pending row is
-- deleted (in id order) and it is appended to acks with its message. The others, and those
-- whose id is NULL (no UUID), are kept as inbound rows with outcome 'ack'. Returns the
-- number of obligations acknowledged.
CREATE FUNCTION credsync.acknowledge(p_ids uuid[], p_sites text[], p_done bigint[],
				     p_topics text[], p_parts integer[], p_offsets bigint[],
				     p_ts bigint[], p_payloads text[])
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	n bigint;
BEGIN
	WITH u AS (SELECT * FROM unnest(p_ids, p_sites, p_done, p_topics, p_parts, p_offsets, p_ts,
				       p_payloads) WITH ORDINALITY
		     AS u(id, site, done, topic, part, off, ts, payload, i)),
	a AS (SELECT DISTINCT ON (id, site) * FROM u WHERE id IS NOT NULL ORDER BY id, site, i),
	d AS (DELETE FROM credsync.pending p USING a WHERE p.id = a.id AND p.site = a.site
	      RETURNING a.*),
	k AS (INSERT INTO credsync.acks (id, done_at, topic, partition, "offset", kafka_ts,
					 payload)
	      SELECT d.id, to_timestamp(d.done), d.topic, d.part, d.off,
		     timestamptz 'epoch' + d.ts * interval '1 millisecond',
		     convert_to(d.payload, 'UTF8')
	      FROM d RETURNING 1),
	r AS (INSERT INTO credsync.inbound (topic, partition, "offset", producer, kafka_ts,
					    outcome, payload)
	      SELECT u.topic, u.part, u.off, u.site,
		     timestamptz 'epoch' + u.ts * interval '1 millisecond', 'ack',
		     convert_to(u.payload, 'UTF8')
	      FROM u WHERE u.topic IS NOT NULL AND u.i NOT IN (SELECT d.i FROM d)
	      ON CONFLICT (topic, partition, "offset") DO NOTHING)
	SELECT count(*) INTO n FROM k;
	RETURN n;
END $$;
