-- 005_revocation_status: published revocation status. acme-worker signs
-- OCSP responses (RFC 6960, with the delegated OCSP signer) and CRLs
-- (RFC 5280, with the intermediate's key) and stores them here;
-- acme-fcgi, which holds no key and reads no CA file, serves them.
--
-- Triggers on certificate keep the work list: a new certificate, and any
-- change of its revocation, make its OCSP response due at once (and the
-- CRL due), whatever code path made the change.

CREATE TABLE ocsp_issuer (
	id		serial PRIMARY KEY,
	name_hash	bytea NOT NULL CHECK (length(name_hash) = 20),
	key_hash	bytea NOT NULL CHECK (length(key_hash) = 20),
	certificate	bytea NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now(),
	UNIQUE (name_hash, key_hash)
);
COMMENT ON TABLE ocsp_issuer IS
    'CA certificates OCSP responses are given for, with the SHA-1 '
    'issuerNameHash and issuerKeyHash of their CertIDs (RFC 6960 4.1.1), '
    'so that acme-fcgi matches a request without reading any file. '
    'Registered by acme-worker.';

CREATE TABLE ocsp_response (
	serial		text PRIMARY KEY
			REFERENCES certificate(serial) ON DELETE CASCADE,
	issuer_id	integer REFERENCES ocsp_issuer(id),
	status		text CHECK (status IN ('good', 'revoked')),
	revoked_at	timestamptz,
	revocation_reason integer,
	der		bytea,
	produced_at	timestamptz,
	this_update	timestamptz,
	next_update	timestamptz,
	refresh_at	timestamptz,
	CHECK ((status IS NULL) = (der IS NULL)),
	CHECK ((status IS NULL) = (next_update IS NULL)),
	CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
);
CREATE INDEX ocsp_response_refresh ON ocsp_response (refresh_at)
	WHERE refresh_at IS NOT NULL;
COMMENT ON TABLE ocsp_response IS
    'The current signed OCSP response (DER OCSPResponse) of each '
    'certificate, as acme-fcgi serves it. status is NULL until the first '
    'response is signed.';
COMMENT ON COLUMN ocsp_response.refresh_at IS
    'When a new response is due: -infinity after issuance or a revocation '
    'change, else half-way between this_update and next_update; NULL once '
    'the last response covers the certificate''s expiry.';

CREATE TABLE crl_state (
	id		boolean PRIMARY KEY DEFAULT true CHECK (id),
	revocations	bigint NOT NULL DEFAULT 0
);
INSERT INTO crl_state DEFAULT VALUES;
COMMENT ON TABLE crl_state IS
    'One row: revocations counts revocation changes (bumped by trigger). '
    'The worker making a CRL holds this row locked, which elects it and '
    'makes concurrent revocations wait for its CRL to be stored.';

CREATE TABLE crl (
	number		bigint PRIMARY KEY CHECK (number > 0),
	der		bytea NOT NULL,
	this_update	timestamptz NOT NULL,
	next_update	timestamptz NOT NULL CHECK (next_update > this_update),
	revocations	bigint NOT NULL,
	entries		integer NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE crl IS
    'CRLs of the intermediate (DER), one row per cRLNumber; the highest '
    'number is the one served. revocations: crl_state.revocations it '
    'covers.';

-- Marks the OCSP response of a new certificate, or of one whose
-- revocation changed, as due; a revocation change also makes the CRL due.
CREATE FUNCTION certificate_status_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO ocsp_response (serial, refresh_at)
	    VALUES (NEW.serial, '-infinity')
	    ON CONFLICT (serial) DO UPDATE SET refresh_at = '-infinity';
	IF TG_OP = 'UPDATE' THEN
		UPDATE crl_state SET revocations = revocations + 1;
		PERFORM pg_notify('acme_work', 'revocation');
	ELSE
		PERFORM pg_notify('acme_work', 'ocsp');
	END IF;
	RETURN NULL;
END $$;

CREATE TRIGGER certificate_issued AFTER INSERT ON certificate
	FOR EACH ROW EXECUTE FUNCTION certificate_status_changed();
CREATE TRIGGER certificate_revocation_changed
	AFTER UPDATE OF revoked_at, revocation_reason ON certificate
	FOR EACH ROW WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at OR
	    OLD.revocation_reason IS DISTINCT FROM NEW.revocation_reason)
	EXECUTE FUNCTION certificate_status_changed();

-- The certificates issued before this migration that have not expired.
INSERT INTO ocsp_response (serial, refresh_at)
	SELECT serial, '-infinity' FROM certificate WHERE not_after > now();

-- Registers a CA certificate (idempotent); returns its id.
CREATE FUNCTION ocsp_issuer_register(p_name_hash bytea, p_key_hash bytea,
    p_certificate bytea) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	v_id integer;
BEGIN
	INSERT INTO ocsp_issuer (name_hash, key_hash, certificate)
	    VALUES (p_name_hash, p_key_hash, p_certificate)
	    ON CONFLICT (name_hash, key_hash) DO NOTHING
	    RETURNING id INTO v_id;
	IF v_id IS NULL THEN
		SELECT id INTO v_id FROM ocsp_issuer
		    WHERE name_hash = p_name_hash AND key_hash = p_key_hash;
	END IF;
	RETURN v_id;
END $$;

-- Stores a signed response; the next one is due half-way to its
-- nextUpdate, or never once it covers the certificate's expiry. Returns
-- false if the certificate is unknown.
CREATE FUNCTION ocsp_response_store(p_serial text, p_issuer integer,
    p_revoked_at timestamptz, p_reason integer, p_der bytea,
    p_this_update timestamptz, p_next_update timestamptz) RETURNS boolean
LANGUAGE sql AS $$
	UPDATE ocsp_response r SET issuer_id = p_issuer,
	    status = CASE WHEN p_revoked_at IS NULL THEN 'good'
		ELSE 'revoked' END,
	    revoked_at = p_revoked_at,
	    revocation_reason = CASE WHEN p_revoked_at IS NOT NULL
		THEN p_reason END,
	    der = p_der, produced_at = now(), this_update = p_this_update,
	    next_update = p_next_update,
	    refresh_at = CASE WHEN p_next_update >= c.not_after THEN NULL
		ELSE p_this_update + (p_next_update - p_this_update) / 2 END
	    FROM certificate c
	    WHERE r.serial = p_serial AND c.serial = p_serial
	    RETURNING true
$$;

-- What acme-fcgi answers to a CertID: 'ok' with the stored response
-- (and the seconds left until its nextUpdate), 'later' when the
-- certificate is ours but has no current response yet, no row when the
-- issuer or the serial is not ours (or the certificate expired and its
-- last response too).
CREATE FUNCTION ocsp_response_lookup(p_name_hash bytea, p_key_hash bytea,
    p_serial text)
RETURNS TABLE (answer text, der bytea, max_age bigint)
LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN r.issuer_id = i.id AND r.next_update > now()
		THEN 'ok' ELSE 'later' END,
	    CASE WHEN r.issuer_id = i.id AND r.next_update > now()
		THEN r.der END,
	    greatest(0, floor(extract(epoch FROM r.next_update - now())))::bigint
	    FROM ocsp_issuer i JOIN ocsp_response r
		ON r.issuer_id = i.id OR r.issuer_id IS NULL
	    JOIN certificate c ON c.serial = r.serial
	    WHERE i.name_hash = p_name_hash AND i.key_hash = p_key_hash
	    AND r.serial = p_serial
	    AND (r.next_update > now() OR c.not_after > now())
$$;

-- Returns true when a new CRL is due: none yet, a revocation changed
-- since the last one, or the last one is half-way to its nextUpdate.
CREATE FUNCTION crl_due() RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT coalesce((SELECT c.revocations < s.revocations
	    OR c.this_update + (c.next_update - c.this_update) / 2 <= now()
	    FROM crl c, crl_state s ORDER BY c.number DESC LIMIT 1), true)
$$;

-- Elects the worker that makes the next CRL: locks crl_state (skipping
-- it if another worker holds it) and returns the number of the CRL to
-- make, or NULL when another worker is at it or none is due. The caller
-- keeps its transaction open until crl_store.
CREATE FUNCTION crl_claim() RETURNS bigint
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM 1 FROM crl_state FOR UPDATE SKIP LOCKED;
	IF NOT FOUND OR NOT crl_due() THEN
		RETURN NULL;
	END IF;
	RETURN coalesce((SELECT max(number) FROM crl), 0) + 1;
END $$;

-- Stores the CRL made under crl_claim's lock.
CREATE FUNCTION crl_store(p_number bigint, p_der bytea,
    p_this_update timestamptz, p_next_update timestamptz, p_entries integer)
RETURNS void
LANGUAGE sql AS $$
	INSERT INTO crl (number, der, this_update, next_update, revocations,
	    entries)
	    SELECT p_number, p_der, p_this_update, p_next_update,
	    s.revocations, p_entries FROM crl_state s
$$;

-- For DBAs: each certificate's revocation and what is published of it.
CREATE VIEW revocation_publication AS
	SELECT c.id AS certificate_id, c.serial, c.not_after, c.revoked_at,
	    c.revocation_reason, r.status AS ocsp_status,
	    r.produced_at AS ocsp_produced_at,
	    r.next_update AS ocsp_next_update,
	    r.refresh_at IS NOT NULL AND r.refresh_at <= now() AS ocsp_due,
	    c.revoked_at IS NOT NULL AND c.not_after > now() AND
		NOT EXISTS (SELECT 1 FROM crl l WHERE l.this_update >=
		date_trunc('second', c.revoked_at)) AS crl_pending
	FROM certificate c LEFT JOIN ocsp_response r USING (serial);
COMMENT ON VIEW revocation_publication IS
    'Per certificate: revocation, OCSP response status and dates, whether '
    'a new OCSP response is due, and whether a revocation awaits a CRL.';
