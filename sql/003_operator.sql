-- 003_operator: the operator's commands (acmectl) as SQL functions, one
-- call each. Every change is a compare-and-set, writes its audit_log rows
-- in the same transaction and returns a JSON document. A refusal (bad
-- input, unknown object, a status that does not allow the change) undoes
-- everything the call did and returns instead
--	{"refused": "clear message", "kind": "invalid" | "not_found" | "conflict"}
-- Internal helpers raise the refusal (op_refuse); the op_* functions that
-- acmectl calls catch it (op_refusal) in their one exception handler.

CREATE TABLE status_transition (
	object_type	text NOT NULL CHECK (object_type IN ('organization',
			    'document', 'external_account', 'acme_account',
			    'domain')),
	action		text NOT NULL,
	from_status	text[] NOT NULL,
	to_status	text NOT NULL,
	PRIMARY KEY (object_type, action)
);
COMMENT ON TABLE status_transition IS
    'The status changes operators may make: action moves an object of '
    'object_type from one of from_status to to_status (acmectl GROUP ACTION).';
INSERT INTO status_transition VALUES
	('organization', 'validate', '{PENDING}', 'VALID'),
	('organization', 'suspend', '{VALID}', 'SUSPENDED'),
	('organization', 'reinstate', '{SUSPENDED,EXPIRED}', 'VALID'),
	('organization', 'expire', '{PENDING,VALID,SUSPENDED}', 'EXPIRED'),
	('organization', 'revoke', '{PENDING,VALID,SUSPENDED,EXPIRED}',
	    'REVOKED'),
	('document', 'validate', '{PENDING}', 'VALID'),
	('document', 'reject', '{PENDING,VALID}', 'REJECTED'),
	('document', 'expire', '{PENDING,VALID}', 'EXPIRED'),
	('external_account', 'activate', '{PENDING}', 'VALID'),
	('external_account', 'suspend', '{VALID}', 'SUSPENDED'),
	('external_account', 'reactivate', '{SUSPENDED}', 'VALID'),
	('external_account', 'revoke',
	    '{PENDING,VALID,SUSPENDED,EXPIRED,DEACTIVATED}', 'REVOKED'),
	('external_account', 'deactivate', '{PENDING,VALID,SUSPENDED,EXPIRED}',
	    'DEACTIVATED'),
	('acme_account', 'activate', '{PENDING}', 'VALID'),
	('acme_account', 'suspend', '{VALID}', 'SUSPENDED'),
	('acme_account', 'reactivate', '{SUSPENDED}', 'VALID'),
	('acme_account', 'revoke',
	    '{PENDING,VALID,SUSPENDED,EXPIRED,DEACTIVATED}', 'REVOKED'),
	('acme_account', 'deactivate', '{PENDING,VALID,SUSPENDED,EXPIRED}',
	    'DEACTIVATED'),
	('domain', 'validate', '{PENDING}', 'VALID'),
	('domain', 'revoke', '{PENDING,VALID}', 'REVOKED');

-- ------------------------------------------------------------ refusals

-- Raises the refusal of an operator command; p_kind is 'invalid',
-- 'not_found' or 'conflict'.
CREATE FUNCTION op_refuse(p_kind text, p_message text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION USING MESSAGE = p_message,
	    ERRCODE = CASE p_kind WHEN 'not_found' THEN 'AC404'
		WHEN 'conflict' THEN 'AC409' ELSE 'AC400' END;
END $$;

-- The document an op_* function returns for a refusal it caught.
CREATE FUNCTION op_refusal(p_sqlstate text, p_message text) RETURNS json
LANGUAGE sql IMMUTABLE AS $$
	SELECT json_build_object('refused', p_message, 'kind',
	    CASE p_sqlstate WHEN 'AC404' THEN 'not_found'
		WHEN 'AC409' THEN 'conflict' ELSE 'invalid' END)
$$;

-- The transition of an action on an object type; refuses an unknown one.
CREATE FUNCTION op_transition(p_type text, p_action text)
RETURNS status_transition
LANGUAGE plpgsql STABLE AS $$
DECLARE
	t status_transition;
BEGIN
	SELECT * INTO t FROM status_transition
	    WHERE object_type = p_type AND action = p_action;
	IF NOT FOUND THEN
		PERFORM op_refuse('invalid', format('%s is not an action on %s',
		    p_action, replace(p_type, '_', ' ')));
	END IF;
	RETURN t;
END $$;

-- Refuses the transition t of an object (named p_what) in status p_status
-- unless p_status is one of its from_status.
CREATE FUNCTION op_check_transition(t status_transition, p_what text,
    p_status text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	IF NOT p_status = ANY (t.from_status) THEN
		PERFORM op_refuse('conflict', format(
		    'cannot %s %s: it is %s (%s applies to %s only)', t.action,
		    p_what, p_status, t.action,
		    array_to_string(t.from_status, ', ')));
	END IF;
END $$;

-- The expiry given as a date (00:00 UTC that day) or a number of days
-- from now (at most one of them); NULL when neither is given.
CREATE FUNCTION op_expiry(p_date date, p_days integer) RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v timestamptz;
BEGIN
	IF p_date IS NOT NULL AND p_days IS NOT NULL THEN
		PERFORM op_refuse('invalid',
		    'give an expiry date or a number of days, not both');
	END IF;
	IF p_days IS NOT NULL THEN
		IF p_days < 1 OR p_days > 3650 THEN
			PERFORM op_refuse('invalid', format(
			    '%s days: the number of days must be 1 to 3650',
			    p_days));
		END IF;
		RETURN now() + make_interval(days => p_days);
	END IF;
	IF p_date IS NOT NULL THEN
		v := p_date::timestamp AT TIME ZONE 'UTC';
		IF v <= now() THEN
			PERFORM op_refuse('invalid', format(
			    'the expiry date %s is not in the future', p_date));
		END IF;
	END IF;
	RETURN v;
END $$;

-- ------------------------------------------------------------- lookups

CREATE FUNCTION op_need_organization(p_id bigint) RETURNS organization
LANGUAGE plpgsql STABLE AS $$
DECLARE
	g organization;
BEGIN
	SELECT * INTO g FROM organization WHERE id = p_id;
	IF NOT FOUND THEN
		PERFORM op_refuse('not_found',
		    format('no organization %s', p_id));
	END IF;
	RETURN g;
END $$;

CREATE FUNCTION op_need_external_account(p_id bigint)
RETURNS external_account
LANGUAGE plpgsql STABLE AS $$
DECLARE
	x external_account;
BEGIN
	SELECT * INTO x FROM external_account WHERE id = p_id;
	IF NOT FOUND THEN
		PERFORM op_refuse('not_found',
		    format('no external account %s', p_id));
	END IF;
	RETURN x;
END $$;

CREATE FUNCTION op_need_acme_account(p_kid uuid) RETURNS acme_account
LANGUAGE plpgsql STABLE AS $$
DECLARE
	e acme_account;
BEGIN
	SELECT * INTO e FROM acme_account WHERE kid = p_kid;
	IF NOT FOUND THEN
		PERFORM op_refuse('not_found',
		    format('no ACME account %s', p_kid));
	END IF;
	RETURN e;
END $$;

-- ------------------------------------------------------ JSON documents

CREATE FUNCTION op_document_json(d document) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT json_build_object('id', d.id, 'organization', d.organization_id,
	    'kind', d.kind, 'status', d.status, 'reference', d.reference,
	    'domain', d.domain, 'expires_at', rfc3339(d.expires_at),
	    'created_at', rfc3339(d.created_at),
	    'decided_at', rfc3339(d.decided_at), 'decided_by', d.decided_by)
$$;

CREATE FUNCTION op_external_account_json(x external_account) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT json_build_object('id', x.id, 'organization', x.organization_id,
	    'email', x.email, 'language', x.language, 'status', x.status,
	    'expires_at', rfc3339(x.expires_at),
	    'created_at', rfc3339(x.created_at))
$$;

CREATE FUNCTION op_domain_json(d domain) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT json_build_object('id', d.id, 'organization', d.organization_id,
	    'name', d.name, 'status', d.status,
	    'validated_at', rfc3339(d.validated_at))
$$;

CREATE FUNCTION op_acme_account_json(e acme_account) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT json_build_object('kid', e.kid, 'status', e.status,
	    'profile', e.profile, 'external_account', e.external_account_id,
	    'organization', ao.organization_id,
	    'expires_at', rfc3339(e.expires_at),
	    'key_expires_at', rfc3339(e.key_expires_at),
	    'bound_at', rfc3339(e.bound_at),
	    'created_at', rfc3339(e.created_at),
	    'domains', (SELECT coalesce(array_agg(d.name ORDER BY d.name),
		'{}') FROM acme_account_domain ad
		JOIN domain d ON d.id = ad.domain_id
		WHERE ad.acme_account_id = e.id))
	FROM acme_account_organization ao WHERE ao.acme_account_id = e.id
$$;

CREATE FUNCTION op_certificate_json(c certificate) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT json_build_object('id', c.id, 'serial', c.serial,
	    'names', c.names, 'not_before', rfc3339(c.not_before),
	    'not_after', rfc3339(c.not_after), 'order', c.order_id,
	    'acme_account', e.kid, 'organization', ao.organization_id,
	    'created_at', rfc3339(c.created_at),
	    'revoked', c.revoked_at IS NOT NULL,
	    'revoked_at', rfc3339(c.revoked_at),
	    'revocation_reason', c.revocation_reason)
	FROM account a JOIN acme_account e ON e.id = a.acme_account_id
	JOIN acme_account_organization ao ON ao.acme_account_id = e.id
	WHERE a.id = c.account_id
$$;

-- ------------------------------------------------------ shared changes

-- Creates an organization (audited); refuses bad fields and a name
-- already taken.
CREATE FUNCTION op_organization_insert(p_actor text, p_name text,
    p_country text, p_locality text, p_state text, p_status text)
RETURNS organization
LANGUAGE plpgsql AS $$
DECLARE
	g organization;
	v_other bigint;
BEGIN
	IF p_name IS NULL OR btrim(p_name) = '' OR length(p_name) > 64 THEN
		PERFORM op_refuse('invalid',
		    'the organization name must have 1 to 64 characters');
	END IF;
	IF p_country IS NULL OR p_country !~ '^[A-Z]{2}$' THEN
		PERFORM op_refuse('invalid', format(
		    '%s is not a two-letter country code', p_country));
	END IF;
	IF length(p_locality) > 128 OR length(p_state) > 128 THEN
		PERFORM op_refuse('invalid',
		    'the locality and the state have at most 128 characters');
	END IF;
	-- names are unique: two creations of one name meet on this lock
	PERFORM pg_advisory_xact_lock(hashtext('organization ' || p_name));
	SELECT id INTO v_other FROM organization WHERE name = p_name LIMIT 1;
	IF FOUND THEN
		PERFORM op_refuse('conflict', format(
		    'an organization named "%s" already exists (%s)', p_name,
		    v_other));
	END IF;
	INSERT INTO organization (name, country, locality, state, status)
	    VALUES (p_name, p_country, nullif(p_locality, ''),
	    nullif(p_state, ''), p_status) RETURNING * INTO g;
	PERFORM audit(p_actor, 'create', 'organization', g.id::text,
	    jsonb_build_object('name', g.name, 'country', g.country,
	    'status', g.status));
	RETURN g;
END $$;

-- Adds a document to an organization (audited).
CREATE FUNCTION op_document_insert(p_actor text, p_org bigint, p_kind text,
    p_status text, p_reference text, p_domain text, p_expires timestamptz)
RETURNS document
LANGUAGE plpgsql AS $$
DECLARE
	d document;
BEGIN
	IF p_kind IS NULL OR p_kind NOT IN ('ORGANIZATION_PROOF',
	    'REQUEST_FORM', 'MANAGER_AUTHORIZATION', 'DOMAIN_AUTHORIZATION') THEN
		PERFORM op_refuse('invalid', format('%s is not a document kind '
		    '(ORGANIZATION_PROOF, REQUEST_FORM, MANAGER_AUTHORIZATION, '
		    'DOMAIN_AUTHORIZATION)', p_kind));
	END IF;
	IF p_domain IS NOT NULL AND p_kind <> 'DOMAIN_AUTHORIZATION' THEN
		PERFORM op_refuse('invalid',
		    'only a DOMAIN_AUTHORIZATION document names a domain');
	END IF;
	IF p_domain IS NOT NULL AND p_domain !~ '^(\*\.)?[a-z0-9.-]+$' THEN
		PERFORM op_refuse('invalid',
		    format('%s is not a domain name', p_domain));
	END IF;
	INSERT INTO document (organization_id, kind, status, reference, domain,
	    expires_at, decided_at, decided_by)
	    VALUES (p_org, p_kind, p_status, coalesce(p_reference, ''),
	    p_domain, p_expires,
	    CASE WHEN p_status <> 'PENDING' THEN now() END,
	    CASE WHEN p_status <> 'PENDING' THEN p_actor END)
	    RETURNING * INTO d;
	PERFORM audit(p_actor, 'create', 'document', d.id::text,
	    jsonb_build_object('organization', p_org, 'kind', p_kind,
	    'status', p_status, 'expires_at', rfc3339(p_expires)));
	RETURN d;
END $$;

-- Creates an external account (audited).
CREATE FUNCTION op_external_account_insert(p_actor text, p_org bigint,
    p_email text, p_language text, p_status text, p_expires timestamptz)
RETURNS external_account
LANGUAGE plpgsql AS $$
DECLARE
	x external_account;
BEGIN
	IF p_email IS NULL OR p_email !~ '^[^@\s]+@[^@\s]+$'
	    OR length(p_email) > 254 THEN
		PERFORM op_refuse('invalid',
		    format('%s is not an e-mail address', p_email));
	END IF;
	IF p_language NOT IN ('en', 'fr') THEN
		PERFORM op_refuse('invalid', format(
		    '%s is not a supported language (en, fr)', p_language));
	END IF;
	INSERT INTO external_account (organization_id, email, language,
	    status, expires_at)
	    VALUES (p_org, p_email, p_language, p_status, p_expires)
	    RETURNING * INTO x;
	PERFORM audit(p_actor, 'create', 'external_account', x.id::text,
	    jsonb_build_object('organization', p_org, 'email', p_email,
	    'status', p_status));
	RETURN x;
END $$;

-- Appends a credit (delta > 0) or debit (delta < 0) to an organization's
-- ledger (audited); refuses a balance going below zero.
CREATE FUNCTION op_credit_insert(p_actor text, p_org bigint, p_delta integer,
    p_reason text) RETURNS credit_ledger
LANGUAGE plpgsql AS $$
DECLARE
	l credit_ledger;
	v_balance integer;
BEGIN
	SELECT credit_balance INTO v_balance FROM organization
	    WHERE id = p_org FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM op_refuse('not_found',
		    format('no organization %s', p_org));
	END IF;
	IF p_delta IS NULL OR p_delta = 0 THEN
		PERFORM op_refuse('invalid', 'the amount must not be zero');
	END IF;
	IF v_balance::bigint + p_delta < 0 THEN
		PERFORM op_refuse('conflict', format('organization %s has a '
		    'balance of %s: a debit of %s would take it below zero',
		    p_org, v_balance, -p_delta));
	END IF;
	BEGIN
		INSERT INTO credit_ledger (organization_id, delta,
		    balance_after, reason, actor)
		    VALUES (p_org, p_delta, 0, coalesce(nullif(p_reason, ''),
		    CASE WHEN p_delta > 0 THEN 'credit' ELSE 'correction' END),
		    p_actor)
		    RETURNING * INTO l;
	EXCEPTION WHEN numeric_value_out_of_range THEN
		PERFORM op_refuse('invalid', format('organization %s: a '
		    'balance of %s plus %s is out of range', p_org, v_balance,
		    p_delta));
	END;
	PERFORM audit(p_actor, 'credit', 'organization', p_org::text,
	    jsonb_build_object('ledger', l.id, 'delta', l.delta,
	    'balance', l.balance_after, 'reason', l.reason));
	RETURN l;
END $$;

-- Creates an ACME account under an external account (audited): status
-- VALID, valid p_days, its HMAC key to be used within p_key_days.
CREATE FUNCTION op_acme_account_insert(p_actor text, p_kid uuid,
    p_hmac_key text, p_external bigint, p_profile text, p_days integer,
    p_key_days integer) RETURNS acme_account
LANGUAGE plpgsql AS $$
DECLARE
	e acme_account;
	x external_account;
BEGIN
	x := op_need_external_account(p_external);
	IF x.status IN ('REVOKED', 'DEACTIVATED', 'EXPIRED') THEN
		PERFORM op_refuse('conflict', format('external account %s is %s',
		    x.id, x.status));
	END IF;
	IF NOT EXISTS (SELECT 1 FROM profile WHERE name = p_profile) THEN
		PERFORM op_refuse('invalid', format('no profile %s (%s)',
		    p_profile, (SELECT string_agg(name, ', ' ORDER BY name)
		    FROM profile)));
	END IF;
	IF p_days < 1 OR p_days > 3650 THEN
		PERFORM op_refuse('invalid', format(
		    '%s days: the account validity must be 1 to 3650 days',
		    p_days));
	END IF;
	IF p_key_days < 1 OR p_key_days > p_days THEN
		PERFORM op_refuse('invalid', format('%s key days: the key must '
		    'be used within 1 to %s days (the account''s validity)',
		    p_key_days, p_days));
	END IF;
	INSERT INTO acme_account (kid, hmac_key, external_account_id, profile,
	    status, expires_at, key_expires_at)
	    VALUES (p_kid, p_hmac_key, x.id, p_profile, 'VALID',
	    now() + make_interval(days => p_days),
	    now() + make_interval(days => p_key_days))
	    RETURNING * INTO e;
	PERFORM audit(p_actor, 'create', 'acme_account', e.kid::text,
	    jsonb_build_object('external_account', x.id, 'profile', p_profile,
	    'expires_at', rfc3339(e.expires_at),
	    'key_expires_at', rfc3339(e.key_expires_at)));
	RETURN e;
END $$;

-- Returns the domain p_name of an organization, created (PENDING, or
-- VALID if p_validated) if needed, made VALID if p_validated; refuses a
-- REVOKED one. Audited.
CREATE FUNCTION op_domain_ensure(p_actor text, p_org bigint, p_name text,
    p_validated boolean) RETURNS domain
LANGUAGE plpgsql AS $$
DECLARE
	d domain;
BEGIN
	IF p_name IS NULL OR p_name !~ '^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)+$' THEN
		PERFORM op_refuse('invalid',
		    format('%s is not a domain name', p_name));
	END IF;
	INSERT INTO domain (organization_id, name, status, validated_at)
	    VALUES (p_org, p_name,
	    CASE WHEN p_validated THEN 'VALID' ELSE 'PENDING' END,
	    CASE WHEN p_validated THEN now() END)
	    ON CONFLICT (organization_id, name) DO NOTHING
	    RETURNING * INTO d;
	IF FOUND THEN
		PERFORM audit(p_actor, 'create', 'domain', d.id::text,
		    jsonb_build_object('organization', p_org, 'name', p_name,
		    'status', d.status));
		RETURN d;
	END IF;
	SELECT * INTO d FROM domain WHERE organization_id = p_org
	    AND name = p_name FOR UPDATE;
	IF d.status = 'REVOKED' THEN
		PERFORM op_refuse('conflict', format(
		    'domain %s of organization %s is REVOKED', p_name, p_org));
	END IF;
	IF p_validated AND d.status = 'PENDING' THEN
		UPDATE domain SET status = 'VALID', validated_at = now()
		    WHERE id = d.id AND status = 'PENDING' RETURNING * INTO d;
		PERFORM audit(p_actor, 'validate', 'domain', d.id::text,
		    jsonb_build_object('organization', p_org, 'name', p_name,
		    'from', 'PENDING', 'to', 'VALID'));
	END IF;
	RETURN d;
END $$;

-- Puts a domain of organization p_org in the domain list of ACME account
-- e (the domain created if needed); a "*." entry only under a profile
-- with exact names (RGS). Returns the entry, "added" false when it was
-- already listed. Audited.
CREATE FUNCTION op_account_domain_add(p_actor text, e acme_account,
    p_org bigint, p_name text, p_validated boolean) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	d domain;
	v_added boolean;
BEGIN
	PERFORM op_need_organization(p_org);
	IF p_name LIKE '*.%' AND NOT (SELECT exact_names FROM profile
	    WHERE name = e.profile) THEN
		PERFORM op_refuse('invalid', format('%s: a wildcard entry needs '
		    'a profile listing exact names (RGS), not %s', p_name,
		    e.profile));
	END IF;
	d := op_domain_ensure(p_actor, p_org, p_name, p_validated);
	INSERT INTO acme_account_domain (acme_account_id, domain_id)
	    VALUES (e.id, d.id) ON CONFLICT DO NOTHING;
	v_added := FOUND;
	IF v_added THEN
		PERFORM audit(p_actor, 'add-domain', 'acme_account',
		    e.kid::text, jsonb_build_object('domain', d.id,
		    'name', d.name, 'organization', p_org));
	END IF;
	RETURN json_build_object('acme_account', e.kid, 'name', d.name,
	    'organization', p_org, 'status', d.status, 'added', v_added);
END $$;

-- Puts the VALID external accounts of an organization that lacks a VALID,
-- unexpired ORGANIZATION_PROOF or REQUEST_FORM back to PENDING (audited,
-- p_reason in the detail); returns their ids.
CREATE FUNCTION op_external_accounts_recheck(p_actor text, p_org bigint,
    p_reason text) RETURNS bigint[]
LANGUAGE plpgsql AS $$
DECLARE
	v_ids bigint[];
BEGIN
	WITH moved AS (
		UPDATE external_account x SET status = 'PENDING'
		WHERE x.organization_id = p_org AND x.status = 'VALID'
		AND (NOT EXISTS (SELECT 1 FROM document d
			WHERE d.organization_id = p_org
			AND d.kind = 'ORGANIZATION_PROOF' AND d.status = 'VALID'
			AND (d.expires_at IS NULL OR d.expires_at > now()))
		    OR NOT EXISTS (SELECT 1 FROM document d
			WHERE d.organization_id = p_org
			AND d.kind = 'REQUEST_FORM' AND d.status = 'VALID'
			AND (d.expires_at IS NULL OR d.expires_at > now())))
		RETURNING x.id)
	SELECT coalesce(array_agg(id ORDER BY id), '{}') INTO v_ids FROM moved;
	PERFORM audit(p_actor, 'pending', 'external_account', i::text,
	    jsonb_build_object('from', 'VALID', 'to', 'PENDING',
	    'reason', p_reason))
	    FROM unnest(v_ids) AS i;
	RETURN v_ids;
END $$;

-- The status change of one object, as the status commands return it.
CREATE FUNCTION op_status_json(p_type text, p_id text, t status_transition,
    p_from text) RETURNS json
LANGUAGE sql IMMUTABLE AS $$
	SELECT json_build_object('object', p_type, 'id', p_id,
	    'action', t.action, 'from', p_from, 'status', t.to_status)
$$;

-- ------------------------------------------------------- organizations

CREATE FUNCTION op_organization_create(p_actor text, p_name text,
    p_country text, p_locality text, p_state text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	g organization;
BEGIN
	g := op_organization_insert(p_actor, p_name, p_country, p_locality,
	    p_state, 'PENDING');
	RETURN op_organization_show(g.id);
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;

CREATE FUNCTION op_organization_list() RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT coalesce(json_agg(json_build_object('id', g.id,
	    'name', g.name, 'country', g.country, 'status', g.status,
	    'credit_balance', g.credit_balance,
	    'created_at', rfc3339(g.created_at)) ORDER BY g.id), '[]')
	FROM organization g
$$;

CREATE FUNCTION op_organization_show(p_id bigint) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
	g organization;
BEGIN
	g := op_need_organization(p_id);
	RETURN json_build_object('id', g.id, 'name', g.name,
	    'country', g.country, 'locality', g.locality, 'state', g.state,
	    'status', g.status, 'credit_balance', g.credit_balance,
	    'created_at', rfc3339(g.created_at),
	    'documents', (SELECT coalesce(json_agg(op_document_json(d)
		ORDER BY d.id), '[]') FROM document d
		WHERE d.organization_id = g.id),
	    'external_accounts', (SELECT coalesce(json_agg(
		op_external_account_json(x) ORDER BY x.id), '[]')
		FROM external_account x WHERE x.organization_id = g.id),
	    'domains', (SELECT coalesce(json_agg(op_domain_json(d)
		ORDER BY d.name), '[]') FROM domain d
		WHERE d.organization_id = g.id));
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;

CREATE FUNCTION op_organization_set_status(p_actor text, p_id bigint,
    p_action text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	t status_transition;
	v_from text;
BEGIN
	t := op_transition('organization', p_action);
	SELECT status INTO v_from FROM organization WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM op_refuse('not_found', format('no organization %s', p_id));
	END IF;
	PERFORM op_check_transition(t, format('organization %s', p_id), v_from);
	UPDATE organization SET status = t.to_status
	    WHERE id = p_id AND status = v_from;
	PERFORM audit(p_actor, p_action, 'organization', p_id::text,
	    jsonb_build_object('from', v_from, 'to', t.to_status));
	RETURN op_status_json('organization', p_id::text, t, v_from);
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;

-- ----------------------------------------------------------- documents

CREATE FUNCTION op_document_add(p_actor text, p_org bigint, p_kind text,
    p_reference text, p_domain text, p_expires date, p_days integer)
RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	g organization;
	d document;
BEGIN
	g := op_need_organization(p_org);
	IF g.status = 'REVOKED' THEN
		PERFORM op_refuse('conflict',
		    format('organization %s is REVOKED', g.id));
	END IF;
	d := op_document_insert(p_actor, g.id, p_kind, 'PENDING', p_reference,
	    p_domain, op_expiry(p_expires, p_days));
	RETURN op_document_json(d);
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;

-- Validates, rejects or expires a document. A document leaving VALID
-- puts the organization's VALID external accounts back to PENDING when
-- it no longer has its required documents (as documents_expire() does).
CREATE FUNCTION op_document_set_status(p_actor text, p_id bigint,
    p_action text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	t status_transition;
	d document;
	v_pending bigint[] := '{}';
BEGIN
	t := op_transition('document', p_action);
	SELECT * INTO d FROM document WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM op_refuse('not_found', format('no document %s', p_id));
	END IF;
	PERFORM op_check_transition(t, format('document %s', p_id), d.status);
	IF t.to_status = 'VALID' AND d.expires_at <= now() THEN
		PERFORM op_refuse('conflict', format(
		    'cannot validate document %s: it expired at %s', p_id,
		    rfc3339(d.expires_at)));
	END IF;
	UPDATE document SET status = t.to_status, decided_at = now(),
	    decided_by = p_actor WHERE id = p_id AND status = d.status;
	PERFORM audit(p_actor, p_action, 'document', p_id::text,
	    jsonb_build_object('organization', d.organization_id,
	    'kind', d.kind, 'from', d.status, 'to', t.to_status));
	IF d.status = 'VALID' THEN
		v_pending := op_external_accounts_recheck(p_actor,
		    d.organization_id, format('document %s is %s', p_id,
		    t.to_status));
	END IF;
	RETURN json_build_object('object', 'document', 'id', p_id::text,
	    'action', p_action, 'from', d.status, 'status', t.to_status,
	    'external_accounts_pending', v_pending);
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;

CREATE FUNCTION op_document_list(p_org bigint) RETURNS json
LANGUAGE plpgsql STABLE AS $$
BEGIN
	PERFORM op_need_organization(p_org);
	RETURN (SELECT coalesce(json_agg(op_document_json(d) ORDER BY d.id),
	    '[]') FROM document d WHERE d.organization_id = p_org);
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;

-- --------------------------------------------------- external accounts

CREATE FUNCTION op_external_account_create(p_actor text, p_org bigint,
    p_email text, p_language text, p_expires date, p_days integer)
RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	g organization;
	x external_account;
BEGIN
	g := op_need_organization(p_org);
	IF g.status = 'REVOKED' THEN
		PERFORM op_refuse('conflict',
		    format('organization %s is REVOKED', g.id));
	END IF;
	x := op_external_account_insert(p_actor, g.id, p_email,
	    coalesce(p_language, 'en'), 'PENDING', op_expiry(p_expires, p_days));
	RETURN op_external_account_json(x);
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;

-- Activating or reactivating an external account needs its organization
-- VALID with its required documents, and the account not past its expiry.
CREATE FUNCTION op_external_account_set_status(p_actor text, p_id bigint,
    p_action text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	t status_transition;
	x external_account;
	v_org_status text;
	v_kind text;
BEGIN
	t := op_transition('external_account', p_action);
	SELECT * INTO x FROM external_account WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM op_refuse('not_found',
		    format('no external account %s', p_id));
	END IF;
	PERFORM op_check_transition(t, format('external account %s', p_id),
	    x.status);
	IF t.to_status = 'VALID' THEN
		SELECT status INTO v_org_status FROM organization
		    WHERE id = x.organization_id;
		IF v_org_status <> 'VALID' THEN
			PERFORM op_refuse('conflict', format('cannot %s external '
			    'account %s: organization %s is %s', p_action, p_id,
			    x.organization_id, v_org_status));
		END IF;
		FOREACH v_kind IN ARRAY ARRAY['ORGANIZATION_PROOF',
		    'REQUEST_FORM'] LOOP
			IF NOT EXISTS (SELECT 1 FROM document d
			    WHERE d.organization_id = x.organization_id
			    AND d.kind = v_kind AND d.status = 'VALID'
			    AND (d.expires_at IS NULL OR d.expires_at > now())) THEN
				PERFORM op_refuse('conflict', format('cannot %s '
				    'external account %s: organization %s has no '
				    'VALID %s document', p_action, p_id,
				    x.organization_id, v_kind));
			END IF;
		END LOOP;
		IF x.expires_at <= now() THEN
			PERFORM op_refuse('conflict', format('cannot %s external '
			    'account %s: it expired at %s', p_action, p_id,
			    rfc3339(x.expires_at)));
		END IF;
	END IF;
	UPDATE external_account SET status = t.to_status
	    WHERE id = p_id AND status = x.status;
	PERFORM audit(p_actor, p_action, 'external_account', p_id::text,
	    jsonb_build_object('from', x.status, 'to', t.to_status));
	RETURN op_status_json('external_account', p_id::text, t, x.status);
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;

CREATE FUNCTION op_external_account_list(p_org bigint) RETURNS json
LANGUAGE plpgsql STABLE AS $$
BEGIN
	IF p_org IS NOT NULL THEN
		PERFORM op_need_organization(p_org);
	END IF;
	RETURN (SELECT coalesce(json_agg(op_external_account_json(x)
	    ORDER BY x.id), '[]') FROM external_account x
	    WHERE p_org IS NULL OR x.organization_id = p_org);
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;

CREATE FUNCTION op_external_account_show(p_id bigint) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
	x external_account;
BEGIN
	x := op_need_external_account(p_id);
	RETURN json_build_object('id', x.id, 'organization', x.organization_id,
	    'organization_name', (SELECT name FROM organization
		WHERE id = x.organization_id),
	    'email', x.email, 'language', x.language, 'status', x.status,
	    'expires_at', rfc3339(x.expires_at),
	    'created_at', rfc3339(x.created_at),
	    'acme_accounts', (SELECT coalesce(json_agg(json_build_object(
		'kid', e.kid, 'status', e.status, 'profile', e.profile,
		'expires_at', rfc3339(e.expires_at),
		'bound_at', rfc3339(e.bound_at)) ORDER BY e.id), '[]')
		FROM acme_account e WHERE e.external_account_id = x.id));
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;

-- ------------------------------------------------------- ACME accounts

-- Creates a VALID ACME account (EAB credential p_kid, p_hmac_key, made by
-- acmectl) with its domain list (a JSON array of names, created PENDING
-- in the organization when new). Valid p_days (default 365); the key is
-- to be used within p_key_days (default 30, at most the validity).
CREATE FUNCTION op_acme_account_create(p_actor text, p_kid uuid,
    p_hmac_key text, p_external bigint, p_profile text, p_days integer,
    p_key_days integer, p_domains jsonb) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	e acme_account;
	v_name text;
	v_org bigint;
BEGIN
	e := op_acme_account_insert(p_actor, p_kid, p_hmac_key, p_external,
	    coalesce(p_profile, 'OV'), coalesce(p_days, 365),
	    coalesce(p_key_days, least(30, coalesce(p_days, 365))));
	SELECT organization_id INTO v_org FROM external_account
	    WHERE id = p_external;
	FOR v_name IN SELECT jsonb_array_elements_text(coalesce(p_domains,
	    '[]')) LOOP
		PERFORM op_account_domain_add(p_actor, e, v_org, v_name, false);
	END LOOP;
	RETURN json_build_object('kid', e.kid, 'hmac_key', p_hmac_key,
	    'status', e.status, 'profile', e.profile,
	    'external_account', e.external_account_id, 'organization', v_org,
	    'expires_at', rfc3339(e.expires_at),
	    'key_expires_at', rfc3339(e.key_expires_at),
	    'domains', (SELECT coalesce(array_agg(d.name ORDER BY d.name),
		'{}') FROM acme_account_domain ad
		JOIN domain d ON d.id = ad.domain_id
		WHERE ad.acme_account_id = e.id));
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;

CREATE FUNCTION op_acme_account_set_status(p_actor text, p_kid uuid,
    p_action text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	t status_transition;
	e acme_account;
BEGIN
	t := op_transition('acme_account', p_action);
	SELECT * INTO e FROM acme_account WHERE kid = p_kid FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM op_refuse('not_found', format('no ACME account %s', p_kid));
	END IF;
	PERFORM op_check_transition(t, format('ACME account %s', p_kid),
	    e.status);
	UPDATE acme_account SET status = t.to_status
	    WHERE id = e.id AND status = e.status;
	PERFORM audit(p_actor, p_action, 'acme_account', p_kid::text,
	    jsonb_build_object('from', e.status, 'to', t.to_status));
	RETURN op_status_json('acme_account', p_kid::text, t, e.status);
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;

-- Hands out a new HMAC key for an ACME account: unbound again, valid
-- p_days more (default 365), the key to be used within p_key_days (default
-- 30, at most the validity), status VALID; the RFC 8555 accounts bound to it are
-- deactivated. A SUSPENDED or REVOKED account is refused.
CREATE FUNCTION op_acme_account_regenerate_key(p_actor text, p_kid uuid,
    p_hmac_key text, p_days integer, p_key_days integer) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	e acme_account;
	v_days integer := coalesce(p_days, 365);
	v_key_days integer := coalesce(p_key_days, least(30, v_days));
	v_old text;
	v_accounts bigint[];
BEGIN
	SELECT * INTO e FROM acme_account WHERE kid = p_kid FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM op_refuse('not_found', format('no ACME account %s', p_kid));
	END IF;
	IF e.status IN ('SUSPENDED', 'REVOKED') THEN
		PERFORM op_refuse('conflict', format('cannot regenerate the key '
		    'of ACME account %s: it is %s', p_kid, e.status));
	END IF;
	IF v_days < 1 OR v_days > 3650 THEN
		PERFORM op_refuse('invalid', format(
		    '%s days: the account validity must be 1 to 3650 days',
		    v_days));
	END IF;
	IF v_key_days < 1 OR v_key_days > v_days THEN
		PERFORM op_refuse('invalid', format('%s key days: the key must '
		    'be used within 1 to %s days (the account''s validity)',
		    v_key_days, v_days));
	END IF;
	v_old := e.status;
	UPDATE acme_account SET hmac_key = p_hmac_key, bound_at = NULL,
	    status = 'VALID', expires_at = now() + make_interval(days => v_days),
	    key_expires_at = now() + make_interval(days => v_key_days)
	    WHERE id = e.id RETURNING * INTO e;
	WITH d AS (UPDATE account SET status = 'deactivated'
	    WHERE acme_account_id = e.id AND status = 'valid' RETURNING id)
	SELECT coalesce(array_agg(id ORDER BY id), '{}') INTO v_accounts
	    FROM d;
	PERFORM audit(p_actor, 'regenerate-key', 'acme_account', p_kid::text,
	    jsonb_build_object('from', v_old, 'to', 'VALID',
	    'expires_at', rfc3339(e.expires_at),
	    'key_expires_at', rfc3339(e.key_expires_at),
	    'deactivated_accounts', to_jsonb(v_accounts)));
	RETURN json_build_object('kid', e.kid, 'hmac_key', p_hmac_key,
	    'status', e.status, 'expires_at', rfc3339(e.expires_at),
	    'key_expires_at', rfc3339(e.key_expires_at),
	    'deactivated_accounts', v_accounts);
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;

CREATE FUNCTION op_acme_account_show(p_kid uuid) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
	e acme_account;
BEGIN
	e := op_need_acme_account(p_kid);
	RETURN json_build_object('kid', e.kid, 'status', e.status,
	    'profile', e.profile, 'external_account', e.external_account_id,
	    'organization', (SELECT organization_id
		FROM acme_account_organization WHERE acme_account_id = e.id),
	    'created_at', rfc3339(e.created_at),
	    'expires_at', rfc3339(e.expires_at),
	    'key_expires_at', rfc3339(e.key_expires_at),
	    'key_unused', e.hmac_key IS NOT NULL,
	    'bound_at', rfc3339(e.bound_at),
	    'problem', acme_account_problem(e.id),
	    'domains', (SELECT coalesce(json_agg(op_domain_json(d)
		ORDER BY d.name), '[]') FROM acme_account_domain ad
		JOIN domain d ON d.id = ad.domain_id
		WHERE ad.acme_account_id = e.id),
	    'accounts', (SELECT coalesce(json_agg(json_build_object(
		'id', a.id, 'status', a.status, 'thumbprint', a.thumbprint,
		'created_at', rfc3339(a.created_at)) ORDER BY a.id), '[]')
		FROM account a WHERE a.acme_account_id = e.id));
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;

CREATE FUNCTION op_acme_account_list(p_external bigint) RETURNS json
LANGUAGE plpgsql STABLE AS $$
BEGIN
	IF p_external IS NOT NULL THEN
		PERFORM op_need_external_account(p_external);
	END IF;
	RETURN (SELECT coalesce(json_agg(op_acme_account_json(e)
	    ORDER BY e.id), '[]') FROM acme_account e
	    WHERE p_external IS NULL OR e.external_account_id = p_external);
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;

-- ------------------------------------------------------------- domains

-- Adds a domain (of p_org, default the ACME account's organization) to
-- the domain list of an ACME account.
CREATE FUNCTION op_domain_add(p_actor text, p_kid uuid, p_name text,
    p_org bigint, p_validated boolean) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	e acme_account;
	v_org bigint;
BEGIN
	e := op_need_acme_account(p_kid);
	v_org := coalesce(p_org, (SELECT organization_id
	    FROM acme_account_organization WHERE acme_account_id = e.id));
	IF v_org IS NULL THEN
		PERFORM op_refuse('invalid', format('ACME account %s has no '
		    'organization: give --org', p_kid));
	END IF;
	RETURN op_account_domain_add(p_actor, e, v_org, p_name,
	    coalesce(p_validated, false));
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;

CREATE FUNCTION op_domain_set_status(p_actor text, p_org bigint,
    p_name text, p_action text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	t status_transition;
	d domain;
BEGIN
	t := op_transition('domain', p_action);
	PERFORM op_need_organization(p_org);
	SELECT * INTO d FROM domain WHERE organization_id = p_org
	    AND name = p_name FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM op_refuse('not_found', format(
		    'organization %s has no domain %s', p_org, p_name));
	END IF;
	PERFORM op_check_transition(t, format('domain %s', p_name), d.status);
	UPDATE domain SET status = t.to_status,
	    validated_at = CASE WHEN t.to_status = 'VALID' THEN now()
		ELSE validated_at END
	    WHERE id = d.id AND status = d.status;
	PERFORM audit(p_actor, p_action, 'domain', d.id::text,
	    jsonb_build_object('organization', p_org, 'name', p_name,
	    'from', d.status, 'to', t.to_status));
	RETURN json_build_object('object', 'domain', 'id', d.id::text,
	    'organization', p_org, 'name', p_name, 'action', p_action,
	    'from', d.status, 'status', t.to_status);
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;

-- Takes a name out of an ACME account's domain list (the organization's
-- domain row stays).
CREATE FUNCTION op_domain_remove(p_actor text, p_kid uuid, p_name text)
RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	e acme_account;
	v_domains bigint[];
BEGIN
	e := op_need_acme_account(p_kid);
	WITH r AS (DELETE FROM acme_account_domain ad USING domain d
	    WHERE ad.acme_account_id = e.id AND d.id = ad.domain_id
	    AND d.name = p_name RETURNING d.id)
	SELECT array_agg(id) INTO v_domains FROM r;
	IF v_domains IS NULL THEN
		PERFORM op_refuse('not_found', format(
		    '%s is not in the domain list of ACME account %s', p_name,
		    p_kid));
	END IF;
	PERFORM audit(p_actor, 'remove-domain', 'acme_account', p_kid::text,
	    jsonb_build_object('name', p_name, 'domains', to_jsonb(v_domains)));
	RETURN json_build_object('acme_account', e.kid, 'name', p_name,
	    'removed', true);
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;

-- The domain list of an ACME account (p_kid) or the domains of an
-- organization (p_org): exactly one of them.
CREATE FUNCTION op_domain_list(p_kid uuid, p_org bigint) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
	e acme_account;
BEGIN
	IF (p_kid IS NULL) = (p_org IS NULL) THEN
		PERFORM op_refuse('invalid',
		    'give either an ACME account or an organization');
	END IF;
	IF p_org IS NOT NULL THEN
		PERFORM op_need_organization(p_org);
		RETURN (SELECT coalesce(json_agg(op_domain_json(d)
		    ORDER BY d.name), '[]') FROM domain d
		    WHERE d.organization_id = p_org);
	END IF;
	e := op_need_acme_account(p_kid);
	RETURN (SELECT coalesce(json_agg(op_domain_json(d) ORDER BY d.name),
	    '[]') FROM acme_account_domain ad JOIN domain d ON d.id = ad.domain_id
	    WHERE ad.acme_account_id = e.id);
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;

-- -------------------------------------------------------------- credit

CREATE FUNCTION op_credit_add(p_actor text, p_org bigint, p_amount integer,
    p_reason text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	l credit_ledger;
BEGIN
	l := op_credit_insert(p_actor, p_org, p_amount, p_reason);
	RETURN json_build_object('organization', p_org, 'ledger', l.id,
	    'delta', l.delta, 'balance', l.balance_after, 'reason', l.reason);
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;

CREATE FUNCTION op_credit_ledger(p_org bigint) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
	g organization;
BEGIN
	g := op_need_organization(p_org);
	RETURN json_build_object('organization', g.id, 'name', g.name,
	    'balance', g.credit_balance,
	    'ledger_sum', (SELECT coalesce(sum(delta), 0) FROM credit_ledger
		WHERE organization_id = g.id),
	    'entries', (SELECT coalesce(json_agg(json_build_object(
		'id', l.id, 'at', rfc3339(l.created_at), 'delta', l.delta,
		'balance_after', l.balance_after, 'reason', l.reason,
		'order', l.order_id, 'actor', l.actor) ORDER BY l.id), '[]')
		FROM credit_ledger l WHERE l.organization_id = g.id));
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;

-- -------------------------------------------------------- certificates

-- Certificates, all or of one organization or one ACME account.
CREATE FUNCTION op_certificate_list(p_org bigint, p_kid uuid) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_acme bigint;
BEGIN
	IF p_org IS NOT NULL THEN
		PERFORM op_need_organization(p_org);
	END IF;
	IF p_kid IS NOT NULL THEN
		v_acme := (op_need_acme_account(p_kid)).id;
	END IF;
	RETURN (SELECT coalesce(json_agg(json_build_object('id', c.id,
	    'serial', c.serial, 'names', c.names,
	    'not_after', rfc3339(c.not_after),
	    'revoked', c.revoked_at IS NOT NULL, 'acme_account', e.kid,
	    'organization', ao.organization_id) ORDER BY c.created_at, c.id),
	    '[]')
	    FROM certificate c JOIN account a ON a.id = c.account_id
	    JOIN acme_account e ON e.id = a.acme_account_id
	    JOIN acme_account_organization ao ON ao.acme_account_id = e.id
	    WHERE (p_org IS NULL OR ao.organization_id = p_org)
	    AND (v_acme IS NULL OR e.id = v_acme));
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;

-- One certificate by id or by serial (hex, any case, colons allowed).
CREATE FUNCTION op_certificate_show(p_ref text) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
	c certificate;
BEGIN
	SELECT * INTO c FROM certificate WHERE id = p_ref
	    OR serial = lower(replace(p_ref, ':', '')) LIMIT 1;
	IF NOT FOUND THEN
		PERFORM op_refuse('not_found',
		    format('no certificate with id or serial %s', p_ref));
	END IF;
	RETURN op_certificate_json(c);
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;

-- ------------------------------------------------------------ demo/test

-- The one-shot credential of demos and tests: a VALID organization named
-- p_org (reused by name; created with its two required documents VALID and
-- p_credit credits), a VALID external account demo@<first domain>, the
-- domains VALID in the organization and a VALID ACME account listing them.
CREATE FUNCTION op_eab_create(p_actor text, p_kid uuid, p_hmac_key text,
    p_org text, p_country text, p_locality text, p_state text,
    p_domains jsonb, p_credit integer, p_profile text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	g organization;
	e acme_account;
	v_xa bigint;
	v_email text;
	v_kind text;
	v_name text;
BEGIN
	IF p_credit < 0 THEN
		PERFORM op_refuse('invalid', 'the credit must not be negative');
	END IF;
	-- two first credentials of one new organization create it once
	PERFORM pg_advisory_xact_lock(hashtext('organization ' || p_org));
	SELECT * INTO g FROM organization WHERE name = p_org
	    ORDER BY id LIMIT 1 FOR UPDATE;
	IF NOT FOUND THEN
		g := op_organization_insert(p_actor, p_org, p_country,
		    p_locality, p_state, 'VALID');
		IF p_credit > 0 THEN
			PERFORM op_credit_insert(p_actor, g.id, p_credit,
			    'eab create');
		END IF;
	ELSIF g.status <> 'VALID' THEN
		PERFORM op_refuse('conflict',
		    format('organization %s is %s', g.id, g.status));
	END IF;
	FOREACH v_kind IN ARRAY ARRAY['ORGANIZATION_PROOF', 'REQUEST_FORM']
	LOOP
		IF NOT EXISTS (SELECT 1 FROM document d
		    WHERE d.organization_id = g.id AND d.kind = v_kind
		    AND d.status = 'VALID'
		    AND (d.expires_at IS NULL OR d.expires_at > now())) THEN
			PERFORM op_document_insert(p_actor, g.id, v_kind, 'VALID',
			    'eab create', NULL, NULL);
		END IF;
	END LOOP;
	v_email := 'demo@' || coalesce(regexp_replace(p_domains->>0, '^\*\.',
	    ''), 'example.org');
	SELECT id INTO v_xa FROM external_account
	    WHERE organization_id = g.id AND email = v_email
	    AND status = 'VALID' AND (expires_at IS NULL OR expires_at > now())
	    ORDER BY id LIMIT 1;
	IF NOT FOUND THEN
		v_xa := (op_external_account_insert(p_actor, g.id, v_email, 'en',
		    'VALID', NULL)).id;
	END IF;
	e := op_acme_account_insert(p_actor, p_kid, p_hmac_key, v_xa,
	    coalesce(p_profile, 'OV'), 365, 30);
	FOR v_name IN SELECT jsonb_array_elements_text(coalesce(p_domains,
	    '[]')) LOOP
		PERFORM op_account_domain_add(p_actor, e, g.id, v_name, true);
	END LOOP;
	RETURN json_build_object('kid', e.kid, 'hmac_key', p_hmac_key,
	    'organization', g.name);
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;
