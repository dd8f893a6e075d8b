-- 016_signup_limit: the portal's sign-up (portal_signup, 011) creates an
-- organization, an external account and a confirmation e-mail; nothing
-- limited how many one client could make. At most web_signup_max_per_hour
-- sign-ups per client (web_client_subject: an IPv4 address, or an IPv6
-- /64) in an hour: each is recorded in web_login_failure under the
-- subject 'signup:' || web_client_subject(address) (purged after a day by
-- web_housekeeping, as the failed sign-ins are), and one past the limit is
-- refused (429, web/portal_auth.c) before anything is written.

-- Counts a sign-up of the client p_addr and returns true, or returns false
-- (and records nothing) when p_max of them were counted in the last hour.
-- The client's sign-ups are counted one at a time (a transaction-scoped
-- advisory lock on the subject), so that concurrent ones cannot all pass.
CREATE FUNCTION web_signup_allowed(p_addr text, p_max integer)
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
	v_subject text := 'signup:' || web_client_subject(p_addr);
BEGIN
	PERFORM pg_advisory_xact_lock(hashtext(v_subject));
	IF (SELECT count(*) FROM web_login_failure WHERE subject = v_subject
	    AND at > now() - interval '1 hour') >= p_max THEN
		RETURN false;
	END IF;
	INSERT INTO web_login_failure (subject) VALUES (v_subject);
	RETURN true;
END $$;
COMMENT ON FUNCTION web_signup_allowed(text, integer) IS
    'Counts a sign-up of a client address (IPv6: its /64) and returns '
    'true, or false (nothing counted) when p_max were counted in the last '
    'hour (web_login_failure rows with subject signup:ip:...).';

COMMENT ON TABLE web_login_failure IS
    'Sign-in failures and sign-ups, for the rate limits: subject is the '
    'lower-case e-mail address or operator name of a failed sign-in, '
    '''ip:'' and the client address of one (its /64 network for IPv6: '
    'web_client_subject), or ''signup:'' and that client subject for a '
    'sign-up (web_signup_allowed). Rows older than a day are purged '
    '(web_housekeeping).';
