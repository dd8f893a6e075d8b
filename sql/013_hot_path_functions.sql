-- 013_hot_path_functions: one database round trip per signed ACME request
-- (README, "Performance").
--
-- fcgi_auth (009) authenticates a request signed by an account and redeems
-- its nonce in one call; acme-fcgi then ran the resource's own queries, one
-- to four more round trips. Each fcgi_* function below does both for one
-- resource, in one statement:
--
--   - it takes fcgi_auth's five arguments first, calls it, and returns its
--     columns first (the same, in the same order);
--   - it does the resource's work only when fcgi_auth said 'ok', that is
--     once the nonce is redeemed (never when no nonce is given);
--   - a refusal of the resource's own (no such object, another account's
--     object, a policy problem, an order that is not ready, a CSR that does
--     not fit) is a result, never an exception: the statement commits and
--     the nonce stays used, whatever the answer;
--   - an unexpected error rolls the whole statement back, the nonce's
--     redemption with it: acme-fcgi then calls fcgi_auth alone, which
--     redeems the nonce, before it reports the error. No refused request
--     leaves its nonce usable.
--
-- An object is returned even when it belongs to another account (acme-fcgi
-- answers "not found" then, as it always did); a change is made only for
-- the account that signed the request.
--
-- acme-worker's side: its session prepares its statements (common/db.c,
-- db_prepare), its claims among them, so that they are planned once per
-- session instead of at every claim; crl_due, which every worker calls
-- each time it looks for work, becomes PL/pgSQL for the same reason (a
-- LANGUAGE sql function with a FROM clause is planned at every call).

-- The order p_order as acme-fcgi renders it (all NULL when there is none).
CREATE FUNCTION fcgi_order_get(p_order text,
    OUT order_id text, OUT order_account bigint, OUT order_status text,
    OUT order_expires text, OUT order_identifiers text,
    OUT order_error text, OUT order_certificate text,
    OUT order_names text[], OUT order_authorizations text[])
LANGUAGE plpgsql STABLE AS $$
BEGIN
	SELECT o.id, o.account_id, order_status(o), rfc3339(o.expires_at),
	    o.identifiers::text, o.error::text, c.id, o.names,
	    (SELECT array_agg(oa.authorization_id ORDER BY oa.authorization_id)
		FROM order_authorization oa WHERE oa.order_id = o.id)
	    INTO order_id, order_account, order_status, order_expires,
	    order_identifiers, order_error, order_certificate, order_names,
	    order_authorizations
	    FROM orders o LEFT JOIN certificate c ON c.order_id = o.id
	    WHERE o.id = p_order;
END $$;

-- The policy problems of names under ACME account p_acme (order_policy),
-- in its order, as two arrays: codes, and identifiers ('' for none). Both
-- NULL when the order is allowed.
CREATE FUNCTION fcgi_policy(p_acme bigint, p_names text[], p_profile text,
    OUT codes text[], OUT identifiers text[])
LANGUAGE plpgsql STABLE AS $$
BEGIN
	SELECT array_agg(p.code ORDER BY p.n),
	    array_agg(coalesce(p.identifier, '') ORDER BY p.n)
	    INTO codes, identifiers
	    FROM order_policy(p_acme, p_names, p_profile)
	    WITH ORDINALITY AS p(code, identifier, n);
END $$;

-- POST-as-GET of an order.
CREATE FUNCTION fcgi_order(p_account bigint, p_tp text, p_nonce text,
    p_epoch integer, p_usable boolean, p_order text,
    OUT result text, OUT id bigint, OUT jwk text, OUT thumbprint text,
    OUT status text, OUT contact text, OUT acme_account_id bigint,
    OUT kid text, OUT problem text, OUT profile text,
    OUT key_sizes integer[],
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
END $$;

-- newOrder: the policy (policy_codes, policy_identifiers: nothing is
-- created when there is a problem), then the order (order_create's
-- arguments), returned as created. replaced: the certificate p_replaces
-- already has a live replacement order (nothing created).
CREATE FUNCTION fcgi_new_order(p_account bigint, p_tp text, p_nonce text,
    p_epoch integer, p_usable boolean, p_order text, p_identifiers jsonb,
    p_names text[], p_wildcard boolean[], p_authz text[], p_http text[],
    p_dns text[], p_tokens text[], p_lifetime integer, p_profile text,
    p_replaces text,
    OUT result text, OUT id bigint, OUT jwk text, OUT thumbprint text,
    OUT status text, OUT contact text, OUT acme_account_id bigint,
    OUT kid text, OUT problem text, OUT profile text,
    OUT key_sizes integer[],
    OUT policy_codes text[], OUT policy_identifiers text[],
    OUT replaced boolean,
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
	SELECT * INTO policy_codes, policy_identifiers
	    FROM fcgi_policy(acme_account_id, p_names, p_profile);
	IF policy_codes IS NOT NULL THEN
		RETURN;
	END IF;
	replaced := false;
	IF p_replaces IS NULL THEN
		PERFORM order_create(p_order, p_account, p_identifiers, p_names,
		    p_wildcard, p_authz, p_http, p_dns, p_tokens,
		    now() + make_interval(secs => p_lifetime), NULL);
	ELSE
		-- orders_replaces_once: one live order per replaced
		-- certificate (the subtransaction only for renewals)
		BEGIN
			PERFORM order_create(p_order, p_account, p_identifiers,
			    p_names, p_wildcard, p_authz, p_http, p_dns,
			    p_tokens, now() + make_interval(secs => p_lifetime),
			    p_replaces);
		EXCEPTION WHEN unique_violation THEN
			replaced := true;
			RETURN;
		END;
	END IF;
	SELECT * INTO order_id, order_account, order_status, order_expires,
	    order_identifiers, order_error, order_certificate, order_names,
	    order_authorizations
	    FROM fcgi_order_get(p_order);
END $$;

-- finalize: the order as it was (status_before: its status then); when it
-- was ready and is the account's and a CSR was given, the policy; then,
-- when the policy allows it and the CSR fits the order (p_csr_names, the
-- CSR's names, acme-fcgi having checked everything else of the CSR, are
-- the order's names, and p_csr_bits one of the profile's key sizes), the
-- finalization (order_finalize): finalized is true when the order moved to
-- processing, false when it was no longer ready, NULL when not tried. The
-- order columns are the order as it is at the end.
CREATE FUNCTION fcgi_finalize(p_account bigint, p_tp text, p_nonce text,
    p_epoch integer, p_usable boolean, p_order text, p_csr bytea,
    p_csr_names text[], p_csr_bits integer,
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
		SELECT * INTO order_id, order_account, order_status,
		    order_expires, order_identifiers, order_error,
		    order_certificate, order_names, order_authorizations
		    FROM fcgi_order_get(p_order);
	END IF;
END $$;

-- An authorization, one row per challenge (one row with NULL challenge
-- columns when it has none, and with NULL authorization columns when there
-- is no such authorization or the request is refused). With p_deactivate
-- (the orders' error), the account's authorization is deactivated first
-- (authorization_deactivate): deactivated says whether it was.
CREATE FUNCTION fcgi_authorization(p_account bigint, p_tp text,
    p_nonce text, p_epoch integer, p_usable boolean, p_authz text,
    p_deactivate jsonb)
RETURNS TABLE (result text, id bigint, jwk text, thumbprint text,
    status text, contact text, acme_account_id bigint, kid text,
    problem text, profile text, key_sizes integer[], deactivated boolean,
    authz_id text, authz_account bigint, authz_identifier text,
    authz_wildcard boolean, authz_status text, authz_expires text,
    challenge_id text, challenge_authz text, challenge_account bigint,
    challenge_type text, challenge_token text, challenge_status text,
    challenge_validated text, challenge_error text)
LANGUAGE plpgsql AS $$
DECLARE
	v record;
	v_ok boolean;
	v_deactivated boolean;
BEGIN
	SELECT * INTO v
	    FROM fcgi_auth(p_account, p_tp, p_nonce, p_epoch, p_usable);
	v_ok := v.result = 'ok' AND p_nonce IS NOT NULL;
	IF v_ok AND p_deactivate IS NOT NULL AND EXISTS (SELECT 1
	    FROM authorization_ z WHERE z.id = p_authz
	    AND z.account_id = p_account) THEN
		v_deactivated := authorization_deactivate(p_authz,
		    p_deactivate);
	END IF;
	RETURN QUERY SELECT v.result, v.id, v.jwk, v.thumbprint, v.status,
	    v.contact, v.acme_account_id, v.kid, v.problem, v.profile,
	    v.key_sizes, v_deactivated, z.id, z.account_id, z.identifier,
	    z.wildcard,
	    CASE WHEN z.status = 'pending' AND z.expires_at <= now()
		THEN 'expired' ELSE z.status END,
	    rfc3339(z.expires_at), c.id, c.authorization_id, z.account_id,
	    c.type, c.token, c.status, rfc3339(c.validated_at), c.error::text
	    FROM (VALUES (1)) AS one (x)
	    LEFT JOIN authorization_ z ON z.id = p_authz AND v_ok
	    LEFT JOIN challenge c ON c.authorization_id = z.id
	    ORDER BY c.type DESC;
END $$;

-- A challenge; with p_start (POST {}), the account's challenge is started
-- first (challenge_start: nothing happens to one that is not pending).
CREATE FUNCTION fcgi_challenge(p_account bigint, p_tp text, p_nonce text,
    p_epoch integer, p_usable boolean, p_challenge text, p_start boolean,
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
END $$;

-- A certificate's owner, and its chain when the owner signed the request.
CREATE FUNCTION fcgi_certificate(p_account bigint, p_tp text,
    p_nonce text, p_epoch integer, p_usable boolean, p_certificate text,
    OUT result text, OUT id bigint, OUT jwk text, OUT thumbprint text,
    OUT status text, OUT contact text, OUT acme_account_id bigint,
    OUT kid text, OUT problem text, OUT profile text,
    OUT key_sizes integer[],
    OUT certificate_account bigint, OUT certificate_pem text)
LANGUAGE plpgsql AS $$
BEGIN
	SELECT * INTO result, id, jwk, thumbprint, status, contact,
	    acme_account_id, kid, problem, profile, key_sizes
	    FROM fcgi_auth(p_account, p_tp, p_nonce, p_epoch, p_usable);
	IF result <> 'ok' OR p_nonce IS NULL THEN
		RETURN;
	END IF;
	SELECT c.account_id,
	    CASE WHEN c.account_id = p_account THEN c.pem_chain END
	    INTO certificate_account, certificate_pem
	    FROM certificate c WHERE c.id = p_certificate;
END $$;

-- The account resource: with p_deactivate, the account is deactivated;
-- else with p_contact, its contact replaced (changed: whether a valid
-- account was changed, NULL when nothing was asked). The account columns
-- are the account as it is at the end.
CREATE FUNCTION fcgi_account(p_account bigint, p_tp text, p_nonce text,
    p_epoch integer, p_usable boolean, p_deactivate boolean,
    p_contact jsonb,
    OUT result text, OUT id bigint, OUT jwk text, OUT thumbprint text,
    OUT status text, OUT contact text, OUT acme_account_id bigint,
    OUT kid text, OUT problem text, OUT profile text,
    OUT key_sizes integer[], OUT changed boolean)
LANGUAGE plpgsql AS $$
BEGIN
	SELECT * INTO result, id, jwk, thumbprint, status, contact,
	    acme_account_id, kid, problem, profile, key_sizes
	    FROM fcgi_auth(p_account, p_tp, p_nonce, p_epoch, p_usable);
	IF result <> 'ok' OR p_nonce IS NULL THEN
		RETURN;
	END IF;
	IF p_deactivate THEN
		UPDATE account a SET status = 'deactivated'
		    WHERE a.id = p_account AND a.status = 'valid';
		changed := FOUND;
	ELSIF p_contact IS NOT NULL THEN
		UPDATE account a SET contact = p_contact
		    WHERE a.id = p_account AND a.status = 'valid';
		changed := FOUND;
	ELSE
		RETURN;
	END IF;
	SELECT a.status, a.contact::text INTO status, contact
	    FROM account a WHERE a.id = p_account;
END $$;

-- A page of the account's orders, oldest first, after the order p_cursor
-- (NULL: from the start): at most p_limit ids (acme-fcgi asks for one
-- more than a page, to know whether there is a next one).
CREATE FUNCTION fcgi_account_orders(p_account bigint, p_tp text,
    p_nonce text, p_epoch integer, p_usable boolean, p_cursor text,
    p_limit integer,
    OUT result text, OUT id bigint, OUT jwk text, OUT thumbprint text,
    OUT status text, OUT contact text, OUT acme_account_id bigint,
    OUT kid text, OUT problem text, OUT profile text,
    OUT key_sizes integer[], OUT order_ids text[])
LANGUAGE plpgsql AS $$
BEGIN
	SELECT * INTO result, id, jwk, thumbprint, status, contact,
	    acme_account_id, kid, problem, profile, key_sizes
	    FROM fcgi_auth(p_account, p_tp, p_nonce, p_epoch, p_usable);
	IF result <> 'ok' OR p_nonce IS NULL THEN
		RETURN;
	END IF;
	-- keyset pagination on (created_at, id); the cursor is the last
	-- order of the previous page
	SELECT coalesce(array_agg(p.id ORDER BY p.created_at, p.id), '{}')
	    INTO order_ids
	    FROM (SELECT o.id, o.created_at FROM orders o
		WHERE o.account_id = p_account
		AND (p_cursor IS NULL OR (o.created_at, o.id) >
		    (SELECT c.created_at, c.id FROM orders c
		    WHERE c.id = p_cursor AND c.account_id = p_account))
		ORDER BY o.created_at, o.id LIMIT p_limit) p;
END $$;

COMMENT ON FUNCTION fcgi_order(bigint, text, text, integer, boolean, text)
    IS 'acme-fcgi: fcgi_auth, then an order, in one round trip';
COMMENT ON FUNCTION fcgi_new_order(bigint, text, text, integer, boolean,
    text, jsonb, text[], boolean[], text[], text[], text[], text[], integer,
    text, text)
    IS 'acme-fcgi: fcgi_auth, then newOrder (policy, creation), in one '
    'round trip';
COMMENT ON FUNCTION fcgi_finalize(bigint, text, text, integer, boolean,
    text, bytea, text[], integer)
    IS 'acme-fcgi: fcgi_auth, then finalize (policy, CSR names and key '
    'size, order_finalize), in one round trip';
COMMENT ON FUNCTION fcgi_authorization(bigint, text, text, integer, boolean,
    text, jsonb)
    IS 'acme-fcgi: fcgi_auth, then an authorization and its challenges '
    '(and its deactivation), in one round trip';
COMMENT ON FUNCTION fcgi_challenge(bigint, text, text, integer, boolean,
    text, boolean)
    IS 'acme-fcgi: fcgi_auth, then a challenge (and its start), in one '
    'round trip';
COMMENT ON FUNCTION fcgi_certificate(bigint, text, text, integer, boolean,
    text)
    IS 'acme-fcgi: fcgi_auth, then a certificate chain, in one round trip';
COMMENT ON FUNCTION fcgi_account(bigint, text, text, integer, boolean,
    boolean, jsonb)
    IS 'acme-fcgi: fcgi_auth, then the account (deactivation, contact), '
    'in one round trip';
COMMENT ON FUNCTION fcgi_account_orders(bigint, text, text, integer,
    boolean, text, integer)
    IS 'acme-fcgi: fcgi_auth, then a page of the account''s orders, in '
    'one round trip';

-- crl_due (005), the same, its plan kept for the session.
CREATE OR REPLACE FUNCTION crl_due() RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN coalesce((SELECT c.revocations < s.revocations
	    OR c.this_update + (c.next_update - c.this_update) / 2 <= now()
	    FROM crl c, crl_state s ORDER BY c.number DESC LIMIT 1), true);
END $$;
