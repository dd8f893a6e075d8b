-- 014_worker_wakeups: a new certificate's OCSP response is signed by the
-- worker that issued it, without waking the others (README, "Performance").
--
-- Every NOTIFY on acme_work wakes every worker, and each runs the claims of
-- the kind of work the payload names ('challenge', 'order', 'ocsp',
-- 'revocation', 'outbox'; common/jobs.c, jobs_wakeup). When a worker issues
-- a certificate, the OCSP response of that certificate becomes due
-- (certificate_status_changed, 005), and its 'ocsp' notification made every
-- other worker open a transaction to find nothing: three statements each.
-- The issuing worker signs it itself, in the same run of jobs (it looks for
-- OCSP work after every issuance), so a session that says so
-- (acme.signs_own_ocsp = 'on', set by acme-worker for its own session in
-- jobs_listen) no longer announces the certificates it inserts. Any other
-- session (acmectl, a DBA's hand) still does, and a revocation still wakes
-- every worker for the OCSP response and the CRL.
--
-- Nothing waits longer than it did when that worker dies between the
-- issuance and the signature: the response is due (refresh_at '-infinity')
-- and the next poll of any worker (poll_interval) signs it, as it signs a
-- response whose notification was lost.

CREATE OR REPLACE FUNCTION certificate_status_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO ocsp_response (serial, refresh_at)
	    VALUES (NEW.serial, '-infinity')
	    ON CONFLICT (serial) DO UPDATE SET refresh_at = '-infinity';
	IF TG_OP = 'UPDATE' THEN
		UPDATE crl_state SET revocations = revocations + 1;
		PERFORM pg_notify('acme_work', 'revocation');
	ELSIF current_setting('acme.signs_own_ocsp', true)
	    IS DISTINCT FROM 'on' THEN
		PERFORM pg_notify('acme_work', 'ocsp');
	END IF;
	RETURN NULL;
END $$;
COMMENT ON FUNCTION certificate_status_changed() IS
    'Trigger of certificate: marks the OCSP response of a new certificate, '
    'or of one whose revocation changed, as due; a revocation change also '
    'makes the CRL due and notifies acme_work ''revocation''. A new '
    'certificate notifies ''ocsp'' unless the inserting session has '
    'acme.signs_own_ocsp = on (an acme-worker, which signs it itself).';
