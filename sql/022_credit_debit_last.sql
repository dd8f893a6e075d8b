-- 022_credit_debit_last: the issuance transaction debits the credit last
-- (README, "Performance").
--
-- The debit (an insert into credit_ledger, whose trigger updates the
-- organization's balance) locks the organization's row until the commit.
-- It came first, so the row stayed locked while the transaction stored
-- the certificate, its audit row and its first OCSP response, then
-- flushed its commit: every issuance of the same organization waited for
-- all of that. All the ACME accounts of a customer share its
-- organization, so its issuances queued there (1.2 ms a debit at
-- concurrency 16 in `make bench`, where every account is one
-- organization's). Now the row is locked for the commit only.
--
-- One body for both: order_issue is order_issue_ocsp without a response.
-- Results as before: 'issued'; 'lost' (the order was no longer
-- processing); 'OUT_OF_CREDIT', with nothing written.

CREATE OR REPLACE FUNCTION order_issue_ocsp(p_order text, p_cert text,
    p_serial text, p_not_before timestamptz, p_not_after timestamptz,
    p_der bytea, p_pem_chain text, p_ocsp_issuer integer, p_ocsp bytea,
    p_ocsp_this_update timestamptz, p_ocsp_next_update timestamptz)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	v_org bigint;
	v_cost integer;
	v_acme bigint;
BEGIN
	-- One block: a debit beyond the balance undoes all of it.
	BEGIN
		UPDATE orders SET status = 'valid', lease_until = NULL,
		    updated_at = now()
		    WHERE id = p_order AND status = 'processing';
		IF NOT FOUND THEN
			RETURN 'lost';
		END IF;
		SELECT ao.organization_id, p.cost, e.id
		    INTO v_org, v_cost, v_acme
		    FROM orders o JOIN account a ON a.id = o.account_id
		    JOIN acme_account e ON e.id = a.acme_account_id
		    JOIN profile p ON p.name = e.profile
		    JOIN acme_account_organization ao
			ON ao.acme_account_id = e.id
		    WHERE o.id = p_order;
		INSERT INTO certificate (id, order_id, account_id, serial,
		    names, not_before, not_after, der, pem_chain)
		    SELECT p_cert, id, account_id, p_serial, names,
		    p_not_before, p_not_after, p_der, p_pem_chain
		    FROM orders WHERE id = p_order;
		PERFORM audit('acme-worker', 'issue', 'certificate', p_cert,
		    jsonb_build_object('order', p_order, 'serial', p_serial,
		    'acme_account', v_acme, 'cost', v_cost));
		IF p_ocsp IS NOT NULL THEN
			PERFORM ocsp_response_store(p_serial, p_ocsp_issuer,
			    NULL, 0, p_ocsp, p_ocsp_this_update,
			    p_ocsp_next_update);
		END IF;
		-- last: the organization's row stays locked to the commit
		IF v_cost > 0 THEN
			INSERT INTO credit_ledger (organization_id, delta,
			    balance_after, reason, order_id, actor)
			    VALUES (v_org, -v_cost, 0, 'certificate', p_order,
			    'acme-worker');
		END IF;
	EXCEPTION WHEN check_violation THEN
		RETURN 'OUT_OF_CREDIT';
	END;
	RETURN 'issued';
END $$;

CREATE OR REPLACE FUNCTION order_issue(p_order text, p_cert text,
    p_serial text, p_not_before timestamptz, p_not_after timestamptz,
    p_der bytea, p_pem_chain text) RETURNS text
LANGUAGE sql AS $$
	SELECT order_issue_ocsp(p_order, p_cert, p_serial, p_not_before,
	    p_not_after, p_der, p_pem_chain, NULL, NULL, NULL, NULL)
$$;
