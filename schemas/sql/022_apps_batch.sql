-- 022_apps_batch: issue 13. A batch's repair-application steps in one call, not a statement
-- each.
--
-- credsyncd sent each repair.applied, repair.accepted, repair.declined and repair.denied as
-- one upsert of repair_applications, and each penalty.repaired as one update closing the
-- channel's open applications of the record. In the benchmark's profile run (50,000
-- events) these were 14,000 statements and 8% of the server's statement time, about 35 us
-- each. On a scratch server (fsync on), 500 upserts pipelined as prepared statements took
-- 27-30 ms, the same rows as one INSERT ... SELECT 7-10 ms.
--
-- apps_put takes the batch's steps in the order consumed and gives the rows that applying
-- them one by one gives:
--   - the steps of one application (channel, application_no) fold as the upserts did: each
--     column keeps its first value, the stored one first, then the batch's in order; the
--     record (uscc, decision_no) is the first step's;
--   - a penalty.repaired closes the open applications of the record at its time.
-- The batch's steps are one INSERT ... SELECT of the folded applications, then the repairs
-- in order, one statement each. That gives the same rows unless a step of an application
-- comes after a repair of its record (the record as stored, or as the application's first
-- step in the batch names it): then the order decides (an application made after the repair
-- stays open), and the steps are applied one by one, in order. The plans are generic:
-- planned again on every call, the function cost twice as much (a call of two steps on a
-- scratch server, 0.8 against 0.4 ms; each SET clause more, another 0.1 ms). A call still
-- costs more than a few statements: credsyncd sends a batch of 16 steps or fewer as
-- statements, the previous release's (at 1,000 events/s most batches hold one to three
-- messages).

CREATE FUNCTION credsync.apps_put(p_kinds text[], p_channels text[], p_apps text[],
				  p_usccs text[], p_decisions text[], p_at bigint[],
				  p_accept_due integer[], p_decide_due integer[])
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
	SET plan_cache_mode = force_generic_plan AS $$
DECLARE
	one_by_one boolean := false;
	lo integer;
	hi integer;
	st record;
BEGIN
	IF 'repaired' = ANY (p_kinds) THEN
		one_by_one := EXISTS (
			WITH s AS (SELECT * FROM unnest(p_kinds, p_channels, p_apps, p_usccs,
							p_decisions)
					 WITH ORDINALITY AS s(kind, channel, app, uscc, dec, i)),
			x AS (SELECT channel, app, min(i) AS first, max(i) AS last
				FROM s WHERE kind <> 'repaired' GROUP BY channel, app),
			r AS (SELECT channel, uscc, dec, min(i) AS i
				FROM s WHERE kind = 'repaired' GROUP BY channel, uscc, dec),
			-- each application's records: as its first step names it, and as stored
			-- (a fence: a join of x and r on the channel alone is a plan to avoid)
			recs AS MATERIALIZED (
				SELECT x.last, x.channel, p_usccs[x.first] AS uscc,
				       p_decisions[x.first] AS dec FROM x
				UNION ALL
				SELECT x.last, a.channel, a.uscc, a.decision_no
				  FROM x JOIN credsync.repair_applications a
				    ON a.channel = x.channel AND a.application_no = x.app)
			SELECT 1 FROM recs k JOIN r ON r.channel = k.channel AND r.uscc = k.uscc
						   AND r.dec = k.dec AND k.last > r.i);
	END IF;

	-- all the steps at once, or (the order decides) one at a time: the folded applications,
	-- then the repairs in order (one by one, each call unnests the arrays again: rare)
	FOR k IN 1 .. CASE WHEN one_by_one THEN cardinality(p_kinds) ELSE 1 END LOOP
		lo := CASE WHEN one_by_one THEN k ELSE 1 END;
		hi := CASE WHEN one_by_one THEN k ELSE cardinality(p_kinds) END;
		-- each column's first value: the step of the least position that has one
		INSERT INTO credsync.repair_applications AS a (channel, application_no, uscc,
							       decision_no, applied_at,
							       accepted_at, decided_at, accept_due,
							       decide_due, outcome)
		SELECT channel, app, p_usccs[first], p_decisions[first],
		       to_timestamp(p_at[applied]), to_timestamp(p_at[accepted]),
		       to_timestamp(p_at[decided]), date '1970-01-01' + p_accept_due[accept_due],
		       date '1970-01-01' + p_decide_due[decide_due], p_kinds[outcome]
		  FROM (SELECT channel, app, min(i) AS first,
			       min(i) FILTER (WHERE kind = 'applied' AND at IS NOT NULL) AS applied,
			       min(i) FILTER (WHERE kind = 'accepted' AND at IS NOT NULL)
				   AS accepted,
			       min(i) FILTER (WHERE kind IN ('declined', 'denied')
						AND at IS NOT NULL) AS decided,
			       min(i) FILTER (WHERE ad IS NOT NULL) AS accept_due,
			       min(i) FILTER (WHERE dd IS NOT NULL) AS decide_due,
			       min(i) FILTER (WHERE kind IN ('declined', 'denied')) AS outcome
			  FROM unnest(p_kinds, p_channels, p_apps, p_at, p_accept_due,
				      p_decide_due) WITH ORDINALITY AS s(kind, channel, app, at, ad,
									 dd, i)
			 WHERE kind <> 'repaired' AND i BETWEEN lo AND hi
			 GROUP BY channel, app) f
		ON CONFLICT (channel, application_no) DO UPDATE SET
			applied_at = COALESCE(a.applied_at, EXCLUDED.applied_at),
			accepted_at = COALESCE(a.accepted_at, EXCLUDED.accepted_at),
			decided_at = COALESCE(a.decided_at, EXCLUDED.decided_at),
			accept_due = COALESCE(a.accept_due, EXCLUDED.accept_due),
			decide_due = COALESCE(a.decide_due, EXCLUDED.decide_due),
			outcome = COALESCE(a.outcome, EXCLUDED.outcome), updated_at = now();

		FOR st IN SELECT * FROM unnest(p_kinds, p_channels, p_usccs, p_decisions, p_at)
				   WITH ORDINALITY AS s(kind, channel, uscc, dec, at, i)
			   WHERE kind = 'repaired' AND i BETWEEN lo AND hi ORDER BY i LOOP
			UPDATE credsync.repair_applications
			   SET decided_at = to_timestamp(st.at), outcome = 'repaired',
			       updated_at = now()
			 WHERE channel = st.channel AND uscc = st.uscc AND decision_no = st.dec
			   AND decided_at IS NULL;
		END LOOP;
	END LOOP;
END $$;
