-- 001_init: the issuance spine. ACME accounts (EAB credentials), RFC 8555
-- accounts, nonces, orders, authorizations, challenges, certificates.

CREATE TABLE organization (
	id		bigserial PRIMARY KEY,
	name		text NOT NULL,
	country		text CHECK (country ~ '^[A-Z]{2}$'),
	locality	text,
	state		text,
	status		text NOT NULL DEFAULT 'VALID'
			CHECK (status IN ('PENDING', 'VALID', 'SUSPENDED',
			    'EXPIRED', 'REVOKED')),
	created_at	timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE organization IS
    'Legal entity named in the subject of OV certificates.';

CREATE TABLE acme_account (
	id		bigserial PRIMARY KEY,
	kid		uuid NOT NULL UNIQUE,
	hmac_key	text CHECK (hmac_key ~ '^[A-Za-z0-9_-]{43}$'),
	organization_id	bigint NOT NULL REFERENCES organization(id),
	status		text NOT NULL DEFAULT 'VALID'
			CHECK (status IN ('PENDING', 'VALID', 'SUSPENDED',
			    'EXPIRED', 'REVOKED', 'DEACTIVATED')),
	key_expires_at	timestamptz,
	created_at	timestamptz NOT NULL DEFAULT now(),
	bound_at	timestamptz,
	CHECK ((bound_at IS NULL) = (hmac_key IS NOT NULL))
);
COMMENT ON TABLE acme_account IS
    'EAB credential handed to a customer: kid (UUIDv4) and HMAC key. The '
    'HMAC key is wiped (NULL) once an RFC 8555 account is bound to it.';
COMMENT ON COLUMN acme_account.hmac_key IS
    'base64url (no padding) of 32 random bytes; NULL once bound';

CREATE TABLE account (
	id		bigserial PRIMARY KEY,
	acme_account_id	bigint NOT NULL UNIQUE REFERENCES acme_account(id),
	jwk		jsonb NOT NULL,
	thumbprint	text NOT NULL UNIQUE,
	contact		jsonb NOT NULL DEFAULT '[]',
	status		text NOT NULL DEFAULT 'valid'
			CHECK (status IN ('valid', 'deactivated', 'revoked')),
	created_at	timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE account IS
    'RFC 8555 account: the client''s public key (JWK, RFC 7638 thumbprint), '
    'bound once through EAB to one acme_account.';

-- Nonces: handed out without database work (random part, issue time and
-- epoch, MACed with the epoch key); redeemed by inserting into nonce_used.
-- Both nonce_used and nonce_sentinel are UNLOGGED: a crash empties them
-- together, the sentinel of the epoch disappears, and every nonce of that
-- epoch is refused from then on.
CREATE TABLE nonce_key (
	epoch		serial PRIMARY KEY,
	key		bytea NOT NULL CHECK (length(key) = 32),
	created_at	timestamptz NOT NULL DEFAULT now()
);
CREATE UNLOGGED TABLE nonce_sentinel (
	epoch		integer PRIMARY KEY
);
CREATE UNLOGGED TABLE nonce_used (
	nonce		text PRIMARY KEY,
	used_at		timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX nonce_used_used_at ON nonce_used (used_at);

CREATE TABLE orders (
	id		text PRIMARY KEY,
	account_id	bigint NOT NULL REFERENCES account(id),
	status		text NOT NULL DEFAULT 'pending'
			CHECK (status IN ('pending', 'ready', 'processing',
			    'valid', 'invalid')),
	identifiers	jsonb NOT NULL,
	names		text[] NOT NULL,
	expires_at	timestamptz NOT NULL,
	not_before	timestamptz,
	not_after	timestamptz,
	error		jsonb,
	csr		bytea,
	serial		text,
	lease_until	timestamptz,
	attempts	integer NOT NULL DEFAULT 0,
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_account ON orders (account_id, created_at);
CREATE INDEX orders_processing ON orders (lease_until)
	WHERE status = 'processing';
COMMENT ON COLUMN orders.serial IS
    'serial reserved before signing, so a retried issuance reuses it';

CREATE TABLE authorization_ (
	id		text PRIMARY KEY,
	account_id	bigint NOT NULL REFERENCES account(id),
	identifier	text NOT NULL,
	wildcard	boolean NOT NULL DEFAULT false,
	status		text NOT NULL DEFAULT 'pending'
			CHECK (status IN ('pending', 'valid', 'invalid',
			    'deactivated', 'expired', 'revoked')),
	expires_at	timestamptz NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE authorization_ IS
    'RFC 8555 authorization of one dns identifier (authorization is a '
    'reserved word, hence the underscore).';

CREATE TABLE order_authorization (
	order_id	text NOT NULL REFERENCES orders(id),
	authorization_id text NOT NULL REFERENCES authorization_(id),
	PRIMARY KEY (order_id, authorization_id)
);
CREATE INDEX order_authorization_authz
	ON order_authorization (authorization_id);

CREATE TABLE challenge (
	id		text PRIMARY KEY,
	authorization_id text NOT NULL REFERENCES authorization_(id),
	type		text NOT NULL CHECK (type IN ('http-01', 'dns-01')),
	token		text NOT NULL CHECK (token ~ '^[A-Za-z0-9_-]{43}$'),
	status		text NOT NULL DEFAULT 'pending'
			CHECK (status IN ('pending', 'processing', 'valid',
			    'invalid')),
	validated_at	timestamptz,
	error		jsonb,
	lease_until	timestamptz,
	attempts	integer NOT NULL DEFAULT 0,
	UNIQUE (authorization_id, type)
);
CREATE INDEX challenge_processing ON challenge (lease_until)
	WHERE status = 'processing';

CREATE TABLE certificate (
	id		text PRIMARY KEY,
	order_id	text NOT NULL UNIQUE REFERENCES orders(id),
	account_id	bigint NOT NULL REFERENCES account(id),
	serial		text NOT NULL UNIQUE,
	names		text[] NOT NULL,
	not_before	timestamptz NOT NULL,
	not_after	timestamptz NOT NULL,
	der		bytea NOT NULL,
	pem_chain	text NOT NULL,
	revoked_at	timestamptz,
	revocation_reason integer,
	created_at	timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE certificate IS
    'Issued certificates; at most one per order (UNIQUE order_id).';
COMMENT ON COLUMN certificate.pem_chain IS
    'leaf then intermediate, as served to the client';

-- The one notification channel between acme-fcgi and acme-worker.
COMMENT ON SCHEMA public IS 'ACME service; workers LISTEN on acme_work';

-- Returns the current nonce epoch and key. A new epoch is started when
-- the sentinel of the newest one is missing (first use, or the UNLOGGED
-- tables were emptied by a crash); p_key is the candidate new key.
CREATE FUNCTION nonce_current_key(p_key bytea, OUT epoch integer, OUT key bytea)
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_advisory_xact_lock(hashtext('nonce_key'));
	SELECT k.epoch, k.key INTO epoch, key FROM nonce_key k
	    JOIN nonce_sentinel s USING (epoch)
	    ORDER BY k.epoch DESC LIMIT 1;
	IF NOT FOUND OR epoch <> (SELECT max(n.epoch) FROM nonce_key n) THEN
		INSERT INTO nonce_key (key) VALUES (p_key)
		    RETURNING nonce_key.epoch, nonce_key.key INTO epoch, key;
		INSERT INTO nonce_sentinel VALUES (epoch);
	END IF;
END $$;

-- Redeems a nonce of an epoch: true once, false when reused or when the
-- epoch's sentinel is gone.
CREATE FUNCTION nonce_redeem(p_nonce text, p_epoch integer) RETURNS boolean
LANGUAGE sql AS $$
	WITH ins AS (
		INSERT INTO nonce_used (nonce)
		SELECT p_nonce WHERE EXISTS
		    (SELECT 1 FROM nonce_sentinel WHERE epoch = p_epoch)
		ON CONFLICT DO NOTHING RETURNING 1)
	SELECT EXISTS (SELECT 1 FROM ins)
$$;

-- Binds a new RFC 8555 account to an EAB credential whose HMAC the caller
-- has verified: the credential must still hold that HMAC key (compare and
-- set), which is wiped. Returns the new account id, or NULL when the
-- credential was bound meanwhile. A key already registered raises 23505.
CREATE FUNCTION account_bind(p_kid uuid, p_hmac_key text, p_jwk jsonb,
    p_thumbprint text, p_contact jsonb) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	v_acme bigint;
	v_id bigint;
BEGIN
	UPDATE acme_account SET hmac_key = NULL, bound_at = now()
	    WHERE kid = p_kid AND hmac_key = p_hmac_key
	    RETURNING id INTO v_acme;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	INSERT INTO account (acme_account_id, jwk, thumbprint, contact)
	    VALUES (v_acme, p_jwk, p_thumbprint, p_contact)
	    RETURNING id INTO v_id;
	RETURN v_id;
END $$;

-- Creates an order with one authorization per name and an http-01 and a
-- dns-01 challenge for each (dns-01 only for wildcards), in one call.
CREATE FUNCTION order_create(p_id text, p_account bigint,
    p_identifiers jsonb, p_names text[], p_wildcard boolean[],
    p_authz text[], p_http text[], p_dns text[], p_tokens text[],
    p_expires timestamptz) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	i integer;
BEGIN
	INSERT INTO orders (id, account_id, identifiers, names, expires_at)
	    VALUES (p_id, p_account, p_identifiers, p_names, p_expires);
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

-- Records the outcome of a challenge validation (compare and set from
-- processing) and carries it to the authorization and its orders.
-- Returns false when the challenge was no longer processing.
CREATE FUNCTION challenge_finish(p_id text, p_ok boolean, p_error jsonb)
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

-- Stores an issued certificate and marks its order valid, atomically;
-- the UNIQUE (order_id) of certificate makes a second one impossible.
-- Returns false when the order was no longer processing.
CREATE FUNCTION order_issue(p_order text, p_cert text, p_serial text,
    p_not_before timestamptz, p_not_after timestamptz, p_der bytea,
    p_pem_chain text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE orders SET status = 'valid', lease_until = NULL,
	    updated_at = now()
	    WHERE id = p_order AND status = 'processing';
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	INSERT INTO certificate (id, order_id, account_id, serial, names,
	    not_before, not_after, der, pem_chain)
	    SELECT p_cert, id, account_id, p_serial, names, p_not_before,
	    p_not_after, p_der, p_pem_chain FROM orders WHERE id = p_order;
	RETURN true;
END $$;

-- Starts the validation of a pending challenge of a pending authorization
-- (compare and set) and wakes the workers. Returns false if nothing moved.
CREATE FUNCTION challenge_start(p_id text) RETURNS boolean
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
	PERFORM pg_notify('acme_work', 'challenge');
	RETURN true;
END $$;

-- Moves a ready order to processing with its CSR (compare and set) and
-- wakes the workers. Returns false if the order was not ready.
CREATE FUNCTION order_finalize(p_id text, p_csr bytea) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE orders SET status = 'processing', csr = p_csr,
	    lease_until = NULL, updated_at = now()
	    WHERE id = p_id AND status = 'ready' AND expires_at > now();
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	PERFORM pg_notify('acme_work', 'order');
	RETURN true;
END $$;

-- Status of an order as clients see it: a pending or ready order past its
-- expiry is invalid even before a worker marks it so.
CREATE FUNCTION order_status(o orders) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN o.status IN ('pending', 'ready')
	    AND o.expires_at <= now() THEN 'invalid' ELSE o.status END
$$;

CREATE FUNCTION rfc3339(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;
