-- 018_outcome_wait: the challenge's POST and finalize answer with the
-- worker's outcome when it comes soon enough (README, "Performance").
--
-- A client that starts a challenge, or finalizes an order, polls until the
-- worker is done: a poll costs a whole signed request, and its interval
-- (certbot waits a second, others back off) is added to every issuance.
-- acme-fcgi may now hold those two requests for a while (validation_wait,
-- issuance_wait, in milliseconds) and answer with the outcome: the
-- challenge valid or invalid, the order valid with its certificate. What
-- the worker has not done by then is answered as before (processing, with
-- Retry-After), and the client polls.
--
-- How the request learns of the outcome, without a round trip of its own:
--   - a session that asks for it (acme.wait_outcome = 'on', set by
--     acme-fcgi for its own session when a wait is configured) LISTENs on
--     the object's channel, acme_c_<challenge id> or acme_o_<order id>, in
--     the very statement that starts the challenge or finalizes the order
--     (fcgi_challenge, fcgi_finalize): LISTEN takes effect when that
--     transaction commits, before any worker can see the job, so no
--     outcome can come unheard;
--   - a challenge or an order that leaves 'processing', whoever moves it
--     (the worker's outcome, an expiry, a DBA), notifies that channel with
--     its new status (outcome_notify, a trigger: every path is covered);
--   - the request, once notified or out of time, reads the object again
--     and stops listening in one statement (fcgi_challenge_waited,
--     fcgi_order_waited).
-- A channel is a name of at most 63 bytes: an object whose id would make
-- a longer one (the service's ids have 22 characters) is neither listened
-- to nor notified, and its request answers at once, as before.
--
-- rfc3339 becomes STABLE, which its body is (to_char is STABLE): declared
-- IMMUTABLE, it could not be inlined, and each of its calls, about 15 per
-- issuance, ran as a function of its own, planned at every call.

ALTER FUNCTION rfc3339(timestamptz) STABLE;

CREATE FUNCTION outcome_channel(p_kind text, p_id text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN octet_length(p_kind || p_id) <= 63
	    THEN p_kind || p_id END
$$;
COMMENT ON FUNCTION outcome_channel(text, text) IS
    'The NOTIFY channel of a challenge (acme_c_) or an order (acme_o_) '
    'whose outcome a request may wait for; NULL when the id is too long '
    'for a channel name';

CREATE FUNCTION outcome_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	v_channel text := outcome_channel(TG_ARGV[0], NEW.id);
BEGIN
	IF v_channel IS NOT NULL THEN
		PERFORM pg_notify(v_channel, NEW.status);
	END IF;
	RETURN NULL;
END $$;
COMMENT ON FUNCTION outcome_notify() IS
    'Trigger of challenge and orders: a row that leaves ''processing'' '
    'notifies its outcome channel (outcome_channel) with its new status';

CREATE TRIGGER challenge_outcome_notify AFTER UPDATE OF status ON challenge
    FOR EACH ROW WHEN (OLD.status = 'processing'
	AND NEW.status <> 'processing')
    EXECUTE FUNCTION outcome_notify('acme_c_');
CREATE TRIGGER orders_outcome_notify AFTER UPDATE OF status ON orders
    FOR EACH ROW WHEN (OLD.status = 'processing'
	AND NEW.status <> 'processing')
    EXECUTE FUNCTION outcome_notify('acme_o_');

-- LISTENs, when the session waits for outcomes, on the channel of kind
-- p_kind of p_id; says whether it did.
CREATE FUNCTION outcome_listen(p_kind text, p_id text) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
	v_channel text := outcome_channel(p_kind, p_id);
BEGIN
	IF v_channel IS NULL OR current_setting('acme.wait_outcome', true)
	    IS DISTINCT FROM 'on' THEN
		RETURN false;
	END IF;
	EXECUTE 'LISTEN ' || quote_ident(v_channel);
	RETURN true;
END $$;
COMMENT ON FUNCTION outcome_listen(text, text) IS
    'acme-fcgi: listens on the outcome channel of a challenge or an order '
    'when the session set acme.wait_outcome = on';

CREATE FUNCTION outcome_unlisten(p_kind text, p_id text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	v_channel text := outcome_channel(p_kind, p_id);
BEGIN
	IF v_channel IS NOT NULL THEN
		EXECUTE 'UNLISTEN ' || quote_ident(v_channel);
	END IF;
END $$;

-- fcgi_challenge (013), which now listens on the challenge's channel when
-- the POST found it processing.
CREATE OR REPLACE FUNCTION fcgi_challenge(p_account bigint, p_tp text,
    p_nonce text, p_epoch integer, p_usable boolean, p_challenge text,
    p_start boolean,
    OUT result text, OUT id bigint, OUT jwk text, OUT thumbprint text,
    OUT status text, OUT contact text, OUT acme_account_id bigint,
    OUT kid text, OUT problem text, OUT profile text,
    OUT key_sizes integer[],
    OUT challenge_id text, OUT challenge_authz text,
    OUT challenge_account bigint, OUT challenge_type text,
    OUT challenge_token text, OUT challenge_status text,
    OUT challenge_validated text, OUT challenge_error text)
LANGUAGE plpgsql AS $$
BEGIN
	SELECT * INTO result, id, jwk, thumbprint, status, contact,
	    acme_account_id, kid, problem, profile, key_sizes
	    FROM fcgi_auth(p_account, p_tp, p_nonce, p_epoch, p_usable);
	IF result <> 'ok' OR p_nonce IS NULL THEN
		RETURN;
	END IF;
	IF p_start AND EXISTS (SELECT 1 FROM challenge c
	    JOIN authorization_ z ON z.id = c.authorization_id
	    WHERE c.id = p_challenge AND z.account_id = p_account) THEN
		PERFORM challenge_start(p_challenge);
	END IF;
	SELECT c.id, c.authorization_id, z.account_id, c.type, c.token,
	    c.status, rfc3339(c.validated_at), c.error::text
	    INTO challenge_id, challenge_authz, challenge_account,
	    challenge_type, challenge_token, challenge_status,
	    challenge_validated, challenge_error
	    FROM challenge c JOIN authorization_ z ON z.id = c.authorization_id
	    WHERE c.id = p_challenge;
	IF p_start AND challenge_account = p_account
	    AND challenge_status = 'processing' THEN
		PERFORM outcome_listen('acme_c_', p_challenge);
	END IF;
END $$;

-- fcgi_finalize (013), which now listens on the order's channel when it
-- finalized the order.
CREATE OR REPLACE FUNCTION fcgi_finalize(p_account bigint, p_tp text,
    p_nonce text, p_epoch integer, p_usable boolean, p_order text,
    p_csr bytea, p_csr_names text[], p_csr_bits integer,
    OUT result text, OUT id bigint, OUT jwk text, OUT thumbprint text,
    OUT status text, OUT contact text, OUT acme_account_id bigint,
    OUT kid text, OUT problem text, OUT profile text,
    OUT key_sizes integer[],
    OUT status_before text, OUT policy_codes text[],
    OUT policy_identifiers text[], OUT finalized boolean,
    OUT order_id text, OUT order_account bigint, OUT order_status text,
    OUT order_expires text, OUT order_identifiers text,
    OUT order_error text, OUT order_certificate text,
    OUT order_names text[], OUT order_authorizations text[])
LANGUAGE plpgsql AS $$
BEGIN
	SELECT * INTO result, id, jwk, thumbprint, status, contact,
	    acme_account_id, kid, problem, profile, key_sizes
	    FROM fcgi_auth(p_account, p_tp, p_nonce, p_epoch, p_usable);
	IF result <> 'ok' OR p_nonce IS NULL THEN
		RETURN;
	END IF;
	SELECT * INTO order_id, order_account, order_status, order_expires,
	    order_identifiers, order_error, order_certificate, order_names,
	    order_authorizations
	    FROM fcgi_order_get(p_order);
	status_before := order_status;
	IF order_id IS NULL OR order_account <> p_account OR
	    order_status <> 'ready' OR p_csr IS NULL THEN
		RETURN;
	END IF;
	SELECT * INTO policy_codes, policy_identifiers
	    FROM fcgi_policy(acme_account_id, order_names, NULL);
	IF policy_codes IS NOT NULL OR p_csr_names IS NULL OR
	    NOT (order_names @> p_csr_names AND p_csr_names @> order_names) OR
	    NOT coalesce(p_csr_bits = ANY (key_sizes), false) THEN
		RETURN;
	END IF;
	finalized := order_finalize(p_order, p_csr);
	IF finalized THEN
		PERFORM outcome_listen('acme_o_', p_order);
		SELECT * INTO order_id, order_account, order_status,
		    order_expires, order_identifiers, order_error,
		    order_certificate, order_names, order_authorizations
		    FROM fcgi_order_get(p_order);
	END IF;
END $$;

-- After the wait: the challenge as fcgi_challenge returns it, and its
-- channel no longer listened to.
CREATE FUNCTION fcgi_challenge_waited(p_challenge text,
    OUT challenge_id text, OUT challenge_authz text,
    OUT challenge_account bigint, OUT challenge_type text,
    OUT challenge_token text, OUT challenge_status text,
    OUT challenge_validated text, OUT challenge_error text)
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM outcome_unlisten('acme_c_', p_challenge);
	SELECT c.id, c.authorization_id, z.account_id, c.type, c.token,
	    c.status, rfc3339(c.validated_at), c.error::text
	    INTO challenge_id, challenge_authz, challenge_account,
	    challenge_type, challenge_token, challenge_status,
	    challenge_validated, challenge_error
	    FROM challenge c JOIN authorization_ z ON z.id = c.authorization_id
	    WHERE c.id = p_challenge;
END $$;
COMMENT ON FUNCTION fcgi_challenge_waited(text) IS
    'acme-fcgi: a challenge after waiting for its outcome, and its channel '
    'unlistened, in one round trip';

-- After the wait: the order as fcgi_order_get returns it, and its channel
-- no longer listened to.
CREATE FUNCTION fcgi_order_waited(p_order text,
    OUT order_id text, OUT order_account bigint, OUT order_status text,
    OUT order_expires text, OUT order_identifiers text,
    OUT order_error text, OUT order_certificate text,
    OUT order_names text[], OUT order_authorizations text[])
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM outcome_unlisten('acme_o_', p_order);
	SELECT * INTO order_id, order_account, order_status, order_expires,
	    order_identifiers, order_error, order_certificate, order_names,
	    order_authorizations
	    FROM fcgi_order_get(p_order);
END $$;
COMMENT ON FUNCTION fcgi_order_waited(text) IS
    'acme-fcgi: an order after waiting for its outcome, and its channel '
    'unlistened, in one round trip';
