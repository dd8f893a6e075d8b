-- 019_audit_plpgsql: audit() becomes PL/pgSQL (README, "Performance").
--
-- A LANGUAGE sql function that writes is never inlined: each call of
-- audit() parsed and planned its INSERT again, which cost as much as the
-- insert itself (0.1 ms). A PL/pgSQL function keeps the plan of its
-- statement for the session. audit() is called once per issuance, and
-- once per refusal, operator action and change made on the web site.

CREATE OR REPLACE FUNCTION audit(p_actor text, p_action text, p_type text,
    p_id text, p_detail jsonb DEFAULT '{}') RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO audit_log (actor, action, object_type, object_id, detail)
	    VALUES (p_actor, p_action, p_type, p_id, coalesce(p_detail, '{}'));
END $$;
