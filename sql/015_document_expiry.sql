-- 015_document_expiry: an operator who validates a document in the back
-- office gives the date until which it is valid. documents_expire() (002)
-- and the "Expiring documents" digest (007) work from document.expires_at,
-- which acmectl's `document add --expires DATE | --days N` sets; a
-- document uploaded through the portal had none, and stayed VALID for
-- ever once validated.
--
-- office_document_decide (012) takes the date: a validation needs one,
-- from tomorrow (00:00 UTC of that day, as op_expiry reads a date) to 3
-- years ahead (web/office_doc.c offers the same range and checks it
-- first); it is set in the same transaction as the status change and
-- written to the audit log (action "expiry", beside the "validate" row of
-- op_document_set_status, as a rejection's reason is written beside the
-- "reject" row). A rejection takes no date. Refusals as in 003.

DROP FUNCTION office_document_decide(text, bigint, text, text);

-- Validates or rejects a document (op_document_set_status). A validation
-- needs p_expires, tomorrow to 3 years ahead, which becomes
-- document.expires_at; a rejection needs a reason (1 to 1000 characters),
-- kept in document.decision_reason for the customer; a validation clears
-- it. Both are written to the audit log. The result is
-- op_document_set_status's with the reason, the expiry and the
-- organization.
CREATE FUNCTION office_document_decide(p_actor text, p_id bigint,
    p_action text, p_reason text, p_expires date) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	v_reason text := nullif(btrim(p_reason), '');
	v_max date := ((now() AT TIME ZONE 'UTC')::date +
	    interval '3 years')::date;
	v_expires timestamptz;
	v_before timestamptz;
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
	IF p_action = 'reject' AND p_expires IS NOT NULL THEN
		PERFORM op_refuse('invalid',
		    'an expiry date goes with a validation, not a rejection');
	END IF;
	IF p_action = 'validate' THEN
		IF p_expires IS NULL THEN
			PERFORM op_refuse('invalid', 'a validation needs the '
			    'date until which the document is valid');
		END IF;
		IF p_expires > v_max THEN
			PERFORM op_refuse('invalid', format('the expiry date %s '
			    'is more than 3 years ahead (at most %s)',
			    p_expires, v_max));
		END IF;
		v_expires := op_expiry(p_expires, NULL);  -- refuses the past
		SELECT expires_at INTO v_before FROM document WHERE id = p_id
		    FOR UPDATE;
		-- before the change, whose check of an old expiry it replaces;
		-- undone below if op_document_set_status refuses
		UPDATE document SET expires_at = v_expires WHERE id = p_id;
	END IF;
	v := op_document_set_status(p_actor, p_id, p_action);
	IF v->>'refused' IS NOT NULL THEN
		-- raised again so that this block's changes are undone
		PERFORM op_refuse(v->>'kind', v->>'refused');
	END IF;
	UPDATE document SET decision_reason = CASE WHEN p_action = 'reject'
	    THEN v_reason END
	    WHERE id = p_id RETURNING organization_id INTO v_org;
	IF p_action = 'reject' THEN
		PERFORM audit(p_actor, 'reason', 'document', p_id::text,
		    jsonb_build_object('reason', v_reason));
	ELSE
		PERFORM audit(p_actor, 'expiry', 'document', p_id::text,
		    jsonb_build_object('organization', v_org,
		    'expires_at', rfc3339(v_expires),
		    'previous', rfc3339(v_before)));
	END IF;
	RETURN (v::jsonb || jsonb_build_object('reason', v_reason,
	    'expires_at', rfc3339(v_expires), 'organization', v_org))::json;
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;

COMMENT ON FUNCTION office_document_decide(text, bigint, text, text, date) IS
    'Validates (with the date until which it is valid, tomorrow to 3 years '
    'ahead: document.expires_at) or rejects (with a required reason, kept '
    'in document.decision_reason) a document; audited.';
