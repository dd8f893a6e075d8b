-- 004_lifecycle: key change, revocation (by clients, operators and in
-- cascade), renewal information (RFC 9773) and the replaces field.

ALTER TABLE certificate
	ADD COLUMN revoked_by text,
	ADD COLUMN renew_after timestamptz;
COMMENT ON COLUMN certificate.renew_after IS
    'Set by an operator to ask for renewal now: the ARI window starts here.';
COMMENT ON COLUMN certificate.revocation_reason IS
    'RFC 5280 CRLReason code (0 unspecified, 1 keyCompromise, '
    '3 affiliationChanged, 4 superseded, 5 cessationOfOperation, '
    '9 privilegeWithdrawn)';
CREATE INDEX certificate_revoked ON certificate (revoked_at)
	WHERE revoked_at IS NOT NULL;
CREATE INDEX certificate_account ON certificate (account_id, not_after);

ALTER TABLE orders ADD COLUMN replaces text REFERENCES certificate(id);
CREATE UNIQUE INDEX orders_replaces_once ON orders (replaces)
	WHERE replaces IS NOT NULL AND status <> 'invalid';
COMMENT ON COLUMN orders.replaces IS
    'Certificate this order renews (RFC 9773 replaces); at most one live '
    'order per certificate.';

-- Replaces the key of a valid account (compare and set on the old key's
-- thumbprint). A key registered to another valid account raises 23505.
CREATE FUNCTION account_key_change(p_id bigint, p_old text, p_jwk jsonb,
    p_tp text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE account SET jwk = p_jwk, thumbprint = p_tp
	    WHERE id = p_id AND thumbprint = p_old AND status = 'valid';
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	PERFORM audit('acme-fcgi', 'key-change', 'account', p_id::text,
	    jsonb_build_object('old', p_old, 'new', p_tp));
	RETURN true;
END $$;

-- Revokes a certificate once (compare and set) and wakes the workers,
-- which publish the new revocation status. Returns false if it was
-- already revoked.
CREATE FUNCTION certificate_revoke(p_id text, p_reason integer,
    p_actor text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE certificate SET revoked_at = now(),
	    revocation_reason = p_reason, revoked_by = p_actor
	    WHERE id = p_id AND revoked_at IS NULL;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	PERFORM audit(p_actor, 'revoke', 'certificate', p_id,
	    jsonb_build_object('reason', p_reason));
	PERFORM pg_notify('acme_work', 'revocation');
	RETURN true;
END $$;

-- Revokes every unexpired certificate issued through an ACME account
-- (whichever RFC 8555 account it was bound to). Returns how many.
CREATE FUNCTION acme_account_revoke_certificates(p_acme bigint,
    p_reason integer, p_actor text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	n integer;
BEGIN
	WITH r AS (UPDATE certificate c SET revoked_at = now(),
	    revocation_reason = p_reason, revoked_by = p_actor
	    FROM account a WHERE a.id = c.account_id
	    AND a.acme_account_id = p_acme
	    AND c.revoked_at IS NULL AND c.not_after > now()
	    RETURNING c.id)
	SELECT count(*) INTO n FROM r;
	IF n > 0 THEN
		PERFORM audit(p_actor, 'revoke-cascade', 'acme_account',
		    p_acme::text, jsonb_build_object('certificates', n,
		    'reason', p_reason));
		PERFORM pg_notify('acme_work', 'revocation');
	END IF;
	RETURN n;
END $$;

-- Returns true if an account may revoke a certificate with its account
-- key: it issued it, or it holds valid authorizations for every name.
CREATE FUNCTION account_may_revoke(p_account bigint, p_cert text)
RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT c.account_id = p_account OR NOT EXISTS (
	    SELECT 1 FROM unnest(c.names) AS n(name)
	    WHERE NOT EXISTS (SELECT 1 FROM authorization_ z
		WHERE z.account_id = p_account AND z.status = 'valid'
		AND z.expires_at > now()
		AND z.identifier = regexp_replace(n.name, '^\*\.', '')
		AND z.wildcard = (n.name LIKE '*.%')))
	FROM certificate c WHERE c.id = p_cert
$$;

-- order_create gains the certificate the order replaces.
DROP FUNCTION order_create(text, bigint, jsonb, text[], boolean[], text[],
    text[], text[], text[], timestamptz);
CREATE FUNCTION order_create(p_id text, p_account bigint,
    p_identifiers jsonb, p_names text[], p_wildcard boolean[],
    p_authz text[], p_http text[], p_dns text[], p_tokens text[],
    p_expires timestamptz, p_replaces text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	i integer;
BEGIN
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
