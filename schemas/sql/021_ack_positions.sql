-- 021_ack_positions: issue 13. An acknowledgement's message goes from its array to its row
-- once, as bytes.
--
-- acknowledge of 016_acks_log.sql carried every acknowledgement, message included, through
-- three common table expressions: the unnested arrays, the first of each (id, site) sorted
-- with its message, and the deleted pending rows' RETURNING, each materialized, before the
-- appends to acks and inbound read them again. Then each message went through convert_to. On
-- a scratch server (fsync on), 50,000 acknowledgements in calls of 250, each meeting a
-- pending row: 350 ms; the pending delete alone 94 ms, the acks append alone 153 ms. This
-- version sorts and deletes by (id, site, position) alone, then appends the messages of the
-- positions it deleted straight from their arrays: 294 ms. The inbound rows of those that
-- change nothing (rare: a repeat, another site's, an unknown id) are a second statement, run
-- only when there are some.
--
-- The messages come as bytea (credsyncd stores them as they were consumed, as inbound's
-- payload): no text to check and convert on the way in. acknowledge of 016_acks_log.sql stays,
-- for an instance of the previous release still running during an upgrade, and now passes
-- its text on to this one.

-- Records the acknowledgements of a batch, given in its order sorted by id, each with the
-- message it came in (p_topics NULL: none to keep). The first of each (id, site) counts, for
-- an obligation of that site not acknowledged yet: its pending row is deleted (in id order)
-- and it is appended to acks with its message. The others, and those whose id is NULL (no
-- UUID), are kept as inbound rows with outcome 'ack'. Returns the number of obligations
-- acknowledged.
CREATE FUNCTION credsync.acknowledge(p_ids uuid[], p_sites text[], p_done bigint[],
				     p_topics text[], p_parts integer[], p_offsets bigint[],
				     p_ts bigint[], p_payloads bytea[])
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	hit bigint[];
BEGIN
	WITH a AS (SELECT DISTINCT ON (id, site) id, site, i
		     FROM unnest(p_ids, p_sites) WITH ORDINALITY AS u(id, site, i)
		    WHERE id IS NOT NULL ORDER BY id, site, i),
	d AS (DELETE FROM credsync.pending p USING a WHERE p.id = a.id AND p.site = a.site
	      RETURNING a.i)
	SELECT coalesce(array_agg(d.i), '{}') INTO hit FROM d;
	INSERT INTO credsync.acks (id, done_at, topic, partition, "offset", kafka_ts, payload)
	SELECT x.id, to_timestamp(x.done), x.topic, x.part, x.off,
	       timestamptz 'epoch' + x.ts * interval '1 millisecond', x.payload
	  FROM unnest(p_ids, p_done, p_topics, p_parts, p_offsets, p_ts, p_payloads)
	       WITH ORDINALITY AS x(id, done, topic, part, off, ts, payload, i)
	 WHERE x.i IN (SELECT unnest(hit));
	IF cardinality(hit) < cardinality(p_ids) THEN
		INSERT INTO credsync.inbound (topic, partition, "offset", producer, kafka_ts, outcome,
					      payload)
		SELECT x.topic, x.part, x.off, x.site,
		       timestamptz 'epoch' + x.ts * interval '1 millisecond', 'ack', x.payload
		  FROM unnest(p_sites, p_topics, p_parts, p_offsets, p_ts, p_payloads)
		       WITH ORDINALITY AS x(site, topic, part, off, ts, payload, i)
		 WHERE x.topic IS NOT NULL AND x.i NOT IN (SELECT unnest(hit))
		ON CONFLICT (topic, partition, "offset") DO NOTHING;
	END IF;
	RETURN cardinality(hit);
END $$;

CREATE OR REPLACE FUNCTION credsync.acknowledge(p_ids uuid[], p_sites text[], p_done bigint[],
						p_topics text[], p_parts integer[],
						p_offsets bigint[], p_ts bigint[],
						p_payloads text[])
RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	SELECT credsync.acknowledge(p_ids, p_sites, p_done, p_topics, p_parts, p_offsets, p_ts,
				    (SELECT array_agg(convert_to(t, 'UTF8') ORDER BY i)
				       FROM unnest(p_payloads) WITH ORDINALITY AS u(t, i)))
$$;
