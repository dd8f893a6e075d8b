-- 011_portal: the customer's certificate manager (acme-web, portal area).
--
-- Every function here that acts for a signed-in customer takes the id of
-- the session's external account (p_xa) first and finds everything else
-- from it: the organization is always the external account's own, and
-- every object named by the request (a document, an ACME account, a
-- certificate, a message) is looked up WITH that organization (or that
-- external account) in the WHERE clause, so that an object of another
-- organization is simply not found. Nothing here trusts an organization
-- id sent by the web layer.
--
-- Like the op_* functions of 003, each call is one transaction that
-- writes its audit_log rows, and a refusal undoes everything and returns
--	{"refused": CODE, "kind": "invalid" | "not_found" | "conflict"}
-- where CODE is a short snake_case word the web layer turns into a
-- sentence in the customer's language (an op_* function called from here
-- may still refuse with its own English sentence, shown as it is).
-- Audit actors are "web:EMAIL".

-- ------------------------------------------------------------ documents

ALTER TABLE document ADD COLUMN decision_reason text;
COMMENT ON COLUMN document.decision_reason IS
    'Why an operator rejected the document, as the customer reads it on '
    'the portal; NULL unless REJECTED with a reason.';

CREATE TABLE document_file (
	document_id	bigint PRIMARY KEY REFERENCES document(id),
	filename	text NOT NULL
			CHECK (length(filename) BETWEEN 1 AND 200),
	content_type	text NOT NULL CHECK (content_type IN
			    ('application/pdf', 'image/png', 'image/jpeg')),
	size		integer NOT NULL CHECK (size > 0),
	sha256		text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
	content		bytea NOT NULL,
	uploaded_at	timestamptz NOT NULL DEFAULT now(),
	uploaded_by	text NOT NULL,
	CHECK (length(content) = size),
	CHECK (sha256 = encode(sha256(content), 'hex'))
);
COMMENT ON TABLE document_file IS
    'The file a customer uploaded for a document (portal), stored with the '
    'document row in one transaction. Its type was recognized from its '
    'content (PDF, PNG or JPEG), never from what the browser said.';
COMMENT ON COLUMN document_file.filename IS
    'The name the file had on the customer''s computer, cleaned (no path, '
    'no control characters); for display and download only.';
COMMENT ON COLUMN document_file.content_type IS
    'Media type recognized from the first bytes of the content.';
COMMENT ON COLUMN document_file.size IS 'Length of content in bytes.';
COMMENT ON COLUMN document_file.sha256 IS
    'SHA-256 of content, hex lower-case (checked by a constraint).';
COMMENT ON COLUMN document_file.content IS 'The file itself.';
COMMENT ON COLUMN document_file.uploaded_at IS 'When it was received.';
COMMENT ON COLUMN document_file.uploaded_by IS
    'Audit actor of the upload ("web:EMAIL").';

-- ------------------------------------------------------------- helpers

-- The external account of a session; refuses an unknown id.
CREATE FUNCTION portal_customer(p_xa bigint) RETURNS external_account
LANGUAGE plpgsql STABLE AS $$
DECLARE
	x external_account;
BEGIN
	SELECT * INTO x FROM external_account WHERE id = p_xa;
	IF NOT FOUND THEN
		PERFORM op_refuse('not_found', 'no_customer');
	END IF;
	RETURN x;
END $$;
COMMENT ON FUNCTION portal_customer(bigint) IS
    'The external account of a portal session (refusal no_customer).';

-- Returns true if an e-mail address is one the portal accepts for a
-- customer: one the outbox takes, with a dot in its domain, not of the
-- reserved .invalid domain, at most 254 characters.
CREATE FUNCTION portal_email_ok(p_email text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
	SELECT p_email IS NOT NULL AND length(p_email) <= 254
	    AND p_email ~ '^[^@\s<>]+@[^@\s<>]+\.[^@\s<>.]+$'
	    AND notification_address_ok(p_email)
$$;
COMMENT ON FUNCTION portal_email_ok(text) IS
    'True for an e-mail address a customer may sign up with.';

-- The state of each document an organization needs (ORGANIZATION_PROOF,
-- REQUEST_FORM): VALID (a VALID unexpired one exists), PENDING (one is
-- being checked), REJECTED or EXPIRED (the newest one; with the
-- operator's reason), MISSING (none received).
CREATE FUNCTION portal_required_documents(p_org bigint) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT json_agg(json_build_object('kind', k.kind,
	    'state', CASE
		WHEN EXISTS (SELECT 1 FROM document d
		    WHERE d.organization_id = p_org AND d.kind = k.kind
		    AND d.status = 'VALID'
		    AND (d.expires_at IS NULL OR d.expires_at > now()))
		    THEN 'VALID'
		WHEN EXISTS (SELECT 1 FROM document d
		    WHERE d.organization_id = p_org AND d.kind = k.kind
		    AND d.status = 'PENDING') THEN 'PENDING'
		ELSE coalesce((SELECT CASE WHEN d.status = 'VALID'
		    THEN 'EXPIRED' ELSE d.status END FROM document d
		    WHERE d.organization_id = p_org AND d.kind = k.kind
		    ORDER BY d.id DESC LIMIT 1), 'MISSING') END,
	    'reason', (SELECT d.decision_reason FROM document d
		WHERE d.organization_id = p_org AND d.kind = k.kind
		ORDER BY d.id DESC LIMIT 1)) ORDER BY k.n)
	FROM (VALUES (1, 'ORGANIZATION_PROOF'), (2, 'REQUEST_FORM'))
	    AS k(n, kind)
$$;
COMMENT ON FUNCTION portal_required_documents(bigint) IS
    'State of the two documents an organization needs: VALID, PENDING, '
    'REJECTED, EXPIRED or MISSING, with the newest rejection reason.';

-- An ACME account as the portal shows it in lists.
CREATE FUNCTION portal_acme_account_json(e acme_account) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT json_build_object('kid', e.kid, 'status', e.status,
	    'profile', e.profile,
	    'profile_wildcard', (SELECT p.wildcard FROM profile p
		WHERE p.name = e.profile),
	    'created_at', rfc3339(e.created_at),
	    'expires_at', rfc3339(e.expires_at),
	    'expired', e.status = 'EXPIRED' OR e.expires_at <= now(),
	    'key_expires_at', rfc3339(e.key_expires_at),
	    'key_unused', e.hmac_key IS NOT NULL,
	    'key_expired', e.hmac_key IS NOT NULL
		AND e.key_expires_at <= now(),
	    'bound_at', rfc3339(e.bound_at),
	    'owner', (SELECT email FROM external_account
		WHERE id = e.external_account_id),
	    'can_regenerate', e.status IN ('VALID', 'EXPIRED') AND (
		e.status = 'EXPIRED' OR e.expires_at <= now()
		OR (e.hmac_key IS NOT NULL AND e.key_expires_at <= now())),
	    'domains', (SELECT coalesce(json_agg(json_build_object(
		'name', d.name, 'status', d.status) ORDER BY d.name), '[]')
		FROM acme_account_domain ad
		JOIN domain d ON d.id = ad.domain_id
		WHERE ad.acme_account_id = e.id))
$$;
COMMENT ON FUNCTION portal_acme_account_json(acme_account) IS
    'An ACME account for the portal: status, validity, whether its key is '
    'unused or past its date, whether the customer may regenerate it, '
    'its domains. Never the HMAC key.';

-- The ACME account p_kid of the organization of external account x,
-- locked when p_lock; refuses (not_found) a malformed kid and a kid of
-- another organization alike.
CREATE FUNCTION portal_need_acme_account(x external_account, p_kid text,
    p_lock boolean) RETURNS acme_account
LANGUAGE plpgsql AS $$
DECLARE
	e acme_account;
BEGIN
	IF p_kid IS NULL OR lower(p_kid) !~
	    '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
		PERFORM op_refuse('not_found', 'no_acme_account');
	END IF;
	IF p_lock THEN
		SELECT e2.* INTO e FROM acme_account e2
		    JOIN external_account ex ON ex.id = e2.external_account_id
		    WHERE e2.kid = lower(p_kid)::uuid
		    AND ex.organization_id = x.organization_id
		    FOR UPDATE OF e2;
	ELSE
		SELECT e2.* INTO e FROM acme_account e2
		    JOIN external_account ex ON ex.id = e2.external_account_id
		    WHERE e2.kid = lower(p_kid)::uuid
		    AND ex.organization_id = x.organization_id;
	END IF;
	IF NOT FOUND THEN
		PERFORM op_refuse('not_found', 'no_acme_account');
	END IF;
	RETURN e;
END $$;
COMMENT ON FUNCTION portal_need_acme_account(external_account, text,
    boolean) IS
    'An ACME account of the customer''s organization by kid (refusal '
    'no_acme_account for any other, or a malformed kid).';

-- The certificate p_ref (id or serial) issued through an ACME account of
-- the organization of external account x; refuses any other.
CREATE FUNCTION portal_need_certificate(x external_account, p_ref text)
RETURNS certificate
LANGUAGE plpgsql STABLE AS $$
DECLARE
	c certificate;
BEGIN
	SELECT c2.* INTO c FROM certificate c2
	    JOIN account a ON a.id = c2.account_id
	    JOIN acme_account e ON e.id = a.acme_account_id
	    JOIN external_account ex ON ex.id = e.external_account_id
	    WHERE (c2.id = p_ref OR c2.serial = lower(replace(p_ref, ':', '')))
	    AND ex.organization_id = x.organization_id
	    LIMIT 1;
	IF NOT FOUND THEN
		PERFORM op_refuse('not_found', 'no_certificate');
	END IF;
	RETURN c;
END $$;
COMMENT ON FUNCTION portal_need_certificate(external_account, text) IS
    'A certificate of the customer''s organization by id or serial '
    '(refusal no_certificate for any other).';

-- A certificate as the portal shows it.
CREATE FUNCTION portal_certificate_json(c certificate) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT json_build_object('id', c.id, 'serial', c.serial,
	    'names', c.names, 'not_before', rfc3339(c.not_before),
	    'not_after', rfc3339(c.not_after),
	    'status', CASE WHEN c.revoked_at IS NOT NULL THEN 'REVOKED'
		WHEN c.not_after <= now() THEN 'EXPIRED' ELSE 'VALID' END,
	    'revoked_at', rfc3339(c.revoked_at),
	    'revocation_reason', c.revocation_reason,
	    'revoked_by', c.revoked_by,
	    'created_at', rfc3339(c.created_at),
	    'acme_account', e.kid, 'profile', e.profile)
	FROM account a JOIN acme_account e ON e.id = a.acme_account_id
	WHERE a.id = c.account_id
$$;
COMMENT ON FUNCTION portal_certificate_json(certificate) IS
    'A certificate for the portal: serial, names, validity, status '
    '(VALID, EXPIRED, REVOKED), revocation, ACME account.';

-- Records a one-time token (SHA-256 of what the e-mail link carries) of
-- external account p_xa for p_purpose ('confirm' or 'reset'), valid
-- p_seconds, and queues the message that carries it: kind p_kind, in the
-- account's language, subject and body from p_texts ({"en": {"subject",
-- "body"}, "fr": {...}}, or one language only), {email} in the body
-- replaced by the account's address.
CREATE FUNCTION portal_token_mail(x external_account, p_purpose text,
    p_token_hash bytea, p_seconds integer, p_kind text, p_texts jsonb)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	v_texts jsonb;
	v_id bigint;
BEGIN
	IF p_token_hash IS NULL OR length(p_token_hash) <> 32 THEN
		PERFORM op_refuse('invalid', 'bad_token');
	END IF;
	v_texts := coalesce(p_texts -> x.language, p_texts -> 'en');
	IF v_texts ->> 'subject' IS NULL OR v_texts ->> 'body' IS NULL THEN
		PERFORM op_refuse('invalid', 'bad_message');
	END IF;
	INSERT INTO web_token (token_hash, purpose, external_account_id,
	    expires_at)
	    VALUES (p_token_hash, p_purpose, x.id,
	    now() + make_interval(secs => greatest(60, p_seconds)));
	INSERT INTO outbox (kind, external_account_id, recipient, language,
	    subject, body, data)
	    VALUES (p_kind, x.id, x.email,
	    CASE WHEN p_texts ? x.language THEN x.language ELSE 'en' END,
	    v_texts ->> 'subject',
	    replace(v_texts ->> 'body', '{email}', x.email),
	    jsonb_build_object('purpose', p_purpose))
	    RETURNING id INTO v_id;
	PERFORM pg_notify('acme_work', 'outbox');
	RETURN v_id;
END $$;
COMMENT ON FUNCTION portal_token_mail(external_account, text, bytea,
    integer, text, jsonb) IS
    'Records a one-time e-mail token (only its SHA-256) and queues the '
    'message carrying its link, in the account''s language.';

-- ------------------------------------------------- sign up and sign in

-- Creates, in one transaction, a PENDING organization, its PENDING
-- external account with the password hash (e-mail not confirmed), the
-- confirmation token and the confirmation e-mail (p_texts as for
-- portal_token_mail). An address already known (any external account
-- with it) changes nothing and returns {"taken": true}: the web page
-- says the same in both cases.
CREATE FUNCTION portal_signup(p_org text, p_country text, p_state text,
    p_locality text, p_email text, p_language text, p_password_hash text,
    p_token_hash bytea, p_seconds integer, p_texts jsonb) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	v_actor text := 'web:' || coalesce(p_email, '');
	g organization;
	x external_account;
BEGIN
	IF NOT portal_email_ok(p_email) THEN
		PERFORM op_refuse('invalid', 'bad_email');
	END IF;
	IF p_password_hash IS NULL OR p_password_hash !~ '^scrypt\$' THEN
		PERFORM op_refuse('invalid', 'bad_password_hash');
	END IF;
	IF p_language IS NULL OR p_language NOT IN ('en', 'fr') THEN
		PERFORM op_refuse('invalid', 'bad_language');
	END IF;
	IF p_org IS NULL OR btrim(p_org) = '' OR length(p_org) > 64 THEN
		PERFORM op_refuse('invalid', 'bad_organization_name');
	END IF;
	IF p_country IS NULL OR p_country !~ '^[A-Z]{2}$' THEN
		PERFORM op_refuse('invalid', 'bad_country');
	END IF;
	IF length(p_state) > 128 OR length(p_locality) > 128 THEN
		PERFORM op_refuse('invalid', 'bad_locality');
	END IF;
	-- The name is checked before the address, so that a refusal says
	-- nothing of whether the address has an account.
	PERFORM pg_advisory_xact_lock(hashtext('organization ' || p_org));
	IF EXISTS (SELECT 1 FROM organization WHERE lower(name) = lower(p_org))
	THEN
		PERFORM op_refuse('conflict', 'organization_name_taken');
	END IF;
	-- one sign-up per address at a time
	PERFORM pg_advisory_xact_lock(hashtext('signup ' || lower(p_email)));
	IF EXISTS (SELECT 1 FROM external_account
	    WHERE lower(email) = lower(p_email)) THEN
		PERFORM audit('web:anonymous', 'signup-refused',
		    'external_account', NULL, jsonb_build_object('email',
		    p_email, 'reason', 'address already known'));
		RETURN json_build_object('taken', true);
	END IF;
	g := op_organization_insert(v_actor, p_org, p_country, p_locality,
	    p_state, 'PENDING');
	x := op_external_account_insert(v_actor, g.id, p_email, p_language,
	    'PENDING', NULL);
	UPDATE external_account SET password_hash = p_password_hash
	    WHERE id = x.id RETURNING * INTO x;
	PERFORM portal_token_mail(x, 'confirm', p_token_hash, p_seconds,
	    'email_confirmation', p_texts);
	PERFORM audit(v_actor, 'signup', 'external_account', x.id::text,
	    jsonb_build_object('organization', g.id, 'language', p_language));
	RETURN json_build_object('taken', false, 'external_account', x.id,
	    'organization', g.id);
EXCEPTION
	WHEN unique_violation THEN
		RETURN json_build_object('taken', true);
	WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
		RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;
COMMENT ON FUNCTION portal_signup(text, text, text, text, text, text, text,
    bytea, integer, jsonb) IS
    'Portal sign-up: PENDING organization and external account, password, '
    'confirmation token and e-mail, all or nothing; {"taken": true} and no '
    'change for an address already known.';

-- Sends the confirmation e-mail again to the external account with this
-- address, when it has a password and its address is not confirmed yet;
-- at most one message every 5 minutes and 10 a day. Returns
-- {"sent": bool}; the web page says the same either way.
CREATE FUNCTION portal_confirmation_resend(p_email text, p_token_hash bytea,
    p_seconds integer, p_texts jsonb) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	x external_account;
BEGIN
	SELECT * INTO x FROM external_account
	    WHERE lower(email) = lower(p_email) AND password_hash IS NOT NULL
	    AND email_confirmed_at IS NULL
	    AND status NOT IN ('REVOKED', 'DEACTIVATED')
	    FOR UPDATE;
	IF NOT FOUND OR (SELECT count(*) FROM outbox o
	    WHERE o.external_account_id = x.id
	    AND o.kind = 'email_confirmation'
	    AND o.created_at > now() - interval '1 day') >= 10
	    OR EXISTS (SELECT 1 FROM outbox o
	    WHERE o.external_account_id = x.id
	    AND o.kind = 'email_confirmation'
	    AND o.created_at > now() - interval '5 minutes') THEN
		RETURN json_build_object('sent', false);
	END IF;
	PERFORM portal_token_mail(x, 'confirm', p_token_hash, p_seconds,
	    'email_confirmation', p_texts);
	PERFORM audit('web:' || x.email, 'resend-confirmation',
	    'external_account', x.id::text);
	RETURN json_build_object('sent', true);
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;
COMMENT ON FUNCTION portal_confirmation_resend(text, bytea, integer, jsonb)
    IS 'Queues a new confirmation e-mail for an unconfirmed address '
    '(throttled); {"sent": bool}.';

-- Uses a confirmation token once: the address of its external account
-- is confirmed. Refuses (bad_token) an unknown, used or expired token.
CREATE FUNCTION portal_email_confirm(p_token_hash bytea) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	v_xa bigint;
	x external_account;
BEGIN
	UPDATE web_token SET used_at = now()
	    WHERE token_hash = p_token_hash AND purpose = 'confirm'
	    AND used_at IS NULL AND expires_at > now()
	    RETURNING external_account_id INTO v_xa;
	IF NOT FOUND THEN
		PERFORM op_refuse('not_found', 'bad_token');
	END IF;
	UPDATE external_account
	    SET email_confirmed_at = coalesce(email_confirmed_at, now())
	    WHERE id = v_xa RETURNING * INTO x;
	PERFORM audit('web:' || x.email, 'confirm-email', 'external_account',
	    x.id::text);
	RETURN json_build_object('external_account', x.id, 'email', x.email);
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;
COMMENT ON FUNCTION portal_email_confirm(bytea) IS
    'Confirms an address with its single-use token (refusal bad_token).';

-- Queues a password reset link when the address belongs to exactly one
-- external account that is neither revoked nor deactivated (with a
-- password, or only its contact address: an account an operator made);
-- at most 3 a hour per account. Returns {"sent": bool}; the web page
-- says the same either way.
CREATE FUNCTION portal_password_forgot(p_email text, p_token_hash bytea,
    p_seconds integer, p_texts jsonb) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	x external_account;
	n integer;
BEGIN
	SELECT count(*) INTO n FROM external_account
	    WHERE lower(email) = lower(p_email);
	IF n <> 1 THEN
		RETURN json_build_object('sent', false);
	END IF;
	SELECT * INTO x FROM external_account
	    WHERE lower(email) = lower(p_email) FOR UPDATE;
	IF x.status IN ('REVOKED', 'DEACTIVATED')
	    OR NOT portal_email_ok(x.email)
	    OR (SELECT count(*) FROM outbox o
		WHERE o.external_account_id = x.id AND o.kind = 'password_reset'
		AND o.created_at > now() - interval '1 hour') >= 3 THEN
		RETURN json_build_object('sent', false);
	END IF;
	PERFORM portal_token_mail(x, 'reset', p_token_hash, p_seconds,
	    'password_reset', p_texts);
	PERFORM audit('web:' || x.email, 'password-reset-request',
	    'external_account', x.id::text);
	RETURN json_build_object('sent', true);
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;
COMMENT ON FUNCTION portal_password_forgot(text, bytea, integer, jsonb) IS
    'Queues a password reset link for the one external account of an '
    'address (throttled); {"sent": bool}.';

-- Whether a reset token can still be used (the form page), and for which
-- address. Changes nothing.
CREATE FUNCTION portal_password_reset_check(p_token_hash bytea)
RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT json_build_object('valid', x.id IS NOT NULL, 'email', x.email)
	FROM (SELECT 1) AS one
	LEFT JOIN web_token t ON t.token_hash = p_token_hash
	    AND t.purpose = 'reset' AND t.used_at IS NULL
	    AND t.expires_at > now()
	LEFT JOIN external_account x ON x.id = t.external_account_id
	    AND x.status NOT IN ('REVOKED', 'DEACTIVATED')
$$;
COMMENT ON FUNCTION portal_password_reset_check(bytea) IS
    'Whether a password reset token is still usable; {"valid", "email"}.';

-- Uses a reset token once: the external account gets the new password
-- hash, its address counts as confirmed (the link reached it), every
-- session of it ends and its failed sign-ins are forgotten.
CREATE FUNCTION portal_password_reset(p_token_hash bytea,
    p_password_hash text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	v_xa bigint;
	x external_account;
	n integer;
BEGIN
	IF p_password_hash IS NULL OR p_password_hash !~ '^scrypt\$' THEN
		PERFORM op_refuse('invalid', 'bad_password_hash');
	END IF;
	UPDATE web_token SET used_at = now()
	    WHERE token_hash = p_token_hash AND purpose = 'reset'
	    AND used_at IS NULL AND expires_at > now()
	    RETURNING external_account_id INTO v_xa;
	IF NOT FOUND THEN
		PERFORM op_refuse('not_found', 'bad_token');
	END IF;
	SELECT * INTO x FROM external_account WHERE id = v_xa FOR UPDATE;
	IF x.status IN ('REVOKED', 'DEACTIVATED') THEN
		PERFORM op_refuse('conflict', 'account_closed');
	END IF;
	UPDATE external_account SET password_hash = p_password_hash,
	    email_confirmed_at = coalesce(email_confirmed_at, now())
	    WHERE id = x.id;
	-- the other reset links of this account are void now
	UPDATE web_token SET used_at = now()
	    WHERE external_account_id = x.id AND purpose = 'reset'
	    AND used_at IS NULL;
	WITH d AS (DELETE FROM web_session WHERE external_account_id = x.id
	    RETURNING 1)
	SELECT count(*) INTO n FROM d;
	DELETE FROM web_login_failure WHERE subject = lower(x.email);
	PERFORM audit('web:' || x.email, 'password-reset', 'external_account',
	    x.id::text, jsonb_build_object('sessions_closed', n));
	RETURN json_build_object('external_account', x.id, 'email', x.email,
	    'sessions_closed', n);
EXCEPTION
	WHEN unique_violation THEN
		RETURN op_refusal('AC409', 'email_taken');
	WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
		RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;
COMMENT ON FUNCTION portal_password_reset(bytea, text) IS
    'Sets a new password with a single-use reset token; ends every session '
    'of the account (refusal bad_token).';

-- ------------------------------------------------------------ settings

-- The password hash of a customer (to check the current password before
-- a change); NULL when it has none.
CREATE FUNCTION portal_password_hash(p_xa bigint) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT password_hash FROM external_account WHERE id = p_xa
$$;
COMMENT ON FUNCTION portal_password_hash(bigint) IS
    'The stored password hash of an external account (settings page).';

-- Changes a customer's password (the web layer checked the current one)
-- and ends every other session of it (all but the one whose token hash
-- is p_keep).
CREATE FUNCTION portal_password_change(p_actor text, p_xa bigint,
    p_password_hash text, p_keep bytea) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	x external_account;
	n integer;
BEGIN
	x := portal_customer(p_xa);
	IF p_password_hash IS NULL OR p_password_hash !~ '^scrypt\$' THEN
		PERFORM op_refuse('invalid', 'bad_password_hash');
	END IF;
	UPDATE external_account SET password_hash = p_password_hash
	    WHERE id = x.id;
	WITH d AS (DELETE FROM web_session WHERE external_account_id = x.id
	    AND token_hash IS DISTINCT FROM p_keep RETURNING 1)
	SELECT count(*) INTO n FROM d;
	PERFORM audit(p_actor, 'password-change', 'external_account',
	    x.id::text, jsonb_build_object('sessions_closed', n));
	RETURN json_build_object('external_account', x.id,
	    'sessions_closed', n);
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;
COMMENT ON FUNCTION portal_password_change(text, bigint, text, bytea) IS
    'A customer''s new password; ends the account''s other sessions.';

CREATE FUNCTION portal_language_set(p_actor text, p_xa bigint,
    p_language text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	x external_account;
BEGIN
	x := portal_customer(p_xa);
	IF p_language IS NULL OR p_language NOT IN ('en', 'fr') THEN
		PERFORM op_refuse('invalid', 'bad_language');
	END IF;
	UPDATE external_account SET language = p_language WHERE id = x.id;
	PERFORM audit(p_actor, 'set-language', 'external_account', x.id::text,
	    jsonb_build_object('from', x.language, 'to', p_language));
	RETURN json_build_object('external_account', x.id,
	    'language', p_language);
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;
COMMENT ON FUNCTION portal_language_set(text, bigint, text) IS
    'The language (en, fr) of a customer''s e-mails and pages.';

-- The settings page: address, language.
CREATE FUNCTION portal_settings(p_xa bigint) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
	x external_account;
BEGIN
	x := portal_customer(p_xa);
	RETURN json_build_object('email', x.email, 'language', x.language,
	    'has_password', x.password_hash IS NOT NULL);
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;
COMMENT ON FUNCTION portal_settings(bigint) IS
    'A customer''s settings: address and language.';

-- ----------------------------------------------------------- dashboard

CREATE FUNCTION portal_dashboard(p_xa bigint) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
	x external_account;
	g organization;
BEGIN
	x := portal_customer(p_xa);
	SELECT * INTO g FROM organization WHERE id = x.organization_id;
	RETURN json_build_object(
	    'organization', json_build_object('name', g.name,
		'status', g.status, 'country', g.country, 'state', g.state,
		'locality', g.locality),
	    'account', json_build_object('email', x.email,
		'status', x.status, 'expires_at', rfc3339(x.expires_at),
		'email_confirmed', x.email_confirmed_at IS NOT NULL,
		'language', x.language),
	    'documents', portal_required_documents(g.id),
	    'documents_rejected', (SELECT count(*) FROM document d
		WHERE d.organization_id = g.id AND d.status = 'REJECTED'
		AND NOT EXISTS (SELECT 1 FROM document n
		    WHERE n.organization_id = g.id AND n.kind = d.kind
		    AND n.domain IS NOT DISTINCT FROM d.domain
		    AND n.id > d.id)),
	    'credit', g.credit_balance,
	    'domains', json_build_object(
		'valid', (SELECT count(*) FROM domain
		    WHERE organization_id = g.id AND status = 'VALID'),
		'pending', (SELECT count(*) FROM domain
		    WHERE organization_id = g.id AND status = 'PENDING')),
	    'acme_accounts', (SELECT json_build_object('total', count(*),
		'valid', count(*) FILTER (WHERE e.status = 'VALID'
		    AND (e.expires_at IS NULL OR e.expires_at > now())))
		FROM acme_account e
		JOIN external_account ex ON ex.id = e.external_account_id
		WHERE ex.organization_id = g.id),
	    'certificates', (SELECT json_build_object('total', count(*),
		'valid', count(*) FILTER (WHERE c.revoked_at IS NULL
		    AND c.not_after > now()),
		'expiring', count(*) FILTER (WHERE c.revoked_at IS NULL
		    AND c.not_after > now()
		    AND c.not_after <= now() + interval '30 days'))
		FROM certificate c JOIN account a ON a.id = c.account_id
		JOIN acme_account e ON e.id = a.acme_account_id
		JOIN external_account ex ON ex.id = e.external_account_id
		WHERE ex.organization_id = g.id));
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;
COMMENT ON FUNCTION portal_dashboard(bigint) IS
    'A customer''s dashboard: organization and account status, required '
    'documents, credit, counts of domains, ACME accounts, certificates.';

-- -------------------------------------------------------- organization

CREATE FUNCTION portal_organization_show(p_xa bigint) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
	x external_account;
	g organization;
BEGIN
	x := portal_customer(p_xa);
	SELECT * INTO g FROM organization WHERE id = x.organization_id;
	RETURN json_build_object('name', g.name, 'country', g.country,
	    'state', g.state, 'locality', g.locality, 'status', g.status,
	    'editable', g.status = 'PENDING',
	    'can_declare', g.status IN ('PENDING', 'VALID'),
	    'created_at', rfc3339(g.created_at),
	    'domains', (SELECT coalesce(json_agg(json_build_object(
		'id', d.id, 'name', d.name, 'status', d.status,
		'created_at', rfc3339(d.created_at),
		'validated_at', rfc3339(d.validated_at)) ORDER BY d.name),
		'[]') FROM domain d WHERE d.organization_id = g.id));
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;
COMMENT ON FUNCTION portal_organization_show(bigint) IS
    'A customer''s organization with its domains; editable while PENDING.';

-- Changes the organization's details while it is PENDING (an operator
-- checks them against its documents before validating it).
CREATE FUNCTION portal_organization_update(p_actor text, p_xa bigint,
    p_name text, p_country text, p_state text, p_locality text)
RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	x external_account;
	g organization;
BEGIN
	x := portal_customer(p_xa);
	SELECT * INTO g FROM organization WHERE id = x.organization_id
	    FOR UPDATE;
	IF g.status <> 'PENDING' THEN
		PERFORM op_refuse('conflict', 'organization_not_pending');
	END IF;
	IF p_name IS NULL OR btrim(p_name) = '' OR length(p_name) > 64 THEN
		PERFORM op_refuse('invalid', 'bad_organization_name');
	END IF;
	IF p_country IS NULL OR p_country !~ '^[A-Z]{2}$' THEN
		PERFORM op_refuse('invalid', 'bad_country');
	END IF;
	IF length(p_state) > 128 OR length(p_locality) > 128 THEN
		PERFORM op_refuse('invalid', 'bad_locality');
	END IF;
	PERFORM pg_advisory_xact_lock(hashtext('organization ' || p_name));
	IF EXISTS (SELECT 1 FROM organization WHERE lower(name) = lower(p_name)
	    AND id <> g.id) THEN
		PERFORM op_refuse('conflict', 'organization_name_taken');
	END IF;
	UPDATE organization SET name = p_name, country = p_country,
	    state = nullif(p_state, ''), locality = nullif(p_locality, '')
	    WHERE id = g.id;
	PERFORM audit(p_actor, 'update', 'organization', g.id::text,
	    jsonb_build_object('from', jsonb_build_object('name', g.name,
		'country', g.country, 'state', g.state,
		'locality', g.locality),
	    'to', jsonb_build_object('name', p_name, 'country', p_country,
		'state', nullif(p_state, ''),
		'locality', nullif(p_locality, ''))));
	RETURN json_build_object('organization', g.id, 'name', p_name);
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;
COMMENT ON FUNCTION portal_organization_update(text, bigint, text, text,
    text, text) IS
    'A customer changes the details of its PENDING organization (refusal '
    'organization_not_pending afterwards).';

-- Declares a domain of the organization (PENDING until an operator
-- checks its authorization). p_name is lower-case, without wildcard.
CREATE FUNCTION portal_domain_declare(p_actor text, p_xa bigint,
    p_name text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	x external_account;
	g organization;
	d domain;
BEGIN
	x := portal_customer(p_xa);
	SELECT * INTO g FROM organization WHERE id = x.organization_id;
	IF g.status NOT IN ('PENDING', 'VALID') THEN
		PERFORM op_refuse('conflict', 'organization_closed');
	END IF;
	IF p_name IS NULL OR length(p_name) > 253
	    OR p_name !~ '^[a-z0-9-]+(\.[a-z0-9-]+)+$' THEN
		PERFORM op_refuse('invalid', 'bad_domain');
	END IF;
	IF (SELECT count(*) FROM domain WHERE organization_id = g.id) >= 1000
	THEN
		PERFORM op_refuse('conflict', 'too_many_domains');
	END IF;
	INSERT INTO domain (organization_id, name, status)
	    VALUES (g.id, p_name, 'PENDING')
	    ON CONFLICT (organization_id, name) DO NOTHING
	    RETURNING * INTO d;
	IF NOT FOUND THEN
		PERFORM op_refuse('conflict', 'domain_exists');
	END IF;
	PERFORM audit(p_actor, 'create', 'domain', d.id::text,
	    jsonb_build_object('organization', g.id, 'name', d.name,
	    'status', d.status));
	RETURN json_build_object('id', d.id, 'name', d.name,
	    'status', d.status);
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;
COMMENT ON FUNCTION portal_domain_declare(text, bigint, text) IS
    'A customer declares a domain of its organization (PENDING).';

-- ----------------------------------------------------------- documents

CREATE FUNCTION portal_document_list(p_xa bigint) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
	x external_account;
BEGIN
	x := portal_customer(p_xa);
	RETURN json_build_object(
	    'required', portal_required_documents(x.organization_id),
	    'can_upload', (SELECT status NOT IN ('REVOKED') FROM organization
		WHERE id = x.organization_id),
	    'domains', (SELECT coalesce(json_agg(d.name ORDER BY d.name),
		'[]') FROM domain d WHERE d.organization_id = x.organization_id
		AND d.status <> 'REVOKED'),
	    'documents', (SELECT coalesce(json_agg(json_build_object(
		'id', d.id, 'kind', d.kind, 'status', d.status,
		'reference', d.reference, 'domain', d.domain,
		'expires_at', rfc3339(d.expires_at),
		'created_at', rfc3339(d.created_at),
		'decided_at', rfc3339(d.decided_at),
		'decision_reason', d.decision_reason,
		'filename', f.filename, 'size', f.size,
		'content_type', f.content_type) ORDER BY d.id DESC), '[]')
		FROM document d
		LEFT JOIN document_file f ON f.document_id = d.id
		WHERE d.organization_id = x.organization_id));
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;
COMMENT ON FUNCTION portal_document_list(bigint) IS
    'The documents of a customer''s organization, newest first, with the '
    'state of the required ones and the domains an authorization may name.';

-- Stores an uploaded document: the document row (PENDING) and its file,
-- in one transaction (audited). p_domain: for a DOMAIN_AUTHORIZATION
-- only, one of the organization's domains.
CREATE FUNCTION portal_document_upload(p_actor text, p_xa bigint,
    p_kind text, p_reference text, p_domain text, p_filename text,
    p_content_type text, p_sha256 text, p_content bytea) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	x external_account;
	g organization;
	d document;
BEGIN
	x := portal_customer(p_xa);
	SELECT * INTO g FROM organization WHERE id = x.organization_id;
	IF g.status = 'REVOKED' THEN
		PERFORM op_refuse('conflict', 'organization_closed');
	END IF;
	IF p_kind IS NULL OR p_kind NOT IN ('ORGANIZATION_PROOF',
	    'REQUEST_FORM', 'MANAGER_AUTHORIZATION', 'DOMAIN_AUTHORIZATION') THEN
		PERFORM op_refuse('invalid', 'bad_document_kind');
	END IF;
	p_domain := nullif(p_domain, '');
	IF p_domain IS NOT NULL AND p_kind <> 'DOMAIN_AUTHORIZATION' THEN
		PERFORM op_refuse('invalid', 'domain_only_for_authorization');
	END IF;
	IF p_domain IS NOT NULL AND NOT EXISTS (SELECT 1 FROM domain
	    WHERE organization_id = g.id AND name = p_domain
	    AND status <> 'REVOKED') THEN
		PERFORM op_refuse('invalid', 'unknown_domain');
	END IF;
	IF length(p_reference) > 200 THEN
		PERFORM op_refuse('invalid', 'bad_reference');
	END IF;
	IF p_content IS NULL OR length(p_content) = 0 THEN
		PERFORM op_refuse('invalid', 'empty_file');
	END IF;
	d := op_document_insert(p_actor, g.id, p_kind, 'PENDING',
	    coalesce(nullif(btrim(p_reference), ''), p_filename), p_domain,
	    NULL);
	INSERT INTO document_file (document_id, filename, content_type, size,
	    sha256, content, uploaded_by)
	    VALUES (d.id, p_filename, p_content_type, length(p_content),
	    p_sha256, p_content, p_actor);
	PERFORM audit(p_actor, 'upload', 'document', d.id::text,
	    jsonb_build_object('organization', g.id, 'kind', p_kind,
	    'filename', p_filename, 'content_type', p_content_type,
	    'size', length(p_content), 'sha256', p_sha256));
	RETURN json_build_object('id', d.id, 'kind', d.kind,
	    'status', d.status);
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;
COMMENT ON FUNCTION portal_document_upload(text, bigint, text, text, text,
    text, text, text, bytea) IS
    'A customer uploads a document: PENDING document row and its file in '
    'one transaction, audited.';

-- The file of a document of the customer's organization (no row for any
-- other document).
CREATE FUNCTION portal_document_file(p_xa bigint, p_id bigint)
RETURNS TABLE (filename text, content_type text, size integer,
    content bytea)
LANGUAGE sql STABLE AS $$
	SELECT f.filename, f.content_type, f.size, f.content
	FROM document_file f JOIN document d ON d.id = f.document_id
	JOIN external_account x ON x.organization_id = d.organization_id
	WHERE x.id = p_xa AND d.id = p_id
$$;
COMMENT ON FUNCTION portal_document_file(bigint, bigint) IS
    'Download of a document file, only of the customer''s organization.';

-- ------------------------------------------------------- ACME accounts

CREATE FUNCTION portal_acme_account_list(p_xa bigint) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
	x external_account;
BEGIN
	x := portal_customer(p_xa);
	RETURN json_build_object('external_status', x.status,
	    'accounts', (SELECT coalesce(json_agg(portal_acme_account_json(e)
		ORDER BY e.created_at DESC, e.id DESC), '[]')
		FROM acme_account e
		JOIN external_account ex ON ex.id = e.external_account_id
		WHERE ex.organization_id = x.organization_id));
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;
COMMENT ON FUNCTION portal_acme_account_list(bigint) IS
    'The ACME accounts of a customer''s organization, newest first.';

-- What the new ACME account form offers: profiles, the organization's
-- domains (not revoked), and whether the customer may create one now.
CREATE FUNCTION portal_acme_account_form(p_xa bigint) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
	x external_account;
BEGIN
	x := portal_customer(p_xa);
	RETURN json_build_object('external_status', x.status,
	    'can_create', x.status = 'VALID'
		AND (x.expires_at IS NULL OR x.expires_at > now()),
	    'profiles', (SELECT coalesce(json_agg(json_build_object(
		'name', p.name, 'description', p.description,
		'wildcard', p.wildcard, 'exact_names', p.exact_names,
		'validity_days', p.validity_days, 'cost', p.cost)
		ORDER BY p.name), '[]') FROM profile p),
	    'domains', (SELECT coalesce(json_agg(json_build_object(
		'name', d.name, 'status', d.status) ORDER BY d.name), '[]')
		FROM domain d WHERE d.organization_id = x.organization_id
		AND d.status <> 'REVOKED'));
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;
COMMENT ON FUNCTION portal_acme_account_form(bigint) IS
    'Profiles and domains offered by the new ACME account form, and '
    'whether the customer''s external account may create one.';

-- Creates an ACME account for the customer's external account (which
-- must be VALID, of a VALID organization): kid and HMAC key made by the
-- web layer, a profile, and a domain list (JSON array of lower-case
-- names: the organization's domains, new names being declared PENDING).
-- Valid 365 days, the key to be used within 30. Returns op_acme_account_create's document.
CREATE FUNCTION portal_acme_account_create(p_actor text, p_xa bigint,
    p_kid uuid, p_hmac_key text, p_profile text, p_domains jsonb)
RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	x external_account;
	v_name text;
	v_exact boolean;
	v_wild boolean;
	v_doc json;
BEGIN
	x := portal_customer(p_xa);
	IF x.status <> 'VALID' OR x.expires_at <= now() THEN
		PERFORM op_refuse('conflict', 'external_account_not_valid');
	END IF;
	-- an organization the CA suspended, expired or revoked gets no new
	-- credential (nor, through one, new domains) until reinstated
	IF (SELECT status FROM organization WHERE id = x.organization_id)
	    <> 'VALID' THEN
		PERFORM op_refuse('conflict', 'organization_closed');
	END IF;
	SELECT exact_names, wildcard INTO v_exact, v_wild FROM profile
	    WHERE name = p_profile;
	IF NOT FOUND THEN
		PERFORM op_refuse('invalid', 'bad_profile');
	END IF;
	IF p_domains IS NULL OR jsonb_typeof(p_domains) <> 'array'
	    OR jsonb_array_length(p_domains) = 0 THEN
		PERFORM op_refuse('invalid', 'no_domain');
	END IF;
	IF jsonb_array_length(p_domains) > 100 THEN
		PERFORM op_refuse('invalid', 'too_many_domains');
	END IF;
	FOR v_name IN SELECT jsonb_array_elements_text(p_domains) LOOP
		IF v_name !~ '^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)+$' THEN
			PERFORM op_refuse('invalid', 'bad_domain');
		END IF;
		IF v_name LIKE '*.%' AND NOT v_exact THEN
			PERFORM op_refuse('invalid', 'wildcard_needs_exact_names');
		END IF;
		IF EXISTS (SELECT 1 FROM domain
		    WHERE organization_id = x.organization_id
		    AND name = v_name AND status = 'REVOKED') THEN
			PERFORM op_refuse('conflict', 'domain_revoked');
		END IF;
	END LOOP;
	v_doc := op_acme_account_create(p_actor, p_kid, p_hmac_key, x.id,
	    p_profile, 365, 30, p_domains);
	IF v_doc ->> 'refused' IS NOT NULL THEN
		RETURN v_doc;
	END IF;
	RETURN (v_doc::jsonb || jsonb_build_object('owner', x.email,
	    'profile_wildcard', v_wild))::json;
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;
COMMENT ON FUNCTION portal_acme_account_create(text, bigint, uuid, text,
    text, jsonb) IS
    'A customer with a VALID external account creates an ACME account '
    '(EAB credential) with a profile and a domain list.';

CREATE FUNCTION portal_acme_account_show(p_xa bigint, p_kid text)
RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	x external_account;
	e acme_account;
BEGIN
	x := portal_customer(p_xa);
	e := portal_need_acme_account(x, p_kid, false);
	RETURN (portal_acme_account_json(e)::jsonb || jsonb_build_object(
	    'problem', acme_account_problem(e.id),
	    'external_status', x.status,
	    'suspended_by_customer', e.status = 'SUSPENDED' AND coalesce((
		SELECT l.actor LIKE 'web:%' FROM audit_log l
		WHERE l.object_type = 'acme_account'
		AND l.object_id = e.kid::text AND l.action = 'suspend'
		ORDER BY l.id DESC LIMIT 1), false),
	    'certificates', (SELECT count(*) FROM certificate c
		JOIN account a ON a.id = c.account_id
		WHERE a.acme_account_id = e.id),
	    'accounts', (SELECT coalesce(json_agg(json_build_object(
		'id', a.id, 'status', a.status, 'thumbprint', a.thumbprint,
		'created_at', rfc3339(a.created_at)) ORDER BY a.id), '[]')
		FROM account a WHERE a.acme_account_id = e.id)))::json;
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;
COMMENT ON FUNCTION portal_acme_account_show(bigint, text) IS
    'One ACME account of the customer''s organization: status, domains, '
    'key state, the RFC 8555 accounts bound to it (refusal '
    'no_acme_account for any other).';

-- Hands out a new HMAC key for an ACME account of the organization whose
-- account validity is over, or whose key was never used and is past its
-- date (op_acme_account_regenerate_key: valid again 365 days, the key to
-- be used within 30, bound RFC 8555 accounts deactivated).
CREATE FUNCTION portal_acme_account_regenerate_key(p_actor text,
    p_xa bigint, p_kid text, p_hmac_key text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	x external_account;
	e acme_account;
BEGIN
	x := portal_customer(p_xa);
	e := portal_need_acme_account(x, p_kid, true);
	IF x.status <> 'VALID' OR x.expires_at <= now() THEN
		PERFORM op_refuse('conflict', 'external_account_not_valid');
	END IF;
	IF (SELECT status FROM organization WHERE id = x.organization_id)
	    <> 'VALID' THEN
		PERFORM op_refuse('conflict', 'organization_closed');
	END IF;
	IF e.status NOT IN ('VALID', 'EXPIRED') THEN
		PERFORM op_refuse('conflict', 'acme_account_not_renewable');
	END IF;
	IF NOT (e.status = 'EXPIRED' OR e.expires_at <= now()
	    OR (e.hmac_key IS NOT NULL AND e.key_expires_at <= now())) THEN
		PERFORM op_refuse('conflict', 'key_still_usable');
	END IF;
	RETURN op_acme_account_regenerate_key(p_actor, e.kid, p_hmac_key,
	    365, 30);
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;
COMMENT ON FUNCTION portal_acme_account_regenerate_key(text, bigint, text,
    text) IS
    'A customer regenerates the key of an expired ACME account, or of one '
    'whose unused key is past its date.';

-- Suspends (VALID) or reactivates (SUSPENDED) an ACME account of the
-- organization. An account the CA suspended stays so: only one the
-- customer suspended (last suspension by a "web:" actor) is reactivated.
CREATE FUNCTION portal_acme_account_set_status(p_actor text, p_xa bigint,
    p_kid text, p_action text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	x external_account;
	e acme_account;
BEGIN
	x := portal_customer(p_xa);
	e := portal_need_acme_account(x, p_kid, true);
	IF p_action = 'suspend' THEN
		IF e.status <> 'VALID' THEN
			PERFORM op_refuse('conflict', 'acme_account_not_valid');
		END IF;
	ELSIF p_action = 'reactivate' THEN
		IF e.status <> 'SUSPENDED' THEN
			PERFORM op_refuse('conflict',
			    'acme_account_not_suspended');
		END IF;
		IF NOT coalesce((SELECT l.actor LIKE 'web:%' FROM audit_log l
		    WHERE l.object_type = 'acme_account'
		    AND l.object_id = e.kid::text AND l.action = 'suspend'
		    ORDER BY l.id DESC LIMIT 1), false) THEN
			PERFORM op_refuse('conflict', 'suspended_by_ca');
		END IF;
		IF x.status <> 'VALID' THEN
			PERFORM op_refuse('conflict',
			    'external_account_not_valid');
		END IF;
	ELSE
		PERFORM op_refuse('invalid', 'bad_action');
	END IF;
	RETURN op_acme_account_set_status(p_actor, e.kid, p_action);
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;
COMMENT ON FUNCTION portal_acme_account_set_status(text, bigint, text,
    text) IS
    'A customer suspends or reactivates an ACME account of its '
    'organization (not one the CA suspended).';

-- -------------------------------------------------------- certificates

-- Certificates of the customer's organization, newest first: those with
-- a name containing p_name (lower-case) or a serial starting with
-- p_serial (hex, lower-case, no colons; leading zeros ignored), or all
-- when both are NULL. {"total", "items"} for one page.
CREATE FUNCTION portal_certificate_search(p_xa bigint, p_name text,
    p_serial text, p_limit integer, p_offset integer) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
	x external_account;
	v_total bigint;
	v_items json;
BEGIN
	x := portal_customer(p_xa);
	p_name := nullif(p_name, '');
	p_serial := nullif(ltrim(p_serial, '0'), '');
	WITH m AS (
		SELECT c.* FROM certificate c
		JOIN account a ON a.id = c.account_id
		JOIN acme_account e ON e.id = a.acme_account_id
		JOIN external_account ex ON ex.id = e.external_account_id
		WHERE ex.organization_id = x.organization_id
		AND ((p_name IS NULL AND p_serial IS NULL)
		    OR (p_serial IS NOT NULL AND
			starts_with(ltrim(c.serial, '0'), p_serial))
		    OR (p_name IS NOT NULL AND EXISTS (SELECT 1
			FROM unnest(c.names) AS n(name)
			WHERE strpos(n.name, p_name) > 0)))
	), p AS (
		SELECT * FROM m ORDER BY m.created_at DESC, m.id
		LIMIT greatest(1, least(p_limit, 200))
		OFFSET greatest(0, p_offset)
	)
	SELECT (SELECT count(*) FROM m),
	    (SELECT coalesce(json_agg(portal_certificate_json(p::certificate)
		ORDER BY p.created_at DESC, p.id), '[]') FROM p)
	    INTO v_total, v_items;
	RETURN json_build_object('total', v_total, 'items', v_items);
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;
COMMENT ON FUNCTION portal_certificate_search(bigint, text, text, integer,
    integer) IS
    'Search of the certificates of a customer''s organization by name '
    'substring or serial prefix, one page, newest first.';

CREATE FUNCTION portal_certificate_show(p_xa bigint, p_ref text)
RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
	x external_account;
	c certificate;
BEGIN
	x := portal_customer(p_xa);
	c := portal_need_certificate(x, p_ref);
	RETURN portal_certificate_json(c);
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;
COMMENT ON FUNCTION portal_certificate_show(bigint, text) IS
    'One certificate of the customer''s organization (refusal '
    'no_certificate for any other).';

-- The PEM chain of a certificate (id or serial) of the customer's
-- organization (no row for any other).
CREATE FUNCTION portal_certificate_pem(p_xa bigint, p_ref text)
RETURNS TABLE (serial text, pem_chain text)
LANGUAGE sql STABLE AS $$
	SELECT c.serial, c.pem_chain FROM certificate c
	JOIN account a ON a.id = c.account_id
	JOIN acme_account e ON e.id = a.acme_account_id
	JOIN external_account ex ON ex.id = e.external_account_id
	JOIN external_account x ON x.organization_id = ex.organization_id
	WHERE x.id = p_xa
	AND (c.id = p_ref OR c.serial = lower(replace(p_ref, ':', '')))
	LIMIT 1
$$;
COMMENT ON FUNCTION portal_certificate_pem(bigint, text) IS
    'Download of a certificate chain, only of the customer''s organization.';

-- Revokes a certificate of the customer's organization with a reason a
-- subscriber may give (RFC 5280: 0 unspecified, 1 keyCompromise, 3
-- affiliationChanged, 4 superseded, 5 cessationOfOperation).
CREATE FUNCTION portal_certificate_revoke(p_actor text, p_xa bigint,
    p_ref text, p_reason integer) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	x external_account;
	c certificate;
	v_doc json;
BEGIN
	x := portal_customer(p_xa);
	c := portal_need_certificate(x, p_ref);
	IF p_reason IS NULL OR p_reason NOT IN (0, 1, 3, 4, 5) THEN
		PERFORM op_refuse('invalid', 'bad_reason');
	END IF;
	IF c.revoked_at IS NOT NULL THEN
		PERFORM op_refuse('conflict', 'already_revoked');
	END IF;
	v_doc := op_certificate_revoke(p_actor, c.id, p_reason);
	IF v_doc ->> 'refused' IS NOT NULL THEN
		RETURN v_doc;
	END IF;
	SELECT * INTO c FROM certificate WHERE id = c.id;
	RETURN portal_certificate_json(c);
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;
COMMENT ON FUNCTION portal_certificate_revoke(text, bigint, text, integer)
    IS 'A customer revokes a certificate of its organization (audited; the '
    'workers publish the new status).';

-- -------------------------------------------------- credit and e-mails

CREATE FUNCTION portal_credit(p_xa bigint, p_limit integer,
    p_offset integer) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
	x external_account;
BEGIN
	x := portal_customer(p_xa);
	RETURN json_build_object(
	    'balance', (SELECT credit_balance FROM organization
		WHERE id = x.organization_id),
	    'total', (SELECT count(*) FROM credit_ledger
		WHERE organization_id = x.organization_id),
	    'entries', (SELECT coalesce(json_agg(json_build_object(
		'at', rfc3339(l.created_at), 'delta', l.delta,
		'balance_after', l.balance_after, 'reason', l.reason,
		'certificate', c.id, 'serial', c.serial)
		ORDER BY l.id DESC), '[]')
		FROM (SELECT * FROM credit_ledger
		    WHERE organization_id = x.organization_id
		    ORDER BY id DESC LIMIT greatest(1, least(p_limit, 200))
		    OFFSET greatest(0, p_offset)) AS l
		LEFT JOIN certificate c ON c.order_id = l.order_id));
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;
COMMENT ON FUNCTION portal_credit(bigint, integer, integer) IS
    'Credit balance and one page of the ledger (newest first) of a '
    'customer''s organization.';

CREATE FUNCTION portal_outbox_list(p_xa bigint, p_limit integer,
    p_offset integer) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
	x external_account;
BEGIN
	x := portal_customer(p_xa);
	RETURN json_build_object(
	    'total', (SELECT count(*) FROM outbox
		WHERE external_account_id = x.id),
	    'items', (SELECT coalesce(json_agg(json_build_object(
		'id', o.id, 'kind', o.kind, 'subject', o.subject,
		'recipient', o.recipient, 'status', o.status,
		'created_at', rfc3339(o.created_at),
		'sent_at', rfc3339(o.sent_at)) ORDER BY o.id DESC), '[]')
		FROM (SELECT * FROM outbox WHERE external_account_id = x.id
		    ORDER BY id DESC LIMIT greatest(1, least(p_limit, 200))
		    OFFSET greatest(0, p_offset)) AS o));
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;
COMMENT ON FUNCTION portal_outbox_list(bigint, integer, integer) IS
    'One page of the e-mails sent to a customer (newest first).';

-- One e-mail sent to the customer. The body of a message carrying a
-- one-time link (address confirmation, password reset) is not shown: a
-- stolen session must not turn into a password change.
CREATE FUNCTION portal_outbox_show(p_xa bigint, p_id bigint) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
	x external_account;
	o outbox;
BEGIN
	x := portal_customer(p_xa);
	SELECT * INTO o FROM outbox WHERE id = p_id
	    AND external_account_id = x.id;
	IF NOT FOUND THEN
		PERFORM op_refuse('not_found', 'no_message');
	END IF;
	RETURN json_build_object('id', o.id, 'kind', o.kind,
	    'subject', o.subject, 'recipient', o.recipient,
	    'status', o.status, 'created_at', rfc3339(o.created_at),
	    'sent_at', rfc3339(o.sent_at),
	    'hidden', o.kind IN ('email_confirmation', 'password_reset'),
	    'body', CASE WHEN o.kind IN ('email_confirmation',
		'password_reset') THEN NULL ELSE o.body END);
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;
COMMENT ON FUNCTION portal_outbox_show(bigint, bigint) IS
    'One e-mail sent to a customer (refusal no_message for any other); '
    'the body of one-time link messages is withheld.';
