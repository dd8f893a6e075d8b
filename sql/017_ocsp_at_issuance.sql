-- 017_ocsp_at_issuance: a certificate and its first OCSP response stored in
-- one transaction (README, "Performance").
--
-- The issuing worker signed that response after the issuance, through
-- job_ocsp's batch claim (014): BEGIN, the claim of the responses due (FOR
-- NO KEY UPDATE SKIP LOCKED), ocsp_response_store, COMMIT; four round trips
-- and a durable commit after every issuance, for one response whose serial
-- and certificate the worker already holds. It now signs the response as
-- soon as the certificate is signed, and order_issue_ocsp stores both in
-- order_issue's transaction: one statement for the two.
--
-- No revocation can come between them: the certificate exists for no other
-- transaction before that one commits. When the worker has no response to
-- give (no OCSP signer, a signing failure), order_issue_ocsp is order_issue,
-- the response stays due (refresh_at '-infinity'), and job_ocsp signs it as
-- before.
--
-- ocsp_response_store (005) becomes PL/pgSQL: a LANGUAGE sql function that
-- writes is planned again at every call (0.14 ms, as much as it runs).

CREATE OR REPLACE FUNCTION ocsp_response_store(p_serial text,
    p_issuer integer, p_revoked_at timestamptz, p_reason integer,
    p_der bytea, p_this_update timestamptz, p_next_update timestamptz)
RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
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
	    WHERE r.serial = p_serial AND c.serial = p_serial;
	-- as before: true, or NULL when there is no such response
	IF FOUND THEN
		RETURN true;
	END IF;
	RETURN NULL;
END $$;

-- order_issue (002), and with the certificate the good OCSP response p_ocsp
-- (DER) of issuer p_ocsp_issuer (ocsp_issuer.id) from p_ocsp_this_update
-- to p_ocsp_next_update, when given (NULL: the response stays due). Returns
-- what order_issue returns; the response is stored only with 'issued'.
CREATE FUNCTION order_issue_ocsp(p_order text, p_cert text, p_serial text,
    p_not_before timestamptz, p_not_after timestamptz, p_der bytea,
    p_pem_chain text, p_ocsp_issuer integer, p_ocsp bytea,
    p_ocsp_this_update timestamptz, p_ocsp_next_update timestamptz)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	v_result text;
BEGIN
	v_result := order_issue(p_order, p_cert, p_serial, p_not_before,
	    p_not_after, p_der, p_pem_chain);
	IF v_result = 'issued' AND p_ocsp IS NOT NULL THEN
		PERFORM ocsp_response_store(p_serial, p_ocsp_issuer, NULL, 0,
		    p_ocsp, p_ocsp_this_update, p_ocsp_next_update);
	END IF;
	RETURN v_result;
END $$;
COMMENT ON FUNCTION order_issue_ocsp(text, text, text, timestamptz,
    timestamptz, bytea, text, integer, bytea, timestamptz, timestamptz) IS
    'acme-worker: order_issue, and the certificate''s first OCSP response '
    'in the same transaction';
