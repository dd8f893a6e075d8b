-- 010_web: the web site's accounts (acme-web, common/websession.c).
-- Customers sign in to the portal with the e-mail address of their external
-- account and a password; operators sign in to the back office with their
-- name or address, a password and their registered TLS client certificate.
-- Sessions and one-time tokens are stored only as the SHA-256 of the
-- secret the browser holds.

ALTER TABLE external_account
	ADD COLUMN password_hash text,
	ADD COLUMN email_confirmed_at timestamptz;
COMMENT ON COLUMN external_account.password_hash IS
    'scrypt$LOGN$R$P$SALT$HASH (base64url) of the customer''s web site '
    'password; NULL: the account cannot sign in to the portal.';
COMMENT ON COLUMN external_account.email_confirmed_at IS
    'When the customer followed the confirmation link sent to the address; '
    'NULL: not confirmed yet.';
CREATE UNIQUE INDEX external_account_web_email
	ON external_account (lower(email)) WHERE password_hash IS NOT NULL;

CREATE TABLE web_operator (
	id		bigserial PRIMARY KEY,
	name		text NOT NULL UNIQUE
			CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
	email		text NOT NULL CHECK (email ~ '^[^@\s<>]+@[^@\s<>]+$'),
	password_hash	text NOT NULL,
	cert_sha256	text NOT NULL UNIQUE CHECK (cert_sha256 ~ '^[0-9a-f]{64}$'),
	status		text NOT NULL DEFAULT 'ACTIVE'
			CHECK (status IN ('ACTIVE', 'DISABLED')),
	created_at	timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX web_operator_email ON web_operator (lower(email));
COMMENT ON TABLE web_operator IS
    'People who use the back office (acmectl operator create). Signing in '
    'takes the password and the TLS client certificate whose SHA-256 '
    '(hex, of the DER) is cert_sha256; a DISABLED operator cannot.';

CREATE TABLE web_session (
	token_hash	bytea PRIMARY KEY CHECK (length(token_hash) = 32),
	kind		text NOT NULL CHECK (kind IN ('customer', 'operator')),
	external_account_id bigint REFERENCES external_account(id)
			ON DELETE CASCADE,
	operator_id	bigint REFERENCES web_operator(id) ON DELETE CASCADE,
	csrf		text NOT NULL,
	flash		text,
	created_at	timestamptz NOT NULL DEFAULT now(),
	last_seen_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL,
	remote_addr	text,
	CHECK ((kind = 'customer') = (external_account_id IS NOT NULL) AND
	    (kind = 'operator') = (operator_id IS NOT NULL))
);
CREATE INDEX web_session_expires ON web_session (expires_at);
CREATE INDEX web_session_customer ON web_session (external_account_id);
COMMENT ON TABLE web_session IS
    'Signed-in web sessions. token_hash: SHA-256 of the __Host-sid cookie; '
    'csrf: the token every form of the session carries; flash: a one-time '
    'notice for the next page. A session ends at expires_at '
    '(web_session_lifetime), after web_session_idle seconds without a '
    'request, or on sign-out.';

CREATE TABLE web_login_failure (
	id		bigserial PRIMARY KEY,
	subject		text NOT NULL,
	at		timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX web_login_failure_subject ON web_login_failure (subject, at);
COMMENT ON TABLE web_login_failure IS
    'Failed sign-ins, for the rate limit: subject is the lower-case e-mail '
    'address or operator name tried, or ''ip:'' and the client address '
    '(its /64 network for IPv6: web_client_subject). '
    'Rows older than a day are purged (web_housekeeping).';

CREATE TABLE web_token (
	token_hash	bytea PRIMARY KEY CHECK (length(token_hash) = 32),
	purpose		text NOT NULL CHECK (purpose IN ('confirm', 'reset')),
	external_account_id bigint NOT NULL REFERENCES external_account(id)
			ON DELETE CASCADE,
	created_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL,
	used_at		timestamptz
);
CREATE INDEX web_token_account ON web_token (external_account_id);
COMMENT ON TABLE web_token IS
    'One-time links sent by e-mail: confirm (the address) and reset (the '
    'password). token_hash: SHA-256 of the token in the link; used once, '
    'refused after expires_at.';

-- The web site's e-mails go through the outbox too.
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check CHECK (kind IN
	('certificates_issued', 'missing_documents', 'expiring_documents',
	'expiring_certificates', 'email_confirmation', 'password_reset'));

-- ------------------------------------------------------------ sessions

-- The audit actor of a session's owner: web:EMAIL or operator:NAME.
CREATE FUNCTION web_session_actor(p_kind text, p_id bigint) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT CASE p_kind
	    WHEN 'customer' THEN (SELECT 'web:' || email
		FROM external_account WHERE id = p_id)
	    ELSE (SELECT 'operator:' || name FROM web_operator WHERE id = p_id)
	    END
$$;
COMMENT ON FUNCTION web_session_actor(text, bigint) IS
    'Who a session belongs to, as the audit log names them (web:EMAIL, '
    'operator:NAME).';

CREATE FUNCTION web_session_open(p_kind text, p_id bigint, p_token_hash bytea,
    p_csrf text, p_lifetime integer, p_addr text) RETURNS timestamptz
LANGUAGE plpgsql AS $$
DECLARE
	v_end timestamptz;
BEGIN
	INSERT INTO web_session (token_hash, kind, external_account_id,
	    operator_id, csrf, expires_at, remote_addr)
	VALUES (p_token_hash, p_kind,
	    CASE WHEN p_kind = 'customer' THEN p_id END,
	    CASE WHEN p_kind = 'operator' THEN p_id END,
	    p_csrf, now() + make_interval(secs => p_lifetime), p_addr)
	RETURNING expires_at INTO v_end;
	PERFORM audit(web_session_actor(p_kind, p_id), 'sign_in',
	    CASE p_kind WHEN 'customer' THEN 'external_account'
	    ELSE 'web_operator' END, p_id::text,
	    jsonb_build_object('address', p_addr));
	RETURN v_end;
END $$;
COMMENT ON FUNCTION web_session_open(text, bigint, bytea, text, integer, text)
    IS 'Stores a new session of a customer (p_id: external account) or an '
    'operator (p_id: operator) lasting p_lifetime seconds and audits the '
    'sign-in; returns its end.';

CREATE FUNCTION web_session_load(p_token_hash bytea, p_idle integer)
RETURNS TABLE (kind text, external_account_id bigint, organization_id bigint,
    operator_id bigint, email text, name text, csrf text, flash text,
    language text, status text, cert_sha256 text)
LANGUAGE plpgsql AS $$
DECLARE
	s web_session;
BEGIN
	SELECT * INTO s FROM web_session w WHERE w.token_hash = p_token_hash
	    FOR UPDATE;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	IF s.expires_at <= now() OR
	    s.last_seen_at < now() - make_interval(secs => p_idle) THEN
		DELETE FROM web_session w WHERE w.token_hash = p_token_hash;
		RETURN;
	END IF;
	UPDATE web_session w SET flash = NULL,
	    last_seen_at = CASE WHEN w.last_seen_at < now() - interval '1 minute'
		THEN now() ELSE w.last_seen_at END
	    WHERE w.token_hash = p_token_hash
	    AND (w.flash IS NOT NULL OR
		w.last_seen_at < now() - interval '1 minute');
	IF s.kind = 'customer' THEN
		RETURN QUERY SELECT s.kind, x.id, x.organization_id,
		    NULL::bigint, x.email, x.email, s.csrf, s.flash,
		    x.language, x.status, NULL::text
		    FROM external_account x WHERE x.id = s.external_account_id;
	ELSE
		RETURN QUERY SELECT s.kind, NULL::bigint, NULL::bigint, o.id,
		    o.email, o.name, s.csrf, s.flash, NULL::text, o.status,
		    o.cert_sha256
		    FROM web_operator o WHERE o.id = s.operator_id;
	END IF;
END $$;
COMMENT ON FUNCTION web_session_load(bytea, integer) IS
    'The live session of a token hash with its user (no row: unknown or '
    'ended; an ended one is deleted). Takes the flash away and notes the '
    'use at most once a minute; p_idle: seconds of inactivity that end '
    'a session.';

CREATE FUNCTION web_session_close(p_token_hash bytea) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
	s web_session;
BEGIN
	DELETE FROM web_session WHERE token_hash = p_token_hash
	    RETURNING * INTO s;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	PERFORM audit(web_session_actor(s.kind, coalesce(s.external_account_id,
	    s.operator_id)), 'sign_out', CASE s.kind WHEN 'customer'
	    THEN 'external_account' ELSE 'web_operator' END,
	    coalesce(s.external_account_id, s.operator_id)::text);
	RETURN true;
END $$;
COMMENT ON FUNCTION web_session_close(bytea) IS
    'Ends a session (sign-out, audited); returns whether it existed.';

CREATE FUNCTION web_session_flash(p_token_hash bytea, p_text text)
RETURNS boolean
LANGUAGE sql AS $$
	WITH u AS (UPDATE web_session SET flash = left(p_text, 1000)
	    WHERE token_hash = p_token_hash RETURNING 1)
	SELECT count(*) > 0 FROM u
$$;
COMMENT ON FUNCTION web_session_flash(bytea, text) IS
    'Stores the one-time notice the next page of the session shows.';

-- --------------------------------------------------------- signing in

CREATE FUNCTION web_login_customer(p_email text, p_addr text)
RETURNS TABLE (external_account_id bigint, organization_id bigint,
    email text, password_hash text, status text, organization_status text,
    language text, email_confirmed boolean)
LANGUAGE sql STABLE AS $$
	SELECT x.id, x.organization_id, x.email, x.password_hash, x.status,
	    g.status, x.language, x.email_confirmed_at IS NOT NULL
	FROM external_account x JOIN organization g ON g.id = x.organization_id
	WHERE lower(x.email) = lower(p_email) AND x.password_hash IS NOT NULL
$$;
COMMENT ON FUNCTION web_login_customer(text, text) IS
    'The customer who signs in with this e-mail address (case-insensitive): '
    'password hash and statuses, checked by acme-web. p_addr is the client '
    'address (unused: the rate limit is web_login_blocked).';

-- The rate limit's subject for a client address: 'ip:' and the IPv4
-- address, or the /64 network of an IPv6 address (one customer's line
-- holds a whole /64, so counting single IPv6 addresses limits nothing).
CREATE FUNCTION web_client_subject(p_addr text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	a inet;
BEGIN
	BEGIN
		a := p_addr::inet;
	EXCEPTION WHEN invalid_text_representation THEN
		RETURN 'ip:' || coalesce(p_addr, '');
	END;
	IF a IS NULL THEN
		RETURN 'ip:';
	END IF;
	IF family(a) = 6 THEN
		RETURN 'ip:' || network(set_masklen(a, 64))::text;
	END IF;
	RETURN 'ip:' || host(a);
END $$;
COMMENT ON FUNCTION web_client_subject(text) IS
    'Subject of web_login_failure for a client address: ip:ADDRESS for '
    'IPv4, ip:NETWORK/64 for IPv6.';

CREATE FUNCTION web_login_failed(p_who text, p_addr text) RETURNS void
LANGUAGE sql AS $$
	INSERT INTO web_login_failure (subject)
	    VALUES (lower(p_who)), (web_client_subject(p_addr))
$$;
COMMENT ON FUNCTION web_login_failed(text, text) IS
    'Records a failed sign-in for the e-mail address or operator name and '
    'for the client address.';

CREATE FUNCTION web_login_blocked(p_who text, p_addr text, p_max integer)
RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT (SELECT count(*) FROM web_login_failure
		WHERE subject = lower(p_who)
		AND at > now() - interval '15 minutes') >= p_max
	    OR (SELECT count(*) FROM web_login_failure
		WHERE subject = web_client_subject(p_addr)
		AND at > now() - interval '15 minutes') >= 4 * p_max
$$;
COMMENT ON FUNCTION web_login_blocked(text, text, integer) IS
    'Whether sign-in is refused for now: p_max failures for the address or '
    'name, or 4 * p_max for the client address (IPv6: its /64), in the '
    'last 15 minutes.';

-- ------------------------------------------------------------ tokens

CREATE FUNCTION web_token_create(p_purpose text, p_external bigint,
    p_token_hash bytea, p_lifetime integer) RETURNS timestamptz
LANGUAGE sql AS $$
	INSERT INTO web_token (token_hash, purpose, external_account_id,
	    expires_at)
	VALUES (p_token_hash, p_purpose, p_external,
	    now() + make_interval(secs => p_lifetime))
	RETURNING expires_at
$$;
COMMENT ON FUNCTION web_token_create(text, bigint, bytea, integer) IS
    'Stores a one-time token (confirm, reset) for an external account, '
    'valid p_lifetime seconds; returns its end.';

CREATE FUNCTION web_token_use(p_purpose text, p_token_hash bytea)
RETURNS bigint
LANGUAGE sql AS $$
	UPDATE web_token SET used_at = now()
	WHERE token_hash = p_token_hash AND purpose = p_purpose
	    AND used_at IS NULL AND expires_at > now()
	RETURNING external_account_id
$$;
COMMENT ON FUNCTION web_token_use(text, bytea) IS
    'Uses a token once: returns its external account, or NULL when it is '
    'unknown, of another purpose, used or expired.';

CREATE FUNCTION web_customer_set_password(p_actor text, p_external bigint,
    p_hash text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE external_account SET password_hash = p_hash
	    WHERE id = p_external;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	DELETE FROM web_session WHERE external_account_id = p_external;
	DELETE FROM web_token WHERE external_account_id = p_external
	    AND purpose = 'reset' AND used_at IS NULL;
	PERFORM audit(p_actor, 'set_password', 'external_account',
	    p_external::text);
	RETURN true;
END $$;
COMMENT ON FUNCTION web_customer_set_password(text, bigint, text) IS
    'Sets a customer''s password hash; ends every session of theirs and '
    'their unused reset links. Returns whether the account exists.';

CREATE FUNCTION web_customer_confirm_email(p_actor text, p_external bigint)
RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE external_account SET email_confirmed_at = now()
	    WHERE id = p_external AND email_confirmed_at IS NULL;
	IF FOUND THEN
		PERFORM audit(p_actor, 'confirm_email', 'external_account',
		    p_external::text);
	END IF;
	RETURN FOUND;
END $$;
COMMENT ON FUNCTION web_customer_confirm_email(text, bigint) IS
    'Marks a customer''s address confirmed; returns false if it already '
    'was (or there is no such account).';

-- --------------------------------------------------------- operators

CREATE FUNCTION web_operator_login(p_who text)
RETURNS TABLE (id bigint, name text, email text, password_hash text,
    cert_sha256 text, status text)
LANGUAGE sql STABLE AS $$
	SELECT o.id, o.name, o.email, o.password_hash, o.cert_sha256, o.status
	FROM web_operator o
	WHERE o.name = p_who OR lower(o.email) = lower(p_who)
	ORDER BY o.name = p_who DESC
	LIMIT 1
$$;
COMMENT ON FUNCTION web_operator_login(text) IS
    'The operator who signs in with this name or e-mail address.';

CREATE FUNCTION web_operator_json(o web_operator) RETURNS json
LANGUAGE sql IMMUTABLE AS $$
	SELECT json_build_object('id', o.id, 'name', o.name, 'email', o.email,
	    'cert_sha256', o.cert_sha256, 'status', o.status,
	    'created_at', rfc3339(o.created_at))
$$;
COMMENT ON FUNCTION web_operator_json(web_operator) IS
    'An operator as the acmectl operator commands show it (no hash).';

CREATE FUNCTION web_operator_create(p_actor text, p_name text, p_email text,
    p_hash text, p_cert text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	o web_operator;
BEGIN
	IF p_name IS NULL OR p_name !~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' THEN
		PERFORM op_refuse('invalid', 'the operator name must be 1 to 64 '
		    'letters, digits, dots, dashes or underscores');
	END IF;
	IF p_email IS NULL OR p_email !~ '^[^@\s<>]+@[^@\s<>]+$' THEN
		PERFORM op_refuse('invalid', format('bad e-mail address %s',
		    p_email));
	END IF;
	IF p_cert IS NULL OR lower(p_cert) !~ '^[0-9a-f]{64}$' THEN
		PERFORM op_refuse('invalid', 'the certificate fingerprint must '
		    'be the SHA-256 of its DER, 64 hexadecimal digits');
	END IF;
	IF p_hash IS NULL OR p_hash NOT LIKE 'scrypt$%' THEN
		PERFORM op_refuse('invalid', 'no password hash');
	END IF;
	IF EXISTS (SELECT 1 FROM web_operator w WHERE w.name = p_name) THEN
		PERFORM op_refuse('conflict', format('operator %s exists',
		    p_name));
	END IF;
	IF EXISTS (SELECT 1 FROM web_operator w
	    WHERE lower(w.email) = lower(p_email)) THEN
		PERFORM op_refuse('conflict', format('an operator has the '
		    'address %s', p_email));
	END IF;
	IF EXISTS (SELECT 1 FROM web_operator w
	    WHERE w.cert_sha256 = lower(p_cert)) THEN
		PERFORM op_refuse('conflict', 'an operator has this '
		    'certificate');
	END IF;
	INSERT INTO web_operator (name, email, password_hash, cert_sha256)
	    VALUES (p_name, p_email, p_hash, lower(p_cert)) RETURNING * INTO o;
	PERFORM audit(p_actor, 'create', 'web_operator', o.id::text,
	    jsonb_build_object('name', o.name, 'email', o.email,
		'cert_sha256', o.cert_sha256));
	RETURN web_operator_json(o);
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;
COMMENT ON FUNCTION web_operator_create(text, text, text, text, text) IS
    'Creates an ACTIVE operator of the back office (acmectl operator '
    'create); returns it, or {"refused", "kind"}.';

-- The operator of a name, locked; refuses an unknown one.
CREATE FUNCTION web_operator_need(p_name text) RETURNS web_operator
LANGUAGE plpgsql AS $$
DECLARE
	o web_operator;
BEGIN
	SELECT * INTO o FROM web_operator w WHERE w.name = p_name FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM op_refuse('not_found', format('no operator %s', p_name));
	END IF;
	RETURN o;
END $$;
COMMENT ON FUNCTION web_operator_need(text) IS
    'The operator of a name, locked; raises the not_found refusal.';

CREATE FUNCTION web_operator_set_status(p_actor text, p_name text,
    p_status text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	o web_operator;
	v_from text;
BEGIN
	IF p_status IS NULL OR p_status NOT IN ('ACTIVE', 'DISABLED') THEN
		PERFORM op_refuse('invalid', 'the status is ACTIVE or DISABLED');
	END IF;
	o := web_operator_need(p_name);
	v_from := o.status;
	IF v_from = p_status THEN
		PERFORM op_refuse('conflict', format('operator %s is already %s',
		    p_name, p_status));
	END IF;
	UPDATE web_operator SET status = p_status WHERE id = o.id
	    RETURNING * INTO o;
	IF p_status = 'DISABLED' THEN
		DELETE FROM web_session WHERE operator_id = o.id;
	END IF;
	PERFORM audit(p_actor, lower(p_status), 'web_operator', o.id::text,
	    jsonb_build_object('from', v_from, 'to', p_status));
	RETURN web_operator_json(o);
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;
COMMENT ON FUNCTION web_operator_set_status(text, text, text) IS
    'Enables (ACTIVE) or disables (DISABLED, sessions ended) an operator; '
    'returns it, or {"refused", "kind"}.';

CREATE FUNCTION web_operator_set_password(p_actor text, p_name text,
    p_hash text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	o web_operator;
BEGIN
	IF p_hash IS NULL OR p_hash NOT LIKE 'scrypt$%' THEN
		PERFORM op_refuse('invalid', 'no password hash');
	END IF;
	o := web_operator_need(p_name);
	UPDATE web_operator SET password_hash = p_hash WHERE id = o.id
	    RETURNING * INTO o;
	DELETE FROM web_session WHERE operator_id = o.id;
	PERFORM audit(p_actor, 'set_password', 'web_operator', o.id::text);
	RETURN web_operator_json(o);
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;
COMMENT ON FUNCTION web_operator_set_password(text, text, text) IS
    'Sets an operator''s password hash and ends their sessions; returns '
    'the operator, or {"refused", "kind"}.';

CREATE FUNCTION web_operator_set_cert(p_actor text, p_name text,
    p_cert text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	o web_operator;
	v_from text;
BEGIN
	IF p_cert IS NULL OR lower(p_cert) !~ '^[0-9a-f]{64}$' THEN
		PERFORM op_refuse('invalid', 'the certificate fingerprint must '
		    'be the SHA-256 of its DER, 64 hexadecimal digits');
	END IF;
	o := web_operator_need(p_name);
	IF EXISTS (SELECT 1 FROM web_operator w
	    WHERE w.cert_sha256 = lower(p_cert) AND w.id <> o.id) THEN
		PERFORM op_refuse('conflict', 'an operator has this '
		    'certificate');
	END IF;
	v_from := o.cert_sha256;
	UPDATE web_operator SET cert_sha256 = lower(p_cert) WHERE id = o.id
	    RETURNING * INTO o;
	DELETE FROM web_session WHERE operator_id = o.id;
	PERFORM audit(p_actor, 'set_cert', 'web_operator', o.id::text,
	    jsonb_build_object('from', v_from, 'to', o.cert_sha256));
	RETURN web_operator_json(o);
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;
COMMENT ON FUNCTION web_operator_set_cert(text, text, text) IS
    'Registers a new client certificate (SHA-256 of its DER) for an '
    'operator and ends their sessions; returns the operator, or '
    '{"refused", "kind"}.';

CREATE FUNCTION web_operator_list() RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT coalesce(json_agg(web_operator_json(o) ORDER BY o.name), '[]')
	FROM web_operator o
$$;
COMMENT ON FUNCTION web_operator_list() IS
    'Every operator (acmectl operator list).';

-- ------------------------------------------------------- housekeeping

CREATE FUNCTION web_housekeeping(p_idle integer DEFAULT 86400)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	n integer;
	total integer := 0;
BEGIN
	DELETE FROM web_session WHERE expires_at <= now()
	    OR last_seen_at < now() - make_interval(secs => p_idle);
	GET DIAGNOSTICS n = ROW_COUNT;
	total := total + n;
	DELETE FROM web_token WHERE expires_at <= now() - interval '1 day'
	    OR used_at < now() - interval '1 day';
	GET DIAGNOSTICS n = ROW_COUNT;
	total := total + n;
	DELETE FROM web_login_failure WHERE at < now() - interval '1 day';
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN total + n;
END $$;
COMMENT ON FUNCTION web_housekeeping(integer) IS
    'Purges ended sessions (past their lifetime, or idle p_idle seconds), '
    'tokens used or expired more than a day ago and sign-in failures older '
    'than a day; returns the number of rows removed.';
