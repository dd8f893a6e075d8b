-- 021_worker_claims: acme-worker's claim of an order, as a function that
-- looks for an order before it builds the answer (README, "Performance").
--
-- Every worker listens on acme_work, so every job wakes them all and each
-- one claims: all but one find nothing, and each worker that did the job
-- claims once more before it sleeps. With four workers an issuance costs
-- about four empty claims of each kind. The order's claim was one UPDATE
-- statement whose plan joins five tables, with the policy check and two
-- subqueries: PostgreSQL sets up that whole plan before it finds the
-- queue empty, 0.07 ms for an empty claim. Here an empty claim is one
-- indexed SELECT ... FOR UPDATE SKIP LOCKED, and the UPDATE runs for an
-- order found: 0.055 ms less for an empty claim (pgbench). The
-- challenge's claim, a smaller plan, gains nothing from a function and
-- stays a statement.
--
-- Same result as the statement it replaces: the order claimed is the
-- first due one not locked by another claim, and its lease, attempts and
-- serial are set in the same transaction.

CREATE FUNCTION order_claim(p_lease integer, p_serial text)
RETURNS TABLE (id text, csr bytea, names text[], serial text,
    org_name text, org_country text, org_locality text, org_state text,
    attempts integer, subject_fields text[], validity_days integer,
    policy_problem text, account_id bigint, caa_names text[],
    caa_methods text[], db_now bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_id text;
	v_caa_names text[];
	v_caa_methods text[];
BEGIN
	SELECT o.id INTO v_id FROM orders o
	    WHERE o.status = 'processing'
	    AND (o.lease_until IS NULL OR o.lease_until < now())
	    ORDER BY o.updated_at LIMIT 1
	    FOR UPDATE SKIP LOCKED;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	-- CAA is checked again for validations older than 7 hours
	SELECT array_agg(CASE WHEN z.wildcard THEN '*.' ELSE '' END ||
	    z.identifier ORDER BY z.id), array_agg(c.type ORDER BY z.id)
	    INTO v_caa_names, v_caa_methods
	    FROM order_authorization oa
	    JOIN authorization_ z ON z.id = oa.authorization_id
	    JOIN challenge c ON c.authorization_id = z.id
	    AND c.status = 'valid'
	    WHERE oa.order_id = v_id
	    AND c.validated_at < now() - interval '7 hours';
	RETURN QUERY UPDATE orders o SET
	    lease_until = now() + make_interval(secs => p_lease),
	    attempts = o.attempts + 1, serial = coalesce(o.serial, p_serial)
	    FROM account a JOIN acme_account e ON e.id = a.acme_account_id
	    JOIN profile p ON p.name = e.profile
	    LEFT JOIN acme_account_organization ao
		ON ao.acme_account_id = e.id
	    LEFT JOIN organization g ON g.id = ao.organization_id
	    WHERE o.id = v_id AND a.id = o.account_id
	    RETURNING o.id, o.csr, o.names, o.serial, g.name, g.country,
	    g.locality, g.state, o.attempts, p.subject_fields,
	    p.validity_days,
	    (SELECT x.code FROM order_policy(e.id, o.names, NULL) x LIMIT 1),
	    a.id, v_caa_names, v_caa_methods,
	    floor(extract(epoch FROM now()))::bigint;
END $$;
COMMENT ON FUNCTION order_claim(integer, text) IS
    'acme-worker: claims the first due order in processing for p_lease '
    'seconds (its serial is p_serial unless it has one) and returns what '
    'its issuance needs; no row: none';
