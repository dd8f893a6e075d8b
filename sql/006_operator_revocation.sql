-- 006_operator_revocation: revocation by operators. Revoking an ACME
-- account revokes every unexpired certificate issued through it (reason 9,
-- privilegeWithdrawn); revoking an external account does so for all its ACME
-- accounts. Operators also revoke one certificate, and ask for renewal
-- (RFC 9773 window moved to now).

CREATE OR REPLACE FUNCTION op_acme_account_set_status(p_actor text, p_kid uuid,
    p_action text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	t status_transition;
	e acme_account;
	n integer := 0;
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
	IF t.to_status = 'REVOKED' THEN
		n := acme_account_revoke_certificates(e.id, 9, p_actor);
	END IF;
	RETURN (op_status_json('acme_account', p_kid::text, t, e.status)::jsonb
	    || jsonb_build_object('certificates_revoked', n))::json;
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;

CREATE OR REPLACE FUNCTION op_external_account_set_status(p_actor text, p_id bigint,
    p_action text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	t status_transition;
	x external_account;
	v_org_status text;
	v_kind text;
	n integer := 0;
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
	IF t.to_status = 'REVOKED' THEN
		SELECT coalesce(sum(acme_account_revoke_certificates(e.id, 9,
		    p_actor)), 0) INTO n
		    FROM acme_account e WHERE e.external_account_id = p_id;
	END IF;
	RETURN (op_status_json('external_account', p_id::text, t,
	    x.status)::jsonb || jsonb_build_object('certificates_revoked',
	    n))::json;
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;

-- Finds a certificate by id or serial (hex, any case, colons allowed).
CREATE FUNCTION op_need_certificate(p_ref text) RETURNS certificate
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
	RETURN c;
END $$;

-- Revokes one certificate with an RFC 5280 reason an operator may give.
CREATE FUNCTION op_certificate_revoke(p_actor text, p_ref text,
    p_reason integer) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	c certificate;
BEGIN
	IF p_reason NOT IN (0, 1, 3, 4, 5, 9) THEN
		PERFORM op_refuse('invalid', format('reason %s is not one of 0 '
		    '(unspecified), 1 (keyCompromise), 3 (affiliationChanged), '
		    '4 (superseded), 5 (cessationOfOperation), 9 '
		    '(privilegeWithdrawn)', p_reason));
	END IF;
	c := op_need_certificate(p_ref);
	IF NOT certificate_revoke(c.id, p_reason, p_actor) THEN
		PERFORM op_refuse('conflict', format('certificate %s is already '
		    'revoked', c.serial));
	END IF;
	SELECT * INTO c FROM certificate WHERE id = c.id;
	RETURN op_certificate_json(c);
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;

-- Asks for the renewal of a certificate now: its renewal information
-- window starts at once.
CREATE FUNCTION op_certificate_renew_now(p_actor text, p_ref text)
RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	c certificate;
BEGIN
	c := op_need_certificate(p_ref);
	UPDATE certificate SET renew_after = now() WHERE id = c.id
	    RETURNING * INTO c;
	PERFORM audit(p_actor, 'renew-now', 'certificate', c.id,
	    jsonb_build_object('serial', c.serial));
	RETURN op_certificate_json(c);
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;
