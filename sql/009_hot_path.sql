-- 009_hot_path: the request path made lean (README, "Performance").
--
-- 1. Functions that acme-fcgi calls on every request become PL/pgSQL: a
--    LANGUAGE sql function that PostgreSQL cannot inline (one with a FROM
--    clause, or that writes) is parsed and planned again at every call,
--    while PL/pgSQL keeps its plans for the whole session. Same results.
-- 2. fcgi_auth: a signed request's account checks and nonce redemption in
--    one round trip (it used to take two, before the handler's own).
-- 3. Asynchronous commit (synchronous_commit off) for the transactions whose
--    loss in a database crash can lose neither a certificate nor credit:
--    starting a challenge, recording its outcome, creating an order, and
--    finalizing one. Each sets it for its own transaction only (set_config
--    with is_local). Why it is safe: WAL is one sequence, and a synchronous
--    commit flushes all of it up to its own record. Every certificate and
--    every debit is written by order_issue, which commits synchronously after
--    the worker's synchronous claim of the order; the claim, and with it any
--    earlier asynchronous commit it depends on (the finalize, the challenge
--    outcome that made the order ready, the order itself), is on disk before
--    anything is signed. A crash can only take back the last few of these
--    (at most wal_writer_delay, 200 ms by default): the client then sees its
--    order, or challenge, as it was just before, and goes on.

CREATE OR REPLACE FUNCTION acme_account_problem(p_id bigint) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN (SELECT CASE
	    WHEN e.status = 'DEACTIVATED' THEN 'DEACTIVATED_ACCOUNT'
	    WHEN e.status = 'REVOKED' THEN 'REVOKED_ACCOUNT'
	    WHEN e.status = 'SUSPENDED' THEN 'SUSPENDED_ACCOUNT'
	    WHEN e.status = 'EXPIRED' OR e.expires_at <= now()
		THEN 'EXPIRED_ACCOUNT'
	    WHEN x.id IS NULL THEN 'EXTERNAL_ACCOUNT_NOT_FOUND'
	    WHEN x.status = 'DEACTIVATED' THEN 'DEACTIVATED_EXTERNAL_ACCOUNT'
	    WHEN x.status = 'REVOKED' THEN 'REVOKED_EXTERNAL_ACCOUNT'
	    WHEN x.status = 'SUSPENDED' THEN 'SUSPENDED_EXTERNAL_ACCOUNT'
	    WHEN x.status = 'EXPIRED' OR x.expires_at <= now()
		THEN 'EXPIRED_EXTERNAL_ACCOUNT'
	    WHEN x.status = 'PENDING' OR e.status = 'PENDING'
		THEN 'PENDING_EXTERNAL_ACCOUNT'
	    WHEN g.status <> 'VALID' THEN 'ORGANIZATION_IS_NOT_VALID'
	    WHEN NOT EXISTS (SELECT 1 FROM document d
		WHERE d.organization_id = g.id AND d.kind = 'ORGANIZATION_PROOF'
		AND d.status = 'VALID'
		AND (d.expires_at IS NULL OR d.expires_at > now()))
		THEN 'NO_VALID_ORGANIZATION_DOCUMENT_FOUND'
	    WHEN NOT EXISTS (SELECT 1 FROM document d
		WHERE d.organization_id = g.id AND d.kind = 'REQUEST_FORM'
		AND d.status = 'VALID'
		AND (d.expires_at IS NULL OR d.expires_at > now()))
		THEN 'NO_DOCUMENT_FORM_FOUND'
	    END
	FROM acme_account e
	LEFT JOIN external_account x ON x.id = e.external_account_id
	LEFT JOIN organization g ON g.id = x.organization_id
	WHERE e.id = p_id);
END $$;

CREATE OR REPLACE FUNCTION nonce_redeem(p_nonce text, p_epoch integer)
RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM nonce_sentinel WHERE epoch = p_epoch) THEN
		RETURN false;
	END IF;
	INSERT INTO nonce_used (nonce) VALUES (p_nonce) ON CONFLICT DO NOTHING;
	RETURN FOUND;
END $$;

-- Authenticates a request signed by account p_account with the key whose
-- thumbprint is p_tp (acme-fcgi has verified the signature with it), then
-- redeems the nonce p_nonce of epoch p_epoch (none when NULL), in the
-- order acme-fcgi always checked them. result is
--	'unknown'	no such account (nothing else is returned)
--	'key'		the account's key is no longer p_tp (nothing else)
--	'refused'	the account is not valid, or (p_usable) its ACME
--			account, external account or organization forbids
--			its use (problem): the nonce is not redeemed
--	'nonce'		the nonce was already used, or its epoch was lost
--	'ok'		the nonce is redeemed (or none was given)
-- with the account's columns, as store.c's account lookups return them.
CREATE FUNCTION fcgi_auth(p_account bigint, p_tp text, p_nonce text,
    p_epoch integer, p_usable boolean,
    OUT result text, OUT id bigint, OUT jwk text, OUT thumbprint text,
    OUT status text, OUT contact text, OUT acme_account_id bigint,
    OUT kid text, OUT problem text, OUT profile text,
    OUT key_sizes integer[])
LANGUAGE plpgsql AS $$
BEGIN
	SELECT a.id, a.jwk::text, a.thumbprint, a.status, a.contact::text,
	    e.id, e.kid::text, e.profile, p.key_sizes
	    INTO id, jwk, thumbprint, status, contact, acme_account_id, kid,
	    profile, key_sizes
	    FROM account a JOIN acme_account e ON e.id = a.acme_account_id
	    LEFT JOIN profile p ON p.name = e.profile
	    WHERE a.id = p_account;
	IF NOT FOUND THEN
		result := 'unknown';
		id := NULL;
		RETURN;
	END IF;
	IF thumbprint <> p_tp THEN
		result := 'key';
		id := NULL;
		jwk := NULL;
		RETURN;
	END IF;
	problem := acme_account_problem(acme_account_id);
	IF status <> 'valid' OR (p_usable AND problem IS NOT NULL) THEN
		result := 'refused';
		RETURN;
	END IF;
	IF p_nonce IS NOT NULL AND NOT nonce_redeem(p_nonce, p_epoch) THEN
		result := 'nonce';
		RETURN;
	END IF;
	result := 'ok';
END $$;
COMMENT ON FUNCTION fcgi_auth(bigint, text, text, integer, boolean) IS
    'acme-fcgi: account checks and nonce redemption of a signed request, '
    'in one round trip';

-- The asynchronous commits of 3. above: the same functions (as 001 and
-- 004 left them), each asking for an asynchronous commit of its own
-- transaction.
CREATE OR REPLACE FUNCTION order_create(p_id text, p_account bigint,
    p_identifiers jsonb, p_names text[], p_wildcard boolean[],
    p_authz text[], p_http text[], p_dns text[], p_tokens text[],
    p_expires timestamptz, p_replaces text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	i integer;
BEGIN
	PERFORM set_config('synchronous_commit', 'off', true);
	-- an expired order no longer holds the certificate it replaced
	IF p_replaces IS NOT NULL THEN
		UPDATE orders SET status = 'invalid', updated_at = now()
		    WHERE replaces = p_replaces AND status IN ('pending', 'ready')
		    AND expires_at <= now();
	END IF;
	INSERT INTO orders (id, account_id, identifiers, names, expires_at,
	    replaces)
	    VALUES (p_id, p_account, p_identifiers, p_names, p_expires,
	    p_replaces);
	FOR i IN 1 .. array_length(p_names, 1) LOOP
		INSERT INTO authorization_ (id, account_id, identifier,
		    wildcard, expires_at)
		    VALUES (p_authz[i], p_account,
		    regexp_replace(p_names[i], '^\*\.', ''), p_wildcard[i],
		    p_expires);
		INSERT INTO order_authorization VALUES (p_id, p_authz[i]);
		IF NOT p_wildcard[i] THEN
			INSERT INTO challenge (id, authorization_id, type, token)
			    VALUES (p_http[i], p_authz[i], 'http-01',
			    p_tokens[i]);
		END IF;
		INSERT INTO challenge (id, authorization_id, type, token)
		    VALUES (p_dns[i], p_authz[i], 'dns-01', p_tokens[i]);
	END LOOP;
END $$;

CREATE OR REPLACE FUNCTION challenge_start(p_id text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE challenge c SET status = 'processing', lease_until = NULL
	    FROM authorization_ a
	    WHERE c.id = p_id AND c.status = 'pending'
	    AND a.id = c.authorization_id AND a.status = 'pending'
	    AND a.expires_at > now()
	    AND NOT EXISTS (SELECT 1 FROM challenge o
		WHERE o.authorization_id = c.authorization_id
		AND o.status = 'processing');
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	PERFORM set_config('synchronous_commit', 'off', true);
	PERFORM pg_notify('acme_work', 'challenge');
	RETURN true;
END $$;

CREATE OR REPLACE FUNCTION order_finalize(p_id text, p_csr bytea)
RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE orders SET status = 'processing', csr = p_csr,
	    lease_until = NULL, updated_at = now()
	    WHERE id = p_id AND status = 'ready' AND expires_at > now();
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	PERFORM set_config('synchronous_commit', 'off', true);
	PERFORM pg_notify('acme_work', 'order');
	RETURN true;
END $$;

CREATE OR REPLACE FUNCTION challenge_finish(p_id text, p_ok boolean,
    p_error jsonb)
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
	v_authz text;
BEGIN
	UPDATE challenge SET
	    status = CASE WHEN p_ok THEN 'valid' ELSE 'invalid' END,
	    validated_at = CASE WHEN p_ok THEN now() END,
	    error = p_error, lease_until = NULL
	    WHERE id = p_id AND status = 'processing'
	    RETURNING authorization_id INTO v_authz;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	PERFORM set_config('synchronous_commit', 'off', true);
	UPDATE authorization_ SET
	    status = CASE WHEN p_ok THEN 'valid' ELSE 'invalid' END
	    WHERE id = v_authz AND status = 'pending';
	IF p_ok THEN
		UPDATE orders o SET status = 'ready', updated_at = now()
		    WHERE o.status = 'pending'
		    AND o.id IN (SELECT order_id FROM order_authorization
			WHERE authorization_id = v_authz)
		    AND NOT EXISTS (SELECT 1 FROM order_authorization oa
			JOIN authorization_ a ON a.id = oa.authorization_id
			WHERE oa.order_id = o.id AND a.status <> 'valid');
	ELSE
		UPDATE orders SET status = 'invalid', error = p_error,
		    updated_at = now()
		    WHERE status IN ('pending', 'ready')
		    AND id IN (SELECT order_id FROM order_authorization
			WHERE authorization_id = v_authz);
	END IF;
	RETURN true;
END $$;
