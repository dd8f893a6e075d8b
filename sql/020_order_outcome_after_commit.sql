-- 020_order_outcome_after_commit: acme-worker announces the outcome of an
-- order after its transaction, not in it (README, "Performance").
--
-- A transaction that NOTIFYs takes, from its pre-commit to its end,
-- PostgreSQL's one lock that orders every notifying commit of the
-- cluster. An order leaves 'processing' (sql/018, outcome_notify) in the
-- worker's synchronous transactions: the issuance (order_issue, which
-- stores the certificate and debits the credit) and the failure. Their
-- commit waits for the WAL flush, and it held that lock meanwhile: every
-- other notifying commit (a challenge started, an order finalized, any
-- outcome) waited for the worker's disk, which on a slow disk, with many
-- workers, makes one queue of all of them.
--
-- A session that says so (acme.notifies_order_outcome = 'on', set by
-- acme-worker for its own session) no longer notifies the orders it moves
-- out of 'processing': it notifies each one itself after the commit, in a
-- statement of its own (order_outcome_notify), whose transaction writes
-- nothing and holds the lock for no flush. The notification still comes
-- only once the outcome is on disk. Any other session (acmectl, a DBA's
-- hand) notifies in its transaction, as before.

CREATE OR REPLACE FUNCTION outcome_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	v_channel text := outcome_channel(TG_ARGV[0], NEW.id);
BEGIN
	IF v_channel IS NOT NULL AND (TG_NARGS < 2 OR
	    current_setting(TG_ARGV[1], true) IS DISTINCT FROM 'on') THEN
		PERFORM pg_notify(v_channel, NEW.status);
	END IF;
	RETURN NULL;
END $$;
COMMENT ON FUNCTION outcome_notify() IS
    'Trigger of challenge and orders: a row that leaves ''processing'' '
    'notifies its outcome channel (outcome_channel) with its new status, '
    'unless the session set the setting named by the second argument, if '
    'any, to on (it then notifies after its commit)';

DROP TRIGGER orders_outcome_notify ON orders;
CREATE TRIGGER orders_outcome_notify AFTER UPDATE OF status ON orders
    FOR EACH ROW WHEN (OLD.status = 'processing'
	AND NEW.status <> 'processing')
    EXECUTE FUNCTION outcome_notify('acme_o_',
	'acme.notifies_order_outcome');

-- Notifies the outcome channel of order p_order with its status, unless
-- it is still processing; says whether it did.
CREATE FUNCTION order_outcome_notify(p_order text) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
	v_status text;
	v_channel text := outcome_channel('acme_o_', p_order);
BEGIN
	SELECT status INTO v_status FROM orders WHERE id = p_order;
	IF v_channel IS NULL OR v_status IS NULL
	    OR v_status = 'processing' THEN
		RETURN false;
	END IF;
	PERFORM pg_notify(v_channel, v_status);
	RETURN true;
END $$;
COMMENT ON FUNCTION order_outcome_notify(text) IS
    'acme-worker: after the commit that moved an order out of processing, '
    'notifies its outcome channel (sql/020)';
