-- 012_office: the operators' back office of acme-web (web/office*.c,
-- SQL calls in common/office.c): the queue of what awaits review,
-- searches, one JSON document per page with the actions the object's
-- status allows (from status_transition), the preview of what a status
-- change cascades to, decisions on documents with a reason, and the audit
-- log page by page, newest first.
--
-- Every change still goes through the op_* functions of 003..006 (compare
-- and set, audit_log rows in the same transaction, written with the actor
-- acme-web gives: "operator:NAME"); the office_* functions that change
-- something only wrap one op_* call with what the office adds to it.
-- Refusals are the op_* ones: {"refused": message, "kind": "invalid" |
-- "not_found" | "conflict"}.

-- ---------------------------------------------------------------- helpers

-- The actions an operator may take on an object of p_type in p_status, in
-- the order the office shows them (a JSON array of action names).
CREATE FUNCTION office_actions(p_type text, p_status text) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT coalesce(json_agg(t.action ORDER BY array_position(
	    ARRAY['validate', 'activate', 'reactivate', 'reinstate', 'suspend',
	    'expire', 'reject', 'deactivate', 'revoke'], t.action), t.action),
	    '[]')
	FROM status_transition t
	WHERE t.object_type = p_type AND p_status = ANY (t.from_status)
$$;

-- A LIKE pattern matching p_q anywhere (its %, _ and \ taken literally),
-- or NULL when p_q is NULL or blank.
CREATE FUNCTION office_pattern(p_q text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN nullif(btrim(p_q), '') IS NOT NULL THEN
	    '%' || replace(replace(replace(btrim(p_q), '\', '\\'), '%', '\%'),
	    '_', '\_') || '%' END
$$;

-- The unexpired, unrevoked certificates issued through an ACME account:
-- exactly those acme_account_revoke_certificates() (004) revokes.
CREATE FUNCTION office_live_certificates(p_acme bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
	SELECT count(*) FROM certificate c JOIN account a ON a.id = c.account_id
	WHERE a.acme_account_id = p_acme AND c.revoked_at IS NULL
	AND c.not_after > now()
$$;

-- A certificate as the office lists it.
CREATE FUNCTION office_certificate_row(c certificate) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', c.id, 'serial', c.serial,
	    'names', to_jsonb(c.names), 'not_before', rfc3339(c.not_before),
	    'not_after', rfc3339(c.not_after),
	    'expired', c.not_after <= now(),
	    'revoked', c.revoked_at IS NOT NULL,
	    'revoked_at', rfc3339(c.revoked_at),
	    'acme_account', e.kid, 'organization', g.id,
	    'organization_name', g.name)
	FROM account a JOIN acme_account e ON e.id = a.acme_account_id
	LEFT JOIN external_account x ON x.id = e.external_account_id
	LEFT JOIN organization g ON g.id = x.organization_id
	WHERE a.id = c.account_id
$$;

-- A document as the office shows it: op_document_json, the reason of its
-- decision, its file's metadata (null without a file) and its actions.
CREATE FUNCTION office_document_row(d document) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT op_document_json(d)::jsonb || jsonb_build_object(
	    'decision_reason', d.decision_reason,
	    'file', (SELECT jsonb_build_object('filename', f.filename,
		'content_type', f.content_type, 'size', f.size,
		'sha256', f.sha256, 'uploaded_at', rfc3339(f.uploaded_at),
		'uploaded_by', f.uploaded_by)
		FROM document_file f WHERE f.document_id = d.id),
	    'actions', office_actions('document', d.status))
$$;

-- ------------------------------------------------------------------ queue

-- What awaits an operator, oldest first, at most p_limit of each kind
-- with the whole count: PENDING organizations, PENDING documents (with
-- their organization), PENDING external accounts whose organization is
-- VALID (those an operator can activate now), PENDING domains.
CREATE FUNCTION office_queue(p_limit integer) RETURNS json
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN json_build_object(
	    'organizations', (SELECT coalesce(json_agg(json_build_object(
		'id', g.id, 'name', g.name, 'country', g.country,
		'created_at', rfc3339(g.created_at),
		'documents_pending', (SELECT count(*) FROM document d
		    WHERE d.organization_id = g.id AND d.status = 'PENDING'))
		ORDER BY g.created_at, g.id), '[]')
		FROM (SELECT * FROM organization WHERE status = 'PENDING'
		    ORDER BY created_at, id LIMIT p_limit) g),
	    'organizations_count', (SELECT count(*) FROM organization
		WHERE status = 'PENDING'),
	    'documents', (SELECT coalesce(json_agg(json_build_object(
		'id', d.id, 'kind', d.kind, 'reference', d.reference,
		'domain', d.domain, 'created_at', rfc3339(d.created_at),
		'organization', g.id, 'organization_name', g.name,
		'organization_status', g.status,
		'has_file', EXISTS (SELECT 1 FROM document_file f
		    WHERE f.document_id = d.id))
		ORDER BY d.created_at, d.id), '[]')
		FROM (SELECT * FROM document WHERE status = 'PENDING'
		    ORDER BY created_at, id LIMIT p_limit) d
		JOIN organization g ON g.id = d.organization_id),
	    'documents_count', (SELECT count(*) FROM document
		WHERE status = 'PENDING'),
	    'external_accounts', (SELECT coalesce(json_agg(json_build_object(
		'id', x.id, 'email', x.email,
		'created_at', rfc3339(x.created_at),
		'organization', x.organization_id,
		'organization_name', x.name) ORDER BY x.created_at, x.id), '[]')
		FROM (SELECT x.*, g.name FROM external_account x
		    JOIN organization g ON g.id = x.organization_id
		    WHERE x.status = 'PENDING' AND g.status = 'VALID'
		    ORDER BY x.created_at, x.id LIMIT p_limit) x),
	    'external_accounts_count', (SELECT count(*) FROM external_account x
		JOIN organization g ON g.id = x.organization_id
		WHERE x.status = 'PENDING' AND g.status = 'VALID'),
	    'domains', (SELECT coalesce(json_agg(json_build_object(
		'id', d.id, 'name', d.name, 'created_at', rfc3339(d.created_at),
		'organization', d.organization_id,
		'organization_name', d.org_name) ORDER BY d.created_at, d.id),
		'[]')
		FROM (SELECT d.*, g.name AS org_name FROM domain d
		    JOIN organization g ON g.id = d.organization_id
		    WHERE d.status = 'PENDING'
		    ORDER BY d.created_at, d.id LIMIT p_limit) d),
	    'domains_count', (SELECT count(*) FROM domain
		WHERE status = 'PENDING'));
END $$;

-- ---------------------------------------------------------- organizations

-- Organizations whose name or the e-mail address of one of whose external
-- accounts holds p_q (any case), or whose id is p_q, newest first, at most
-- p_limit (all of them, newest first, when p_q is blank); "more" tells
-- whether others matched.
CREATE FUNCTION office_organization_search(p_q text, p_limit integer)
RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_pat text := office_pattern(p_q);
	v_id bigint;
	v json;
	n integer;
BEGIN
	IF btrim(p_q) ~ '^[0-9]{1,18}$' THEN
		v_id := btrim(p_q)::bigint;
	END IF;
	SELECT coalesce(json_agg(json_build_object('id', g.id,
	    'name', g.name, 'country', g.country, 'status', g.status,
	    'credit_balance', g.credit_balance,
	    'created_at', rfc3339(g.created_at)) ORDER BY g.id DESC), '[]'),
	    count(*)
	    INTO v, n
	    FROM (SELECT * FROM organization o
		WHERE v_pat IS NULL OR o.id = v_id
		OR o.name ILIKE v_pat ESCAPE '\'
		OR EXISTS (SELECT 1 FROM external_account x
		    WHERE x.organization_id = o.id
		    AND x.email ILIKE v_pat ESCAPE '\')
		ORDER BY o.id DESC LIMIT p_limit + 1) g;
	IF n > p_limit THEN
		SELECT json_agg(e ORDER BY i) INTO v
		    FROM json_array_elements(v) WITH ORDINALITY AS a(e, i)
		    WHERE i <= p_limit;
	END IF;
	RETURN json_build_object('query', p_q, 'results', v,
	    'more', n > p_limit);
END $$;

-- Everything about one organization: its fields and actions, documents,
-- domains, external accounts, ACME accounts (each with its actions), the
-- newest p_limit ledger rows and certificates with their counts.
CREATE FUNCTION office_organization_show(p_id bigint, p_limit integer)
RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
	g organization;
BEGIN
	g := op_need_organization(p_id);
	RETURN json_build_object('id', g.id, 'name', g.name,
	    'country', g.country, 'locality', g.locality, 'state', g.state,
	    'status', g.status, 'credit_balance', g.credit_balance,
	    'created_at', rfc3339(g.created_at),
	    'actions', office_actions('organization', g.status),
	    'documents', (SELECT coalesce(json_agg(office_document_row(d)
		ORDER BY d.id DESC), '[]') FROM document d
		WHERE d.organization_id = g.id),
	    'domains', (SELECT coalesce(json_agg(op_domain_json(d)::jsonb ||
		jsonb_build_object('created_at', rfc3339(d.created_at),
		'actions', office_actions('domain', d.status))
		ORDER BY d.name), '[]') FROM domain d
		WHERE d.organization_id = g.id),
	    'external_accounts', (SELECT coalesce(json_agg(
		op_external_account_json(x)::jsonb || jsonb_build_object(
		'actions', office_actions('external_account', x.status))
		ORDER BY x.id), '[]')
		FROM external_account x WHERE x.organization_id = g.id),
	    'acme_accounts', (SELECT coalesce(json_agg(
		op_acme_account_json(e)::jsonb || jsonb_build_object(
		'live_certificates', office_live_certificates(e.id),
		'actions', office_actions('acme_account', e.status))
		ORDER BY e.id), '[]')
		FROM acme_account e JOIN external_account x
		ON x.id = e.external_account_id
		WHERE x.organization_id = g.id),
	    'ledger', (SELECT coalesce(json_agg(json_build_object(
		'id', l.id, 'at', rfc3339(l.created_at), 'delta', l.delta,
		'balance_after', l.balance_after, 'reason', l.reason,
		'order', l.order_id, 'actor', l.actor) ORDER BY l.id DESC), '[]')
		FROM (SELECT * FROM credit_ledger WHERE organization_id = g.id
		    ORDER BY id DESC LIMIT p_limit) l),
	    'ledger_count', (SELECT count(*) FROM credit_ledger
		WHERE organization_id = g.id),
	    'certificates', (SELECT coalesce(json_agg(office_certificate_row(c)
		ORDER BY c.created_at DESC, c.id), '[]')
		FROM (SELECT c.* FROM certificate c
		    JOIN account a ON a.id = c.account_id
		    JOIN acme_account e ON e.id = a.acme_account_id
		    JOIN external_account x ON x.id = e.external_account_id
		    WHERE x.organization_id = g.id
		    ORDER BY c.created_at DESC, c.id LIMIT p_limit) c),
	    'certificates_count', (SELECT count(*) FROM certificate c
		JOIN account a ON a.id = c.account_id
		JOIN acme_account e ON e.id = a.acme_account_id
		JOIN external_account x ON x.id = e.external_account_id
		WHERE x.organization_id = g.id));
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;

-- ---------------------------------------------------------------- domains

-- Validates or revokes a domain named by its id (op_domain_set_status
-- names it by organization and name).
CREATE FUNCTION office_domain_set_status(p_actor text, p_id bigint,
    p_action text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	d domain;
BEGIN
	SELECT * INTO d FROM domain WHERE id = p_id;
	IF NOT FOUND THEN
		PERFORM op_refuse('not_found', format('no domain %s', p_id));
	END IF;
	RETURN op_domain_set_status(p_actor, d.organization_id, d.name,
	    p_action);
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;

-- -------------------------------------------------------------- documents

-- One document with its organization, decision reason, file metadata
-- and actions.
CREATE FUNCTION office_document_show(p_id bigint) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
	d document;
BEGIN
	SELECT * INTO d FROM document WHERE id = p_id;
	IF NOT FOUND THEN
		PERFORM op_refuse('not_found', format('no document %s', p_id));
	END IF;
	RETURN (office_document_row(d) || (SELECT jsonb_build_object(
	    'organization_name', g.name, 'organization_status', g.status)
	    FROM organization g WHERE g.id = d.organization_id))::json;
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;

-- The stored file of a document (no row: none).
CREATE FUNCTION office_document_file(p_id bigint)
RETURNS TABLE (filename text, content_type text, content bytea)
LANGUAGE sql STABLE AS $$
	SELECT f.filename, f.content_type, f.content FROM document_file f
	WHERE f.document_id = p_id
$$;

-- Validates or rejects a document (op_document_set_status); a rejection
-- needs a reason (1 to 1000 characters), kept in document.decision_reason
-- for the customer and written to the audit log; a validation clears it.
-- The result is op_document_set_status's with the reason and the
-- organization.
CREATE FUNCTION office_document_decide(p_actor text, p_id bigint,
    p_action text, p_reason text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	v_reason text := nullif(btrim(p_reason), '');
	v json;
	v_org bigint;
BEGIN
	IF p_action IS NULL OR p_action NOT IN ('validate', 'reject') THEN
		PERFORM op_refuse('invalid', format(
		    '%s is not a decision on a document (validate, reject)',
		    p_action));
	END IF;
	IF p_action = 'reject' AND v_reason IS NULL THEN
		PERFORM op_refuse('invalid',
		    'a rejection needs a reason, which the customer will read');
	END IF;
	IF length(v_reason) > 1000 THEN
		PERFORM op_refuse('invalid',
		    'the reason has at most 1000 characters');
	END IF;
	v := op_document_set_status(p_actor, p_id, p_action);
	IF v->>'refused' IS NOT NULL THEN
		RETURN v;
	END IF;
	UPDATE document SET decision_reason = CASE WHEN p_action = 'reject'
	    THEN v_reason END
	    WHERE id = p_id RETURNING organization_id INTO v_org;
	IF p_action = 'reject' THEN
		PERFORM audit(p_actor, 'reason', 'document', p_id::text,
		    jsonb_build_object('reason', v_reason));
	END IF;
	RETURN (v::jsonb || jsonb_build_object('reason', v_reason,
	    'organization', v_org))::json;
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;

-- ------------------------------------------------------------ accounts

-- One external account: its fields and actions, its organization, whether
-- its owner set a password and confirmed the address, and its ACME
-- accounts (each with its unexpired certificates and actions).
CREATE FUNCTION office_external_account_show(p_id bigint) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
	x external_account;
	v json;
BEGIN
	x := op_need_external_account(p_id);
	SELECT (op_external_account_json(x)::jsonb || jsonb_build_object(
	    'organization_name', g.name, 'organization_status', g.status,
	    'has_password', x.password_hash IS NOT NULL,
	    'email_confirmed_at', rfc3339(x.email_confirmed_at),
	    'actions', office_actions('external_account', x.status),
	    'live_certificates', (SELECT coalesce(sum(
		office_live_certificates(e.id)), 0) FROM acme_account e
		WHERE e.external_account_id = x.id),
	    'acme_accounts', (SELECT coalesce(jsonb_agg(jsonb_build_object(
		'kid', e.kid, 'status', e.status, 'profile', e.profile,
		'expires_at', rfc3339(e.expires_at),
		'bound_at', rfc3339(e.bound_at),
		'live_certificates', office_live_certificates(e.id),
		'actions', office_actions('acme_account', e.status))
		ORDER BY e.id), '[]')
		FROM acme_account e WHERE e.external_account_id = x.id)))::json
	    INTO v FROM organization g WHERE g.id = x.organization_id;
	RETURN v;
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;

-- One ACME account: op_acme_account_show, its actions, its external
-- account and organization, and its newest p_limit certificates.
CREATE FUNCTION office_acme_account_show(p_kid uuid, p_limit integer)
RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
	e acme_account;
	v json;
BEGIN
	e := op_need_acme_account(p_kid);
	SELECT (op_acme_account_show(p_kid)::jsonb || jsonb_build_object(
	    'actions', office_actions('acme_account', e.status),
	    'external_account_email', x.email,
	    'external_account_status', x.status,
	    'organization_name', g.name, 'organization_status', g.status,
	    'live_certificates', office_live_certificates(e.id),
	    'certificates', (SELECT coalesce(jsonb_agg(
		office_certificate_row(c) ORDER BY c.created_at DESC, c.id),
		'[]')
		FROM (SELECT c.* FROM certificate c
		    JOIN account a ON a.id = c.account_id
		    WHERE a.acme_account_id = e.id
		    ORDER BY c.created_at DESC, c.id LIMIT p_limit) c),
	    'certificates_count', (SELECT count(*) FROM certificate c
		JOIN account a ON a.id = c.account_id
		WHERE a.acme_account_id = e.id)))::json
	    INTO v FROM acme_account_organization ao
	    LEFT JOIN external_account x ON x.id = ao.external_account_id
	    LEFT JOIN organization g ON g.id = ao.organization_id
	    WHERE ao.acme_account_id = e.id;
	RETURN v;
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;

-- ------------------------------------------------------------ preview

-- What action p_action on an organization, external account or ACME
-- account (p_type, p_id: its id or kid) would do now, without doing it:
-- the status it goes from and to, the certificates it revokes and the
-- ACME accounts they were issued through (counted exactly as the
-- revocation cascade of 006 revokes them: unexpired and unrevoked), and
-- the ACME accounts that can no longer order (still VALID, under an
-- object leaving VALID). Refuses what the op_* function would refuse for
-- the action or the status.
CREATE FUNCTION office_preview(p_type text, p_id text, p_action text)
RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
	t status_transition;
	v_from text;
	v_name text;
	v_acme bigint[];
	v_certs bigint := 0;
	v_certs_accounts bigint := 0;
BEGIN
	IF p_type NOT IN ('organization', 'external_account',
	    'acme_account') THEN
		PERFORM op_refuse('invalid',
		    format('no preview for %s', p_type));
	END IF;
	t := op_transition(p_type, p_action);
	IF p_type = 'organization' THEN
		IF p_id !~ '^[0-9]{1,18}$' THEN
			PERFORM op_refuse('not_found',
			    format('no organization %s', p_id));
		END IF;
		SELECT g.status, g.name INTO v_from, v_name
		    FROM op_need_organization(p_id::bigint) g;
		SELECT coalesce(array_agg(e.id), '{}') INTO v_acme
		    FROM acme_account e JOIN external_account x
		    ON x.id = e.external_account_id
		    WHERE x.organization_id = p_id::bigint;
		PERFORM op_check_transition(t, format('organization %s', p_id),
		    v_from);
	ELSIF p_type = 'external_account' THEN
		IF p_id !~ '^[0-9]{1,18}$' THEN
			PERFORM op_refuse('not_found',
			    format('no external account %s', p_id));
		END IF;
		SELECT x.status, x.email INTO v_from, v_name
		    FROM op_need_external_account(p_id::bigint) x;
		SELECT coalesce(array_agg(e.id), '{}') INTO v_acme
		    FROM acme_account e
		    WHERE e.external_account_id = p_id::bigint;
		PERFORM op_check_transition(t,
		    format('external account %s', p_id), v_from);
	ELSE
		IF p_id !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
		THEN
			PERFORM op_refuse('not_found',
			    format('no ACME account %s', p_id));
		END IF;
		SELECT e.status, ARRAY[e.id] INTO v_from, v_acme
		    FROM op_need_acme_account(p_id::uuid) e;
		PERFORM op_check_transition(t, format('ACME account %s', p_id),
		    v_from);
	END IF;
	-- only an ACME or external account's revocation revokes certificates
	IF t.to_status = 'REVOKED' AND p_type <> 'organization' THEN
		SELECT count(*), count(DISTINCT a.acme_account_id)
		    INTO v_certs, v_certs_accounts
		    FROM certificate c JOIN account a ON a.id = c.account_id
		    WHERE a.acme_account_id = ANY (v_acme)
		    AND c.revoked_at IS NULL AND c.not_after > now();
	END IF;
	RETURN json_build_object('object', p_type, 'id', p_id,
	    'name', v_name, 'action', p_action, 'from', v_from,
	    'status', t.to_status,
	    'certificates_revoked', v_certs,
	    'certificates_acme_accounts', v_certs_accounts,
	    'acme_accounts', cardinality(v_acme),
	    'acme_accounts_blocked', CASE WHEN v_from = 'VALID'
		AND t.to_status <> 'VALID' THEN (SELECT count(*)
		FROM acme_account e WHERE e.id = ANY (v_acme)
		AND e.status = 'VALID') ELSE 0 END,
	    'live_certificates', (SELECT count(*) FROM certificate c
		JOIN account a ON a.id = c.account_id
		WHERE a.acme_account_id = ANY (v_acme)
		AND c.revoked_at IS NULL AND c.not_after > now()));
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;

-- ----------------------------------------------------------- certificates

-- Certificates of any organization whose id is p_q, whose serial is or
-- starts with p_q (hex, any case, colons allowed) or one of whose names
-- holds p_q; newest first, at most p_limit (the newest when p_q is
-- blank); "more" tells whether others matched.
CREATE FUNCTION office_certificate_search(p_q text, p_limit integer)
RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_q text := lower(btrim(coalesce(p_q, '')));
	v_serial text := lower(replace(btrim(coalesce(p_q, '')), ':', ''));
	v_pat text := office_pattern(p_q);
	v json;
	n integer;
BEGIN
	IF v_serial !~ '^[0-9a-f]{4,}$' THEN
		v_serial := NULL;
	END IF;
	SELECT coalesce(json_agg(office_certificate_row(c)
	    ORDER BY c.created_at DESC, c.id), '[]'), count(*)
	    INTO v, n
	    FROM (SELECT * FROM certificate c
		WHERE v_pat IS NULL OR c.id = btrim(p_q)
		OR c.serial LIKE v_serial || '%'
		OR EXISTS (SELECT 1 FROM unnest(c.names) AS u(name)
		    WHERE u.name ILIKE v_pat ESCAPE '\')
		ORDER BY c.created_at DESC, c.id LIMIT p_limit + 1) c;
	IF n > p_limit THEN
		SELECT json_agg(e ORDER BY i) INTO v
		    FROM json_array_elements(v) WITH ORDINALITY AS a(e, i)
		    WHERE i <= p_limit;
	END IF;
	RETURN json_build_object('query', v_q, 'results', v,
	    'more', n > p_limit);
END $$;

-- One certificate (by id or serial) with its organization, external
-- account, revocation and renewal, and its PEM chain.
CREATE FUNCTION office_certificate_show(p_ref text) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
	c certificate;
	v json;
BEGIN
	c := op_need_certificate(p_ref);
	SELECT (op_certificate_json(c)::jsonb || jsonb_build_object(
	    'organization_name', g.name,
	    'external_account', x.id, 'external_account_email', x.email,
	    'expired', c.not_after <= now(),
	    'revoked_by', c.revoked_by,
	    'renew_after', rfc3339(c.renew_after),
	    'pem_chain', c.pem_chain))::json
	    INTO v FROM account a JOIN acme_account e ON e.id = a.acme_account_id
	    LEFT JOIN external_account x ON x.id = e.external_account_id
	    LEFT JOIN organization g ON g.id = x.organization_id
	    WHERE a.id = c.account_id;
	RETURN v;
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;

-- -------------------------------------------------------------- audit log

-- One page of the audit log, newest first: at most p_limit rows older
-- than row p_before (NULL: the newest), those whose actor, action, object
-- type or object id holds p_q (any case) when p_q is not blank.
-- "next_before" is the p_before of the next page, null on the last one.
CREATE FUNCTION office_audit_page(p_q text, p_before bigint,
    p_limit integer) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_pat text := office_pattern(p_q);
	v json;
	n integer;
	v_last bigint;
BEGIN
	SELECT coalesce(json_agg(json_build_object('id', l.id,
	    'at', rfc3339(l.at), 'actor', l.actor, 'action', l.action,
	    'object_type', l.object_type, 'object_id', l.object_id,
	    'detail', l.detail) ORDER BY l.id DESC), '[]'), count(*)
	    INTO v, n
	    FROM (SELECT * FROM audit_log a
		WHERE (p_before IS NULL OR a.id < p_before)
		AND (v_pat IS NULL OR a.actor ILIKE v_pat ESCAPE '\'
		    OR a.action ILIKE v_pat ESCAPE '\'
		    OR a.object_type ILIKE v_pat ESCAPE '\'
		    OR a.object_id ILIKE v_pat ESCAPE '\'
		    OR a.object_type || ' ' || coalesce(a.object_id, '')
			ILIKE v_pat ESCAPE '\')
		ORDER BY a.id DESC LIMIT p_limit + 1) l;
	IF n > p_limit THEN
		SELECT json_agg(e ORDER BY i), min((e->>'id')::bigint)
		    INTO v, v_last
		    FROM json_array_elements(v) WITH ORDINALITY AS a(e, i)
		    WHERE i <= p_limit;
	END IF;
	RETURN json_build_object('query', nullif(btrim(p_q), ''),
	    'before', p_before, 'entries', v, 'next_before', v_last);
END $$;

COMMENT ON FUNCTION office_actions(text, text) IS
    'The status_transition actions an operator may take on an object of '
    'this type in this status, in the order the back office shows them.';
COMMENT ON FUNCTION office_live_certificates(bigint) IS
    'Unexpired, unrevoked certificates of an ACME account (by id): what '
    'revoking it revokes.';
COMMENT ON FUNCTION office_queue(integer) IS
    'What awaits review in the back office, oldest first, with counts.';
COMMENT ON FUNCTION office_organization_search(text, integer) IS
    'Organizations by id, name or a customer''s e-mail (any case), newest '
    'first.';
COMMENT ON FUNCTION office_organization_show(bigint, integer) IS
    'Everything the back office shows about an organization.';
COMMENT ON FUNCTION office_domain_set_status(text, bigint, text) IS
    'op_domain_set_status for a domain named by its id.';
COMMENT ON FUNCTION office_document_show(bigint) IS
    'A document with its file''s metadata and its actions.';
COMMENT ON FUNCTION office_document_file(bigint) IS
    'The stored file of a document (back office; any organization).';
COMMENT ON FUNCTION office_document_decide(text, bigint, text, text) IS
    'Validates or rejects (with a required reason, kept in '
    'document.decision_reason) a document; audited.';
COMMENT ON FUNCTION office_external_account_show(bigint) IS
    'An external account with its ACME accounts and actions.';
COMMENT ON FUNCTION office_acme_account_show(uuid, integer) IS
    'An ACME account with its actions and newest certificates.';
COMMENT ON FUNCTION office_preview(text, text, text) IS
    'What a status change would do, without doing it: statuses, '
    'certificates revoked in cascade (as 006 revokes them), ACME accounts '
    'that can no longer order.';
COMMENT ON FUNCTION office_certificate_search(text, integer) IS
    'Certificates of any organization by id, serial (prefix) or name.';
COMMENT ON FUNCTION office_certificate_show(text) IS
    'A certificate by id or serial with its owners and PEM chain.';
COMMENT ON FUNCTION office_audit_page(text, bigint, integer) IS
    'A page of the audit log, newest first, filtered by a text; keyset '
    'pagination on the id.';
