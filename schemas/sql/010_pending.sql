-- 010_pending: issue 13. Recording an acknowledgement becomes a heap-only (HOT) update.
--
-- The partial indexes obligations_unacked (due_date) and obligations_breach_unlogged
-- (due_date, id) named acked_at in their predicates. So every acknowledgement wrote a new
-- version of the whole obligation (its message included) plus an entry in each of the six
-- indexes of obligations. A row trigger also appended one count delta per acknowledgement.
-- In the profile run this was the second costliest statement after the obligations insert.
--
-- The unacknowledged obligations are now also the rows of a narrow table, pending (id, site,
-- due date, breach logged). credsync.acknowledge deletes the acknowledged rows from pending
-- and sets acked_at on the obligations. No index of obligations names acked_at,
-- breach_logged_at or at_risk_logged_at any more, so those updates are heap-only.
-- The backlog histogram of 006 now counts the rows of pending, with statement triggers:
-- an acknowledgement statement appends one delta per due date, not one per row.
--
-- obligations.acked_at stays the record of the acknowledgement. Setting it by hand does not
-- touch pending: acknowledge through credsync.acknowledge. An obligation is inserted with its
-- pending row by one statement (store_batch.c: INSERT ... RETURNING into pending); a trigger
-- reading a transition table of the new obligations, messages included, cost a third of the
-- insert (EXPLAIN ANALYZE, 400 rows: 7.3 ms insert, 3.3 ms trigger).

LOCK TABLE credsync.obligations IN SHARE ROW EXCLUSIVE MODE;

CREATE TABLE credsync.pending (
	id uuid PRIMARY KEY,
	site text NOT NULL,
	due_date date,
	breach_logged boolean NOT NULL DEFAULT false
);
-- The breach scan (due before today) and the at-risk scan (due today): the obligations whose
-- breach is not logged yet, in scan order.
CREATE INDEX pending_unlogged ON credsync.pending (due_date, id) WHERE NOT breach_logged;

INSERT INTO credsync.pending (id, site, due_date, breach_logged)
SELECT id, site, due_date, breach_logged_at IS NOT NULL
FROM credsync.obligations WHERE acked_at IS NULL;

DROP TRIGGER obligation_counts_ins ON credsync.obligations;
DROP TRIGGER obligation_counts_upd ON credsync.obligations;
DROP TRIGGER obligation_counts_del ON credsync.obligations;
DROP FUNCTION credsync.obligation_counts_ins();
DROP FUNCTION credsync.obligation_counts_row();
DROP FUNCTION credsync.obligation_counts_del();
DROP INDEX credsync.obligations_unacked;
DROP INDEX credsync.obligations_breach_unlogged;

-- pending follows the obligations' changed due dates and deletions (not done by credsync:
-- by a DBA archiving). SECURITY DEFINER: credsync_app deletes nothing.
CREATE FUNCTION credsync.pending_follow() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		DELETE FROM credsync.pending WHERE id IN (SELECT id FROM old_rows);
	ELSE
		UPDATE credsync.pending SET due_date = NEW.due_date WHERE id = NEW.id;
	END IF;
	RETURN NULL;
END $$;
CREATE TRIGGER obligations_pending_del AFTER DELETE ON credsync.obligations
	REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION credsync.pending_follow();
CREATE TRIGGER obligations_pending_due AFTER UPDATE OF due_date ON credsync.obligations
	FOR EACH ROW WHEN (OLD.due_date IS DISTINCT FROM NEW.due_date)
	EXECUTE FUNCTION credsync.pending_follow();

-- The histogram counts pending. It is already the count of the unacknowledged obligations,
-- which are pending's rows: nothing to recount.
CREATE FUNCTION credsync.pending_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO credsync.obligation_count_deltas (due_date, unacked)
		SELECT coalesce(due_date, 'infinity'), count(*) FROM new_rows GROUP BY 1;
	ELSIF TG_OP = 'DELETE' THEN
		INSERT INTO credsync.obligation_count_deltas (due_date, unacked)
		SELECT coalesce(due_date, 'infinity'), -count(*) FROM old_rows GROUP BY 1;
	ELSE
		INSERT INTO credsync.obligation_count_deltas (due_date, unacked)
		VALUES (coalesce(OLD.due_date, 'infinity'), -1),
		       (coalesce(NEW.due_date, 'infinity'), 1);
	END IF;
	RETURN NULL;
END $$;
CREATE TRIGGER pending_counts_ins AFTER INSERT ON credsync.pending
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION credsync.pending_counts();
CREATE TRIGGER pending_counts_del AFTER DELETE ON credsync.pending
	REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION credsync.pending_counts();
CREATE TRIGGER pending_counts_due AFTER UPDATE OF due_date ON credsync.pending
	FOR EACH ROW WHEN (OLD.due_date IS DISTINCT FROM NEW.due_date)
	EXECUTE FUNCTION credsync.pending_counts();

-- Records acknowledgements, given as arrays in the batch's order sorted by id: the first one
-- of each (id, site) counts, and only for an obligation of that site not acknowledged yet
-- (a later duplicate, another site's ack or an unknown id change nothing). The pending rows
-- are deleted in id order, so that two instances acknowledging the same obligations lock
-- them in one order. Returns the number of obligations acknowledged.
CREATE FUNCTION credsync.acknowledge(p_ids uuid[], p_sites text[], p_done bigint[])
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	n bigint;
BEGIN
	WITH a AS (SELECT DISTINCT ON (id, site) id, site, done
		     FROM unnest(p_ids, p_sites, p_done) WITH ORDINALITY AS u(id, site, done, i)
		    ORDER BY id, site, i),
	d AS (DELETE FROM credsync.pending p USING a WHERE p.id = a.id AND p.site = a.site
	      RETURNING p.id, a.done)
	UPDATE credsync.obligations o SET acked_at = now(), ack_done_at = to_timestamp(d.done)
	  FROM d WHERE o.id = d.id;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END $$;

ANALYZE credsync.pending;
