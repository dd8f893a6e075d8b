-- 017_ocsp_at_issuance: the first OCSP response of a certificate stored in
-- one statement by the worker that has just issued it (README,
-- "Performance").
--
-- The issuing worker signed that response through job_ocsp's batch claim
-- (014): BEGIN, the claim of the responses due (FOR NO KEY UPDATE SKIP
-- LOCKED), ocsp_response_store, COMMIT; four round trips and a durable
-- commit after every issuance, for one response whose serial and
-- certificate the worker already holds. It now signs it right after
-- order_issue and stores it with ocsp_response_store_issued, alone.
--
-- What the claim's row lock settled, a revocation between the issuance
-- and that store, is settled here by the certificate's row: a revocation
-- updates it (certificate_revoke), then marks the response due
-- (certificate_status_changed). ocsp_response_store_issued takes that row
-- FOR SHARE first, which waits for a revocation under way and is waited
-- for by one that comes after, and stores the good response only while
-- the certificate is unrevoked: otherwise nothing is stored, the response
-- stays due, and the next claim signs it revoked. A response that is not
-- stored at all (the worker died, or the signer failed) is due likewise.
--
-- Its commit is asynchronous: losing it in a crash loses no certificate
-- and no credit, only a response that is still due, and signed again by
-- the next claim after the restart.
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

CREATE FUNCTION ocsp_response_store_issued(p_serial text, p_issuer integer,
    p_der bytea, p_this_update timestamptz, p_next_update timestamptz)
RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM 1 FROM certificate c
	    WHERE c.serial = p_serial AND c.revoked_at IS NULL
	    FOR SHARE;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	PERFORM set_config('synchronous_commit', 'off', true);
	RETURN coalesce(ocsp_response_store(p_serial, p_issuer, NULL, 0,
	    p_der, p_this_update, p_next_update), false);
END $$;
COMMENT ON FUNCTION ocsp_response_store_issued(text, integer, bytea,
    timestamptz, timestamptz) IS
    'acme-worker: the good response of the certificate it has just issued, '
    'stored only while that certificate is unrevoked (its row held FOR '
    'SHARE against a revocation under way); false when nothing was stored';
